//! The process-wide auxiliary session: a hidden ACP session for utility
//! prompts (titles, prompt improvement, follow-up suggestions), with its
//! agent started on the first request.
//!
//! Every function is thread-safe; requests are served one at a time.
//!
//! The library writes requests to the agent's stdin. A C host usually keeps
//! SIGPIPE at its default action, which would kill the host when the agent
//! has exited before reading; so `ags_auxiliary_initialize` sets SIGPIPE to
//! "ignore" when (and only when) it is at that default, and such a write
//! fails with EPIPE instead, reported as `AGS_AUXILIARY_EXITED`.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use agentsession::auxiliary;

use crate::args::seconds;
use crate::error::ags_status;
use crate::json as out_json;
use crate::queue::ags_queue;

/// Records the agent command line of the auxiliary session (split like a
/// shell would, quotes included) and its working directory (`cwd` may be NULL
/// for the current directory). Starts nothing: the agent starts on the first
/// request; an agent started with another command or directory is stopped.
/// If SIGPIPE is at its default action (terminate the process), it is set to
/// "ignore", so that an agent exiting early cannot kill the host; a host's
/// own SIGPIPE disposition or handler is left as it is.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_initialize(
    command: *const c_char,
    cwd: *const c_char,
) -> ags_status {
    ffi_boundary!({
        let command = string!(command)?;
        let cwd = opt_string!(cwd)?;
        auxiliary::initialize(command, cwd.map(std::path::Path::new))?;
        ignore_sigpipe_if_default();
        Ok(())
    })
}

/// Sets SIGPIPE to "ignore" if it is at its default action (terminate); a
/// disposition or handler the host chose is left alone.
fn ignore_sigpipe_if_default() {
    // SAFETY: `sigaction` with a NULL new action only reads the current
    // disposition into `current`, a zeroed `struct sigaction` we own.
    let current = unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut current) != 0 {
            return;
        }
        current
    };
    if current.sa_sigaction != libc::SIG_DFL {
        return;
    }
    // SAFETY: installs the "ignore" disposition, a valid `struct sigaction`
    // built from zeroes (no flags, empty mask) with the handler SIG_IGN.
    unsafe {
        let mut ignore: libc::sigaction = std::mem::zeroed();
        ignore.sa_sigaction = libc::SIG_IGN;
        libc::sigaction(libc::SIGPIPE, &ignore, std::ptr::null_mut());
    }
}

/// Sets the timeout (seconds, > 0) of the title, improvement and follow-up
/// calls; the default is 30.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_set_default_timeout(timeout_s: f64) -> ags_status {
    ffi_boundary!({
        auxiliary::set_default_timeout(seconds(timeout_s, "timeout_s")?)?;
        Ok(())
    })
}

/// The timeout of the title, improvement and follow-up calls, in seconds.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_default_timeout(out_s: *mut f64) -> ags_status {
    ffi_boundary!({
        out!(out_s)?.write(auxiliary::global().default_timeout().as_secs_f64());
        Ok(())
    })
}

/// Sends `text` as one turn (starting the agent if needed) and writes the
/// agent's reply text, trimmed. `timeout_s` (> 0) covers the wait for earlier
/// requests, the agent's start and the turn; past it the call fails with
/// `AGS_AUXILIARY_TIMEOUT`. Other failures: `AGS_AUXILIARY_NOT_INITIALIZED`,
/// `AGS_AUXILIARY_START_FAILED`, `AGS_AUXILIARY_PROTOCOL`, `AGS_AUXILIARY_EXITED`.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_prompt(
    text: *const c_char,
    timeout_s: f64,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let text = string!(text)?;
        let timeout = seconds(timeout_s, "timeout_s")?;
        let out = out!(out)?;
        out.write_string(auxiliary::prompt(text, timeout)?)
    })
}

/// A title of two or three words (at most 50 characters) for a conversation
/// starting with `first_message`; `""` if the agent gave nothing usable.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_generate_title(
    first_message: *const c_char,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let first_message = string!(first_message)?;
        let out = out!(out)?;
        out.write_string(auxiliary::generate_title(first_message)?)
    })
}

/// A title (at most 30 characters) for a queued message, of which the agent
/// sees at most 500 characters; `""` if the agent gave nothing usable.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_generate_queued_message_title(
    message: *const c_char,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let message = string!(message)?;
        let out = out!(out)?;
        out.write_string(auxiliary::generate_queued_message_title(message)?)
    })
}

/// A clearer, more specific version of a user's prompt.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_improve_prompt(
    prompt: *const c_char,
    out: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let prompt = string!(prompt)?;
        let out = out!(out)?;
        out.write_string(auxiliary::improve_prompt(prompt)?)
    })
}

/// Suggested answers to an agent's reply, as a JSON array of
/// `{"label","value"}` (at most 5; `[]` when the auxiliary agent's answer
/// holds no readable suggestions).
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_analyze_follow_up_questions(
    agent_reply: *const c_char,
    out_json: *mut *mut c_char,
) -> ags_status {
    ffi_boundary!({
        let agent_reply = string!(agent_reply)?;
        let out = out!(out_json)?;
        let follow_ups = auxiliary::analyze_follow_up_questions(agent_reply)?;
        out.write_string(out_json::text(&follow_ups))
    })
}

/// Asks the background title worker (started on first use) to give the
/// queued message `message_id` of `queue` a title through the auxiliary
/// session. `*out_taken` (may be NULL) tells whether the request was taken;
/// it is dropped, with a logged warning, when the worker's backlog is full.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_request_queued_message_title(
    queue: *const ags_queue,
    message_id: *const c_char,
    out_taken: *mut bool,
) -> ags_status {
    ffi_boundary!({
        let queue = handle!(queue)?;
        let message_id = string!(message_id)?;
        let out = opt_out!(out_taken);
        let taken = auxiliary::request_queued_message_title(queue, message_id);
        if let Some(out) = out {
            out.write(taken);
        }
        Ok(())
    })
}

/// Whether the auxiliary agent process is running.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_is_started(out: *mut bool) -> ags_status {
    ffi_boundary!({
        out!(out)?.write(auxiliary::is_started());
        Ok(())
    })
}

/// The process id of the running auxiliary agent, or 0 when none runs.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_pid(out: *mut u32) -> ags_status {
    ffi_boundary!({
        out!(out)?.write(auxiliary::global().pid().unwrap_or(0));
        Ok(())
    })
}

/// Stops the title worker and the agent (waiting for it to exit) and forgets
/// the command; a request in flight fails. Calling it again is harmless.
#[no_mangle]
pub extern "C" fn ags_auxiliary_shutdown() -> ags_status {
    ffi_boundary!({
        auxiliary::shutdown();
        Ok(())
    })
}

/// Receives each `session/update` notification of the auxiliary agent (the
/// whole JSON-RPC message as JSON text, valid during the call), in order, on
/// the library's thread that reads the agent's output: it should return
/// quickly and must not unwind.
pub type ags_update_observer_fn =
    Option<unsafe extern "C" fn(notification_json: *const c_char, user_data: *mut c_void)>;

/// The host's observer and its `user_data`.
struct Observer {
    callback: unsafe extern "C" fn(*const c_char, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: `ags_auxiliary_set_update_observer` documents that the callback
// and `user_data` must be usable from the library's reader thread, and
// that the callback may be called from there while other threads call in.
unsafe impl Send for Observer {}
// SAFETY: as above; the library only reads the two pointers.
unsafe impl Sync for Observer {}

impl Observer {
    /// Hands one notification to the host's callback.
    fn deliver(&self, notification: &serde_json::Value) {
        // JSON text never holds a raw NUL (it is escaped as \u0000).
        let Ok(text) = CString::new(out_json::text(notification)) else {
            return;
        };
        // SAFETY: the host gave this callback and pointer for exactly this
        // use; see `ags_update_observer_fn`.
        unsafe { (self.callback)(text.as_ptr(), self.user_data) }
    }
}

/// Sets (or, with a NULL `observer`, removes) the function that sees every
/// `session/update` notification of the auxiliary agent, e.g. to record them
/// with `ags_recorder_record_acp_update`. `user_data` is passed back to it and
/// must stay valid, and usable from another thread, until the observer is
/// replaced or removed. All updates of a turn have been delivered when the
/// turn's call returns.
#[no_mangle]
pub unsafe extern "C" fn ags_auxiliary_set_update_observer(
    observer: ags_update_observer_fn,
    user_data: *mut c_void,
) -> ags_status {
    ffi_boundary!({
        let observer = observer.map(|callback| {
            let host = Observer {
                callback,
                user_data,
            };
            let f: auxiliary::UpdateObserver = Arc::new(move |n| host.deliver(n));
            f
        });
        auxiliary::global().set_update_observer(observer);
        Ok(())
    })
}
