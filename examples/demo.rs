//! The demo: record a session, play it back, and print it.
//!
//! Usage: `cargo run --example demo -- [STORE_DIR]` (a temp dir by default).

use agentsession::event::{EventData, PlanEntry, ToolCallData};
use agentsession::{Player, Recorder, Store};
use serde_json::json;

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
    rec.end("demo_finished")?;
    println!("status: {}", store.metadata(&id)?.status());
    Ok(())
}
