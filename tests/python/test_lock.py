"""Session locks: acquisition modes, status, stealing, heartbeats, settings, other processes."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from support import FIXTURES, LOCKED

import agentsession as ags


@pytest.fixture(autouse=True)
def no_locks_left() -> Iterator[None]:
    yield
    ags.cleanup_all_locks()
    ags.configure()  # back to the defaults


def child(store: ags.Store, session: str, body: str) -> subprocess.Popen[str]:
    """A Python process that opens the store and runs `body` (with `store`, `sid`)."""
    code = f"import sys, time\nimport agentsession as ags\nstore = ags.Store({str(store.path)!r})\nsid = {session!r}\n"
    code += textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_acquire_and_release(store: ags.Store, session: str) -> None:
    assert not store.is_locked(session) and store.lock_info(session) is None
    check = store.check_lock_status(session)
    assert (check.state, check.can_resume, check.holder) == ("unlocked", True, None)
    with store.try_acquire_lock(session, "cli") as lock:
        assert lock.session_id == session and len(lock.instance_id) == 16
        assert repr(lock) == f"Lock(session_id='{session}', instance_id='{lock.instance_id}')"
        info = lock.info
        assert (info.pid, info.client_type, info.status, info.status_message) == (os.getpid(), "cli", "idle", "")
        assert isinstance(info.heartbeat, datetime) and info.heartbeat.tzinfo is not None
        assert store.lock_info(session) == info
        assert store.is_locked(session) and lock.is_valid()
        assert ags.active_lock_count() == 1
        on_disk = json.loads((store.path / session / ".lock").read_text())
        assert on_disk["instance_id"] == lock.instance_id
        check = store.check_lock_status(session)
        assert (check.state, check.can_resume, check.can_force, check.can_interrupt) == ("idle", False, True, True)
        assert check.holder == info and "idle" in check.message
    assert not lock.is_valid()
    assert not (store.path / session / ".lock").exists()
    assert ags.active_lock_count() == 0
    lock.release()  # again: nothing happens
    with pytest.raises(ags.SessionNotFound):
        store.try_acquire_lock("missing", "cli")


def test_modes_and_status(store: ags.Store, session: str) -> None:
    first = store.try_acquire_lock(session, "web")
    with pytest.raises(ags.SessionLocked) as e:
        store.try_acquire_lock(session, "cli")
    assert e.value.session_id == session
    first.set_processing("Running tool: go test")
    info = store.lock_info(session)
    assert info is not None and (info.status, info.status_message) == ("processing", "Running tool: go test")
    with pytest.raises(ags.SessionProcessing):
        store.force_acquire_lock(session, "cli")
    first.set_waiting_permission("Allow rm?")
    assert store.check_lock_status(session).state == "waiting_for_permission"
    with pytest.raises(ags.SessionWaitingPermission):
        store.force_acquire_lock(session, "cli")
    first.set_idle()
    stolen: list[str] = []
    first.on_stolen(lambda: stolen.append("stolen"))
    second = store.force_acquire_lock(session, "cli")
    assert not first.is_valid()
    assert stolen == ["stolen"]
    with pytest.raises(ags.LockNotHeld) as e:
        first.set_processing("still mine?")
    assert e.value.session_id == session
    first.release()  # stolen: release leaves the new holder's file alone
    assert second.is_valid()
    second.set_processing("busy")
    third = store.force_interrupt_lock(session, "tui")
    assert not second.is_valid() and third.is_valid()
    assert store.lock_info(session).client_type == "tui"  # type: ignore[union-attr]
    with pytest.raises(TypeError, match="callback must be callable"):
        third.on_stolen(3)  # type: ignore[arg-type]


def test_heartbeats_and_settings(store: ags.Store, session: str) -> None:
    ags.configure(heartbeat_interval=0.05, stale_timeout=1)
    with store.try_acquire_lock(session, "cli") as lock:
        first = lock.info.heartbeat
        deadline = time.monotonic() + 5
        while store.lock_info(session).heartbeat == first and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.02)
        assert store.lock_info(session).heartbeat > first  # type: ignore[union-attr,operator]
    with pytest.raises(ags.InvalidArgument):
        ags.configure(heartbeat_interval=0.001)
    with pytest.raises(ags.InvalidArgument):
        ags.configure(heartbeat_interval=10, stale_timeout=15)
    with pytest.raises(ValueError, match="stale_timeout"):
        ags.configure(stale_timeout=-1)


def test_cleanup_all_locks(store: ags.Store) -> None:
    locks = []
    for sid in ["a", "b", "c"]:
        store.create(sid, "agent", "/w")
        locks.append(store.try_acquire_lock(sid, "cli"))
    assert ags.active_lock_count() == 3
    assert ags.cleanup_all_locks() == 3
    assert ags.active_lock_count() == 0
    assert not any(lock.is_valid() for lock in locks)
    assert not any(store.is_locked(sid) for sid in ["a", "b", "c"])


def test_threads_race_for_one_lock(store: ags.Store, session: str) -> None:
    won: list[ags.Lock] = []
    lost: list[BaseException] = []
    start = threading.Barrier(8)

    def attempt() -> None:
        start.wait()
        try:
            won.append(ags.Store(store.path).try_acquire_lock(session, "cli"))
        except ags.SessionLocked as e:
            lost.append(e)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(won) == 1 and len(lost) == 7


def test_data_objects(store: ags.Store, session: str) -> None:
    with store.try_acquire_lock(session, "cli") as lock:
        info, check = lock.info, store.check_lock_status(session)
        for obj in (info, check):
            assert pickle.loads(pickle.dumps(obj)) == obj
            assert type(obj).from_dict(obj.to_dict()) == obj
        assert repr(info).startswith(f"LockInfo(pid={os.getpid()}, hostname=")
        assert repr(check).startswith("LockCheck(state='idle', can_resume=False, can_force=True")
        assert check.to_dict()["holder"]["instance_id"] == lock.instance_id
    with pytest.raises(ValueError, match='field "pid"'):
        ags.LockInfo.from_dict({"hostname": "h"})


def test_fixture_lock(fixture_store: ags.Store) -> None:
    dump = json.loads((FIXTURES / "mitto-sessions.dump.json").read_text())
    expected = next(s for s in dump["sessions"] if s["session_id"] == LOCKED)["lock_info"]
    info = fixture_store.lock_info(LOCKED)
    assert info is not None and info.to_dict() == expected
    assert info.heartbeat == datetime.fromisoformat("2026-11-24T11:38:32.862101+00:00")
    assert info.heartbeat is not None and info.heartbeat.tzinfo == timezone.utc
    check = fixture_store.check_lock_status(LOCKED)
    assert check.state == "stale" and check.can_resume  # another host, old heartbeat
    assert not fixture_store.is_locked(LOCKED)
    with fixture_store.try_acquire_lock(LOCKED, "cli") as lock:
        assert lock.is_valid()


def test_other_processes(store: ags.Store, session: str) -> None:
    holder = child(
        store,
        session,
        """
        lock = store.try_acquire_lock(sid, "child")
        print("held", flush=True)
        sys.stdin.readline()
        """,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(ags.SessionLocked):
        store.try_acquire_lock(session, "parent")
    assert store.lock_info(session).pid == holder.pid  # type: ignore[union-attr]
    holder.communicate("exit\n", timeout=20)  # a normal exit releases the lock
    assert holder.returncode == 0
    assert store.lock_info(session) is None

    killed = child(
        store,
        session,
        """
        lock = store.try_acquire_lock(sid, "child")
        print("held", flush=True)
        time.sleep(60)
        """,
    )
    assert killed.stdout is not None and killed.stdout.readline().strip() == "held"
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=20)
    assert store.check_lock_status(session).state == "dead"
    with store.try_acquire_lock(session, "parent") as lock:  # a dead holder's lock is taken over
        assert lock.is_valid()


def test_processes_race_for_one_lock(store: ags.Store, session: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    racers = [
        child(
            store,
            session,
            f"""
            import pathlib
            while not pathlib.Path({str(go)!r}).exists():
                time.sleep(0.001)
            try:
                lock = store.try_acquire_lock(sid, "racer")
                print("won", flush=True)
                sys.stdin.readline()
            except ags.SessionLocked:
                print("lost", flush=True)
            """,
        )
        for _ in range(4)
    ]
    time.sleep(0.3)
    go.touch()
    results = [r.stdout.readline().strip() for r in racers]  # type: ignore[union-attr]
    for r in racers:
        r.communicate("", timeout=20)
    assert sorted(results) == ["lost", "lost", "lost", "won"]


def test_runtime_settings_stats_and_shutdown(store: ags.Store, session: str) -> None:
    assert ags.settings() == ags.Settings.from_dict({"heartbeat_interval": 10.0, "stale_timeout": 60.0})
    ags.configure(heartbeat_interval=0.02, stale_timeout=1)
    s = ags.settings()
    assert (s.heartbeat_interval, s.stale_timeout) == (0.02, 1.0)
    ags.reset_heartbeat_stats()
    lock = store.try_acquire_lock(session, "cli")
    deadline = time.monotonic() + 5
    while ags.heartbeat_stats().heartbeats < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    stats = ags.heartbeat_stats()
    assert stats.heartbeats >= 2 and stats.failures == 0
    assert 0 <= stats.lateness_p50 <= stats.lateness_max
    assert pickle.loads(pickle.dumps(stats)) == stats
    ags.shutdown()  # releases the lock and stops the heartbeat thread
    assert not lock.is_valid() and ags.active_lock_count() == 0
    assert store.lock_info(session) is None
    with store.try_acquire_lock(session, "cli") as again:  # the runtime starts again on use
        assert again.is_valid()
