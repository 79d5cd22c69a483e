"""Time the diagrams: plan (level of detail), layout, and each engine, per cluster size.

For each synthetic cluster of ``generate.py`` (about 30 and 200 workloads in 20
namespaces by default) this loads the cluster once, then times, in this process:

* ``plan``: building the graph, the scene, bundling, choosing the level of detail;
* ``layout``: placing and routing (shared by every engine);
* ``graphviz png`` (when ``dot`` is installed), ``matplotlib png``, and the
  interactive ``html`` page (which lays out up to three levels itself).

Each figure is the median of ``--runs`` runs (CPU seconds of this process and wall
seconds). Whole-process figures come from timing the CLI itself, e.g.
``/usr/bin/time -v reach render -f DIR -o out.png --engine graphviz``.

Usage::

    python benchmarks/render.py [--sizes 300:20:30,2000:20:200] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def measure(action: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median (CPU seconds, wall seconds) of ``runs`` calls of ``action``."""
    cpu, wall = [], []
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        action()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300:20:30,2000:20:200",
                        help="PODS:NAMESPACES:POLICIES,... (default: ~30 and ~200 workloads)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    import generate

    import reach
    from reach.render import graphviz_available
    from reach.render.detail import plan
    from reach.render.html import to_html
    from reach.render.image import render_scene
    from reach.render.layout import layout

    print("| cluster | workloads | drawn as | boxes / arrows | step | CPU s | wall s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for spec in args.sizes.split(","):
        pods, namespaces, policies = (int(x) for x in spec.split(":"))
        with tempfile.TemporaryDirectory() as tmp:
            generate.write(tmp, pods=pods, namespaces=namespaces, policies=policies, seed=0)
            net = reach.load(tmp)
        workloads = len({(p.namespace, p.workload_kind, p.workload_name) for p in net.pods})
        scene = plan(net)
        page = layout(scene)
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("plan", lambda net=net: plan(net)),
            ("layout", lambda scene=scene: layout(scene)),
        ]
        if graphviz_available():
            steps.append(("graphviz png (plan+layout+draw)",
                          lambda net=net: render_scene(plan(net), "png", "graphviz")))
        steps.append(("matplotlib png (plan+layout+draw)",
                      lambda net=net: render_scene(plan(net), "png", "matplotlib")))
        steps.append(("html page (3 levels)", lambda net=net: to_html(net)))
        for name, action in steps:
            cpu, wall = measure(action, args.runs)
            print(f"| {pods} pods / {namespaces} ns / {policies} policies | {workloads} | "
                  f"{scene.level} | {len(page.nodes)} / {len(page.edges)} | {name} | "
                  f"{cpu:.2f} | {wall:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
