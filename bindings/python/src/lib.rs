//! The Python face of agentsession: the extension module
//! `agentsession._native`, re-exported by the `agentsession` package.
//!
//! The crate is thin: it extracts arguments, runs the core call with the GIL
//! released, and converts the result. Core errors become Python exceptions
//! in one place ([`errors`]).

use pyo3::prelude::*;

mod acp;
mod action_buttons;
mod auxiliary;
mod convert;
mod data;
mod errors;
mod insight;
mod lock;
mod migrate;
mod notebook;
mod player;
mod queue;
mod record;
mod recorder;
mod store;

/// Reading a session allocates and frees many small values (the parsed JSON
/// of every event): with mimalloc, `store.events()` of a 100,000-event
/// session takes about a third less CPU time than with the system allocator
/// (`benches/python_events.py`).
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
    m.add_class::<queue::Queue>()?;
    m.add_class::<data::QueuedMessage>()?;
    m.add_class::<action_buttons::ActionButtonsStore>()?;
    m.add_class::<data::ActionButton>()?;
    m.add_class::<data::FollowUp>()?;
    m.add_class::<insight::Search>()?;
    m.add_class::<data::SearchHit>()?;
    m.add_class::<insight::Follow>()?;
    m.add_class::<lock::Lock>()?;
    m.add_class::<lock::LockInfo>()?;
    m.add_class::<lock::LockCheck>()?;
    m.add_class::<lock::Settings>()?;
    m.add_class::<lock::HeartbeatStats>()?;
    m.add_class::<acp::AcpRecorded>()?;
    m.add_class::<acp::ResumePlan>()?;
    m.add_class::<acp::UsageTotals>()?;
    m.add_class::<acp::UsageRow>()?;
    m.add_class::<acp::UsageSummary>()?;
    m.add_class::<migrate::MigrateReport>()?;
    m.add_function(wrap_pyfunction!(migrate::migrate, m)?)?;
    m.add_function(wrap_pyfunction!(player::build_conversation_history, m)?)?;
    m.add_function(wrap_pyfunction!(player::last_agent_message, m)?)?;
    m.add_function(wrap_pyfunction!(player::resume_plan, m)?)?;
    lock::register(m)?;
    errors::register(m)?;
    // `import agentsession.auxiliary` finds the submodule through sys.modules.
    let aux = auxiliary::module(m.py())?;
    m.py()
        .import("sys")?
        .getattr("modules")?
        .set_item("agentsession.auxiliary", &aux)?;
    m.add("auxiliary", aux)?;
    Ok(())
}
