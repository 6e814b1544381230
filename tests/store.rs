//! Store behaviour: appends, several writers, crashes, bad ids, images, prune.

mod common;

use common::{create, msg};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;

use agentsession::event::{types, ImageRef};
use agentsession::{
    CreateOptions, Error, NewEvent, Player, PruneLimits, Recorder, Store, StoreOptions,
};
use serde_json::{json, Value};

fn new_store() -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("store")).unwrap();
    (tmp, store)
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";

#[test]
fn append_assigns_seqs_and_keeps_metadata_current() {
    let (_t, store) = new_store();
    create(&store, "s");
    assert_eq!(store.append_event("s", msg("a")).unwrap(), 1);
    let p =
        NewEvent::new(types::USER_PROMPT, json!({"message": "hi"})).at("2026-02-01T12:20:01.5Z");
    assert_eq!(store.append_event("s", p).unwrap(), 2);
    assert_eq!(
        store.append_events("s", vec![msg("b"), msg("c")]).unwrap(),
        [3, 4]
    );
    let m = store.metadata("s").unwrap();
    assert_eq!(m.event_count(), 4);
    assert_eq!(
        m.get("last_user_message_at").unwrap(),
        "2026-02-01T12:20:01.5Z"
    );
    // Another handle sees the same, and continues the numbering.
    let other = Store::open(store.base_dir().unwrap()).unwrap();
    assert_eq!(other.metadata("s").unwrap().event_count(), 4);
    assert_eq!(other.append_event("s", msg("d")).unwrap(), 5);
    assert_eq!(store.append_event("s", msg("e")).unwrap(), 6);
    let seqs: Vec<u64> = store
        .events("s", 0)
        .unwrap()
        .events
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert_eq!(store.events("s", 4).unwrap().events.len(), 2);
    let last: Vec<u64> = store
        .events_last("s", 2, 0, false)
        .unwrap()
        .events
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(last, [5, 6]);
}

#[test]
fn bad_event_input_is_rejected() {
    let (_t, store) = new_store();
    create(&store, "s");
    for bad in [
        NewEvent::new("", json!({})),
        NewEvent::new(types::AGENT_MESSAGE, json!("not an object")),
        msg("x").at("yesterday"),
    ] {
        assert!(matches!(
            store.append_event("s", bad),
            Err(Error::InvalidArgument(_))
        ));
    }
    assert!(matches!(
        store.append_event("nope", msg("x")),
        Err(Error::SessionNotFound(_))
    ));
    assert_eq!(store.metadata("s").unwrap().event_count(), 0);
}

#[test]
fn unknown_fields_and_event_types_survive() {
    let (_t, store) = new_store();
    create(&store, "s");
    let dir = store.base_dir().unwrap().join("s");
    // A newer writer added fields to metadata and an unknown event type.
    let mut meta: serde_json::Map<String, Value> =
        serde_json::from_slice(&fs::read(dir.join("metadata.json")).unwrap()).unwrap();
    meta.shift_insert(3, "parent_session_id".into(), json!("p-1"));
    meta.insert("archived".into(), json!(true));
    meta.insert("max_seq".into(), json!({"nested": [1, 2.5, null]}));
    fs::write(
        dir.join("metadata.json"),
        serde_json::to_vec_pretty(&meta).unwrap(),
    )
    .unwrap();
    let unknown = r#"{"seq":1,"type":"ui_prompt_answer","timestamp":"2026-02-01T12:20:00Z","data":{"answer":1e+21,"choices":["a"]},"origin":"web"}"#;
    fs::OpenOptions::new()
        .append(true)
        .open(dir.join("events.jsonl"))
        .unwrap()
        .write_all(format!("{unknown}\n").as_bytes())
        .unwrap();

    store.append_event("s", msg("after")).unwrap();
    store
        .update_metadata_fields(
            "s",
            json!({"name": "N", "pinned": true}).as_object().unwrap(),
        )
        .unwrap();
    let after: serde_json::Map<String, Value> =
        serde_json::from_slice(&fs::read(dir.join("metadata.json")).unwrap()).unwrap();
    let keys: Vec<&str> = after.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "session_id",
            "name",
            "acp_server",
            "working_dir",
            "parent_session_id",
            "created_at",
            "updated_at",
            "last_user_message_at",
            "event_count",
            "status",
            "archived",
            "max_seq",
            "pinned"
        ]
    );
    assert_eq!(after["max_seq"], meta["max_seq"]);
    assert_eq!(after["event_count"], 2);
    // The unknown line is untouched by appends.
    let log = fs::read_to_string(dir.join("events.jsonl")).unwrap();
    assert_eq!(log.lines().next().unwrap(), unknown);
    let ev = &store.events("s", 0).unwrap().events[0];
    assert_eq!(ev.event_type, "ui_prompt_answer");
    assert_eq!(ev.extra["origin"], "web");

    // Pruning keeps the unknown event's bytes, renumbered.
    for i in 0..3 {
        store.append_event("s", msg(&format!("m{i}"))).unwrap();
    }
    // The unknown event is the oldest: a prune to 4 events drops it.
    let r = store
        .prune_if_needed(
            "s",
            PruneLimits {
                max_messages: 4,
                max_size_bytes: 0,
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!(r.events_removed, 1);
    let log = fs::read_to_string(dir.join("events.jsonl")).unwrap();
    assert!(
        !log.contains("ui_prompt_answer"),
        "oldest event is the one pruned"
    );
    assert_eq!(store.metadata("s").unwrap().event_count(), 4);
}

#[test]
fn prune_keeps_unknown_event_bytes_when_kept() {
    let (_t, store) = new_store();
    create(&store, "s");
    store.append_event("s", msg("old")).unwrap();
    let data = json!({"answer": 9007199254740993u64, "x": "<&>"});
    store
        .append_event("s", NewEvent::new("ui_prompt_answer", data))
        .unwrap();
    store.append_event("s", msg("new")).unwrap();
    let before = fs::read_to_string(store.base_dir().unwrap().join("s/events.jsonl")).unwrap();
    let unknown_before = before.lines().nth(1).unwrap().to_string();
    let r = store
        .prune_if_needed(
            "s",
            PruneLimits {
                max_messages: 2,
                max_size_bytes: 0,
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!(r.events_removed, 1);
    let after = fs::read_to_string(store.base_dir().unwrap().join("s/events.jsonl")).unwrap();
    let unknown_after = after.lines().next().unwrap();
    assert_eq!(
        unknown_after,
        unknown_before.replacen("\"seq\":2", "\"seq\":1", 1)
    );
    let seqs: Vec<u64> = store
        .events("s", 0)
        .unwrap()
        .events
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [1, 2]);
    assert_eq!(store.append_event("s", msg("next")).unwrap(), 3);
}

#[test]
fn prune_by_size_and_image_cleanup() {
    let (_t, store) = new_store();
    create(&store, "s");
    let a = store
        .save_image("s", PNG, "image/png", Some("a.png"))
        .unwrap();
    let b = store.save_image("s", PNG, "image/png", None).unwrap();
    let r = |img: &agentsession::ImageInfo| ImageRef {
        id: img.id.clone(),
        name: String::new(),
        mime_type: img.mime_type.clone(),
    };
    let prompt = |text: &str, imgs: Vec<ImageRef>| {
        NewEvent::new(
            types::USER_PROMPT,
            serde_json::to_value(agentsession::event::UserPromptData {
                message: text.into(),
                images: imgs,
            })
            .unwrap(),
        )
    };
    store
        .append_event("s", prompt("first", vec![r(&a), r(&b)]))
        .unwrap();
    store.append_event("s", msg(&"x".repeat(1000))).unwrap();
    store
        .append_event("s", prompt("second", vec![r(&b)]))
        .unwrap();
    for i in 0..5 {
        store.append_event("s", msg(&format!("short {i}"))).unwrap();
    }
    assert_eq!(
        store
            .prune_if_needed(
                "s",
                PruneLimits {
                    max_messages: 100,
                    max_size_bytes: 0
                }
            )
            .unwrap(),
        None
    );
    let log_len = fs::metadata(store.base_dir().unwrap().join("s/events.jsonl"))
        .unwrap()
        .len();
    let total = log_len + 2 * PNG.len() as u64;
    // Drop until under (total - 1000): the first two events must go.
    let res = store
        .prune_if_needed(
            "s",
            PruneLimits {
                max_messages: 0,
                max_size_bytes: total - 1000,
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!(res.events_removed, 2);
    assert_eq!(
        res.images_removed, 1,
        "a is only referenced by a pruned prompt"
    );
    assert!(res.bytes_reclaimed > 1000);
    let left: Vec<String> = store
        .list_images("s")
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(left, vec![b.id.clone()]);
    let events = store.events("s", 0).unwrap().events;
    assert_eq!(events.len(), 6);
    assert_eq!(events[0].data["message"], "second");
    assert_eq!(
        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    // A size limit never removes the last event.
    let res = store
        .prune_if_needed(
            "s",
            PruneLimits {
                max_messages: 0,
                max_size_bytes: 1,
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!(res.events_removed, 5);
    assert_eq!(store.metadata("s").unwrap().event_count(), 1);
}

#[test]
fn torn_tail_is_reported_then_repaired_by_next_append() {
    let (_t, store) = new_store();
    create(&store, "s");
    store.append_events("s", vec![msg("a"), msg("b")]).unwrap();
    let path = store.base_dir().unwrap().join("s/events.jsonl");
    // A crash mid-write leaves half a line.
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(br#"{"seq":3,"type":"agent_mes"#)
        .unwrap();
    let other = Store::open(store.base_dir().unwrap()).unwrap();
    let read = other.events("s", 0).unwrap();
    assert_eq!(read.events.len(), 2);
    assert_eq!(read.skipped.len(), 1);
    assert_eq!(read.skipped[0].line, Some(3));
    assert!(read.skipped[0].to_string().contains("events.jsonl line 3"));
    assert!(matches!(
        other.events("s", 0).unwrap().strict(),
        Err(Error::CorruptData { line: Some(3), .. })
    ));
    let last = other.events_last("s", 10, 0, false).unwrap();
    assert_eq!(last.events.len(), 2);
    assert_eq!(last.skipped.len(), 1);
    // The next append (from either handle) repairs the tail first.
    assert_eq!(store.append_event("s", msg("c")).unwrap(), 3);
    let read = other.events("s", 0).unwrap();
    assert!(read.skipped.is_empty());
    assert_eq!(
        read.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let kept = fs::read_to_string(store.base_dir().unwrap().join("s/events.jsonl.torn")).unwrap();
    assert!(kept.starts_with(r#"{"seq":3,"type":"agent_mes"#));
}

#[test]
fn corrupt_middle_line_does_not_hide_the_rest() {
    let (_t, store) = new_store();
    create(&store, "s");
    let path = store.base_dir().unwrap().join("s/events.jsonl");
    let good = |n: u64| {
        format!(
            r#"{{"seq":{n},"type":"agent_message","timestamp":"2026-02-01T12:20:00Z","data":{{"text":"t"}}}}"#
        )
    };
    let mut bytes = format!("{}\n", good(1)).into_bytes();
    bytes.extend_from_slice(b"{\"seq\":2,\"bad\xff utf8\n");
    bytes.extend_from_slice(format!("{}\n", good(3)).as_bytes());
    fs::write(&path, bytes).unwrap();
    let read = store.events("s", 0).unwrap();
    assert_eq!(read.events.len(), 2);
    assert_eq!(read.skipped[0].line, Some(2));
    assert!(read.skipped[0].message.contains("UTF-8"));
    assert_eq!(store.append_event("s", msg("next")).unwrap(), 4);
}

#[test]
fn truncated_metadata_does_not_hide_other_sessions() {
    let (_t, store) = new_store();
    for id in ["a", "b", "c"] {
        create(&store, id);
    }
    let p = store.base_dir().unwrap().join("b/metadata.json");
    let full = fs::read(&p).unwrap();
    fs::write(&p, &full[..full.len() / 2]).unwrap();
    fs::write(store.base_dir().unwrap().join("c/metadata.json"), b"").unwrap();
    fs::create_dir(store.base_dir().unwrap().join("stray-dir")).unwrap();
    let list = store.list().unwrap();
    let ids: Vec<&str> = list.sessions.iter().map(|m| m.session_id()).collect();
    assert_eq!(ids, ["a"]);
    let skipped: Vec<&str> = list.skipped.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(skipped, ["b", "c", "stray-dir"]);
    assert!(matches!(list.skipped[0].error, Error::CorruptData { .. }));
    assert!(matches!(
        store.metadata("b"),
        Err(Error::CorruptData { .. })
    ));
    // The log stays readable and appendable; the corrupt metadata is left alone.
    store.append_event("b", msg("still works")).unwrap();
    assert_eq!(store.events("b", 0).unwrap().events.len(), 1);
    assert_eq!(fs::read(&p).unwrap(), &full[..full.len() / 2]);
}

#[test]
fn every_id_taking_call_rejects_escaping_ids() {
    let (t, store) = new_store();
    create(&store, "ok");
    fs::write(t.path().join("outside.txt"), b"secret").unwrap();
    let bad_ids = [
        "",
        ".",
        "..",
        "../outside.txt",
        "a/b",
        "/etc",
        "a\0b",
        ".lock",
        &"x".repeat(300),
    ];
    let check = |r: Result<(), Error>, what: &str, id: &str| {
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "{what}({id:?}) gave {r:?}"
        );
    };
    for id in bad_ids {
        check(
            store
                .create(&CreateOptions {
                    session_id: Some(id.into()),
                    ..Default::default()
                })
                .map(drop),
            "create",
            id,
        );
        check(
            store.append_event(id, msg("x")).map(drop),
            "append_event",
            id,
        );
        check(
            store.append_events(id, vec![msg("x")]).map(drop),
            "append_events",
            id,
        );
        check(
            store.append_events(id, vec![]).map(drop),
            "append_events(empty)",
            id,
        );
        check(store.metadata(id).map(drop), "metadata", id);
        check(
            store
                .update_metadata_fields(id, &Default::default())
                .map(drop),
            "update_metadata",
            id,
        );
        check(store.events(id, 0).map(drop), "events", id);
        check(
            store.events_last(id, 1, 0, false).map(drop),
            "events_last",
            id,
        );
        check(store.exists(id).map(drop), "exists", id);
        check(store.delete(id), "delete", id);
        check(
            store.save_image(id, PNG, "image/png", None).map(drop),
            "save_image",
            id,
        );
        check(store.list_images(id).map(drop), "list_images", id);
        check(
            store.image_path(id, "img_001_00000000.png").map(drop),
            "image_path",
            id,
        );
        check(
            store.delete_image(id, "img_001_00000000.png"),
            "delete_image",
            id,
        );
        check(
            store
                .prune_if_needed(
                    id,
                    PruneLimits {
                        max_messages: 1,
                        max_size_bytes: 0,
                    },
                )
                .map(drop),
            "prune",
            id,
        );
        check(
            store.prune_if_needed(id, PruneLimits::default()).map(drop),
            "prune(no limits)",
            id,
        );
        check(
            Recorder::with_id(&store, id).map(drop),
            "Recorder::with_id",
            id,
        );
        check(Player::open(&store, id).map(drop), "Player::open", id);
        // Image ids are checked the same way.
        check(
            store.image_path("ok", id).map(drop),
            "image_path(image)",
            id,
        );
        check(store.delete_image("ok", id), "delete_image(image)", id);
    }
    assert_eq!(fs::read(t.path().join("outside.txt")).unwrap(), b"secret");
    assert!(store.exists("ok").unwrap());
}

#[test]
fn images_limits_and_format_detection() {
    let (_t, store) = new_store();
    create(&store, "s");
    let info = store
        .save_image("s", PNG, "image/png", Some("shot.png"))
        .unwrap();
    assert!(
        info.id.starts_with("img_001_") && info.id.ends_with(".png"),
        "{}",
        info.id
    );
    assert_eq!(info.name, "shot.png");
    let listed = store.list_images("s").unwrap();
    assert_eq!(listed[0].name, info.id, "listing names images by id");
    assert_eq!(listed[0].size, PNG.len() as u64);
    assert!(store.image_path("s", &info.id).unwrap().exists());
    let mode = fs::metadata(store.image_path("s", &info.id).unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The bytes decide the format.
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
    let j = store.save_image("s", &jpeg, "image/png", None).unwrap();
    assert!(j.id.ends_with(".jpg") && j.mime_type == "image/jpeg");
    let gif = b"GIF89a\x01\x00\x01\x00";
    assert!(store
        .save_image("s", gif, "", None)
        .unwrap()
        .id
        .ends_with(".gif"));
    let webp = b"RIFF\x1a\0\0\0WEBPVP8 ";
    assert!(store
        .save_image("s", webp, "image/webp", None)
        .unwrap()
        .id
        .ends_with(".webp"));
    assert!(matches!(
        store.save_image("s", b"%PDF-1.4", "image/png", None),
        Err(Error::UnsupportedImageFormat(_))
    ));
    assert!(matches!(
        store.save_image("s", PNG, "application/pdf", None),
        Err(Error::UnsupportedImageFormat(_))
    ));
    let mut big = PNG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    assert!(matches!(
        store.save_image("s", &big, "image/png", None),
        Err(Error::ImageTooLarge { .. })
    ));
    // Count limit: 50 per session.
    for _ in store.list_images("s").unwrap().len()..50 {
        store.save_image("s", PNG, "image/png", None).unwrap();
    }
    assert!(matches!(
        store.save_image("s", PNG, "image/png", None),
        Err(Error::SessionImageLimit(50))
    ));
    // Total limit: 100 MiB.
    create(&store, "t");
    let mut nine = PNG.to_vec();
    nine.resize(9 * 1024 * 1024, 0);
    for _ in 0..11 {
        store.save_image("t", &nine, "image/png", None).unwrap();
    }
    assert!(matches!(
        store.save_image("t", &nine, "image/png", None),
        Err(Error::StorageLimit { .. })
    ));

    store.delete_image("s", &info.id).unwrap();
    assert!(matches!(
        store.delete_image("s", &info.id),
        Err(Error::ImageNotFound(_))
    ));
    assert!(matches!(
        store.image_path("s", "img_009_ffffffff.png"),
        Err(Error::ImageNotFound(_))
    ));
}

#[test]
fn cleanup_old_images_spares_recent_sessions() {
    let (_t, store) = new_store();
    create(&store, "old");
    create(&store, "new");
    let a = store.save_image("old", PNG, "image/png", None).unwrap();
    store.save_image("new", PNG, "image/png", None).unwrap();
    store
        .update_metadata_fields(
            "old",
            json!({"updated_at": "2020-01-01T00:00:00Z"})
                .as_object()
                .unwrap(),
        )
        .unwrap();
    let day = std::time::Duration::from_secs(86400);
    // Images are fresh: nothing older than a day.
    assert_eq!(store.cleanup_old_images(day, day).unwrap(), 0);
    let old_time = std::time::SystemTime::now() - 40 * day;
    fs::File::options()
        .write(true)
        .open(store.image_path("old", &a.id).unwrap())
        .unwrap()
        .set_modified(old_time)
        .unwrap();
    assert_eq!(store.cleanup_old_images(30 * day, 7 * day).unwrap(), 1);
    assert!(store.list_images("old").unwrap().is_empty());
    assert_eq!(store.list_images("new").unwrap().len(), 1);
}

#[test]
fn private_permissions_and_closed_store() {
    let (_t, store) = new_store();
    create(&store, "s");
    let dir = store.base_dir().unwrap().join("s");
    assert_eq!(
        fs::metadata(store.base_dir().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for f in ["metadata.json", "events.jsonl"] {
        assert_eq!(
            fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777,
            0o600,
            "{f}"
        );
    }
    store.close().unwrap();
    assert!(matches!(
        store.append_event("s", msg("x")),
        Err(Error::StoreClosed)
    ));
    assert!(matches!(store.metadata("s"), Err(Error::StoreClosed)));
    assert!(matches!(store.list(), Err(Error::StoreClosed)));
    assert!(matches!(store.events("s", 0), Err(Error::StoreClosed)));
    store.close().unwrap();
}

#[test]
fn delete_and_exists() {
    let (_t, store) = new_store();
    create(&store, "s");
    assert!(matches!(
        store.create(&CreateOptions {
            session_id: Some("s".into()),
            ..Default::default()
        }),
        Err(Error::InvalidArgument(_))
    ));
    store.append_event("s", msg("x")).unwrap();
    store.delete("s").unwrap();
    assert!(!store.exists("s").unwrap());
    assert!(matches!(store.delete("s"), Err(Error::SessionNotFound(_))));
    assert!(matches!(
        store.append_event("s", msg("x")),
        Err(Error::SessionNotFound(_))
    ));
    create(&store, "s");
    assert_eq!(store.append_event("s", msg("x")).unwrap(), 1);
}

#[test]
fn batched_mode_defers_metadata_until_flush() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = StoreOptions {
        batched: true,
        flush_interval: std::time::Duration::from_secs(3600),
    };
    let store = Store::open_with(tmp.path(), opts).unwrap();
    create(&store, "s");
    store.append_event("s", msg("first")).unwrap(); // first write is never deferred
    for i in 0..100 {
        store.append_event("s", msg(&format!("m{i}"))).unwrap();
    }
    let on_disk = || {
        let b = fs::read(tmp.path().join("s/metadata.json")).unwrap();
        serde_json::from_slice::<Value>(&b).unwrap()["event_count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(on_disk(), 1);
    assert_eq!(
        store.metadata("s").unwrap().event_count(),
        101,
        "this store sees its own appends"
    );
    assert_eq!(store.list().unwrap().sessions[0].event_count(), 101);
    store.flush().unwrap();
    assert_eq!(on_disk(), 101);
    for _ in 0..5 {
        store.append_event("s", msg("more")).unwrap();
    }
    drop(store);
    assert_eq!(on_disk(), 106, "dropping the last handle flushes");

    // The interval flushes on its own.
    let opts = StoreOptions {
        batched: true,
        flush_interval: std::time::Duration::from_millis(50),
    };
    let store = Store::open_with(tmp.path(), opts).unwrap();
    store.append_event("s", msg("a")).unwrap();
    store.append_event("s", msg("b")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(on_disk(), 108);
    store.close().unwrap();
}

#[test]
fn batched_buffer_keeps_other_writers_correct() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = StoreOptions {
        batched: true,
        flush_interval: std::time::Duration::from_secs(3600),
    };
    let batched = Store::open_with(tmp.path(), opts).unwrap();
    create(&batched, "s");
    for i in 0..10 {
        assert_eq!(
            batched.append_event("s", msg(&format!("b{i}"))).unwrap(),
            i + 1
        );
    }
    // Another writer waits for the buffered lines, then continues after them.
    let other = Store::open(tmp.path()).unwrap();
    let writer = std::thread::spawn(move || other.append_event("s", msg("other")).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        !writer.is_finished(),
        "the buffering store holds the session's write lock"
    );
    // Reading through the buffering store itself writes the buffer out (the
    // waiting writer may slip in right after).
    let read = batched.events("s", 0).unwrap().events;
    assert!(read.len() >= 10);
    for (i, e) in read.iter().take(10).enumerate() {
        assert_eq!(e.data["text"], format!("b{i}"));
    }
    assert_eq!(writer.join().unwrap(), 11);
    assert_eq!(batched.append_event("s", msg("after")).unwrap(), 12);
    batched.close().unwrap();
    let seqs: Vec<u64> = Store::open(tmp.path())
        .unwrap()
        .events("s", 0)
        .unwrap()
        .events
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=12).collect::<Vec<_>>());
}

#[test]
fn recorder_lifecycle() {
    let (_t, store) = new_store();
    let rec = Recorder::new(&store);
    let id = rec.session_id().to_string();
    assert!(matches!(
        rec.record_agent_message("x"),
        Err(Error::InvalidArgument(_))
    ));
    rec.start("agent", "/w", None).unwrap();
    assert!(rec.is_started());
    assert!(rec.start("agent", "/w", None).is_err());
    rec.record_user_prompt("hello", &[]).unwrap();
    rec.record_agent_message("hi").unwrap();
    assert!(matches!(
        rec.record_permission("t", "o", "maybe"),
        Err(Error::InvalidArgument(_))
    ));
    rec.suspend().unwrap();
    assert!(!rec.is_started());
    assert!(rec.record_agent_message("lost").is_err());
    let again = Recorder::with_id(&store, &id).unwrap();
    again.resume().unwrap();
    again.record_agent_thought("hmm").unwrap();
    again.set_prune_limits(PruneLimits {
        max_messages: 3,
        max_size_bytes: 0,
    });
    again.record_error("boom", 7).unwrap();
    again.end("user_quit").unwrap();
    assert_eq!(again.event_count().unwrap(), 3);
    let m = store.metadata(&id).unwrap();
    assert_eq!(m.status(), "completed");
    let types: Vec<String> = store
        .events(&id, 0)
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(types, ["agent_thought", "error", "session_end"]);
    assert!(matches!(
        Recorder::with_id(&store, "missing").unwrap().resume(),
        Err(Error::SessionNotFound(_))
    ));
}

#[test]
fn player_navigation_and_helpers() {
    let (_tmp, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let mut p = Player::open(&store, "20260201-120000-fixture01-complete").unwrap();
    assert_eq!(p.len(), 20);
    assert_eq!(p.position(), 0);
    assert_eq!(p.peek().unwrap().seq, 1);
    assert_eq!(p.next().unwrap().seq, 1);
    assert_eq!(p.next().unwrap().seq, 2);
    assert_eq!(p.position(), 2);
    p.seek(19).unwrap();
    assert!(p.has_next());
    assert_eq!(p.next().unwrap().event_type, "session_end");
    assert!(!p.has_next());
    assert!(p.next().is_none());
    assert!(matches!(p.seek(21), Err(Error::InvalidArgument(_))));
    p.reset();
    assert_eq!(p.peek().unwrap().seq, 1);
    assert_eq!(p.events_of_type("tool_call_update").len(), 3);
    assert_eq!(p.metadata().status(), "completed");
    assert!(matches!(
        Player::open(&store, "missing"),
        Err(Error::SessionNotFound(_))
    ));

    use agentsession::{build_conversation_history, last_agent_message};
    let events = p.events();
    let h = build_conversation_history(events, 1);
    assert!(h.contains("--- Turn 1 ---\nUSER: Thanks, that's all.\n\nASSISTANT: You're welcome!"));
    assert!(!h.contains("Turn 2"));
    assert_eq!(last_agent_message(events), "You're welcome!");
    assert_eq!(build_conversation_history(&[], 5), "");
    // Long turns are cut at 500 / 1000 bytes.
    let (_t, s2) = new_store();
    let rec = Recorder::with_id(&s2, "long").unwrap();
    rec.start("a", "/w", None).unwrap();
    rec.record_user_prompt(&"é".repeat(400), &[]).unwrap();
    rec.record_agent_message(&"a".repeat(1500)).unwrap();
    let h = build_conversation_history(&s2.events("long", 0).unwrap().events, 0);
    let user_line = h.lines().find(|l| l.starts_with("USER: ")).unwrap();
    assert!(user_line.len() <= "USER: ".len() + 500 && user_line.ends_with("..."));
    let agent_line = h.lines().find(|l| l.starts_with("ASSISTANT: ")).unwrap();
    assert_eq!(agent_line.len(), "ASSISTANT: ".len() + 1000);
}

/// Child side of the multi-process test: appends `AGS_APPENDS` events and
/// prints each seq as soon as the call returns.
#[test]
#[ignore = "child process entry point of multi_process_appends"]
fn child_appender() {
    let base = std::env::var("AGS_BASE").unwrap();
    let n: usize = std::env::var("AGS_APPENDS").unwrap().parse().unwrap();
    let store = Store::open(&base).unwrap();
    let me = std::process::id();
    let out = std::io::stdout();
    for i in 0..n {
        let seq = if i % 10 == 9 {
            store
                .append_events(
                    "s",
                    vec![msg(&format!("{me}-{i}a")), msg(&format!("{me}-{i}b"))],
                )
                .unwrap()[1]
        } else {
            store.append_event("s", msg(&format!("{me}-{i}"))).unwrap()
        };
        writeln!(out.lock(), "SEQ {seq}").unwrap();
    }
}

#[test]
fn multi_process_appends() {
    let (_t, store) = new_store();
    create(&store, "s");
    let base = store.base_dir().unwrap().to_string_lossy().into_owned();
    const PROCS: usize = 4;
    const APPENDS: usize = 200;
    let children: Vec<_> = (0..PROCS)
        .map(|_| {
            common::spawn_child(
                "child_appender",
                &[
                    ("AGS_BASE", base.clone()),
                    ("AGS_APPENDS", APPENDS.to_string()),
                ],
            )
        })
        .collect();
    // Meanwhile this process appends through two handles and checks metadata parses.
    let other = Store::open(store.base_dir().unwrap()).unwrap();
    for i in 0..APPENDS {
        let s = if i % 2 == 0 { &store } else { &other };
        s.append_event("s", msg("parent")).unwrap();
        let raw = fs::read(store.base_dir().unwrap().join("s/metadata.json")).unwrap();
        serde_json::from_slice::<Value>(&raw).expect("metadata.json always valid JSON");
    }
    let mut acked = Vec::new();
    for mut c in children {
        let stdout = c.stdout.take().unwrap();
        let out: Vec<String> = BufReader::new(stdout).lines().map(Result::unwrap).collect();
        acked.extend(common::tagged_numbers(&out.join("\n"), "SEQ "));
        assert!(c.wait().unwrap().success());
    }
    let total = PROCS * (APPENDS + APPENDS / 10) + APPENDS;
    let events = store.events("s", 0).unwrap();
    assert!(events.skipped.is_empty());
    let seqs: Vec<u64> = events.events.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=total as u64).collect::<Vec<_>>(),
        "contiguous and unique"
    );
    assert_eq!(store.metadata("s").unwrap().event_count(), total as u64);
    // Every seq a child was told about holds that child's event.
    for seq in acked {
        assert!(seqs.contains(&seq));
    }
    println!("{PROCS} processes + 2 handles appended {total} events: seqs 1..={total} contiguous");
}
