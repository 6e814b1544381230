//! Parameters: reading strings, bytes, JSON and handles from the host, and
//! writing out-parameters. The macros name the parameter in the error
//! message and hold the one `unsafe` block each kind of parameter needs.

use std::ffi::{c_char, CStr, CString};
use std::ptr::NonNull;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::error::Failure;

/// Borrows a required string parameter (`NULL_PARAMETER` when NULL,
/// `INVALID_ARGUMENT` when not UTF-8).
macro_rules! string {
    ($p:ident) => {
        // SAFETY: the crate's contract: a string parameter is NULL or a
        // NUL-terminated string valid for the duration of the call.
        unsafe { $crate::args::opt_string($p, stringify!($p)) }
            .and_then(|s| s.ok_or($crate::error::Failure::Null(stringify!($p))))
    };
}

/// Borrows an optional string parameter (NULL gives `None`).
macro_rules! opt_string {
    ($p:ident) => {
        // SAFETY: the crate's contract: a string parameter is NULL or a
        // NUL-terminated string valid for the duration of the call.
        unsafe { $crate::args::opt_string($p, stringify!($p)) }
    };
}

/// Borrows the value behind a handle parameter.
macro_rules! handle {
    ($p:ident) => {
        // SAFETY: the crate's contract: a handle parameter is NULL or a live
        // handle of its type made by this library.
        unsafe { $crate::handle::Handle::borrow($p, stringify!($p)) }
    };
}

/// A required out-parameter, checked before the call does any work.
macro_rules! out {
    ($p:ident) => {
        // SAFETY: the crate's contract: an out-parameter is NULL or points to
        // writable memory of its type for the duration of the call.
        unsafe { $crate::args::Out::required($p, stringify!($p)) }
    };
}

/// An out-parameter the caller may pass as NULL when it does not want the value.
macro_rules! opt_out {
    ($p:ident) => {
        // SAFETY: the crate's contract: an out-parameter is NULL or points to
        // writable memory of its type for the duration of the call.
        unsafe { $crate::args::Out::optional($p) }
    };
}

/// Borrows a `(pointer, length)` byte buffer; NULL is allowed for length 0.
macro_rules! bytes {
    ($p:ident, $len:ident) => {
        // SAFETY: the crate's contract: a buffer parameter points to `len`
        // readable bytes valid for the duration of the call.
        unsafe { $crate::args::bytes($p, $len, stringify!($p)) }
    };
}

/// Reads a string parameter.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn opt_string<'a>(
    p: *const c_char,
    name: &'static str,
) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated by this function's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map(Some).map_err(|e| {
        Failure::invalid(format!(
            "{name} is not valid UTF-8 (bad byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// Reads a byte buffer parameter.
///
/// # Safety
/// When `len > 0`, `p` is NULL or points to `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn bytes<'a>(
    p: *const u8,
    len: usize,
    name: &'static str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::Null(name));
    }
    // SAFETY: non-NULL and `len` readable bytes by this function's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Parses a JSON parameter into `T`; bad JSON or a wrong shape is `INVALID_ARGUMENT`.
pub(crate) fn json<T: DeserializeOwned>(text: &str, name: &'static str) -> Result<T, Failure> {
    serde_json::from_str(text)
        .map_err(|e| Failure::invalid(format!("{name} is not valid JSON for this call: {e}")))
}

/// A duration given as a non-negative, finite number of seconds.
pub(crate) fn seconds(value: f64, name: &'static str) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        Failure::invalid(format!(
            "{name} must be a finite number of seconds >= 0, not {value}"
        ))
    })
}

/// A checked, writable out-parameter, written once on success.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// A required out-parameter; NULL is `NULL_PARAMETER`.
    ///
    /// # Safety
    /// `p` is NULL or points to writable memory for a `T` during the call.
    pub(crate) unsafe fn required(p: *mut T, name: &'static str) -> Result<Out<T>, Failure> {
        NonNull::new(p).map(Out).ok_or(Failure::Null(name))
    }

    /// An optional out-parameter; NULL gives `None`.
    ///
    /// # Safety
    /// `p` is NULL or points to writable memory for a `T` during the call.
    pub(crate) unsafe fn optional(p: *mut T) -> Option<Out<T>> {
        NonNull::new(p).map(Out)
    }

    /// Writes the value.
    pub(crate) fn write(self, value: T) {
        // SAFETY: `required`/`optional` took the pointer under the contract
        // that it is writable for a `T` during the call; it is not NULL.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// Writes a string to an optional out-parameter; `text` runs only when the
/// caller wants the value.
pub(crate) fn write_optional(
    out: Option<Out<*mut c_char>>,
    text: impl FnOnce() -> String,
) -> Result<(), Failure> {
    out.map_or(Ok(()), |out| out.write_string(text()))
}

impl Out<*mut c_char> {
    /// Writes a string the caller frees with `ags_string_free`.
    pub(crate) fn write_string(self, s: String) -> Result<(), Failure> {
        let c = CString::new(s).map_err(|e| {
            Failure::invalid(format!(
                "the result holds a NUL character at byte {} and cannot be returned as a C string",
                e.nul_position()
            ))
        })?;
        self.write(c.into_raw());
        Ok(())
    }
}

impl Out<*mut u8> {
    /// Writes a buffer the caller frees with `ags_bytes_free(data, len)`,
    /// and its length to `len`.
    pub(crate) fn write_bytes(self, bytes: Vec<u8>, len: Out<usize>) {
        len.write(bytes.len());
        self.write(Box::into_raw(bytes.into_boxed_slice()).cast());
    }
}
