//! The PostgreSQL server behind a store opened with a `postgres://` or
//! `postgresql://` URL: a pool of connections, the schema, and failures
//! mapped to the library's [`Error`] without ever showing the password.

mod docs;
mod errors;
mod follow;
mod images;
mod lock;
mod migrate;
mod prune;
mod rows;
pub mod sql;
mod store;
mod url;

pub(crate) use store::PgStore;
pub(crate) use url::is_url;

use std::fmt;
use std::io;
use std::sync::Arc;

use parking_lot::Mutex;
use postgres::NoTls;
use r2d2::ManageConnection;
use r2d2_postgres::PostgresConnectionManager;

use crate::error::{Error, Result};

use url::ServerUrl;

/// Connections kept open to the server at most, per [`Pg`].
const POOL_SIZE: u32 = 8;

/// A connection taken from the pool; it goes back when dropped.
pub type PgConn = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

/// A PostgreSQL database holding a store, with its schema up to date.
pub struct Pg {
    pool: r2d2::Pool<PostgresConnectionManager<NoTls>>,
    server: ServerUrl,
    watch: ConnectWatch,
}

impl Pg {
    /// Connects to the database at `url` and brings its schema up to date.
    ///
    /// A malformed URL is [`Error::InvalidArgument`]; a server that cannot
    /// be reached, refuses the login or fails is [`Error::Io`] on
    /// [`Pg::target`]. A connection attempt gives up after the URL's
    /// `connect_timeout` (5 s if absent).
    pub fn open(url: &str) -> Result<Pg> {
        let server = ServerUrl::parse(url)?;
        let manager = PostgresConnectionManager::new(server.config.clone(), NoTls);
        // The first connection is made here rather than by the pool, so that
        // an unreachable server fails at once with its own error.
        let mut client = manager
            .connect()
            .map_err(|e| errors::to_error(&server, &e))?;
        migrate::migrate(&mut client, &server)?;
        drop(client);
        let watch = ConnectWatch {
            endpoints: server.endpoints.clone(),
            last: Arc::default(),
        };
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(0))
            .connection_timeout(server.connect_timeout)
            // A connection broken by a server restart is found and dropped
            // at check-out, so the caller gets a fresh one.
            .test_on_check_out(true)
            .error_handler(Box::new(watch.clone()))
            .event_handler(Box::new(watch.clone()))
            .build_unchecked(manager);
        Ok(Pg {
            pool,
            server,
            watch,
        })
    }

    /// The URL without its password, e.g. `postgresql://ags@127.0.0.1:5432/agentsession`.
    pub fn target(&self) -> &str {
        &self.server.target
    }

    /// A connection from the pool, opened if none is idle. Waits at most the
    /// connect timeout; a server that stays unreachable is [`Error::Io`]
    /// with the last connection failure.
    pub fn conn(&self) -> Result<PgConn> {
        self.pool.get().map_err(|_| {
            let source = self.watch.last.lock().clone().map_or_else(
                || {
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "no connection to {} free within {:?} (all {POOL_SIZE} busy)",
                            self.server.endpoints, self.server.connect_timeout
                        ),
                    )
                },
                |(kind, message)| io::Error::new(kind, message),
            );
            Error::io(&self.server.target, source)
        })
    }

    /// A connection of its own, outside the pool (for `LISTEN`).
    pub(crate) fn connect_dedicated(&self) -> Result<postgres::Client> {
        self.server
            .config
            .connect(NoTls)
            .map_err(|e| self.pg_err(e))
    }

    /// `e` as the library's error: [`Error::Io`] on [`Pg::target`], of a
    /// kind saying what happened (`ConnectionRefused`, `TimedOut`,
    /// `ConnectionAborted`, `PermissionDenied`…) and with the server's
    /// address or message.
    pub fn pg_err(&self, e: postgres::Error) -> Error {
        errors::to_error(&self.server, &e)
    }
}

impl fmt::Debug for Pg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pg").field(&self.server.target).finish()
    }
}

/// Keeps the pool's last failure to connect (or to check out a connection)
/// until a connection is made or checked out, so that [`Pg::conn`] can say
/// why it got none.
#[derive(Debug, Clone)]
struct ConnectWatch {
    endpoints: String,
    last: Arc<Mutex<Option<(io::ErrorKind, String)>>>,
}

impl r2d2::HandleError<postgres::Error> for ConnectWatch {
    fn handle_error(&self, e: postgres::Error) {
        let e = errors::io_error(&self.endpoints, &e);
        log::warn!("PostgreSQL: {e}");
        *self.last.lock() = Some((e.kind(), e.to_string()));
    }
}

impl r2d2::HandleEvent for ConnectWatch {
    fn handle_acquire(&self, _: r2d2::event::AcquireEvent) {
        self.last.lock().take();
    }

    fn handle_checkout(&self, _: r2d2::event::CheckoutEvent) {
        self.last.lock().take();
    }
}
