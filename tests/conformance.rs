//! One suite, every backend: each test below runs against a filesystem store
//! (`fs::…`) and against a PostgreSQL store (`pg::…`, on the server named by
//! `AGS_PG_URL`, in a database of its own), through the public API only, so
//! that neither backend can lag behind the other.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use agentsession::event::types;
use agentsession::{
    ActionButton, CreateOptions, Error, ExportFormat, FollowOptions, MoveDirection, NewEvent,
    PruneLimits, SearchQuery, Store, StoreOptions,
};
use common::{create, msg, with_database, FreshDatabase};
use serde_json::json;

/// A store for one test, and what to clean up after it.
struct TestStore {
    location: String,
    _dir: Option<tempfile::TempDir>,
    _database: Option<FreshDatabase>,
}

impl TestStore {
    fn fs() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        TestStore {
            location: dir.path().join("sessions").display().to_string(),
            _dir: Some(dir),
            _database: None,
        }
    }

    /// A fresh database on the test server; `None` (with a note) when no
    /// server is configured, unless `AGS_REQUIRE_PG=1`.
    fn pg() -> Option<TestStore> {
        let url = common::pg_var("AGS_PG_URL")?;
        let database = FreshDatabase::new(&url, "ags_conf");
        Some(TestStore {
            location: database.url(&url),
            _dir: None,
            _database: Some(database),
        })
    }

    fn open(&self) -> Store {
        Store::open(&self.location).unwrap()
    }

    fn open_batched(&self) -> Store {
        let options = StoreOptions {
            batched: true,
            ..StoreOptions::default()
        };
        Store::open_with(&self.location, options).unwrap()
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod fs {
            $(#[test] fn $name() { super::$name(&super::TestStore::fs()); })*
        }
        mod pg {
            $(#[test] fn $name() {
                if let Some(t) = super::TestStore::pg() { super::$name(&t); }
            })*
        }
    };
}

conformance!(
    sessions_and_metadata,
    appends_and_reads,
    batched_appends,
    images,
    prune,
    locks,
    queue,
    action_buttons,
    search,
    export_and_replay,
    follow,
    closed_store,
    concurrent_appends,
);

fn sessions_and_metadata(t: &TestStore) {
    let store = t.open();
    assert!(!store.exists("a").unwrap());
    create(&store, "a");
    create(&store, "b");
    assert!(store.exists("a").unwrap());
    assert!(matches!(
        store.create(&CreateOptions {
            session_id: Some("a".into()),
            ..Default::default()
        }),
        Err(Error::InvalidArgument(_))
    ));
    let generated = store.create(&CreateOptions::default()).unwrap();
    let ids: Vec<String> = store
        .list()
        .unwrap()
        .sessions
        .iter()
        .map(|m| m.session_id().to_string())
        .collect();
    let mut expected = vec!["a".to_string(), "b".into(), generated.session_id().into()];
    expected.sort();
    assert_eq!(ids, expected);

    let changes = json!({"name": "Renamed", "custom": {"kept": [1, 2]}, "status": "completed"});
    let meta = store
        .update_metadata_fields("a", changes.as_object().unwrap())
        .unwrap();
    assert_eq!(meta.name(), "Renamed");
    let again = t.open().metadata("a").unwrap();
    assert_eq!(again.get("custom"), Some(&json!({"kept": [1, 2]})));
    assert_eq!(again.status(), "completed");
    assert_eq!(again.acp_server(), "agent");

    assert!(matches!(
        store.metadata("nope"),
        Err(Error::SessionNotFound(_))
    ));
    assert!(matches!(
        store.metadata("../x"),
        Err(Error::InvalidArgument(_))
    ));
    store.delete("b").unwrap();
    assert!(!store.exists("b").unwrap());
    assert!(matches!(store.delete("b"), Err(Error::SessionNotFound(_))));
}

fn appends_and_reads(t: &TestStore) {
    let store = t.open();
    create(&store, "s");
    assert_eq!(store.append_event("s", msg("one")).unwrap(), 1);
    let odd = NewEvent::new("ui_custom", json!(["any", {"shape": 1}])).at("2026-02-01T12:00:00Z");
    let seqs = store
        .append_events(
            "s",
            vec![
                NewEvent::new(types::USER_PROMPT, json!({"message": "hi"})),
                odd,
                msg("three"),
            ],
        )
        .unwrap();
    assert_eq!(seqs, [2, 3, 4]);
    assert!(store.append_events("s", Vec::new()).unwrap().is_empty());
    assert!(matches!(
        store.append_event("s", NewEvent::new(types::AGENT_MESSAGE, json!("x"))),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        store.append_event("nope", msg("x")),
        Err(Error::SessionNotFound(_))
    ));

    let all = t.open().events("s", 0).unwrap();
    assert!(all.skipped.is_empty());
    let seqs: Vec<u64> = all.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    assert_eq!(all.events[2].event_type, "ui_custom");
    assert_eq!(all.events[2].data, json!(["any", {"shape": 1}]));
    assert_eq!(all.events[2].timestamp, "2026-02-01T12:00:00Z");
    assert_eq!(store.events("s", 2).unwrap().events.len(), 2);

    let last = store.events_last("s", 2, 0, false).unwrap().events;
    assert_eq!(last.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4]);
    let before = store.events_last("s", 2, 4, true).unwrap().events;
    assert_eq!(before.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 2]);

    let meta = store.metadata("s").unwrap();
    assert_eq!(meta.event_count(), 4);
    assert!(meta.last_user_message_at().is_some());
}

fn batched_appends(t: &TestStore) {
    let store = t.open_batched();
    assert!(store.is_batched());
    create(&store, "s");
    for i in 0..50 {
        store.append_event("s", msg(&format!("m{i}"))).unwrap();
    }
    assert_eq!(store.metadata("s").unwrap().event_count(), 50);
    store.flush().unwrap();
    let other = t.open();
    assert_eq!(other.metadata("s").unwrap().event_count(), 50);
    assert_eq!(other.events("s", 0).unwrap().events.len(), 50);
    store.append_event("s", msg("last")).unwrap();
    store.close().unwrap();
    assert_eq!(other.events("s", 0).unwrap().events.len(), 51);
    assert_eq!(other.metadata("s").unwrap().event_count(), 51);
}

/// A 1×1 PNG.
fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&[
        0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
    ]);
    v.extend_from_slice(&[0; 7]);
    v
}

fn images(t: &TestStore) {
    let store = t.open();
    create(&store, "s");
    let info = store
        .save_image("s", &png(), "image/png", Some("shot.png"))
        .unwrap();
    assert_eq!(info.name, "shot.png");
    assert!(info.id.starts_with("img_001_") && info.id.ends_with(".png"));
    assert_eq!(store.image_data("s", &info.id).unwrap(), png());
    let second = store.save_image("s", &png(), "", None).unwrap();
    assert!(second.id.starts_with("img_002_"));
    let listed: Vec<String> = store
        .list_images("s")
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, [info.id.clone(), second.id.clone()]);
    assert!(matches!(
        store.save_image("s", b"plain text", "", None),
        Err(Error::UnsupportedImageFormat(_))
    ));
    assert!(matches!(
        store.save_image("s", &png(), "text/plain", None),
        Err(Error::UnsupportedImageFormat(_))
    ));
    store.delete_image("s", &info.id).unwrap();
    assert!(matches!(
        store.image_data("s", &info.id),
        Err(Error::ImageNotFound(_))
    ));
    assert!(matches!(
        store.delete_image("s", &info.id),
        Err(Error::ImageNotFound(_))
    ));
    assert!(matches!(
        store.image_data("s", "../metadata.json"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        store.save_image("nope", &png(), "", None),
        Err(Error::SessionNotFound(_))
    ));
    // Sessions updated just now keep their images.
    assert_eq!(
        store
            .cleanup_old_images(Duration::ZERO, Duration::from_secs(3600))
            .unwrap(),
        0
    );
    assert_eq!(store.list_images("s").unwrap().len(), 1);
}

fn prune(t: &TestStore) {
    let store = t.open();
    create(&store, "s");
    let old = store.save_image("s", &png(), "", None).unwrap();
    let kept = store.save_image("s", &png(), "", None).unwrap();
    let with_image = |id: &str| {
        NewEvent::new(
            types::USER_PROMPT,
            json!({"message": "look", "images": [{"id": id}]}),
        )
    };
    store.append_event("s", with_image(&old.id)).unwrap();
    for i in 0..8 {
        store.append_event("s", msg(&format!("m{i}"))).unwrap();
    }
    store.append_event("s", with_image(&kept.id)).unwrap();
    let limits = PruneLimits {
        max_messages: 4,
        max_size_bytes: 0,
    };
    let result = store.prune_if_needed("s", limits).unwrap().unwrap();
    assert_eq!((result.events_removed, result.images_removed), (6, 1));
    let events = store.events("s", 0).unwrap().events;
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(events[0].data["text"], "m5");
    assert_eq!(store.metadata("s").unwrap().event_count(), 4);
    let images: Vec<String> = store
        .list_images("s")
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(images, [kept.id]);
    assert!(store.prune_if_needed("s", limits).unwrap().is_none());
    assert_eq!(store.append_event("s", msg("after")).unwrap(), 5);
}

fn locks(t: &TestStore) {
    let store = t.open();
    create(&store, "s");
    assert!(store.lock_info("s").unwrap().is_none());
    let lock = store.try_acquire_lock("s", "web").unwrap();
    assert!(lock.is_valid());
    assert!(store.is_locked("s").unwrap());
    let info = store.lock_info("s").unwrap().unwrap();
    assert_eq!(info.instance_id, lock.instance_id());
    assert_eq!(info.client_type, "web");
    assert!(matches!(
        t.open().try_acquire_lock("s", "cli"),
        Err(Error::SessionLocked { .. })
    ));

    lock.set_processing("thinking").unwrap();
    let check = store.check_lock_status("s").unwrap();
    assert_eq!(check.state.as_str(), "processing");
    assert!(!check.can_force && check.can_interrupt);
    assert!(matches!(
        t.open().force_acquire_lock("s", "cli"),
        Err(Error::SessionProcessing { .. })
    ));
    lock.set_waiting_permission("may I?").unwrap();
    assert!(matches!(
        t.open().force_acquire_lock("s", "cli"),
        Err(Error::WaitingForPermission { .. })
    ));
    lock.set_idle().unwrap();

    let stolen = Arc::new(AtomicUsize::new(0));
    let seen = stolen.clone();
    lock.on_stolen(move || {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let taker = t.open().force_acquire_lock("s", "cli").unwrap();
    assert!(!lock.is_valid());
    assert_eq!(stolen.load(Ordering::SeqCst), 1);
    assert!(matches!(
        lock.set_processing("x"),
        Err(Error::LockNotHeld(_))
    ));
    lock.release().unwrap();
    assert_eq!(
        store.lock_info("s").unwrap().unwrap().instance_id,
        taker.instance_id()
    );
    let interrupted = t.open().force_interrupt_lock("s", "tui").unwrap();
    assert!(!taker.is_valid());
    interrupted.release().unwrap();
    assert!(store.lock_info("s").unwrap().is_none());
    assert!(!store.is_locked("s").unwrap());
    assert!(matches!(
        store.try_acquire_lock("nope", "web"),
        Err(Error::SessionNotFound(_))
    ));
}

fn queue(t: &TestStore) {
    let store = t.open();
    create(&store, "s");
    let q = store.queue("s").unwrap();
    assert!(q.is_empty().unwrap());
    assert!(matches!(q.pop(), Err(Error::QueueEmpty)));
    let a = q.add("first", &[], Some("web"), 0).unwrap();
    let b = q
        .add("second", &["img_001_00000000.png".into()], None, 0)
        .unwrap();
    let c = q.add("third", &[], None, 3).unwrap();
    assert!(matches!(
        q.add("fourth", &[], None, 3),
        Err(Error::QueueFull(3))
    ));
    assert_eq!(q.len().unwrap(), 3);
    let other = t.open().queue("s").unwrap();
    assert_eq!(
        other.get(&b.id).unwrap().image_ids,
        ["img_001_00000000.png"]
    );
    let titled = other.update_title(&c.id, "Third").unwrap();
    assert_eq!(titled.title.as_deref(), Some("Third"));
    let order = q.move_message(&c.id, MoveDirection::Up).unwrap();
    let ids: Vec<&str> = order.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, [a.id.as_str(), c.id.as_str(), b.id.as_str()]);
    assert_eq!(other.pop().unwrap().id, a.id);
    assert_eq!(q.remove(&b.id).unwrap().message, "second");
    assert!(matches!(q.get(&b.id), Err(Error::MessageNotFound(_))));
    q.clear().unwrap();
    assert!(q.is_empty().unwrap());
    q.add("again", &[], None, 0).unwrap();
    q.delete().unwrap();
    assert!(q.list().unwrap().is_empty());
    assert!(matches!(
        store.queue("nope").unwrap().add("x", &[], None, 0),
        Err(Error::SessionNotFound(_))
    ));

    // Many threads with handles of their own: every message popped exactly once.
    let added: Vec<String> = (0..40)
        .map(|i| q.add(&format!("m{i}"), &[], None, 0).unwrap().id)
        .collect();
    let popped: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let q = t.open().queue("s").unwrap();
                s.spawn(move || {
                    let mut got = Vec::new();
                    while let Ok(m) = q.pop() {
                        got.push(m.id);
                    }
                    got
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(popped.len(), added.len());
    assert_eq!(
        popped.iter().collect::<HashSet<_>>(),
        added.iter().collect::<HashSet<_>>()
    );
}

fn action_buttons(t: &TestStore) {
    let store = t.open();
    create(&store, "s");
    let ab = store.action_buttons("s").unwrap();
    assert!(ab.is_empty().unwrap());
    let set = ab
        .set(
            vec![
                ActionButton::new("Yes", "Yes, go on"),
                ActionButton::new("No", "Stop"),
            ],
            7,
        )
        .unwrap();
    assert_eq!(set.len(), 2);
    assert_eq!(set.for_event_seq(), 7);
    let got = ab.get().unwrap();
    assert_eq!(got.buttons()[1].response, "Stop");
    assert!(got.generated_at_time().is_some());
    // Another store (another process or host) sees the change within the staleness bound.
    let other = t.open().action_buttons("s").unwrap();
    other
        .set(vec![ActionButton::new("Again", "Again")], 9)
        .unwrap();
    std::thread::sleep(agentsession::ActionButtonsStore::max_staleness() * 2);
    assert_eq!(ab.get().unwrap().buttons()[0].label, "Again");
    ab.clear().unwrap();
    std::thread::sleep(agentsession::ActionButtonsStore::max_staleness() * 2);
    assert!(other.is_empty().unwrap());
    assert!(matches!(
        store.action_buttons("nope").unwrap().get(),
        Err(Error::SessionNotFound(_))
    ));
}

fn search(t: &TestStore) {
    let store = t.open();
    create(&store, "old");
    create(&store, "new");
    store
        .append_event("old", msg("The Needle is here"))
        .unwrap();
    store
        .append_event(
            "old",
            NewEvent::new(types::USER_PROMPT, json!({"message": "Straße und STRASSE"})),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    store
        .append_event("new", msg("another needle, lower case"))
        .unwrap();
    store.append_event("new", msg("nothing to see")).unwrap();
    let hits = |q: SearchQuery| -> Vec<(String, u64)> {
        store
            .search(q)
            .unwrap()
            .map(|h| {
                let h = h.unwrap();
                (h.session_id, h.seq)
            })
            .collect()
    };
    let literal = SearchQuery {
        text: "needle".into(),
        ..Default::default()
    };
    assert_eq!(
        hits(literal.clone()),
        [("new".into(), 1), ("old".into(), 1)]
    );
    let limited = SearchQuery {
        limit: Some(1),
        ..literal.clone()
    };
    assert_eq!(hits(limited), [("new".to_string(), 1)]);
    let unicode = SearchQuery {
        text: "STRAßE".into(),
        ..Default::default()
    };
    assert_eq!(hits(unicode), [("old".to_string(), 2)]);
    let regex = SearchQuery {
        text: "N[e]+dle is".into(),
        regex: true,
        ..Default::default()
    };
    assert_eq!(hits(regex), [("old".to_string(), 1)]);
    let typed = SearchQuery {
        types: vec![types::USER_PROMPT.into()],
        ..literal
    };
    assert!(hits(typed).is_empty());
}

fn export_and_replay(t: &TestStore) {
    let store = t.open();
    create(&store, "s");
    let image = store.save_image("s", &png(), "", None).unwrap();
    store
        .append_event(
            "s",
            NewEvent::new(
                types::USER_PROMPT,
                json!({"message": "What is <b>this</b>?", "images": [{"id": image.id, "mime_type": "image/png"}]}),
            ),
        )
        .unwrap();
    store.append_event("s", msg("A picture.")).unwrap();
    let md = store.export("s", ExportFormat::Markdown).unwrap();
    assert!(md.contains("A picture."));
    let html = store.export("s", ExportFormat::Html).unwrap();
    assert!(html.contains("data:image/png;base64,"));
    assert!(!html.contains("<b>this</b>"));
}

fn follow(t: &TestStore) {
    let store = t.open();
    create(&store, "s");
    store.append_event("s", msg("before")).unwrap();
    let options = FollowOptions {
        idle_timeout: Some(Duration::from_secs(10)),
        poll_interval: Duration::from_millis(100),
        ..FollowOptions::default()
    };
    let follow = store.follow("s", options).unwrap();
    let writer = {
        let store = t.open();
        std::thread::spawn(move || {
            for i in 0..3 {
                std::thread::sleep(Duration::from_millis(50));
                store.append_event("s", msg(&format!("live {i}"))).unwrap();
            }
            store
                .append_event(
                    "s",
                    NewEvent::new(types::SESSION_END, json!({"reason": "done"})),
                )
                .unwrap();
        })
    };
    let seqs: Vec<u64> = follow.map(|e| e.unwrap().seq).collect();
    writer.join().unwrap();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
}

fn closed_store(t: &TestStore) {
    let store = t.open();
    create(&store, "s");
    store.close().unwrap();
    assert!(store.is_closed());
    assert!(matches!(store.metadata("s"), Err(Error::StoreClosed)));
    assert!(matches!(
        store.append_event("s", msg("x")),
        Err(Error::StoreClosed)
    ));
    assert!(matches!(store.list(), Err(Error::StoreClosed)));
    assert!(t.open().exists("s").unwrap());
}

fn concurrent_appends(t: &TestStore) {
    let store = t.open();
    create(&store, "s");
    std::thread::scope(|s| {
        for w in 0..4 {
            let store = t.open();
            s.spawn(move || {
                for i in 0..25 {
                    store.append_event("s", msg(&format!("w{w} {i}"))).unwrap();
                }
            });
        }
    });
    let seqs: Vec<u64> = store
        .events("s", 0)
        .unwrap()
        .events
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>());
    assert_eq!(store.metadata("s").unwrap().event_count(), 100);
}

#[test]
fn database_names_replace_the_path_only() {
    assert_eq!(
        with_database("postgresql://ags@/agentsession?host=/tmp/x&port=5", "d"),
        "postgresql://ags@/d?host=/tmp/x&port=5"
    );
    assert_eq!(
        with_database("postgresql://u:p@127.0.0.1:5432/db", "d"),
        "postgresql://u:p@127.0.0.1:5432/d"
    );
}
