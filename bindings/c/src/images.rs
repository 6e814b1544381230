//! Images and pruning on `ags_store`.

use agentsession::PruneLimits;
use std::ffi::c_char;

use crate::args::{seconds, write_optional};
use crate::error::ags_status;
use crate::json::{self as out_json, image_info};
use crate::store::ags_store;

/// Saves an image of `len` bytes for a session. `mime_type` may be NULL or
/// empty (the bytes decide); a declared type that is not png, jpeg, gif or
/// webp is refused. `name` (may be NULL) is the original file name.
/// `*out_json` (may be NULL) receives
/// `{"id","name","mime_type","size","created_at"}`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_save_image(
    store: *const ags_store,
    session_id: *const c_char,
    data: *const u8,
    len: usize,
    mime_type: *const c_char,
    name: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let data = bytes!(data, len)?;
        let mime_type = opt_string!(mime_type)?.unwrap_or("");
        let name = opt_string!(name)?;
        let out = opt_out!(out_json);
        let info = store.save_image(session_id, data, mime_type, name)?;
        write_optional(out, || out_json::text(&image_info(&info)))
    })
}

/// The bytes of a stored image: `*out_data` receives a buffer of
/// `*out_len` bytes, freed with `ags_bytes_free(data, len)`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_image_data(
    store: *const ags_store,
    session_id: *const c_char,
    image_id: *const c_char,
    out_data: *mut *mut u8,
    out_len: *mut usize,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let image_id = string!(image_id)?;
        let data = out!(out_data)?;
        let len = out!(out_len)?;
        data.write_bytes(store.image_data(session_id, image_id)?, len);
        Ok(())
    })
}

/// The path of a stored image of a filesystem store, as a new string (a
/// server store has none: `AGS_INVALID_ARGUMENT`; use `ags_store_image_data`).
#[no_mangle]
pub unsafe extern "C" fn ags_store_image_path(
    store: *const ags_store,
    session_id: *const c_char,
    image_id: *const c_char,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let image_id = string!(image_id)?;
        let out = out!(out)?;
        let path = store.image_path(session_id, image_id)?;
        out.write_string(path.to_string_lossy().into_owned())
    })
}

/// The session's images, sorted by id, as a JSON array of
/// `{"id","name","mime_type","size","created_at"}`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_list_images(
    store: *const ags_store,
    session_id: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out_json)?;
        let images: Vec<_> = store
            .list_images(session_id)?
            .iter()
            .map(image_info)
            .collect();
        out.write_string(out_json::text(&images))
    })
}

/// Deletes a stored image.
#[no_mangle]
pub unsafe extern "C" fn ags_store_delete_image(
    store: *const ags_store,
    session_id: *const c_char,
    image_id: *const c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        store.delete_image(string!(session_id)?, string!(image_id)?)?;
        Ok(())
    })
}

/// Removes images older than `max_age_s` seconds from sessions not updated
/// within the last `preserve_recent_s` seconds; `*out_removed` (may be NULL)
/// receives how many were removed.
#[no_mangle]
pub unsafe extern "C" fn ags_store_cleanup_old_images(
    store: *const ags_store,
    max_age_s: f64,
    preserve_recent_s: f64,
    out_removed: *mut usize,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let max_age = seconds(max_age_s, "max_age_s")?;
        let preserve_recent = seconds(preserve_recent_s, "preserve_recent_s")?;
        let out = opt_out!(out_removed);
        let removed = store.cleanup_old_images(max_age, preserve_recent)?;
        if let Some(out) = out {
            out.write(removed);
        }
        Ok(())
    })
}

/// Keeps a session under `max_messages` events and/or `max_size_bytes` bytes
/// of log plus images (0 = no limit) by dropping its oldest events,
/// renumbering the rest from 1 and deleting images no remaining event refers
/// to. `*out_json` (may be NULL) receives
/// `{"events_removed","images_removed","bytes_reclaimed"}`, or `null` when
/// nothing was removed.
#[no_mangle]
pub unsafe extern "C" fn ags_store_prune_if_needed(
    store: *const ags_store,
    session_id: *const c_char,
    max_messages: usize,
    max_size_bytes: u64,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = opt_out!(out_json);
        let limits = PruneLimits {
            max_messages,
            max_size_bytes,
        };
        let result = store.prune_if_needed(session_id, limits)?;
        write_optional(out, || out_json::text(&out_json::prune_result(result)))
    })
}
