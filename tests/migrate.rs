//! Copying a store into another: the fixture store copied into a new
//! directory reads back file for file, a second copy copies nothing, and an
//! interrupted copy completes on the next run.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use agentsession::{migrate, Error, MigrateReport, Store};
use serde_json::Value;

const COMPLETE: &str = "20260201-120000-fixture01-complete";

/// Lines added to a fixture log: an event of a type this library does not
/// know (with an unknown top-level field) and a line that does not parse.
const ODD_LINES: &str = concat!(
    r#"{"seq":21,"type":"future_kind","timestamp":"2026-02-01T12:30:00+01:00","data":{"x":[1,2]},"extra":true}"#,
    "\n",
    "this line is not JSON {\n",
);

/// The fixture store, with odd lines at the end of one log.
fn source() -> (tempfile::TempDir, Store) {
    let (tmp, base) = common::fixture_store_copy();
    fs::OpenOptions::new()
        .append(true)
        .open(base.join(COMPLETE).join("events.jsonl"))
        .unwrap()
        .write_all(ODD_LINES.as_bytes())
        .unwrap();
    let store = Store::open(&base).unwrap();
    (tmp, store)
}

fn base(store: &Store) -> &Path {
    store.base_dir().unwrap()
}

fn json_file(path: &Path) -> Option<Value> {
    fs::read(path)
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap())
}

/// The files of a session's `images/`, by name.
fn images(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = fs::read_dir(dir.join("images")) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Every session of `from` reads back the same from `to`: metadata and
/// documents as parsed JSON, the log byte for byte, the images; no lock.
fn assert_same_sessions(from: &Path, to: &Path) {
    let mut sessions = 0;
    for entry in fs::read_dir(from).unwrap() {
        let name = entry.unwrap().file_name();
        let (a, b) = (from.join(&name), to.join(&name));
        for doc in ["metadata.json", "queue.json", "action_buttons.json"] {
            assert_eq!(
                json_file(&b.join(doc)),
                json_file(&a.join(doc)),
                "{name:?} {doc}"
            );
        }
        assert_eq!(
            fs::read(b.join("events.jsonl")).unwrap(),
            fs::read(a.join("events.jsonl")).unwrap(),
            "{name:?} events.jsonl"
        );
        assert_eq!(images(&b), images(&a), "{name:?} images");
        assert!(!b.join(".lock").exists(), "{name:?}: locks are not copied");
        sessions += 1;
    }
    assert_eq!(sessions, 7);
    assert_eq!(fs::read_dir(to).unwrap().count(), sessions);
}

/// Log lines, images and documents of the fixture store (with the odd lines).
const LINES: usize = 47 + 2;
const IMAGES: usize = 4;
const DOCUMENTS: usize = 2;

fn assert_copied_nothing(report: &MigrateReport) {
    assert_eq!(report.sessions, 7);
    assert_eq!(
        (
            report.sessions_created,
            report.events_copied,
            report.images_copied,
            report.documents_copied
        ),
        (0, 0, 0, 0)
    );
}

#[test]
fn fixture_store_copies_file_for_file_and_a_second_run_copies_nothing() {
    let (_src, from) = source();
    let tmp = tempfile::tempdir().unwrap();
    let to = Store::open(tmp.path()).unwrap();
    let mut seen = Vec::new();
    let report = migrate(&from, &to, |p| {
        seen.push((p.sessions_done, p.sessions_total, p.session_id.clone()));
        Ok(())
    })
    .unwrap();
    assert_eq!(report.sessions, 7);
    assert_eq!(report.sessions_created, 7);
    assert_eq!(report.events_copied, LINES);
    assert_eq!(report.images_copied, IMAGES);
    assert_eq!(report.documents_copied, DOCUMENTS);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(seen.len(), 7);
    assert!(seen
        .iter()
        .enumerate()
        .all(|(i, (done, total, _))| *done == i + 1 && *total == 7));
    assert_eq!(seen[0].2, COMPLETE);
    assert_same_sessions(base(&from), tmp.path());

    // The copy is a working store: the next event follows the copied ones.
    let seq = to
        .append_event(COMPLETE, common::msg("after the copy"))
        .unwrap();
    assert_eq!(seq, 22);

    let (_src, from) = source();
    let tmp = tempfile::tempdir().unwrap();
    let to = Store::open(tmp.path()).unwrap();
    migrate(&from, &to, |_| Ok(())).unwrap();
    assert_copied_nothing(&migrate(&from, &to, |_| Ok(())).unwrap());
    assert_same_sessions(base(&from), tmp.path());
}

#[test]
fn a_copy_stopped_by_its_progress_callback_completes_on_the_next_run() {
    let (_src, from) = source();
    let tmp = tempfile::tempdir().unwrap();
    let to = Store::open(tmp.path()).unwrap();
    let err = migrate(&from, &to, |p| {
        if p.sessions_done == 1 {
            return Err(Error::invalid("stop"));
        }
        Ok(())
    })
    .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(m) if m == "stop"));
    assert_eq!(to.list().unwrap().sessions.len(), 1);

    let report = migrate(&from, &to, |_| Ok(())).unwrap();
    assert_eq!(report.sessions_created, 6);
    assert!(report.events_copied < LINES);
    assert_same_sessions(base(&from), tmp.path());
    assert_copied_nothing(&migrate(&from, &to, |_| Ok(())).unwrap());
}

#[test]
fn a_copy_that_panicked_completes_on_the_next_run() {
    let (_src, from) = source();
    let tmp = tempfile::tempdir().unwrap();
    let to = Store::open(tmp.path()).unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        migrate(&from, &to, |p| {
            assert!(p.sessions_done < 3, "interrupted");
            Ok(())
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(to.list().unwrap().sessions.len(), 3);

    let report = migrate(&from, &to, |_| Ok(())).unwrap();
    assert_eq!(report.sessions_created, 4);
    assert_same_sessions(base(&from), tmp.path());
}

#[test]
fn a_session_with_half_its_log_in_the_target_gets_the_rest() {
    let (_src, from) = source();
    let tmp = tempfile::tempdir().unwrap();
    // The target already holds the first half of one session's log, and
    // none of its images.
    let dir = tmp.path().join(COMPLETE);
    common::copy_tree(&base(&from).join(COMPLETE), &dir);
    fs::remove_dir_all(dir.join("images")).unwrap();
    let log = fs::read(dir.join("events.jsonl")).unwrap();
    let half: Vec<&[u8]> = log.split_inclusive(|b| *b == b'\n').take(11).collect();
    fs::write(dir.join("events.jsonl"), half.concat()).unwrap();

    let to = Store::open(tmp.path()).unwrap();
    let report = migrate(&from, &to, |_| Ok(())).unwrap();
    assert_eq!(report.sessions_created, 6);
    assert_eq!(report.events_copied, LINES - 11);
    assert_eq!(report.images_copied, IMAGES);
    assert_same_sessions(base(&from), tmp.path());
    assert_copied_nothing(&migrate(&from, &to, |_| Ok(())).unwrap());
}

#[test]
fn an_unreadable_session_is_reported_and_the_others_are_copied() {
    let (_src, from) = source();
    let bad = base(&from).join("20260201-130000-unreadable");
    fs::create_dir(&bad).unwrap();
    fs::write(bad.join("metadata.json"), "{ not json").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let to = Store::open(tmp.path()).unwrap();
    let report = migrate(&from, &to, |_| Ok(())).unwrap();
    assert_eq!(report.sessions_created, 7);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].session_id, "20260201-130000-unreadable");
    assert!(matches!(report.skipped[0].error, Error::CorruptData { .. }));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["sessions_created"], 7);
    assert_eq!(
        json["skipped"][0]["error"],
        report.skipped[0].error.to_string()
    );
    assert!(!tmp.path().join("20260201-130000-unreadable").exists());
}
