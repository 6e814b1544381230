//! Session metadata (`metadata.json`), kept as an ordered JSON object so that
//! fields this library does not know survive every rewrite in place.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::timefmt::{self, Timestamp};

/// The fields the format defines, in the order the reference writes them.
pub const KNOWN_FIELDS: [&str; 12] = [
    "session_id",
    "name",
    "acp_server",
    "acp_command",
    "acp_session_id",
    "working_dir",
    "created_at",
    "updated_at",
    "last_user_message_at",
    "event_count",
    "status",
    "description",
];

/// String fields the reference leaves out when empty.
const OMIT_IF_EMPTY: [&str; 4] = ["name", "acp_command", "acp_session_id", "description"];

/// The status values the format defines.
pub const STATUSES: [&str; 3] = ["active", "completed", "error"];

/// A session's metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    fields: Map<String, Value>,
}

impl Metadata {
    /// Metadata of a new session created now.
    pub fn new(session_id: &str, acp_server: &str, working_dir: &str) -> Metadata {
        let now = timefmt::now_string();
        let mut m = Metadata::default();
        m.set_str("session_id", session_id);
        m.set_str("acp_server", acp_server);
        m.set_str("working_dir", working_dir);
        m.set_str("created_at", &now);
        m.set_str("updated_at", &now);
        m.set_str("last_user_message_at", timefmt::ZERO_TIME);
        m.set("event_count", Value::from(0u64));
        m.set_str("status", "active");
        m
    }

    /// Parses `metadata.json`; `path` names the file in errors.
    pub fn from_slice(bytes: &[u8], path: &Path) -> Result<Metadata> {
        let v: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::corrupt(path, Some(e.line()), e.to_string()))?;
        let Value::Object(fields) = v else {
            return Err(Error::corrupt(path, None, "metadata is not a JSON object"));
        };
        match fields.get("session_id") {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => return Err(Error::corrupt(path, None, "metadata has no session_id")),
        }
        Ok(Metadata { fields })
    }

    /// Builds metadata from a JSON object (e.g. from a face); needs `session_id`.
    pub fn from_value(v: Value) -> Result<Metadata> {
        match v {
            Value::Object(fields) if fields.get("session_id").is_some_and(Value::is_string) => {
                Ok(Metadata { fields })
            }
            _ => Err(Error::invalid(
                "metadata must be a JSON object with a session_id string",
            )),
        }
    }

    /// The file content: 2-space indented JSON, no trailing newline.
    pub fn to_pretty_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&self.fields).expect("metadata serializes")
    }

    /// Every field, in file order.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// The fields as a JSON value.
    pub fn to_value(&self) -> Value {
        Value::Object(self.fields.clone())
    }

    /// One field.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    fn str_field(&self, key: &str) -> &str {
        self.fields.get(key).and_then(Value::as_str).unwrap_or("")
    }

    /// Session id.
    pub fn session_id(&self) -> &str {
        self.str_field("session_id")
    }
    /// User-visible name ("" when unnamed).
    pub fn name(&self) -> &str {
        self.str_field("name")
    }
    /// Name of the ACP server (agent).
    pub fn acp_server(&self) -> &str {
        self.str_field("acp_server")
    }
    /// Command line that starts the agent ("" when unknown).
    pub fn acp_command(&self) -> &str {
        self.str_field("acp_command")
    }
    /// The agent's own session id, for resuming ("" when unknown).
    pub fn acp_session_id(&self) -> &str {
        self.str_field("acp_session_id")
    }
    /// Working directory of the session.
    pub fn working_dir(&self) -> &str {
        self.str_field("working_dir")
    }
    /// Free-text description ("" when none).
    pub fn description(&self) -> &str {
        self.str_field("description")
    }
    /// `active`, `completed` or `error`.
    pub fn status(&self) -> &str {
        self.str_field("status")
    }
    /// Number of events in the log.
    pub fn event_count(&self) -> u64 {
        self.fields
            .get("event_count")
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }
    /// When the session was created.
    pub fn created_at(&self) -> Option<Timestamp> {
        timefmt::parse(self.str_field("created_at"))
    }
    /// When the session last changed.
    pub fn updated_at(&self) -> Option<Timestamp> {
        timefmt::parse(self.str_field("updated_at"))
    }
    /// When the user last prompted; `None` before the first prompt.
    pub fn last_user_message_at(&self) -> Option<Timestamp> {
        timefmt::parse(self.str_field("last_user_message_at"))
    }

    /// Sets a string field; the optional ones are removed when empty.
    pub fn set_str(&mut self, key: &str, value: &str) {
        if value.is_empty() && OMIT_IF_EMPTY.contains(&key) {
            self.fields.shift_remove(key);
        } else {
            self.set(key, Value::String(value.to_string()));
        }
    }

    /// Sets a field, keeping its place; a new known field goes where the
    /// reference would put it, a new unknown field goes last.
    pub fn set(&mut self, key: &str, value: Value) {
        if let Some(slot) = self.fields.get_mut(key) {
            *slot = value;
            return;
        }
        let Some(rank) = KNOWN_FIELDS.iter().position(|k| *k == key) else {
            self.fields.insert(key.to_string(), value);
            return;
        };
        // Insert after the last present field that precedes it in the known order.
        let index = self
            .fields
            .keys()
            .enumerate()
            .filter(|(_, k)| {
                KNOWN_FIELDS
                    .iter()
                    .position(|f| f == k)
                    .is_some_and(|r| r < rank)
            })
            .map(|(i, _)| i + 1)
            .max()
            .unwrap_or(0);
        self.fields.shift_insert(index, key.to_string(), value);
    }

    /// Applies a set of field changes from a face, validating known fields.
    ///
    /// `session_id`, `created_at` and `event_count` belong to the store and
    /// cannot be changed; a JSON `null` removes an optional or unknown field.
    pub fn apply_update(&mut self, changes: &Map<String, Value>) -> Result<()> {
        for (key, value) in changes {
            match key.as_str() {
                "session_id" | "created_at" | "event_count" => {
                    return Err(Error::invalid(format!(
                        "metadata field {key:?} is managed by the store"
                    )))
                }
                "status" => {
                    let s = value.as_str().unwrap_or("");
                    if !STATUSES.contains(&s) {
                        return Err(Error::invalid(format!(
                            "status must be one of {STATUSES:?}, not {value}"
                        )));
                    }
                    self.set_str(key, s);
                }
                "updated_at" | "last_user_message_at" => {
                    let s = value.as_str().unwrap_or("");
                    if chrono::DateTime::parse_from_rfc3339(s).is_err() {
                        return Err(Error::invalid(format!(
                            "{key} must be an RFC 3339 timestamp, not {value}"
                        )));
                    }
                    self.set_str(key, s);
                }
                k if KNOWN_FIELDS.contains(&k) => match value {
                    Value::String(s) => self.set_str(k, s),
                    Value::Null if OMIT_IF_EMPTY.contains(&k) => self.set_str(k, ""),
                    _ => {
                        return Err(Error::invalid(format!(
                            "metadata field {key:?} must be a string"
                        )))
                    }
                },
                _ if value.is_null() => {
                    self.fields.shift_remove(key);
                }
                _ => self.set(key, value.clone()),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_keep_their_place() {
        let src = br#"{
  "session_id": "s",
  "acp_server": "a",
  "working_dir": "/w",
  "archived": true,
  "created_at": "2026-02-01T12:20:00Z",
  "updated_at": "2026-02-01T12:20:00Z",
  "last_user_message_at": "0001-01-01T00:00:00Z",
  "event_count": 0,
  "status": "active",
  "max_seq": 7
}"#;
        let mut m = Metadata::from_slice(src, Path::new("m")).unwrap();
        m.set_str("name", "N");
        m.set_str("description", "D");
        let keys: Vec<_> = m.fields().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "session_id",
                "name",
                "acp_server",
                "working_dir",
                "archived",
                "created_at",
                "updated_at",
                "last_user_message_at",
                "event_count",
                "status",
                "description",
                "max_seq"
            ]
        );
        m.set_str("name", "");
        assert!(m.get("name").is_none());
        assert!(m.last_user_message_at().is_none());
    }
}
