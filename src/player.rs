//! Read-only playback of a session, and helpers over lists of events.

use crate::error::{Error, Result};
use crate::event::{types, Event, EventData};
use crate::eventlog::CorruptLine;
use crate::metadata::Metadata;
use crate::store::Store;

/// Plays back one session's events, loaded when the player is opened.
#[derive(Debug, Clone)]
pub struct Player {
    /// The store, for the session's images.
    pub(crate) store: Store,
    metadata: Metadata,
    events: Vec<Event>,
    skipped: Vec<CorruptLine>,
    position: usize,
}

impl Player {
    /// Loads a session for playback.
    pub fn open(store: &Store, session_id: &str) -> Result<Player> {
        let metadata = store.metadata(session_id)?;
        let read = store.events(session_id, 0)?;
        Ok(Player {
            store: store.clone(),
            metadata,
            events: read.events,
            skipped: read.skipped,
            position: 0,
        })
    }

    /// The session's metadata as of opening.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Every event.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Lines of the log skipped as corrupt.
    pub fn skipped(&self) -> &[CorruptLine] {
        &self.skipped
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the session has no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Index of the next event `next` returns.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Whether `next` has an event to return.
    pub fn has_next(&self) -> bool {
        self.position < self.events.len()
    }

    /// The next event, advancing; `None` at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<&Event> {
        let ev = self.events.get(self.position)?;
        self.position += 1;
        Some(ev)
    }

    /// The next event without advancing.
    pub fn peek(&self) -> Option<&Event> {
        self.events.get(self.position)
    }

    /// Back to the first event.
    pub fn reset(&mut self) {
        self.position = 0;
    }

    /// Moves to `position` (0..=len); out of range is an error.
    pub fn seek(&mut self, position: usize) -> Result<()> {
        if position > self.events.len() {
            return Err(Error::invalid(format!(
                "seek position {position} is out of range 0..={}",
                self.events.len()
            )));
        }
        self.position = position;
        Ok(())
    }

    /// The events of one type.
    pub fn events_of_type(&self, event_type: &str) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|e| e.event_type == event_type)
            .collect()
    }
}

/// Cuts `text` to at most `max` bytes, ending in "..." when cut, never
/// splitting a character.
pub fn truncate_with_ellipsis(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// The conversation as text to re-prime a resumed agent: the last
/// `max_turns` turns (0 = all) of user prompt and agent reply, prompts cut
/// to 500 bytes and replies to 1000.
pub fn build_conversation_history(events: &[Event], max_turns: usize) -> String {
    let mut turns: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for ev in events {
        match ev.decode() {
            Ok(EventData::UserPrompt(p)) => {
                if let Some(t) = current.take().filter(|t| !t.0.is_empty()) {
                    turns.push(t);
                }
                current = Some((p.message, String::new()));
            }
            Ok(EventData::AgentMessage(m)) => {
                current.get_or_insert_default().1.push_str(&m.text);
            }
            _ => {}
        }
    }
    if let Some(t) = current.filter(|t| !t.0.is_empty()) {
        turns.push(t);
    }
    if turns.is_empty() {
        return String::new();
    }
    if max_turns > 0 && turns.len() > max_turns {
        turns.drain(..turns.len() - max_turns);
    }
    let mut out =
        String::from("[CONVERSATION HISTORY - This is a resumed session. Previous context:]\n\n");
    for (i, (user, agent)) in turns.iter().enumerate() {
        out.push_str(&format!("--- Turn {} ---\n", i + 1));
        out.push_str(&format!("USER: {}\n\n", truncate_with_ellipsis(user, 500)));
        let agent = truncate_with_ellipsis(agent, 1000);
        if !agent.is_empty() {
            out.push_str(&format!("ASSISTANT: {agent}\n\n"));
        }
    }
    out.push_str("[END OF HISTORY - Continue the conversation:]\n\n");
    out
}

/// The agent's reply to the last prompt: its messages after the last
/// `user_prompt`, concatenated ("" when there is no prompt).
pub fn last_agent_message(events: &[Event]) -> String {
    let Some(last_prompt) = events
        .iter()
        .rposition(|e| e.event_type == types::USER_PROMPT)
    else {
        return String::new();
    };
    events[last_prompt + 1..]
        .iter()
        .filter_map(|e| match e.decode() {
            Ok(EventData::AgentMessage(m)) => Some(m.text),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_characters() {
        let s = "é".repeat(300); // 600 bytes
        let t = truncate_with_ellipsis(&s, 500);
        assert!(t.len() <= 500);
        assert!(t.ends_with("..."));
        assert_eq!(truncate_with_ellipsis("short", 500), "short");
    }
}
