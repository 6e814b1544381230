//! `ags_store`: a store of sessions under a base directory.

use std::ffi::c_char;

use agentsession::{CreateOptions, Error, NewEvent, Store, StoreOptions};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::args::{json, write_optional};
use crate::error::{self, ags_status};
use crate::handle::Handle;
use crate::json::{self as out_json, warn_skipped};

/// A store of sessions under a base directory (one sub-directory per session).
///
/// Thread-safe: one handle may be used by any number of threads at once, and
/// several handles (in one or several processes) may open the same directory.
/// Recorders, players, locks and queues made from a store keep what they need
/// of it alive, so the store handle may be freed before them.
pub struct ags_store {
    _private: [u8; 0],
}

impl Handle for ags_store {
    type Inner = Store;
}

/// Opens (creating it, mode 0700, if missing) the store at `path`; `*out`
/// receives the handle, freed with `ags_store_free`. Metadata is rewritten
/// after every append.
#[no_mangle]
pub unsafe extern "C" fn ags_store_open(
    path: *const c_char,
    out: *mut *mut ags_store,
) -> ags_status {
    ffi_boundary!({
        let path = string!(path)?;
        let out = out!(out)?;
        out.write(ags_store::into_raw(Store::open(path)?));
        Ok(())
    })
}

/// Opens the store at `path` in batched mode: metadata updates are deferred
/// until `ags_store_flush`, `ags_store_close`, the last handle's free, or half
/// a second, for high-rate recording.
#[no_mangle]
pub unsafe extern "C" fn ags_store_open_batched(
    path: *const c_char,
    out: *mut *mut ags_store,
) -> ags_status {
    ffi_boundary!({
        let path = string!(path)?;
        let out = out!(out)?;
        let options = StoreOptions {
            batched: true,
            ..StoreOptions::default()
        };
        out.write(ags_store::into_raw(Store::open_with(path, options)?));
        Ok(())
    })
}

/// Opens the default store: `$AGENTSESSION_DIR`, else
/// `$XDG_DATA_HOME/agentsession/sessions` (`~/.local/share/...`).
#[no_mangle]
pub unsafe extern "C" fn ags_store_open_default(out: *mut *mut ags_store) -> ags_status {
    ffi_boundary!({
        let out = out!(out)?;
        out.write(ags_store::into_raw(Store::open_default()?));
        Ok(())
    })
}

/// Opens the mitto client's store: `$MITTO_DIR/sessions`, else its platform
/// data directory.
#[no_mangle]
pub unsafe extern "C" fn ags_store_open_mitto(out: *mut *mut ags_store) -> ags_status {
    ffi_boundary!({
        let out = out!(out)?;
        out.write(ags_store::into_raw(Store::open_mitto()?));
        Ok(())
    })
}

/// The directory `ags_store_open_default` opens, as a new string.
#[no_mangle]
pub unsafe extern "C" fn ags_store_default_dir(out: *mut *mut c_char) -> ags_status {
    ffi_boundary!({
        let out = out!(out)?;
        out.write_string(Store::default_dir()?.to_string_lossy().into_owned())
    })
}

/// The directory `ags_store_open_mitto` opens, as a new string.
#[no_mangle]
pub unsafe extern "C" fn ags_store_mitto_dir(out: *mut *mut c_char) -> ags_status {
    ffi_boundary!({
        let out = out!(out)?;
        out.write_string(Store::mitto_dir()?.to_string_lossy().into_owned())
    })
}

/// Frees a store handle (writing what batched mode deferred when it is the
/// last user of the store). `NULL` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ags_store_free(store: *mut ags_store) {
    ffi_boundary!(on_panic = (), {
        // SAFETY: the crate's contract: NULL or a live store handle, not used again.
        unsafe { ags_store::free(store) }
    })
}

/// Where the store lives, as a new string: its directory, or its URL
/// without the password.
#[no_mangle]
pub unsafe extern "C" fn ags_store_location(
    store: *const ags_store,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let out = out!(out)?;
        out.write_string(store.location())
    })
}

/// The base directory of a filesystem store, as a new string; a server
/// store has none (`AGS_INVALID_ARGUMENT`).
#[no_mangle]
pub unsafe extern "C" fn ags_store_base_dir(
    store: *const ags_store,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let out = out!(out)?;
        let dir = store
            .base_dir()
            .ok_or_else(|| Error::invalid(format!("{} has no base directory", store.location())))?;
        out.write_string(dir.to_string_lossy().into_owned())
    })
}

/// The directory of a session (it may not exist yet), as a new string.
#[no_mangle]
pub unsafe extern "C" fn ags_store_session_dir(
    store: *const ags_store,
    session_id: *const c_char,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out)?;
        out.write_string(
            store
                .session_dir(session_id)?
                .to_string_lossy()
                .into_owned(),
        )
    })
}

/// Whether the store was opened in batched mode.
#[no_mangle]
pub unsafe extern "C" fn ags_store_is_batched(
    store: *const ags_store,
    out: *mut bool,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        out!(out)?.write(store.is_batched());
        Ok(())
    })
}

/// Whether `ags_store_close` was called on this store (through any handle).
#[no_mangle]
pub unsafe extern "C" fn ags_store_is_closed(
    store: *const ags_store,
    out: *mut bool,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        out!(out)?.write(store.is_closed());
        Ok(())
    })
}

/// The options object of `ags_store_create`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateArgs {
    session_id: Option<String>,
    acp_server: String,
    working_dir: String,
    acp_command: Option<String>,
    name: Option<String>,
    description: Option<String>,
}

/// Creates a session. `options_json` is an object:
/// `{"acp_server": str, "working_dir": str, "session_id"?: str,
/// "acp_command"?: str, "name"?: str, "description"?: str}`; without
/// `session_id` one is generated (`YYYYMMDD-HHMMSS-<8 hex>`). `*out_metadata_json`
/// (may be NULL) receives the new session's metadata object.
#[no_mangle]
pub unsafe extern "C" fn ags_store_create(
    store: *const ags_store,
    options_json: *const c_char,
    out_metadata_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let args: CreateArgs = json(string!(options_json)?, "options_json")?;
        let out = opt_out!(out_metadata_json);
        let meta = store.create(&CreateOptions {
            session_id: args.session_id,
            acp_server: args.acp_server,
            working_dir: args.working_dir,
            acp_command: args.acp_command,
            name: args.name,
            description: args.description,
        })?;
        write_optional(out, || out_json::metadata(&meta))
    })
}

/// Appends one event to a session. `data_json` is the event's data (an
/// object for the types the format defines, any JSON for other types);
/// `timestamp` is RFC 3339 or NULL for now. `*out_seq` (may be NULL)
/// receives the event's seq.
#[no_mangle]
pub unsafe extern "C" fn ags_store_append_event(
    store: *const ags_store,
    session_id: *const c_char,
    event_type: *const c_char,
    data_json: *const c_char,
    timestamp: *const c_char,
    out_seq: *mut u64,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let event = NewEvent {
            event_type: string!(event_type)?.to_string(),
            data: json(string!(data_json)?, "data_json")?,
            timestamp: opt_string!(timestamp)?.map(str::to_string),
        };
        let out = opt_out!(out_seq);
        let seq = store.append_event(session_id, event)?;
        if let Some(out) = out {
            out.write(seq);
        }
        Ok(())
    })
}

/// One event of `ags_store_append_events`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventArg {
    #[serde(rename = "type")]
    event_type: String,
    data: Value,
    timestamp: Option<String>,
}

/// Appends several events in one write and one metadata update.
/// `events_json` is an array of `{"type": str, "data": any, "timestamp"?: str}`;
/// `*out_seqs_json` (may be NULL) receives the array of their seqs.
#[no_mangle]
pub unsafe extern "C" fn ags_store_append_events(
    store: *const ags_store,
    session_id: *const c_char,
    events_json: *const c_char,
    out_seqs_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let events: Vec<EventArg> = json(string!(events_json)?, "events_json")?;
        let out = opt_out!(out_seqs_json);
        let events = events
            .into_iter()
            .map(|e| NewEvent {
                event_type: e.event_type,
                data: e.data,
                timestamp: e.timestamp,
            })
            .collect();
        let seqs = store.append_events(session_id, events)?;
        write_optional(out, || out_json::text(&seqs))
    })
}

/// The session's metadata object, as the file has it (the zero time
/// `0001-01-01T00:00:00Z` kept as written).
#[no_mangle]
pub unsafe extern "C" fn ags_store_metadata(
    store: *const ags_store,
    session_id: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out_json)?;
        out.write_string(out_json::metadata(&store.metadata(session_id)?))
    })
}

/// Changes metadata fields: `fields_json` is an object of the fields to set
/// (`null` removes an optional or unknown field; `session_id`, `created_at`
/// and `event_count` cannot be changed; `updated_at` is stamped unless
/// given). `*out_json` (may be NULL) receives the new metadata.
#[no_mangle]
pub unsafe extern "C" fn ags_store_update_metadata(
    store: *const ags_store,
    session_id: *const c_char,
    fields_json: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let fields: Map<String, Value> = json(string!(fields_json)?, "fields_json")?;
        let out = opt_out!(out_json);
        let meta = store.update_metadata_fields(session_id, &fields)?;
        write_optional(out, || out_json::metadata(&meta))
    })
}

/// The events with `seq > after_seq` (0 = all), oldest first, as a JSON
/// array. Corrupt lines are skipped and described by `ags_last_warning()`;
/// with `strict` the call fails with `AGS_CORRUPT_DATA` instead.
#[no_mangle]
pub unsafe extern "C" fn ags_store_events(
    store: *const ags_store,
    session_id: *const c_char,
    after_seq: u64,
    strict: bool,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out_json)?;
        let read = store.events(session_id, after_seq)?;
        let events = if strict {
            read.strict()?
        } else {
            warn_skipped(&read.skipped);
            read.events
        };
        out.write_string(out_json::text(&events))
    })
}

/// The last `limit` events with `seq < before_seq` (0 = no bound), as a JSON
/// array, oldest first, or newest first when `reverse`. Reads backwards from
/// the end of the log. Corrupt lines are skipped and described by
/// `ags_last_warning()`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_events_last(
    store: *const ags_store,
    session_id: *const c_char,
    limit: usize,
    before_seq: u64,
    reverse: bool,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out_json)?;
        let read = store.events_last(session_id, limit, before_seq, reverse)?;
        warn_skipped(&read.skipped);
        out.write_string(out_json::text(&read.events))
    })
}

/// The metadata of every session, sorted by id, as a JSON array. Sessions
/// whose metadata cannot be read are left out and described by
/// `ags_last_warning()`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_list(
    store: *const ags_store,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let out = out!(out_json)?;
        let list = store.list()?;
        if !list.skipped.is_empty() {
            let msg: Vec<String> = list
                .skipped
                .iter()
                .map(|s| format!("session {} skipped: {}", s.session_id, s.error))
                .collect();
            error::warn(&msg.join("; "));
        }
        let all: Vec<&Map<String, Value>> = list.sessions.iter().map(|m| m.fields()).collect();
        out.write_string(out_json::text(&all))
    })
}

/// Whether the session exists.
#[no_mangle]
pub unsafe extern "C" fn ags_store_exists(
    store: *const ags_store,
    session_id: *const c_char,
    out: *mut bool,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out)?;
        out.write(store.exists(session_id)?);
        Ok(())
    })
}

/// Deletes a session and all its files.
#[no_mangle]
pub unsafe extern "C" fn ags_store_delete(
    store: *const ags_store,
    session_id: *const c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        store.delete(string!(session_id)?)?;
        Ok(())
    })
}

/// Writes every metadata update batched mode deferred.
#[no_mangle]
pub unsafe extern "C" fn ags_store_flush(store: *const ags_store) -> ags_status {
    ffi_boundary!({
        handle!(store)?.flush()?;
        Ok(())
    })
}

/// Flushes and closes the store: every later call on it (through any handle,
/// recorder or player made from it) fails with `AGS_STORE_CLOSED`. Closing
/// twice is fine. The handle must still be freed.
#[no_mangle]
pub unsafe extern "C" fn ags_store_close(store: *const ags_store) -> ags_status {
    ffi_boundary!({
        handle!(store)?.close()?;
        Ok(())
    })
}
