//! The PostgreSQL store: sessions, their logs and everything attached to
//! them in one database that several hosts share.
//!
//! # Appends
//! An append is one statement, so one round trip and one transaction: it
//! raises `sessions.last_seq` by the number of events (the row lock of that
//! update orders concurrent appenders, on any host) and inserts every line
//! with its seq in the same statement (`unnest` of the lines). The lines are
//! serialised here exactly as the filesystem store writes them, with the
//! seq spliced in by the server. The primary key `(session_id, seq)` is the
//! last defence against a duplicate seq.
//!
//! The same statement records the append's time (and that of the last user
//! prompt) in the session row; the metadata read is the stored
//! `metadata.json` text with `event_count`, `updated_at` and
//! `last_user_message_at` taken from there, so it is consistent after every
//! append without rewriting the text. Writing the metadata folds them in.
//!
//! # Batched mode
//! Seqs must stay unique and contiguous across hosts, which no host can
//! promise without asking the server; so a batched PostgreSQL store writes
//! each `append_events` call at once, as the default mode does (one round
//! trip per call, whatever the number of events). `flush` has nothing to do.
//!
//! # Log rows
//! A row of `events` holds one log line. Lines copied from another store
//! that carry no readable seq (or one out of order) are kept verbatim,
//! appended to the row of the event before them (a `\n` between), so the
//! log reads back byte for byte; ones before the first event go in a row of
//! seq 0. A PostgreSQL text holds no invalid UTF-8 and no NUL byte: such
//! bytes of a copied line are stored as U+FFFD.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use postgres::types::Type;
use postgres::Row;
use serde_json::Value;

use super::rows;
use super::sql::{self, META_COLUMNS};
use super::{Pg, PgConn};
use crate::backend::{Backend, Doc, DocChange, DocVersion, FollowSource, LockGuard, LockRecord};
use crate::error::{Error, Result};
use crate::event::{types, Event};
use crate::eventlog::{self, EventsRead};
use crate::fs_store::files;
use crate::image::{ImageFormat, ImageInfo};
use crate::metadata::Metadata;
use crate::prune::{PruneLimits, PruneResult};
use crate::store::{NewEvent, SessionList, SkippedSession, StoreOptions};
use crate::timefmt::{self, Timestamp};

/// Maps a server failure to the library's error. (Statements go out with
/// `query_typed`: the statement and its parameters in one round trip.)
pub(super) trait OnServer<T> {
    /// [`Error::Io`] on the server's redacted URL.
    fn on(self, pg: &Pg) -> Result<T>;
}

impl<T> OnServer<T> for std::result::Result<T, postgres::Error> {
    fn on(self, pg: &Pg) -> Result<T> {
        self.map_err(|e| pg.pg_err(e))
    }
}

/// What a store and the follows of its sessions share.
#[derive(Debug)]
pub(super) struct Shared {
    /// The pool; `None` once closed.
    pg: RwLock<Option<Arc<Pg>>>,
    /// The URL without its password.
    pub(super) target: String,
    closed: AtomicBool,
}

impl Shared {
    /// The server, or `StoreClosed`.
    pub(super) fn pg(&self) -> Result<Arc<Pg>> {
        self.pg.read().clone().ok_or(Error::StoreClosed)
    }

    /// Where a session's item is, for messages: `<url>#<session>/<name>`.
    pub(super) fn place(&self, session_id: &str, name: &str) -> PathBuf {
        PathBuf::from(format!("{}#{session_id}/{name}", self.target))
    }
}

/// The PostgreSQL store.
#[derive(Debug)]
pub(crate) struct PgStore {
    pub(super) shared: Arc<Shared>,
    batched: bool,
    /// Whether the database's `lower()` lowers ASCII as Rust does, so that
    /// searches may filter lines on the server.
    pub(super) ascii_lower: bool,
}

/// A time in epoch microseconds (as the server gives them) as the format writes it.
pub(super) fn format_micros(micros: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_micros(micros).map(|t| timefmt::format(&t.fixed_offset()))
}

/// A time in epoch microseconds as a [`Timestamp`].
pub(super) fn micros_time(micros: i64) -> Option<Timestamp> {
    chrono::DateTime::from_timestamp_micros(micros).map(|t| t.fixed_offset())
}

/// A count or seq as the server stores it.
pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgStore {
    /// Connects to the database at `url`, bringing its schema up to date.
    pub(crate) fn open(url: &str, options: StoreOptions) -> Result<Arc<PgStore>> {
        let pg = Pg::open(url)?;
        // Every printable ASCII character, which a search needle may hold.
        let ascii: String = (b' '..=b'~').map(char::from).collect();
        let mut c = pg.conn()?;
        let lowered: String = c
            .query_typed_one("SELECT lower($1)", &[(&ascii, Type::TEXT)])
            .on(&pg)?
            .get(0);
        drop(c);
        Ok(Arc::new(PgStore {
            shared: Arc::new(Shared {
                target: pg.target().to_string(),
                pg: RwLock::new(Some(Arc::new(pg))),
                closed: AtomicBool::new(false),
            }),
            batched: options.batched,
            ascii_lower: lowered == ascii.to_ascii_lowercase(),
        }))
    }

    /// The server and a connection of its pool.
    pub(super) fn conn(&self) -> Result<(Arc<Pg>, PgConn)> {
        let pg = self.shared.pg()?;
        let c = pg.conn()?;
        Ok((pg, c))
    }

    pub(super) fn place(&self, session_id: &str, name: &str) -> PathBuf {
        self.shared.place(session_id, name)
    }

    /// The session's metadata from a row of [`META_COLUMNS`].
    pub(super) fn metadata_of(&self, session_id: &str, row: &Row) -> Result<Metadata> {
        let text: &str = row.get(0);
        let mut meta =
            Metadata::from_slice(text.as_bytes(), &self.place(session_id, files::METADATA))?;
        if let Some(appended_at) = row.get::<_, Option<&str>>(2) {
            meta.set("event_count", Value::from(row.get::<_, i64>(1)));
            meta.set_str("updated_at", appended_at);
            if let Some(t) = row.get::<_, Option<&str>>(3) {
                meta.set_str("last_user_message_at", t);
            }
        }
        Ok(meta)
    }

    /// Fails with `SessionNotFound` unless the session exists.
    pub(super) fn require(&self, session_id: &str) -> Result<()> {
        if Backend::exists(self, session_id)? {
            Ok(())
        } else {
            Err(Error::SessionNotFound(session_id.to_string()))
        }
    }

    /// Parses log rows (text that may hold several lines each) read newest
    /// first, keeping events with `seq < before_seq` (0: all) up to `limit`.
    fn take_newest(
        &self,
        session_id: &str,
        rows: &[Row],
        before_seq: u64,
        limit: usize,
        out: &mut EventsRead,
    ) {
        let path = self.place(session_id, files::EVENTS);
        for row in rows {
            let Some(text) = row.get::<_, Option<&str>>(1) else {
                continue;
            };
            let read = eventlog::parse_all(text.as_bytes(), &path, 0);
            for ev in read.events.into_iter().rev() {
                if out.events.len() < limit && (before_seq == 0 || ev.seq < before_seq) {
                    out.events.push(ev);
                }
            }
            out.skipped
                .extend(read.skipped.into_iter().rev().map(|mut s| {
                    s.line = None;
                    s.offset = 0;
                    s
                }));
        }
    }
}

/// The events of a batch serialised as the log writes them, each without
/// its leading `{"seq":0` (the server splices the seq in), and the time of
/// the batch's last user prompt.
fn line_tails(events: Vec<NewEvent>, now: &str) -> (Vec<String>, Option<String>) {
    const HEAD: &[u8] = b"{\"seq\":0";
    let mut last_prompt = None;
    let mut buf = Vec::with_capacity(256);
    let tails = events
        .into_iter()
        .map(|ne| {
            let ev = Event {
                seq: 0,
                timestamp: ne.timestamp.unwrap_or_else(|| now.to_string()),
                event_type: ne.event_type,
                data: ne.data,
                extra: Default::default(),
            };
            if ev.event_type == types::USER_PROMPT {
                last_prompt = Some(ev.timestamp.clone());
            }
            buf.clear();
            ev.write_line(&mut buf);
            let tail = buf
                .strip_prefix(HEAD)
                .expect("an event line starts with its seq");
            String::from_utf8(tail.to_vec()).expect("serde_json writes UTF-8")
        })
        .collect();
    (tails, last_prompt)
}

impl Backend for PgStore {
    fn location(&self) -> String {
        self.shared.target.clone()
    }

    fn base_dir(&self) -> Option<&Path> {
        None
    }

    fn is_batched(&self) -> bool {
        self.batched
    }

    fn flush(&self) -> Result<()> {
        self.shared.pg().map(drop)
    }

    fn close(&self) -> Result<()> {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.pg.write().take();
        Ok(())
    }

    fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    fn create(&self, meta: &Metadata) -> Result<()> {
        if Backend::import_session(self, meta)? {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "session {:?} already exists",
                meta.session_id()
            )))
        }
    }

    fn exists(&self, session_id: &str) -> Result<bool> {
        let (pg, mut c) = self.conn()?;
        let row = c
            .query_typed_opt(
                "SELECT 1 FROM sessions WHERE session_id = $1",
                &[(&session_id, Type::TEXT)],
            )
            .on(&pg)?;
        Ok(row.is_some())
    }

    fn delete(&self, session_id: &str) -> Result<()> {
        let (pg, mut c) = self.conn()?;
        let n = c
            .execute_typed(
                "DELETE FROM sessions WHERE session_id = $1",
                &[(&session_id, Type::TEXT)],
            )
            .on(&pg)?;
        if n == 0 {
            return Err(Error::SessionNotFound(session_id.to_string()));
        }
        Ok(())
    }

    fn metadata(&self, session_id: &str) -> Result<Metadata> {
        let (pg, mut c) = self.conn()?;
        let row = c
            .query_typed_opt(
                &format!("SELECT {META_COLUMNS} FROM sessions WHERE session_id = $1"),
                &[(&session_id, Type::TEXT)],
            )
            .on(&pg)?
            .ok_or_else(|| Error::SessionNotFound(session_id.to_string()))?;
        self.metadata_of(session_id, &row)
    }

    fn update_metadata(
        &self,
        session_id: &str,
        f: &mut dyn FnMut(&mut Metadata) -> Result<()>,
    ) -> Result<Metadata> {
        let (pg, mut c) = self.conn()?;
        let mut tx = c.transaction().on(&pg)?;
        let row = tx
            .query_typed_opt(
                &format!("SELECT {META_COLUMNS} FROM sessions WHERE session_id = $1 FOR UPDATE"),
                &[(&session_id, Type::TEXT)],
            )
            .on(&pg)?
            .ok_or_else(|| Error::SessionNotFound(session_id.to_string()))?;
        let meta = self.metadata_of(session_id, &row)?;
        let mut changed = meta.clone();
        f(&mut changed)?;
        if changed.session_id() != meta.session_id() {
            return Err(Error::invalid("session_id cannot be changed"));
        }
        write_metadata(&mut tx, &pg, &changed)?;
        tx.commit().on(&pg)?;
        Ok(changed)
    }

    fn list(&self) -> Result<SessionList> {
        let (pg, mut c) = self.conn()?;
        let rows = c.query_typed(sql::LIST_SESSIONS, &[]).on(&pg)?;
        let mut out = SessionList::default();
        for row in &rows {
            let id: &str = row.get(4);
            match self.metadata_of(id, row) {
                Ok(m) => out.sessions.push(m),
                Err(error) => out.skipped.push(SkippedSession {
                    session_id: id.to_string(),
                    error,
                }),
            }
        }
        out.sessions
            .sort_unstable_by(|a, b| a.session_id().cmp(b.session_id()));
        out.skipped
            .sort_unstable_by(|a, b| a.session_id.cmp(&b.session_id));
        Ok(out)
    }

    fn append_events(&self, session_id: &str, events: Vec<NewEvent>) -> Result<Vec<u64>> {
        let now = timefmt::now_string();
        let n = events.len() as u64;
        let (tails, last_prompt) = line_tails(events, &now);
        let (pg, mut c) = self.conn()?;
        let row = c
            .query_typed_opt(
                sql::APPEND,
                &[
                    (&session_id, Type::TEXT),
                    (&tails, Type::TEXT_ARRAY),
                    (&now, Type::TEXT),
                    (&last_prompt, Type::TEXT),
                ],
            )
            .on(&pg)?
            .ok_or_else(|| Error::SessionNotFound(session_id.to_string()))?;
        let base = row.get::<_, i64>(0) as u64;
        Ok((base + 1..=base + n).collect())
    }

    fn events(&self, session_id: &str, after_seq: u64) -> Result<EventsRead> {
        let (pg, mut c) = self.conn()?;
        // From the start, the row of seq 0 (lines before the first event) too.
        let after = if after_seq == 0 {
            -1
        } else {
            to_i64(after_seq)
        };
        let rows = c
            .query_typed(
                "SELECT e.line FROM sessions s
                   LEFT JOIN events e ON e.session_id = s.session_id AND e.seq > $2
                  WHERE s.session_id = $1 ORDER BY e.seq",
                &[(&session_id, Type::TEXT), (&after, Type::INT8)],
            )
            .on(&pg)?;
        if rows.is_empty() {
            return Err(Error::SessionNotFound(session_id.to_string()));
        }
        let buf = rows::join(&rows, 0);
        Ok(eventlog::parse_all(
            &buf,
            &self.place(session_id, files::EVENTS),
            after_seq,
        ))
    }

    fn events_last(&self, session_id: &str, limit: usize, before_seq: u64) -> Result<EventsRead> {
        let mut out = EventsRead::default();
        if limit == 0 {
            self.require(session_id)?;
            return Ok(out);
        }
        let (pg, mut c) = self.conn()?;
        let mut bound = if before_seq == 0 {
            i64::MAX
        } else {
            to_i64(before_seq)
        };
        loop {
            let want = to_i64((limit - out.events.len()) as u64);
            let rows = c
                .query_typed(
                    sql::EVENTS_LAST,
                    &[
                        (&session_id, Type::TEXT),
                        (&bound, Type::INT8),
                        (&want, Type::INT8),
                    ],
                )
                .on(&pg)?;
            if rows.is_empty() {
                return Err(Error::SessionNotFound(session_id.to_string()));
            }
            self.take_newest(session_id, &rows, before_seq, limit, &mut out);
            let got = rows.iter().filter_map(|r| r.get::<_, Option<i64>>(0)).min();
            match got {
                Some(seq) if out.events.len() < limit && rows.len() as i64 == want => bound = seq,
                _ => return Ok(out),
            }
        }
    }

    fn search_lines(&self, session_id: &str, needle: Option<&str>) -> Result<Vec<u8>> {
        let filter = needle
            .filter(|_| self.ascii_lower)
            .and_then(rows::like_pattern);
        let (pg, mut c) = self.conn()?;
        let rows = match &filter {
            None => c.query_typed(sql::SEARCH_ALL, &[(&session_id, Type::TEXT)]),
            Some(pattern) => c.query_typed(
                sql::SEARCH_FILTERED,
                &[(&session_id, Type::TEXT), (pattern, Type::TEXT)],
            ),
        }
        .on(&pg)?;
        if rows.is_empty() {
            return Err(Error::SessionNotFound(session_id.to_string()));
        }
        Ok(rows::join(&rows, 0))
    }

    fn follow_source(&self, session_id: &str) -> Result<Box<dyn FollowSource>> {
        self.require(session_id)?;
        Ok(Box::new(super::follow::PgFollow::new(
            self.shared.clone(),
            session_id,
        )))
    }

    fn prune_if_needed(
        &self,
        session_id: &str,
        limits: PruneLimits,
    ) -> Result<Option<PruneResult>> {
        self.prune_log(session_id, limits)
    }

    fn save_image(&self, session_id: &str, data: &[u8], format: ImageFormat) -> Result<String> {
        self.save_image_row(session_id, data, format)
    }

    fn image_data(&self, session_id: &str, image_id: &str) -> Result<Vec<u8>> {
        self.image_bytes(session_id, image_id)
    }

    fn image_path(&self, _session_id: &str, _image_id: &str) -> Result<PathBuf> {
        self.shared.pg()?;
        Err(Error::invalid(
            "images of a PostgreSQL store have no file path; use image_data",
        ))
    }

    fn list_images(&self, session_id: &str) -> Result<Vec<ImageInfo>> {
        self.image_rows(session_id)
    }

    fn delete_image(&self, session_id: &str, image_id: &str) -> Result<()> {
        self.delete_image_row(session_id, image_id)
    }

    fn cleanup_old_images(&self, max_age: Duration, preserve_recent: Duration) -> Result<usize> {
        self.cleanup_image_rows(max_age, preserve_recent)
    }

    fn import_session(&self, meta: &Metadata) -> Result<bool> {
        let (pg, mut c) = self.conn()?;
        let text = String::from_utf8(meta.to_pretty_json()).expect("JSON is UTF-8");
        let n = c
            .execute_typed(
                "INSERT INTO sessions (session_id, metadata) VALUES ($1, $2)
                 ON CONFLICT (session_id) DO NOTHING",
                &[(&meta.session_id(), Type::TEXT), (&text, Type::TEXT)],
            )
            .on(&pg)?;
        Ok(n == 1)
    }

    fn import_lines(&self, session_id: &str, lines: &[u8], last_seq: u64) -> Result<()> {
        let (pg, mut c) = self.conn()?;
        let mut tx = c.transaction().on(&pg)?;
        rows::lock_session(&mut tx, &pg, session_id)?;
        let prev: Option<i64> = tx
            .query_typed_one(
                "SELECT max(seq) FROM events WHERE session_id = $1",
                &[(&session_id, Type::TEXT)],
            )
            .on(&pg)?
            .get(0);
        rows::insert(&mut tx, &pg, session_id, lines, prev)?;
        let last = to_i64(last_seq);
        tx.execute_typed(
            "UPDATE sessions SET last_seq = greatest(last_seq, $2) WHERE session_id = $1",
            &[(&session_id, Type::TEXT), (&last, Type::INT8)],
        )
        .on(&pg)?;
        tx.commit().on(&pg)
    }

    fn import_image(&self, session_id: &str, image_id: &str, data: &[u8]) -> Result<()> {
        self.import_image_row(session_id, image_id, data)
    }

    fn read_lock(&self, session_id: &str) -> Result<Option<LockRecord>> {
        self.read_lock_row(session_id)
    }

    fn lock_guard(&self, session_id: &str) -> Result<Box<dyn LockGuard + '_>> {
        Ok(Box::new(self.guard_lock(session_id)?))
    }

    fn doc_location(&self, session_id: &str, doc: Doc) -> PathBuf {
        self.place(session_id, super::docs::file_name(doc))
    }

    fn doc_read(&self, session_id: &str, doc: Doc) -> Result<Option<(Vec<u8>, DocVersion)>> {
        self.read_doc(session_id, doc)
    }

    fn doc_version(&self, session_id: &str, doc: Doc) -> Result<Option<DocVersion>> {
        self.doc_stamp(session_id, doc)
    }

    fn doc_change(
        &self,
        session_id: &str,
        doc: Doc,
        f: &mut dyn FnMut(Option<&[u8]>) -> Result<DocChange>,
    ) -> Result<Option<DocVersion>> {
        self.change_doc(session_id, doc, f)
    }
}

/// Stores `meta` as the session's metadata text, folding in what appends
/// recorded since the last write.
pub(super) fn write_metadata(
    tx: &mut impl postgres::GenericClient,
    pg: &Pg,
    meta: &Metadata,
) -> Result<()> {
    let text = String::from_utf8(meta.to_pretty_json()).expect("JSON is UTF-8");
    tx.execute_typed(
        "UPDATE sessions SET metadata = $2, appended_at = NULL, user_message_at = NULL
          WHERE session_id = $1",
        &[(&meta.session_id(), Type::TEXT), (&text, Type::TEXT)],
    )
    .on(pg)?;
    Ok(())
}
