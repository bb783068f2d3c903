//! Progress on the terminal: a spinner for long runs, and with `--verbose` each stage's time and
//! the peak memory so far.

use std::{
    io::{self, IsTerminal},
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lifecircle::Progress;

/// Progress on stderr, shown only for runs longer than about a second, on a terminal, and not
/// with `--quiet`.
pub struct Spinner {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    /// With `--verbose`: the current stage and when it began.
    timings: Option<std::sync::Mutex<(String, Instant)>>,
}

impl Spinner {
    pub fn new(quiet: bool, verbose: bool) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        Self {
            bar,
            start: Instant::now(),
            enabled: !quiet && io::stderr().is_terminal(),
            timings: verbose.then(|| std::sync::Mutex::new((String::new(), Instant::now()))),
        }
    }

    pub fn finish(&self) {
        self.stage("");
        self.bar.finish_and_clear();
        if self.timings.is_some() {
            eprintln!("{:>8.3} s  total", self.start.elapsed().as_secs_f64());
        }
    }
}

impl Progress for Spinner {
    fn stage(&self, what: &str) {
        if self.enabled && self.bar.is_hidden() && self.start.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.bar.set_message(what.to_string());
        if let Some(t) = &self.timings {
            if let Ok(mut t) = t.lock() {
                if !t.0.is_empty() {
                    self.bar.suspend(|| {
                        let secs = t.1.elapsed().as_secs_f64();
                        match peak_memory_mb() {
                            Some(mb) => eprintln!("{secs:>8.3} s  {:<40} peak {mb:>6} MB", t.0),
                            None => eprintln!("{secs:>8.3} s  {}", t.0),
                        }
                    });
                }
                *t = (what.to_string(), Instant::now());
            }
        }
    }
}

/// The process's peak resident memory so far in MB (`VmHWM`), where the system reports it.
fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
