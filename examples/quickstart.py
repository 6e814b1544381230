"""agentsession from Python: record a session, read it back, queue a message, search, export.

    python examples/quickstart.py [STORE_DIR]

Writes to STORE_DIR (default: a temporary directory).
"""

import sys
import tempfile

import agentsession as ags


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="agentsession-")
    with ags.Store(path) as store:
        # Record a short conversation.
        rec = ags.Recorder(store)
        rec.start("my-agent", "/home/me/project", acp_command="my-agent --acp")
        rec.record_user_prompt("Why does the parser test fail?")
        rec.record_tool_call("call-1", "Run the tests", "completed", kind="execute", raw_input={"command": "make test"})
        rec.record_agent_message("The parser drops the last line when it has no newline. Fixed.")
        sid = rec.session_id
        store.update_metadata(sid, name="Parser fix")

        # Read it back.
        print(store.metadata(sid))
        for event in store.events(sid):
            print(f"  #{event.seq} {event.type:16} {event.timestamp:%H:%M:%S} {event.data}")
        print("last reply:", ags.last_agent_message(store.events(sid)))

        # A message typed while the agent is busy, and the suggestions shown after a reply.
        queue = store.queue(sid)
        queue.add("Also add a regression test", client_id="cli")
        store.action_buttons(sid).set([ags.ActionButton("Thanks", "Thanks, that's all")], for_event_seq=4)
        print("queued:", [m.message for m in queue.list()])

        # Search every session, export this one.
        for hit in store.search("newline"):
            print("hit:", hit.session_id, hit.seq, hit.field, "|", hit.snippet)
        markdown = store.export(sid, "md")
        print(markdown.splitlines()[0])

        rec.end("user_quit")
        print(f"store at {store.path}, session {sid}: {store.metadata(sid).status}")


if __name__ == "__main__":
    main()
