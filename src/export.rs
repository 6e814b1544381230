//! Export of one session as a Markdown document or a self-contained HTML page.
//!
//! Both formats show the same things: a title (the session's name, else its
//! id), a metadata summary, a note on log lines that could not be read, then
//! the conversation in order. User prompts and agent replies are turns headed
//! by their time and seq; thoughts, tool calls (their `tool_call_update`s
//! folded into the status and title), file contents and event types this
//! library does not define are collapsed; plans are checklists; permissions,
//! errors, file reads and writes and the session's start and end take one
//! marked line each. Images attached to prompts are embedded as `data:` URIs
//! in both formats, so either document stands alone.
//!
//! Everything that comes from the session is shown as text, never as markup:
//! - Control characters are made visible first. C0 controls other than
//!   newline and tab become their Control Pictures symbol (U+2400 + code: `␀`,
//!   `␁`, a lone CR `␍`), DEL becomes `␡`, C1 controls become `\u{85}`-style
//!   escapes; CR LF counts as one newline. Every other character (U+2028,
//!   BOM, ZWJ sequences…) is kept. Where one line is expected (titles,
//!   summaries, labels) line breaks are shown as `↵`.
//! - HTML: `& < > " '` become character references, and texts sit in
//!   whitespace-preserving blocks. The page has no script, loads nothing
//!   (CSS is inline, images are `data:` URIs) and forbids scripts and remote
//!   loads with a Content-Security-Policy.
//! - Markdown: texts that may span lines (prompts, replies, thoughts, file
//!   contents, JSON) are fenced code blocks whose fence is longer than any
//!   backtick run inside; one-line texts have the characters Markdown gives a
//!   meaning to (`` \ ` * _ [ ] < > & | ~ # $ ``) backslash-escaped. Collapsed
//!   parts are `<details>` blocks as GitHub renders them; their summary line is
//!   HTML and so HTML-escaped.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;

use base64::Engine as _;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::event::{
    types, Event, EventData, FileOperationData, PlanEntry, ToolCallData, ToolCallUpdateData,
};
use crate::eventlog::EventsRead;
use crate::image::ImageFormat;
use crate::metadata::Metadata;
use crate::store::Store;
use crate::timefmt;

/// The format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// CommonMark with GitHub's task lists and `<details>` blocks.
    Markdown,
    /// One HTML page with inline CSS, no script and no outside resources.
    Html,
}

impl FromStr for ExportFormat {
    type Err = Error;

    /// `md` or `markdown`, and `html` (any case).
    fn from_str(s: &str) -> Result<ExportFormat> {
        match s.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(ExportFormat::Markdown),
            "html" => Ok(ExportFormat::Html),
            _ => Err(Error::invalid(format!(
                "export format must be \"md\", \"markdown\" or \"html\", not {s:?}"
            ))),
        }
    }
}

impl Store {
    /// One session as a Markdown document or a self-contained HTML page.
    ///
    /// Corrupt log lines are left out and named in a note; an image that
    /// cannot be read is replaced by a note saying why.
    pub fn export(&self, session_id: &str, format: ExportFormat) -> Result<String> {
        let metadata = self.metadata(session_id)?;
        let read = self.events(session_id, 0)?;
        Ok(render(&metadata, &read, format, |image_id| {
            self.image_data(session_id, image_id)
        }))
    }
}

/// Renders a session from its metadata and events; `load_image` gives the
/// bytes of an image by id (an error becomes a note in the document).
pub fn render(
    metadata: &Metadata,
    read: &EventsRead,
    format: ExportFormat,
    load_image: impl FnMut(&str) -> Result<Vec<u8>>,
) -> String {
    let doc = Doc::build(metadata, read, load_image);
    match format {
        ExportFormat::Markdown => doc.markdown(),
        ExportFormat::Html => doc.html(),
    }
}

/// The session in a format-neutral shape. Every string in it is plain text
/// as the session holds it; the renderers escape all of them.
struct Doc {
    title: String,
    meta: Vec<(&'static str, String)>,
    description: String,
    notes: Vec<String>,
    items: Vec<Item>,
}

/// One event (or a tool call with its updates) of the conversation.
struct Item {
    seq: u64,
    timestamp: String,
    block: Block,
}

enum Block {
    /// A user prompt or an agent reply.
    Turn {
        user: bool,
        text: String,
        images: Vec<Image>,
    },
    /// A collapsed part: a one-line summary, then fields and text sections.
    Folded {
        class: &'static str,
        summary: String,
        fields: Vec<(&'static str, String)>,
        sections: Vec<Section>,
    },
    /// A plan as a checklist.
    Plan(Vec<PlanEntry>),
    /// One marked line.
    Line {
        class: &'static str,
        mark: String,
        text: String,
    },
}

/// Text under a collapsed part's fields: prose, or code in a language.
struct Section {
    label: Option<&'static str>,
    body: String,
    code: Option<&'static str>,
}

enum Image {
    Embedded {
        alt: String,
        mime: &'static str,
        base64: String,
    },
    Missing {
        alt: String,
        reason: String,
    },
}

impl Doc {
    fn build(
        metadata: &Metadata,
        read: &EventsRead,
        mut load_image: impl FnMut(&str) -> Result<Vec<u8>>,
    ) -> Doc {
        let id = metadata.session_id();
        let title = match metadata.name() {
            "" => id.to_string(),
            name => name.to_string(),
        };
        let mut meta = vec![("Session", id.to_string())];
        meta.push(("Agent", metadata.acp_server().to_string()));
        if !metadata.acp_command().is_empty() {
            meta.push(("Command", metadata.acp_command().to_string()));
        }
        meta.push(("Working directory", metadata.working_dir().to_string()));
        for (label, key) in [("Created", "created_at"), ("Updated", "updated_at")] {
            let raw = metadata.get(key).and_then(Value::as_str).unwrap_or("");
            meta.push((label, display_time(raw)));
        }
        meta.push(("Status", metadata.status().to_string()));
        meta.push(("Events", metadata.event_count().to_string()));

        let notes = read
            .skipped
            .iter()
            .map(|bad| {
                let place = match bad.line {
                    Some(line) => format!("line {line}"),
                    None => format!("byte offset {}", bad.offset),
                };
                format!(
                    "{place} of events.jsonl could not be read and is left out: {}",
                    bad.message
                )
            })
            .collect();

        let decoded: Vec<(&Event, Option<EventData>)> =
            read.events.iter().map(|e| (e, e.decode().ok())).collect();
        let (updates, folded) = fold_updates(&decoded);
        let items = decoded
            .iter()
            .filter(|(e, _)| !folded.contains(&e.seq))
            .map(|(event, data)| Item {
                seq: event.seq,
                timestamp: event.timestamp.clone(),
                block: block(event, data.as_ref(), &updates, &mut load_image),
            })
            .collect();
        Doc {
            title,
            meta,
            description: metadata.description().to_string(),
            notes,
            items,
        }
    }
}

/// Which `tool_call_update`s belong to an earlier `tool_call` (by the tool
/// call's seq), and the seqs of those updates (not shown on their own).
fn fold_updates<'a>(
    decoded: &'a [(&Event, Option<EventData>)],
) -> (HashMap<u64, Vec<&'a ToolCallUpdateData>>, HashSet<u64>) {
    let mut open: HashMap<&str, u64> = HashMap::new();
    let mut updates: HashMap<u64, Vec<&ToolCallUpdateData>> = HashMap::new();
    let mut folded = HashSet::new();
    for (event, data) in decoded {
        match data {
            Some(EventData::ToolCall(call)) => {
                open.insert(&call.tool_call_id, event.seq);
            }
            Some(EventData::ToolCallUpdate(update)) => {
                if let Some(call_seq) = open.get(update.tool_call_id.as_str()) {
                    updates.entry(*call_seq).or_default().push(update);
                    folded.insert(event.seq);
                }
            }
            _ => {}
        }
    }
    (updates, folded)
}

fn block(
    event: &Event,
    data: Option<&EventData>,
    updates: &HashMap<u64, Vec<&ToolCallUpdateData>>,
    load_image: &mut impl FnMut(&str) -> Result<Vec<u8>>,
) -> Block {
    let line = |class, mark: &str, text: String| Block::Line {
        class,
        mark: mark.to_string(),
        text,
    };
    match data {
        Some(EventData::UserPrompt(p)) => Block::Turn {
            user: true,
            text: p.message.clone(),
            images: p
                .images
                .iter()
                .map(|r| image(&r.id, &r.name, load_image))
                .collect(),
        },
        Some(EventData::AgentMessage(m)) => Block::Turn {
            user: false,
            text: m.text.clone(),
            images: Vec::new(),
        },
        Some(EventData::AgentThought(t)) => Block::Folded {
            class: "thought",
            summary: "💭 Thought".into(),
            fields: Vec::new(),
            sections: vec![Section {
                label: None,
                body: t.text.clone(),
                code: None,
            }],
        },
        Some(EventData::ToolCall(call)) => {
            tool_call(call, updates.get(&event.seq).map_or(&[], Vec::as_slice))
        }
        Some(EventData::ToolCallUpdate(u)) => {
            let mut text = u.tool_call_id.clone();
            for (label, value) in [("status", &u.status), ("title", &u.title)] {
                if let Some(v) = value {
                    let _ = write!(text, ", {label} {v}");
                }
            }
            line("tool", "🔧 Tool call update", text)
        }
        Some(EventData::Plan(plan)) => Block::Plan(plan.entries.clone()),
        Some(EventData::Permission(p)) => {
            let (class, mark) = match p.outcome.as_str() {
                "approved" => ("approved", "✔ Permission approved".to_string()),
                "denied" => ("denied", "✘ Permission denied".to_string()),
                "cancelled" => ("cancelled", "⊘ Permission cancelled".to_string()),
                other => ("cancelled", format!("? Permission {other}")),
            };
            let mut text = p.title.clone();
            if !p.selected_option.is_empty() {
                let _ = write!(text, " (option: {})", p.selected_option);
            }
            Block::Line { class, mark, text }
        }
        Some(EventData::FileRead(f)) => file_operation("📄 Read", f),
        Some(EventData::FileWrite(f)) => file_operation("📝 Wrote", f),
        Some(EventData::Error(e)) => {
            let mark = match e.code {
                0 => "⚠ Error".to_string(),
                code => format!("⚠ Error {code}"),
            };
            Block::Line {
                class: "error",
                mark,
                text: e.message.clone(),
            }
        }
        Some(EventData::SessionStart(s)) => line(
            "session",
            "▶ Session started",
            format!("{} in {}", s.acp_server, s.working_dir),
        ),
        Some(EventData::SessionEnd(s)) => line("session", "■ Session ended", s.reason.clone()),
        Some(EventData::Other(_)) | None => {
            let known = types::ALL.contains(&event.event_type.as_str());
            Block::Folded {
                class: "other",
                summary: format!("❓ {}", event.event_type),
                fields: if known {
                    vec![("Note", "the data does not have this type's shape".into())]
                } else {
                    Vec::new()
                },
                sections: vec![Section {
                    label: Some("Data"),
                    body: pretty_json(&event.data),
                    code: Some("json"),
                }],
            }
        }
    }
}

fn tool_call(call: &ToolCallData, updates: &[&ToolCallUpdateData]) -> Block {
    let mut statuses = vec![call.status.as_str()];
    let mut title = call.title.as_str();
    for u in updates {
        if let Some(s) = u.status.as_deref().filter(|s| statuses.last() != Some(s)) {
            statuses.push(s);
        }
        title = u.title.as_deref().unwrap_or(title);
    }
    let status = statuses.last().copied().unwrap_or_default();
    let mut fields = vec![("Tool call", call.tool_call_id.clone())];
    if !call.kind.is_empty() {
        fields.push(("Kind", call.kind.clone()));
    }
    fields.push(("Status", statuses.join(" → ")));
    if title != call.title {
        fields.push(("First title", call.title.clone()));
    }
    let sections = [("Input", &call.raw_input), ("Output", &call.raw_output)]
        .into_iter()
        .filter_map(|(label, v)| {
            v.as_ref().map(|v| Section {
                label: Some(label),
                body: pretty_json(v),
                code: Some("json"),
            })
        })
        .collect();
    Block::Folded {
        class: if status == "failed" {
            "tool failed"
        } else {
            "tool"
        },
        summary: format!("🔧 {title} · {status}"),
        fields,
        sections,
    }
}

fn file_operation(verb: &str, f: &FileOperationData) -> Block {
    let text = format!("{} ({} bytes)", f.path, f.size);
    if f.content.is_empty() {
        return Block::Line {
            class: "file",
            mark: verb.to_string(),
            text,
        };
    }
    Block::Folded {
        class: "file",
        summary: format!("{verb} {text}"),
        fields: Vec::new(),
        sections: vec![Section {
            label: None,
            body: f.content.clone(),
            code: Some("text"),
        }],
    }
}

fn image(id: &str, name: &str, load: &mut impl FnMut(&str) -> Result<Vec<u8>>) -> Image {
    let alt = if name.is_empty() { id } else { name }.to_string();
    match load(id) {
        Ok(bytes) => match ImageFormat::detect(&bytes) {
            Some(format) => Image::Embedded {
                alt,
                mime: format.mime_type(),
                base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            },
            None => Image::Missing {
                alt,
                reason: "not a PNG, JPEG, GIF or WebP image".into(),
            },
        },
        Err(e) => Image::Missing {
            alt,
            reason: e.to_string(),
        },
    }
}

fn pretty_json(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("a JSON value serializes")
}

/// `2026-02-01 12:20:00 +01:00`; a string that does not parse is kept as is.
fn display_time(raw: &str) -> String {
    match timefmt::parse(raw) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
        None if raw == timefmt::ZERO_TIME => "never".into(),
        None => raw.to_string(),
    }
}

impl Item {
    /// `👤 User · 2026-02-01 12:20:00 +01:00 · #2`
    fn turn_heading(&self, user: bool) -> String {
        let who = if user { "👤 User" } else { "🤖 Agent" };
        format!("{who} · {} · #{}", display_time(&self.timestamp), self.seq)
    }
}

/// The plan entry's note: its status unless done or pending, its priority.
fn plan_note(entry: &PlanEntry) -> String {
    let mut parts = Vec::new();
    if !matches!(entry.status.as_str(), "completed" | "pending") {
        parts.push(entry.status.clone());
    }
    if !entry.priority.is_empty() {
        parts.push(format!("priority {}", entry.priority));
    }
    parts.join(", ")
}

// ---- escaping ------------------------------------------------------------

/// Makes control characters visible (see the module docs); CR LF becomes LF.
fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\t' => out.push(c),
            '\0'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('�')),
            '\u{7f}' => out.push('␡'),
            '\u{80}'..='\u{9f}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`visible`], with line breaks (LF, U+2028, U+2029) shown as `↵`.
fn one_line(s: &str) -> String {
    visible(s).replace(['\n', '\u{2028}', '\u{2029}'], "↵")
}

/// HTML text or attribute value: [`visible`] with `& < > " '` escaped.
fn html(s: &str) -> String {
    let s = visible(s);
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One line of Markdown text: [`one_line`] with Markdown's active characters
/// backslash-escaped.
fn md_inline(s: &str) -> String {
    let s = one_line(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if "\\`*_[]<>&|~#$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A fenced code block holding `s` verbatim (after [`visible`]), with a fence
/// longer than any backtick run in it.
fn md_fence(s: &str, info: &str) -> String {
    let s = visible(s);
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let newline = if s.is_empty() || s.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    format!("{fence}{info}\n{s}{newline}{fence}\n")
}

// ---- Markdown ------------------------------------------------------------

impl Doc {
    fn markdown(&self) -> String {
        let mut out = format!("# {}\n\n", md_inline(&self.title));
        for (label, value) in &self.meta {
            let _ = writeln!(out, "- **{label}:** {}", md_inline(value));
        }
        out.push('\n');
        if !self.description.is_empty() {
            out.push_str("**Description:**\n\n");
            out.push_str(&md_fence(&self.description, "text"));
            out.push('\n');
        }
        for note in &self.notes {
            let _ = writeln!(out, "> **Note:** {}\n", md_inline(note));
        }
        out.push_str("---\n");
        for item in &self.items {
            out.push('\n');
            item.markdown(&mut out);
        }
        out
    }
}

impl Item {
    fn markdown(&self, out: &mut String) {
        match &self.block {
            Block::Turn { user, text, images } => {
                let _ = writeln!(out, "### {}\n", md_inline(&self.turn_heading(*user)));
                if text.is_empty() {
                    out.push_str("*(empty)*\n");
                } else {
                    out.push_str(&md_fence(text, "text"));
                }
                for image in images {
                    out.push('\n');
                    match image {
                        Image::Embedded { alt, mime, base64 } => {
                            let _ =
                                writeln!(out, "![{}](data:{mime};base64,{base64})", md_inline(alt));
                        }
                        Image::Missing { alt, reason } => {
                            let note = format!("image {alt} not shown: {reason}");
                            let _ = writeln!(out, "*({})*", md_inline(&note));
                        }
                    }
                }
            }
            Block::Folded {
                summary,
                fields,
                sections,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "<details><summary>{}</summary>\n",
                    html(&one_line(summary))
                );
                for (label, value) in fields {
                    let _ = writeln!(out, "- **{label}:** {}", md_inline(value));
                }
                if !fields.is_empty() {
                    out.push('\n');
                }
                for section in sections {
                    if let Some(label) = section.label {
                        let _ = writeln!(out, "**{label}**\n");
                    }
                    let info = section.code.unwrap_or("text");
                    out.push_str(&md_fence(&section.body, info));
                    out.push('\n');
                }
                out.push_str("</details>\n");
            }
            Block::Plan(entries) => {
                out.push_str("**📋 Plan**\n\n");
                for entry in entries {
                    let check = if entry.status == "completed" {
                        'x'
                    } else {
                        ' '
                    };
                    let _ = write!(out, "- [{check}] {}", md_inline(&entry.title));
                    match plan_note(entry) {
                        note if note.is_empty() => out.push('\n'),
                        note => {
                            let _ = writeln!(out, " *({})*", md_inline(&note));
                        }
                    }
                }
            }
            Block::Line { mark, text, .. } => {
                let _ = writeln!(out, "**{}:** {}", md_inline(mark), md_inline(text));
            }
        }
    }
}

// ---- HTML ----------------------------------------------------------------

/// The page's style sheet.
const CSS: &str = r#"
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa;
  --user: #0969da; --agent: #1a7f37; --tool: #8250df; --bad: #cf222e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; padding: 0 1.5rem; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
header, main { max-width: 53rem; margin: 0 auto; padding: 1rem 0; }
header { padding-top: 1.5rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.6rem; margin: 0 0 .75rem; overflow-wrap: anywhere; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0; font-size: .9rem; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.note { margin: .75rem 0 0; padding: .4rem .75rem; border-left: 4px solid var(--warn); background: #fff8c5; }
.text, pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
.turn, details, .plan { background: #fff; border: 1px solid var(--line); border-radius: 8px; margin: .75rem 0; }
.turn { border-left: 4px solid var(--agent); padding: .5rem 1rem .75rem; }
.turn.user { border-left-color: var(--user); background: #f3f8ff; }
.turn h2 { font-size: .85rem; font-weight: 600; color: var(--muted); margin: 0 0 .25rem; }
.turn h2 a { color: inherit; text-decoration: none; }
.empty { color: var(--muted); font-style: italic; }
figure { margin: .75rem 0 0; }
figure img { max-width: 100%; min-width: 4rem; image-rendering: pixelated; border: 1px solid var(--line); border-radius: 4px; }
figcaption { font-size: .8rem; color: var(--muted); }
details { padding: .35rem 1rem; }
details[open] { padding-bottom: .75rem; }
summary { cursor: pointer; color: var(--muted); overflow-wrap: anywhere; }
details.tool > summary { color: var(--tool); }
details.failed > summary { color: var(--bad); }
details > dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .5rem 0; font-size: .9rem; }
details > dl dt { color: var(--muted); }
details > dl dd { margin: 0; overflow-wrap: anywhere; }
details h3 { font-size: .8rem; text-transform: uppercase; color: var(--muted); margin: .5rem 0 .25rem; }
details.thought .text { color: var(--muted); font-style: italic; margin-top: .35rem; }
.plan { padding: .5rem 1rem; }
.plan h3 { font-size: .9rem; margin: 0 0 .25rem; }
.plan ul { list-style: none; margin: 0; padding: 0; }
.plan small { color: var(--muted); }
p.line { margin: .5rem 0; padding: 0 1rem; overflow-wrap: anywhere; white-space: pre-wrap; font-size: .9rem; }
p.line b { font-weight: 600; }
.session { color: var(--muted); }
.approved b { color: var(--agent); }
.denied b, .error b { color: var(--bad); }
.cancelled b { color: var(--warn); }
.error { background: #ffebe9; border-radius: 6px; padding: .35rem 1rem; }
"#;

impl Doc {
    fn html(&self) -> String {
        let title = html(&one_line(&self.title));
        let mut out = String::new();
        out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n");
        out.push_str("<meta name=\"generator\" content=\"agentsession\">\n");
        let _ = write!(out, "<title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n<h1>{title}</h1>\n<dl class=\"meta\">\n");
        for (label, value) in &self.meta {
            let _ = writeln!(out, "<dt>{label}</dt><dd>{}</dd>", html(value));
        }
        if !self.description.is_empty() {
            let _ = writeln!(
                out,
                "<dt>Description</dt><dd class=\"text\">{}</dd>",
                html(&self.description)
            );
        }
        out.push_str("</dl>\n");
        for note in &self.notes {
            let _ = writeln!(out, "<p class=\"note\"><b>Note:</b> {}</p>", html(note));
        }
        out.push_str("</header>\n<main>\n");
        for item in &self.items {
            item.html(&mut out);
        }
        out.push_str("</main>\n</body>\n</html>\n");
        out
    }
}

impl Item {
    fn html(&self, out: &mut String) {
        let id = self.seq;
        let time = html(&self.timestamp);
        match &self.block {
            Block::Turn { user, text, images } => {
                let class = if *user { "user" } else { "agent" };
                let who = if *user { "👤 User" } else { "🤖 Agent" };
                let _ = write!(
                    out,
                    "<section class=\"turn {class}\" id=\"e{id}\">\n<h2>{who} · <time title=\"{time}\">{}</time> · <a href=\"#e{id}\">#{id}</a></h2>\n",
                    html(&display_time(&self.timestamp))
                );
                if text.is_empty() {
                    out.push_str("<div class=\"text empty\">(empty)</div>\n");
                } else {
                    let _ = writeln!(out, "<div class=\"text\">{}</div>", html(text));
                }
                for image in images {
                    match image {
                        Image::Embedded { alt, mime, base64 } => {
                            let alt = html(alt);
                            let _ = writeln!(out, "<figure><img src=\"data:{mime};base64,{base64}\" alt=\"{alt}\"><figcaption>{alt}</figcaption></figure>");
                        }
                        Image::Missing { alt, reason } => {
                            let _ = writeln!(
                                out,
                                "<p class=\"note\">Image {} not shown: {}</p>",
                                html(alt),
                                html(reason)
                            );
                        }
                    }
                }
                out.push_str("</section>\n");
            }
            Block::Folded {
                class,
                summary,
                fields,
                sections,
            } => {
                let _ = writeln!(
                    out,
                    "<details class=\"{class}\" id=\"e{id}\" title=\"{time}\"><summary>{}</summary>",
                    html(&one_line(summary))
                );
                if !fields.is_empty() {
                    out.push_str("<dl>");
                    for (label, value) in fields {
                        let _ = write!(out, "<dt>{label}</dt><dd>{}</dd>", html(value));
                    }
                    out.push_str("</dl>\n");
                }
                for section in sections {
                    if let Some(label) = section.label {
                        let _ = writeln!(out, "<h3>{label}</h3>");
                    }
                    if section.code.is_some() {
                        let _ = writeln!(out, "<pre><code>{}</code></pre>", html(&section.body));
                    } else {
                        let _ = writeln!(out, "<div class=\"text\">{}</div>", html(&section.body));
                    }
                }
                out.push_str("</details>\n");
            }
            Block::Plan(entries) => {
                let _ = writeln!(out, "<section class=\"plan\" id=\"e{id}\" title=\"{time}\">\n<h3>📋 Plan</h3>\n<ul>");
                for entry in entries {
                    let checked = if entry.status == "completed" {
                        " checked"
                    } else {
                        ""
                    };
                    let _ = write!(
                        out,
                        "<li><label><input type=\"checkbox\" disabled{checked}> {}</label>",
                        html(&entry.title)
                    );
                    match plan_note(entry) {
                        note if note.is_empty() => {}
                        note => {
                            let _ = write!(out, " <small>({})</small>", html(&note));
                        }
                    }
                    out.push_str("</li>\n");
                }
                out.push_str("</ul>\n</section>\n");
            }
            Block::Line { class, mark, text } => {
                let _ = writeln!(
                    out,
                    "<p class=\"line {class}\" id=\"e{id}\" title=\"{time}\"><b>{}</b> {}</p>",
                    html(mark),
                    html(text)
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eventlog::CorruptLine;
    use proptest::prelude::*;

    #[test]
    fn format_names() {
        assert_eq!(
            "md".parse::<ExportFormat>().unwrap(),
            ExportFormat::Markdown
        );
        assert_eq!(
            "Markdown".parse::<ExportFormat>().unwrap(),
            ExportFormat::Markdown
        );
        assert_eq!("html".parse::<ExportFormat>().unwrap(), ExportFormat::Html);
        for bad in ["pdf", "", "htm"] {
            assert!(matches!(
                bad.parse::<ExportFormat>(),
                Err(Error::InvalidArgument(_))
            ));
        }
    }

    #[test]
    fn controls_become_visible() {
        assert_eq!(
            visible("a\0b\u{1}\u{1f}\u{7f}\u{85}\t\r\nx\ry\n"),
            "a␀b␁␟␡\\u{85}\t\nx␍y\n"
        );
        // Separators, BOM, ZWSP and ZWJ sequences are text and stay as they are.
        let kept = "LS[\u{2028}] PS[\u{2029}] BOM[\u{feff}] ZWSP[\u{200b}] 👩‍💻";
        assert!(matches!(visible(kept), Cow::Borrowed(_)));
        assert_eq!(html(kept), kept);
        assert_eq!(one_line("a\u{2028}b\u{2029}c\r\nd"), "a↵b↵c↵d");
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html(r#"<script>alert("x") && 'y'</script> --> </details> &amp;"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp;&amp; &#39;y&#39;&lt;/script&gt; --&gt; &lt;/details&gt; &amp;amp;"
        );
    }

    #[test]
    fn markdown_inline_escapes_active_characters() {
        assert_eq!(
            md_inline("*a* _b_ `c` [d](e) <f> & g|h ~i~ #j $k$ \\ 1.\n# x"),
            r"\*a\* \_b\_ \`c\` \[d\](e) \<f\> \& g\|h \~i\~ \#j \$k\$ \\ 1.↵\# x"
        );
        assert_eq!(md_inline("--> </details>"), r"--\> \</details\>");
    }

    #[test]
    fn markdown_fence_outruns_backticks() {
        assert_eq!(md_fence("plain", "text"), "```text\nplain\n```\n");
        assert_eq!(md_fence("", "text"), "```text\n```\n");
        assert_eq!(md_fence("a\n```\n", "text"), "````text\na\n```\n````\n");
        assert_eq!(md_fence("``````", "json"), "```````json\n``````\n```````\n");
        assert_eq!(md_fence("x\u{1}\r\n", "text"), "```text\nx␁\n```\n");
    }

    fn event(seq: u64, event_type: &str, data: Value) -> Event {
        Event {
            seq,
            timestamp: "2026-02-01T12:20:00Z".into(),
            ..Event::new(event_type, data)
        }
    }

    fn sample() -> (Metadata, EventsRead) {
        let meta = Metadata::from_value(serde_json::json!({
            "session_id": "s1", "name": "x</title><script>1</script>", "acp_server": "a",
            "working_dir": "/w", "created_at": "2026-02-01T12:20:00Z",
            "updated_at": "bad time", "event_count": 9, "status": "active"
        }))
        .unwrap();
        let events = vec![
            event(
                1,
                "user_prompt",
                serde_json::json!({"message": "hi </details> -->",
                "images": [{"id": "img_001_a.png", "mime_type": "image/png"},
                           {"id": "img_002_b.png", "name": "b\"<.png", "mime_type": "image/png"},
                           {"id": "img_003_c.gif", "mime_type": "image/gif"}]}),
            ),
            event(
                2,
                "agent_thought",
                serde_json::json!({"text": "</details><b>x</b>\n```"}),
            ),
            event(
                3,
                "tool_call_update",
                serde_json::json!({"tool_call_id": "early", "status": "done"}),
            ),
            event(
                4,
                "tool_call",
                serde_json::json!({"tool_call_id": "t", "title": "T</summary>",
                "status": "pending", "raw_output": {"k": "`````"}}),
            ),
            event(
                5,
                "tool_call_update",
                serde_json::json!({"tool_call_id": "t", "status": "failed", "title": "T2"}),
            ),
            event(
                6,
                "permission",
                serde_json::json!({"title": "p", "selected_option": "", "outcome": "denied"}),
            ),
            event(7, "agent_message", serde_json::json!({"text": 5})),
            event(8, "ui_prompt_answer", serde_json::json!({"answer": "<i>"})),
            event(
                9,
                "plan",
                serde_json::json!({"entries": [{"id": "1", "title": "[a]", "status": "completed"}]}),
            ),
        ];
        let skipped = vec![CorruptLine {
            path: "/x/events.jsonl".into(),
            line: None,
            offset: 77,
            message: "torn <line>".into(),
        }];
        (meta, EventsRead { events, skipped })
    }

    fn load(id: &str) -> Result<Vec<u8>> {
        match id {
            "img_001_a.png" => Ok(b"\x89PNG\r\n\x1a\nrest".to_vec()),
            "img_002_b.png" => Ok(b"not an image".to_vec()),
            _ => Err(Error::ImageNotFound(id.into())),
        }
    }

    #[test]
    fn html_page_shows_every_kind_of_event_as_text() {
        let (meta, read) = sample();
        let page = render(&meta, &read, ExportFormat::Html, load);
        for part in [
            "<title>x&lt;/title&gt;&lt;script&gt;1&lt;/script&gt;</title>",
            "<dt>Updated</dt><dd>bad time</dd>",
            "<b>Note:</b> byte offset 77 of events.jsonl could not be read and is left out: torn &lt;line&gt;",
            "<div class=\"text\">hi &lt;/details&gt; --&gt;</div>",
            "<img src=\"data:image/png;base64,iVBORw0KGgpyZXN0\" alt=\"img_001_a.png\">",
            "Image b&quot;&lt;.png not shown: not a PNG, JPEG, GIF or WebP image",
            "Image img_003_c.gif not shown: image not found: img_003_c.gif",
            "<div class=\"text\">&lt;/details&gt;&lt;b&gt;x&lt;/b&gt;\n```</div>",
            "<b>🔧 Tool call update</b> early, status done",
            "<details class=\"tool failed\" id=\"e4\"",
            "<summary>🔧 T2 · failed</summary>",
            "<dt>Status</dt><dd>pending → failed</dd><dt>First title</dt><dd>T&lt;/summary&gt;</dd>",
            "<b>✘ Permission denied</b> p</p>",
            "<summary>❓ agent_message</summary>",
            "<summary>❓ ui_prompt_answer</summary>",
            "&quot;answer&quot;: &quot;&lt;i&gt;&quot;",
            "<input type=\"checkbox\" disabled checked> [a]</label>",
        ] {
            assert!(page.contains(part), "{part:?} not in\n{page}");
        }
        // The update folded into its tool call is not shown on its own.
        assert!(!page.contains("id=\"e5\""));
        assert_eq!(page.matches("<script").count(), 0);
        assert_eq!(
            page.matches("<details").count(),
            page.matches("</details>").count()
        );
    }

    #[test]
    fn markdown_keeps_session_text_out_of_the_markup() {
        let (meta, read) = sample();
        let md = render(&meta, &read, ExportFormat::Markdown, load);
        for part in [
            "# x\\</title\\>\\<script\\>1\\</script\\>\n",
            "> **Note:** byte offset 77 of events.jsonl could not be read and is left out: torn \\<line\\>\n",
            "```text\nhi </details> -->\n```\n",
            "![img\\_001\\_a.png](data:image/png;base64,iVBORw0KGgpyZXN0)\n",
            "*(image b\"\\<.png not shown: not a PNG, JPEG, GIF or WebP image)*",
            "<details><summary>💭 Thought</summary>\n\n````text\n</details><b>x</b>\n```\n````\n\n</details>\n",
            "<details><summary>🔧 T2 · failed</summary>",
            "- **First title:** T\\</summary\\>\n",
            "**Output**\n\n``````json\n{\n  \"k\": \"`````\"\n}\n``````\n",
            "**✘ Permission denied:** p\n",
            "- [x] \\[a\\]\n",
        ] {
            assert!(md.contains(part), "{part:?} not in\n{md}");
        }
        // Outside fenced blocks, the only raw HTML lines are the export's own.
        let mut fence: Option<usize> = None;
        for line in md.lines() {
            let ticks = line.len() - line.trim_start_matches('`').len();
            match fence {
                Some(open) if ticks >= open && line.len() == ticks => fence = None,
                Some(_) => {}
                None if ticks >= 3 => fence = Some(ticks),
                None if line.starts_with('<') => assert!(
                    line.starts_with("<details><summary>") || line == "</details>",
                    "{line}"
                ),
                None => {}
            }
        }
        assert_eq!(fence, None);
    }

    proptest! {
        #[test]
        fn html_text_holds_no_markup(s in any::<String>()) {
            let out = html(&s);
            prop_assert!(!out.contains(['<', '>', '"', '\'']));
            prop_assert!(!out.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
            for (i, _) in out.match_indices('&') {
                let rest = &out[i..];
                prop_assert!(["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|e| rest.starts_with(e)));
            }
        }

        #[test]
        fn markdown_fence_is_never_closed_early(s in "[`a\n ]{0,40}") {
            let block = md_fence(&s, "text");
            let fence = block.split("text\n").next().unwrap();
            let body_lines = block.lines().count() - 2;
            let early = block.lines().skip(1).take(body_lines)
                .any(|l| l.trim_start_matches(' ').starts_with(fence));
            prop_assert!(!early, "{block:?}");
        }
    }
}
