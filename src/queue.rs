//! The per-session queue of messages typed while the agent is busy
//! (`queue.json`), and the workspace-wide queue settings.
//!
//! # Concurrency
//! The queue is one document, and every change is a read-modify-write of it
//! under the backend's exclusive access (see [`crate::backend::Backend::doc_change`]:
//! a mutex and an `flock` for the filesystem, a row lock on the server), so
//! handles, threads, processes and hosts never lose or duplicate a message,
//! and a reader always sees a whole version. Message ids are unique within
//! the queue: a new id that collides with a queued one is drawn again.
//!
//! # Bad files
//! A `queue.json` that does not parse fails every call with
//! [`Error::CorruptData`] naming the file, and no change overwrites it: only
//! [`Queue::delete`] removes it. Fields this library does not know, in the file
//! and in each message, are kept when the file is rewritten.

use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::backend::{Doc, DocChange};
use crate::error::{Error, Result};
use crate::ids;
use crate::jsonfile;
use crate::store::Store;
use crate::timefmt::{self, Timestamp};

/// Workspace-wide queue settings (not stored per session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueConfig {
    /// Whether queued messages are sent to the agent automatically when it becomes idle.
    pub enabled: bool,
    /// Seconds to wait after the agent finishes before sending the next queued message.
    pub delay_seconds: u64,
    /// Most messages a queue may hold; 0 means no limit.
    pub max_size: usize,
    /// Whether short titles are generated for queued messages.
    pub auto_generate_titles: bool,
}

impl QueueConfig {
    /// Default for [`QueueConfig::max_size`].
    pub const DEFAULT_MAX_SIZE: usize = 10;
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            enabled: true,
            delay_seconds: 0,
            max_size: Self::DEFAULT_MAX_SIZE,
            auto_generate_titles: true,
        }
    }
}

/// A message waiting in a session's queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedMessage {
    /// Unique id, `q-<unix seconds>-<8 hex>`.
    pub id: String,
    /// The text to send.
    pub message: String,
    /// Ids of attached images (empty when none).
    #[serde(
        default,
        deserialize_with = "jsonfile::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub image_ids: Vec<String>,
    /// When it was queued, as written in the file (RFC 3339).
    pub queued_at: String,
    /// The client that queued it.
    #[serde(
        default,
        deserialize_with = "jsonfile::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id: Option<String>,
    /// A short title.
    #[serde(
        default,
        deserialize_with = "jsonfile::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl QueuedMessage {
    /// [`QueuedMessage::queued_at`] parsed; `None` if it is the zero time or unreadable.
    pub fn queued_at_time(&self) -> Option<Timestamp> {
        timefmt::parse(&self.queued_at)
    }

    /// Fields of the stored message this library does not know, in file order.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
}

/// Where [`Queue::move_message`] moves a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MoveDirection {
    /// Towards the front (sent sooner).
    Up,
    /// Towards the back (sent later).
    Down,
}

impl MoveDirection {
    /// `"up"` or `"down"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MoveDirection::Up => "up",
            MoveDirection::Down => "down",
        }
    }
}

impl FromStr for MoveDirection {
    type Err = Error;

    /// Parses `"up"` or `"down"`; anything else is [`Error::InvalidArgument`].
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "up" => Ok(MoveDirection::Up),
            "down" => Ok(MoveDirection::Down),
            _ => Err(Error::invalid(format!(
                "direction {s:?} is neither \"up\" nor \"down\""
            ))),
        }
    }
}

/// The content of `queue.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct QueueFile {
    #[serde(default, deserialize_with = "jsonfile::null_as_default")]
    messages: Vec<QueuedMessage>,
    /// `updated_at` and every field this library does not know, in file order.
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl QueueFile {
    fn position(&self, id: &str) -> Result<usize> {
        self.messages
            .iter()
            .position(|m| m.id == id)
            .ok_or_else(|| Error::MessageNotFound(id.to_string()))
    }

    /// An id of the form `q-<unix seconds>-<8 hex>` that no queued message has.
    fn new_id(&self) -> String {
        let secs = chrono::Utc::now().timestamp();
        loop {
            let id = format!("q-{secs}-{}", ids::random_hex(4));
            if self.messages.iter().all(|m| m.id != id) {
                return id;
            }
        }
    }
}

/// The message queue of one session. Cheap to clone; every handle of the same
/// session, in any thread or process, sees and changes the same queue.
#[derive(Debug, Clone)]
pub struct Queue {
    store: Store,
    session_id: String,
    path: PathBuf,
}

impl Store {
    /// The message queue of a session. Checks the id (→ [`Error::InvalidArgument`]);
    /// a missing session is reported by each call as [`Error::SessionNotFound`].
    pub fn queue(&self, session_id: &str) -> Result<Queue> {
        self.check(session_id)?;
        Ok(Queue {
            store: self.clone(),
            session_id: session_id.to_string(),
            path: self.backend().doc_location(session_id, Doc::Queue),
        })
    }
}

impl Queue {
    /// The session this queue belongs to.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Where the queue is stored: the path of `queue.json`, or its place
    /// on the server.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Appends a message and returns it as stored. `image_ids` are attached
    /// image ids; `client_id` names the client that queued it; `max_size` is
    /// the most messages the queue may hold (0: no limit) → [`Error::QueueFull`].
    pub fn add(
        &self,
        message: &str,
        image_ids: &[String],
        client_id: Option<&str>,
        max_size: usize,
    ) -> Result<QueuedMessage> {
        for id in image_ids {
            ids::image(id)?;
        }
        self.change(|q| {
            if max_size > 0 && q.messages.len() >= max_size {
                return Err(Error::QueueFull(q.messages.len()));
            }
            let msg = QueuedMessage {
                id: q.new_id(),
                message: message.to_string(),
                image_ids: image_ids.to_vec(),
                queued_at: timefmt::now_string(),
                client_id: client_id.filter(|c| !c.is_empty()).map(str::to_string),
                title: None,
                extra: Map::new(),
            };
            q.messages.push(msg.clone());
            Ok((msg, true))
        })
    }

    /// Every queued message, front first.
    pub fn list(&self) -> Result<Vec<QueuedMessage>> {
        Ok(self.read()?.messages)
    }

    /// One message → [`Error::MessageNotFound`] if it is not queued.
    pub fn get(&self, id: &str) -> Result<QueuedMessage> {
        check_id(id)?;
        let mut q = self.read()?;
        let i = q.position(id)?;
        Ok(q.messages.swap_remove(i))
    }

    /// Removes one message and returns it → [`Error::MessageNotFound`].
    pub fn remove(&self, id: &str) -> Result<QueuedMessage> {
        check_id(id)?;
        self.change(|q| {
            let i = q.position(id)?;
            Ok((q.messages.remove(i), true))
        })
    }

    /// Removes and returns the front message → [`Error::QueueEmpty`].
    pub fn pop(&self) -> Result<QueuedMessage> {
        self.change(|q| {
            if q.messages.is_empty() {
                return Err(Error::QueueEmpty);
            }
            Ok((q.messages.remove(0), true))
        })
    }

    /// Removes every message; an existing file is kept, with an empty list.
    pub fn clear(&self) -> Result<()> {
        self.change(|q| {
            let any = !q.messages.is_empty();
            q.messages.clear();
            Ok(((), any))
        })
    }

    /// Number of queued messages.
    pub fn len(&self) -> Result<usize> {
        Ok(self.read()?.messages.len())
    }

    /// Whether no message is queued.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Sets a message's title (`""` removes it) and returns the message → [`Error::MessageNotFound`].
    pub fn update_title(&self, id: &str, title: &str) -> Result<QueuedMessage> {
        check_id(id)?;
        self.change(|q| {
            let i = q.position(id)?;
            let msg = &mut q.messages[i];
            msg.title = Some(title.to_string()).filter(|t| !t.is_empty());
            Ok((msg.clone(), true))
        })
    }

    /// Swaps a message with its neighbour in `direction` and returns the new
    /// order. Moving the front message up or the last one down changes nothing
    /// and returns the order as it is. → [`Error::MessageNotFound`].
    pub fn move_message(&self, id: &str, direction: MoveDirection) -> Result<Vec<QueuedMessage>> {
        check_id(id)?;
        self.change(|q| {
            let i = q.position(id)?;
            let j = match direction {
                MoveDirection::Up => i.checked_sub(1),
                MoveDirection::Down => Some(i + 1).filter(|&j| j < q.messages.len()),
            };
            if let Some(j) = j {
                q.messages.swap(i, j);
            }
            Ok((q.messages.clone(), j.is_some()))
        })
    }

    /// Removes `queue.json` (a missing file is fine). This is also the way to
    /// discard a file that does not parse.
    pub fn delete(&self) -> Result<()> {
        self.store.check(&self.session_id)?;
        self.store
            .backend()
            .doc_change(&self.session_id, Doc::Queue, &mut |_| Ok(DocChange::Remove))?;
        Ok(())
    }

    /// The queue as stored now.
    fn read(&self) -> Result<QueueFile> {
        self.store.check(&self.session_id)?;
        match self
            .store
            .backend()
            .doc_read(&self.session_id, Doc::Queue)?
        {
            None => Ok(QueueFile::default()),
            Some((bytes, _)) => jsonfile::parse(&bytes, &self.path),
        }
    }

    /// Runs `f` on the stored queue under exclusive access; writes the queue
    /// back when `f` says it changed it.
    fn change<R>(&self, f: impl FnOnce(&mut QueueFile) -> Result<(R, bool)>) -> Result<R> {
        self.store.check(&self.session_id)?;
        let mut f = Some(f);
        let mut out = None;
        self.store
            .backend()
            .doc_change(&self.session_id, Doc::Queue, &mut |bytes| {
                let mut q = match bytes {
                    None => QueueFile::default(),
                    Some(b) => jsonfile::parse(b, &self.path)?,
                };
                let f = f.take().expect("a document change runs once");
                let (r, changed) = f(&mut q)?;
                out = Some(r);
                if !changed {
                    return Ok(DocChange::Keep);
                }
                q.rest
                    .insert("updated_at".into(), Value::String(timefmt::now_string()));
                Ok(DocChange::Write(jsonfile::to_pretty(&q, &self.path)?))
            })?;
        Ok(out.expect("the change ran"))
    }
}

fn check_id(id: &str) -> Result<()> {
    ids::validate("message id", id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_parses_up_and_down_only() {
        assert_eq!("up".parse::<MoveDirection>().unwrap(), MoveDirection::Up);
        assert_eq!(
            "down".parse::<MoveDirection>().unwrap(),
            MoveDirection::Down
        );
        for bad in ["", "Up", "left", "down "] {
            assert!(matches!(
                bad.parse::<MoveDirection>(),
                Err(Error::InvalidArgument(_))
            ));
        }
        assert_eq!(MoveDirection::Down.as_str(), "down");
    }

    #[test]
    fn config_defaults_fill_missing_fields() {
        let c: QueueConfig = serde_json::from_str(r#"{"max_size": 3, "other": 1}"#).unwrap();
        assert_eq!(
            c,
            QueueConfig {
                max_size: 3,
                ..QueueConfig::default()
            }
        );
        let d = QueueConfig::default();
        assert!(d.enabled && d.auto_generate_titles);
        assert_eq!((d.delay_seconds, d.max_size), (0, 10));
        let back: QueueConfig = serde_json::from_value(serde_json::to_value(d).unwrap()).unwrap();
        assert_eq!(back, d);
    }
}
