"""The ``agentsession`` command: list, show, search, export and follow
sessions, look at locks, queues and usage, and copy a whole store into
another, from a terminal.

Exit status: 0 on success, 1 when the library reports an error (a missing
session, a corrupt file…), 2 for bad arguments, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, TextIO

from . import Error, Event, MigrateReport, Store, migrate


def _open_store(args: argparse.Namespace) -> Store:
    if args.mitto:
        return Store.mitto()
    return Store(args.store)


def _one_line(text: str, width: int = 100) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def describe(event: Event) -> str:
    """One readable line (or block) for an event, as `show` and `tail` print it."""
    d = event.data if isinstance(event.data, dict) else {}
    kind = event.type
    if kind == "user_prompt":
        images = d.get("images") or []
        extra = f"  [{len(images)} image(s)]" if images else ""
        return f"USER: {d.get('message', '')}{extra}"
    if kind == "agent_message":
        return f"AGENT: {d.get('text', '')}"
    if kind == "agent_thought":
        return f"  (thinking) {_one_line(d.get('text', ''))}"
    if kind == "tool_call":
        return f"  [tool] {d.get('title', '')} ({d.get('status', '')})"
    if kind == "tool_call_update":
        changes = ", ".join(f"{k}={d[k]}" for k in ("status", "title") if k in d)
        return f"  [tool {d.get('tool_call_id', '')}] {changes or 'updated'}"
    if kind == "plan":
        marks = {"completed": "x", "in_progress": "~"}
        items = [f"[{marks.get(e.get('status'), ' ')}] {e.get('title', '')}" for e in d.get("entries", [])]
        return "  plan: " + "; ".join(items)
    if kind == "permission":
        return f"  [permission] {d.get('title', '')} -> {d.get('outcome', '')}"
    if kind == "error":
        code = f" ({d['code']})" if d.get("code") else ""
        return f"  ERROR{code}: {d.get('message', '')}"
    if kind in ("file_read", "file_write"):
        return f"  [{kind.replace('_', ' ')}] {d.get('path', '')} ({d.get('size', 0)} bytes)"
    if kind == "session_start":
        return f"-- session started with {d.get('acp_server', '')} in {d.get('working_dir', '')}"
    if kind == "session_end":
        return f"-- session ended: {d.get('reason', '')}"
    return f"  [{kind}] {_one_line(json.dumps(event.data, ensure_ascii=False))}"


def _print_event(event: Event, out: TextIO) -> None:
    stamp = event.timestamp.strftime("%Y-%m-%d %H:%M:%S") if event.timestamp else "-"
    print(f"#{event.seq:<4} {stamp}  {describe(event)}", file=out)


def _cmd_list(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    sessions = store.list()
    if args.json:
        json.dump([m.to_dict() for m in sessions], out, ensure_ascii=False, indent=2)
        print(file=out)
        return
    for m in sorted(sessions, key=lambda m: m.updated_at.timestamp() if m.updated_at else 0, reverse=True):
        updated = m.updated_at.strftime("%Y-%m-%d %H:%M") if m.updated_at else "-"
        print(f"{m.session_id}  {m.status:<9} {m.event_count:>6} events  {updated}  {m.name}", file=out)
    print(f"{len(sessions)} session(s) in {store.location}", file=out)


def _cmd_show(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    meta = store.metadata(args.session_id)
    print(f"{meta.name or meta.session_id}  [{meta.status}]  agent {meta.acp_server}  in {meta.working_dir}", file=out)
    for event in store.events(args.session_id):
        _print_event(event, out)


class _Progress:
    """A progress bar over sessions on stderr, drawn only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total == 0:
            return
        width = 30
        filled = width * done // total
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} sessions")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def _cmd_search(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    progress = _Progress(sys.stderr)
    hits = store.search(
        args.text,
        regex=args.regex,
        types=args.type or None,
        status=args.status or None,
        limit=args.limit,
        progress=progress,
    )
    count = 0
    try:
        for hit in hits:
            progress.finish()
            count += 1
            print(f"{hit.session_id} #{hit.seq} {hit.type}.{hit.field}: {hit.snippet}", file=out)
    finally:
        progress.finish()
    print(f"{count} hit(s)", file=out)


def _cmd_export(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    document = store.export(args.session_id, args.format)
    if args.output in (None, "-"):
        out.write(document)
        return
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(document)
    print(f"wrote {args.output}", file=sys.stderr)


def _cmd_tail(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    if args.follow:
        follow = store.follow(args.session_id, after_seq=0, timeout=args.timeout)
        try:
            for event in follow:
                _print_event(event, out)
                out.flush()
        except KeyboardInterrupt:
            follow.stop()
        return
    for event in store.events_last(args.session_id, args.lines):
        _print_event(event, out)


def _cmd_locks(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    held = 0
    for meta in store.list():
        check = store.check_lock_status(meta.session_id)
        if check.holder is None and check.state == "unlocked":
            continue
        held += 1
        print(f"{meta.session_id}  {check.state:<22} {check.message}", file=out)
    print(f"{held} locked session(s)", file=out)


def _cmd_queue(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    if not store.exists(args.session_id):
        store.metadata(args.session_id)  # raises SessionNotFound
    messages = store.queue(args.session_id).list()
    for i, m in enumerate(messages, 1):
        title = f"[{m.title}] " if m.title else ""
        print(f"{i:>2}. {m.id}  {title}{_one_line(m.message, 80)}", file=out)
    print(f"{len(messages)} queued message(s)", file=out)


def _fmt_cost(cost: Dict[str, float]) -> str:
    return ", ".join(f"{v:.4f} {k}" for k, v in sorted(cost.items())) or "-"


def _cmd_usage(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    if args.session_id:
        u = store.usage(args.session_id)
        print(f"{u.session_id}: {u.updates} update(s), peak {u.peak_used} tokens, cost {_fmt_cost(u.cost)}", file=out)
        return
    summary = store.usage_summary()
    rows: List[Any] = summary.by_agent if args.by == "agent" else summary.by_day
    for row in rows:
        print(f"{row.key:<24} {row.sessions:>4} session(s) {row.updates:>6} update(s)  cost {_fmt_cost(row.cost)}", file=out)
    t = summary.total
    print(f"total: {t.sessions} session(s), {t.updates} update(s), cost {_fmt_cost(t.cost)}", file=out)


def _print_report(report: MigrateReport, args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        json.dump(report.to_dict(), out, ensure_ascii=False, indent=2)
        print(file=out)
        return
    for field in ("sessions", "sessions_created", "events_copied", "images_copied", "documents_copied"):
        print(f"{field.replace('_', ' '):<17} {getattr(report, field)}", file=out)
    print(f"{'skipped':<17} {len(report.skipped)}", file=out)
    for s in report.skipped:
        print(f"  {s['session_id']}: {s['error']}", file=out)


def _cmd_migrate(args: argparse.Namespace, out: TextIO) -> None:
    # Opening a directory creates it: a mistyped source would copy nothing.
    if "://" not in args.source and not os.path.isdir(args.source):
        raise FileNotFoundError(errno.ENOENT, "no store directory", args.source)
    with Store(args.source) as source, Store(args.target) as target:
        progress = _Progress(sys.stderr)
        try:
            report = migrate(source, target, progress=progress)
        finally:
            progress.finish()
        print(f"migrated {report.sessions} session(s) from {source.location} to {target.location}", file=sys.stderr)
    _print_report(report, args, out)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the command."""
    p = argparse.ArgumentParser(prog="agentsession", description="Inspect agent sessions.")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--store",
        metavar="PATH_OR_URL",
        help="store directory or postgresql:// URL (default: $AGENTSESSION_DIR or the data dir)",
    )
    where.add_argument("--mitto", action="store_true", help="open the mitto client's store")
    p.set_defaults(own_stores=False)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="list sessions, most recently updated first")
    s.add_argument("--json", action="store_true", help="print the metadata as JSON")
    s.set_defaults(run=_cmd_list)

    s = sub.add_parser("show", help="print a session's conversation")
    s.add_argument("session_id")
    s.set_defaults(run=_cmd_show)

    s = sub.add_parser("search", help="search the text of every session")
    s.add_argument("text")
    s.add_argument("--regex", action="store_true", help="TEXT is a regular expression")
    s.add_argument("--type", action="append", help="only this event type (repeatable)")
    s.add_argument("--status", action="append", help="only sessions with this status (repeatable)")
    s.add_argument("--limit", type=int, help="stop after this many hits")
    s.set_defaults(run=_cmd_search)

    s = sub.add_parser("export", help="export a session as Markdown or HTML")
    s.add_argument("session_id")
    s.add_argument("--format", choices=["md", "html"], default="md")
    s.add_argument("-o", "--output", help="file to write (default: standard output)")
    s.set_defaults(run=_cmd_export)

    s = sub.add_parser("tail", help="print a session's last events, or follow it with -f")
    s.add_argument("session_id")
    s.add_argument("-f", "--follow", action="store_true", help="keep printing events as they are appended")
    s.add_argument("-n", "--lines", type=int, default=10, help="how many events without -f")
    s.add_argument("--timeout", type=float, help="with -f: stop after this many idle seconds")
    s.set_defaults(run=_cmd_tail)

    s = sub.add_parser("locks", help="show which sessions are locked, by whom")
    s.set_defaults(run=_cmd_locks)

    s = sub.add_parser("queue", help="show a session's queued messages")
    s.add_argument("session_id")
    s.set_defaults(run=_cmd_queue)

    s = sub.add_parser("usage", help="token and cost usage, per session or store-wide")
    s.add_argument("session_id", nargs="?")
    s.add_argument("--by", choices=["day", "agent"], default="day")
    s.set_defaults(run=_cmd_usage)

    s = sub.add_parser(
        "migrate",
        help="copy every session of one store into another",
        description="Copies every session (metadata, log, images, queue, suggestions; not locks) of one store "
        "into another. A session already there gets only what it lacks: running it again copies nothing, "
        "and an interrupted run continues where it stopped.",
    )
    s.add_argument("--from", dest="source", metavar="PATH_OR_URL", required=True, help="the store to copy")
    s.add_argument("--to", dest="target", metavar="PATH_OR_URL", required=True, help="the store to copy into")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(run=_cmd_migrate, own_stores=True)
    return p


def main(argv: Optional[Sequence[str]] = None, out: Optional[TextIO] = None) -> int:
    """Runs the command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.own_stores and (args.store or args.mitto):
        parser.error(f"{args.command} names its stores with --from and --to, not --store or --mitto")
    out = out or sys.stdout
    try:
        if args.own_stores:
            args.run(args, out)
        else:
            with _open_store(args) as store:
                args.run(store, args, out)
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("agentsession: interrupted", file=sys.stderr)
        return 130
    except (Error, OSError) as e:
        print(f"agentsession: {e}", file=sys.stderr)
        return 1
    return 0


def _entry() -> None:
    sys.exit(main())


__all__ = ["main", "build_parser", "describe"]
