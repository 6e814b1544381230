//! Pruning: keeping a session under a number of events and/or bytes by
//! dropping its oldest events, renumbering the rest from 1 and deleting the
//! images no remaining event refers to.

use std::collections::HashSet;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::Result;
use crate::event::Event;
use crate::image::ImageInfo;
use crate::store::Store;

/// Limits a session is kept under; 0 means no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneLimits {
    /// Most events kept.
    pub max_messages: usize,
    /// Most bytes of log plus images kept.
    pub max_size_bytes: u64,
}

impl PruneLimits {
    /// Whether any limit is set.
    pub fn is_enabled(&self) -> bool {
        self.max_messages > 0 || self.max_size_bytes > 0
    }
}

/// What a prune removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneResult {
    /// Events dropped.
    pub events_removed: usize,
    /// Image files deleted.
    pub images_removed: usize,
    /// Bytes freed (log and images).
    pub bytes_reclaimed: u64,
}

/// A JSON object whose values are kept byte for byte, in order.
struct RawFields(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for RawFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawFields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<RawFields, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry::<String, Box<RawValue>>()? {
                    out.push(entry);
                }
                Ok(RawFields(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl Serialize for RawFields {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The line with its `seq` set to `seq`, every other byte of every value kept.
fn renumber(line: &[u8], seq: u64) -> Option<Vec<u8>> {
    let mut fields: RawFields = serde_json::from_slice(line).ok()?;
    let slot = fields.0.iter_mut().find(|(k, _)| k == "seq")?;
    slot.1 = RawValue::from_string(seq.to_string()).ok()?;
    serde_json::to_vec(&fields).ok()
}

/// Ids of the images an event's data refers to (`data.images[].id`).
fn image_refs(ev: &Event, into: &mut HashSet<String>) {
    if let Some(Value::Array(images)) = ev.data.get("images") {
        for img in images {
            if let Some(id) = img.get("id").and_then(Value::as_str) {
                into.insert(id.to_string());
            }
        }
    }
}

/// What a prune will do to a session's log.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The kept lines, renumbered from 1, each ending in a newline.
    pub(crate) log: Vec<u8>,
    /// Seq of the last kept event.
    pub(crate) last_seq: u64,
    /// Images only the removed events referred to.
    pub(crate) orphans: Vec<ImageInfo>,
    /// Counts and bytes: `images_removed` and the images' bytes are added
    /// by the caller as it deletes them.
    pub(crate) result: PruneResult,
}

/// Plans a prune of `log` (the session's whole log) holding `images`;
/// `None` when the session is within `limits`.
///
/// At least one event is always kept. Lines that cannot be parsed are
/// kept verbatim when they lie in the kept part of the log.
pub(crate) fn plan(log: &[u8], images: Vec<ImageInfo>, limits: PruneLimits) -> Option<Plan> {
    // (line bytes, parsed event) for every non-blank line.
    let lines: Vec<(&[u8], Option<Event>)> = log
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .map(|l| (l, serde_json::from_slice::<Event>(l).ok()))
        .collect();
    let n_events = lines.iter().filter(|(_, e)| e.is_some()).count();
    if n_events == 0 {
        return None;
    }
    let total = log.len() as u64 + images.iter().map(|i| i.size).sum::<u64>();

    let mut remove = 0usize;
    if limits.max_messages > 0 && n_events > limits.max_messages {
        remove = n_events - limits.max_messages;
    }
    let event_sizes: Vec<u64> = lines
        .iter()
        .filter(|(_, e)| e.is_some())
        .map(|(l, _)| l.len() as u64 + 1)
        .collect();
    if limits.max_size_bytes > 0 && total > limits.max_size_bytes {
        let mut removed_bytes: u64 = event_sizes[..remove].iter().sum();
        while remove < n_events - 1 && total - removed_bytes > limits.max_size_bytes {
            removed_bytes += event_sizes[remove];
            remove += 1;
        }
    }
    if remove == 0 {
        return None;
    }

    // Split at the first kept event; rewrite the rest with new seqs.
    let mut seen = 0usize;
    let mut removed_refs = HashSet::new();
    let mut kept_refs = HashSet::new();
    let mut out = Vec::with_capacity(log.len());
    let mut next_seq = 1u64;
    for (line, ev) in &lines {
        match ev {
            Some(ev) if seen < remove => {
                seen += 1;
                image_refs(ev, &mut removed_refs);
            }
            Some(ev) => {
                image_refs(ev, &mut kept_refs);
                match renumber(line, next_seq) {
                    Some(l) => out.extend_from_slice(&l),
                    None => out.extend_from_slice(line),
                }
                out.push(b'\n');
                next_seq += 1;
            }
            None if seen < remove => {}
            None => {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
        }
    }
    let orphans = images
        .into_iter()
        .filter(|img| removed_refs.contains(&img.id) && !kept_refs.contains(&img.id))
        .collect();
    Some(Plan {
        result: PruneResult {
            events_removed: remove,
            images_removed: 0,
            bytes_reclaimed: (log.len() - out.len()) as u64,
        },
        log: out,
        last_seq: next_seq - 1,
        orphans,
    })
}

impl Store {
    /// Prunes the session if it is over `limits`; `None` when nothing was removed.
    ///
    /// At least one event is always kept. Lines that cannot be parsed are
    /// kept verbatim when they lie in the kept part of the log.
    pub fn prune_if_needed(
        &self,
        session_id: &str,
        limits: PruneLimits,
    ) -> Result<Option<PruneResult>> {
        self.check(session_id)?;
        if !limits.is_enabled() {
            return Ok(None);
        }
        self.backend().prune_if_needed(session_id, limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renumber_keeps_every_other_byte() {
        let line = br#"{"seq":12,"type":"x","timestamp":"t","data":{"big":9007199254740993,"e":1e+21,"s":"\u003c"}}"#;
        let out = renumber(line, 3).unwrap();
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"seq":3,"type":"x","timestamp":"t","data":{"big":9007199254740993,"e":1e+21,"s":"\u003c"}}"#
        );
    }
}
