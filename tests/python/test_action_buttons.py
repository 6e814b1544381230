"""agentsession.ActionButtonsStore and ActionButton: every call, input forms, the fixture."""

from __future__ import annotations

import json
import pickle
from datetime import datetime

import pytest
from support import FIXTURES, NAMED

import agentsession as ags


def test_set_get_clear(store: ags.Store, session: str) -> None:
    ab = store.action_buttons(session)
    assert ab.session_id == session
    assert ab.path == store.path / session / "action_buttons.json"
    assert repr(ab) == f"ActionButtonsStore(session_id='{session}')"
    assert ab.get() == [] and ab.is_empty()
    assert ab.generated_at is None and ab.for_event_seq == 0
    ab.set([ags.ActionButton("Yes", "Yes, do it"), {"label": "No", "response": "No thanks"}, ("Later", "Ask me later")], for_event_seq=2)
    assert [(b.label, b.response) for b in ab.get()] == [("Yes", "Yes, do it"), ("No", "No thanks"), ("Later", "Ask me later")]
    assert not ab.is_empty()
    assert ab.for_event_seq == 2
    assert isinstance(ab.generated_at, datetime)
    stored = json.loads((store.path / session / "action_buttons.json").read_text())
    assert stored["for_event_seq"] == 2
    assert stored["buttons"][0] == {"label": "Yes", "response": "Yes, do it"}
    # another handle sees the same buttons
    assert store.action_buttons(session).get() == ab.get()
    ab.clear()
    assert ab.is_empty()
    assert not (store.path / session / "action_buttons.json").exists()
    ab.set([("One", "1")])
    ab.delete()
    assert ab.get() == []


def test_errors(store: ags.Store, session: str) -> None:
    ab = store.action_buttons(session)
    with pytest.raises(TypeError, match=r"buttons\[1\] must be an ActionButton"):
        ab.set([("a", "b"), "c"])
    with pytest.raises(ValueError, match=r"buttons\[0\] is not a valid ActionButton"):
        ab.set([{"label": "only"}])
    with pytest.raises(ValueError, match="for_event_seq"):
        ab.set([], for_event_seq=-1)
    with pytest.raises(ags.SessionNotFound):
        store.action_buttons("missing").get()
    with pytest.raises(ags.InvalidArgument):
        store.action_buttons("..")
    (store.path / session / "action_buttons.json").write_text("[1, 2")
    with pytest.raises(ags.CorruptData):
        ab.get()


def test_fixture_buttons(fixture_store: ags.Store) -> None:
    dump = json.loads((FIXTURES / "mitto-sessions.dump.json").read_text())
    expected = next(s for s in dump["sessions"] if s["session_id"] == NAMED)
    ab = fixture_store.action_buttons(NAMED)
    assert [b.to_dict() for b in ab.get()] == expected["action_buttons"]
    assert ab.for_event_seq == 3


def test_button_object() -> None:
    b = ags.ActionButton("Yes", "Please")
    assert (b.label, b.response, b.extra) == ("Yes", "Please", {})
    assert b == ags.ActionButton("Yes", "Please") != ags.ActionButton("Yes", "No")
    assert pickle.loads(pickle.dumps(b)) == b
    assert repr(b) == "ActionButton(label='Yes', response='Please')"
    c = ags.ActionButton.from_dict({"label": "L", "response": "R", "icon": "star"})
    assert c.extra == {"icon": "star"}
    assert c.to_dict() == {"label": "L", "response": "R", "icon": "star"}
