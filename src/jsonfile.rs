//! Small JSON documents of a session that are replaced whole (`queue.json`,
//! `action_buttons.json`): state shared by every handle of one document
//! within the process, exclusive access to a file (a mutex, then an `flock`
//! on a side file), and parsing that names the document in errors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, MutexGuard};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::fsutil::FileLock;

/// Values shared by every handle of the same path within the process.
pub(crate) struct Registry<T> {
    inner: Mutex<RegistryInner<T>>,
}

struct RegistryInner<T> {
    map: HashMap<PathBuf, Weak<T>>,
    /// Size at which entries of dropped values are swept.
    sweep_at: usize,
}

/// Smallest map size at which dropped entries are swept.
const MIN_SWEEP: usize = 64;

impl<T: Default> Registry<T> {
    /// An empty registry.
    pub(crate) fn new() -> Self {
        Registry {
            inner: Mutex::new(RegistryInner {
                map: HashMap::new(),
                sweep_at: MIN_SWEEP,
            }),
        }
    }

    /// The value for `path`, created when no live handle holds one.
    pub(crate) fn get(&self, path: &Path) -> Arc<T> {
        let mut inner = self.inner.lock();
        if let Some(v) = inner.map.get(path).and_then(Weak::upgrade) {
            return v;
        }
        if inner.map.len() >= inner.sweep_at {
            inner.map.retain(|_, w| w.strong_count() > 0);
            inner.sweep_at = (inner.map.len() * 2).max(MIN_SWEEP);
        }
        let v = Arc::new(T::default());
        inner.map.insert(path.to_path_buf(), Arc::downgrade(&v));
        v
    }
}

/// Exclusive access to a file; released on drop (side-file lock first).
pub(crate) struct Exclusive<'a> {
    _file: FileLock,
    _thread: MutexGuard<'a, ()>,
}

/// Takes the process-wide mutex of a file, then the `flock` on its side file.
pub(crate) fn lock_exclusive<'a>(thread: &'a Mutex<()>, side: &Path) -> Result<Exclusive<'a>> {
    let thread = thread.lock();
    let file = FileLock::acquire(side)?;
    Ok(Exclusive {
        _file: file,
        _thread: thread,
    })
}

/// Parses a whole JSON file; errors are [`Error::CorruptData`] naming `path`.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8], path: &Path) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        let line = (e.line() > 0).then_some(e.line());
        Error::corrupt(path, line, e.to_string())
    })
}

/// `value` as 2-space indented JSON (no trailing newline), to store at `path`.
pub(crate) fn to_pretty<T: Serialize>(value: &T, path: &Path) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value)
        .map_err(|e| Error::invalid(format!("cannot encode {}: {e}", path.display())))
}

/// Reads a field written as `null` (or left out, with `#[serde(default)]`) as its default.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// Reads an optional string field; `null` and `""` (which the format omits) are `None`.
pub(crate) fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d).map(|s| s.filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_shares_live_values_and_sweeps_dropped_ones() {
        let reg: Registry<Mutex<()>> = Registry::new();
        let a = reg.get(Path::new("/x/a"));
        assert!(Arc::ptr_eq(&a, &reg.get(Path::new("/x/a"))));
        assert!(!Arc::ptr_eq(&a, &reg.get(Path::new("/x/b"))));
        for i in 0..(MIN_SWEEP * 3) {
            drop(reg.get(&PathBuf::from(format!("/y/{i}"))));
        }
        assert!(reg.inner.lock().map.len() <= MIN_SWEEP * 2);
        assert!(Arc::ptr_eq(&a, &reg.get(Path::new("/x/a"))));
    }

    #[test]
    fn parse_names_the_file_and_line() {
        let err = parse::<serde_json::Value>(b"{\n  \"a\": ", Path::new("/s/q.json")).unwrap_err();
        let Error::CorruptData { path, line, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(path, Path::new("/s/q.json"));
        assert_eq!(*line, Some(2));
    }
}
