//! Reading `events.jsonl`: whole-file reads, tail reads that walk backwards
//! from the end (cost independent of the log's length), and torn-tail repair.
//!
//! A line that cannot be parsed is skipped and reported as a [`CorruptLine`];
//! the rest of the log stays readable.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::event::{fast_seq, Event};

/// A line of the log that was skipped because it could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptLine {
    /// The log file.
    pub path: PathBuf,
    /// 1-based line number, when known (tail reads give `None`).
    pub line: Option<usize>,
    /// Byte offset of the line's start.
    pub offset: u64,
    /// What was wrong with it.
    pub message: String,
}

impl CorruptLine {
    /// The report as a [`Error::CorruptData`].
    pub fn to_error(&self) -> Error {
        Error::CorruptData {
            path: self.path.clone(),
            line: self.line,
            message: format!("{} (byte offset {})", self.message, self.offset),
        }
    }
}

impl std::fmt::Display for CorruptLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_error().fmt(f)
    }
}

/// Events read from a log, with the lines that had to be skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventsRead {
    /// The events that parsed, in the order asked for.
    pub events: Vec<Event>,
    /// Lines skipped as corrupt.
    pub skipped: Vec<CorruptLine>,
}

impl EventsRead {
    /// The events, or a [`Error::CorruptData`] for the first skipped line.
    pub fn strict(self) -> Result<Vec<Event>> {
        match self.skipped.first() {
            Some(bad) => Err(bad.to_error()),
            None => Ok(self.events),
        }
    }
}

fn parse_line(line: &[u8]) -> std::result::Result<Event, String> {
    serde_json::from_slice::<Event>(line).map_err(|e| {
        if std::str::from_utf8(line).is_err() {
            "line is not valid UTF-8".to_string()
        } else {
            e.to_string()
        }
    })
}

/// Parses a whole log held in memory, keeping events with `seq > after_seq`.
pub fn parse_all(buf: &[u8], path: &Path, after_seq: u64) -> EventsRead {
    let mut out = EventsRead::default();
    let mut start = 0usize;
    let mut line_no = 0usize;
    while start < buf.len() {
        line_no += 1;
        let end = memchr::memchr(b'\n', &buf[start..])
            .map(|i| start + i)
            .unwrap_or(buf.len());
        let line = &buf[start..end];
        let terminated = end < buf.len();
        if !line.iter().all(u8::is_ascii_whitespace) {
            let skip = after_seq > 0 && fast_seq(line).is_some_and(|s| s <= after_seq);
            if !skip {
                match parse_line(line) {
                    Ok(ev) if ev.seq > after_seq => out.events.push(ev),
                    Ok(_) => {}
                    Err(msg) => out.skipped.push(CorruptLine {
                        path: path.to_path_buf(),
                        line: Some(line_no),
                        offset: start as u64,
                        message: if terminated {
                            msg
                        } else {
                            format!("torn last line (no newline): {msg}")
                        },
                    }),
                }
            }
        }
        start = end + 1;
    }
    out
}

/// Reads the whole log under a shared lock (appenders hold it exclusively
/// while writing a line, so no half-written line is ever seen).
pub fn read_all(path: &Path, after_seq: u64) -> Result<EventsRead> {
    let mut f = File::open(path).at(path)?;
    f.lock_shared().at(path)?;
    let mut buf = Vec::with_capacity(f.metadata().map(|m| m.len() as usize).unwrap_or(0) + 1);
    let r = f.read_to_end(&mut buf);
    let _ = f.unlock();
    r.at(path)?;
    Ok(parse_all(&buf, path, after_seq))
}

/// Walks the lines of a file backwards from `end`, in chunks.
pub(crate) struct ReverseLines<'f> {
    file: &'f File,
    /// File offset of `buf[0]`.
    buf_start: u64,
    buf: Vec<u8>,
    /// Lines are taken from the back of `buf[..cursor]`.
    cursor: usize,
    chunk: usize,
}

impl<'f> ReverseLines<'f> {
    /// Lines of `file[..end]`, last first; `end` should follow a newline.
    pub fn new(file: &'f File, end: u64) -> Self {
        ReverseLines {
            file,
            buf_start: end,
            buf: Vec::new(),
            cursor: 0,
            chunk: 64 * 1024,
        }
    }

    /// The next line going backwards, with its file offset; `None` at the start.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, &[u8])>> {
        loop {
            // A complete line sits after a newline inside buf[..cursor], or at
            // buf[0] when the buffer already starts at the file's beginning.
            let body_end = if self.cursor > 0 && self.buf[self.cursor - 1] == b'\n' {
                self.cursor - 1
            } else {
                self.cursor
            };
            if let Some(nl) = memchr::memrchr(b'\n', &self.buf[..body_end]) {
                let start = nl + 1;
                self.cursor = start;
                return Ok(Some((
                    self.buf_start + start as u64,
                    &self.buf[start..body_end],
                )));
            }
            if self.buf_start == 0 {
                if self.cursor == 0 {
                    return Ok(None);
                }
                self.cursor = 0;
                return Ok(Some((0, &self.buf[..body_end])));
            }
            // Need more: prepend the previous chunk.
            let take = (self.chunk as u64).min(self.buf_start) as usize;
            let new_start = self.buf_start - take as u64;
            let mut chunk = vec![0u8; take];
            self.file.read_exact_at(&mut chunk, new_start)?;
            chunk.extend_from_slice(&self.buf[..self.cursor]);
            self.cursor = chunk.len();
            self.buf = chunk;
            self.buf_start = new_start;
            // Grow chunks so very long lines cost O(n log n) at worst.
            self.chunk = (self.chunk * 2).min(8 * 1024 * 1024);
        }
    }
}

/// Reads the last `limit` events with `seq < before_seq` (0 = no bound),
/// newest first, walking backwards from the end of the file.
pub fn read_last(path: &Path, limit: usize, before_seq: u64) -> Result<EventsRead> {
    let f = File::open(path).at(path)?;
    f.lock_shared().at(path)?;
    let r = read_last_locked(&f, path, limit, before_seq);
    let _ = f.unlock();
    r
}

fn read_last_locked(f: &File, path: &Path, limit: usize, before_seq: u64) -> Result<EventsRead> {
    let len = f.metadata().at(path)?.len();
    let mut out = EventsRead::default();
    if limit == 0 || len == 0 {
        return Ok(out);
    }
    let mut lines = ReverseLines::new(f, len);
    let mut last_byte = [0u8; 1];
    f.read_exact_at(&mut last_byte, len - 1).at(path)?;
    let mut first = last_byte[0] != b'\n';
    while out.events.len() < limit {
        let Some((offset, line)) = lines.next_line().at(path)? else {
            break;
        };
        let torn = std::mem::take(&mut first);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if before_seq > 0 && fast_seq(line).is_some_and(|s| s >= before_seq) {
            continue;
        }
        match parse_line(line) {
            Ok(ev) if before_seq == 0 || ev.seq < before_seq => out.events.push(ev),
            Ok(_) => {}
            Err(msg) => out.skipped.push(CorruptLine {
                path: path.to_path_buf(),
                line: None,
                offset,
                message: if torn {
                    format!("torn last line (no newline): {msg}")
                } else {
                    msg
                },
            }),
        }
    }
    Ok(out)
}

/// What the end of a log looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tail {
    /// Seq of the last parseable event (0 when none).
    pub last_seq: u64,
}

/// Finds the last seq of a log whose length is `len` and which ends with a
/// newline (or is empty). Corrupt lines at the end are stepped over.
pub(crate) fn scan_tail(f: &File, path: &Path, len: u64) -> Result<Tail> {
    let mut lines = ReverseLines::new(f, len);
    while let Some((_, line)) = lines.next_line().at(path)? {
        if let Some(seq) = fast_seq(line) {
            return Ok(Tail { last_seq: seq });
        }
        if let Ok(ev) = parse_line(line) {
            return Ok(Tail { last_seq: ev.seq });
        }
    }
    Ok(Tail { last_seq: 0 })
}

/// Makes the log end with a complete line before an append.
///
/// A last line without its newline was torn by a crash mid-write. If it
/// still parses, the newline is added; otherwise its bytes are appended to
/// `events.jsonl.torn` beside the log (nothing is thrown away) and the log is
/// cut back to the last complete line. Returns the repaired length.
pub(crate) fn repair_torn_tail(f: &File, path: &Path, len: u64) -> Result<u64> {
    if len == 0 {
        return Ok(0);
    }
    let mut last = [0u8; 1];
    f.read_exact_at(&mut last, len - 1).at(path)?;
    if last[0] == b'\n' {
        return Ok(len);
    }
    // Find the start of the torn line.
    let mut start = len;
    let mut buf = vec![0u8; 64 * 1024];
    let mut torn_start = 0u64;
    while start > 0 {
        let take = (buf.len() as u64).min(start) as usize;
        let from = start - take as u64;
        f.read_exact_at(&mut buf[..take], from).at(path)?;
        if let Some(i) = memchr::memrchr(b'\n', &buf[..take]) {
            torn_start = from + i as u64 + 1;
            break;
        }
        start = from;
    }
    let mut torn = vec![0u8; (len - torn_start) as usize];
    f.read_exact_at(&mut torn, torn_start).at(path)?;
    if parse_line(&torn).is_ok() {
        let mut w = f;
        std::io::Write::write_all(&mut w, b"\n").at(path)?;
        return Ok(len + 1);
    }
    let keep = path.with_extension("jsonl.torn");
    {
        use std::io::Write;
        let mut side = crate::fsutil::private_open_options()
            .append(true)
            .create(true)
            .open(&keep)
            .at(&keep)?;
        side.write_all(&torn).at(&keep)?;
        side.write_all(b"\n").at(&keep)?;
    }
    f.set_len(torn_start).at(path)?;
    log::warn!(
        "{}: cut a torn last line of {} bytes at offset {torn_start}; its bytes were kept in {}",
        path.display(),
        torn.len(),
        keep.display()
    );
    Ok(torn_start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn log_with(lines: &[&str]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        let mut f = File::create(&p).unwrap();
        for l in lines {
            f.write_all(l.as_bytes()).unwrap();
        }
        (dir, p)
    }

    fn line(seq: u64) -> String {
        format!(
            "{{\"seq\":{seq},\"type\":\"agent_message\",\"timestamp\":\"2026-02-01T12:20:00Z\",\"data\":{{\"text\":\"{}\"}}}}\n",
            "x".repeat(seq as usize % 7)
        )
    }

    #[test]
    fn reverse_lines_cross_chunks() {
        let lines: Vec<String> = (1..=500).map(line).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (_d, p) = log_with(&refs);
        let f = File::open(&p).unwrap();
        let len = f.metadata().unwrap().len();
        let mut r = ReverseLines::new(&f, len);
        r.chunk = 37;
        let mut seqs = vec![];
        while let Some((off, l)) = r.next_line().unwrap() {
            let mut b = [0u8; 1];
            f.read_exact_at(&mut b, off).unwrap();
            assert_eq!(b[0], b'{');
            seqs.push(fast_seq(l).unwrap());
        }
        assert_eq!(seqs, (1..=500).rev().collect::<Vec<_>>());
    }

    #[test]
    fn last_and_before() {
        let lines: Vec<String> = (1..=20).map(line).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (_d, p) = log_with(&refs);
        let r = read_last(&p, 3, 0).unwrap();
        assert_eq!(
            r.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [20, 19, 18]
        );
        let r = read_last(&p, 2, 4).unwrap();
        assert_eq!(r.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 2]);
        let r = read_last(&p, 100, 0).unwrap();
        assert_eq!(r.events.len(), 20);
    }

    #[test]
    fn torn_tail_reported_then_repaired() {
        let (_d, p) = log_with(&[&line(1), &line(2), "{\"seq\":3,\"type\":\"ag"]);
        let r = read_all(&p, 0).unwrap();
        assert_eq!(r.events.len(), 2);
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(r.skipped[0].line, Some(3));
        let r = read_last(&p, 5, 0).unwrap();
        assert_eq!(r.events.len(), 2);
        assert_eq!(r.skipped.len(), 1);
        let f = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(&p)
            .unwrap();
        let len = f.metadata().unwrap().len();
        let new_len = repair_torn_tail(&f, &p, len).unwrap();
        assert_eq!(scan_tail(&f, &p, new_len).unwrap().last_seq, 2);
        let r = read_all(&p, 0).unwrap();
        assert!(r.skipped.is_empty());
        let kept = std::fs::read_to_string(p.with_extension("jsonl.torn")).unwrap();
        assert_eq!(kept, "{\"seq\":3,\"type\":\"ag\n");
    }
}
