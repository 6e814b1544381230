//! Where a [`Store`](crate::Store) keeps its data: one trait, two
//! implementations. The filesystem ([`crate::fs_store`]) is the embedded,
//! reference-compatible default; PostgreSQL ([`crate::pg`]) is shared by
//! several hosts. The components — queue, follow-up suggestions, locks,
//! search, follow, export, recorder, player — are written once, on top of
//! these primitives, so both backends give the same results and errors.
//!
//! Session ids reaching a backend are already checked ([`crate::ids`]); event
//! data and images are already validated. Every method fails with
//! [`Error::StoreClosed`](crate::Error::StoreClosed) after `close`, and with
//! [`Error::SessionNotFound`](crate::Error::SessionNotFound) for a session
//! that does not exist (unless it says otherwise).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Result;
use crate::eventlog::EventsRead;
use crate::image::{ImageFormat, ImageInfo};
use crate::lock::LockInfo;
use crate::metadata::Metadata;
use crate::prune::{PruneLimits, PruneResult};
use crate::store::{NewEvent, SessionList};

/// A small JSON document of a session, replaced whole on every change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Doc {
    /// The message queue (`queue.json`).
    Queue,
    /// The follow-up suggestions (`action_buttons.json`).
    ActionButtons,
}

/// What a read-modify-write of a [`Doc`] does with the document.
#[derive(Debug)]
pub(crate) enum DocChange {
    /// Leave it as it is.
    Keep,
    /// Store these bytes (2-space indented JSON).
    Write(Vec<u8>),
    /// Remove it (a missing document is fine).
    Remove,
}

/// Identifies one stored version of a [`Doc`]: two reads that give the same
/// version read the same bytes. Every write makes a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DocVersion(pub(crate) [u64; 3]);

/// A session's lock as stored, judged by the backend's own clock.
#[derive(Debug)]
pub(crate) struct LockRecord {
    /// The lock, or why the stored bytes are not a lock.
    pub(crate) info: std::result::Result<LockInfo, String>,
    /// Time since the last heartbeat, by the clock that stamps heartbeats
    /// (the server's for PostgreSQL); `None` when it cannot be told.
    pub(crate) heartbeat_age: Option<Duration>,
    /// Where it is stored, for messages.
    pub(crate) place: PathBuf,
}

/// Exclusive access to one session's lock while an acquisition decides.
/// Dropping it without [`LockGuard::commit`] undoes what it wrote.
pub(crate) trait LockGuard {
    /// The lock as stored now; `None` when the session is not locked.
    fn read(&mut self) -> Result<Option<LockRecord>>;
    /// Writes `info` as the session's lock (replacing any other) and returns
    /// the lease through which its holder keeps it.
    fn write(&mut self, info: &LockInfo) -> Result<Box<dyn Lease>>;
    /// Makes the write visible and ends the exclusive access.
    fn commit(self: Box<Self>) -> Result<()>;
}

/// A held lock's hold on the stored lock, as its holder sees it. Each call
/// checks that the stored lock still carries the holder's `instance_id`.
pub(crate) trait Lease: Send + Sync {
    /// Stores `info` (a heartbeat or status change; the backend stamps
    /// `heartbeat` when its clock is the reference); `Ok(false)` when the
    /// lock is no longer this holder's. Unknown fields found in the stored
    /// lock are kept in `info.extra`.
    fn rewrite(&self, info: &mut LockInfo) -> Result<bool>;
    /// Whether the stored lock is still this holder's.
    fn owned(&self, info: &mut LockInfo) -> Result<bool>;
    /// Removes the stored lock if it is still this holder's; `Ok(false)` when
    /// it was not.
    fn remove(&self) -> Result<bool>;
}

/// New events of a followed session, and the wait for more.
pub(crate) trait FollowSource: Send {
    /// Events with `seq > after_seq` appended since the last call (the
    /// first call: from the start), oldest first. `Ok(None)` means the log
    /// was rewritten (pruned) and reading resumes from its new end.
    fn read_new(&mut self, after_seq: u64) -> Result<Option<Vec<crate::Event>>>;
    /// Blocks until the session may have changed or `timeout` passes.
    fn wait(&mut self, timeout: Duration);
}

/// The storage primitives a [`Store`](crate::Store) runs on.
pub(crate) trait Backend: Send + Sync + fmt::Debug {
    // --- The store ---

    /// Where the store lives, for messages: its path, or its URL without
    /// any password.
    fn location(&self) -> String;
    /// The base directory of a filesystem store; `None` for a server.
    fn base_dir(&self) -> Option<&Path>;
    /// Whether metadata writes are batched.
    fn is_batched(&self) -> bool;
    /// Writes every deferred metadata update.
    fn flush(&self) -> Result<()>;
    /// Flushes and makes every later call fail with `StoreClosed`.
    fn close(&self) -> Result<()>;
    /// Whether `close` was called.
    fn is_closed(&self) -> bool;

    // --- Sessions and events ---

    /// Stores a new session with this metadata and an empty log; a session
    /// of that id that exists already is `InvalidArgument`.
    fn create(&self, meta: &Metadata) -> Result<()>;
    /// Whether the session exists (a closed store still errs).
    fn exists(&self, session_id: &str) -> Result<bool>;
    /// Deletes the session and everything it holds.
    fn delete(&self, session_id: &str) -> Result<()>;
    /// The session's metadata (with unwritten batched changes applied).
    fn metadata(&self, session_id: &str) -> Result<Metadata>;
    /// Changes the metadata under the session's write lock; `f` may fail,
    /// which changes nothing. Returns the metadata as stored.
    fn update_metadata(
        &self,
        session_id: &str,
        f: &mut dyn FnMut(&mut Metadata) -> Result<()>,
    ) -> Result<Metadata>;
    /// Metadata of every session, sorted by id; unreadable ones reported.
    fn list(&self) -> Result<SessionList>;
    /// Appends events (at least one) with the next seqs, in one write, and
    /// updates `event_count`, `updated_at` and `last_user_message_at`.
    fn append_events(&self, session_id: &str, events: Vec<NewEvent>) -> Result<Vec<u64>>;
    /// Every event with `seq > after_seq`, oldest first.
    fn events(&self, session_id: &str, after_seq: u64) -> Result<EventsRead>;
    /// The last `limit` events with `seq < before_seq` (0: no bound), newest first.
    fn events_last(&self, session_id: &str, limit: usize, before_seq: u64) -> Result<EventsRead>;
    /// The session's log lines, `\n`-separated, for a search. With `needle`
    /// the backend may leave out lines that contain neither `needle` in any
    /// letter case nor a `\u` escape; it must never leave out a line that
    /// does (the caller matches each line again).
    fn search_lines(&self, session_id: &str, needle: Option<&str>) -> Result<Vec<u8>>;
    /// Follows the session's log from its start.
    fn follow_source(&self, session_id: &str) -> Result<Box<dyn FollowSource>>;
    /// Removes the oldest events over `limits` and renumbers the rest (see
    /// [`Store::prune_if_needed`](crate::Store::prune_if_needed)).
    fn prune_if_needed(&self, session_id: &str, limits: PruneLimits)
        -> Result<Option<PruneResult>>;

    // --- Images ---

    /// Stores an image of a checked format under a new id, enforcing the
    /// per-session count and total size limits; returns the id.
    fn save_image(&self, session_id: &str, data: &[u8], format: ImageFormat) -> Result<String>;
    /// The bytes of a stored image (`ImageNotFound` when there is none).
    fn image_data(&self, session_id: &str, image_id: &str) -> Result<Vec<u8>>;
    /// The file of a stored image; a server store has none (`InvalidArgument`).
    fn image_path(&self, session_id: &str, image_id: &str) -> Result<PathBuf>;
    /// The session's images, sorted by id.
    fn list_images(&self, session_id: &str) -> Result<Vec<ImageInfo>>;
    /// Deletes a stored image (`ImageNotFound` when there is none).
    fn delete_image(&self, session_id: &str, image_id: &str) -> Result<()>;
    /// Removes images older than `max_age` of sessions not updated within
    /// `preserve_recent`; returns how many.
    fn cleanup_old_images(&self, max_age: Duration, preserve_recent: Duration) -> Result<usize>;

    // --- Copying a store (migrate) ---

    /// Creates the session with exactly this metadata and an empty log,
    /// unless it exists; returns whether it was created.
    fn import_session(&self, meta: &Metadata) -> Result<bool>;
    /// Appends log lines verbatim (each ending in `\n`), the first one
    /// continuing the log; `last_seq` is the seq of the last one. The
    /// metadata is not touched.
    fn import_lines(&self, session_id: &str, lines: &[u8], last_seq: u64) -> Result<()>;
    /// Stores an image under its id, unless one of that id exists.
    fn import_image(&self, session_id: &str, image_id: &str, data: &[u8]) -> Result<()>;

    // --- Locks ---

    /// The session's lock as stored, without exclusive access.
    fn read_lock(&self, session_id: &str) -> Result<Option<LockRecord>>;
    /// Exclusive access to the session's lock, for an acquisition.
    fn lock_guard(&self, session_id: &str) -> Result<Box<dyn LockGuard + '_>>;

    // --- Small documents: queue and follow-up suggestions ---

    /// A name for the document in messages and cache keys (its path, or its
    /// place on the server).
    fn doc_location(&self, session_id: &str, doc: Doc) -> PathBuf;
    /// The document's bytes and version; `None` when there is none.
    fn doc_read(&self, session_id: &str, doc: Doc) -> Result<Option<(Vec<u8>, DocVersion)>>;
    /// The version of the stored document, without reading it.
    fn doc_version(&self, session_id: &str, doc: Doc) -> Result<Option<DocVersion>>;
    /// Read-modify-write under exclusive access across threads, processes
    /// and hosts: `f` gets the current bytes and says what to store. Returns
    /// the version stored (`None` when there is no document afterwards).
    fn doc_change(
        &self,
        session_id: &str,
        doc: Doc,
        f: &mut dyn FnMut(Option<&[u8]>) -> Result<DocChange>,
    ) -> Result<Option<DocVersion>>;
}
