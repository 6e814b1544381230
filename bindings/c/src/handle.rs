//! Boxing of the Rust values behind opaque handles: every `_new`/`_open`
//! and `_free` pair goes through [`Handle`].

use crate::error::Failure;

/// An opaque C handle type and the Rust value a pointer to it owns.
///
/// The handle types are zero-sized structs the header declares as
/// incomplete; a handle pointer is really a `Box<Self::Inner>`.
pub(crate) trait Handle: Sized {
    /// The value a handle owns.
    type Inner;

    /// Boxes `value` and gives out the handle pointer (never NULL).
    fn into_raw(value: Self::Inner) -> *mut Self {
        Box::into_raw(Box::new(value)).cast()
    }

    /// Borrows the value behind a handle pointer; NULL is `NULL_PARAMETER`.
    ///
    /// # Safety
    /// `p` is NULL or came from [`Handle::into_raw`] of this type and was not
    /// freed; the value is not freed while the borrow lives.
    unsafe fn borrow<'a>(p: *const Self, name: &'static str) -> Result<&'a Self::Inner, Failure> {
        // SAFETY: by this function's contract `p` is NULL or points to a live
        // `Self::Inner` boxed by `into_raw`.
        unsafe { p.cast::<Self::Inner>().as_ref() }.ok_or(Failure::Null(name))
    }

    /// Frees the value behind a handle pointer; NULL is a no-op.
    ///
    /// # Safety
    /// `p` is NULL or came from [`Handle::into_raw`] of this type and was not
    /// freed; nothing uses it afterwards.
    unsafe fn free(p: *mut Self) {
        if !p.is_null() {
            // SAFETY: by this function's contract `p` owns a box made by
            // `into_raw`, freed here exactly once.
            drop(unsafe { Box::from_raw(p.cast::<Self::Inner>()) });
        }
    }
}
