//! Conversions between JSON values and Python objects, and between the
//! format's timestamps and `datetime`.
//!
//! JSON objects become `dict`s (key order kept), arrays `list`s, numbers
//! `int` or `float`. Integers that fit in 64 bits (signed or unsigned) are
//! exact both ways; the JSON parser reads a longer integer as a float, and a
//! Python `int` beyond 64 bits is refused when written.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use agentsession::timefmt::{self, Timestamp};
use chrono::{Datelike, Timelike};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyDateTime, PyDelta, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyTzInfo,
};
use serde_json::{Map, Number, Value};

/// Deepest nesting accepted from Python (the JSON parser's own limit).
const MAX_DEPTH: usize = 128;

/// Dict keys seen so far, as interned Python strings: a log repeats a few
/// dozen keys, so dicts built from its events share one object per key (and
/// its cached hash) instead of allocating and hashing a new string each time.
static KEY_CACHE: PyOnceLock<Mutex<HashMap<Box<str>, Py<PyString>>>> = PyOnceLock::new();

/// Keys longer than this are not cached (they are rarely repeated keys).
const MAX_CACHED_KEY_LEN: usize = 64;

/// How many keys the cache holds at most (data with ever-new keys stays bounded).
const MAX_CACHED_KEYS: usize = 4096;

fn key<'py>(py: Python<'py>, k: &str) -> Bound<'py, PyString> {
    if k.len() > MAX_CACHED_KEY_LEN {
        return PyString::new(py, k);
    }
    // Interning runs no Python code, so the lock is never held across a
    // switch to another thread.
    let mut cache = KEY_CACHE
        .get_or_init(py, Mutex::default)
        .lock()
        .expect("key cache lock");
    if let Some(s) = cache.get(k) {
        return s.bind(py).clone();
    }
    let s = PyString::intern(py, k);
    if cache.len() < MAX_CACHED_KEYS {
        cache.insert(k.into(), s.clone().unbind());
    }
    s
}

/// A JSON value as a Python object.
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let items = items
                .iter()
                .map(|item| to_py(py, item))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(map) => map_to_py(py, map)?.into_any(),
    })
}

/// A JSON object as a `dict`, in order.
pub fn map_to_py<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in map {
        dict.set_item(key(py, k), to_py(py, v)?)?;
    }
    Ok(dict)
}

/// A Python object as JSON; `what` names the argument in errors.
pub fn from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    from_py_at(obj, what, 0)
}

fn from_py_at(obj: &Bound<'_, PyAny>, what: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{what}: nested deeper than {MAX_DEPTH} levels (or contains itself)"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        if let Ok(v) = i.extract::<i64>() {
            return Ok(Value::from(v));
        }
        if let Ok(v) = i.extract::<u64>() {
            return Ok(Value::from(v));
        }
        return Err(PyValueError::new_err(format!(
            "{what}: integer {i} does not fit in 64 bits"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{what}: {v} is not a finite number")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let Ok(k) = k.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "{what}: dict keys must be str, not {}",
                    k.get_type().name()?
                )));
            };
            map.insert(k.to_cow()?.into_owned(), from_py_at(&v, what, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() {
        let mut items = Vec::new();
        for item in obj.try_iter()? {
            items.push(from_py_at(&item?, what, depth + 1)?);
        }
        return Ok(Value::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "{what}: {} is not JSON data (use dict, list, str, int, float, bool or None)",
        obj.get_type().name()?
    )))
}

/// A JSON object from a `dict`; `what` names the argument in errors.
pub fn object_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Map<String, Value>> {
    if obj.cast::<PyDict>().is_err() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a dict, not {}",
            obj.get_type().name()?
        )));
    }
    match from_py(obj, what)? {
        Value::Object(map) => Ok(map),
        _ => unreachable!("a dict converts to an object"),
    }
}

/// `datetime.timezone` objects by offset in seconds: a log's timestamps
/// share a handful of offsets, so each is built once.
static ZONES: PyOnceLock<Mutex<HashMap<i32, Py<PyTzInfo>>>> = PyOnceLock::new();

fn zone(py: Python<'_>, offset: i32) -> PyResult<Bound<'_, PyTzInfo>> {
    let zones = ZONES.get_or_init(py, Mutex::default);
    if let Some(z) = zones.lock().expect("zone cache lock").get(&offset) {
        return Ok(z.bind(py).clone());
    }
    // Built without the lock held: Python code may run (and switch threads) here.
    let z = PyTzInfo::fixed_offset(py, PyDelta::new(py, 0, offset, 0, true)?)?;
    zones
        .lock()
        .expect("zone cache lock")
        .insert(offset, z.clone().unbind());
    Ok(z)
}

/// A stored timestamp as an aware `datetime` (microseconds kept, the rest of
/// the nanoseconds dropped); `None` for the zero time or an unparseable string.
pub fn time_to_py<'py>(py: Python<'py>, s: &str) -> PyResult<Bound<'py, PyAny>> {
    match timefmt::parse(s) {
        Some(t) => Ok(datetime(py, &t)?.into_any()),
        None => Ok(py.None().into_bound(py)),
    }
}

/// A time as an aware `datetime` in its own offset.
pub fn datetime<'py>(py: Python<'py>, t: &Timestamp) -> PyResult<Bound<'py, PyDateTime>> {
    let tz = zone(py, t.offset().local_minus_utc())?;
    let local = t.naive_local();
    PyDateTime::new(
        py,
        local.year(),
        local.month() as u8,
        local.day() as u8,
        local.hour() as u8,
        local.minute() as u8,
        local.second() as u8,
        // A leap second's extra nanoseconds stay within the last microsecond.
        (local.nanosecond() / 1000).min(999_999),
        Some(&tz),
    )
}

/// A timestamp argument: an aware `datetime` or an RFC 3339 string, written
/// in the format's spelling.
pub fn time_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_cow()?;
        let s: &str = &s;
        return match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(_) => Ok(s.to_owned()),
            Err(e) => Err(PyValueError::new_err(format!(
                "{what}: {s:?} is not an RFC 3339 timestamp: {e}"
            ))),
        };
    }
    let datetime = obj.py().import("datetime")?.getattr("datetime")?;
    if !obj.is_instance(&datetime)? {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a datetime or an RFC 3339 string, not {}",
            obj.get_type().name()?
        )));
    }
    if obj.call_method0("utcoffset")?.is_none() {
        return Err(PyValueError::new_err(format!(
            "{what} must be timezone-aware (give it a tzinfo)"
        )));
    }
    let iso: String = obj.call_method0("isoformat")?.extract()?;
    chrono::DateTime::parse_from_rfc3339(&iso)
        .map(|t| timefmt::format(&t))
        .map_err(|e| PyValueError::new_err(format!("{what}: {iso:?} cannot be stored: {e}")))
}

/// A count or seq argument, which must be >= 0; `what` names the argument in errors.
pub fn count(v: i128, what: &str) -> PyResult<u64> {
    u64::try_from(v)
        .map_err(|_| PyValueError::new_err(format!("{what} must be an integer >= 0, not {v}")))
}

/// `s` quoted as Python's `repr` does, for `__repr__` methods.
pub fn quoted(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(PyString::new(py, s).repr()?.to_string())
}

/// A time argument (aware `datetime` or RFC 3339 text) as a timestamp.
pub fn timestamp_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Timestamp> {
    let text = time_from_py(obj, what)?;
    chrono::DateTime::parse_from_rfc3339(&text)
        .map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// `Duration` from seconds given by the caller; `what` names the argument.
pub fn seconds(value: f64, what: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        PyValueError::new_err(format!(
            "{what} must be a finite number of seconds >= 0, not {value}"
        ))
    })
}
