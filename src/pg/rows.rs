//! Log lines as rows of `events`, and the server-side filter of a search.

use postgres::types::Type;
use postgres::{GenericClient, Row};

use super::store::OnServer;
use super::Pg;
use crate::error::{Error, Result};
use crate::migrate::line_seq;

/// The log text of `rows` (column `col`, possibly NULL), one `\n` after each.
/// Locks the session's row for the rest of the transaction, serialising the
/// session's writers; `SessionNotFound` when there is no such session.
pub(super) fn lock_session(c: &mut impl GenericClient, pg: &Pg, session_id: &str) -> Result<()> {
    c.query_typed_opt(
        "SELECT 1 FROM sessions WHERE session_id = $1 FOR NO KEY UPDATE",
        &[(&session_id, Type::TEXT)],
    )
    .on(pg)?
    .ok_or_else(|| Error::SessionNotFound(session_id.to_string()))?;
    Ok(())
}

pub(super) fn join(rows: &[Row], col: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    for row in rows {
        if let Some(line) = row.get::<_, Option<&str>>(col) {
            buf.extend_from_slice(line.as_bytes());
            buf.push(b'\n');
        }
    }
    buf
}

/// A line as a PostgreSQL text: invalid UTF-8 and NUL bytes become U+FFFD.
fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(line).replace('\0', "\u{FFFD}")
}

/// Log lines grouped into rows: each line whose seq is above the row
/// before it starts a row; any other line joins the row before it.
#[derive(Debug, Default, PartialEq)]
struct Grouped {
    /// Lines that belong to the row before the first new one.
    lead: String,
    seqs: Vec<i64>,
    lines: Vec<String>,
}

fn group(log: &[u8], mut prev: i64) -> Grouped {
    let mut out = Grouped::default();
    for line in log.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let seq = line_seq(line).and_then(|s| i64::try_from(s).ok());
        match seq {
            Some(seq) if seq > prev => {
                prev = seq;
                out.seqs.push(seq);
                out.lines.push(text(line));
            }
            _ => {
                let into = out.lines.last_mut().unwrap_or(&mut out.lead);
                if !into.is_empty() {
                    into.push('\n');
                }
                into.push_str(&text(line));
            }
        }
    }
    out
}

/// Stores the lines of `log` after the session's last row, whose seq is
/// `prev` (`None`: the session has no row).
pub(super) fn insert(
    tx: &mut impl GenericClient,
    pg: &Pg,
    session_id: &str,
    log: &[u8],
    prev: Option<i64>,
) -> Result<()> {
    let g = group(log, prev.unwrap_or(0));
    if !g.lead.is_empty() {
        match prev {
            Some(seq) => tx.execute_typed(
                "UPDATE events SET line = line || E'\\n' || $3 WHERE session_id = $1 AND seq = $2",
                &[
                    (&session_id, Type::TEXT),
                    (&seq, Type::INT8),
                    (&g.lead, Type::TEXT),
                ],
            ),
            None => tx.execute_typed(
                "INSERT INTO events (session_id, seq, line) VALUES ($1, 0, $2)",
                &[(&session_id, Type::TEXT), (&g.lead, Type::TEXT)],
            ),
        }
        .on(pg)?;
    }
    if !g.seqs.is_empty() {
        tx.execute_typed(
            "INSERT INTO events (session_id, seq, line)
             SELECT $1, seq, line FROM unnest($2::bigint[], $3::text[]) AS t(seq, line)",
            &[
                (&session_id, Type::TEXT),
                (&g.seqs, Type::INT8_ARRAY),
                (&g.lines, Type::TEXT_ARRAY),
            ],
        )
        .on(pg)?;
    }
    Ok(())
}

/// The `LIKE` pattern on a line's lowered text with which the server
/// prefilters a search for `needle`; `None` when it cannot (no ASCII).
///
/// The caller matches lines with a case-insensitive Unicode regex on their
/// decoded text, for a needle without `"`, `\` or control characters. A
/// match is a run of characters each equal to the needle's under simple
/// case folding; where the needle's character is ASCII, the match's is
/// ASCII too (found by the lowered `LIKE`, given that the database's
/// `lower()` lowers ASCII as Rust does, which the store checks when it
/// opens), or one of the two non-ASCII characters that fold onto ASCII
/// letters (U+017F onto `s`, U+212A onto `k`), or it is written as a `\u`
/// escape. So the server keeps the lines matching the needle's longest
/// ASCII run, plus every line holding one of those characters or `\u`.
pub(super) fn like_pattern(needle: &str) -> Option<String> {
    let run = needle
        .split(|c: char| !c.is_ascii())
        .max_by_key(|r| r.len())
        .filter(|r| !r.is_empty())?
        .to_ascii_lowercase();
    let mut pattern = String::with_capacity(run.len() + 2);
    pattern.push('%');
    for c in run.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Some(pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_without_a_new_seq_join_the_row_before() {
        let log = b"junk\n{\"seq\":1,\"type\":\"a\"}\n\n{bad\n{\"seq\":1,\"type\":\"dup\"}\n{\"type\":\"b\",\"seq\":2}\n";
        let g = group(log, 0);
        assert_eq!(g.lead, "junk");
        assert_eq!(g.seqs, [1, 2]);
        assert_eq!(
            g.lines,
            [
                "{\"seq\":1,\"type\":\"a\"}\n{bad\n{\"seq\":1,\"type\":\"dup\"}",
                "{\"type\":\"b\",\"seq\":2}"
            ]
        );
        let g = group(b"{\"seq\":3,\"type\":\"a\"}\n\xff\0\n", 3);
        assert_eq!(g.lead, "{\"seq\":3,\"type\":\"a\"}\n\u{FFFD}\u{FFFD}");
        assert!(g.seqs.is_empty());
    }

    #[test]
    fn pattern_of_the_longest_ascii_run() {
        assert_eq!(like_pattern("Grüße 50%_Sk").unwrap(), "%e 50\\%\\_sk%");
        assert_eq!(like_pattern("über").unwrap(), "%ber%");
        assert_eq!(like_pattern("日本"), None);
    }

    /// Every non-ASCII character a case-insensitive regex takes for an
    /// ASCII character is one of the two the server keeps lines for.
    #[test]
    fn only_two_characters_fold_onto_ascii() {
        const FOLDS_ONTO_ASCII: [(char, char); 2] = [('s', '\u{17F}'), ('k', '\u{212A}')];
        let others: String = (0x80..=0x10FFFFu32).filter_map(char::from_u32).collect();
        for c in (b' '..=b'~').map(char::from) {
            let re = regex::Regex::new(&format!("(?i){}", regex::escape(&c.to_string()))).unwrap();
            for m in re.find_iter(&others) {
                let found = m.as_str().chars().next().unwrap();
                assert!(
                    FOLDS_ONTO_ASCII.contains(&(c.to_ascii_lowercase(), found)),
                    "{c:?} matches {found:?}"
                );
            }
        }
    }
}
