//! `ags_search` and `ags_follow`: full-text search across sessions and
//! following a session as it grows; export of a session as a document.

use std::ffi::{c_char, c_void};

use agentsession::{ExportFormat, Follow, FollowOptions, FollowStopper, Search, SearchQuery};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::json;

use crate::args::{json, seconds};
use crate::error::{ags_status, Failure};
use crate::handle::Handle;
use crate::json as out_json;
use crate::progress::{ags_progress_fn, Progress};
use crate::store::ags_store;

/// A search in progress: hits stream out of `ags_search_next`, newest
/// session first.
///
/// Thread-safe: calls on one handle are serialised.
pub struct ags_search {
    _private: [u8; 0],
}

impl Handle for ags_search {
    type Inner = Mutex<Search>;
}

/// One status or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// The query object of `ags_store_search`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueryArgs {
    text: String,
    #[serde(default)]
    regex: bool,
    #[serde(default)]
    types: Vec<String>,
    status: Option<OneOrMany>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<usize>,
}

fn time_arg(
    value: Option<String>,
    name: &str,
) -> Result<Option<agentsession::timefmt::Timestamp>, Failure> {
    value
        .map(|s| {
            agentsession::timefmt::parse(&s)
                .ok_or_else(|| Failure::invalid(format!("{name} {s:?} is not an RFC 3339 time")))
        })
        .transpose()
}

/// Starts a search of every session's text. `query_json` is an object:
/// `{"text": str, "regex"?: bool, "types"?: [str], "status"?: str | [str],
/// "since"?: RFC 3339, "until"?: RFC 3339, "limit"?: int}`; literal text
/// matches case-insensitively. `progress` (may be NULL) is called with
/// `user_data` as sessions are scanned; `user_data` must be usable on every
/// thread that calls `ags_search_next`. `*out` receives the search, freed
/// with `ags_search_free`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_search(
    store: *const ags_store,
    query_json: *const c_char,
    progress: ags_progress_fn,
    user_data: *mut c_void,
    out: *mut *mut ags_search,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let args: QueryArgs = json(string!(query_json)?, "query_json")?;
        let out = out!(out)?;
        let query = SearchQuery {
            text: args.text,
            regex: args.regex,
            types: args.types,
            statuses: match args.status {
                None => Vec::new(),
                Some(OneOrMany::One(s)) => vec![s],
                Some(OneOrMany::Many(v)) => v,
            },
            since: time_arg(args.since, "since")?,
            until: time_arg(args.until, "until")?,
            limit: args.limit,
        };
        let mut search = store.search(query)?;
        if let Some(progress) = Progress::new(progress, user_data) {
            search = search.with_progress(move |done, total| progress.report(done, total));
        }
        out.write(ags_search::into_raw(Mutex::new(search)));
        Ok(())
    })
}

/// Number of sessions the search scans.
#[no_mangle]
pub unsafe extern "C" fn ags_search_session_count(
    search: *const ags_search,
    out: *mut usize,
) -> ags_status {
    ffi_boundary!({
        let search = handle!(search)?;
        out!(out)?.write(search.lock().session_count());
        Ok(())
    })
}

/// The next hit as a JSON object `{"session_id","seq","type","timestamp",
/// "field","snippet"}`, or NULL in `*out_json` when the search is done. A
/// session that cannot be read fails this call; the next call goes on with
/// the following session.
#[no_mangle]
pub unsafe extern "C" fn ags_search_next(
    search: *const ags_search,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let search = handle!(search)?;
        let out = out!(out_json)?;
        let Some(hit) = search.lock().next().transpose()? else {
            out.write(std::ptr::null_mut());
            return Ok(());
        };
        out.write_string(out_json::text(&json!({
            "session_id": hit.session_id,
            "seq": hit.seq,
            "type": hit.event_type,
            "timestamp": hit.timestamp,
            "field": hit.field,
            "snippet": hit.snippet,
        })))
    })
}

/// Frees a search. `NULL` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ags_search_free(search: *mut ags_search) {
    ffi_boundary!(on_panic = (), {
        // SAFETY: the crate's contract: NULL or a live search handle, not used again.
        unsafe { ags_search::free(search) }
    })
}

/// What an `ags_follow` handle owns: the follower and its stop switch
/// (usable while another thread waits in `next`).
pub(crate) struct Following {
    follow: Mutex<Follow>,
    stopper: FollowStopper,
}

/// Follows one session: yields its events as they are appended.
///
/// Thread-safe: `ags_follow_next` calls are serialised; `ags_follow_stop`
/// may be called from any thread while another waits in `ags_follow_next`.
pub struct ags_follow {
    _private: [u8; 0],
}

impl Handle for ags_follow {
    type Inner = Following;
}

/// Follows a session: `ags_follow_next` yields its events with
/// `seq > after_seq`, then each new event as it is appended, until
/// `session_end`, `ags_follow_stop`, or no event for `idle_timeout_s`
/// seconds (a negative value waits forever). `*out` receives the handle,
/// freed with `ags_follow_free`.
#[no_mangle]
pub unsafe extern "C" fn ags_store_follow(
    store: *const ags_store,
    session_id: *const c_char,
    after_seq: u64,
    idle_timeout_s: f64,
    out: *mut *mut ags_follow,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let out = out!(out)?;
        let idle_timeout = if idle_timeout_s < 0.0 {
            None
        } else {
            Some(seconds(idle_timeout_s, "idle_timeout_s")?)
        };
        let follow = store.follow(
            session_id,
            FollowOptions {
                after_seq,
                idle_timeout,
                ..FollowOptions::default()
            },
        )?;
        let stopper = follow.stopper();
        out.write(ags_follow::into_raw(Following {
            follow: Mutex::new(follow),
            stopper,
        }));
        Ok(())
    })
}

/// Waits for the next event and writes it as a JSON object, or NULL in
/// `*out_json` when following ended (after `session_end`, a stop or the idle
/// timeout).
#[no_mangle]
pub unsafe extern "C" fn ags_follow_next(
    follow: *const ags_follow,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let following = handle!(follow)?;
        let out = out!(out_json)?;
        match following.follow.lock().next().transpose()? {
            Some(event) => out.write_string(out_json::text(&event)),
            None => {
                out.write(std::ptr::null_mut());
                Ok(())
            }
        }
    })
}

/// Asks the follower to stop: a waiting or later `ags_follow_next` returns
/// NULL within one poll interval (a quarter second).
#[no_mangle]
pub unsafe extern "C" fn ags_follow_stop(follow: *const ags_follow) -> ags_status {
    ffi_boundary!({
        handle!(follow)?.stopper.stop();
        Ok(())
    })
}

/// Frees a follower. `NULL` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ags_follow_free(follow: *mut ags_follow) {
    ffi_boundary!(on_panic = (), {
        // SAFETY: the crate's contract: NULL or a live follow handle, not used again.
        unsafe { ags_follow::free(follow) }
    })
}

/// One session as a document: `format` is `"md"` (or `"markdown"`) for
/// Markdown, `"html"` for a self-contained HTML page (no script, images
/// inline). Everything from the session is escaped; corrupt log lines are
/// left out and named in a note.
#[no_mangle]
pub unsafe extern "C" fn ags_store_export(
    store: *const ags_store,
    session_id: *const c_char,
    format: *const c_char,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let store = handle!(store)?;
        let session_id = string!(session_id)?;
        let format: ExportFormat = string!(format)?.parse()?;
        let out = out!(out)?;
        out.write_string(store.export(session_id, format)?)
    })
}
