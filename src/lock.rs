//! Session locks: one process at a time drives a session.
//!
//! # The stored lock
//! A holder stores the JSON object of the reference format (`pid`,
//! `hostname`, `instance_id`, `client_type`, `started_at`, `heartbeat`,
//! `last_activity`, `status`, `status_message` when not empty): the file
//! `<session>/.lock` of a filesystem store, a row of a server store.
//! `instance_id` is 16 random hex digits per acquisition; it is how a holder
//! recognises its own lock. A lock is *stale* — taken over by any
//! acquisition mode — when its holder runs on this host and its process is
//! gone, when its heartbeat is older than the stale timeout (judged by the
//! clock that stamps heartbeats: the server's for a server store, so hosts
//! with skewed clocks agree), or when it is not a readable lock at all
//! (garbage is reported in the log and treated as stale, never trusted and
//! never a panic). Every acquisition reads and decides under the backend's
//! exclusive access to the session's lock (an `flock` for the filesystem, a
//! row lock on the server), so two racers never both win.
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
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::backend::{Lease, LockRecord};
use crate::error::{Error, Result};
use crate::runtime::{self, Runtime};
use crate::store::Store;
use crate::timefmt::{self, Timestamp};

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
    fn judge(read: Option<LockRecord>, rt: &Runtime) -> Holder {
        let Some(record) = read else {
            return Holder::None;
        };
        let info = match record.info {
            Err(why) => return Holder::Corrupt(why),
            Ok(info) => info,
        };
        if info.hostname == rt.hostname() && !holder_process_alive(&info, rt) {
            return Holder::Dead(info);
        }
        match record.heartbeat_age {
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

/// Parses the bytes of a stored lock; `Err(reason)` when they are not a lock.
pub(crate) fn parse_lock(bytes: &[u8]) -> std::result::Result<LockInfo, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v @ Value::Object(_)) => serde_json::from_value(v).map_err(|e| e.to_string()),
        Ok(_) => Err("not a JSON object".to_string()),
        Err(e) => Err(e.to_string()),
    }
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

    /// The session's lock as written, even if stale; `None` when there is none.
    /// A stored lock that is not readable gives [`Error::CorruptData`].
    pub fn lock_info(&self, session_id: &str) -> Result<Option<LockInfo>> {
        self.check(session_id)?;
        match self.backend().read_lock(session_id)? {
            None => Ok(None),
            Some(LockRecord { info: Ok(info), .. }) => Ok(Some(info)),
            Some(LockRecord {
                info: Err(why),
                place,
                ..
            }) => Err(Error::corrupt(place, None, why)),
        }
    }

    /// Whether a live holder (not dead, not stale) has the session.
    pub fn is_locked(&self, session_id: &str) -> Result<bool> {
        Ok(self.check_lock_status(session_id)?.state.is_held())
    }

    /// Where the session's lock stands, what each acquisition mode would do,
    /// and a sentence saying so.
    pub fn check_lock_status(&self, session_id: &str) -> Result<LockCheck> {
        self.check(session_id)?;
        let read = self.backend().read_lock(session_id)?;
        if let Some(LockRecord {
            info: Err(why),
            place,
            ..
        }) = &read
        {
            log::warn!("{}: not a readable lock: {why}", place.display());
        }
        Ok(Holder::judge(read, runtime::get()).check())
    }

    fn acquire_lock(&self, session_id: &str, client_type: &str, mode: Mode) -> Result<Lock> {
        self.check(session_id)?;
        let rt = runtime::get();
        let mut guard = self.backend().lock_guard(session_id)?;
        let holder = Holder::judge(guard.read()?, rt);
        holder.allows(mode, session_id)?;
        match &holder {
            Holder::Corrupt(why) => {
                log::warn!("{session_id}: replacing a stored lock that is not a lock: {why}")
            }
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
        let lease = guard.write(&info)?;
        let held = Arc::new(Held {
            key,
            session_id: session_id.to_string(),
            instance_id: info.instance_id.clone(),
            lease,
            state: Mutex::new(HeldState { info, ended: None }),
            on_stolen: Mutex::new(None),
        });
        // Registered before the exclusive access ends, so any decision about
        // this session made after ours sees the lock as this process's.
        if let Err(e) = rt.register(held.clone()) {
            return Err(Error::io(self.location(), e));
        }
        if let Err(e) = guard.commit() {
            held.state.lock().ended = Some(End::Released);
            rt.unregister(key);
            return Err(e);
        }
        Ok(Lock { held })
    }
}

/// A held lock. Dropping it releases the lock.
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

    /// The random id of this acquisition, as written in the lock.
    pub fn instance_id(&self) -> &str {
        &self.held.instance_id
    }

    /// The lock as this handle last wrote it.
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

    /// Releases the lock: removes it if it is still this handle's.
    /// Releasing again, or after the lock was stolen, does nothing.
    pub fn release(&self) -> Result<()> {
        self.held.release_inner().map(drop)
    }

    /// Whether this handle still owns the lock (not released, not stolen).
    /// Reads the stored lock; finding it stolen runs the `on_stolen` callback.
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
    /// The lock this handle wants stored.
    info: LockInfo,
    ended: Option<End>,
}

/// A held lock, shared by its [`Lock`] handle and the runtime's scheduler.
pub(crate) struct Held {
    key: u64,
    session_id: String,
    instance_id: String,
    lease: Box<dyn Lease>,
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

impl Held {
    /// The registry key of this lock.
    pub(crate) fn key(&self) -> u64 {
        self.key
    }

    /// The locked session.
    pub(crate) fn session_id(&self) -> &str {
        &self.session_id
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

    /// Applies `change` to the info and stores it if the lock is still this
    /// handle's; when it is not, or storing fails, `undo` gets what `change`
    /// returned to put the info back. Finding the lock stolen marks the
    /// handle, runs the callback and gives [`Error::LockNotHeld`].
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
            let saved = change(&mut st.info);
            match self.lease.rewrite(&mut st.info) {
                Ok(true) => return Ok(()),
                Ok(false) => {
                    undo(&mut st.info, saved);
                    self.mark_stolen(&mut st);
                    Err(Error::LockNotHeld(self.session_id.clone()))
                }
                Err(e) => {
                    undo(&mut st.info, saved);
                    return Err(e);
                }
            }
        };
        self.run_stolen_callback();
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
        if self.lease.remove()? {
            log::debug!("{}: lock {} released", self.session_id, self.instance_id);
        } else {
            log::debug!(
                "{}: lock {} was no longer ours at release",
                self.session_id,
                self.instance_id
            );
        }
        Ok(true)
    }

    fn is_valid(&self) -> bool {
        {
            let mut st = self.state.lock();
            if st.ended.is_some() {
                return false;
            }
            match self.lease.owned(&mut st.info) {
                Ok(true) => return true,
                Ok(false) => {}
                // Cannot tell: not valid as far as the caller can rely on.
                Err(_) => return false,
            }
            self.mark_stolen(&mut st);
        }
        self.run_stolen_callback();
        false
    }
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
