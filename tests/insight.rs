//! Search across sessions and live follow.

mod common;

use common::{create, msg};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agentsession::event::types;
use agentsession::{Error, FollowOptions, NewEvent, PruneLimits, SearchHit, SearchQuery, Store};
use serde_json::{json, Value};

fn search(store: &Store, q: SearchQuery) -> Vec<SearchHit> {
    store.search(q).unwrap().map(Result::unwrap).collect()
}

fn text(t: &str) -> SearchQuery {
    SearchQuery {
        text: t.into(),
        ..Default::default()
    }
}

#[test]
fn search_the_fixture_store() {
    let (_tmp, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    // Written escaped (\u003c…) by the reference; found as text.
    let hits = search(&store, text("<script>alert"));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].session_id, "20260201-122000-fixture05-unicode");
    assert_eq!(
        (
            hits[0].seq,
            hits[0].event_type.as_str(),
            hits[0].field.as_str()
        ),
        (2, "user_prompt", "message")
    );
    assert!(
        hits[0].snippet.contains("<script>alert(\"x\")"),
        "{}",
        hits[0].snippet
    );
    // Case-insensitive, Unicode-aware.
    assert_eq!(search(&store, text("ÜNÏCÖDÉ TOOL")).len(), 1);
    assert_eq!(search(&store, text("ЗНАЧЕНИЕ"))[0].field, "raw_input");
    // Tool call titles and raw outputs.
    let hits = search(&store, text("func main"));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].field, "raw_output");
    // Filters: type, status, time.
    let all = search(&store, text("fixed timestamp"));
    assert_eq!(all.len(), 4);
    let q = SearchQuery {
        text: "fixed timestamp".into(),
        since: Some(chrono::DateTime::parse_from_rfc3339("2026-02-01T12:20:01Z").unwrap()),
        until: Some(chrono::DateTime::parse_from_rfc3339("2026-02-01T12:20:02.5Z").unwrap()),
        ..Default::default()
    };
    let hits = search(&store, q);
    assert_eq!(hits.iter().map(|h| h.seq).collect::<Vec<_>>(), [8, 9]);
    let q = SearchQuery {
        text: "the".into(),
        types: vec!["agent_thought".into()],
        ..Default::default()
    };
    assert!(search(&store, q)
        .iter()
        .all(|h| h.event_type == "agent_thought"));
    let q = SearchQuery {
        text: "migration".into(),
        statuses: vec!["error".into()],
        ..Default::default()
    };
    assert_eq!(search(&store, q).len(), 1);
    let q = SearchQuery {
        text: "migration".into(),
        statuses: vec!["completed".into()],
        ..Default::default()
    };
    assert!(search(&store, q).is_empty());
    // Regex on request, limit, progress.
    let q = SearchQuery {
        text: r"call_\d{3}".into(),
        regex: true,
        ..Default::default()
    };
    assert_eq!(
        search(&store, q).len(),
        1,
        "ids are not searched; the error message naming call_003 is"
    );
    let q = SearchQuery {
        text: "e".into(),
        limit: Some(3),
        ..Default::default()
    };
    assert_eq!(search(&store, q).len(), 3);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let n = store
        .search(text("zzz-nothing"))
        .unwrap()
        .with_progress(move |done, total| s2.lock().unwrap().push((done, total)))
        .count();
    assert_eq!(n, 0);
    assert_eq!(
        *seen.lock().unwrap(),
        (1..=7).map(|i| (i, 7)).collect::<Vec<_>>()
    );
    assert!(matches!(
        store.search(text("")),
        Err(Error::InvalidArgument(_))
    ));
    let bad = SearchQuery {
        text: "(".into(),
        regex: true,
        ..Default::default()
    };
    assert!(matches!(store.search(bad), Err(Error::InvalidArgument(_))));
}

#[test]
fn search_counts_match_a_simple_scan() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    let words = [
        "alpha",
        "Beta",
        "gamma",
        "DELTA",
        "ünïcödé",
        "quote\"d",
        "tab\there",
    ];
    let mut state = 12345u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for s in 0..40 {
        let id = format!("s{s:02}");
        create(&store, &id);
        let mut batch = Vec::new();
        for _ in 0..60 {
            let w1 = words[(next() % words.len() as u64) as usize];
            let w2 = words[(next() % words.len() as u64) as usize];
            let ev = match next() % 3 {
                0 => NewEvent::new(
                    types::USER_PROMPT,
                    json!({"message": format!("{w1} and {w2}")}),
                ),
                1 => msg(&format!("reply {w1}\n{w2}")),
                _ => NewEvent::new(
                    types::TOOL_CALL,
                    json!({"tool_call_id": "c", "title": w1, "status": "done", "raw_input": {"arg": w2}}),
                ),
            };
            batch.push(ev);
        }
        store.append_events(&id, batch).unwrap();
    }
    for needle in [
        "alpha",
        "beta",
        "DELTA",
        "ÜNÏCÖDÉ",
        "quote\"d",
        "tab\there",
        "and",
        "a",
    ] {
        let lower = needle.to_lowercase();
        let mut expected = 0;
        for m in store.list().unwrap().sessions {
            for ev in store.events(m.session_id(), 0).unwrap().events {
                let d = &ev.data;
                let fields: Vec<String> = match ev.event_type.as_str() {
                    "user_prompt" => vec![d["message"].as_str().unwrap().into()],
                    "agent_message" => vec![d["text"].as_str().unwrap().into()],
                    _ => vec![
                        d["title"].as_str().unwrap().into(),
                        d["raw_input"].to_string(),
                    ],
                };
                if fields.iter().any(|f| f.to_lowercase().contains(&lower)) {
                    expected += 1;
                }
            }
        }
        let hits = search(&store, text(needle));
        assert_eq!(hits.len(), expected, "{needle}");
    }
}

#[test]
fn search_is_newest_session_first() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    for (id, when) in [
        ("old", "2026-01-01T00:00:00Z"),
        ("new", "2026-03-01T00:00:00Z"),
        ("mid", "2026-02-01T00:00:00Z"),
    ] {
        create(&store, id);
        store.append_event(id, msg("needle")).unwrap();
        store
            .update_metadata_fields(id, json!({"updated_at": when}).as_object().unwrap())
            .unwrap();
    }
    let order: Vec<String> = search(&store, text("needle"))
        .into_iter()
        .map(|h| h.session_id)
        .collect();
    assert_eq!(order, ["new", "mid", "old"]);
}

/// Child of the follow test: appends events with small pauses, then ends.
#[test]
#[ignore = "child process entry point of follow_sees_another_process_appends"]
fn child_slow_writer() {
    let store = Store::open(std::env::var("AGS_BASE").unwrap()).unwrap();
    for i in 0..50 {
        store.append_event("f", msg(&format!("live {i}"))).unwrap();
        if i % 10 == 0 {
            std::thread::sleep(Duration::from_millis(30));
        }
    }
    store
        .append_event(
            "f",
            NewEvent::new(types::SESSION_END, json!({"reason": "done"})),
        )
        .unwrap();
}

#[test]
fn follow_sees_another_process_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    create(&store, "f");
    store
        .append_events("f", vec![msg("before 1"), msg("before 2")])
        .unwrap();
    let follow = store
        .follow(
            "f",
            FollowOptions {
                after_seq: 1,
                idle_timeout: Some(Duration::from_secs(20)),
                ..Default::default()
            },
        )
        .unwrap();
    let mut child = common::spawn_child(
        "child_slow_writer",
        &[("AGS_BASE", tmp.path().to_string_lossy().into_owned())],
    );
    let got: Vec<Value> = follow
        .map(|e| {
            let e = e.unwrap();
            json!([e.seq, e.event_type])
        })
        .collect();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        got.len(),
        1 + 50 + 1,
        "every event, none missed, then stop at session_end"
    );
    let seqs: Vec<u64> = got.iter().map(|v| v[0].as_u64().unwrap()).collect();
    assert_eq!(seqs, (2..=53).collect::<Vec<_>>());
    assert_eq!(got.last().unwrap()[1], "session_end");
}

#[test]
fn follow_stops_on_request_timeout_and_survives_prune() {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path()).unwrap();
    create(&store, "f");
    // Idle timeout.
    let t = Instant::now();
    let opts = FollowOptions {
        idle_timeout: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    assert_eq!(store.follow("f", opts).unwrap().count(), 0);
    assert!(t.elapsed() >= Duration::from_millis(300) && t.elapsed() < Duration::from_secs(3));
    // Stop from another thread.
    let follow = store.follow("f", FollowOptions::default()).unwrap();
    let stopper = follow.stopper();
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for i in 0..5 {
                store.append_event("f", msg(&format!("m{i}"))).unwrap();
            }
            std::thread::sleep(Duration::from_millis(300));
            // A prune replaces the log; the follower continues after it.
            store
                .prune_if_needed(
                    "f",
                    PruneLimits {
                        max_messages: 2,
                        max_size_bytes: 0,
                    },
                )
                .unwrap();
            std::thread::sleep(Duration::from_millis(300));
            store.append_event("f", msg("after prune")).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            stopper.stop();
        })
    };
    let texts: Vec<String> = follow
        .map(|e| e.unwrap().data["text"].as_str().unwrap().to_string())
        .collect();
    writer.join().unwrap();
    assert_eq!(texts, ["m0", "m1", "m2", "m3", "m4", "after prune"]);
    assert!(matches!(
        store.follow("missing", FollowOptions::default()),
        Err(Error::SessionNotFound(_))
    ));
    assert!(matches!(
        store.follow("../x", FollowOptions::default()),
        Err(Error::InvalidArgument(_))
    ));
}
