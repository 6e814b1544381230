//! Queue behaviour: the reference's file, every operation and error, bad
//! files, and many handles, threads and processes at once.

mod common;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use agentsession::{CreateOptions, Error, MoveDirection, Queue, QueuedMessage, Store};
use serde_json::Value;

const FIXTURE03: &str = "20260201-121000-fixture03-locked";

fn new_store() -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("store")).unwrap();
    store
        .create(&CreateOptions {
            session_id: Some("s".into()),
            acp_server: "agent".into(),
            working_dir: "/w".into(),
            ..Default::default()
        })
        .unwrap();
    (tmp, store)
}

fn texts(msgs: &[QueuedMessage]) -> Vec<&str> {
    msgs.iter().map(|m| m.message.as_str()).collect()
}

fn file_json(q: &Queue) -> Value {
    serde_json::from_slice(&fs::read(q.path()).unwrap()).unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn reads_fixture03_in_stored_order() {
    let (_t, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let q = store.queue(FIXTURE03).unwrap();
    let msgs = q.list().unwrap();
    assert_eq!(
        texts(&msgs),
        [
            "Also update the README.",
            "Then commit with message \"refactor parser\".",
            "Here is the failing output, see the attached screenshots.",
        ]
    );
    assert_eq!(msgs[0].id, "q-1795520312-a1252d27");
    assert_eq!(msgs[0].client_id.as_deref(), Some("client-aaaa"));
    assert_eq!(msgs[0].title.as_deref(), Some("Update README"));
    assert!(msgs[0].image_ids.is_empty());
    assert_eq!(msgs[1].client_id, None);
    assert_eq!(msgs[1].title, None);
    assert_eq!(msgs[1].queued_at, "2026-11-24T11:38:32.864671783Z");
    assert_eq!(
        msgs[2].image_ids,
        ["img_001_196717cf.png", "img_002_ae0be274.png"]
    );
    let t = msgs[2].queued_at_time().unwrap();
    assert_eq!(t.timestamp_subsec_nanos(), 863_994_188);
    assert!(msgs.iter().all(|m| m.extra().is_empty()));
    assert_eq!(q.len().unwrap(), 3);
    assert!(!q.is_empty().unwrap());
    assert_eq!(q.get("q-1795520312-e596f308").unwrap(), msgs[1]);
    assert_eq!(q.pop().unwrap(), msgs[0]);
    assert_eq!(q.list().unwrap(), msgs[1..]);
}

#[test]
fn rewrite_keeps_the_reference_layout() {
    let (_t, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let q = store.queue(FIXTURE03).unwrap();
    let before = fs::read_to_string(q.path()).unwrap();
    // Setting a title to its current value rewrites the file unchanged but for updated_at.
    q.update_title("q-1795520312-a1252d27", "Update README")
        .unwrap();
    let after = fs::read_to_string(q.path()).unwrap();
    let strip = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.trim_start().starts_with("\"updated_at\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&after), strip(&before));
    assert_ne!(after, before, "updated_at is refreshed");
    assert!(after.ends_with("\n}") && after.starts_with("{\n  \"messages\": [\n    {\n"));
}

#[test]
fn unknown_fields_survive_changes() {
    let (_t, store) = new_store();
    let q = store.queue("s").unwrap();
    fs::write(
        q.path(),
        r#"{"messages":[{"id":"q-1-aaaaaaaa","message":"m","queued_at":"2026-01-01T00:00:00Z","priority":7,"title":""}],"updated_at":"2026-01-01T00:00:00Z","owner":{"x":1}}"#,
    )
    .unwrap();
    let m = &q.list().unwrap()[0];
    assert_eq!(m.title, None, "an empty title reads as none");
    assert_eq!(m.extra()["priority"], 7);
    q.add("second", &[], None, 0).unwrap();
    let v = file_json(&q);
    assert_eq!(keys(&v), ["messages", "updated_at", "owner"]);
    assert_eq!(v["owner"]["x"], 1);
    assert_eq!(
        keys(&v["messages"][0]),
        ["id", "message", "queued_at", "priority"]
    );
    assert_eq!(v["messages"][0]["priority"], 7);
    assert_ne!(v["updated_at"], "2026-01-01T00:00:00Z");
}

#[test]
fn add_list_get_pop_remove_clear() {
    let (_t, store) = new_store();
    let q = store.queue("s").unwrap();
    assert!(q.list().unwrap().is_empty(), "no file is an empty queue");
    assert!(q.is_empty().unwrap());
    assert!(!q.path().exists());
    let images = vec!["img_001_0a0b0c0d.png".to_string()];
    let a = q.add("first", &images, Some("web-1"), 0).unwrap();
    let b = q.add("second", &[], Some(""), 0).unwrap();
    let c = q.add("third", &[], None, 0).unwrap();
    assert_eq!(a.image_ids, images);
    assert_eq!(a.client_id.as_deref(), Some("web-1"));
    assert_eq!(b.client_id, None, "an empty client id is none");
    assert!(a.queued_at_time().is_some());
    // Another handle on another store sees the same queue.
    let other = Store::open(store.base_dir().unwrap())
        .unwrap()
        .queue("s")
        .unwrap();
    assert_eq!(texts(&other.list().unwrap()), ["first", "second", "third"]);
    assert_eq!(other.get(&b.id).unwrap(), b);
    assert_eq!(q.len().unwrap(), 3);
    assert_eq!(q.remove(&b.id).unwrap(), b);
    assert!(matches!(q.get(&b.id), Err(Error::MessageNotFound(id)) if id == b.id));
    assert_eq!(q.pop().unwrap(), a);
    assert_eq!(other.pop().unwrap(), c);
    assert!(matches!(q.pop(), Err(Error::QueueEmpty)));
    q.add("again", &[], None, 0).unwrap();
    q.clear().unwrap();
    assert!(q.is_empty().unwrap());
    assert_eq!(file_json(&q)["messages"], Value::Array(vec![]));
    q.clear().unwrap();
}

#[test]
fn ids_have_the_reference_shape_and_empty_fields_are_omitted() {
    let (_t, store) = new_store();
    let q = store.queue("s").unwrap();
    let m = q.add("plain", &[], None, 0).unwrap();
    let parts: Vec<&str> = m.id.splitn(3, '-').collect();
    assert_eq!(parts[0], "q");
    let secs: i64 = parts[1].parse().unwrap();
    assert!((secs - chrono::Utc::now().timestamp()).abs() < 60);
    assert_eq!(parts[2].len(), 8);
    assert!(parts[2].chars().all(|c| c.is_ascii_hexdigit()));
    let v = file_json(&q);
    assert_eq!(keys(&v), ["messages", "updated_at"]);
    assert_eq!(keys(&v["messages"][0]), ["id", "message", "queued_at"]);
    let raw = fs::read_to_string(q.path()).unwrap();
    assert!(raw.contains("\n  \"messages\": [\n    {\n      \"id\": "));
    let mode = fs::metadata(q.path()).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let ids: HashSet<String> = (0..50)
        .map(|_| q.add("x", &[], None, 0).unwrap().id)
        .collect();
    assert_eq!(ids.len(), 50);
}

#[test]
fn queue_full_at_max_size() {
    let (_t, store) = new_store();
    let q = store.queue("s").unwrap();
    for i in 0..3 {
        q.add(&format!("m{i}"), &[], None, 3).unwrap();
    }
    assert!(matches!(
        q.add("m3", &[], None, 3),
        Err(Error::QueueFull(3))
    ));
    assert_eq!(q.len().unwrap(), 3);
    q.add("unlimited", &[], None, 0).unwrap();
    assert!(matches!(
        q.add("m5", &[], None, 2),
        Err(Error::QueueFull(4))
    ));
}

#[test]
fn titles_and_moves() {
    let (_t, store) = new_store();
    let q = store.queue("s").unwrap();
    let ids: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|t| q.add(t, &[], None, 0).unwrap().id)
        .collect();
    let m = q.update_title(&ids[1], "Bee").unwrap();
    assert_eq!(m.title.as_deref(), Some("Bee"));
    assert_eq!(q.get(&ids[1]).unwrap().title.as_deref(), Some("Bee"));
    assert_eq!(file_json(&q)["messages"][1]["title"], "Bee");
    q.update_title(&ids[1], "").unwrap();
    assert_eq!(q.get(&ids[1]).unwrap().title, None);
    assert!(file_json(&q)["messages"][1].get("title").is_none());

    let order = q.move_message(&ids[2], MoveDirection::Up).unwrap();
    assert_eq!(texts(&order), ["a", "c", "b"]);
    assert_eq!(texts(&q.list().unwrap()), ["a", "c", "b"]);
    let order = q.move_message(&ids[0], "down".parse().unwrap()).unwrap();
    assert_eq!(texts(&order), ["c", "a", "b"]);
    // At the edges nothing moves and the file is not rewritten.
    let ino = fs::metadata(q.path()).unwrap().ino();
    assert_eq!(
        texts(&q.move_message(&ids[2], MoveDirection::Up).unwrap()),
        ["c", "a", "b"]
    );
    assert_eq!(
        texts(&q.move_message(&ids[1], MoveDirection::Down).unwrap()),
        ["c", "a", "b"]
    );
    assert_eq!(fs::metadata(q.path()).unwrap().ino(), ino);
    assert!(matches!(
        "sideways".parse::<MoveDirection>(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        q.move_message("q-0-00000000", MoveDirection::Up),
        Err(Error::MessageNotFound(_))
    ));
    assert!(matches!(
        q.update_title("q-0-00000000", "t"),
        Err(Error::MessageNotFound(_))
    ));
}

#[test]
fn bad_ids_missing_sessions_and_closed_stores() {
    let (_t, store) = new_store();
    for bad in ["", "..", "a/b", ".hidden"] {
        assert!(matches!(store.queue(bad), Err(Error::InvalidArgument(_))));
    }
    let q = store.queue("s").unwrap();
    for bad in ["", "../x", "a/b", "a\0b"] {
        assert!(
            matches!(q.get(bad), Err(Error::InvalidArgument(_))),
            "{bad:?}"
        );
        assert!(matches!(q.remove(bad), Err(Error::InvalidArgument(_))));
        assert!(matches!(
            q.update_title(bad, "t"),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            q.move_message(bad, MoveDirection::Up),
            Err(Error::InvalidArgument(_))
        ));
    }
    assert!(matches!(
        q.add("m", &["../etc/passwd".to_string()], None, 0),
        Err(Error::InvalidArgument(_))
    ));
    assert!(q.is_empty().unwrap(), "a refused add adds nothing");

    let ghost = store.queue("ghost").unwrap();
    assert!(matches!(ghost.list(), Err(Error::SessionNotFound(_))));
    assert!(matches!(
        ghost.add("m", &[], None, 0),
        Err(Error::SessionNotFound(_))
    ));
    assert!(matches!(ghost.pop(), Err(Error::SessionNotFound(_))));
    assert!(matches!(ghost.delete(), Err(Error::SessionNotFound(_))));
    assert!(!store.base_dir().unwrap().join("ghost").exists());

    store.close().unwrap();
    assert!(matches!(q.list(), Err(Error::StoreClosed)));
    assert!(matches!(q.add("m", &[], None, 0), Err(Error::StoreClosed)));
    assert!(matches!(store.queue("s"), Err(Error::StoreClosed)));
}

#[test]
fn corrupt_file_is_reported_and_never_overwritten() {
    let (_t, store) = new_store();
    let q = store.queue("s").unwrap();
    for bad in [
        &b"{\"messages\": [{\"id\": \"q-1-x\", "[..],
        b"",
        b"{\"messages\": 5}",
        b"[1, 2]",
        b"{\"messages\": [{\"message\": \"no id\", \"queued_at\": \"2026-01-01T00:00:00Z\"}]}",
    ] {
        fs::write(q.path(), bad).unwrap();
        let err = q.list().unwrap_err();
        match &err {
            Error::CorruptData { path, .. } => assert_eq!(path, q.path()),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("queue.json"), "{err}");
        assert!(matches!(
            q.add("m", &[], None, 0),
            Err(Error::CorruptData { .. })
        ));
        assert!(matches!(q.pop(), Err(Error::CorruptData { .. })));
        assert!(matches!(q.clear(), Err(Error::CorruptData { .. })));
        assert!(matches!(q.len(), Err(Error::CorruptData { .. })));
        assert_eq!(fs::read(q.path()).unwrap(), bad, "file untouched");
    }
    q.delete().unwrap();
    assert!(!q.path().exists());
    q.delete().unwrap();
    q.add("fresh", &[], None, 0).unwrap();
    assert_eq!(q.len().unwrap(), 1);
    q.delete().unwrap();
    assert!(q.is_empty().unwrap());
}

/// Child side of the multi-process tests. Once the parent lets it go
/// (`AGS_SYNC`), by `AGS_ROLE`: `add` adds `AGS_COUNT` messages
/// `<AGS_TAG>-<i>` through a fresh handle each and prints `ADDED <id>`; `pop`
/// pops through fresh handles until the queue is empty and prints
/// `POPPED <message>`.
#[test]
#[ignore = "child process entry point of the multi-process queue tests"]
fn child_queue_worker() {
    let var = |k: &str| std::env::var(k).unwrap();
    let store = Store::open(var("AGS_BASE")).unwrap();
    let tag = var("AGS_TAG");
    common::child_ready_wait_go(Path::new(&var("AGS_SYNC")));
    match var("AGS_ROLE").as_str() {
        "add" => {
            let n: usize = var("AGS_COUNT").parse().unwrap();
            for i in 0..n {
                let q = store.queue("s").unwrap();
                let m = q.add(&format!("{tag}-{i}"), &[], Some(&tag), 0).unwrap();
                println!("ADDED {}", m.id);
            }
        }
        "pop" => loop {
            match store.queue("s").unwrap().pop() {
                Ok(m) => println!("POPPED {}", m.message),
                Err(Error::QueueEmpty) => break,
                Err(e) => panic!("{e}"),
            }
        },
        other => panic!("unknown role {other}"),
    }
}

/// Starts one child worker per tag and returns once all of them are running.
fn run_children(store: &Store, role: &str, count: usize, tags: &[String]) -> Vec<Child> {
    let base = store.base_dir().unwrap().to_string_lossy().into_owned();
    let sync = store
        .base_dir()
        .unwrap()
        .with_file_name(format!("sync-{role}"));
    fs::create_dir(&sync).unwrap();
    let children = tags
        .iter()
        .map(|tag| {
            common::spawn_child(
                "child_queue_worker",
                &[
                    ("AGS_BASE", base.clone()),
                    ("AGS_SYNC", sync.to_string_lossy().into_owned()),
                    ("AGS_ROLE", role.to_string()),
                    ("AGS_COUNT", count.to_string()),
                    ("AGS_TAG", tag.clone()),
                ],
            )
        })
        .collect();
    common::release_children(&sync, tags.len());
    children
}

/// Waits for the children and collects what each printed after `prefix` on each line.
fn collect(children: Vec<Child>, prefix: &str) -> Vec<Vec<String>> {
    children
        .into_iter()
        .map(|mut c| {
            let out = BufReader::new(c.stdout.take().unwrap());
            let lines = out
                .lines()
                .filter_map(|l| {
                    // libtest may print the test's name on the same line first.
                    let l = l.unwrap();
                    l.find(prefix).map(|i| l[i + prefix.len()..].to_string())
                })
                .collect();
            assert!(c.wait().unwrap().success(), "child failed");
            lines
        })
        .collect()
}

/// Reads `queue.json` raw until `done`, checking each read parses and that the
/// message count never shrinks (only adds run). Returns the number of reads.
fn watch_file(path: &Path, done: &AtomicBool) -> usize {
    let mut checks = 0;
    let mut last_len = 0;
    while !done.load(Ordering::Acquire) {
        if let Ok(bytes) = fs::read(path) {
            let v: Value = serde_json::from_slice(&bytes).expect("queue.json always parses");
            let len = v["messages"].as_array().expect("messages list").len();
            assert!(len >= last_len, "messages lost: {last_len} then {len}");
            last_len = len;
            checks += 1;
        }
        std::thread::yield_now();
    }
    checks
}

/// Checks that each producer's messages `<tag>-<i>` appear in order of `i`.
fn assert_fifo_per_producer(msgs: &[QueuedMessage]) {
    let mut next: HashMap<&str, usize> = HashMap::new();
    for m in msgs {
        let (tag, i) = m.message.rsplit_once('-').unwrap();
        let want = next.entry(tag).or_default();
        assert_eq!(i.parse::<usize>().unwrap(), *want, "order of {tag}");
        *want += 1;
    }
}

#[test]
fn many_adders_through_fresh_handles() {
    const PROCS: usize = 8;
    const PROC_ADDS: usize = 50;
    const THREADS: usize = 4;
    const THREAD_ADDS: usize = 25;
    let (_t, store) = new_store();
    let path = store.queue("s").unwrap().path().to_path_buf();
    let started = Instant::now();
    let tags: Vec<String> = (0..PROCS).map(|p| format!("proc{p}")).collect();
    let children = run_children(&store, "add", PROC_ADDS, &tags);
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (path, done) = (path.clone(), done.clone());
        std::thread::spawn(move || watch_file(&path, &done))
    };
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..THREAD_ADDS)
                    .map(|i| {
                        let q = store.queue("s").unwrap();
                        q.add(&format!("thread{t}-{i}"), &[], None, 0).unwrap().id
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut acked: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    acked.extend(collect(children, "ADDED ").into_iter().flatten());
    done.store(true, Ordering::Release);
    let checks = watcher.join().unwrap();

    let total = PROCS * PROC_ADDS + THREADS * THREAD_ADDS;
    let msgs = store.queue("s").unwrap().list().unwrap();
    assert_eq!(msgs.len(), total);
    let ids: HashSet<&str> = msgs.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), total, "ids unique");
    assert_eq!(acked.len(), total);
    assert!(
        acked.iter().all(|id| ids.contains(id.as_str())),
        "an acknowledged add was lost"
    );
    let texts: HashSet<&str> = msgs.iter().map(|m| m.message.as_str()).collect();
    assert_eq!(texts.len(), total, "no message duplicated");
    assert_fifo_per_producer(&msgs);
    assert!(checks > 0);
    println!(
        "{PROCS} processes x {PROC_ADDS} + {THREADS} threads x {THREAD_ADDS} adds through fresh handles: \
         {} messages, {} unique ids, file parsed at all {checks} concurrent reads, {:?}",
        msgs.len(),
        ids.len(),
        started.elapsed()
    );
}

#[test]
fn concurrent_poppers_take_each_message_once() {
    const MESSAGES: usize = 200;
    const PROCS: usize = 4;
    const THREADS: usize = 2;
    let (_t, store) = new_store();
    let q = store.queue("s").unwrap();
    for i in 0..MESSAGES {
        q.add(&format!("m-{i}"), &[], None, 0).unwrap();
    }
    let started = Instant::now();
    let tags: Vec<String> = (0..PROCS).map(|p| format!("popper{p}")).collect();
    let children = run_children(&store, "pop", 0, &tags);
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match store.queue("s").unwrap().pop() {
                        Ok(m) => got.push(m.message),
                        Err(Error::QueueEmpty) => return got,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    let mut per_popper: Vec<Vec<String>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    per_popper.extend(collect(children, "POPPED "));
    let counts: Vec<usize> = per_popper.iter().map(Vec::len).collect();
    let mut all: Vec<String> = per_popper.into_iter().flatten().collect();
    assert_eq!(all.len(), MESSAGES, "popped count");
    all.sort_by_key(|m| m[2..].parse::<usize>().unwrap());
    let want: Vec<String> = (0..MESSAGES).map(|i| format!("m-{i}")).collect();
    assert_eq!(all, want, "each message popped exactly once");
    assert!(q.is_empty().unwrap());
    println!(
        "{MESSAGES} messages popped by {PROCS} processes + {THREADS} threads: each exactly once, \
         per popper {counts:?}, {:?}",
        started.elapsed()
    );
}

#[test]
fn moves_and_titles_under_concurrent_adds() {
    const PREFILL: usize = 10;
    const PROCS: usize = 4;
    const PROC_ADDS: usize = 40;
    let (_t, store) = new_store();
    let q = store.queue("s").unwrap();
    let ids: Vec<String> = (0..PREFILL)
        .map(|i| q.add(&format!("pre-{i}"), &[], None, 0).unwrap().id)
        .collect();
    let tags: Vec<String> = (0..PROCS).map(|p| format!("add{p}")).collect();
    let children = run_children(&store, "add", PROC_ADDS, &tags);
    let mover = {
        let (store, last) = (store.clone(), ids[PREFILL - 1].clone());
        std::thread::spawn(move || {
            for k in 1..PREFILL {
                let order = store
                    .queue("s")
                    .unwrap()
                    .move_message(&last, MoveDirection::Up)
                    .unwrap();
                assert_eq!(order[PREFILL - 1 - k].id, last);
            }
        })
    };
    let titler = {
        let (store, ids) = (store.clone(), ids.clone());
        std::thread::spawn(move || {
            for (i, id) in ids.iter().enumerate() {
                let m = store
                    .queue("s")
                    .unwrap()
                    .update_title(id, &format!("title {i}"))
                    .unwrap();
                assert_eq!(m.message, format!("pre-{i}"));
            }
        })
    };
    mover.join().unwrap();
    titler.join().unwrap();
    let added: Vec<String> = collect(children, "ADDED ").into_iter().flatten().collect();

    let msgs = q.list().unwrap();
    assert_eq!(msgs.len(), PREFILL + PROCS * PROC_ADDS);
    let mut want: Vec<String> = vec![format!("pre-{}", PREFILL - 1)];
    want.extend((0..PREFILL - 1).map(|i| format!("pre-{i}")));
    assert_eq!(texts(&msgs[..PREFILL]), want);
    for m in &msgs[..PREFILL] {
        let i = &m.message["pre-".len()..];
        assert_eq!(m.title.as_deref(), Some(format!("title {i}").as_str()));
    }
    assert!(msgs[PREFILL..].iter().all(|m| m.title.is_none()));
    let ids: HashSet<&str> = msgs.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), msgs.len());
    assert!(added.iter().all(|id| ids.contains(id.as_str())));
    assert_fifo_per_producer(&msgs[PREFILL..]);
    println!(
        "{} moves and {PREFILL} title updates under {} concurrent adds from {PROCS} processes: \
         {} messages, order and titles as expected",
        PREFILL - 1,
        PROCS * PROC_ADDS,
        msgs.len()
    );
}

#[test]
fn the_fixture03_steps_write_the_reference_file() {
    let (_t, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let reference: Value =
        serde_json::from_slice(&fs::read(base.join(FIXTURE03).join("queue.json")).unwrap())
            .unwrap();
    store
        .create(&CreateOptions {
            session_id: Some("ours".into()),
            acp_server: "agent".into(),
            working_dir: "/w".into(),
            ..Default::default()
        })
        .unwrap();
    let q = store.queue("ours").unwrap();
    let readme = q
        .add("Also update the README.", &[], Some("client-aaaa"), 10)
        .unwrap();
    let images = [
        "img_001_196717cf.png".to_string(),
        "img_002_ae0be274.png".to_string(),
    ];
    let shots = q
        .add(
            "Here is the failing output, see the attached screenshots.",
            &images,
            Some("client-bbbb"),
            10,
        )
        .unwrap();
    let commit = q
        .add(
            "Then commit with message \"refactor parser\".",
            &[],
            None,
            10,
        )
        .unwrap();
    q.update_title(&readme.id, "Update README").unwrap();
    q.update_title(&shots.id, "Failing test output").unwrap();
    q.move_message(&commit.id, MoveDirection::Up).unwrap();

    let ours: Value = serde_json::from_slice(&fs::read(q.path()).unwrap()).unwrap();
    assert_eq!(keys(&ours), keys(&reference));
    let (o, r) = (
        ours["messages"].as_array().unwrap(),
        reference["messages"].as_array().unwrap(),
    );
    assert_eq!(o.len(), r.len());
    for (o, r) in o.iter().zip(r) {
        assert_eq!(keys(o), keys(r));
        for k in ["message", "image_ids", "client_id", "title"] {
            assert_eq!(o.get(k), r.get(k), "{k}");
        }
    }
}
