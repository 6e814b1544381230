//! Recording `session/update` notifications (see the [module docs](super)).

use base64::Engine;
use serde_json::{json, Map, Value};

use super::{
    is_reserved_event_type, kinds, rename_fields, renamed_by_kind, types, ChunkKind, PARAMS_EXTRA,
    PLAN_ENTRY_FIELDS,
};
use crate::error::{Error, Result};
use crate::recorder::{Recorder, State};
use crate::store::NewEvent;
use crate::timefmt;

/// What one recorded notification wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcpRecorded {
    /// Seqs of the events written by this call (often none: chunks wait
    /// until their message is complete).
    pub seqs: Vec<u64>,
    /// Problems with what the agent sent; the data was kept all the same.
    pub warnings: Vec<String>,
}

/// A message being streamed: chunks of one kind and one `messageId`.
#[derive(Debug)]
struct PendingMessage {
    kind: ChunkKind,
    /// The chunks' `messageId`, if they carry one.
    message_id: Option<Value>,
    text: String,
    /// When the first chunk arrived.
    timestamp: String,
    /// References to the images saved from its chunks.
    images: Vec<Value>,
    /// The chunks that are not plain text, in order.
    chunks: Vec<Value>,
}

impl PendingMessage {
    fn to_event(&self) -> NewEvent {
        let mut data = Map::new();
        data.insert(
            self.kind.text_key().to_string(),
            Value::String(self.text.clone()),
        );
        if !self.images.is_empty() {
            data.insert("images".into(), Value::Array(self.images.clone()));
        }
        if let Some(id) = &self.message_id {
            data.insert("message_id".into(), id.clone());
        }
        if !self.chunks.is_empty() {
            data.insert("chunks".into(), Value::Array(self.chunks.clone()));
        }
        NewEvent::new(self.kind.event_type(), Value::Object(data)).at(self.timestamp.clone())
    }
}

/// The ACP side of a recorder's state.
#[derive(Debug, Default)]
pub(crate) struct AcpState {
    pending: Option<PendingMessage>,
    /// The agent's session id as last written to the metadata.
    acp_session_id: Option<String>,
}

impl AcpState {
    /// The event for the message in progress, if any.
    pub(crate) fn pending_event(&self) -> Option<NewEvent> {
        self.pending.as_ref().map(PendingMessage::to_event)
    }

    /// Forgets the message in progress (once written).
    pub(crate) fn clear_pending(&mut self) {
        self.pending = None;
    }
}

/// A `session/update` notification taken apart.
struct Notification {
    session_id: Option<String>,
    update: Map<String, Value>,
    /// Fields of `params` other than `sessionId` and `update`.
    params_extra: Map<String, Value>,
    kind: String,
}

/// Takes a notification (the JSON-RPC message or its params) apart.
fn parse(notification: &Value) -> Result<Notification> {
    let Value::Object(message) = notification else {
        return Err(Error::invalid(format!(
            "an ACP session/update notification must be a JSON object, not {}",
            kind_of(notification)
        )));
    };
    let method = agent_client_protocol_schema::v1::CLIENT_METHOD_NAMES.session_update;
    let params = match message.get("method") {
        Some(Value::String(m)) if m == method => match message.get("params") {
            Some(Value::Object(p)) => p,
            _ => {
                return Err(Error::invalid(
                    "session/update notification has no params object",
                ))
            }
        },
        Some(m) => {
            return Err(Error::invalid(format!(
                "not a session/update notification: method {m}"
            )))
        }
        None => message,
    };
    let update = match params.get("update") {
        Some(Value::Object(u)) => u.clone(),
        Some(other) => {
            return Err(Error::invalid(format!(
                "session/update `update` must be a JSON object, not {}",
                kind_of(other)
            )))
        }
        None => {
            return Err(Error::invalid(
                "not a session/update notification: no `method` and no `update`",
            ))
        }
    };
    let kind = match update.get("sessionUpdate") {
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        _ => {
            return Err(Error::invalid(
                "session/update has no `sessionUpdate` kind string",
            ))
        }
    };
    let session_id = match params.get("sessionId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(other) => {
            return Err(Error::invalid(format!(
                "session/update `sessionId` must be a non-empty string, not {other}"
            )))
        }
    };
    let params_extra = params
        .iter()
        .filter(|(k, _)| *k != "sessionId" && *k != "update")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Notification {
        session_id,
        update,
        params_extra,
        kind,
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks that a known kind carries the fields ACP v1 requires.
fn check_fields(kind: &str, u: &Map<String, Value>) -> std::result::Result<(), String> {
    let string = |key: &str| match u.get(key) {
        Some(Value::String(_)) => Ok(()),
        _ => Err(format!("{kind} has no `{key}` string")),
    };
    let array = |key: &str| match u.get(key) {
        Some(Value::Array(_)) => Ok(()),
        _ => Err(format!("{kind} has no `{key}` array")),
    };
    let optional_string = |key: &str| match u.get(key) {
        None | Some(Value::Null | Value::String(_)) => Ok(()),
        Some(_) => Err(format!("{kind} `{key}` is not a string")),
    };
    match kind {
        kinds::USER_MESSAGE_CHUNK | kinds::AGENT_MESSAGE_CHUNK | kinds::AGENT_THOUGHT_CHUNK => {
            let Some(Value::Object(content)) = u.get("content") else {
                return Err(format!("{kind} has no `content` object"));
            };
            let has = |key: &str| matches!(content.get(key), Some(Value::String(_)));
            match content.get("type").and_then(Value::as_str) {
                Some("text") if !has("text") => Err(format!("{kind} text content has no `text`")),
                Some("image") if !has("data") || !has("mimeType") => Err(format!(
                    "{kind} image content needs `data` and `mimeType` strings"
                )),
                Some(_) => Ok(()),
                None => Err(format!("{kind} content has no `type`")),
            }
        }
        kinds::TOOL_CALL => string("toolCallId").and(string("title")),
        kinds::TOOL_CALL_UPDATE => string("toolCallId"),
        kinds::PLAN => {
            let Some(Value::Array(entries)) = u.get("entries") else {
                return Err(format!("{kind} has no `entries` array"));
            };
            entries.iter().enumerate().try_for_each(|(i, entry)| {
                let ok = ["content", "priority", "status"]
                    .iter()
                    .all(|k| matches!(entry.get(k), Some(Value::String(_))));
                if ok {
                    Ok(())
                } else {
                    Err(format!(
                        "plan entry {} needs `content`, `priority` and `status` strings",
                        i + 1
                    ))
                }
            })
        }
        kinds::USAGE_UPDATE => {
            for key in ["used", "size"] {
                if !u.get(key).is_some_and(Value::is_u64) {
                    return Err(format!("{kind} has no `{key}` token count"));
                }
            }
            match u.get("cost") {
                None | Some(Value::Null) => Ok(()),
                Some(Value::Object(c))
                    if c.get("amount").is_some_and(Value::is_number)
                        && c.get("currency").is_some_and(Value::is_string) =>
                {
                    Ok(())
                }
                Some(_) => Err(format!(
                    "{kind} `cost` needs an `amount` number and a `currency` string"
                )),
            }
        }
        kinds::SESSION_INFO_UPDATE => optional_string("title").and(optional_string("updatedAt")),
        kinds::AVAILABLE_COMMANDS_UPDATE => array("availableCommands"),
        kinds::CURRENT_MODE_UPDATE => string("currentModeId"),
        kinds::CONFIG_OPTION_UPDATE => array("configOptions"),
        _ => Ok(()),
    }
}

/// The update kept whole, with why.
fn kept_whole(n: &Notification, problem: &str) -> NewEvent {
    let mut data = Map::new();
    data.insert("update".into(), Value::Object(n.update.clone()));
    data.insert("problem".into(), Value::String(problem.to_string()));
    if !n.params_extra.is_empty() {
        data.insert("params".into(), Value::Object(n.params_extra.clone()));
    }
    NewEvent::new(types::ACP_UPDATE, Value::Object(data))
}

/// The event of a renamed kind (all but the chunks).
fn renamed_event(n: &Notification) -> Option<NewEvent> {
    let r = renamed_by_kind(&n.kind)?;
    let mut data = rename_fields(&n.update, r.fields, &["sessionUpdate"], true);
    if let (kinds::PLAN, Some(Value::Array(entries))) = (n.kind.as_str(), n.update.get("entries")) {
        let entries = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut out = Map::new();
                out.insert("id".into(), Value::String((i + 1).to_string()));
                if let Value::Object(e) = e {
                    out.extend(rename_fields(e, PLAN_ENTRY_FIELDS, &[], true));
                }
                Value::Object(out)
            })
            .collect();
        data.insert("entries".into(), Value::Array(entries));
    }
    if !n.params_extra.is_empty() {
        data.insert(PARAMS_EXTRA.into(), Value::Object(n.params_extra.clone()));
    }
    Some(NewEvent::new(r.event_type, Value::Object(data)))
}

/// Metadata changes one notification asks for.
#[derive(Default)]
struct MetadataChanges {
    acp_session_id: Option<String>,
    /// `Some(None)`: the agent cleared its title.
    title: Option<Option<String>>,
    usage: Option<Value>,
}

impl MetadataChanges {
    fn is_empty(&self) -> bool {
        self.acp_session_id.is_none() && self.title.is_none() && self.usage.is_none()
    }
}

impl Recorder {
    /// Records one ACP `session/update` notification, given as JSON text
    /// (the JSON-RPC message or its `params`); see [`crate::acp`] for the
    /// events it makes. Text that is not JSON, or JSON that is not a
    /// `session/update`, is an invalid argument.
    pub fn record_acp_update(&self, notification: &str) -> Result<AcpRecorded> {
        let value: Value = serde_json::from_str(notification)
            .map_err(|e| Error::invalid(format!("ACP notification is not JSON: {e}")))?;
        self.record_acp_update_value(&value)
    }

    /// [`Recorder::record_acp_update`] for a notification already parsed.
    pub fn record_acp_update_value(&self, notification: &Value) -> Result<AcpRecorded> {
        let n = parse(notification)?;
        let mut st = self.started_state()?;
        let mut out = AcpRecorded::default();
        let mut changes = MetadataChanges::default();
        if n.session_id.is_some() && n.session_id != st.acp.acp_session_id {
            changes.acp_session_id = n.session_id.clone();
        }
        let event = match check_fields(&n.kind, &n.update) {
            Err(problem) => {
                out.warnings.push(format!("kept whole: {problem}"));
                Some(kept_whole(&n, &problem))
            }
            Ok(()) => match ChunkKind::of_update(&n.kind) {
                Some(kind) => {
                    out.seqs = self.add_chunk(&mut st, kind, &n, &mut out.warnings)?;
                    None
                }
                None => Some(self.event_of(&n, &mut changes, &mut out.warnings)),
            },
        };
        if let Some(event) = event {
            out.seqs = self.append_all(&mut st, vec![event])?;
        }
        if !changes.is_empty() {
            self.apply_metadata(&mut st, changes)?;
        }
        Ok(out)
    }

    /// Ends a prompt turn: writes the message in progress and a `turn_end`
    /// event with the agent's stop reason (`end_turn`, `cancelled`, …);
    /// returns the seqs written.
    pub fn record_turn_end(&self, stop_reason: &str) -> Result<Vec<u64>> {
        if stop_reason.is_empty() {
            return Err(Error::invalid("stop reason is empty"));
        }
        let mut st = self.started_state()?;
        let event = NewEvent::new(types::TURN_END, json!({ "stop_reason": stop_reason }));
        self.append_all(&mut st, vec![event])
    }

    /// The event of a notification that is not a chunk.
    fn event_of(
        &self,
        n: &Notification,
        changes: &mut MetadataChanges,
        warnings: &mut Vec<String>,
    ) -> NewEvent {
        if n.kind == kinds::SESSION_INFO_UPDATE {
            match n.update.get("title") {
                Some(Value::String(t)) => changes.title = Some(Some(t.clone())),
                Some(Value::Null) => changes.title = Some(None),
                _ => {}
            }
        }
        if n.kind == kinds::USAGE_UPDATE {
            let mut usage = Map::new();
            for key in ["used", "size", "cost"] {
                if let Some(v) = n.update.get(key).filter(|v| !v.is_null()) {
                    usage.insert(key.into(), v.clone());
                }
            }
            usage.insert("updated_at".into(), Value::String(timefmt::now_string()));
            changes.usage = Some(Value::Object(usage));
        }
        if let Some(event) = renamed_event(n) {
            return event;
        }
        if is_reserved_event_type(&n.kind) {
            let problem = format!("unknown update kind {:?} is an event type name", n.kind);
            warnings.push(format!("kept whole: {problem}"));
            return kept_whole(n, &problem);
        }
        if !n.params_extra.is_empty() {
            return kept_whole(n, "the notification carries fields beside the update");
        }
        NewEvent::new(n.kind.clone(), Value::Object(n.update.clone()))
    }

    /// Adds a chunk to the message in progress, first writing out a message
    /// of another kind or id; returns the seqs written.
    fn add_chunk(
        &self,
        st: &mut State,
        kind: ChunkKind,
        n: &Notification,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<u64>> {
        let message_id = n.update.get("messageId").cloned();
        let same = st
            .acp
            .pending
            .as_ref()
            .is_some_and(|p| p.kind == kind && p.message_id == message_id);
        let mut seqs = Vec::new();
        if !same {
            seqs = self.append_all(st, Vec::new())?;
            st.acp.pending = Some(PendingMessage {
                kind,
                message_id,
                text: String::new(),
                timestamp: timefmt::now_string(),
                images: Vec::new(),
                chunks: Vec::new(),
            });
        }
        let mut update = n.update.clone();
        update.remove("sessionUpdate");
        update.remove("messageId");
        let mut content = match update.remove("content") {
            Some(Value::Object(c)) => c,
            _ => Map::new(),
        };
        let Some(pending) = st.acp.pending.as_mut() else {
            return Ok(seqs);
        };
        let mut entry = Map::new();
        entry.insert("offset".into(), Value::from(pending.text.len()));
        match content.get("type").and_then(Value::as_str) {
            Some("text") => {
                let text = match content.remove("text") {
                    Some(Value::String(t)) => t,
                    _ => String::new(),
                };
                pending.text.push_str(&text);
                let plain = update.is_empty() && content.len() == 1 && n.params_extra.is_empty();
                if plain {
                    return Ok(seqs);
                }
                entry.insert("len".into(), Value::from(text.len()));
            }
            Some("image") => match self.save_chunk_image(&content) {
                Ok((id, mime_type)) => {
                    content.remove("data");
                    pending
                        .images
                        .push(json!({ "id": id.clone(), "mime_type": mime_type }));
                    entry.insert("image_id".into(), Value::String(id));
                }
                Err(e) => warnings.push(format!("image kept inline, not saved: {e}")),
            },
            _ => {}
        }
        update.insert("content".into(), Value::Object(content));
        entry.insert("update".into(), Value::Object(update));
        if !n.params_extra.is_empty() {
            entry.insert("params".into(), Value::Object(n.params_extra.clone()));
        }
        pending.chunks.push(Value::Object(entry));
        Ok(seqs)
    }

    /// Saves the image of a chunk; returns its id and real MIME type.
    fn save_chunk_image(&self, content: &Map<String, Value>) -> Result<(String, String)> {
        let field = |key: &str| content.get(key).and_then(Value::as_str).unwrap_or("");
        let (data, mime_type) = (field("data"), field("mimeType"));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| Error::invalid(format!("image data is not base64: {e}")))?;
        let info = self
            .store()
            .save_image(self.session_id(), &bytes, mime_type, None)?;
        Ok((info.id, info.mime_type))
    }

    /// Writes what a notification changes in the metadata.
    fn apply_metadata(&self, st: &mut State, changes: MetadataChanges) -> Result<()> {
        self.store().update_metadata(self.session_id(), |m| {
            if let Some(id) = &changes.acp_session_id {
                m.set_str("acp_session_id", id);
            }
            if let Some(title) = &changes.title {
                let agent_named = m.get("acp_title").and_then(Value::as_str);
                let user_named = !m.name().is_empty() && agent_named != Some(m.name());
                if !user_named {
                    m.set_str("name", title.as_deref().unwrap_or(""));
                }
                let mut field = Map::new();
                field.insert(
                    "acp_title".into(),
                    title.clone().map_or(Value::Null, Value::String),
                );
                m.apply_update(&field)?;
            }
            if let Some(usage) = &changes.usage {
                m.set("usage", usage.clone());
            }
            m.set_str("updated_at", &timefmt::now_string());
            Ok(())
        })?;
        if changes.acp_session_id.is_some() {
            st.acp.acp_session_id = changes.acp_session_id;
        }
        Ok(())
    }
}
