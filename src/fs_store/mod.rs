//! The filesystem store: one directory per session under a base directory,
//! in the reference format.
//!
//! # Appends
//! Every write to a session (append, metadata update, prune, image save)
//! holds an exclusive `flock` on the session's `events.jsonl`, so threads,
//! handles and processes serialise on it and seqs stay unique and contiguous.
//! After taking the lock the writer checks that its descriptor still names
//! the file at the path (a prune replaces it) and, if the file grew since it
//! last looked, reads the last line to learn the last seq: the log is the
//! truth for seqs, never re-read in full. The event goes out in one `write`
//! on an `O_APPEND` descriptor that the store keeps open.
//!
//! In the default mode `metadata.json` is replaced atomically (temp file +
//! rename) after every append, so it is consistent whenever the call returns.
//! A store opened *batched* only marks the metadata dirty and writes it on
//! `flush`, `close`, drop, or after a short interval.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use serde_json::Value;

use crate::backend::{Backend, Doc, DocChange, DocVersion, FollowSource, LockGuard, LockRecord};
use crate::error::{Error, IoContext, Result};
use crate::event::{types, Event};
use crate::eventlog::{self, EventsRead};
use crate::fsutil::{self, Durability};
use crate::ids;
use crate::image::{ImageFormat, ImageInfo};
use crate::metadata::Metadata;
use crate::prune::{PruneLimits, PruneResult};
use crate::store::{parallel_map, NewEvent, SessionList, SkippedSession, StoreOptions};
use crate::timefmt;

mod docs;
mod follow;
mod images;
mod lock;
mod prune;

/// File names inside a session directory.
pub mod files {
    /// Session metadata.
    pub const METADATA: &str = "metadata.json";
    /// Event log.
    pub const EVENTS: &str = "events.jsonl";
    /// Lock file.
    pub const LOCK: &str = ".lock";
    /// Message queue.
    pub const QUEUE: &str = "queue.json";
    /// Follow-up suggestions.
    pub const ACTION_BUTTONS: &str = "action_buttons.json";
    /// Attached images.
    pub const IMAGES: &str = "images";
}

/// Batched mode writes its buffered lines out once they reach this size.
const MAX_BUFFERED_BYTES: usize = 1 << 20;

/// How many event-log descriptors a store keeps open at most.
const MAX_OPEN_LOGS: usize = 256;

/// Identity of a file version, to tell whether a cached copy is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    ino: u64,
    len: u64,
    mtime_ns: i128,
}

impl Stamp {
    pub(crate) fn of(m: &fs::Metadata) -> Stamp {
        Stamp {
            ino: m.ino(),
            len: m.len(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        }
    }
}

/// The open event log of a session.
#[derive(Debug)]
struct OpenLog {
    file: File,
    ino: u64,
    /// Length after our last look; another writer changes it.
    len: u64,
    last_seq: u64,
}

/// Metadata changes made by appends but not yet written (batched mode).
#[derive(Debug, Clone, Default)]
struct Pending {
    updated_at: String,
    last_user_message_at: Option<String>,
}

impl Pending {
    /// Applies the appends' counters to `meta`, whose log ends at `last_seq`.
    fn apply_to(&self, meta: &mut Metadata, last_seq: u64) {
        meta.set("event_count", Value::from(last_seq));
        meta.set_str("updated_at", &self.updated_at);
        if let Some(t) = &self.last_user_message_at {
            meta.set_str("last_user_message_at", t);
        }
    }
}

/// What a store remembers of one session between calls.
#[derive(Debug, Default)]
struct SessionState {
    log: Option<OpenLog>,
    meta: Option<(Metadata, Stamp)>,
    pending: Option<Pending>,
    last_meta_write: Option<Instant>,
    /// Lines appended in batched mode, not yet written.
    buffer: Vec<u8>,
    /// Whether this store holds the log's `flock` (across calls while lines are buffered).
    holding: bool,
}

#[derive(Debug)]
pub(crate) struct Inner {
    base: PathBuf,
    options: StoreOptions,
    closed: AtomicBool,
    sessions: Mutex<HashMap<String, Arc<Mutex<SessionState>>>>,
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
    flusher_ctl: Arc<FlusherCtl>,
}

/// Wakes and stops the batched-mode flusher thread (which holds only a weak
/// reference to the store, so dropping the last handle still drops it).
#[derive(Debug, Default)]
struct FlusherCtl {
    stop: Mutex<bool>,
    wake: Condvar,
}

impl FlusherCtl {
    fn stop(&self) {
        *self.stop.lock() = true;
        self.wake.notify_all();
    }
}

/// The filesystem store: one directory per session under a base directory.
#[derive(Debug, Clone)]
pub struct FsStore {
    inner: Arc<Inner>,
}

/// The session's files while its write lock is held.
pub(crate) struct Locked<'a> {
    pub dir: PathBuf,
    state: &'a mut SessionState,
}

impl Locked<'_> {
    fn log(&mut self) -> &mut OpenLog {
        self.state.log.as_mut().expect("log is open while locked")
    }

    /// Length of the log in bytes.
    pub fn log_len(&mut self) -> u64 {
        self.log().len
    }

    /// The open log file (locked exclusively).
    pub fn log_file(&mut self) -> &File {
        &self.log().file
    }

    /// Swaps in a new log file that replaced the old one at the path; `file`
    /// must already hold the exclusive lock (taken before the rename).
    pub fn replace_log(&mut self, file: File, len: u64, last_seq: u64) -> Result<()> {
        let ino = file.metadata().at(&self.events_path())?.ino();
        self.state.log = Some(OpenLog {
            file,
            ino,
            len,
            last_seq,
        });
        Ok(())
    }

    /// Seq of the last event in the log.
    pub fn last_seq(&mut self) -> u64 {
        self.log().last_seq
    }

    /// Path of the session's event log.
    pub fn events_path(&self) -> PathBuf {
        self.dir.join(files::EVENTS)
    }

    fn metadata_path(&self) -> PathBuf {
        self.dir.join(files::METADATA)
    }

    /// The current metadata, re-read only when the file changed.
    pub fn metadata(&mut self) -> Result<&mut Metadata> {
        let path = self.metadata_path();
        let stat = fs::symlink_metadata(&path);
        let fresh = match (&self.state.meta, &stat) {
            (Some((_, stamp)), Ok(m)) => *stamp == Stamp::of(m),
            _ => false,
        };
        if !fresh {
            let stat = stat.at(&path)?;
            if !stat.file_type().is_file() {
                return Err(Error::corrupt(
                    &path,
                    None,
                    "metadata is not a regular file",
                ));
            }
            let bytes = fs::read(&path).at(&path)?;
            let meta = Metadata::from_slice(&bytes, &path)?;
            self.state.meta = Some((meta, Stamp::of(&stat)));
        }
        Ok(&mut self.state.meta.as_mut().expect("just loaded").0)
    }

    /// Writes the cached metadata (after changes through [`Locked::metadata`]).
    pub fn write_metadata(&mut self) -> Result<()> {
        let path = self.metadata_path();
        let (meta, _) = self
            .state
            .meta
            .as_ref()
            .expect("metadata loaded before write");
        fsutil::write_atomic(&path, &meta.to_pretty_json(), Durability::Atomic)?;
        let stat = fs::symlink_metadata(&path).at(&path)?;
        if let Some((_, stamp)) = self.state.meta.as_mut() {
            *stamp = Stamp::of(&stat);
        }
        self.state.pending = None;
        self.state.last_meta_write = Some(Instant::now());
        Ok(())
    }

    /// Writes the lines batched mode buffered.
    fn write_buffer(&mut self) -> Result<()> {
        if self.state.buffer.is_empty() {
            return Ok(());
        }
        let path = self.events_path();
        let buf = std::mem::take(&mut self.state.buffer);
        let log = self.log();
        let mut file: &File = &log.file;
        let written = file.write_all(&buf);
        if written.is_ok() {
            log.len += buf.len() as u64;
        } else {
            // Force a tail re-read next time: part of the buffer may be on disk.
            log.len = u64::MAX;
        }
        written.at(&path)
    }

    /// Applies pending append counters to the metadata and writes it.
    fn flush_pending(&mut self) -> Result<()> {
        self.write_buffer()?;
        let Some(p) = self.state.pending.clone() else {
            return Ok(());
        };
        let last_seq = self.last_seq();
        p.apply_to(self.metadata()?, last_seq);
        self.write_metadata()
    }
}

impl FsStore {
    /// Opens (creating if missing, mode 0700) the store at `path`.
    pub(crate) fn open(path: &Path, options: StoreOptions) -> Result<Arc<FsStore>> {
        let base = path.to_path_buf();
        if base.as_os_str().is_empty() {
            return Err(Error::invalid("store path is empty"));
        }
        fsutil::create_private_dir_all(&base)?;
        let meta = fs::metadata(&base).at(&base)?;
        if !meta.is_dir() {
            return Err(Error::io(
                &base,
                io::Error::new(
                    io::ErrorKind::NotADirectory,
                    "store path is not a directory",
                ),
            ));
        }
        let store = FsStore {
            inner: Arc::new(Inner {
                base,
                options,
                closed: AtomicBool::new(false),
                sessions: Mutex::new(HashMap::new()),
                flusher: Mutex::new(None),
                flusher_ctl: Arc::default(),
            }),
        };
        if options.batched {
            store.start_flusher();
        }
        Ok(Arc::new(store))
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            Err(Error::StoreClosed)
        } else {
            Ok(())
        }
    }

    /// The directory of a session (checks the id and that the store is open;
    /// the directory may not exist).
    pub(crate) fn session_dir(&self, session_id: &str) -> Result<PathBuf> {
        self.check_open()?;
        ids::session(session_id)?;
        Ok(self.inner.base.join(session_id))
    }

    /// The directory of an existing session. A session directory that is a
    /// symlink is refused: nothing outside the base directory is touched.
    pub(crate) fn existing_session_dir(&self, session_id: &str) -> Result<PathBuf> {
        let dir = self.session_dir(session_id)?;
        let not_found = || Error::SessionNotFound(session_id.to_string());
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::io(
                    &dir,
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "session directory is a symlink; not followed",
                    ),
                ))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(not_found()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_found()),
            Err(e) => return Err(Error::io(dir, e)),
        }
        match fs::symlink_metadata(dir.join(files::METADATA)) {
            Ok(m) if m.file_type().is_file() => Ok(dir),
            Ok(_) => Err(not_found()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(not_found()),
            Err(e) => Err(Error::io(dir, e)),
        }
    }

    fn state(&self, session_id: &str) -> Arc<Mutex<SessionState>> {
        let mut map = self.inner.sessions.lock();
        if let Some(s) = map.get(session_id) {
            return s.clone();
        }
        if map.len() >= MAX_OPEN_LOGS {
            // Forget idle sessions (closing their descriptors); their state is
            // rebuilt on demand. Sessions in use or with deferred metadata stay.
            map.retain(|_, st| Arc::strong_count(st) > 1 || st.lock().pending.is_some());
        }
        let s = Arc::new(Mutex::new(SessionState::default()));
        map.insert(session_id.to_string(), s.clone());
        s
    }

    /// Runs `f` with the session's write lock held (thread mutex + `flock` on
    /// the log), the log open and its tail known. Fails with `SessionNotFound`
    /// when the session does not exist.
    pub(crate) fn with_session<R>(
        &self,
        session_id: &str,
        f: impl FnOnce(&mut Locked<'_>) -> Result<R>,
    ) -> Result<R> {
        self.with_session_mode(session_id, false, f)
    }

    /// [`Store::with_session`]; with `keep_buffer` the lines batched mode
    /// holds in memory are not written out first, and while any remain
    /// buffered afterwards the `flock` stays held (until the next flush).
    fn with_session_mode<R>(
        &self,
        session_id: &str,
        keep_buffer: bool,
        f: impl FnOnce(&mut Locked<'_>) -> Result<R>,
    ) -> Result<R> {
        let dir = self.session_dir(session_id)?;
        let state = self.state(session_id);
        let mut state = state.lock();
        let events = dir.join(files::EVENTS);
        let mut len = None;
        if !state.holding {
            self.existing_session_dir(session_id)?;
            len = Some(lock_log(&mut state, &dir, &events, session_id)?);
        }
        let result = (|| {
            if let Some(len) = len {
                let log = state.log.as_mut().expect("locked above");
                if len != log.len {
                    let len = eventlog::repair_torn_tail(&log.file, &events, len)?;
                    log.last_seq = eventlog::scan_tail(&log.file, &events, len)?.last_seq;
                    log.len = len;
                }
            }
            state.holding = true;
            let mut locked = Locked {
                dir: dir.clone(),
                state: &mut state,
            };
            if !keep_buffer {
                locked.write_buffer()?;
            }
            f(&mut locked)
        })();
        if state.buffer.is_empty() {
            state.holding = false;
            if let Some(log) = state.log.as_ref() {
                let _ = log.file.unlock();
            }
        }
        result
    }

    /// The log's path, with lines this store buffered (batched mode) written
    /// out first: a reader must never wait on this store's own lock.
    fn events_path_checked(&self, session_id: &str) -> Result<PathBuf> {
        let dir = self.existing_session_dir(session_id)?;
        let buffered = self
            .inner
            .sessions
            .lock()
            .get(session_id)
            .is_some_and(|st| st.lock().holding);
        if buffered {
            self.with_session(session_id, |_| Ok(()))?;
        }
        Ok(dir.join(files::EVENTS))
    }

    fn flush_all(&self) -> Result<()> {
        let dirty: Vec<String> = {
            let map = self.inner.sessions.lock();
            map.iter()
                .filter(|(_, st)| st.lock().pending.is_some())
                .map(|(id, _)| id.clone())
                .collect()
        };
        let mut first_err = None;
        for id in dirty {
            let r = self.with_session(&id, |s| s.flush_pending());
            if let Err(e) = r {
                log::warn!("{id}: deferred metadata not written: {e}");
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn start_flusher(&self) {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let ctl = self.inner.flusher_ctl.clone();
        let interval = self.inner.options.flush_interval;
        let handle = std::thread::Builder::new()
            .name("agentsession-flush".into())
            .spawn(move || loop {
                {
                    let mut stop = ctl.stop.lock();
                    if !*stop {
                        ctl.wake.wait_for(&mut stop, interval);
                    }
                    if *stop {
                        return;
                    }
                }
                let Some(inner) = weak.upgrade() else { return };
                let store = FsStore { inner };
                if !store.is_closed() {
                    let _ = store.flush_all();
                }
            });
        match handle {
            Ok(h) => *self.inner.flusher.lock() = Some(h),
            Err(e) => log::warn!("batched store without flusher thread: {e}"),
        }
    }

    fn stop_flusher(&self) {
        self.inner.flusher_ctl.stop();
        let handle = self.inner.flusher.lock().take();
        if let Some(h) = handle {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
    }
}

impl Backend for FsStore {
    fn location(&self) -> String {
        self.inner.base.display().to_string()
    }

    fn base_dir(&self) -> Option<&Path> {
        Some(&self.inner.base)
    }

    fn is_batched(&self) -> bool {
        self.inner.options.batched
    }

    fn create(&self, meta: &Metadata) -> Result<()> {
        let id = meta.session_id();
        let dir = self.session_dir(id)?;
        match fsutil::create_private_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Error::invalid(format!("session {id:?} already exists")))
            }
            Err(e) => return Err(Error::io(&dir, e)),
        }
        let events = dir.join(files::EVENTS);
        fsutil::private_open_options()
            .write(true)
            .create_new(true)
            .open(&events)
            .at(&events)?;
        fsutil::write_atomic(
            &dir.join(files::METADATA),
            &meta.to_pretty_json(),
            Durability::Atomic,
        )
    }

    fn append_events(&self, session_id: &str, events: Vec<NewEvent>) -> Result<Vec<u64>> {
        self.check_open()?;
        let batched = self.inner.options.batched;
        let interval = self.inner.options.flush_interval;
        self.with_session_mode(session_id, batched, |s| {
            let first = s.last_seq() + 1;
            let last = first + events.len() as u64 - 1;
            let now = timefmt::now_string();
            // Batched mode serialises straight into the store's buffer.
            let mut buf = std::mem::take(&mut s.state.buffer);
            let mut last_prompt = None;
            for (i, ne) in events.into_iter().enumerate() {
                let ev = Event {
                    seq: first + i as u64,
                    timestamp: ne.timestamp.unwrap_or_else(|| now.clone()),
                    event_type: ne.event_type,
                    data: ne.data,
                    extra: Default::default(),
                };
                if ev.event_type == types::USER_PROMPT {
                    last_prompt = Some(ev.timestamp.clone());
                }
                ev.write_line(&mut buf);
                buf.push(b'\n');
            }
            s.state.buffer = buf;
            if !batched || s.state.buffer.len() >= MAX_BUFFERED_BYTES {
                s.write_buffer()?;
            }
            s.log().last_seq = last;

            let pending = s.state.pending.get_or_insert_with(Pending::default);
            pending.updated_at = now;
            if last_prompt.is_some() {
                pending.last_user_message_at = last_prompt;
            }
            let due = !batched
                || s.state
                    .last_meta_write
                    .is_none_or(|t| t.elapsed() >= interval);
            if due {
                // The event is in the log whatever happens here; metadata is
                // derived from it, so a failure is reported, not returned.
                if let Err(e) = s.flush_pending() {
                    log::warn!("{session_id}: metadata not updated after append: {e}");
                }
            }
            Ok((first..=last).collect())
        })
    }

    fn metadata(&self, session_id: &str) -> Result<Metadata> {
        let dir = self.existing_session_dir(session_id)?;
        let state = self.state(session_id);
        let mut state = state.lock();
        let path = dir.join(files::METADATA);
        let bytes = fs::read(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Error::SessionNotFound(session_id.to_string()),
            _ => Error::io(&path, e),
        })?;
        let mut meta = Metadata::from_slice(&bytes, &path)?;
        if let (Some(p), Some(log)) = (&state.pending, &state.log) {
            p.apply_to(&mut meta, log.last_seq);
        }
        if state.pending.is_none() {
            if let Ok(stat) = fs::symlink_metadata(&path) {
                state.meta = Some((meta.clone(), Stamp::of(&stat)));
            }
        }
        Ok(meta)
    }

    fn update_metadata(
        &self,
        session_id: &str,
        f: &mut dyn FnMut(&mut Metadata) -> Result<()>,
    ) -> Result<Metadata> {
        self.check_open()?;
        self.with_session(session_id, |s| {
            let last_seq = s.last_seq();
            let pending = s.state.pending.take();
            let meta = s.metadata()?;
            let mut changed = meta.clone();
            f(&mut changed)?;
            if changed.session_id() != meta.session_id() {
                return Err(Error::invalid("session_id cannot be changed"));
            }
            if let Some(p) = pending {
                changed.set("event_count", Value::from(last_seq));
                if changed.get("updated_at") == meta.get("updated_at") {
                    changed.set_str("updated_at", &p.updated_at);
                }
                if let Some(t) = &p.last_user_message_at {
                    changed.set_str("last_user_message_at", t);
                }
            }
            *meta = changed;
            s.write_metadata()?;
            Ok(s.metadata()?.clone())
        })
    }

    fn events(&self, session_id: &str, after_seq: u64) -> Result<EventsRead> {
        let path = self.events_path_checked(session_id)?;
        match eventlog::read_all(&path, after_seq) {
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Ok(EventsRead::default())
            }
            r => r,
        }
    }

    fn events_last(&self, session_id: &str, limit: usize, before_seq: u64) -> Result<EventsRead> {
        let path = self.events_path_checked(session_id)?;
        match eventlog::read_last(&path, limit, before_seq) {
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Ok(EventsRead::default())
            }
            r => r,
        }
    }

    fn list(&self) -> Result<SessionList> {
        self.check_open()?;
        let base = &self.inner.base;
        let mut names = Vec::new();
        for entry in fs::read_dir(base).at(base)? {
            let entry = entry.at(base)?;
            if !entry.file_type().at(base)?.is_dir() {
                continue;
            }
            match entry.file_name().into_string() {
                Ok(name) if ids::session(&name).is_ok() => names.push(name),
                Ok(_) => {}
                Err(raw) => {
                    log::warn!("skipping non-UTF-8 directory {raw:?} in {}", base.display())
                }
            }
        }
        names.sort_unstable();
        let read = |name: &String| -> Result<Metadata> {
            let path = base.join(name).join(files::METADATA);
            let bytes = fs::read(&path).at(&path)?;
            Metadata::from_slice(&bytes, &path)
        };
        let results: Vec<Result<Metadata>> = parallel_map(&names, 64, read);
        let mut out = SessionList::default();
        for (name, r) in names.into_iter().zip(results) {
            match r {
                Ok(m) => out.sessions.push(m),
                Err(error) => out.skipped.push(SkippedSession {
                    session_id: name,
                    error,
                }),
            }
        }
        // Apply this store's unwritten batched changes.
        let map = self.inner.sessions.lock();
        for m in &mut out.sessions {
            if let Some(st) = map.get(m.session_id()) {
                let st = st.lock();
                if let (Some(p), Some(log)) = (&st.pending, &st.log) {
                    p.apply_to(m, log.last_seq);
                }
            }
        }
        Ok(out)
    }

    fn exists(&self, session_id: &str) -> Result<bool> {
        match self.existing_session_dir(session_id) {
            Ok(_) => Ok(true),
            Err(Error::SessionNotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn delete(&self, session_id: &str) -> Result<()> {
        let dir = self.existing_session_dir(session_id)?;
        let state = self.state(session_id);
        let mut state = state.lock();
        *state = SessionState::default();
        fs::remove_dir_all(&dir).at(&dir)?;
        drop(state);
        self.inner.sessions.lock().remove(session_id);
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        self.check_open()?;
        self.flush_all()
    }

    fn close(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Ok(());
        }
        let r = self.flush_all();
        self.inner.closed.store(true, Ordering::Release);
        self.stop_flusher();
        self.inner.sessions.lock().clear();
        r
    }

    fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }

    fn import_session(&self, meta: &Metadata) -> Result<bool> {
        match Backend::create(self, meta) {
            Ok(()) => Ok(true),
            Err(Error::InvalidArgument(_))
                if self.existing_session_dir(meta.session_id()).is_ok() =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    fn import_lines(&self, session_id: &str, lines: &[u8], last_seq: u64) -> Result<()> {
        self.check_open()?;
        self.with_session(session_id, |s| {
            s.state.buffer.extend_from_slice(lines);
            s.write_buffer()?;
            s.log().last_seq = last_seq;
            Ok(())
        })
    }

    fn import_image(&self, session_id: &str, image_id: &str, data: &[u8]) -> Result<()> {
        self.import_image_file(session_id, image_id, data)
    }

    fn search_lines(&self, session_id: &str, _needle: Option<&str>) -> Result<Vec<u8>> {
        let path = self.session_dir(session_id)?.join(files::EVENTS);
        let mut buf = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.lock_shared().at(&path)?;
                let r = f.read_to_end(&mut buf);
                let _ = f.unlock();
                r.at(&path)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        Ok(buf)
    }

    fn follow_source(&self, session_id: &str) -> Result<Box<dyn FollowSource>> {
        Ok(Box::new(self.follow_log(session_id)?))
    }

    fn prune_if_needed(
        &self,
        session_id: &str,
        limits: PruneLimits,
    ) -> Result<Option<PruneResult>> {
        self.prune_log(session_id, limits)
    }

    fn save_image(&self, session_id: &str, data: &[u8], format: ImageFormat) -> Result<String> {
        self.save_image_file(session_id, data, format)
    }

    fn image_data(&self, session_id: &str, image_id: &str) -> Result<Vec<u8>> {
        self.image_bytes(session_id, image_id)
    }

    fn image_path(&self, session_id: &str, image_id: &str) -> Result<PathBuf> {
        self.image_file(session_id, image_id)
    }

    fn list_images(&self, session_id: &str) -> Result<Vec<ImageInfo>> {
        self.image_files(session_id)
    }

    fn delete_image(&self, session_id: &str, image_id: &str) -> Result<()> {
        self.delete_image_file(session_id, image_id)
    }

    fn cleanup_old_images(&self, max_age: Duration, preserve_recent: Duration) -> Result<usize> {
        self.cleanup_image_files(max_age, preserve_recent)
    }

    fn read_lock(&self, session_id: &str) -> Result<Option<LockRecord>> {
        self.read_lock_file(session_id)
    }

    fn lock_guard(&self, session_id: &str) -> Result<Box<dyn LockGuard + '_>> {
        Ok(Box::new(self.guard_lock(session_id)?))
    }

    fn doc_location(&self, session_id: &str, doc: Doc) -> PathBuf {
        self.doc_path(session_id, doc)
    }

    fn doc_read(&self, session_id: &str, doc: Doc) -> Result<Option<(Vec<u8>, DocVersion)>> {
        self.read_doc(session_id, doc)
    }

    fn doc_version(&self, session_id: &str, doc: Doc) -> Result<Option<DocVersion>> {
        self.doc_stamp(session_id, doc)
    }

    fn doc_change(
        &self,
        session_id: &str,
        doc: Doc,
        f: &mut dyn FnMut(Option<&[u8]>) -> Result<DocChange>,
    ) -> Result<Option<DocVersion>> {
        self.change_doc(session_id, doc, f)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Last handle gone: write what batched mode deferred.
        if self.closed.load(Ordering::Acquire) {
            return;
        }
        self.flusher_ctl.stop();
        let sessions = std::mem::take(&mut *self.sessions.lock());
        for (id, st) in sessions {
            let mut st = st.lock();
            if st.pending.is_none() {
                continue;
            }
            let locked_ok = st.log.as_ref().is_some_and(|log| log.file.lock().is_ok());
            if !locked_ok {
                continue;
            }
            let mut locked = Locked {
                dir: self.base.join(&id),
                state: &mut st,
            };
            if let Err(e) = locked.flush_pending() {
                log::warn!("{id}: deferred metadata not written at drop: {e}");
            }
            if let Some(log) = st.log.as_ref() {
                let _ = log.file.unlock();
            }
        }
    }
}

fn open_log(dir: &Path, events: &Path, session_id: &str) -> Result<OpenLog> {
    let open = |create: bool| {
        fsutil::private_open_options()
            .read(true)
            .append(true)
            .create(create)
            .open(events)
    };
    let file = match open(false) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A session whose log is missing (but metadata exists) gets an empty one.
            if !dir.join(files::METADATA).exists() {
                return Err(Error::SessionNotFound(session_id.to_string()));
            }
            open(true).at(events)?
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Error::io(
                events,
                io::Error::new(io::ErrorKind::InvalidInput, "event log is a symlink"),
            ))
        }
        Err(e) => return Err(Error::io(events, e)),
    };
    let ino = file.metadata().at(events)?.ino();
    Ok(OpenLog {
        file,
        ino,
        len: u64::MAX,
        last_seq: 0,
    })
}

/// Takes the exclusive lock on the session's log, reopening it if the file
/// at the path was replaced (pruned) or recreated since it was opened;
/// returns the log's length (from the same `stat` that checked the path).
fn lock_log(state: &mut SessionState, dir: &Path, events: &Path, session_id: &str) -> Result<u64> {
    loop {
        if state.log.is_none() {
            state.log = Some(open_log(dir, events, session_id)?);
        }
        let log = state.log.as_mut().expect("opened above");
        log.file.lock().at(events)?;
        let same = match fs::symlink_metadata(events) {
            Ok(m) if m.ino() == log.ino => Some(m.len()),
            Ok(_) => None,
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                let _ = log.file.unlock();
                return Err(Error::io(events, e));
            }
        };
        if let Some(len) = same {
            return Ok(len);
        }
        let _ = log.file.unlock();
        state.log = None;
        state.meta = None;
        if !dir.join(files::METADATA).exists() {
            return Err(Error::SessionNotFound(session_id.to_string()));
        }
    }
}
