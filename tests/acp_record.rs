//! Recording ACP `session/update` notifications, replaying them, resume plans
//! and usage. The notifications come from the real test peers of
//! tests/peers/ (official Python and TypeScript SDKs), captured through the
//! auxiliary session's update observer, and from a recorded stream that holds
//! every stable ACP v1 kind, unknown kinds and fields no schema knows.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agentsession::acp::{self, kinds, resume_plan, ResumeMethod};
use agentsession::{
    AuxiliarySession, CreateOptions, Error, Event, NewEvent, Player, Recorder, Store,
};
use base64::Engine;
use common::Peer;
use serde_json::{json, Map, Value};

const TURN: Duration = Duration::from_secs(15);

fn store() -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::open(tmp.path().join("sessions")).unwrap();
    (tmp, store)
}

fn started(store: &Store, id: &str) -> Recorder {
    let rec = Recorder::with_id(store, id).unwrap();
    rec.start("peer-agent", "/work/project", None).unwrap();
    rec
}

fn events(store: &Store, id: &str) -> Vec<Event> {
    store.events(id, 0).unwrap().events
}

fn types_of(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

fn note(update: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": "session/update",
           "params": {"sessionId": "agent-sess-1", "update": update}})
}

fn text_chunk(kind: &str, text: &str) -> Value {
    note(json!({"sessionUpdate": kind, "content": {"type": "text", "text": text}}))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A valid 1x1 PNG.
const TINY_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgaPj/HwAEggJ/59habAAAAABJRU5ErkJggg==";

// ----- comparing update streams -------------------------------------------------------

/// Whether an update is a chunk holding only text (and maybe a messageId).
fn plain_text_chunk(u: &Map<String, Value>) -> bool {
    let kind = u["sessionUpdate"].as_str().unwrap_or("");
    kind.ends_with("_chunk")
        && u.keys()
            .all(|k| ["sessionUpdate", "content", "messageId"].contains(&k.as_str()))
        && u["content"]["type"] == "text"
        && u["content"].as_object().unwrap().len() == 2
}

/// The notifications with consecutive plain text chunks of one kind (and
/// messageId) joined: what "equal after coalescing" compares.
fn coalesced(notifications: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for n in notifications {
        let n = n.clone();
        let u = n["params"]["update"].as_object().unwrap();
        let plain_params = n["params"].as_object().unwrap().len() == 2;
        if let Some(last) = out.last_mut() {
            let prev = last["params"]["update"].as_object().unwrap();
            if plain_params
                && last["params"].as_object().unwrap().len() == 2
                && plain_text_chunk(u)
                && plain_text_chunk(prev)
                && prev["sessionUpdate"] == u["sessionUpdate"]
                && prev.get("messageId") == u.get("messageId")
            {
                let joined = format!(
                    "{}{}",
                    prev["content"]["text"].as_str().unwrap(),
                    u["content"]["text"].as_str().unwrap()
                );
                last["params"]["update"]["content"]["text"] = Value::String(joined);
                continue;
            }
        }
        out.push(n);
    }
    out
}

/// Replays the session and checks it against what the agent sent.
fn assert_replay_matches(store: &Store, id: &str, sent: &[Value]) {
    let replayed = Player::open(store, id).unwrap().acp_updates().unwrap();
    let (want, got) = (coalesced(sent), coalesced(&replayed));
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        assert_eq!(g, w, "notification {i} differs");
    }
    assert_eq!(got.len(), want.len(), "number of notifications");
}

// ----- real agents ------------------------------------------------------------------

/// Declares each scenario once per peer: `python::name` and `ts::name`.
macro_rules! for_each_peer {
    ($($name:ident),* $(,)?) => {
        mod python { $( #[test] fn $name() { super::$name(super::Peer::Python) } )* }
        mod ts { $( #[test] fn $name() { super::$name(super::Peer::Ts) } )* }
    };
}

for_each_peer!(live_turns_recorded_and_replayed);

/// Runs two turns on a peer, recording every update it sends (through the
/// observer, as a host would) and keeping a copy of each notification.
fn live_turns_recorded_and_replayed(peer: Peer) {
    let Some(command) = peer.command(&[]) else {
        return;
    };
    let (_tmp, store) = store();
    let rec = Arc::new(started(&store, "live"));
    let sent: Arc<Mutex<Vec<Value>>> = Arc::default();
    let problems: Arc<Mutex<Vec<String>>> = Arc::default();
    let aux = AuxiliarySession::new();
    aux.initialize(&command, Some(&common::repo_root()))
        .unwrap();
    {
        let (rec, sent, problems) = (rec.clone(), sent.clone(), problems.clone());
        aux.set_update_observer(Some(Arc::new(move |n: &Value| {
            sent.lock().unwrap().push(n.clone());
            match rec.record_acp_update_value(n) {
                Ok(r) => problems.lock().unwrap().extend(r.warnings),
                Err(e) => problems.lock().unwrap().push(e.to_string()),
            }
        })));
    }
    rec.record_user_prompt("show me everything", &[]).unwrap();
    let reply1 = aux
        .prompt("@@showcase@@ \"show me everything now\"", TURN)
        .unwrap();
    rec.record_turn_end("end_turn").unwrap();
    let reply2 = aux
        .prompt(
            "@@all_kinds@@@@unknown_update@@@@thought:weighing it@@@@reply:h\u{e9}llo w\u{f6}rld@@",
            TURN,
        )
        .unwrap();
    rec.record_turn_end("end_turn").unwrap();
    aux.shutdown();
    assert_eq!(reply1, "Show Me Everything");
    assert_eq!(reply2, "h\u{e9}llo w\u{f6}rld");
    assert!(problems.lock().unwrap().is_empty(), "{:?}", problems.lock());

    let sent = sent.lock().unwrap().clone();
    let updates: Vec<&Value> = sent.iter().map(|n| &n["params"]["update"]).collect();
    let kinds_sent: Vec<&str> = updates
        .iter()
        .map(|u| u["sessionUpdate"].as_str().unwrap())
        .collect();
    for kind in kinds::STABLE {
        assert!(kinds_sent.contains(&kind), "the peer never sent {kind}");
    }
    let acp_session_id = sent[0]["params"]["sessionId"].as_str().unwrap().to_string();
    let find = |kind: &str| -> Vec<&Value> {
        updates
            .iter()
            .copied()
            .filter(|u| u["sessionUpdate"] == kind)
            .collect()
    };
    let texts = |kind: &str, from: usize, to: usize| -> String {
        updates[from..to]
            .iter()
            .filter(|u| u["sessionUpdate"] == kind && u["content"]["type"] == "text")
            .map(|u| u["content"]["text"].as_str().unwrap())
            .collect()
    };
    let turn1_len = kinds_sent
        .iter()
        .position(|k| *k == kinds::USER_MESSAGE_CHUNK)
        .unwrap();

    let evs = events(&store, "live");
    assert_eq!(
        types_of(&evs),
        [
            "session_start",
            "user_prompt",
            "agent_thought",
            "plan",
            "tool_call",
            "tool_call_update",
            "agent_message", // the image, then the reply text
            "turn_end",
            "user_prompt",
            "usage",
            "available_commands",
            "current_mode",
            "config_options",
            "session_info",
            "usage",
            "peer_custom_kind",
            "agent_thought",
            "agent_message",
            "turn_end",
        ]
    );
    // Text: one event per message, every chunk's text, in order.
    assert_eq!(
        evs[2].data["text"],
        texts(kinds::AGENT_THOUGHT_CHUNK, 0, turn1_len)
    );
    assert_eq!(
        evs[6].data["text"],
        texts(kinds::AGENT_MESSAGE_CHUNK, 0, turn1_len)
    );
    assert_eq!(evs[6].data["text"], reply1);
    assert_eq!(evs[8].data["message"], "Show every kind");
    assert_eq!(evs[16].data["text"], "weighing it");
    let n = updates.len();
    assert_eq!(
        evs[17].data["text"],
        texts(kinds::AGENT_MESSAGE_CHUNK, turn1_len, n)
    );
    assert_eq!(evs[17].data["text"], reply2);
    // The reply chunk with a field no schema knows keeps it, with its place.
    let odd = find(kinds::AGENT_MESSAGE_CHUNK)
        .into_iter()
        .find(|u| u.get("peerUnknownField").is_some())
        .unwrap();
    let entry = &evs[17].data["chunks"][0];
    assert_eq!(entry["offset"], 0);
    assert_eq!(entry["len"], odd["content"]["text"].as_str().unwrap().len());
    assert_eq!(entry["update"]["peerUnknownField"], odd["peerUnknownField"]);
    // The image is saved and referenced, before the reply text.
    let image_chunk = find(kinds::AGENT_MESSAGE_CHUNK)[0];
    let image = &evs[6].data["images"][0];
    assert_eq!(image["mime_type"], "image/png");
    let id = image["id"].as_str().unwrap();
    assert_eq!(evs[6].data["chunks"][0]["image_id"], id);
    assert_eq!(evs[6].data["chunks"][0]["offset"], 0);
    let stored = std::fs::read(store.image_path("live", id).unwrap()).unwrap();
    assert_eq!(
        b64(&stored),
        image_chunk["content"]["data"].as_str().unwrap()
    );
    // Plan, tool call and its update, field by field.
    let plan = find(kinds::PLAN)[0];
    let entries = plan["entries"].as_array().unwrap();
    assert_eq!(
        evs[3].data["entries"].as_array().unwrap().len(),
        entries.len()
    );
    for (i, (stored, sent)) in evs[3].data["entries"]
        .as_array()
        .unwrap()
        .iter()
        .zip(entries)
        .enumerate()
    {
        assert_eq!(stored["id"], (i + 1).to_string());
        assert_eq!(stored["title"], sent["content"]);
        assert_eq!(stored["status"], sent["status"]);
        assert_eq!(stored["priority"], sent["priority"]);
    }
    let call = find(kinds::TOOL_CALL)[0];
    assert_eq!(
        evs[4].data,
        json!({"tool_call_id": call["toolCallId"], "title": call["title"],
               "status": call["status"], "kind": call["kind"], "raw_input": call["rawInput"]})
    );
    let change = find(kinds::TOOL_CALL_UPDATE)[0];
    assert_eq!(
        evs[5].data,
        json!({"tool_call_id": change["toolCallId"], "status": change["status"],
               "raw_output": change["rawOutput"]})
    );
    // The kinds kept as events of their own.
    let usage = find(kinds::USAGE_UPDATE);
    assert_eq!(
        evs[9].data,
        json!({"used": usage[0]["used"], "size": usage[0]["size"], "cost": usage[0]["cost"]})
    );
    assert_eq!(
        evs[10].data["available_commands"],
        find(kinds::AVAILABLE_COMMANDS_UPDATE)[0]["availableCommands"]
    );
    assert_eq!(
        evs[11].data,
        json!({"current_mode_id": find(kinds::CURRENT_MODE_UPDATE)[0]["currentModeId"]})
    );
    assert_eq!(
        evs[12].data["config_options"],
        find(kinds::CONFIG_OPTION_UPDATE)[0]["configOptions"]
    );
    let info = find(kinds::SESSION_INFO_UPDATE)[0];
    assert_eq!(
        evs[13].data,
        json!({"title": info["title"], "updated_at": info["updatedAt"]})
    );
    assert_eq!(&evs[15].data, find("peer_custom_kind")[0]);
    assert_eq!(evs[7].data, json!({"stop_reason": "end_turn"}));

    // Metadata: the agent's session id, its title as the name, the latest usage.
    let meta = store.metadata("live").unwrap();
    assert_eq!(meta.acp_session_id(), acp_session_id);
    assert_eq!(meta.name(), "Peer showcase session");
    let latest = meta.get("usage").unwrap();
    assert_eq!(latest["used"], 1800);
    assert_eq!(latest["cost"], json!({"amount": 0.75, "currency": "USD"}));
    let totals = store.usage("live").unwrap();
    assert_eq!(
        (totals.updates, totals.used, totals.peak_used),
        (2, 1800, 1800)
    );
    assert_eq!(totals.cost["USD"], 0.75);

    // The replay starts with the prompt the host recorded itself.
    let mut expected = vec![
        json!({"jsonrpc": "2.0", "method": "session/update", "params": {
        "sessionId": acp_session_id,
        "update": {"sessionUpdate": "user_message_chunk",
                   "content": {"type": "text", "text": "show me everything"}}}}),
    ];
    expected.extend(sent);
    assert_replay_matches(&store, "live", &expected);
}

// ----- a recorded stream with every kind ------------------------------------------------

/// Every stable v1 kind, with the optional fields and fields no schema
/// knows; unstable and `_`-prefixed kinds; several content block types.
fn recorded_stream() -> Vec<Value> {
    let mut stream = vec![
        text_chunk("user_message_chunk", "Fix the "),
        text_chunk("user_message_chunk", "parser, see "),
        note(json!({"sessionUpdate": "user_message_chunk",
            "content": {"type": "resource_link", "uri": "file:///src/parse.rs", "name": "parse.rs"}})),
        note(json!({"sessionUpdate": "user_message_chunk",
            "content": {"type": "image", "data": TINY_PNG, "mimeType": "image/png"}})),
        text_chunk("user_message_chunk", " and this screenshot"),
        note(
            json!({"sessionUpdate": "available_commands_update", "availableCommands": [
            {"name": "web", "description": "Search", "input": {"hint": "query"}}], "_meta": {"v": 1}}),
        ),
        note(json!({"sessionUpdate": "current_mode_update", "currentModeId": "architect"})),
        note(
            json!({"sessionUpdate": "config_option_update", "configOptions": [
            {"id": "m", "name": "Model", "type": "select", "currentValue": "a",
             "options": [{"value": "a", "name": "A"}]}]}),
        ),
        note(
            json!({"sessionUpdate": "agent_thought_chunk", "messageId": "t1",
            "content": {"type": "text", "text": "The parser "}}),
        ),
        note(
            json!({"sessionUpdate": "agent_thought_chunk", "messageId": "t1",
            "content": {"type": "text", "text": "drops tabs.", "annotations": {"priority": 0.5}}}),
        ),
        note(
            json!({"sessionUpdate": "agent_thought_chunk", "messageId": "t1",
            "content": {"type": "text", "text": " Fix it."}}),
        ),
        note(json!({"sessionUpdate": "plan", "entries": [
            {"content": "Read parse.rs", "priority": "high", "status": "completed"},
            {"content": "Patch it", "priority": "low", "status": "pending", "_meta": {"x": 1}}]})),
        note(
            json!({"sessionUpdate": "tool_call", "toolCallId": "c1", "title": "Read parse.rs",
            "kind": "read", "status": "in_progress", "rawInput": {"path": "src/parse.rs"},
            "locations": [{"path": "src/parse.rs", "line": 3}],
            "content": [{"type": "content", "content": {"type": "text", "text": "fn parse"}}]}),
        ),
        note(json!({"sessionUpdate": "tool_call", "toolCallId": "c2", "title": "Think"})),
        note(
            json!({"sessionUpdate": "tool_call_update", "toolCallId": "c1", "status": "completed",
            "rawOutput": "fn parse() {}", "title": "Read parse.rs (1 line)", "kind": "read",
            "content": null}),
        ),
        note(json!({"sessionUpdate": "tool_call_update", "toolCallId": "c2"})),
        note(json!({"sessionUpdate": "usage_update", "used": 5000, "size": 100000})),
        note(
            json!({"sessionUpdate": "agent_message_chunk", "messageId": "m1",
            "content": {"type": "text", "text": "Done: "}}),
        ),
        note(
            json!({"sessionUpdate": "agent_message_chunk", "messageId": "m1",
            "content": {"type": "audio", "data": "AAAA", "mimeType": "audio/wav"}}),
        ),
        note(
            json!({"sessionUpdate": "agent_message_chunk", "messageId": "m1",
            "content": {"type": "resource", "resource": {"uri": "file:///a", "text": "diff"}}}),
        ),
        note(
            json!({"sessionUpdate": "agent_message_chunk", "messageId": "m1",
            "content": {"type": "text", "text": "the tabs are kept. \u{1F600}"}}),
        ),
        note(
            json!({"sessionUpdate": "agent_message_chunk", "messageId": "m2",
            "content": {"type": "text", "text": "A second message."}}),
        ),
        note(
            json!({"sessionUpdate": "session_info_update", "title": "Parser fix",
            "updatedAt": null, "_meta": {"source": "agent"}}),
        ),
        note(
            json!({"sessionUpdate": "usage_update", "used": 7000, "size": 100000,
            "cost": {"amount": 0.5, "currency": "EUR"}}),
        ),
        note(json!({"sessionUpdate": "plan_update", "planId": "p1", "entries": []})),
        note(json!({"sessionUpdate": "_zed/highlight", "range": [1, 2]})),
        note(json!({"sessionUpdate": "agent_message_chunk",
            "content": {"type": "text", "text": "Bye"}})),
    ];
    // A notification with a field beside sessionId and update.
    stream.push(
        json!({"jsonrpc": "2.0", "method": "session/update", "params": {
        "sessionId": "agent-sess-1", "_meta": {"trace": "t-9"},
        "update": {"sessionUpdate": "current_mode_update", "currentModeId": "code"}}}),
    );
    stream
}

#[test]
fn recorded_stream_with_every_kind() {
    let (_tmp, store) = store();
    let rec = started(&store, "stream");
    let stream = recorded_stream();
    let mut warnings = Vec::new();
    for n in &stream {
        // As text, as hosts usually have it.
        warnings.extend(rec.record_acp_update(&n.to_string()).unwrap().warnings);
    }
    rec.record_turn_end("max_tokens").unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let evs = events(&store, "stream");
    assert_eq!(
        types_of(&evs),
        [
            "session_start",
            "user_prompt",
            "available_commands",
            "current_mode",
            "config_options",
            "agent_thought",
            "plan",
            "tool_call",
            "tool_call",
            "tool_call_update",
            "tool_call_update",
            "usage",
            "agent_message",
            "agent_message",
            "session_info",
            "usage",
            "plan_update",
            "_zed/highlight",
            "agent_message",
            "current_mode",
            "turn_end",
        ]
    );
    let prompt = &evs[1].data;
    assert_eq!(
        prompt["message"],
        "Fix the parser, see  and this screenshot"
    );
    assert_eq!(prompt["images"][0]["mime_type"], "image/png");
    assert_eq!(prompt["chunks"][0]["offset"], "Fix the parser, see ".len());
    assert_eq!(
        prompt["chunks"][0]["update"]["content"]["type"],
        "resource_link"
    );
    assert_eq!(evs[5].data["text"], "The parser drops tabs. Fix it.");
    assert_eq!(evs[5].data["message_id"], "t1");
    assert_eq!(
        evs[5].data["chunks"],
        json!([{"offset": 11, "len": 11, "update": {"content": {"type": "text", "annotations": {"priority": 0.5}}}}])
    );
    assert_eq!(
        evs[6].data["entries"][1],
        json!({"id": "2", "title": "Patch it", "status": "pending", "priority": "low", "acp": {"_meta": {"x": 1}}})
    );
    assert_eq!(evs[7].data["acp"]["locations"][0]["line"], 3);
    assert_eq!(evs[8].data, json!({"tool_call_id": "c2", "title": "Think"}));
    assert_eq!(evs[9].data["title"], "Read parse.rs (1 line)");
    assert_eq!(evs[9].data["raw_output"], "fn parse() {}");
    assert_eq!(evs[9].data["acp"], json!({"content": null}));
    assert_eq!(evs[10].data, json!({"tool_call_id": "c2"}));
    assert_eq!(evs[12].data["text"], "Done: the tabs are kept. \u{1F600}");
    assert_eq!(evs[12].data["chunks"].as_array().unwrap().len(), 2);
    assert_eq!(
        evs[12].data["chunks"][0]["update"]["content"]["data"],
        "AAAA"
    );
    assert_eq!(
        evs[13].data,
        json!({"text": "A second message.", "message_id": "m2"})
    );
    assert_eq!(
        evs[14].data,
        json!({"title": "Parser fix", "updated_at": null, "acp": {"_meta": {"source": "agent"}}})
    );
    assert_eq!(
        evs[16].data,
        json!({"sessionUpdate": "plan_update", "planId": "p1", "entries": []})
    );
    assert_eq!(evs[17].data["range"], json!([1, 2]));
    assert_eq!(evs[18].data, json!({"text": "Bye"}));
    assert_eq!(
        evs[19].data["acp_params"],
        json!({"_meta": {"trace": "t-9"}})
    );
    assert_eq!(evs[20].data, json!({"stop_reason": "max_tokens"}));
    assert_eq!(store.metadata("stream").unwrap().name(), "Parser fix");

    assert_replay_matches(&store, "stream", &stream);
    // The thought's annotated chunk comes back as its own chunk, in place.
    let replayed = Player::open(&store, "stream")
        .unwrap()
        .acp_updates()
        .unwrap();
    let thoughts: Vec<&Value> = replayed
        .iter()
        .map(|n| &n["params"]["update"])
        .filter(|u| u["sessionUpdate"] == "agent_thought_chunk")
        .collect();
    assert_eq!(thoughts.len(), 3);
    assert_eq!(thoughts[1]["content"]["text"], "drops tabs.");
}

// ----- coalescing and flush points ----------------------------------------------------

#[test]
fn chunks_wait_until_another_kind_arrives() {
    let (_tmp, store) = store();
    let rec = started(&store, "s");
    for t in ["Hel", "lo, ", "world"] {
        let r = rec
            .record_acp_update_value(&text_chunk("agent_message_chunk", t))
            .unwrap();
        assert!(r.seqs.is_empty());
    }
    assert_eq!(rec.event_count().unwrap(), 1);
    // A thought: the message is written first, the thought waits.
    let r = rec
        .record_acp_update_value(&text_chunk("agent_thought_chunk", "hmm"))
        .unwrap();
    assert_eq!(r.seqs, [2]);
    let r = rec
        .record_acp_update_value(&note(
            json!({"sessionUpdate": "current_mode_update", "currentModeId": "x"}),
        ))
        .unwrap();
    assert_eq!(r.seqs, [3, 4]);
    let evs = events(&store, "s");
    assert_eq!(evs[1].data, json!({"text": "Hello, world"}));
    assert_eq!(evs[2].data, json!({"text": "hmm"}));
    // The message is stamped when its first chunk arrived.
    assert!(evs[1].time().unwrap() <= evs[2].time().unwrap());
}

#[test]
fn message_in_progress_written_at_each_flush_point() {
    let (_tmp, store) = store();
    let rec = started(&store, "s");
    let chunk = |t: &str| text_chunk("agent_message_chunk", t);
    let last = |store: &Store| events(store, "s").last().unwrap().clone();

    rec.record_acp_update_value(&chunk("at turn end")).unwrap();
    assert_eq!(rec.record_turn_end("end_turn").unwrap(), [2, 3]);
    assert_eq!(events(&store, "s")[1].data["text"], "at turn end");

    rec.record_acp_update_value(&chunk("before a prompt"))
        .unwrap();
    rec.record_user_prompt("next", &[]).unwrap();
    assert_eq!(
        types_of(&events(&store, "s"))[3..],
        ["agent_message", "user_prompt"]
    );

    rec.record_acp_update_value(&chunk("at suspend")).unwrap();
    rec.suspend().unwrap();
    assert_eq!(last(&store).data["text"], "at suspend");
    rec.resume().unwrap();

    rec.record_acp_update_value(&chunk("at end")).unwrap();
    rec.end("done").unwrap();
    let evs = events(&store, "s");
    assert_eq!(evs[evs.len() - 2].data["text"], "at end");
    assert_eq!(last(&store).event_type, "session_end");

    let rec = Recorder::with_id(&store, "s").unwrap();
    rec.resume().unwrap();
    rec.record_acp_update_value(&chunk("at drop")).unwrap();
    drop(rec);
    assert_eq!(last(&store).data["text"], "at drop");
}

#[test]
fn message_ids_and_kinds_split_messages() {
    let (_tmp, store) = store();
    let rec = started(&store, "s");
    let chunk = |id: &str, t: &str| {
        note(
            json!({"sessionUpdate": "agent_message_chunk", "messageId": id,
                    "content": {"type": "text", "text": t}}),
        )
    };
    for n in [
        chunk("a", "one "),
        chunk("a", "two"),
        chunk("b", "three"),
        text_chunk("user_message_chunk", "four"),
        text_chunk("agent_message_chunk", "five"),
    ] {
        rec.record_acp_update_value(&n).unwrap();
    }
    rec.record_turn_end("end_turn").unwrap();
    let data: Vec<Value> = events(&store, "s")[1..5]
        .iter()
        .map(|e| e.data.clone())
        .collect();
    assert_eq!(
        data,
        [
            json!({"text": "one two", "message_id": "a"}),
            json!({"text": "three", "message_id": "b"}),
            json!({"message": "four"}),
            json!({"text": "five"}),
        ]
    );
}

// ----- images --------------------------------------------------------------------------

#[test]
fn images_saved_referenced_and_kept_by_prune() {
    let (_tmp, store) = store();
    let rec = started(&store, "s");
    rec.record_acp_update_value(&text_chunk("agent_message_chunk", "Look: "))
        .unwrap();
    let image = note(json!({"sessionUpdate": "agent_message_chunk",
        "content": {"type": "image", "data": TINY_PNG, "mimeType": "image/png", "uri": "file:///shot.png"}}));
    rec.record_acp_update_value(&image).unwrap();
    // Not base64, and not an image: kept inline, reported.
    let bad = note(json!({"sessionUpdate": "agent_message_chunk",
        "content": {"type": "image", "data": "%%%", "mimeType": "image/png"}}));
    let r = rec.record_acp_update_value(&bad).unwrap();
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    let svg = note(json!({"sessionUpdate": "agent_message_chunk",
        "content": {"type": "image", "data": b64(b"<svg/>"), "mimeType": "image/svg+xml"}}));
    assert_eq!(rec.record_acp_update_value(&svg).unwrap().warnings.len(), 1);
    rec.record_turn_end("end_turn").unwrap();

    let images = store.list_images("s").unwrap();
    assert_eq!(images.len(), 1);
    let msg = &events(&store, "s")[1];
    assert_eq!(msg.data["text"], "Look: ");
    assert_eq!(
        msg.data["images"],
        json!([{"id": images[0].id, "mime_type": "image/png"}])
    );
    assert_eq!(
        msg.data["chunks"][0],
        json!({"offset": 6, "image_id": images[0].id,
               "update": {"content": {"type": "image", "mimeType": "image/png", "uri": "file:///shot.png"}}})
    );
    assert_eq!(msg.data["chunks"][1]["update"]["content"]["data"], "%%%");
    assert_eq!(
        b64(&std::fs::read(store.image_path("s", &images[0].id).unwrap()).unwrap()),
        TINY_PNG
    );
    assert_replay_matches(
        &store,
        "s",
        &[text_chunk("agent_message_chunk", "Look: "), image, bad, svg],
    );
    // Pruning keeps an image a kept message refers to.
    let limits = agentsession::PruneLimits {
        max_messages: 2,
        ..Default::default()
    };
    store.prune_if_needed("s", limits).unwrap();
    assert_eq!(store.list_images("s").unwrap().len(), 1);
}

// ----- what cannot be mapped ---------------------------------------------------------

#[test]
fn unknown_kinds_kept_raw_and_bad_known_kinds_kept_whole() {
    let (_tmp, store) = store();
    let rec = started(&store, "s");
    let custom = note(json!({"sessionUpdate": "_acme/progress", "pct": 40}));
    assert!(rec
        .record_acp_update_value(&custom)
        .unwrap()
        .warnings
        .is_empty());
    let stream = [
        custom,
        // Known kinds without the fields the protocol requires.
        note(json!({"sessionUpdate": "tool_call", "title": "no id"})),
        note(json!({"sessionUpdate": "plan", "entries": [{"content": "x"}]})),
        note(json!({"sessionUpdate": "usage_update", "used": -1, "size": 10})),
        note(json!({"sessionUpdate": "agent_message_chunk", "content": "just a string"})),
        note(json!({"sessionUpdate": "current_mode_update"})),
        // An unknown kind named like an event type.
        note(json!({"sessionUpdate": "session_end", "reason": "?"})),
        // An unknown kind in a notification with extra fields.
        json!({"jsonrpc": "2.0", "method": "session/update", "params": {"sessionId": "agent-sess-1",
            "update": {"sessionUpdate": "brand_new"}, "_meta": {"k": 1}}}),
    ];
    for n in &stream[1..] {
        let r = rec.record_acp_update_value(n).unwrap();
        assert_eq!(r.seqs.len(), 1, "{n}");
        if n["params"]["update"]["sessionUpdate"] != "brand_new" {
            assert_eq!(r.warnings.len(), 1, "{n}");
        }
    }
    let evs = events(&store, "s");
    assert_eq!(evs[1].event_type, "_acme/progress");
    assert_eq!(evs[1].data, stream[0]["params"]["update"]);
    for (ev, n) in evs[2..].iter().zip(&stream[1..]) {
        assert_eq!(ev.event_type, acp::types::ACP_UPDATE);
        assert_eq!(ev.data["update"], n["params"]["update"]);
        assert!(ev.data["problem"].as_str().is_some_and(|p| !p.is_empty()));
    }
    assert_eq!(
        evs.last().unwrap().data["params"],
        json!({"_meta": {"k": 1}})
    );
    assert_replay_matches(&store, "s", &stream);
}

#[test]
fn bad_input_is_an_invalid_argument() {
    let (_tmp, store) = store();
    let rec = Recorder::with_id(&store, "s").unwrap();
    let update = text_chunk("agent_message_chunk", "x").to_string();
    assert!(matches!(
        rec.record_acp_update(&update),
        Err(Error::InvalidArgument(m)) if m.contains("not started")
    ));
    rec.start("a", "/w", None).unwrap();
    for (bad, says) in [
        ("{not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ("\"text\"", "JSON object"),
        (
            r#"{"jsonrpc":"2.0","method":"session/prompt","params":{}}"#,
            "not a session/update",
        ),
        (
            r#"{"jsonrpc":"2.0","method":"session/update"}"#,
            "no params",
        ),
        (r#"{"sessionId":"s"}"#, "no `method` and no `update`"),
        (r#"{"update":[]}"#, "must be a JSON object"),
        (r#"{"update":{"content":{}}}"#, "sessionUpdate"),
        (r#"{"update":{"sessionUpdate":""}}"#, "sessionUpdate"),
        (
            r#"{"sessionId":7,"update":{"sessionUpdate":"plan","entries":[]}}"#,
            "sessionId",
        ),
    ] {
        match rec.record_acp_update(bad) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains(says), "{bad}: {m}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(matches!(
        rec.record_turn_end(""),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(rec.event_count().unwrap(), 1, "nothing recorded");
}

#[test]
fn agent_titles_name_the_session_unless_the_user_did() {
    let (_tmp, store) = store();
    let title = |t: Value| note(json!({"sessionUpdate": "session_info_update", "title": t}));
    let rec = started(&store, "agent-named");
    rec.record_acp_update_value(&title(json!("First"))).unwrap();
    assert_eq!(store.metadata("agent-named").unwrap().name(), "First");
    rec.record_acp_update_value(&title(json!("Second")))
        .unwrap();
    assert_eq!(store.metadata("agent-named").unwrap().name(), "Second");
    rec.record_acp_update_value(&title(Value::Null)).unwrap();
    assert_eq!(store.metadata("agent-named").unwrap().name(), "");

    store
        .create(&CreateOptions {
            session_id: Some("user-named".into()),
            acp_server: "a".into(),
            working_dir: "/w".into(),
            name: Some("Mine".into()),
            ..CreateOptions::default()
        })
        .unwrap();
    let rec = Recorder::with_id(&store, "user-named").unwrap();
    rec.resume().unwrap();
    rec.record_acp_update_value(&title(json!("Agent's")))
        .unwrap();
    let meta = store.metadata("user-named").unwrap();
    assert_eq!(meta.name(), "Mine");
    assert_eq!(meta.acp_session_id(), "agent-sess-1");
}

// ----- replay of sessions written without ACP --------------------------------------

#[test]
fn replay_of_the_reference_fixture() {
    let (_tmp, base) = common::fixture_store_copy();
    let store = Store::open(&base).unwrap();
    let id = "20260201-120000-fixture01-complete";
    let player = Player::open(&store, id).unwrap();
    let updates = player.acp_updates().unwrap();
    let kinds: Vec<&str> = updates
        .iter()
        .map(|n| n["params"]["update"]["sessionUpdate"].as_str().unwrap())
        .collect();
    let evs = player.events();
    // Every prompt, message, thought, tool call, update and plan; the prompt's
    // image comes after its text.
    let expected: Vec<&str> = evs
        .iter()
        .flat_map(|e| match e.event_type.as_str() {
            "user_prompt" if e.data.get("images").is_some() => {
                vec!["user_message_chunk", "user_message_chunk"]
            }
            "user_prompt" => vec!["user_message_chunk"],
            "agent_message" => vec!["agent_message_chunk"],
            "agent_thought" => vec!["agent_thought_chunk"],
            "tool_call" | "tool_call_update" | "plan" => vec![e.event_type.as_str()],
            _ => vec![],
        })
        .collect();
    assert_eq!(kinds, expected);
    for n in &updates {
        assert_eq!(n["params"]["sessionId"], id, "no acp_session_id stored");
    }
    let plan = updates
        .iter()
        .find(|n| n["params"]["update"]["sessionUpdate"] == "plan")
        .unwrap();
    for entry in plan["params"]["update"]["entries"].as_array().unwrap() {
        assert!(entry["priority"].is_string() && entry.get("title").is_none());
    }
    let image = updates
        .iter()
        .find(|n| n["params"]["update"]["content"]["type"] == "image")
        .unwrap();
    let data = image["params"]["update"]["content"]["data"]
        .as_str()
        .unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    assert!(bytes.starts_with(b"\x89PNG"));
    // fixture02 stores the agent's session id.
    let p = Player::open(&store, "20260201-120500-fixture02-named").unwrap();
    let acp_id = p.metadata().acp_session_id().to_string();
    assert!(!acp_id.is_empty());
    assert!(p
        .acp_updates()
        .unwrap()
        .iter()
        .all(|n| n["params"]["sessionId"] == acp_id.as_str()));
}

// ----- resume plans ----------------------------------------------------------------------

fn init_response(caps: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": 1, "agentCapabilities": caps}})
}

#[test]
fn resume_plan_prefers_resume_then_load_then_new() {
    let (_tmp, store) = store();
    let rec = started(&store, "s");
    rec.record_user_prompt("What is 2+2?", &[]).unwrap();
    rec.record_acp_update_value(&text_chunk("agent_message_chunk", "4"))
        .unwrap();
    rec.record_turn_end("end_turn").unwrap();
    let player = Player::open(&store, "s").unwrap();

    let both = init_response(json!({"loadSession": true, "sessionCapabilities": {"resume": {}}}));
    let plan = player.resume_plan(&both).unwrap();
    assert_eq!(plan.method, ResumeMethod::Resume);
    assert_eq!(plan.method.method_name(), "session/resume");
    assert_eq!(plan.acp_session_id.as_deref(), Some("agent-sess-1"));
    assert_eq!(
        plan.params,
        json!({"sessionId": "agent-sess-1", "cwd": "/work/project"})
    );
    assert_eq!(plan.history, "");

    // The `result` alone works as well.
    let load = init_response(json!({"loadSession": true}))["result"].clone();
    let plan = player.resume_plan(&load).unwrap();
    assert_eq!(plan.method, ResumeMethod::Load);
    assert_eq!(
        plan.params,
        json!({"mcpServers": [], "cwd": "/work/project", "sessionId": "agent-sess-1"})
    );
    assert_eq!(
        serde_json::to_value(&plan).unwrap()["method"],
        "session/load"
    );

    let neither = init_response(json!({"loadSession": false}));
    let plan = player.resume_plan(&neither).unwrap();
    assert_eq!(plan.method, ResumeMethod::New);
    assert_eq!(plan.acp_session_id, None);
    assert_eq!(
        plan.params,
        json!({"cwd": "/work/project", "mcpServers": []})
    );
    assert!(
        plan.history.contains("USER: What is 2+2?"),
        "{}",
        plan.history
    );
    assert!(plan.history.contains("ASSISTANT: 4"), "{}", plan.history);
    assert!(plan.reason.contains("neither"));

    // No agent session id stored: a new session, whatever the agent can do.
    let fresh = started(&store, "fresh");
    fresh.record_user_prompt("hi", &[]).unwrap();
    let meta = store.metadata("fresh").unwrap();
    let plan = resume_plan(&meta, &events(&store, "fresh"), &both).unwrap();
    assert_eq!(plan.method, ResumeMethod::New);
    assert!(plan.reason.contains("no ACP session id"));

    for bad in [
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "no"}}),
        json!({"agentCapabilities": {}}),
        json!([1]),
    ] {
        assert!(
            matches!(player.resume_plan(&bad), Err(Error::InvalidArgument(_))),
            "{bad}"
        );
    }
    store
        .create(&CreateOptions {
            session_id: Some("nowhere".into()),
            acp_server: "a".into(),
            ..CreateOptions::default()
        })
        .unwrap();
    let meta = store.metadata("nowhere").unwrap();
    assert!(matches!(
        resume_plan(&meta, &[], &both),
        Err(Error::InvalidArgument(m)) if m.contains("working directory")
    ));
}

// ----- usage -------------------------------------------------------------------------------

/// One usage update: when, tokens used, cost (amount, currency).
type Figures<'a> = (&'a str, u64, Option<(f64, &'a str)>);

/// Appends usage events at fixed times.
fn usage_events(store: &Store, id: &str, agent: &str, figures: &[Figures]) {
    store
        .create(&CreateOptions {
            session_id: Some(id.into()),
            acp_server: agent.into(),
            working_dir: "/w".into(),
            ..CreateOptions::default()
        })
        .unwrap();
    for (at, used, cost) in figures {
        let mut data = json!({"used": used, "size": 100_000});
        if let Some((amount, currency)) = cost {
            data["cost"] = json!({"amount": amount, "currency": currency});
        }
        store
            .append_event(id, NewEvent::new(acp::types::USAGE, data).at(*at))
            .unwrap();
    }
}

#[test]
fn usage_totals_and_summary_by_day_and_agent() {
    let (_tmp, store) = store();
    usage_events(
        &store,
        "a1",
        "claude",
        &[
            ("2026-03-01T10:00:00Z", 1000, Some((0.10, "USD"))),
            ("2026-03-01T11:00:00Z", 4000, Some((0.30, "USD"))),
            // The agent's own session restarted: its cumulative cost too.
            ("2026-03-02T09:00:00Z", 2000, Some((0.05, "USD"))),
            ("2026-03-02T09:30:00Z", 2500, None),
        ],
    );
    usage_events(
        &store,
        "a2",
        "claude",
        &[("2026-03-02T08:00:00+05:00", 3000, Some((1.0, "EUR")))],
    );
    usage_events(
        &store,
        "g1",
        "gemini",
        &[("2026-03-01T23:30:00-02:00", 500, Some((0.2, "USD")))],
    );
    usage_events(&store, "quiet", "gemini", &[]);

    let t = store.usage("a1").unwrap();
    assert_eq!(
        (t.updates, t.used, t.size, t.peak_used),
        (4, 2500, 100_000, 4000)
    );
    assert!((t.cost["USD"] - 0.35).abs() < 1e-9, "{:?}", t.cost);
    assert_eq!(t.agent, "claude");
    assert_eq!(t.first_at.as_deref(), Some("2026-03-01T10:00:00Z"));
    assert_eq!(t.last_at.as_deref(), Some("2026-03-02T09:30:00Z"));
    assert_eq!(store.usage("quiet").unwrap().updates, 0);
    assert!(matches!(
        store.usage("missing"),
        Err(Error::SessionNotFound(_))
    ));

    let s = store.usage_summary().unwrap();
    assert_eq!(s.sessions.len(), 3);
    assert_eq!(
        (s.total.sessions, s.total.updates, s.total.peak_tokens),
        (3, 6, 7500)
    );
    assert!((s.total.cost["USD"] - 0.55).abs() < 1e-9);
    assert_eq!(s.total.cost["EUR"], 1.0);
    let days: Vec<(&str, u64, u64, u64)> = s
        .by_day
        .iter()
        .map(|r| (r.key.as_str(), r.sessions, r.updates, r.peak_tokens))
        .collect();
    // Days in the offset each event was stamped with.
    assert_eq!(
        days,
        [("2026-03-01", 2, 3, 4500), ("2026-03-02", 2, 3, 5500)]
    );
    assert!((s.by_day[0].cost["USD"] - 0.5).abs() < 1e-9);
    assert!((s.by_day[1].cost["USD"] - 0.05).abs() < 1e-9);
    let agents: Vec<(&str, u64, u64)> = s
        .by_agent
        .iter()
        .map(|r| (r.key.as_str(), r.sessions, r.peak_tokens))
        .collect();
    assert_eq!(agents, [("claude", 2, 7000), ("gemini", 1, 500)]);
}
