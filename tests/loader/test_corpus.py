"""Every input of the netpol-analyzer conformance corpus loads (warnings allowed).

The corpus lives outside the repository (``../shared/conformance/netpol-analyzer`` or
``$REACH_CONFORMANCE_DIR``); these tests skip when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reach.loader import read_cluster

CORPUS = Path(os.environ.get(
    "REACH_CONFORMANCE_DIR",
    Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "netpol-analyzer",
))
CASES = sorted(p for p in (CORPUS / "cases").glob("*") if (p / "input").is_dir())


@pytest.mark.skipif(not CASES, reason=f"conformance corpus not found at {CORPUS}")
@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_corpus_input_loads(case: Path):
    cluster = read_cluster(case / "input")
    assert cluster.pods or cluster.policies
    for note in cluster.diagnostics:
        assert note.severity in ("info", "warning")


@pytest.mark.skipif(not CASES, reason=f"conformance corpus not found at {CORPUS}")
def test_corpus_admin_policies_are_read_and_other_kinds_noted_not_lost():
    by_case = {case.name: read_cluster(case / "input") for case in CASES}
    anp = by_case["anp_demo"]
    kinds = {p.kind for p in anp.policies}
    assert {"AdminNetworkPolicy", "BaselineAdminNetworkPolicy"} <= kinds
    assert not any("AdminNetworkPolicy" in d.message for d in anp.diagnostics
                   if d.code in ("unknown-kind", "not-analysed"))
    routes = by_case["demo_app_with_routes_and_ingress"]
    assert not any("Route" in d.message for d in routes.diagnostics)
    assert {i.kind for i in routes.ingresses} == {"Ingress", "Route"}


@pytest.mark.skipif(not CASES, reason=f"conformance corpus not found at {CORPUS}")
def test_corpus_json_arrays_are_skipped_with_a_warning_naming_the_file():
    cluster = read_cluster(CORPUS / "cases" / "onlineboutique" / "input")
    (note,) = [d for d in cluster.diagnostics if d.code == "not-kubernetes"]
    assert "connlist_output.json" in note.message and note.severity == "warning"
    assert cluster.policies and cluster.pods
