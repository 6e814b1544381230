//! Session locks of the filesystem store: `<session>/.lock`.
//!
//! # Race freedom across processes
//! Every decision that reads `.lock` and then changes it — acquisition,
//! takeover, status change, heartbeat, release — runs while holding an
//! exclusive `flock` on the side file `<session>/.lock.guard`. The kernel lets
//! one holder in at a time, in this process and all others, so two processes
//! that both judge a lock stale cannot both take it: the second one to get
//! the guard reads the first one's fresh lock and loses. The alternatives were
//! weighed and rejected: exclusive create (`O_EXCL`) makes acquiring a *free*
//! session race-free, but taking over a stale lock must first remove it, and
//! two processes that both judged it stale can each remove and recreate it
//! (the second deleting the first's new lock); a rename-based compare-and-swap
//! cannot compare file *contents* atomically. An `flock` costs under a
//! microsecond, is released by the kernel when its process dies (a guard can
//! never be left stale), and it serialises only the few microseconds of a
//! decision. The guard file is never removed while the session exists:
//! removing a lock file that others may hold open lets two holders lock
//! different inodes. Its name is hidden, so readers of the format ignore it.
//!
//! Readers (`lock_info`, `is_locked`, `check_lock_status`, [`Lock::is_valid`])
//! do not take the guard: `.lock` is only ever replaced by a rename, so a
//! reader sees one whole version of it.
//!
//! # Cheap heartbeats
//! An acquisition writes a temp file, fsyncs it and renames it over `.lock`.
//! Later rewrites by the holder (heartbeats, status changes) must also be
//! atomic, but a fresh temp file renamed over `.lock` costs ~80 µs of CPU on
//! ext4 (inode allocation, and the flush ext4 starts when a rename replaces a
//! file), far too much for thousands of locks per second. So the holder keeps
//! a second file, `<session>/.lock.next`: it writes the new content into it
//! in place, then swaps the two names in one step (`renameat2` with
//! `RENAME_EXCHANGE`). Readers of `.lock` still see either the old or the new
//! whole file. Each such operation opens the session directory once and
//! works relative to it (guard, read, write, exchange), so the path is walked
//! once; a heartbeat costs 20–30 µs of CPU with 10,000 locks held, close to
//! what the same system calls cost from C. (A reader that kept `.lock` open
//! for a whole heartbeat interval could see the next write into that inode;
//! readers open, read and close.) Where the file system cannot exchange
//! names, the holder falls back to temp file + rename.
//!

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use rustix::fs::{AtFlags, Mode as FsMode, OFlags};

use super::{files, FsStore};
use crate::backend::{Lease, LockGuard, LockRecord};
use crate::error::{Error, Result};
use crate::fsutil::{self, Durability};
use crate::lock::{parse_lock, LockInfo};

/// Side file whose `flock` serialises every change of `.lock`.
const GUARD_FILE: &str = ".lock.guard";
/// The holder's second copy of `.lock`, swapped in by heartbeats.
const NEXT_FILE: &str = ".lock.next";

/// A record of the lock file's bytes, judged by this host's clock.
fn record(bytes: &[u8], place: PathBuf) -> LockRecord {
    let info = parse_lock(bytes);
    let heartbeat_age = info.as_ref().ok().and_then(LockInfo::heartbeat_age);
    LockRecord {
        info,
        heartbeat_age,
        place,
    }
}

impl FsStore {
    pub(super) fn read_lock_file(&self, session_id: &str) -> Result<Option<LockRecord>> {
        let path = self.existing_session_dir(session_id)?.join(files::LOCK);
        Ok(fsutil::read_optional(&path)?.map(|bytes| record(&bytes, path)))
    }

    pub(super) fn guard_lock(&self, session_id: &str) -> Result<FsLockGuard> {
        let dir = self.existing_session_dir(session_id)?;
        let sdir = SessionDir::open(&dir).map_err(|e| Error::io(&dir, e))?;
        let guard = sdir
            .guard()
            .map_err(|e| Error::io(dir.join(GUARD_FILE), e))?;
        Ok(FsLockGuard {
            sdir,
            _guard: guard,
            dir,
            written: false,
        })
    }
}

/// The guard's `flock` held while an acquisition decides.
pub(super) struct FsLockGuard {
    sdir: SessionDir,
    _guard: File,
    dir: PathBuf,
    /// Whether this guard wrote `.lock` (removed again unless committed).
    written: bool,
}

impl LockGuard for FsLockGuard {
    fn read(&mut self) -> Result<Option<LockRecord>> {
        let path = self.dir.join(files::LOCK);
        let bytes = self.sdir.read_lock().map_err(|e| Error::io(&path, e))?;
        Ok(bytes.map(|b| record(&b, path)))
    }

    fn write(&mut self, info: &LockInfo) -> Result<Box<dyn Lease>> {
        let bytes = info.to_json();
        fsutil::write_atomic(&self.dir.join(files::LOCK), &bytes, Durability::Durable)?;
        self.written = true;
        Ok(Box::new(FsLease {
            dir: self.dir.clone(),
            instance_id: info.instance_id.clone(),
            state: Mutex::new(LeaseState {
                written: bytes,
                spare_len: None,
                exchange: true,
            }),
        }))
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.written = false;
        Ok(())
    }
}

impl Drop for FsLockGuard {
    fn drop(&mut self) {
        if self.written {
            let _ = self.sdir.remove(files::LOCK);
        }
    }
}

/// What a holder remembers of the files it wrote.
struct LeaseState {
    /// The bytes this holder last put at `.lock`.
    written: Vec<u8>,
    /// Length of `.lock.next`, when known.
    spare_len: Option<usize>,
    /// Whether exchanging names works here (else temp file + rename).
    exchange: bool,
}

/// A held lock's hold on `.lock`.
struct FsLease {
    dir: PathBuf,
    instance_id: String,
    state: Mutex<LeaseState>,
}

/// What a holder found under the guard.
enum Check {
    /// The file is still ours: the open directory, the guard, the bytes read.
    Owned(SessionDir, File, Vec<u8>),
    /// Missing, another holder's, or the session directory is gone.
    Lost,
}

impl FsLease {
    fn lock_path(&self) -> PathBuf {
        self.dir.join(files::LOCK)
    }

    /// Whether `bytes` (the current `.lock`) are this holder's; keeps the
    /// unknown fields a rewrite must preserve in `info`.
    fn owns(&self, st: &LeaseState, info: &mut LockInfo, bytes: &[u8]) -> bool {
        if bytes == st.written {
            return true;
        }
        match LockInfo::from_slice(bytes) {
            Ok(found) if found.instance_id == self.instance_id => {
                info.extra = found.extra;
                true
            }
            _ => false,
        }
    }

    /// Takes the guard and checks the file still carries this holder's instance.
    fn check(&self, st: &LeaseState, info: &mut LockInfo) -> Result<Check> {
        let gone = |e: &io::Error| e.kind() == io::ErrorKind::NotFound;
        let sdir = match SessionDir::open(&self.dir) {
            Ok(d) => d,
            Err(e) if gone(&e) => return Ok(Check::Lost),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        let guard = match sdir.guard() {
            Ok(g) => g,
            Err(e) if gone(&e) => return Ok(Check::Lost),
            Err(e) => return Err(Error::io(self.dir.join(GUARD_FILE), e)),
        };
        match sdir.read_lock() {
            Ok(Some(bytes)) if self.owns(st, info, &bytes) => Ok(Check::Owned(sdir, guard, bytes)),
            Ok(_) => Ok(Check::Lost),
            Err(e) => Err(Error::io(self.lock_path(), e)),
        }
    }
}

impl Lease for FsLease {
    fn rewrite(&self, info: &mut LockInfo) -> Result<bool> {
        let mut st = self.state.lock();
        let Check::Owned(sdir, _guard, old) = self.check(&st, info)? else {
            return Ok(false);
        };
        let bytes = info.to_json();
        if st.exchange {
            match sdir.swap_in(&bytes, st.spare_len) {
                Ok(()) => {
                    st.spare_len = Some(old.len());
                    st.written = bytes;
                    return Ok(true);
                }
                Err(e) if exchange_unsupported(&e) => {
                    log::debug!(
                        "{}: name exchange unsupported ({e}); using temp file + rename",
                        self.dir.display()
                    );
                    st.exchange = false;
                }
                Err(e) => {
                    st.spare_len = None;
                    return Err(Error::io(self.dir.join(NEXT_FILE), e));
                }
            }
        }
        fsutil::write_atomic(&self.lock_path(), &bytes, Durability::Atomic)?;
        st.written = bytes;
        Ok(true)
    }

    fn owned(&self, info: &mut LockInfo) -> Result<bool> {
        let st = self.state.lock();
        Ok(match fsutil::read_optional(&self.lock_path())? {
            Some(bytes) => self.owns(&st, info, &bytes),
            None => false,
        })
    }

    fn remove(&self) -> Result<bool> {
        let st = self.state.lock();
        let mut info = LockInfo::default();
        match self.check(&st, &mut info)? {
            Check::Owned(sdir, _guard, _) => {
                sdir.remove(files::LOCK)
                    .map_err(|e| Error::io(self.lock_path(), e))?;
                sdir.remove(NEXT_FILE)
                    .map_err(|e| Error::io(self.dir.join(NEXT_FILE), e))?;
                Ok(true)
            }
            Check::Lost => Ok(false),
        }
    }
}

/// A session directory opened once for the `*at` calls of one locked
/// operation: one path walk instead of one per file.
struct SessionDir {
    fd: OwnedFd,
}

impl SessionDir {
    fn open(dir: &Path) -> io::Result<SessionDir> {
        let fd = rustix::fs::open(
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            FsMode::empty(),
        )?;
        Ok(SessionDir { fd })
    }

    /// Opens a private file in the directory, never through a symlink.
    fn open_file(&self, name: &str, flags: OFlags) -> io::Result<File> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            FsMode::RUSR | FsMode::WUSR,
        )?;
        Ok(File::from(fd))
    }

    /// Takes the exclusive `flock` on the guard file (created if missing);
    /// closing the returned file releases it.
    fn guard(&self) -> io::Result<File> {
        let f = self.open_file(GUARD_FILE, OFlags::RDWR | OFlags::CREATE)?;
        f.lock()?;
        Ok(f)
    }

    /// The bytes of `.lock`; `None` when it does not exist.
    fn read_lock(&self) -> io::Result<Option<Vec<u8>>> {
        let mut f = match self.open_file(files::LOCK, OFlags::RDONLY) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        // One read covers a lock file; a short read of a regular file is its end.
        const ONE_READ: usize = 1024;
        let mut buf = vec![0u8; ONE_READ];
        let n = f.read(&mut buf)?;
        buf.truncate(n);
        if n == ONE_READ {
            f.read_to_end(&mut buf)?;
        }
        Ok(Some(buf))
    }

    /// Writes `bytes` into `.lock.next` in place, then swaps it with `.lock`
    /// in one step.
    fn swap_in(&self, bytes: &[u8], spare_len: Option<usize>) -> io::Result<()> {
        exchange_supported()?;
        let f = self.open_file(NEXT_FILE, OFlags::WRONLY | OFlags::CREATE)?;
        f.write_all_at(bytes, 0)?;
        if spare_len != Some(bytes.len()) {
            f.set_len(bytes.len() as u64)?;
        }
        drop(f);
        exchange(&self.fd, NEXT_FILE, files::LOCK)
    }

    /// Removes a file of the directory; a missing file is fine.
    fn remove(&self, name: &str) -> io::Result<()> {
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Err(rustix::io::Errno::NOENT) => Ok(()),
            r => r.map_err(io::Error::from),
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange_supported() -> io::Result<()> {
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange_supported() -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Swaps the names `a` and `b` of directory `dir` atomically.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(dir: &OwnedFd, a: &str, b: &str) -> io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags};
    renameat_with(dir, a, dir, b, RenameFlags::EXCHANGE).map_err(io::Error::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange(_dir: &OwnedFd, _a: &str, _b: &str) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Errors meaning "this file system (or OS) cannot exchange names".
fn exchange_unsupported(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Unsupported
        || matches!(
            e.raw_os_error(),
            Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)
        )
}
