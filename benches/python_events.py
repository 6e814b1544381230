"""Loading a 100,000-event session: agentsession vs a json.loads-per-line loop.

Run with the package installed: python benches/python_events.py [N]
Prints each way's best-of-5 CPU time (process time: steadier than wall time
on a busy machine; every way runs on the calling thread) and its ratio to the
json.loads loop (orjson too when it is installed).
"""

import gc
import json
import sys
import tempfile
import time

import agentsession as ags


def make_session(store: ags.Store, n: int) -> str:
    store.create("bench", "bench-agent", "/home/bench/project")
    kinds = [
        ("user_prompt", lambda i: {"message": f"Please look at file number {i} and fix the failing test."}),
        ("agent_thought", lambda i: {"text": "I should read the file first, then run the tests again. " * 2}),
        (
            "tool_call",
            lambda i: {
                "tool_call_id": f"call_{i:06d}",
                "title": "Run tests",
                "status": "completed",
                "kind": "execute",
                "raw_input": {"command": "go test ./...", "timeout_ms": 5000, "env": {"LC_ALL": "C"}},
                "raw_output": {"exit_code": 0, "stdout": "ok  \tpkg\t0.12s"},
            },
        ),
        ("tool_call_update", lambda i: {"tool_call_id": f"call_{i:06d}", "status": "completed"}),
        ("agent_message", lambda i: {"text": f"Done: the test in file {i} passes now. I changed two lines."}),
    ]
    batch = []
    for i in range(n):
        t, f = kinds[i % len(kinds)]
        batch.append((t, f(i)))
        if len(batch) == 10_000:
            store.append_events("bench", batch)
            batch = []
    if batch:
        store.append_events("bench", batch)
    return "bench"


def best(f, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        t0 = time.process_time()
        f()
        times.append(time.process_time() - t0)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp, ags.Store(tmp) as store:
        sid = make_session(store, n)
        path = store.path / sid / "events.jsonl"

        def json_loop():
            with open(path, "rb") as f:
                return [json.loads(line) for line in f]

        def events():
            return store.events(sid)

        def events_and_data():
            evs = store.events(sid)
            for e in evs:
                e.data
            return evs

        def events_data_time():
            evs = store.events(sid)
            for e in evs:
                e.data
                e.timestamp
            return evs

        assert len(events()) == n
        base = best(json_loop)
        rows = [("json.loads per line", base)]
        try:
            import orjson

            def orjson_loop():
                with open(path, "rb") as f:
                    return [orjson.loads(line) for line in f]

            rows.append(("orjson.loads per line", best(orjson_loop)))
        except ImportError:
            pass
        rows.append(("store.events()", best(events)))
        rows.append(("store.events() + every .data", best(events_and_data)))
        rows.append(("store.events() + every .data and .timestamp", best(events_data_time)))
        print(f"{n} events, {path.stat().st_size / 1e6:.1f} MB")
        for name, t in rows:
            print(f"{name:45s} {t * 1000:8.1f} ms   {base / t:5.2f}x json.loads")


if __name__ == "__main__":
    main()
