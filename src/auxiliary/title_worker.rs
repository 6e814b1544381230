//! The title worker: fills in the titles of queued messages through an
//! auxiliary session, one message at a time, on a thread of its own.
//!
//! Requests wait in a bounded backlog; when it is full a request is dropped
//! with a logged warning (the message simply keeps no title). The worker reads
//! the message when its turn comes, so a message removed meanwhile is skipped,
//! and one that already has a title keeps it. Each title has its own timeout;
//! a failure is logged and the worker goes on with the next message.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use parking_lot::Mutex;

use super::AuxiliarySession;
use crate::error::{AuxiliaryErrorKind as Kind, Error, Result};
use crate::queue::Queue;

/// Default number of requests that may wait for the worker.
pub const DEFAULT_TITLE_BACKLOG: usize = 100;

/// Settings of a [`TitleWorker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TitleWorkerOptions {
    /// Most requests waiting behind the one in progress (at least 1).
    pub backlog: usize,
    /// Timeout of each title; `None` uses the session's default timeout.
    pub timeout: Option<Duration>,
}

impl Default for TitleWorkerOptions {
    fn default() -> Self {
        TitleWorkerOptions {
            backlog: DEFAULT_TITLE_BACKLOG,
            timeout: None,
        }
    }
}

/// One message waiting for its title.
struct Job {
    queue: Queue,
    message_id: String,
}

/// A thread that titles queued messages one at a time; see the module docs.
pub struct TitleWorker {
    sender: Mutex<Option<SyncSender<Job>>>,
    stopping: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for TitleWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TitleWorker")
            .field("running", &self.thread.lock().is_some())
            .finish()
    }
}

impl TitleWorker {
    /// Starts a worker that asks `session` for the titles.
    pub fn start(
        session: Arc<AuxiliarySession>,
        options: TitleWorkerOptions,
    ) -> Result<TitleWorker> {
        if let Some(timeout) = options.timeout {
            super::check_timeout(timeout)?;
        }
        let (sender, receiver) = mpsc::sync_channel(options.backlog.max(1));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = thread::Builder::new()
            .name("agentsession-titles".into())
            .spawn({
                let stopping = stopping.clone();
                move || run(&session, options.timeout, &receiver, &stopping)
            })
            .map_err(|e| {
                Error::auxiliary(
                    Kind::StartFailed,
                    format!("cannot start the title worker: {e}"),
                )
            })?;
        Ok(TitleWorker {
            sender: Mutex::new(Some(sender)),
            stopping,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Asks for a title for message `message_id` of `queue`. Returns whether
    /// the request was taken; it is dropped, with a warning in the log, when
    /// the backlog is full or the worker stopped.
    pub fn request(&self, queue: &Queue, message_id: &str) -> bool {
        let job = Job {
            queue: queue.clone(),
            message_id: message_id.to_string(),
        };
        let sender = self.sender.lock();
        let Some(sender) = sender.as_ref() else {
            log::warn!("title worker stopped; no title for queued message {message_id}");
            return false;
        };
        match sender.try_send(job) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                log::warn!("title backlog full; no title for queued message {message_id}");
                false
            }
            Err(TrySendError::Disconnected(_)) => {
                log::warn!("title worker ended; no title for queued message {message_id}");
                false
            }
        }
    }

    /// Stops taking requests and drops the waiting ones; the title in
    /// progress is finished (within its timeout) before the thread ends.
    pub(super) fn signal_stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.sender.lock().take();
    }

    /// Stops the worker and waits for its thread: waiting requests are
    /// dropped, the title in progress ends within its timeout (at once if the
    /// session is shut down first). Calling it again is harmless.
    pub fn stop(&self) {
        self.signal_stop();
        if let Some(thread) = self.thread.lock().take() {
            if thread.join().is_err() {
                log::warn!("the title worker panicked");
            }
        }
    }
}

impl Drop for TitleWorker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The worker thread.
fn run(
    session: &AuxiliarySession,
    timeout: Option<Duration>,
    jobs: &Receiver<Job>,
    stopping: &AtomicBool,
) {
    while let Ok(job) = jobs.recv() {
        if stopping.load(Ordering::Acquire) {
            break;
        }
        let timeout = timeout.unwrap_or_else(|| session.default_timeout());
        fill_title(session, &job, timeout);
    }
}

/// Titles one message, logging what went wrong.
fn fill_title(session: &AuxiliarySession, job: &Job, timeout: Duration) {
    let (session_id, id) = (job.queue.session_id(), job.message_id.as_str());
    let message = match job.queue.get(id) {
        Ok(m) => m,
        Err(Error::MessageNotFound(_)) => {
            log::debug!("queued message {id} of session {session_id} left before its title");
            return;
        }
        Err(e) => {
            log::warn!("cannot read queued message {id} of session {session_id}: {e}");
            return;
        }
    };
    if message.title.is_some() {
        return;
    }
    let title = match session.queued_message_title(&message.message, timeout) {
        Ok(title) if !title.is_empty() => title,
        Ok(_) => {
            log::debug!("no usable title for queued message {id} of session {session_id}");
            return;
        }
        Err(e) => {
            log::warn!("no title for queued message {id} of session {session_id}: {e}");
            return;
        }
    };
    match job.queue.update_title(id, &title) {
        Ok(_) => log::debug!("queued message {id} of session {session_id} titled {title:?}"),
        Err(Error::MessageNotFound(_)) => {
            log::debug!("queued message {id} of session {session_id} left before its title");
        }
        Err(e) => log::warn!("cannot title queued message {id} of session {session_id}: {e}"),
    }
}
