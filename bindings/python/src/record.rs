//! Data objects kept as the JSON object the core serializes them to.
//!
//! [`json_record!`] defines a frozen class over a JSON object: one read-only
//! attribute per field (its kind says how the JSON value reads in Python),
//! `to_dict()`, `from_dict()` (which checks every field), equality, a repr and
//! pickling. It serves the core's result types that have no Python-specific
//! behaviour (ACP recording results, resume plans, usage figures).

use serde::Serialize;
use serde_json::{Map, Value};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::convert::{time_to_py, to_py};

/// How one field of a record reads in Python, and which JSON it accepts.
pub trait FieldKind {
    /// The Python value of the field (`None` when absent).
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>>;
    /// Whether `v` is acceptable for the field in `from_dict`.
    fn valid(v: Option<&Value>) -> bool;
    /// The field in a repr, or `None` to leave it out.
    fn repr(py: Python<'_>, v: Option<&Value>) -> PyResult<Option<String>> {
        let obj = Self::to_py(py, v)?;
        Ok(Some(obj.bind(py).repr()?.to_string()))
    }
}

/// A string.
pub struct Str;
/// A string, or null / absent.
pub struct OptStr;
/// A string that reads as "" when absent.
pub struct Text;
/// An unsigned integer.
pub struct Int;
/// A signed integer.
pub struct SignedInt;
/// A floating-point number.
pub struct Float;
/// A boolean.
pub struct Bool;
/// An RFC 3339 time (aware `datetime`), or null / absent (`None`).
pub struct Time;
/// Any JSON (dicts, lists, ...), present.
pub struct Json;
/// A nested record.
pub struct Record<T>(std::marker::PhantomData<T>);
/// A nested record, or null / absent (`None`).
pub struct OptRecord<T>(std::marker::PhantomData<T>);
/// A list of nested records.
pub struct Records<T>(std::marker::PhantomData<T>);

impl FieldKind for Str {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        Ok(v.and_then(Value::as_str)
            .unwrap_or("")
            .into_pyobject(py)?
            .into_any()
            .unbind())
    }
    fn valid(v: Option<&Value>) -> bool {
        matches!(v, Some(Value::String(_)))
    }
}

impl FieldKind for OptStr {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        Ok(v.and_then(Value::as_str).into_pyobject(py)?.unbind())
    }
    fn valid(v: Option<&Value>) -> bool {
        matches!(v, None | Some(Value::Null | Value::String(_)))
    }
}

impl FieldKind for Text {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        Str::to_py(py, v)
    }
    fn valid(v: Option<&Value>) -> bool {
        matches!(v, None | Some(Value::String(_)))
    }
}

impl FieldKind for Int {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        Ok(v.and_then(Value::as_u64)
            .unwrap_or(0)
            .into_pyobject(py)?
            .into_any()
            .unbind())
    }
    fn valid(v: Option<&Value>) -> bool {
        v.is_some_and(Value::is_u64)
    }
}

impl FieldKind for SignedInt {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        Ok(v.and_then(Value::as_i64)
            .unwrap_or(0)
            .into_pyobject(py)?
            .into_any()
            .unbind())
    }
    fn valid(v: Option<&Value>) -> bool {
        v.is_some_and(Value::is_i64)
    }
}

impl FieldKind for Float {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        let f = v.and_then(Value::as_f64).unwrap_or(0.0);
        Ok(pyo3::types::PyFloat::new(py, f).into_any().unbind())
    }
    fn valid(v: Option<&Value>) -> bool {
        v.is_some_and(Value::is_number)
    }
}

impl FieldKind for Bool {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        let b = v.and_then(Value::as_bool).unwrap_or(false);
        Ok(pyo3::types::PyBool::new(py, b)
            .to_owned()
            .into_any()
            .unbind())
    }
    fn valid(v: Option<&Value>) -> bool {
        v.is_some_and(Value::is_boolean)
    }
}

impl FieldKind for Time {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        Ok(time_to_py(py, v.and_then(Value::as_str).unwrap_or(""))?.unbind())
    }
    fn valid(v: Option<&Value>) -> bool {
        matches!(v, None | Some(Value::Null | Value::String(_)))
    }
}

impl FieldKind for Json {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        Ok(to_py(py, v.unwrap_or(&Value::Null))?.unbind())
    }
    fn valid(v: Option<&Value>) -> bool {
        v.is_some()
    }
    fn repr(_: Python<'_>, v: Option<&Value>) -> PyResult<Option<String>> {
        let s = v.unwrap_or(&Value::Null).to_string();
        Ok(Some(match s.char_indices().nth(40) {
            Some((cut, _)) => format!("{}…", &s[..cut]),
            None => s,
        }))
    }
}

/// A class defined by [`json_record!`].
pub trait JsonRecord: pyo3::PyClass + Sized {
    /// The record over a JSON object (already checked).
    fn from_map(map: Map<String, Value>) -> Self;
    /// Checks that a JSON object has every field in an acceptable form;
    /// the error names the first field that is not.
    fn check_map(map: &Map<String, Value>) -> Result<(), &'static str>;
}

impl<T: JsonRecord + Into<PyClassInitializer<T>>> FieldKind for Record<T> {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        let map = v.and_then(Value::as_object).cloned().unwrap_or_default();
        Ok(Py::new(py, T::from_map(map))?.into_any())
    }
    fn valid(v: Option<&Value>) -> bool {
        v.and_then(Value::as_object)
            .is_some_and(|m| T::check_map(m).is_ok())
    }
    fn repr(_: Python<'_>, _: Option<&Value>) -> PyResult<Option<String>> {
        Ok(None)
    }
}

impl<T: JsonRecord + Into<PyClassInitializer<T>>> FieldKind for OptRecord<T> {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        match v.and_then(Value::as_object) {
            Some(map) => Ok(Py::new(py, T::from_map(map.clone()))?.into_any()),
            None => Ok(py.None()),
        }
    }
    fn valid(v: Option<&Value>) -> bool {
        match v {
            None | Some(Value::Null) => true,
            Some(Value::Object(map)) => T::check_map(map).is_ok(),
            Some(_) => false,
        }
    }
    fn repr(_: Python<'_>, _: Option<&Value>) -> PyResult<Option<String>> {
        Ok(None)
    }
}

impl<T: JsonRecord + Into<PyClassInitializer<T>>> FieldKind for Records<T> {
    fn to_py(py: Python<'_>, v: Option<&Value>) -> PyResult<Py<PyAny>> {
        let items = v
            .and_then(Value::as_array)
            .map(|a| a.as_slice())
            .unwrap_or_default();
        let objects = items
            .iter()
            .map(|item| {
                let map = item.as_object().cloned().unwrap_or_default();
                Py::new(py, T::from_map(map))
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(pyo3::types::PyList::new(py, objects)?.into_any().unbind())
    }
    fn valid(v: Option<&Value>) -> bool {
        v.and_then(Value::as_array).is_some_and(|items| {
            items
                .iter()
                .all(|i| i.as_object().is_some_and(|m| T::check_map(m).is_ok()))
        })
    }
    fn repr(_: Python<'_>, v: Option<&Value>) -> PyResult<Option<String>> {
        let n = v.and_then(Value::as_array).map_or(0, Vec::len);
        Ok(Some(format!("[{n} items]")))
    }
}

/// The record of a value the core serializes (a struct: a JSON object).
pub fn record_of<T: JsonRecord>(v: &impl Serialize) -> T {
    match serde_json::to_value(v) {
        Ok(Value::Object(map)) => T::from_map(map),
        _ => unreachable!("a record type serializes to a JSON object"),
    }
}

/// The error `from_dict` raises for a bad object.
pub fn invalid_record(what: &str, field: &str) -> PyErr {
    PyValueError::new_err(format!(
        "d is not a valid {what}: field {field:?} is missing or has the wrong type"
    ))
}

/// Defines a frozen class over a JSON object; see the module docs.
macro_rules! json_record {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $(#[$fdoc:meta])* $field:ident $([$key:literal])? : $kind:ty ),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[pyclass(module = "agentsession", frozen)]
        pub struct $name {
            map: serde_json::Map<String, serde_json::Value>,
        }

        impl $crate::record::JsonRecord for $name {
            fn from_map(map: serde_json::Map<String, serde_json::Value>) -> Self {
                $name { map }
            }
            fn check_map(
                map: &serde_json::Map<String, serde_json::Value>,
            ) -> Result<(), &'static str> {
                $(
                    let key = $crate::record::field_key!($field $(, $key)?);
                    if !<$kind as $crate::record::FieldKind>::valid(map.get(key)) {
                        return Err(key);
                    }
                )+
                Ok(())
            }
        }

        #[pymethods]
        impl $name {
            $(
                $(#[$fdoc])*
                #[getter]
                fn $field(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                    <$kind as $crate::record::FieldKind>::to_py(py, self.map.get($crate::record::field_key!($field $(, $key)?)))
                }
            )+

            /// The JSON object.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
                $crate::convert::map_to_py(py, &self.map)
            }

            /// An object from the dict `to_dict()` gives.
            #[classmethod]
            fn from_dict(
                _cls: &Bound<'_, pyo3::types::PyType>,
                d: &Bound<'_, PyAny>,
            ) -> PyResult<Self> {
                let map = $crate::convert::object_from_py(d, "d")?;
                match <Self as $crate::record::JsonRecord>::check_map(&map) {
                    Ok(()) => Ok($name { map }),
                    Err(field) => Err($crate::record::invalid_record(stringify!($name), field)),
                }
            }

            fn __eq__(&self, other: &Self) -> bool {
                self.map == other.map
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let mut parts: Vec<String> = Vec::new();
                $(
                    if let Some(r) = <$kind as $crate::record::FieldKind>::repr(py, self.map.get($crate::record::field_key!($field $(, $key)?)))? {
                        parts.push(format!("{}={}", $crate::record::field_key!($field $(, $key)?), r));
                    }
                )+
                Ok(format!("{}({})", stringify!($name), parts.join(", ")))
            }

            fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyTuple>> {
                let py = slf.py();
                let rebuild = slf.get_type().getattr("from_dict")?;
                let d = $crate::convert::map_to_py(py, &slf.get().map)?;
                pyo3::types::PyTuple::new(py, [rebuild, pyo3::types::PyTuple::new(py, [d])?.into_any()])
            }
        }
    };
}

/// The JSON key of a field: its name, or the key given in brackets.
macro_rules! field_key {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident, $key:literal) => {
        $key
    };
}

pub(crate) use {field_key, json_record};
