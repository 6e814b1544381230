"""agentsession.Store: every method, its arguments and its errors."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from support import png, raises_naming

import agentsession as ags


def test_open_creates_the_directory(tmp_path: Path) -> None:
    base = tmp_path / "a" / "b"
    with ags.Store(base) as s:
        assert base.is_dir()
        assert s.path == base
        assert isinstance(s.path, Path)
        assert not s.batched
        assert not s.closed
        assert repr(s) == f"Store({str(base)!r})"
    assert s.closed
    assert repr(s).endswith("(closed)")
    # str paths too
    assert ags.Store(str(base)).path == base


def test_default_and_mitto_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTSESSION_DIR", str(tmp_path / "default"))
    assert ags.Store.default_dir() == tmp_path / "default"
    assert ags.Store().path == tmp_path / "default"
    monkeypatch.setenv("MITTO_DIR", str(tmp_path / "mitto"))
    assert ags.Store.mitto_dir() == tmp_path / "mitto" / "sessions"
    with ags.Store.mitto(batched=True) as s:
        assert s.path == tmp_path / "mitto" / "sessions"
        assert s.batched


def test_open_on_a_file_is_an_os_error(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(FileExistsError) as e:
        ags.Store(f)
    assert e.value.filename == str(f)
    with pytest.raises(NotADirectoryError) as e:
        ags.Store(f / "below")
    assert e.value.filename == str(f / "below")


def test_create(store: ags.Store) -> None:
    m = store.create("s1", "claude", "/w", acp_command="claude --acp", name="N", description="D")
    assert m.session_id == "s1"
    assert (m.acp_server, m.working_dir, m.acp_command, m.name, m.description) == (
        "claude",
        "/w",
        "claude --acp",
        "N",
        "D",
    )
    assert m.status == "active"
    assert m.event_count == 0
    assert m.last_user_message_at is None
    assert m.created_at is not None and m.created_at.tzinfo is not None
    assert store.metadata("s1") == m
    assert store.session_dir("s1") == store.path / "s1"
    assert store.session_dir("not-yet") == store.path / "not-yet"
    generated = store.create(None, "a", "/w")
    assert len(generated.session_id.split("-")) == 3
    with pytest.raises(ags.InvalidArgument, match="already exists"):
        store.create("s1", "a", "/w")
    with pytest.raises(TypeError, match="positional"):
        store.create("s2", "a", "/w", "positional-command")  # type: ignore[misc]


@pytest.mark.parametrize("bad", ["", ".", "..", "../x", "a/b", "a\0b", ".hidden"])
def test_bad_session_ids(store: ags.Store, bad: str) -> None:
    with pytest.raises(ags.InvalidArgument, match="session id"):
        store.create(bad, "a", "/w")
    with pytest.raises(ValueError):
        store.metadata(bad)
    with pytest.raises(ags.InvalidArgument):
        store.exists(bad)
    assert bad not in store


def test_append_event(store: ags.Store, session: str) -> None:
    assert store.append_event(session, "agent_thought", {"text": "t"}) == 3
    at = datetime(2026, 2, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert store.append_event(session, "agent_message", {"text": "x"}, at) == 4
    assert store.append_event(session, "agent_message", {"text": "y"}, timestamp="2026-02-01T12:00:00Z") == 5
    assert store.append_event(session, "ui_prompt_answer", ["any", {"json": None}]) == 6
    events = store.events(session)
    assert events[3].to_dict()["timestamp"] == "2026-02-01T12:00:00.123456+01:00"
    assert events[3].timestamp == at
    assert events[4].to_dict()["timestamp"] == "2026-02-01T12:00:00Z"
    assert events[5].data == ["any", {"json": None}]
    assert store.metadata(session).event_count == 6


def test_append_event_argument_errors(store: ags.Store, session: str) -> None:
    with pytest.raises(ags.InvalidArgument, match="JSON object"):
        store.append_event(session, "agent_message", "not a dict")
    with pytest.raises(ags.InvalidArgument, match="type is empty"):
        store.append_event(session, "", {})
    with pytest.raises(ValueError, match="timezone-aware"):
        store.append_event(session, "agent_message", {"text": ""}, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timestamp"):
        store.append_event(session, "agent_message", {"text": ""}, "yesterday")
    with pytest.raises(TypeError, match="timestamp must be a datetime"):
        store.append_event(session, "agent_message", {"text": ""}, 12)
    with pytest.raises(TypeError, match="data: dict keys must be str"):
        store.append_event(session, "x", {1: 2})
    with pytest.raises(TypeError, match="data: set is not JSON data"):
        store.append_event(session, "x", {"a": {1}})
    with pytest.raises(ValueError, match="data: integer .* does not fit in 64 bits"):
        store.append_event(session, "x", {"a": 2**64})
    with pytest.raises(ValueError, match="not a finite number"):
        store.append_event(session, "x", {"a": float("nan")})
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="nested deeper"):
        store.append_event(session, "x", loop)
    with raises_naming(TypeError, "session_id"):
        store.append_event(1, "x", {})  # type: ignore[arg-type]
    with pytest.raises(ags.SessionNotFound):
        store.append_event("nope", "x", {})
    assert store.metadata(session).event_count == 2


def test_append_events(store: ags.Store, session: str) -> None:
    seqs = store.append_events(
        session,
        [
            ("agent_message", {"text": "a"}),
            ("agent_message", {"text": "b"}, "2026-02-01T12:00:00+05:30"),
            ("agent_message", {"text": "c"}, None),
        ],
    )
    assert seqs == [3, 4, 5]
    assert store.append_events(session, []) == []
    assert [e.data["text"] for e in store.events(session, after_seq=2)] == ["a", "b", "c"]
    with pytest.raises(TypeError, match=r"events\[0\] must be a \(type, data\)"):
        store.append_events(session, ["agent_message"])
    with pytest.raises(ValueError, match=r"events\[1\] has 1 items"):
        store.append_events(session, [("x", {}), ("y",)])
    with pytest.raises(TypeError, match=r"events\[0\]: the type must be a str"):
        store.append_events(session, [(1, {})])
    assert store.metadata(session).event_count == 5


def test_unicode_and_big_numbers_round_trip(store: ags.Store, session: str) -> None:
    data = {
        "text": "héllo 👩‍👩‍👧 \u2028 <&> \x00 \t",
        "exact": 9007199254740993,
        "max_u64": 2**64 - 1,
        "min_i64": -(2**63),
        "float": 0.1,
        "nested": [True, False, None, {"k": []}],
    }
    store.append_event(session, "custom", data)
    (ev,) = store.events(session, after_seq=2)
    assert ev.data == data
    assert type(ev.data["exact"]) is int


def test_metadata_and_update(store: ags.Store, session: str) -> None:
    m = store.update_metadata(session, name="Named", description="about", archived=True, pinned={"at": 3})
    assert m.name == "Named"
    assert m.description == "about"
    assert m.extra == {"archived": True, "pinned": {"at": 3}}
    assert store.metadata(session) == m
    m = store.update_metadata(session, name=None, archived=None)
    assert m.name == ""
    assert "name" not in m.to_dict()
    assert m.extra == {"pinned": {"at": 3}}
    m = store.update_metadata(session, status="completed", acp_session_id="agent-123")
    assert (m.status, m.acp_session_id) == ("completed", "agent-123")
    at = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert store.update_metadata(session, updated_at=at).updated_at == at
    with pytest.raises(ags.InvalidArgument, match="status"):
        store.update_metadata(session, status="bogus")
    with pytest.raises(ags.InvalidArgument, match="managed by the store"):
        store.update_metadata(session, event_count=3)
    with pytest.raises(ags.InvalidArgument, match="must be a string"):
        store.update_metadata(session, name=3)
    with pytest.raises(ags.SessionNotFound):
        store.metadata("missing")
    # unchanged by the failed calls
    assert store.metadata(session).status == "completed"


def test_events_and_events_last(store: ags.Store) -> None:
    store.create("s", "a", "/w")
    store.append_events("s", [("agent_message", {"text": str(i)}) for i in range(1, 11)])
    assert [e.seq for e in store.events("s")] == list(range(1, 11))
    assert [e.seq for e in store.events("s", 7)] == [8, 9, 10]
    assert [e.seq for e in store.events_last("s", 3)] == [8, 9, 10]
    assert [e.seq for e in store.events_last("s", 3, reverse=True)] == [10, 9, 8]
    assert [e.seq for e in store.events_last("s", 2, before_seq=4)] == [2, 3]
    assert [e.seq for e in store.events_last("s", 2, 4, True)] == [3, 2]
    assert store.events_last("s", 0) == []
    assert len(store.events_last("s", 100)) == 10
    with pytest.raises(ValueError, match="after_seq must be an integer >= 0"):
        store.events("s", -1)
    with pytest.raises(ValueError, match="limit must be an integer >= 0"):
        store.events_last("s", -3)
    with raises_naming(TypeError, "limit"):
        store.events_last("s", "3")  # type: ignore[arg-type]
    with pytest.raises(ags.SessionNotFound):
        store.events("missing")


def test_corrupt_lines_warn_or_raise(store: ags.Store, session: str) -> None:
    log = store.path / session / "events.jsonl"
    with open(log, "ab") as f:
        f.write(b"{this is not json}\n")
    store.append_event(session, "agent_message", {"text": "after"})
    with pytest.warns(ags.CorruptDataWarning, match=r"events\.jsonl line 3") as w:
        events = store.events(session)
    assert len(w) == 1
    assert [e.seq for e in events] == [1, 2, 3]
    with pytest.raises(ags.CorruptData) as e:
        store.events(session, strict=True)
    assert e.value.line == 3
    assert e.value.path == str(log)
    with pytest.warns(ags.CorruptDataWarning, match="byte offset"):
        assert [e.seq for e in store.events_last(session, 10)] == [1, 2, 3]
    with pytest.raises(ags.CorruptData):
        store.events_last(session, 10, strict=True)
    # a torn last line is reported, then repaired by the next append
    with open(log, "ab") as f:
        f.write(b'{"seq":4,"type":"agent_mes')
    with pytest.warns(ags.CorruptDataWarning) as w:
        assert [e.seq for e in store.events(session)] == [1, 2, 3]
    assert len(w) == 2
    assert "torn last line" in str(w[1].message)
    assert store.append_event(session, "agent_message", {"text": "x"}) == 4


def test_list_exists_delete(store: ags.Store) -> None:
    for sid in ["b", "a", "c"]:
        store.create(sid, "agent", "/w")
    assert [m.session_id for m in store.list()] == ["a", "b", "c"]
    assert store.exists("a") and "a" in store
    assert not store.exists("zz") and "zz" not in store
    assert 42 not in store
    store.delete("b")
    assert "b" not in store
    assert not (store.path / "b").exists()
    with pytest.raises(ags.SessionNotFound):
        store.delete("b")
    # a directory without readable metadata is skipped with a warning
    (store.path / "broken").mkdir()
    (store.path / "broken" / "metadata.json").write_text("{oops")
    with pytest.warns(ags.CorruptDataWarning, match="broken"):
        assert [m.session_id for m in store.list()] == ["a", "c"]


def test_close_makes_every_call_fail(tmp_path: Path) -> None:
    s = ags.Store(tmp_path)
    s.create("s", "a", "/w")
    s.close()
    s.close()
    for call in [
        lambda: s.create("t", "a", "/w"),
        lambda: s.append_event("s", "x", {}),
        lambda: s.metadata("s"),
        lambda: s.events("s"),
        lambda: s.list(),
        lambda: s.exists("s"),
        lambda: s.flush(),
        lambda: s.list_images("s"),
    ]:
        with pytest.raises(ags.StoreClosed):
            call()


def test_context_manager_closes_even_on_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with ags.Store(tmp_path) as s:
            raise RuntimeError("boom")
    assert s.closed


def test_batched_mode_defers_metadata(tmp_path: Path) -> None:
    with ags.Store(tmp_path, batched=True) as s:
        s.create("s", "a", "/w")
        s.append_events("s", [("user_prompt", {"message": "q"})])
        s.append_event("s", "agent_message", {"text": "a"})
        # this handle sees its own pending changes
        assert s.metadata("s").event_count == 2
        s.flush()
        on_disk = json.loads((tmp_path / "s" / "metadata.json").read_text())
        assert on_disk["event_count"] == 2
        s.append_event("s", "agent_message", {"text": "b"})
    # close wrote the rest
    assert json.loads((tmp_path / "s" / "metadata.json").read_text())["event_count"] == 3


def test_images(store: ags.Store, session: str) -> None:
    info = store.save_image(session, png(), "image/png", name="shot.png")
    assert info.name == "shot.png"
    assert info.mime_type == "image/png"
    assert info.size == len(png())
    assert info.id.startswith("img_001_") and info.id.endswith(".png")
    assert info.created_at is not None
    path = store.image_path(session, info.id)
    assert path.read_bytes() == png()
    assert store.image_data(session, info.id) == png()
    assert store.location == str(store.path)
    second = store.save_image(session, bytearray(png(2, 2)), "")
    assert second.name == second.id
    listed = store.list_images(session)
    assert [i.id for i in listed] == sorted([info.id, second.id])
    store.delete_image(session, info.id)
    assert [i.id for i in store.list_images(session)] == [second.id]
    with pytest.raises(ags.ImageError) as e:
        store.image_path(session, info.id)
    assert e.value.kind == "not_found"
    with pytest.raises(ags.ImageError) as e:
        store.image_data(session, info.id)
    assert e.value.kind == "not_found"
    with pytest.raises(ags.ImageError) as e:
        store.save_image(session, b"GIF89a-not-really", "image/bmp")
    assert e.value.kind == "unsupported_format"
    with pytest.raises(ags.ImageError) as e:
        store.save_image(session, b"plain text", "")
    assert e.value.kind == "unsupported_format"
    with pytest.raises(ags.ImageError) as e:
        store.save_image(session, png() + b"\0" * (10 * 1024 * 1024), "image/png")
    assert e.value.kind == "too_large"
    with pytest.raises(ags.InvalidArgument, match="image id"):
        store.image_path(session, "../metadata.json")
    with raises_naming(TypeError, "data"):
        store.save_image(session, "text", "image/png")  # type: ignore[arg-type]


def test_image_count_limit(store: ags.Store, session: str) -> None:
    for _ in range(50):
        store.save_image(session, png(), "image/png")
    with pytest.raises(ags.ImageError) as e:
        store.save_image(session, png(), "image/png")
    assert e.value.kind == "session_image_limit"


def test_cleanup_old_images(store: ags.Store, session: str) -> None:
    info = store.save_image(session, png(), "image/png")
    old = time.time() - 3600
    store.update_metadata(session, updated_at=datetime.fromtimestamp(old, timezone.utc))
    os.utime(store.image_path(session, info.id), (old, old))
    assert store.cleanup_old_images(60, 7200) == 0  # session counts as recent
    assert store.cleanup_old_images(60.0, 0.5) == 1
    assert store.list_images(session) == []
    with pytest.raises(ValueError, match="max_age_s"):
        store.cleanup_old_images(-1, 0)
    with pytest.raises(ValueError, match="preserve_recent_s"):
        store.cleanup_old_images(1, float("inf"))


def test_prune_if_needed(store: ags.Store) -> None:
    store.create("p", "a", "/w")
    store.append_events("p", [("agent_message", {"text": f"m{i}"}) for i in range(1, 13)])
    assert store.prune_if_needed("p") is None
    assert store.prune_if_needed("p", max_messages=20) is None
    r = store.prune_if_needed("p", max_messages=5)
    assert r is not None
    assert r.events_removed == 7
    assert r.images_removed == 0
    assert r.bytes_reclaimed > 0
    events = store.events("p")
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].data == {"text": "m8"}
    assert store.metadata("p").event_count == 5
    assert store.prune_if_needed("p", max_size_bytes=1) is not None
    assert len(store.events("p")) == 1
    with pytest.raises(ValueError, match="max_messages"):
        store.prune_if_needed("p", max_messages=-1)


def test_unknown_fields_survive_rewrites(store: ags.Store, session: str) -> None:
    meta_path = store.path / session / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["parent_session_id"] = "p0"
    meta["max_seq"] = 2
    meta_path.write_text(json.dumps(meta, indent=2))
    log = store.path / session / "events.jsonl"
    unknown = '{"seq":3,"type":"ui_prompt_answer","timestamp":"2026-02-01T12:20:00Z","data":{"x":[1,{"y":null}]},"origin":"web"}\n'
    with open(log, "a") as f:
        f.write(unknown)
    store.append_event(session, "agent_message", {"text": "next"})
    store.update_metadata(session, name="renamed")
    assert log.read_text().splitlines()[2] + "\n" == unknown
    meta = json.loads(meta_path.read_text())
    assert meta["parent_session_id"] == "p0" and meta["max_seq"] == 2
    assert list(meta)[:2] == ["session_id", "name"]
    m = store.metadata(session)
    assert m.extra == {"parent_session_id": "p0", "max_seq": 2}
    ev = store.events(session)[2]
    assert ev.type == "ui_prompt_answer"
    assert ev.extra == {"origin": "web"}
    assert json.dumps(ev.to_dict(), separators=(",", ":")) + "\n" == unknown
    assert ags.Event.from_dict(ev.to_dict()) == ev


def test_notebook_views(fixture_store: ags.Store) -> None:
    html = fixture_store._repr_html_()
    assert html.count("<tr>") == 1 + 7
    assert "20260201-120500-fixture02-named" in html
    # the unicode fixture's name holds HTML: shown as text
    assert "<b>test</b>" not in html
    assert "&lt;b&gt;test&lt;/b&gt;" in html
    frame = fixture_store.to_pandas()
    assert len(frame) == 7
    assert list(frame["session_id"]) == sorted(frame["session_id"])
    assert "UTC" in str(frame["created_at"].dtype)
    assert frame.set_index("session_id").loc["20260201-122500-fixture06-empty", "event_count"] == 0
