//! Writing outputs atomically, and the file names of a bundle's proofs.
//!
//! Every output is created by renaming a complete temporary file in its own directory, so an
//! interrupted run leaves either the whole file or nothing; [`remove_in_flight`] lets an
//! interrupt handler delete the temporary file being written at that moment.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// The operating system refused.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The output's directory does not exist (checked before long work starts).
    #[error("cannot write {}: no directory {}", path.display(), dir.display())]
    NoDirectory {
        /// The output.
        path: PathBuf,
        /// Its missing directory.
        dir: PathBuf,
    },
    /// The path names no file.
    #[error("output path {} has no file name", .0.display())]
    NoFileName(PathBuf),
}

/// Temporary files being written right now.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Deletes the temporary files being written right now (for an interrupt handler that is
/// about to exit).
pub fn remove_in_flight() {
    if let Ok(files) = IN_FLIGHT.lock() {
        for f in files.iter() {
            let _ = fs::remove_file(f);
        }
    }
}

/// Reads a whole file.
///
/// # Errors
/// [`FilesError::Io`].
pub fn read(path: &Path) -> Result<Vec<u8>, FilesError> {
    fs::read(path).map_err(|source| FilesError::Io {
        action: "read",
        path: path.into(),
        source,
    })
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, synced, then
/// renamed over `path`.
///
/// # Errors
/// [`FilesError`]; the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FilesError> {
    check_output_dir(path)?;
    let Some(name) = path.file_name() else {
        return Err(FilesError::NoFileName(path.into()));
    };
    let tmp = dir_of(path).join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    if let Ok(mut files) = IN_FLIGHT.lock() {
        files.push(tmp.clone());
    }
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    let result = write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    });
    if let Ok(mut files) = IN_FLIGHT.lock() {
        files.retain(|f| f != &tmp);
    }
    result.map_err(|source| FilesError::Io {
        action: "write",
        path: path.into(),
        source,
    })
}

/// Fails unless `path`'s directory exists, so that long work is not done for a file that
/// cannot be written.
///
/// # Errors
/// [`FilesError::NoDirectory`].
pub fn check_output_dir(path: &Path) -> Result<(), FilesError> {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() && !d.is_dir() => Err(FilesError::NoDirectory {
            path: path.into(),
            dir: d.into(),
        }),
        _ => Ok(()),
    }
}

/// The directory a path sits in (`.` for a bare file name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Chunk `k`'s file of the bundle whose first proof is `first`: `PROOF.gbp` for chunk 0, then
/// `PROOF.1.gbp`, `PROOF.2.gbp`, …
pub fn chunk_path(first: &Path, k: usize) -> PathBuf {
    if k == 0 {
        return first.to_path_buf();
    }
    let ext = first
        .extension()
        .map_or_else(|| "gbp".into(), |e| e.to_string_lossy().into_owned());
    first.with_extension(format!("{k}.{ext}"))
}

/// The files of a bundle of `count` proofs whose first is `first` ([`chunk_path`] of each).
pub fn bundle_paths(first: &Path, count: usize) -> Vec<PathBuf> {
    (0..count).map(|k| chunk_path(first, k)).collect()
}

/// The manifest of the bundle whose first proof is `first`: `PROOF.bundle.json`.
pub fn manifest_path(first: &Path) -> PathBuf {
    first.with_extension("bundle.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_file_names() {
        let first = Path::new("out/day.gbp");
        let names = bundle_paths(first, 3);
        assert_eq!(names[0], Path::new("out/day.gbp"));
        assert_eq!(names[2], Path::new("out/day.2.gbp"));
        assert_eq!(manifest_path(first), Path::new("out/day.bundle.json"));
        assert_eq!(dir_of(Path::new("x.gbp")), Path::new("."));
    }

    #[test]
    fn atomic_writes_leave_whole_files_only() {
        let dir = std::env::temp_dir().join(format!("gb-files-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("a.bin");
        write_atomic(&path, b"abc").expect("write");
        assert_eq!(read(&path).expect("read"), b"abc");
        let missing = dir.join("nope/a.bin");
        assert!(matches!(
            write_atomic(&missing, b"x"),
            Err(FilesError::NoDirectory { .. })
        ));
        let left: Vec<_> = fs::read_dir(&dir).expect("ls").collect();
        assert_eq!(left.len(), 1, "no temporary file is left");
        let _ = fs::remove_dir_all(&dir);
    }
}
