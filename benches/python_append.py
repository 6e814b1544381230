"""Time of Store.append_event in the default mode, 200-byte events: the Python
face's cost over the core's. Usage: python benches/python_append.py STORE_DIR N
Prints the best-of-3 µs per append."""

import sys
import time

import agentsession as ags

store = ags.Store(sys.argv[1])
n = int(sys.argv[2])
data = {"text": "x" * 99}
best = float("inf")
for r in range(3):
    sid = f"p{r}"
    store.create(sid, "bench", "/bench")
    t0 = time.perf_counter()
    for _ in range(n):
        store.append_event(sid, "agent_message", data)
    best = min(best, (time.perf_counter() - t0) / n * 1e6)
print(f"{best:.3f}")
