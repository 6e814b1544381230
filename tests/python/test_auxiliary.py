"""agentsession.auxiliary against a real ACP agent (the Python SDK test peer in tests/peers)."""

from __future__ import annotations

import json
import time

import pytest
from support import REPO

import agentsession as ags
from agentsession import auxiliary


def test_module() -> None:
    import agentsession.auxiliary as again

    assert again is ags.auxiliary is auxiliary
    assert auxiliary.__name__ == "agentsession.auxiliary"
    assert auxiliary.generate_title.__module__ == "agentsession.auxiliary"


def test_not_initialized() -> None:
    auxiliary.shutdown()
    assert not auxiliary.is_started() and auxiliary.pid() is None
    with pytest.raises(ags.AuxiliaryError) as e:
        auxiliary.prompt("hello", timeout=5)
    assert e.value.kind == "not_initialized"


def test_utilities(peer: str, tmp_path: object) -> None:
    auxiliary.initialize(peer, cwd=REPO)
    assert not auxiliary.is_started()  # started lazily
    assert auxiliary.prompt("@@reply:hello there@@", timeout=30) == "hello there"
    assert auxiliary.is_started()
    pid = auxiliary.pid()
    assert pid is not None and str(pid) == auxiliary.prompt("@@pid@@")
    assert auxiliary.prompt("@@cwd@@") == str(REPO)
    assert auxiliary.generate_title("fix the flaky parser tests") == "Fix The Flaky"
    assert auxiliary.generate_queued_message_title("also update the changelog") == "Also Update The"
    assert auxiliary.improve_prompt("@@reply:Add tests for the parser.@@") == "Add tests for the parser."
    items = [{"label": "Yes", "value": "Yes, please"}, {"label": "No", "value": "No, thanks"}]
    reply = "Here you go: " + json.dumps(items) + " -- done"
    follow_ups = auxiliary.analyze_follow_up_questions(f"@@reply:{reply}@@")
    assert [f.to_dict() for f in follow_ups] == items
    assert follow_ups[0] == ags.FollowUp.from_dict(items[0])
    assert repr(follow_ups[0]) == "FollowUp(label='Yes', value='Yes, please')"
    assert auxiliary.analyze_follow_up_questions("@@reply:nothing to add@@") == []
    auxiliary.shutdown()
    assert not auxiliary.is_started()


def test_timeouts_and_restart(peer: str) -> None:
    auxiliary.initialize(peer)
    with pytest.raises(ags.AuxiliaryError) as e:
        auxiliary.prompt("@@slow:10000@@", timeout=0.5)
    assert e.value.kind == "timeout"
    with pytest.raises(ags.AuxiliaryError) as e:
        auxiliary.prompt("@@crash@@", timeout=30)
    assert e.value.kind in ("exited", "protocol")
    assert auxiliary.prompt("@@reply:back@@", timeout=30) == "back"  # a new agent
    auxiliary.set_default_timeout(20)
    assert auxiliary.default_timeout() == 20.0
    with pytest.raises(ags.InvalidArgument, match="longer than zero"):
        auxiliary.prompt("x", timeout=0)
    with pytest.raises(ValueError, match="timeout"):
        auxiliary.prompt("x", timeout=-1)
    with pytest.raises(ValueError, match="timeout"):
        auxiliary.set_default_timeout(float("nan"))


def test_initialize_errors(tmp_path: object) -> None:
    with pytest.raises(ags.InvalidArgument, match="empty"):
        auxiliary.initialize("   ")
    with pytest.raises(ags.InvalidArgument):
        auxiliary.initialize('agent "unclosed')
    with pytest.raises(FileNotFoundError):
        auxiliary.initialize("agent", cwd="/nonexistent/dir")
    auxiliary.initialize("/nonexistent/agent-binary")
    with pytest.raises(ags.AuxiliaryError) as e:
        auxiliary.prompt("x", timeout=10)
    assert e.value.kind == "start_failed"
    auxiliary.shutdown()


def test_queued_message_titles_in_the_background(peer: str, store: ags.Store, session: str) -> None:
    auxiliary.initialize(peer)
    q = store.queue(session)
    m = q.add("rename the parser module please")
    assert auxiliary.request_queued_message_title(q, m.id)
    deadline = time.monotonic() + 30
    while q.get(m.id).title is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert q.get(m.id).title == "Rename The Parser"
