//! Session locks: acquisition modes, stale takeover, heartbeats, theft,
//! release, bad input, and races between threads and between processes.
//!
//! Every test here runs with a 100 ms heartbeat and a 30 s stale timeout
//! (the settings are process-wide, so all tests set the same values).

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agentsession::{configure, CreateOptions, Error, LockInfo, LockState, LockStatus, Store};
use serde_json::{json, Value};

const FIXTURE03: &str = "20260201-121000-fixture03-locked";

fn setup() {
    configure(Duration::from_millis(100), Duration::from_secs(30)).unwrap();
}

fn new_store() -> (tempfile::TempDir, Store) {
    setup();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("sessions")).unwrap();
    (tmp, store)
}

fn create(store: &Store, id: &str) {
    store
        .create(&CreateOptions {
            session_id: Some(id.to_string()),
            acp_server: "agent".into(),
            working_dir: "/tmp".into(),
            ..Default::default()
        })
        .unwrap();
}

fn lock_path(store: &Store, id: &str) -> PathBuf {
    store.base_dir().unwrap().join(id).join(".lock")
}

fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// A pid no process can have (above the kernel's pid limit).
const DEAD_PID: i64 = 2_147_483_000;

/// Writes a `.lock` as another holder would.
fn stage_lock(
    store: &Store,
    id: &str,
    pid: i64,
    host: &str,
    heartbeat_age: Duration,
    status: &str,
) {
    let hb = chrono::Utc::now() - chrono::Duration::from_std(heartbeat_age).unwrap();
    let hb = hb.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let v = json!({
        "pid": pid, "hostname": host, "instance_id": "00112233aabbccdd",
        "client_type": "other", "started_at": hb, "heartbeat": hb,
        "last_activity": hb, "status": status, "status_message": "busy here",
    });
    replace_file(
        &lock_path(store, id),
        &serde_json::to_vec_pretty(&v).unwrap(),
    );
}

/// Replaces a file atomically, as any writer of the format does.
fn replace_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("test-tmp");
    fs::write(&tmp, bytes).unwrap();
    fs::rename(&tmp, path).unwrap();
}

fn file_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn fixture03_lock_reads_back_and_is_stale() {
    setup();
    let (_t, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let path = lock_path(&store, FIXTURE03);
    let original = fs::read(&path).unwrap();

    let info = store.lock_info(FIXTURE03).unwrap().unwrap();
    assert_eq!(info.pid, 12968);
    assert_eq!(info.hostname, "fixture-host");
    assert_eq!(info.instance_id, "9737c94e028d7cf9");
    assert_eq!(info.client_type, "web");
    assert_eq!(info.status, LockStatus::Processing);
    assert_eq!(info.status_message, "Running tool: go test ./...");
    assert_eq!(info.heartbeat, "2026-11-24T11:38:32.862101005Z");
    assert!(info.extra.is_empty());
    // Our writer produces the reference's bytes exactly.
    assert_eq!(info.to_json(), original);

    assert!(!store.is_locked(FIXTURE03).unwrap());
    let check = store.check_lock_status(FIXTURE03).unwrap();
    assert_eq!(check.state, LockState::Stale);
    assert!(check.can_resume && check.can_force && check.can_interrupt);
    assert_eq!(check.holder.as_ref(), Some(&info));
    assert!(
        check
            .message
            .contains("locked by pid 12968 on host fixture-host as client web since 2026-11-24T11:38:32.862101005Z"),
        "{}",
        check.message
    );
    assert!(
        check.message.contains("stale (no heartbeat for "),
        "{}",
        check.message
    );

    // A plain acquisition takes the stale lock over.
    let lock = store.try_acquire_lock(FIXTURE03, "cli").unwrap();
    let written = file_json(&path);
    let keys: Vec<&str> = written
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "pid",
            "hostname",
            "instance_id",
            "client_type",
            "started_at",
            "heartbeat",
            "last_activity",
            "status"
        ],
        "reference field order, status_message omitted when empty"
    );
    assert_eq!(written["pid"], json!(std::process::id()));
    assert_eq!(written["hostname"], json!(hostname()));
    assert_eq!(written["client_type"], json!("cli"));
    assert_eq!(written["status"], json!("idle"));
    let id = lock.instance_id();
    assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) && id != info.instance_id);
    assert_eq!(written["instance_id"], json!(id));
    assert!(store.is_locked(FIXTURE03).unwrap());
    lock.release().unwrap();
    assert!(!path.exists());
    // The rest of the fixture session is untouched.
    assert_eq!(store.events(FIXTURE03, 0).unwrap().events.len(), 4);
}

#[test]
fn acquisition_modes() {
    let (_t, store) = new_store();
    create(&store, "s");
    let a = store.try_acquire_lock("s", "web").unwrap();
    let check = store.check_lock_status("s").unwrap();
    assert_eq!(check.state, LockState::Idle);
    assert!(!check.can_resume && check.can_force && check.can_interrupt);
    let me = std::process::id();
    assert!(
        check.message.contains(&format!(
            "locked by pid {me} on host {} as client web since",
            hostname()
        )),
        "{}",
        check.message
    );

    match store.try_acquire_lock("s", "cli") {
        Err(Error::SessionLocked { session_id, detail }) => {
            assert_eq!(session_id, "s");
            assert!(
                detail.contains(&format!("pid {me}")) && detail.contains("client web"),
                "{detail}"
            );
        }
        other => panic!("expected SessionLocked, got {other:?}"),
    }

    // Force takes an idle lock; the old holder loses it.
    let b = store.force_acquire_lock("s", "cli").unwrap();
    assert!(!a.is_valid());
    assert!(matches!(a.set_idle(), Err(Error::LockNotHeld(_))));
    assert!(b.is_valid());

    // Force is refused while processing or waiting for permission.
    b.set_processing("Running tool: cargo test").unwrap();
    let check = store.check_lock_status("s").unwrap();
    assert_eq!(check.state, LockState::Processing);
    assert!(!check.can_resume && !check.can_force && check.can_interrupt);
    assert!(
        check
            .message
            .contains("is processing (Running tool: cargo test); it can only be interrupted"),
        "{}",
        check.message
    );
    assert!(matches!(
        store.force_acquire_lock("s", "x"),
        Err(Error::SessionProcessing { .. })
    ));
    assert!(matches!(
        store.try_acquire_lock("s", "x"),
        Err(Error::SessionLocked { .. })
    ));

    b.set_waiting_permission("Allow write to main.rs?").unwrap();
    assert_eq!(
        store.check_lock_status("s").unwrap().state,
        LockState::WaitingForPermission
    );
    assert!(matches!(
        store.force_acquire_lock("s", "x"),
        Err(Error::WaitingForPermission { .. })
    ));
    let on_disk = store.lock_info("s").unwrap().unwrap();
    assert_eq!(on_disk.status, LockStatus::WaitingForPermission);
    assert_eq!(on_disk.status_message, "Allow write to main.rs?");
    assert_eq!(on_disk, b.info());

    // A status this library does not know: only an interrupt takes it.
    create(&store, "o");
    stage_lock(&store, "o", 1, &hostname(), Duration::ZERO, "compacting");
    let check = store.check_lock_status("o").unwrap();
    assert_eq!(check.state, LockState::OtherStatus);
    assert!(!check.can_force && check.can_interrupt);
    assert!(matches!(
        store.force_acquire_lock("o", "x"),
        Err(Error::SessionLocked { .. })
    ));
    store.force_interrupt_lock("o", "x").unwrap();

    // Interrupt takes it whatever the holder does; the holder sees it at once.
    let fired = Arc::new(AtomicUsize::new(0));
    let f = fired.clone();
    b.on_stolen(move || {
        f.fetch_add(1, Ordering::SeqCst);
    });
    let c = store.force_interrupt_lock("s", "cli").unwrap();
    assert!(!b.is_valid());
    assert!(!b.is_valid());
    assert!(matches!(
        b.set_processing("again"),
        Err(Error::LockNotHeld(_))
    ));
    std::thread::sleep(Duration::from_millis(300)); // heartbeats pass too
    assert_eq!(
        fired.load(Ordering::SeqCst),
        1,
        "callback runs exactly once"
    );
    // Releasing a stolen handle leaves the thief's file alone.
    b.release().unwrap();
    drop(b);
    assert_eq!(
        store.lock_info("s").unwrap().unwrap().instance_id,
        c.instance_id()
    );
    assert!(c.is_valid());
    c.set_idle().unwrap();
    assert!(!file_json(&lock_path(&store, "s"))
        .as_object()
        .unwrap()
        .contains_key("status_message"));
}

#[test]
fn heartbeat_detects_theft_and_runs_callback_on_its_thread() {
    let (_t, store) = new_store();
    create(&store, "s");
    let a = store.try_acquire_lock("s", "web").unwrap();
    let (tx, rx) = mpsc::channel();
    a.on_stolen(move || {
        tx.send(std::thread::current().name().map(str::to_string))
            .unwrap();
    });
    // Another handle of the store (another client) interrupts.
    let other = Store::open(store.base_dir().unwrap()).unwrap();
    let _b = other.force_interrupt_lock("s", "cli").unwrap();
    let thread = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("callback fired by the heartbeat");
    assert_eq!(thread.as_deref(), Some("ags-heartbeat"));
    assert!(!a.is_valid());
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "fired once"
    );
    // A callback registered after the theft was seen runs at once.
    let (tx2, rx2) = mpsc::channel();
    a.on_stolen(move || tx2.send(()).unwrap());
    rx2.try_recv().unwrap();
}

#[test]
fn stale_takeover_by_dead_pid_and_by_old_heartbeat() {
    let (_t, store) = new_store();
    let host = hostname();
    let fresh = Duration::ZERO;
    let old = Duration::from_secs(3600);

    // Same host, dead pid, fresh heartbeat, even processing: taken over.
    create(&store, "dead");
    stage_lock(&store, "dead", DEAD_PID, &host, fresh, "processing");
    let check = store.check_lock_status("dead").unwrap();
    assert_eq!(check.state, LockState::Dead);
    assert!(check.can_resume);
    assert!(
        check.message.contains("no longer running"),
        "{}",
        check.message
    );
    assert!(!store.is_locked("dead").unwrap());
    let l = store.try_acquire_lock("dead", "cli").unwrap();
    assert_eq!(
        store.lock_info("dead").unwrap().unwrap().instance_id,
        l.instance_id()
    );

    // Live pid (init) on this host, heartbeat an hour old: stale.
    create(&store, "old");
    stage_lock(&store, "old", 1, &host, old, "processing");
    assert_eq!(
        store.check_lock_status("old").unwrap().state,
        LockState::Stale
    );
    let l2 = store.try_acquire_lock("old", "cli").unwrap();
    assert!(l2.is_valid());

    // Live pid, fresh heartbeat: held.
    create(&store, "live");
    stage_lock(&store, "live", 1, &host, fresh, "processing");
    assert!(store.is_locked("live").unwrap());
    assert!(matches!(
        store.try_acquire_lock("live", "cli"),
        Err(Error::SessionLocked { .. })
    ));
    assert!(matches!(
        store.force_acquire_lock("live", "cli"),
        Err(Error::SessionProcessing { .. })
    ));

    // Another host: its pids cannot be checked, only its heartbeat.
    create(&store, "remote");
    stage_lock(&store, "remote", DEAD_PID, "some-other-host", fresh, "idle");
    assert_eq!(
        store.check_lock_status("remote").unwrap().state,
        LockState::Idle
    );
    assert!(matches!(
        store.try_acquire_lock("remote", "cli"),
        Err(Error::SessionLocked { .. })
    ));
    stage_lock(&store, "remote", DEAD_PID, "some-other-host", old, "idle");
    store.try_acquire_lock("remote", "cli").unwrap();

    // This very process's pid, but an instance no handle here holds: left
    // behind (a leaked handle, or an earlier process with the same pid).
    create(&store, "orphan");
    stage_lock(
        &store,
        "orphan",
        i64::from(std::process::id()),
        &host,
        fresh,
        "idle",
    );
    assert_eq!(
        store.check_lock_status("orphan").unwrap().state,
        LockState::Dead
    );
    store.try_acquire_lock("orphan", "cli").unwrap();
}

#[test]
fn garbage_lock_files_are_stale_never_a_panic() {
    let (_t, store) = new_store();
    create(&store, "g");
    let contents: [&[u8]; 6] = [
        b"",
        b"not json {",
        b"[1, 2]",
        b"{\"pid\": \"twelve\"}",
        b"\xff\xfe\x00",
        b"{\"pid\": 1, \"status\": 7}",
    ];
    for bytes in contents {
        fs::write(lock_path(&store, "g"), bytes).unwrap();
        match store.lock_info("g") {
            Err(Error::CorruptData { path, .. }) => assert_eq!(path, lock_path(&store, "g")),
            other => panic!("{bytes:?}: expected CorruptData, got {other:?}"),
        }
        assert!(!store.is_locked("g").unwrap());
        let check = store.check_lock_status("g").unwrap();
        assert_eq!(check.state, LockState::Corrupt, "{bytes:?}");
        assert!(check.can_resume && check.holder.is_none());
        assert!(check.message.contains("unreadable"), "{}", check.message);
        let l = store.try_acquire_lock("g", "cli").unwrap();
        assert_eq!(
            store.lock_info("g").unwrap().unwrap().instance_id,
            l.instance_id()
        );
        l.release().unwrap();
    }
    // An empty object is a lock with nothing known: zero heartbeat, so stale.
    fs::write(lock_path(&store, "g"), b"{}").unwrap();
    assert_eq!(
        store.check_lock_status("g").unwrap().state,
        LockState::Stale
    );
    store.try_acquire_lock("g", "cli").unwrap();
}

#[test]
fn heartbeat_advances_atomically_and_keeps_unknown_fields() {
    let (_t, store) = new_store();
    create(&store, "h");
    let lock = store.try_acquire_lock("h", "web").unwrap();
    lock.set_processing("thinking").unwrap();
    let path = lock_path(&store, "h");
    let first = store.lock_info("h").unwrap().unwrap();

    // A newer writer added a field to our file: kept across rewrites.
    let mut v = file_json(&path);
    v["pinned_by"] = json!({"user": "ana"});
    replace_file(&path, &serde_json::to_vec_pretty(&v).unwrap());

    // Meanwhile a reader keeps reading: always a whole, parseable file.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let bytes = fs::read(&path).unwrap();
                LockInfo::from_slice(&bytes).unwrap();
                reads += 1;
            }
            reads
        })
    };
    let mut beats = Vec::new();
    wait_for("three heartbeats", Duration::from_secs(5), || {
        let hb = store.lock_info("h").unwrap().unwrap().heartbeat;
        if beats.last() != Some(&hb) {
            beats.push(hb);
        }
        beats.len() >= 4
    });
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    let times: Vec<_> = beats
        .iter()
        .map(|b| agentsession::timefmt::parse(b).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{beats:?}");

    let now = store.lock_info("h").unwrap().unwrap();
    assert_eq!(now.extra.get("pinned_by"), Some(&json!({"user": "ana"})));
    assert_eq!(
        (now.started_at.as_str(), now.status_message.as_str()),
        (first.started_at.as_str(), "thinking")
    );
    assert_eq!(now.instance_id, lock.instance_id());
    assert!(lock.is_valid());
    // Only the lock's own files are in the directory (no temp files left).
    let mut names: Vec<String> = fs::read_dir(store.base_dir().unwrap().join("h"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".lock",
            ".lock.guard",
            ".lock.next",
            "events.jsonl",
            "metadata.json"
        ]
    );
    lock.release().unwrap();
    assert!(!path.exists() && !store.base_dir().unwrap().join("h/.lock.next").exists());
}

#[test]
fn release_twice_drop_and_reacquire() {
    let (_t, store) = new_store();
    create(&store, "r");
    let lock = store.try_acquire_lock("r", "web").unwrap();
    assert_eq!(lock.session_id(), "r");
    lock.release().unwrap();
    lock.release().unwrap();
    assert!(!lock.is_valid());
    assert!(matches!(lock.set_idle(), Err(Error::LockNotHeld(_))));
    assert_eq!(store.lock_info("r").unwrap(), None);
    assert_eq!(
        store.check_lock_status("r").unwrap().state,
        LockState::Unlocked
    );
    {
        let _held = store.try_acquire_lock("r", "web").unwrap();
        assert!(store.is_locked("r").unwrap());
    }
    assert!(
        !store.is_locked("r").unwrap(),
        "dropping a held lock releases it"
    );
    let again = store.try_acquire_lock("r", "web").unwrap();
    assert!(again.is_valid());
}

#[test]
fn bad_input() {
    let (_t, store) = new_store();
    for bad in ["", ".", "..", "a/b", "../x", "a\0b", ".lock"] {
        for r in [
            store.try_acquire_lock(bad, "c").map(drop),
            store.force_acquire_lock(bad, "c").map(drop),
            store.force_interrupt_lock(bad, "c").map(drop),
            store.lock_info(bad).map(drop),
            store.is_locked(bad).map(drop),
            store.check_lock_status(bad).map(drop),
        ] {
            assert!(
                matches!(r, Err(Error::InvalidArgument(_))),
                "{bad:?}: {r:?}"
            );
        }
    }
    for r in [
        store.try_acquire_lock("missing", "c").map(drop),
        store.lock_info("missing").map(drop),
        store.is_locked("missing").map(drop),
        store.check_lock_status("missing").map(drop),
    ] {
        assert!(matches!(r, Err(Error::SessionNotFound(_))), "{r:?}");
    }
    let before = agentsession::runtime::settings();
    for (i, s) in [
        (0, 60_000),
        (5, 60_000),
        (1000, 1500),
        (7_200_000, 86_400_000),
    ] {
        let r = configure(Duration::from_millis(i), Duration::from_millis(s));
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{i} {s}");
    }
    assert_eq!(agentsession::runtime::settings(), before);
    store.close().unwrap();
    assert!(matches!(
        store.try_acquire_lock("x", "c"),
        Err(Error::StoreClosed)
    ));
}

#[test]
fn threads_race_for_one_session() {
    let (_t, store) = new_store();
    const THREADS: usize = 8;
    const ROUNDS: usize = 30;
    for round in 0..ROUNDS {
        let id = format!("t{round}");
        create(&store, &id);
        if round % 2 == 1 {
            stage_lock(
                &store,
                &id,
                DEAD_PID,
                &hostname(),
                Duration::ZERO,
                "processing",
            );
        }
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (store, id, barrier) = (store.clone(), id.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    store.try_acquire_lock(&id, "t")
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {results:?}");
        assert!(results
            .iter()
            .all(|r| matches!(r, Ok(_) | Err(Error::SessionLocked { .. }))));
    }
}

/// Child side of `processes_race_for_one_session`: answers `go <id> <start ns>`
/// by trying to acquire at that wall-clock instant, `release` by dropping
/// what it holds.
#[test]
#[ignore = "child process entry point of processes_race_for_one_session"]
fn race_child() {
    let store = Store::open(std::env::var("AGS_BASE").unwrap()).unwrap();
    let mut held = Vec::new();
    let mut out = std::io::stdout();
    // A line of our own: libtest's "test race_child ... " has no newline.
    writeln!(out, "\nREADY").unwrap();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["go", id, start] => {
                let start = UNIX_EPOCH + Duration::from_nanos(start.parse().unwrap());
                if let Ok(wait) = start.duration_since(SystemTime::now()) {
                    std::thread::sleep(wait.saturating_sub(Duration::from_micros(300)));
                }
                while SystemTime::now() < start {
                    std::hint::spin_loop();
                }
                match store.try_acquire_lock(id, "race") {
                    Ok(lock) => {
                        held.push(lock);
                        writeln!(out, "WON").unwrap();
                    }
                    Err(Error::SessionLocked { .. }) => writeln!(out, "LOST").unwrap(),
                    Err(e) => writeln!(out, "ERR {e}").unwrap(),
                }
            }
            ["release"] => {
                held.clear();
                writeln!(out, "RELEASED").unwrap();
            }
            _ => break,
        }
        out.flush().unwrap();
    }
}

struct Racer {
    child: std::process::Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
}

/// Forwards a child's output lines to a channel, so reads can time out.
fn line_channel(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    rx
}

impl Racer {
    fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next protocol line (libtest's own output is skipped).
    fn reply(&mut self) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .expect("child answers");
            if ["READY", "WON", "LOST", "RELEASED"].contains(&line.as_str())
                || line.starts_with("ERR ")
            {
                return line;
            }
        }
    }
}

#[test]
fn processes_race_for_one_session() {
    let (_t, store) = new_store();
    const PROCS: usize = 8;
    const ROUNDS: usize = 60;
    let base = store.base_dir().unwrap().to_string_lossy().into_owned();
    let mut racers: Vec<Racer> = (0..PROCS)
        .map(|_| {
            let mut child = common::spawn_child("race_child", &[("AGS_BASE", base.clone())]);
            let stdin = child.stdin.take().unwrap();
            let lines = line_channel(child.stdout.take().unwrap());
            Racer {
                child,
                stdin,
                lines,
            }
        })
        .collect();
    for r in &mut racers {
        assert_eq!(r.reply(), "READY");
    }
    let kinds = ["free", "dead pid", "old heartbeat"];
    let mut wins_by_kind = [0usize; 3];
    let mut losses = 0;
    for round in 0..ROUNDS {
        let id = format!("p{round}");
        create(&store, &id);
        let kind = round % 3;
        match kind {
            1 => stage_lock(
                &store,
                &id,
                DEAD_PID,
                &hostname(),
                Duration::ZERO,
                "processing",
            ),
            2 => stage_lock(
                &store,
                &id,
                1,
                "elsewhere",
                Duration::from_secs(600),
                "processing",
            ),
            _ => {}
        }
        let start = SystemTime::now() + Duration::from_millis(25);
        let start_ns = start.duration_since(UNIX_EPOCH).unwrap().as_nanos();
        for r in &mut racers {
            r.send(&format!("go {id} {start_ns}"));
        }
        let replies: Vec<String> = racers.iter_mut().map(Racer::reply).collect();
        let winners: Vec<usize> = (0..PROCS).filter(|&i| replies[i] == "WON").collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round} ({}): {replies:?}",
            kinds[kind]
        );
        assert!(
            replies.iter().all(|r| r == "WON" || r == "LOST"),
            "{replies:?}"
        );
        let holder = store.lock_info(&id).unwrap().unwrap();
        assert_eq!(
            holder.pid,
            i64::from(racers[winners[0]].child.id()),
            "the file names the winner"
        );
        wins_by_kind[kind] += 1;
        losses += PROCS - 1;
        for r in &mut racers {
            r.send("release");
        }
        for r in &mut racers {
            assert_eq!(r.reply(), "RELEASED");
        }
        assert_eq!(store.lock_info(&id).unwrap(), None, "the winner released");
    }
    for mut r in racers {
        r.send("exit");
        drop(r.stdin);
        assert!(r.child.wait().unwrap().success());
    }
    println!(
        "process race: {PROCS} processes x {ROUNDS} rounds: exactly one winner per round \
         (free {}, dead pid {}, old heartbeat {}), {losses} refusals",
        wins_by_kind[0], wins_by_kind[1], wins_by_kind[2]
    );
}

/// Child side of `signal_opt_in_releases_locks_then_terminates`.
#[test]
#[ignore = "child process entry point of signal_opt_in_releases_locks_then_terminates"]
fn signal_child() {
    let store = Store::open(std::env::var("AGS_BASE").unwrap()).unwrap();
    let _lock = store.try_acquire_lock("sig", "cli").unwrap();
    // The host catches SIGHUP itself: the opt-in must leave it alone.
    let hup = Arc::new(std::sync::atomic::AtomicBool::new(false));
    signal_hook::flag::register(libc::SIGHUP, hup).unwrap();
    let handled = agentsession::release_locks_on_signals().unwrap();
    assert_eq!(agentsession::release_locks_on_signals().unwrap(), handled);
    println!("\nHANDLED {handled:?}");
    println!("READY");
    std::thread::sleep(Duration::from_secs(20));
}

#[test]
fn signal_opt_in_releases_locks_then_terminates() {
    use std::os::unix::process::ExitStatusExt;
    let (_t, store) = new_store();
    create(&store, "sig");
    let base = store.base_dir().unwrap().to_string_lossy().into_owned();
    let mut child = common::spawn_child("signal_child", &[("AGS_BASE", base)]);
    let lines = line_channel(child.stdout.take().unwrap());
    let mut handled = String::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("child ready");
        if let Some(h) = line.strip_prefix("HANDLED ") {
            handled = h.to_string();
        }
        if line == "READY" {
            break;
        }
    }
    let handled: Vec<i32> = handled
        .trim_matches(['[', ']'])
        .split(", ")
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(handled.contains(&libc::SIGTERM), "{handled:?}");
    assert!(
        !handled.contains(&libc::SIGHUP),
        "the host's SIGHUP handler stays: {handled:?}"
    );
    assert!(store.is_locked("sig").unwrap());
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert_eq!(
        store.lock_info("sig").unwrap(),
        None,
        "released before dying"
    );
}
