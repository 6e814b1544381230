//! The writing API for one session: start or resume it, record events of
//! every type, end it.
//!
//! ACP `session/update` notifications are recorded through
//! [`Recorder::record_acp_update`] (see [`crate::acp`]); text chunks wait in
//! the recorder until the message they belong to is complete, so every other
//! write (any `record_*` call, suspend, end, drop) first writes out the
//! message in progress and the log keeps the order in which things arrived.

use parking_lot::Mutex;
use serde_json::Value;

use crate::acp::record::AcpState;
use crate::error::{Error, Result};
use crate::event::{
    to_data, types, ErrorData, FileOperationData, ImageRef, PermissionData, PlanData, PlanEntry,
    SessionEndData, SessionStartData, TextData, ToolCallData, ToolCallUpdateData, UserPromptData,
};
use crate::metadata::Metadata;
use crate::prune::PruneLimits;
use crate::store::{CreateOptions, NewEvent, Store};
use crate::{ids, timefmt};

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) started: bool,
    prune: PruneLimits,
    /// ACP updates received and not yet written (a message being streamed).
    pub(crate) acp: AcpState,
}

/// Records one session. Thread-safe.
#[derive(Debug)]
pub struct Recorder {
    store: Store,
    session_id: String,
    pub(crate) state: Mutex<State>,
}

impl Recorder {
    /// A recorder for a new session with a generated id.
    pub fn new(store: &Store) -> Recorder {
        Recorder {
            store: store.clone(),
            session_id: ids::new_session_id(),
            state: Mutex::default(),
        }
    }

    /// A recorder for the session `session_id` (new or existing).
    pub fn with_id(store: &Store, session_id: &str) -> Result<Recorder> {
        ids::session(session_id)?;
        Ok(Recorder {
            store: store.clone(),
            session_id: session_id.to_string(),
            state: Mutex::default(),
        })
    }

    /// The session id.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The store it writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether recording is on (started or resumed, not suspended or ended).
    pub fn is_started(&self) -> bool {
        self.state.lock().started
    }

    /// Limits applied after each append (best effort: a failed prune never
    /// fails the append).
    pub fn set_prune_limits(&self, limits: PruneLimits) {
        self.state.lock().prune = limits;
    }

    /// Creates the session and records `session_start`.
    pub fn start(
        &self,
        acp_server: &str,
        working_dir: &str,
        acp_command: Option<&str>,
    ) -> Result<Metadata> {
        let mut st = self.state.lock();
        if st.started {
            return Err(Error::invalid("recording already started"));
        }
        self.store.create(&CreateOptions {
            session_id: Some(self.session_id.clone()),
            acp_server: acp_server.to_string(),
            working_dir: working_dir.to_string(),
            acp_command: acp_command.map(str::to_string),
            ..CreateOptions::default()
        })?;
        let data = to_data(&SessionStartData {
            session_id: self.session_id.clone(),
            acp_server: acp_server.to_string(),
            working_dir: working_dir.to_string(),
        });
        self.store
            .append_event(&self.session_id, NewEvent::new(types::SESSION_START, data))?;
        st.started = true;
        self.store.metadata(&self.session_id)
    }

    /// Continues recording an existing session.
    pub fn resume(&self) -> Result<Metadata> {
        let mut st = self.state.lock();
        if st.started {
            return Err(Error::invalid("recording already started"));
        }
        let meta = self.store.metadata(&self.session_id)?;
        st.started = true;
        Ok(meta)
    }

    /// Stops recording without ending the session (it can be resumed).
    pub fn suspend(&self) -> Result<()> {
        let mut st = self.state.lock();
        if !st.started {
            return Err(Error::invalid("recording is not started"));
        }
        self.append_all(&mut st, Vec::new())?;
        st.started = false;
        Ok(())
    }

    /// Records `session_end` and marks the session completed.
    pub fn end(&self, reason: &str) -> Result<()> {
        let mut st = self.state.lock();
        if !st.started {
            return Err(Error::invalid("recording is not started"));
        }
        let data = to_data(&SessionEndData {
            reason: reason.to_string(),
        });
        self.append_all(&mut st, vec![NewEvent::new(types::SESSION_END, data)])?;
        self.store.update_metadata(&self.session_id, |m| {
            m.set_str("status", "completed");
            m.set_str("updated_at", &timefmt::now_string());
            Ok(())
        })?;
        st.started = false;
        Ok(())
    }

    /// Number of events in the session.
    pub fn event_count(&self) -> Result<u64> {
        Ok(self.store.metadata(&self.session_id)?.event_count())
    }

    /// Records an event of any type; returns its seq.
    pub fn record(&self, event_type: &str, data: Value) -> Result<u64> {
        let mut st = self.started_state()?;
        let seqs = self.append_all(&mut st, vec![NewEvent::new(event_type, data)])?;
        Ok(*seqs.last().expect("one seq per event"))
    }

    /// The state, locked, if recording is on.
    pub(crate) fn started_state(&self) -> Result<parking_lot::MutexGuard<'_, State>> {
        let st = self.state.lock();
        if !st.started {
            return Err(Error::invalid(
                "recording is not started: call start() or resume() first",
            ));
        }
        Ok(st)
    }

    /// Appends the ACP message in progress (if any) and then `events` in one
    /// write, then prunes when limits are set; returns the seqs written. The
    /// message in progress is kept if the write fails.
    pub(crate) fn append_all(&self, st: &mut State, mut events: Vec<NewEvent>) -> Result<Vec<u64>> {
        let flushed = st.acp.pending_event();
        let had_message = flushed.is_some();
        if let Some(message) = flushed {
            events.insert(0, message);
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let seqs = self.store.append_events(&self.session_id, events)?;
        if had_message {
            st.acp.clear_pending();
        }
        if st.prune.is_enabled() {
            if let Err(e) = self.store.prune_if_needed(&self.session_id, st.prune) {
                log::warn!("{}: prune after append failed: {e}", self.session_id);
            }
        }
        Ok(seqs)
    }

    /// Records a user prompt with optional image references.
    pub fn record_user_prompt(&self, message: &str, images: &[ImageRef]) -> Result<u64> {
        self.record(
            types::USER_PROMPT,
            to_data(&UserPromptData {
                message: message.to_string(),
                images: images.to_vec(),
            }),
        )
    }

    /// Records reply text of the agent.
    pub fn record_agent_message(&self, text: &str) -> Result<u64> {
        self.record(
            types::AGENT_MESSAGE,
            to_data(&TextData {
                text: text.to_string(),
            }),
        )
    }

    /// Records the agent's reasoning text.
    pub fn record_agent_thought(&self, text: &str) -> Result<u64> {
        self.record(
            types::AGENT_THOUGHT,
            to_data(&TextData {
                text: text.to_string(),
            }),
        )
    }

    /// Records a tool call.
    pub fn record_tool_call(&self, call: &ToolCallData) -> Result<u64> {
        if call.tool_call_id.is_empty() {
            return Err(Error::invalid("tool_call_id is empty"));
        }
        self.record(types::TOOL_CALL, to_data(call))
    }

    /// Records a change to a tool call (absent fields are unchanged).
    pub fn record_tool_call_update(
        &self,
        tool_call_id: &str,
        status: Option<&str>,
        title: Option<&str>,
    ) -> Result<u64> {
        if tool_call_id.is_empty() {
            return Err(Error::invalid("tool_call_id is empty"));
        }
        self.record(
            types::TOOL_CALL_UPDATE,
            to_data(&ToolCallUpdateData {
                tool_call_id: tool_call_id.to_string(),
                status: status.map(str::to_string),
                title: title.map(str::to_string),
            }),
        )
    }

    /// Records the agent's plan.
    pub fn record_plan(&self, entries: &[PlanEntry]) -> Result<u64> {
        self.record(
            types::PLAN,
            to_data(&PlanData {
                entries: entries.to_vec(),
            }),
        )
    }

    /// Records a permission request and its outcome (`approved`, `denied`, `cancelled`).
    pub fn record_permission(
        &self,
        title: &str,
        selected_option: &str,
        outcome: &str,
    ) -> Result<u64> {
        if !["approved", "denied", "cancelled"].contains(&outcome) {
            return Err(Error::invalid(format!(
                "permission outcome must be approved, denied or cancelled, not {outcome:?}"
            )));
        }
        self.record(
            types::PERMISSION,
            to_data(&PermissionData {
                title: title.to_string(),
                selected_option: selected_option.to_string(),
                outcome: outcome.to_string(),
            }),
        )
    }

    fn file_op(&self, event_type: &str, path: &str, size: i64) -> Result<u64> {
        self.record(
            event_type,
            to_data(&FileOperationData {
                path: path.to_string(),
                size,
                content: String::new(),
            }),
        )
    }

    /// Records that the agent read a file.
    pub fn record_file_read(&self, path: &str, size: i64) -> Result<u64> {
        self.file_op(types::FILE_READ, path, size)
    }

    /// Records that the agent wrote a file.
    pub fn record_file_write(&self, path: &str, size: i64) -> Result<u64> {
        self.file_op(types::FILE_WRITE, path, size)
    }

    /// Records an error (code 0 = none).
    pub fn record_error(&self, message: &str, code: i64) -> Result<u64> {
        self.record(
            types::ERROR,
            to_data(&ErrorData {
                message: message.to_string(),
                code,
            }),
        )
    }
}

impl Drop for Recorder {
    /// Writes out the ACP message in progress, if recording is on.
    fn drop(&mut self) {
        let mut st = self.state.lock();
        if st.started {
            if let Err(e) = self.append_all(&mut st, Vec::new()) {
                log::warn!(
                    "{}: the ACP message in progress was not written: {e}",
                    self.session_id
                );
            }
        }
    }
}
