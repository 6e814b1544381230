//! The PostgreSQL server of `scripts/pg.sh` for the tests: its URLs and
//! `pg_ctl` to stop and restart it. Without its `AGS_PG_*` variables the
//! tests that need it are skipped, unless `AGS_REQUIRE_PG=1`.

use std::process::{Command, Stdio};

use parking_lot::RwLock;

/// Held for reading by every test using the server, for writing by a test
/// that stops or restarts it.
pub static SERVER: RwLock<()> = RwLock::new(());

/// The server of `scripts/pg.sh`.
pub struct Server {
    /// Unix-socket URL, role `ags` without password.
    pub socket: String,
    /// TCP URL with the password of `ags`.
    pub tcp: String,
    /// `pg_ctl` on the cluster, as a shell command line.
    pub ctl: String,
}

impl Server {
    /// The server, or `None` with a note when `scripts/pg.sh` was not run.
    pub fn get() -> Option<Server> {
        Some(Server {
            socket: super::pg_var("AGS_PG_URL")?,
            tcp: super::pg_var("AGS_PG_URL_TCP")?,
            ctl: super::pg_var("AGS_PG_CTL")?,
        })
    }

    /// The password in the TCP URL.
    pub fn password(&self) -> String {
        let config: postgres::Config = self.tcp.parse().unwrap();
        String::from_utf8(config.get_password().unwrap().to_vec()).unwrap()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        let config: postgres::Config = self.tcp.parse().unwrap();
        config.get_ports()[0]
    }

    /// Runs `pg_ctl` with `args` (e.g. `-m fast -w restart`).
    pub fn pg_ctl(&self, args: &str) {
        let status = Command::new("sh")
            .args(["-c", &format!("{} {args}", self.ctl)])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {args}: {status}");
    }
}

/// Starts the server again if a test stopped it and then failed.
pub struct StartOnDrop<'a>(pub &'a Server);

impl Drop for StartOnDrop<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new("sh")
                .args(["-c", &format!("{} -w start", self.0.ctl)])
                .stdout(Stdio::null())
                .status();
        }
    }
}

/// A URL of a loopback port nobody listens on (with the password `pw1`),
/// and the port.
pub fn refused_url() -> (String, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    (
        format!("postgresql://ags:pw1@127.0.0.1:{port}/agentsession"),
        port,
    )
}
