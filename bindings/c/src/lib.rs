//! The C face of agentsession: `libagentsession.so` / `libagentsession.a`
//! with the header `include/agentsession.h` (generated from these doc
//! comments by cbindgen).
//!
//! # Conventions
//! - Opaque handles (`ags_store`, `ags_recorder`, `ags_player`, …) are
//!   created by `_open`/`_new` functions and released by their `_free`
//!   function; `_free(NULL)` does nothing.
//! - Every function that can fail returns an [`ags_status`]; on failure the
//!   thread-local [`ags_last_error`] describes it. Out-parameters are written
//!   only on success.
//! - Strings passed in are NUL-terminated UTF-8; strings returned as
//!   `char *` belong to the caller, who frees them with [`ags_string_free`].
//! - Structured values (metadata, events, lists, options) cross as UTF-8 JSON.
//! - No panic crosses the boundary: a panic becomes `AGS_PANIC`.
//!
//! # Safety
//! Every exported function is `unsafe` for the same reason: it trusts the
//! caller's pointers. A handle pointer must be NULL or come from this library
//! and not be freed yet; a string pointer must be NULL or point to a
//! NUL-terminated string; a `(data, len)` pair must describe readable memory;
//! an out-pointer must be NULL or point to writable memory of its type. All of
//! them need only be valid for the duration of the call. The functions check
//! for NULL themselves and report it as `AGS_NULL_PARAMETER`.
#![warn(clippy::undocumented_unsafe_blocks)]
// The contract above is shared by every function; repeating it under each
// one would only bury the header.
#![allow(clippy::missing_safety_doc)]
// The types are named as C sees them.
#![allow(non_camel_case_types)]

#[macro_use]
mod boundary;
#[macro_use]
mod args;
mod error;
mod handle;
mod json;

mod acp;
mod action_buttons;
mod auxiliary;
#[cfg(test)]
mod fuzz;
mod images;
mod insight;
mod lock;
mod migrate;
mod player;
mod progress;
mod queue;
mod recorder;
mod runtime;
mod store;

pub use acp::*;
pub use action_buttons::*;
pub use auxiliary::*;
pub use error::{ags_last_error, ags_last_warning, ags_status, ags_status_message};
pub use images::*;
pub use insight::*;
pub use lock::*;
pub use migrate::*;
pub use player::*;
pub use progress::ags_progress_fn;
pub use queue::*;
pub use recorder::*;
pub use runtime::*;
pub use store::*;

use std::ffi::{c_char, CString};

/// Major version of the library (also the SONAME's number).
pub const AGS_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const AGS_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const AGS_VERSION_PATCH: u32 = 0;

/// The library's version as a static string, e.g. `"0.1.0"`; never NULL.
#[no_mangle]
pub extern "C" fn ags_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Frees a string returned by this library. `NULL` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ags_string_free(s: *mut c_char) {
    ffi_boundary!(on_panic = (), {
        if !s.is_null() {
            // SAFETY: non-NULL strings handed to the caller were made by
            // `CString::into_raw` (see `args::Out::write_string`), and the
            // contract says each is freed once.
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

/// Frees a byte buffer of `len` bytes returned by this library (as
/// `ags_store_image_data` does). `NULL` is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ags_bytes_free(data: *mut u8, len: usize) {
    ffi_boundary!(on_panic = (), {
        if !data.is_null() {
            // SAFETY: non-NULL buffers handed to the caller were made from a
            // boxed slice of `len` bytes (see `args::Out::write_bytes`), and
            // the contract says each is freed once, with its length.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(data, len)) });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_the_package() {
        let v = format!("{AGS_VERSION_MAJOR}.{AGS_VERSION_MINOR}.{AGS_VERSION_PATCH}");
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        // SAFETY: ags_version returns a static NUL-terminated string.
        let s = unsafe { std::ffi::CStr::from_ptr(ags_version()) };
        assert_eq!(s.to_str().unwrap(), v);
    }
}
