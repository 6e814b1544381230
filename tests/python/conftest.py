"""Fixtures: a fresh store, a writable copy of the reference fixture store, a small session."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Iterator

import pytest
from support import PEER, PEER_PYTHON, copy_fixture_store

import agentsession as ags


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ags.Store]:
    with ags.Store(tmp_path / "sessions") as s:
        yield s


@pytest.fixture
def fixture_store(tmp_path: Path) -> Iterator[ags.Store]:
    with ags.Store(copy_fixture_store(tmp_path / "mitto-sessions")) as s:
        yield s


@pytest.fixture
def session(store: ags.Store) -> str:
    """A session with a prompt and an answer."""
    store.create("s1", "agent", "/work")
    store.append_events(
        "s1",
        [
            ("user_prompt", {"message": "hello"}),
            ("agent_message", {"text": "hi there"}),
        ],
    )
    return "s1"


@pytest.fixture
def peer() -> Iterator[str]:
    """The ACP test agent's command line; the auxiliary session is shut down around the test."""
    if not PEER_PYTHON.exists():
        # The project's test command sets AGS_REQUIRE_PEERS: a missing peer fails there.
        if os.environ.get("AGS_REQUIRE_PEERS"):
            pytest.fail("ACP test peers not installed; run `bash tests/peers/setup.sh`")
        pytest.skip("ACP test peers not installed; run `bash tests/peers/setup.sh`")
    ags.auxiliary.shutdown()
    yield shlex.join([str(PEER_PYTHON), str(PEER)])
    ags.auxiliary.set_update_observer(None)
    ags.auxiliary.shutdown()
