"""The PostgreSQL store from Python: `ags.Store("postgresql://…")` on the test
server (AGS_PG_URL, started by scripts/pg.sh), in a database of its own."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from support import copy_fixture_store

import agentsession as ags

URL = os.environ.get("AGS_PG_URL", "")
TCP_URL = os.environ.get("AGS_PG_URL_TCP", "")

if not URL:
    if os.environ.get("AGS_REQUIRE_PG") == "1":
        raise RuntimeError("AGS_REQUIRE_PG=1 but AGS_PG_URL is not set")
    pytest.skip("AGS_PG_URL not set: no PostgreSQL test server", allow_module_level=True)


def with_database(url: str, name: str) -> str:
    """`url` with its database name replaced by `name`."""
    return re.sub(r"^(postgres(?:ql)?://[^/]*)/[^?]*", rf"\g<1>/{name}", url)


def psql(sql: str) -> None:
    subprocess.run(["psql", URL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


@pytest.fixture
def url() -> Iterator[str]:
    name = f"ags_py_{uuid.uuid4().hex[:12]}"
    psql(f"CREATE DATABASE {name}")
    yield with_database(URL, name)
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_sessions_events_and_components(url: str) -> None:
    with ags.Store(url) as store:
        assert store.path is None
        assert store.location.startswith("postgresql://")
        store.create("s", "agent", "/w", name="On the server")
        assert store.append_event("s", "agent_message", {"text": "one"}) == 1
        assert store.append_events("s", [("future_type", [1, {"x": None}]), ("user_prompt", {"message": "hi"})]) == [2, 3]
        assert [e.seq for e in store.events("s")] == [1, 2, 3]
        assert store.events_last("s", 1)[0].data == {"message": "hi"}
        assert "s" in store and store.metadata("s").name == "On the server"
        with pytest.raises(ags.InvalidArgument):
            store.session_dir("s")

        with store.try_acquire_lock("s", "py") as lock:
            assert lock.is_valid()
            with pytest.raises(ags.SessionLocked):
                ags.Store(url).try_acquire_lock("s", "other")
        assert not store.is_locked("s")

        q = store.queue("s")
        first = q.add("first")
        q.add("second")
        assert ags.Store(url).queue("s").pop().id == first.id
        assert [m.message for m in q.list()] == ["second"]

        store.action_buttons("s").set([ags.ActionButton("Go", "Go on")], for_event_seq=3)
        assert [b.label for b in ags.Store(url).action_buttons("s").get()] == ["Go"]

        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
        info = store.save_image("s", png, "image/png")
        assert store.image_data("s", info.id) == png
        with pytest.raises(ags.InvalidArgument, match="image_data"):
            store.image_path("s", info.id)

        hits = list(store.search("ONE"))
        assert [(h.session_id, h.seq) for h in hits] == [("s", 1)]
        assert "one" in store.export("s", "md")
        store.delete("s")
        assert "s" not in store


def test_migrate_round_trip(url: str, tmp_path: Path) -> None:
    source = ags.Store(copy_fixture_store(tmp_path / "from"))
    back = ags.Store(tmp_path / "back")
    with ags.Store(url) as server:
        first = ags.migrate(source, server)
        assert first.sessions == len(source.list()) and first.sessions_created == first.sessions
        assert ags.migrate(source, server).events_copied == 0
        ags.migrate(server, back)
    for meta in source.list():
        sid = meta.session_id
        assert back.metadata(sid).to_dict() == meta.to_dict()
        original = (source.path / sid / "events.jsonl").read_bytes()  # type: ignore[operator]
        assert (back.path / sid / "events.jsonl").read_bytes() == original  # type: ignore[operator]


def test_bad_urls_and_secrets() -> None:
    with pytest.raises(ags.InvalidArgument) as e:
        ags.Store("postgresql://ags:s3cret-word@127.0.0.1:notaport/db")
    assert "s3cret-word" not in str(e.value)
    if TCP_URL:
        wrong = re.sub(r"^(postgresql://[^:]+:)[^@]*@", r"\g<1>not-the-s3cret@", TCP_URL)
        with pytest.raises(OSError) as err:
            ags.Store(wrong)
        assert "not-the-s3cret" not in str(err.value) and "not-the-s3cret" not in repr(err.value)
        assert "127.0.0.1" in str(err.value)
        store = ags.Store(TCP_URL)
        password = re.match(r"^postgresql://[^:]+:([^@]*)@", TCP_URL).group(1)  # type: ignore[union-attr]
        assert password not in repr(store) and password not in store.location
        store.close()
