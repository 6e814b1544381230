"""One round of Store.append_event in the default mode, for benches/faces.rs.
Usage: python benches/python_append.py STORE_DIR SESSION_ID N DATA_JSON
Creates the session, appends once untimed, then times N appends of the data
(given as JSON text, passed to append_event as the dict it decodes to) and
prints the µs per append."""

import json
import sys
import time

import agentsession as ags

store = ags.Store(sys.argv[1])
sid, n, data = sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
store.create(sid, "bench", "/bench")
store.append_event(sid, "agent_message", data)
t0 = time.perf_counter()
for _ in range(n):
    store.append_event(sid, "agent_message", data)
print(f"{(time.perf_counter() - t0) / n * 1e6:.3f}")
