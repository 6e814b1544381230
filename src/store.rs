//! The store: sessions, their event logs and everything attached to them,
//! behind one API whichever backend keeps them.
//!
//! [`Store::open`] with a directory gives the filesystem store (one
//! directory per session, the reference format; see [`crate::fs_store`]);
//! with a `postgres://` or `postgresql://` URL, a store on a PostgreSQL
//! server that several hosts share. Both run the same components and give
//! the same results and errors ([`crate::backend`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::event::types;
use crate::eventlog::{CorruptLine, EventsRead};
use crate::fs_store::FsStore;
use crate::ids;
use crate::metadata::Metadata;
use crate::pg::{self, PgStore};
use crate::timefmt;

/// How a store writes metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Defer metadata writes to `flush`, `close`, drop or `flush_interval`.
    pub batched: bool,
    /// In batched mode, the longest a metadata update waits.
    pub flush_interval: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            batched: false,
            flush_interval: Duration::from_millis(500),
        }
    }
}

/// What a new session starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// The id; `None` generates `YYYYMMDD-HHMMSS-<8 hex>`.
    pub session_id: Option<String>,
    /// Name of the ACP server (agent).
    pub acp_server: String,
    /// Working directory.
    pub working_dir: String,
    /// Command line that starts the agent.
    pub acp_command: Option<String>,
    /// User-visible name.
    pub name: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
}

/// An event to append; the store assigns its seq.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Event type (see [`crate::event::types`]).
    pub event_type: String,
    /// Event data.
    pub data: Value,
    /// RFC 3339 time; `None` stamps the current time.
    pub timestamp: Option<String>,
}

impl NewEvent {
    /// An event stamped with the time of the append.
    pub fn new(event_type: impl Into<String>, data: Value) -> NewEvent {
        NewEvent {
            event_type: event_type.into(),
            data,
            timestamp: None,
        }
    }

    /// The same event with an explicit timestamp.
    pub fn at(mut self, timestamp: impl Into<String>) -> NewEvent {
        self.timestamp = Some(timestamp.into());
        self
    }

    /// Checks the type, the data's shape and the timestamp.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.event_type.is_empty() {
            return Err(Error::invalid("event type is empty"));
        }
        if types::ALL.contains(&self.event_type.as_str()) && !self.data.is_object() {
            return Err(Error::invalid(format!(
                "data of a {:?} event must be a JSON object",
                self.event_type
            )));
        }
        if let Some(ts) = &self.timestamp {
            chrono::DateTime::parse_from_rfc3339(ts)
                .map_err(|e| Error::invalid(format!("timestamp {ts:?} is not RFC 3339: {e}")))?;
        }
        Ok(())
    }
}

/// A directory that `list` could not read as a session; in JSON,
/// `{"session_id", "error"}` with the error's message.
#[derive(Debug, serde::Serialize)]
pub struct SkippedSession {
    /// The directory name.
    pub session_id: String,
    /// Why it was skipped.
    #[serde(serialize_with = "serialize_message")]
    pub error: Error,
}

fn serialize_message<S: serde::Serializer>(
    error: &Error,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(error)
}

/// The sessions of a store, and the directories that were not readable.
#[derive(Debug, Default)]
pub struct SessionList {
    /// Metadata of every readable session, sorted by id.
    pub sessions: Vec<Metadata>,
    /// Directories skipped, with the reason.
    pub skipped: Vec<SkippedSession>,
}

/// A store of sessions: a directory, or a PostgreSQL server. Cheap to clone;
/// thread-safe.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
}

impl Store {
    /// Opens the store at `location`: a directory (created if missing, mode
    /// 0700), or a `postgres://` / `postgresql://` URL.
    pub fn open(location: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(location, StoreOptions::default())
    }

    /// Opens a store with options (e.g. batched metadata writes).
    pub fn open_with(location: impl AsRef<Path>, options: StoreOptions) -> Result<Store> {
        let location = location.as_ref();
        let backend: Arc<dyn Backend> = match location.to_str() {
            Some(url) if pg::is_url(url) => PgStore::open(url, options)?,
            _ => FsStore::open(location, options)?,
        };
        Ok(Store { backend })
    }

    /// The default location: `$AGENTSESSION_DIR`, else
    /// `<data dir>/agentsession/sessions` (`$XDG_DATA_HOME` or `~/.local/share` on Linux).
    pub fn default_dir() -> Result<PathBuf> {
        if let Some(d) = std::env::var_os("AGENTSESSION_DIR").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(d));
        }
        dirs::data_dir()
            .map(|d| d.join("agentsession").join("sessions"))
            .ok_or_else(|| Error::invalid("no data directory: set AGENTSESSION_DIR"))
    }

    /// Opens the store at [`Store::default_dir`].
    pub fn open_default() -> Result<Store> {
        Store::open(Store::default_dir()?)
    }

    /// The mitto client's store: `$MITTO_DIR/sessions`, else its platform data
    /// dir (`~/.local/share/mitto`, `~/Library/Application Support/Mitto`, `%APPDATA%\\Mitto`).
    pub fn mitto_dir() -> Result<PathBuf> {
        if let Some(d) = std::env::var_os("MITTO_DIR").filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(d).join("sessions"));
        }
        let name = if cfg!(any(target_os = "macos", windows)) {
            "Mitto"
        } else {
            "mitto"
        };
        dirs::data_dir()
            .map(|d| d.join(name).join("sessions"))
            .ok_or_else(|| Error::invalid("no data directory: set MITTO_DIR"))
    }

    /// Opens the mitto client's store.
    pub fn open_mitto() -> Result<Store> {
        Store::open(Store::mitto_dir()?)
    }

    pub(crate) fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// Where the store lives: its directory, or its URL without the password.
    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// The base directory of a filesystem store; `None` for a server store.
    pub fn base_dir(&self) -> Option<&Path> {
        self.backend.base_dir()
    }

    /// Whether metadata writes are batched.
    pub fn is_batched(&self) -> bool {
        self.backend.is_batched()
    }

    fn check_open(&self) -> Result<()> {
        if self.backend.is_closed() {
            Err(Error::StoreClosed)
        } else {
            Ok(())
        }
    }

    /// Checks the store is open and the id is valid.
    pub(crate) fn check(&self, session_id: &str) -> Result<()> {
        self.check_open()?;
        ids::session(session_id)
    }

    /// The directory of a session of a filesystem store (checks the id and
    /// that the store is open; the directory may not exist). A server store
    /// has none: [`Error::InvalidArgument`].
    pub fn session_dir(&self, session_id: &str) -> Result<PathBuf> {
        self.check(session_id)?;
        match self.base_dir() {
            Some(base) => Ok(base.join(session_id)),
            None => Err(Error::invalid(format!(
                "sessions of {} have no directory",
                self.location()
            ))),
        }
    }

    /// Creates a session (empty log, metadata); an existing id is
    /// [`Error::InvalidArgument`].
    pub fn create(&self, opts: &CreateOptions) -> Result<Metadata> {
        self.check_open()?;
        let id = opts.session_id.clone().unwrap_or_else(ids::new_session_id);
        ids::session(&id)?;
        let mut meta = Metadata::new(&id, &opts.acp_server, &opts.working_dir);
        meta.set_str("acp_command", opts.acp_command.as_deref().unwrap_or(""));
        meta.set_str("name", opts.name.as_deref().unwrap_or(""));
        meta.set_str("description", opts.description.as_deref().unwrap_or(""));
        self.backend.create(&meta)?;
        Ok(meta)
    }

    /// Appends one event; returns its seq.
    pub fn append_event(&self, session_id: &str, event: NewEvent) -> Result<u64> {
        let seqs = self.append_events(session_id, vec![event])?;
        Ok(seqs[0])
    }

    /// Appends events in one write and one metadata update; returns their seqs.
    pub fn append_events(&self, session_id: &str, events: Vec<NewEvent>) -> Result<Vec<u64>> {
        self.check(session_id)?;
        for e in &events {
            e.validate()?;
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.backend.append_events(session_id, events)
    }

    /// The session's metadata (with this store's unwritten changes applied).
    pub fn metadata(&self, session_id: &str) -> Result<Metadata> {
        self.check(session_id)?;
        self.backend.metadata(session_id)
    }

    /// Changes metadata under the session's write lock; returns the new metadata.
    pub fn update_metadata(
        &self,
        session_id: &str,
        f: impl FnOnce(&mut Metadata) -> Result<()>,
    ) -> Result<Metadata> {
        self.check(session_id)?;
        let mut f = Some(f);
        self.backend.update_metadata(session_id, &mut |m| {
            let f = f.take().expect("update_metadata runs its closure once");
            f(m)
        })
    }

    /// Changes metadata fields given as JSON (as the C and Python faces do);
    /// `updated_at` is stamped unless given.
    pub fn update_metadata_fields(
        &self,
        session_id: &str,
        changes: &serde_json::Map<String, Value>,
    ) -> Result<Metadata> {
        self.update_metadata(session_id, |m| {
            m.apply_update(changes)?;
            if !changes.contains_key("updated_at") {
                m.set_str("updated_at", &timefmt::now_string());
            }
            Ok(())
        })
    }

    /// Every event with `seq > after_seq` (0 = all), oldest first; corrupt
    /// lines are skipped and reported.
    pub fn events(&self, session_id: &str, after_seq: u64) -> Result<EventsRead> {
        self.check(session_id)?;
        self.backend.events(session_id, after_seq)
    }

    /// The last `limit` events with `seq < before_seq` (0 = no bound), oldest
    /// first, or newest first when `reverse`. Reads backwards from the end.
    pub fn events_last(
        &self,
        session_id: &str,
        limit: usize,
        before_seq: u64,
        reverse: bool,
    ) -> Result<EventsRead> {
        self.check(session_id)?;
        let mut r = self.backend.events_last(session_id, limit, before_seq)?;
        if !reverse {
            r.events.reverse();
            r.skipped.reverse();
        }
        Ok(r)
    }

    /// Metadata of every session, sorted by id; unreadable ones are reported.
    pub fn list(&self) -> Result<SessionList> {
        self.check_open()?;
        self.backend.list()
    }

    /// Whether the session exists.
    pub fn exists(&self, session_id: &str) -> Result<bool> {
        self.check(session_id)?;
        self.backend.exists(session_id)
    }

    /// Deletes a session and everything it holds.
    pub fn delete(&self, session_id: &str) -> Result<()> {
        self.check(session_id)?;
        self.backend.delete(session_id)
    }

    /// Writes every deferred metadata update (batched mode).
    pub fn flush(&self) -> Result<()> {
        self.check_open()?;
        self.backend.flush()
    }

    /// Flushes, releases descriptors and connections, and makes every later
    /// call fail with `StoreClosed`.
    pub fn close(&self) -> Result<()> {
        self.backend.close()
    }

    /// Whether `close` was called.
    pub fn is_closed(&self) -> bool {
        self.backend.is_closed()
    }
}

/// Threads used for parallel scans: the machine's cores, at most 8.
pub(crate) fn scan_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
}

/// Maps `f` over `items` on [`scan_threads`] threads when there are at least
/// `min_parallel` items, keeping their order.
pub(crate) fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    min_parallel: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = scan_threads();
    if items.len() < min_parallel.max(2) || threads < 2 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("list worker does not panic"))
            .collect()
    })
}

/// A corrupt line as a warning message (for faces that log).
pub fn describe_skipped(skipped: &[CorruptLine]) -> Option<String> {
    if skipped.is_empty() {
        return None;
    }
    Some(
        skipped
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    )
}
