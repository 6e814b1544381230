//! `ags_player`: read-only playback of one session, and the helpers over
//! lists of events.

use std::ffi::c_char;

use agentsession::{build_conversation_history, last_agent_message, Event, Player};
use parking_lot::Mutex;
use serde_json::json;

use crate::args::{json, Out};
use crate::error::{ags_status, Failure};
use crate::handle::Handle;
use crate::json::{self as out_json, warn_skipped};
use crate::store::ags_store;

/// Plays back one session's events, loaded when the player is opened.
///
/// Thread-safe: calls on one handle are serialised, so threads sharing a
/// player share its position.
pub struct ags_player {
    _private: [u8; 0],
}

impl Handle for ags_player {
    type Inner = Mutex<Player>;
}

/// Loads a session for playback. Corrupt lines of its log are skipped and
/// described by `ags_last_warning()` (and `ags_player_skipped`).
#[no_mangle]
pub unsafe extern "C" fn ags_player_open(
    store: *const ags_store,
    session_id: *const c_char,
    out: *mut *mut ags_player,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out)?;
        let player = Player::open(store, session_id)?;
        warn_skipped(player.skipped());
        out.write(ags_player::into_raw(Mutex::new(player)));
        Ok(())
    })
}

/// Frees a player. `NULL` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ags_player_free(player: *mut ags_player) {
    ffi_boundary!(on_panic = (), {
        // SAFETY: the crate's contract: NULL or a live player handle, not used again.
        unsafe { ags_player::free(player) }
    })
}

/// The session's metadata as of opening, as a JSON object.
#[no_mangle]
pub unsafe extern "C" fn ags_player_metadata(
    player: *const ags_player,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        let out = out!(out_json)?;
        out.write_string(out_json::metadata(player.lock().metadata()))
    })
}

/// Every event, as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn ags_player_events(
    player: *const ags_player,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        let out = out!(out_json)?;
        out.write_string(out_json::text(player.lock().events()))
    })
}

/// The lines of the log skipped as corrupt, as a JSON array of
/// `{"path","line","offset","message"}` (`line` may be null).
#[no_mangle]
pub unsafe extern "C" fn ags_player_skipped(
    player: *const ags_player,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        let out = out!(out_json)?;
        let skipped: Vec<_> = player
            .lock()
            .skipped()
            .iter()
            .map(|c| {
                json!({
                    "path": c.path.to_string_lossy(),
                    "line": c.line,
                    "offset": c.offset,
                    "message": c.message,
                })
            })
            .collect();
        out.write_string(out_json::text(&skipped))
    })
}

/// Number of events.
#[no_mangle]
pub unsafe extern "C" fn ags_player_len(player: *const ags_player, out: *mut usize) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        out!(out)?.write(player.lock().len());
        Ok(())
    })
}

/// Index of the event `ags_player_next` returns next.
#[no_mangle]
pub unsafe extern "C" fn ags_player_position(
    player: *const ags_player,
    out: *mut usize,
) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        out!(out)?.write(player.lock().position());
        Ok(())
    })
}

/// Whether `ags_player_next` has an event to return.
#[no_mangle]
pub unsafe extern "C" fn ags_player_has_next(
    player: *const ags_player,
    out: *mut bool,
) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        out!(out)?.write(player.lock().has_next());
        Ok(())
    })
}

/// Writes an event (or NULL at the end) to an out-parameter.
fn write_event(out: Out<*mut c_char>, event: Option<&Event>) -> Result<(), Failure> {
    match event {
        Some(e) => out.write_string(out_json::text(e)),
        None => {
            out.write(std::ptr::null_mut());
            Ok(())
        }
    }
}

/// The next event as a JSON object, advancing; `*out_json` is set to NULL
/// (and the call succeeds) at the end.
#[no_mangle]
pub unsafe extern "C" fn ags_player_next(
    player: *const ags_player,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        let out = out!(out_json)?;
        write_event(out, player.lock().next())
    })
}

/// The next event as a JSON object without advancing; `*out_json` is set to
/// NULL at the end.
#[no_mangle]
pub unsafe extern "C" fn ags_player_peek(
    player: *const ags_player,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        let out = out!(out_json)?;
        write_event(out, player.lock().peek())
    })
}

/// Back to the first event.
#[no_mangle]
pub unsafe extern "C" fn ags_player_reset(player: *const ags_player) -> ags_status {
    ffi_boundary!({
        handle!(player)?.lock().reset();
        Ok(())
    })
}

/// Moves to `position` (0 to the number of events); beyond is
/// `AGS_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn ags_player_seek(player: *const ags_player, position: usize) -> ags_status {
    ffi_boundary!({
        handle!(player)?.lock().seek(position)?;
        Ok(())
    })
}

/// The events of one type, as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn ags_player_events_of_type(
    player: *const ags_player,
    event_type: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        let event_type = string!(event_type)?;
        let out = out!(out_json)?;
        out.write_string(out_json::text(&player.lock().events_of_type(event_type)))
    })
}

/// The conversation as text to re-prime a resumed agent: the last
/// `max_turns` turns (0 = all) of user prompt and agent reply found in
/// `events_json` (a JSON array of events as the read calls return them).
#[no_mangle]
pub unsafe extern "C" fn ags_build_conversation_history(
    events_json: *const c_char,
    max_turns: usize,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let events: Vec<Event> = json(string!(events_json)?, "events_json")?;
        let out = out!(out)?;
        out.write_string(build_conversation_history(&events, max_turns))
    })
}

/// The agent's reply to the last prompt in `events_json`: its messages after
/// the last `user_prompt`, concatenated (`""` when there is no prompt).
#[no_mangle]
pub unsafe extern "C" fn ags_last_agent_message(
    events_json: *const c_char,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let events: Vec<Event> = json(string!(events_json)?, "events_json")?;
        let out = out!(out)?;
        out.write_string(last_agent_message(&events))
    })
}
