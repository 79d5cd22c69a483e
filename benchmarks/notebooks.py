"""How long the notebooks take, top to bottom on fresh kernels (issue 5: under a minute).

    python benchmarks/notebooks.py

Runs ``pytest --nbmake notebooks/`` once and prints the wall time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-q", "-p", "no:cacheprovider",
         "-o", "addopts=", "notebooks"],
        cwd=ROOT, check=False,
    )
    print(f"notebooks: {time.monotonic() - started:.1f} s (exit {done.returncode})")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
