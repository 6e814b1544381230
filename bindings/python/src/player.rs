//! `agentsession.Player` (read-only playback of one session) and the helpers
//! over lists of events.

use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyIterator, PyList};

use crate::acp::{self, ResumePlan};
use crate::convert::{count, quoted, to_py};
use crate::data::{events_from_py, events_to_py, Event, Metadata};
use crate::errors::{warn_skipped, Res};
use crate::notebook;
use crate::record::record_of;
use crate::store::Store;

/// Plays back one session, loaded when the player is made.
///
/// `len(p)` events; `iter(p)` and `p[i]` see all of them whatever the
/// position; `next()` / `peek()` / `seek()` / `reset()` move a cursor.
/// In a notebook the player renders as the conversation.
#[pyclass(module = "agentsession", name = "Player")]
pub struct Player {
    inner: agentsession::Player,
}

fn event(py: Python<'_>, e: Option<&agentsession::Event>) -> PyResult<Option<Py<Event>>> {
    e.map(|e| Py::new(py, Event::new(e.clone()))).transpose()
}

#[pymethods]
impl Player {
    /// Loads `session_id` from `store`; corrupt lines are skipped with a `CorruptDataWarning`.
    #[new]
    fn new(py: Python<'_>, store: &Bound<'_, Store>, session_id: &str) -> Res<Player> {
        let core = store.get().inner.clone();
        let inner = py.detach(|| agentsession::Player::open(&core, session_id))?;
        warn_skipped(py, inner.skipped())?;
        Ok(Player { inner })
    }

    /// The session id.
    #[getter]
    fn session_id(&self) -> &str {
        self.inner.metadata().session_id()
    }

    /// The session's metadata as of loading.
    #[getter]
    fn metadata(&self) -> Metadata {
        Metadata {
            inner: self.inner.metadata().clone(),
        }
    }

    /// Every event, oldest first.
    #[getter]
    fn events(&self, py: Python<'_>) -> PyResult<Vec<Py<Event>>> {
        events_to_py(py, self.inner.events().to_vec())
    }

    /// The log lines skipped as corrupt when loading: dicts of path, line
    /// (None when unknown), offset (bytes) and message.
    #[getter]
    fn skipped<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .skipped()
            .iter()
            .map(|bad| {
                let d = PyDict::new(py);
                d.set_item("path", bad.path.to_string_lossy())?;
                d.set_item("line", bad.line)?;
                d.set_item("offset", bad.offset)?;
                d.set_item("message", &bad.message)?;
                Ok(d)
            })
            .collect()
    }

    /// Index of the event `next()` returns.
    #[getter]
    fn position(&self) -> usize {
        self.inner.position()
    }

    /// Whether `next()` has an event to return.
    #[getter]
    fn has_next(&self) -> bool {
        self.inner.has_next()
    }

    /// The next event, advancing the cursor; None at the end.
    fn next(&mut self, py: Python<'_>) -> PyResult<Option<Py<Event>>> {
        event(py, self.inner.next())
    }

    /// The next event without advancing; None at the end.
    fn peek(&self, py: Python<'_>) -> PyResult<Option<Py<Event>>> {
        event(py, self.inner.peek())
    }

    /// Back to the first event.
    fn reset(&mut self) {
        self.inner.reset();
    }

    /// Moves the cursor to `position` (0 to len); out of range raises InvalidArgument.
    fn seek(&mut self, position: i128) -> Res<()> {
        Ok(self.inner.seek(count(position, "position")? as usize)?)
    }

    /// The events of one type.
    fn events_of_type(&self, py: Python<'_>, r#type: &str) -> PyResult<Vec<Py<Event>>> {
        self.inner
            .events_of_type(r#type)
            .into_iter()
            .map(|e| Py::new(py, Event::new(e.clone())))
            .collect()
    }

    /// The session as the `session/update` notifications (dicts) an agent
    /// sends while answering `session/load`.
    fn acp_updates<'py>(&self, py: Python<'py>) -> Res<Vec<Bound<'py, PyAny>>> {
        let updates = py.detach(|| self.inner.acp_updates())?;
        Ok(updates
            .iter()
            .map(|u| to_py(py, u))
            .collect::<PyResult<_>>()?)
    }

    /// How to continue this session with an agent, given its answer to
    /// `initialize` (the JSON-RPC response or its result: a dict or JSON text).
    fn resume_plan(&self, initialize_response: &Bound<'_, PyAny>) -> Res<ResumePlan> {
        let response = acp::notification(initialize_response, "initialize_response")?;
        Ok(record_of::<ResumePlan>(&self.inner.resume_plan(&response)?))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __getitem__(&self, py: Python<'_>, index: isize) -> PyResult<Py<Event>> {
        let len = self.inner.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if !(0..len).contains(&i) {
            return Err(PyIndexError::new_err(format!(
                "event index {index} out of range for {len} events"
            )));
        }
        Py::new(py, Event::new(self.inner.events()[i as usize].clone()))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyList::new(py, self.events(py)?)?.try_iter()
    }

    /// One row per event (pandas is the optional extra `agentsession[pandas]`).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        notebook::call(slf.py(), "events_frame", slf.as_any())
    }

    fn _repr_html_(slf: &Bound<'_, Self>) -> PyResult<String> {
        notebook::call(slf.py(), "conversation_html", slf.as_any())?.extract()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Player(session_id={}, events={}, position={})",
            quoted(py, self.inner.metadata().session_id())?,
            self.inner.len(),
            self.inner.position()
        ))
    }
}

/// The conversation as text to re-prime a resumed agent: the last
/// `max_turns` turns (0: all) of user prompt and agent reply.
#[pyfunction]
pub fn build_conversation_history(events: &Bound<'_, PyAny>, max_turns: i128) -> PyResult<String> {
    let events = events_from_py(events)?;
    let max_turns = count(max_turns, "max_turns")? as usize;
    Ok(agentsession::build_conversation_history(&events, max_turns))
}

/// How to continue a session given its metadata, its events and the agent's
/// answer to `initialize` (what `Player.resume_plan` does for a loaded session).
#[pyfunction]
pub fn resume_plan(
    metadata: &Bound<'_, Metadata>,
    events: &Bound<'_, PyAny>,
    initialize_response: &Bound<'_, PyAny>,
) -> Res<ResumePlan> {
    let events = events_from_py(events)?;
    let response = acp::notification(initialize_response, "initialize_response")?;
    let plan = agentsession::acp::resume_plan(&metadata.get().inner, &events, &response)?;
    Ok(record_of::<ResumePlan>(&plan))
}

/// The agent's reply to the last prompt: its messages after the last
/// `user_prompt`, concatenated ("" when there is no prompt).
#[pyfunction]
pub fn last_agent_message(events: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(agentsession::last_agent_message(&events_from_py(events)?))
}
