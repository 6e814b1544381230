"""The reference fixture store read through Python, checked against the reference reader's dump."""

from __future__ import annotations

import json
from typing import Any

import pytest
from support import FIXTURES

import agentsession as ags

DUMP = json.loads((FIXTURES / "mitto-sessions.dump.json").read_text())
SESSIONS = {s["session_id"]: s for s in DUMP["sessions"]}


def same_as_reference(ours: Any, theirs: Any) -> bool:
    """JSON equality where numbers compare as the reference reader saw them (float64)."""
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return ours is theirs
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return float(ours) == float(theirs)
    if isinstance(ours, list) and isinstance(theirs, list):
        return len(ours) == len(theirs) and all(same_as_reference(a, b) for a, b in zip(ours, theirs))
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return ours.keys() == theirs.keys() and all(same_as_reference(ours[k], theirs[k]) for k in ours)
    return type(ours) is type(theirs) and ours == theirs


def test_list_matches(fixture_store: ags.Store) -> None:
    listed = fixture_store.list()
    assert len(listed) == DUMP["session_count"] == 7
    assert DUMP["entries_skipped_by_list"] == []
    assert [m.session_id for m in listed] == list(SESSIONS)
    for m in listed:
        assert m.to_dict() == SESSIONS[m.session_id]["metadata"]


@pytest.mark.parametrize("sid", list(SESSIONS))
def test_session_matches(fixture_store: ags.Store, sid: str) -> None:
    expected = SESSIONS[sid]
    assert (sid in fixture_store) is expected["exists"] is True
    assert fixture_store.metadata(sid).to_dict() == expected["metadata"]
    events = fixture_store.events(sid, strict=True)
    assert len(events) == len(expected["events"])
    for ours, theirs in zip(events, expected["events"]):
        assert same_as_reference(ours.to_dict(), theirs), (ours, theirs)
        assert same_as_reference(ours.data, theirs["data"])
    seqs = lambda evs: [e.seq for e in evs]  # noqa: E731
    assert seqs(fixture_store.events(sid, 2)) == expected["seqs_read_events_from_2"]
    assert seqs(fixture_store.events_last(sid, 3)) == expected["seqs_read_events_last_3"]
    assert seqs(fixture_store.events_last(sid, 2, 4, True)) == expected["seqs_read_events_last_reverse_2_before_4"]
    assert ags.build_conversation_history(events, 10) == expected["conversation_history_max10"]
    assert ags.last_agent_message(events) == expected["last_agent_message"]
    images = [{k: v for k, v in i.to_dict().items() if k != "created_at"} for i in fixture_store.list_images(sid)]
    assert images == expected["images"]
    player = ags.Player(fixture_store, sid)
    assert [e.to_dict() for e in player] == [e.to_dict() for e in events]


def test_rewriting_keeps_the_reference_bytes(fixture_store: ags.Store) -> None:
    """Appending to a reference session leaves every existing line as it was."""
    sid = "20260201-122000-fixture05-unicode"
    log = fixture_store.path / sid / "events.jsonl"
    before = log.read_bytes()
    fixture_store.append_event(sid, "agent_message", {"text": "added from Python"})
    after = log.read_bytes()
    assert after.startswith(before)
    assert json.loads(after[len(before):]) == {
        "seq": 12,
        "type": "agent_message",
        "timestamp": fixture_store.events_last(sid, 1)[0].to_dict()["timestamp"],
        "data": {"text": "added from Python"},
    }
