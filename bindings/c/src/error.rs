//! The status codes, their messages, and the thread-local last error and
//! last warning.
//!
//! The numbers are stable: a code keeps its number forever, and a retired
//! code stays here as a comment so its number is never reused.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::ptr;

use agentsession::{AuxiliaryErrorKind, Error};

/// Result of every fallible function. `AGS_OK` is success; any other value
/// is a failure whose description `ags_last_error()` returns.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ags_status {
    /// Success.
    AGS_OK = 0,
    /// No session with this id exists in the store.
    AGS_SESSION_NOT_FOUND = 1,
    /// Another live process holds the session's lock.
    AGS_SESSION_LOCKED = 2,
    /// The lock holder is processing a prompt; only an interrupt may take it.
    AGS_SESSION_PROCESSING = 3,
    /// The lock holder waits for a permission answer; only an interrupt may take it.
    AGS_WAITING_FOR_PERMISSION = 4,
    /// This lock handle no longer owns the session lock.
    AGS_LOCK_NOT_HELD = 5,
    /// The store was closed.
    AGS_STORE_CLOSED = 6,
    /// Pop on an empty queue.
    AGS_QUEUE_EMPTY = 7,
    /// Add on a full queue.
    AGS_QUEUE_FULL = 8,
    /// No queued message with this id.
    AGS_MESSAGE_NOT_FOUND = 9,
    /// No image with this id in the session.
    AGS_IMAGE_NOT_FOUND = 10,
    /// The image exceeds the per-image size limit.
    AGS_IMAGE_TOO_LARGE = 11,
    /// The image is not png, jpeg, gif or webp.
    AGS_UNSUPPORTED_IMAGE_FORMAT = 12,
    /// The session already holds the maximum number of images.
    AGS_SESSION_IMAGE_LIMIT = 13,
    /// The session's images would exceed the total storage limit.
    AGS_STORAGE_LIMIT = 14,
    /// A bad argument: id, JSON, direction, UTF-8, range...
    AGS_INVALID_ARGUMENT = 15,
    /// A file holds data that cannot be parsed (the message names file and line).
    AGS_CORRUPT_DATA = 16,
    /// An operating-system error (the message names the path).
    AGS_IO = 17,
    /// Auxiliary session: `initialize` was never called.
    AGS_AUXILIARY_NOT_INITIALIZED = 20,
    /// Auxiliary session: the agent process could not be started.
    AGS_AUXILIARY_START_FAILED = 21,
    /// Auxiliary session: the agent broke the protocol or answered with an error.
    AGS_AUXILIARY_PROTOCOL = 22,
    /// Auxiliary session: the agent did not answer in time.
    AGS_AUXILIARY_TIMEOUT = 23,
    /// Auxiliary session: the agent process exited.
    AGS_AUXILIARY_EXITED = 24,
    /// Auxiliary session: a failure of a kind newer than this list.
    AGS_AUXILIARY_OTHER = 29,
    /// A required pointer parameter was NULL.
    AGS_NULL_PARAMETER = 90,
    /// The library panicked; the call had no effect it could vouch for.
    AGS_PANIC = 91,
    /// A failure of a kind newer than this list (the message says what).
    AGS_OTHER = 99,
}

use ags_status::*;

/// Why a call failed, before it becomes a status and a message.
#[derive(Debug)]
pub(crate) enum Failure {
    /// An error of the core library.
    Core(Error),
    /// A required pointer parameter (named) was NULL.
    Null(&'static str),
    /// A panic, with its message.
    Panic(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl Failure {
    /// An invalid-argument failure.
    pub(crate) fn invalid(msg: impl Into<String>) -> Failure {
        Failure::Core(Error::invalid(msg))
    }

    /// The status code.
    pub(crate) fn status(&self) -> ags_status {
        match self {
            Failure::Core(e) => status_of(e),
            Failure::Null(_) => AGS_NULL_PARAMETER,
            Failure::Panic(_) => AGS_PANIC,
        }
    }

    /// The message `ags_last_error` gives.
    pub(crate) fn message(&self) -> String {
        match self {
            Failure::Core(e) => e.to_string(),
            Failure::Null(name) => format!("parameter {name} is NULL"),
            Failure::Panic(msg) => format!("internal error (panic): {msg}"),
        }
    }
}

/// The status of a core error.
fn status_of(e: &Error) -> ags_status {
    match e {
        Error::SessionNotFound(_) => AGS_SESSION_NOT_FOUND,
        Error::SessionLocked { .. } => AGS_SESSION_LOCKED,
        Error::SessionProcessing { .. } => AGS_SESSION_PROCESSING,
        Error::WaitingForPermission { .. } => AGS_WAITING_FOR_PERMISSION,
        Error::LockNotHeld(_) => AGS_LOCK_NOT_HELD,
        Error::StoreClosed => AGS_STORE_CLOSED,
        Error::QueueEmpty => AGS_QUEUE_EMPTY,
        Error::QueueFull(_) => AGS_QUEUE_FULL,
        Error::MessageNotFound(_) => AGS_MESSAGE_NOT_FOUND,
        Error::ImageNotFound(_) => AGS_IMAGE_NOT_FOUND,
        Error::ImageTooLarge { .. } => AGS_IMAGE_TOO_LARGE,
        Error::UnsupportedImageFormat(_) => AGS_UNSUPPORTED_IMAGE_FORMAT,
        Error::SessionImageLimit(_) => AGS_SESSION_IMAGE_LIMIT,
        Error::StorageLimit { .. } => AGS_STORAGE_LIMIT,
        Error::InvalidArgument(_) => AGS_INVALID_ARGUMENT,
        Error::CorruptData { .. } => AGS_CORRUPT_DATA,
        Error::Io { .. } => AGS_IO,
        Error::Auxiliary { kind, .. } => match kind {
            AuxiliaryErrorKind::NotInitialized => AGS_AUXILIARY_NOT_INITIALIZED,
            AuxiliaryErrorKind::StartFailed => AGS_AUXILIARY_START_FAILED,
            AuxiliaryErrorKind::Protocol => AGS_AUXILIARY_PROTOCOL,
            AuxiliaryErrorKind::Timeout => AGS_AUXILIARY_TIMEOUT,
            AuxiliaryErrorKind::Exited => AGS_AUXILIARY_EXITED,
            _ => AGS_AUXILIARY_OTHER,
        },
        _ => AGS_OTHER,
    }
}

/// Each status with its fixed description.
///
/// cbindgen:ignore
const DESCRIPTIONS: [(ags_status, &CStr); 27] = [
    (AGS_OK, c"success"),
    (AGS_SESSION_NOT_FOUND, c"session not found"),
    (AGS_SESSION_LOCKED, c"session locked"),
    (AGS_SESSION_PROCESSING, c"session processing"),
    (AGS_WAITING_FOR_PERMISSION, c"waiting for permission"),
    (AGS_LOCK_NOT_HELD, c"lock not held"),
    (AGS_STORE_CLOSED, c"store closed"),
    (AGS_QUEUE_EMPTY, c"queue empty"),
    (AGS_QUEUE_FULL, c"queue full"),
    (AGS_MESSAGE_NOT_FOUND, c"message not found"),
    (AGS_IMAGE_NOT_FOUND, c"image not found"),
    (AGS_IMAGE_TOO_LARGE, c"image too large"),
    (AGS_UNSUPPORTED_IMAGE_FORMAT, c"unsupported image format"),
    (AGS_SESSION_IMAGE_LIMIT, c"session image limit reached"),
    (AGS_STORAGE_LIMIT, c"session image storage limit reached"),
    (AGS_INVALID_ARGUMENT, c"invalid argument"),
    (AGS_CORRUPT_DATA, c"corrupt data"),
    (AGS_IO, c"I/O error"),
    (
        AGS_AUXILIARY_NOT_INITIALIZED,
        c"auxiliary session not initialized",
    ),
    (
        AGS_AUXILIARY_START_FAILED,
        c"auxiliary agent failed to start",
    ),
    (AGS_AUXILIARY_PROTOCOL, c"auxiliary session protocol error"),
    (AGS_AUXILIARY_TIMEOUT, c"auxiliary session timeout"),
    (AGS_AUXILIARY_EXITED, c"auxiliary agent exited"),
    (AGS_AUXILIARY_OTHER, c"auxiliary session error"),
    (AGS_NULL_PARAMETER, c"NULL parameter"),
    (AGS_PANIC, c"internal error (panic)"),
    (AGS_OTHER, c"other error"),
];

/// The fixed description of a status number.
fn describe(code: c_int) -> &'static CStr {
    DESCRIPTIONS
        .iter()
        .find(|(status, _)| *status as c_int == code)
        .map_or(c"unknown status code", |(_, text)| text)
}

/// A fixed, static description of a status code (e.g. `"session not found"`);
/// never NULL, `"unknown status code"` for numbers that are not a status.
/// For the description of the failure itself use `ags_last_error()`.
#[no_mangle]
pub extern "C" fn ags_status_message(code: c_int) -> *const c_char {
    ffi_boundary!(on_panic = c"internal error (panic)".as_ptr(), {
        describe(code).as_ptr()
    })
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
    static LAST_WARNING: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// A C string of `msg`, NUL bytes replaced so nothing is cut off.
fn c_message(msg: &str) -> CString {
    CString::new(msg.replace('\0', "\u{FFFD}")).expect("NUL bytes were replaced")
}

/// Forgets the last error and warning (at the start of every call).
pub(crate) fn clear() {
    LAST_ERROR.with(|e| e.borrow_mut().take());
    LAST_WARNING.with(|w| w.borrow_mut().take());
}

/// Records a failure as the thread's last error; returns its status.
pub(crate) fn record(failure: &Failure) -> ags_status {
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(c_message(&failure.message())));
    failure.status()
}

/// Records a warning of a call that succeeded.
pub(crate) fn warn(msg: &str) {
    LAST_WARNING.with(|w| *w.borrow_mut() = Some(c_message(msg)));
}

fn current(slot: &'static std::thread::LocalKey<RefCell<Option<CString>>>) -> *const c_char {
    slot.with(|s| s.borrow().as_ref().map_or(ptr::null(), |m| m.as_ptr()))
}

/// The description of the failure of the last call on this thread that
/// returned a status, or NULL when that call succeeded. The string belongs to
/// the library and stays valid until the next such call on this thread.
#[no_mangle]
pub extern "C" fn ags_last_error() -> *const c_char {
    ffi_boundary!(on_panic = ptr::null(), { current(&LAST_ERROR) })
}

/// What the last call on this thread skipped while succeeding (e.g. corrupt
/// lines of an event log, naming file and line), or NULL when it skipped
/// nothing. Valid until the next call on this thread that returns a status.
#[no_mangle]
pub extern "C" fn ags_last_warning() -> *const c_char {
    ffi_boundary!(on_panic = ptr::null(), { current(&LAST_WARNING) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_description() {
        let mut texts = std::collections::HashSet::new();
        let mut codes = std::collections::HashSet::new();
        for (status, text) in DESCRIPTIONS {
            assert!(texts.insert(text), "{text:?} repeats");
            assert!(codes.insert(status as c_int), "{status:?} repeats");
            assert_eq!(describe(status as c_int), text);
        }
        assert_eq!(describe(-1), c"unknown status code");
        assert_eq!(describe(18), c"unknown status code");
    }

    #[test]
    fn core_errors_map_to_their_kind() {
        let cases = [
            (Error::SessionNotFound("s".into()), AGS_SESSION_NOT_FOUND),
            (Error::StoreClosed, AGS_STORE_CLOSED),
            (Error::QueueFull(3), AGS_QUEUE_FULL),
            (Error::invalid("x"), AGS_INVALID_ARGUMENT),
            (
                Error::auxiliary(AuxiliaryErrorKind::Timeout, "slow"),
                AGS_AUXILIARY_TIMEOUT,
            ),
        ];
        for (e, status) in cases {
            assert_eq!(status_of(&e), status, "{e}");
        }
    }
}
