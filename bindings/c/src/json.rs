//! The JSON shapes of results: metadata objects exactly as the file has
//! them, events as `{"seq","type","timestamp","data"}` objects (plus any
//! unknown top-level fields), and the small result records.

use agentsession::eventlog::CorruptLine;
use agentsession::store::describe_skipped;
use agentsession::{ImageInfo, Metadata, PruneResult};
use serde::Serialize;
use serde_json::{json, Value};

use crate::error;

/// Compact JSON text of a value.
pub(crate) fn text<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("JSON values and events always serialize")
}

/// A metadata object as JSON text.
pub(crate) fn metadata(m: &Metadata) -> String {
    text(m.fields())
}

/// An image record.
pub(crate) fn image_info(i: &ImageInfo) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "mime_type": i.mime_type,
        "size": i.size,
        "created_at": i.created_at.as_ref().map(agentsession::timefmt::format),
    })
}

/// What a prune removed, or `null` when nothing was.
pub(crate) fn prune_result(r: Option<PruneResult>) -> Value {
    r.map_or(Value::Null, |r| {
        json!({
            "events_removed": r.events_removed,
            "images_removed": r.images_removed,
            "bytes_reclaimed": r.bytes_reclaimed,
        })
    })
}

/// Makes skipped corrupt lines the call's warning (`ags_last_warning`).
pub(crate) fn warn_skipped(skipped: &[CorruptLine]) {
    if let Some(msg) = describe_skipped(skipped) {
        error::warn(&msg);
    }
}
