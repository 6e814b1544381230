//! Events of the log (`events.jsonl`) and the typed data of each known type.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::timefmt::{self, Timestamp};

/// Names of the event types the format defines; any other name is kept as is.
pub mod types {
    /// Session started.
    pub const SESSION_START: &str = "session_start";
    /// Session ended.
    pub const SESSION_END: &str = "session_end";
    /// A prompt from the user.
    pub const USER_PROMPT: &str = "user_prompt";
    /// Reply text from the agent.
    pub const AGENT_MESSAGE: &str = "agent_message";
    /// The agent's reasoning text.
    pub const AGENT_THOUGHT: &str = "agent_thought";
    /// A tool call the agent started.
    pub const TOOL_CALL: &str = "tool_call";
    /// A change to a tool call.
    pub const TOOL_CALL_UPDATE: &str = "tool_call_update";
    /// The agent's plan.
    pub const PLAN: &str = "plan";
    /// A permission request and its outcome.
    pub const PERMISSION: &str = "permission";
    /// The agent read a file.
    pub const FILE_READ: &str = "file_read";
    /// The agent wrote a file.
    pub const FILE_WRITE: &str = "file_write";
    /// An error.
    pub const ERROR: &str = "error";

    /// Every type the format defines.
    pub const ALL: [&str; 12] = [
        SESSION_START,
        SESSION_END,
        USER_PROMPT,
        AGENT_MESSAGE,
        AGENT_THOUGHT,
        TOOL_CALL,
        TOOL_CALL_UPDATE,
        PLAN,
        PERMISSION,
        FILE_READ,
        FILE_WRITE,
        ERROR,
    ];
}

/// One line of the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the session, from 1, one more per event.
    pub seq: u64,
    /// The event type (see [`types`]); unknown types are kept.
    pub event_type: String,
    /// RFC 3339 time as written in the file (spelling kept).
    pub timestamp: String,
    /// The event's data, exactly as stored.
    pub data: Value,
    /// Top-level fields other than the four above, kept for rewriting.
    pub extra: Map<String, Value>,
}

impl Event {
    /// A new event with no seq yet (the store assigns it).
    pub fn new(event_type: impl Into<String>, data: Value) -> Event {
        Event {
            seq: 0,
            event_type: event_type.into(),
            timestamp: String::new(),
            data,
            extra: Map::new(),
        }
    }

    /// The timestamp parsed; `None` for the zero time or an unparseable string.
    pub fn time(&self) -> Option<Timestamp> {
        timefmt::parse(&self.timestamp)
    }

    /// The data decoded into the type's struct; unknown types give [`EventData::Other`].
    pub fn decode(&self) -> Result<EventData, serde_json::Error> {
        EventData::decode(&self.event_type, &self.data)
    }

    /// Serializes the event as one compact JSON line, without the newline.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        // Writing a Value-based struct into a Vec cannot fail.
        serde_json::to_writer(out, self).expect("event serializes");
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(4 + self.extra.len()))?;
        m.serialize_entry("seq", &self.seq)?;
        m.serialize_entry("type", &self.event_type)?;
        m.serialize_entry("timestamp", &self.timestamp)?;
        m.serialize_entry("data", &self.data)?;
        for (k, v) in &self.extra {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Event;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
                let mut seq = None;
                let mut event_type = None;
                let mut timestamp = None;
                let mut data = None;
                let mut extra = Map::new();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "seq" => seq = Some(map.next_value::<u64>()?),
                        "type" => event_type = Some(map.next_value::<String>()?),
                        "timestamp" => timestamp = Some(map.next_value::<String>()?),
                        "data" => data = Some(map.next_value::<Value>()?),
                        _ => {
                            extra.insert(key.into_owned(), map.next_value()?);
                        }
                    }
                }
                Ok(Event {
                    seq: seq.ok_or_else(|| de::Error::missing_field("seq"))?,
                    event_type: event_type.ok_or_else(|| de::Error::missing_field("type"))?,
                    timestamp: timestamp.unwrap_or_default(),
                    data: data.unwrap_or(Value::Null),
                    extra,
                })
            }
        }
        d.deserialize_map(V)
    }
}

fn is_empty(s: &str) -> bool {
    s.is_empty()
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// A reference from a prompt to a stored image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ImageRef {
    /// Image id (its file name under `images/`).
    pub id: String,
    /// Original file name, if known.
    #[serde(skip_serializing_if = "is_empty")]
    pub name: String,
    /// MIME type.
    pub mime_type: String,
}

/// Data of `session_start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SessionStartData {
    pub session_id: String,
    pub acp_server: String,
    pub working_dir: String,
}

/// Data of `session_end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SessionEndData {
    pub reason: String,
}

/// Data of `user_prompt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct UserPromptData {
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageRef>,
}

/// Data of `agent_message` and `agent_thought`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TextData {
    pub text: String,
}

/// Data of `tool_call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ToolCallData {
    pub tool_call_id: String,
    pub title: String,
    pub status: String,
    #[serde(skip_serializing_if = "is_empty")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_input: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_output: Option<Value>,
}

/// Data of `tool_call_update`: absent fields are unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ToolCallUpdateData {
    pub tool_call_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// One entry of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PlanEntry {
    pub id: String,
    pub title: String,
    pub status: String,
    #[serde(skip_serializing_if = "is_empty")]
    pub priority: String,
}

/// Data of `plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PlanData {
    pub entries: Vec<PlanEntry>,
}

/// Data of `permission`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PermissionData {
    pub title: String,
    pub selected_option: String,
    /// `approved`, `denied` or `cancelled`.
    pub outcome: String,
}

/// Data of `file_read` and `file_write`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FileOperationData {
    pub path: String,
    pub size: i64,
    #[serde(skip_serializing_if = "is_empty")]
    pub content: String,
}

/// Data of `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ErrorData {
    pub message: String,
    #[serde(skip_serializing_if = "is_zero")]
    pub code: i64,
}

/// An event's data decoded by type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventData {
    SessionStart(SessionStartData),
    SessionEnd(SessionEndData),
    UserPrompt(UserPromptData),
    AgentMessage(TextData),
    AgentThought(TextData),
    ToolCall(ToolCallData),
    ToolCallUpdate(ToolCallUpdateData),
    Plan(PlanData),
    Permission(PermissionData),
    FileRead(FileOperationData),
    FileWrite(FileOperationData),
    Error(ErrorData),
    /// A type this library does not define: the raw data.
    Other(Value),
}

impl EventData {
    /// Decodes `data` for `event_type`.
    pub fn decode(event_type: &str, data: &Value) -> Result<EventData, serde_json::Error> {
        use serde_json::from_value as v;
        let d = data.clone();
        Ok(match event_type {
            types::SESSION_START => EventData::SessionStart(v(d)?),
            types::SESSION_END => EventData::SessionEnd(v(d)?),
            types::USER_PROMPT => EventData::UserPrompt(v(d)?),
            types::AGENT_MESSAGE => EventData::AgentMessage(v(d)?),
            types::AGENT_THOUGHT => EventData::AgentThought(v(d)?),
            types::TOOL_CALL => EventData::ToolCall(v(d)?),
            types::TOOL_CALL_UPDATE => EventData::ToolCallUpdate(v(d)?),
            types::PLAN => EventData::Plan(v(d)?),
            types::PERMISSION => EventData::Permission(v(d)?),
            types::FILE_READ => EventData::FileRead(v(d)?),
            types::FILE_WRITE => EventData::FileWrite(v(d)?),
            types::ERROR => EventData::Error(v(d)?),
            _ => EventData::Other(d),
        })
    }

    /// The name of the data struct (as the reference names it).
    pub fn type_name(&self) -> &'static str {
        match self {
            EventData::SessionStart(_) => "SessionStartData",
            EventData::SessionEnd(_) => "SessionEndData",
            EventData::UserPrompt(_) => "UserPromptData",
            EventData::AgentMessage(_) => "AgentMessageData",
            EventData::AgentThought(_) => "AgentThoughtData",
            EventData::ToolCall(_) => "ToolCallData",
            EventData::ToolCallUpdate(_) => "ToolCallUpdateData",
            EventData::Plan(_) => "PlanData",
            EventData::Permission(_) => "PermissionData",
            EventData::FileRead(_) | EventData::FileWrite(_) => "FileOperationData",
            EventData::Error(_) => "ErrorData",
            EventData::Other(_) => "RawData",
        }
    }
}

/// Serializes a data struct into a JSON object value.
pub fn to_data<T: Serialize>(data: &T) -> Value {
    serde_json::to_value(data).expect("event data serializes")
}

/// Reads the `seq` of a line written as `{"seq":N,...` without parsing the rest.
pub(crate) fn fast_seq(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let end = rest.iter().position(|b| !b.is_ascii_digit())?;
    if end == 0 || end > 19 || rest[end] != b',' {
        return None;
    }
    std::str::from_utf8(&rest[..end]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive() {
        let line = r#"{"seq":3,"type":"ui_prompt_answer","timestamp":"2026-02-01T12:20:00Z","data":{"x":[1,{"y":null}]},"origin":"web"}"#;
        let e: Event = serde_json::from_str(line).unwrap();
        assert_eq!(e.extra["origin"], "web");
        let mut out = Vec::new();
        e.write_line(&mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), line);
        assert_eq!(fast_seq(line.as_bytes()), Some(3));
        assert!(matches!(e.decode().unwrap(), EventData::Other(_)));
    }

    #[test]
    fn omitted_fields_match_reference() {
        let d = to_data(&ToolCallUpdateData {
            tool_call_id: "c".into(),
            status: None,
            title: Some("t".into()),
        });
        assert_eq!(d.to_string(), r#"{"tool_call_id":"c","title":"t"}"#);
        let d = to_data(&ErrorData {
            message: "m".into(),
            code: 0,
        });
        assert_eq!(d.to_string(), r#"{"message":"m"}"#);
    }
}
