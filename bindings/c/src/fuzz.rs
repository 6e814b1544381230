//! Property tests of the JSON and string inputs of the C ABI: any bytes a
//! host passes give `AGS_OK` or `AGS_INVALID_ARGUMENT`, never a panic, and
//! a call that fails changes nothing.

use std::ffi::{c_char, CString};
use std::ptr;

use proptest::prelude::*;

use crate::ags_string_free;
use crate::error::ags_status;
use crate::store::{
    ags_store, ags_store_append_event, ags_store_create, ags_store_free, ags_store_metadata,
    ags_store_open, ags_store_update_metadata,
};

/// A C string of arbitrary bytes (C strings end at the first NUL).
fn c_bytes() -> impl Strategy<Value = CString> {
    prop_oneof![
        prop::collection::vec(1u8..=255, 0..120),
        any::<String>().prop_map(|s| s.replace('\0', "").into_bytes()),
        "\\{(\"[a-z_]{1,8}\": ?(\"[^\"\\\\]{0,8}\"|[0-9]{1,22}|null|true|\\[\\]|\\{\\}), ?){0,4}\"x\": 1\\}"
            .prop_map(String::into_bytes),
    ]
    .prop_map(|b: Vec<u8>| {
        CString::new(b.into_iter().filter(|c| *c != 0).collect::<Vec<u8>>()).expect("NULs removed")
    })
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: *mut ags_store,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = CString::new(dir.path().to_str().unwrap()).unwrap();
        let mut store = ptr::null_mut();
        // SAFETY: valid C strings and out-pointer.
        let status = unsafe { ags_store_open(path.as_ptr(), &mut store) };
        assert_eq!(status, ags_status::AGS_OK);
        let opts =
            CString::new(r#"{"session_id":"s","acp_server":"a","working_dir":"/w"}"#).unwrap();
        let mut meta: *mut c_char = ptr::null_mut();
        // SAFETY: live store, valid strings and out-pointer; the result is freed.
        unsafe {
            assert_eq!(
                ags_store_create(store, opts.as_ptr(), &mut meta),
                ags_status::AGS_OK
            );
            ags_string_free(meta);
        }
        Fixture { _dir: dir, store }
    }

    fn metadata(&self) -> String {
        let id = CString::new("s").unwrap();
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: live store, valid strings and out-pointer; the copy is freed.
        unsafe {
            assert_eq!(
                ags_store_metadata(self.store, id.as_ptr(), &mut out),
                ags_status::AGS_OK
            );
            let s = std::ffi::CStr::from_ptr(out).to_str().unwrap().to_string();
            ags_string_free(out);
            s
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // SAFETY: the handle made in `new`, freed once.
        unsafe { ags_store_free(self.store) }
    }
}

fn is_json_object(s: &CString) -> bool {
    s.to_str()
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .is_some_and(|v| v.is_object())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn append_event_data(data in c_bytes(), event_type in c_bytes()) {
        let f = Fixture::new();
        let id = CString::new("s").unwrap();
        let mut seq = u64::MAX;
        // SAFETY: live store, valid C strings, valid out-pointer.
        let status = unsafe {
            ags_store_append_event(f.store, id.as_ptr(), event_type.as_ptr(), data.as_ptr(), ptr::null(), &mut seq)
        };
        prop_assert!(matches!(status, ags_status::AGS_OK | ags_status::AGS_INVALID_ARGUMENT), "{status:?}");
        if status == ags_status::AGS_OK {
            prop_assert_eq!(seq, 1);
        } else {
            prop_assert_eq!(seq, u64::MAX, "out-parameter untouched on failure");
            let meta: serde_json::Value = serde_json::from_str(&f.metadata()).unwrap();
            prop_assert_eq!(&meta["event_count"], 0);
        }
        if is_json_object(&data) && event_type.to_str().is_ok_and(|t| !t.is_empty()) {
            prop_assert_eq!(status, ags_status::AGS_OK);
        }
    }

    #[test]
    fn update_metadata_fields(fields in c_bytes()) {
        let f = Fixture::new();
        let before = f.metadata();
        let id = CString::new("s").unwrap();
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: live store, valid C strings, valid out-pointer; a result is freed.
        let status = unsafe { ags_store_update_metadata(f.store, id.as_ptr(), fields.as_ptr(), &mut out) };
        prop_assert!(matches!(status, ags_status::AGS_OK | ags_status::AGS_INVALID_ARGUMENT), "{status:?}");
        if status == ags_status::AGS_OK {
            // SAFETY: a string made by the call.
            unsafe { ags_string_free(out) };
        } else {
            prop_assert!(out.is_null());
            prop_assert_eq!(f.metadata(), before, "a refused update changes nothing");
        }
    }

    #[test]
    fn create_options(options in c_bytes()) {
        let f = Fixture::new();
        let mut out: *mut c_char = ptr::null_mut();
        // SAFETY: live store, valid C string, valid out-pointer; a result is freed.
        let status = unsafe { ags_store_create(f.store, options.as_ptr(), &mut out) };
        prop_assert!(matches!(status, ags_status::AGS_OK | ags_status::AGS_INVALID_ARGUMENT), "{status:?}");
        if status == ags_status::AGS_OK {
            // SAFETY: a string made by the call.
            unsafe { ags_string_free(out) };
        }
    }
}
