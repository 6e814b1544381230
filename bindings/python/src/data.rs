//! The frozen data objects: attributes named as the JSON fields, `to_dict()`
//! giving the JSON object, `from_dict()` reading one back, equality, a
//! readable repr, and pickling through `from_dict(to_dict())`.

use std::sync::OnceLock;

use agentsession::timefmt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::convert::{datetime, map_to_py, object_from_py, time_to_py, to_py};

/// `(cls.from_dict, (d,))`: how every data object pickles.
fn reduce<'py>(
    py: Python<'py>,
    class: Bound<'py, PyType>,
    dict: Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyTuple>> {
    let rebuild = class.getattr("from_dict")?;
    PyTuple::new(py, [rebuild, PyTuple::new(py, [dict])?.into_any()])
}

/// `Name(field=repr, ...)`.
fn repr(name: &str, fields: &[(&str, Bound<'_, PyAny>)]) -> PyResult<String> {
    let mut out = format!("{name}(");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push('=');
        out.push_str(&v.repr()?.to_string());
    }
    out.push(')');
    Ok(out)
}

/// Compact JSON of `v`, cut to about `max` characters.
fn short_json(v: &Value, max: usize) -> String {
    let s = v.to_string();
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s,
    }
}

fn bad_dict(what: &str, e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("d is not a valid {what}: {e}"))
}

/// A session's metadata (`metadata.json`).
///
/// Optional text fields that are absent read as `""`; `extra` holds the
/// fields this library does not know, and `to_dict()` every field in file order.
#[pyclass(module = "agentsession", name = "Metadata", frozen)]
pub struct Metadata {
    pub inner: agentsession::Metadata,
}

#[pymethods]
impl Metadata {
    /// Session id.
    #[getter]
    fn session_id(&self) -> &str {
        self.inner.session_id()
    }
    /// User-visible name ("" when unnamed).
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }
    /// Name of the ACP server (agent).
    #[getter]
    fn acp_server(&self) -> &str {
        self.inner.acp_server()
    }
    /// Command line that starts the agent ("" when unknown).
    #[getter]
    fn acp_command(&self) -> &str {
        self.inner.acp_command()
    }
    /// The agent's own session id ("" when unknown).
    #[getter]
    fn acp_session_id(&self) -> &str {
        self.inner.acp_session_id()
    }
    /// Working directory of the session.
    #[getter]
    fn working_dir(&self) -> &str {
        self.inner.working_dir()
    }
    /// When the session was created.
    #[getter]
    fn created_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.time(py, "created_at")
    }
    /// When the session last changed.
    #[getter]
    fn updated_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.time(py, "updated_at")
    }
    /// When the user last prompted; None before the first prompt.
    #[getter]
    fn last_user_message_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.time(py, "last_user_message_at")
    }
    /// Number of events in the log.
    #[getter]
    fn event_count(&self) -> u64 {
        self.inner.event_count()
    }
    /// `active`, `completed` or `error`.
    #[getter]
    fn status(&self) -> &str {
        self.inner.status()
    }
    /// Free-text description ("" when none).
    #[getter]
    fn description(&self) -> &str {
        self.inner.description()
    }
    /// The fields this library does not know, in file order.
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let unknown: Map<String, Value> = self
            .inner
            .fields()
            .iter()
            .filter(|(k, _)| !agentsession::metadata::KNOWN_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        map_to_py(py, &unknown)
    }

    /// The JSON object as stored: every field, in file order.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        map_to_py(py, self.inner.fields())
    }

    /// Metadata from a JSON object (needs a `session_id` string).
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, d: &Bound<'_, PyAny>) -> PyResult<Metadata> {
        let map = object_from_py(d, "d")?;
        agentsession::Metadata::from_value(Value::Object(map))
            .map(|inner| Metadata { inner })
            .map_err(|e| bad_dict("Metadata", e))
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let s = |v: &str| -> PyResult<Bound<'_, PyAny>> { Ok(v.into_pyobject(py)?.into_any()) };
        let mut fields = vec![("session_id", s(self.inner.session_id())?)];
        if !self.inner.name().is_empty() {
            fields.push(("name", s(self.inner.name())?));
        }
        fields.push(("acp_server", s(self.inner.acp_server())?));
        fields.push(("status", s(self.inner.status())?));
        fields.push((
            "event_count",
            self.inner.event_count().into_pyobject(py)?.into_any(),
        ));
        let updated = self
            .inner
            .get("updated_at")
            .and_then(Value::as_str)
            .unwrap_or("");
        fields.push(("updated_at", s(updated)?));
        repr("Metadata", &fields)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce(slf.py(), slf.get_type(), slf.get().to_dict(slf.py())?)
    }
}

impl Metadata {
    fn time<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        time_to_py(
            py,
            self.inner.get(key).and_then(Value::as_str).unwrap_or(""),
        )
    }
}

/// One event of a session's log.
///
/// `data` is a plain dict built on first access (then kept; changing it does
/// not change the event, whose `to_dict()` and `==` use the stored data),
/// `timestamp` an aware datetime (None for the zero time); `to_dict()` gives
/// the line as stored, with the timestamp's exact spelling and any unknown fields.
#[pyclass(module = "agentsession", name = "Event", frozen)]
pub struct Event {
    pub inner: agentsession::Event,
    data: OnceLock<Py<PyAny>>,
    time: OnceLock<Py<PyAny>>,
}

impl Event {
    /// Wraps a core event.
    pub fn new(inner: agentsession::Event) -> Event {
        Event {
            inner,
            data: OnceLock::new(),
            time: OnceLock::new(),
        }
    }
}

/// The value in `cell`, made by `make` on first use. Two threads may both
/// make it; the first one stored wins, so every caller sees the same object.
fn cached<'py>(
    py: Python<'py>,
    cell: &OnceLock<Py<PyAny>>,
    make: impl FnOnce() -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Py<PyAny>> {
    if let Some(v) = cell.get() {
        return Ok(v.clone_ref(py));
    }
    let made = make()?.unbind();
    Ok(cell.get_or_init(|| made).clone_ref(py))
}

#[pymethods]
impl Event {
    /// Position in the session, from 1.
    #[getter]
    fn seq(&self) -> u64 {
        self.inner.seq
    }
    /// The event type, e.g. `user_prompt`, `agent_message`, `tool_call`.
    #[getter]
    fn r#type(&self) -> &str {
        &self.inner.event_type
    }
    /// When the event happened (aware datetime; None for the zero time).
    #[getter]
    fn timestamp(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        cached(py, &self.time, || time_to_py(py, &self.inner.timestamp))
    }
    /// The event's data, a plain dict (for unknown types, whatever JSON was stored).
    #[getter]
    fn data(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        cached(py, &self.data, || to_py(py, &self.inner.data))
    }
    /// Top-level fields of the line other than seq, type, timestamp and data.
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        map_to_py(py, &self.inner.extra)
    }

    /// The line as a JSON object: seq, type, timestamp (as stored), data, unknown fields.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("seq", self.inner.seq)?;
        d.set_item("type", &self.inner.event_type)?;
        d.set_item("timestamp", &self.inner.timestamp)?;
        d.set_item("data", to_py(py, &self.inner.data)?)?;
        for (k, v) in &self.inner.extra {
            d.set_item(k, to_py(py, v)?)?;
        }
        Ok(d)
    }

    /// An event from a JSON object with at least `seq` and `type`.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, d: &Bound<'_, PyAny>) -> PyResult<Event> {
        let map = object_from_py(d, "d")?;
        serde_json::from_value::<agentsession::Event>(Value::Object(map))
            .map(Event::new)
            .map_err(|e| bad_dict("Event", e))
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    /// The cached data dict may end up holding the event itself.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for cell in [&self.data, &self.time] {
            if let Some(v) = cell.get() {
                visit.call(v)?;
            }
        }
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut out = repr(
            "Event",
            &[
                ("seq", self.inner.seq.into_pyobject(py)?.into_any()),
                (
                    "type",
                    self.inner.event_type.as_str().into_pyobject(py)?.into_any(),
                ),
                (
                    "timestamp",
                    self.inner.timestamp.as_str().into_pyobject(py)?.into_any(),
                ),
            ],
        )?;
        out.pop();
        out.push_str(", data=");
        out.push_str(&short_json(&self.inner.data, 60));
        out.push(')');
        Ok(out)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce(slf.py(), slf.get_type(), slf.get().to_dict(slf.py())?)
    }
}

/// A stored image of a session.
#[pyclass(module = "agentsession", name = "ImageInfo", frozen)]
pub struct ImageInfo {
    pub inner: agentsession::ImageInfo,
}

#[pymethods]
impl ImageInfo {
    /// Image id, also its file name under the session's `images/`.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    /// Original name when just saved; the id when listed.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// MIME type.
    #[getter]
    fn mime_type(&self) -> &str {
        &self.inner.mime_type
    }
    /// Size in bytes.
    #[getter]
    fn size(&self) -> u64 {
        self.inner.size
    }
    /// When the file was written (aware datetime), or None when unknown.
    #[getter]
    fn created_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner.created_at {
            Some(t) => Ok(datetime(py, t)?.into_any()),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// `{id, name, mime_type, size, created_at}` (created_at as RFC 3339 text or None).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("id", &self.inner.id)?;
        d.set_item("name", &self.inner.name)?;
        d.set_item("mime_type", &self.inner.mime_type)?;
        d.set_item("size", self.inner.size)?;
        d.set_item(
            "created_at",
            self.inner.created_at.as_ref().map(timefmt::format),
        )?;
        Ok(d)
    }

    /// An ImageInfo from the object `to_dict()` gives.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, d: &Bound<'_, PyAny>) -> PyResult<ImageInfo> {
        let map = object_from_py(d, "d")?;
        let text = |k: &str| -> PyResult<String> {
            map.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad_dict("ImageInfo", format!("{k:?} must be a string")))
        };
        let created_at = match map.get("created_at") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => timefmt::parse(s),
            Some(_) => return Err(bad_dict("ImageInfo", "\"created_at\" must be a string")),
        };
        Ok(ImageInfo {
            inner: agentsession::ImageInfo {
                id: text("id")?,
                name: text("name")?,
                mime_type: text("mime_type")?,
                size: map
                    .get("size")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| bad_dict("ImageInfo", "\"size\" must be an integer"))?,
                created_at,
            },
        })
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let i = &self.inner;
        repr(
            "ImageInfo",
            &[
                ("id", i.id.as_str().into_pyobject(py)?.into_any()),
                ("name", i.name.as_str().into_pyobject(py)?.into_any()),
                (
                    "mime_type",
                    i.mime_type.as_str().into_pyobject(py)?.into_any(),
                ),
                ("size", i.size.into_pyobject(py)?.into_any()),
            ],
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce(slf.py(), slf.get_type(), slf.get().to_dict(slf.py())?)
    }
}

/// What a prune removed.
#[pyclass(module = "agentsession", name = "PruneResult", frozen)]
pub struct PruneResult {
    pub inner: agentsession::PruneResult,
}

#[pymethods]
impl PruneResult {
    /// Events dropped.
    #[getter]
    fn events_removed(&self) -> usize {
        self.inner.events_removed
    }
    /// Image files deleted.
    #[getter]
    fn images_removed(&self) -> usize {
        self.inner.images_removed
    }
    /// Bytes freed (log and images).
    #[getter]
    fn bytes_reclaimed(&self) -> u64 {
        self.inner.bytes_reclaimed
    }

    /// `{events_removed, images_removed, bytes_reclaimed}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("events_removed", self.inner.events_removed)?;
        d.set_item("images_removed", self.inner.images_removed)?;
        d.set_item("bytes_reclaimed", self.inner.bytes_reclaimed)?;
        Ok(d)
    }

    /// A PruneResult from the object `to_dict()` gives.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, d: &Bound<'_, PyAny>) -> PyResult<PruneResult> {
        let map = object_from_py(d, "d")?;
        let n = |k: &str| -> PyResult<u64> {
            map.get(k)
                .and_then(Value::as_u64)
                .ok_or_else(|| bad_dict("PruneResult", format!("{k:?} must be an integer")))
        };
        Ok(PruneResult {
            inner: agentsession::PruneResult {
                events_removed: n("events_removed")? as usize,
                images_removed: n("images_removed")? as usize,
                bytes_reclaimed: n("bytes_reclaimed")?,
            },
        })
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let r = &self.inner;
        repr(
            "PruneResult",
            &[
                (
                    "events_removed",
                    r.events_removed.into_pyobject(py)?.into_any(),
                ),
                (
                    "images_removed",
                    r.images_removed.into_pyobject(py)?.into_any(),
                ),
                (
                    "bytes_reclaimed",
                    r.bytes_reclaimed.into_pyobject(py)?.into_any(),
                ),
            ],
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce(slf.py(), slf.get_type(), slf.get().to_dict(slf.py())?)
    }
}

/// Lists at least this long are built with the cyclic GC paused.
const GC_PAUSE_MIN: usize = 1000;

/// Pauses Python's cyclic garbage collector while alive (if it was on).
///
/// Every `Event` is a GC-tracked object, so building a long list of them
/// would trigger a collection every few hundred allocations, each walking
/// the young objects again. Nothing in the loop runs Python code (no
/// collection means no finalizers), so no other thread can see the pause.
struct GcPause<'py> {
    gc: Option<Bound<'py, PyModule>>,
}

impl<'py> GcPause<'py> {
    fn new(py: Python<'py>) -> PyResult<GcPause<'py>> {
        let gc = py.import("gc")?;
        if gc.call_method0("isenabled")?.is_truthy()? {
            gc.call_method0("disable")?;
            Ok(GcPause { gc: Some(gc) })
        } else {
            Ok(GcPause { gc: None })
        }
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if let Some(gc) = &self.gc {
            // `gc.enable()` cannot fail.
            let _ = gc.call_method0("enable");
        }
    }
}

/// Converts core events into Python `Event` objects.
pub fn events_to_py(py: Python<'_>, events: Vec<agentsession::Event>) -> PyResult<Vec<Py<Event>>> {
    let _pause = if events.len() >= GC_PAUSE_MIN {
        Some(GcPause::new(py)?)
    } else {
        None
    };
    events
        .into_iter()
        .map(|e| Py::new(py, Event::new(e)))
        .collect()
}

/// Core events out of Python `Event` objects (any iterable of them).
pub fn events_from_py(events: &Bound<'_, PyAny>) -> PyResult<Vec<agentsession::Event>> {
    let mut out = Vec::new();
    for item in events.try_iter()? {
        let item = item?;
        let ev = item.cast::<Event>().map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "events must hold Event objects, not {}",
                item.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?;
        out.push(ev.get().inner.clone());
    }
    Ok(out)
}

/// The JSON object of a value the core serializes.
fn serde_to_dict<'py, T: Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyDict>> {
    match serde_json::to_value(v) {
        Ok(Value::Object(map)) => map_to_py(py, &map),
        Ok(other) => Err(PyValueError::new_err(format!(
            "expected a JSON object, got {other}"
        ))),
        Err(e) => Err(PyValueError::new_err(e.to_string())),
    }
}

/// A core value from the JSON object `d`; `arg` names the argument and
/// `what` the type in errors.
pub fn serde_from_dict<T: DeserializeOwned>(
    d: &Bound<'_, PyAny>,
    arg: &str,
    what: &str,
) -> PyResult<T> {
    let map = object_from_py(d, arg)?;
    serde_json::from_value(Value::Object(map))
        .map_err(|e| PyValueError::new_err(format!("{arg} is not a valid {what}: {e}")))
}

fn py_str<'py>(py: Python<'py>, s: &str) -> PyResult<Bound<'py, PyAny>> {
    Ok(s.into_pyobject(py)?.into_any())
}

/// A message waiting in a session's queue.
#[pyclass(module = "agentsession", name = "QueuedMessage", frozen)]
pub struct QueuedMessage {
    pub inner: agentsession::QueuedMessage,
}

#[pymethods]
impl QueuedMessage {
    /// Unique id, `q-<unix seconds>-<8 hex>`.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    /// The text to send.
    #[getter]
    fn message(&self) -> &str {
        &self.inner.message
    }
    /// Ids of attached images (empty when none).
    #[getter]
    fn image_ids(&self) -> Vec<String> {
        self.inner.image_ids.clone()
    }
    /// When it was queued (aware datetime).
    #[getter]
    fn queued_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time_to_py(py, &self.inner.queued_at)
    }
    /// The client that queued it, if known.
    #[getter]
    fn client_id(&self) -> Option<&str> {
        self.inner.client_id.as_deref()
    }
    /// A short title, once one was set or generated.
    #[getter]
    fn title(&self) -> Option<&str> {
        self.inner.title.as_deref()
    }
    /// Fields this library does not know, in file order.
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        map_to_py(py, self.inner.extra())
    }

    /// The message as stored in `queue.json`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        serde_to_dict(py, &self.inner)
    }

    /// A QueuedMessage from its JSON object.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, d: &Bound<'_, PyAny>) -> PyResult<QueuedMessage> {
        Ok(QueuedMessage {
            inner: serde_from_dict(d, "d", "QueuedMessage")?,
        })
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let m = &self.inner;
        let mut fields = vec![("id", py_str(py, &m.id)?)];
        if let Some(t) = &m.title {
            fields.push(("title", py_str(py, t)?));
        }
        let mut text: String = m.message.chars().take(60).collect();
        if text.len() < m.message.len() {
            text.push('…');
        }
        fields.push(("message", py_str(py, &text)?));
        repr("QueuedMessage", &fields)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce(slf.py(), slf.get_type(), slf.get().to_dict(slf.py())?)
    }
}

/// One follow-up suggestion: a short label and the text sent when chosen.
#[pyclass(module = "agentsession", name = "ActionButton", frozen)]
pub struct ActionButton {
    pub inner: agentsession::ActionButton,
}

#[pymethods]
impl ActionButton {
    #[new]
    fn new(label: &str, response: &str) -> ActionButton {
        ActionButton {
            inner: agentsession::ActionButton::new(label, response),
        }
    }
    /// Button text (short).
    #[getter]
    fn label(&self) -> &str {
        &self.inner.label
    }
    /// The prompt sent when the button is chosen.
    #[getter]
    fn response(&self) -> &str {
        &self.inner.response
    }
    /// Fields this library does not know, in file order.
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        map_to_py(py, self.inner.extra())
    }

    /// `{label, response}` and any unknown fields.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        serde_to_dict(py, &self.inner)
    }

    /// An ActionButton from its JSON object.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, d: &Bound<'_, PyAny>) -> PyResult<ActionButton> {
        Ok(ActionButton {
            inner: serde_from_dict(d, "d", "ActionButton")?,
        })
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr(
            "ActionButton",
            &[
                ("label", py_str(py, &self.inner.label)?),
                ("response", py_str(py, &self.inner.response)?),
            ],
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce(slf.py(), slf.get_type(), slf.get().to_dict(slf.py())?)
    }
}

/// A suggested answer to an agent's reply, from the auxiliary session.
#[pyclass(module = "agentsession", name = "FollowUp", frozen)]
pub struct FollowUp {
    pub inner: agentsession::FollowUp,
}

#[pymethods]
impl FollowUp {
    /// Short caption (a few words).
    #[getter]
    fn label(&self) -> &str {
        &self.inner.label
    }
    /// The full message to send when chosen.
    #[getter]
    fn value(&self) -> &str {
        &self.inner.value
    }

    /// `{label, value}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        serde_to_dict(py, &self.inner)
    }

    /// A FollowUp from its JSON object.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, d: &Bound<'_, PyAny>) -> PyResult<FollowUp> {
        Ok(FollowUp {
            inner: serde_from_dict(d, "d", "FollowUp")?,
        })
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        repr(
            "FollowUp",
            &[
                ("label", py_str(py, &self.inner.label)?),
                ("value", py_str(py, &self.inner.value)?),
            ],
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce(slf.py(), slf.get_type(), slf.get().to_dict(slf.py())?)
    }
}

/// One event that matched a search.
#[pyclass(module = "agentsession", name = "SearchHit", frozen)]
pub struct SearchHit {
    pub inner: agentsession::SearchHit,
}

#[pymethods]
impl SearchHit {
    /// The session.
    #[getter]
    fn session_id(&self) -> &str {
        &self.inner.session_id
    }
    /// The event's seq.
    #[getter]
    fn seq(&self) -> u64 {
        self.inner.seq
    }
    /// The event's type.
    #[getter]
    fn r#type(&self) -> &str {
        &self.inner.event_type
    }
    /// The event's time (aware datetime; None for the zero time).
    #[getter]
    fn timestamp<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time_to_py(py, &self.inner.timestamp)
    }
    /// The data field that matched (`message`, `text`, `title`, `raw_input`...).
    #[getter]
    fn field(&self) -> &str {
        &self.inner.field
    }
    /// Text around the first match, on one line.
    #[getter]
    fn snippet(&self) -> &str {
        &self.inner.snippet
    }

    /// `{session_id, seq, type, timestamp, field, snippet}` (timestamp as stored).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let h = &self.inner;
        let d = PyDict::new(py);
        d.set_item("session_id", &h.session_id)?;
        d.set_item("seq", h.seq)?;
        d.set_item("type", &h.event_type)?;
        d.set_item("timestamp", &h.timestamp)?;
        d.set_item("field", &h.field)?;
        d.set_item("snippet", &h.snippet)?;
        Ok(d)
    }

    /// A SearchHit from the object `to_dict()` gives.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, d: &Bound<'_, PyAny>) -> PyResult<SearchHit> {
        let map = object_from_py(d, "d")?;
        let text = |k: &str| -> PyResult<String> {
            map.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad_dict("SearchHit", format!("{k:?} must be a string")))
        };
        Ok(SearchHit {
            inner: agentsession::SearchHit {
                session_id: text("session_id")?,
                seq: map
                    .get("seq")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| bad_dict("SearchHit", "\"seq\" must be an integer"))?,
                event_type: text("type")?,
                timestamp: text("timestamp")?,
                field: text("field")?,
                snippet: text("snippet")?,
            },
        })
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.inner == other.inner
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let h = &self.inner;
        repr(
            "SearchHit",
            &[
                ("session_id", py_str(py, &h.session_id)?),
                ("seq", h.seq.into_pyobject(py)?.into_any()),
                ("type", py_str(py, &h.event_type)?),
                ("field", py_str(py, &h.field)?),
                ("snippet", py_str(py, &h.snippet)?),
            ],
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        reduce(slf.py(), slf.get_type(), slf.get().to_dict(slf.py())?)
    }
}
