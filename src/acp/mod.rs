//! ACP traffic: recording `session/update` notifications as events, replaying
//! a session as notifications, choosing how to resume a session with an
//! agent, and adding up the usage the agent reported.
//!
//! # How updates become events
//! Hosts pass each `session/update` notification the agent sends (the whole
//! JSON-RPC message or its `params`) to [`Recorder::record_acp_update`]:
//!
//! | update kind | event type | event data |
//! |---|---|---|
//! | `user_message_chunk` | `user_prompt` | `message`, `images?` |
//! | `agent_message_chunk` | `agent_message` | `text`, `images?` |
//! | `agent_thought_chunk` | `agent_thought` | `text`, `images?` |
//! | `tool_call` | `tool_call` | `tool_call_id`, `title`, `status?`, `kind?`, `raw_input?`, `raw_output?` |
//! | `tool_call_update` | `tool_call_update` | `tool_call_id` and the fields the update carries |
//! | `plan` | `plan` | `entries`: `{id, title, status, priority}` (`id` is the 1-based position) |
//! | `usage_update` | `usage` | `used`, `size`, `cost?` (`{amount, currency}`) |
//! | `session_info_update` | `session_info` | `title?`, `updated_at?` |
//! | `available_commands_update` | `available_commands` | `available_commands` |
//! | `current_mode_update` | `current_mode` | `current_mode_id` |
//! | `config_option_update` | `config_options` | `config_options` |
//! | any other kind | the kind's name | the update object as sent |
//!
//! Consecutive chunks of one kind (and one `messageId`) make one event,
//! written when anything else is recorded, at [`Recorder::record_turn_end`]
//! (which also records a `turn_end` event with the `stop_reason`), on
//! suspend, end and drop. Images in chunks are saved in the session's image
//! store and listed in `images` like a prompt's images; the chunks that are
//! not plain text (images, other content blocks, chunks carrying more fields
//! than their text) are listed in order under `chunks`, each with its byte
//! `offset` in the text (and the byte `len` of its own text), so that the
//! message can be streamed again exactly.
//!
//! Nothing the agent sent is dropped: update fields the event has no name for
//! are kept under `acp`, fields of the notification beside `sessionId` and
//! `update` under `acp_params`. An update of a known kind that lacks a field
//! the protocol requires, or of an unknown kind whose name is one of the
//! event types above, is kept whole as an [`types::ACP_UPDATE`] event
//! (`update`, `problem`, `params?`) and reported in [`AcpRecorded::warnings`].
//!
//! The notification's `sessionId` is kept as the session's `acp_session_id`;
//! a `session_info_update` title names the session unless the user named it
//! (the agent's latest title is kept as `acp_title`, so a name equal to it is
//! the agent's to change); the latest `usage_update` figures are kept in the
//! metadata as `usage` (`used`, `size`, `cost?`, `updated_at`).
//!
//! [`Recorder::record_acp_update`]: crate::Recorder::record_acp_update
//! [`Recorder::record_turn_end`]: crate::Recorder::record_turn_end

pub(crate) mod record;
mod replay;
mod resume;
mod usage;

use serde_json::{Map, Value};

pub use record::AcpRecorded;
pub use resume::{resume_plan, ResumeMethod, ResumePlan, HISTORY_TURNS};
pub use usage::{UsageRow, UsageSummary, UsageTotals};

/// Event types written for ACP updates, beside those of [`crate::event::types`].
pub mod types {
    /// Token and cost figures (`usage_update`).
    pub const USAGE: &str = "usage";
    /// Session title and update time (`session_info_update`).
    pub const SESSION_INFO: &str = "session_info";
    /// The commands the agent offers (`available_commands_update`).
    pub const AVAILABLE_COMMANDS: &str = "available_commands";
    /// The session's current mode (`current_mode_update`).
    pub const CURRENT_MODE: &str = "current_mode";
    /// The session's configuration options (`config_option_update`).
    pub const CONFIG_OPTIONS: &str = "config_options";
    /// The end of a prompt turn, with the agent's `stop_reason`.
    pub const TURN_END: &str = "turn_end";
    /// An update kept whole because it could not be mapped (see the module docs).
    pub const ACP_UPDATE: &str = "acp_update";
}

/// The `sessionUpdate` kinds of ACP v1 that map to events of their own.
pub mod kinds {
    /// A chunk of the user's message.
    pub const USER_MESSAGE_CHUNK: &str = "user_message_chunk";
    /// A chunk of the agent's reply.
    pub const AGENT_MESSAGE_CHUNK: &str = "agent_message_chunk";
    /// A chunk of the agent's reasoning.
    pub const AGENT_THOUGHT_CHUNK: &str = "agent_thought_chunk";
    /// A new tool call.
    pub const TOOL_CALL: &str = "tool_call";
    /// A change to a tool call.
    pub const TOOL_CALL_UPDATE: &str = "tool_call_update";
    /// The agent's plan.
    pub const PLAN: &str = "plan";
    /// The commands the agent offers.
    pub const AVAILABLE_COMMANDS_UPDATE: &str = "available_commands_update";
    /// The session's mode changed.
    pub const CURRENT_MODE_UPDATE: &str = "current_mode_update";
    /// The session's configuration options changed.
    pub const CONFIG_OPTION_UPDATE: &str = "config_option_update";
    /// Session title or update time changed.
    pub const SESSION_INFO_UPDATE: &str = "session_info_update";
    /// Context window and cost figures.
    pub const USAGE_UPDATE: &str = "usage_update";

    /// The eleven stable kinds of ACP v1.
    pub const STABLE: [&str; 11] = [
        USER_MESSAGE_CHUNK,
        AGENT_MESSAGE_CHUNK,
        AGENT_THOUGHT_CHUNK,
        TOOL_CALL,
        TOOL_CALL_UPDATE,
        PLAN,
        AVAILABLE_COMMANDS_UPDATE,
        CURRENT_MODE_UPDATE,
        CONFIG_OPTION_UPDATE,
        SESSION_INFO_UPDATE,
        USAGE_UPDATE,
    ];
}

/// Key of the update fields an event has no name for.
const EXTRA: &str = "acp";
/// Key of the notification fields beside `sessionId` and `update`.
const PARAMS_EXTRA: &str = "acp_params";

/// The three streamed kinds and the events they make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkKind {
    User,
    Agent,
    Thought,
}

impl ChunkKind {
    fn of_update(kind: &str) -> Option<ChunkKind> {
        match kind {
            kinds::USER_MESSAGE_CHUNK => Some(ChunkKind::User),
            kinds::AGENT_MESSAGE_CHUNK => Some(ChunkKind::Agent),
            kinds::AGENT_THOUGHT_CHUNK => Some(ChunkKind::Thought),
            _ => None,
        }
    }

    fn of_event(event_type: &str) -> Option<ChunkKind> {
        use crate::event::types as t;
        match event_type {
            t::USER_PROMPT => Some(ChunkKind::User),
            t::AGENT_MESSAGE => Some(ChunkKind::Agent),
            t::AGENT_THOUGHT => Some(ChunkKind::Thought),
            _ => None,
        }
    }

    fn update_kind(self) -> &'static str {
        match self {
            ChunkKind::User => kinds::USER_MESSAGE_CHUNK,
            ChunkKind::Agent => kinds::AGENT_MESSAGE_CHUNK,
            ChunkKind::Thought => kinds::AGENT_THOUGHT_CHUNK,
        }
    }

    fn event_type(self) -> &'static str {
        use crate::event::types as t;
        match self {
            ChunkKind::User => t::USER_PROMPT,
            ChunkKind::Agent => t::AGENT_MESSAGE,
            ChunkKind::Thought => t::AGENT_THOUGHT,
        }
    }

    /// The data key holding the text.
    fn text_key(self) -> &'static str {
        match self {
            ChunkKind::User => "message",
            ChunkKind::Agent | ChunkKind::Thought => "text",
        }
    }
}

/// A kind whose update fields are renamed one to one into its event's data.
struct Renamed {
    kind: &'static str,
    event_type: &'static str,
    /// (ACP field, event data field), in the order the event writes them.
    fields: &'static [(&'static str, &'static str)],
}

const TOOL_CALL_FIELDS: &[(&str, &str)] = &[
    ("toolCallId", "tool_call_id"),
    ("title", "title"),
    ("status", "status"),
    ("kind", "kind"),
    ("rawInput", "raw_input"),
    ("rawOutput", "raw_output"),
];

/// Fields of a plan entry: the entry's `content` is the event's `title`.
const PLAN_ENTRY_FIELDS: &[(&str, &str)] = &[
    ("content", "title"),
    ("status", "status"),
    ("priority", "priority"),
];

const RENAMED: &[Renamed] = &[
    Renamed {
        kind: kinds::TOOL_CALL,
        event_type: crate::event::types::TOOL_CALL,
        fields: TOOL_CALL_FIELDS,
    },
    Renamed {
        kind: kinds::TOOL_CALL_UPDATE,
        event_type: crate::event::types::TOOL_CALL_UPDATE,
        fields: TOOL_CALL_FIELDS,
    },
    Renamed {
        kind: kinds::PLAN,
        event_type: crate::event::types::PLAN,
        fields: &[("entries", "entries")],
    },
    Renamed {
        kind: kinds::USAGE_UPDATE,
        event_type: types::USAGE,
        fields: &[("used", "used"), ("size", "size"), ("cost", "cost")],
    },
    Renamed {
        kind: kinds::SESSION_INFO_UPDATE,
        event_type: types::SESSION_INFO,
        fields: &[("title", "title"), ("updatedAt", "updated_at")],
    },
    Renamed {
        kind: kinds::AVAILABLE_COMMANDS_UPDATE,
        event_type: types::AVAILABLE_COMMANDS,
        fields: &[("availableCommands", "available_commands")],
    },
    Renamed {
        kind: kinds::CURRENT_MODE_UPDATE,
        event_type: types::CURRENT_MODE,
        fields: &[("currentModeId", "current_mode_id")],
    },
    Renamed {
        kind: kinds::CONFIG_OPTION_UPDATE,
        event_type: types::CONFIG_OPTIONS,
        fields: &[("configOptions", "config_options")],
    },
];

fn renamed_by_kind(kind: &str) -> Option<&'static Renamed> {
    RENAMED.iter().find(|r| r.kind == kind)
}

fn renamed_by_event(event_type: &str) -> Option<&'static Renamed> {
    RENAMED.iter().find(|r| r.event_type == event_type)
}

/// Whether an unknown kind's name would be read as one of the event types
/// this library gives a meaning to.
fn is_reserved_event_type(name: &str) -> bool {
    crate::event::types::ALL.contains(&name)
        || [
            types::USAGE,
            types::SESSION_INFO,
            types::AVAILABLE_COMMANDS,
            types::CURRENT_MODE,
            types::CONFIG_OPTIONS,
            types::TURN_END,
            types::ACP_UPDATE,
        ]
        .contains(&name)
}

/// `fields` of `from` renamed (from → to), in table order; the other fields
/// (except those in `skip`) go under [`EXTRA`] when there are any.
fn rename_fields(
    from: &Map<String, Value>,
    fields: &[(&str, &str)],
    skip: &[&str],
    forward: bool,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (acp, event) in fields {
        let (src, dst) = if forward { (acp, event) } else { (event, acp) };
        if let Some(v) = from.get(*src) {
            out.insert(dst.to_string(), v.clone());
        }
    }
    if forward {
        let extra: Map<String, Value> = from
            .iter()
            .filter(|(k, _)| !skip.contains(&k.as_str()) && !fields.iter().any(|(a, _)| a == k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !extra.is_empty() {
            out.insert(EXTRA.to_string(), Value::Object(extra));
        }
    } else if let Some(Value::Object(extra)) = from.get(EXTRA) {
        for (k, v) in extra {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}
