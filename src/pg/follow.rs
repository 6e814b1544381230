//! Following a PostgreSQL session: rows with a seq above the last one read,
//! woken by the `ags_events` notifications that every insert into `events`
//! sends, on a connection of the follower's own (a `LISTEN` ties up its
//! connection). Polling covers what notifications miss: a server restart,
//! a listener that cannot connect. A prune bumps the session's
//! `generation`; the follower then resumes from the end the prune left, so
//! events appended after the prune are not missed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::Type;

use super::store::{to_i64, OnServer, Shared};
use crate::backend::FollowSource;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::eventlog;
use crate::fs_store::files;

/// The channel of the append notifications (see the schema).
const CHANNEL: &str = "ags_events";

/// How long a follower waits before trying to listen again after a failure.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

pub(super) struct PgFollow {
    shared: Arc<Shared>,
    session_id: String,
    /// The highest seq read so far.
    cursor: u64,
    /// The session's generation when it was first read.
    generation: Option<i64>,
    listener: Option<postgres::Client>,
    /// When listening last failed.
    listen_failed: Option<Instant>,
}

impl PgFollow {
    pub(super) fn new(shared: Arc<Shared>, session_id: &str) -> PgFollow {
        PgFollow {
            shared,
            session_id: session_id.to_string(),
            cursor: 0,
            generation: None,
            listener: None,
            listen_failed: None,
        }
    }

    /// The listening connection, (re)connected unless that failed just now.
    fn listener(&mut self) -> Option<&mut postgres::Client> {
        if self.listener.is_none()
            && self
                .listen_failed
                .is_none_or(|t| t.elapsed() >= RELISTEN_AFTER)
        {
            let listen = self.shared.pg().and_then(|pg| {
                let mut c = pg.connect_dedicated()?;
                c.batch_execute(&format!("LISTEN {CHANNEL}")).on(&pg)?;
                Ok(c)
            });
            match listen {
                Ok(c) => self.listener = Some(c),
                Err(e) => {
                    log::debug!("{}: not listening, polling: {e}", self.session_id);
                    self.listen_failed = Some(Instant::now());
                }
            }
        }
        self.listener.as_mut()
    }
}

impl FollowSource for PgFollow {
    fn read_new(&mut self, after_seq: u64) -> Result<Option<Vec<Event>>> {
        // Listening before reading: nothing appended after the read goes unnoticed.
        self.listener();
        let pg = self.shared.pg()?;
        let mut c = pg.conn()?;
        let from = to_i64(self.cursor.max(after_seq));
        let rows = c
            .query_typed(
                "SELECT s.generation, s.pruned_seq, e.seq, e.line FROM sessions s
                   LEFT JOIN events e ON e.session_id = s.session_id AND e.seq > $2
                  WHERE s.session_id = $1 ORDER BY e.seq",
                &[(&self.session_id, Type::TEXT), (&from, Type::INT8)],
            )
            .on(&pg)?;
        let Some(first) = rows.first() else {
            return Err(Error::SessionNotFound(self.session_id.clone()));
        };
        let generation: i64 = first.get(0);
        if self.generation.is_some_and(|g| g != generation) {
            self.generation = Some(generation);
            self.cursor = first.get::<_, i64>(1) as u64;
            return Ok(None);
        }
        self.generation = Some(generation);
        let path = self.shared.place(&self.session_id, files::EVENTS);
        let mut out = Vec::new();
        for row in &rows {
            let (Some(seq), Some(line)) =
                (row.get::<_, Option<i64>>(2), row.get::<_, Option<&str>>(3))
            else {
                continue;
            };
            self.cursor = self.cursor.max(seq as u64);
            let read = eventlog::parse_all(line.as_bytes(), &path, after_seq);
            for bad in &read.skipped {
                log::warn!("{bad}: skipping a corrupt line");
            }
            out.extend(read.events);
        }
        Ok(Some(out))
    }

    fn wait(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let session_id = self.session_id.clone();
        let Some(listener) = self.listener() else {
            std::thread::sleep(timeout);
            return;
        };
        let broken = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let next = listener.notifications().timeout_iter(left).next();
            match next {
                Ok(Some(n)) => {
                    let ours = n
                        .payload()
                        .rsplit_once(' ')
                        .is_some_and(|(id, _)| id == session_id);
                    if ours {
                        return;
                    }
                }
                Ok(None) if !listener.is_closed() => return,
                Ok(None) => break "connection closed".to_string(),
                Err(e) => break e.to_string(),
            }
        };
        log::debug!("{session_id}: listening failed, polling: {broken}");
        self.listener = None;
        self.listen_failed = Some(Instant::now());
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    }
}
