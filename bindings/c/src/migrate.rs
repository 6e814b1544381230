//! `ags_migrate`: copying every session of one store into another.

use std::ffi::{c_char, c_void};

use crate::error::ags_status;
use crate::json as out_json;
use crate::progress::{ags_progress_fn, Progress};
use crate::store::ags_store;

/// Copies every session of `from` into `to` (a directory into a server, a
/// server into a directory, or between two of a kind): metadata, log lines
/// byte for byte, images, queue and follow-up suggestions; not locks. A
/// session already in `to` gets only what it lacks, so a second run copies
/// nothing and an interrupted run continues where it stopped. `progress`
/// (may be NULL) is called with `user_data` after each session, on the
/// calling thread. `*out_report_json` receives `{"sessions",
/// "sessions_created","events_copied","images_copied","documents_copied",
/// "skipped":[{"session_id","error"}]}` (`skipped`: sessions of `from` that
/// could not be read, not copied).
#[no_mangle]
pub unsafe extern "C" fn ags_migrate(
    from: *const ags_store,
    to: *const ags_store,
    progress: ags_progress_fn,
    user_data: *mut c_void,
    out_report_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let from = handle!(from)?;
        let to = handle!(to)?;
        let out = out!(out_report_json)?;
        let progress = Progress::new(progress, user_data);
        let report = agentsession::migrate(from, to, |p| {
            if let Some(progress) = &progress {
                progress.report(p.sessions_done, p.sessions_total);
            }
            Ok(())
        })?;
        out.write_string(out_json::text(&report))
    })
}
