//! PostgreSQL failures as the library's [`Error`]: the server's address and
//! message, never the password.

use std::io;

use postgres::error::SqlState;

use crate::error::Error;

use super::url::ServerUrl;

/// `e` as [`Error::Io`] on the redacted URL of `server`.
pub(super) fn to_error(server: &ServerUrl, e: &postgres::Error) -> Error {
    Error::io(&server.target, io_error(&server.endpoints, e))
}

/// `e` as an I/O error whose kind says what happened (refused, timed out,
/// aborted, denied…) and whose message names `endpoints`.
pub(super) fn io_error(endpoints: &str, e: &postgres::Error) -> io::Error {
    if let Some(db) = e.as_db_error() {
        let kind = sql_state_kind(db.code());
        let mut message = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            message.push_str(&format!(" ({detail})"));
        }
        message.push_str(&format!(" [SQLSTATE {}]", db.code().code()));
        return io::Error::new(kind, message);
    }
    if e.is_closed() {
        return io::Error::new(
            io::ErrorKind::ConnectionAborted,
            format!("connection to {endpoints} closed"),
        );
    }
    let cause = std::error::Error::source(e);
    let kind = cause
        .and_then(|c| c.downcast_ref::<io::Error>())
        .map_or(io::ErrorKind::Other, io::Error::kind);
    let message = match cause {
        Some(cause) => format!("{endpoints}: {e}: {cause}"),
        None => format!("{endpoints}: {e}"),
    };
    io::Error::new(kind, message)
}

/// The I/O error kind closest to a server error code.
fn sql_state_kind(code: &SqlState) -> io::ErrorKind {
    match *code {
        SqlState::ADMIN_SHUTDOWN | SqlState::CRASH_SHUTDOWN | SqlState::CANNOT_CONNECT_NOW => {
            io::ErrorKind::ConnectionAborted
        }
        SqlState::INVALID_PASSWORD
        | SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        | SqlState::INSUFFICIENT_PRIVILEGE => io::ErrorKind::PermissionDenied,
        SqlState::INVALID_CATALOG_NAME => io::ErrorKind::NotFound,
        SqlState::QUERY_CANCELED | SqlState::LOCK_NOT_AVAILABLE => io::ErrorKind::TimedOut,
        SqlState::TOO_MANY_CONNECTIONS => io::ErrorKind::ResourceBusy,
        SqlState::DISK_FULL => io::ErrorKind::StorageFull,
        SqlState::T_R_DEADLOCK_DETECTED => io::ErrorKind::Deadlock,
        _ => io::ErrorKind::Other,
    }
}
