"""agentsession.Recorder: start, resume, suspend, end, and every record_* method."""

from __future__ import annotations

import pytest
from support import png

import agentsession as ags


def test_full_session(store: ags.Store) -> None:
    rec = ags.Recorder(store, "r1")
    assert rec.session_id == "r1"
    assert rec.store is store
    assert not rec.is_started
    assert repr(rec) == "Recorder(session_id='r1', is_started=False)"
    meta = rec.start("claude", "/work", acp_command="claude --acp")
    assert meta.acp_command == "claude --acp"
    assert rec.is_started
    image = store.save_image("r1", png(), "image/png", name="shot.png")
    seqs = [
        rec.record_user_prompt("look", images=[image, {"id": "img_x.png", "mime_type": "image/png"}]),
        rec.record_agent_thought("thinking"),
        rec.record_plan([{"id": "1", "title": "Do", "status": "pending", "priority": "high"}, {"id": "2", "title": "Then", "status": "done"}]),
        rec.record_tool_call("c1", "Run", "pending", kind="execute", raw_input={"cmd": ["ls", "-l"]}, raw_output="ok"),
        rec.record_tool_call("c2", "Think", "completed"),
        rec.record_tool_call_update("c1", status="completed"),
        rec.record_tool_call_update("c1", title="Ran"),
        rec.record_permission("Allow?", "allow_once", "approved"),
        rec.record_file_read("/work/a.txt", 12),
        rec.record_file_write("/work/b.txt", 0),
        rec.record_error("denied", code=403),
        rec.record_error("no code"),
        rec.record_agent_message("done"),
        rec.record("ui_prompt_answer", {"answer": 1}),
    ]
    assert seqs == list(range(2, 16))
    assert rec.event_count == 15
    rec.end("user_quit")
    assert not rec.is_started
    assert store.metadata("r1").status == "completed"
    events = store.events("r1")
    by_seq = {e.seq: e for e in events}
    assert by_seq[1].type == "session_start"
    assert by_seq[1].data == {"session_id": "r1", "acp_server": "claude", "working_dir": "/work"}
    assert by_seq[2].data == {
        "message": "look",
        "images": [
            {"id": image.id, "name": "shot.png", "mime_type": "image/png"},
            {"id": "img_x.png", "mime_type": "image/png"},
        ],
    }
    assert by_seq[4].data["entries"][1] == {"id": "2", "title": "Then", "status": "done"}
    assert by_seq[5].data == {
        "tool_call_id": "c1",
        "title": "Run",
        "status": "pending",
        "kind": "execute",
        "raw_input": {"cmd": ["ls", "-l"]},
        "raw_output": "ok",
    }
    assert by_seq[6].data == {"tool_call_id": "c2", "title": "Think", "status": "completed"}
    assert by_seq[7].data == {"tool_call_id": "c1", "status": "completed"}
    assert by_seq[8].data == {"tool_call_id": "c1", "title": "Ran"}
    assert by_seq[9].data == {"title": "Allow?", "selected_option": "allow_once", "outcome": "approved"}
    assert by_seq[10].data == {"path": "/work/a.txt", "size": 12}
    assert by_seq[12].data == {"message": "denied", "code": 403}
    assert by_seq[13].data == {"message": "no code"}
    assert by_seq[16].type == "session_end"
    assert by_seq[16].data == {"reason": "user_quit"}


def test_generated_id_resume_and_suspend(store: ags.Store) -> None:
    rec = ags.Recorder(store)
    rec.start("a", "/w")
    rec.record_user_prompt("one")
    rec.suspend()
    with pytest.raises(ags.InvalidArgument, match="not started"):
        rec.record_agent_message("lost")
    again = ags.Recorder(store, rec.session_id)
    assert again.resume().event_count == 2
    assert again.record_agent_message("two") == 3
    with pytest.raises(ags.InvalidArgument, match="already started"):
        again.resume()
    with pytest.raises(ags.SessionNotFound):
        ags.Recorder(store, "missing").resume()


def test_argument_errors(store: ags.Store) -> None:
    with pytest.raises(ags.InvalidArgument, match="session id"):
        ags.Recorder(store, "a/b")
    rec = ags.Recorder(store, "e")
    with pytest.raises(ags.InvalidArgument):
        rec.end("x")
    rec.start("a", "/w")
    with pytest.raises(ags.InvalidArgument, match="already exists"):
        ags.Recorder(store, "e").start("a", "/w")
    with pytest.raises(ags.InvalidArgument, match="outcome"):
        rec.record_permission("t", "o", "maybe")
    with pytest.raises(ags.InvalidArgument, match="tool_call_id"):
        rec.record_tool_call("", "t", "s")
    with pytest.raises(ags.InvalidArgument, match="tool_call_id"):
        rec.record_tool_call_update("")
    with pytest.raises(TypeError, match=r"images\[0\] must be an ImageInfo or a dict"):
        rec.record_user_prompt("m", images=["img.png"])
    with pytest.raises(ValueError, match=r"images\[0\] has no id"):
        rec.record_user_prompt("m", images=[{"mime_type": "image/png"}])
    with pytest.raises(TypeError, match="entries must be a list"):
        rec.record_plan({"id": "1"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="entries:"):
        rec.record_plan([{"id": 1}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="raw_input: object is not JSON data"):
        rec.record_tool_call("c", "t", "s", raw_input=object())
    with pytest.raises(ValueError, match="max_messages"):
        rec.set_prune_limits(max_messages=-2)
    assert rec.event_count == 1


def test_prune_limits_apply_after_each_append(store: ags.Store) -> None:
    rec = ags.Recorder(store, "p")
    rec.start("a", "/w")
    rec.set_prune_limits(max_messages=3)
    for i in range(6):
        rec.record_agent_message(f"m{i}")
    events = store.events("p")
    assert [e.seq for e in events] == [1, 2, 3]
    assert [e.data["text"] for e in events] == ["m3", "m4", "m5"]
