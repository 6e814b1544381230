//! `ags_progress_fn`: the host's callback for calls that go through the
//! sessions of a store one by one (a search, a copy).

use std::ffi::c_void;

/// Called with (sessions done, sessions in total) as a call goes through the
/// sessions of a store: after each session a search scans (on the thread
/// calling `ags_search_next`) or a copy copies (on the thread calling
/// `ags_migrate`). It must not unwind (no C++ exception may leave it).
pub type ags_progress_fn =
    Option<unsafe extern "C" fn(done: usize, total: usize, user_data: *mut c_void)>;

/// The host's progress callback with its `user_data`.
pub(crate) struct Progress {
    callback: unsafe extern "C" fn(usize, usize, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: the pointer is only handed back to the host's callback, on threads
// the host itself calls the library from; the functions taking a callback
// document where it is called, and the host makes `user_data` usable there.
unsafe impl Send for Progress {}

impl Progress {
    /// The callback with its `user_data`, or `None` when the host gave none.
    pub(crate) fn new(callback: ags_progress_fn, user_data: *mut c_void) -> Option<Progress> {
        callback.map(|callback| Progress {
            callback,
            user_data,
        })
    }

    /// Reports (sessions done, sessions in total).
    pub(crate) fn report(&self, done: usize, total: usize) {
        // SAFETY: the host gave this callback and pointer for exactly this
        // use; see `ags_progress_fn`.
        unsafe { (self.callback)(done, total, self.user_data) }
    }
}
