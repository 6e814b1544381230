//! `ags_recorder`: the writing API for one session.

use std::ffi::c_char;

use agentsession::event::{ImageRef, PlanEntry, ToolCallData};
use agentsession::{PruneLimits, Recorder};

use crate::args::{json, write_optional, Out};
use crate::error::{ags_status, Failure};
use crate::handle::Handle;
use crate::json as out_json;
use crate::store::ags_store;

/// Records one session: start or resume it, record events, end it.
///
/// Thread-safe: several threads may record through one handle; each event
/// gets its own seq.
pub struct ags_recorder {
    _private: [u8; 0],
}

impl Handle for ags_recorder {
    type Inner = Recorder;
}

/// A recorder for the session `session_id` of `store` (new or existing), or
/// for a new session with a generated id when `session_id` is NULL. Nothing
/// is written until `ags_recorder_start` or `ags_recorder_resume`.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_new(
    store: *const ags_store,
    session_id: *const c_char,
    out: *mut *mut ags_recorder,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = opt_string!(session_id)?;
        let out = out!(out)?;
        let recorder = match session_id {
            Some(id) => Recorder::with_id(store, id)?,
            None => Recorder::new(store),
        };
        out.write(ags_recorder::into_raw(recorder));
        Ok(())
    })
}

/// Frees a recorder (the session is neither ended nor changed). `NULL` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_free(recorder: *mut ags_recorder) {
    ffi_boundary!(on_panic = (), {
        // SAFETY: the crate's contract: NULL or a live recorder handle, not used again.
        unsafe { ags_recorder::free(recorder) }
    })
}

/// The session id, as a new string.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_session_id(
    recorder: *const ags_recorder,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        out!(out)?.write_string(recorder.session_id().to_string())
    })
}

/// Whether recording is on (started or resumed, not suspended or ended).
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_is_started(
    recorder: *const ags_recorder,
    out: *mut bool,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        out!(out)?.write(recorder.is_started());
        Ok(())
    })
}

/// Limits applied after each append (0 = no limit; best effort: a failed
/// prune never fails the append). See `ags_store_prune_if_needed`.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_set_prune_limits(
    recorder: *const ags_recorder,
    max_messages: usize,
    max_size_bytes: u64,
) -> ags_status {
    ffi_boundary!({
        handle!(recorder)?.set_prune_limits(PruneLimits {
            max_messages,
            max_size_bytes,
        });
        Ok(())
    })
}

/// Creates the session and records `session_start`. `acp_command` may be
/// NULL. `*out_metadata_json` (may be NULL) receives the metadata.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_start(
    recorder: *const ags_recorder,
    acp_server: *const c_char,
    working_dir: *const c_char,
    acp_command: *const c_char,
    out_metadata_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let acp_server = string!(acp_server)?;
        let working_dir = string!(working_dir)?;
        let acp_command = opt_string!(acp_command)?;
        let out = opt_out!(out_metadata_json);
        let meta = recorder.start(acp_server, working_dir, acp_command)?;
        write_optional(out, || out_json::metadata(&meta))
    })
}

/// Continues recording an existing session. `*out_metadata_json` (may be
/// NULL) receives its metadata.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_resume(
    recorder: *const ags_recorder,
    out_metadata_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let out = opt_out!(out_metadata_json);
        let meta = recorder.resume()?;
        write_optional(out, || out_json::metadata(&meta))
    })
}

/// Stops recording without ending the session (it can be resumed).
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_suspend(recorder: *const ags_recorder) -> ags_status {
    ffi_boundary!({
        handle!(recorder)?.suspend()?;
        Ok(())
    })
}

/// Records `session_end` with `reason` and marks the session completed.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_end(
    recorder: *const ags_recorder,
    reason: *const c_char,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        recorder.end(string!(reason)?)?;
        Ok(())
    })
}

/// Number of events in the session.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_event_count(
    recorder: *const ags_recorder,
    out: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let out = out!(out)?;
        out.write(recorder.event_count()?);
        Ok(())
    })
}

/// Runs a record call and writes its seq to an optional out-parameter.
fn record(out_seq: Option<Out<u64>>, seq: agentsession::Result<u64>) -> Result<(), Failure> {
    let seq = seq?;
    if let Some(out) = out_seq {
        out.write(seq);
    }
    Ok(())
}

/// Records an event of any type with `data_json` as its data. `*out_seq`
/// (may be NULL) receives its seq, as for every `ags_recorder_record_*` call;
/// those fail with `AGS_INVALID_ARGUMENT` unless recording is on.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record(
    recorder: *const ags_recorder,
    event_type: *const c_char,
    data_json: *const c_char,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let event_type = string!(event_type)?;
        let data = json(string!(data_json)?, "data_json")?;
        record(opt_out!(out_seq), recorder.record(event_type, data))
    })
}

/// Records a user prompt. `images_json` (may be NULL) is an array of
/// `{"id": str, "name"?: str, "mime_type": str}` image references.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_user_prompt(
    recorder: *const ags_recorder,
    message: *const c_char,
    images_json: *const c_char,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let message = string!(message)?;
        let images: Vec<ImageRef> = match opt_string!(images_json)? {
            Some(text) => json(text, "images_json")?,
            None => Vec::new(),
        };
        record(
            opt_out!(out_seq),
            recorder.record_user_prompt(message, &images),
        )
    })
}

/// Records reply text of the agent.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_agent_message(
    recorder: *const ags_recorder,
    text: *const c_char,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let text = string!(text)?;
        record(opt_out!(out_seq), recorder.record_agent_message(text))
    })
}

/// Records the agent's reasoning text.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_agent_thought(
    recorder: *const ags_recorder,
    text: *const c_char,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let text = string!(text)?;
        record(opt_out!(out_seq), recorder.record_agent_thought(text))
    })
}

/// Records a tool call. `kind`, `raw_input_json` and `raw_output_json` may
/// be NULL; the raw values are any JSON.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_tool_call(
    recorder: *const ags_recorder,
    tool_call_id: *const c_char,
    title: *const c_char,
    status: *const c_char,
    kind: *const c_char,
    raw_input_json: *const c_char,
    raw_output_json: *const c_char,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let call = ToolCallData {
            tool_call_id: string!(tool_call_id)?.to_string(),
            title: string!(title)?.to_string(),
            status: string!(status)?.to_string(),
            kind: opt_string!(kind)?.unwrap_or("").to_string(),
            raw_input: opt_string!(raw_input_json)?
                .map(|t| json(t, "raw_input_json"))
                .transpose()?,
            raw_output: opt_string!(raw_output_json)?
                .map(|t| json(t, "raw_output_json"))
                .transpose()?,
        };
        record(opt_out!(out_seq), recorder.record_tool_call(&call))
    })
}

/// Records a change to a tool call; `status` and `title` may be NULL (unchanged).
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_tool_call_update(
    recorder: *const ags_recorder,
    tool_call_id: *const c_char,
    status: *const c_char,
    title: *const c_char,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let tool_call_id = string!(tool_call_id)?;
        let status = opt_string!(status)?;
        let title = opt_string!(title)?;
        record(
            opt_out!(out_seq),
            recorder.record_tool_call_update(tool_call_id, status, title),
        )
    })
}

/// Records the agent's plan: `entries_json` is an array of
/// `{"id": str, "title": str, "status": str, "priority"?: str}`.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_plan(
    recorder: *const ags_recorder,
    entries_json: *const c_char,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let entries: Vec<PlanEntry> = json(string!(entries_json)?, "entries_json")?;
        record(opt_out!(out_seq), recorder.record_plan(&entries))
    })
}

/// Records a permission request and its outcome (`approved`, `denied` or `cancelled`).
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_permission(
    recorder: *const ags_recorder,
    title: *const c_char,
    selected_option: *const c_char,
    outcome: *const c_char,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let title = string!(title)?;
        let selected_option = string!(selected_option)?;
        let outcome = string!(outcome)?;
        record(
            opt_out!(out_seq),
            recorder.record_permission(title, selected_option, outcome),
        )
    })
}

/// Records that the agent read a file of `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_file_read(
    recorder: *const ags_recorder,
    path: *const c_char,
    size: i64,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let path = string!(path)?;
        record(opt_out!(out_seq), recorder.record_file_read(path, size))
    })
}

/// Records that the agent wrote a file of `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_file_write(
    recorder: *const ags_recorder,
    path: *const c_char,
    size: i64,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let path = string!(path)?;
        record(opt_out!(out_seq), recorder.record_file_write(path, size))
    })
}

/// Records an error (`code` 0 = none).
#[no_mangle]
pub unsafe extern "C" fn ags_recorder_record_error(
    recorder: *const ags_recorder,
    message: *const c_char,
    code: i64,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let recorder = handle!(recorder)?;
        let message = string!(message)?;
        record(opt_out!(out_seq), recorder.record_error(message, code))
    })
}
