//! Follow-up suggestions: the reference's file, every operation and error, the
//! shared cache, and changes made by other handles and processes.

mod common;

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentsession::{ActionButton, ActionButtonsStore, CreateOptions, Error, Store};
use serde_json::Value;

const FIXTURE02: &str = "20260201-120500-fixture02-named";

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

fn buttons(labels: &[&str]) -> Vec<ActionButton> {
    labels
        .iter()
        .map(|l| ActionButton::new(*l, format!("say {l}")))
        .collect()
}

fn labels(ab: &ActionButtonsStore) -> Vec<String> {
    ab.get().unwrap().iter().map(|b| b.label.clone()).collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// Sleeps until a change made elsewhere must be visible to `get`.
fn past_staleness() {
    std::thread::sleep(ActionButtonsStore::max_staleness() + Duration::from_millis(1));
}

#[test]
fn reads_fixture02() {
    let (_t, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let ab = store.action_buttons(FIXTURE02).unwrap();
    let got = ab.get().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].label, "Yes, explain");
    assert_eq!(got[0].response, "Yes, please explain why 2 + 2 = 4.");
    assert_eq!(got.buttons()[1].label, "No thanks");
    assert_eq!(got[1].response, "No thanks, that's all I needed.");
    assert_eq!(got.for_event_seq(), 3);
    assert_eq!(
        got.generated_at(),
        Some("2026-11-24T06:38:32.83945982-05:00")
    );
    assert_eq!(
        got.generated_at_time().unwrap().offset().local_minus_utc(),
        -5 * 3600
    );
    assert!(!ab.is_empty().unwrap());
    // A session without the file has none.
    let none = store
        .action_buttons("20260201-121000-fixture03-locked")
        .unwrap();
    assert!(none.is_empty().unwrap());
}

#[test]
fn set_get_clear_delete() {
    let (_t, store) = new_store();
    let ab = store.action_buttons("s").unwrap();
    let empty = ab.get().unwrap();
    assert!(empty.is_empty() && ab.is_empty().unwrap());
    assert_eq!((empty.generated_at(), empty.for_event_seq()), (None, 0));

    let stored = ab.set(buttons(&["Yes", "No"]), 7).unwrap();
    assert_eq!(stored.for_event_seq(), 7);
    assert!(stored.generated_at_time().is_some());
    assert_eq!(ab.get().unwrap(), stored);
    let raw = fs::read_to_string(ab.path()).unwrap();
    assert!(
        raw.starts_with("{\n  \"buttons\": [\n    {\n      \"label\": \"Yes\",\n"),
        "{raw}"
    );
    assert!(raw.ends_with("\n  \"for_event_seq\": 7\n}"), "{raw}");
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(keys(&v), ["buttons", "generated_at", "for_event_seq"]);
    assert_eq!(keys(&v["buttons"][0]), ["label", "response"]);
    assert_eq!(v["generated_at"], stored.generated_at().unwrap());
    assert_eq!(fs::metadata(ab.path()).unwrap().mode() & 0o777, 0o600);

    // Another store on the same directory reads the same.
    let other = Store::open(store.base_dir().unwrap())
        .unwrap()
        .action_buttons("s")
        .unwrap();
    assert_eq!(labels(&other), ["Yes", "No"]);

    let replaced = ab.set(buttons(&["Only"]), 0).unwrap();
    assert_eq!(replaced.for_event_seq(), 0);
    let v: Value = serde_json::from_slice(&fs::read(ab.path()).unwrap()).unwrap();
    assert_eq!(keys(&v), ["buttons", "generated_at"], "seq 0 is left out");
    assert_eq!(labels(&ab), ["Only"]);

    ab.clear().unwrap();
    assert!(!ab.path().exists(), "clear deletes the file");
    assert!(ab.is_empty().unwrap());
    ab.clear().unwrap();
    ab.set(buttons(&["Again"]), 9).unwrap();
    ab.delete().unwrap();
    assert!(!ab.path().exists());
    assert!(ab.get().unwrap().is_empty());
    ab.delete().unwrap();
}

#[test]
fn unknown_button_fields_survive_get_and_set() {
    let (_t, store) = new_store();
    let ab = store.action_buttons("s").unwrap();
    fs::write(
        ab.path(),
        r#"{"buttons":[{"label":"A","response":"a","icon":"star"}],"generated_at":"2026-02-01T12:20:00Z","source":"x"}"#,
    )
    .unwrap();
    let got = ab.get().unwrap();
    assert_eq!(got[0].extra()["icon"], "star");
    assert_eq!(got.for_event_seq(), 0);
    assert_eq!(got.extra()["source"], "x");
    ab.set(got.to_vec(), 4).unwrap();
    let v: Value = serde_json::from_slice(&fs::read(ab.path()).unwrap()).unwrap();
    assert_eq!(keys(&v["buttons"][0]), ["label", "response", "icon"]);
}

#[test]
fn errors() {
    let (_t, store) = new_store();
    for bad in ["", "..", "a/b", "a\0b"] {
        assert!(matches!(
            store.action_buttons(bad),
            Err(Error::InvalidArgument(_))
        ));
    }
    let ghost = store.action_buttons("ghost").unwrap();
    assert!(matches!(ghost.get(), Err(Error::SessionNotFound(_))));
    assert!(matches!(
        ghost.set(buttons(&["x"]), 1),
        Err(Error::SessionNotFound(_))
    ));
    assert!(matches!(ghost.clear(), Err(Error::SessionNotFound(_))));
    assert!(!store.base_dir().unwrap().join("ghost").exists());

    let ab = store.action_buttons("s").unwrap();
    ab.set(buttons(&["x"]), 1).unwrap();
    store.close().unwrap();
    assert!(matches!(ab.get(), Err(Error::StoreClosed)));
    assert!(matches!(ab.set(vec![], 1), Err(Error::StoreClosed)));
    assert!(matches!(store.action_buttons("s"), Err(Error::StoreClosed)));
}

#[test]
fn corrupt_file_is_reported_and_set_replaces_it() {
    let (_t, store) = new_store();
    let ab = store.action_buttons("s").unwrap();
    for bad in [
        &b"{\"buttons\": [{\"label\": "[..],
        b"{\"buttons\": 5}",
        b"[]",
    ] {
        fs::write(ab.path(), bad).unwrap();
        past_staleness();
        let err = ab.get().unwrap_err();
        match &err {
            Error::CorruptData { path, .. } => assert_eq!(path, ab.path()),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("action_buttons.json"), "{err}");
        assert!(ab.is_empty().is_err());
        // Still reported on the next call: a bad file is never cached.
        assert!(matches!(ab.get(), Err(Error::CorruptData { .. })));
    }
    ab.set(buttons(&["New"]), 2).unwrap();
    assert_eq!(labels(&ab), ["New"]);
}

/// Rewrites the file in place with other bytes of the same length, then puts
/// its mtime back: the identity the cache checks stays the same.
fn rewrite_keeping_identity(path: &Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let before = fs::metadata(path).unwrap();
    let text = fs::read_to_string(path).unwrap().replace(from, to);
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.set_modified(before.modified().unwrap()).unwrap();
    drop(f);
    let after = fs::metadata(path).unwrap();
    assert_eq!(
        (after.ino(), after.len(), after.mtime(), after.mtime_nsec()),
        (
            before.ino(),
            before.len(),
            before.mtime(),
            before.mtime_nsec()
        )
    );
}

#[test]
fn repeated_gets_use_the_shared_cache_until_the_file_changes() {
    let (_t, store) = new_store();
    let ab = store.action_buttons("s").unwrap();
    ab.set(buttons(&["Alpha"]), 1).unwrap();
    assert_eq!(labels(&ab), ["Alpha"]);
    // Same identity, other bytes: a get that read the file would see "Omega".
    rewrite_keeping_identity(ab.path(), "Alpha", "Omega");
    past_staleness();
    assert_eq!(labels(&ab), ["Alpha"], "served from memory after the check");
    // A fresh handle, even from another Store, shares the cache.
    let fresh = Store::open(store.base_dir().unwrap())
        .unwrap()
        .action_buttons("s")
        .unwrap();
    assert_eq!(labels(&fresh), ["Alpha"]);

    // A rename-based replacement (a new inode) is seen after the check.
    let tmp = ab.path().with_file_name("replacement.tmp");
    fs::write(
        &tmp,
        r#"{"buttons":[{"label":"Beta","response":"b"}],"generated_at":"2026-02-01T12:20:00Z","for_event_seq":5}"#,
    )
    .unwrap();
    fs::rename(&tmp, ab.path()).unwrap();
    past_staleness();
    let got = ab.get().unwrap();
    assert_eq!((got[0].label.as_str(), got.for_event_seq()), ("Beta", 5));
    assert_eq!(labels(&fresh), ["Beta"]);

    // Removal is seen too.
    fs::remove_file(ab.path()).unwrap();
    past_staleness();
    assert!(fresh.is_empty().unwrap());

    let staleness = ActionButtonsStore::max_staleness();
    assert!(staleness >= ActionButtonsStore::REVALIDATE_AFTER);
    assert!(staleness < Duration::from_millis(100), "{staleness:?}");
}

#[test]
fn changes_through_another_handle_are_seen_at_once() {
    let (_t, store) = new_store();
    let reader = store.action_buttons("s").unwrap();
    assert!(reader.is_empty().unwrap());
    let writer = Store::open(store.base_dir().unwrap())
        .unwrap()
        .action_buttons("s")
        .unwrap();
    for round in 0..20 {
        let label = format!("round {round}");
        writer.set(buttons(&[&label]), round).unwrap();
        let got = reader.get().unwrap();
        assert_eq!(
            (got[0].label.as_str(), got.for_event_seq()),
            (label.as_str(), round)
        );
        writer.clear().unwrap();
        assert!(reader.is_empty().unwrap());
    }
}

/// Child side of the multi-process tests. Once the parent lets it go
/// (`AGS_SYNC`), by `AGS_ROLE`: `set` stores `AGS_COUNT` versions, each one
/// button labelled `b<seq>` for seq `AGS_SEQ + i`; `clear` clears.
#[test]
#[ignore = "child process entry point of the multi-process action-buttons tests"]
fn child_buttons_worker() {
    let var = |k: &str| std::env::var(k).unwrap();
    let store = Store::open(var("AGS_BASE")).unwrap();
    common::child_ready_wait_go(Path::new(&var("AGS_SYNC")));
    let ab = store.action_buttons("s").unwrap();
    match var("AGS_ROLE").as_str() {
        "set" => {
            let first: u64 = var("AGS_SEQ").parse().unwrap();
            let n: u64 = var("AGS_COUNT").parse().unwrap();
            for seq in first..first + n {
                ab.set(buttons(&[&format!("b{seq}")]), seq).unwrap();
                println!("SET {seq}");
            }
        }
        "clear" => ab.clear().unwrap(),
        other => panic!("unknown role {other}"),
    }
}

/// Runs child workers (`(role, first seq, count)` each) at once and waits for them;
/// returns the seqs they reported as set.
fn run_children(store: &Store, jobs: &[(&str, u64, u64)]) -> Vec<u64> {
    let base = store.base_dir().unwrap().to_string_lossy().into_owned();
    let sync = tempfile::tempdir().unwrap();
    let children: Vec<_> = jobs
        .iter()
        .map(|(role, seq, count)| {
            common::spawn_child(
                "child_buttons_worker",
                &[
                    ("AGS_BASE", base.clone()),
                    ("AGS_SYNC", sync.path().to_string_lossy().into_owned()),
                    ("AGS_ROLE", role.to_string()),
                    ("AGS_SEQ", seq.to_string()),
                    ("AGS_COUNT", count.to_string()),
                ],
            )
        })
        .collect();
    common::release_children(sync.path(), jobs.len());
    let mut set = Vec::new();
    for mut c in children {
        let mut out = String::new();
        c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert!(c.wait().unwrap().success(), "child failed");
        set.extend(common::tagged_numbers(&out, "SET "));
    }
    set
}

#[test]
fn cache_sees_another_process_write() {
    let (_t, store) = new_store();
    let ab = store.action_buttons("s").unwrap();
    ab.set(buttons(&["mine"]), 1).unwrap();
    assert_eq!(labels(&ab), ["mine"], "cache warm");
    assert_eq!(run_children(&store, &[("set", 42, 1)]), [42]);
    past_staleness();
    let got = ab.get().unwrap();
    assert_eq!((got[0].label.as_str(), got.for_event_seq()), ("b42", 42));
    run_children(&store, &[("clear", 0, 0)]);
    past_staleness();
    assert!(ab.is_empty().unwrap());
    println!("a warm cache saw another process's set (seq 42) and clear");
}

#[test]
fn readers_always_see_a_whole_version_while_processes_write() {
    const PROCS: u64 = 4;
    const SETS: u64 = 25;
    const READERS: usize = 2;
    let (_t, store) = new_store();
    let started = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (store, done) = (store.clone(), done.clone());
            std::thread::spawn(move || {
                let cached = store.action_buttons("s").unwrap();
                let (mut gets, mut seen) = (0usize, HashSet::new());
                while !done.load(Ordering::Acquire) {
                    // Alternate a long-lived handle and fresh ones.
                    let got = if gets % 2 == r % 2 {
                        cached.get()
                    } else {
                        store.action_buttons("s").unwrap().get()
                    }
                    .expect("every get succeeds");
                    if let Some(b) = got.first() {
                        assert_eq!(b.label, format!("b{}", got.for_event_seq()));
                        seen.insert(got.for_event_seq());
                    }
                    gets += 1;
                }
                (gets, seen)
            })
        })
        .collect();
    let jobs: Vec<(&str, u64, u64)> = (0..PROCS).map(|p| ("set", 1000 * (p + 1), SETS)).collect();
    let set = run_children(&store, &jobs);
    done.store(true, Ordering::Release);
    let (mut gets, mut seen) = (0, HashSet::new());
    for r in readers {
        let (g, s) = r.join().unwrap();
        gets += g;
        seen.extend(s);
    }
    assert_eq!(set.len() as u64, PROCS * SETS);
    let set: HashSet<u64> = set.into_iter().collect();
    assert!(seen.is_subset(&set), "a reader saw a version nobody wrote");
    past_staleness();
    let last = store.action_buttons("s").unwrap().get().unwrap();
    let on_disk: Value = serde_json::from_slice(
        &fs::read(store.base_dir().unwrap().join("s/action_buttons.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(on_disk["for_event_seq"], last.for_event_seq());
    println!(
        "{PROCS} processes x {SETS} sets while {READERS} threads did {gets} gets: \
         {} versions seen, all whole; final version {} matches the file, {:?}",
        seen.len(),
        last.for_event_seq(),
        started.elapsed()
    );
}

#[test]
fn setting_fixture02_buttons_writes_the_reference_file() {
    let (_t, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let path = base.join(FIXTURE02).join("action_buttons.json");
    let reference = fs::read_to_string(&path).unwrap();
    let ab = store.action_buttons(FIXTURE02).unwrap();
    let stored = ab.get().unwrap();
    ab.set(stored.to_vec(), 3).unwrap();
    let ours = fs::read_to_string(&path).unwrap();
    let without_time = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.trim_start().starts_with("\"generated_at\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_time(&ours), without_time(&reference));
    assert_ne!(ours, reference, "generated_at is the time of the set");
}
