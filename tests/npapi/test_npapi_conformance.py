"""The admin policy API's own conformance suite, probe for probe, against reach.

kubernetes-sigs/network-policy-api tests implementations of ClusterNetworkPolicy
with a suite in ``conformance/``: it deploys namespaces and StatefulSets, applies
the policies of one test, sometimes changes them between sub-tests, and has a
client pod connect to a server pod's IP (``PokeServer``), expecting the connection
to succeed or to time out. reach must predict every one of those outcomes.

What we keep here are the facts of the suite, written our way: per test the
manifests it applies, per sub-test the change it makes (kept by the sub-tests after
it, as on the cluster) and the probes with their expected outcome. The manifests
themselves are read at test time from a network-policy-api checkout or bare
repository (``REACH_NPAPI_DIR``; see ``upstream.py``) and the module skips when
there is none. Each probe is asked of what a user would feed reach from a kind
cluster running the suite (``livecluster.py``): a ``kubectl get -o yaml`` dump of
Namespaces, Nodes, StatefulSets, their Pods with IPs (host-network pods on their
Node's IP), kube-system, and the policies as changed so far, in three address
families. reach reads it with its defaults (address peers match pod IPs,
host-network pods are node traffic) and answers ``Network.can`` by the server's IP,
as upstream pokes, and by its name; the answer's explanation and the brute-force
oracle must agree too. The same probes are also asked of a ``kubectl get all`` dump
(no Namespace, no Node), where a wrong answer must at least come with a caveat.

``test_transcription_matches_upstream`` reads the Go tests and checks this
transcription against them (tests, manifests, sub-tests, every probe), so a new or
changed probe upstream fails here rather than going unnoticed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import oracle
import pytest
import yaml

import reach
from npapi.edits import (
    DeleteNetworkPolicy,
    Edit,
    NamedPortOnly,
    PrependAcceptToPodIPs,
    RelabelNamespace,
    SetAction,
    SetPriority,
    SwapRules,
)
from npapi.gotests import read_go_tests
from npapi.livecluster import World, add_policy, live_cluster
from npapi.upstream import (
    BASE_MANIFESTS,
    HOST_NETWORK_PORTS,
    Upstream,
    UpstreamMissing,
    locate,
    render,
)
from reach.verdict import Verdict

NS_PREFIX = "network-policy-conformance-"

# -- the transcription ----------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """``client`` connects to ``server``'s pod IP on ``protocol``/``port``, or times out."""

    client: str
    server: str
    protocol: str
    port: int
    connects: bool

    _FORM = re.compile(r"(\S+) -> (\S+) (tcp|udp|sctp)/(host\d|\d+) (connects|blocked)")

    @classmethod
    def parse(cls, text: str) -> Probe:
        """``"CLIENT -> SERVER PROTO/PORT connects|blocked"``; port ``hostN`` is the
        suite's N-th host-network port."""
        found = cls._FORM.fullmatch(text)
        if found is None:
            raise ValueError(f"not a probe: {text!r}")
        client, server, protocol, port, outcome = found.groups()
        number = HOST_NETWORK_PORTS[int(port[4:])] if port.startswith("host") else int(port)
        return cls(client, server, protocol.upper(), number, outcome == "connects")

    def __str__(self) -> str:
        word = "connects" if self.connects else "blocked"
        return f"{self.client} -> {self.server} {self.protocol}/{self.port} {word}"


@dataclass(frozen=True)
class Step:
    """One upstream sub-test: edits and probes in the order it makes them."""

    about: str
    actions: tuple[Edit | Probe, ...]


def step(about: str, *actions: Edit | str) -> Step:
    return Step(about, tuple(Probe.parse(a) if isinstance(a, str) else a for a in actions))


@dataclass(frozen=True)
class Case:
    """One upstream ConformanceTest: the manifests it applies, its sub-tests in order."""

    name: str
    manifests: tuple[str, ...]
    steps: tuple[Step, ...]


def swap(policy: str, direction: str, first: int, second: int) -> SwapRules:
    return SwapRules(policy, direction, first, second)


def swap_both(policy: str, first: int, second: int) -> tuple[SwapRules, SwapRules]:
    return swap(policy, "egress", first, second), swap(policy, "ingress", first, second)


ADMIN = "conformance/base/admin_tier/"
BASELINE = "conformance/base/baseline_tier/"
INTEGRATION = "conformance/base/api_integration/"


def _cidr_case(name: str, manifest: str, policy: str) -> Case:
    """The inline-CIDR test, identical in both tiers: a pods peer Accepts slytherin,
    0.0.0.0/0 and ::/0 Deny the rest (pod IPs included); relabelling slytherin takes it
    out of the pods peer; an Accept of two pod IPs put first lets those two through."""
    probes = [
        f"harry-potter-1 -> {server} {proto} {outcome}"
        for server, outcome in (("luna-lovegood-0", "blocked"), ("cedric-diggory-0", "blocked"),
                                ("draco-malfoy-0", "connects"))
        for proto in ("tcp/80", "udp/53", "sctp/9003")
    ]
    to_draco = [f"harry-potter-1 -> draco-malfoy-0 {p}" for p in ("tcp/80", "udp/53", "sctp/9003")]
    second = [
        f"harry-potter-1 -> {server} {proto} {outcome}"
        for server, outcome in (("luna-lovegood-0", "connects"), ("cedric-diggory-0", "connects"),
                                ("luna-lovegood-1", "blocked"), ("cedric-diggory-1", "blocked"))
        for proto in ("tcp/80", "udp/53", "sctp/9003")
    ]
    slytherin = NS_PREFIX + "slytherin"
    return Case(name, (manifest,), (
        step("networks deny pods outside the Accepted namespace; relabel it out and back",
             *probes,
             RelabelNamespace(slytherin, (("conformance-house", "denied-namespace-label"),)),
             *(f"{p} blocked" for p in to_draco),
             RelabelNamespace(slytherin, (("conformance-house", "slytherin"),)),
             *(f"{p} connects" for p in to_draco)),
        step("an Accept of two pod IPs (/32 or /128) before the deny",
             PrependAcceptToPodIPs(policy, "allow-egress-to-specific-podIPs",
                                   ("luna-lovegood-0", "cedric-diggory-0")),
             *second),
    ))


def _one_protocol(
    name: str, manifest: str, policy: str, direction: str, *pairs: tuple[str, str]
) -> Case:
    """A test of one protocol in one direction, the same six sub-tests in each (the
    Baseline tier, which has no Pass, runs the first four); ``pairs`` are the two probes
    of each sub-test, in order."""
    plan: tuple[tuple[str, tuple[Edit, ...]], ...] = (
        ("Accept before Deny", ()),
        ("Accept on one port, Deny the rest", ()),
        ("Deny moved before Accept", (swap(policy, direction, 0, 1),)),
        ("Deny on one port, nothing on the others", ()),
        ("Pass moved first", (swap(policy, direction, 0, 2),)),
        ("Pass on one port moved before its Deny", (swap(policy, direction, 3, 4),)),
    )
    if len(pairs) > len(plan):
        raise ValueError(f"{name}: {len(pairs)} sub-tests, the shape has {len(plan)}")
    return Case(name, (manifest,), tuple(
        step(about, *edits, *probes) for (about, edits), probes in zip(plan, pairs, strict=False)
    ))


def _gress_steps(policy: str) -> tuple[Step, ...]:
    """The four sub-tests the combined-rules test has in both tiers: each rule holds
    TCP, UDP and SCTP, and both directions are probed."""
    return (
        step("Accept before Deny, out and in",
             "harry-potter-0 -> luna-lovegood-0 tcp/80 connects",
             "harry-potter-1 -> luna-lovegood-0 udp/53 connects",
             "harry-potter-0 -> luna-lovegood-0 sctp/9003 connects",
             "luna-lovegood-0 -> harry-potter-0 tcp/80 connects",
             "luna-lovegood-1 -> harry-potter-0 udp/53 connects",
             "luna-lovegood-1 -> harry-potter-0 sctp/9003 connects"),
        step("Accept on one port per protocol, Deny the rest, out and in",
             "harry-potter-0 -> cedric-diggory-1 tcp/8080 connects",
             "harry-potter-1 -> cedric-diggory-1 tcp/80 blocked",
             "harry-potter-0 -> cedric-diggory-1 udp/5353 connects",
             "harry-potter-1 -> cedric-diggory-1 udp/53 blocked",
             "harry-potter-0 -> cedric-diggory-1 sctp/9003 connects",
             "harry-potter-1 -> cedric-diggory-1 sctp/9005 blocked",
             "cedric-diggory-0 -> harry-potter-1 tcp/80 connects",
             "cedric-diggory-1 -> harry-potter-1 tcp/8080 blocked",
             "cedric-diggory-0 -> harry-potter-1 udp/5353 connects",
             "cedric-diggory-1 -> harry-potter-1 udp/53 blocked",
             "cedric-diggory-0 -> harry-potter-1 sctp/9003 connects",
             "cedric-diggory-1 -> harry-potter-1 sctp/9005 blocked"),
        step("Deny moved before Accept, out and in",
             *swap_both(policy, 0, 1),
             "harry-potter-0 -> luna-lovegood-1 tcp/80 blocked",
             "harry-potter-1 -> luna-lovegood-1 udp/53 blocked",
             "harry-potter-0 -> luna-lovegood-1 sctp/9003 blocked",
             "luna-lovegood-0 -> harry-potter-1 tcp/80 blocked",
             "luna-lovegood-1 -> harry-potter-1 udp/53 blocked",
             "luna-lovegood-1 -> harry-potter-1 sctp/9003 blocked"),
        step("Deny on one port per protocol, nothing on the others, out and in",
             "harry-potter-0 -> draco-malfoy-0 tcp/80 blocked",
             "harry-potter-1 -> draco-malfoy-0 tcp/8080 connects",
             "harry-potter-0 -> draco-malfoy-0 udp/53 blocked",
             "harry-potter-1 -> draco-malfoy-0 udp/5353 connects",
             "harry-potter-0 -> draco-malfoy-0 sctp/9003 blocked",
             "harry-potter-1 -> draco-malfoy-0 sctp/9005 connects",
             "draco-malfoy-0 -> harry-potter-0 tcp/80 blocked",
             "draco-malfoy-1 -> harry-potter-0 tcp/8080 connects",
             "draco-malfoy-0 -> harry-potter-0 udp/53 blocked",
             "draco-malfoy-1 -> harry-potter-0 udp/5353 connects",
             "draco-malfoy-0 -> harry-potter-0 sctp/9003 blocked",
             "draco-malfoy-1 -> harry-potter-0 sctp/9005 connects"),
    )


SUITE: tuple[Case, ...] = (
    # ---- Admin tier: ingress, one protocol each ------------------------------
    _one_protocol("CNPAdminTierIngressTCP", ADMIN + "standard-ingress-tcp-rules.yaml",
                  "ingress-tcp", "ingress",
                  ("luna-lovegood-0 -> harry-potter-0 tcp/80 connects",
                   "luna-lovegood-1 -> harry-potter-0 tcp/8080 connects"),
                  ("cedric-diggory-0 -> harry-potter-1 tcp/80 connects",
                   "cedric-diggory-1 -> harry-potter-1 tcp/8080 blocked"),
                  ("luna-lovegood-0 -> harry-potter-1 tcp/80 blocked",
                   "luna-lovegood-1 -> harry-potter-1 tcp/8080 blocked"),
                  ("draco-malfoy-0 -> harry-potter-0 tcp/80 blocked",
                   "draco-malfoy-1 -> harry-potter-0 tcp/8080 connects"),
                  ("luna-lovegood-0 -> harry-potter-0 tcp/80 connects",
                   "luna-lovegood-1 -> harry-potter-0 tcp/8080 connects"),
                  ("draco-malfoy-0 -> harry-potter-0 tcp/80 connects",
                   "draco-malfoy-1 -> harry-potter-0 tcp/8080 connects")),
    _one_protocol("CNPAdminTierIngressUDP", ADMIN + "standard-ingress-udp-rules.yaml",
                  "ingress-udp", "ingress",
                  ("luna-lovegood-0 -> cedric-diggory-0 udp/53 connects",
                   "luna-lovegood-1 -> cedric-diggory-0 udp/5353 connects"),
                  ("harry-potter-0 -> cedric-diggory-1 udp/53 connects",
                   "harry-potter-1 -> cedric-diggory-1 udp/5353 blocked"),
                  ("luna-lovegood-0 -> cedric-diggory-1 udp/53 blocked",
                   "luna-lovegood-1 -> cedric-diggory-1 udp/5353 blocked"),
                  ("draco-malfoy-0 -> cedric-diggory-0 udp/5353 blocked",
                   "draco-malfoy-1 -> cedric-diggory-0 udp/53 connects"),
                  ("luna-lovegood-0 -> cedric-diggory-1 udp/5353 connects",
                   "luna-lovegood-1 -> cedric-diggory-1 udp/53 connects"),
                  ("draco-malfoy-0 -> cedric-diggory-0 udp/5353 connects",
                   "draco-malfoy-1 -> cedric-diggory-0 udp/53 connects")),
    Case("CNPAdminTierIngressNamedPort", (ADMIN + "standard-ingress-udp-rules.yaml",), (
        step("the Accept on UDP 53 rewritten as the named port dns",
             NamedPortOnly("ingress-udp", "ingress", 5, "dns"),
             "harry-potter-0 -> cedric-diggory-1 udp/53 connects",
             "harry-potter-1 -> cedric-diggory-1 udp/5353 blocked"),
    )),
    _one_protocol("CNPAdminTierIngressSCTP", ADMIN + "standard-ingress-sctp-rules.yaml",
                  "ingress-sctp", "ingress",
                  ("harry-potter-0 -> luna-lovegood-0 sctp/9003 connects",
                   "harry-potter-1 -> luna-lovegood-0 sctp/9005 connects"),
                  ("cedric-diggory-0 -> luna-lovegood-1 sctp/9003 connects",
                   "cedric-diggory-1 -> luna-lovegood-1 sctp/9005 blocked"),
                  ("harry-potter-0 -> luna-lovegood-1 sctp/9003 blocked",
                   "harry-potter-1 -> luna-lovegood-1 sctp/9005 blocked"),
                  ("draco-malfoy-0 -> luna-lovegood-0 sctp/9003 blocked",
                   "draco-malfoy-1 -> luna-lovegood-0 sctp/9005 connects"),
                  ("harry-potter-0 -> luna-lovegood-1 sctp/9003 connects",
                   "harry-potter-1 -> luna-lovegood-1 sctp/9005 connects"),
                  ("draco-malfoy-0 -> luna-lovegood-0 sctp/9003 connects",
                   "draco-malfoy-1 -> luna-lovegood-0 sctp/9005 connects")),
    # ---- Admin tier: egress, one protocol each -------------------------------
    _one_protocol("CNPAdminTierEgressTCP", ADMIN + "standard-egress-tcp-rules.yaml",
                  "egress-tcp", "egress",
                  ("harry-potter-0 -> luna-lovegood-0 tcp/80 connects",
                   "harry-potter-1 -> luna-lovegood-0 tcp/8080 connects"),
                  ("harry-potter-0 -> cedric-diggory-1 tcp/8080 connects",
                   "harry-potter-1 -> cedric-diggory-1 tcp/80 blocked"),
                  ("harry-potter-0 -> luna-lovegood-1 tcp/80 blocked",
                   "harry-potter-1 -> luna-lovegood-1 tcp/8080 blocked"),
                  ("harry-potter-0 -> draco-malfoy-0 tcp/80 blocked",
                   "harry-potter-1 -> draco-malfoy-0 tcp/8080 connects"),
                  ("harry-potter-0 -> luna-lovegood-0 tcp/80 connects",
                   "harry-potter-1 -> luna-lovegood-0 tcp/8080 connects"),
                  ("harry-potter-0 -> draco-malfoy-0 tcp/80 connects",
                   "harry-potter-1 -> draco-malfoy-0 tcp/8080 connects")),
    Case("CNPAdminTierEgressNamedPort", (ADMIN + "standard-egress-tcp-rules.yaml",), (
        step("the Accept on TCP 8080 rewritten as the named port web (TCP 80)",
             NamedPortOnly("egress-tcp", "egress", 5, "web"),
             "harry-potter-0 -> cedric-diggory-1 tcp/80 connects",
             "harry-potter-1 -> cedric-diggory-1 tcp/8080 blocked"),
    )),
    Case("CNPAdminTierEgressNodePeers", (ADMIN + "experimental-egress-selector-rules.yaml",), (
        step("Accept to the nodes on the first host port",
             "harry-potter-1 -> centaur-1 tcp/host0 connects"),
        step("Pass to the nodes on a UDP host port",
             "harry-potter-1 -> centaur-1 udp/host2 connects"),
        step("Deny to the nodes on the other host ports",
             "harry-potter-1 -> centaur-1 tcp/host1 blocked",
             "harry-potter-1 -> centaur-1 udp/host4 blocked",
             "harry-potter-1 -> centaur-1 sctp/host6 blocked"),
    )),
    _one_protocol("CNPAdminTierEgressUDP", ADMIN + "standard-egress-udp-rules.yaml",
                  "egress-udp", "egress",
                  ("cedric-diggory-0 -> luna-lovegood-0 udp/53 connects",
                   "cedric-diggory-1 -> luna-lovegood-0 udp/5353 connects"),
                  ("cedric-diggory-0 -> harry-potter-1 udp/53 connects",
                   "cedric-diggory-1 -> harry-potter-1 udp/5353 blocked"),
                  ("cedric-diggory-0 -> luna-lovegood-1 udp/53 blocked",
                   "cedric-diggory-1 -> luna-lovegood-1 udp/5353 blocked"),
                  ("cedric-diggory-0 -> draco-malfoy-0 udp/5353 blocked",
                   "cedric-diggory-1 -> draco-malfoy-0 udp/53 connects"),
                  ("cedric-diggory-0 -> luna-lovegood-1 udp/5353 connects",
                   "cedric-diggory-1 -> luna-lovegood-1 udp/53 connects"),
                  ("cedric-diggory-0 -> draco-malfoy-0 udp/5353 connects",
                   "cedric-diggory-1 -> draco-malfoy-0 udp/53 connects")),
    _one_protocol("CNPAdminTierEgressSCTP", ADMIN + "standard-egress-sctp-rules.yaml",
                  "egress-sctp", "egress",
                  ("luna-lovegood-0 -> harry-potter-0 sctp/9003 connects",
                   "luna-lovegood-1 -> harry-potter-0 sctp/9005 connects"),
                  ("luna-lovegood-0 -> cedric-diggory-1 sctp/9003 connects",
                   "luna-lovegood-1 -> cedric-diggory-1 sctp/9005 blocked"),
                  ("luna-lovegood-0 -> harry-potter-1 sctp/9003 blocked",
                   "luna-lovegood-1 -> harry-potter-1 sctp/9005 blocked"),
                  ("luna-lovegood-0 -> draco-malfoy-0 sctp/9003 blocked",
                   "luna-lovegood-1 -> draco-malfoy-0 sctp/9005 connects"),
                  ("luna-lovegood-0 -> harry-potter-1 sctp/9003 connects",
                   "luna-lovegood-1 -> harry-potter-1 sctp/9005 connects"),
                  ("luna-lovegood-0 -> draco-malfoy-0 sctp/9003 connects",
                   "luna-lovegood-1 -> draco-malfoy-0 sctp/9005 connects")),
    # ---- Admin tier: both directions, three protocols per rule ---------------
    Case("CNPAdminTierGress", (ADMIN + "standard-gress-rules-combined.yaml",), (
        *_gress_steps("gress-rules"),
        step("Pass moved first, out and in",
             *swap_both("gress-rules", 0, 2),
             "harry-potter-0 -> luna-lovegood-0 tcp/80 connects",
             "harry-potter-0 -> luna-lovegood-0 udp/5353 connects",
             "harry-potter-0 -> luna-lovegood-0 sctp/9003 connects",
             "luna-lovegood-0 -> harry-potter-0 tcp/80 connects",
             "luna-lovegood-1 -> harry-potter-0 udp/53 connects",
             "luna-lovegood-1 -> harry-potter-0 sctp/9003 connects"),
        step("Pass on one port per protocol moved before its Deny, out and in",
             *swap_both("gress-rules", 3, 4),
             "harry-potter-0 -> draco-malfoy-0 tcp/80 connects",
             "harry-potter-1 -> draco-malfoy-0 tcp/8080 connects",
             "harry-potter-0 -> draco-malfoy-0 udp/53 connects",
             "harry-potter-1 -> draco-malfoy-0 udp/5353 connects",
             "harry-potter-0 -> draco-malfoy-0 sctp/9003 connects",
             "harry-potter-1 -> draco-malfoy-0 sctp/9005 connects",
             "draco-malfoy-0 -> harry-potter-0 tcp/80 connects",
             "draco-malfoy-1 -> harry-potter-0 tcp/8080 connects",
             "draco-malfoy-0 -> harry-potter-0 udp/53 connects",
             "draco-malfoy-1 -> harry-potter-0 udp/5353 connects",
             "draco-malfoy-0 -> harry-potter-0 sctp/9003 connects",
             "draco-malfoy-1 -> harry-potter-0 sctp/9005 connects"),
    )),
    _cidr_case("CNPAdminTierEgressInlineCIDRPeers",
               ADMIN + "standard-egress-inline-cidr-rules.yaml", "inline-cidr-as-peers-example"),
    # ---- Admin tier: priority; the three tiers together ----------------------
    Case("CNPAdminTierPriorityField", (ADMIN + "standard-priority-field.yaml",), (
        step("the Deny at priority 50 wins over the Pass at 60, in",
             "draco-malfoy-0 -> harry-potter-0 tcp/80 blocked",
             "draco-malfoy-1 -> harry-potter-0 tcp/8080 blocked"),
        step("the Deny at priority 50 wins over the Pass at 60, out",
             "harry-potter-0 -> draco-malfoy-0 tcp/80 blocked",
             "harry-potter-1 -> draco-malfoy-0 tcp/8080 blocked"),
        step("the Pass moved to priority 40 hands over to the Baseline Accept",
             SetPriority("old-priority-60-new-priority-40-example", 40),
             "draco-malfoy-0 -> harry-potter-0 tcp/80 connects",
             "draco-malfoy-1 -> harry-potter-0 tcp/8080 connects",
             "harry-potter-0 -> draco-malfoy-0 tcp/80 connects",
             "harry-potter-1 -> draco-malfoy-0 tcp/8080 connects"),
    )),
    Case("CNPAdminTierIntegration", (INTEGRATION + "standard-anp-np-banp.yaml",), (
        step("the Admin Deny decides, in",
             "draco-malfoy-0 -> harry-potter-0 tcp/80 blocked",
             "draco-malfoy-1 -> harry-potter-0 tcp/8080 blocked"),
        step("the Admin Deny decides, out",
             "harry-potter-0 -> draco-malfoy-0 tcp/80 blocked",
             "harry-potter-1 -> draco-malfoy-0 tcp/8080 blocked"),
        step("the ingress Deny made Pass: the NetworkPolicy allows",
             SetAction("pass-example", "ingress", 0, "Pass"),
             "draco-malfoy-0 -> harry-potter-0 tcp/80 connects",
             "draco-malfoy-1 -> harry-potter-0 tcp/8080 connects"),
        step("the egress Deny made Pass: the NetworkPolicy allows",
             SetAction("pass-example", "egress", 0, "Pass"),
             "harry-potter-0 -> draco-malfoy-0 tcp/80 connects",
             "harry-potter-1 -> draco-malfoy-0 tcp/8080 connects"),
        step("the NetworkPolicy deleted: the Baseline Deny decides, in",
             DeleteNetworkPolicy(NS_PREFIX + "gryffindor",
                                 "allow-gress-from-to-slytherin-to-gryffindor"),
             "draco-malfoy-0 -> harry-potter-0 tcp/80 blocked",
             "draco-malfoy-1 -> harry-potter-0 tcp/8080 blocked"),
        step("the Baseline Deny decides, out",
             "harry-potter-0 -> draco-malfoy-0 tcp/80 blocked",
             "harry-potter-1 -> draco-malfoy-0 tcp/8080 blocked"),
    )),
    # ---- Baseline tier: ingress ----------------------------------------------
    _one_protocol("CNPBaselineTierIngressTCP", BASELINE + "standard-ingress-tcp-rules.yaml",
                  "default", "ingress",
                  ("luna-lovegood-0 -> harry-potter-0 tcp/80 connects",
                   "luna-lovegood-1 -> harry-potter-0 tcp/8080 connects"),
                  ("cedric-diggory-0 -> harry-potter-1 tcp/80 connects",
                   "cedric-diggory-1 -> harry-potter-1 tcp/8080 blocked"),
                  ("luna-lovegood-0 -> harry-potter-1 tcp/80 blocked",
                   "luna-lovegood-1 -> harry-potter-1 tcp/8080 blocked"),
                  ("draco-malfoy-0 -> harry-potter-0 tcp/80 blocked",
                   "draco-malfoy-1 -> harry-potter-0 tcp/8080 connects")),
    Case("CNPBaselineTierIngressNamedPort", (BASELINE + "standard-ingress-tcp-rules.yaml",), (
        step("the Accept on TCP 80 rewritten as the named port web",
             NamedPortOnly("default", "ingress", 3, "web"),
             "cedric-diggory-0 -> harry-potter-1 tcp/80 connects",
             "cedric-diggory-1 -> harry-potter-1 tcp/8080 blocked"),
    )),
    _one_protocol("CNPBaselineTierIngressUDP", BASELINE + "standard-ingress-udp-rules.yaml",
                  "default", "ingress",
                  ("luna-lovegood-0 -> cedric-diggory-0 udp/53 connects",
                   "luna-lovegood-1 -> cedric-diggory-0 udp/5353 connects"),
                  ("harry-potter-0 -> cedric-diggory-1 udp/53 connects",
                   "harry-potter-1 -> cedric-diggory-1 udp/5353 blocked"),
                  ("luna-lovegood-0 -> cedric-diggory-1 udp/53 blocked",
                   "luna-lovegood-1 -> cedric-diggory-1 udp/5353 blocked"),
                  ("draco-malfoy-0 -> cedric-diggory-0 udp/5353 blocked",
                   "draco-malfoy-1 -> cedric-diggory-0 udp/53 connects")),
    _one_protocol("CNPBaselineTierIngressSCTP", BASELINE + "standard-ingress-sctp-rules.yaml",
                  "default", "ingress",
                  ("harry-potter-0 -> luna-lovegood-0 sctp/9003 connects",
                   "harry-potter-1 -> luna-lovegood-0 sctp/9005 connects"),
                  ("cedric-diggory-0 -> luna-lovegood-1 sctp/9003 connects",
                   "cedric-diggory-1 -> luna-lovegood-1 sctp/9005 blocked"),
                  ("harry-potter-0 -> luna-lovegood-1 sctp/9003 blocked",
                   "harry-potter-1 -> luna-lovegood-1 sctp/9005 blocked"),
                  ("draco-malfoy-0 -> luna-lovegood-0 sctp/9003 blocked",
                   "draco-malfoy-1 -> luna-lovegood-0 sctp/9005 connects")),
    # ---- Baseline tier: egress -----------------------------------------------
    _one_protocol("CNPBaselineTierEgressTCP", BASELINE + "standard-egress-tcp-rules.yaml",
                  "default", "egress",
                  ("harry-potter-0 -> luna-lovegood-0 tcp/80 connects",
                   "harry-potter-1 -> luna-lovegood-0 tcp/8080 connects"),
                  ("harry-potter-0 -> cedric-diggory-1 tcp/8080 connects",
                   "harry-potter-1 -> cedric-diggory-1 tcp/80 blocked"),
                  ("harry-potter-0 -> luna-lovegood-1 tcp/80 blocked",
                   "harry-potter-1 -> luna-lovegood-1 tcp/8080 blocked"),
                  ("harry-potter-0 -> draco-malfoy-0 tcp/80 blocked",
                   "harry-potter-1 -> draco-malfoy-0 tcp/8080 connects")),
    Case("CNPBaselineTierEgressNamedPort", (BASELINE + "standard-egress-udp-rules.yaml",), (
        step("the Accept on UDP 53 rewritten as the named port dns",
             NamedPortOnly("default", "egress", 3, "dns"),
             "cedric-diggory-0 -> harry-potter-1 udp/53 connects",
             "cedric-diggory-1 -> harry-potter-1 udp/5353 blocked"),
    )),
    Case("CNPBaselineTierEgressNodePeers",
         (BASELINE + "experimental-egress-selector-rules.yaml",), (
        step("Accept to the nodes on a range of two host ports",
             "harry-potter-0 -> centaur-1 tcp/host0 connects",
             "harry-potter-1 -> centaur-1 tcp/host1 connects"),
        step("Deny to the nodes on the other host ports",
             "harry-potter-1 -> centaur-1 udp/host4 blocked",
             "harry-potter-1 -> centaur-1 sctp/host6 blocked"),
    )),
    _one_protocol("CNPBaselineTierEgressUDP", BASELINE + "standard-egress-udp-rules.yaml",
                  "default", "egress",
                  ("cedric-diggory-0 -> luna-lovegood-0 udp/53 connects",
                   "cedric-diggory-1 -> luna-lovegood-0 udp/5353 connects"),
                  ("cedric-diggory-0 -> harry-potter-1 udp/53 connects",
                   "cedric-diggory-1 -> harry-potter-1 udp/5353 blocked"),
                  ("cedric-diggory-0 -> luna-lovegood-1 udp/53 blocked",
                   "cedric-diggory-1 -> luna-lovegood-1 udp/5353 blocked"),
                  ("cedric-diggory-0 -> draco-malfoy-0 udp/5353 blocked",
                   "cedric-diggory-1 -> draco-malfoy-0 udp/53 connects")),
    _one_protocol("CNPBaselineTierEgressSCTP", BASELINE + "standard-egress-sctp-rules.yaml",
                  "default", "egress",
                  ("luna-lovegood-0 -> harry-potter-0 sctp/9003 connects",
                   "luna-lovegood-1 -> harry-potter-0 sctp/9005 connects"),
                  ("luna-lovegood-0 -> cedric-diggory-1 sctp/9003 connects",
                   "luna-lovegood-1 -> cedric-diggory-1 sctp/9005 blocked"),
                  ("luna-lovegood-0 -> harry-potter-1 sctp/9003 blocked",
                   "luna-lovegood-1 -> harry-potter-1 sctp/9005 blocked"),
                  ("luna-lovegood-0 -> draco-malfoy-0 sctp/9003 blocked",
                   "luna-lovegood-1 -> draco-malfoy-0 sctp/9005 connects")),
    # ---- Baseline tier: both directions --------------------------------------
    Case("CNPBaselineTierGress", (BASELINE + "standard-gress-rules-combined.yaml",),
         _gress_steps("default")),
    _cidr_case("CNPBaselineTierEgressInlineCIDRPeers",
               BASELINE + "standard-egress-inline-cidr-rules.yaml", "default"),
)


# Probes of the complete dumps where reach disagrees with the suite: (test, sub-test,
# probe) numbered from 1, the dumps it shows in (None: all of them) and why. None
# today: all 301 probes agree in every dump.
KNOWN_DISAGREEMENTS: dict[tuple[str, int, int], tuple[tuple[str, ...] | None, str]] = {}


# -- the dumps ------------------------------------------------------------------


@dataclass(frozen=True)
class Dump:
    """How the user dumped the cluster: its address family, the format, kinds not asked for."""

    name: str
    family: str
    suffix: str = ".yaml"
    left_out: frozenset[str] = frozenset()


# ``kubectl get namespaces,nodes,all,networkpolicies,clusternetworkpolicies -A``, in each
# address family (the dual-stack cluster printed as JSON).
FULL_DUMPS = (Dump("ipv4", "ipv4"), Dump("dual-json", "dual", ".json"), Dump("ipv6", "ipv6"))
# ``kubectl get all,networkpolicies,clusternetworkpolicies -A``: no Namespace, no Node.
WITHOUT_NAMESPACES_AND_NODES = Dump("ipv4-no-ns-no-nodes", "ipv4",
                                    left_out=frozenset({"Namespace", "Node"}))


# -- the probes as pytest parameters ------------------------------------------


@dataclass(frozen=True)
class Asked:
    """One probe in its place: the test, the edits made before it, its numbers."""

    case: Case
    step_no: int
    probe_no: int
    probe: Probe
    edits: int  # how many of the case's edits come before it

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.case.name, self.step_no, self.probe_no)

    def where(self) -> str:
        about = self.case.steps[self.step_no - 1].about
        return f"{self.case.name} sub-test {self.step_no} ({about}), probe {self.probe_no}"


def case_edits(case: Case) -> list[Edit]:
    return [a for s in case.steps for a in s.actions if not isinstance(a, Probe)]


def asked(case: Case) -> list[Asked]:
    out = []
    edits = 0
    for step_no, st in enumerate(case.steps, 1):
        probe_no = 0
        for action in st.actions:
            if isinstance(action, Probe):
                probe_no += 1
                out.append(Asked(case, step_no, probe_no, action, edits))
            else:
                edits += 1
    return out


def _params(
    dumps: tuple[Dump, ...],
    known: dict[tuple[str, int, int], tuple[tuple[str, ...] | None, str]],
) -> list[Any]:
    params = []
    for dump in dumps:
        for case in SUITE:
            for item in asked(case):
                marks = []
                entry = known.get(item.key)
                if entry is not None and (entry[0] is None or dump.name in entry[0]):
                    marks.append(pytest.mark.xfail(strict=True, reason=entry[1]))
                probe = item.probe
                ident = (f"{dump.name}-{case.name}-{item.step_no}.{item.probe_no}-"
                         f"{probe.client}-to-{probe.server}-{probe.protocol.lower()}{probe.port}")
                params.append(pytest.param(dump, item, id=ident, marks=marks))
    return params


# -- the cluster, step by step ------------------------------------------------


class Replay:
    """Builds (once) the dump and the reach Network of each test after its first N edits."""

    def __init__(self, upstream: Upstream, folder: Path) -> None:
        self.upstream = upstream
        self.folder = folder
        self._texts: dict[str, str] = {}
        self._base: dict[str, World] = {}
        self._states: dict[tuple[str, str, int], tuple[World, reach.Network]] = {}

    def rendered(self, path: str) -> list[dict[str, Any]]:
        if path not in self._texts:
            self._texts[path] = render(self.upstream.read(path))
        return [doc for doc in yaml.safe_load_all(self._texts[path]) if doc]

    def base(self, family: str) -> World:
        if family not in self._base:
            self._base[family] = live_cluster(self.rendered(BASE_MANIFESTS), family)
        return self._base[family]

    def state(self, dump: Dump, case: Case, edits: int) -> tuple[World, reach.Network]:
        """The cluster after the test applied its manifests and its first ``edits`` edits."""
        key = (dump.name, case.name, edits)
        if key not in self._states:
            world = self.base(dump.family).copy()
            for manifest in case.manifests:
                for doc in self.rendered(manifest):
                    add_policy(world, doc)
            for edit in case_edits(case)[:edits]:
                edit.apply(world)
            path = self.folder / f"{dump.name}-{case.name}-after-{edits}-edits{dump.suffix}"
            world.dump(path, dump.left_out)
            self._states[key] = (world, reach.load(path))
        return self._states[key]


@pytest.fixture(scope="module")
def upstream() -> Upstream:
    try:
        return locate()
    except UpstreamMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def replay(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Replay:
    return Replay(upstream, tmp_path_factory.mktemp("npapi-dumps"))


def verdicts(world: World, net: reach.Network, probe: Probe) -> dict[str, Verdict]:
    """``Network.can`` asked by the server's pod IP (as upstream pokes) and by its name."""
    client = world.pod_ref(probe.client)
    return {
        "by IP": net.can(client, world.pod_ip(probe.server), port=probe.port,
                         protocol=probe.protocol),
        "by name": net.can(client, world.pod_ref(probe.server), port=probe.port,
                           protocol=probe.protocol),
    }


# -- the tests ----------------------------------------------------------------


@pytest.mark.parametrize(("dump", "item"), _params(FULL_DUMPS, KNOWN_DISAGREEMENTS))
def test_probe(replay: Replay, dump: Dump, item: Asked) -> None:
    """reach predicts the outcome of one PokeServer of the suite, its explanation and
    the brute-force oracle agreeing."""
    world, net = replay.state(dump, item.case, item.edits)
    probe = item.probe
    wrong = []
    for how, verdict in verdicts(world, net, probe).items():
        explained = (verdict.egress.ports & verdict.ingress.ports).allows(probe.protocol,
                                                                          probe.port)
        if verdict.allowed != probe.connects or explained != probe.connects:
            wrong.append(f"{how}: can says {verdict.allowed}, its explanation {explained}\n"
                         f"{verdict!s}")
    pods = {p.ref: p for p in net.cluster.pods}
    brute = oracle.allowed(net.cluster, pods[world.pod_ref(probe.client)],
                           pods[world.pod_ref(probe.server)], probe.protocol, probe.port)
    if brute != probe.connects:
        wrong.append(f"the oracle says {brute}")
    edits = case_edits(item.case)[:item.edits]
    assert not wrong, (
        f"{item.where()}: upstream expects {probe}\n"
        f"after: {'; '.join(map(str, edits)) or 'no edit'}\n" + "\n".join(wrong)
    )


# Probes a dump without Namespaces and Nodes would get wrong with no caveat: none now
# (reach says when namespaces or nodes are missing); the smallest dumps that showed the
# gaps are in test_reach_gaps.py.
SILENT_WITHOUT_NAMESPACES_AND_NODES: dict[
    tuple[str, int, int], tuple[tuple[str, ...] | None, str]] = {}


@pytest.mark.parametrize(("dump", "item"), _params((WITHOUT_NAMESPACES_AND_NODES,),
                                                   SILENT_WITHOUT_NAMESPACES_AND_NODES))
def test_probe_without_namespaces_and_nodes_is_right_or_caveated(
    replay: Replay, dump: Dump, item: Asked
) -> None:
    """``kubectl get all`` leaves out Namespaces and Nodes: the labels that namespace and
    node selectors match are unknown. reach may then answer otherwise than the cluster,
    but never silently: a verdict that differs from upstream carries a caveat that the
    complete dump of the same cluster does not (a caveat for something else is no answer)."""
    world, net = replay.state(dump, item.case, item.edits)
    _, complete = replay.state(FULL_DUMPS[0], item.case, item.edits)
    news = _caveat_keys(net) - _caveat_keys(complete)
    probe = item.probe
    for how, verdict in verdicts(world, net, probe).items():
        assert verdict.allowed == probe.connects or news, (
            f"{item.where()}: upstream expects {probe}; {how}, with no caveat of its own:\n"
            f"{verdict!s}"
        )


def _caveat_keys(net: reach.Network) -> set[tuple[str, str]]:
    """The caveats of a network, without the file:line:col they cite (the dumps differ)."""
    return {(c.code or "", re.sub(r"\S+:\d+:\d+", "", c.message)) for c in net.caveats}


def test_transcription_matches_upstream(upstream: Upstream) -> None:
    """Our SUITE holds every registered upstream test, its manifests, its sub-tests
    and every probe in order, with the namespaces and outcome upstream uses."""
    go_tests, registered = read_go_tests(upstream)
    assert {c.name for c in SUITE} == registered
    for case in SUITE:
        go = go_tests[case.name]
        assert not go.unread, f"{case.name}: calls this check cannot read: {go.unread}"
        assert tuple(f"conformance/{m}" for m in go.manifests) == case.manifests, case.name
        assert len(go.steps) == len(case.steps), f"{case.name}: sub-tests"
        for step_no, (go_step, ours) in enumerate(zip(go.steps, case.steps, strict=True), 1):
            mine = [a for a in ours.actions if isinstance(a, Probe)]
            theirs = [Probe(g.client, g.server, g.protocol, g.port, g.connects)
                      for g in go_step]
            assert mine == theirs, f"{case.name} sub-test {step_no}"
            for g in go_step:
                assert g.client_namespace == namespace_of(g.client), (case.name, step_no, g)
                assert g.server_namespace == namespace_of(g.server), (case.name, step_no, g)


_HOUSES = {"harry-potter": "gryffindor", "draco-malfoy": "slytherin",
           "cedric-diggory": "hufflepuff", "luna-lovegood": "ravenclaw",
           "centaur": "forbidden-forrest"}


def namespace_of(pod: str) -> str:
    """The namespace of one of the suite's pods (StatefulSet ``NAME`` makes ``NAME-i``)."""
    return NS_PREFIX + _HOUSES[pod.rpartition("-")[0]]


def test_the_dump_holds_what_the_suite_deployed(replay: Replay) -> None:
    """Every pod the suite deploys is in the dump once, on its namespace, with an IP;
    host-network pods have their node's address, which a Node object carries."""
    for dump in FULL_DUMPS:
        family = dump.family
        world, net = replay.state(dump, SUITE[0], 0)
        nodes = {n["metadata"]["name"]: n for n in world.objects if n["kind"] == "Node"}
        for name, house in _HOUSES.items():
            for replica in (0, 1):
                pod = world.pod(f"{name}-{replica}")
                assert pod["metadata"]["namespace"] == NS_PREFIX + house
                assert pod["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"
                ips = [entry["ip"] for entry in pod["status"]["podIPs"]]
                assert len(ips) == (2 if family == "dual" else 1)
                if pod["spec"].get("hostNetwork"):
                    node = nodes[pod["spec"]["nodeName"]]
                    assert ips == [a["address"] for a in node["status"]["addresses"]
                                   if a["type"] == "InternalIP"]
                    assert node["metadata"]["labels"]["kubernetes.io/os"] == "linux"
        read = {p.ref: p for p in net.pods}
        assert read[world.pod_ref("centaur-1")].host_network
        assert read[world.pod_ref("harry-potter-0")].owner_kind == "StatefulSet"
