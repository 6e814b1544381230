"""Search across sessions, export of a session, and following a session live."""

from __future__ import annotations

import pickle
import threading
import time
from datetime import datetime, timezone

import pytest
from support import COMPLETE, REPO, UNICODE

import agentsession as ags


def test_search(fixture_store: ags.Store) -> None:
    hits = list(fixture_store.search("screenshot"))
    assert hits and all(isinstance(h, ags.SearchHit) for h in hits)
    first = next(h for h in hits if h.session_id == COMPLETE and h.seq == 2)
    assert (first.type, first.field) == ("user_prompt", "message")
    assert "screenshot" in first.snippet.lower()
    assert isinstance(first.timestamp, datetime)
    assert pickle.loads(pickle.dumps(first)) == first
    assert ags.SearchHit.from_dict(first.to_dict()) == first
    assert first.to_dict()["type"] == "user_prompt"
    assert repr(first).startswith(f"SearchHit(session_id='{COMPLETE}', seq=2, type='user_prompt'")
    # filters
    assert {h.type for h in fixture_store.search("screenshot", types="user_prompt")} == {"user_prompt"}
    assert {h.type for h in fixture_store.search("screenshot", types=["agent_message", "agent_thought"])} <= {
        "agent_message",
        "agent_thought",
    }
    assert list(fixture_store.search("screenshot", status="error")) == []
    assert len(list(fixture_store.search("e", limit=3))) == 3
    assert list(fixture_store.search("screenshot", since=datetime(2030, 1, 1, tzinfo=timezone.utc))) == []
    assert list(fixture_store.search("screenshot", until="2000-01-01T00:00:00Z")) == []
    assert list(fixture_store.search(r"scre+nshot", regex=True))
    # case-insensitive, Unicode-aware
    assert any(h.session_id == UNICODE for h in fixture_store.search("ÜNÏCÖDÉ"))


def test_search_progress_and_errors(fixture_store: ags.Store) -> None:
    calls: list[tuple[int, int]] = []
    s = fixture_store.search("zzz-no-match", progress=lambda done, total: calls.append((done, total)))
    assert s.session_count == 7
    assert iter(s) is s
    assert list(s) == []
    assert calls == [(i, 7) for i in range(1, 8)]

    def boom(done: int, total: int) -> None:
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        list(fixture_store.search("x", progress=boom))
    with pytest.raises(TypeError, match="progress must be callable"):
        fixture_store.search("x", progress=3)  # type: ignore[arg-type]
    with pytest.raises(ags.InvalidArgument):
        fixture_store.search("(unclosed", regex=True)
    with pytest.raises(TypeError, match="types must be a str or an iterable of str"):
        fixture_store.search("x", types=[1])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="limit"):
        fixture_store.search("x", limit=-1)
    with pytest.raises(ValueError, match="since"):
        fixture_store.search("x", since="last week")


@pytest.mark.parametrize("name,sid", [("fixture01", COMPLETE), ("fixture05", UNICODE)])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_export_matches_the_golden_files(fixture_store: ags.Store, name: str, sid: str, fmt: str) -> None:
    golden = (REPO / "tests" / "golden" / f"{name}.{fmt}").read_text()
    assert fixture_store.export(sid, fmt) == golden


def test_export_errors(fixture_store: ags.Store) -> None:
    assert fixture_store.export(COMPLETE) == fixture_store.export(COMPLETE, "markdown")
    with pytest.raises(ags.InvalidArgument, match="format"):
        fixture_store.export(COMPLETE, "pdf")
    with pytest.raises(ags.SessionNotFound):
        fixture_store.export("missing")


def test_follow(store: ags.Store, session: str) -> None:
    assert [e.seq for e in store.follow(session, timeout=0.2)] == [1, 2]

    def writer() -> None:
        other = ags.Store(store.path)
        for i in range(3):
            time.sleep(0.05)
            other.append_event(session, "agent_message", {"text": f"live {i}"})
        other.append_event(session, "session_end", {"reason": "done"})
        other.append_event(session, "agent_message", {"text": "after the end"})

    t = threading.Thread(target=writer)
    t.start()
    events = list(store.follow(session, after_seq=2, timeout=10))
    t.join()
    assert [e.type for e in events] == ["agent_message"] * 3 + ["session_end"]
    assert [e.data.get("text") for e in events[:3]] == ["live 0", "live 1", "live 2"]


def test_follow_stop_from_another_thread(store: ags.Store, session: str) -> None:
    f = store.follow(session, after_seq=2)
    threading.Timer(0.2, f.stop).start()
    start = time.monotonic()
    assert list(f) == []
    assert time.monotonic() - start < 5
    with pytest.raises(ValueError, match="timeout"):
        store.follow(session, timeout=-1)
    with pytest.raises(ags.SessionNotFound):
        store.follow("missing")


def test_follow_wait_can_be_interrupted(store: ags.Store, session: str) -> None:
    """Ctrl-C (here simulated) reaches a thread waiting for the next event."""
    import _thread

    f = store.follow(session, after_seq=2)
    threading.Timer(0.3, _thread.interrupt_main).start()
    with pytest.raises(KeyboardInterrupt):
        next(f)
    assert list(f) == []  # the follow was stopped
