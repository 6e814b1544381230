"""agentsession.Queue and QueuedMessage: every operation, errors, the fixture, threads."""

from __future__ import annotations

import json
import pickle
import threading
from datetime import datetime

import pytest
from support import FIXTURES, LOCKED, raises_naming

import agentsession as ags


def test_operations(store: ags.Store, session: str) -> None:
    q = store.queue(session)
    assert q.session_id == session
    assert q.path == store.path / session / "queue.json"
    assert repr(q) == f"Queue(session_id='{session}')"
    assert len(q) == 0 and not q
    a = q.add("first", client_id="web")
    b = q.add("second", image_ids=["img_001_aaaaaaaa.png"])
    c = q.add("third")
    assert a.id.startswith("q-") and len({a.id, b.id, c.id}) == 3
    assert isinstance(a.queued_at, datetime) and a.queued_at.tzinfo is not None
    assert (a.client_id, a.title, a.image_ids) == ("web", None, [])
    assert b.image_ids == ["img_001_aaaaaaaa.png"]
    assert len(q) == 3
    assert q.list() == [a, b, c]
    assert q.get(b.id) == b
    titled = q.update_title(b.id, "Second")
    assert titled.title == "Second"
    assert [m.id for m in q.move(c.id, "up")] == [a.id, c.id, b.id]
    assert [m.id for m in q.move(a.id, "up")] == [a.id, c.id, b.id]  # already first
    assert [m.id for m in q.move(a.id, "down")] == [c.id, a.id, b.id]
    assert q.pop().id == c.id
    assert [m.id for m in q.list()] == [a.id, b.id]
    removed = q.remove(a.id)
    assert removed.id == a.id
    assert q.update_title(b.id, "").title is None
    q.clear()
    assert len(q) == 0 and (store.path / session / "queue.json").exists()
    q.delete()
    assert not (store.path / session / "queue.json").exists()
    q.delete()


def test_errors(store: ags.Store, session: str) -> None:
    q = store.queue(session)
    with pytest.raises(ags.QueueEmpty):
        q.pop()
    with pytest.raises(ags.MessageNotFound) as e:
        q.get("q-1-deadbeef")
    assert e.value.message_id == "q-1-deadbeef"
    assert isinstance(e.value, LookupError)
    with pytest.raises(ags.MessageNotFound):
        q.remove("q-1-deadbeef")
    q.add("one", max_size=2)
    q.add("two", max_size=2)
    with pytest.raises(ags.QueueFull) as full:
        q.add("three", max_size=2)
    assert full.value.max_size == 2
    assert len(q) == 2
    m = q.list()[0]
    with pytest.raises(ags.InvalidArgument, match="direction"):
        q.move(m.id, "sideways")
    with pytest.raises(ags.InvalidArgument, match="image id"):
        q.add("x", image_ids=["../escape"])
    with raises_naming(TypeError, "image_ids"):
        q.add("x", image_ids="img.png")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_size"):
        q.add("x", max_size=-1)
    with pytest.raises(ags.InvalidArgument, match="session id"):
        store.queue("a/b")
    with pytest.raises(ags.SessionNotFound):
        store.queue("missing").add("x")
    (store.path / session / "queue.json").write_text("{broken")
    with pytest.raises(ags.CorruptData):
        q.list()
    q.delete()
    assert len(q) == 0


def test_fixture_queue(fixture_store: ags.Store) -> None:
    dump = json.loads((FIXTURES / "mitto-sessions.dump.json").read_text())
    expected = next(s for s in dump["sessions"] if s["session_id"] == LOCKED)["queue"]
    got = fixture_store.queue(LOCKED).list()
    assert [m.to_dict() for m in got] == expected
    assert [m.title for m in got] == ["Update README", None, "Failing test output"]
    assert got[2].image_ids == ["img_001_196717cf.png", "img_002_ae0be274.png"]


def test_message_object(store: ags.Store, session: str) -> None:
    m = store.queue(session).add("hello", client_id="c")
    assert pickle.loads(pickle.dumps(m)) == m
    assert ags.QueuedMessage.from_dict(m.to_dict()) == m
    with_unknown = dict(m.to_dict(), priority=3)
    assert ags.QueuedMessage.from_dict(with_unknown).extra == {"priority": 3}
    assert repr(m) == f"QueuedMessage(id='{m.id}', message='hello')"
    with pytest.raises(ValueError, match="not a valid QueuedMessage"):
        ags.QueuedMessage.from_dict({"id": "x"})


def test_unknown_fields_survive(store: ags.Store, session: str) -> None:
    path = store.path / session / "queue.json"
    path.write_text(
        json.dumps(
            {
                "messages": [{"id": "q-1-aaaaaaaa", "message": "m", "queued_at": "2026-02-01T12:00:00Z", "pinned": True}],
                "updated_at": "2026-02-01T12:00:00Z",
                "origin": "other-client",
            }
        )
    )
    q = store.queue(session)
    q.add("second")
    stored = json.loads(path.read_text())
    assert stored["origin"] == "other-client"
    assert stored["messages"][0]["pinned"] is True
    assert q.list()[0].extra == {"pinned": True}


def test_threads_queue_without_loss(store: ags.Store, session: str) -> None:
    """Several threads add and pop through their own handles; nothing is lost or duplicated."""
    added: list[str] = []
    popped: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def producer(n: int) -> None:
        q = store.queue(session)
        try:
            for i in range(25):
                m = q.add(f"{n}-{i}")
                with lock:
                    added.append(m.id)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    def consumer() -> None:
        q = ags.Store(store.path).queue(session)
        try:
            for _ in range(30):
                try:
                    m = q.pop()
                except ags.QueueEmpty:
                    continue
                with lock:
                    popped.append(m.id)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=producer, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=consumer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    left = [m.id for m in store.queue(session).list()]
    assert len(added) == 100 == len(set(added))
    assert sorted(popped + left) == sorted(added)
