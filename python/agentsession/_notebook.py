"""Notebook display and pandas export of stores and sessions.

``Store._repr_html_`` and ``Player._repr_html_`` call :func:`store_html` and
:func:`conversation_html`; ``Store.to_pandas()`` and ``Player.to_pandas()``
call :func:`store_frame` and :func:`events_frame`. Every piece of text from
a session is HTML-escaped.
"""

from __future__ import annotations

import datetime as _dt
import json
from html import escape
from typing import TYPE_CHECKING, Any, Iterable, List, Optional

if TYPE_CHECKING:  # pragma: no cover
    from ._native import Event, Metadata, Player, Store

#: Texts longer than this (characters) are collapsed behind a "show all" toggle.
LONG_TEXT = 1200
#: Rows shown in a store's table before the rest is summarised.
MAX_ROWS = 200

_STYLE = """<style>
.ags-table td, .ags-table th {text-align:left; vertical-align:top; padding:2px 8px}
.ags-conv {font-family: system-ui, sans-serif; max-width: 60em}
.ags-ev {margin: 6px 0; padding: 6px 10px; border-radius: 6px}
.ags-user {background: rgba(60,120,220,.12)}
.ags-agent {background: rgba(120,120,120,.10)}
.ags-tool {border-left: 3px solid rgba(200,140,0,.7)}
.ags-error {border-left: 3px solid rgba(220,40,40,.8)}
.ags-meta {color: #888; font-size: 90%}
.ags-ev pre {white-space: pre-wrap; margin: 2px 0; font-family: inherit}
.ags-ev pre.ags-code {font-family: monospace; font-size: 90%}
</style>"""


def _time(t: Optional[_dt.datetime]) -> str:
    return "" if t is None else t.isoformat(sep=" ", timespec="seconds")


def _text(text: str, code: bool = False) -> str:
    """Escaped text in a <pre>; long texts collapsed after a preview."""
    cls = ' class="ags-code"' if code else ""
    if len(text) <= LONG_TEXT:
        return f"<pre{cls}>{escape(text)}</pre>"
    preview = text[: LONG_TEXT // 3]
    return (
        f"<pre{cls}>{escape(preview)}…</pre>"
        f"<details><summary>show all ({len(text)} characters)</summary>"
        f"<pre{cls}>{escape(text)}</pre></details>"
    )


def _json(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def _collapsed(label: str, body: str) -> str:
    return f"<details><summary>{escape(label)}</summary>{body}</details>"


def store_html(store: Store) -> str:
    """A table of the store's sessions, newest update first."""
    sessions = sorted(
        store.list(),
        key=lambda m: m.updated_at or _dt.datetime.min.replace(tzinfo=_dt.timezone.utc),
        reverse=True,
    )
    head = (
        f"<p><b>agentsession store</b> <code>{escape(store.location)}</code>: "
        f"{len(sessions)} session{'s' if len(sessions) != 1 else ''}</p>"
    )
    cols = ["session_id", "name", "status", "acp_server", "events", "created", "updated", "working_dir"]
    rows = []
    for m in sessions[:MAX_ROWS]:
        cells = [
            m.session_id,
            m.name,
            m.status,
            m.acp_server,
            str(m.event_count),
            _time(m.created_at),
            _time(m.updated_at),
            m.working_dir,
        ]
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    more = ""
    if len(sessions) > MAX_ROWS:
        more = f"<p>… and {len(sessions) - MAX_ROWS} more (use <code>store.to_pandas()</code>)</p>"
    table = (
        '<table class="ags-table"><thead><tr>'
        + "".join(f"<th>{c}</th>" for c in cols)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    return _STYLE + head + table + more


def _event_html(ev: Event) -> str:
    d = ev.data if isinstance(ev.data, dict) else {"data": ev.data}
    t = ev.type
    when = f'<span class="ags-meta">#{ev.seq} · {escape(_time(ev.timestamp))}</span>'
    if t == "user_prompt":
        images = d.get("images") or []
        names = ", ".join(escape(str(i.get("name") or i.get("id"))) for i in images if isinstance(i, dict))
        extra = f'<div class="ags-meta">images: {names}</div>' if names else ""
        return f'<div class="ags-ev ags-user"><b>User</b> {when}{_text(str(d.get("message", "")))}{extra}</div>'
    if t == "agent_message":
        return f'<div class="ags-ev ags-agent"><b>Agent</b> {when}{_text(str(d.get("text", "")))}</div>'
    if t == "agent_thought":
        return f'<div class="ags-ev ags-meta">{_collapsed("Thought", _text(str(d.get("text", ""))))}</div>'
    if t == "tool_call":
        kind = f" ({d['kind']})" if d.get("kind") else ""
        parts = []
        for key in ("raw_input", "raw_output"):
            if key in d:
                parts.append(_collapsed(key, _text(_json(d[key]), code=True)))
        return (
            f'<div class="ags-ev ags-tool"><b>Tool call</b>{escape(kind)}: {escape(str(d.get("title", "")))} '
            f'<span class="ags-meta">[{escape(str(d.get("status", "")))}] {escape(str(d.get("tool_call_id", "")))}</span> '
            f"{when}{''.join(parts)}</div>"
        )
    if t == "tool_call_update":
        changes = ", ".join(f"{k}: {escape(str(d[k]))}" for k in ("status", "title") if k in d)
        return f'<div class="ags-ev ags-tool ags-meta">↳ {escape(str(d.get("tool_call_id", "")))} {changes}</div>'
    if t == "plan":
        items = "".join(
            f"<li>[{escape(str(e.get('status', '')))}] {escape(str(e.get('title', '')))}</li>"
            for e in d.get("entries") or []
            if isinstance(e, dict)
        )
        return f'<div class="ags-ev"><b>Plan</b> {when}<ul>{items}</ul></div>'
    if t == "permission":
        return (
            f'<div class="ags-ev ags-tool"><b>Permission</b>: {escape(str(d.get("title", "")))} → '
            f'{escape(str(d.get("selected_option", "")))} ({escape(str(d.get("outcome", "")))})</div>'
        )
    if t in ("file_read", "file_write"):
        verb = "Read" if t == "file_read" else "Wrote"
        body = _collapsed("content", _text(str(d["content"]), code=True)) if d.get("content") else ""
        return (
            f'<div class="ags-ev ags-tool ags-meta">{verb} <code>{escape(str(d.get("path", "")))}</code> '
            f'({escape(str(d.get("size", "")))} bytes){body}</div>'
        )
    if t == "error":
        code = f" {d['code']}" if d.get("code") else ""
        return f'<div class="ags-ev ags-error"><b>Error{escape(code)}</b> {when}{_text(str(d.get("message", "")))}</div>'
    if t == "session_start":
        return (
            f'<div class="ags-meta">Session started with {escape(str(d.get("acp_server", "")))} '
            f'in <code>{escape(str(d.get("working_dir", "")))}</code> · {escape(_time(ev.timestamp))}</div>'
        )
    if t == "session_end":
        return f'<div class="ags-meta">Session ended ({escape(str(d.get("reason", "")))}) · {escape(_time(ev.timestamp))}</div>'
    return f'<div class="ags-ev ags-meta">{_collapsed(t, _text(_json(ev.data), code=True))}</div>'


def conversation_html(player: Player) -> str:
    """The session as a conversation: prompts, replies, tool calls; long outputs collapsed."""
    m: Metadata = player.metadata
    title = m.name or m.session_id
    head = (
        f"<p><b>{escape(title)}</b> <span class=\"ags-meta\">{escape(m.session_id)} · {escape(m.status)} · "
        f"{escape(m.acp_server)} · {len(player)} events</span></p>"
    )
    body = "".join(_event_html(ev) for ev in player)
    return _STYLE + f'<div class="ags-conv">{head}{body}</div>'


def event_text(ev: Event) -> str:
    """A one-line summary of an event: its message, text, title or path."""
    d = ev.data
    if not isinstance(d, dict):
        return _json(d)
    for key in ("message", "text", "title", "path", "reason"):
        if key in d:
            return str(d[key])
    if "entries" in d:
        return f"{len(d['entries'])} plan entries"
    if "tool_call_id" in d:
        return str(d.get("status", ""))
    return ""


def _pandas() -> Any:
    try:
        import pandas  # type: ignore[import-untyped,unused-ignore]
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("to_pandas() needs pandas: pip install 'agentsession[pandas]'") from e
    return pandas


def _utc(times: Iterable[Optional[_dt.datetime]]) -> Any:
    pd = _pandas()
    return pd.to_datetime([t.astimezone(_dt.timezone.utc) if t else None for t in times], utc=True)


def store_frame(store: Store) -> Any:
    """One row per session: the metadata fields, times as UTC timestamps."""
    pd = _pandas()
    sessions: List[Metadata] = store.list()
    frame = pd.DataFrame(
        {
            "session_id": [m.session_id for m in sessions],
            "name": [m.name for m in sessions],
            "status": [m.status for m in sessions],
            "acp_server": [m.acp_server for m in sessions],
            "acp_command": [m.acp_command for m in sessions],
            "acp_session_id": [m.acp_session_id for m in sessions],
            "working_dir": [m.working_dir for m in sessions],
            "description": [m.description for m in sessions],
            "created_at": _utc(m.created_at for m in sessions),
            "updated_at": _utc(m.updated_at for m in sessions),
            "last_user_message_at": _utc(m.last_user_message_at for m in sessions),
            "event_count": pd.array([m.event_count for m in sessions], dtype="int64"),
        }
    )
    return frame


def events_frame(player: Player) -> Any:
    """One row per event: session_id, seq, type, timestamp (UTC), text, data."""
    pd = _pandas()
    events = list(player)
    return pd.DataFrame(
        {
            "session_id": [player.session_id] * len(events),
            "seq": pd.array([e.seq for e in events], dtype="int64"),
            "type": [e.type for e in events],
            "timestamp": _utc(e.timestamp for e in events),
            "text": [event_text(e) for e in events],
            "data": [e.data for e in events],
        }
    )
