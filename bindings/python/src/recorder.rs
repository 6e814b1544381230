//! `agentsession.Recorder`: the writing API for one session.

use agentsession::event::{ImageRef, PlanEntry, ToolCallData};
use agentsession::PruneLimits;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::acp::{self, AcpRecorded};
use crate::convert::{count, from_py, quoted};
use crate::data::{ImageInfo, Metadata};
use crate::errors::Res;
use crate::store::Store;

/// Records one session: `start()` (or `resume()`), `record_*` calls that
/// return the new event's seq, then `end()` or `suspend()`. Thread-safe.
#[pyclass(module = "agentsession", name = "Recorder", frozen)]
pub struct Recorder {
    inner: agentsession::Recorder,
    store: Py<Store>,
}

/// Image references from `ImageInfo` objects or `{id, name?, mime_type}` dicts.
fn image_refs(images: &Bound<'_, PyAny>) -> PyResult<Vec<ImageRef>> {
    let mut refs = Vec::new();
    for (i, item) in images.try_iter()?.enumerate() {
        let item = item?;
        if let Ok(info) = item.cast::<ImageInfo>() {
            refs.push(info.get().image_ref());
            continue;
        }
        if item.cast::<PyDict>().is_err() {
            return Err(PyTypeError::new_err(format!(
                "images[{i}] must be an ImageInfo or a dict, not {}",
                item.get_type().name()?
            )));
        }
        let what = format!("images[{i}]");
        let r: ImageRef = serde_json::from_value(from_py(&item, &what)?)
            .map_err(|e| PyValueError::new_err(format!("{what}: {e}")))?;
        if r.id.is_empty() {
            return Err(PyValueError::new_err(format!("{what} has no id")));
        }
        refs.push(r);
    }
    Ok(refs)
}

#[pymethods]
impl Recorder {
    /// A recorder for `session_id` (new or existing); None generates an id.
    #[new]
    #[pyo3(signature = (store, session_id=None))]
    fn new(store: &Bound<'_, Store>, session_id: Option<&str>) -> Res<Recorder> {
        let core = &store.get().inner;
        let inner = match session_id {
            Some(id) => agentsession::Recorder::with_id(core, id)?,
            None => agentsession::Recorder::new(core),
        };
        Ok(Recorder {
            inner,
            store: store.clone().unbind(),
        })
    }

    /// The session id.
    #[getter]
    fn session_id(&self) -> &str {
        self.inner.session_id()
    }

    /// The store it writes to.
    #[getter]
    fn store(&self, py: Python<'_>) -> Py<Store> {
        self.store.clone_ref(py)
    }

    /// Whether recording is on (started or resumed, not suspended or ended).
    #[getter]
    fn is_started(&self) -> bool {
        self.inner.is_started()
    }

    /// Number of events in the session.
    #[getter]
    fn event_count(&self, py: Python<'_>) -> Res<u64> {
        Ok(py.detach(|| self.inner.event_count())?)
    }

    /// Limits applied after each append (0: no limit); a failed prune never fails the append.
    #[pyo3(signature = (max_messages=0, max_size_bytes=0))]
    fn set_prune_limits(&self, max_messages: i128, max_size_bytes: i128) -> PyResult<()> {
        self.inner.set_prune_limits(PruneLimits {
            max_messages: count(max_messages, "max_messages")? as usize,
            max_size_bytes: count(max_size_bytes, "max_size_bytes")?,
        });
        Ok(())
    }

    /// Creates the session and records `session_start`.
    #[pyo3(signature = (acp_server, working_dir, acp_command=None))]
    fn start(
        &self,
        py: Python<'_>,
        acp_server: &str,
        working_dir: &str,
        acp_command: Option<&str>,
    ) -> Res<Metadata> {
        let inner = py.detach(|| self.inner.start(acp_server, working_dir, acp_command))?;
        Ok(Metadata { inner })
    }

    /// Continues recording an existing session.
    fn resume(&self, py: Python<'_>) -> Res<Metadata> {
        let inner = py.detach(|| self.inner.resume())?;
        Ok(Metadata { inner })
    }

    /// Stops recording without ending the session (it can be resumed).
    fn suspend(&self) -> Res<()> {
        Ok(self.inner.suspend()?)
    }

    /// Records `session_end` with `reason` and marks the session completed.
    fn end(&self, py: Python<'_>, reason: &str) -> Res<()> {
        Ok(py.detach(|| self.inner.end(reason))?)
    }

    /// Records an event of any type (unknown types are kept as given).
    fn record(&self, py: Python<'_>, r#type: &str, data: &Bound<'_, PyAny>) -> Res<u64> {
        let data = from_py(data, "data")?;
        Ok(py.detach(|| self.inner.record(r#type, data))?)
    }

    /// Records a user prompt; `images` are `ImageInfo`s from `Store.save_image`
    /// or `{id, name?, mime_type}` dicts.
    #[pyo3(signature = (message, images=None))]
    fn record_user_prompt(
        &self,
        py: Python<'_>,
        message: &str,
        images: Option<&Bound<'_, PyAny>>,
    ) -> Res<u64> {
        let refs = match images {
            Some(i) if !i.is_none() => image_refs(i)?,
            _ => Vec::new(),
        };
        Ok(py.detach(|| self.inner.record_user_prompt(message, &refs))?)
    }

    /// Records reply text of the agent.
    fn record_agent_message(&self, py: Python<'_>, text: &str) -> Res<u64> {
        Ok(py.detach(|| self.inner.record_agent_message(text))?)
    }

    /// Records the agent's reasoning text.
    fn record_agent_thought(&self, py: Python<'_>, text: &str) -> Res<u64> {
        Ok(py.detach(|| self.inner.record_agent_thought(text))?)
    }

    /// Records a tool call; `raw_input` / `raw_output` are any JSON data (None: absent).
    #[pyo3(signature = (tool_call_id, title, status, kind=None, raw_input=None, raw_output=None))]
    #[allow(clippy::too_many_arguments)]
    fn record_tool_call(
        &self,
        py: Python<'_>,
        tool_call_id: &str,
        title: &str,
        status: &str,
        kind: Option<&str>,
        raw_input: Option<&Bound<'_, PyAny>>,
        raw_output: Option<&Bound<'_, PyAny>>,
    ) -> Res<u64> {
        let json = |v: Option<&Bound<'_, PyAny>>, what: &str| -> PyResult<Option<Value>> {
            v.filter(|v| !v.is_none())
                .map(|v| from_py(v, what))
                .transpose()
        };
        let call = ToolCallData {
            tool_call_id: tool_call_id.to_owned(),
            title: title.to_owned(),
            status: status.to_owned(),
            kind: kind.unwrap_or_default().to_owned(),
            raw_input: json(raw_input, "raw_input")?,
            raw_output: json(raw_output, "raw_output")?,
        };
        Ok(py.detach(|| self.inner.record_tool_call(&call))?)
    }

    /// Records a change to a tool call (None: unchanged).
    #[pyo3(signature = (tool_call_id, status=None, title=None))]
    fn record_tool_call_update(
        &self,
        py: Python<'_>,
        tool_call_id: &str,
        status: Option<&str>,
        title: Option<&str>,
    ) -> Res<u64> {
        Ok(py.detach(|| {
            self.inner
                .record_tool_call_update(tool_call_id, status, title)
        })?)
    }

    /// Records the agent's plan: a list of `{id, title, status, priority?}` dicts.
    fn record_plan(&self, py: Python<'_>, entries: &Bound<'_, PyAny>) -> Res<u64> {
        if entries.cast::<pyo3::types::PyList>().is_err()
            && entries.cast::<pyo3::types::PyTuple>().is_err()
        {
            return Err(PyTypeError::new_err(format!(
                "entries must be a list of dicts, not {}",
                entries.get_type().name()?
            ))
            .into());
        }
        let entries: Vec<PlanEntry> = serde_json::from_value(from_py(entries, "entries")?)
            .map_err(|e| PyValueError::new_err(format!("entries: {e}")))?;
        Ok(py.detach(|| self.inner.record_plan(&entries))?)
    }

    /// Records a permission request and its outcome (`approved`, `denied` or `cancelled`).
    fn record_permission(
        &self,
        py: Python<'_>,
        title: &str,
        selected_option: &str,
        outcome: &str,
    ) -> Res<u64> {
        Ok(py.detach(|| {
            self.inner
                .record_permission(title, selected_option, outcome)
        })?)
    }

    /// Records that the agent read a file of `size` bytes.
    fn record_file_read(&self, py: Python<'_>, path: &str, size: i64) -> Res<u64> {
        Ok(py.detach(|| self.inner.record_file_read(path, size))?)
    }

    /// Records that the agent wrote a file of `size` bytes.
    fn record_file_write(&self, py: Python<'_>, path: &str, size: i64) -> Res<u64> {
        Ok(py.detach(|| self.inner.record_file_write(path, size))?)
    }

    /// Records an error (code 0: none).
    #[pyo3(signature = (message, code=0))]
    fn record_error(&self, py: Python<'_>, message: &str, code: i64) -> Res<u64> {
        Ok(py.detach(|| self.inner.record_error(message, code))?)
    }

    /// Records one ACP `session/update` notification (a dict: the JSON-RPC
    /// message or its params; or its JSON text). Chunks of a message are
    /// written as one event once the message is complete.
    fn record_acp_update(
        &self,
        py: Python<'_>,
        notification: &Bound<'_, PyAny>,
    ) -> Res<AcpRecorded> {
        let value = acp::notification(notification, "notification")?;
        let recorded = py.detach(|| self.inner.record_acp_update_value(&value))?;
        Ok(AcpRecorded::new(recorded))
    }

    /// Ends a prompt turn: writes the message in progress and a `turn_end`
    /// event with the agent's stop reason; returns the seqs written.
    fn record_turn_end(&self, py: Python<'_>, stop_reason: &str) -> Res<Vec<u64>> {
        Ok(py.detach(|| self.inner.record_turn_end(stop_reason))?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Recorder(session_id={}, is_started={})",
            quoted(py, self.inner.session_id())?,
            if self.inner.is_started() {
                "True"
            } else {
                "False"
            }
        ))
    }
}
