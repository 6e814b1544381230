//! The small JSON documents of a PostgreSQL session (queue, follow-up
//! suggestions): rows of `documents`, stored whole as their files are.
//!
//! A change runs in a transaction that first takes a transaction-level
//! advisory lock on the session and document (held until commit, on every
//! host, whether or not the row exists yet), then reads, then writes. Every
//! write takes a new version from one sequence, so a version is never
//! reused, not even after a removal.

use postgres::types::Type;

use super::sql;
use super::store::{OnServer, PgStore};
use crate::backend::{Doc, DocChange, DocVersion};
use crate::error::{Error, Result};
use crate::fs_store::files;

/// The document's name in `documents.doc` and the advisory lock class of its changes.
fn key(doc: Doc) -> (&'static str, i32) {
    match doc {
        Doc::Queue => ("queue", sql::QUEUE_CLASS),
        Doc::ActionButtons => ("action_buttons", sql::ACTION_BUTTONS_CLASS),
    }
}

/// The file the document is in a filesystem store (its name in messages).
pub(super) fn file_name(doc: Doc) -> &'static str {
    match doc {
        Doc::Queue => files::QUEUE,
        Doc::ActionButtons => files::ACTION_BUTTONS,
    }
}

fn version(v: i64) -> DocVersion {
    DocVersion([v as u64, 0, 0])
}

impl PgStore {
    /// The document's content and version; `Ok(None)` when the session has
    /// none, `SessionNotFound` when the session does not exist.
    fn doc_row(&self, session_id: &str, doc: Doc, content: bool) -> Result<Option<(String, i64)>> {
        let (pg, mut c) = self.conn()?;
        let sql = if content {
            "SELECT d.content, d.version FROM sessions s
               LEFT JOIN documents d ON d.session_id = s.session_id AND d.doc = $2
              WHERE s.session_id = $1"
        } else {
            "SELECT '', d.version FROM sessions s
               LEFT JOIN documents d ON d.session_id = s.session_id AND d.doc = $2
              WHERE s.session_id = $1"
        };
        let row = c
            .query_typed_opt(sql, &[(&session_id, Type::TEXT), (&key(doc).0, Type::TEXT)])
            .on(&pg)?
            .ok_or_else(|| Error::SessionNotFound(session_id.to_string()))?;
        Ok(row
            .get::<_, Option<i64>>(1)
            .map(|v| (row.get::<_, Option<String>>(0).unwrap_or_default(), v)))
    }

    pub(super) fn read_doc(
        &self,
        session_id: &str,
        doc: Doc,
    ) -> Result<Option<(Vec<u8>, DocVersion)>> {
        Ok(self
            .doc_row(session_id, doc, true)?
            .map(|(text, v)| (text.into_bytes(), version(v))))
    }

    pub(super) fn doc_stamp(&self, session_id: &str, doc: Doc) -> Result<Option<DocVersion>> {
        Ok(self
            .doc_row(session_id, doc, false)?
            .map(|(_, v)| version(v)))
    }

    pub(super) fn change_doc(
        &self,
        session_id: &str,
        doc: Doc,
        f: &mut dyn FnMut(Option<&[u8]>) -> Result<DocChange>,
    ) -> Result<Option<DocVersion>> {
        let (name, class) = key(doc);
        let (pg, mut c) = self.conn()?;
        let mut tx = c.transaction().on(&pg)?;
        tx.execute_typed(
            sql::ADVISORY_XACT_LOCK,
            &[(&class, Type::INT4), (&session_id, Type::TEXT)],
        )
        .on(&pg)?;
        let row = tx
            .query_typed_opt(
                sql::DOC_FOR_CHANGE,
                &[(&session_id, Type::TEXT), (&name, Type::TEXT)],
            )
            .on(&pg)?
            .ok_or_else(|| Error::SessionNotFound(session_id.to_string()))?;
        let current: Option<String> = row.get(0);
        let stored = match f(current.as_deref().map(str::as_bytes))? {
            DocChange::Keep => return Ok(row.get::<_, Option<i64>>(1).map(version)),
            DocChange::Write(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::invalid("a document must be UTF-8 JSON"))?;
                let row = tx
                    .query_typed_one(
                        sql::DOC_WRITE,
                        &[
                            (&session_id, Type::TEXT),
                            (&name, Type::TEXT),
                            (&text, Type::TEXT),
                        ],
                    )
                    .on(&pg)?;
                Some(version(row.get(0)))
            }
            DocChange::Remove => {
                tx.execute_typed(
                    "DELETE FROM documents WHERE session_id = $1 AND doc = $2",
                    &[(&session_id, Type::TEXT), (&name, Type::TEXT)],
                )
                .on(&pg)?;
                None
            }
        };
        tx.commit().on(&pg)?;
        Ok(stored)
    }
}
