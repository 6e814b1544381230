"""The frozen data objects: attributes, to_dict / from_dict, equality, repr, pickling."""

from __future__ import annotations

import copy
import pickle
from datetime import datetime, timedelta, timezone

import pytest
from support import COMPLETE, EMPTY, UNICODE, png

import agentsession as ags


def all_objects(store: ags.Store) -> list[object]:
    store.create("d", "a", "/w", name="N")
    store.append_event("d", "agent_message", {"text": "x", "n": 2**63 + 1}, "2026-02-01T12:20:01.5Z")
    image = store.save_image("d", png(), "image/png", name="n.png")
    store.append_events("d", [("agent_message", {"text": str(i)}) for i in range(5)])
    pruned = store.prune_if_needed("d", max_messages=2)
    assert pruned is not None
    return [store.metadata("d"), store.events("d")[0], image, pruned]


def test_pickle_copy_and_equality(store: ags.Store) -> None:
    for obj in all_objects(store):
        for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(obj, protocol=proto))
            assert back == obj
            assert type(back) is type(obj)
        assert copy.deepcopy(obj) == obj
        assert type(obj).from_dict(obj.to_dict()) == obj  # type: ignore[attr-defined]
        assert obj != object()
        assert (obj == 3) is False
        with pytest.raises(TypeError):
            hash(obj)


def test_frozen(store: ags.Store) -> None:
    for obj in all_objects(store):
        name = next(k for k in obj.to_dict())  # type: ignore[attr-defined]
        with pytest.raises(AttributeError):
            setattr(obj, name, "changed")
        with pytest.raises(AttributeError):
            obj.new_attribute = 1  # type: ignore[attr-defined]


def test_metadata_attributes(fixture_store: ags.Store) -> None:
    m = fixture_store.metadata(UNICODE)
    d = m.to_dict()
    assert list(d) == [
        "session_id",
        "name",
        "acp_server",
        "working_dir",
        "created_at",
        "updated_at",
        "last_user_message_at",
        "event_count",
        "status",
        "description",
    ]
    for key in ["session_id", "name", "acp_server", "working_dir", "status", "description"]:
        assert getattr(m, key) == d[key]
    assert m.acp_command == "" and m.acp_session_id == ""
    assert m.event_count == 11
    assert m.created_at == datetime(2026, 11, 24, 17, 8, 32, 894782, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert m.extra == {}
    assert repr(m).startswith(f"Metadata(session_id='{UNICODE}', name='Ünïcödé 🚀 <b>test</b> & \"quotes\"'")
    empty = fixture_store.metadata(EMPTY)
    assert empty.last_user_message_at is None
    assert empty.to_dict()["last_user_message_at"] == "0001-01-01T00:00:00Z"
    with pytest.raises(ValueError, match="not a valid Metadata"):
        ags.Metadata.from_dict({"name": "no id"})
    with pytest.raises(TypeError, match="d must be a dict"):
        ags.Metadata.from_dict([("session_id", "x")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot create"):
        ags.Metadata()  # type: ignore[call-arg]


def test_event_attributes(fixture_store: ags.Store) -> None:
    events = {e.seq: e for e in fixture_store.events(UNICODE)}
    stamps = [e.to_dict()["timestamp"] for e in events.values()]
    assert "2026-02-01T17:50:02.123456789+05:30" in stamps  # spelling kept to the nanosecond
    fixed = next(e for e in events.values() if e.to_dict()["timestamp"] == "2026-02-01T17:50:02.123456789+05:30")
    assert fixed.timestamp == datetime(2026, 2, 1, 17, 50, 2, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert fixed.timestamp is fixed.timestamp  # built once
    tool = next(e for e in events.values() if e.type == "tool_call")
    raw = tool.data["raw_input"]
    big = [v for v in _walk(raw) if isinstance(v, int) and not isinstance(v, bool) and v > 2**53]
    assert big == [9007199254740993]  # exact, unlike the reference reader's float64
    assert tool.data is tool.data
    e = events[1]
    assert repr(e).startswith("Event(seq=1, type='session_start', timestamp='2026-11-24T17:08:32.894819467+05:30', data={")
    assert ags.Event.from_dict({"seq": 1, "type": "x"}).to_dict() == {"seq": 1, "type": "x", "timestamp": "", "data": None}
    assert ags.Event.from_dict({"seq": 1, "type": "x"}).timestamp is None
    with pytest.raises(ValueError, match="not a valid Event"):
        ags.Event.from_dict({"type": "x"})


def _walk(v: object) -> list[object]:
    if isinstance(v, dict):
        return [x for item in v.values() for x in _walk(item)]
    if isinstance(v, list):
        return [x for item in v for x in _walk(item)]
    return [v]


def test_long_event_repr_is_cut(store: ags.Store, session: str) -> None:
    store.append_event(session, "agent_message", {"text": "y" * 500})
    r = repr(store.events(session, 2)[0])
    assert len(r) < 200 and r.endswith("…)")


def test_image_info_and_prune_result(fixture_store: ags.Store) -> None:
    (image,) = fixture_store.list_images(COMPLETE)
    assert image.to_dict().keys() == {"id", "name", "mime_type", "size", "created_at"}
    assert image.name == image.id
    assert isinstance(image.created_at, datetime) and image.created_at.tzinfo is not None
    assert repr(image).startswith(f"ImageInfo(id='{image.id}', name='{image.id}', mime_type='image/png', size=78, created_at=datetime.datetime(")
    r = ags.PruneResult.from_dict({"events_removed": 1, "images_removed": 2, "bytes_reclaimed": 3})
    assert (r.events_removed, r.images_removed, r.bytes_reclaimed) == (1, 2, 3)
    assert repr(r) == "PruneResult(events_removed=1, images_removed=2, bytes_reclaimed=3)"
    with pytest.raises(ValueError, match="bytes_reclaimed"):
        ags.PruneResult.from_dict({"events_removed": 1, "images_removed": 2})
    with pytest.raises(ValueError, match="size"):
        ags.ImageInfo.from_dict({"id": "i", "name": "n", "mime_type": "m", "size": -1})
