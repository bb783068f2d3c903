//! Outputs never overwrite inputs: before anything is written, every output path is compared
//! with every input, as files (device and inode on Unix, so that symbolic and hard links to an
//! input are caught) and as canonical paths.

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::error::{Error, Result};

/// Refuse `outputs` when one of them is one of `inputs`: the same file reached by any path,
/// symbolic link or hard link. Outputs that do not exist yet cannot be an input.
///
/// # Errors
/// [`Error::OutputIsInput`] naming the output and the input.
pub fn refuse_inputs_as_outputs(outputs: &[&Path], inputs: &[&Path]) -> Result<()> {
    let inputs: Vec<(&Path, Identity)> = inputs
        .iter()
        .filter_map(|p| Identity::of(p).map(|id| (*p, id)))
        .collect();
    for output in outputs {
        let Some(out) = Identity::of(output) else {
            continue;
        };
        if let Some((input, _)) = inputs.iter().find(|(_, id)| *id == out) {
            return Err(Error::OutputIsInput {
                output: output.to_path_buf(),
                input: input.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// True when `path` is the same file as one of `others` (by any path to it).
pub(crate) fn is_any_of(path: &Path, others: &[PathBuf]) -> bool {
    Identity::of(path)
        .is_some_and(|id| others.iter().any(|o| Identity::of(o).as_ref() == Some(&id)))
}

/// What makes two paths the same file.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    #[cfg(unix)]
    Inode { dev: u64, ino: u64 },
    #[cfg(not(unix))]
    Canonical(std::path::PathBuf),
}

impl Identity {
    /// The file's identity; `None` when it does not exist (or cannot be looked at).
    fn of(path: &Path) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = fs::metadata(path).ok()?;
            Some(Self::Inode {
                dev: m.dev(),
                ino: m.ino(),
            })
        }
        #[cfg(not(unix))]
        {
            fs::canonicalize(path).ok().map(Self::Canonical)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_file_by_any_path_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("residences.geojson");
        fs::write(&input, "{}").unwrap();
        let other = dir.path().join("other.geojson");
        fs::write(&other, "{}").unwrap();
        let missing = dir.path().join("summary.json");
        // Different files, and an output that does not exist yet: fine.
        refuse_inputs_as_outputs(&[&other, &missing], &[&input]).unwrap();
        // The same path, a path through `..`, a hard link.
        let dotted = dir.path().join("sub/../residences.geojson");
        fs::create_dir(dir.path().join("sub")).unwrap();
        let hard = dir.path().join("hard.geojson");
        fs::hard_link(&input, &hard).unwrap();
        for out in [&input, &dotted, &hard] {
            let e = refuse_inputs_as_outputs(&[&other, out], &[&input]).unwrap_err();
            assert!(matches!(e, Error::OutputIsInput { .. }), "{e}");
            assert!(e.to_string().contains("residences.geojson"), "{e}");
        }
        #[cfg(unix)]
        {
            let link = dir.path().join("link.geojson");
            std::os::unix::fs::symlink(&input, &link).unwrap();
            assert!(refuse_inputs_as_outputs(&[&link], &[&input]).is_err());
            assert!(refuse_inputs_as_outputs(&[&input], &[&link]).is_err());
        }
    }
}
