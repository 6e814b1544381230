//! The follow-up suggestions shown after an agent reply (`action_buttons.json`).
//!
//! # The two-tier cache
//! Every handle of one file in the process shares one memory entry: the parsed
//! buttons and the identity of the file version they came from (inode, size,
//! mtime in ns, from one `stat`). [`ActionButtonsStore::get`]:
//! - returns the entry without any system call when it was checked less than
//!   [`ActionButtonsStore::REVALIDATE_AFTER`] ago (read on the coarse monotonic
//!   clock, a few ns);
//! - otherwise `stat`s the file: same identity, the entry is current and is
//!   returned (no read, no parse); different identity, the file is read and
//!   parsed once and the entry replaced.
//!
//! Every write replaces the file by rename (or removes it), so the new version
//! always has a new inode and a change is never mistaken for the cached one.
//! Changes made through any handle of this process update the shared entry at
//! once; a change made by another process is seen by every `get` that starts
//! more than [`ActionButtonsStore::max_staleness`] after it (a few ms), without
//! waiting for any other event.
//!
//! Writes hold a process-wide mutex and an advisory `flock` on the hidden side
//! file `.action_buttons.lock`, so the identity recorded after a write is the
//! one of the file this handle wrote.

use std::fs;
use std::io::{self, Read};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use parking_lot::Mutex;
use rustix::time::{clock_getres, clock_gettime, ClockId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, IoContext, Result};
use crate::fsutil;
use crate::jsonfile::{self, Registry};
use crate::store::{files, Stamp, Store};
use crate::timefmt::{self, Timestamp};

/// Hidden side file whose `flock` serialises writes across processes.
const LOCK_FILE: &str = ".action_buttons.lock";

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
    /// Identity of the file read; `None` when there was no file.
    stamp: Option<Stamp>,
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
    lock_path: PathBuf,
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
        let dir = self.session_dir(session_id)?;
        let path = dir.join(files::ACTION_BUTTONS);
        Ok(ActionButtonsStore {
            store: self.clone(),
            session_id: session_id.to_string(),
            shared: SHARED.get(&path),
            lock_path: dir.join(LOCK_FILE),
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

    /// Path of `action_buttons.json`.
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
        self.store.existing_session_dir(&self.session_id)?;
        let stamp = match fs::symlink_metadata(&self.path) {
            Ok(m) => Some(Stamp::of(&m)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        if let Some(c) = cache.as_mut().filter(|c| c.stamp == stamp) {
            c.checked_ns = now;
            return Ok(c.value.clone());
        }
        let (value, stamp) = match stamp {
            None => (ActionButtons::default(), None),
            Some(_) => self.read()?,
        };
        *cache = Some(Cached {
            value: value.clone(),
            stamp,
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
        self.store.existing_session_dir(&self.session_id)?;
        let value = ActionButtons(Arc::new(ButtonsFile {
            buttons,
            generated_at: Some(timefmt::now_string()),
            for_event_seq,
            extra: Map::new(),
        }));
        let _held = jsonfile::lock_exclusive(&self.shared.write, &self.lock_path)?;
        jsonfile::write_pretty(&self.path, &*value.0)?;
        let stamp = Stamp::of(&fs::symlink_metadata(&self.path).at(&self.path)?);
        self.remember(value.clone(), Some(stamp));
        Ok(value)
    }

    /// Removes the suggestions: deletes the file (a missing file is fine).
    pub fn clear(&self) -> Result<()> {
        self.store.existing_session_dir(&self.session_id)?;
        let _held = jsonfile::lock_exclusive(&self.shared.write, &self.lock_path)?;
        fsutil::remove_if_exists(&self.path)?;
        self.remember(ActionButtons::default(), None);
        Ok(())
    }

    /// Deletes the file when the session goes away; the same as [`Self::clear`].
    pub fn delete(&self) -> Result<()> {
        self.clear()
    }

    /// Reads and parses the file, with the identity of the version read.
    fn read(&self) -> Result<(ActionButtons, Option<Stamp>)> {
        let mut file = match fsutil::private_open_options().read(true).open(&self.path) {
            Ok(f) => f,
            // Removed since the stat: there are no buttons.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok((ActionButtons::default(), None))
            }
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let meta = file.metadata().at(&self.path)?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut bytes).at(&self.path)?;
        let parsed: ButtonsFile = jsonfile::parse(&bytes, &self.path)?;
        Ok((ActionButtons(Arc::new(parsed)), Some(Stamp::of(&meta))))
    }

    /// Makes `value` the cache entry, checked now (called with the write lock held).
    fn remember(&self, value: ActionButtons, stamp: Option<Stamp>) {
        *self.shared.cache.lock() = Some(Cached {
            value,
            stamp,
            checked_ns: clock_ns(),
        });
    }
}

/// [`ActionButtonsStore::REVALIDATE_AFTER`] in ns.
const REVALIDATE_AFTER_NS: u64 = ActionButtonsStore::REVALIDATE_AFTER.as_nanos() as u64;

/// The cache clock, in ns.
fn clock_ns() -> u64 {
    Duration::try_from(clock_gettime(CLOCK)).map_or(0, |d| d.as_nanos() as u64)
}
