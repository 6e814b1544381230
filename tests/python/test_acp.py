"""Recording ACP session/update notifications, replaying them, resume plans and usage."""

from __future__ import annotations

import json
import pickle
import sys
from datetime import datetime
from typing import Any

import pytest

import agentsession as ags


def note(update: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "session/update", "params": {"sessionId": "agent-sess-1", "update": update}}


def chunk(kind: str, text: str) -> dict[str, Any]:
    return note({"sessionUpdate": kind, "content": {"type": "text", "text": text}})


def init_response(caps: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": 1, "agentCapabilities": caps}}


@pytest.fixture
def rec(store: ags.Store) -> ags.Recorder:
    r = ags.Recorder(store, "acp")
    r.start("peer-agent", "/work/project")
    return r


def test_chunks_become_one_event(store: ags.Store, rec: ags.Recorder) -> None:
    rec.record_user_prompt("What is 2+2?")
    first = rec.record_acp_update(chunk("agent_message_chunk", "The answer "))
    assert first.seqs == [] and first.warnings == []  # waits for the rest of the message
    rec.record_acp_update(json.dumps(chunk("agent_message_chunk", "is 4.")))  # JSON text works too
    rec.record_acp_update(json.dumps(chunk("agent_message_chunk", "")).encode())  # and bytes
    tool = rec.record_acp_update(
        note({"sessionUpdate": "tool_call", "toolCallId": "tc-1", "title": "Add", "kind": "think", "status": "completed"})
    )
    assert tool.seqs == [3, 4]  # the finished message, then the tool call
    assert rec.record_turn_end("end_turn") == [5]
    events = store.events("acp")
    assert [e.type for e in events] == ["session_start", "user_prompt", "agent_message", "tool_call", "turn_end"]
    assert events[2].data["text"] == "The answer is 4."
    assert events[3].data["tool_call_id"] == "tc-1"
    assert events[4].data == {"stop_reason": "end_turn"}
    assert store.metadata("acp").acp_session_id == "agent-sess-1"


def test_problems_are_warnings_and_bad_input_is_refused(store: ags.Store, rec: ags.Recorder) -> None:
    kept = rec.record_acp_update(note({"sessionUpdate": "tool_call", "title": "no id"}))
    assert len(kept.seqs) == 1 and kept.warnings and "kept whole" in kept.warnings[0]
    assert store.events("acp")[-1].type == "acp_update"
    with pytest.raises(ValueError, match="notification is not JSON"):
        rec.record_acp_update("{not json")
    with pytest.raises(ags.InvalidArgument):
        rec.record_acp_update({"jsonrpc": "2.0", "method": "session/prompt", "params": {}})
    with pytest.raises(ags.InvalidArgument, match="stop reason"):
        rec.record_turn_end("")
    idle = ags.Recorder(store, "idle")
    with pytest.raises(ags.InvalidArgument, match="not started"):
        idle.record_acp_update(chunk("agent_message_chunk", "x"))


def test_recorded_object(rec: ags.Recorder) -> None:
    r = rec.record_acp_update(note({"sessionUpdate": "current_mode_update", "currentModeId": "code"}))
    assert r.to_dict() == {"seqs": r.seqs, "warnings": []}
    assert pickle.loads(pickle.dumps(r)) == r
    assert repr(r) == f"AcpRecorded(seqs={json.dumps(r.seqs).replace(' ', '')}, warnings=[])"
    with pytest.raises(ValueError, match="not a valid AcpRecorded"):
        ags.AcpRecorded.from_dict({"seqs": []})


def test_replay_as_notifications(store: ags.Store, rec: ags.Recorder) -> None:
    rec.record_acp_update(chunk("agent_thought_chunk", "Let me think"))
    rec.record_acp_update(chunk("agent_message_chunk", "Done"))
    rec.record_acp_update(
        note({"sessionUpdate": "plan", "entries": [{"content": "Step", "priority": "high", "status": "pending"}]})
    )
    rec.record_turn_end("end_turn")
    updates = ags.Player(store, "acp").acp_updates()
    kinds = [u["params"]["update"]["sessionUpdate"] for u in updates]
    assert kinds == ["agent_thought_chunk", "agent_message_chunk", "plan"]
    assert all(u["method"] == "session/update" and u["params"]["sessionId"] == "agent-sess-1" for u in updates)
    assert updates[1]["params"]["update"]["content"] == {"type": "text", "text": "Done"}


def test_resume_plan(store: ags.Store, rec: ags.Recorder) -> None:
    rec.record_user_prompt("What is 2+2?")
    rec.record_acp_update(chunk("agent_message_chunk", "4"))
    rec.record_turn_end("end_turn")
    player = ags.Player(store, "acp")
    plan = player.resume_plan(init_response({"loadSession": True, "sessionCapabilities": {"resume": {}}}))
    assert plan.method == "session/resume"
    assert plan.acp_session_id == "agent-sess-1"
    assert plan.params == {"sessionId": "agent-sess-1", "cwd": "/work/project"}
    assert plan.history == ""
    load = player.resume_plan(json.dumps(init_response({"loadSession": True})["result"]))
    assert load.method == "session/load"
    new = player.resume_plan(init_response({"loadSession": False}))
    assert (new.method, new.acp_session_id, new.working_dir) == ("session/new", None, "/work/project")
    assert "USER: What is 2+2?" in new.history and "ASSISTANT: 4" in new.history
    assert new.reason
    assert pickle.loads(pickle.dumps(new)) == new
    assert ags.ResumePlan.from_dict(new.to_dict()) == new
    assert repr(new).startswith("ResumePlan(method='session/new', params=")
    with pytest.raises(ags.InvalidArgument):
        player.resume_plan({"agentCapabilities": {}})


def test_usage(store: ags.Store, rec: ags.Recorder) -> None:
    rec.record_acp_update(note({"sessionUpdate": "usage_update", "used": 5000, "size": 100000}))
    rec.record_acp_update(
        note({"sessionUpdate": "usage_update", "used": 7000, "size": 100000, "cost": {"amount": 0.25, "currency": "USD"}})
    )
    u = store.usage("acp")
    assert (u.session_id, u.agent, u.updates, u.used, u.size, u.peak_used) == ("acp", "peer-agent", 2, 7000, 100000, 7000)
    assert u.cost == {"USD": 0.25}
    assert isinstance(u.first_at, datetime) and isinstance(u.last_at, datetime)
    assert pickle.loads(pickle.dumps(u)) == u
    summary = store.usage_summary()
    assert summary.total.key == "total" and summary.total.sessions == 1 and summary.total.updates == 2
    assert [r.key for r in summary.by_agent] == ["peer-agent"]
    assert len(summary.by_day) == 1
    assert summary.sessions == [u]
    back = pickle.loads(pickle.dumps(summary))
    assert back == summary and back.total == summary.total
    assert repr(summary).startswith("UsageSummary(by_day=[1 items]") or "by_day=[1 items]" in repr(summary)
    assert store.usage_summary().to_dict()["total"]["peak_tokens"] == 7000
    with pytest.raises(ValueError, match="not a valid UsageSummary"):
        ags.UsageSummary.from_dict({"total": {"key": "total"}, "by_day": [], "by_agent": [], "sessions": []})
    with pytest.raises(ags.SessionNotFound):
        store.usage("missing")


def test_auxiliary_updates_reach_an_observer(store: ags.Store, peer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The auxiliary agent's updates go to an observer, which records them."""
    rec = ags.Recorder(store, "aux")
    rec.start("peer", "/w")
    seen: list[dict[str, Any]] = []

    def observe(n: dict[str, Any]) -> None:
        seen.append(n)
        rec.record_acp_update(n)

    ags.auxiliary.initialize(peer)
    ags.auxiliary.set_update_observer(observe)
    assert ags.auxiliary.prompt("@@thought:pondering@@@@reply:hello@@", timeout=30) == "hello"
    rec.record_turn_end("end_turn")
    assert seen and all(n["method"] == "session/update" for n in seen)
    types = [e.type for e in store.events("aux")]
    assert "agent_thought" in types and "agent_message" in types
    # an observer that raises is reported through sys.unraisablehook, not to the caller
    raised: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: raised.append(u.exc_value))

    def broken(n: dict[str, Any]) -> None:
        raise RuntimeError("observer failed")

    ags.auxiliary.set_update_observer(broken)
    assert ags.auxiliary.prompt("@@reply:still fine@@", timeout=30) == "still fine"
    assert raised and isinstance(raised[0], RuntimeError)
    with pytest.raises(TypeError, match="observer must be callable"):
        ags.auxiliary.set_update_observer(3)  # type: ignore[arg-type]


def test_resume_plan_function(store: ags.Store, rec: ags.Recorder) -> None:
    rec.record_user_prompt("hi")
    rec.record_acp_update(chunk("agent_message_chunk", "hello"))
    plan = ags.resume_plan(store.metadata("acp"), store.events("acp"), init_response({"loadSession": True}))
    assert plan == ags.Player(store, "acp").resume_plan(init_response({"loadSession": True}))
    assert plan.method == "session/load"
