//! Session locks: one process at a time drives a session.
//!
//! # The lock file
//! A holder writes `<session>/.lock`, the JSON object of the reference format
//! (`pid`, `hostname`, `instance_id`, `client_type`, `started_at`,
//! `heartbeat`, `last_activity`, `status`, `status_message` when not empty),
//! indented by two spaces. `instance_id` is 16 random hex digits per
//! acquisition; it is how a holder recognises its own lock. A lock is
//! *stale* — taken over by any acquisition mode — when its holder runs on this
//! host and its process is gone, when its heartbeat is older than the stale
//! timeout, or when the file is not a readable lock at all (garbage is
//! reported in the log and treated as stale, never trusted and never a panic).
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
//! # Holding and losing a lock
//! A [`Lock`] is registered with the process-wide runtime
//! ([`crate::runtime`]), whose single scheduler thread refreshes the
//! heartbeat of every held lock. The heartbeat, the status setters,
//! [`Lock::is_valid`] and release all check that the file still carries the
//! handle's `instance_id`; the first of them to find it missing or replaced
//! marks the handle stolen and runs its [`Lock::on_stolen`] callback once.
//! Release removes the file only if it is still the handle's own; dropping a
//! held `Lock` releases it.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rustix::fs::{AtFlags, Mode as FsMode, OFlags};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::fsutil::{self, Durability};
use crate::runtime::{self, Runtime};
use crate::store::{files, Store};
use crate::timefmt::{self, Timestamp};

/// Side file whose `flock` serialises every change of `.lock`.
pub const GUARD_FILE: &str = ".lock.guard";
/// The holder's second copy of `.lock`, swapped in by heartbeats.
pub const NEXT_FILE: &str = ".lock.next";

/// What the lock holder is doing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum LockStatus {
    /// Between prompts: another client may force the lock.
    #[default]
    Idle,
    /// The agent is working on a prompt: only an interrupt may take the lock.
    Processing,
    /// The holder waits for the user to answer a permission request.
    WaitingForPermission,
    /// A status written by a newer writer, kept as is.
    Other(String),
}

impl LockStatus {
    /// The status as the file spells it.
    pub fn as_str(&self) -> &str {
        match self {
            LockStatus::Idle => "idle",
            LockStatus::Processing => "processing",
            LockStatus::WaitingForPermission => "waiting_for_permission",
            LockStatus::Other(s) => s,
        }
    }

    /// The status for a spelling; unknown ones become [`LockStatus::Other`].
    pub fn parse(s: &str) -> LockStatus {
        match s {
            "idle" => LockStatus::Idle,
            "processing" => LockStatus::Processing,
            "waiting_for_permission" => LockStatus::WaitingForPermission,
            other => LockStatus::Other(other.to_string()),
        }
    }
}

impl fmt::Display for LockStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for LockStatus {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LockStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(LockStatus::parse(&s))
    }
}

/// The content of a `.lock` file. Timestamps are kept as written (RFC 3339).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LockInfo {
    /// Process id of the holder.
    #[serde(default)]
    pub pid: i64,
    /// Host name of the holder.
    #[serde(default)]
    pub hostname: String,
    /// Random id of this acquisition (16 hex digits).
    #[serde(default)]
    pub instance_id: String,
    /// Kind of client holding the session (`web`, `cli`, …).
    #[serde(default)]
    pub client_type: String,
    /// When the lock was acquired.
    #[serde(default)]
    pub started_at: String,
    /// Last heartbeat.
    #[serde(default)]
    pub heartbeat: String,
    /// Last status change.
    #[serde(default)]
    pub last_activity: String,
    /// What the holder is doing.
    #[serde(default)]
    pub status: LockStatus,
    /// Detail of the status (empty: none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status_message: String,
    /// Fields this library does not know, kept when the holder rewrites the file.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl LockInfo {
    /// Parses a lock file's content.
    pub fn from_slice(bytes: &[u8]) -> std::result::Result<LockInfo, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The file content: 2-space indented JSON, no trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("lock info serializes")
    }

    /// `started_at` parsed (`None` if unparseable or the zero time).
    pub fn started_at_time(&self) -> Option<Timestamp> {
        timefmt::parse(&self.started_at)
    }

    /// `heartbeat` parsed (`None` if unparseable or the zero time).
    pub fn heartbeat_time(&self) -> Option<Timestamp> {
        timefmt::parse(&self.heartbeat)
    }

    /// `last_activity` parsed (`None` if unparseable or the zero time).
    pub fn last_activity_time(&self) -> Option<Timestamp> {
        timefmt::parse(&self.last_activity)
    }

    /// How long ago the last heartbeat was; `None` when it cannot be read.
    /// A heartbeat in the future (clock skew between hosts) has age zero.
    pub fn heartbeat_age(&self) -> Option<Duration> {
        let t = self.heartbeat_time()?;
        Some((timefmt::now() - t).to_std().unwrap_or(Duration::ZERO))
    }

    /// "pid 12 on host h as client web since <started_at>".
    fn holder(&self) -> String {
        let client = if self.client_type.is_empty() {
            "an unnamed client".to_string()
        } else {
            format!("client {}", self.client_type)
        };
        format!(
            "pid {} on host {} as {client} since {}",
            self.pid, self.hostname, self.started_at
        )
    }
}

/// Where a session's lock stands, as [`Store::check_lock_status`] sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockState {
    /// No lock file.
    Unlocked,
    /// The holder ran on this host and its process is gone.
    Dead,
    /// The heartbeat is older than the stale timeout.
    Stale,
    /// The lock file is not a readable lock; it is treated as stale.
    Corrupt,
    /// A live holder, between prompts.
    Idle,
    /// A live holder whose agent is working.
    Processing,
    /// A live holder waiting for a permission answer.
    WaitingForPermission,
    /// A live holder with a status this library does not know.
    OtherStatus,
}

impl LockState {
    /// Stable lower-case name of the state.
    pub fn as_str(&self) -> &'static str {
        match self {
            LockState::Unlocked => "unlocked",
            LockState::Dead => "dead",
            LockState::Stale => "stale",
            LockState::Corrupt => "corrupt",
            LockState::Idle => "idle",
            LockState::Processing => "processing",
            LockState::WaitingForPermission => "waiting_for_permission",
            LockState::OtherStatus => "other_status",
        }
    }

    /// Whether a live holder has the session.
    pub fn is_held(&self) -> bool {
        matches!(
            self,
            LockState::Idle
                | LockState::Processing
                | LockState::WaitingForPermission
                | LockState::OtherStatus
        )
    }
}

/// The answer of [`Store::check_lock_status`].
#[derive(Debug, Clone, PartialEq)]
pub struct LockCheck {
    /// Where the lock stands.
    pub state: LockState,
    /// A plain (try) acquisition would succeed.
    pub can_resume: bool,
    /// A force acquisition would succeed.
    pub can_force: bool,
    /// An interrupt would succeed (always, with the user's consent).
    pub can_interrupt: bool,
    /// The lock file's content, when it is readable.
    pub holder: Option<LockInfo>,
    /// A sentence for the user explaining the above.
    pub message: String,
}

/// How an acquisition treats a live holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Try,
    Force,
    Interrupt,
}

/// What `.lock` holds, judged against this host and the stale timeout.
#[derive(Debug)]
enum Holder {
    None,
    Corrupt(String),
    Dead(LockInfo),
    Stale(LockInfo, Option<Duration>),
    Live(LockInfo),
}

impl Holder {
    fn judge(read: Option<Parsed>, rt: &Runtime) -> Holder {
        let info = match read {
            None => return Holder::None,
            Some(Err(why)) => return Holder::Corrupt(why),
            Some(Ok(info)) => info,
        };
        if info.hostname == rt.hostname() && !holder_process_alive(&info, rt) {
            return Holder::Dead(info);
        }
        match info.heartbeat_age() {
            Some(age) if age <= rt.settings().stale_timeout => Holder::Live(info),
            age => Holder::Stale(info, age),
        }
    }

    fn state(&self) -> LockState {
        match self {
            Holder::None => LockState::Unlocked,
            Holder::Corrupt(_) => LockState::Corrupt,
            Holder::Dead(_) => LockState::Dead,
            Holder::Stale(..) => LockState::Stale,
            Holder::Live(info) => match info.status {
                LockStatus::Idle => LockState::Idle,
                LockStatus::Processing => LockState::Processing,
                LockStatus::WaitingForPermission => LockState::WaitingForPermission,
                LockStatus::Other(_) => LockState::OtherStatus,
            },
        }
    }

    /// `Ok` when `mode` may take the session from this holder.
    fn allows(&self, mode: Mode, session_id: &str) -> Result<()> {
        let Holder::Live(info) = self else {
            return Ok(());
        };
        let detail = format!("locked by {}", info.holder());
        let session_id = session_id.to_string();
        match (mode, &info.status) {
            (Mode::Interrupt, _) | (Mode::Force, LockStatus::Idle) => Ok(()),
            (Mode::Force, LockStatus::Processing) => {
                Err(Error::SessionProcessing { session_id, detail })
            }
            (Mode::Force, LockStatus::WaitingForPermission) => {
                Err(Error::WaitingForPermission { session_id, detail })
            }
            _ => Err(Error::SessionLocked { session_id, detail }),
        }
    }

    fn check(self) -> LockCheck {
        let state = self.state();
        let can_resume = !state.is_held();
        let can_force = can_resume || state == LockState::Idle;
        let (holder, message) = match self {
            Holder::None => (
                None,
                "Session is not locked and can be resumed.".to_string(),
            ),
            Holder::Corrupt(why) => (
                None,
                format!(
                    "Session lock file is unreadable ({why}); it is treated as stale and the session can be resumed."
                ),
            ),
            Holder::Dead(info) => {
                let m = format!(
                    "Session was locked by {}, but that process is no longer running; it can be resumed.",
                    info.holder()
                );
                (Some(info), m)
            }
            Holder::Stale(info, age) => {
                let since = age.map_or_else(
                    || "no readable heartbeat".to_string(),
                    |a| format!("no heartbeat for {}", human_duration(a)),
                );
                let m = format!(
                    "Session is locked by {}, but the lock is stale ({since}); it can be resumed.",
                    info.holder()
                );
                (Some(info), m)
            }
            Holder::Live(info) => {
                let with = |what: &str| {
                    if info.status_message.is_empty() {
                        what.to_string()
                    } else {
                        format!("{what} ({})", info.status_message)
                    }
                };
                let doing = match &info.status {
                    LockStatus::Idle => "is idle; it can be forced".to_string(),
                    LockStatus::Processing => {
                        format!("{}; it can only be interrupted", with("is processing"))
                    }
                    LockStatus::WaitingForPermission => format!(
                        "{}; it can only be interrupted",
                        with("is waiting for permission")
                    ),
                    LockStatus::Other(s) => format!(
                        "{}; it can only be interrupted",
                        with(&format!("has status {s:?}"))
                    ),
                };
                let m = format!("Session is locked by {} and {doing}.", info.holder());
                (Some(info), m)
            }
        };
        LockCheck {
            state,
            can_resume,
            can_force,
            can_interrupt: true,
            holder,
            message,
        }
    }
}

/// Whether the holder of `info` (on this host) still runs.
fn holder_process_alive(info: &LockInfo, rt: &Runtime) -> bool {
    let Some(pid) = i32::try_from(info.pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    if info.pid == i64::from(std::process::id()) {
        // This very process: alive only through a handle it still holds. A
        // file with our pid but an unknown instance was left by a handle that
        // was leaked, or by an earlier process that had the same pid.
        return instance_key(&info.instance_id).is_some_and(|k| rt.holds(k));
    }
    match rustix::process::test_kill_process(pid) {
        Err(rustix::io::Errno::SRCH) => false,
        // Success, EPERM (someone else's process) or anything unexpected: alive.
        _ => true,
    }
}

/// The registry key of an instance id (its 16 hex digits as a number).
pub(crate) fn instance_key(instance_id: &str) -> Option<u64> {
    if instance_id.len() != 16 {
        return None;
    }
    u64::from_str_radix(instance_id, 16).ok()
}

/// "3d 4h", "5m 7s", "12s".
fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    }
}

/// A lock file's content, or why it is not a lock.
type Parsed = std::result::Result<LockInfo, String>;

/// Parses the bytes of a `.lock`; `Err(reason)` when they are not a lock.
fn parse_lock(bytes: &[u8]) -> Parsed {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v @ Value::Object(_)) => serde_json::from_value(v).map_err(|e| e.to_string()),
        Ok(_) => Err("not a JSON object".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Reads `.lock`: `None` when absent, `Some(Err(reason))` when it is not a lock.
fn read_lock_file(path: &Path) -> Result<Option<Parsed>> {
    Ok(fsutil::read_optional(path)?.map(|bytes| parse_lock(&bytes)))
}

impl Store {
    /// Takes the session's lock unless a live holder has it (stale locks are taken over).
    pub fn try_acquire_lock(&self, session_id: &str, client_type: &str) -> Result<Lock> {
        self.acquire_lock(session_id, client_type, Mode::Try)
    }

    /// Takes the lock also from an idle live holder; refuses while it is processing
    /// or waiting for permission.
    pub fn force_acquire_lock(&self, session_id: &str, client_type: &str) -> Result<Lock> {
        self.acquire_lock(session_id, client_type, Mode::Force)
    }

    /// Takes the lock whatever the holder is doing (ask the user first).
    pub fn force_interrupt_lock(&self, session_id: &str, client_type: &str) -> Result<Lock> {
        self.acquire_lock(session_id, client_type, Mode::Interrupt)
    }

    /// The session's `.lock` as written, even if stale; `None` when there is none.
    /// A file that is not a readable lock gives [`Error::CorruptData`].
    pub fn lock_info(&self, session_id: &str) -> Result<Option<LockInfo>> {
        let path = self.existing_session_dir(session_id)?.join(files::LOCK);
        match read_lock_file(&path)? {
            None => Ok(None),
            Some(Ok(info)) => Ok(Some(info)),
            Some(Err(why)) => Err(Error::corrupt(&path, None, why)),
        }
    }

    /// Whether a live holder (not dead, not stale) has the session.
    pub fn is_locked(&self, session_id: &str) -> Result<bool> {
        Ok(self.check_lock_status(session_id)?.state.is_held())
    }

    /// Where the session's lock stands, what each acquisition mode would do,
    /// and a sentence saying so.
    pub fn check_lock_status(&self, session_id: &str) -> Result<LockCheck> {
        let path = self.existing_session_dir(session_id)?.join(files::LOCK);
        let read = read_lock_file(&path)?;
        if let Some(Err(why)) = &read {
            log::warn!("{}: not a readable lock file: {why}", path.display());
        }
        Ok(Holder::judge(read, runtime::get()).check())
    }

    fn acquire_lock(&self, session_id: &str, client_type: &str, mode: Mode) -> Result<Lock> {
        let dir = self.existing_session_dir(session_id)?;
        let rt = runtime::get();
        let lock_path = dir.join(files::LOCK);
        let sdir = SessionDir::open(&dir).map_err(|e| Error::io(&dir, e))?;
        let guard = sdir
            .guard()
            .map_err(|e| Error::io(dir.join(GUARD_FILE), e))?;
        let read = sdir
            .read_lock()
            .map_err(|e| Error::io(&lock_path, e))?
            .map(|bytes| parse_lock(&bytes));
        let holder = Holder::judge(read, rt);
        holder.allows(mode, session_id)?;
        match &holder {
            Holder::Corrupt(why) => log::warn!(
                "{}: replacing a lock file that is not a lock: {why}",
                lock_path.display()
            ),
            Holder::None => {}
            Holder::Dead(old) | Holder::Stale(old, _) | Holder::Live(old) => log::debug!(
                "{session_id}: taking over the lock ({}) held by {}",
                holder.state().as_str(),
                old.holder()
            ),
        }
        let (key, instance_id) = rt.new_instance();
        let now = timefmt::now_string();
        let info = LockInfo {
            pid: i64::from(std::process::id()),
            hostname: rt.hostname().to_string(),
            instance_id,
            client_type: client_type.to_string(),
            started_at: now.clone(),
            heartbeat: now.clone(),
            last_activity: now,
            status: LockStatus::Idle,
            status_message: String::new(),
            extra: Map::new(),
        };
        let bytes = info.to_json();
        fsutil::write_atomic(&lock_path, &bytes, Durability::Durable)?;
        let held = Arc::new(Held {
            key,
            session_id: session_id.to_string(),
            instance_id: info.instance_id.clone(),
            dir,
            state: Mutex::new(HeldState {
                info,
                written: bytes,
                spare_len: None,
                exchange: true,
                ended: None,
            }),
            on_stolen: Mutex::new(None),
        });
        // Registered while the guard is held, so any decision about this
        // session made after ours sees the lock as this process's.
        if let Err(e) = rt.register(held.clone()) {
            let _ = fsutil::remove_if_exists(&lock_path);
            return Err(Error::io(&held.dir, e));
        }
        drop(guard);
        Ok(Lock { held })
    }
}

/// A held session lock. Dropping it releases the lock.
pub struct Lock {
    held: Arc<Held>,
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("session_id", &self.held.session_id)
            .field("instance_id", &self.held.instance_id)
            .finish_non_exhaustive()
    }
}

impl Lock {
    /// The locked session.
    pub fn session_id(&self) -> &str {
        &self.held.session_id
    }

    /// The random id of this acquisition, as written in the lock file.
    pub fn instance_id(&self) -> &str {
        &self.held.instance_id
    }

    /// The lock file content as this handle last wrote it.
    pub fn info(&self) -> LockInfo {
        self.held.state.lock().info.clone()
    }

    /// Marks the session as processing a prompt, with a detail for other clients.
    pub fn set_processing(&self, message: &str) -> Result<()> {
        self.held.set_status(LockStatus::Processing, message)
    }

    /// Marks the session as idle (another client may then force the lock).
    pub fn set_idle(&self) -> Result<()> {
        self.held.set_status(LockStatus::Idle, "")
    }

    /// Marks the session as waiting for a permission answer, with a detail.
    pub fn set_waiting_permission(&self, message: &str) -> Result<()> {
        self.held
            .set_status(LockStatus::WaitingForPermission, message)
    }

    /// Releases the lock: removes the file if it is still this handle's.
    /// Releasing again, or after the lock was stolen, does nothing.
    pub fn release(&self) -> Result<()> {
        self.held.release_inner().map(drop)
    }

    /// Whether this handle still owns the lock (not released, not stolen).
    /// Reads the lock file; finding it stolen runs the `on_stolen` callback.
    pub fn is_valid(&self) -> bool {
        self.held.is_valid()
    }

    /// Sets the function run once, on whichever thread first finds the lock
    /// stolen (often the heartbeat thread: keep it short). Runs at once if
    /// the lock is already known to be stolen. Replaces an earlier callback.
    pub fn on_stolen(&self, callback: impl FnOnce() + Send + 'static) {
        *self.held.on_stolen.lock() = Some(Box::new(callback));
        let stolen = matches!(self.held.state.lock().ended, Some(End::Stolen));
        if stolen {
            self.held.run_stolen_callback();
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Err(e) = self.held.release_inner() {
            log::warn!("{}: lock not released on drop: {e}", self.held.session_id);
        }
    }
}

/// How a held lock ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Released,
    Stolen,
}

/// Mutable state of a held lock.
struct HeldState {
    /// The content this handle wants in the file.
    info: LockInfo,
    /// The bytes this handle last put at `.lock`.
    written: Vec<u8>,
    /// Length of `.lock.next`, when known.
    spare_len: Option<usize>,
    /// Whether exchanging names works here (else temp file + rename).
    exchange: bool,
    ended: Option<End>,
}

/// A held lock, shared by its [`Lock`] handle and the runtime's scheduler.
pub(crate) struct Held {
    key: u64,
    session_id: String,
    instance_id: String,
    dir: PathBuf,
    state: Mutex<HeldState>,
    /// Taken out when run, so each callback runs at most once.
    on_stolen: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

/// Outcome of one heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Heartbeat written.
    Written,
    /// Released meanwhile: nothing to do.
    Ended,
    /// Found stolen (the handle is now invalid).
    Stolen,
    /// Writing failed; the lock stays held and is retried next interval.
    Failed,
}

/// What a holder found under the guard.
enum Check {
    /// The file is still ours: the open directory, the guard, the bytes read.
    Owned(SessionDir, File, Vec<u8>),
    /// Missing, another holder's, or the session directory is gone.
    Lost,
}

impl Held {
    /// The registry key of this lock.
    pub(crate) fn key(&self) -> u64 {
        self.key
    }

    /// The locked session.
    pub(crate) fn session_id(&self) -> &str {
        &self.session_id
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join(files::LOCK)
    }

    /// Whether `bytes` (the current `.lock`) are this handle's; keeps the
    /// unknown fields a rewrite must preserve.
    fn owns(&self, st: &mut HeldState, bytes: &[u8]) -> bool {
        if bytes == st.written {
            return true;
        }
        match LockInfo::from_slice(bytes) {
            Ok(info) if info.instance_id == self.instance_id => {
                st.info.extra = info.extra;
                true
            }
            _ => false,
        }
    }

    /// Takes the guard and checks the file still carries this handle's instance.
    fn check(&self, st: &mut HeldState) -> Result<Check> {
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
            Ok(Some(bytes)) if self.owns(st, &bytes) => Ok(Check::Owned(sdir, guard, bytes)),
            Ok(_) => Ok(Check::Lost),
            Err(e) => Err(Error::io(self.lock_path(), e)),
        }
    }

    /// Rewrites `.lock` with `st.info` (guard held, ownership checked; `old`
    /// is the content being replaced).
    fn rewrite(&self, st: &mut HeldState, sdir: &SessionDir, old: &[u8]) -> Result<()> {
        let bytes = st.info.to_json();
        if st.exchange {
            match sdir.swap_in(&bytes, st.spare_len) {
                Ok(()) => {
                    st.spare_len = Some(old.len());
                    st.written = bytes;
                    return Ok(());
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
        Ok(())
    }

    /// Marks the handle stolen and leaves the registry; the caller runs the
    /// callback once its own locks are dropped.
    fn mark_stolen(&self, st: &mut HeldState) {
        st.ended = Some(End::Stolen);
        runtime::get().unregister(self.key);
        log::info!(
            "{}: lock {} was taken by another holder",
            self.session_id,
            self.instance_id
        );
    }

    /// Runs the `on_stolen` callback, if one is set. Call with no lock held.
    pub(crate) fn run_stolen_callback(&self) {
        let Some(cb) = self.on_stolen.lock().take() else {
            return;
        };
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(cb)).is_err() {
            log::error!("{}: the on_stolen callback panicked", self.session_id);
        }
    }

    /// Checks ownership under the guard and, if the lock is still ours,
    /// applies `change` to the info and rewrites the file; if writing fails,
    /// `undo` gets what `change` returned to put the info back. Finding the
    /// lock stolen marks the handle, runs the callback and gives
    /// [`Error::LockNotHeld`].
    fn update<U>(
        &self,
        change: impl FnOnce(&mut LockInfo) -> U,
        undo: impl FnOnce(&mut LockInfo, U),
    ) -> Result<()> {
        let result = {
            let mut st = self.state.lock();
            if st.ended.is_some() {
                return Err(Error::LockNotHeld(self.session_id.clone()));
            }
            match self.check(&mut st)? {
                Check::Lost => {
                    self.mark_stolen(&mut st);
                    Err(Error::LockNotHeld(self.session_id.clone()))
                }
                Check::Owned(sdir, _guard, old) => {
                    let saved = change(&mut st.info);
                    let r = self.rewrite(&mut st, &sdir, &old);
                    if r.is_err() {
                        undo(&mut st.info, saved);
                    }
                    r
                }
            }
        };
        if matches!(result, Err(Error::LockNotHeld(_))) {
            self.run_stolen_callback();
        }
        result
    }

    /// One heartbeat: refreshes `heartbeat` if the lock is still ours.
    pub(crate) fn beat(&self) -> Beat {
        let result = self.update(
            |info| std::mem::replace(&mut info.heartbeat, timefmt::now_string()),
            |info, before| info.heartbeat = before,
        );
        match result {
            Ok(()) => Beat::Written,
            Err(Error::LockNotHeld(_)) if self.state.lock().ended == Some(End::Stolen) => {
                Beat::Stolen
            }
            Err(Error::LockNotHeld(_)) => Beat::Ended,
            Err(e) => {
                log::warn!("{}: heartbeat not written: {e}", self.session_id);
                Beat::Failed
            }
        }
    }

    fn set_status(&self, status: LockStatus, message: &str) -> Result<()> {
        self.update(
            |info| {
                (
                    std::mem::replace(&mut info.status, status),
                    std::mem::replace(&mut info.status_message, message.to_string()),
                    std::mem::replace(&mut info.last_activity, timefmt::now_string()),
                )
            },
            |info, (status, message, activity)| {
                info.status = status;
                info.status_message = message;
                info.last_activity = activity;
            },
        )
    }

    /// Releases the lock (see [`Lock::release`]); `Ok(true)` when this call
    /// ended the hold.
    pub(crate) fn release_inner(&self) -> Result<bool> {
        let mut st = self.state.lock();
        if st.ended.is_some() {
            return Ok(false);
        }
        // Whatever happens below, this handle stops holding the lock.
        st.ended = Some(End::Released);
        runtime::get().unregister(self.key);
        match self.check(&mut st)? {
            Check::Owned(sdir, _guard, _) => {
                sdir.remove(files::LOCK)
                    .map_err(|e| Error::io(self.lock_path(), e))?;
                sdir.remove(NEXT_FILE)
                    .map_err(|e| Error::io(self.dir.join(NEXT_FILE), e))?;
                log::debug!("{}: lock {} released", self.session_id, self.instance_id);
            }
            Check::Lost => log::debug!(
                "{}: lock {} was no longer ours at release",
                self.session_id,
                self.instance_id
            ),
        }
        Ok(true)
    }

    fn is_valid(&self) -> bool {
        {
            let mut st = self.state.lock();
            if st.ended.is_some() {
                return false;
            }
            match fsutil::read_optional(&self.lock_path()) {
                Ok(Some(bytes)) if self.owns(&mut st, &bytes) => return true,
                Ok(_) => {}
                // Cannot tell: not valid as far as the caller can rely on.
                Err(_) => return false,
            }
            self.mark_stolen(&mut st);
        }
        self.run_stolen_callback();
        false
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

#[cfg(test)]
mod tests {
    use super::*;

    fn live(status: LockStatus, message: &str) -> Holder {
        Holder::Live(LockInfo {
            pid: 42,
            hostname: "h".into(),
            instance_id: "0123456789abcdef".into(),
            client_type: "web".into(),
            started_at: "2026-02-01T12:00:00Z".into(),
            status,
            status_message: message.into(),
            ..Default::default()
        })
    }

    #[test]
    fn handles_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Lock>();
        send_sync::<LockInfo>();
    }

    #[test]
    fn status_spellings_round_trip() {
        for s in ["idle", "processing", "waiting_for_permission", "compacting"] {
            let st = LockStatus::parse(s);
            assert_eq!(st.as_str(), s);
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(serde_json::from_str::<LockStatus>(&json).unwrap(), st);
        }
        assert_eq!(
            LockStatus::parse("compacting"),
            LockStatus::Other("compacting".into())
        );
    }

    #[test]
    fn what_each_mode_may_take() {
        use LockStatus::*;
        let cases = [
            (Idle, [false, true, true]),
            (Processing, [false, false, true]),
            (WaitingForPermission, [false, false, true]),
            (Other("x".into()), [false, false, true]),
        ];
        for (status, allowed) in cases {
            let h = live(status.clone(), "");
            for (mode, ok) in [Mode::Try, Mode::Force, Mode::Interrupt]
                .into_iter()
                .zip(allowed)
            {
                assert_eq!(h.allows(mode, "s").is_ok(), ok, "{status:?} {mode:?}");
            }
            let c = h.check();
            assert_eq!(
                [c.can_resume, c.can_force, c.can_interrupt],
                allowed,
                "{status:?}"
            );
        }
        match live(Processing, "m").allows(Mode::Force, "s") {
            Err(Error::SessionProcessing { detail, .. }) => assert_eq!(
                detail,
                "locked by pid 42 on host h as client web since 2026-02-01T12:00:00Z"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            live(WaitingForPermission, "").allows(Mode::Force, "s"),
            Err(Error::WaitingForPermission { .. })
        ));
        for h in [
            Holder::None,
            Holder::Corrupt("bad".into()),
            Holder::Dead(LockInfo::default()),
            Holder::Stale(LockInfo::default(), None),
        ] {
            assert!(h.allows(Mode::Try, "s").is_ok());
            let c = h.check();
            assert!(c.can_resume && c.can_force && c.can_interrupt && !c.state.is_held());
        }
    }

    #[test]
    fn sentences() {
        let m = live(LockStatus::WaitingForPermission, "Allow rm?")
            .check()
            .message;
        assert_eq!(
            m,
            "Session is locked by pid 42 on host h as client web since 2026-02-01T12:00:00Z \
             and is waiting for permission (Allow rm?); it can only be interrupted."
        );
        let m = Holder::Stale(
            LockInfo::default(),
            Some(Duration::from_secs(3 * 3600 + 61)),
        )
        .check()
        .message;
        assert!(m.contains("stale (no heartbeat for 3h 1m)"), "{m}");
        assert_eq!(human_duration(Duration::from_secs(59)), "59s");
        assert_eq!(human_duration(Duration::from_secs(61)), "1m 1s");
        assert_eq!(human_duration(Duration::from_secs(90_000)), "1d 1h");
    }

    #[test]
    fn garbage_is_reported_not_parsed() {
        assert!(parse_lock(b"{").is_err());
        assert!(parse_lock(b"null").is_err());
        assert!(parse_lock(b"{\"heartbeat\": 5}").is_err());
        let info = parse_lock(b"{\"pid\": 7, \"future\": [1]}").unwrap();
        assert_eq!((info.pid, info.extra.len()), (7, 1));
        assert_eq!(instance_key("00000000000000ff"), Some(255));
        assert_eq!(instance_key("ff"), None);
        assert_eq!(instance_key("zzzzzzzzzzzzzzzz"), None);
    }
}
