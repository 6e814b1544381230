//! Notebook display and pandas export, written in Python
//! (`agentsession/_notebook.py`) and reached from the native classes.

use pyo3::prelude::*;

/// Calls `agentsession._notebook.<function>(obj)`.
pub fn call<'py>(
    py: Python<'py>,
    function: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    py.import("agentsession._notebook")?
        .getattr(function)?
        .call1((obj,))
}
