"""Fixtures: a fresh store, a writable copy of the reference fixture store, a small session."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from support import copy_fixture_store

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
