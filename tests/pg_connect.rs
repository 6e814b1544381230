//! Connecting to PostgreSQL: URLs, refused and denied connections, the
//! schema applied once by concurrent openers, reconnection after a server
//! restart. The server is the one of `scripts/pg.sh` (its `AGS_PG_*`
//! variables); without them the tests that need it are skipped, unless
//! `AGS_REQUIRE_PG=1`.

mod common;

use std::io::ErrorKind;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use agentsession::{Error, Pg};
use common::pg::{Server, StartOnDrop, SERVER};
use common::FreshDatabase;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};

/// Asserts that neither the Display nor the Debug form of `e`, nor of its
/// sources, holds `secret`.
fn assert_hidden(e: &Error, secret: &str) {
    let mut texts = vec![e.to_string(), format!("{e:?}")];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        texts.push(s.to_string());
        texts.push(format!("{s:?}"));
        source = s.source();
    }
    for t in texts {
        assert!(!t.contains(secret), "password shown in {t:?}");
    }
}

/// The I/O error of an [`Error::Io`].
fn io_source(e: &Error) -> &std::io::Error {
    match e {
        Error::Io { source, .. } => source,
        other => panic!("not an I/O error: {other:?}"),
    }
}

/// The schema versions recorded in the database at `url`.
fn schema_versions(url: &str) -> Vec<i32> {
    let mut c = Client::connect(url, NoTls).unwrap();
    c.query(
        "SELECT version FROM ags_schema_version ORDER BY version",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[test]
fn malformed_urls_are_invalid_arguments_without_the_password() {
    for (url, problem) in [
        ("/var/lib/sessions", "must start with postgres://"),
        ("host=h user=u password=pw1", "must start with postgres://"),
        ("mysql://u:pw1@h/d", "must start with postgres://"),
        ("postgresql://u:pw1@h:notaport/d", "port"),
        ("postgresql://u:pw1@h:99999/d", "port"),
        (
            "postgresql://u:pw1@h/d?connect_timeout=soon",
            "connect_timeout",
        ),
        ("postgresql://u:pw1@h/d?frobnicate=1", "frobnicate"),
        ("postgresql://u:pw1@/d", "no host"),
        ("postgresql://u:pw1@h/d?sslmode=require", "TLS"),
        ("postgres://u:pw1@[::1/d", ""),
        ("postgres://u:pw1@h/d?keepalives", ""),
    ] {
        let e = Pg::open(url).unwrap_err();
        let Error::InvalidArgument(m) = &e else {
            panic!("{url}: {e:?}")
        };
        assert!(m.starts_with("invalid PostgreSQL URL: "), "{url}: {m}");
        assert!(m.contains(problem), "{url}: {m}");
        assert_hidden(&e, "pw1");
    }
}

#[test]
fn a_refused_port_fails_at_once_naming_host_and_port() {
    let (url, port) = common::pg::refused_url();
    let started = Instant::now();
    let e = Pg::open(&url).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(io_source(&e).kind(), ErrorKind::ConnectionRefused, "{e}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert_hidden(&e, "pw1");
}

#[test]
fn a_wrong_password_is_denied_without_showing_it() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let right = server.password();
    let wrong = format!("not-{right}");
    let e = Pg::open(&server.tcp.replacen(&right, &wrong, 1)).unwrap_err();
    assert_eq!(io_source(&e).kind(), ErrorKind::PermissionDenied, "{e}");
    assert!(
        e.to_string().contains("password authentication failed"),
        "{e}"
    );
    assert_hidden(&e, &wrong);
    assert_hidden(&e, &right);
}

#[test]
fn the_password_never_shows_in_pg_or_its_errors() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let password = server.password();
    let pg = Pg::open(&server.tcp).unwrap();
    assert!(pg.target().starts_with("postgresql://ags@127.0.0.1:"));
    assert!(!pg.target().contains(&password));
    assert!(!format!("{pg:?}").contains(&password));
    let e = pg
        .conn()
        .unwrap()
        .query("SELECT * FROM no_such_table", &[])
        .unwrap_err();
    let e = pg.pg_err(e);
    assert!(e.to_string().contains("no_such_table"), "{e}");
    assert!(e.to_string().contains(pg.target()), "{e}");
    assert_hidden(&e, &password);
}

#[test]
fn with_every_pooled_connection_busy_a_call_times_out() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::open(&format!("{}&connect_timeout=1", server.socket)).unwrap();
    let busy: Vec<_> = (0..8).map(|_| pg.conn().unwrap()).collect();
    let started = Instant::now();
    let Err(e) = pg.conn() else {
        panic!("a ninth connection from a pool of eight")
    };
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(io_source(&e).kind(), ErrorKind::TimedOut, "{e}");
    assert!(e.to_string().contains("busy"), "{e}");
    drop(busy);
    pg.conn().unwrap();
}

#[test]
fn migrations_apply_once_and_reopening_changes_nothing() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let db = FreshDatabase::new(&server.socket, "ags_test");
    let url = db.url(&server.socket);
    for _ in 0..3 {
        Pg::open(&url).unwrap();
    }
    let versions = schema_versions(&url);
    assert_eq!(versions, (1..=versions.len() as i32).collect::<Vec<_>>());
    let mut c = Client::connect(&url, NoTls).unwrap();
    let trgm: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(trgm, 1);
}

#[test]
fn a_newer_schema_is_refused() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let db = FreshDatabase::new(&server.socket, "ags_test");
    let url = db.url(&server.socket);
    Pg::open(&url).unwrap();
    Client::connect(&url, NoTls)
        .unwrap()
        .batch_execute("INSERT INTO ags_schema_version (version) VALUES (1000)")
        .unwrap();
    let e = Pg::open(&url).unwrap_err();
    assert!(matches!(e, Error::CorruptData { .. }), "{e:?}");
    assert!(
        e.to_string().contains("schema version 1000 is newer"),
        "{e}"
    );
}

#[test]
fn an_events_insert_notifies_once_per_session_with_its_last_seq() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let db = FreshDatabase::new(&server.socket, "ags_test");
    let url = db.url(&server.socket);
    let pg = Pg::open(&url).unwrap();
    let mut listener = Client::connect(&url, NoTls).unwrap();
    listener.batch_execute("LISTEN ags_events").unwrap();
    pg.conn()
        .unwrap()
        .batch_execute(
            "INSERT INTO sessions (session_id, metadata) VALUES ('a b', '{}'), ('c', '{}');
             INSERT INTO events (session_id, seq, line)
                 VALUES ('a b', 1, '{}'), ('a b', 2, '{}'), ('c', 1, '{}'), ('a b', 3, '{}');
             INSERT INTO events (session_id, seq, line) VALUES ('c', 2, '{}');",
        )
        .unwrap();
    let mut payloads: Vec<String> = listener
        .notifications()
        .timeout_iter(Duration::from_secs(2))
        .map(|n| Ok(n.payload().to_string()))
        .collect()
        .unwrap();
    payloads.sort();
    assert_eq!(payloads, ["a b 3", "c 1", "c 2"]);
}

/// In a child process: opens the database of `AGS_PG_CHILD_URL` when the
/// parent says go and prints how many sessions it holds.
#[test]
#[ignore = "run by concurrent_first_opens_apply_the_schema_once"]
fn child_open() {
    let Ok(url) = std::env::var("AGS_PG_CHILD_URL") else {
        return;
    };
    common::child_ready_wait_go(&PathBuf::from(std::env::var("AGS_PG_CHILD_DIR").unwrap()));
    let pg = Pg::open(&url).unwrap();
    let sessions: i64 = pg
        .conn()
        .unwrap()
        .query_one("SELECT count(*) FROM sessions", &[])
        .unwrap()
        .get(0);
    println!("SESSIONS {sessions}");
}

#[test]
fn concurrent_first_opens_apply_the_schema_once() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let db = FreshDatabase::new(&server.socket, "ags_test");
    let url = db.url(&server.socket);
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            common::spawn_child(
                "child_open",
                &[
                    ("AGS_PG_CHILD_URL", url.clone()),
                    ("AGS_PG_CHILD_DIR", dir.path().display().to_string()),
                ],
            )
        })
        .collect();
    common::release_children(dir.path(), children.len());
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert_eq!(common::tagged_numbers(&stdout, "SESSIONS"), [0], "{stdout}");
    }
    let versions = schema_versions(&url);
    assert_eq!(versions, (1..=versions.len() as i32).collect::<Vec<_>>());
}

#[test]
fn after_a_server_restart_the_next_call_reconnects() {
    let Some(server) = Server::get() else { return };
    let _alone = SERVER.write();
    let _restart = StartOnDrop(&server);
    let password = server.password();
    let pg = Pg::open(&format!("{}?connect_timeout=2", server.tcp)).unwrap();
    let ping = |pg: &Pg| -> Result<i32, Error> {
        let row = pg
            .conn()?
            .query_one("SELECT 1", &[])
            .map_err(|e| pg.pg_err(e))?;
        Ok(row.get(0))
    };
    // Several idle pooled connections, plus one in use across the restart.
    let held: Vec<_> = (0..4).map(|_| pg.conn().unwrap()).collect();
    drop(held);
    let mut in_flight = pg.conn().unwrap();
    server.pg_ctl("-m fast -w restart");

    let e = pg.pg_err(in_flight.query_one("SELECT 1", &[]).unwrap_err());
    assert!(
        matches!(
            io_source(&e).kind(),
            ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
        ),
        "{e:?}"
    );
    assert_hidden(&e, &password);
    drop(in_flight);
    for _ in 0..10 {
        assert_eq!(ping(&pg).unwrap(), 1);
    }

    // With the server down, a call fails within the connect timeout, naming
    // the server; once it is back, calls work again.
    server.pg_ctl("-m fast -w stop");
    let started = Instant::now();
    let e = ping(&pg).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{e}");
    assert_eq!(io_source(&e).kind(), ErrorKind::ConnectionRefused, "{e}");
    let port = server
        .tcp
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert_hidden(&e, &password);
    server.pg_ctl("-w start");
    assert_eq!(ping(&pg).unwrap(), 1);
}
