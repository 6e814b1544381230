//! The demo: record a session, play it back, queue messages typed while the
//! agent is busy, and ask the auxiliary ACP session for titles.
//!
//! Usage: `cargo run --example demo -- [STORE_DIR]` (a temp dir by default).
//! The auxiliary agent's command line comes from `AGS_DEMO_AGENT`
//! (`scripts/demo.sh` sets it to the test peer built on the official ACP SDK).

use agentsession::event::{EventData, PlanEntry, ToolCallData};
use agentsession::{auxiliary, Player, Recorder, Store};
use serde_json::json;
use std::time::{Duration, Instant};

fn main() -> agentsession::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .filter(|a| !a.is_empty())
        .map(std::path::PathBuf::from);
    let tmp = std::env::temp_dir().join(format!("agentsession-demo-{}", std::process::id()));
    let base = dir.unwrap_or(tmp);
    let store = Store::open(&base)?;
    println!("store: {}", base.display());

    // Record a short conversation with a plan and a tool call.
    let rec = Recorder::new(&store);
    rec.start("demo-agent", "/home/demo/project", Some("demo-agent --acp"))?;
    rec.record_user_prompt("List the Rust files in src/ and count their lines.", &[])?;
    rec.record_agent_thought("I will run a shell command to list and count.")?;
    rec.record_plan(&[
        PlanEntry {
            id: "1".into(),
            title: "List files".into(),
            status: "completed".into(),
            priority: "high".into(),
        },
        PlanEntry {
            id: "2".into(),
            title: "Count lines".into(),
            status: "in_progress".into(),
            priority: String::new(),
        },
    ])?;
    rec.record_tool_call(&ToolCallData {
        tool_call_id: "call_1".into(),
        title: "wc -l src/*.rs".into(),
        status: "pending".into(),
        kind: "execute".into(),
        raw_input: Some(json!({"command": "wc -l src/*.rs"})),
        raw_output: None,
    })?;
    rec.record_permission("Allow running `wc -l src/*.rs`?", "allow_once", "approved")?;
    rec.record_tool_call_update("call_1", Some("completed"), None)?;
    rec.record_agent_message("src/ holds 12 Rust files with 4,211 lines in total.")?;
    let id = rec.session_id().to_string();
    println!("recorded session {id} ({} events)", rec.event_count()?);

    // Play it back.
    let mut player = Player::open(&store, &id)?;
    println!("\n--- playback of {id} ---");
    while let Some(ev) = player.next() {
        let line = match ev.decode() {
            Ok(EventData::SessionStart(d)) => format!("session started with {}", d.acp_server),
            Ok(EventData::UserPrompt(d)) => format!("USER: {}", d.message),
            Ok(EventData::AgentThought(d)) => format!("(thinking) {}", d.text),
            Ok(EventData::AgentMessage(d)) => format!("AGENT: {}", d.text),
            Ok(EventData::Plan(d)) => format!(
                "plan: {}",
                d.entries
                    .iter()
                    .map(|e| format!("[{}] {}", e.status, e.title))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Ok(EventData::ToolCall(d)) => {
                format!("tool call {}: {} ({})", d.tool_call_id, d.title, d.status)
            }
            Ok(EventData::ToolCallUpdate(d)) => format!(
                "tool call {} -> {}",
                d.tool_call_id,
                d.status.as_deref().unwrap_or("unchanged")
            ),
            Ok(EventData::Permission(d)) => format!("permission: {} -> {}", d.title, d.outcome),
            _ => format!("{} event", ev.event_type),
        };
        println!("#{:<2} {}", ev.seq, line);
    }
    println!(
        "\nhistory to re-prime a resumed agent:\n{}",
        agentsession::build_conversation_history(player.events(), 10)
    );

    // One program drives a session at a time: take its lock and say what it does.
    let lock = store.try_acquire_lock(&id, "demo")?;
    lock.set_processing("Agent thinking...")?;
    let other = Store::open(&base)?;
    println!(
        "another program asks: {}",
        other.check_lock_status(&id)?.message
    );
    match other.try_acquire_lock(&id, "web") {
        Err(e) => println!("another program's try_acquire: {e}"),
        Ok(_) => println!("another program got the lock (unexpected)"),
    }

    // Messages typed while the agent is busy wait in the session's queue.
    let queue = store.queue(&id)?;
    let first = queue.add(
        "also update the README with the new counts",
        &[],
        Some("cli"),
        10,
    )?;
    queue.add("then commit with a short message", &[], None, 10)?;
    println!(
        "queued {} messages: {:?}",
        queue.len()?,
        queue.list()?.iter().map(|m| &m.message).collect::<Vec<_>>()
    );

    // The hidden auxiliary ACP session: started lazily on the first request.
    match std::env::var("AGS_DEMO_AGENT") {
        Ok(agent) => {
            auxiliary::initialize(&agent, None)?;
            println!(
                "auxiliary agent started before the first request: {}",
                auxiliary::is_started()
            );
            let title =
                auxiliary::generate_title("List the Rust files in src/ and count their lines.")?;
            println!("title from the auxiliary session: {title:?}");
            store.update_metadata_fields(
                &id,
                serde_json::json!({"name": title})
                    .as_object()
                    .expect("object"),
            )?;
            // The title worker fills in the queued message's title in the background.
            auxiliary::request_queued_message_title(&queue, &first.id);
            let deadline = Instant::now() + Duration::from_secs(30);
            while queue.get(&first.id)?.title.is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            println!("queued message title: {:?}", queue.get(&first.id)?.title);
            auxiliary::shutdown();
        }
        Err(_) => println!("(set AGS_DEMO_AGENT to an ACP agent command to ask it for titles)"),
    }
    lock.set_idle()?;
    let next = queue.pop()?;
    println!(
        "agent idle again: sending the first queued message {:?}",
        next.message
    );
    lock.release()?;
    println!("lock released; locked now: {}", store.is_locked(&id)?);

    rec.end("demo_finished")?;
    let meta = store.metadata(&id)?;
    println!(
        "session {:?} is {} with {} events",
        meta.name(),
        meta.status(),
        meta.event_count()
    );
    Ok(())
}
