//! A stored session as the `session/update` notifications that reproduce it.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::{rename_fields, renamed_by_event, types, ChunkKind, PARAMS_EXTRA, PLAN_ENTRY_FIELDS};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::player::Player;

/// Priority given to plan entries stored without one (ACP requires it).
const DEFAULT_PRIORITY: &str = "medium";

/// One update and the notification fields beside `sessionId` and `update`.
type Update = (Map<String, Value>, Map<String, Value>);

impl Player {
    /// The session as the `session/update` notifications an agent sends while
    /// answering `session/load`: whole JSON-RPC notifications, addressed to
    /// the stored `acp_session_id` (the session id when there is none).
    ///
    /// Messages, thoughts and prompts come out as chunks (split where the
    /// agent's chunks carried more than text, with their images read back
    /// from the image store); tool calls, plans, the kinds kept as events of
    /// their own and the updates kept raw come out as they were received.
    /// Events that are not updates (session start and end, permissions, file
    /// operations, errors, turn ends) are left out, and so is an image whose
    /// file is gone (with a logged warning).
    pub fn acp_updates(&self) -> Result<Vec<Value>> {
        let meta = self.metadata();
        let session_id = match meta.acp_session_id() {
            "" => meta.session_id(),
            id => id,
        };
        let mut out = Vec::new();
        for event in self.events() {
            for (update, params_extra) in self.updates_of(event)? {
                let mut params = Map::new();
                params.insert("sessionId".into(), Value::String(session_id.to_string()));
                params.insert("update".into(), Value::Object(update));
                params.extend(params_extra);
                out.push(json!({
                    "jsonrpc": "2.0",
                    "method": agent_client_protocol_schema::v1::CLIENT_METHOD_NAMES.session_update,
                    "params": params,
                }));
            }
        }
        Ok(out)
    }

    /// The updates one event stands for.
    fn updates_of(&self, event: &Event) -> Result<Vec<Update>> {
        let Value::Object(data) = &event.data else {
            return Ok(Vec::new());
        };
        let object = |key: &str| match data.get(key) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        if let Some(kind) = ChunkKind::of_event(&event.event_type) {
            return self.message_updates(kind, data);
        }
        if let Some(r) = renamed_by_event(&event.event_type) {
            let mut update = Map::new();
            update.insert("sessionUpdate".into(), Value::String(r.kind.to_string()));
            update.extend(rename_fields(data, r.fields, &[], false));
            if let Some(Value::Array(entries)) = data.get("entries") {
                update.insert("entries".into(), plan_entries(entries));
            }
            return Ok(vec![(update, object(PARAMS_EXTRA))]);
        }
        if event.event_type == types::ACP_UPDATE {
            let update = object("update");
            return Ok(if update.contains_key("sessionUpdate") {
                vec![(update, object("params"))]
            } else {
                Vec::new()
            });
        }
        let raw = data.get("sessionUpdate").and_then(Value::as_str) == Some(&event.event_type);
        Ok(if raw {
            vec![(data.clone(), Map::new())]
        } else {
            Vec::new()
        })
    }

    /// The chunks of a prompt, message or thought.
    fn message_updates(&self, kind: ChunkKind, data: &Map<String, Value>) -> Result<Vec<Update>> {
        let text = data
            .get(kind.text_key())
            .and_then(Value::as_str)
            .unwrap_or("");
        let chunk = |content: Map<String, Value>, rest: Map<String, Value>| {
            let mut update = Map::new();
            update.insert(
                "sessionUpdate".into(),
                Value::String(kind.update_kind().to_string()),
            );
            if let Some(id) = data.get("message_id") {
                update.insert("messageId".into(), id.clone());
            }
            update.insert("content".into(), Value::Object(content));
            update.extend(rest);
            update
        };
        let text_content = |t: &str| {
            let mut c = Map::new();
            c.insert("type".into(), Value::String("text".into()));
            c.insert("text".into(), Value::String(t.to_string()));
            c
        };
        let mut out: Vec<Update> = Vec::new();
        let entries = match data.get("chunks") {
            Some(Value::Array(e)) if !e.is_empty() => e,
            _ => {
                // Written by `record_*` calls: the text, then the images.
                let images = match data.get("images") {
                    Some(Value::Array(i)) => i.as_slice(),
                    _ => &[],
                };
                if !text.is_empty() || images.is_empty() {
                    out.push((chunk(text_content(text), Map::new()), Map::new()));
                }
                for image in images {
                    let field = |k: &str| image.get(k).and_then(Value::as_str).unwrap_or("");
                    if let Some(data) = self.image_base64(field("id"))? {
                        let mut c = Map::new();
                        c.insert("type".into(), Value::String("image".into()));
                        c.insert("data".into(), Value::String(data));
                        c.insert("mimeType".into(), Value::String(field("mime_type").into()));
                        out.push((chunk(c, Map::new()), Map::new()));
                    }
                }
                return Ok(out);
            }
        };
        let mut pos = 0;
        for entry in entries {
            let number = |k: &str| entry.get(k).and_then(Value::as_u64).map(|n| n as usize);
            let offset = number("offset").unwrap_or(pos).clamp(pos, text.len());
            if offset > pos {
                let t = text.get(pos..offset).unwrap_or("");
                out.push((chunk(text_content(t), Map::new()), Map::new()));
            }
            pos = offset;
            let mut rest = match entry.get("update") {
                Some(Value::Object(u)) => u.clone(),
                _ => Map::new(),
            };
            let mut content = Map::new();
            let stored = match rest.remove("content") {
                Some(Value::Object(c)) => c,
                _ => Map::new(),
            };
            if let Some(t) = stored.get("type") {
                content.insert("type".into(), t.clone());
            }
            if let Some(len) = number("len") {
                let end = (offset + len).min(text.len());
                content.insert(
                    "text".into(),
                    Value::String(text.get(offset..end).unwrap_or("").to_string()),
                );
                pos = end;
            }
            if let Some(id) = entry.get("image_id").and_then(Value::as_str) {
                match self.image_base64(id)? {
                    Some(data) => {
                        content.insert("data".into(), Value::String(data));
                    }
                    None => continue,
                }
            }
            content.extend(stored);
            let params = match entry.get("params") {
                Some(Value::Object(p)) => p.clone(),
                _ => Map::new(),
            };
            out.push((chunk(content, rest), params));
        }
        if pos < text.len() {
            let t = text.get(pos..).unwrap_or("");
            out.push((chunk(text_content(t), Map::new()), Map::new()));
        }
        Ok(out)
    }

    /// A stored image as base64; `None` (logged) when it is gone.
    fn image_base64(&self, image_id: &str) -> Result<Option<String>> {
        let session_id = self.metadata().session_id();
        let bytes = match self.store.image_data(session_id, image_id) {
            Ok(b) => b,
            Err(e @ (Error::ImageNotFound(_) | Error::InvalidArgument(_))) => {
                log::warn!("{session_id}: image left out of the replay: {e}");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        Ok(Some(
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ))
    }
}

/// Plan entries in ACP form.
fn plan_entries(entries: &[Value]) -> Value {
    entries
        .iter()
        .map(|e| {
            let Value::Object(e) = e else {
                return e.clone();
            };
            let mut out = rename_fields(e, PLAN_ENTRY_FIELDS, &[], false);
            out.entry("priority")
                .or_insert_with(|| Value::String(DEFAULT_PRIORITY.into()));
            Value::Object(out)
        })
        .collect()
}
