//! `agentsession.auxiliary`: the process-wide hidden ACP session for utility
//! prompts. Every call waits with the GIL released.

use std::path::PathBuf;
use std::sync::Arc;

use agentsession::auxiliary as aux;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::{seconds, to_py};
use crate::data::FollowUp;
use crate::errors::Res;
use crate::queue::Queue;
use crate::record::record_of;

/// Records the agent's command line (split like a shell would) and working
/// directory (default: the current one). Starts nothing: the agent starts on
/// the first request.
#[pyfunction]
#[pyo3(signature = (command, cwd=None))]
fn initialize(py: Python<'_>, command: &str, cwd: Option<PathBuf>) -> Res<()> {
    Ok(py.detach(|| aux::initialize(command, cwd.as_deref()))?)
}

/// Sends `text` as one turn and returns the agent's reply, trimmed.
#[pyfunction]
#[pyo3(signature = (text, timeout=30.0))]
fn prompt(py: Python<'_>, text: &str, timeout: f64) -> Res<String> {
    let timeout = seconds(timeout, "timeout")?;
    Ok(py.detach(|| aux::prompt(text, timeout))?)
}

/// Sets the timeout (seconds) of the utilities below (default 30).
#[pyfunction]
fn set_default_timeout(timeout: f64) -> Res<()> {
    Ok(aux::set_default_timeout(seconds(timeout, "timeout")?)?)
}

/// The timeout (seconds) of the utilities.
#[pyfunction]
fn default_timeout() -> f64 {
    aux::global().default_timeout().as_secs_f64()
}

/// The process id of the running agent, or None.
#[pyfunction]
fn pid() -> Option<u32> {
    aux::global().pid()
}

/// A title of two or three words (at most 50 characters) for a conversation
/// starting with `first_message`; "" if the agent gave nothing usable.
#[pyfunction]
fn generate_title(py: Python<'_>, first_message: &str) -> Res<String> {
    Ok(py.detach(|| aux::generate_title(first_message))?)
}

/// A title (at most 30 characters) for a queued message; "" if the agent gave nothing usable.
#[pyfunction]
fn generate_queued_message_title(py: Python<'_>, message: &str) -> Res<String> {
    Ok(py.detach(|| aux::generate_queued_message_title(message))?)
}

/// A clearer, more specific version of a user's prompt.
#[pyfunction]
fn improve_prompt(py: Python<'_>, prompt: &str) -> Res<String> {
    Ok(py.detach(|| aux::improve_prompt(prompt))?)
}

/// Suggested answers to an agent's reply (at most 5); none when the agent's
/// answer holds no readable suggestions.
#[pyfunction]
fn analyze_follow_up_questions(py: Python<'_>, agent_reply: &str) -> Res<Vec<FollowUp>> {
    let follow_ups = py.detach(|| aux::analyze_follow_up_questions(agent_reply))?;
    Ok(follow_ups
        .into_iter()
        .map(|f| record_of::<FollowUp>(&f))
        .collect())
}

/// Asks the background title worker to title a queued message; False when
/// its backlog is full (the message then stays untitled).
#[pyfunction]
fn request_queued_message_title(
    py: Python<'_>,
    queue: &Bound<'_, Queue>,
    message_id: &str,
) -> bool {
    let queue = &queue.get().inner;
    py.detach(|| aux::request_queued_message_title(queue, message_id))
}

/// Sets (None removes) a function called with each `session/update`
/// notification the agent sends (a dict, the whole JSON-RPC message), in
/// order, on the thread that reads the agent's output, e.g. to record it
/// with `Recorder.record_acp_update`. It should return quickly; an exception
/// it raises goes to `sys.unraisablehook`.
#[pyfunction]
fn set_update_observer(observer: Option<Bound<'_, PyAny>>) -> PyResult<()> {
    let Some(observer) = observer.filter(|o| !o.is_none()) else {
        aux::global().set_update_observer(None);
        return Ok(());
    };
    if !observer.is_callable() {
        return Err(PyTypeError::new_err(
            "observer must be callable(notification) or None",
        ));
    }
    let observer = observer.unbind();
    aux::global().set_update_observer(Some(Arc::new(move |update: &Value| {
        Python::attach(|py| {
            let called = to_py(py, update).and_then(|d| observer.call1(py, (d,)));
            if let Err(e) = called {
                e.write_unraisable(py, Some(observer.bind(py)));
            }
        })
    })));
    Ok(())
}

/// Whether the agent process is running.
#[pyfunction]
fn is_started() -> bool {
    aux::is_started()
}

/// Stops the title worker and the agent (waiting for it to exit) and forgets the command.
#[pyfunction]
fn shutdown(py: Python<'_>) {
    py.detach(aux::shutdown);
}

/// The `agentsession.auxiliary` module.
pub fn module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let m = PyModule::new(py, "agentsession.auxiliary")?;
    m.setattr(
        "__doc__",
        "The hidden auxiliary ACP session for utility prompts: titles, prompt \
         improvement, follow-up suggestions. One per process; the agent starts on \
         the first request and is kept; requests run one at a time.",
    )?;
    m.add_function(wrap_pyfunction!(initialize, &m)?)?;
    m.add_function(wrap_pyfunction!(prompt, &m)?)?;
    m.add_function(wrap_pyfunction!(set_default_timeout, &m)?)?;
    m.add_function(wrap_pyfunction!(default_timeout, &m)?)?;
    m.add_function(wrap_pyfunction!(pid, &m)?)?;
    m.add_function(wrap_pyfunction!(generate_title, &m)?)?;
    m.add_function(wrap_pyfunction!(generate_queued_message_title, &m)?)?;
    m.add_function(wrap_pyfunction!(improve_prompt, &m)?)?;
    m.add_function(wrap_pyfunction!(analyze_follow_up_questions, &m)?)?;
    m.add_function(wrap_pyfunction!(request_queued_message_title, &m)?)?;
    m.add_function(wrap_pyfunction!(set_update_observer, &m)?)?;
    m.add_function(wrap_pyfunction!(is_started, &m)?)?;
    m.add_function(wrap_pyfunction!(shutdown, &m)?)?;
    Ok(m)
}
