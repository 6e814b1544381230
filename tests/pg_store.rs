//! The PostgreSQL store against the filesystem store: the same calls give
//! the same results and errors. Runs against the server of `scripts/pg.sh`
//! (skipped without it unless `AGS_REQUIRE_PG=1`); each test has a fresh
//! database.

mod common;

use std::fs;
use std::io::ErrorKind;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentsession::event::types;
use agentsession::{
    migrate, ActionButton, Error, EventsRead, FollowOptions, LockState, Metadata, NewEvent,
    PruneLimits, SearchQuery, Store,
};
use common::pg::{Server, StartOnDrop, SERVER};
use common::FreshDatabase;
use common::{create, msg};
use postgres::{Client, NoTls};
use serde_json::{json, Value};

/// A fresh database and a store on it.
struct Pg {
    db: FreshDatabase,
    url: String,
    store: Store,
}

impl Pg {
    fn new(server: &Server) -> Pg {
        let db = FreshDatabase::new(&server.socket, "ags_store");
        let url = db.url(&server.socket);
        let store = Store::open(&url).unwrap();
        Pg { db, url, store }
    }

    /// A direct connection to the database.
    fn sql(&self) -> Client {
        Client::connect(&self.url, NoTls).unwrap()
    }

    /// The session's log as stored, `\n` after each row.
    fn log(&self, session_id: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for row in self
            .sql()
            .query(
                "SELECT line FROM events WHERE session_id = $1 ORDER BY seq",
                &[&session_id],
            )
            .unwrap()
        {
            out.extend_from_slice(row.get::<_, &str>(0).as_bytes());
            out.push(b'\n');
        }
        out
    }
}

/// A filesystem store in a temp dir.
fn fs_store() -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("sessions")).unwrap();
    (tmp, store)
}

/// The error's variant name, to compare errors of the two stores.
fn kind(e: &Error) -> String {
    let s = format!("{e:?}");
    s.split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap()
        .to_string()
}

/// Results with errors reduced to their variant.
fn outcome<T>(r: agentsession::Result<T>) -> Result<T, String> {
    r.map_err(|e| kind(&e))
}

/// Metadata without the fields stamped with the time of the call.
fn stable(m: &Metadata) -> Value {
    let mut v = m.to_value();
    let o = v.as_object_mut().unwrap();
    o.remove("created_at");
    o.remove("updated_at");
    v
}

/// Events read, without the places of corrupt lines (a path or a URL).
fn events_only(r: EventsRead) -> (Vec<agentsession::Event>, Vec<String>) {
    (r.events, r.skipped.into_iter().map(|s| s.message).collect())
}

const T: &str = "2026-03-01T10:00:00.5Z";

/// The calls both stores get; returns what each read gave.
fn script(store: &Store) -> Vec<String> {
    let mut seen = Vec::new();
    let mut note = |what: &str, v: String| seen.push(format!("{what}: {v}"));
    create(store, "s1");
    note(
        "create again",
        format!(
            "{:?}",
            outcome(store.create(&agentsession::CreateOptions {
                session_id: Some("s1".into()),
                ..Default::default()
            }))
            .map(|m| stable(&m))
        ),
    );
    let s = store.append_event("s1", msg("hello").at(T)).unwrap();
    note("seq", s.to_string());
    let seqs =
        store
            .append_events(
                "s1",
                vec![
                NewEvent::new(types::USER_PROMPT, json!({"message": "Grüße, ſtraße \u{1F600}"}))
                    .at("2026-03-01T10:00:01+02:00"),
                NewEvent::new("future_thing", json!([1, 2.5, 1e300, "\u{7}\"\\"])).at(T),
                NewEvent::new(
                    types::AGENT_MESSAGE,
                    json!({"text": "x", "unknown": {"ü": null, "big": 12345678901234567890u64}}),
                )
                .at(T),
            ],
            )
            .unwrap();
    note("seqs", format!("{seqs:?}"));
    store
        .update_metadata_fields(
            "s1",
            json!({"name": "named", "custom": {"kept": [1, 2]}})
                .as_object()
                .unwrap(),
        )
        .unwrap();
    for i in 0..5 {
        store
            .append_event("s1", msg(&format!("m{i}")).at(T))
            .unwrap();
    }
    note("meta", stable(&store.metadata("s1").unwrap()).to_string());
    note(
        "all",
        format!("{:?}", events_only(store.events("s1", 0).unwrap())),
    );
    note(
        "after 3",
        format!("{:?}", events_only(store.events("s1", 3).unwrap())),
    );
    for (limit, before, reverse) in [
        (2, 0, false),
        (2, 0, true),
        (3, 5, true),
        (100, 0, false),
        (0, 0, false),
    ] {
        let r = store.events_last("s1", limit, before, reverse).unwrap();
        note(
            &format!("last {limit} {before} {reverse}"),
            format!("{:?}", events_only(r)),
        );
    }
    create(store, "s2");
    note("exists s2", format!("{:?}", store.exists("s2")));
    store.delete("s2").unwrap();
    note(
        "exists s2 after delete",
        format!("{:?}", store.exists("s2")),
    );
    note("delete again", format!("{:?}", outcome(store.delete("s2"))));
    note(
        "metadata of none",
        format!("{:?}", outcome(store.metadata("none"))),
    );
    note(
        "events of none",
        format!("{:?}", outcome(store.events("none", 0)).map(events_only)),
    );
    note(
        "last of none",
        format!(
            "{:?}",
            outcome(store.events_last("none", 1, 0, false)).map(events_only)
        ),
    );
    note(
        "append to none",
        format!("{:?}", outcome(store.append_event("none", msg("x")))),
    );
    note("bad id", format!("{:?}", outcome(store.metadata("../x"))));
    create(store, "s3");
    note(
        "empty",
        format!("{:?}", events_only(store.events("s3", 0).unwrap())),
    );
    let list = store.list().unwrap();
    note(
        "list",
        format!("{:?}", list.sessions.iter().map(stable).collect::<Vec<_>>()),
    );
    seen
}

#[test]
fn the_same_calls_give_what_the_filesystem_store_gives() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    let (tmp, fs) = fs_store();
    let (a, b) = (script(&fs), script(&pg.store));
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    assert_eq!(a.len(), b.len());
    // The log lines byte for byte.
    let file = fs::read(tmp.path().join("sessions/s1/events.jsonl")).unwrap();
    assert_eq!(
        String::from_utf8(pg.log("s1")).unwrap(),
        String::from_utf8(file).unwrap()
    );
    // An event stamped by the store is stamped now.
    let seq = pg.store.append_event("s3", msg("now")).unwrap();
    let ev = pg.store.events("s3", 0).unwrap().events.pop().unwrap();
    assert_eq!(ev.seq, seq);
    let age = agentsession::timefmt::now() - agentsession::timefmt::parse(&ev.timestamp).unwrap();
    assert!(age.num_seconds().abs() < 5, "{}", ev.timestamp);
    let meta = pg.store.metadata("s3").unwrap();
    assert_eq!(meta.event_count(), 1);
    assert_eq!(
        meta.get("updated_at"),
        Some(&Value::from(ev.timestamp.clone()))
    );
    assert!(pg.store.location().starts_with("postgresql://ags@/"));
    assert!(pg.store.location().contains("/ags_store_"));
    assert_eq!(pg.store.base_dir(), None);
    assert!(matches!(
        pg.store.session_dir("s3"),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn a_batched_store_writes_each_append_at_once() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    let batched = Store::open_with(
        &pg.url,
        agentsession::StoreOptions {
            batched: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(batched.is_batched());
    create(&batched, "b");
    batched
        .append_events("b", vec![msg("1"), msg("2")])
        .unwrap();
    // Another store sees the events and the counters without a flush.
    assert_eq!(pg.store.events("b", 0).unwrap().events.len(), 2);
    assert_eq!(pg.store.metadata("b").unwrap().event_count(), 2);
    batched.close().unwrap();
    assert_eq!(pg.store.metadata("b").unwrap().event_count(), 2);
}

#[test]
fn images_and_their_limits() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    let (_tmp, fs) = fs_store();
    let png = b"\x89PNG\r\n\x1a\n0000";
    for store in [&fs, &pg.store] {
        create(store, "i");
        let id = store.save_image("i", png, "", None).unwrap().id;
        assert!(id.starts_with("img_001_") && id.ends_with(".png"), "{id}");
        assert_eq!(store.image_data("i", &id).unwrap(), png);
        let list = store.list_images("i").unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].size, list[0].mime_type.as_str()),
            (png.len() as u64, "image/png")
        );
        assert!(list[0].created_at.is_some());
        assert_eq!(
            kind(&store.image_data("i", "img_009_0000.png").unwrap_err()),
            "ImageNotFound"
        );
        assert_eq!(
            kind(&store.delete_image("i", "img_009_0000.png").unwrap_err()),
            "ImageNotFound"
        );
        assert_eq!(
            kind(&store.list_images("none").unwrap_err()),
            "SessionNotFound"
        );
        assert_eq!(
            kind(&store.save_image("none", png, "", None).unwrap_err()),
            "SessionNotFound"
        );
        for _ in 1..50 {
            store.save_image("i", png, "image/png", None).unwrap();
        }
        assert_eq!(
            kind(&store.save_image("i", png, "", None).unwrap_err()),
            "SessionImageLimit"
        );
        store.delete_image("i", &id).unwrap();
        assert_eq!(store.list_images("i").unwrap().len(), 49);
        assert_eq!(
            kind(&store.image_data("i", &id).unwrap_err()),
            "ImageNotFound"
        );
    }
    let id = pg.store.list_images("i").unwrap()[0].id.clone();
    match pg.store.image_path("i", &id) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("use image_data"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Old images of sessions idle long enough go.
    assert_eq!(
        pg.store
            .cleanup_old_images(Duration::from_secs(60), Duration::ZERO)
            .unwrap(),
        0
    );
    pg.sql()
        .batch_execute(&format!(
            "UPDATE images SET created_at = now() - interval '2 hours' WHERE image_id = '{id}'"
        ))
        .unwrap();
    assert_eq!(
        pg.store
            .cleanup_old_images(Duration::from_secs(3600), Duration::from_secs(3600))
            .unwrap(),
        0,
        "the session was updated recently"
    );
    assert_eq!(
        pg.store
            .cleanup_old_images(Duration::from_secs(3600), Duration::ZERO)
            .unwrap(),
        1
    );
    assert_eq!(pg.store.list_images("i").unwrap().len(), 48);
}

/// A log with images referred to by its first events, on both stores.
fn prune_script(store: &Store) -> Vec<String> {
    let png = b"\x89PNG\r\n\x1a\n0000";
    create(store, "p");
    let old = store.save_image("p", png, "", None).unwrap().id;
    let kept = store.save_image("p", png, "", None).unwrap().id;
    let image =
        |id: &str| json!({"message": "look", "images": [{"id": id, "mime_type": "image/png"}]});
    store
        .append_event("p", NewEvent::new(types::USER_PROMPT, image(&old)).at(T))
        .unwrap();
    for i in 0..20 {
        store
            .append_event("p", msg(&format!("event {i}")).at(T))
            .unwrap();
    }
    store
        .append_event("p", NewEvent::new(types::USER_PROMPT, image(&kept)).at(T))
        .unwrap();
    let prune = |max_messages, max_size_bytes| {
        let limits = PruneLimits {
            max_messages,
            max_size_bytes,
        };
        format!("{:?}", store.prune_if_needed("p", limits).unwrap())
    };
    let mut seen = vec![prune(10, 0), prune(10, 0), prune(0, 900)];
    seen.push(format!("{:?}", events_only(store.events("p", 0).unwrap())));
    seen.push(format!(
        "{:?}",
        store
            .list_images("p")
            .unwrap()
            .iter()
            .map(|i| &i.id[..8])
            .collect::<Vec<_>>()
    ));
    seen.push(format!("{}", store.metadata("p").unwrap().event_count()));
    seen.push(format!(
        "{:?}",
        store.append_event("p", msg("after")).unwrap()
    ));
    seen.into_iter().map(|s| without_image_ids(&s)).collect()
}

/// `text` with the random part of image ids left out.
fn without_image_ids(text: &str) -> String {
    let ids = regex::Regex::new(r"(img_\d{3}_)[0-9a-f]{8}").unwrap();
    ids.replace_all(text, "${1}x").into_owned()
}

#[test]
fn prune_gives_what_the_filesystem_store_gives() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    let (tmp, fs) = fs_store();
    let (a, b) = (prune_script(&fs), prune_script(&pg.store));
    assert_eq!(a, b);
    assert!(a[0].contains("events_removed: 12"), "{}", a[0]);
    let file = fs::read_to_string(tmp.path().join("sessions/p/events.jsonl")).unwrap();
    let pg_log = String::from_utf8(pg.log("p")).unwrap();
    // The last line carries the store's own time; the rest byte for byte.
    let cut = |s: &str| without_image_ids(&s[..s.trim_end().rfind('\n').unwrap()]);
    assert_eq!(cut(&pg_log), cut(&file));
}

/// Lines worth searching: non-ASCII text, `\u` escapes, a long s.
fn search_data(store: &Store) {
    create(store, "q1");
    create(store, "q2");
    store
        .append_events(
            "q1",
            vec![
                msg("Die GRÜSSE aus Köln").at(T),
                msg("straße und STRASSE").at(T),
                msg("the ſtraight path").at(T),
                msg("a Kelvin \u{212A}ey").at(T),
                msg("nothing here").at(T),
                NewEvent::new(types::USER_PROMPT, json!({"message": "100%_done C:\\path"})).at(T),
            ],
        )
        .unwrap();
    store
        .append_event("q2", msg("日本語のテキスト and more").at(T))
        .unwrap();
}

fn hits(store: &Store, text: &str, regex: bool) -> Vec<String> {
    let mut out: Vec<String> = store
        .search(SearchQuery {
            text: text.into(),
            regex,
            ..Default::default()
        })
        .unwrap()
        .map(|h| {
            let h = h.unwrap();
            format!("{} {} {} {}", h.session_id, h.seq, h.field, h.snippet)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn search_finds_what_the_filesystem_store_finds() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    let (tmp, fs) = fs_store();
    search_data(&fs);
    search_data(&pg.store);
    // A line written by another writer, with `\u` escapes for plain letters.
    let escaped = r#"{"seq":8,"type":"agent_message","timestamp":"2026-03-01T10:00:00.5Z","data":{"text":"\u0053ecret \u00fcber"}}"#;
    fs::OpenOptions::new()
        .append(true)
        .open(tmp.path().join("sessions/q1/events.jsonl"))
        .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{escaped}\n").as_bytes()))
        .unwrap();
    pg.sql()
        .execute(
            "INSERT INTO events (session_id, seq, line) VALUES ('q1', 8, $1)",
            &[&escaped],
        )
        .unwrap();
    for (needle, regex) in [
        ("grüsse", false),
        ("GRÜSSE", false),
        ("straight", false),
        ("STRASSE", false),
        ("kelvin k", false),
        ("key", false),
        ("secret", false),
        ("Über", false),
        ("100%_", false),
        ("%", false),
        ("日本", false),
        ("テキスト and", false),
        ("path", false),
        ("c:\\path", false),
        ("s.r", true),
        ("zzz", false),
    ] {
        let a = hits(&fs, needle, regex);
        let b = hits(&pg.store, needle, regex);
        assert_eq!(a, b, "{needle}");
    }
    assert_eq!(hits(&pg.store, "straight", false).len(), 1);
    assert_eq!(hits(&pg.store, "key", false).len(), 1);
    assert_eq!(hits(&pg.store, "secret", false).len(), 1);
}

#[test]
fn a_follower_sees_new_events_and_continues_after_a_prune() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    create(&pg.store, "f");
    pg.store
        .append_events("f", (0..3).map(|i| msg(&format!("old {i}"))).collect())
        .unwrap();
    let follow = pg
        .store
        .follow(
            "f",
            FollowOptions {
                poll_interval: Duration::from_secs(30),
                idle_timeout: Some(Duration::from_secs(60)),
                ..Default::default()
            },
        )
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for ev in follow {
            let ev = ev.unwrap();
            let end = ev.event_type == types::SESSION_END;
            tx.send((ev, Instant::now())).unwrap();
            if end {
                break;
            }
        }
    });
    let next = || rx.recv_timeout(Duration::from_secs(20)).unwrap();
    for i in 0..3 {
        assert_eq!(next().0.seq, i + 1);
    }
    // Notifications, not the 30 s poll, bring the next ones.
    for i in 0..5 {
        let sent = Instant::now();
        let seq = pg
            .store
            .append_event("f", msg(&format!("new {i}")))
            .unwrap();
        let (ev, seen) = next();
        assert_eq!(ev.seq, seq);
        assert!(seen - sent < Duration::from_secs(1), "{:?}", seen - sent);
    }
    pg.store
        .prune_if_needed(
            "f",
            PruneLimits {
                max_messages: 2,
                max_size_bytes: 0,
            },
        )
        .unwrap()
        .unwrap();
    let seq = pg.store.append_event("f", msg("after prune")).unwrap();
    assert_eq!(seq, 3);
    let (ev, _) = next();
    assert_eq!((ev.seq, ev.data["text"].as_str()), (3, Some("after prune")));
    pg.store
        .append_event("f", NewEvent::new(types::SESSION_END, json!({})))
        .unwrap();
    assert_eq!(next().0.event_type, types::SESSION_END);
    reader.join().unwrap();
}

#[test]
fn locks_try_force_interrupt_stale_by_the_server_clock_and_stolen() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    let store = &pg.store;
    create(store, "l");
    assert_eq!(
        store.check_lock_status("l").unwrap().state,
        LockState::Unlocked
    );
    assert_eq!(
        kind(&store.try_acquire_lock("none", "cli").unwrap_err()),
        "SessionNotFound"
    );
    let a = store.try_acquire_lock("l", "web").unwrap();
    let info = store.lock_info("l").unwrap().unwrap();
    assert_eq!(info.instance_id, a.instance_id());
    assert!(agentsession::timefmt::parse(&info.heartbeat).is_some());
    assert_eq!(
        kind(&store.try_acquire_lock("l", "cli").unwrap_err()),
        "SessionLocked"
    );
    a.set_processing("thinking").unwrap();
    assert_eq!(
        kind(&store.force_acquire_lock("l", "cli").unwrap_err()),
        "SessionProcessing"
    );
    a.set_waiting_permission("rm?").unwrap();
    assert_eq!(
        kind(&store.force_acquire_lock("l", "cli").unwrap_err()),
        "WaitingForPermission"
    );
    a.set_idle().unwrap();
    let stolen = Arc::new(AtomicBool::new(false));
    let flag = stolen.clone();
    a.on_stolen(move || flag.store(true, Ordering::SeqCst));
    let b = store.force_acquire_lock("l", "cli").unwrap();
    assert!(!a.is_valid());
    assert!(stolen.load(Ordering::SeqCst));
    assert_eq!(kind(&a.set_processing("x").unwrap_err()), "LockNotHeld");
    b.set_processing("busy").unwrap();
    let c = store.force_interrupt_lock("l", "cli").unwrap();
    assert!(!b.is_valid());
    // Stale by the server's clock: a heartbeat an hour old on the server.
    pg.sql()
        .batch_execute("UPDATE locks SET heartbeat = now() - interval '1 hour'")
        .unwrap();
    let check = store.check_lock_status("l").unwrap();
    assert_eq!(check.state, LockState::Stale, "{}", check.message);
    assert!(
        check.message.contains("no heartbeat for 1h 0m"),
        "{}",
        check.message
    );
    let d = store.try_acquire_lock("l", "web").unwrap();
    assert!(!c.is_valid());
    // Unknown fields written under the holder's instance survive its writes.
    pg.sql()
        .execute(
            "UPDATE locks SET info = jsonb_set(info::jsonb, '{future}', '[1]')::text",
            &[],
        )
        .unwrap();
    d.set_processing("kept?").unwrap();
    let info = store.lock_info("l").unwrap().unwrap();
    assert_eq!(info.extra.get("future"), Some(&json!([1])));
    assert_eq!(info.status_message, "kept?");
    d.release().unwrap();
    assert_eq!(store.lock_info("l").unwrap(), None);
    // Garbage in the row is a corrupt lock, taken over.
    let e = store.try_acquire_lock("l", "web").unwrap();
    pg.sql()
        .batch_execute("UPDATE locks SET info = 'not json'")
        .unwrap();
    assert_eq!(
        store.check_lock_status("l").unwrap().state,
        LockState::Corrupt
    );
    assert_eq!(kind(&store.lock_info("l").unwrap_err()), "CorruptData");
    drop(store.try_acquire_lock("l", "web").unwrap());
    assert!(!e.is_valid());
}

#[test]
fn queue_and_suggestions_through_the_public_api() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    let (_tmp, fs) = fs_store();
    for store in [&fs, &pg.store] {
        create(store, "d");
        let q = store.queue("d").unwrap();
        assert!(
            q.path().to_string_lossy().ends_with("d/queue.json"),
            "{}",
            q.path().display()
        );
        assert!(q.is_empty().unwrap());
        let a = q.add("first", &[], Some("web"), 0).unwrap();
        let b = q.add("second", &[], None, 2).unwrap();
        assert_eq!(
            kind(&q.add("third", &[], None, 2).unwrap_err()),
            "QueueFull"
        );
        q.move_message(&b.id, agentsession::MoveDirection::Up)
            .unwrap();
        assert_eq!(q.pop().unwrap().id, b.id);
        assert_eq!(
            q.update_title(&a.id, "t").unwrap().title.as_deref(),
            Some("t")
        );
        assert_eq!(q.list().unwrap().len(), 1);
        q.clear().unwrap();
        assert_eq!(kind(&q.pop().unwrap_err()), "QueueEmpty");
        q.delete().unwrap();
        assert_eq!(
            kind(&store.queue("none").unwrap().len().unwrap_err()),
            "SessionNotFound"
        );

        let buttons = store.action_buttons("d").unwrap();
        assert!(buttons.is_empty().unwrap());
        buttons
            .set(vec![ActionButton::new("Yes", "yes please")], 7)
            .unwrap();
        // A second handle (no shared cache) reads what the first wrote.
        let other = Store::open(store.location())
            .unwrap()
            .action_buttons("d")
            .unwrap();
        let got = other.get().unwrap();
        assert_eq!((got.buttons().len(), got.for_event_seq()), (1, 7));
        other.set(vec![], 8).unwrap();
        assert_eq!(buttons.get().unwrap().for_event_seq(), 8);
        other.clear().unwrap();
        assert!(buttons.is_empty().unwrap());
    }
    // A document that is not JSON is reported as corrupt.
    pg.sql()
        .batch_execute(
            "INSERT INTO documents (session_id, doc, content) VALUES ('d', 'queue', '{')",
        )
        .unwrap();
    assert_eq!(
        kind(&pg.store.queue("d").unwrap().list().unwrap_err()),
        "CorruptData"
    );
}

/// Compares two filesystem sessions file by file as the copy promises.
fn assert_same_session(a: &Path, b: &Path) {
    let json = |p: &Path| -> Option<Value> {
        fs::read(p)
            .ok()
            .map(|b| serde_json::from_slice(&b).unwrap())
    };
    for name in ["metadata.json", "queue.json", "action_buttons.json"] {
        assert_eq!(
            json(&a.join(name)),
            json(&b.join(name)),
            "{}",
            a.join(name).display()
        );
    }
    let log = |p: &Path| fs::read(p.join("events.jsonl")).unwrap_or_default();
    assert_eq!(log(a), log(b), "{}", a.display());
    let images = |p: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = fs::read_dir(p.join("images"))
            .map(|d| {
                d.map(|e| {
                    let e = e.unwrap();
                    (
                        e.file_name().into_string().unwrap(),
                        fs::read(e.path()).unwrap(),
                    )
                })
                .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    assert_eq!(images(a), images(b), "{}", a.display());
}

#[test]
fn migrate_round_trip_filesystem_to_server_to_filesystem() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    let (_fixtures, base) = common::fixture_store_copy();
    let source = Store::open(&base).unwrap();
    let to_pg = migrate(&source, &pg.store, |_| Ok(())).unwrap();
    assert!(to_pg.skipped.is_empty(), "{:?}", to_pg.skipped);
    assert_eq!(to_pg.sessions_created, to_pg.sessions);
    assert!(to_pg.events_copied > 0 && to_pg.documents_copied > 0);
    let again = migrate(&source, &pg.store, |_| Ok(())).unwrap();
    assert_eq!(
        (
            again.sessions_created,
            again.events_copied,
            again.images_copied,
            again.documents_copied
        ),
        (0, 0, 0, 0)
    );

    let (tmp, back) = fs_store();
    let to_fs = migrate(&pg.store, &back, |_| Ok(())).unwrap();
    assert_eq!(to_fs.events_copied, to_pg.events_copied);
    assert_eq!(to_fs.images_copied, to_pg.images_copied);
    for entry in fs::read_dir(&base).unwrap() {
        let entry = entry.unwrap();
        assert_same_session(
            &entry.path(),
            &tmp.path().join("sessions").join(entry.file_name()),
        );
    }
    // The server's reads agree with the source's.
    for meta in source.list().unwrap().sessions {
        let id = meta.session_id();
        assert_eq!(pg.store.metadata(id).unwrap(), meta);
        assert_eq!(
            events_only(pg.store.events(id, 0).unwrap()),
            events_only(source.events(id, 0).unwrap())
        );
    }
}

#[test]
fn imported_lines_without_a_seq_read_back_byte_for_byte() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    let (tmp, fs) = fs_store();
    create(&fs, "c");
    fs.append_events("c", vec![msg("a").at(T), msg("b").at(T)])
        .unwrap();
    let path = tmp.path().join("sessions/c/events.jsonl");
    let good = fs::read(&path).unwrap();
    let split = good.iter().position(|b| *b == b'\n').unwrap() + 1;
    let log = [
        b"leading junk\n".as_slice(),
        &good[..split],
        b"{\"seq\":1,\"type\":\"duplicate\"}\n{not json\n",
        &good[split..],
    ]
    .concat();
    fs::write(&path, &log).unwrap();
    migrate(&fs, &pg.store, |_| Ok(())).unwrap();
    assert_eq!(pg.log("c"), log);
    let (a, b) = (fs.events("c", 0).unwrap(), pg.store.events("c", 0).unwrap());
    assert_eq!(events_only(a), events_only(b));
    assert_eq!(
        pg.store.events_last("c", 1, 0, false).unwrap().events[0].seq,
        2
    );
    assert_eq!(pg.store.append_event("c", msg("c")).unwrap(), 3);
}

#[test]
fn a_closed_store_refuses_every_call() {
    let Some(server) = Server::get() else { return };
    let _shared = SERVER.read();
    let pg = Pg::new(&server);
    create(&pg.store, "x");
    let q = pg.store.queue("x").unwrap();
    pg.store.close().unwrap();
    assert!(pg.store.is_closed());
    assert_eq!(kind(&pg.store.metadata("x").unwrap_err()), "StoreClosed");
    assert_eq!(
        kind(&pg.store.append_event("x", msg("m")).unwrap_err()),
        "StoreClosed"
    );
    assert_eq!(kind(&pg.store.list().unwrap_err()), "StoreClosed");
    assert_eq!(kind(&pg.store.flush().unwrap_err()), "StoreClosed");
    assert_eq!(kind(&q.len().unwrap_err()), "StoreClosed");
    pg.store.close().unwrap();
}

#[test]
fn bad_urls_and_unreachable_servers() {
    match Store::open("postgresql://u:pw@h:notaport/d") {
        Err(Error::InvalidArgument(m)) => assert!(!m.contains("pw"), "{m}"),
        other => panic!("{other:?}"),
    }
    let (url, port) = common::pg::refused_url();
    let started = Instant::now();
    let e = Store::open(url).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(!e.to_string().contains("pw1"), "{e}");
}

#[test]
fn a_server_restart_fails_calls_in_flight_and_loses_nothing_acknowledged() {
    let Some(server) = Server::get() else { return };
    let _alone = SERVER.write();
    let _restart = StartOnDrop(&server);
    let pg = Pg::new(&server);
    let store = Store::open(format!("{}?connect_timeout=2", pg.db.url(&server.tcp))).unwrap();
    create(&store, "r");
    store
        .queue("r")
        .unwrap()
        .add("before", &[], None, 0)
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut acked, mut failed) = (Vec::new(), Vec::new());
            while !stop.load(Ordering::Relaxed) {
                match store.append_event("r", msg("w")) {
                    Ok(seq) => acked.push(seq),
                    Err(e) => failed.push(e),
                }
            }
            (acked, failed)
        })
    };
    let queuer = {
        let (queue, stop) = (store.queue("r").unwrap(), stop.clone());
        std::thread::spawn(move || {
            let (mut acked, mut failed) = (Vec::new(), Vec::new());
            while !stop.load(Ordering::Relaxed) {
                match queue.add("q", &[], None, 0) {
                    Ok(m) => acked.push(m.id),
                    Err(e) => failed.push(e),
                }
            }
            (acked, failed)
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    server.pg_ctl("-m fast -w restart");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let (acked, mut failed) = writer.join().unwrap();
    let (queued, queue_failed) = queuer.join().unwrap();
    failed.extend(queue_failed);
    for e in &failed {
        let Error::Io { source, .. } = e else {
            panic!("{e:?}")
        };
        assert!(
            matches!(
                source.kind(),
                ErrorKind::ConnectionAborted
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionRefused
                    | ErrorKind::BrokenPipe
                    | ErrorKind::UnexpectedEof
                    | ErrorKind::NotFound
                    | ErrorKind::Other
            ),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .contains(&format!("127.0.0.1:{}", server.port())),
            "{e}"
        );
    }
    // The next call works; every acknowledged event is there, seqs contiguous.
    let events = store.events("r", 0).unwrap().events;
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    for seq in &acked {
        assert!(seqs.contains(seq), "acknowledged seq {seq} lost");
    }
    assert!(acked.len() > 10, "{} appends", acked.len());
    assert_eq!(
        store.metadata("r").unwrap().event_count(),
        seqs.len() as u64
    );
    // Every acknowledged queue message is there, in order (a call that
    // failed as its commit happened may have added one more).
    let listed: Vec<String> = store
        .queue("r")
        .unwrap()
        .list()
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    let mut rest = listed.iter();
    for id in &queued {
        assert!(
            rest.any(|l| l == id),
            "acknowledged queue message {id} lost"
        );
    }
    assert!(queued.len() > 10, "{} queue adds", queued.len());
    assert_eq!(
        store.queue("r").unwrap().list().unwrap()[0].message,
        "before"
    );
}
