//! `ags_action_buttons`: the follow-up suggestions shown after an agent reply.

use std::ffi::c_char;

use agentsession::{ActionButton, ActionButtons, ActionButtonsStore};
use serde_json::{Map, Value};

use crate::args::{json, write_optional};
use crate::error::ags_status;
use crate::handle::Handle;
use crate::json as out_json;
use crate::store::ags_store;

/// The follow-up suggestions of one session, served from a shared memory
/// cache while `action_buttons.json` is unchanged.
///
/// Thread-safe: any number of threads may use one handle; handles of the
/// same session in one process share the cache.
pub struct ags_action_buttons {
    _private: [u8; 0],
}

impl Handle for ags_action_buttons {
    type Inner = ActionButtonsStore;
}

/// The suggestions as one JSON object:
/// `{"buttons":[{"label","response"}...],"generated_at","for_event_seq"}`
/// plus any fields of the file this library does not know.
fn stored_json(value: &ActionButtons) -> String {
    let mut m = Map::new();
    m.insert(
        "buttons".into(),
        serde_json::to_value(value.buttons()).expect("buttons serialize"),
    );
    m.insert(
        "generated_at".into(),
        value.generated_at().map_or(Value::Null, Value::from),
    );
    m.insert("for_event_seq".into(), Value::from(value.for_event_seq()));
    m.extend(value.extra().iter().map(|(k, v)| (k.clone(), v.clone())));
    out_json::text(&m)
}

/// The follow-up suggestions of a session (the id is checked now; a missing
/// session is reported by the calls that reach the disk as
/// `AGS_SESSION_NOT_FOUND`). `*out` receives the handle, freed with
/// `ags_action_buttons_free`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_action_buttons(
    store: *const ags_store,
    session_id: *const c_char,
    out: *mut *mut ags_action_buttons,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out)?;
        out.write(ags_action_buttons::into_raw(
            store.action_buttons(session_id)?,
        ));
        Ok(())
    })
}

/// Frees an action-buttons handle (the stored suggestions stay). `NULL` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ags_action_buttons_free(buttons: *mut ags_action_buttons) {
    ffi_boundary!(on_panic = (), {
        // SAFETY: the crate's contract: NULL or a live action-buttons handle, not used again.
        unsafe { ags_action_buttons::free(buttons) }
    })
}

/// The session these suggestions belong to, as a new string.
#[no_mangle]
pub unsafe extern "C" fn ags_action_buttons_session_id(
    buttons: *const ags_action_buttons,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let buttons = handle!(buttons)?;
        out!(out)?.write_string(buttons.session_id().to_string())
    })
}

/// The path of `action_buttons.json`, as a new string.
#[no_mangle]
pub unsafe extern "C" fn ags_action_buttons_path(
    buttons: *const ags_action_buttons,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let buttons = handle!(buttons)?;
        out!(out)?.write_string(buttons.path().to_string_lossy().into_owned())
    })
}

/// The stored suggestions as a JSON object
/// `{"buttons":[{"label","response"}...],"generated_at","for_event_seq"}`
/// (`"buttons":[]` and `"generated_at":null` when none are stored). A file
/// that does not parse is `AGS_CORRUPT_DATA`.
#[no_mangle]
pub unsafe extern "C" fn ags_action_buttons_get(
    buttons: *const ags_action_buttons,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let buttons = handle!(buttons)?;
        let out = out!(out_json)?;
        out.write_string(stored_json(&buttons.get()?))
    })
}

/// Whether no suggestion is stored.
#[no_mangle]
pub unsafe extern "C" fn ags_action_buttons_is_empty(
    buttons: *const ags_action_buttons,
    out: *mut bool,
) -> ags_status {
    ffi_boundary!({
        let buttons = handle!(buttons)?;
        let out = out!(out)?;
        out.write(buttons.is_empty()?);
        Ok(())
    })
}

/// Replaces the suggestions: `buttons_json` is an array of
/// `{"label": str, "response": str}`, generated now for the event
/// `for_event_seq` (0 = not recorded). `*out_json` (may be NULL) receives
/// them as stored, in the shape of `ags_action_buttons_get`.
#[no_mangle]
pub unsafe extern "C" fn ags_action_buttons_set(
    buttons: *const ags_action_buttons,
    buttons_json: *const c_char,
    for_event_seq: u64,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(buttons)?;
        let list: Vec<ActionButton> = json(string!(buttons_json)?, "buttons_json")?;
        let out = opt_out!(out_json);
        let stored = store.set(list, for_event_seq)?;
        write_optional(out, || stored_json(&stored))
    })
}

/// Removes the suggestions (deletes the file; a missing file is fine).
#[no_mangle]
pub unsafe extern "C" fn ags_action_buttons_clear(
    buttons: *const ags_action_buttons,
) -> ags_status {
    ffi_boundary!({
        handle!(buttons)?.clear()?;
        Ok(())
    })
}

/// Deletes the file when the session goes away (the same as `ags_action_buttons_clear`).
#[no_mangle]
pub unsafe extern "C" fn ags_action_buttons_delete(
    buttons: *const ags_action_buttons,
) -> ags_status {
    ffi_boundary!({
        handle!(buttons)?.delete()?;
        Ok(())
    })
}
