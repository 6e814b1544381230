//! The schema: versioned SQL scripts applied in order when a store opens,
//! under a lock so that hosts opening the same database at once apply each
//! script once.

use postgres::Client;

use crate::error::{Error, Result};

use super::errors::to_error;
use super::url::ServerUrl;

/// The schema scripts; script `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_schema.sql")];

/// The key of the transaction-level advisory lock held while migrating
/// ("ags_sche" in ASCII).
const MIGRATION_LOCK: i64 = 0x6167_735f_7363_6865;

/// The schema version this library writes and reads.
const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Brings the database of `client` to [`SCHEMA_VERSION`], in one transaction.
/// A database of a newer version is [`Error::CorruptData`]: this library
/// cannot read it.
pub(super) fn migrate(client: &mut Client, server: &ServerUrl) -> Result<()> {
    let pg = |e: postgres::Error| to_error(server, &e);
    let mut tx = client.transaction().map_err(pg)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(pg)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS ags_schema_version (
             version    int PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .map_err(pg)?;
    let current: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM ags_schema_version",
            &[],
        )
        .map_err(pg)?
        .get(0);
    if current > SCHEMA_VERSION {
        return Err(Error::corrupt(
            &server.target,
            None,
            format!(
                "schema version {current} is newer than this library's ({SCHEMA_VERSION}); \
                 upgrade agentsession"
            ),
        ));
    }
    for (version, script) in (1i32..).zip(MIGRATIONS).skip(current as usize) {
        tx.batch_execute(script).map_err(pg)?;
        tx.execute(
            "INSERT INTO ags_schema_version (version) VALUES ($1)",
            &[&version],
        )
        .map_err(pg)?;
    }
    tx.commit().map_err(pg)
}
