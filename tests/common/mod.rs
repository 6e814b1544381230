//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use agentsession::event::types;
use agentsession::{CreateOptions, NewEvent, Store};
use serde_json::json;

pub mod netns;
pub mod pg;

/// Creates session `id` (agent "agent", working dir "/w").
pub fn create(store: &Store, id: &str) {
    store
        .create(&CreateOptions {
            session_id: Some(id.into()),
            acp_server: "agent".into(),
            working_dir: "/w".into(),
            ..Default::default()
        })
        .unwrap();
}

/// An `agent_message` event with `text`.
pub fn msg(text: &str) -> NewEvent {
    NewEvent::new(types::AGENT_MESSAGE, json!({ "text": text }))
}

/// The fixture store written by the reference implementation.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures")
}

/// Copies a directory tree, making the copies writable (fixtures are read-only).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
        let mut perms = fs::metadata(&dest).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        fs::set_permissions(&dest, perms).unwrap();
    }
}

/// A writable copy of the fixture store in a temp dir.
pub fn fixture_store_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("sessions");
    copy_tree(&fixtures_dir().join("mitto-sessions"), &base);
    (tmp, base)
}

/// Runs this test binary again as a child that executes the ignored test
/// `entry`, with `envs` set; returns the child (stdin and stdout piped).
pub fn spawn_child(entry: &str, envs: &[(&str, String)]) -> std::process::Child {
    spawn_child_in(None, entry, envs)
}

/// [`spawn_child`], in the network namespace `netns` when given
/// (`ip netns exec`).
pub fn spawn_child_in(
    netns: Option<&str>,
    entry: &str,
    envs: &[(&str, String)],
) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = match netns {
        Some(netns) => {
            let mut cmd = std::process::Command::new("ip");
            cmd.args(["netns", "exec", netns]).arg(exe);
            cmd
        }
        None => std::process::Command::new(exe),
    };
    cmd.args([
        "--ignored",
        "--exact",
        entry,
        "--nocapture",
        "--test-threads=1",
    ]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.stdin(std::process::Stdio::piped());
    cmd.stdout(std::process::Stdio::piped());
    cmd.spawn().unwrap()
}

/// The numbers a child printed after `tag` (e.g. `SEQ 12`); the tag may
/// follow other output on the same line (the test harness prints without a newline).
pub fn tagged_numbers(output: &str, tag: &str) -> Vec<u64> {
    tagged_words(output, tag)
        .map(|word| word.parse().unwrap())
        .collect()
}

/// What a child printed after `tag`, up to the end of each such line.
pub fn tagged_words<'a>(output: &'a str, tag: &'a str) -> impl Iterator<Item = &'a str> {
    output
        .lines()
        .filter_map(move |l| l.split(tag).nth(1))
        .map(str::trim)
}

/// In a child process: says it is ready (a file in `dir`), then waits until
/// the parent lets the children go (30 s at most), so that they really run at
/// the same time.
pub fn child_ready_wait_go(dir: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    fs::write(dir.join(format!("ready-{}", std::process::id())), b"").unwrap();
    while !dir.join("go").exists() {
        assert!(std::time::Instant::now() < deadline, "never told to go");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// How many files in `dir` have names starting with `prefix` (the marks
/// processes leave there).
pub fn count_marks(dir: &Path, prefix: &str) -> usize {
    fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(prefix)
        })
        .count()
}

/// In the parent: waits until `n` children are ready (30 s at most), then lets them go.
pub fn release_children(dir: &Path, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let ready = count_marks(dir, "ready-");
        if ready >= n {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {ready} of {n} children started"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    fs::write(dir.join("go"), b"").unwrap();
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One of the ACP test peers of tests/peers/ (real agents on the official SDKs).
#[derive(Debug, Clone, Copy)]
pub enum Peer {
    /// The agent on the Python SDK.
    Python,
    /// The agent on the TypeScript SDK.
    Ts,
}

impl Peer {
    /// The command line of the peer with extra flags, or `None` (with a note
    /// on stderr) when `tests/peers/setup.sh` has not been run.
    pub fn command(self, flags: &[&str]) -> Option<String> {
        let peers = repo_root().join("tests/peers");
        let (ready, argv) = match self {
            Peer::Python => {
                let python = peers.join(".venv/bin/python");
                (python.exists(), vec![python, peers.join("python/agent.py")])
            }
            Peer::Ts => {
                let sdk = peers.join("ts/node_modules/@agentclientprotocol/sdk/package.json");
                (
                    sdk.exists(),
                    vec![PathBuf::from("node"), peers.join("ts/agent.mjs")],
                )
            }
        };
        if !ready {
            // The project's test command sets AGS_REQUIRE_PEERS: there, a
            // missing peer is a failure, never a skip.
            assert!(
                std::env::var_os("AGS_REQUIRE_PEERS").is_none(),
                "ACP test peers not installed; run `bash tests/peers/setup.sh`"
            );
            eprintln!("SKIPPED: ACP test peers not installed; run `bash tests/peers/setup.sh`");
            return None;
        }
        let mut words: Vec<String> = argv.iter().map(|p| p.display().to_string()).collect();
        words.extend(flags.iter().map(|f| f.to_string()));
        Some(shell_words::join(words))
    }
}

/// The variable `name` of the PostgreSQL test server (`scripts/pg.sh`), or
/// `None` with a note when it is not set; a failure when `AGS_REQUIRE_PG=1`.
pub fn pg_var(name: &str) -> Option<String> {
    let value = std::env::var(name).ok().filter(|v| !v.is_empty());
    if value.is_none() {
        assert!(
            std::env::var("AGS_REQUIRE_PG").as_deref() != Ok("1"),
            "AGS_REQUIRE_PG=1 but {name} is not set: eval \"$(bash scripts/pg.sh start)\""
        );
        eprintln!("SKIPPED: {name} not set; eval \"$(bash scripts/pg.sh start)\"");
    }
    value
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let query = url.find('?').unwrap_or(url.len());
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let path = url[after_scheme..query]
        .find('/')
        .map_or(query, |i| after_scheme + i);
    format!("{}/{name}{}", &url[..path], &url[query..])
}

/// A new empty database on the PostgreSQL server, dropped with this value.
pub struct FreshDatabase {
    admin_url: String,
    name: String,
}

impl FreshDatabase {
    /// Creates database `<prefix>_<pid>_<n>` through `admin_url` (a role
    /// that may create databases).
    pub fn new(admin_url: &str, prefix: &str) -> FreshDatabase {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{prefix}_{}_{n}", std::process::id());
        postgres::Client::connect(admin_url, postgres::NoTls)
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        FreshDatabase {
            admin_url: admin_url.to_string(),
            name,
        }
    }

    /// The database's URL, reached like `url`.
    pub fn url(&self, url: &str) -> String {
        with_database(url, &self.name)
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
