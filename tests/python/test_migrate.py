"""`agentsession.migrate`: copying every session of one store into another."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from support import COMPLETE, NAMED, copy_fixture_store

import agentsession as ags

#: An event of a type the library does not know, and a line that does not parse.
ODD_LINES = (
    b'{"seq":21,"type":"future_kind","timestamp":"2026-02-01T12:30:00+01:00","data":{"x":[1,2]},"extra":true}\n'
    b"this line is not JSON {\n"
)


def source(tmp_path: Path) -> ags.Store:
    """The fixture store with odd lines in one log and one more queued message."""
    base = copy_fixture_store(tmp_path / "from")
    with open(base / COMPLETE / "events.jsonl", "ab") as f:
        f.write(ODD_LINES)
    store = ags.Store(base)
    store.queue(NAMED).add("queued before the copy")
    return store


def json_file(path: Path) -> Optional[Any]:
    return json.loads(path.read_bytes()) if path.exists() else None


def images(session: Path) -> Dict[str, bytes]:
    folder = session / "images"
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


def assert_same_sessions(a: Path, b: Path) -> None:
    """Every session of `a` reads back the same from `b`."""
    names = sorted(p.name for p in a.iterdir())
    assert sorted(p.name for p in b.iterdir()) == names
    for name in names:
        for doc in ("metadata.json", "queue.json", "action_buttons.json"):
            assert json_file(b / name / doc) == json_file(a / name / doc), f"{name}/{doc}"
        assert (b / name / "events.jsonl").read_bytes() == (a / name / "events.jsonl").read_bytes(), name
        assert images(b / name) == images(a / name), name
        assert not (b / name / ".lock").exists()


def counts(report: ags.MigrateReport) -> Tuple[int, int, int, int, int]:
    return (
        report.sessions,
        report.sessions_created,
        report.events_copied,
        report.images_copied,
        report.documents_copied,
    )


#: The source copied into an empty store: 7 sessions, 49 log lines, 4
#: images, two queues and a suggestions document.
FULL = (7, 7, 49, 4, 3)


def test_directory_to_directory_to_directory_reads_back_equal(tmp_path: Path) -> None:
    a = source(tmp_path)
    b = ags.Store(tmp_path / "b")
    c = ags.Store(tmp_path / "c")
    report = ags.migrate(a, b)
    assert counts(report) == FULL and report.skipped == []
    assert counts(ags.migrate(b, c)) == FULL
    assert a.path is not None and c.path is not None
    assert_same_sessions(a.path, c.path)
    assert c.queue(NAMED).list()[-1].message == "queued before the copy"
    assert [e.seq for e in c.events(NAMED)] == [e.seq for e in a.events(NAMED)]


def test_a_second_run_copies_nothing(tmp_path: Path) -> None:
    a = source(tmp_path)
    b = ags.Store(tmp_path / "b")
    ags.migrate(a, b)
    again = ags.migrate(a, b)
    assert counts(again) == (7, 0, 0, 0, 0)
    assert a.path is not None and b.path is not None
    assert_same_sessions(a.path, b.path)
    # What the source gains later follows on the next run.
    a.append_event(NAMED, "agent_message", {"text": "later"})
    assert counts(ags.migrate(a, b)) == (7, 0, 1, 0, 0)
    assert b.events_last(NAMED, 1)[0].data == {"text": "later"}


def test_progress_and_a_run_interrupted_by_the_callback(tmp_path: Path) -> None:
    a = source(tmp_path)
    b = ags.Store(tmp_path / "b")

    class Stop(Exception):
        pass

    calls: List[Tuple[int, int]] = []

    def stop_after_first(done: int, total: int) -> None:
        calls.append((done, total))
        if done == 1:
            raise Stop("enough")

    with pytest.raises(Stop, match="enough"):
        ags.migrate(a, b, progress=stop_after_first)
    assert calls == [(1, 7)]
    assert [m.session_id for m in b.list()] == [COMPLETE]

    calls.clear()
    report = ags.migrate(a, b, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 7) for i in range(1, 8)]
    assert report.sessions_created == 6
    assert report.events_copied == FULL[2] - 22  # the first session's lines are there already
    assert a.path is not None and b.path is not None
    assert_same_sessions(a.path, b.path)
    assert counts(ags.migrate(a, b)) == (7, 0, 0, 0, 0)


def test_unreadable_sessions_are_reported(tmp_path: Path) -> None:
    a = source(tmp_path)
    assert a.path is not None
    bad = a.path / "20260201-130000-unreadable"
    bad.mkdir()
    (bad / "metadata.json").write_text("{ not json")
    b = ags.Store(tmp_path / "b")
    with pytest.warns(ags.CorruptDataWarning):
        a.list()
    report = ags.migrate(a, b)
    assert report.sessions_created == 7
    assert [s["session_id"] for s in report.skipped] == ["20260201-130000-unreadable"]
    assert "metadata.json" in report.skipped[0]["error"]


def test_report_is_a_data_object(tmp_path: Path) -> None:
    report = ags.migrate(source(tmp_path), ags.Store(tmp_path / "b"))
    d = report.to_dict()
    assert d == {
        "sessions": 7,
        "sessions_created": 7,
        "events_copied": 49,
        "images_copied": 4,
        "documents_copied": 3,
        "skipped": [],
    }
    assert ags.MigrateReport.from_dict(d) == report
    assert pickle.loads(pickle.dumps(report)) == report
    assert repr(report).startswith("MigrateReport(sessions=7, sessions_created=7, events_copied=49,")
    with pytest.raises(ValueError, match="events_copied"):
        ags.MigrateReport.from_dict({**d, "events_copied": "many"})


def test_bad_arguments(store: ags.Store, tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        ags.migrate(str(tmp_path), store)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ags.migrate(store, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="progress must be callable"):
        ags.migrate(store, store, progress=42)  # type: ignore[arg-type]
    closed = ags.Store(tmp_path / "closed")
    closed.close()
    store.create("s", "agent", "/w")
    with pytest.raises(ags.StoreClosed):
        ags.migrate(store, closed)
