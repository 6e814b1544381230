"""Threads: several appending and reading at once, and the GIL released during long reads."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Callable

import agentsession as ags


def run_threads(targets: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []

    def wrap(f: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                f()
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        return run

    threads = [threading.Thread(target=wrap(f)) for f in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


def test_appending_queueing_and_reading_at_once(tmp_path: Path) -> None:
    store = ags.Store(tmp_path)
    store.create("t", "a", "/w")
    other = ags.Store(tmp_path)  # a second handle on the same directory
    rec = ags.Recorder(store, "t")
    rec.resume()
    writers, per_writer = 4, 50

    def writer(n: int) -> Callable[[], None]:
        handle = store if n % 2 else other

        def run() -> None:
            for i in range(per_writer):
                if i % 3 == 0:
                    handle.append_events("t", [("agent_message", {"text": f"{n}-{i}a"}), ("agent_message", {"text": f"{n}-{i}b"})])
                elif i % 3 == 1:
                    rec.record_agent_message(f"{n}-{i}")
                else:
                    handle.append_event("t", "agent_message", {"text": f"{n}-{i}"})

        return run

    def reader() -> None:
        seen = 0
        for _ in range(40):
            events = other.events("t", strict=True)
            seqs = [e.seq for e in events]
            assert seqs == list(range(1, len(seqs) + 1))
            assert len(seqs) >= seen  # the log never shrinks
            seen = len(seqs)
            store.events_last("t", 5, strict=True)
            store.metadata("t")
            store.list()

    queued: list[str] = []

    def queuer() -> None:
        q = other.queue("t")
        for i in range(30):
            queued.append(q.add(f"queued {i}").id)
            if i % 3 == 0:
                q.pop()

    run_threads([writer(n) for n in range(writers)] + [reader, reader, queuer])
    assert len(store.queue("t")) == 20 and len(set(queued)) == 30
    per_thread = sum(2 if i % 3 == 0 else 1 for i in range(per_writer))
    events = store.events("t", strict=True)
    assert [e.seq for e in events] == list(range(1, writers * per_thread + 1))
    texts = [e.data["text"] for e in events]
    assert len(set(texts)) == len(texts)
    assert store.metadata("t").event_count == len(events)


def test_reads_release_the_gil(tmp_path: Path) -> None:
    """Another Python thread keeps running while one thread reads a large session.

    With a switch interval far longer than the read, a thread holding the GIL
    is never made to give it up: the main thread can only run inside the
    reader's call if the call itself releases the GIL. The main thread gives
    the GIL back after every tick, so the reader can finish.
    """
    store = ags.Store(tmp_path)
    store.create("big", "a", "/w")
    payload = {"text": "x" * 400, "more": {"k": list(range(20))}}
    for _ in range(8):
        store.append_events("big", [("agent_message", payload)] * 5000)
    inside: list[float] = []
    done = threading.Event()

    def read() -> None:
        inside.append(time.perf_counter())
        events = store.events("big")
        inside.append(time.perf_counter())
        assert len(events) == 40_000
        done.set()

    ticks: list[float] = []
    old = sys.getswitchinterval()
    sys.setswitchinterval(30)
    try:
        reader = threading.Thread(target=read)
        reader.start()
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0)
        reader.join()
    finally:
        sys.setswitchinterval(old)
    start, end = inside
    during = [t for t in ticks if start < t < end]
    assert len(during) > 10, f"the main thread ran {len(during)} times during the read"
