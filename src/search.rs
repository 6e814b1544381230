//! Full-text search across every session of a store.
//!
//! Literal search is case-insensitive and Unicode-aware; regex search uses
//! the pattern as given. Sessions are scanned newest first (by `updated_at`)
//! and hits stream out of an iterator as each session is scanned.
//!
//! Lines are matched before they are decoded: for a literal needle with no
//! character JSON escapes (`"`, `\`, control characters), a line without
//! `\u` escapes can only match if the needle occurs in its raw bytes, so
//! other lines are skipped without parsing. Every remaining line is decoded
//! and matched field by field, so a hit is never reported on JSON syntax.

use std::collections::VecDeque;

use regex::Regex;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::event::{types, Event};
use crate::metadata::Metadata;
use crate::store::{parallel_map, scan_threads, Store};
use crate::timefmt::{self, Timestamp};

/// What to search for, and where.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    /// The text (or pattern, with `regex`).
    pub text: String,
    /// Treat `text` as a regular expression (Rust `regex` syntax).
    pub regex: bool,
    /// Only these event types (empty = all).
    pub types: Vec<String>,
    /// Only sessions with these statuses (empty = all).
    pub statuses: Vec<String>,
    /// Only events at or after this time.
    pub since: Option<Timestamp>,
    /// Only events at or before this time.
    pub until: Option<Timestamp>,
    /// Stop after this many hits.
    pub limit: Option<usize>,
}

/// One matching event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// The session.
    pub session_id: String,
    /// The event's seq.
    pub seq: u64,
    /// The event's type.
    pub event_type: String,
    /// The event's timestamp, as stored.
    pub timestamp: String,
    /// The data field that matched (`message`, `text`, `title`, `raw_input`…).
    pub field: String,
    /// Text around the first match, on one line.
    pub snippet: String,
}

/// Characters of context on each side of a match in a snippet.
const SNIPPET_CONTEXT: usize = 40;

/// The text of an event that search looks at, as (field, text) pairs.
fn searchable(ev: &Event) -> Vec<(&'static str, String)> {
    let s = |k: &str| ev.data.get(k).and_then(Value::as_str).map(str::to_string);
    let json = |k: &str| {
        ev.data.get(k).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    let mut out = Vec::new();
    let mut push = |field: &'static str, text: Option<String>| {
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            out.push((field, t));
        }
    };
    match ev.event_type.as_str() {
        types::USER_PROMPT => push("message", s("message")),
        types::AGENT_MESSAGE | types::AGENT_THOUGHT => push("text", s("text")),
        types::TOOL_CALL => {
            push("title", s("title"));
            push("raw_input", json("raw_input"));
            push("raw_output", json("raw_output"));
        }
        types::TOOL_CALL_UPDATE | types::PERMISSION => push("title", s("title")),
        types::PLAN => {
            if let Some(Value::Array(entries)) = ev.data.get("entries") {
                let titles: Vec<&str> = entries
                    .iter()
                    .filter_map(|e| e.get("title").and_then(Value::as_str))
                    .collect();
                push("entries", Some(titles.join("\n")));
            }
        }
        types::ERROR => push("message", s("message")),
        types::FILE_READ | types::FILE_WRITE => push("path", s("path")),
        types::SESSION_START | types::SESSION_END => {}
        _ => push("data", Some(ev.data.to_string())),
    }
    out
}

/// A one-line snippet around `range` of `text`.
fn snippet(text: &str, range: std::ops::Range<usize>) -> String {
    let mut start = range.start;
    for _ in 0..SNIPPET_CONTEXT {
        match text[..start].chars().next_back() {
            Some(c) => start -= c.len_utf8(),
            None => break,
        }
    }
    let mut end = range.end;
    for _ in 0..SNIPPET_CONTEXT {
        match text[end..].chars().next() {
            Some(c) => end += c.len_utf8(),
            None => break,
        }
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(
        text[start..end]
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c }),
    );
    if end < text.len() {
        out.push('…');
    }
    out
}

/// How lines are matched.
#[derive(Debug)]
struct Matcher {
    /// Matches decoded field text.
    text: Regex,
    /// Matches raw line bytes when that is conclusive (see the module docs).
    prefilter: Option<regex::bytes::Regex>,
    /// The literal the prefilter looks for, which a backend may also use.
    needle: Option<String>,
}

impl Matcher {
    fn new(q: &SearchQuery) -> Result<Matcher> {
        if q.text.is_empty() {
            return Err(Error::invalid("search text is empty"));
        }
        if q.regex {
            let text = Regex::new(&q.text)
                .map_err(|e| Error::invalid(format!("bad search pattern: {e}")))?;
            return Ok(Matcher {
                text,
                prefilter: None,
                needle: None,
            });
        }
        let pattern = format!("(?i){}", regex::escape(&q.text));
        let text = Regex::new(&pattern).map_err(|e| Error::invalid(e.to_string()))?;
        let escapable = q
            .text
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control());
        if escapable {
            return Ok(Matcher {
                text,
                prefilter: None,
                needle: None,
            });
        }
        let prefilter =
            regex::bytes::Regex::new(&pattern).map_err(|e| Error::invalid(e.to_string()))?;
        Ok(Matcher {
            text,
            prefilter: Some(prefilter),
            needle: Some(q.text.clone()),
        })
    }

    /// The lines of `buf` that could hold a match, as byte ranges in order:
    /// with a prefilter, the lines where its raw-byte search hits plus the
    /// lines holding `\u` escapes (found over the whole buffer, as grep
    /// does); without one, every line.
    fn candidate_lines(&self, buf: &[u8]) -> Vec<std::ops::Range<usize>> {
        let line_at = |pos: usize| {
            let start = memchr::memrchr(b'\n', &buf[..pos]).map_or(0, |i| i + 1);
            let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
            start..end
        };
        let Some(prefilter) = &self.prefilter else {
            let mut out = Vec::new();
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', buf).chain(std::iter::once(buf.len())) {
                if end > start {
                    out.push(start..end);
                }
                start = end + 1;
            }
            return out;
        };
        let mut out: Vec<std::ops::Range<usize>> = Vec::new();
        let mut take = |pos: usize| {
            if out.last().is_none_or(|r| pos > r.end) {
                out.push(line_at(pos));
            }
        };
        let mut hits = prefilter.find_iter(buf).map(|m| m.start()).peekable();
        let mut escapes = memchr::memmem::find_iter(buf, b"\\u").peekable();
        loop {
            match (hits.peek(), escapes.peek()) {
                (Some(&h), Some(&e)) if h <= e => {
                    take(h);
                    hits.next();
                }
                (_, Some(&e)) => {
                    take(e);
                    escapes.next();
                }
                (Some(&h), None) => {
                    take(h);
                    hits.next();
                }
                (None, None) => break,
            }
        }
        out
    }
}

/// Streams hits, newest session first. Created by [`Store::search`].
pub struct Search {
    store: Store,
    query: SearchQuery,
    matcher: Matcher,
    sessions: Vec<Metadata>,
    next_session: usize,
    pending: VecDeque<SearchHit>,
    emitted: usize,
    /// A session's scan error, reported after the hits scanned before it.
    deferred_error: Option<Error>,
    progress: Option<Box<dyn FnMut(usize, usize) + Send>>,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("query", &self.query)
            .field("sessions", &self.sessions.len())
            .field("next_session", &self.next_session)
            .finish()
    }
}

impl Search {
    /// Calls `f(sessions done, sessions total)` after each session is scanned.
    pub fn with_progress(mut self, f: impl FnMut(usize, usize) + Send + 'static) -> Search {
        self.progress = Some(Box::new(f));
        self
    }

    /// Number of sessions this search scans.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

/// The hits of one session.
fn scan_session(
    store: &Store,
    query: &SearchQuery,
    matcher: &Matcher,
    meta: &Metadata,
) -> Result<Vec<SearchHit>> {
    let buf = store
        .backend()
        .search_lines(meta.session_id(), matcher.needle.as_deref())?;
    let in_time_range = |ev: &Event| {
        if query.since.is_none() && query.until.is_none() {
            return true;
        }
        timefmt::parse(&ev.timestamp).is_some_and(|t| {
            query.since.is_none_or(|s| t >= s) && query.until.is_none_or(|u| t <= u)
        })
    };
    let mut hits = Vec::new();
    for range in matcher.candidate_lines(&buf) {
        let line = &buf[range];
        let Ok(ev) = serde_json::from_slice::<Event>(line) else {
            continue;
        };
        if !query.types.is_empty() && !query.types.contains(&ev.event_type) {
            continue;
        }
        if !in_time_range(&ev) {
            continue;
        }
        let found = searchable(&ev).into_iter().find_map(|(field, text)| {
            let m = matcher.text.find(&text)?;
            Some((field, snippet(&text, m.range())))
        });
        if let Some((field, snippet)) = found {
            hits.push(SearchHit {
                session_id: meta.session_id().to_string(),
                seq: ev.seq,
                event_type: ev.event_type,
                timestamp: ev.timestamp,
                field: field.to_string(),
                snippet,
            });
        }
    }
    Ok(hits)
}

impl Iterator for Search {
    type Item = Result<SearchHit>;

    fn next(&mut self) -> Option<Result<SearchHit>> {
        loop {
            if self.query.limit.is_some_and(|l| self.emitted >= l) {
                return None;
            }
            if let Some(hit) = self.pending.pop_front() {
                self.emitted += 1;
                return Some(Ok(hit));
            }
            if let Some(e) = self.deferred_error.take() {
                return Some(Err(e));
            }
            // Scan the next few sessions in parallel; hits keep session order.
            let start = self.next_session;
            if start >= self.sessions.len() {
                return None;
            }
            let end = (start + 2 * scan_threads()).min(self.sessions.len());
            let (store, query, matcher) = (&self.store, &self.query, &self.matcher);
            let results = parallel_map(&self.sessions[start..end], 2, |meta| {
                scan_session(store, query, matcher, meta)
            });
            for (i, r) in results.into_iter().enumerate() {
                self.next_session = start + i + 1;
                if let Some(p) = self.progress.as_mut() {
                    p(self.next_session, self.sessions.len());
                }
                match r {
                    Ok(hits) => self.pending.extend(hits),
                    Err(e) => {
                        self.deferred_error = Some(e);
                        break;
                    }
                }
            }
            if self.pending.is_empty() {
                if let Some(e) = self.deferred_error.take() {
                    return Some(Err(e));
                }
            }
        }
    }
}

impl Store {
    /// Searches every session's text; hits stream newest session first.
    pub fn search(&self, query: SearchQuery) -> Result<Search> {
        let matcher = Matcher::new(&query)?;
        let mut sessions: Vec<Metadata> = self
            .list()?
            .sessions
            .into_iter()
            .filter(|m| query.statuses.is_empty() || query.statuses.iter().any(|s| s == m.status()))
            .collect();
        sessions.sort_by(|a, b| {
            let key = |m: &Metadata| m.updated_at().or_else(|| m.created_at());
            key(b)
                .cmp(&key(a))
                .then_with(|| b.session_id().cmp(a.session_id()))
        });
        Ok(Search {
            store: self.clone(),
            query,
            matcher,
            sessions,
            next_session: 0,
            pending: VecDeque::new(),
            emitted: 0,
            deferred_error: None,
            progress: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_one_line_and_char_safe() {
        let text = format!("{}needle\n{}", "é".repeat(60), "ü".repeat(60));
        let m = text.find("needle").unwrap();
        let s = snippet(&text, m..m + 6);
        assert!(s.starts_with('…') && s.ends_with('…'));
        assert!(s.contains("needle "));
        assert_eq!(s.chars().filter(|c| *c == 'é').count(), SNIPPET_CONTEXT);
    }

    #[test]
    fn prefilter_is_conservative() {
        let q = SearchQuery {
            text: "Straße".into(),
            ..Default::default()
        };
        let m = Matcher::new(&q).unwrap();
        let buf = concat!(
            "{\"text\":\"nothing here\"}\n",
            "{\"text\":\"stra\\u00dfe\"}\n",
            "{\"text\":\"STRAßE and straße\"}\n",
            "{\"x\":1}"
        );
        let lines: Vec<&str> = m
            .candidate_lines(buf.as_bytes())
            .into_iter()
            .map(|r| &buf[r])
            .collect();
        assert_eq!(
            lines,
            [
                "{\"text\":\"stra\\u00dfe\"}",
                "{\"text\":\"STRAßE and straße\"}"
            ],
            "escaped lines are decoded; a line is a candidate once"
        );
        let q = SearchQuery {
            text: "say \"hi\"".into(),
            ..Default::default()
        };
        assert!(Matcher::new(&q).unwrap().prefilter.is_none());
    }
}
