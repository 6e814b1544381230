//! File-system helpers shared by every component: private permissions,
//! atomic replacement of small files, and advisory file locks.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{IoContext, Result};

/// Mode of directories the library creates: private to the user.
pub const DIR_MODE: u32 = 0o700;
/// Mode of files the library creates: private to the user.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents with mode 0700 (existing ones keep theirs).
pub fn create_private_dir_all(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .at(dir)
}

/// Creates one directory with mode 0700; fails if it exists.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new().mode(DIR_MODE).create(dir)
}

/// Options for a private file that is never reached through a symlink.
pub fn private_open_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    o
}

/// A temp-file path next to `target`, unique across threads and processes.
pub fn temp_path_for(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = format!(
        ".{name}.{}.{n}.{}.tmp",
        std::process::id(),
        crate::ids::random_hex(4)
    );
    target.with_file_name(tmp)
}

/// Whether `fsync` is issued before the rename of [`write_atomic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Rename only: readers never see a torn file; a power loss may lose the update.
    Atomic,
    /// fsync the data before the rename: the update survives a power loss.
    Durable,
}

/// Replaces `target` with `bytes` atomically (unique temp file in the same
/// directory, then rename). Readers see the old or the new content, never a mix.
pub fn write_atomic(target: &Path, bytes: &[u8], durability: Durability) -> Result<()> {
    let tmp = temp_path_for(target);
    let result = (|| -> io::Result<()> {
        let mut f = private_open_options()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if durability == Durability::Durable {
            f.sync_data()?;
        }
        drop(f);
        fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.at(target)
}

/// An exclusive advisory lock (`flock`) on a side file, released on drop.
///
/// `flock` locks belong to the open file description, so two handles in one
/// process exclude each other just as two processes do.
#[derive(Debug)]
pub struct FileLock {
    file: File,
}

impl FileLock {
    /// Blocks until the exclusive lock on `path` (created if missing) is held.
    pub fn acquire(path: &Path) -> Result<FileLock> {
        let file = private_open_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .at(path)?;
        file.lock().at(path)?;
        Ok(FileLock { file })
    }

    /// Takes the lock without blocking; `None` when another holder has it.
    pub fn try_acquire(path: &Path) -> Result<Option<FileLock>> {
        let file = private_open_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .at(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(crate::Error::io(path, e)),
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Reads a whole file; `Ok(None)` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(crate::Error::io(path, e)),
    }
}

/// Removes a file; a missing file is not an error.
pub fn remove_if_exists(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(crate::Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_is_private_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        write_atomic(&p, b"one", Durability::Atomic).unwrap();
        write_atomic(&p, b"two", Durability::Durable).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left"
        );
    }

    #[test]
    fn file_lock_excludes_second_handle() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".x.lock");
        let held = FileLock::acquire(&p).unwrap();
        assert!(FileLock::try_acquire(&p).unwrap().is_none());
        drop(held);
        assert!(FileLock::try_acquire(&p).unwrap().is_some());
    }
}
