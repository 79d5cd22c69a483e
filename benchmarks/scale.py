"""Scale baseline (issue 11): load, compile and output of 10k / 50k / 150k bare pods.

For each size and format the synthetic cluster of ``generate.py`` is written once with
``owners=False`` (bare pods: no ``ownerReferences``, every pod its own workload; the ~3% of
workloads the generator writes as Deployment objects stay), then three fresh processes run
one after the other, each timed on its own with its own peak RSS (``os.wait4``):

* the parse floor: ``json.load`` of the List, or ``yaml.load_all`` with ``CSafeLoader`` over
  the four YAML files, and nothing else;
* ``reach.loader.read_cluster(path)`` (the load) then ``reach.Network(cluster)`` (the
  compile), timed separately; it also reports the number of classes;
* ``reach list --by namespace -o json -f PATH > /dev/null``: the whole command, wall time.

Formats: ``yaml`` is the folder of four YAML files ``generate.write`` makes; ``json`` is one
``kubectl get -A -o json``-style ``kind: List`` file (4-space indent, as kubectl prints) with
the same objects in the same order.

Shapes (pods -> namespaces, NetworkPolicies): 3,000 -> 30, 300; 10,000 -> 100, 1,000;
50,000 -> 500, 6,500; 150,000 -> 1,500, 19,500 (the issue's cluster); any other size ->
pods/100, 13% of pods.

``--cache`` also times one ``reach can A B --port 8080`` three ways on each cluster: without a
cache, with an empty ``--cache DIR`` (read, compile and write the entry) and again (the
entry read back); A and B are the first and the last pod of the input.

``--nca`` also times NCA 2.1.0 (``--connectivity ... --output_endpoints pods``) against
``reach list --by pod`` (txt and json) on the same 3,000 bare pods (``nca_compatible=True``),
side by side in this run.

    python benchmarks/scale.py                                   # 10k and 50k, yaml and json
    python benchmarks/scale.py --sizes 10000 --formats yaml,json --nca
    python benchmarks/scale.py --sizes '' --deployments          # 10k pods as Deployments
    python benchmarks/scale.py --sizes 150000 --formats json     # about 2 GB peak
    python benchmarks/scale.py --sizes 150000 --formats json --cache

Each run is killed after ``--timeout`` seconds (default 300) and shows ``timeout``. reach's
modules are byte-compiled first, as ``pip install`` does: where ``PYTHONDONTWRITEBYTECODE`` is
set, every process would otherwise compile them again (about 0.15 s a run).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import build, write  # noqa: E402

SHAPES = {3000: (30, 300), 10000: (100, 1000), 50000: (500, 6500), 150000: (1500, 19500)}
DEFAULT_NCA = "/tmp/nca-venv/bin/nca"

PARSE_FLOOR = r"""
import gc, json, sys, time, yaml
gc.disable()  # as reach's CLI runs
paths = sys.argv[1:]
start = time.perf_counter()
n = 0
for p in paths:
    with open(p, encoding="utf-8") as fh:
        if p.endswith(".json"):
            n += len(json.load(fh)["items"])
        else:
            n += sum(1 for _ in yaml.load_all(fh, Loader=yaml.CSafeLoader))
print(json.dumps({"parse": time.perf_counter() - start, "objects": n}))
"""

LOAD_COMPILE = r"""
import gc, json, sys, time
gc.disable()  # as reach's CLI runs
import reach
from reach.loader import read_cluster
start = time.perf_counter()
cluster = read_cluster(*sys.argv[1:])
read = time.perf_counter()
net = reach.Network(cluster)
done = time.perf_counter()
print(json.dumps({"load": read - start, "compile": done - read, "pods": len(net.pods),
                  "classes": int(net.compiled.n_classes)}))
"""


def shape(pods: int) -> tuple[int, int]:
    return SHAPES.get(pods, (max(1, pods // 100), pods * 13 // 100))


def write_cluster(folder: Path, pods: int, fmt: str, *, nca_compatible: bool = False) -> list[Path]:
    """The bare-pod cluster of ``pods`` pods in ``folder``: four YAML files or one JSON List."""
    namespaces, policies = shape(pods)
    if fmt == "yaml":
        return write(folder, pods, namespaces, policies, 0, owners=False,
                     nca_compatible=nca_compatible)
    g = build(pods, namespaces, policies, 0, owners=False, nca_compatible=nca_compatible)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cluster.json"
    doc = {"apiVersion": "v1", "kind": "List", "items": list(g.documents()),
           "metadata": {"resourceVersion": ""}}
    with path.open("w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=4)
        fh.write("\n")
    return [path]


GNU_TIME = "/usr/bin/time"


def run(cmd: list[str], timeout: float, stdout: Any = subprocess.PIPE) -> dict[str, Any]:
    """Run ``cmd`` in a fresh process: wall seconds, peak RSS (MB), rc, stdout, or timeout.

    The peak RSS is GNU time's when it is installed: a child forked from this (large)
    process would report this process's resident size at the fork as its own peak.
    """
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss_file:
        timed = ([GNU_TIME, "-f", "%M", "-o", rss_file.name, *cmd]
                 if os.path.exists(GNU_TIME) else cmd)
        res = _run(timed, timeout, stdout)
        with open(rss_file.name, encoding="utf-8") as fh:
            lines = [line for line in fh.read().splitlines() if line.strip().isdigit()]
        if lines and timed is not cmd:
            res["peak_mb"] = int(lines[-1]) / 1024
    return res


def _run(cmd: list[str], timeout: float, stdout: Any) -> dict[str, Any]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE,
                            start_new_session=True)
    out_chunks: list[bytes] = []
    # drain stdout/stderr in threads so a large output cannot block the child
    def drain(stream: Any, sink: list[bytes]) -> None:
        for chunk in iter(lambda: stream.read(1 << 16), b""):
            sink.append(chunk)

    err_chunks: list[bytes] = []
    threads = [threading.Thread(target=drain, args=(proc.stderr, err_chunks), daemon=True)]
    if proc.stdout is not None:
        threads.append(threading.Thread(target=drain, args=(proc.stdout, out_chunks),
                                        daemon=True))
    for t in threads:
        t.start()
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return {"timeout": True, "seconds": time.perf_counter() - start,
                    "peak_mb": usage.ru_maxrss / 1024}
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in threads:
        t.join(timeout=5)
    return {"timeout": False, "seconds": seconds, "peak_mb": usage.ru_maxrss / 1024,
            "rc": proc.returncode, "stdout": b"".join(out_chunks).decode(errors="replace"),
            "stderr": b"".join(err_chunks).decode(errors="replace")}


def _json_line(res: dict[str, Any]) -> dict[str, Any] | None:
    if res.get("timeout") or res.get("rc"):
        return None
    for line in reversed(res["stdout"].splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def measure(pods: int, fmt: str, tmp: Path, timeout: float, cache: bool = False
            ) -> dict[str, Any]:
    folder = tmp / f"{pods}-{fmt}"
    t0 = time.perf_counter()
    paths = write_cluster(folder, pods, fmt)
    gen_s = time.perf_counter() - t0
    target = str(folder)
    row: dict[str, Any] = {"pods": pods, "format": fmt, "gen_s": gen_s,
                           "mb": sum(p.stat().st_size for p in paths) / 1e6}
    floor = run([sys.executable, "-c", PARSE_FLOOR, *map(str, paths)], timeout)
    got = _json_line(floor)
    row["floor"] = "timeout" if floor["timeout"] else (got or {}).get("parse", "error")
    lc = run([sys.executable, "-c", LOAD_COMPILE, target], timeout)
    got = _json_line(lc)
    if lc["timeout"]:
        row.update(load="timeout", compile="timeout", classes="?")
    elif got is None:
        row.update(load="error", compile="error", classes="?")
        print(lc.get("stderr", "")[-2000:], file=sys.stderr)
    else:
        row.update(load=got["load"], compile=got["compile"], classes=got["classes"],
                   reach_pods=got["pods"])
    row["compile_rss"] = lc["peak_mb"]
    reach = shutil.which("reach") or "reach"
    with open(os.devnull, "wb") as null:
        out = run([reach, "list", "--by", "namespace", "-o", "json", "-q", "-f", target],
                  timeout, stdout=null)
    if out["timeout"]:
        row["list"] = "timeout"
    elif out["rc"] != 0:
        row["list"] = f"rc {out['rc']}"
        print(out.get("stderr", "")[-2000:], file=sys.stderr)
    else:
        row["list"] = out["seconds"]
    row["list_rss"] = out["peak_mb"]
    if cache:
        row.update(cache_runs(paths, target, tmp, timeout))
    shutil.rmtree(folder, ignore_errors=True)
    return row


_POD = re.compile(r'(?:"kind": "Pod"|kind: Pod)\W+metadata\W+name\W+([\w.-]+)\W+'
                  r'namespace\W+([\w.-]+)')


def _end_pods(paths: list[Path]) -> tuple[str, str]:
    """The first and the last pod of the files, as NAMESPACE/NAME."""
    found = [m for p in paths for m in _POD.finditer(p.read_text(encoding="utf-8"))]
    first, last = found[0], found[-1]
    return f"{first[2]}/{first[1]}", f"{last[2]}/{last[1]}"


def cache_runs(paths: list[Path], target: str, tmp: Path, timeout: float) -> dict[str, Any]:
    """``reach can`` without a cache, writing one, and reading it back."""
    reach = shutil.which("reach") or "reach"
    src, dst = _end_pods(paths)
    cache = tmp / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    base = [reach, "can", src, dst, "--port", "8080", "-q", "-f", target]
    out: dict[str, Any] = {}
    for name, extra in (("can", []), ("can_write", ["--cache", str(cache)]),
                        ("can_hit", ["--cache", str(cache)])):
        res = run(base + extra, timeout)
        ok = not res["timeout"] and res["rc"] in (0, 1)
        out[name] = res["seconds"] if ok else ("timeout" if res["timeout"] else f"rc {res['rc']}")
        out[f"{name}_rss"] = res["peak_mb"]
        if not ok:
            print(res.get("stderr", "")[-2000:], file=sys.stderr)
    out["entry_mb"] = sum(p.stat().st_size for p in cache.glob("*.npz")) / 1e6
    shutil.rmtree(cache, ignore_errors=True)
    return out


def print_cache_table(rows: list[dict[str, Any]]) -> None:
    print()
    print("| pods | format | `reach can` s | with `--cache`, first (writes) s | "
          "with `--cache`, again s | entry MB | peak RSS MB (again) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        if "can" in r:
            print(f"| {r['pods']:,} | {r['format']} | {_f(r['can'])} | {_f(r['can_write'])} | "
                  f"{_f(r['can_hit'])} | {_f(r['entry_mb'], '.0f')} | {r['can_hit_rss']:,.0f} |")
    sys.stdout.flush()


def _f(value: Any, spec: str = ".2f") -> str:
    return format(value, spec) if isinstance(value, (int, float)) else str(value)


def print_table(rows: list[dict[str, Any]]) -> None:
    head = ["pods", "format", "classes", "file MB", "parse floor s", "reach load s",
            "load/floor", "compile s", "list --by namespace -o json s", "peak RSS MB"]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join(" --- " for _ in head) + "|")
    for r in rows:
        ratio = (r["load"] / r["floor"]) if all(
            isinstance(r[k], float) for k in ("load", "floor")) else "-"
        cells = [f"{r['pods']:,}", r["format"], _f(r["classes"], ","), _f(r["mb"], ".1f"),
                 _f(r["floor"]), _f(r["load"]), _f(ratio, ".1f") + ("x" if ratio != "-" else ""),
                 _f(r["compile"]), _f(r["list"]),
                 f"{r['compile_rss']:,.0f} (load+compile) / {r['list_rss']:,.0f} (list)"]
        print("| " + " | ".join(cells) + " |")
    sys.stdout.flush()


def nca_compare(tmp: Path, nca: str, timeout: float) -> None:
    sys.path.insert(0, str(HERE))
    from nca_compare import nca_command

    pods = 3000
    folder = tmp / "nca-3000"
    write_cluster(folder, pods, "yaml", nca_compatible=True)
    reach = shutil.which("reach") or "reach"
    rows = []
    with tempfile.TemporaryDirectory() as out_dir:
        out = os.path.join(out_dir, "nca.txt")
        res = run(nca_command(folder, "pod", nca, out_file=out), timeout)
        lines = 0
        if os.path.exists(out):
            with open(out, encoding="utf-8") as fh:
                lines = sum(1 for _ in fh)
        rows.append(("NCA 2.1.0 --output_endpoints pods (txt_no_fw_rules)", res, lines))
    for fmt in ("txt", "json"):
        with tempfile.NamedTemporaryFile() as fh:
            res = run([reach, "list", "--by", "pod", "-o", fmt, "-q", "-f", str(folder)],
                      timeout, stdout=fh)
            fh.seek(0)
            lines = sum(1 for _ in fh)
        rows.append((f"reach list --by pod -o {fmt}", res, lines))
    nca_s = rows[0][1]["seconds"] if not rows[0][1]["timeout"] and not rows[0][1].get("rc") \
        else None
    print()
    print(f"NCA comparison: {pods:,} bare pods, {shape(pods)[1]} policies (nca_compatible)")
    print()
    print("| tool | wall s | peak RSS MB | output lines | NCA / this |")
    print("| --- | --- | --- | --- | --- |")
    for name, res, lines in rows:
        if res["timeout"]:
            secs = "timeout"
        elif res.get("rc"):
            secs = f"rc {res['rc']}"
            print(res.get("stderr", "")[-2000:], file=sys.stderr)
        else:
            secs = f"{res['seconds']:.2f}"
        ratio = (f"{nca_s / res['seconds']:.1f}x" if nca_s and not res["timeout"]
                 and not res.get("rc") else "-")
        print(f"| {name} | {secs} | {res['peak_mb']:,.0f} | {lines:,} | {ratio} |")
    shutil.rmtree(folder, ignore_errors=True)


def deployments_compare(tmp: Path, timeout: float, pods: int = 10000) -> None:
    """``list --by workload -o json`` on ``pods`` pods written as Deployments (YAML),
    against the CSafeLoader parse of the same files."""
    namespaces, policies = shape(pods)
    folder = tmp / f"deployments-{pods}"
    paths = write(folder, pods, namespaces, policies, 0, deployments=True)
    floor = run([sys.executable, "-c", PARSE_FLOOR, *map(str, paths)], timeout)
    got = _json_line(floor)
    reach = shutil.which("reach") or "reach"
    with open(os.devnull, "wb") as null:
        out = run([reach, "list", "--by", "workload", "-o", "json", "-q", "-f", str(folder)],
                  timeout, stdout=null)
    parse = got["parse"] if got else None
    secs = out["seconds"] if not out["timeout"] and not out["rc"] else None
    print()
    print(f"{pods:,} pods as Deployments ({sum(p.stat().st_size for p in paths) / 1e6:.1f} MB "
          "of YAML)")
    print()
    print("| parse floor s | list --by workload -o json s | ratio | peak RSS MB |")
    print("| --- | --- | --- | --- |")
    ratio = f"{secs / parse:.1f}x" if parse and secs else "-"
    print(f"| {_f(parse)} | {_f(secs)} | {ratio} | {out['peak_mb']:,.0f} |")
    shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000",
                        help="comma-separated pod counts (150000 needs ~2 GB)")
    parser.add_argument("--formats", default="yaml,json", help="yaml, json or both")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--nca", action="store_true",
                        help="also time NCA against reach list --by pod on 3,000 bare pods")
    parser.add_argument("--nca-bin", default=DEFAULT_NCA)
    parser.add_argument("--deployments", action="store_true",
                        help="also time list --by workload on 10,000 pods as Deployments")
    parser.add_argument("--cache", action="store_true",
                        help="also time reach can without, into and from a --cache folder")
    parser.add_argument("--tmp", help="where to write the clusters (default: a temp dir)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    for f in formats:
        if f not in ("yaml", "json"):
            parser.error(f"unknown format {f!r}")
    import reach

    compileall.compile_dir(str(Path(reach.__file__).parent), quiet=1)
    tmp_ctx = tempfile.TemporaryDirectory(dir=args.tmp)
    tmp = Path(tmp_ctx.name)
    rows = []
    try:
        for pods in sizes:
            for fmt in formats:
                row = measure(pods, fmt, tmp, args.timeout, args.cache)
                print(f"# {pods} {fmt}: generated in {row['gen_s']:.1f} s", file=sys.stderr)
                rows.append(row)
        if rows:
            print_table(rows)
            if args.cache:
                print_cache_table(rows)
        if args.nca:
            if not os.path.exists(args.nca_bin):
                print(f"\nNCA comparison skipped: {args.nca_bin} not found")
            else:
                nca_compare(tmp, args.nca_bin, args.timeout)
        if args.deployments:
            deployments_compare(tmp, args.timeout)
    finally:
        tmp_ctx.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
