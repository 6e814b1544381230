//! How to continue a stored session with an agent that was just initialized.

use agent_client_protocol_schema::v1::{
    InitializeResponse, LoadSessionRequest, NewSessionRequest, ResumeSessionRequest,
};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::event::Event;
use crate::metadata::Metadata;
use crate::player::{build_conversation_history, Player};

/// Turns of conversation a new session is primed with.
pub const HISTORY_TURNS: usize = 5;

/// The ACP request that continues a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResumeMethod {
    /// `session/resume`: the agent takes the session up again without
    /// replaying it.
    #[serde(rename = "session/resume")]
    Resume,
    /// `session/load`: the agent replays the session, then continues it.
    #[serde(rename = "session/load")]
    Load,
    /// `session/new`: a fresh agent session, primed with the conversation
    /// history text.
    #[serde(rename = "session/new")]
    New,
}

impl ResumeMethod {
    /// The ACP method name.
    pub fn method_name(self) -> &'static str {
        let names = &agent_client_protocol_schema::v1::AGENT_METHOD_NAMES;
        match self {
            ResumeMethod::Resume => names.session_resume,
            ResumeMethod::Load => names.session_load,
            ResumeMethod::New => names.session_new,
        }
    }
}

/// How to continue a stored session with an agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResumePlan {
    /// The request to send.
    pub method: ResumeMethod,
    /// Its params (`mcpServers` empty: add the host's own).
    pub params: Value,
    /// The agent's session id to resume or load (`None` for a new session).
    pub acp_session_id: Option<String>,
    /// The session's working directory.
    pub working_dir: String,
    /// For a new session: the conversation so far, to put before the user's
    /// next prompt ("" otherwise, or when nothing was said yet).
    pub history: String,
    /// Why this method, in a sentence.
    pub reason: String,
}

/// Says how to continue a session, given its metadata, its events and the
/// agent's answer to `initialize` (the JSON-RPC response or its `result`):
/// `session/resume` when the agent advertises
/// `sessionCapabilities.resume`, else `session/load` when it has
/// `loadSession`, else `session/new` primed with the last
/// [`HISTORY_TURNS`] turns of conversation. Resume and load need the stored
/// `acp_session_id`; without one the plan is a new session.
pub fn resume_plan(
    metadata: &Metadata,
    events: &[Event],
    initialize_response: &Value,
) -> Result<ResumePlan> {
    let init = parse_initialize(initialize_response)?;
    let cwd = metadata.working_dir();
    if cwd.is_empty() {
        return Err(Error::invalid(format!(
            "session {} has no working directory",
            metadata.session_id()
        )));
    }
    let caps = &init.agent_capabilities;
    let acp_id = Some(metadata.acp_session_id()).filter(|id| !id.is_empty());
    let (method, reason) = match acp_id {
        None => (
            ResumeMethod::New,
            "no ACP session id is stored for this session",
        ),
        Some(_) if caps.session_capabilities.resume.is_some() => (
            ResumeMethod::Resume,
            "the agent can resume sessions (sessionCapabilities.resume)",
        ),
        Some(_) if caps.load_session => (
            ResumeMethod::Load,
            "the agent can load sessions (loadSession)",
        ),
        Some(_) => (
            ResumeMethod::New,
            "the agent can neither resume nor load sessions",
        ),
    };
    let id = acp_id.unwrap_or_default().to_string();
    let (params, history) = match method {
        ResumeMethod::Resume => (to_params(ResumeSessionRequest::new(id, cwd)), String::new()),
        ResumeMethod::Load => (to_params(LoadSessionRequest::new(id, cwd)), String::new()),
        ResumeMethod::New => (
            to_params(NewSessionRequest::new(cwd)),
            build_conversation_history(events, HISTORY_TURNS),
        ),
    };
    Ok(ResumePlan {
        method,
        params,
        acp_session_id: acp_id
            .filter(|_| method != ResumeMethod::New)
            .map(str::to_string),
        working_dir: cwd.to_string(),
        history,
        reason: reason.to_string(),
    })
}

/// A request's params as JSON.
fn to_params(request: impl Serialize) -> Value {
    serde_json::to_value(request).expect("ACP requests serialize")
}

/// The `result` of an `initialize` response, read leniently.
fn parse_initialize(response: &Value) -> Result<InitializeResponse> {
    if let Some(error) = response.get("error") {
        return Err(Error::invalid(format!(
            "the agent answered initialize with an error: {error}"
        )));
    }
    let result = response.get("result").unwrap_or(response);
    if !result.is_object() {
        return Err(Error::invalid(
            "an ACP initialize response must be a JSON object",
        ));
    }
    serde_json::from_value(result.clone())
        .map_err(|e| Error::invalid(format!("not an ACP initialize response: {e}")))
}

impl Player {
    /// [`resume_plan`] for this session.
    pub fn resume_plan(&self, initialize_response: &Value) -> Result<ResumePlan> {
        resume_plan(self.metadata(), self.events(), initialize_response)
    }
}
