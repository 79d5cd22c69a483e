"""NCA (network-config-analyzer) as a differential oracle: its connectivity map, normalized.

Runs NCA's connectivity query on a folder of manifests with the ``txt_no_fw_rules`` output
(one ``src => dst : conns`` line per allowed pair, before NCA's fw-rule minimization) and
prints it rewritten into reach's vocabulary so the two can be diffed line by line::

    ns/name[Deployment] => 0.0.0.0-9.255.255.255[External] : TCP 443,UDP 53

Normalization (see benchmarks/README.md for the NCA quirks behind each step):

* endpoints: workloads keep NCA's names, which are reach's too (``ns/NAME-HASH[ReplicaSet]``
  for a pod owned by a ReplicaSet, ``ns/NAME[StatefulSet]``, ``ns/POD[Pod]`` for an ownerless
  pod, ``ns/NAME[Deployment]`` for a Deployment object); ``--collapse-replicasets`` rewrites
  ``NAME-HASH[ReplicaSet]`` as ``NAME[Deployment]`` on both sides; at pod granularity NCA's
  bare ``ns/pod`` becomes ``ns/pod[Pod]``; address ranges and CIDRs become
  ``FIRST-LAST[External]``;
* connections: NCA's cubes (``{protocols:TCP, UDP,dst_ports:53}``, ``All but {...}``,
  ``All connections``) become reach's port-set text (``TCP 1-65535,UDP 53``,
  ``All Connections``) over TCP, UDP and SCTP only (NCA also models ICMP and the other IP
  protocols; reach does not);
* external ranges: adjacent ranges with the same peer and the same connections are merged,
  so the way each tool cuts the address space does not show up as a difference.

NCA keeps at most two pods per (namespace, workload, labels) class, so at pod granularity
it only reports those representatives; ``--expand`` maps its answer back onto every pod of
the manifests (quadratic: small clusters only).

Usage::

    python benchmarks/nca_compare.py DIR [--by workload|pod] > nca.txt
    python benchmarks/nca_compare.py DIR --reach > reach.txt     # reach, same normalization
    python benchmarks/nca_compare.py DIR --diff                  # both, unified diff; exit 1

``--diff`` loads reach with ``ipblock_pods=False`` because NCA never matches pod IPs
against ipBlocks (it has no pod addresses).
"""

from __future__ import annotations

import argparse
import difflib
import ipaddress
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_NCA",
    "Line",
    "PortText",
    "canonical",
    "collapse_replicasets",
    "nca_command",
    "parse_nca_conn",
    "parse_nca_lines",
    "parse_reach_lines",
    "run_nca",
]

DEFAULT_NCA = os.environ.get("NCA", "/tmp/nca-venv/bin/nca")
PROTOCOLS = ("SCTP", "TCP", "UDP")  # reach's order (by name)
MAX_PORT = 65535
HASH = re.compile(r"^[bcdfghjklmnpqrstvwxz2456789]{5,10}$")  # Kubernetes' SafeEncodeString
ADDRESS = re.compile(r"^[0-9a-fA-F.:]+(?:/\d+|-[0-9a-fA-F.:]+)?$")
LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.+)$")

Ranges = list[tuple[int, int]]
PortText = dict[str, Ranges]  # protocol -> sorted disjoint ranges


# ---------------------------------------------------------------------------
# port sets as plain dicts (no dependency on reach, so NCA output parses anywhere)


def _norm(ranges: Iterable[tuple[int, int]]) -> Ranges:
    out: Ranges = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _union(a: PortText, b: PortText) -> PortText:
    return {p: _norm(a.get(p, []) + b.get(p, [])) for p in PROTOCOLS if a.get(p) or b.get(p)}


def _complement(a: PortText) -> PortText:
    out: PortText = {}
    for p in PROTOCOLS:
        gaps, start = [], 1
        for lo, hi in a.get(p, []):
            if lo > start:
                gaps.append((start, lo - 1))
            start = max(start, hi + 1)
        if start <= MAX_PORT:
            gaps.append((start, MAX_PORT))
        if gaps:
            out[p] = gaps
    return out


ALL: PortText = {p: [(1, MAX_PORT)] for p in PROTOCOLS}


def format_ports(ports: PortText) -> str:
    """reach's ``PortSet`` text: ``All Connections``, ``No Connections`` or ``TCP 80,UDP 53``."""
    ports = {p: r for p, r in ports.items() if r}
    if ports == ALL:
        return "All Connections"
    if not ports:
        return "No Connections"
    return ",".join(
        f"{p} " + ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ports[p])
        for p in PROTOCOLS if p in ports
    )


def _parse_protocols(text: str) -> list[str]:
    text = text.strip()
    if text in ("*", ""):
        return list(PROTOCOLS)
    negate = text.lower().startswith("all but ")
    if negate:
        text = text[len("all but "):]
    names = {t.strip().upper() for t in text.split(",") if t.strip()}
    if negate:
        return [p for p in PROTOCOLS if p not in names]
    return [p for p in PROTOCOLS if p in names]


def _parse_ranges(text: str) -> Ranges:
    out: Ranges = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.append((int(lo), int(hi or lo)))
    return _norm(out)


def _parse_cube(body: str) -> PortText:
    """One NCA cube body, e.g. ``protocols:TCP, UDP,dst_ports:53,8080-8090``."""
    fields: dict[str, str] = {}
    # keys are known; values may contain commas, so split on ",key:" boundaries
    for m in re.finditer(r"(?:^|,)\s*(protocols|dst_ports|src_ports|methods|paths|hosts):"
                         r"(.*?)(?=,\s*(?:protocols|dst_ports|src_ports|methods|paths|hosts):|$)",
                         body):
        fields[m.group(1)] = m.group(2)
    protocols = _parse_protocols(fields.get("protocols", "*"))
    ports = _parse_ranges(fields["dst_ports"]) if "dst_ports" in fields else [(1, MAX_PORT)]
    return {p: list(ports) for p in protocols}


def parse_nca_conn(text: str) -> PortText:
    """NCA's connection text as TCP/UDP/SCTP port ranges.

    >>> format_ports(parse_nca_conn("All connections"))
    'All Connections'
    >>> format_ports(parse_nca_conn(
    ...     "{protocols:TCP, UDP,dst_ports:53},{protocols:TCP,dst_ports:80}"))
    'TCP 53,80,UDP 53'
    >>> format_ports(parse_nca_conn("All but {protocols:TCP,dst_ports:1-79,81-65535}"))
    'SCTP 1-65535,TCP 80,UDP 1-65535'
    >>> format_ports(parse_nca_conn("{protocols:all but TCP}"))
    'SCTP 1-65535,UDP 1-65535'
    >>> format_ports(parse_nca_conn("8080,9000-9100"))
    'SCTP 8080,9000-9100,TCP 8080,9000-9100,UDP 8080,9000-9100'
    """
    text = text.strip()
    if text.lower() == "all connections":
        return dict(ALL)
    if text.lower() == "no connections":
        return {}
    if text.lower().startswith("all but "):
        return _complement(parse_nca_conn(text[len("all but "):]))
    if not text.startswith("{"):  # a bare port list: every protocol on these ports
        ports = _parse_ranges(text)
        return {p: list(ports) for p in PROTOCOLS}
    out: PortText = {}
    for body in re.findall(r"\{([^{}]*)\}", text):
        out = _union(out, _parse_cube(body))
    return out


def _parse_reach_ports(text: str) -> PortText:
    text = text.strip()
    if text == "All Connections":
        return dict(ALL)
    if text == "No Connections":
        return {}
    out: PortText = {}
    current = ""
    for token in text.split(","):
        head, _, rest = token.partition(" ")
        if head in PROTOCOLS and rest:
            current, token = head, rest
        out.setdefault(current, []).extend(_parse_ranges(token))
    return {p: _norm(r) for p, r in out.items()}


# ---------------------------------------------------------------------------
# endpoints and lines


def _address_range(text: str) -> tuple[int, int] | None:
    """``a-b``, ``a/n`` or ``a`` as integer bounds (IPv4 or IPv6); None if not an address."""
    text = text.removesuffix("[External]")
    if not ADDRESS.match(text) or ("." not in text and ":" not in text):
        return None
    try:
        if "/" in text:
            net = ipaddress.ip_network(text, strict=False)
            return int(net.network_address), int(net.broadcast_address)
        lo, _, hi = text.partition("-")
        return int(ipaddress.ip_address(lo)), int(ipaddress.ip_address(hi or lo))
    except ValueError:
        return None


def _format_address(n: int, v6: bool) -> str:
    return str(ipaddress.IPv6Address(n) if v6 else ipaddress.IPv4Address(n))


@dataclass(frozen=True, order=True)
class Line:
    """One connection: ``src``/``dst`` are endpoint texts or ``(lo, hi, v6)`` ranges."""

    src: Any
    dst: Any
    ports: str

    def __str__(self) -> str:
        return f"{_endpoint_text(self.src)} => {_endpoint_text(self.dst)} : {self.ports}"


def _endpoint_text(e: Any) -> str:
    if isinstance(e, tuple):
        lo, hi, v6 = e
        return f"{_format_address(lo, v6)}-{_format_address(hi, v6)}[External]"
    return str(e)


def _nca_endpoint(text: str, by: str, raw: bool) -> Any:
    bounds = _address_range(text)
    if bounds is not None:
        return (bounds[0], bounds[1], ":" in text)
    if raw or by != "pod" or "[" in text:
        return text
    return f"{text}[Pod]"  # pod granularity prints bare ns/name


def collapse_replicasets(lines: Iterable[Line]) -> list[Line]:
    """``ns/NAME-HASH[ReplicaSet]`` as ``ns/NAME[Deployment]`` when HASH is a template hash.

    >>> str(collapse_replicasets([Line("a/web-7d9f8c6b5d[ReplicaSet]", "a/db[StatefulSet]",
    ...                                "TCP 5432")])[0])
    'a/web[Deployment] => a/db[StatefulSet] : TCP 5432'
    """

    def rename(e: Any) -> Any:
        if not isinstance(e, str):
            return e
        m = re.match(r"^(?P<ns>[^/]+)/(?P<name>[^\[]+)\[(?P<kind>[^\]]+)\]$", e)
        if not m:
            return e
        if m["kind"] == "ReplicaSet":
            base, _, suffix = m["name"].rpartition("-")
            if base and HASH.match(suffix):
                return f"{m['ns']}/{base}[Deployment]"
        if m["kind"] == "Deployment-StatefulSet":
            return f"{m['ns']}/{m['name']}[Deployment]"
        return e

    return [Line(rename(x.src), rename(x.dst), x.ports) for x in lines]


def parse_nca_lines(text: str, by: str = "workload", raw: bool = False) -> list[Line]:
    """The ``A => B : CONN`` lines of NCA's ``txt_no_fw_rules`` output, normalized."""
    out: list[Line] = []
    for raw_line in text.splitlines():
        m = LINE.match(raw_line.strip())
        if not m:
            continue  # headers: "global: cluster has ...", "TCP", "non-TCP", blank lines
        ports = format_ports(parse_nca_conn(m["conn"]))
        if ports == "No Connections":
            continue
        out.append(Line(_nca_endpoint(m["src"], by, raw), _nca_endpoint(m["dst"], by, raw),
                        ports))
    return out


def parse_reach_lines(lines: Iterable[str]) -> list[Line]:
    """reach's ``str(Connection)`` lines in the same form."""
    out: list[Line] = []
    for raw_line in lines:
        m = LINE.match(raw_line.strip())
        if not m:
            continue
        ends = []
        for e in (m["src"], m["dst"]):
            bounds = _address_range(e) if e.endswith("[External]") else None
            ends.append(e if bounds is None else (bounds[0], bounds[1], ":" in e))
        out.append(Line(ends[0], ends[1], format_ports(_parse_reach_ports(m["conn"]))))
    return out


def canonical(lines: Iterable[Line]) -> list[str]:
    """Sorted unique texts: one line per pair, adjacent external ranges merged.

    >>> nca = [
    ...     "a/x[StatefulSet] => 10.0.0.0-10.0.0.255 : {protocols:TCP,dst_ports:80}",
    ...     "a/x[StatefulSet] => 10.0.1.0/24 : {protocols:TCP,dst_ports:80}",
    ...     "a/x[StatefulSet] => a/y[StatefulSet] : {protocols:UDP,dst_ports:53}",
    ...     "a/x[StatefulSet] => a/y[StatefulSet] : {protocols:TCP,dst_ports:53}"]
    >>> lines = parse_nca_lines(chr(10).join(nca))
    >>> [str(x) for x in lines]  # doctest: +NORMALIZE_WHITESPACE
    ['a/x[StatefulSet] => 10.0.0.0-10.0.0.255[External] : TCP 80',
     'a/x[StatefulSet] => 10.0.1.0-10.0.1.255[External] : TCP 80',
     'a/x[StatefulSet] => a/y[StatefulSet] : UDP 53',
     'a/x[StatefulSet] => a/y[StatefulSet] : TCP 53']
    >>> canonical(lines)  # doctest: +NORMALIZE_WHITESPACE
    ['a/x[StatefulSet] => 10.0.0.0-10.0.1.255[External] : TCP 80',
     'a/x[StatefulSet] => a/y[StatefulSet] : TCP 53,UDP 53']
    """
    # NCA may print one pair on several lines (one per distinct connection set): union them
    pairs: dict[tuple[Any, Any], PortText] = {}
    for line in lines:
        key = (line.src, line.dst)
        pairs[key] = _union(pairs.get(key, {}), _parse_reach_ports(line.ports))
    merged = [Line(s, d, format_ports(p)) for (s, d), p in pairs.items() if p]
    plain: set[str] = set()
    groups: dict[tuple[str, str, str, bool], Ranges] = {}
    for line in merged:
        src_ext, dst_ext = isinstance(line.src, tuple), isinstance(line.dst, tuple)
        if src_ext == dst_ext:
            plain.add(str(line))
            continue
        ext, peer, side = (line.src, line.dst, "in") if src_ext else (line.dst, line.src, "out")
        groups.setdefault((side, peer, line.ports, ext[2]), []).append((ext[0], ext[1]))
    for (side, peer, ports, v6), ranges in groups.items():
        for lo, hi in _norm(ranges):
            ext = (lo, hi, v6)
            plain.add(str(Line(ext, peer, ports) if side == "in" else Line(peer, ext, ports)))
    return sorted(plain)


# ---------------------------------------------------------------------------
# running NCA and reach


def nca_command(folder: str | Path, by: str = "workload", nca: str = DEFAULT_NCA,
                output_format: str = "txt_no_fw_rules", out_file: str | None = None) -> list[str]:
    """The NCA command line for a connectivity map of ``folder``.

    Namespaces and pods are passed with ``--ns_list``/``--pod_list`` (not ``-r``): with
    ``-r`` NCA parses files in directory order and a pod read before its Namespace
    document keeps a namespace without labels.
    """
    folder = str(folder)
    cmd = [nca, "--connectivity", folder, "--ns_list", folder, "--pod_list", folder,
           "-o", output_format,
           "--output_endpoints", "pods" if by == "pod" else "deployments"]
    if out_file:
        cmd += ["-f", out_file]
    return cmd


def run_nca(folder: str | Path, by: str = "workload", nca: str = DEFAULT_NCA,
            timeout: float | None = None) -> str:
    """NCA's ``txt_no_fw_rules`` connectivity text for ``folder``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "nca.txt")
        proc = subprocess.run(nca_command(folder, by, nca, out_file=out), capture_output=True,
                              text=True, timeout=timeout, check=False)
        if proc.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"nca failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return Path(out).read_text(encoding="utf-8")


def reach_lines(folder: str | Path, by: str = "workload", ipblock_pods: bool = False) -> list[str]:
    """reach's connection lines for ``folder`` (the repository's reach, not an installed one)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import reach

    net = reach.load(folder, ipblock_pods=ipblock_pods)
    return [str(c) for c in net.connections(by=by)]


# ---------------------------------------------------------------------------
# --expand: NCA's representatives back onto every pod


def _manifest_pods(folder: str | Path) -> list[tuple[str, str, str]]:
    """``(pod reference, namespace, class key)`` of every Pod document.

    The class key follows NCA's isomorphism (namespace, owner, labels).
    """
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out: list[tuple[str, str, str]] = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            for doc in yaml.load_all(fh, Loader=loader):
                for item in (doc or {}).get("items", [doc]) if isinstance(doc, dict) else []:
                    if not isinstance(item, dict) or item.get("kind") != "Pod":
                        continue
                    meta = item.get("metadata") or {}
                    ns, name = meta.get("namespace", "default"), meta.get("name", "")
                    owners = meta.get("ownerReferences") or [{}]
                    owner = f"{owners[0].get('kind', '')}/{owners[0].get('name', '')}"
                    if owner == "/":
                        owner = f"Pod/{name}"
                    labels = sorted((meta.get("labels") or {}).items())
                    out.append((f"{ns}/{name}[Pod]", ns, f"{ns}|{owner}|{labels}"))
    return out


def expand(lines: list[Line], folder: str | Path) -> Iterator[Line]:
    """Pod-granularity lines for every pod, from NCA's lines about its representatives."""
    pods = _manifest_pods(folder)
    cls = {ref: key for ref, _, key in pods}
    members: dict[str, list[str]] = {}
    for ref, _, key in pods:
        members.setdefault(key, []).append(ref)
    seen: set[Line] = set()
    for line in lines:
        srcs = members.get(cls.get(line.src, ""), [line.src]) if isinstance(line.src, str) \
            else [line.src]
        dsts = members.get(cls.get(line.dst, ""), [line.dst]) if isinstance(line.dst, str) \
            else [line.dst]
        for s in srcs:
            for d in dsts:
                if s != d:
                    new = Line(s, d, line.ports)
                    if new not in seen:
                        seen.add(new)
                        yield new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--by", choices=("workload", "pod"), default="workload")
    parser.add_argument("--nca", default=DEFAULT_NCA, help="the nca executable")
    parser.add_argument("--raw", action="store_true",
                        help="print NCA's endpoint texts untouched (no [Pod] suffix)")
    parser.add_argument("--collapse-replicasets", action="store_true",
                        help="NAME-HASH[ReplicaSet] -> NAME[Deployment], on both sides")
    parser.add_argument("--expand", action="store_true",
                        help="pod granularity: map NCA's representatives onto every pod")
    parser.add_argument("--nca-output", help="parse this saved txt_no_fw_rules file instead")
    parser.add_argument("--reach", action="store_true", help="print reach's lines instead")
    parser.add_argument("--diff", action="store_true", help="diff NCA against reach")
    parser.add_argument("--ipblock-pods", action="store_true",
                        help="with --reach/--diff: let ipBlocks match pod IPs (NCA never does)")
    args = parser.parse_args(argv)

    def nca_side() -> list[str]:
        text = (Path(args.nca_output).read_text(encoding="utf-8") if args.nca_output
                else run_nca(args.folder, args.by, args.nca))
        lines = parse_nca_lines(text, args.by, args.raw)
        if args.expand and args.by == "pod":
            lines = list(expand(lines, args.folder))
        if args.collapse_replicasets:
            lines = collapse_replicasets(lines)
        return canonical(lines)

    def reach_side() -> list[str]:
        lines = parse_reach_lines(reach_lines(args.folder, args.by, args.ipblock_pods))
        if args.collapse_replicasets:
            lines = collapse_replicasets(lines)
        return canonical(lines)

    if args.diff:
        left, right = nca_side(), reach_side()
        diff = list(difflib.unified_diff(left, right, "nca", "reach", lineterm="", n=0))
        print("\n".join(diff) if diff else f"same: {len(left)} lines")
        return 1 if diff else 0
    for text in reach_side() if args.reach else nca_side():
        print(text)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()
        raise SystemExit(1) from None
