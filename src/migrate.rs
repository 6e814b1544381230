//! Copying a whole store into another: a directory into a server, a server
//! into a directory, or between two of a kind.
//!
//! Everything is copied as stored: metadata with every field, log lines
//! byte for byte (unknown event types and fields, and lines that do not
//! parse), images under their ids, the queue and the follow-up suggestions.
//! Locks are not: they belong to running processes.
//!
//! A copy is idempotent and resumable: a session that exists in the target
//! gets only the log lines after its last seq, the images it lacks and the
//! documents that differ, so running it twice copies nothing twice, and a
//! run that was interrupted continues where it stopped. The progress
//! callback may stop a copy between two sessions by returning an error.

use crate::backend::{Doc, DocChange};
use crate::error::Result;
use crate::event::fast_seq;
use crate::store::{SkippedSession, Store};

/// Where a copy stands, reported after each session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateProgress {
    /// Sessions done so far.
    pub sessions_done: usize,
    /// Sessions to copy.
    pub sessions_total: usize,
    /// The session just copied.
    pub session_id: String,
}

/// What a copy did (in JSON, an object of these fields).
#[derive(Debug, Default, serde::Serialize)]
pub struct MigrateReport {
    /// Sessions of the source.
    pub sessions: usize,
    /// Sessions that did not exist in the target.
    pub sessions_created: usize,
    /// Log lines copied.
    pub events_copied: usize,
    /// Images copied.
    pub images_copied: usize,
    /// Queues and suggestion documents copied.
    pub documents_copied: usize,
    /// Sessions of the source that could not be read (not copied).
    pub skipped: Vec<SkippedSession>,
}

/// The seq of a log line, `None` when the line is not an event.
pub(crate) fn line_seq(line: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Seq {
        seq: u64,
    }
    fast_seq(line).or_else(|| serde_json::from_slice::<Seq>(line).ok().map(|s| s.seq))
}

/// The part of `log` after seq `have`: its lines, and the seq of the last
/// one. A line without a readable seq goes with the event before it.
fn lines_after(log: &[u8], have: u64) -> (Vec<u8>, u64) {
    let mut out = Vec::new();
    let (mut prev, mut last) = (0u64, have);
    for line in log.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let take = match line_seq(line) {
            Some(seq) => {
                prev = seq;
                seq > have
            }
            None => prev > have || have == 0,
        };
        if take {
            out.extend_from_slice(line);
            out.push(b'\n');
            last = last.max(prev);
        }
    }
    (out, last)
}

/// Copies every session of `from` into `to`; `progress` is called after
/// each session, and an error it returns stops the copy (and is returned).
pub fn migrate(
    from: &Store,
    to: &Store,
    mut progress: impl FnMut(&MigrateProgress) -> Result<()>,
) -> Result<MigrateReport> {
    let list = from.list()?;
    let mut report = MigrateReport {
        sessions: list.sessions.len(),
        skipped: list.skipped,
        ..MigrateReport::default()
    };
    let (src, dst) = (from.backend(), to.backend());
    for (i, meta) in list.sessions.iter().enumerate() {
        let id = meta.session_id();
        to.check(id)?;
        if dst.import_session(meta)? {
            report.sessions_created += 1;
        }
        let have = dst
            .events_last(id, 1, 0)?
            .events
            .first()
            .map_or(0, |e| e.seq);
        let (lines, last_seq) = lines_after(&src.search_lines(id, None)?, have);
        if !lines.is_empty() {
            report.events_copied += lines.iter().filter(|b| **b == b'\n').count();
            dst.import_lines(id, &lines, last_seq)?;
        }
        to.update_metadata(id, |m| {
            *m = meta.clone();
            Ok(())
        })?;

        let present: Vec<String> = dst.list_images(id)?.into_iter().map(|i| i.id).collect();
        for image in src.list_images(id)? {
            if !present.contains(&image.id) {
                dst.import_image(id, &image.id, &src.image_data(id, &image.id)?)?;
                report.images_copied += 1;
            }
        }

        for doc in [Doc::Queue, Doc::ActionButtons] {
            let Some((bytes, _)) = src.doc_read(id, doc)? else {
                continue;
            };
            let mut copied = false;
            dst.doc_change(id, doc, &mut |current| {
                copied = current != Some(bytes.as_slice());
                Ok(if copied {
                    DocChange::Write(bytes.clone())
                } else {
                    DocChange::Keep
                })
            })?;
            report.documents_copied += usize::from(copied);
        }
        progress(&MigrateProgress {
            sessions_done: i + 1,
            sessions_total: report.sessions,
            session_id: id.to_string(),
        })?;
    }
    to.flush()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_after_keeps_unparsed_lines_with_their_event() {
        let log = b"{\"seq\":1,\"type\":\"a\"}\n{\"type\":\"b\",\"seq\":2}\ngarbage\n{\"seq\":3,\"type\":\"c\"}\n";
        let (all, last) = lines_after(log, 0);
        assert_eq!((all.as_slice(), last), (&log[..], 3));
        let (rest, last) = lines_after(log, 1);
        assert_eq!(rest, &log[21..]);
        assert_eq!(last, 3);
        let (none, last) = lines_after(log, 3);
        assert!(none.is_empty());
        assert_eq!(last, 3);
    }
}
