//! Pruning: keeping a session under a number of events and/or bytes by
//! dropping its oldest events, renumbering the rest from 1 and deleting the
//! images no remaining event refers to.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::FileExt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{IoContext, Result};
use crate::event::Event;
use crate::fsutil::{self};
use crate::image;
use crate::store::{files, Store};
use crate::timefmt;

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
        if !limits.is_enabled() {
            crate::ids::session(session_id)?;
            return Ok(None);
        }
        self.with_session(session_id, |s| {
            let path = s.events_path();
            let len = s.log_len();
            let mut buf = vec![0u8; len as usize];
            s.log_file().read_exact_at(&mut buf, 0).at(&path)?;
            // (line bytes, parsed event) for every non-blank line.
            let lines: Vec<(&[u8], Option<Event>)> = buf
                .split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                .map(|l| (l, serde_json::from_slice::<Event>(l).ok()))
                .collect();
            let n_events = lines.iter().filter(|(_, e)| e.is_some()).count();
            if n_events == 0 {
                return Ok(None);
            }
            let images_dir = s.dir.join(files::IMAGES);
            image::refuse_symlink(&images_dir)?;
            let images = image::list_dir(&images_dir)?;
            let total = len + images.iter().map(|i| i.size).sum::<u64>();

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
                return Ok(None);
            }

            // Split at the first kept event; rewrite the rest with new seqs.
            let mut seen = 0usize;
            let mut removed_refs = HashSet::new();
            let mut kept_refs = HashSet::new();
            let mut out = Vec::with_capacity(buf.len());
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
            let last_seq = next_seq - 1;

            // Write the new log and lock it before it replaces the old one, so
            // no other writer can slip in between the rename and our metadata.
            let tmp = fsutil::temp_path_for(&path);
            let replace = (|| -> std::io::Result<fs::File> {
                let mut f = fsutil::private_open_options()
                    .read(true)
                    .append(true)
                    .create_new(true)
                    .open(&tmp)?;
                f.lock()?;
                f.write_all(&out)?;
                fs::rename(&tmp, &path)?;
                Ok(f)
            })();
            let file = match replace {
                Ok(f) => f,
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(crate::Error::io(&path, e));
                }
            };
            s.replace_log(file, out.len() as u64, last_seq)?;

            let meta = s.metadata()?;
            meta.set("event_count", Value::from(last_seq));
            meta.set_str("updated_at", &timefmt::now_string());
            s.write_metadata()?;

            let mut result = PruneResult {
                events_removed: remove,
                images_removed: 0,
                bytes_reclaimed: len - out.len() as u64,
            };
            for img in images {
                if removed_refs.contains(&img.id) && !kept_refs.contains(&img.id) {
                    let p = images_dir.join(&img.id);
                    match fs::remove_file(&p) {
                        Ok(()) => {
                            result.images_removed += 1;
                            result.bytes_reclaimed += img.size;
                        }
                        Err(e) => log::warn!("{}: image not removed: {e}", p.display()),
                    }
                }
            }
            Ok(Some(result))
        })
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
