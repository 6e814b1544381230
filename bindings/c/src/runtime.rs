//! The process-wide runtime: heartbeat settings, the locks this process
//! holds, and orderly shutdown.

use std::ffi::c_char;

use agentsession::runtime;
use serde_json::json;

use crate::args::{seconds, write_optional};
use crate::error::ags_status;
use crate::json as out_json;

/// Sets the heartbeat interval and stale timeout (seconds) for the whole
/// process: the interval must be within 0.01..=3600, the stale timeout at
/// least twice the interval and at most 7 days (`AGS_INVALID_ARGUMENT`
/// otherwise). The defaults are 10 and 60.
#[no_mangle]
pub extern "C" fn ags_configure(heartbeat_interval_s: f64, stale_timeout_s: f64) -> ags_status {
    ffi_boundary!({
        runtime::configure(
            seconds(heartbeat_interval_s, "heartbeat_interval_s")?,
            seconds(stale_timeout_s, "stale_timeout_s")?,
        )?;
        Ok(())
    })
}

/// The current heartbeat interval and stale timeout, in seconds (either
/// out-parameter may be NULL).
#[no_mangle]
pub unsafe extern "C" fn ags_settings(
    out_heartbeat_interval_s: *mut f64,
    out_stale_timeout_s: *mut f64,
) -> ags_status {
    ffi_boundary!({
        let settings = runtime::settings();
        if let Some(out) = opt_out!(out_heartbeat_interval_s) {
            out.write(settings.heartbeat_interval.as_secs_f64());
        }
        if let Some(out) = opt_out!(out_stale_timeout_s) {
            out.write(settings.stale_timeout.as_secs_f64());
        }
        Ok(())
    })
}

/// Releases every lock this process holds (their handles become invalid;
/// freeing them afterwards does nothing more); `*out_released` (may be NULL)
/// receives how many were released.
#[no_mangle]
pub unsafe extern "C" fn ags_cleanup_all_locks(out_released: *mut usize) -> ags_status {
    ffi_boundary!({
        let released = runtime::cleanup_all_locks();
        if let Some(out) = opt_out!(out_released) {
            out.write(released);
        }
        Ok(())
    })
}

/// How many locks this process holds.
#[no_mangle]
pub unsafe extern "C" fn ags_active_lock_count(out: *mut usize) -> ags_status {
    ffi_boundary!({
        out!(out)?.write(runtime::active_lock_count());
        Ok(())
    })
}

/// Heartbeat counters and recent lateness as a JSON object
/// `{"heartbeats","stolen","failures","lateness_p50_s","lateness_p99_s",
/// "lateness_max_s"}` (lateness in seconds).
#[no_mangle]
pub unsafe extern "C" fn ags_heartbeat_stats(out_json: *mut *mut c_char) -> ags_status {
    ffi_boundary!({
        let out = out!(out_json)?;
        let s = runtime::heartbeat_stats();
        out.write_string(out_json::text(&json!({
            "heartbeats": s.heartbeats,
            "stolen": s.stolen,
            "failures": s.failures,
            "lateness_p50_s": s.lateness_p50.as_secs_f64(),
            "lateness_p99_s": s.lateness_p99.as_secs_f64(),
            "lateness_max_s": s.lateness_max.as_secs_f64(),
        })))
    })
}

/// Clears the heartbeat counters and lateness samples, to measure from now.
#[no_mangle]
pub extern "C" fn ags_reset_heartbeat_stats() -> ags_status {
    ffi_boundary!({
        runtime::reset_heartbeat_stats();
        Ok(())
    })
}

/// Stops everything the process-wide runtime owns: releases every lock,
/// stops the heartbeat thread and shuts the auxiliary session down. Call it
/// before the process exits; the runtime starts again if used afterwards.
#[no_mangle]
pub extern "C" fn ags_shutdown() -> ags_status {
    ffi_boundary!({
        runtime::shutdown();
        Ok(())
    })
}

/// Opt-in for hosts without signal handlers of their own: SIGINT, SIGTERM
/// and SIGHUP, where their disposition is still the default, release every
/// held lock and then end the process as the default action would; signals
/// the host catches or ignores are left alone. `*out_json` (may be NULL)
/// receives the signal numbers now handled, as a JSON array. Calling it
/// again gives the same list.
#[no_mangle]
pub unsafe extern "C" fn ags_release_locks_on_signals(out_json: *mut *mut c_char) -> ags_status {
    ffi_boundary!({
        let out = opt_out!(out_json);
        let signals = runtime::release_locks_on_signals()?;
        write_optional(out, || out_json::text(&signals))
    })
}
