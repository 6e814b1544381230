//! One agent process and the JSON-RPC line transport to it.
//!
//! The agent reads one JSON object per line on its stdin and writes one per
//! line on its stdout. A reader thread owns stdout: it completes our pending
//! requests, answers the agent's own requests (through [`client`]) and
//! collects the reply text of the current turn. A second thread drains
//! stderr into the log and keeps its last lines for error messages. The agent
//! runs in a process group of its own so that stopping it also stops any
//! process it started.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use agent_client_protocol_schema::v1::{
    JsonRpcMessage, Notification, Request, RequestId, Response,
};
use parking_lot::{Condvar, Mutex};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::{client, UpdateObserver};
use crate::error::{AuxiliaryErrorKind as Kind, Error, Result};

/// How many stderr lines are kept for error messages.
const STDERR_TAIL_LINES: usize = 10;
/// Longest stderr or stdout line quoted in the log or an error, in chars.
const MAX_QUOTED_LINE: usize = 300;
/// How long an agent gets to exit after its stdin is closed.
const EXIT_GRACE: Duration = Duration::from_millis(1000);
/// How long stderr may still deliver lines once the process has exited.
const STDERR_GRACE: Duration = Duration::from_millis(300);
/// Poll period while waiting for the process to exit.
const POLL: Duration = Duration::from_millis(10);

/// What the reader threads learned, shared with the requesting thread.
#[derive(Default)]
struct State {
    /// Requests sent and not yet taken by their requester.
    pending: HashMap<i64, Pending>,
    /// The session whose reply text is being collected, and the text so far.
    turn: Option<(String, String)>,
    /// Stdout reached end of file: the agent is gone or going.
    stdout_closed: bool,
    /// Stderr reached end of file.
    stderr_closed: bool,
    /// The last lines the agent wrote on stderr.
    stderr_tail: VecDeque<String>,
}

/// A request awaiting its answer.
struct Pending {
    method: String,
    /// `Some` once the answer arrived.
    answer: Option<std::result::Result<Value, Error>>,
}

/// State plus what the reader thread needs to answer the agent.
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stdin: Mutex<Option<ChildStdin>>,
    /// The agent's process id, for the log.
    pid: u32,
    /// Working directory of the session; file reads stay inside it.
    cwd: PathBuf,
    /// Sees every `session/update` notification.
    observer: Arc<Mutex<Option<UpdateObserver>>>,
}

/// How waiting for an answer ended, short of success.
pub(crate) enum Failure {
    /// The deadline passed.
    Timeout,
    /// The agent answered with an error or an unreadable answer.
    Error(Error),
    /// Stdout closed: the agent exited.
    Closed,
}

/// A running agent process.
pub(crate) struct AgentProcess {
    child: Mutex<Child>,
    shared: Arc<Shared>,
    next_id: AtomicI64,
}

impl AgentProcess {
    /// Starts `argv` in `cwd` with piped stdio and its reader threads.
    pub(crate) fn spawn(
        argv: &[String],
        cwd: &Path,
        observer: Arc<Mutex<Option<UpdateObserver>>>,
    ) -> Result<AgentProcess> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| Error::invalid("empty agent command"))?;
        let mut child = Command::new(program)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| {
                let what = if e.kind() == std::io::ErrorKind::NotFound {
                    "agent command not found".to_string()
                } else {
                    format!("cannot start agent: {e}")
                };
                Error::auxiliary(Kind::StartFailed, format!("{what}: {program}"))
            })?;
        let pid = child.id();
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let process = AgentProcess {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
                stdin: Mutex::new(child.stdin.take()),
                pid,
                cwd: cwd.to_path_buf(),
                observer,
            }),
            child: Mutex::new(child),
            next_id: AtomicI64::new(1),
        };
        // Dropping `process` on failure kills the agent.
        let (Some(stdout), Some(stderr)) = (stdout, stderr) else {
            return Err(Error::auxiliary(
                Kind::StartFailed,
                "agent streams are not piped",
            ));
        };
        let shared = process.shared.clone();
        spawn_reader("stdout", pid, move || read_stdout(stdout, &shared))?;
        let shared = process.shared.clone();
        spawn_reader("stderr", pid, move || read_stderr(stderr, &shared))?;
        log::debug!("auxiliary agent started, pid {pid}: {argv:?}");
        Ok(process)
    }

    /// The operating-system process id.
    pub(crate) fn pid(&self) -> u32 {
        self.shared.pid
    }

    /// Whether the agent's stdout is still open.
    pub(crate) fn is_alive(&self) -> bool {
        !self.shared.state.lock().stdout_closed
    }

    /// Sends a request; returns its id for [`Self::wait`].
    pub(crate) fn send<P: Serialize>(
        &self,
        method: &str,
        params: &P,
    ) -> std::result::Result<i64, Failure> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let pending = Pending {
            method: method.to_string(),
            answer: None,
        };
        self.shared.state.lock().pending.insert(id, pending);
        let message = JsonRpcMessage::wrap(Request {
            id: RequestId::Number(id),
            method: method.into(),
            params: Some(params),
        });
        if self.shared.write(&message).is_err() {
            self.shared.state.lock().pending.remove(&id);
            return Err(Failure::Closed);
        }
        Ok(id)
    }

    /// Sends a notification (no answer expected).
    pub(crate) fn notify<P: Serialize>(
        &self,
        method: &str,
        params: &P,
    ) -> std::result::Result<(), Failure> {
        let message = JsonRpcMessage::wrap(Notification {
            method: method.into(),
            params: Some(params),
        });
        self.shared.write(&message).map_err(|_| Failure::Closed)
    }

    /// Waits until the answer to request `id` arrives, stdout closes or
    /// `deadline` passes. On timeout the request stays registered, so a later
    /// `wait` on the same id can still pick up a late answer.
    pub(crate) fn wait(&self, id: i64, deadline: Instant) -> std::result::Result<Value, Failure> {
        let mut st = self.shared.state.lock();
        loop {
            if let Some(answer) = st.pending.get_mut(&id).and_then(|p| p.answer.take()) {
                st.pending.remove(&id);
                return answer.map_err(Failure::Error);
            }
            if st.stdout_closed {
                st.pending.remove(&id);
                return Err(Failure::Closed);
            }
            if self
                .shared
                .changed
                .wait_until(&mut st, deadline)
                .timed_out()
            {
                return Err(Failure::Timeout);
            }
        }
    }

    /// Forgets a request whose answer is no longer wanted.
    pub(crate) fn abandon(&self, id: i64) {
        self.shared.state.lock().pending.remove(&id);
    }

    /// Sends a request and waits for its typed answer.
    pub(crate) fn call<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
        deadline: Instant,
    ) -> std::result::Result<R, Failure> {
        let id = self.send(method, params)?;
        let value = self.wait(id, deadline).inspect_err(|_| self.abandon(id))?;
        serde_json::from_value(value).map_err(|e| {
            Failure::Error(Error::auxiliary(
                Kind::Protocol,
                format!("unreadable answer to {method}: {e}"),
            ))
        })
    }

    /// Starts collecting the reply text of a turn in `session_id`.
    pub(crate) fn begin_turn(&self, session_id: &str) {
        self.shared.state.lock().turn = Some((session_id.to_string(), String::new()));
    }

    /// Stops collecting and returns the text of the turn.
    pub(crate) fn end_turn(&self) -> String {
        self.shared
            .state
            .lock()
            .turn
            .take()
            .map(|(_, text)| text)
            .unwrap_or_default()
    }

    /// The error describing how the agent exited: reaps it (killing it if it
    /// closed stdout but lingers) and quotes the last lines of its stderr.
    pub(crate) fn exit_error(&self) -> Error {
        let status = self.reap(EXIT_GRACE);
        let tail = {
            let mut st = self.shared.state.lock();
            let deadline = Instant::now() + STDERR_GRACE;
            while !st.stderr_closed {
                if self
                    .shared
                    .changed
                    .wait_until(&mut st, deadline)
                    .timed_out()
                {
                    break;
                }
            }
            st.stderr_tail.iter().cloned().collect::<Vec<_>>()
        };
        let mut message = format!("agent (pid {}) exited: {status}", self.pid());
        if !tail.is_empty() {
            message.push_str("; last stderr lines:\n");
            message.push_str(&tail.join("\n"));
        }
        Error::auxiliary(Kind::Exited, message)
    }

    /// Ends the process gently: closes its stdin, gives it a moment to exit,
    /// then kills it. Always reaps it.
    pub(crate) fn stop(&self) {
        self.shared.stdin.lock().take();
        let status = self.reap(EXIT_GRACE);
        log::debug!("auxiliary agent pid {} ended: {status}", self.pid());
    }

    /// Kills the process group at once and reaps the process.
    pub(crate) fn kill(&self) {
        self.shared.stdin.lock().take();
        let status = self.reap(Duration::ZERO);
        log::debug!("auxiliary agent pid {} ended: {status}", self.pid());
    }

    /// Waits up to `grace` for the process to exit, then kills its group;
    /// returns the exit status. The group is only signalled while the leader
    /// is unreaped, so its id cannot have been reused.
    fn reap(&self, grace: Duration) -> String {
        let mut child = self.child.lock();
        let deadline = Instant::now() + grace;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status.to_string(),
                Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
                Ok(None) | Err(_) => break,
            }
        }
        let group = i32::try_from(self.pid())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = group {
            if let Err(e) = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL)
            {
                log::debug!("cannot kill process group {}: {e}", self.pid());
                let _ = child.kill();
            }
        }
        match child.wait() {
            Ok(status) => status.to_string(),
            Err(e) => format!("status unknown ({e})"),
        }
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Shared {
    /// Writes one message as one line on the agent's stdin.
    fn write<T: Serialize>(&self, message: &T) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(message).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut stdin = self.stdin.lock();
        let pipe = stdin
            .as_mut()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        pipe.write_all(&line).and_then(|()| pipe.flush())
    }

    /// Handles one line from the agent's stdout.
    fn handle_line(&self, raw: &[u8]) {
        let line = raw.trim_ascii();
        if line.is_empty() {
            return;
        }
        let message = match serde_json::from_slice(line) {
            Ok(message @ Value::Object(_)) => message,
            Ok(_) | Err(_) => {
                log::warn!(
                    "auxiliary agent pid {} wrote a line that is not a JSON-RPC message: {}",
                    self.pid,
                    quote(&String::from_utf8_lossy(line))
                );
                return;
            }
        };
        match message.get("method").and_then(Value::as_str) {
            Some(method) if message.get("id").is_some() => self.answer_request(method, &message),
            Some(method) => self.handle_notification(method, &message),
            None => self.handle_response(message),
        }
    }

    /// Answers a request from the agent.
    fn answer_request(&self, method: &str, message: &Value) {
        let id = message.get("id").cloned().unwrap_or(Value::Null);
        let id: RequestId = serde_json::from_value(id).unwrap_or(RequestId::Null);
        let params = message.get("params").unwrap_or(&Value::Null);
        let result = client::answer(&self.cwd, method, params);
        if let Err(e) = &result {
            log::debug!("refused {method} from the auxiliary agent: {}", e.message);
        }
        let response = JsonRpcMessage::wrap(Response::new(id, result));
        if let Err(e) = self.write(&response) {
            log::debug!("cannot answer {method} to the auxiliary agent: {e}");
        }
    }

    /// Handles a notification from the agent: shows updates to the observer
    /// and collects reply text.
    fn handle_notification(&self, method: &str, message: &Value) {
        if method == client::SESSION_UPDATE {
            let observer = self.observer.lock().clone();
            if let Some(observer) = observer {
                let seen =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| observer(message)));
                if seen.is_err() {
                    log::error!("the session/update observer panicked");
                }
            }
        }
        let params = message.get("params").unwrap_or(&Value::Null);
        let Some((session_id, text)) = client::message_chunk(method, params) else {
            return;
        };
        let mut st = self.state.lock();
        match &mut st.turn {
            Some((current, reply)) if *current == session_id => reply.push_str(&text),
            _ => log::debug!("auxiliary agent sent text outside a turn: {}", quote(&text)),
        }
    }

    /// Completes a pending request with the agent's answer.
    fn handle_response(&self, message: Value) {
        let id = message.get("id").and_then(Value::as_i64);
        let mut st = self.state.lock();
        let Some(pending) = id.and_then(|id| st.pending.get_mut(&id)) else {
            log::debug!("auxiliary agent answered a request nobody waits for (id {id:?})");
            return;
        };
        let method = &pending.method;
        pending.answer = Some(match serde_json::from_value::<Response<Value>>(message) {
            Ok(Response::Result { result, .. }) => Ok(result),
            Ok(Response::Error { error, .. }) => Err(Error::auxiliary(
                Kind::Protocol,
                format!(
                    "agent answered {method} with error {}: {}{}",
                    i32::from(error.code),
                    error.message,
                    error.data.map(|d| format!(" ({d})")).unwrap_or_default()
                ),
            )),
            Err(e) => Err(Error::auxiliary(
                Kind::Protocol,
                format!("malformed answer to {method} from the agent: {e}"),
            )),
        });
        self.changed.notify_all();
    }
}

/// Starts a named reader thread.
fn spawn_reader(what: &str, pid: u32, f: impl FnOnce() + Send + 'static) -> Result<()> {
    thread::Builder::new()
        .name(format!("agentsession-aux-{what}-{pid}"))
        .spawn(f)
        .map(drop)
        .map_err(|e| {
            Error::auxiliary(
                Kind::StartFailed,
                format!("cannot start the {what} reader: {e}"),
            )
        })
}

/// The stdout reader thread: one message per line until end of file.
fn read_stdout(stdout: impl Read, shared: &Shared) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => shared.handle_line(&line),
        }
    }
    shared.state.lock().stdout_closed = true;
    shared.changed.notify_all();
}

/// The stderr reader thread: forwards lines to the log, keeps the last ones.
fn read_stderr(stderr: impl Read, shared: &Shared) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = quote(String::from_utf8_lossy(&line).trim_end());
        log::debug!("auxiliary agent pid {} stderr: {text}", shared.pid);
        let mut st = shared.state.lock();
        if st.stderr_tail.len() == STDERR_TAIL_LINES {
            st.stderr_tail.pop_front();
        }
        st.stderr_tail.push_back(text);
    }
    shared.state.lock().stderr_closed = true;
    shared.changed.notify_all();
}

/// A line shortened for quoting, on a character boundary.
fn quote(line: &str) -> String {
    super::prompts::truncate(line, MAX_QUOTED_LINE)
}
