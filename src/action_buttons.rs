//! The follow-up suggestions shown after an agent reply (`action_buttons.json`).
//!
//! # The two-tier cache
//! Every handle of one document in the process shares one memory entry: the
//! parsed buttons and the version of the document they came from (for the
//! filesystem: inode, size and mtime in ns, from one `stat`).
//! [`ActionButtonsStore::get`]:
//! - returns the entry without asking the backend when it was checked less
//!   than [`ActionButtonsStore::REVALIDATE_AFTER`] ago (read on the coarse
//!   monotonic clock, a few ns);
//! - otherwise asks for the stored version: the same, the entry is current
//!   and is returned (no read, no parse); another, the document is read and
//!   parsed once and the entry replaced.
//!
//! Every write makes a new version (the file is replaced by rename, or
//! removed), so a change is never mistaken for the cached one. Changes made
//! through any handle of this process update the shared entry at once; a
//! change made by another process or host is seen by every `get` that starts
//! more than [`ActionButtonsStore::max_staleness`] after it (a few ms),
//! without waiting for any other event.
//!
//! Writes in this process are serialised by a mutex around the backend's own
//! exclusive change, so the entry recorded after a write is that write's.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use parking_lot::Mutex;
use rustix::time::{clock_getres, clock_gettime, ClockId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::backend::{Doc, DocChange, DocVersion};
use crate::error::{Error, Result};
use crate::jsonfile::{self, Registry};
use crate::store::Store;
use crate::timefmt::{self, Timestamp};

/// The clock that times cache entries: coarse (read without a system call,
/// at tick resolution) where the OS has one.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
const CLOCK: ClockId = ClockId::MonotonicCoarse;
#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
const CLOCK: ClockId = ClockId::Monotonic;

/// The shared state of each buttons file in the process.
static SHARED: LazyLock<Registry<Shared>> = LazyLock::new(Registry::new);

/// One follow-up suggestion: a short label and the text sent when chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionButton {
    /// Button text (short).
    pub label: String,
    /// The prompt sent when the button is chosen.
    pub response: String,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl ActionButton {
    /// A button with a label and the response it sends.
    pub fn new(label: impl Into<String>, response: impl Into<String>) -> ActionButton {
        ActionButton {
            label: label.into(),
            response: response.into(),
            extra: Map::new(),
        }
    }

    /// Fields of the stored button this library does not know, in file order.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
}

/// The content of `action_buttons.json`.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct ButtonsFile {
    #[serde(default, deserialize_with = "jsonfile::null_as_default")]
    buttons: Vec<ActionButton>,
    #[serde(
        default,
        deserialize_with = "jsonfile::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    generated_at: Option<String>,
    #[serde(
        default,
        deserialize_with = "jsonfile::null_as_default",
        skip_serializing_if = "is_zero"
    )]
    for_event_seq: u64,
    /// Fields this library does not know (also makes a non-object file corrupt).
    #[serde(flatten)]
    extra: Map<String, Value>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The suggestions of a session as stored, with when and for which event they
/// were generated. Immutable and shared: cloning is a reference-count bump.
/// Dereferences to the list of buttons.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionButtons(Arc<ButtonsFile>);

impl Deref for ActionButtons {
    type Target = [ActionButton];

    fn deref(&self) -> &[ActionButton] {
        &self.0.buttons
    }
}

impl ActionButtons {
    /// The buttons, in display order (empty when none are stored).
    pub fn buttons(&self) -> &[ActionButton] {
        &self.0.buttons
    }

    /// When they were generated, as written in the file (RFC 3339); `None` when none are stored.
    pub fn generated_at(&self) -> Option<&str> {
        self.0.generated_at.as_deref()
    }

    /// [`ActionButtons::generated_at`] parsed.
    pub fn generated_at_time(&self) -> Option<Timestamp> {
        self.generated_at().and_then(timefmt::parse)
    }

    /// Seq of the event (agent message) they were generated for; 0 when not recorded.
    pub fn for_event_seq(&self) -> u64 {
        self.0.for_event_seq
    }

    /// Fields of the file this library does not know, in file order.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.0.extra
    }
}

/// What every handle of one file in the process shares.
#[derive(Default)]
struct Shared {
    /// Serialises this process's writers (before the `flock`).
    write: Mutex<()>,
    cache: Mutex<Option<Cached>>,
}

/// The memory tier: the parsed file and the version it came from.
struct Cached {
    value: ActionButtons,
    /// Version of the document read; `None` when there was none.
    version: Option<DocVersion>,
    /// [`clock_ns`] when the identity was last checked.
    checked_ns: u64,
}

/// The follow-up suggestions of one session. Cheap to clone; handles of the
/// same session in this process share one cache.
#[derive(Clone)]
pub struct ActionButtonsStore {
    store: Store,
    session_id: String,
    path: PathBuf,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ActionButtonsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionButtonsStore")
            .field("session_id", &self.session_id)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The follow-up suggestions of a session. Checks the id
    /// (→ [`Error::InvalidArgument`]); a missing session is reported by the
    /// calls that reach the disk as [`Error::SessionNotFound`].
    pub fn action_buttons(&self, session_id: &str) -> Result<ActionButtonsStore> {
        self.check(session_id)?;
        let path = self.backend().doc_location(session_id, Doc::ActionButtons);
        Ok(ActionButtonsStore {
            store: self.clone(),
            session_id: session_id.to_string(),
            shared: SHARED.get(&path),
            path,
        })
    }
}

impl ActionButtonsStore {
    /// How long a cache entry is trusted without checking the file.
    pub const REVALIDATE_AFTER: Duration = Duration::from_millis(1);

    /// The longest a change made by another process can stay unseen by
    /// [`ActionButtonsStore::get`]: [`Self::REVALIDATE_AFTER`] plus one tick of
    /// the clock that times the cache.
    pub fn max_staleness() -> Duration {
        Self::REVALIDATE_AFTER + Duration::try_from(clock_getres(CLOCK)).unwrap_or_default()
    }

    /// The session these suggestions belong to.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Where the suggestions are stored: the path of `action_buttons.json`,
    /// or their place on the server.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored suggestions (empty when none), served from memory while the
    /// file is unchanged (see the module documentation). A file that does not
    /// parse is [`Error::CorruptData`].
    pub fn get(&self) -> Result<ActionButtons> {
        if self.store.is_closed() {
            return Err(Error::StoreClosed);
        }
        let now = clock_ns();
        let mut cache = self.shared.cache.lock();
        if let Some(c) = cache.as_ref() {
            if now.saturating_sub(c.checked_ns) < REVALIDATE_AFTER_NS {
                return Ok(c.value.clone());
            }
        }
        self.store.check(&self.session_id)?;
        let backend = self.store.backend();
        let version = backend.doc_version(&self.session_id, Doc::ActionButtons)?;
        if let Some(c) = cache.as_mut().filter(|c| c.version == version) {
            c.checked_ns = now;
            return Ok(c.value.clone());
        }
        let (value, version) = match version {
            None => (ActionButtons::default(), None),
            Some(_) => match backend.doc_read(&self.session_id, Doc::ActionButtons)? {
                // Removed since: there are no buttons.
                None => (ActionButtons::default(), None),
                Some((bytes, v)) => {
                    let parsed: ButtonsFile = jsonfile::parse(&bytes, &self.path)?;
                    (ActionButtons(Arc::new(parsed)), Some(v))
                }
            },
        };
        *cache = Some(Cached {
            value: value.clone(),
            version,
            checked_ns: now,
        });
        Ok(value)
    }

    /// Whether no suggestion is stored.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.get()?.is_empty())
    }

    /// Replaces the suggestions with `buttons`, generated now for the event
    /// `for_event_seq` (0: not recorded), and returns them as stored.
    ///
    /// The file is written whole and durably; nothing of the previous file is
    /// read or kept (not even fields this library does not know), so a
    /// previous file that does not parse is replaced too.
    /// That loses nothing of value: suggestions are regenerated UI state, not
    /// conversation history, and `set` means "these are now the suggestions".
    pub fn set(&self, buttons: Vec<ActionButton>, for_event_seq: u64) -> Result<ActionButtons> {
        self.store.check(&self.session_id)?;
        let value = ActionButtons(Arc::new(ButtonsFile {
            buttons,
            generated_at: Some(timefmt::now_string()),
            for_event_seq,
            extra: Map::new(),
        }));
        let bytes = jsonfile::to_pretty(&*value.0, &self.path)?;
        self.write(value, DocChange::Write(bytes))
    }

    /// Removes the suggestions: deletes the file (a missing file is fine).
    pub fn clear(&self) -> Result<()> {
        self.store.check(&self.session_id)?;
        self.write(ActionButtons::default(), DocChange::Remove)
            .map(drop)
    }

    /// Deletes the file when the session goes away; the same as [`Self::clear`].
    pub fn delete(&self) -> Result<()> {
        self.clear()
    }

    /// Stores `change` and makes `value` the cache entry, both under this
    /// process's write mutex so that the entry is the last write's.
    fn write(&self, value: ActionButtons, change: DocChange) -> Result<ActionButtons> {
        let _writing = self.shared.write.lock();
        let mut change = Some(change);
        let version =
            self.store
                .backend()
                .doc_change(&self.session_id, Doc::ActionButtons, &mut |_| {
                    Ok(change.take().expect("a document change runs once"))
                })?;
        *self.shared.cache.lock() = Some(Cached {
            value: value.clone(),
            version,
            checked_ns: clock_ns(),
        });
        Ok(value)
    }
}

/// [`ActionButtonsStore::REVALIDATE_AFTER`] in ns.
const REVALIDATE_AFTER_NS: u64 = ActionButtonsStore::REVALIDATE_AFTER.as_nanos() as u64;

/// The cache clock, in ns.
fn clock_ns() -> u64 {
    Duration::try_from(clock_gettime(CLOCK)).map_or(0, |d| d.as_nanos() as u64)
}
