"""The type stubs agree with the module, and the package exports SPEC's Python names."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

import agentsession as ags

#: SPEC §4 "Python names" that exist in the package, by owner.
SPEC_NAMES = {
    ags: [
        "Store",
        "Recorder",
        "Player",
        "build_conversation_history",
        "last_agent_message",
        "Error",
        "SessionNotFound",
        "SessionLocked",
        "SessionProcessing",
        "SessionWaitingPermission",
        "LockNotHeld",
        "StoreClosed",
        "QueueEmpty",
        "QueueFull",
        "MessageNotFound",
        "ImageError",
        "InvalidArgument",
        "CorruptData",
        "AuxiliaryError",
        "CorruptDataWarning",
        "Metadata",
        "Event",
        "ImageInfo",
        "PruneResult",
        "Queue",
        "QueuedMessage",
        "ActionButtonsStore",
        "ActionButton",
        "SearchHit",
        "Lock",
        "LockInfo",
        "LockCheck",
        "configure",
        "cleanup_all_locks",
        "active_lock_count",
        "AcpRecorded",
        "ResumePlan",
        "UsageTotals",
        "UsageRow",
        "UsageSummary",
        "auxiliary",
    ],
    ags.auxiliary: [
        "initialize",
        "prompt",
        "generate_title",
        "generate_queued_message_title",
        "improve_prompt",
        "analyze_follow_up_questions",
        "shutdown",
        "is_started",
        "set_update_observer",
    ],
    ags.Lock: [
        "set_processing",
        "set_idle",
        "set_waiting_permission",
        "release",
        "is_valid",
        "info",
        "session_id",
        "instance_id",
        "__enter__",
        "__exit__",
    ],
    ags.Queue: ["add", "list", "get", "remove", "pop", "clear", "__len__", "update_title", "move", "delete"],
    ags.ActionButtonsStore: ["get", "set", "clear", "is_empty", "delete"],
    ags.Store: [
        "mitto",
        "create",
        "append_event",
        "metadata",
        "update_metadata",
        "append_events",
        "events",
        "events_last",
        "list",
        "delete",
        "exists",
        "__contains__",
        "close",
        "save_image",
        "image_data",
        "image_path",
        "list_images",
        "delete_image",
        "cleanup_old_images",
        "prune_if_needed",
        "flush",
        "queue",
        "action_buttons",
        "search",
        "export",
        "follow",
        "usage",
        "usage_summary",
        "try_acquire_lock",
        "force_acquire_lock",
        "force_interrupt_lock",
        "lock_info",
        "is_locked",
        "check_lock_status",
        "__enter__",
        "__exit__",
        "_repr_html_",
        "to_pandas",
    ],
    ags.Recorder: [
        "start",
        "resume",
        "suspend",
        "end",
        "record_user_prompt",
        "record_agent_message",
        "record_agent_thought",
        "record_tool_call",
        "record_tool_call_update",
        "record_plan",
        "record_permission",
        "record_file_read",
        "record_file_write",
        "record_error",
        "record_acp_update",
        "record_turn_end",
        "session_id",
        "is_started",
        "event_count",
    ],
    ags.Player: [
        "__len__",
        "__iter__",
        "next",
        "peek",
        "reset",
        "seek",
        "position",
        "events_of_type",
        "acp_updates",
        "resume_plan",
        "metadata",
        "_repr_html_",
        "to_pandas",
    ],
}


def test_spec_names_exist() -> None:
    missing = [
        f"{getattr(owner, '__name__', owner)}.{name}"
        for owner, names in SPEC_NAMES.items()
        for name in names
        if not hasattr(owner, name)
    ]
    assert missing == []
    assert sorted(ags.__all__) == sorted(n for n in dir(ags._native) if not n.startswith("_") or n == "__version__")


def test_parity_names_exist() -> None:
    """Every Python name parity.toml lists for a core operation is in the installed package."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    parity = tomllib.loads((REPO / "parity.toml").read_text())
    missing = []
    for op in parity["op"]:
        assert "python" in op, f"{op['rust']} has no Python name in parity.toml"
        obj: object = ags
        for part in op["python"].split("."):
            if not hasattr(obj, part):
                missing.append(f"{op['rust']} -> {op['python']}")
                break
            obj = getattr(obj, part)
    assert missing == []
    assert len(parity["op"]) > 100


def test_spec_signatures() -> None:
    sig = lambda f: list(inspect.signature(f).parameters)  # noqa: E731
    assert sig(ags.Store.create) == ["self", "session_id", "acp_server", "working_dir", "acp_command", "name", "description"]
    assert sig(ags.Store.append_event) == ["self", "session_id", "type", "data", "timestamp"]
    assert sig(ags.Store.events) == ["self", "session_id", "after_seq", "strict"]
    assert sig(ags.Store.events_last)[:5] == ["self", "session_id", "limit", "before_seq", "reverse"]
    assert sig(ags.Store.prune_if_needed) == ["self", "session_id", "max_messages", "max_size_bytes"]
    assert sig(ags.Store.save_image) == ["self", "session_id", "data", "mime_type", "name"]
    assert sig(ags.Recorder.record_tool_call) == ["self", "tool_call_id", "title", "status", "kind", "raw_input", "raw_output"]
    assert sig(ags.Recorder.record_error) == ["self", "message", "code"]
    assert sig(ags.Store) == ["path", "batched"]
    assert sig(ags.Store.search) == ["self", "text", "regex", "types", "status", "since", "until", "limit", "progress"]
    assert sig(ags.Store.export) == ["self", "session_id", "format"]
    assert sig(ags.Store.follow) == ["self", "session_id", "after_seq", "timeout"]
    assert sig(ags.Queue.add) == ["self", "message", "image_ids", "client_id", "max_size"]
    assert sig(ags.Queue.move) == ["self", "message_id", "direction"]
    assert sig(ags.ActionButtonsStore.set) == ["self", "buttons", "for_event_seq"]
    assert sig(ags.auxiliary.initialize) == ["command", "cwd"]
    assert sig(ags.auxiliary.prompt) == ["text", "timeout"]
    assert sig(ags.Store.try_acquire_lock) == ["self", "session_id", "client_type"]
    assert sig(ags.configure) == ["heartbeat_interval", "stale_timeout"]


def test_stubtest(tmp_path: Path) -> None:
    """`python -m mypy.stubtest agentsession` reports nothing (no allowlist)."""
    stubs = Path(ags.__file__).parent
    assert (stubs / "_native.pyi").is_file()
    assert (stubs / "py.typed").is_file()
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "agentsession"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
