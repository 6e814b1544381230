#!/usr/bin/env python3
"""Checks both ACP test peers through the client side of the official Python SDK.

Run after `bash tests/peers/setup.sh`:

    tests/peers/.venv/bin/python tests/peers/check_peers.py [-k SUBSTRING] [--peer python|ts]

Every directive and start-up flag is exercised against each peer; each check
spawns its own agent process, is bounded by timeouts and kills what it spawned.
Prints `N passed, M failed` and exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import inspect
import json
import logging
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import acp
from acp import RequestError
from acp.schema import (
    AllowedOutcome,
    CreateTerminalResponse,
    DeniedOutcome,
    ReadTextFileResponse,
    RequestPermissionResponse,
    WriteTextFileResponse,
)

HERE = Path(__file__).resolve().parent
PEERS: dict[str, list[str]] = {
    "python": [str(HERE / ".venv" / "bin" / "python"), str(HERE / "python" / "agent.py")],
    "ts": ["node", str(HERE / "ts" / "agent.mjs")],
}
STEP = 10.0  # seconds any single protocol step may take
JUNK_LINES = ["this is not json", "{broken", "", "[peer] plain text debug output"]
BANNER_LINES = ["ACP test peer starting up", "this banner is not JSON-RPC"]


class CheckFailed(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def expect_eq(actual: Any, expected: Any, what: str) -> None:
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}")


# ----- the client side ----------------------------------------------------------
class RecordingClient:
    """An ACP client that records what the agent sends and answers its requests."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.events: list[tuple[str, Any]] = []  # ("update", (session_id, update)) / (method, params)
        self.answer_permission: Callable[[list[Any]], Any] = select_first_allow
        self.terminal_mode = "ok"

    # session/update
    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.events.append(("update", (session_id, update)))

    # session/request_permission
    async def request_permission(self, session_id: str, tool_call: Any, options: list[Any], **kwargs: Any):
        self.events.append(("session/request_permission", {"session_id": session_id, "tool_call": tool_call, "options": options}))
        answer = self.answer_permission(options)
        return await answer if inspect.isawaitable(answer) else answer

    # fs/write_text_file
    async def write_text_file(self, session_id: str, path: str, content: str, **kwargs: Any):
        self.events.append(("fs/write_text_file", {"session_id": session_id, "path": path, "content": content}))
        target = Path(path)
        if not target.is_absolute() or self.workspace not in target.parents:
            raise RequestError(-32000, "access denied: outside workspace")
        target.write_text(content, encoding="utf-8")
        return WriteTextFileResponse()

    # fs/read_text_file
    async def read_text_file(self, session_id: str, path: str, **kwargs: Any):
        self.events.append(("fs/read_text_file", {"session_id": session_id, "path": path}))
        target = Path(path)
        if not target.is_file():
            raise RequestError.resource_not_found(path)
        return ReadTextFileResponse(content=target.read_text(encoding="utf-8"))

    # terminal/create
    async def create_terminal(self, session_id: str, command: str, args: list[str] | None = None, **kwargs: Any):
        self.events.append(("terminal/create", {"session_id": session_id, "command": command, "args": args}))
        if self.terminal_mode != "ok":
            raise RequestError.method_not_found("terminal/create")
        return CreateTerminalResponse(terminal_id="term-1")

    # what the agent sent for a session since an index into events
    def updates_since(self, mark: int, session_id: str) -> list[Any]:
        return [u for kind, (sid, u) in
                ((k, v) for k, v in self.events[mark:] if k == "update") if sid == session_id]


def select_first_allow(options: list[Any]) -> RequestPermissionResponse:
    for option in options:
        if option.kind.startswith("allow"):
            return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=option.option_id))
    return RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))


def select(option_id: str) -> Callable[[list[Any]], RequestPermissionResponse]:
    return lambda options: RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected", option_id=option_id))


def text_of(updates: list[Any], kind: str = "agent_message_chunk") -> list[str]:
    return [u.content.text for u in updates if u.session_update == kind and u.content.type == "text"]


# ----- one spawned peer -----------------------------------------------------------
@dataclass
class Turn:
    response: Any
    updates: list[Any]
    chunks: list[str]
    elapsed: float

    @property
    def reply(self) -> str:
        return "".join(self.chunks)


@dataclass
class Peer:
    name: str
    process: asyncio.subprocess.Process
    conn: Any
    client: RecordingClient
    raw: list[str]
    stderr_path: Path
    sessions: dict[str, str] = field(default_factory=dict)

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    async def initialize(self) -> Any:
        return await asyncio.wait_for(self.conn.initialize(protocol_version=acp.PROTOCOL_VERSION), STEP)

    async def new_session(self, cwd: str | None = None) -> str:
        response = await asyncio.wait_for(
            self.conn.new_session(cwd=cwd or str(self.client.workspace), mcp_servers=[]), STEP
        )
        return response.session_id

    async def start(self) -> str:
        await self.initialize()
        return await self.new_session()

    async def prompt(self, session_id: str, text: str | list[Any], timeout: float = STEP) -> Turn:
        blocks = [acp.text_block(text)] if isinstance(text, str) else text
        mark = len(self.client.events)
        started = time.monotonic()
        response = await asyncio.wait_for(self.conn.prompt(session_id=session_id, prompt=blocks), timeout)
        elapsed = time.monotonic() - started
        updates = self.client.updates_since(mark, session_id)
        return Turn(response, updates, text_of(updates), elapsed)

    async def reply(self, session_id: str, text: str) -> str:
        turn = await self.prompt(session_id, text)
        expect_eq(turn.response.stop_reason, "end_turn", "stop reason")
        expect(len(turn.chunks) >= 2, f"reply came in {len(turn.chunks)} chunk(s), expected at least 2")
        return turn.reply

    async def close_stdin_and_wait(self, timeout: float = 5.0) -> int:
        with contextlib.suppress(Exception):
            self.process.stdin.close()
        return await asyncio.wait_for(self.process.wait(), timeout)

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.raw if line.strip() and line.lstrip().startswith("{") and is_json(line)]


def is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


async def tee(source: asyncio.StreamReader, sink: asyncio.StreamReader, raw: list[str]) -> None:
    """Copy the agent's stdout to the SDK connection, keeping every raw line."""
    try:
        while True:
            line = await source.readline()
            if not line:
                break
            raw.append(line.decode("utf-8", errors="replace").rstrip("\n"))
            sink.feed_data(line)
    finally:
        sink.feed_eof()


@contextlib.asynccontextmanager
async def spawn(name: str, *flags: str, workspace: Path):
    stderr_file = tempfile.NamedTemporaryFile(prefix=f"peer-{name}-", suffix=".stderr", delete=False)
    stderr_path = Path(stderr_file.name)
    raw: list[str] = []
    client = RecordingClient(workspace)
    command, *args = PEERS[name]
    try:
        async with acp.spawn_stdio_transport(
            command, *args, *flags, env=dict(os.environ), cwd=str(HERE), stderr=stderr_file,
            limit=16 * 1024 * 1024, shutdown_timeout=2.0,
        ) as (stdout, stdin, process):
            sdk_reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
            tee_task = asyncio.create_task(tee(stdout, sdk_reader, raw))
            conn = acp.connect_to_agent(client, stdin, sdk_reader)
            try:
                yield Peer(name, process, conn, client, raw, stderr_path)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 5)
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                tee_task.cancel()
                with contextlib.suppress(BaseException):
                    await tee_task
    finally:
        stderr_file.close()
        with contextlib.suppress(OSError):
            stderr_path.unlink()


# ----- checks -----------------------------------------------------------------------
CHECKS: list[tuple[str, tuple[str, ...], Callable[[Peer], Awaitable[None]]]] = []


def check(name: str, *flags: str):
    def register(func: Callable[[Peer], Awaitable[None]]):
        CHECKS.append((name, flags, func))
        return func
    return register


@check("initialize answers protocol v1 without load/auth")
async def _(p: Peer) -> None:
    response = await p.initialize()
    expect_eq(response.protocol_version, 1, "protocolVersion")
    expect_eq(response.agent_capabilities.load_session, False, "loadSession")
    expect_eq(response.auth_methods, [], "authMethods")
    wire = next(m for m in p.json_lines() if m.get("id") == 0)
    expect_eq(wire["result"]["agentCapabilities"].get("loadSession"), False, "loadSession on the wire")
    expect_eq(wire["result"].get("authMethods"), [], "authMethods on the wire")


@check("requests before initialize are refused")
async def _(p: Peer) -> None:
    try:
        await asyncio.wait_for(p.conn.new_session(cwd=str(p.client.workspace), mcp_servers=[]), STEP)
    except RequestError as exc:
        expect_eq(exc.code, -32600, "error code")
    else:
        raise CheckFailed("session/new before initialize succeeded")
    sid = await p.start()
    expect_eq(await p.reply(sid, "@@reply:fine now@@"), "fine now", "reply after initialize")


@check("session/new returns fresh peer-<hex> ids")
async def _(p: Peer) -> None:
    await p.initialize()
    first, second = await p.new_session(), await p.new_session()
    expect(re.fullmatch(r"peer-[0-9a-f]+", first) is not None, f"session id {first!r}")
    expect(first != second, "session ids repeat")


@check("default reply is a title from the quoted text or the prompt")
async def _(p: Peer) -> None:
    sid = await p.start()
    cases = {
        'Write a title for: "fix the flaky parser tests please" and nothing else': "Fix The Flaky",
        "hello, WORLD! how are you": "Hello World How",
        "one": "One",
        "  (spaced)   out\n\twords here ": "Spaced Out Words",
        '"!!! ?? ..."': "Untitled",
        "": "Untitled",
        '@@thought:musing@@ "rename the build step" please': "Rename The Build",
        "@@slow:10@@ tidy up imports now": "Tidy Up Imports",
    }
    for prompt, expected in cases.items():
        expect_eq(await p.reply(sid, prompt), expected, f"title of {prompt!r}")


@check("@@reply@@ replies with its text, in at least two chunks")
async def _(p: Peer) -> None:
    sid = await p.start()
    turn = await p.prompt(sid, "ignored text @@reply:Hello, world! This is the reply.@@ more ignored")
    expect_eq(turn.response.stop_reason, "end_turn", "stop reason")
    expect_eq(turn.reply, "Hello, world! This is the reply.", "reply")
    expect(len(turn.chunks) >= 2 and all(c != turn.reply for c in turn.chunks), f"chunks {turn.chunks!r}")
    expect_eq(await p.reply(sid, "@@reply:héllo 👋 wörld ✓ 日本語@@"), "héllo 👋 wörld ✓ 日本語", "unicode reply")
    expect_eq(await p.reply(sid, "@@reply:line one\nline two: @ sign, \"quotes\"@@"),
              'line one\nline two: @ sign, "quotes"', "multi-line reply")
    expect_eq(await p.reply(sid, "@@reply:x@@"), "x", "one-character reply")
    expect_eq(await p.reply(sid, "@@reply:@@"), "", "empty reply")


@check("@@thought@@ is sent as a thought, not as reply text")
async def _(p: Peer) -> None:
    sid = await p.start()
    turn = await p.prompt(sid, "@@thought:thinking hard@@@@reply:ok@@")
    expect_eq(turn.reply, "ok", "reply")
    expect_eq(text_of(turn.updates, "agent_thought_chunk"), ["thinking hard"], "thoughts")
    kinds = [u.session_update for u in turn.updates]
    expect_eq(kinds[0], "agent_thought_chunk", "first update")


@check("@@echo@@ replies with the whole prompt text verbatim")
async def _(p: Peer) -> None:
    sid = await p.start()
    blocks = [
        acp.text_block("first block @@echo@@ "),
        acp.image_block("iVBORw0KGgo=", "image/png"),
        acp.text_block("second block\nwith ünïcode ✓ and \"quotes\" and @ signs"),
    ]
    turn = await p.prompt(sid, blocks)
    expected = "first block @@echo@@ second block\nwith ünïcode ✓ and \"quotes\" and @ signs"
    expect_eq(turn.reply, expected, "echo")


@check("@@pid@@ replies with the agent's process id")
async def _(p: Peer) -> None:
    sid = await p.start()
    expect_eq(await p.reply(sid, "@@pid@@"), str(p.process.pid), "pid")


@check("@@count@@ counts the prompts of the process")
async def _(p: Peer) -> None:
    await p.initialize()
    a, b = await p.new_session(), await p.new_session()
    expect_eq(await p.reply(a, "@@count@@"), "1", "first count")
    expect_eq(await p.reply(b, "@@count@@"), "2", "count in another session")
    await p.reply(a, "@@reply:no count@@")
    expect_eq(await p.reply(b, "what is it @@count@@"), "4", "count after a plain prompt")


@check("@@cwd@@ replies with the session's cwd")
async def _(p: Peer) -> None:
    await p.initialize()
    one = p.client.workspace / "one"
    two = p.client.workspace / "two dir"
    one.mkdir()
    two.mkdir()
    a, b = await p.new_session(str(one)), await p.new_session(str(two))
    expect_eq(await p.reply(a, "@@cwd@@"), str(one), "cwd of a")
    expect_eq(await p.reply(b, "@@cwd@@"), str(two), "cwd of b")


@check("@@permission@@ asks with allow/reject options and reports the choice")
async def _(p: Peer) -> None:
    sid = await p.start()
    expect_eq(await p.reply(sid, "@@permission@@"), "permission:selected:allow-once", "allowed")
    request = next(v for k, v in p.client.events if k == "session/request_permission")
    expect_eq(request["session_id"], sid, "session")
    expect_eq(request["tool_call"].tool_call_id, "perm-1", "toolCallId")
    expect_eq(request["tool_call"].title, "Run a command", "title")
    expect_eq([(o.option_id, o.name, o.kind) for o in request["options"]],
              [("allow-once", "Allow once", "allow_once"), ("reject-once", "Reject", "reject_once")], "options")
    p.client.answer_permission = select("reject-once")
    expect_eq(await p.reply(sid, "@@permission@@"), "permission:selected:reject-once", "rejected")
    p.client.answer_permission = lambda options: RequestPermissionResponse(outcome=DeniedOutcome(outcome="cancelled"))
    expect_eq(await p.reply(sid, "@@permission@@"), "permission:cancelled", "cancelled")

    def fail(options: list[Any]) -> RequestPermissionResponse:
        raise RequestError(-32099, "no user to ask")
    p.client.answer_permission = fail
    expect_eq(await p.reply(sid, "@@permission@@"), "permission:error:-32099", "error")


@check("@@permission_noallow@@ offers only reject options")
async def _(p: Peer) -> None:
    sid = await p.start()
    p.client.answer_permission = select("reject-always")
    expect_eq(await p.reply(sid, "@@permission_noallow@@"), "permission:selected:reject-always", "reply")
    request = next(v for k, v in p.client.events if k == "session/request_permission")
    expect_eq([(o.option_id, o.kind) for o in request["options"]],
              [("reject-once", "reject_once"), ("reject-always", "reject_always")], "options")


@check("@@write@@ writes through the client and reports errors")
async def _(p: Peer) -> None:
    sid = await p.start()
    target = p.client.workspace / "written.txt"
    expect_eq(await p.reply(sid, f"@@write:{target}@@"), "write:ok", "write")
    expect_eq(target.read_text(encoding="utf-8"), "peer wrote this", "file content")
    request = next(v for k, v in p.client.events if k == "fs/write_text_file")
    expect_eq((request["path"], request["content"]), (str(target), "peer wrote this"), "request")
    expect_eq(await p.reply(sid, "@@write:/etc/peer-must-not-write@@"),
              "write:error:-32000:access denied: outside workspace", "refused write")


@check("@@read@@ reads through the client and reports errors")
async def _(p: Peer) -> None:
    sid = await p.start()
    source = p.client.workspace / "source.txt"
    source.write_text("line one\nline two ✓", encoding="utf-8")
    expect_eq(await p.reply(sid, f"@@read:{source}@@"), "read:ok:line one\nline two ✓", "read")
    missing = p.client.workspace / "missing.txt"
    expect_eq(await p.reply(sid, f"@@read:{missing}@@"), "read:error:-32002:Resource not found", "missing file")


@check("@@terminal@@ creates a terminal running echo hi")
async def _(p: Peer) -> None:
    sid = await p.start()
    expect_eq(await p.reply(sid, "@@terminal@@"), "terminal:ok", "terminal")
    request = next(v for k, v in p.client.events if k == "terminal/create")
    expect_eq((request["command"], request["args"]), ("echo", ["hi"]), "command")
    p.client.terminal_mode = "refuse"
    expect_eq(await p.reply(sid, "@@terminal@@"), "terminal:error:-32601", "refused terminal")


@check("directives run in order and their replies join with newlines")
async def _(p: Peer) -> None:
    sid = await p.start()
    mark = len(p.client.events)
    reply = await p.reply(sid, "@@thought:one@@ @@reply:a@@ @@permission@@ @@thought:two@@ @@count@@ @@reply:b@@")
    expect_eq(reply, "a\npermission:selected:allow-once\n1\nb", "joined reply")
    order = []
    for kind, value in p.client.events[mark:]:
        if kind == "update" and value[1].session_update == "agent_thought_chunk":
            order.append(value[1].content.text)
        elif kind == "session/request_permission":
            order.append("permission")
    expect_eq(order, ["one", "permission", "two"], "order of side effects")


@check("@@slow@@ waits before replying")
async def _(p: Peer) -> None:
    sid = await p.start()
    turn = await p.prompt(sid, "@@slow:400@@@@reply:done@@")
    expect_eq((turn.response.stop_reason, turn.reply), ("end_turn", "done"), "slow turn")
    expect(turn.elapsed >= 0.38, f"answered after {turn.elapsed:.3f}s, expected at least 0.4s")


@check("session/cancel ends @@slow@@ with stopReason cancelled")
async def _(p: Peer) -> None:
    sid = await p.start()
    mark = len(p.client.events)
    started = time.monotonic()
    pending = asyncio.create_task(p.conn.prompt(session_id=sid, prompt=[acp.text_block("@@slow:20000@@@@reply:never@@")]))
    try:
        await asyncio.sleep(0.4)
        expect(not pending.done(), "slow prompt answered early")
        await asyncio.wait_for(p.conn.cancel(session_id=sid), STEP)
        response = await asyncio.wait_for(pending, 5)
    finally:
        pending.cancel()
    elapsed = time.monotonic() - started
    expect_eq(response.stop_reason, "cancelled", "stop reason")
    expect(elapsed < 5, f"cancel took {elapsed:.1f}s")
    expect_eq(text_of(p.client.updates_since(mark, sid)), [], "reply text after cancel")
    expect_eq(await p.reply(sid, "@@reply:after@@"), "after", "next turn")


@check("prompts of different sessions run concurrently")
async def _(p: Peer) -> None:
    await p.initialize()
    slow_sid, fast_sid = await p.new_session(), await p.new_session()
    slow = asyncio.create_task(p.prompt(slow_sid, "@@slow:1500@@@@reply:slow@@"))
    try:
        await asyncio.sleep(0.2)
        fast = await p.prompt(fast_sid, "@@reply:fast@@")
        expect(not slow.done(), "slow prompt finished before the fast one")
        expect_eq(fast.reply, "fast", "fast reply")
        expect_eq((await asyncio.wait_for(slow, STEP)).reply, "slow", "slow reply")
    finally:
        slow.cancel()


@check("@@hang@@ never answers, ignores cancel, and exits 0 on stdin close")
async def _(p: Peer) -> None:
    sid = await p.start()
    pending = asyncio.create_task(p.conn.prompt(session_id=sid, prompt=[acp.text_block("@@hang@@")]))
    try:
        await asyncio.sleep(1.0)
        expect(not pending.done(), "hang prompt was answered")
        await asyncio.wait_for(p.conn.cancel(session_id=sid), STEP)
        await asyncio.sleep(0.7)
        expect(not pending.done(), "hang prompt was answered after cancel")
        expect_eq(await p.close_stdin_and_wait(), 0, "exit status after stdin closed")
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending


@check("@@crash@@ sends partial output and exits with status 3")
async def _(p: Peer) -> None:
    sid = await p.start()
    mark = len(p.client.events)
    try:
        response = await asyncio.wait_for(p.conn.prompt(session_id=sid, prompt=[acp.text_block("@@crash@@")]), STEP)
    except (ConnectionError, RequestError):
        pass
    else:
        raise CheckFailed(f"crashing prompt got a response: {response!r}")
    expect_eq(await asyncio.wait_for(p.process.wait(), 5), 3, "exit status")
    expect("peer crashing on purpose" in p.stderr(), f"stderr {p.stderr()!r}")
    expect_eq(text_of(p.client.updates_since(mark, sid)), ["partial"], "partial output")


@check("@@junk@@ writes whole non-JSON lines and then replies")
async def _(p: Peer) -> None:
    sid = await p.start()
    expect_eq(await p.reply(sid, '@@junk@@ "after the junk"'), "After The Junk", "reply after junk")
    expect_eq(await p.reply(sid, "@@junk@@@@reply:again@@"), "again", "second reply after junk")
    non_json = [line for line in p.raw if not is_json(line)]
    expect_eq(non_json, JUNK_LINES + JUNK_LINES, "non-JSON lines")
    for line in p.raw:
        expect(line in JUNK_LINES or isinstance(json.loads(line), dict), f"mangled line {line!r}")


@check("@@unknown_update@@ sends an unknown update kind and an unknown field")
async def _(p: Peer) -> None:
    sid = await p.start()
    expect_eq(await p.reply(sid, "@@unknown_update@@@@reply:still fine@@"), "still fine", "reply")
    updates = [m["params"]["update"] for m in p.json_lines() if m.get("method") == "session/update"]
    custom = [u for u in updates if u.get("sessionUpdate") == "peer_custom_kind"]
    expect(len(custom) == 1 and "peerField" in custom[0], f"custom updates {custom!r}")
    chunks = [u for u in updates if u.get("sessionUpdate") == "agent_message_chunk"]
    expect(any("peerUnknownField" in u for u in chunks), f"no chunk with an unknown field in {chunks!r}")
    expect_eq(updates.index(custom[0]) < updates.index(chunks[0]), True, "custom update before the reply")


@check("@@showcase@@ sends thought, plan, tool call, update, image, then text")
async def _(p: Peer) -> None:
    sid = await p.start()
    turn = await p.prompt(sid, '@@showcase@@ "show me everything now"')
    expect_eq(turn.reply, "Show Me Everything", "reply")
    u = turn.updates
    kinds = [x.session_update for x in u]
    expect_eq(kinds[:5], ["agent_thought_chunk", "plan", "tool_call", "tool_call_update", "agent_message_chunk"],
              "update kinds")
    expect(all(k == "agent_message_chunk" for k in kinds[5:]) and len(kinds) >= 7, f"update kinds {kinds!r}")
    expect_eq(len(u[1].entries), 2, "plan entries")
    tool = u[2]
    expect_eq((tool.tool_call_id, tool.title, tool.kind, tool.status, tool.raw_input),
              ("tc-1", "Read file", "read", "pending", {"path": "/tmp/x"}), "tool_call")
    expect_eq((u[3].tool_call_id, u[3].status, u[3].raw_output), ("tc-1", "completed", {"ok": True}), "tool_call_update")
    image = u[4].content
    expect_eq((image.type, image.mime_type), ("image", "image/png"), "image block")
    expect(base64.b64decode(image.data, validate=True).startswith(b"\x89PNG\r\n\x1a\n"), "image is not a PNG")


ALL_KINDS_UPDATES = [
    {"sessionUpdate": "user_message_chunk", "content": {"type": "text", "text": "Show every "}},
    {"sessionUpdate": "user_message_chunk", "content": {"type": "text", "text": "kind"}},
    {"sessionUpdate": "usage_update", "used": 1200, "size": 200000, "cost": {"amount": 0.25, "currency": "USD"}},
    {"sessionUpdate": "available_commands_update", "availableCommands": [
        {"name": "web", "description": "Search the web", "input": {"hint": "query"}},
        {"name": "test", "description": "Run the tests"},
    ]},
    {"sessionUpdate": "current_mode_update", "currentModeId": "code"},
    {"sessionUpdate": "config_option_update", "configOptions": [{
        "id": "model", "name": "Model", "type": "select", "currentValue": "fast",
        "options": [{"value": "fast", "name": "Fast"}, {"value": "smart", "name": "Smart"}],
    }]},
    {"sessionUpdate": "session_info_update", "title": "Peer showcase session", "updatedAt": "2026-02-01T12:00:00Z"},
    {"sessionUpdate": "usage_update", "used": 1800, "size": 200000, "cost": {"amount": 0.75, "currency": "USD"}},
]


@check("@@all_kinds@@ sends user chunks, usage, commands, mode, config options and session info")
async def _(p: Peer) -> None:
    sid = await p.start()
    expect_eq(await p.reply(sid, "@@all_kinds@@@@reply:done@@"), "done", "reply")
    updates = [m["params"]["update"] for m in p.json_lines() if m.get("method") == "session/update"]
    expect_eq(updates[:len(ALL_KINDS_UPDATES)], ALL_KINDS_UPDATES, "updates on the wire")
    expect(all(u["sessionUpdate"] == "agent_message_chunk" for u in updates[len(ALL_KINDS_UPDATES):]),
           "only reply chunks follow")


@check("prompting an unknown session fails")
async def _(p: Peer) -> None:
    await p.start()
    try:
        await asyncio.wait_for(p.conn.prompt(session_id="peer-nope", prompt=[acp.text_block("hi")]), STEP)
    except RequestError as exc:
        expect_eq(exc.code, -32002, "error code")
    else:
        raise CheckFailed("prompt to an unknown session succeeded")


@check("closing stdin ends the process with status 0")
async def _(p: Peer) -> None:
    sid = await p.start()
    expect_eq(await p.reply(sid, "@@reply:bye@@"), "bye", "reply")
    expect_eq(await p.close_stdin_and_wait(), 0, "exit status")
    expect_eq(p.stderr(), "", "agent stderr")


@check("closing stdin during @@slow@@ still exits with status 0")
async def _(p: Peer) -> None:
    sid = await p.start()
    pending = asyncio.create_task(p.conn.prompt(session_id=sid, prompt=[acp.text_block("@@slow:30000@@")]))
    try:
        await asyncio.sleep(0.4)
        started = time.monotonic()
        expect_eq(await p.close_stdin_and_wait(), 0, "exit status")
        expect(time.monotonic() - started < 3, "exit took too long")
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending


@check("closing stdin while a permission request is unanswered exits with status 0")
async def _(p: Peer) -> None:
    sid = await p.start()
    asked = asyncio.Event()
    never = asyncio.get_running_loop().create_future()

    def wait_forever(options: list[Any]) -> Any:
        asked.set()
        return never

    p.client.answer_permission = wait_forever
    pending = asyncio.create_task(p.conn.prompt(session_id=sid, prompt=[acp.text_block("@@permission@@")]))
    try:
        await asyncio.wait_for(asked.wait(), STEP)
        expect_eq(await p.close_stdin_and_wait(), 0, "exit status")
        expect_eq(p.stderr(), "", "agent stderr")
    finally:
        never.cancel()
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending


@check("--fail-initialize answers initialize with an error", "--fail-initialize")
async def _(p: Peer) -> None:
    try:
        await p.initialize()
    except RequestError as exc:
        expect_eq(exc.code, -32603, "error code")
    else:
        raise CheckFailed("initialize succeeded")
    expect_eq(await p.close_stdin_and_wait(), 0, "exit status")


@check("--exit-on-start exits with status 2 before reading", "--exit-on-start")
async def _(p: Peer) -> None:
    expect_eq(await asyncio.wait_for(p.process.wait(), STEP), 2, "exit status")
    await asyncio.sleep(0.1)
    expect("peer exiting at start" in p.stderr(), f"stderr {p.stderr()!r}")
    expect_eq(p.raw, [], "stdout")


@check("--banner prints two non-JSON lines before serving", "--banner")
async def _(p: Peer) -> None:
    sid = await p.start()
    expect_eq(await p.reply(sid, "@@reply:after banner@@"), "after banner", "reply")
    expect_eq(p.raw[:2], BANNER_LINES, "banner")
    expect(all(is_json(line) for line in p.raw[2:]), "non-JSON output after the banner")


@check("--stderr-noise writes to stderr only", "--stderr-noise")
async def _(p: Peer) -> None:
    sid = await p.start()
    expect_eq(await p.reply(sid, "@@reply:quiet stdout@@"), "quiet stdout", "reply")
    expect(len(p.stderr().splitlines()) >= 2, f"stderr {p.stderr()!r}")
    expect(all(is_json(line) for line in p.raw), "non-JSON output on stdout")


# ----- runner -------------------------------------------------------------------------
class LogCollector(logging.Handler):
    """Keeps the SDK's log records (e.g. about the deliberate junk) out of the output."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


async def run_one(peer: str, name: str, flags: tuple[str, ...], func, collector: LogCollector,
                  verbose: bool) -> str | None:
    with tempfile.TemporaryDirectory(prefix="peer-check-") as tmp:
        workspace = Path(tmp).resolve()
        collector.records.clear()
        stderr_text = ""
        try:
            async with spawn(peer, *flags, workspace=workspace) as p:
                try:
                    await asyncio.wait_for(func(p), 60)
                finally:
                    stderr_text = p.stderr()
                    if verbose and stderr_text.strip():
                        print("  agent stderr:\n    " + "\n    ".join(stderr_text.strip().splitlines()))
        except Exception as exc:  # noqa: BLE001
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            if not isinstance(exc, CheckFailed):
                detail += "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            if stderr_text.strip():
                detail += "\n  agent stderr:\n    " + "\n    ".join(stderr_text.strip().splitlines()[-20:])
            return detail
    return None


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=sorted(PEERS), action="append", help="only this peer (repeatable)")
    parser.add_argument("-k", dest="pattern", default="", help="only checks whose name contains this")
    parser.add_argument("-v", dest="verbose", action="store_true", help="show each agent's stderr")
    args = parser.parse_args()

    collector = LogCollector()
    root = logging.getLogger()
    root.handlers[:] = [collector]
    root.setLevel(logging.DEBUG)

    passed = failed = 0
    for peer in args.peer or list(PEERS):
        for name, flags, func in CHECKS:
            if args.pattern not in name:
                continue
            started = time.monotonic()
            error = await run_one(peer, name, flags, func, collector, args.verbose)
            took = time.monotonic() - started
            if error is None:
                passed += 1
                print(f"ok    [{peer}] {name} ({took:.1f}s)", flush=True)
            else:
                failed += 1
                print(f"FAIL  [{peer}] {name} ({took:.1f}s)\n  {error}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
