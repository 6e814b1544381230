//! The Python face of agentsession: the extension module
//! `agentsession._native`, re-exported by the `agentsession` package.
//!
//! The crate is thin: it extracts arguments, runs the core call with the GIL
//! released, and converts the result. Core errors become Python exceptions
//! in one place ([`errors`]).

use pyo3::prelude::*;

mod convert;
mod data;
mod errors;
mod notebook;
mod player;
mod recorder;
mod store;

/// Reading a session allocates and frees many small values (the parsed JSON
/// of every event); mimalloc does this markedly faster than the system
/// allocator, and keeps that cost off the Python side of the work.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<store::Store>()?;
    m.add_class::<recorder::Recorder>()?;
    m.add_class::<player::Player>()?;
    m.add_class::<data::Metadata>()?;
    m.add_class::<data::Event>()?;
    m.add_class::<data::ImageInfo>()?;
    m.add_class::<data::PruneResult>()?;
    m.add_function(wrap_pyfunction!(player::build_conversation_history, m)?)?;
    m.add_function(wrap_pyfunction!(player::last_agent_message, m)?)?;
    errors::register(m)?;
    Ok(())
}
