"""The `agentsession` command, run as a subprocess (console script and `python -m`)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import agentsession as ags
from agentsession import cli

FIXTURE01 = "20260201-120000-fixture01-complete"
FIXTURE05 = "20260201-122000-fixture05-unicode"


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentsession", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def store_args(store: ags.Store) -> list[str]:
    return ["--store", str(store.path)]


def test_console_script_is_installed(fixture_store: ags.Store) -> None:
    script = shutil.which("agentsession", path=str(Path(sys.executable).parent))
    assert script, "pip install puts the `agentsession` command beside the interpreter"
    out = subprocess.run([script, *store_args(fixture_store), "list"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "7 session(s)" in out.stdout


def test_list_show_tail(fixture_store: ags.Store) -> None:
    out = run(*store_args(fixture_store), "list").stdout
    assert FIXTURE01 in out and "Fixture: named session" in out
    listed = run(*store_args(fixture_store), "list", "--json").stdout
    assert '"session_id": "20260201-120500-fixture02-named"' in listed
    show = run(*store_args(fixture_store), "show", FIXTURE01).stdout
    assert "USER: Please describe the attached screenshot" in show
    assert "AGENT: You're welcome!" in show
    assert "[permission] Allow running `ls -la src/`? -> approved" in show
    tail = run(*store_args(fixture_store), "tail", "-n", "2", FIXTURE01).stdout.splitlines()
    assert len(tail) == 2 and "session ended: user_quit" in tail[1]


def test_search_and_export(fixture_store: ags.Store, tmp_path: Path) -> None:
    out = run(*store_args(fixture_store), "search", "<script>").stdout
    assert f"{FIXTURE05} #2 user_prompt.message" in out
    assert out.strip().endswith("1 hit(s)")
    out = run(*store_args(fixture_store), "search", "--type", "agent_message", "fixed timestamp").stdout
    assert out.strip().endswith("4 hit(s)")
    page = tmp_path / "f05.html"
    run(*store_args(fixture_store), "export", FIXTURE05, "--format", "html", "-o", str(page))
    html = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    md = run(*store_args(fixture_store), "export", FIXTURE01).stdout
    assert md == fixture_store.export(FIXTURE01, "md")


def test_locks_queue_usage(fixture_store: ags.Store) -> None:
    out = run(*store_args(fixture_store), "locks").stdout
    assert "20260201-121000-fixture03-locked" in out and "stale" in out
    out = run(*store_args(fixture_store), "queue", "20260201-121000-fixture03-locked").stdout
    lines = out.splitlines()
    assert "[Update README]" in lines[0] and "refactor parser" in lines[1] and "3 queued" in lines[-1]
    assert "total:" in run(*store_args(fixture_store), "usage").stdout


def test_tail_follow_sees_new_events(store: ags.Store, session: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentsession", *store_args(store), "tail", "-f", session, "--timeout", "20"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None

    def writer() -> None:
        time.sleep(0.5)
        store.append_event(session, "agent_message", {"text": "live one"})
        store.append_event(session, "session_end", {"reason": "done"})

    t = threading.Thread(target=writer)
    t.start()
    out, _ = proc.communicate(timeout=30)
    t.join()
    assert proc.returncode == 0
    assert "USER: hello" in out and "AGENT: live one" in out and out.rstrip().endswith("session ended: done")


def test_errors_and_bad_arguments(fixture_store: ags.Store) -> None:
    missing = run(*store_args(fixture_store), "show", "no-such-session", check=False)
    assert missing.returncode == 1
    assert "session not found: no-such-session" in missing.stderr
    bad_id = run(*store_args(fixture_store), "show", "../etc", check=False)
    assert bad_id.returncode == 1 and "invalid argument" in bad_id.stderr
    bad_args = run(*store_args(fixture_store), "export", FIXTURE01, "--format", "pdf", check=False)
    assert bad_args.returncode == 2 and "invalid choice" in bad_args.stderr
    assert run("frobnicate", check=False).returncode == 2


def test_mitto_store_from_environment(tmp_path: Path) -> None:
    env = dict(os.environ, MITTO_DIR=str(tmp_path))
    with ags.Store(tmp_path / "sessions") as s:
        s.create("m1", "agent", "/w")
    out = subprocess.run(
        [sys.executable, "-m", "agentsession", "--mitto", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    ).stdout
    assert "m1" in out and "1 session(s)" in out


@pytest.mark.parametrize("argv", [["--store", "x", "--mitto", "list"], []])
def test_argument_errors_exit_2(argv: list[str]) -> None:
    assert run(*argv, check=False).returncode == 2


def test_migrate_copies_a_store_and_prints_the_report(fixture_store: ags.Store, tmp_path: Path) -> None:
    target = tmp_path / "copy"
    first = run("migrate", "--from", str(fixture_store.path), "--to", str(target))
    assert "sessions created  7" in first.stdout and "skipped           0" in first.stdout
    # Not a terminal: no bar, only the final line.
    assert "\r" not in first.stderr
    assert first.stderr == f"migrated 7 session(s) from {fixture_store.path} to {target}\n"
    with ags.Store(target) as copy:
        assert [m.to_dict() for m in copy.list()] == [m.to_dict() for m in fixture_store.list()]
    again = run("migrate", "--from", str(fixture_store.path), "--to", str(target), "--json")
    report = json.loads(again.stdout)
    assert report["sessions"] == 7 and report["sessions_created"] == report["events_copied"] == 0


def test_migrate_draws_a_progress_bar_on_a_terminal(
    fixture_store: ags.Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    err, out = Terminal(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert cli.main(["migrate", "--from", str(fixture_store.path), "--to", str(tmp_path / "copy")], out) == 0
    drawn = err.getvalue()
    assert "\r[####" in drawn and "] 1/7 sessions" in drawn and "] 7/7 sessions" in drawn
    assert drawn.endswith(" to " + str(tmp_path / "copy") + "\n")
    assert "events copied     47" in out.getvalue()


def test_migrate_errors(fixture_store: ags.Store, tmp_path: Path) -> None:
    missing = run("migrate", "--from", str(tmp_path / "nowhere"), "--to", str(tmp_path / "copy"), check=False)
    assert missing.returncode == 1 and "no store directory" in missing.stderr
    assert not (tmp_path / "nowhere").exists()
    server = run("migrate", "--from", str(fixture_store.path), "--to", "postgresql://127.0.0.1:1/none", check=False)
    assert server.returncode == 1 and server.stderr.startswith("agentsession: ")
    assert "Traceback" not in server.stderr
    both = run("--store", str(fixture_store.path), "migrate", "--from", "a", "--to", "b", check=False)
    assert both.returncode == 2 and "--from and --to" in both.stderr
    assert run("migrate", "--to", str(tmp_path), check=False).returncode == 2


def test_store_option_takes_a_server_url() -> None:
    # Accepted as a location and handed to the library, whose error is reported plainly.
    out = run("--store", "postgresql://127.0.0.1:1/none", "list", check=False)
    assert out.returncode == 1 and out.stderr.startswith("agentsession: ")
    assert "Traceback" not in out.stderr
