//! `agentsession.migrate`: copying every session of one store into another.

use agentsession::Error;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::errors::Res;
use crate::record::{json_record, record_of, Int, Json};
use crate::store::Store;

json_record! {
    /// What `migrate` did.
    MigrateReport {
        /// Sessions of the source.
        sessions: Int,
        /// Sessions that did not exist in the target.
        sessions_created: Int,
        /// Log lines copied.
        events_copied: Int,
        /// Images copied.
        images_copied: Int,
        /// Queues and suggestion documents copied.
        documents_copied: Int,
        /// Sessions of the source that could not be read (not copied): a
        /// list of `{"session_id", "error"}` dicts.
        skipped: Json,
    }
}

/// Copies every session of `from_store` into `to_store` (a directory into a
/// server, a server into a directory, or between two of a kind): metadata,
/// log lines byte for byte, images, queue and follow-up suggestions; not
/// locks. A session already in `to_store` gets only what it lacks, so a
/// second run copies nothing and an interrupted run continues where it
/// stopped. Runs with the GIL released; `progress(done, total)` is called
/// with the GIL after each session, and an exception it raises (or Ctrl-C)
/// stops the copy there and propagates.
#[pyfunction]
#[pyo3(signature = (from_store, to_store, progress=None))]
pub fn migrate(
    py: Python<'_>,
    from_store: &Bound<'_, Store>,
    to_store: &Bound<'_, Store>,
    progress: Option<Bound<'_, PyAny>>,
) -> Res<MigrateReport> {
    let progress = progress.filter(|p| !p.is_none());
    if progress.as_ref().is_some_and(|p| !p.is_callable()) {
        return Err(PyTypeError::new_err("progress must be callable(done, total)").into());
    }
    let progress = progress.map(Bound::unbind);
    let (from, to) = (&from_store.get().inner, &to_store.get().inner);
    let mut raised = None;
    let copied = py.detach(|| {
        agentsession::migrate(from, to, |p| {
            Python::attach(|py| {
                py.check_signals()?;
                if let Some(callback) = &progress {
                    callback.call1(py, (p.sessions_done, p.sessions_total))?;
                }
                Ok(())
            })
            .map_err(|e: PyErr| {
                raised = Some(e);
                Error::invalid("the copy was interrupted")
            })
        })
    });
    if let Some(e) = raised {
        return Err(e.into());
    }
    Ok(record_of(&copied?))
}
