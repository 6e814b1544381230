//! The frozen data objects: attributes named as the JSON fields, `to_dict()`
//! giving the JSON object, `from_dict()` reading one back, equality, a
//! readable repr, and pickling through `from_dict(to_dict())`. The simple
//! ones are [`json_record!`]s; `Metadata`, `Event`, `QueuedMessage` and
//! `ActionButton` keep the core's value (unknown fields, lazy event data).

use std::sync::OnceLock;

use agentsession::event::ImageRef;
use agentsession::timefmt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::convert::{map_to_py, object_from_py, time_to_py, to_py};
use crate::record::{json_record, Int, JsonRecord, Str, Time};

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

json_record! {
    /// A stored image of a session.
    ImageInfo {
        /// Image id, also its file name under the session's `images/`.
        id: Str,
        /// Original name when just saved; the id when listed.
        name: Str,
        /// MIME type.
        mime_type: Str,
        /// Size in bytes.
        size: Int,
        /// When the file was written (aware datetime), or None when unknown.
        created_at: Time,
    }
}

impl ImageInfo {
    /// The Python object of a core image.
    pub fn new(i: &agentsession::ImageInfo) -> ImageInfo {
        let mut map = Map::new();
        map.insert("id".into(), i.id.clone().into());
        map.insert("name".into(), i.name.clone().into());
        map.insert("mime_type".into(), i.mime_type.clone().into());
        map.insert("size".into(), i.size.into());
        let created = i.created_at.as_ref().map(timefmt::format);
        map.insert("created_at".into(), created.into());
        ImageInfo::from_map(map)
    }

    /// The reference a prompt records for this image.
    pub fn image_ref(&self) -> ImageRef {
        let text = |k: &str| self.map.get(k).and_then(Value::as_str).unwrap_or("");
        ImageRef {
            id: text("id").to_string(),
            name: text("name").to_string(),
            mime_type: text("mime_type").to_string(),
        }
    }
}

json_record! {
    /// What a prune removed.
    PruneResult {
        /// Events dropped.
        events_removed: Int,
        /// Image files deleted.
        images_removed: Int,
        /// Bytes freed (log and images).
        bytes_reclaimed: Int,
    }
}

impl PruneResult {
    /// The Python object of the core's result.
    pub fn new(r: &agentsession::PruneResult) -> PruneResult {
        let mut map = Map::new();
        map.insert("events_removed".into(), r.events_removed.into());
        map.insert("images_removed".into(), r.images_removed.into());
        map.insert("bytes_reclaimed".into(), r.bytes_reclaimed.into());
        PruneResult::from_map(map)
    }
}

json_record! {
    /// A suggested answer to an agent's reply, from the auxiliary session.
    FollowUp {
        /// Short caption (a few words).
        label: Str,
        /// The full message to send when chosen.
        value: Str,
    }
}

json_record! {
    /// One event that matched a search.
    SearchHit {
        /// The session.
        session_id: Str,
        /// The event's seq.
        seq: Int,
        /// The event's type.
        r#type["type"]: Str,
        /// The event's time (aware datetime; None for the zero time).
        timestamp: Time,
        /// The data field that matched (`message`, `text`, `title`, `raw_input`...).
        field: Str,
        /// Text around the first match, on one line.
        snippet: Str,
    }
}

impl SearchHit {
    /// The Python object of a core hit.
    pub fn new(h: agentsession::SearchHit) -> SearchHit {
        let mut map = Map::new();
        map.insert("session_id".into(), h.session_id.into());
        map.insert("seq".into(), h.seq.into());
        map.insert("type".into(), h.event_type.into());
        map.insert("timestamp".into(), h.timestamp.into());
        map.insert("field".into(), h.field.into());
        map.insert("snippet".into(), h.snippet.into());
        SearchHit::from_map(map)
    }
}
