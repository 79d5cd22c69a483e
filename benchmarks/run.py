"""Time reach's phases on generated clusters, optionally side by side with NCA.

For each size the cluster is generated (benchmarks/generate.py) into a temporary folder,
then a fresh Python process times, one after the other:

* ``import reach``;
* ``net = reach.load(folder)``: reading the manifests and compiling them;
* ``net.connections(by="workload")``;
* ``reach.graph.graph(net, by="workload")``.

A phase whose API does not exist yet (or that fails) prints ``n/a`` with the reason; the
next phases still run when they can. Peak RSS is ``resource.getrusage`` of that process
(a high-water mark: it never goes down from one phase to the next).

With ``--nca`` the same folder is also given to NCA's connectivity map
(``nca --connectivity DIR --ns_list DIR --pod_list DIR -o txt``, from /tmp/nca-venv by
default), timed with its own CPU time and peak RSS.

Usage::

    python benchmarks/run.py                       # 1000 3000 10000 pods
    python benchmarks/run.py --sizes 1000 --nca
    python benchmarks/run.py --sizes 10000 --nca --nca-timeout 900 --keep /tmp/bench

Namespaces default to pods / 100 and policies to pods / 10 (``--namespaces``,
``--policies`` override them for every size).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

DEFAULT_NCA = os.environ.get("NCA", "/tmp/nca-venv/bin/nca")
Row = dict[str, Any]


def _peak_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _count(value: Any) -> str:
    if hasattr(value, "number_of_nodes") and hasattr(value, "number_of_edges"):
        return f"{value.number_of_nodes()} nodes, {value.number_of_edges()} edges"
    try:
        return f"{len(value)} items"
    except TypeError:
        return type(value).__name__


def _phase(name: str, func: Callable[[], Any]) -> tuple[Row, Any]:
    start = time.perf_counter()
    try:
        value = func()
    except Exception as exc:  # any failure is reported as n/a
        return {"phase": name, "seconds": None, "peak_mb": _peak_mb(),
                "note": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                [:120]}, None
    seconds = time.perf_counter() - start
    return {"phase": name, "seconds": seconds, "peak_mb": _peak_mb(), "note": _count(value)}, value


def child(folder: str, by: str) -> int:
    """Run in a fresh process: print one JSON row per reach phase."""
    sys.path.insert(0, str(ROOT))
    rows: list[Row] = []
    row, reach = _phase("reach: import", lambda: __import__("reach"))
    row["note"] = "" if reach is not None else row["note"]
    rows.append(row)
    net = None
    if reach is not None and hasattr(reach, "load"):
        row, net = _phase("reach: load (read + compile)", lambda: reach.load(folder))
        if net is not None:
            row["note"] = repr(net)[:120]
        rows.append(row)
    else:
        rows.append({"phase": "reach: load (read + compile)", "seconds": None,
                     "peak_mb": _peak_mb(), "note": "reach.load missing"})
    for method in ("connections", "graph"):
        name = f"reach: {method}(by={by!r})"
        if net is None:
            rows.append({"phase": name, "seconds": None, "peak_mb": _peak_mb(),
                         "note": "no network loaded"})
        elif not hasattr(net, method):
            rows.append({"phase": name, "seconds": None, "peak_mb": _peak_mb(),
                         "note": f"Network.{method} missing"})
        else:
            row, _ = _phase(name, lambda m=method: getattr(net, m)(by=by))
            rows.append(row)
    for r in rows:
        print(json.dumps(r), flush=True)
    return 0


def time_reach(folder: Path, by: str, timeout: float | None) -> list[Row]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(folder), "--by", by]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return [{"phase": "reach", "seconds": None, "peak_mb": None,
                 "note": f"timed out after {timeout:.0f} s"}]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not rows:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        rows.append({"phase": "reach", "seconds": None, "peak_mb": None,
                     "note": f"exit {proc.returncode}: {tail[:120]}"})
    return rows


def generate_in_child(folder: Path, pods: int, namespaces: int, policies: int, seed: int,
                      owners: bool) -> Row:
    """Generate in a separate process.

    Linux keeps ru_maxrss across fork+exec, so a parent that held a big cluster in memory
    would inflate its children's peak RSS.
    """
    cmd = [sys.executable, str(HERE / "generate.py"), "--pods", str(pods),
           "--namespaces", str(namespaces), "--policies", str(policies), "--seed", str(seed),
           "--out", str(folder)]
    if not owners:
        cmd.append("--no-owners")
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"generate.py failed:\n{proc.stderr}")
    return {"phase": "generate (process)", "seconds": seconds, "peak_mb": None,
            "note": str(folder)}


def nca_command(folder: Path, nca: str, output_format: str, out_file: str) -> list[str]:
    d = str(folder)
    return [nca, "--connectivity", d, "--ns_list", d, "--pod_list", d,
            "-o", output_format, "-f", out_file]


def time_nca(folder: Path, nca: str, output_format: str, timeout: float | None) -> Row:
    """Wall and CPU time and peak RSS of one NCA run (``os.wait4`` gives that child's usage)."""
    name = f"nca: connectivity -o {output_format}"
    if not Path(nca).exists():
        return {"phase": name, "seconds": None, "peak_mb": None, "note": f"{nca} not found"}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "nca.out")
        start = time.perf_counter()
        proc = subprocess.Popen(nca_command(folder, nca, output_format, out),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - start > timeout:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.1)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        cpu = usage.ru_utime + usage.ru_stime
        row: Row = {"phase": name, "seconds": seconds, "peak_mb": usage.ru_maxrss / 1024,
                    "note": f"cpu {cpu:.1f} s"}
        if timed_out:
            row["seconds"] = None
            row["note"] = f"timed out after {timeout:.0f} s (cpu {cpu:.1f} s)"
        elif proc.returncode != 0:
            row["note"] += f"; exit {proc.returncode}: {(err.strip().splitlines() or [''])[-1]}"
        elif os.path.exists(out):
            with open(out, encoding="utf-8", errors="replace") as fh:
                row["note"] += f"; {sum(1 for _ in fh)} output lines"
        return row


def print_table(title: str, rows: list[Row]) -> None:
    print(title)
    width = max([len(r["phase"]) for r in rows] + [5])
    print(f"  {'phase':<{width}}  {'seconds':>9}  {'peak RSS MB':>11}  note")
    for r in rows:
        secs = "n/a" if r["seconds"] is None else f"{r['seconds']:.2f}"
        peak = "" if r.get("peak_mb") is None else f"{r['peak_mb']:.0f}"
        print(f"  {r['phase']:<{width}}  {secs:>9}  {peak:>11}  {r.get('note', '')}")
    print(flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000],
                        help="pod counts")
    parser.add_argument("--namespaces", type=int, help="default: pods / 100")
    parser.add_argument("--policies", type=int, help="default: pods / 10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-owners", action="store_true",
                        help="generate pods without ownerReferences")
    parser.add_argument("--by", default="workload", choices=("pod", "workload", "namespace"))
    parser.add_argument("--timeout", type=float, default=1800, help="reach, per size (s)")
    parser.add_argument("--nca", nargs="?", const=DEFAULT_NCA, metavar="PATH",
                        help=f"also time NCA (default executable {DEFAULT_NCA})")
    parser.add_argument("--nca-format", default="txt", help="NCA -o value (default txt)")
    parser.add_argument("--nca-timeout", type=float, default=900, help="seconds (default 900)")
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR/<pods> and keep it")
    parser.add_argument("--json", metavar="FILE", help="also append every row to FILE")
    parser.add_argument("--child", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.by)

    for pods in args.sizes:
        namespaces = args.namespaces or max(1, pods // 100)
        policies = args.policies if args.policies is not None else pods // 10
        with tempfile.TemporaryDirectory(prefix="reach-bench-") as tmp:
            folder = Path(args.keep) / str(pods) if args.keep else Path(tmp)
            rows: list[Row] = [generate_in_child(folder, pods, namespaces, policies, args.seed,
                                                 not args.no_owners)]
            rows += time_reach(folder, args.by, args.timeout)
            if args.nca:
                rows.append(time_nca(folder, args.nca, args.nca_format, args.nca_timeout))
            title = (f"{pods} pods, {namespaces} namespaces, {policies} policies "
                     f"(seed {args.seed}{', no owners' if args.no_owners else ''})")
            print_table(title, rows)
            if args.json:
                with open(args.json, "a", encoding="utf-8") as fh:
                    for r in rows:
                        fh.write(json.dumps({"pods": pods, "namespaces": namespaces,
                                             "policies": policies, **r}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
