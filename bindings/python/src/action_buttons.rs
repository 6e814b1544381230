//! `agentsession.ActionButtonsStore`: the follow-up suggestions of a session.

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::{count, quoted, time_to_py};
use crate::data::{serde_from_dict, ActionButton};
use crate::errors::Res;

/// The follow-up suggestions of one session (`store.action_buttons(id)`),
/// served from a memory cache shared by every handle of the process.
#[pyclass(module = "agentsession", name = "ActionButtonsStore", frozen)]
pub struct ActionButtonsStore {
    pub inner: agentsession::ActionButtonsStore,
}

/// A button from an `ActionButton`, a `{label, response}` dict or a `(label, response)` tuple.
fn button(item: &Bound<'_, PyAny>, what: &str) -> PyResult<agentsession::ActionButton> {
    if let Ok(b) = item.cast::<ActionButton>() {
        return Ok(b.get().inner.clone());
    }
    if item.cast::<PyDict>().is_ok() {
        return serde_from_dict(item, what, "ActionButton");
    }
    if let Ok(t) = item.cast::<PyTuple>() {
        if let Ok((label, response)) = t.extract::<(String, String)>() {
            return Ok(agentsession::ActionButton::new(label, response));
        }
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be an ActionButton, a {{label, response}} dict or a (label, response) tuple, not {}",
        item.get_type().name()?
    )))
}

#[pymethods]
impl ActionButtonsStore {
    /// The session these suggestions belong to.
    #[getter]
    fn session_id(&self) -> &str {
        self.inner.session_id()
    }

    /// Path of `action_buttons.json`.
    #[getter]
    fn path(&self) -> PathBuf {
        self.inner.path().to_path_buf()
    }

    /// The current suggestions (empty when none).
    fn get(&self, py: Python<'_>) -> Res<Vec<ActionButton>> {
        let buttons = py.detach(|| self.inner.get())?;
        Ok(buttons
            .iter()
            .map(|b| ActionButton { inner: b.clone() })
            .collect())
    }

    /// When the current suggestions were generated (None when there are none).
    #[getter]
    fn generated_at<'py>(&self, py: Python<'py>) -> Res<Bound<'py, PyAny>> {
        let buttons = py.detach(|| self.inner.get())?;
        Ok(time_to_py(py, buttons.generated_at().unwrap_or(""))?)
    }

    /// The seq of the event the current suggestions are for (0: none).
    #[getter]
    fn for_event_seq(&self, py: Python<'_>) -> Res<u64> {
        Ok(py.detach(|| self.inner.get())?.for_event_seq())
    }

    /// Replaces the suggestions; `for_event_seq` is the event they answer (0: none).
    #[pyo3(signature = (buttons, for_event_seq=0))]
    fn set(&self, py: Python<'_>, buttons: &Bound<'_, PyAny>, for_event_seq: i128) -> Res<()> {
        let for_event_seq = count(for_event_seq, "for_event_seq")?;
        let mut list = Vec::new();
        for (i, item) in buttons.try_iter()?.enumerate() {
            list.push(button(&item?, &format!("buttons[{i}]"))?);
        }
        py.detach(|| self.inner.set(list, for_event_seq))?;
        Ok(())
    }

    /// Removes the suggestions (deletes the file).
    fn clear(&self, py: Python<'_>) -> Res<()> {
        Ok(py.detach(|| self.inner.clear())?)
    }

    /// Whether there are no suggestions.
    fn is_empty(&self, py: Python<'_>) -> Res<bool> {
        Ok(py.detach(|| self.inner.is_empty())?)
    }

    /// Deletes the file (like `clear`; a missing file is fine).
    fn delete(&self, py: Python<'_>) -> Res<()> {
        Ok(py.detach(|| self.inner.delete())?)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "ActionButtonsStore(session_id={})",
            quoted(py, self.inner.session_id())?
        ))
    }
}
