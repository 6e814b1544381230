"""The Python examples run: the quickstart script, and the notebook headless, cell by cell."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import FIXTURES, REPO

import agentsession as ags

NOTEBOOK = REPO / "examples" / "explore_sessions.ipynb"


@pytest.mark.timeout(180)
def test_notebook_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit the notebook without outputs"
    monkeypatch.setenv("AGENTSESSION_FIXTURES", str(FIXTURES))
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError when a cell fails

    def mime(cell: nbformat.NotebookNode) -> set[str]:
        return {k for out in cell.outputs for k in out.get("data", {})}

    store_cell, frame_cell, player_cell, events_cell, per_day_cell, pace_cell, usage_cell = code
    assert "text/html" in mime(store_cell)
    html = "".join(out["data"]["text/html"] for out in store_cell.outputs if "data" in out)
    assert "7 sessions" in html
    assert "text/html" in mime(frame_cell)
    player_html = "".join(out["data"]["text/html"] for out in player_cell.outputs if "data" in out)
    assert "Tool call" in player_html and "Please describe the attached screenshot" in player_html
    assert "text/html" in mime(events_cell)
    assert "image/png" in mime(per_day_cell)
    assert "image/png" in mime(pace_cell)
    assert "image/png" in mime(usage_cell) and "text/html" in mime(usage_cell)
    usage_html = "".join(out["data"].get("text/html", "") for out in usage_cell.outputs if "data" in out)
    assert "claude-code" in usage_html and "0.11" in usage_html


def test_quickstart_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "quickstart.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert result.returncode == 0, result.stderr
    assert "last reply: The parser drops the last line" in result.stdout
    (meta,) = ags.Store(tmp_path).list()
    assert (meta.name, meta.status, meta.event_count) == ("Parser fix", "completed", 5)
