//! The auxiliary session: a hidden ACP session for small utility prompts
//! (titles, prompt improvement, follow-up suggestions).
//!
//! [`initialize`] only records the agent's command line; the agent process
//! starts on the first request (ACP `initialize`, then `session/new` in the
//! working directory, without MCP servers) and is kept for the next ones.
//! Requests are serialised: one turn at a time per session, each caller gets
//! the reply to its own prompt. A request has a deadline covering its wait
//! for earlier requests, the start of the agent and the turn; when it passes,
//! the turn is cancelled (`session/cancel`) and, if the agent does not
//! acknowledge within [`CANCEL_GRACE`], the process is killed so that the
//! next request starts a fresh one. An agent that exited is restarted by the
//! next request. The agent's stderr goes to the `log` crate, never to the
//! host's terminal.
//!
//! A [`TitleWorker`] fills in the titles of queued messages through a session.
//!
//! The module-level functions use one process-wide session and title worker;
//! hosts that want their own create an [`AuxiliarySession`] and a
//! [`TitleWorker`].

mod client;
mod prompts;
mod title_worker;
mod transport;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use agent_client_protocol_schema::v1::{
    CancelNotification, ContentBlock, Implementation, InitializeRequest, InitializeResponse,
    NewSessionRequest, NewSessionResponse, PromptRequest, PromptResponse, StopReason,
    AGENT_METHOD_NAMES,
};
use agent_client_protocol_schema::ProtocolVersion;
use parking_lot::Mutex;

use crate::error::{AuxiliaryErrorKind as Kind, Error, IoContext, Result};
use crate::queue::Queue;
use transport::{AgentProcess, Failure};

pub use prompts::{
    FollowUp, FOLLOW_UPS_MAX, FOLLOW_UP_LABEL_MAX_CHARS, FOLLOW_UP_VALUE_MAX_CHARS,
    QUEUED_MESSAGE_MAX_CHARS, QUEUED_TITLE_MAX_CHARS, TITLE_MAX_CHARS,
};
pub use title_worker::{TitleWorker, TitleWorkerOptions, DEFAULT_TITLE_BACKLOG};

/// Receives each `session/update` notification the agent sends (the whole
/// JSON-RPC message), in order, on the thread that reads the agent's output:
/// it should return quickly. All updates of a turn have been delivered by the
/// time the turn's request returns.
pub type UpdateObserver = Arc<dyn Fn(&serde_json::Value) + Send + Sync>;

/// Request timeout used when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a cancelled turn may take to end before the agent is killed.
pub const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// What `initialize` recorded.
#[derive(Debug, PartialEq, Eq)]
struct Config {
    argv: Vec<String>,
    cwd: PathBuf,
}

/// A started agent with its ACP session.
struct Agent {
    process: AgentProcess,
    config: Arc<Config>,
    /// The ACP session id, once `session/new` answered.
    session_id: OnceLock<String>,
}

impl Agent {
    /// The error for a step that failed.
    fn error(&self, failure: Failure, step: &str, timeout: Duration) -> Error {
        match failure {
            Failure::Timeout => timed_out(step, timeout),
            Failure::Error(e) => e,
            Failure::Closed => self.process.exit_error(),
        }
    }
}

/// A hidden ACP session for utility prompts, with a lazily started agent.
pub struct AuxiliarySession {
    config: Mutex<Option<Arc<Config>>>,
    default_timeout: Mutex<Duration>,
    /// Held for the whole of a request: requests are serialised.
    turn: Mutex<()>,
    /// The running agent, if any.
    agent: Mutex<Option<Arc<Agent>>>,
    /// Shared with every agent process this session starts.
    observer: Arc<Mutex<Option<UpdateObserver>>>,
}

impl Default for AuxiliarySession {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AuxiliarySession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let config = self.config.lock().clone();
        f.debug_struct("AuxiliarySession")
            .field("config", &config)
            .field("pid", &self.pid())
            .finish()
    }
}

impl AuxiliarySession {
    /// A session with no agent command yet.
    pub fn new() -> AuxiliarySession {
        AuxiliarySession {
            config: Mutex::new(None),
            default_timeout: Mutex::new(DEFAULT_TIMEOUT),
            turn: Mutex::new(()),
            agent: Mutex::new(None),
            observer: Arc::default(),
        }
    }

    /// Sets (or with `None` removes) the function that sees every
    /// `session/update` notification of the agent, e.g. to record them with
    /// [`crate::Recorder::record_acp_update_value`].
    pub fn set_update_observer(&self, observer: Option<UpdateObserver>) {
        *self.observer.lock() = observer;
    }

    /// Records the agent command line (split like a shell would, quotes
    /// included) and its working directory (default: the current directory).
    /// Starts nothing; an agent started with another command or directory is
    /// stopped.
    pub fn initialize(&self, command: &str, cwd: Option<&Path>) -> Result<()> {
        let argv = shell_words::split(command)
            .map_err(|e| Error::invalid(format!("agent command {command:?}: {e}")))?;
        if argv.is_empty() {
            return Err(Error::invalid("agent command is empty"));
        }
        let here = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        let cwd = match cwd {
            Some(dir) => here.join(dir),
            None => here,
        };
        let cwd = cwd.canonicalize().at(&cwd)?;
        if !cwd.is_dir() {
            return Err(Error::invalid(format!(
                "{} is not a directory",
                cwd.display()
            )));
        }
        let config = Arc::new(Config { argv, cwd });
        *self.config.lock() = Some(config.clone());
        let old = {
            let mut slot = self.agent.lock();
            match slot.as_ref() {
                Some(a) if a.config != config => slot.take(),
                _ => None,
            }
        };
        if let Some(old) = old {
            old.process.stop();
        }
        Ok(())
    }

    /// Sets the timeout of the utilities (titles, improvement, follow-ups).
    pub fn set_default_timeout(&self, timeout: Duration) -> Result<()> {
        check_timeout(timeout)?;
        *self.default_timeout.lock() = timeout;
        Ok(())
    }

    /// The timeout of the utilities.
    pub fn default_timeout(&self) -> Duration {
        *self.default_timeout.lock()
    }

    /// Whether an agent process is running.
    pub fn is_started(&self) -> bool {
        self.agent
            .lock()
            .as_ref()
            .is_some_and(|a| a.process.is_alive())
    }

    /// The process id of the running agent.
    pub fn pid(&self) -> Option<u32> {
        self.agent
            .lock()
            .as_ref()
            .filter(|a| a.process.is_alive())
            .map(|a| a.process.pid())
    }

    /// Stops the agent (waiting for it to exit) and forgets the command; a
    /// request in flight fails. Calling it again is harmless.
    pub fn shutdown(&self) {
        *self.config.lock() = None;
        let agent = self.agent.lock().take();
        if let Some(agent) = agent {
            agent.process.stop();
        }
    }

    /// Sends `text` as one turn and returns the agent's reply text, trimmed.
    pub fn prompt(&self, text: &str, timeout: Duration) -> Result<String> {
        check_timeout(timeout)?;
        let deadline = Instant::now() + timeout;
        let Some(_turn) = self.turn.try_lock_until(deadline) else {
            return Err(timed_out(
                "earlier auxiliary requests still running",
                timeout,
            ));
        };
        let agent = self.agent_for(deadline, timeout)?;
        let result = self.run_turn(&agent, text, deadline, timeout);
        if result.is_err() && !agent.process.is_alive() {
            self.forget(&agent);
        }
        result
    }

    /// A title of two or three words (at most [`TITLE_MAX_CHARS`]) for a
    /// conversation starting with `first_message`; empty if the agent gave
    /// nothing usable.
    pub fn generate_title(&self, first_message: &str) -> Result<String> {
        let reply = self.prompt(
            &prompts::title_prompt(first_message),
            self.default_timeout(),
        )?;
        Ok(prompts::clean_title(&reply, TITLE_MAX_CHARS))
    }

    /// A title (at most [`QUEUED_TITLE_MAX_CHARS`]) for a queued message, of
    /// which the agent sees at most [`QUEUED_MESSAGE_MAX_CHARS`]; empty if the
    /// agent gave nothing usable.
    pub fn generate_queued_message_title(&self, message: &str) -> Result<String> {
        self.queued_message_title(message, self.default_timeout())
    }

    /// [`Self::generate_queued_message_title`] with an explicit timeout.
    pub(crate) fn queued_message_title(&self, message: &str, timeout: Duration) -> Result<String> {
        let reply = self.prompt(&prompts::queued_title_prompt(message), timeout)?;
        Ok(prompts::clean_title(&reply, QUEUED_TITLE_MAX_CHARS))
    }

    /// A clearer, more specific version of a user's prompt.
    pub fn improve_prompt(&self, prompt: &str) -> Result<String> {
        let reply = self.prompt(
            &prompts::improve_prompt_prompt(prompt),
            self.default_timeout(),
        )?;
        Ok(prompts::clean_improved_prompt(&reply))
    }

    /// Suggested answers to an agent's reply (at most [`FOLLOW_UPS_MAX`]). A
    /// reply of the auxiliary agent without a readable JSON array gives none.
    pub fn analyze_follow_up_questions(&self, agent_reply: &str) -> Result<Vec<FollowUp>> {
        let reply = self.prompt(
            &prompts::follow_up_prompt(agent_reply),
            self.default_timeout(),
        )?;
        Ok(prompts::parse_follow_ups(&reply))
    }

    /// The running agent, or a new one started and past the ACP handshake.
    /// Called with the turn lock held.
    fn agent_for(&self, deadline: Instant, timeout: Duration) -> Result<Arc<Agent>> {
        let not_initialized =
            || Error::auxiliary(Kind::NotInitialized, "auxiliary session not initialized");
        let config = self.config.lock().clone().ok_or_else(not_initialized)?;
        let old = {
            let mut slot = self.agent.lock();
            match slot.as_ref() {
                Some(a) if a.process.is_alive() && a.config == config => return Ok(a.clone()),
                _ => slot.take(),
            }
        };
        if let Some(old) = old {
            log::info!(
                "restarting the auxiliary agent: {}",
                old.process.exit_error()
            );
        }
        let agent = Arc::new(Agent {
            process: AgentProcess::spawn(&config.argv, &config.cwd, self.observer.clone())?,
            config,
            session_id: OnceLock::new(),
        });
        {
            // In the slot during the handshake, so that `shutdown` can stop
            // it; unless `shutdown` or `initialize` came in meanwhile.
            let mut slot = self.agent.lock();
            if self.config.lock().as_ref() != Some(&agent.config) {
                drop(slot);
                agent.process.kill();
                return Err(not_initialized());
            }
            *slot = Some(agent.clone());
        }
        match self.handshake(&agent, deadline) {
            Ok(()) => Ok(agent),
            Err(failure) => {
                let error = agent.error(failure, "starting the agent", timeout);
                agent.process.kill();
                self.forget(&agent);
                Err(error)
            }
        }
    }

    /// ACP `initialize` and `session/new`.
    fn handshake(&self, agent: &Agent, deadline: Instant) -> Result<(), Failure> {
        let p = &agent.process;
        let init = InitializeRequest::new(ProtocolVersion::V1)
            .client_capabilities(client::capabilities())
            .client_info(Implementation::new(
                "agentsession",
                env!("CARGO_PKG_VERSION"),
            ));
        let answer: InitializeResponse = p.call(AGENT_METHOD_NAMES.initialize, &init, deadline)?;
        if answer.protocol_version != ProtocolVersion::V1 {
            return Err(Failure::Error(Error::auxiliary(
                Kind::Protocol,
                format!(
                    "agent speaks ACP version {}, not 1",
                    answer.protocol_version
                ),
            )));
        }
        let new = NewSessionRequest::new(agent.config.cwd.clone());
        let session: NewSessionResponse = p.call(AGENT_METHOD_NAMES.session_new, &new, deadline)?;
        log::debug!(
            "auxiliary session {} started with agent pid {}",
            session.session_id,
            p.pid()
        );
        // Set once per agent: this is its only handshake.
        let _ = agent.session_id.set(session.session_id.to_string());
        Ok(())
    }

    /// One `session/prompt` turn, with cancellation on timeout.
    fn run_turn(
        &self,
        agent: &Agent,
        text: &str,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<String> {
        let p = &agent.process;
        let session_id = agent.session_id.get().cloned().unwrap_or_default();
        let request = PromptRequest::new(session_id.clone(), vec![ContentBlock::from(text)]);
        p.begin_turn(&session_id);
        let answer = p
            .send(AGENT_METHOD_NAMES.session_prompt, &request)
            .and_then(|id| match p.wait(id, deadline) {
                Err(Failure::Timeout) => Err(self.cancel_turn(agent, id)),
                other => other,
            });
        let reply = p.end_turn();
        match answer {
            Ok(value) => {
                match serde_json::from_value::<PromptResponse>(value) {
                    Ok(r) if r.stop_reason == StopReason::EndTurn => {}
                    Ok(r) => log::debug!("auxiliary turn ended: {:?}", r.stop_reason),
                    Err(e) => {
                        log::warn!("unreadable session/prompt answer from the auxiliary agent: {e}")
                    }
                }
                Ok(reply.trim().to_string())
            }
            Err(failure) => Err(agent.error(failure, "waiting for the reply", timeout)),
        }
    }

    /// Cancels a turn past its deadline; kills the agent if the turn does not
    /// end within [`CANCEL_GRACE`]. Returns the failure to report.
    fn cancel_turn(&self, agent: &Agent, id: i64) -> Failure {
        let p = &agent.process;
        let cancel = CancelNotification::new(agent.session_id.get().cloned().unwrap_or_default());
        let ended = p.notify(AGENT_METHOD_NAMES.session_cancel, &cancel).is_ok()
            && matches!(
                p.wait(id, Instant::now() + CANCEL_GRACE),
                Ok(_) | Err(Failure::Error(_))
            );
        if !ended {
            log::warn!(
                "auxiliary agent pid {} did not end a cancelled turn; killing it",
                p.pid()
            );
            p.abandon(id);
            p.kill();
            self.forget(agent);
        }
        Failure::Timeout
    }

    /// Drops `agent` from the slot if it is still there.
    fn forget(&self, agent: &Agent) {
        let mut slot = self.agent.lock();
        if slot.as_ref().is_some_and(|a| std::ptr::eq(&**a, agent)) {
            slot.take();
        }
    }
}

/// Rejects a zero timeout.
fn check_timeout(timeout: Duration) -> Result<()> {
    if timeout.is_zero() {
        return Err(Error::invalid("timeout must be longer than zero"));
    }
    Ok(())
}

/// A timeout error naming what was going on.
fn timed_out(step: &str, timeout: Duration) -> Error {
    Error::auxiliary(
        Kind::Timeout,
        format!("no answer within {timeout:?} ({step})"),
    )
}

/// The process-wide session, shared with the process-wide title worker.
fn global_arc() -> &'static Arc<AuxiliarySession> {
    static GLOBAL: OnceLock<Arc<AuxiliarySession>> = OnceLock::new();
    GLOBAL.get_or_init(|| Arc::new(AuxiliarySession::new()))
}

/// The process-wide title worker, started by the first title request.
static TITLES: Mutex<Option<TitleWorker>> = Mutex::new(None);

/// The process-wide auxiliary session.
pub fn global() -> &'static AuxiliarySession {
    global_arc()
}

/// Records the agent command of the process-wide session (see [`AuxiliarySession::initialize`]).
pub fn initialize(command: &str, cwd: Option<&Path>) -> Result<()> {
    global().initialize(command, cwd)
}

/// Sends one prompt through the process-wide session.
pub fn prompt(text: &str, timeout: Duration) -> Result<String> {
    global().prompt(text, timeout)
}

/// Sets the timeout of the process-wide session's utilities.
pub fn set_default_timeout(timeout: Duration) -> Result<()> {
    global().set_default_timeout(timeout)
}

/// A conversation title from the process-wide session.
pub fn generate_title(first_message: &str) -> Result<String> {
    global().generate_title(first_message)
}

/// A queued message's title from the process-wide session.
pub fn generate_queued_message_title(message: &str) -> Result<String> {
    global().generate_queued_message_title(message)
}

/// An improved prompt from the process-wide session.
pub fn improve_prompt(prompt: &str) -> Result<String> {
    global().improve_prompt(prompt)
}

/// Follow-up suggestions from the process-wide session.
pub fn analyze_follow_up_questions(agent_reply: &str) -> Result<Vec<FollowUp>> {
    global().analyze_follow_up_questions(agent_reply)
}

/// Asks the process-wide title worker (started on first use, with the
/// session's default timeout and a backlog of [`DEFAULT_TITLE_BACKLOG`]) for a
/// title of a queued message; see [`TitleWorker::request`].
pub fn request_queued_message_title(queue: &Queue, message_id: &str) -> bool {
    let mut titles = TITLES.lock();
    if titles.is_none() {
        match TitleWorker::start(global_arc().clone(), TitleWorkerOptions::default()) {
            Ok(worker) => *titles = Some(worker),
            Err(e) => {
                log::warn!("no title for queued message {message_id}: {e}");
                return false;
            }
        }
    }
    titles
        .as_ref()
        .is_some_and(|w| w.request(queue, message_id))
}

/// Whether the process-wide session's agent is running.
pub fn is_started() -> bool {
    global().is_started()
}

/// Stops the process-wide title worker and the session's agent, and forgets
/// the agent command. The title in progress, if any, fails at once.
pub fn shutdown() {
    let titles = TITLES.lock().take();
    if let Some(worker) = &titles {
        worker.signal_stop();
    }
    global().shutdown();
    if let Some(worker) = titles {
        worker.stop();
    }
}
