//! Following a session: events yielded as another process appends them.
//!
//! The backend reads only what was appended since its last read and waits
//! for a change (file-system notifications, or the server's notifications),
//! polling as well so that a lost notification only delays an event. A log
//! rewritten by a prune is followed from its new end.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::FollowSource;
use crate::error::Result;
use crate::event::{types, Event};
use crate::store::Store;

/// How to follow a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowOptions {
    /// Yield only events with a larger seq.
    pub after_seq: u64,
    /// Stop when no new event arrives for this long (`None` = wait forever).
    pub idle_timeout: Option<Duration>,
    /// How often the log is checked even without a notification.
    pub poll_interval: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            after_seq: 0,
            idle_timeout: None,
            poll_interval: Duration::from_millis(250),
        }
    }
}

/// Stops a [`Follow`] from another thread.
#[derive(Debug, Clone)]
pub struct FollowStopper {
    flag: Arc<AtomicBool>,
}

impl FollowStopper {
    /// Asks the follower to stop; it returns `None` at its next wait.
    pub fn stop(&self) {
        self.flag.store(true, Ordering::Release);
    }
}

/// Yields a session's events as they are appended, until `session_end`, a
/// stop request or the idle timeout. Created by [`Store::follow`].
pub struct Follow {
    source: Box<dyn FollowSource>,
    session_id: String,
    options: FollowOptions,
    pending: VecDeque<Event>,
    ended: bool,
    stop: Arc<AtomicBool>,
    last_event_at: Instant,
}

impl std::fmt::Debug for Follow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follow")
            .field("session_id", &self.session_id)
            .field("after_seq", &self.options.after_seq)
            .finish()
    }
}

impl Follow {
    /// A handle that stops this follower from another thread.
    pub fn stopper(&self) -> FollowStopper {
        FollowStopper {
            flag: self.stop.clone(),
        }
    }

    /// Reads what was appended since the last read into `pending`.
    fn read_new(&mut self) -> Result<()> {
        match self.source.read_new(self.options.after_seq)? {
            Some(events) => self.pending.extend(events),
            // Pruned: the old events were renumbered; continue from the new
            // end, taking every seq that comes after it.
            None => self.options.after_seq = 0,
        }
        Ok(())
    }

    fn wait(&mut self) {
        let mut timeout = self.options.poll_interval;
        if let Some(idle) = self.options.idle_timeout {
            timeout = timeout.min(idle.saturating_sub(self.last_event_at.elapsed()));
        }
        self.source.wait(timeout);
    }
}

impl Iterator for Follow {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                self.last_event_at = Instant::now();
                self.options.after_seq = self.options.after_seq.max(ev.seq);
                if ev.event_type == types::SESSION_END {
                    self.ended = true;
                    self.pending.clear();
                }
                return Some(Ok(ev));
            }
            if self.ended || self.stop.load(Ordering::Acquire) {
                return None;
            }
            if let Err(e) = self.read_new() {
                self.ended = true;
                return Some(Err(e));
            }
            if !self.pending.is_empty() {
                continue;
            }
            if self
                .options
                .idle_timeout
                .is_some_and(|t| self.last_event_at.elapsed() >= t)
            {
                return None;
            }
            self.wait();
        }
    }
}

impl Store {
    /// Follows a session: yields its events with `seq > after_seq`, then each
    /// new event as it is appended, until `session_end`, a stop request or
    /// the idle timeout.
    pub fn follow(&self, session_id: &str, options: FollowOptions) -> Result<Follow> {
        self.check(session_id)?;
        Ok(Follow {
            source: self.backend().follow_source(session_id)?,
            session_id: session_id.to_string(),
            options,
            pending: VecDeque::new(),
            ended: false,
            stop: Arc::new(AtomicBool::new(false)),
            last_event_at: Instant::now(),
        })
    }
}
