"""Policy lint: legal manifests that do not do what their authors think.

Every rule looks at the analysed network (the manifests and their compiled
classes) and yields :class:`Finding` objects with a severity, a stable code, the
place the problem was written and a hint saying how to fix it. The rules are exact
where they can be: "shadowed" and "redundant" are decided with the same sets the
compiler uses (pod classes that no selector can tell apart, outside address atoms
that every address set holds wholly or not at all), never by comparing YAML text.

One module per family of findings, each a list of :class:`Check` s over shared
facts (:mod:`reach.analysis.lint.facts`); :data:`FAMILIES` lists them once, and
:data:`RULES` (code -> severity, what it says) is read from their checks:

=============================== ======== ==============================================
code                            severity what it says
=============================== ======== ==============================================
``cidr-host-bits``              error    a CIDR with host bits set (``10.0.0.1/8``)
``plugin-no-enforcement``       error    policies present, but the network plugin seen
                                         in the input (flannel alone) does not enforce
                                         them (kindnet: warning, from kind v0.24)
``policy-selects-nothing``      warning  a policy whose subject matches no pod
``peer-matches-nothing``        warning  a peer whose selectors match no pod (or node)
``named-port-undefined``        warning  a named port no destination pod declares
``port-not-declared``           warning  a port no selected pod declares
``rule-shadowed``               warning  a NetworkPolicy rule that allows nothing the
                                         others do not
``rule-allows-nothing``         warning  a NetworkPolicy rule that allows nothing
``policy-redundant``            warning  a NetworkPolicy whose removal changes nothing
``tier-rule-shadowed``          warning  an admin or baseline rule that earlier rules of
                                         higher precedence always decide before it
``pass-changes-nothing``        warning  a Pass whose traffic the rest of its tier
                                         would leave undecided anyway
``baseline-unreachable``        warning  a baseline policy whose pods NetworkPolicies
                                         isolate: its rules are never reached
``same-priority-overlap``       warning  two policies of one tier and priority whose
                                         order decides a connection (the API leaves it
                                         undefined)
``dns-blocked``                 warning  egress isolation that blocks DNS to kube-dns
``ipblock-matches-pods``        warning  an address block that tells pods apart by IP
``no-default-deny``             info     a namespace without a default-deny policy
``pod-unprotected``             info     a workload no policy of any tier restricts
``plugin-unknown``              info     policies present, network plugin not in input
``calico-selects-nothing``      warning  a Calico policy whose selector matches no pod,
                                         or a rule entity whose selector matches no pod
                                         and no network set (or, on the rule's own end,
                                         none of the policy's pods)
``calico-shadowed-rule``        warning  a Calico rule that earlier rules of its policy,
                                         or of its tier in order, always decide first
``calico-undefined-tier``       warning  a Calico policy in a tier that no Tier object
                                         of the input defines
``calico-pass-to-nothing``      info     a Calico Pass with no later tier selecting the
                                         pod: Calico's default profile allows it
``calico-nets-on-pod-ips``      info     Calico nets, notNets or network sets that tell
                                         pods apart by their (ephemeral) IPs
=============================== ======== ==============================================

Examples
--------
>>> from reach.model import Cluster, Labels, LabelSelector, Pod, Policy
>>> from reach.network import Network
>>> typo = Policy("shop", "deny-db", LabelSelector(Labels({"app": "dbb"})))
>>> net = Network(Cluster(pods=(Pod("shop", "db", Labels({"app": "db"})),), policies=(typo,)))
>>> [f.code for f in lint(net) if f.severity != "info"]
['policy-selects-nothing']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reach.analysis.lint import (
    addresses,
    calico,
    isolation,
    plugins,
    ports,
    selection,
    shadowing,
    tiers,
)
from reach.analysis.lint.facts import Facts
from reach.analysis.lint.finding import RANK, SEVERITIES, Check, Finding, Severity
from reach.network import Network

__all__ = [
    "FAMILIES",
    "LINT_FORMATS",
    "RULES",
    "SEVERITIES",
    "Check",
    "Finding",
    "findings_json",
    "format_findings",
    "lint",
]

LINT_FORMATS: tuple[str, ...] = ("txt", "json")

#: The families of findings, each a module with its ``CHECKS``.
FAMILIES = (addresses, plugins, selection, ports, shadowing, tiers, calico, isolation)
CHECKS: tuple[Check, ...] = tuple(check for family in FAMILIES for check in family.CHECKS)
#: Every code: its severity and what it says.
RULES: dict[str, tuple[Severity, str]] = {
    code: entry for check in CHECKS for code, entry in check.codes.items()}


def _sort_key(f: Finding) -> tuple[int, str, int, int, str, str]:
    loc = f.location
    return (
        RANK[f.severity],
        loc.path if loc else "~",
        loc.line if loc else 0,
        loc.column if loc else 0,
        f.code,
        f.message,
    )


def lint(net: Network, *, severity: Severity = "info") -> list[Finding]:
    """Check a network's policies for mistakes; findings sorted errors first.

    Parameters
    ----------
    net
        The analysed network.
    severity
        The lowest severity to return (``"info"``, ``"warning"`` or ``"error"``).

    Returns
    -------
    list of Finding
        Sorted by severity (errors first), then file and line.

    Examples
    --------
    >>> from reach.model import (Cluster, IPBlock, Labels, LabelSelector, Peer, Pod,
    ...                          Policy, Rule)
    >>> out = Policy("ns", "out", LabelSelector(), ("Egress",), egress=(
    ...     Rule("egress", 0, peers=(Peer(ip_block=IPBlock("10.0.0.1/8")),)),))
    >>> net = Network(Cluster(pods=(Pod("ns", "a"),), policies=(out,)))
    >>> [f.code for f in lint(net, severity="error")]
    ['cidr-host-bits']
    """
    if severity not in RANK:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    facts = Facts.of(net)
    limit = RANK[severity]
    found = [f for check in CHECKS for f in check.run(facts)]
    # a rule that allows nothing because a peer or a named port matches nothing is
    # already explained by that finding
    explained = {f.subject for f in found if f.code in _EXPLAIN_EMPTY_RULES}
    found = [
        f
        for f in found
        if RANK[f.severity] <= limit
        and not (f.code == "rule-allows-nothing" and f.subject in explained)
    ]
    return sorted(found, key=_sort_key)


_EXPLAIN_EMPTY_RULES = ("peer-matches-nothing", "named-port-undefined")


def findings_json(findings: Sequence[Finding]) -> dict[str, Any]:
    """The JSON document of a list of findings: the findings and a count per severity."""
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    return {"findings": [f.to_json() for f in findings], "counts": counts}


def format_findings(findings: Sequence[Finding], fmt: str = "txt") -> str:
    """Findings as ``txt`` (one block each, then a count) or ``json``.

    Examples
    --------
    >>> print(format_findings([]))
    no findings
    """
    if fmt == "json":
        return json.dumps(findings_json(findings), indent=2)
    if fmt != "txt":
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(LINT_FORMATS)}")
    if not findings:
        return "no findings"
    totals = [
        f"{n} {s}{'s' if n != 1 else ''}"
        for s in ("error", "warning", "info")
        if (n := sum(1 for f in findings if f.severity == s))
    ]
    return "\n".join([*(str(f) for f in findings), ", ".join(totals)])
