#!/usr/bin/env python3
"""ACP test agent built on the official Python SDK (agent-client-protocol 0.12.1).

It speaks ACP v1 over stdin/stdout (one JSON object per line) and logs only to
stderr. Its behaviour is driven by directives written into the prompt text, for
example ``@@reply:hello@@`` or ``@@slow:500@@``; see tests/peers/README.md.
The TypeScript agent in tests/peers/ts/agent.mjs behaves identically.

Start with: tests/peers/.venv/bin/python tests/peers/python/agent.py [flags]
Flags: --fail-initialize --exit-on-start --banner --stderr-noise
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import string
import sys
from dataclasses import dataclass, field
from typing import Any

import acp
from acp import RequestError
from acp.helpers import update_available_commands, update_current_mode
from acp.schema import (
    AgentCapabilities,
    AvailableCommand,
    AvailableCommandInput,
    ConfigOptionUpdate,
    Cost,
    DeniedOutcome,
    Implementation,
    InitializeResponse,
    NewSessionResponse,
    PermissionOption,
    PromptResponse,
    SessionConfigOptionSelect,
    SessionConfigSelectOption,
    SessionInfoUpdate,
    ToolCallUpdate,
    UsageUpdate,
)

AGENT_NAME = "agentsession-test-peer-python"
AGENT_VERSION = "1.0.0"

# Directives: @@name@@ or @@name:arg@@; the argument may hold anything but "@@".
DIRECTIVE = re.compile(r"@@([a-z_]+)(?::(.*?))?@@", re.DOTALL)
QUOTED = re.compile(r'"([^"]*)"')
# Directives whose outcome is text for the reply; without any of them the
# reply is the default title.
REPLY_DIRECTIVES = {
    "reply", "echo", "pid", "count", "cwd", "permission", "permission_noallow",
    "write", "read", "terminal",
}

# Lines written to stdout, bypassing the SDK, by @@junk@@ and --banner.
JUNK_LINES = ["this is not json", "{broken", "", "[peer] plain text debug output"]
BANNER_LINES = ["ACP test peer starting up", "this banner is not JSON-RPC"]
NOISE_LINES = ["peer noise: starting", "peer noise: warming up", "peer noise: ready"]

# A valid 1x1 RGBA PNG for the image block of @@showcase@@.
TINY_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgaPj/HwAEggJ/59habAAAAABJRU5ErkJggg=="

log = logging.getLogger("peer")


def default_title(text: str) -> str:
    """First 3 words of the first quoted text (or of the whole text), capitalized."""
    text = DIRECTIVE.sub(" ", text)
    quoted = QUOTED.search(text)
    source = quoted.group(1) if quoted else text
    words = [w.strip(string.punctuation) for w in source.split()[:3]]
    words = [w[0].upper() + w[1:].lower() for w in words if w]
    return " ".join(words) if words else "Untitled"


def split_in_two(text: str) -> list[str]:
    """Split on a character boundary so a client has to join the chunks."""
    mid = max(1, len(text) // 2)
    return [text[:mid], text[mid:]]


def error_code(exc: BaseException) -> int:
    return exc.code if isinstance(exc, RequestError) else -32603


def error_message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, RequestError) else f"{type(exc).__name__}: {exc}"


@dataclass
class Turn:
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Session:
    cwd: str
    turn: Turn | None = None


class PeerAgent:
    def __init__(self, writer: asyncio.StreamWriter, fail_initialize: bool) -> None:
        self._writer = writer
        self._fail_initialize = fail_initialize
        self._initialized = False
        self._sessions: dict[str, Session] = {}
        self._prompts = 0
        self._conn: Any = None

    def on_connect(self, conn: Any) -> None:
        self._conn = conn

    # ----- raw stdout -----------------------------------------------------
    async def _write_raw_lines(self, lines: list[str]) -> None:
        """Write whole lines on the SDK's own stdout writer.

        The SDK writes every message with a single write() on this same writer
        and its sends have completed (written and drained) before we get here,
        so these lines can neither split an SDK message nor overtake one.
        """
        self._writer.write("".join(line + "\n" for line in lines).encode("utf-8"))
        await self._writer.drain()

    async def _write_raw_message(self, message: dict[str, Any]) -> None:
        await self._write_raw_lines([json.dumps(message, separators=(",", ":"), ensure_ascii=False)])

    # ----- ACP agent methods ---------------------------------------------
    async def initialize(self, protocol_version: int, **kwargs: Any) -> InitializeResponse:
        if self._fail_initialize:
            raise RequestError.internal_error({"details": "initialize refused on purpose (--fail-initialize)"})
        self._initialized = True
        return InitializeResponse(
            protocol_version=1,  # ACP v1, whatever version the client asked for
            agent_capabilities=AgentCapabilities(load_session=False),
            auth_methods=[],
            agent_info=Implementation(name=AGENT_NAME, version=AGENT_VERSION),
        )

    def _require_initialized(self, method: str) -> None:
        if not self._initialized:
            raise RequestError(-32600, f"Invalid request: ACP connection must be initialized before '{method}'")

    async def new_session(self, cwd: str, **kwargs: Any) -> NewSessionResponse:
        self._require_initialized("session/new")
        session_id = f"peer-{secrets.token_hex(8)}"
        self._sessions[session_id] = Session(cwd=cwd)
        return NewSessionResponse(session_id=session_id)

    async def authenticate(self, method_id: str, **kwargs: Any) -> None:
        raise RequestError(-32602, f"Invalid params: unknown auth method '{method_id}'")

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        session = self._sessions.get(session_id)
        if session is not None and session.turn is not None:
            session.turn.cancelled.set()

    async def prompt(self, prompt: list[Any], session_id: str, **kwargs: Any) -> PromptResponse | None:
        self._require_initialized("session/prompt")
        self._prompts += 1
        count = self._prompts
        session = self._sessions.get(session_id)
        if session is None:
            raise RequestError(-32002, "Resource not found", {"sessionId": session_id})
        turn = Turn()
        session.turn = turn
        try:
            return await self._run_turn(session_id, session, turn, prompt, count)
        except ConnectionError:
            # The client went away (stdin closed) in the middle of the turn. The
            # SDK is shutting down and cancels this task; wait for that instead
            # of failing the request, which would only log a traceback.
            await asyncio.get_running_loop().create_future()
            raise
        finally:
            if session.turn is turn:
                session.turn = None

    async def _run_turn(self, session_id: str, session: Session, turn: Turn, prompt: list[Any], count: int):
        text = "".join(block.text for block in prompt if getattr(block, "type", None) == "text")
        directives = [(m.group(1), m.group(2) or "") for m in DIRECTIVE.finditer(text)]
        if os.environ.get("PEER_DEBUG"):
            log.info("prompt #%d in %s: directives %s", count, session_id, [d[0] for d in directives])

        parts: list[str] = []
        extra_field = False
        for name, arg in directives:
            if name == "reply":
                parts.append(arg)
            elif name == "thought":
                await self._conn.session_update(session_id, acp.update_agent_thought_text(arg))
            elif name == "echo":
                parts.append(text)
            elif name == "pid":
                parts.append(str(os.getpid()))
            elif name == "count":
                parts.append(str(count))
            elif name == "cwd":
                parts.append(session.cwd)
            elif name in ("permission", "permission_noallow"):
                parts.append(await self._ask_permission(session_id, allow=name == "permission"))
            elif name == "write":
                parts.append(await self._write_file(session_id, arg))
            elif name == "read":
                parts.append(await self._read_file(session_id, arg))
            elif name == "terminal":
                parts.append(await self._create_terminal(session_id))
            elif name == "slow":
                try:
                    delay = max(0, int(arg.strip())) / 1000
                except ValueError:
                    delay = 0
                try:
                    await asyncio.wait_for(turn.cancelled.wait(), timeout=delay)
                except asyncio.TimeoutError:
                    pass
            elif name == "hang":
                # Never answer, whatever the client sends; the SDK cancels this
                # task when stdin closes, and the process then exits.
                await asyncio.get_running_loop().create_future()
            elif name == "crash":
                await self._conn.session_update(session_id, acp.update_agent_message_text("partial"))
                sys.stderr.write("peer crashing on purpose\n")
                sys.stderr.flush()
                os._exit(3)
            elif name == "junk":
                await self._write_raw_lines(JUNK_LINES)
            elif name == "unknown_update":
                await self._write_raw_message({
                    "jsonrpc": "2.0",
                    "method": "session/update",
                    "params": {
                        "sessionId": session_id,
                        "update": {
                            "sessionUpdate": "peer_custom_kind",
                            "peerField": "peer value",
                            "peerNested": {"level": 1, "items": ["a", "b"]},
                        },
                    },
                })
                extra_field = True
            elif name == "showcase":
                await self._showcase(session_id)
            elif name == "all_kinds":
                await self._all_kinds(session_id)
            else:
                log.warning("ignoring unknown directive @@%s@@", name)
            if turn.cancelled.is_set():
                break

        if turn.cancelled.is_set():
            return PromptResponse(stop_reason="cancelled")

        if any(name in REPLY_DIRECTIVES for name, _ in directives):
            reply = "\n".join(parts)
        else:
            reply = default_title(text)
        for index, chunk in enumerate(split_in_two(reply)):
            if index == 0 and extra_field:
                # The SDK's models drop unknown fields, so this chunk goes out raw.
                await self._write_raw_message({
                    "jsonrpc": "2.0",
                    "method": "session/update",
                    "params": {
                        "sessionId": session_id,
                        "update": {
                            "sessionUpdate": "agent_message_chunk",
                            "content": {"type": "text", "text": chunk},
                            "peerUnknownField": {"note": "clients must ignore this"},
                        },
                    },
                })
            else:
                await self._conn.session_update(session_id, acp.update_agent_message_text(chunk))
        return PromptResponse(stop_reason="end_turn")

    # ----- client calls -----------------------------------------------------
    async def _ask_permission(self, session_id: str, allow: bool) -> str:
        if allow:
            options = [
                PermissionOption(option_id="allow-once", name="Allow once", kind="allow_once"),
                PermissionOption(option_id="reject-once", name="Reject", kind="reject_once"),
            ]
        else:
            options = [
                PermissionOption(option_id="reject-once", name="Reject", kind="reject_once"),
                PermissionOption(option_id="reject-always", name="Reject always", kind="reject_always"),
            ]
        tool_call = ToolCallUpdate(tool_call_id="perm-1", title="Run a command", kind="execute", status="pending")
        try:
            response = await self._conn.request_permission(session_id=session_id, tool_call=tool_call, options=options)
        except ConnectionError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is reported in the reply
            return f"permission:error:{error_code(exc)}"
        if isinstance(response.outcome, DeniedOutcome):
            return "permission:cancelled"
        return f"permission:selected:{response.outcome.option_id}"

    async def _write_file(self, session_id: str, path: str) -> str:
        try:
            await self._conn.write_text_file(session_id=session_id, path=path, content="peer wrote this")
        except ConnectionError:
            raise
        except Exception as exc:  # noqa: BLE001
            return f"write:error:{error_code(exc)}:{error_message(exc)}"
        return "write:ok"

    async def _read_file(self, session_id: str, path: str) -> str:
        try:
            response = await self._conn.read_text_file(session_id=session_id, path=path)
        except ConnectionError:
            raise
        except Exception as exc:  # noqa: BLE001
            return f"read:error:{error_code(exc)}:{error_message(exc)}"
        return f"read:ok:{response.content}"

    async def _create_terminal(self, session_id: str) -> str:
        try:
            await self._conn.create_terminal(session_id=session_id, command="echo", args=["hi"])
        except ConnectionError:
            raise
        except Exception as exc:  # noqa: BLE001
            return f"terminal:error:{error_code(exc)}"
        return "terminal:ok"

    async def _showcase(self, session_id: str) -> None:
        send = self._conn.session_update
        await send(session_id, acp.update_agent_thought_text("Planning the showcase"))
        await send(session_id, acp.update_plan([
            acp.plan_entry("Read the file", priority="high", status="in_progress"),
            acp.plan_entry("Summarize it", priority="medium", status="pending"),
        ]))
        await send(session_id, acp.start_tool_call(
            "tc-1", "Read file", kind="read", status="pending", raw_input={"path": "/tmp/x"}
        ))
        await send(session_id, acp.update_tool_call("tc-1", status="completed", raw_output={"ok": True}))
        await send(session_id, acp.update_agent_message(acp.image_block(TINY_PNG, "image/png")))


    async def _all_kinds(self, session_id: str) -> None:
        send = self._conn.session_update
        await send(session_id, acp.update_user_message_text("Show every "))
        await send(session_id, acp.update_user_message_text("kind"))
        await send(session_id, UsageUpdate(
            session_update="usage_update", used=1200, size=200000, cost=Cost(amount=0.25, currency="USD")
        ))
        await send(session_id, update_available_commands([
            AvailableCommand(name="web", description="Search the web", input=AvailableCommandInput(hint="query")),
            AvailableCommand(name="test", description="Run the tests"),
        ]))
        await send(session_id, update_current_mode("code"))
        await send(session_id, ConfigOptionUpdate(
            session_update="config_option_update",
            config_options=[SessionConfigOptionSelect(
                id="model", name="Model", type="select", current_value="fast",
                options=[
                    SessionConfigSelectOption(value="fast", name="Fast"),
                    SessionConfigSelectOption(value="smart", name="Smart"),
                ],
            )],
        ))
        await send(session_id, SessionInfoUpdate(
            session_update="session_info_update", title="Peer showcase session", updated_at="2026-02-01T12:00:00Z"
        ))
        await send(session_id, UsageUpdate(
            session_update="usage_update", used=1800, size=200000, cost=Cost(amount=0.75, currency="USD")
        ))


async def serve(fail_initialize: bool) -> None:
    reader, writer = await acp.stdio_streams(limit=50 * 1024 * 1024)
    agent = PeerAgent(writer, fail_initialize)
    # run_agent(agent, input_stream=<writer to the client>, output_stream=<reader from the client>)
    await acp.run_agent(agent, writer, reader)


def main(argv: list[str]) -> int:
    flags = set(argv)
    unknown = flags - {"--fail-initialize", "--exit-on-start", "--banner", "--stderr-noise"}
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="[peer-python] %(levelname)s %(message)s")
    if unknown:
        sys.stderr.write(f"peer: unknown flags {sorted(unknown)}\n")
        return 64
    if "--exit-on-start" in flags:
        sys.stderr.write("peer exiting at start\n")
        sys.stderr.flush()
        return 2
    if "--stderr-noise" in flags:
        sys.stderr.write("".join(line + "\n" for line in NOISE_LINES))
        sys.stderr.flush()
    if "--banner" in flags:
        sys.stdout.write("".join(line + "\n" for line in BANNER_LINES))
        sys.stdout.flush()
    asyncio.run(serve("--fail-initialize" in flags))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
