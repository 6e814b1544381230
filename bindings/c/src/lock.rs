//! `ags_lock`: the heartbeat lock that lets one process at a time drive a
//! session.

use std::ffi::{c_char, c_void, CString};

use agentsession::lock::{LockCheck, LockInfo};
use agentsession::{Lock, Store};
use serde_json::{json, Value};

use crate::error::{ags_status, Failure};
use crate::handle::Handle;
use crate::json as out_json;
use crate::store::ags_store;

/// A held session lock, kept fresh by the runtime's heartbeat while it lives;
/// `ags_lock_free` releases it.
///
/// Thread-safe: any number of threads may use one handle.
pub struct ags_lock {
    _private: [u8; 0],
}

impl Handle for ags_lock {
    type Inner = Lock;
}

/// A lock file's content as a JSON value.
fn info_json(info: &LockInfo) -> Value {
    serde_json::to_value(info).expect("lock info serializes")
}

/// Runs an acquisition and hands out the lock.
///
/// # Safety
/// The pointers follow the contract of the exported functions.
unsafe fn acquire(
    store: *const ags_store,
    session_id: *const c_char,
    client_type: *const c_char,
    out: *mut *mut ags_lock,
    how: fn(&Store, &str, &str) -> agentsession::Result<Lock>,
) -> Result<(), Failure> {
    let store = handle!(store)?;
    let session_id = string!(session_id)?;
    let client_type = string!(client_type)?;
    let out = out!(out)?;
    out.write(ags_lock::into_raw(how(store, session_id, client_type)?));
    Ok(())
}

/// Takes the session's lock for a client of kind `client_type` (`web`,
/// `cli`...) unless a live holder has it (`AGS_SESSION_LOCKED`); a lock whose
/// holder on this host is dead, or whose heartbeat is older than the stale
/// timeout, is taken over. Race-free across processes: of many trying at
/// once, one wins. `*out` receives the lock, released by `ags_lock_free`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_try_acquire_lock(
    store: *const ags_store,
    session_id: *const c_char,
    client_type: *const c_char,
    out: *mut *mut ags_lock,
) -> ags_status {
    ffi_boundary!({
        // SAFETY: the caller's pointers, passed on under the same contract.
        unsafe { acquire(store, session_id, client_type, out, Store::try_acquire_lock) }
    })
}

/// Like `ags_store_try_acquire_lock`, but also takes the lock from an idle
/// live holder; refuses with `AGS_SESSION_PROCESSING` or
/// `AGS_WAITING_FOR_PERMISSION` while the holder is busy.
#[no_mangle]
pub unsafe extern "C" fn ags_store_force_acquire_lock(
    store: *const ags_store,
    session_id: *const c_char,
    client_type: *const c_char,
    out: *mut *mut ags_lock,
) -> ags_status {
    ffi_boundary!({
        // SAFETY: the caller's pointers, passed on under the same contract.
        unsafe {
            acquire(
                store,
                session_id,
                client_type,
                out,
                Store::force_acquire_lock,
            )
        }
    })
}

/// Takes the lock whatever the holder is doing (ask the user first).
#[no_mangle]
pub unsafe extern "C" fn ags_store_force_interrupt_lock(
    store: *const ags_store,
    session_id: *const c_char,
    client_type: *const c_char,
    out: *mut *mut ags_lock,
) -> ags_status {
    ffi_boundary!({
        // SAFETY: the caller's pointers, passed on under the same contract.
        unsafe {
            acquire(
                store,
                session_id,
                client_type,
                out,
                Store::force_interrupt_lock,
            )
        }
    })
}

/// The session's `.lock` as written (even if stale) as a JSON object
/// `{"pid","hostname","instance_id","client_type","started_at","heartbeat",
/// "last_activity","status","status_message"?}`, or `null` when there is
/// none. A file that is not a readable lock is `AGS_CORRUPT_DATA`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_lock_info(
    store: *const ags_store,
    session_id: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out_json)?;
        let info = store.lock_info(session_id)?;
        out.write_string(out_json::text(&info.as_ref().map(info_json)))
    })
}

/// Whether a live holder (not dead, not stale) has the session.
#[no_mangle]
pub unsafe extern "C" fn ags_store_is_locked(
    store: *const ags_store,
    session_id: *const c_char,
    out: *mut bool,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out)?;
        out.write(store.is_locked(session_id)?);
        Ok(())
    })
}

fn check_json(check: &LockCheck) -> Value {
    json!({
        "state": check.state.as_str(),
        "can_resume": check.can_resume,
        "can_force": check.can_force,
        "can_interrupt": check.can_interrupt,
        "holder": check.holder.as_ref().map(info_json),
        "message": check.message,
    })
}

/// Where the session's lock stands, as a JSON object `{"state","can_resume",
/// "can_force","can_interrupt","holder","message"}`: `state` is one of
/// `unlocked`, `dead`, `stale`, `corrupt`, `idle`, `processing`,
/// `waiting_for_permission`, `other_status`; the `can_*` flags say what each
/// acquisition would do; `holder` is the lock file's content (or null);
/// `message` explains it in a sentence for the user.
#[no_mangle]
pub unsafe extern "C" fn ags_store_check_lock_status(
    store: *const ags_store,
    session_id: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out_json)?;
        let check = store.check_lock_status(session_id)?;
        out.write_string(out_json::text(&check_json(&check)))
    })
}

/// Releases the lock (if still held) and frees the handle. `NULL` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ags_lock_free(lock: *mut ags_lock) {
    ffi_boundary!(on_panic = (), {
        // SAFETY: the crate's contract: NULL or a live lock handle, not used again.
        unsafe { ags_lock::free(lock) }
    })
}

/// The locked session's id, as a new string.
#[no_mangle]
pub unsafe extern "C" fn ags_lock_session_id(
    lock: *const ags_lock,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let lock = handle!(lock)?;
        out!(out)?.write_string(lock.session_id().to_string())
    })
}

/// The random id of this acquisition (as the lock file has it), as a new string.
#[no_mangle]
pub unsafe extern "C" fn ags_lock_instance_id(
    lock: *const ags_lock,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let lock = handle!(lock)?;
        out!(out)?.write_string(lock.instance_id().to_string())
    })
}

/// The lock file's content as this handle last wrote it, as a JSON object
/// (see `ags_store_lock_info`).
#[no_mangle]
pub unsafe extern "C" fn ags_lock_info(
    lock: *const ags_lock,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let lock = handle!(lock)?;
        out!(out_json)?.write_string(out_json::text(&info_json(&lock.info())))
    })
}

/// Marks the session as processing a prompt, with a detail for other
/// clients; `AGS_LOCK_NOT_HELD` if the lock was released or stolen.
#[no_mangle]
pub unsafe extern "C" fn ags_lock_set_processing(
    lock: *const ags_lock,
    message: *const c_char,
) -> ags_status {
    ffi_boundary!({
        let lock = handle!(lock)?;
        lock.set_processing(string!(message)?)?;
        Ok(())
    })
}

/// Marks the session as idle (another client may then force the lock).
#[no_mangle]
pub unsafe extern "C" fn ags_lock_set_idle(lock: *const ags_lock) -> ags_status {
    ffi_boundary!({
        handle!(lock)?.set_idle()?;
        Ok(())
    })
}

/// Marks the session as waiting for a permission answer, with a detail.
#[no_mangle]
pub unsafe extern "C" fn ags_lock_set_waiting_permission(
    lock: *const ags_lock,
    message: *const c_char,
) -> ags_status {
    ffi_boundary!({
        let lock = handle!(lock)?;
        lock.set_waiting_permission(string!(message)?)?;
        Ok(())
    })
}

/// Releases the lock: removes the file if it is still this handle's.
/// Releasing again, or after the lock was stolen, does nothing.
#[no_mangle]
pub unsafe extern "C" fn ags_lock_release(lock: *const ags_lock) -> ags_status {
    ffi_boundary!({
        handle!(lock)?.release()?;
        Ok(())
    })
}

/// Whether this handle still owns the lock (not released, not stolen).
/// Reads the lock file; finding it stolen runs the stolen callback.
#[no_mangle]
pub unsafe extern "C" fn ags_lock_is_valid(lock: *const ags_lock, out: *mut bool) -> ags_status {
    ffi_boundary!({
        let lock = handle!(lock)?;
        let out = out!(out)?;
        out.write(lock.is_valid());
        Ok(())
    })
}

/// Called once when a lock is found stolen, with the session id (valid
/// during the call) and the `user_data` given to `ags_lock_on_stolen`, on
/// whichever thread finds it (often the heartbeat thread): it should return
/// quickly and must not unwind.
pub type ags_stolen_fn =
    Option<unsafe extern "C" fn(session_id: *const c_char, user_data: *mut c_void)>;

/// The host's stolen callback, its `user_data` and the session id it gets.
struct Stolen {
    callback: unsafe extern "C" fn(*const c_char, *mut c_void),
    user_data: *mut c_void,
    session_id: CString,
}

// SAFETY: `ags_lock_on_stolen` documents that the callback and `user_data`
// must be usable from any thread.
unsafe impl Send for Stolen {}

impl Stolen {
    fn call(self) {
        // SAFETY: the host gave this callback and pointer for exactly this
        // use; see `ags_stolen_fn`.
        unsafe { (self.callback)(self.session_id.as_ptr(), self.user_data) }
    }
}

/// Sets the function run once when the lock is found stolen (at once if it
/// already is), replacing an earlier one; NULL removes it. `user_data` is
/// passed back to it and must stay valid, and usable from any thread, until
/// the callback ran or the lock is freed.
#[no_mangle]
pub unsafe extern "C" fn ags_lock_on_stolen(
    lock: *const ags_lock,
    callback: ags_stolen_fn,
    user_data: *mut c_void,
) -> ags_status {
    ffi_boundary!({
        let lock = handle!(lock)?;
        match callback {
            Some(callback) => {
                let stolen = Stolen {
                    callback,
                    user_data,
                    session_id: CString::new(lock.session_id())
                        .expect("session ids have no NUL (they are checked)"),
                };
                lock.on_stolen(move || stolen.call());
            }
            None => lock.on_stolen(|| {}),
        }
        Ok(())
    })
}
