//! The fixture store written by the reference implementation, read through
//! this library and compared with the reference reader's dump.

mod common;

use agentsession::event::types;
use agentsession::{build_conversation_history, last_agent_message, Store};
use serde_json::Value;

fn dump() -> Value {
    let p = common::fixtures_dir().join("mitto-sessions.dump.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// JSON equality where numbers compare as the reference reader saw them
/// (float64), everything else exactly.
fn same_as_reference(ours: &Value, theirs: &Value) -> bool {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_as_reference(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_as_reference(v, w)))
        }
        _ => ours == theirs,
    }
}

fn seqs(events: &[agentsession::Event]) -> Value {
    Value::from(events.iter().map(|e| e.seq).collect::<Vec<_>>())
}

#[test]
fn fixture_store_matches_reference_dump() {
    let (_tmp, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let dump = dump();
    let list = store.list().unwrap();
    assert!(list.skipped.is_empty(), "{:?}", list.skipped);
    assert_eq!(
        list.sessions.len() as u64,
        dump["session_count"].as_u64().unwrap()
    );

    for (expected, meta) in dump["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&list.sessions)
    {
        let id = expected["session_id"].as_str().unwrap();
        assert_eq!(meta.session_id(), id);
        assert!(store.exists(id).unwrap());
        assert_eq!(meta.to_value(), expected["metadata"], "{id} metadata");

        let read = store.events(id, 0).unwrap();
        assert!(read.skipped.is_empty());
        let events = read.events;
        let ours: Vec<Value> = events
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        let theirs = expected["events"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{id} event count");
        for (o, t) in ours.iter().zip(theirs) {
            assert!(same_as_reference(o, t), "{id}: {o} != {t}");
        }
        let decoded: Vec<&str> = events
            .iter()
            .map(|e| e.decode().unwrap().type_name())
            .collect();
        assert_eq!(Value::from(decoded), expected["decoded_types"], "{id}");

        assert_eq!(
            seqs(&store.events(id, 2).unwrap().events),
            expected["seqs_read_events_from_2"]
        );
        assert_eq!(
            seqs(&store.events_last(id, 3, 0, false).unwrap().events),
            expected["seqs_read_events_last_3"]
        );
        assert_eq!(
            seqs(&store.events_last(id, 2, 4, true).unwrap().events),
            expected["seqs_read_events_last_reverse_2_before_4"]
        );
        assert_eq!(
            last_agent_message(&events),
            expected["last_agent_message"],
            "{id}"
        );
        assert_eq!(
            build_conversation_history(&events, 10),
            expected["conversation_history_max10"],
            "{id}"
        );

        let images: Vec<Value> = store
            .list_images(id)
            .unwrap()
            .into_iter()
            .map(|i| {
                serde_json::json!({"id": i.id, "mime_type": i.mime_type, "name": i.name, "size": i.size})
            })
            .collect();
        assert_eq!(Value::from(images), expected["images"], "{id} images");

        let queue = store.queue(id).unwrap().list().unwrap();
        assert_eq!(
            serde_json::to_value(queue).unwrap(),
            expected["queue"],
            "{id} queue"
        );
        let buttons = store.action_buttons(id).unwrap().get().unwrap();
        assert_eq!(
            serde_json::to_value(buttons.buttons()).unwrap(),
            expected["action_buttons"],
            "{id} action buttons"
        );
        assert_eq!(
            Value::from(buttons.generated_at()),
            expected["action_buttons_generated_at"]
        );
        assert_eq!(
            Value::from(buttons.generated_at().map(|_| buttons.for_event_seq())),
            expected["action_buttons_for_event_seq"]
        );
    }
}

#[test]
fn fixture_values_read_exactly() {
    let (_tmp, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let id = "20260201-122000-fixture05-unicode";
    let events = store.events(id, 0).unwrap().events;
    let raw = &events[5].data["raw_input"];
    // Exact, unlike the reference reader's float64.
    assert_eq!(raw["big_int"].as_u64(), Some(9_007_199_254_740_993));
    assert_eq!(raw["exp"].as_f64(), Some(1e21));
    assert_eq!(raw["neg_exp"].as_f64(), Some(1.5e-7));
    let prompt = events[1].data["message"].as_str().unwrap();
    for needle in [
        "\u{2028}", "\u{2029}", "\u{1}", "\u{1f}", "\u{7f}", "\r\n", "\u{feff}", "𝄞", "<script>",
    ] {
        assert!(prompt.contains(needle), "{needle:?} lost");
    }
    let stamps: Vec<&str> = events[6..10].iter().map(|e| e.timestamp.as_str()).collect();
    assert_eq!(
        stamps,
        [
            "2026-02-01T12:20:00Z",
            "2026-02-01T12:20:01.5Z",
            "2026-02-01T17:50:02.123456789+05:30",
            "2026-02-01T09:20:03.12-03:00"
        ]
    );
    for e in &events[6..10] {
        assert!(e.time().is_some());
    }
    let empty = store.metadata("20260201-122500-fixture06-empty").unwrap();
    assert!(empty.last_user_message_at().is_none());
    assert_eq!(empty.event_count(), 0);
}

/// The shape (keys and JSON kinds, recursively) of a value.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::from(a.iter().map(shape).collect::<Vec<_>>()),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Bool(_) => "bool".into(),
        Value::Null => "null".into(),
    }
}

#[test]
fn what_we_write_has_the_reference_shape() {
    use agentsession::event::{ImageRef, PlanEntry, ToolCallData};
    use agentsession::Recorder;
    let (_tmp, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let fixture = "20260201-120000-fixture01-complete";
    let reference = store.events(fixture, 0).unwrap().events;

    // Record the same conversation as fixture01.
    let rec = Recorder::with_id(&store, "ours").unwrap();
    rec.start(
        "fixture-agent",
        "/home/fixture/project",
        Some("fixture-agent --acp --model fixture-1"),
    )
    .unwrap();
    let png = std::fs::read(base.join(fixture).join("images/img_001_65a695f3.png")).unwrap();
    let img = store
        .save_image("ours", &png, "image/png", Some("screenshot.png"))
        .unwrap();
    for ev in &reference[1..] {
        let d = &ev.data;
        let s = |k: &str| d[k].as_str().map(str::to_string);
        match ev.event_type.as_str() {
            types::USER_PROMPT => {
                let images: Vec<ImageRef> = d
                    .get("images")
                    .map(|_| {
                        vec![ImageRef {
                            id: img.id.clone(),
                            name: img.name.clone(),
                            mime_type: img.mime_type.clone(),
                        }]
                    })
                    .unwrap_or_default();
                rec.record_user_prompt(&s("message").unwrap(), &images)
                    .unwrap()
            }
            types::AGENT_THOUGHT => rec.record_agent_thought(&s("text").unwrap()).unwrap(),
            types::AGENT_MESSAGE => rec.record_agent_message(&s("text").unwrap()).unwrap(),
            types::PLAN => {
                let entries: Vec<PlanEntry> = serde_json::from_value(d["entries"].clone()).unwrap();
                rec.record_plan(&entries).unwrap()
            }
            types::TOOL_CALL => {
                let call: ToolCallData = serde_json::from_value(d.clone()).unwrap();
                rec.record_tool_call(&call).unwrap()
            }
            types::TOOL_CALL_UPDATE => rec
                .record_tool_call_update(
                    &s("tool_call_id").unwrap(),
                    s("status").as_deref(),
                    s("title").as_deref(),
                )
                .unwrap(),
            types::PERMISSION => rec
                .record_permission(
                    &s("title").unwrap(),
                    &s("selected_option").unwrap(),
                    &s("outcome").unwrap(),
                )
                .unwrap(),
            types::FILE_READ => rec
                .record_file_read(&s("path").unwrap(), d["size"].as_i64().unwrap())
                .unwrap(),
            types::FILE_WRITE if d.get("content").is_none() => rec
                .record_file_write(&s("path").unwrap(), d["size"].as_i64().unwrap())
                .unwrap(),
            types::ERROR => rec
                .record_error(&s("message").unwrap(), d["code"].as_i64().unwrap_or(0))
                .unwrap(),
            types::SESSION_END => {
                rec.end(&s("reason").unwrap()).unwrap();
                0
            }
            other => store
                .append_event("ours", agentsession::NewEvent::new(other, d.clone()))
                .unwrap(),
        };
    }
    let ours = store.events("ours", 0).unwrap().events;
    assert_eq!(ours.len(), reference.len());
    for (o, r) in ours.iter().zip(&reference) {
        assert_eq!(o.seq, r.seq);
        let (o, r) = (
            serde_json::to_value(o).unwrap(),
            serde_json::to_value(r).unwrap(),
        );
        assert_eq!(shape(&o["data"]), shape(&r["data"]), "{o} vs {r}");
        assert_eq!(
            o.as_object().unwrap().keys().collect::<Vec<_>>(),
            r.as_object().unwrap().keys().collect::<Vec<_>>()
        );
    }
    // Metadata: same keys in the same order, 2-space indent, no trailing newline.
    let ours_meta = std::fs::read_to_string(base.join("ours/metadata.json")).unwrap();
    let ref_meta = std::fs::read_to_string(base.join(fixture).join("metadata.json")).unwrap();
    let keys = |s: &str| -> Vec<String> {
        serde_json::from_str::<serde_json::Map<String, Value>>(s)
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(keys(&ours_meta), keys(&ref_meta));
    assert!(ours_meta.starts_with("{\n  \"session_id\": \"ours\",\n"));
    assert!(!ours_meta.ends_with('\n'));
    assert_eq!(store.metadata("ours").unwrap().status(), "completed");
    assert_eq!(store.metadata("ours").unwrap().event_count(), 20);
}
