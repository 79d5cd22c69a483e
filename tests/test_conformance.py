"""Conformance with the np-guard netpol-analyzer goldens (an external oracle).

The corpus lives outside the project, in ``../shared/conformance/netpol-analyzer``
(or the folder named by ``REACH_CONFORMANCE_DIR``); these tests skip when it is
absent. Each "NetworkPolicy only", "ANP/BANP (+NP)" and "NP + Ingress/Route" case must
produce exactly the golden connections at workload granularity with address peers
matching no pod; ``{ingress-controller}`` lines are the synthetic controller's
connections to what Ingresses and OpenShift Routes route it to. External ranges are
compared by address, not by how the ranges happen to be cut.

Four documented differences:

- np-guard does not analyse IPv6 (its goldens cut only the IPv4 space and it warns
  about IPv6 CIDRs), while reach analyses IPv6 as soon as a policy names an IPv6
  range. reach's IPv6 external lines are left out of the comparison; the IPv4 ones
  must match exactly.
- np-guard names a pod of a live-cluster dump after its ReplicaSet
  (``default/frontend-99684f7f8[ReplicaSet]``); reach after the Deployment that owns
  that ReplicaSet (``default/frontend[Deployment]``, see :mod:`reach.loader._owners`),
  so that a rollout is not a new workload. :func:`deployment_names` reads the pods'
  ownerReferences and ``pod-template-hash`` labels straight from the input files (not
  through reach) and the golden lines are renamed accordingly; two ReplicaSets of one
  Deployment become one endpoint, which allows what either allowed.
- np-guard analyses pods that have ended (``status.phase`` Succeeded or Failed); reach
  leaves them out with a warning (they send and receive nothing). Golden lines of
  workloads whose every pod has ended are left out (:func:`ended_workloads`, again
  read from the input files).
- np-guard's connections are TCP, UDP and SCTP ("All Connections" is all of their
  ports); reach's carry every IP protocol. Both sides are compared on TCP, UDP and
  SCTP (:data:`NP_GUARD_PROTOCOLS`); a line that holds nothing there is no connection.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import reach
from reach.engine.addresses import address_key
from reach.engine.ports import PortSet

ROOT = Path(__file__).resolve().parents[1]


def corpus_dir() -> Path | None:
    env = os.environ.get("REACH_CONFORMANCE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "conformance" / "netpol-analyzer")
    for path in candidates:
        if (path / "cases").is_dir():
            return path
    return None


def cases(klass: str) -> list[str]:
    base = corpus_dir()
    if base is None:
        return []
    out = []
    for case in sorted((base / "cases").iterdir()):
        marker = case / "class.txt"
        if marker.is_file() and marker.read_text().strip() == klass:
            out.append(case.name)
    return out


NP_GUARD_PROTOCOLS = frozenset({"TCP", "UDP", "SCTP"})


def parse_ports(text: str) -> PortSet:
    """Parse connection text (``All Connections``, ``TCP 80,8080,UDP 53``, reach's ``All
    Connections but TCP 80``), on the protocols np-guard knows."""
    return _parse_ports(text).restricted(NP_GUARD_PROTOCOLS)


def _parse_ports(text: str) -> PortSet:
    text = text.strip()
    if text == "All Connections":
        return PortSet.all()
    if text.startswith("All Connections but "):
        return PortSet.all() - _parse_ports(text.removeprefix("All Connections but "))
    out = PortSet.none()
    proto = ""
    for token in text.split(","):
        token = token.strip()
        if token[0].isalpha():
            proto, _, token = token.partition(" ")
        if not token:
            out = out | PortSet.protocol(proto)
            continue
        first, _, last = token.partition("-")
        out = out | PortSet.range(proto, int(first), int(last or first))
    return out


def _external(name: str) -> tuple[int, int] | None:
    if not name.endswith("[External]"):
        return None
    lo, _, hi = name[: -len("[External]")].partition("-")
    return address_key(lo), address_key(hi or lo)  # reach writes one address as itself


Ranges = list[tuple[int, int, PortSet]]


def normalise(
    lines: list[str],
) -> tuple[dict[tuple[str, str], PortSet], dict[tuple[str, str], Ranges]]:
    """In-cluster pairs as a dict; external lines as merged address intervals per endpoint."""
    pairs: dict[tuple[str, str], PortSet] = {}
    external: dict[tuple[str, str], list[tuple[int, int, PortSet]]] = {}
    for line in lines:
        if not line.strip():
            continue
        ends, _, conns = line.partition(" : ")
        src, _, dst = ends.partition(" => ")
        ports = parse_ports(conns)
        if not ports:
            continue  # only protocols np-guard does not know
        src_ext, dst_ext = _external(src), _external(dst)
        if src_ext is None and dst_ext is None:
            assert (src, dst) not in pairs, f"duplicate line {line}"
            pairs[(src, dst)] = ports
        elif src_ext is not None:
            external.setdefault(("from", dst), []).append((*src_ext, ports))
        elif dst_ext is not None:
            external.setdefault(("to", src), []).append((*dst_ext, ports))
    merged = {}
    for key, ranges in external.items():
        ranges.sort(key=lambda r: r[0])
        out: list[tuple[int, int, PortSet]] = []
        for lo, hi, ports in ranges:
            if out and out[-1][1] + 1 == lo and out[-1][2] == ports:
                out[-1] = (out[-1][0], hi, ports)
            else:
                out.append((lo, hi, ports))
        merged[key] = out
    return pairs, merged


def _objects(doc: Any) -> Iterator[dict[str, Any]]:
    if isinstance(doc, dict):
        if isinstance(doc.get("items"), list):
            for item in doc["items"]:
                yield from _objects(item)
        else:
            yield doc
    elif isinstance(doc, list):
        for item in doc:
            yield from _objects(item)


def deployment_names(case: Path) -> dict[str, str]:
    """``ns/RS[ReplicaSet]`` -> ``ns/DEPLOYMENT[Deployment]`` for the pods whose
    ReplicaSet is named after a Deployment and their pod-template-hash."""
    renames: dict[str, str] = {}
    for obj in _input_objects(case):
        meta = obj.get("metadata") or {}
        digest = (meta.get("labels") or {}).get("pod-template-hash")
        if obj.get("kind") != "Pod" or not digest:
            continue
        for ref in meta.get("ownerReferences") or []:
            name = ref.get("name", "")
            if ref.get("kind") == "ReplicaSet" and ref.get("controller") and name.endswith(
                    f"-{digest}"):
                ns = meta.get("namespace") or "default"
                renames[f"{ns}/{name}[ReplicaSet]"] = f"{ns}/{name[: -len(digest) - 1]}[Deployment]"
    return renames


def _input_objects(case: Path) -> Iterator[dict[str, Any]]:
    for path in sorted((case / "input").rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue
        for doc in docs:
            yield from _objects(doc)


def ended_workloads(case: Path) -> set[str]:
    """``ns/OWNER[Kind]`` (or ``ns/POD[Pod]``) of pods that all have ended."""
    ended: dict[str, bool] = {}
    for obj in _input_objects(case):
        if obj.get("kind") != "Pod":
            continue
        meta = obj.get("metadata") or {}
        ns = meta.get("namespace") or "default"
        owners = [r for r in meta.get("ownerReferences") or [] if r.get("controller")]
        name = (f"{ns}/{owners[0].get('name')}[{owners[0].get('kind') or 'Pod'}]" if owners
                else f"{ns}/{meta.get('name')}[Pod]")
        done = (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        ended[name] = ended.get(name, True) and done
    return {name for name, done in ended.items() if done}


def renamed(lines: list[str], renames: dict[str, str], gone: set[str] = frozenset()) -> list[str]:
    """Golden lines with workloads renamed (lines that now share their ends are joined)
    and the lines of ``gone`` workloads left out."""
    if not renames and not gone:
        return lines
    joined: dict[tuple[str, str], PortSet] = {}
    for line in lines:
        if not line.strip():
            continue
        ends, _, conns = line.partition(" : ")
        src, _, dst = ends.partition(" => ")
        if src in gone or dst in gone:
            continue
        src, dst = renames.get(src, src), renames.get(dst, dst)
        if src != dst:
            joined[(src, dst)] = joined.get((src, dst), PortSet.none()) | parse_ports(conns)
    return [f"{src} => {dst} : {ports}" for (src, dst), ports in joined.items()]


def reach_lines(case: Path) -> list[str]:
    net = reach.load(case / "input", ipblock_pods=False, host_network_pods=True)
    return [str(c) for c in net.connections(by="workload")
            if not any(e.is_external and e.lo >= IPV6_BASE for e in (c.src, c.dst))]


def diff_report(expected: list[str], actual: list[str]) -> str:
    exp_pairs, exp_ext = normalise(expected)
    act_pairs, act_ext = normalise(actual)
    problems = []
    for key in sorted(set(exp_pairs) | set(act_pairs)):
        if exp_pairs.get(key) != act_pairs.get(key):
            problems.append(f"{key[0]} => {key[1]}: golden {exp_pairs.get(key)} reach "
                            f"{act_pairs.get(key)}")
    for key in sorted(set(exp_ext) | set(act_ext)):
        if exp_ext.get(key) != act_ext.get(key):
            problems.append(f"external {key}: golden {exp_ext.get(key)} reach {act_ext.get(key)}")
    return "\n".join(problems)


IPV6_BASE = address_key("::")
NP_ONLY = cases("NetworkPolicy only")
ADMIN = cases("ANP/BANP (+NP)")
INGRESS = cases("NP + Ingress/Route")


@pytest.mark.skipif(corpus_dir() is None, reason="conformance corpus not present")
def test_corpus_has_the_42_networkpolicy_cases() -> None:
    assert len(NP_ONLY) == 42


@pytest.mark.skipif(corpus_dir() is None, reason="conformance corpus not present")
def test_corpus_has_the_54_admin_policy_cases() -> None:
    assert len(ADMIN) == 54


@pytest.mark.skipif(corpus_dir() is None, reason="conformance corpus not present")
def test_corpus_has_the_8_ingress_and_route_cases() -> None:
    assert len(INGRESS) == 8


@pytest.mark.parametrize("name", NP_ONLY + ADMIN + INGRESS)
def test_case_matches_golden(name: str) -> None:
    base = corpus_dir()
    assert base is not None
    case = base / "cases" / name
    expected = renamed((case / "expected_connlist.txt").read_text().splitlines(),
                       deployment_names(case), ended_workloads(case))
    problems = diff_report(expected, reach_lines(case))
    assert not problems, problems[:4000]


def test_golden_parser_reads_every_connection_form() -> None:
    ports = parse_ports("SCTP 1-9002,9004-65535,TCP 80,8080,UDP 53")
    assert ports.allows("SCTP", 9002) and not ports.allows("SCTP", 9003)
    assert ports.allows("TCP", 8080) and not ports.allows("TCP", 81)
    assert ports.allows("UDP", 53) and not ports.allows("UDP", 54)
    assert parse_ports("All Connections") == PortSet.all().restricted(NP_GUARD_PROTOCOLS)
    assert parse_ports("All Connections but SCTP 9003") == parse_ports(
        "SCTP 1-9002,9004-65535,TCP 1-65535,UDP 1-65535")


def test_external_ranges_compare_by_address_not_by_cut() -> None:
    one = ["0.0.0.0-255.255.255.255[External] => ns/a[Pod] : TCP 80"]
    two = [
        "0.0.0.0-9.255.255.255[External] => ns/a[Pod] : TCP 80",
        "10.0.0.0-255.255.255.255[External] => ns/a[Pod] : TCP 80",
    ]
    assert diff_report(one, two) == ""
    three = ["0.0.0.0-9.255.255.255[External] => ns/a[Pod] : TCP 80"]
    assert diff_report(one, three) != ""
