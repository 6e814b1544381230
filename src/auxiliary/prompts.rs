//! The utility prompts of the auxiliary session: their wording, and how their
//! replies are cleaned and bounded. Lengths are counted in characters and
//! every cut falls on a character boundary.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest conversation title, in characters.
pub const TITLE_MAX_CHARS: usize = 50;
/// Longest queued-message title, in characters.
pub const QUEUED_TITLE_MAX_CHARS: usize = 30;
/// Longest part of a queued message shown to the agent, in characters.
pub const QUEUED_MESSAGE_MAX_CHARS: usize = 500;
/// Most follow-up suggestions kept.
pub const FOLLOW_UPS_MAX: usize = 5;
/// Longest follow-up label, in characters.
pub const FOLLOW_UP_LABEL_MAX_CHARS: usize = 50;
/// Longest follow-up value, in characters.
pub const FOLLOW_UP_VALUE_MAX_CHARS: usize = 1000;

/// A suggested answer to an agent's reply: a button caption and the message it sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// Short caption (a few words).
    pub label: String,
    /// The full message to send when chosen.
    pub value: String,
}

/// The prompt asking for a conversation title.
pub(crate) fn title_prompt(first_message: &str) -> String {
    format!(
        "Name the conversation that starts with the message below. Answer with the name \
         alone: two or three words, without quotes or a final full stop. Do not use any tool.\n\n\
         Message: \"{first_message}\"\n"
    )
}

/// The prompt asking for the title of a queued message (cut to
/// [`QUEUED_MESSAGE_MAX_CHARS`]).
pub(crate) fn queued_title_prompt(message: &str) -> String {
    let message = truncate(message, QUEUED_MESSAGE_MAX_CHARS);
    format!(
        "A message waits in a queue until the coding agent is free. Give it a label of two or \
         three words, at most {QUEUED_TITLE_MAX_CHARS} characters, so it can be recognised in \
         the list. Answer with the label alone, without quotes. Do not use any tool.\n\n\
         Message: \"{message}\"\n"
    )
}

/// The prompt asking for a better version of a user's prompt.
pub(crate) fn improve_prompt_prompt(prompt: &str) -> String {
    format!(
        "Rewrite the prompt between the <prompt> tags so that a coding agent can act on it \
         well: clear, specific and complete, with the author's intent, language and any \
         details kept. Answer with the rewritten prompt alone, without tags, comments or \
         preamble. Do not use any tool.\n\n<prompt>\n{prompt}\n</prompt>\n"
    )
}

/// The prompt asking for follow-up suggestions to an agent's reply.
pub(crate) fn follow_up_prompt(reply: &str) -> String {
    format!(
        "Between the <reply> tags is the latest reply of a coding agent to its user.\n\
         If the reply asks the user something or offers choices, list the answers the user is \
         most likely to give. If it asks nothing, suggest next steps only when you are sure \
         they fit the conversation.\n\
         Answer with a JSON array alone, at most {FOLLOW_UPS_MAX} items, each an object with a \
         label (a button caption of one to four words) and a value (the full message the button \
         sends). When nothing fits, answer []. Do not use any tool.\n\n\
         <reply>\n{reply}\n</reply>\n\n\
         Example answer: [{{\"label\": \"Run the tests\", \"value\": \"Yes, run the test suite \
         now.\"}}]\n"
    )
}

/// `text` cut to at most `max` characters; a cut text ends with `…`.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some(_) if max == 0 => String::new(),
        Some(_) => {
            let keep = text
                .char_indices()
                .nth(max - 1)
                .map_or(text.len(), |(i, _)| i);
            let mut cut = text[..keep].trim_end().to_string();
            cut.push('…');
            cut
        }
    }
}

/// Removes whitespace and one pair of matching quotes around `text`, as often
/// as they appear.
fn unquote(text: &str) -> &str {
    const PAIRS: [(char, char); 6] = [
        ('"', '"'),
        ('\'', '\''),
        ('`', '`'),
        ('“', '”'),
        ('‘', '’'),
        ('«', '»'),
    ];
    let mut t = text.trim();
    while let Some(inner) = PAIRS
        .iter()
        .find_map(|&(open, close)| t.strip_prefix(open).and_then(|s| s.strip_suffix(close)))
    {
        t = inner.trim();
    }
    t
}

/// A title from a reply: its first non-empty line, unquoted, without a final
/// full stop, at most `max` characters.
pub(crate) fn clean_title(reply: &str, max: usize) -> String {
    let line = reply
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let title = unquote(unquote(line).trim_end_matches('.'));
    truncate(title, max)
}

/// An improved prompt from a reply: trimmed and unquoted.
pub(crate) fn clean_improved_prompt(reply: &str) -> String {
    unquote(reply).to_string()
}

/// The follow-up suggestions in a reply: the first JSON array of objects in
/// it, even with text around it. Items without a label or a value are
/// dropped, the others trimmed and bounded. A reply without such an array has
/// no suggestions.
pub(crate) fn parse_follow_ups(reply: &str) -> Vec<FollowUp> {
    let Some(items) = first_object_array(reply) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let field = |name: &str| item.get(name).and_then(Value::as_str).map(str::trim);
            match (field("label"), field("value")) {
                (Some(label), Some(value)) if !label.is_empty() && !value.is_empty() => {
                    Some(FollowUp {
                        label: truncate(label, FOLLOW_UP_LABEL_MAX_CHARS),
                        value: truncate(value, FOLLOW_UP_VALUE_MAX_CHARS),
                    })
                }
                _ => None,
            }
        })
        .take(FOLLOW_UPS_MAX)
        .collect()
}

/// The first JSON array in `text` whose items are all objects (an empty array
/// counts), parsed from each `[` in turn.
fn first_object_array(text: &str) -> Option<Vec<Value>> {
    text.match_indices('[').find_map(|(start, _)| {
        let mut values = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match values.next() {
            Some(Ok(Value::Array(items))) if items.iter().all(Value::is_object) => Some(items),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_counts_chars_and_never_splits_one() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly10!", 10), "exactly10!");
        assert_eq!(truncate("abcdefghijk", 5), "abcd…");
        assert_eq!(truncate("ab   cdefgh", 5), "ab…");
        let s = "é".repeat(40) + "🦀🦀🦀";
        let t = truncate(&s, 41);
        assert_eq!(t.chars().count(), 41);
        assert!(t.ends_with('…'));
        assert_eq!(truncate("🦀🦀🦀", 2), "🦀…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn titles_are_single_unquoted_lines() {
        assert_eq!(clean_title("  \"Fix The Parser.\"  ", 50), "Fix The Parser");
        assert_eq!(clean_title("\n\n“Rust Port”\nextra line", 50), "Rust Port");
        assert_eq!(clean_title("'`Nested`'.", 50), "Nested");
        assert_eq!(clean_title("", 50), "");
        let long = clean_title(&"word ".repeat(30), TITLE_MAX_CHARS);
        assert!(long.chars().count() <= TITLE_MAX_CHARS);
        assert_eq!(
            clean_title("ααααααααααααααααααααααααααααααααααααα", 30)
                .chars()
                .count(),
            30
        );
    }

    #[test]
    fn queued_prompt_keeps_at_most_500_chars_of_the_message() {
        let message = "ü".repeat(499) + "TAIL-BEYOND-THE-LIMIT";
        let prompt = queued_title_prompt(&message);
        assert!(!prompt.contains("TAIL"));
        assert!(prompt.contains(&"ü".repeat(499)));
        assert!(queued_title_prompt("short one").contains("\"short one\""));
    }

    #[test]
    fn improved_prompt_keeps_lines_and_drops_wrapping_quotes() {
        assert_eq!(
            clean_improved_prompt("\n\"Do A.\nThen B.\"\n"),
            "Do A.\nThen B."
        );
        assert_eq!(clean_improved_prompt("say \"hi\""), "say \"hi\"");
    }

    #[test]
    fn follow_ups_found_in_surrounding_text() {
        let reply = "Sure! [see note] Here you go:\n```json\n[{\"label\": \" Yes \", \"value\": \"Yes, go on\"},\
                     {\"label\": \"\", \"value\": \"dropped\"}, {\"label\": \"No value\"},\
                     {\"label\": \"No\", \"value\": \"No, stop\", \"extra\": 1}]\n```\nBye [1]";
        let got = parse_follow_ups(reply);
        assert_eq!(
            got,
            vec![
                FollowUp {
                    label: "Yes".into(),
                    value: "Yes, go on".into()
                },
                FollowUp {
                    label: "No".into(),
                    value: "No, stop".into()
                },
            ]
        );
    }

    #[test]
    fn follow_ups_are_bounded() {
        let items: Vec<Value> = (0..8)
            .map(|i| serde_json::json!({"label": format!("{i}{}", "L".repeat(80)), "value": "V".repeat(1500)}))
            .collect();
        let got = parse_follow_ups(&Value::Array(items).to_string());
        assert_eq!(got.len(), FOLLOW_UPS_MAX);
        assert!(got
            .iter()
            .all(|f| f.label.chars().count() == FOLLOW_UP_LABEL_MAX_CHARS
                && f.value.chars().count() == FOLLOW_UP_VALUE_MAX_CHARS));
        assert!(got[0].label.starts_with('0') && got[4].label.starts_with('4'));
    }

    #[test]
    fn unparseable_follow_ups_are_none() {
        assert!(parse_follow_ups("no json here").is_empty());
        assert!(parse_follow_ups("[1, 2, 3]").is_empty());
        assert!(parse_follow_ups("[{\"label\": \"cut").is_empty());
        assert!(parse_follow_ups("[]").is_empty());
        assert!(parse_follow_ups("{\"label\": \"a\", \"value\": \"b\"}").is_empty());
    }
}
