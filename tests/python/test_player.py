"""agentsession.Player and the helpers over lists of events."""

from __future__ import annotations

import pytest
from support import COMPLETE, EMPTY, UNICODE

import agentsession as ags


def test_cursor(fixture_store: ags.Store) -> None:
    p = ags.Player(fixture_store, COMPLETE)
    assert len(p) == 20
    assert p.session_id == COMPLETE
    assert p.metadata == fixture_store.metadata(COMPLETE)
    assert p.position == 0 and p.has_next
    assert p.skipped == []
    first = p.next()
    assert first is not None and first.seq == 1 and first.type == "session_start"
    peeked = p.peek()
    assert peeked is not None and peeked.seq == 2
    assert p.position == 1
    p.seek(20)
    assert not p.has_next
    assert p.next() is None and p.peek() is None
    p.reset()
    assert p.position == 0
    with pytest.raises(ags.InvalidArgument, match="out of range"):
        p.seek(21)
    with pytest.raises(ValueError, match="position must be an integer >= 0"):
        p.seek(-1)
    assert repr(p) == f"Player(session_id='{COMPLETE}', events=20, position=0)"


def test_sequence_protocol(fixture_store: ags.Store) -> None:
    p = ags.Player(fixture_store, COMPLETE)
    p.seek(5)
    seqs = [e.seq for e in p]
    assert seqs == list(range(1, 21))  # iteration sees everything, whatever the position
    assert [e.seq for e in p] == seqs  # and can be repeated
    assert p.position == 5
    assert p[0].seq == 1 and p[-1].seq == 20
    with pytest.raises(IndexError):
        p[20]
    assert p.events == list(p)
    assert [e.seq for e in p.events_of_type("tool_call")] == [5, 10, 11]
    assert p.events_of_type("nothing") == []
    assert len(ags.Player(fixture_store, EMPTY)) == 0


def test_missing_session_and_corrupt_lines(store: ags.Store, session: str) -> None:
    with pytest.raises(ags.SessionNotFound):
        ags.Player(store, "missing")
    with open(store.path / session / "events.jsonl", "ab") as f:
        f.write(b"garbage\n")
    with pytest.warns(ags.CorruptDataWarning, match="line 3"):
        p = ags.Player(store, session)
    assert len(p) == 2
    (bad,) = p.skipped
    assert bad["path"] == str(store.path / session / "events.jsonl")
    assert bad["line"] == 3 and bad["offset"] > 0 and bad["message"]


def test_history_and_last_agent_message(store: ags.Store) -> None:
    store.create("h", "a", "/w")
    store.append_events(
        "h",
        [
            ("user_prompt", {"message": "first"}),
            ("agent_message", {"text": "one"}),
            ("user_prompt", {"message": "second"}),
            ("agent_message", {"text": "two "}),
            ("tool_call", {"tool_call_id": "c", "title": "t", "status": "s"}),
            ("agent_message", {"text": "parts"}),
        ],
    )
    events = store.events("h")
    assert ags.last_agent_message(events) == "two parts"
    assert ags.last_agent_message(events[:1]) == ""
    assert ags.last_agent_message([]) == ""
    full = ags.build_conversation_history(events, 0)
    assert "--- Turn 1 ---\nUSER: first\n\nASSISTANT: one" in full
    last = ags.build_conversation_history(iter(events), 1)
    assert "USER: second" in last and "USER: first" not in last
    assert ags.build_conversation_history([], 5) == ""
    with pytest.raises(TypeError, match="events must hold Event objects, not dict"):
        ags.build_conversation_history([{"type": "user_prompt"}], 1)
    with pytest.raises(ValueError, match="max_turns"):
        ags.build_conversation_history(events, -1)


def test_conversation_html(fixture_store: ags.Store) -> None:
    html = ags.Player(fixture_store, COMPLETE)._repr_html_()
    for text in ["User", "Agent", "Tool call", "Plan", "Permission", "Error 403", "Session ended (user_quit)"]:
        assert text in html
    assert "<details>" in html  # thoughts and raw tool input are collapsed
    html = ags.Player(fixture_store, UNICODE)._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_long_output_is_collapsed(store: ags.Store, session: str) -> None:
    store.append_event(session, "agent_message", {"text": "x" * 5000})
    html = ags.Player(store, session)._repr_html_()
    assert "show all (5000 characters)" in html


def test_events_frame(fixture_store: ags.Store) -> None:
    frame = ags.Player(fixture_store, COMPLETE).to_pandas()
    assert list(frame.columns) == ["session_id", "seq", "type", "timestamp", "text", "data"]
    assert list(frame["seq"]) == list(range(1, 21))
    assert frame["type"].iloc[1] == "user_prompt"
    assert frame["text"].iloc[1].startswith("Please describe")
    assert "UTC" in str(frame["timestamp"].dtype)
    assert frame["data"].iloc[0]["acp_server"] == "fixture-agent"
