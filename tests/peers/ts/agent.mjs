#!/usr/bin/env node
// ACP test agent built on the official TypeScript SDK (@agentclientprotocol/sdk 2.4.0).
//
// It speaks ACP v1 over stdin/stdout (one JSON object per line) and logs only
// to stderr. Its behaviour is driven by directives written into the prompt
// text, for example `@@reply:hello@@` or `@@slow:500@@`; see
// tests/peers/README.md. The Python agent in tests/peers/python/agent.py
// behaves identically.
//
// Start with: node tests/peers/ts/agent.mjs [flags]
// Flags: --fail-initialize --exit-on-start --banner --stderr-noise

import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import * as acp from "@agentclientprotocol/sdk";

const AGENT_NAME = "agentsession-test-peer-ts";
const AGENT_VERSION = "1.0.0";

// Directives: @@name@@ or @@name:arg@@; the argument may hold anything but "@@".
const DIRECTIVE = /@@([a-z_]+)(?::([\s\S]*?))?@@/g;
const QUOTED = /"([^"]*)"/;
// Directives whose outcome is text for the reply; without any of them the
// reply is the default title.
const REPLY_DIRECTIVES = new Set([
  "reply", "echo", "pid", "count", "cwd", "permission", "permission_noallow",
  "write", "read", "terminal",
]);
// ASCII punctuation, as Python's string.punctuation.
const PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");

// Lines written to stdout, bypassing the SDK, by @@junk@@ and --banner.
const JUNK_LINES = ["this is not json", "{broken", "", "[peer] plain text debug output"];
const BANNER_LINES = ["ACP test peer starting up", "this banner is not JSON-RPC"];
const NOISE_LINES = ["peer noise: starting", "peer noise: warming up", "peer noise: ready"];

// A valid 1x1 RGBA PNG for the image block of @@showcase@@.
const TINY_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgaPj/HwAEggJ/59habAAAAABJRU5ErkJggg==";

const log = (...args) => console.error("[peer-ts]", ...args);

function stripPunctuation(word) {
  const chars = Array.from(word);
  let start = 0;
  let end = chars.length;
  while (start < end && PUNCTUATION.has(chars[start])) start++;
  while (end > start && PUNCTUATION.has(chars[end - 1])) end--;
  return chars.slice(start, end).join("");
}

// First 3 words of the first quoted text (or of the whole text), capitalized.
function defaultTitle(text) {
  const plain = text.replace(DIRECTIVE, " ");
  const quoted = QUOTED.exec(plain);
  const source = quoted ? quoted[1] : plain;
  const words = source
    .split(/\s+/)
    .filter((w) => w !== "")
    .slice(0, 3)
    .map(stripPunctuation)
    .filter((w) => w !== "")
    .map((w) => {
      const [first, ...rest] = Array.from(w);
      return first.toUpperCase() + rest.join("").toLowerCase();
    });
  return words.length > 0 ? words.join(" ") : "Untitled";
}

// Split on a character (code point) boundary so a client has to join the chunks.
function splitInTwo(text) {
  const chars = Array.from(text);
  const mid = Math.max(1, Math.floor(chars.length / 2));
  return [chars.slice(0, mid).join(""), chars.slice(mid).join("")];
}

const errorCode = (error) => (error instanceof acp.RequestError ? error.code : -32603);
const errorMessage = (error) =>
  error instanceof acp.RequestError ? error.message : `${error?.name ?? "Error"}: ${error?.message ?? error}`;

// ----- stdout ----------------------------------------------------------------
// The SDK writes each message as one chunk through this sink, one at a time,
// and a send resolves only once Node has flushed it. Raw lines are written with
// a single process.stdout.write as well, so they can never split an SDK
// message, and awaiting the SDK's sends first keeps the order.
function writeStdout(data) {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (error) => (error ? reject(error) : resolve()));
  });
}
const stdoutSink = new WritableStream({ write: (chunk) => writeStdout(chunk) });
const writeRawLines = (lines) => writeStdout(lines.map((line) => line + "\n").join(""));
const writeRawMessage = (message) => writeRawLines([JSON.stringify(message)]);

// ----- the agent -------------------------------------------------------------
function buildAgent({ failInitialize }) {
  const sessions = new Map(); // sessionId -> { cwd, turn }
  let prompts = 0;

  const app = acp.agent({ name: AGENT_NAME });

  app.onRequest(acp.methods.agent.initialize, () => {
    if (failInitialize) {
      throw acp.RequestError.internalError({ details: "initialize refused on purpose (--fail-initialize)" });
    }
    return {
      protocolVersion: 1, // ACP v1, whatever version the client asked for
      agentCapabilities: { loadSession: false },
      authMethods: [],
      agentInfo: { name: AGENT_NAME, version: AGENT_VERSION },
    };
  });

  app.onRequest(acp.methods.agent.session.new, ({ params }) => {
    const sessionId = `peer-${randomBytes(8).toString("hex")}`;
    sessions.set(sessionId, { cwd: params.cwd, turn: null });
    return { sessionId };
  });

  app.onRequest(acp.methods.agent.authenticate, ({ params }) => {
    throw new acp.RequestError(-32602, `Invalid params: unknown auth method '${params.methodId}'`);
  });

  app.onRequest(acp.methods.agent.session.prompt, async ({ params, client, signal }) => {
    prompts += 1;
    const count = prompts;
    const session = sessions.get(params.sessionId);
    if (!session) {
      throw acp.RequestError.sessionNotFound(params.sessionId);
    }
    const turn = new Turn();
    session.turn = turn;
    // The connection closing (stdin closed) ends any wait of this turn.
    const onAbort = () => turn.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await runTurn(client, params.sessionId, session, turn, params.prompt, count);
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (session.turn === turn) session.turn = null;
    }
  });

  app.onNotification(acp.methods.agent.session.cancel, ({ params }) => {
    sessions.get(params.sessionId)?.turn?.cancel();
  });

  return app;
}

class Turn {
  cancelled = false;
  #waiters = new Set();
  #abortWaiters = new Set();

  cancel() {
    this.cancelled = true;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  abort() {
    this.cancel();
    for (const wake of this.#abortWaiters) wake();
    this.#abortWaiters.clear();
  }

  // Resolves after `ms` milliseconds, or earlier on session/cancel.
  sleep(ms) {
    if (this.cancelled) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#waiters.add(wake);
    });
  }

  // Never resolves on its own and ignores session/cancel; only the connection
  // closing releases it (so the process can exit when stdin closes).
  hang() {
    return new Promise((resolve) => this.#abortWaiters.add(resolve));
  }
}

async function runTurn(client, sessionId, session, turn, prompt, count) {
  const text = prompt
    .filter((block) => block.type === "text")
    .map((block) => block.text)
    .join("");
  const directives = [...text.matchAll(DIRECTIVE)].map((m) => [m[1], m[2] ?? ""]);
  if (process.env.PEER_DEBUG) {
    log(`prompt #${count} in ${sessionId}: directives ${JSON.stringify(directives.map((d) => d[0]))}`);
  }

  const update = (u) => client.notify(acp.methods.client.session.update, { sessionId, update: u });
  const parts = [];
  let extraField = false;

  for (const [name, arg] of directives) {
    switch (name) {
      case "reply":
        parts.push(arg);
        break;
      case "thought":
        await update({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text: arg } });
        break;
      case "echo":
        parts.push(text);
        break;
      case "pid":
        parts.push(String(process.pid));
        break;
      case "count":
        parts.push(String(count));
        break;
      case "cwd":
        parts.push(session.cwd);
        break;
      case "permission":
      case "permission_noallow":
        parts.push(await askPermission(client, sessionId, name === "permission"));
        break;
      case "write":
        parts.push(await writeFile(client, sessionId, arg));
        break;
      case "read":
        parts.push(await readFile(client, sessionId, arg));
        break;
      case "terminal":
        parts.push(await createTerminal(client, sessionId));
        break;
      case "slow": {
        const ms = /^\d+$/.test(arg.trim()) ? Number(arg.trim()) : 0;
        await turn.sleep(ms);
        break;
      }
      case "hang":
        await turn.hang();
        return new Promise(() => {});
      case "crash":
        await update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: "partial" } });
        process.stderr.write("peer crashing on purpose\n", () => process.exit(3));
        return new Promise(() => {});
      case "junk":
        await writeRawLines(JUNK_LINES);
        break;
      case "unknown_update":
        // The SDK does not validate what an agent sends, but this is written
        // raw anyway, as the Python agent does.
        await writeRawMessage({
          jsonrpc: "2.0",
          method: "session/update",
          params: {
            sessionId,
            update: {
              sessionUpdate: "peer_custom_kind",
              peerField: "peer value",
              peerNested: { level: 1, items: ["a", "b"] },
            },
          },
        });
        extraField = true;
        break;
      case "showcase":
        await showcase(update);
        break;
      case "all_kinds":
        await allKinds(update);
        break;
      default:
        log(`ignoring unknown directive @@${name}@@`);
    }
    if (turn.cancelled) break;
  }

  if (turn.cancelled) {
    return { stopReason: "cancelled" };
  }

  const reply = directives.some(([name]) => REPLY_DIRECTIVES.has(name))
    ? parts.join("\n")
    : defaultTitle(text);
  const chunks = splitInTwo(reply);
  for (let i = 0; i < chunks.length; i++) {
    const u = { sessionUpdate: "agent_message_chunk", content: { type: "text", text: chunks[i] } };
    if (i === 0 && extraField) {
      // A field no ACP schema knows; the SDK sends it through unchanged.
      u.peerUnknownField = { note: "clients must ignore this" };
    }
    await update(u);
  }
  return { stopReason: "end_turn" };
}

async function askPermission(client, sessionId, allow) {
  const options = allow
    ? [
        { optionId: "allow-once", name: "Allow once", kind: "allow_once" },
        { optionId: "reject-once", name: "Reject", kind: "reject_once" },
      ]
    : [
        { optionId: "reject-once", name: "Reject", kind: "reject_once" },
        { optionId: "reject-always", name: "Reject always", kind: "reject_always" },
      ];
  let response;
  try {
    response = await client.request(acp.methods.client.session.requestPermission, {
      sessionId,
      toolCall: { toolCallId: "perm-1", title: "Run a command", kind: "execute", status: "pending" },
      options,
    });
  } catch (error) {
    return `permission:error:${errorCode(error)}`;
  }
  const outcome = response?.outcome;
  if (outcome?.outcome === "cancelled") return "permission:cancelled";
  if (outcome?.outcome === "selected" && typeof outcome.optionId === "string") {
    return `permission:selected:${outcome.optionId}`;
  }
  return "permission:error:-32603";
}

async function writeFile(client, sessionId, path) {
  try {
    await client.request(acp.methods.client.fs.writeTextFile, { sessionId, path, content: "peer wrote this" });
  } catch (error) {
    return `write:error:${errorCode(error)}:${errorMessage(error)}`;
  }
  return "write:ok";
}

async function readFile(client, sessionId, path) {
  let response;
  try {
    response = await client.request(acp.methods.client.fs.readTextFile, { sessionId, path });
  } catch (error) {
    return `read:error:${errorCode(error)}:${errorMessage(error)}`;
  }
  if (typeof response?.content !== "string") {
    return "read:error:-32603:response has no text content";
  }
  return `read:ok:${response.content}`;
}

async function createTerminal(client, sessionId) {
  try {
    const response = await client.request(acp.methods.client.terminal.create, {
      sessionId,
      command: "echo",
      args: ["hi"],
    });
    if (typeof response?.terminalId !== "string") return "terminal:error:-32603";
  } catch (error) {
    return `terminal:error:${errorCode(error)}`;
  }
  return "terminal:ok";
}

async function showcase(update) {
  await update({ sessionUpdate: "agent_thought_chunk", content: { type: "text", text: "Planning the showcase" } });
  await update({
    sessionUpdate: "plan",
    entries: [
      { content: "Read the file", priority: "high", status: "in_progress" },
      { content: "Summarize it", priority: "medium", status: "pending" },
    ],
  });
  await update({
    sessionUpdate: "tool_call",
    toolCallId: "tc-1",
    title: "Read file",
    kind: "read",
    status: "pending",
    rawInput: { path: "/tmp/x" },
  });
  await update({ sessionUpdate: "tool_call_update", toolCallId: "tc-1", status: "completed", rawOutput: { ok: true } });
  await update({ sessionUpdate: "agent_message_chunk", content: { type: "image", data: TINY_PNG, mimeType: "image/png" } });
}

async function allKinds(update) {
  await update({ sessionUpdate: "user_message_chunk", content: { type: "text", text: "Show every " } });
  await update({ sessionUpdate: "user_message_chunk", content: { type: "text", text: "kind" } });
  await update({ sessionUpdate: "usage_update", used: 1200, size: 200000, cost: { amount: 0.25, currency: "USD" } });
  await update({
    sessionUpdate: "available_commands_update",
    availableCommands: [
      { name: "web", description: "Search the web", input: { hint: "query" } },
      { name: "test", description: "Run the tests" },
    ],
  });
  await update({ sessionUpdate: "current_mode_update", currentModeId: "code" });
  await update({
    sessionUpdate: "config_option_update",
    configOptions: [
      {
        id: "model",
        name: "Model",
        type: "select",
        currentValue: "fast",
        options: [
          { value: "fast", name: "Fast" },
          { value: "smart", name: "Smart" },
        ],
      },
    ],
  });
  await update({ sessionUpdate: "session_info_update", title: "Peer showcase session", updatedAt: "2026-02-01T12:00:00Z" });
  await update({ sessionUpdate: "usage_update", used: 1800, size: 200000, cost: { amount: 0.75, currency: "USD" } });
}

// ----- start-up --------------------------------------------------------------
async function main(argv) {
  const flags = new Set(argv);
  const known = new Set(["--fail-initialize", "--exit-on-start", "--banner", "--stderr-noise"]);
  const unknown = [...flags].filter((f) => !known.has(f));
  if (unknown.length > 0) {
    process.stderr.write(`peer: unknown flags ${JSON.stringify(unknown)}\n`, () => process.exit(64));
    return;
  }
  if (flags.has("--exit-on-start")) {
    process.stderr.write("peer exiting at start\n", () => process.exit(2));
    return;
  }
  if (flags.has("--stderr-noise")) {
    process.stderr.write(NOISE_LINES.map((line) => line + "\n").join(""));
  }
  if (flags.has("--banner")) {
    await writeRawLines(BANNER_LINES);
  }
  // A client that goes away mid-write must not crash the peer with EPIPE.
  process.stdout.on("error", () => process.exit(0));

  const stream = acp.ndJsonStream(stdoutSink, Readable.toWeb(process.stdin));
  const connection = buildAgent({ failInitialize: flags.has("--fail-initialize") }).connect(stream);
  await connection.closed;
  // stdin is closed: leave with status 0 once pending writes are flushed,
  // even if a turn (such as @@hang@@) is still pending.
  process.exitCode = 0;
  setTimeout(() => process.exit(0), 200).unref();
}

main(process.argv.slice(2)).catch((error) => {
  log("fatal:", error);
  process.exit(1);
});
