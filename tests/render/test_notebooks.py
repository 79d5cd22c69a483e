"""The notebooks: committed without outputs, and fast.

pytest itself runs them with nbmake (``notebooks`` is in ``testpaths``);
``REACH_TIME_NOTEBOOKS=1`` runs them once more, together, and checks they take
under a minute.
"""

from __future__ import annotations

import json
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

