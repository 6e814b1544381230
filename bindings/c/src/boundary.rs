//! The panic boundary. Every exported function's body runs inside
//! [`ffi_boundary!`], so a panic never unwinds into the host (since Rust 1.81
//! that would abort the process): it becomes `AGS_PANIC` with the panic's
//! message as the last error, or the function's fallback value.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{self, ags_status, Failure};

/// Wraps an exported function's body.
///
/// - `ffi_boundary!({ ... })`: the body returns `Result<(), Failure>`; the
///   macro clears the thread's last error and warning, runs it, and returns
///   the status (recording the failure's message).
/// - `ffi_boundary!(on_panic = value, { ... })`: the body returns the
///   function's value directly; a panic returns `value`.
macro_rules! ffi_boundary {
    ($body:block) => {
        $crate::boundary::status(
            move || -> ::std::result::Result<(), $crate::error::Failure> { $body },
        )
    };
    (on_panic = $fallback:expr, $body:block) => {
        $crate::boundary::value($fallback, move || $body)
    };
}

/// Runs a fallible body; see [`ffi_boundary!`].
pub(crate) fn status(f: impl FnOnce() -> Result<(), Failure>) -> ags_status {
    error::clear();
    let failure = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => return ags_status::AGS_OK,
        Ok(Err(failure)) => failure,
        Err(payload) => Failure::Panic(panic_message(payload.as_ref())),
    };
    error::record(&failure)
}

/// Runs an infallible body; see [`ffi_boundary!`].
pub(crate) fn value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(payload) => {
            error::record(&Failure::Panic(panic_message(payload.as_ref())));
            fallback
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::{c_char, CStr};

    use crate::{ags_last_error, ags_status};

    // Test-only entry points that panic, called through the C ABI exactly as
    // a host calls the exported functions.
    extern "C" fn panics_with_status() -> ags_status {
        ffi_boundary!({ panic!("deliberate panic") })
    }

    extern "C" fn panics_with_value() -> *const c_char {
        ffi_boundary!(on_panic = std::ptr::null(), {
            std::panic::panic_any(42u8);
        })
    }

    fn last_error() -> String {
        let p = ags_last_error();
        assert!(!p.is_null());
        // SAFETY: ags_last_error returns NULL or a NUL-terminated string
        // valid until the next call on this thread.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        assert_eq!(panics_with_status(), ags_status::AGS_PANIC);
        assert!(
            last_error().contains("deliberate panic"),
            "{}",
            last_error()
        );

        assert!(panics_with_value().is_null());
        assert!(last_error().contains("unknown panic payload"));
    }
}
