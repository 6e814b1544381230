//! `agentsession.Lock` (a held session lock), `LockInfo`, `LockCheck`, and
//! the process-wide lock settings.

use agentsession::runtime;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use serde_json::{Map, Value};

use crate::convert::{quoted, seconds};
use crate::errors::Res;
use crate::record::{
    json_record, record_of, Bool, Float, Int, JsonRecord, OptRecord, SignedInt, Str, Text, Time,
};

json_record! {
    /// The content of a session's `.lock` file.
    LockInfo {
        /// Process id of the holder.
        pid: SignedInt,
        /// Host name of the holder.
        hostname: Str,
        /// Random id of the acquisition (16 hex digits).
        instance_id: Str,
        /// Kind of client holding the session (`web`, `cli`, ...).
        client_type: Str,
        /// When the lock was acquired.
        started_at: Time,
        /// The last heartbeat.
        heartbeat: Time,
        /// The last status change.
        last_activity: Time,
        /// `idle`, `processing` or `waiting_for_permission`.
        status: Str,
        /// Detail of the status ("" when none).
        status_message: Text,
    }
}

json_record! {
    /// Where a session's lock stands and what each acquisition mode would do.
    LockCheck {
        /// `unlocked`, `dead`, `stale`, `corrupt`, `idle`, `processing`,
        /// `waiting_for_permission` or `other_status`.
        state: Str,
        /// A plain (try) acquisition would succeed.
        can_resume: Bool,
        /// A force acquisition would succeed.
        can_force: Bool,
        /// An interrupt would succeed (always, with the user's consent).
        can_interrupt: Bool,
        /// The lock file's content, when it is readable.
        holder: OptRecord<LockInfo>,
        /// A sentence for the user explaining the above.
        message: Str,
    }
}

impl LockCheck {
    /// The Python object of the core's answer.
    pub fn new(c: &agentsession::LockCheck) -> LockCheck {
        let mut map = Map::new();
        map.insert("state".into(), c.state.as_str().into());
        map.insert("can_resume".into(), c.can_resume.into());
        map.insert("can_force".into(), c.can_force.into());
        map.insert("can_interrupt".into(), c.can_interrupt.into());
        let holder = c
            .holder
            .as_ref()
            .and_then(|h| serde_json::to_value(h).ok())
            .unwrap_or(Value::Null);
        map.insert("holder".into(), holder);
        map.insert("message".into(), c.message.clone().into());
        LockCheck::from_map(map)
    }
}

json_record! {
    /// The process-wide lock settings, in seconds.
    Settings {
        /// How often a held lock's heartbeat is refreshed.
        heartbeat_interval: Float,
        /// Age of a heartbeat after which a lock is stale.
        stale_timeout: Float,
    }
}

json_record! {
    /// Heartbeat counters and lateness (seconds) since the runtime started
    /// or `reset_heartbeat_stats()`.
    HeartbeatStats {
        /// Heartbeats written.
        heartbeats: Int,
        /// Locks found stolen (or their session gone).
        stolen: Int,
        /// Heartbeats that failed to write (retried next interval).
        failures: Int,
        /// Median lateness over the most recent heartbeats.
        lateness_p50: Float,
        /// 99th-percentile lateness over the same heartbeats.
        lateness_p99: Float,
        /// Largest lateness over the same heartbeats.
        lateness_max: Float,
    }
}

/// A held session lock, kept fresh by the heartbeat thread. Release it with
/// `release()`, by leaving a `with` block, or by dropping the object; at
/// interpreter exit every lock is released.
#[pyclass(module = "agentsession", name = "Lock", frozen)]
pub struct Lock {
    pub inner: agentsession::Lock,
}

#[pymethods]
impl Lock {
    /// The locked session.
    #[getter]
    fn session_id(&self) -> &str {
        self.inner.session_id()
    }

    /// The random id of this acquisition, as written in the lock file.
    #[getter]
    fn instance_id(&self) -> &str {
        self.inner.instance_id()
    }

    /// The lock file content as this handle last wrote it.
    #[getter]
    fn info(&self) -> LockInfo {
        record_of(&self.inner.info())
    }

    /// Marks the session as processing a prompt, with a detail for other clients.
    fn set_processing(&self, py: Python<'_>, message: &str) -> Res<()> {
        Ok(py.detach(|| self.inner.set_processing(message))?)
    }

    /// Marks the session as idle (another client may then force the lock).
    fn set_idle(&self, py: Python<'_>) -> Res<()> {
        Ok(py.detach(|| self.inner.set_idle())?)
    }

    /// Marks the session as waiting for a permission answer, with a detail.
    fn set_waiting_permission(&self, py: Python<'_>, message: &str) -> Res<()> {
        Ok(py.detach(|| self.inner.set_waiting_permission(message))?)
    }

    /// Releases the lock (removes the file if it is still this handle's);
    /// releasing again, or after the lock was stolen, does nothing.
    fn release(&self, py: Python<'_>) -> Res<()> {
        Ok(py.detach(|| self.inner.release())?)
    }

    /// Whether this handle still owns the lock (not released, not stolen).
    fn is_valid(&self, py: Python<'_>) -> bool {
        py.detach(|| self.inner.is_valid())
    }

    /// Sets the function called once (with no arguments) when the lock is
    /// found stolen, often on the heartbeat thread: keep it short. An
    /// exception it raises goes to `sys.unraisablehook`.
    fn on_stolen(&self, callback: Bound<'_, PyAny>) -> PyResult<()> {
        if !callback.is_callable() {
            return Err(PyTypeError::new_err("callback must be callable()"));
        }
        let callback = callback.unbind();
        self.inner.on_stolen(move || {
            Python::attach(|py| {
                if let Err(e) = callback.call0(py) {
                    e.write_unraisable(py, Some(callback.bind(py)));
                }
            })
        });
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> Res<bool> {
        self.release(py)?;
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Lock(session_id={}, instance_id={})",
            quoted(py, self.inner.session_id())?,
            quoted(py, self.inner.instance_id())?
        ))
    }
}

/// Sets the heartbeat interval and the stale timeout (seconds) for the whole
/// process. The interval must be within 0.01..=3600 and the timeout at least
/// twice the interval and at most 7 days.
#[pyfunction]
#[pyo3(signature = (heartbeat_interval=10.0, stale_timeout=60.0))]
fn configure(heartbeat_interval: f64, stale_timeout: f64) -> Res<()> {
    Ok(runtime::configure(
        seconds(heartbeat_interval, "heartbeat_interval")?,
        seconds(stale_timeout, "stale_timeout")?,
    )?)
}

/// The current lock settings.
#[pyfunction]
fn settings() -> Settings {
    let s = runtime::settings();
    let mut map = Map::new();
    map.insert(
        "heartbeat_interval".into(),
        s.heartbeat_interval.as_secs_f64().into(),
    );
    map.insert("stale_timeout".into(), s.stale_timeout.as_secs_f64().into());
    Settings::from_map(map)
}

/// Heartbeat counters and recent lateness.
#[pyfunction]
fn heartbeat_stats() -> HeartbeatStats {
    let s = runtime::heartbeat_stats();
    let mut map = Map::new();
    map.insert("heartbeats".into(), s.heartbeats.into());
    map.insert("stolen".into(), s.stolen.into());
    map.insert("failures".into(), s.failures.into());
    map.insert("lateness_p50".into(), s.lateness_p50.as_secs_f64().into());
    map.insert("lateness_p99".into(), s.lateness_p99.as_secs_f64().into());
    map.insert("lateness_max".into(), s.lateness_max.as_secs_f64().into());
    HeartbeatStats::from_map(map)
}

/// Clears the heartbeat counters and lateness samples, to measure from now.
#[pyfunction]
fn reset_heartbeat_stats() {
    runtime::reset_heartbeat_stats();
}

/// Stops everything the process-wide runtime owns: releases every lock,
/// stops the heartbeat thread and the auxiliary session. It all starts again
/// on next use; it also runs at interpreter exit.
#[pyfunction]
fn shutdown(py: Python<'_>) {
    py.detach(runtime::shutdown);
}

/// Releases every lock this process holds; returns how many were released.
#[pyfunction]
fn cleanup_all_locks(py: Python<'_>) -> usize {
    py.detach(runtime::cleanup_all_locks)
}

/// How many locks this process holds.
#[pyfunction]
fn active_lock_count() -> usize {
    runtime::active_lock_count()
}

/// For processes that do not handle SIGTERM / SIGHUP themselves: those of
/// them still at their default release every held lock, then end the process
/// as the default would. (Python handles SIGINT itself, so it is left alone.)
/// Returns the signal numbers now handled.
#[pyfunction]
fn release_locks_on_signals() -> Res<Vec<i32>> {
    Ok(runtime::release_locks_on_signals()?)
}

/// Adds the lock and runtime functions to the module; `shutdown` also runs at exit.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(configure, m)?)?;
    m.add_function(wrap_pyfunction!(cleanup_all_locks, m)?)?;
    m.add_function(wrap_pyfunction!(active_lock_count, m)?)?;
    m.add_function(wrap_pyfunction!(release_locks_on_signals, m)?)?;
    m.add_function(wrap_pyfunction!(settings, m)?)?;
    m.add_function(wrap_pyfunction!(heartbeat_stats, m)?)?;
    m.add_function(wrap_pyfunction!(reset_heartbeat_stats, m)?)?;
    let shutdown = wrap_pyfunction!(shutdown, m)?;
    m.add_function(shutdown.clone())?;
    // Locks are released, and the heartbeat thread and auxiliary agent
    // stopped, when the interpreter exits.
    m.py()
        .import("atexit")?
        .call_method1("register", (shutdown,))?;
    Ok(())
}
