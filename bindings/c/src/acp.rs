//! ACP traffic on the recorder, player and store handles: recording
//! `session/update` notifications as events, replaying a session as
//! notifications, planning how to resume it, and the usage the agent reported.

use std::ffi::c_char;

use agentsession::acp::resume_plan;
use agentsession::{Event, Metadata};
use serde_json::{json, Value};

use crate::args::{json, write_optional};
use crate::error::{self, ags_status};
use crate::json as out_json;
use crate::player::ags_player;
use crate::recorder::ags_recorder;
use crate::store::ags_store;

/// Records one ACP `session/update` notification the agent sent (the whole
/// JSON-RPC message or its `params`, as JSON text). Text chunks wait in the
/// recorder until their message is complete (anything else recorded, a turn
/// end, suspend, end or free writes it). `*out_json` (may be NULL) receives
/// `{"seqs":[...],"warnings":[...]}`: the seqs written by this call and the
/// problems found in what the agent sent (the data is kept all the same);
/// warnings are also given by `ags_last_warning()`. Not JSON, or not a
/// `session/update`, is `AGS_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_acp_update(
    recorder: *const ags_recorder,
    notification_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let notification: Value = json(string!(notification_json)?, "notification_json")?;
        let out = opt_out!(out_json);
        let recorded = recorder.record_acp_update_value(&notification)?;
        if !recorded.warnings.is_empty() {
            error::warn(&recorded.warnings.join("; "));
        }
        write_optional(out, || {
            out_json::text(&json!({
                "seqs": recorded.seqs,
                "warnings": recorded.warnings,
            }))
        })
    })
}

/// Ends a prompt turn: writes the message in progress and a `turn_end` event
/// with the agent's `stop_reason` (`end_turn`, `cancelled`...). `*out_seqs_json`
/// (may be NULL) receives the seqs written, as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_turn_end(
    recorder: *const ags_recorder,
    stop_reason: *const c_char,
    out_seqs_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let stop_reason = string!(stop_reason)?;
        let out = opt_out!(out_seqs_json);
        let seqs = recorder.record_turn_end(stop_reason)?;
        write_optional(out, || out_json::text(&seqs))
    })
}

/// The session as the `session/update` notifications an agent sends while
/// answering `session/load`, as a JSON array of whole JSON-RPC notifications
/// addressed to the stored `acp_session_id` (images read back from the store).
#[no_mangle]
pub unsafe extern "C" fn ags_player_acp_updates(
    player: *const ags_player,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        let out = out!(out_json)?;
        let updates = player.lock().acp_updates()?;
        out.write_string(out_json::text(&updates))
    })
}

/// How to continue this session with an agent that answered `initialize`
/// with `initialize_response_json` (the JSON-RPC response or its `result`):
/// a JSON object `{"method","params","acp_session_id","working_dir",
/// "history","reason"}` where `method` is `session/resume`, `session/load`,
/// or `session/new` (then `history` holds the conversation to put before the
/// next prompt).
#[no_mangle]
pub unsafe extern "C" fn ags_player_resume_plan(
    player: *const ags_player,
    initialize_response_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let player = handle!(player)?;
        let init: Value = json(
            string!(initialize_response_json)?,
            "initialize_response_json",
        )?;
        let out = out!(out_json)?;
        let plan = player.lock().resume_plan(&init)?;
        out.write_string(out_json::text(&plan))
    })
}

/// `ags_player_resume_plan` for a session given as its metadata object and
/// its events (JSON, as the read calls return them).
#[no_mangle]
pub unsafe extern "C" fn ags_resume_plan(
    metadata_json: *const c_char,
    events_json: *const c_char,
    initialize_response_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let metadata = Metadata::from_value(json(string!(metadata_json)?, "metadata_json")?)?;
        let events: Vec<Event> = json(string!(events_json)?, "events_json")?;
        let init: Value = json(
            string!(initialize_response_json)?,
            "initialize_response_json",
        )?;
        let out = out!(out_json)?;
        out.write_string(out_json::text(&resume_plan(&metadata, &events, &init)?))
    })
}

/// The usage the agent reported in a session, as a JSON object
/// `{"session_id","agent","updates","used","size","peak_used","cost",
/// "first_at","last_at"}` (`cost` maps each currency to the amount spent).
#[no_mangle]
pub unsafe extern "C" fn ags_store_usage(
    store: *const ags_store,
    session_id: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out_json)?;
        out.write_string(out_json::text(&store.usage(session_id)?))
    })
}

/// The usage of all sessions as a JSON object `{"total","by_day","by_agent",
/// "sessions"}`: rows `{"key","sessions","updates","peak_tokens","cost"}` for
/// all sessions, per day and per agent, and each session's usage as
/// `ags_store_usage` gives it.
#[no_mangle]
pub unsafe extern "C" fn ags_store_usage_summary(
    store: *const ags_store,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let out = out!(out_json)?;
        out.write_string(out_json::text(&store.usage_summary()?))
    })
}
