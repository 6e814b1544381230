//! `ags_queue`: the per-session queue of messages typed while the agent is busy.

use std::ffi::c_char;

use agentsession::{MoveDirection, Queue};

use crate::args::{json, write_optional};
use crate::error::ags_status;
use crate::handle::Handle;
use crate::json as out_json;
use crate::store::ags_store;

/// The default most messages a queue holds (the workspace setting
/// `max_size`); pass it to `ags_queue_add` to apply the default limit.
pub const AGS_QUEUE_DEFAULT_MAX_SIZE: usize = 10;

/// The message queue of one session.
///
/// Thread-safe: any number of threads may use one handle, and every handle
/// of the same session, in any thread or process, sees and changes the same
/// queue; no message is lost or duplicated.
pub struct ags_queue {
    _private: [u8; 0],
}

impl Handle for ags_queue {
    type Inner = Queue;
}

/// The message queue of a session (the id is checked now; a missing session
/// is reported by each call as `AGS_SESSION_NOT_FOUND`). `*out` receives the
/// handle, freed with `ags_queue_free`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_queue(
    store: *const ags_store,
    session_id: *const c_char,
    out: *mut *mut ags_queue,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out)?;
        out.write(ags_queue::into_raw(store.queue(session_id)?));
        Ok(())
    })
}

/// Frees a queue handle (the queue itself stays). `NULL` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_free(queue: *mut ags_queue) {
    ffi_boundary!(on_panic = (), {
        // SAFETY: the crate's contract: NULL or a live queue handle, not used again.
        unsafe { ags_queue::free(queue) }
    })
}

/// The session this queue belongs to, as a new string.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_session_id(
    queue: *const ags_queue,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        out!(out)?.write_string(queue.session_id().to_string())
    })
}

/// The path of `queue.json`, as a new string.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_path(
    queue: *const ags_queue,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        out!(out)?.write_string(queue.path().to_string_lossy().into_owned())
    })
}

/// Appends a message. `image_ids_json` (may be NULL) is an array of image
/// ids; `client_id` (may be NULL) names the client queueing it; `max_size`
/// is the most messages the queue may hold (0 = no limit; see
/// `AGS_QUEUE_DEFAULT_MAX_SIZE`), beyond which the call fails with
/// `AGS_QUEUE_FULL`. `*out_json` (may be NULL) receives the message as stored:
/// `{"id","message","image_ids"?,"queued_at","client_id"?,"title"?}`, the id
/// being `q-<unix seconds>-<8 hex>`.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_add(
    queue: *const ags_queue,
    message: *const c_char,
    image_ids_json: *const c_char,
    client_id: *const c_char,
    max_size: usize,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        let message = string!(message)?;
        let image_ids: Vec<String> = match opt_string!(image_ids_json)? {
            Some(text) => json(text, "image_ids_json")?,
            None => Vec::new(),
        };
        let client_id = opt_string!(client_id)?;
        let out = opt_out!(out_json);
        let msg = queue.add(message, &image_ids, client_id, max_size)?;
        write_optional(out, || out_json::text(&msg))
    })
}

/// Every queued message, front first, as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_list(
    queue: *const ags_queue,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        let out = out!(out_json)?;
        out.write_string(out_json::text(&queue.list()?))
    })
}

/// One queued message as a JSON object; `AGS_MESSAGE_NOT_FOUND` if it is not queued.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_get(
    queue: *const ags_queue,
    message_id: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        let message_id = string!(message_id)?;
        let out = out!(out_json)?;
        out.write_string(out_json::text(&queue.get(message_id)?))
    })
}

/// Removes one message; `*out_json` (may be NULL) receives it.
/// `AGS_MESSAGE_NOT_FOUND` if it is not queued.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_remove(
    queue: *const ags_queue,
    message_id: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        let message_id = string!(message_id)?;
        let out = opt_out!(out_json);
        let removed = queue.remove(message_id)?;
        write_optional(out, || out_json::text(&removed))
    })
}

/// Removes the front message and writes it to `*out_json`; `AGS_QUEUE_EMPTY`
/// when there is none.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_pop(
    queue: *const ags_queue,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        let out = out!(out_json)?;
        out.write_string(out_json::text(&queue.pop()?))
    })
}

/// Removes every message (an existing file is kept, with an empty list).
#[no_mangle]
pub unsafe extern "C" fn ags_queue_clear(queue: *const ags_queue) -> ags_status {
    ffi_boundary!({
        handle!(queue)?.clear()?;
        Ok(())
    })
}

/// Number of queued messages.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_len(queue: *const ags_queue, out: *mut usize) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        let out = out!(out)?;
        out.write(queue.len()?);
        Ok(())
    })
}

/// Whether no message is queued.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_is_empty(queue: *const ags_queue, out: *mut bool) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        let out = out!(out)?;
        out.write(queue.is_empty()?);
        Ok(())
    })
}

/// Sets a message's title (`""` removes it); `*out_json` (may be NULL)
/// receives the message. `AGS_MESSAGE_NOT_FOUND` if it is not queued.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_update_title(
    queue: *const ags_queue,
    message_id: *const c_char,
    title: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        let message_id = string!(message_id)?;
        let title = string!(title)?;
        let out = opt_out!(out_json);
        let message = queue.update_title(message_id, title)?;
        write_optional(out, || out_json::text(&message))
    })
}

/// Swaps a message with its neighbour in `direction` (`"up"`, towards the
/// front, or `"down"`; anything else is `AGS_INVALID_ARGUMENT`). Moving the
/// front message up or the last one down changes nothing. `*out_json` (may
/// be NULL) receives the new order as a JSON array.
#[no_mangle]
pub unsafe extern "C" fn ags_queue_move(
    queue: *const ags_queue,
    message_id: *const c_char,
    direction: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        let message_id = string!(message_id)?;
        let direction: MoveDirection = string!(direction)?.parse()?;
        let out = opt_out!(out_json);
        let order = queue.move_message(message_id, direction)?;
        write_optional(out, || out_json::text(&order))
    })
}

/// Removes `queue.json` (a missing file is fine); also the way to discard a
/// file that does not parse (every other call fails on it with `AGS_CORRUPT_DATA`).
#[no_mangle]
pub unsafe extern "C" fn ags_queue_delete(queue: *const ags_queue) -> ags_status {
    ffi_boundary!({
        handle!(queue)?.delete()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_max_size_is_the_core_s() {
        assert_eq!(
            super::AGS_QUEUE_DEFAULT_MAX_SIZE,
            agentsession::QueueConfig::DEFAULT_MAX_SIZE
        );
    }
}
