"""Constants and helpers shared by the tests."""

from __future__ import annotations

import os
import shutil
import stat
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The reference fixtures live beside the repository (`../shared/fixtures`).
FIXTURES = Path(os.environ.get("AGENTSESSION_FIXTURES", REPO / "../shared/fixtures")).resolve()

#: The ACP test agent on the official Python SDK (installed by tests/peers/setup.sh).
PEER_PYTHON = REPO / "tests" / "peers" / ".venv" / "bin" / "python"
PEER = REPO / "tests" / "peers" / "python" / "agent.py"

#: Session ids of the reference fixture store.
COMPLETE = "20260201-120000-fixture01-complete"
NAMED = "20260201-120500-fixture02-named"
LOCKED = "20260201-121000-fixture03-locked"
PRUNED = "20260201-121500-fixture04-pruned"
UNICODE = "20260201-122000-fixture05-unicode"
EMPTY = "20260201-122500-fixture06-empty"
ERROR = "20260201-123000-fixture07-error"


def copy_fixture_store(dest: Path) -> Path:
    """A writable copy of the reference fixture store (the originals are read-only)."""
    shutil.copytree(FIXTURES / "mitto-sessions", dest)
    for root, dirs, files in os.walk(dest):
        for name in dirs + files:
            p = Path(root) / name
            p.chmod(p.stat().st_mode | stat.S_IWUSR)
    return dest



def png(width: int = 1, height: int = 1) -> bytes:
    """A valid RGBA PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00\xff" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def raises_naming(cls: type[BaseException], argument: str) -> Any:
    """`pytest.raises` for a bad argument that the extension rejects before the
    call: from Python 3.11 the exception names the argument (in a note, which
    tracebacks show); older versions have no exception notes."""
    return pytest.raises(cls, match=argument if sys.version_info >= (3, 11) else None)
