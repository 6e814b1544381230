//! Session locks of the PostgreSQL store: a row of `locks`, its heartbeat
//! stamped and judged by the server's clock, so hosts with skewed clocks
//! agree on staleness.
//!
//! An acquisition decides inside a transaction holding a transaction-level
//! advisory lock on the session (which exists even when no row does), so two
//! hosts that both judge a lock stale cannot both take it: the second reads
//! the first one's committed row. The holder's later writes are single
//! statements that compare and swap on its `instance_id`.

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use postgres::types::Type;
use postgres::Row;

use super::sql::{self, RECORD_COLUMNS};
use super::store::{format_micros, OnServer, PgStore};
use super::{Pg, PgConn};
use crate::backend::{Lease, LockGuard, LockRecord};
use crate::error::{Error, Result};
use crate::fs_store::files;
use crate::lock::{parse_lock, LockInfo};

/// A record of a lock row ([`RECORD_COLUMNS`]).
fn record(row: &Row, place: PathBuf) -> LockRecord {
    let info = parse_lock(row.get::<_, &str>(0).as_bytes()).map(|mut info| {
        if let Some(t) = format_micros(row.get(1)) {
            info.heartbeat = t;
        }
        info
    });
    let age_us: i64 = row.get(2);
    LockRecord {
        info,
        heartbeat_age: Some(std::time::Duration::from_micros(age_us.max(0) as u64)),
        place,
    }
}

impl PgStore {
    pub(super) fn read_lock_row(&self, session_id: &str) -> Result<Option<LockRecord>> {
        let (pg, mut c) = self.conn()?;
        let rows = c
            .query_typed(
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM sessions s
                       LEFT JOIN locks l ON l.session_id = s.session_id
                      WHERE s.session_id = $1"
                ),
                &[(&session_id, Type::TEXT)],
            )
            .on(&pg)?;
        let row = rows
            .first()
            .ok_or_else(|| Error::SessionNotFound(session_id.to_string()))?;
        if row.get::<_, Option<&str>>(0).is_none() {
            return Ok(None);
        }
        Ok(Some(record(row, self.place(session_id, files::LOCK))))
    }

    pub(super) fn guard_lock(&self, session_id: &str) -> Result<PgLockGuard> {
        let (pg, mut conn) = self.conn()?;
        conn.batch_execute("BEGIN").on(&pg)?;
        let mut guard = PgLockGuard {
            pg,
            conn: Some(conn),
            session_id: session_id.to_string(),
            place: self.place(session_id, files::LOCK),
        };
        let (pg, c) = guard.parts();
        c.execute_typed(
            sql::ADVISORY_XACT_LOCK,
            &[(&sql::LOCK_CLASS, Type::INT4), (&session_id, Type::TEXT)],
        )
        .on(pg)?;
        let exists = c
            .query_typed_opt(sql::SESSION_FOR_KEY_SHARE, &[(&session_id, Type::TEXT)])
            .on(pg)?;
        if exists.is_none() {
            return Err(Error::SessionNotFound(session_id.to_string()));
        }
        Ok(guard)
    }
}

/// The transaction of an acquisition; rolled back unless committed.
pub(super) struct PgLockGuard {
    pg: Arc<Pg>,
    conn: Option<PgConn>,
    session_id: String,
    place: PathBuf,
}

impl PgLockGuard {
    fn parts(&mut self) -> (&Pg, &mut PgConn) {
        (&self.pg, self.conn.as_mut().expect("open until commit"))
    }
}

impl LockGuard for PgLockGuard {
    fn read(&mut self) -> Result<Option<LockRecord>> {
        let place = self.place.clone();
        let id = self.session_id.clone();
        let (pg, c) = self.parts();
        let row = c
            .query_typed_opt(sql::LOCK_READ, &[(&id, Type::TEXT)])
            .on(pg)?;
        Ok(row.map(|r| record(&r, place)))
    }

    fn write(&mut self, info: &LockInfo) -> Result<Box<dyn Lease>> {
        let id = self.session_id.clone();
        let text = String::from_utf8(info.to_json()).expect("JSON is UTF-8");
        let (pg, c) = self.parts();
        c.execute_typed(
            sql::LOCK_WRITE,
            &[
                (&id, Type::TEXT),
                (&info.instance_id, Type::TEXT),
                (&info.hostname, Type::TEXT),
                (&info.pid, Type::INT8),
                (&text, Type::TEXT),
            ],
        )
        .on(pg)?;
        Ok(Box::new(PgLease {
            pg: self.pg.clone(),
            session_id: id,
            instance_id: info.instance_id.clone(),
            written: Mutex::new(text),
        }))
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        let mut conn = self.conn.take().expect("committed once");
        conn.batch_execute("COMMIT").on(&self.pg)
    }
}

impl Drop for PgLockGuard {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            if let Err(e) = conn.batch_execute("ROLLBACK") {
                log::warn!("{}: lock decision not rolled back: {e}", self.session_id);
            }
        }
    }
}

/// A held lock's hold on its row. It keeps the server's pool, as a held
/// lock of a filesystem store keeps its files, until it is released.
struct PgLease {
    pg: Arc<Pg>,
    session_id: String,
    instance_id: String,
    /// The info text this holder last stored.
    written: Mutex<String>,
}

impl PgLease {
    /// The stored info if it is still this holder's (its unknown fields
    /// then kept in `info`); `None` when the lock is gone or another's.
    fn stored(&self, info: &mut LockInfo) -> Result<Option<String>> {
        let mut c = self.pg.conn()?;
        let row = c
            .query_typed_opt(
                "SELECT info FROM locks WHERE session_id = $1 AND instance_id = $2",
                &[
                    (&self.session_id, Type::TEXT),
                    (&self.instance_id, Type::TEXT),
                ],
            )
            .on(&self.pg)?;
        let Some(row) = row else { return Ok(None) };
        let text: String = row.get(0);
        if text != *self.written.lock() {
            match LockInfo::from_slice(text.as_bytes()) {
                Ok(found) if found.instance_id == self.instance_id => info.extra = found.extra,
                _ => return Ok(None),
            }
        }
        Ok(Some(text))
    }
}

impl Lease for PgLease {
    fn rewrite(&self, info: &mut LockInfo) -> Result<bool> {
        loop {
            // Swaps only the text this holder last saw stored: anything else
            // under its instance id is read first, for its unknown fields.
            let expected = self.written.lock().clone();
            let text = String::from_utf8(info.to_json()).expect("JSON is UTF-8");
            let mut c = self.pg.conn()?;
            let row = c
                .query_typed_opt(
                    "UPDATE locks SET info = $4, heartbeat = clock_timestamp()
                      WHERE session_id = $1 AND instance_id = $2 AND info = $3
                  RETURNING (extract(epoch FROM heartbeat) * 1000000)::int8",
                    &[
                        (&self.session_id, Type::TEXT),
                        (&self.instance_id, Type::TEXT),
                        (&expected, Type::TEXT),
                        (&text, Type::TEXT),
                    ],
                )
                .on(&self.pg)?;
            drop(c);
            if let Some(row) = row {
                if let Some(t) = format_micros(row.get(0)) {
                    info.heartbeat = t;
                }
                *self.written.lock() = text;
                return Ok(true);
            }
            match self.stored(info)? {
                None => return Ok(false),
                Some(stored) => *self.written.lock() = stored,
            }
        }
    }

    fn owned(&self, info: &mut LockInfo) -> Result<bool> {
        Ok(self.stored(info)?.is_some())
    }

    fn remove(&self) -> Result<bool> {
        let mut c = self.pg.conn()?;
        let n = c
            .execute_typed(
                sql::LOCK_REMOVE,
                &[
                    (&self.session_id, Type::TEXT),
                    (&self.instance_id, Type::TEXT),
                ],
            )
            .on(&self.pg)?;
        Ok(n > 0)
    }
}
