//! One writer per directory: an advisory lock on `DIR/.unigen.lock`, held while a process trains
//! into a run directory (or runs a reproduction into its output directory).
//!
//! The lock is the operating system's (`flock` on Linux, through the standard library's
//! `File::try_lock`), so it goes with the process: a killed writer never leaves a stale lock
//! behind. The file itself stays (removing it would race with a process opening it) and holds a
//! line naming its last holder, which a refused second writer reports. Readers (`eval`, `sample`,
//! `runs`, `report`) take no lock: every file they read is replaced whole by a rename.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The lock file's name inside the directory it guards.
pub const LOCK_FILE: &str = ".unigen.lock";

/// Exclusive use of a directory until dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    pub dir: PathBuf,
}

impl DirLock {
    /// Takes the lock on `dir` (created if missing), or says at once who holds it.
    pub fn acquire(dir: &Path) -> Result<DirLock> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                // The holder writes its name right after taking the lock: give it a moment.
                let mut holder = String::new();
                for _ in 0..20 {
                    holder.clear();
                    let _ = file.rewind().and_then(|()| file.read_to_string(&mut holder));
                    if !holder.trim().is_empty() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                let holder = holder.trim();
                let holder = if holder.is_empty() { "a process that has not yet written its name".to_string() } else { holder.to_string() };
                return Err(Error::Locked { dir: dir.to_path_buf(), holder });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        // Who holds it, for the message a second writer gets. Best effort: the lock is what counts.
        let argv: Vec<String> = std::env::args().collect();
        let line = format!("pid {}: {}\n", std::process::id(), argv.join(" "));
        let _ = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(line.as_bytes()));
        Ok(DirLock { _file: file, dir: dir.to_path_buf() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holder_and_the_lock_goes_with_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        // flock locks belong to the open file, so a second open in the same process is refused too.
        let e = DirLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(e, Error::Locked { .. }), "{e}");
        let text = e.to_string();
        assert!(text.contains(&format!("pid {}", std::process::id())) && text.contains(&dir.path().display().to_string()), "{text}");
        assert_eq!(e.exit_code(), crate::error::exit::BAD_INPUT);
        drop(first);
        DirLock::acquire(dir.path()).expect("free again once the holder is gone");
    }
}
