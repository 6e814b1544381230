//! Python objects of ACP recording and replay: what a recorded notification
//! wrote, how to resume a session, and the usage the agent reported.

use pyo3::prelude::*;
use serde_json::{Map, Value};

use crate::record::{json_record, Int, Json, OptStr, Record, Records, Str, Time};

json_record! {
    /// What one recorded `session/update` notification wrote: the seqs of
    /// the events written (often none: chunks wait until their message is
    /// complete) and the problems with what the agent sent (kept all the same).
    AcpRecorded {
        /// Seqs of the events written by the call.
        seqs: Json,
        /// Problems with the notification; its data was kept all the same.
        warnings: Json,
    }
}

impl AcpRecorded {
    /// The Python object of the core's result.
    pub fn new(r: agentsession::AcpRecorded) -> AcpRecorded {
        let mut map = Map::new();
        map.insert("seqs".into(), Value::from(r.seqs));
        map.insert("warnings".into(), Value::from(r.warnings));
        <AcpRecorded as crate::record::JsonRecord>::from_map(map)
    }
}

json_record! {
    /// How to continue a stored session with an agent that was just
    /// initialized: the ACP request to send and its params.
    ResumePlan {
        /// `session/resume`, `session/load` or `session/new`.
        method: Str,
        /// The request's params (`mcpServers` empty: add the host's own).
        params: Json,
        /// The agent's session id to resume or load (None for a new session).
        acp_session_id: OptStr,
        /// The session's working directory.
        working_dir: Str,
        /// For a new session, the conversation so far to put before the next prompt.
        history: Str,
        /// Why this method, in a sentence.
        reason: Str,
    }
}

json_record! {
    /// The usage an agent reported in one session (its `usage` events).
    UsageTotals {
        /// The session.
        session_id: Str,
        /// Its agent (`acp_server`).
        agent: Str,
        /// Number of usage updates.
        updates: Int,
        /// Tokens in context at the latest update.
        used: Int,
        /// Context window size at the latest update.
        size: Int,
        /// Most tokens in context at any update.
        peak_used: Int,
        /// Cost spent, per currency: a dict of floats.
        cost: Json,
        /// Time of the first update (None when there was none).
        first_at: Time,
        /// Time of the latest update (None when there was none).
        last_at: Time,
    }
}

json_record! {
    /// The usage of a group of sessions: one day, one agent, or all.
    UsageRow {
        /// The day (`YYYY-MM-DD`), the agent, or `total`.
        key: Str,
        /// Sessions with usage updates in the group.
        sessions: Int,
        /// Usage updates in the group.
        updates: Int,
        /// Sum over those sessions of their peak context tokens in the group.
        peak_tokens: Int,
        /// Cost spent in the group, per currency.
        cost: Json,
    }
}

json_record! {
    /// The usage of every session of a store: in total, per day, per agent,
    /// and per session.
    UsageSummary {
        /// All sessions together.
        total: Record<UsageRow>,
        /// Per day, oldest first.
        by_day: Records<UsageRow>,
        /// Per agent, by name.
        by_agent: Records<UsageRow>,
        /// Each session with usage updates, by id.
        sessions: Records<UsageTotals>,
    }
}

/// A notification argument: a dict (the JSON-RPC message or its params), or its JSON text.
pub fn notification(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    if let Ok(text) = obj.extract::<std::borrow::Cow<'_, str>>() {
        return serde_json::from_str(&text).map_err(|e| {
            pyo3::exceptions::PyValueError::new_err(format!("{what} is not JSON: {e}"))
        });
    }
    if let Ok(bytes) = obj.cast::<pyo3::types::PyBytes>() {
        return serde_json::from_slice(bytes.as_bytes()).map_err(|e| {
            pyo3::exceptions::PyValueError::new_err(format!("{what} is not JSON: {e}"))
        });
    }
    crate::convert::from_py(obj, what)
}
