"""The notebooks: committed without outputs, and fast.

pytest itself runs them with nbmake (``notebooks`` is in ``testpaths``);
``REACH_TIME_NOTEBOOKS=1`` runs them once more, together, and checks they take
under a minute.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_at_least_three_notebooks() -> None:
    names = [p.stem for p in NOTEBOOKS]
    assert {"01-quick-start", "02-what-if", "03-attack-paths"} <= set(names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    book = json.loads(path.read_text())
    for cell in book["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                f"{path.name} has outputs: clear them (jupyter nbconvert --clear-output "
                "--inplace notebooks/*.ipynb)"
            )


@pytest.mark.skipif(importlib.util.find_spec("nbmake") is None, reason="nbmake not installed")
@pytest.mark.skipif(os.environ.get("REACH_TIME_NOTEBOOKS") != "1",
                    reason="pytest already runs the notebooks (testpaths); "
                    "REACH_TIME_NOTEBOOKS=1 times them together")
def test_notebooks_run_top_to_bottom_in_under_a_minute() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-q", "-p", "no:cacheprovider",
         "-o", "addopts=", *map(str, NOTEBOOKS)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])},
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert elapsed < 60, f"the notebooks took {elapsed:.0f}s together"
