//! Files replaced whole or not at all: a temporary file beside the target, fsync, rename, fsync
//! the directory. A kill at any moment leaves the old file or the new one, never a mix; a
//! reader never sees half a file. Every file unigen writes goes through here.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// The marker in the name of [`write_atomic`]'s temporary files: `.NAME.tmp-PID-N`, N counting
/// the process's writes, so two threads writing one file never share a temporary file.
const TEMPORARY: &str = ".tmp-";

/// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename, fsync the dir.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{}{TEMPORARY}{}-{n}", path.file_name().unwrap().to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_dir(dir);
    Ok(())
}

/// Deletes, in `dir` and its subdirectories, the temporary files of [`write_atomic`] calls a kill
/// interrupted; the files they were to replace are intact.
pub fn remove_interrupted_writes(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_interrupted_writes(&entry.path());
        } else if name.starts_with('.') && name.contains(TEMPORARY) {
            tracing::info!(file = %entry.path().display(), "removing the temporary file of an interrupted write");
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Makes a rename durable. Best effort: not every platform can fsync a directory.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads of one process writing one file at once each use their own temporary file: every
    /// write succeeds and the file ends whole, one writer's bytes (the campaign's `--jobs` race).
    #[test]
    fn threads_writing_one_file_at_once_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.json");
        std::thread::scope(|s| {
            for t in 0..4u8 {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..50 {
                        write_atomic(path, &[t; 1000]).unwrap();
                    }
                });
            }
        });
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() == 1000 && bytes.iter().all(|b| *b == bytes[0]), "a mix of writers");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "temporary files left");
    }
}
