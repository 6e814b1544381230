//! The process-wide runtime: the background machinery shared by every store
//! and handle of the process, created on first use.
//!
//! # Components
//! One `Runtime` value lives in a `OnceLock` for the life of the process. It
//! holds the settings, the host identity, and one field per background
//! component, each started lazily by its first user and stopped by
//! [`shutdown`]; the heartbeat scheduler of held locks is such a component.
//! The auxiliary session and its title worker keep their process-wide state
//! in [`crate::auxiliary`] (started lazily there); [`shutdown`] stops them
//! too, so one call at exit stops everything.
//!
//! # Heartbeat scheduler
//! A single thread, named `ags-heartbeat`, refreshes the heartbeat of every
//! lock the process holds — no thread per lock. It keeps a min-heap of
//! (due time, lock key) and sleeps on a condition variable until the earliest
//! due time or until a lock is registered. Locks taken together would all
//! fall due together, so each lock's first heartbeat comes at a random point
//! of the second half of its first interval (drawn from its random instance
//! id); after that it keeps that phase, one interval apart, which spreads
//! the work evenly. Heartbeats due within a hundredth of the interval (10 ms
//! at most) of each other are written in one wake-up, early rather than late.
//! A heartbeat opens the session directory once and works relative to it: the
//! guard, a read, an in-place write and a name exchange (see
//! [`crate::lock`]). When a lock is
//! found stolen its `on_stolen` callback runs on this thread with no internal
//! lock held. [`heartbeat_stats`] reports counts and how late heartbeats ran.
//!
//! # Shutdown and process exit
//! Rust runs no destructors for statics at exit, and registering an `atexit`
//! hook needs unsafe code, which this crate forbids. So: dropping a held
//! [`crate::Lock`] releases it; [`shutdown`] releases every lock and stops the
//! scheduler thread, and hosts call it before they exit (the C and Python
//! faces do so from their own exit hooks). The runtime starts again on next
//! use. A lock left by a process that exited without either is recognised as
//! dead by the next acquisition on the same host (its pid is gone) and taken
//! over at once; on other hosts it goes stale after the stale timeout.
//!
//! # Signals
//! The library installs no signal handler on its own: a handler for SIGINT,
//! SIGTERM or SIGHUP would replace or shadow the host's (Python's
//! `KeyboardInterrupt`, a server's graceful shutdown). A host without handlers
//! of its own may opt in with [`release_locks_on_signals`], which handles only
//! the signals whose disposition is still the default — never one the host
//! catches or ignores — and, after releasing every lock, ends the process as
//! the default action would. Hosts with handlers call [`cleanup_all_locks`]
//! or [`shutdown`] from them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};

use crate::error::{Error, Result};
use crate::ids;
use crate::lock::{instance_key, Beat, Held};

/// Process-wide settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How often a held lock's heartbeat is refreshed (default 10 s).
    pub heartbeat_interval: Duration,
    /// Age of a heartbeat after which a lock is stale (default 60 s).
    pub stale_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            heartbeat_interval: Duration::from_secs(10),
            stale_timeout: Duration::from_secs(60),
        }
    }
}

/// Shortest heartbeat interval accepted.
pub const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(10);
/// Longest heartbeat interval accepted.
pub const MAX_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(3600);
/// Longest stale timeout accepted.
pub const MAX_STALE_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);

impl Settings {
    /// Checks the values: the interval within bounds, and the stale timeout at
    /// least twice the interval, so one late heartbeat never makes a live lock
    /// look stale.
    pub fn validate(&self) -> Result<()> {
        let (i, s) = (self.heartbeat_interval, self.stale_timeout);
        if !(MIN_HEARTBEAT_INTERVAL..=MAX_HEARTBEAT_INTERVAL).contains(&i) {
            return Err(Error::invalid(format!(
                "heartbeat interval {i:?} is outside {MIN_HEARTBEAT_INTERVAL:?}..={MAX_HEARTBEAT_INTERVAL:?}"
            )));
        }
        if s < i * 2 || s > MAX_STALE_TIMEOUT {
            return Err(Error::invalid(format!(
                "stale timeout {s:?} must be at least twice the heartbeat interval ({i:?}) and at most {MAX_STALE_TIMEOUT:?}"
            )));
        }
        Ok(())
    }
}

/// Heartbeat counters and lateness since the runtime started (or
/// [`reset_heartbeat_stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeartbeatStats {
    /// Heartbeats written.
    pub heartbeats: u64,
    /// Locks the scheduler found stolen (or their session gone).
    pub stolen: u64,
    /// Heartbeats that failed to write (retried next interval).
    pub failures: u64,
    /// Median lateness over the most recent heartbeats (up to 65,536).
    pub lateness_p50: Duration,
    /// 99th-percentile lateness over the same heartbeats.
    pub lateness_p99: Duration,
    /// Largest lateness over the same heartbeats.
    pub lateness_max: Duration,
}

/// How many recent lateness samples [`HeartbeatStats`] covers.
const LATENESS_WINDOW: usize = 65_536;
/// Most heartbeats taken from the heap per lock of the scheduler's mutex.
const MAX_BATCH: usize = 256;
/// Longest a heartbeat may run before it is due (a hundredth of the interval
/// at most), so that one wake-up of the scheduler serves many locks.
const MAX_EARLY: Duration = Duration::from_millis(10);

/// The process-wide runtime.
pub(crate) struct Runtime {
    settings: RwLock<Settings>,
    hostname: String,
    heartbeats: Scheduler,
}

/// The heartbeat scheduler: held locks, their due times, the thread.
struct Scheduler {
    state: Mutex<SchedState>,
    wake: Condvar,
}

struct SchedState {
    /// Every lock the process holds, by key.
    locks: HashMap<u64, Arc<Held>>,
    /// When each lock's next heartbeat is due (entries of released locks are
    /// dropped when they come up).
    due: BinaryHeap<Reverse<(Instant, u64)>>,
    thread: Option<JoinHandle<()>>,
    /// A scheduler thread runs while this matches the generation it started with.
    generation: u64,
    stats: StatsState,
}

#[derive(Default)]
struct StatsState {
    heartbeats: u64,
    stolen: u64,
    failures: u64,
    /// Recent lateness in µs, a ring of [`LATENESS_WINDOW`] entries.
    lateness_us: Vec<u32>,
    next: usize,
}

impl StatsState {
    fn record(&mut self, beat: Beat, lateness: Duration) {
        match beat {
            Beat::Written => self.heartbeats += 1,
            Beat::Stolen => self.stolen += 1,
            Beat::Failed => self.failures += 1,
            Beat::Ended => return,
        }
        let us = u32::try_from(lateness.as_micros()).unwrap_or(u32::MAX);
        if self.lateness_us.len() < LATENESS_WINDOW {
            self.lateness_us.push(us);
        } else {
            self.lateness_us[self.next] = us;
        }
        self.next = (self.next + 1) % LATENESS_WINDOW;
    }

    fn snapshot(&self) -> HeartbeatStats {
        let mut sorted = self.lateness_us.clone();
        sorted.sort_unstable();
        let pick = |q: f64| -> Duration {
            if sorted.is_empty() {
                return Duration::ZERO;
            }
            let i = ((sorted.len() - 1) as f64 * q).round() as usize;
            Duration::from_micros(u64::from(sorted[i]))
        };
        HeartbeatStats {
            heartbeats: self.heartbeats,
            stolen: self.stolen,
            failures: self.failures,
            lateness_p50: pick(0.5),
            lateness_p99: pick(0.99),
            lateness_max: pick(1.0),
        }
    }
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, created on first use.
pub(crate) fn get() -> &'static Runtime {
    RUNTIME.get_or_init(|| Runtime {
        settings: RwLock::new(Settings::default()),
        hostname: local_hostname(),
        heartbeats: Scheduler {
            state: Mutex::new(SchedState {
                locks: HashMap::new(),
                due: BinaryHeap::new(),
                thread: None,
                generation: 0,
                stats: StatsState::default(),
            }),
            wake: Condvar::new(),
        },
    })
}

/// This host's name, as lock files record it: `$AGENTSESSION_HOSTNAME` when
/// set (hosts whose names collide, containers), else the system's.
fn local_hostname() -> String {
    match std::env::var("AGENTSESSION_HOSTNAME") {
        Ok(name) if !name.is_empty() => name,
        _ => rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned(),
    }
}

/// A lock's first heartbeat delay: a point in the second half of the
/// interval, taken from the lock's random key so that phases spread.
fn first_delay(interval: Duration, key: u64) -> Duration {
    let frac = (key >> 11) as f64 / (1u64 << 53) as f64;
    interval.mul_f64(0.5 + 0.5 * frac)
}

impl Runtime {
    /// The current settings.
    pub(crate) fn settings(&self) -> Settings {
        *self.settings.read()
    }

    /// This host's name.
    pub(crate) fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Whether this process holds the lock with this key.
    pub(crate) fn holds(&self, key: u64) -> bool {
        self.heartbeats.state.lock().locks.contains_key(&key)
    }

    /// A fresh instance id (16 random hex digits) and its key, unused in this process.
    pub(crate) fn new_instance(&self) -> (u64, String) {
        loop {
            let id = ids::random_hex(8);
            if let Some(key) = instance_key(&id) {
                if key != 0 && !self.holds(key) {
                    return (key, id);
                }
            }
        }
    }

    /// Adds a held lock to the scheduler, starting its thread if needed.
    pub(crate) fn register(&'static self, held: Arc<Held>) -> io::Result<()> {
        let key = held.key();
        let first = Instant::now() + first_delay(self.settings().heartbeat_interval, key);
        let mut s = self.heartbeats.state.lock();
        if s.thread.is_none() {
            s.thread = Some(self.spawn_scheduler(s.generation)?);
        }
        let wake = s.due.peek().is_none_or(|Reverse((t, _))| first < *t);
        s.locks.insert(key, held);
        s.due.push(Reverse((first, key)));
        drop(s);
        if wake {
            self.heartbeats.wake.notify_one();
        }
        Ok(())
    }

    /// Removes a lock from the scheduler.
    pub(crate) fn unregister(&self, key: u64) {
        self.heartbeats.state.lock().locks.remove(&key);
    }

    fn spawn_scheduler(&'static self, generation: u64) -> io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("ags-heartbeat".into())
            .spawn(move || self.run_scheduler(generation))
    }

    /// The scheduler thread's loop.
    fn run_scheduler(&self, generation: u64) {
        let sched = &self.heartbeats;
        let mut batch: Vec<(Instant, Arc<Held>)> = Vec::with_capacity(MAX_BATCH);
        let mut done: Vec<(u64, Instant, Beat, Instant)> = Vec::with_capacity(MAX_BATCH);
        loop {
            let interval = self.settings().heartbeat_interval;
            let mut s = sched.state.lock();
            for (key, due, beat, finished) in done.drain(..) {
                s.stats
                    .record(beat, finished.saturating_duration_since(due));
                if matches!(beat, Beat::Written | Beat::Failed) && s.locks.contains_key(&key) {
                    // Keep the lock's phase; if far behind, start a new one.
                    let mut next = due + interval;
                    if next <= finished {
                        next = finished + interval;
                    }
                    s.due.push(Reverse((next, key)));
                }
            }
            loop {
                if s.generation != generation {
                    return;
                }
                match s.due.peek() {
                    Some(&Reverse((t, _))) if t <= Instant::now() => break,
                    Some(&Reverse((t, _))) => {
                        sched.wake.wait_until(&mut s, t);
                    }
                    None => sched.wake.wait(&mut s),
                }
            }
            // Heartbeats due very soon go with this one: one wake-up serves many.
            let horizon = Instant::now() + (interval / 100).min(MAX_EARLY);
            while batch.len() < MAX_BATCH {
                match s.due.peek() {
                    Some(&Reverse((t, key))) if t <= horizon => {
                        s.due.pop();
                        if let Some(held) = s.locks.get(&key) {
                            batch.push((t, held.clone()));
                        }
                    }
                    _ => break,
                }
            }
            drop(s);
            for (due, held) in batch.drain(..) {
                let beat = held.beat();
                done.push((held.key(), due, beat, Instant::now()));
            }
        }
    }

    /// Applies new settings; a shorter interval brings due heartbeats forward.
    fn set_settings(&self, new: Settings) {
        let old = std::mem::replace(&mut *self.settings.write(), new);
        if new.heartbeat_interval < old.heartbeat_interval {
            let now = Instant::now();
            let mut s = self.heartbeats.state.lock();
            let due = std::mem::take(&mut s.due);
            s.due = due
                .into_iter()
                .map(|Reverse((t, key))| {
                    Reverse((t.min(now + first_delay(new.heartbeat_interval, key)), key))
                })
                .collect();
            drop(s);
            self.heartbeats.wake.notify_one();
        }
    }

    /// Releases every held lock; returns how many this call released.
    fn release_all(&self) -> usize {
        let held: Vec<Arc<Held>> = self
            .heartbeats
            .state
            .lock()
            .locks
            .values()
            .cloned()
            .collect();
        let mut released = 0;
        for h in held {
            match h.release_inner() {
                Ok(true) => released += 1,
                Ok(false) => {}
                Err(e) => {
                    released += 1;
                    log::warn!("{}: lock not released cleanly: {e}", h.session_id());
                }
            }
        }
        released
    }

    /// Stops the scheduler thread (joining it unless called from it).
    fn stop_scheduler(&'static self) {
        let handle = {
            let mut s = self.heartbeats.state.lock();
            s.generation += 1;
            s.thread.take()
        };
        self.heartbeats.wake.notify_all();
        if let Some(h) = handle {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
        // Locks taken while shutting down still need their heartbeats.
        let mut s = self.heartbeats.state.lock();
        if !s.locks.is_empty() && s.thread.is_none() {
            match self.spawn_scheduler(s.generation) {
                Ok(h) => s.thread = Some(h),
                Err(e) => log::error!("heartbeat thread not restarted: {e}"),
            }
        }
    }
}

/// Sets the heartbeat interval and stale timeout for the whole process.
/// Rejects an interval outside 10 ms..=1 h, and a stale timeout shorter than
/// twice the interval or longer than 7 days, with [`Error::InvalidArgument`].
pub fn configure(heartbeat_interval: Duration, stale_timeout: Duration) -> Result<()> {
    let new = Settings {
        heartbeat_interval,
        stale_timeout,
    };
    new.validate()?;
    get().set_settings(new);
    Ok(())
}

/// The current settings.
pub fn settings() -> Settings {
    get().settings()
}

/// Releases every lock this process holds; returns how many were released.
/// Their handles become invalid; dropping them afterwards does nothing.
pub fn cleanup_all_locks() -> usize {
    RUNTIME.get().map_or(0, Runtime::release_all)
}

/// How many locks this process holds.
pub fn active_lock_count() -> usize {
    RUNTIME
        .get()
        .map_or(0, |rt| rt.heartbeats.state.lock().locks.len())
}

/// Heartbeat counters and recent lateness.
pub fn heartbeat_stats() -> HeartbeatStats {
    RUNTIME
        .get()
        .map(|rt| rt.heartbeats.state.lock().stats.snapshot())
        .unwrap_or_default()
}

/// Clears the heartbeat counters and lateness samples, to measure from now.
pub fn reset_heartbeat_stats() {
    if let Some(rt) = RUNTIME.get() {
        rt.heartbeats.state.lock().stats = StatsState::default();
    }
}

/// Stops everything the process-wide runtime owns: releases every lock,
/// stops the heartbeat thread, and shuts the auxiliary session down (its
/// title worker first, then the agent). Call it before the process exits;
/// the runtime starts again if used afterwards.
pub fn shutdown() {
    if let Some(rt) = RUNTIME.get() {
        rt.release_all();
        rt.stop_scheduler();
    }
    crate::auxiliary::shutdown();
}

/// Opt-in for hosts without signal handlers of their own: SIGINT, SIGTERM and
/// SIGHUP, where their disposition is still the default, release every held
/// lock and then end the process as the default action would. Signals the
/// host catches or ignores are left alone. Returns the signals now handled
/// (on systems without `/proc/self/status`, none). Calling it again returns
/// the same list.
pub fn release_locks_on_signals() -> Result<Vec<i32>> {
    static HANDLED: Mutex<Option<Vec<i32>>> = Mutex::new(None);
    let mut handled = HANDLED.lock();
    if let Some(done) = &*handled {
        return Ok(done.clone());
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mask = |field: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(u64::MAX)
    };
    let taken = mask("SigIgn:") | mask("SigCgt:");
    let signals: Vec<i32> = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP]
        .into_iter()
        .filter(|&sig| taken & (1u64 << (sig - 1)) == 0)
        .collect();
    if !signals.is_empty() {
        let path = std::path::Path::new("<signal handlers>");
        let mut iter =
            signal_hook::iterator::Signals::new(&signals).map_err(|e| Error::io(path, e))?;
        std::thread::Builder::new()
            .name("ags-signals".into())
            .spawn(move || {
                if let Some(sig) = iter.forever().next() {
                    let n = cleanup_all_locks();
                    log::info!("signal {sig}: released {n} session locks");
                    let _ = signal_hook::low_level::emulate_default_handler(sig);
                    std::process::exit(128 + sig);
                }
            })
            .map_err(|e| Error::io(path, e))?;
    }
    *handled = Some(signals.clone());
    Ok(signals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_bounds() {
        let s = |i: u64, t: u64| Settings {
            heartbeat_interval: Duration::from_millis(i),
            stale_timeout: Duration::from_millis(t),
        };
        Settings::default().validate().unwrap();
        s(10, 20).validate().unwrap();
        for bad in [
            s(0, 1000),
            s(9, 1000),
            s(1000, 1999),
            s(3_600_001, 8_000_000),
            s(1000, u64::MAX / 4),
        ] {
            assert!(
                matches!(bad.validate(), Err(Error::InvalidArgument(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn first_heartbeats_spread_over_the_second_half() {
        let i = Duration::from_secs(10);
        assert_eq!(first_delay(i, 0), Duration::from_secs(5));
        let last = first_delay(i, u64::MAX);
        assert!(last <= i && last > Duration::from_millis(9999), "{last:?}");
        let mid = first_delay(i, 1 << 63);
        assert!((mid.as_secs_f64() - 7.5).abs() < 1e-6, "{mid:?}");
    }

    #[test]
    fn lateness_percentiles() {
        let mut st = StatsState::default();
        for ms in 1..=100u64 {
            st.record(Beat::Written, Duration::from_millis(ms));
        }
        st.record(Beat::Ended, Duration::from_secs(99));
        st.record(Beat::Failed, Duration::from_millis(100));
        let s = st.snapshot();
        assert_eq!((s.heartbeats, s.failures, s.stolen), (100, 1, 0));
        assert_eq!(s.lateness_max, Duration::from_millis(100));
        assert_eq!(s.lateness_p50, Duration::from_millis(51));
        assert_eq!(s.lateness_p99, Duration::from_millis(100));
    }
}
