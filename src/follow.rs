//! Following a session: events yielded as another process appends them.
//!
//! The follower keeps the byte offset of the last complete line it read and
//! reads only what was appended since. It waits on file-system notifications
//! (inotify through the `notify` crate) and also polls, so it works where
//! notifications are not delivered (network file systems). A log replaced by
//! a prune is reopened and followed from its end.

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, IoContext, Result};
use crate::event::{fast_seq, types, Event};
use crate::store::{files, Store};

/// How to follow a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowOptions {
    /// Yield only events with a larger seq.
    pub after_seq: u64,
    /// Stop when no new event arrives for this long (`None` = wait forever).
    pub idle_timeout: Option<Duration>,
    /// How often the file is checked even without a notification.
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
    path: PathBuf,
    session_id: String,
    options: FollowOptions,
    file: Option<(File, u64)>,
    offset: u64,
    pending: VecDeque<Event>,
    ended: bool,
    stop: Arc<AtomicBool>,
    notifications: Option<(notify::RecommendedWatcher, Receiver<()>)>,
    last_event_at: Instant,
}

impl std::fmt::Debug for Follow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follow")
            .field("session_id", &self.session_id)
            .field("offset", &self.offset)
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
        let stat = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::SessionNotFound(self.session_id.clone()))
            }
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let replaced = self
            .file
            .as_ref()
            .is_some_and(|(_, ino)| *ino != stat.ino())
            || stat.len() < self.offset;
        if replaced {
            // Pruned: the old lines were renumbered; continue from the new end,
            // taking every seq that comes after it.
            self.file = None;
            self.offset = stat.len();
            self.options.after_seq = 0;
            return Ok(());
        }
        if self.file.is_none() {
            let f = File::open(&self.path).at(&self.path)?;
            self.file = Some((f, stat.ino()));
        }
        let (file, _) = self.file.as_ref().expect("opened above");
        if stat.len() <= self.offset {
            return Ok(());
        }
        file.lock_shared().at(&self.path)?;
        let len = file.metadata().at(&self.path)?.len();
        let mut buf = vec![0u8; (len - self.offset) as usize];
        let read = file.read_exact_at(&mut buf, self.offset);
        let _ = file.unlock();
        read.at(&self.path)?;
        // Only whole lines: a line without its newline is still being written.
        let Some(end) = memchr::memrchr(b'\n', &buf) else {
            return Ok(());
        };
        for line in buf[..end].split(|b| *b == b'\n') {
            if line.is_empty() || fast_seq(line).is_some_and(|s| s <= self.options.after_seq) {
                continue;
            }
            match serde_json::from_slice::<Event>(line) {
                Ok(ev) if ev.seq > self.options.after_seq => self.pending.push_back(ev),
                Ok(_) => {}
                Err(e) => log::warn!("{}: skipping a corrupt line: {e}", self.path.display()),
            }
        }
        self.offset += end as u64 + 1;
        Ok(())
    }

    fn wait(&mut self) {
        let mut timeout = self.options.poll_interval;
        if let Some(idle) = self.options.idle_timeout {
            timeout = timeout.min(idle.saturating_sub(self.last_event_at.elapsed()));
        }
        match &self.notifications {
            Some((_, rx)) => {
                let _ = rx.recv_timeout(timeout);
                while rx.try_recv().is_ok() {}
            }
            None => std::thread::sleep(timeout),
        }
    }
}

impl Iterator for Follow {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                self.last_event_at = Instant::now();
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
        let dir = self.existing_session_dir(session_id)?;
        let (tx, rx) = mpsc::channel();
        let watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
            let _ = tx.send(());
        })
        .and_then(|mut w| {
            use notify::Watcher;
            w.watch(&dir, notify::RecursiveMode::NonRecursive)?;
            Ok(w)
        });
        let notifications = match watcher {
            Ok(w) => Some((w, rx)),
            Err(e) => {
                log::debug!("no file notifications for {}, polling: {e}", dir.display());
                None
            }
        };
        Ok(Follow {
            path: dir.join(files::EVENTS),
            session_id: session_id.to_string(),
            options,
            file: None,
            offset: 0,
            pending: VecDeque::new(),
            ended: false,
            stop: Arc::new(AtomicBool::new(false)),
            notifications,
            last_event_at: Instant::now(),
        })
    }
}
