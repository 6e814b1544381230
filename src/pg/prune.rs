//! Pruning a PostgreSQL session: in one transaction, the log's rows are
//! replaced by the renumbered ones, the metadata updated, orphaned images
//! deleted and the session's `generation` bumped, with the seq it ends at
//! (followers see the log was rewritten, and where its new part starts).

use postgres::types::Type;
use serde_json::Value;

use super::rows;
use super::sql::META_COLUMNS;
use super::store::{write_metadata, OnServer, PgStore};
use crate::error::{Error, Result};
use crate::prune::{self, PruneLimits, PruneResult};
use crate::timefmt;

impl PgStore {
    pub(super) fn prune_log(
        &self,
        session_id: &str,
        limits: PruneLimits,
    ) -> Result<Option<PruneResult>> {
        let (pg, mut c) = self.conn()?;
        let mut tx = c.transaction().on(&pg)?;
        let meta_row = tx
            .query_typed_opt(
                &format!("SELECT {META_COLUMNS} FROM sessions WHERE session_id = $1 FOR UPDATE"),
                &[(&session_id, Type::TEXT)],
            )
            .on(&pg)?
            .ok_or_else(|| Error::SessionNotFound(session_id.to_string()))?;
        let lines = tx
            .query_typed(
                "SELECT line FROM events WHERE session_id = $1 ORDER BY seq",
                &[(&session_id, Type::TEXT)],
            )
            .on(&pg)?;
        let log = rows::join(&lines, 0);
        let images = PgStore::images_in(&mut tx, &pg, session_id)?;
        let Some(plan) = prune::plan(&log, images, limits) else {
            return Ok(None);
        };

        tx.execute_typed(
            "DELETE FROM events WHERE session_id = $1",
            &[(&session_id, Type::TEXT)],
        )
        .on(&pg)?;
        rows::insert(&mut tx, &pg, session_id, &plan.log, None)?;
        let mut meta = self.metadata_of(session_id, &meta_row)?;
        meta.set("event_count", Value::from(plan.last_seq));
        meta.set_str("updated_at", &timefmt::now_string());
        write_metadata(&mut tx, &pg, &meta)?;
        let last_seq = i64::try_from(plan.last_seq).unwrap_or(i64::MAX);
        tx.execute_typed(
            "UPDATE sessions SET last_seq = $2, generation = generation + 1, pruned_seq = $2
              WHERE session_id = $1",
            &[(&session_id, Type::TEXT), (&last_seq, Type::INT8)],
        )
        .on(&pg)?;
        let orphans: Vec<String> = plan.orphans.iter().map(|i| i.id.clone()).collect();
        let removed = tx
            .query_typed(
                "DELETE FROM images WHERE session_id = $1 AND image_id = ANY($2)
                 RETURNING octet_length(bytes)::int8",
                &[(&session_id, Type::TEXT), (&orphans, Type::TEXT_ARRAY)],
            )
            .on(&pg)?;
        tx.commit().on(&pg)?;

        let mut result = plan.result;
        result.images_removed = removed.len();
        result.bytes_reclaimed += removed
            .iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .sum::<u64>();
        Ok(Some(result))
    }
}
