//! The one way lifecircle cuts work into ordered parallel chunks: `0..n` in fixed chunks, taken
//! a wave of chunks at a time. Each wave's chunks run in parallel; the caller combines their
//! results in chunk order, so that sums and files do not depend on the number of threads, and
//! what a wave needs (partial sums, formatted bytes) is bounded by the wave, not by `n`.

use std::ops::Range;

/// `0..n` in chunks of `len` items (the last may be shorter).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunks {
    n: usize,
    len: usize,
}

impl Chunks {
    /// `0..n` in chunks of `len` (at least 1) items.
    pub(crate) fn new(n: usize, len: usize) -> Self {
        Self { n, len: len.max(1) }
    }

    /// Number of chunks.
    pub(crate) fn count(&self) -> usize {
        self.n.div_ceil(self.len)
    }

    /// The items of chunk `i`.
    pub(crate) fn range(&self, i: usize) -> Range<usize> {
        let start = (i * self.len).min(self.n);
        start..(start + self.len).min(self.n)
    }

    /// The chunks in waves of `per_wave` (at least 1), in order: each wave is a range of chunk
    /// indices.
    pub(crate) fn waves(&self, per_wave: usize) -> impl Iterator<Item = Range<usize>> {
        let (count, per_wave) = (self.count(), per_wave.max(1));
        (0..count)
            .step_by(per_wave)
            .map(move |first| first..(first + per_wave).min(count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_cover_every_item_once_in_order() {
        for n in [0, 1, 7, 8, 9, 100, 1000] {
            for len in [1, 3, 8, 64] {
                for per_wave in [1, 2, 5] {
                    let c = Chunks::new(n, len);
                    let items: Vec<usize> = c
                        .waves(per_wave)
                        .inspect(|w| assert!(w.len() <= per_wave && !w.is_empty()))
                        .flatten()
                        .flat_map(|i| c.range(i))
                        .collect();
                    assert_eq!(items, (0..n).collect::<Vec<_>>(), "{n} {len} {per_wave}");
                }
            }
        }
    }
}
