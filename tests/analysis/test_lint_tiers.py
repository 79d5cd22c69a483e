"""Lint of the admin and baseline tiers: each finding on the case it is about, quiet on
the case it is not, and a law: deleting what it reports changes no connection."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from strategies import clusters

from reach.analysis.diff import diff
from reach.analysis.lint import RULES, lint
from reach.loader import read_cluster
from reach.model import Cluster, Policy
from reach.network import Network

BASE = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {team: ops}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops, labels: {app: agent}}
"""
SHOP = "{namespaces: {matchLabels: {team: shop}}}"
OPS = "{namespaces: {matchLabels: {team: ops}}}"


def cnp(name: str, priority: int, subject: str, direction: str, *rules: str,
        tier: str = "Admin") -> str:
    body = "".join(f"  - {r}\n" for r in rules)
    return (f"apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
            f"metadata: {{name: {name}}}\nspec:\n  tier: {tier}\n  priority: {priority}\n"
            f"  subject: {subject}\n  {direction}:\n{body}")


def codes(*documents: str) -> dict[str, list[str]]:
    net = Network(read_cluster("-", stdin_text="\n---\n".join([BASE, *documents])))
    out: dict[str, list[str]] = {}
    for finding in lint(net):
        out.setdefault(finding.code, []).append(finding.subject)
    return out


def test_the_new_codes_are_registered_with_their_severity():
    for code in ("tier-rule-shadowed", "pass-changes-nothing", "baseline-unreachable",
                 "same-priority-overlap"):
        assert RULES[code][0] == "warning"


def test_a_rule_that_earlier_rules_always_decide_is_shadowed():
    found = codes(cnp("a", 5, SHOP, "ingress",
                      "{name: deny-all, action: Deny, from: [{namespaces: {}}]}",
                      f"{{name: late, action: Accept, from: [{OPS}]}}"))
    assert found["tier-rule-shadowed"] == ['cnp/a ingress rule "late"']


def test_a_rule_that_decides_something_is_not_shadowed():
    found = codes(cnp("a", 5, SHOP, "ingress",
                      f"{{name: ops-first, action: Accept, from: [{OPS}]}}",
                      "{name: deny-all, action: Deny, from: [{namespaces: {}}]}"))
    assert "tier-rule-shadowed" not in found


def test_shadowing_crosses_policies_in_priority_order():
    found = codes(cnp("first", 1, SHOP, "ingress",
                      "{name: all, action: Deny, from: [{namespaces: {}}]}"),
                  cnp("second", 2, SHOP, "ingress",
                      f"{{name: ops, action: Accept, from: [{OPS}]}}"))
    assert found["tier-rule-shadowed"] == ['cnp/second ingress rule "ops"']


def test_a_pass_with_nothing_after_it_in_the_tier_changes_nothing():
    found = codes(cnp("b", 7, OPS, "egress",
                      f"{{name: useless, action: Pass, to: [{SHOP}]}}"))
    assert found["pass-changes-nothing"] == ['cnp/b egress rule "useless"']


def test_a_pass_that_skips_a_later_deny_changes_something():
    found = codes(cnp("b", 7, OPS, "egress", f"{{name: skip, action: Pass, to: [{SHOP}]}}",
                      "{name: deny, action: Deny, to: [{namespaces: {}}]}"))
    assert "pass-changes-nothing" not in found
    assert "tier-rule-shadowed" not in found


def test_a_baseline_whose_pods_networkpolicies_isolate_is_never_reached():
    isolate = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
               "metadata: {name: all-out, namespace: shop}\n"
               "spec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}\n")
    baseline = cnp("base", 1, SHOP, "egress",
                   "{name: never, action: Deny, to: [{namespaces: {}}]}", tier="Baseline")
    assert codes(baseline, isolate)["baseline-unreachable"] == ["cnp/base egress"]
    assert "baseline-unreachable" not in codes(baseline)


def test_two_policies_of_one_priority_that_decide_differently_overlap():
    """ "If two (or more) policies in the same tier with the same priority could match a
    connection, then the implementation can apply any of the matching policies" """
    allow = cnp("c1", 9, OPS, "ingress", "{name: allow, action: Accept, from: [{namespaces: {}}]}")
    deny = cnp("c2", 9, OPS, "ingress", f"{{name: deny, action: Deny, from: [{SHOP}]}}")
    assert codes(allow, deny)["same-priority-overlap"] == ["cnp/c1"]
    # the same action at the same priority: any order gives the same verdict
    deny2 = cnp("c3", 9, OPS, "ingress", f"{{name: deny, action: Deny, from: [{SHOP}]}}")
    assert "same-priority-overlap" not in codes(deny, deny2)
    # different priorities: the order is defined
    assert "same-priority-overlap" not in codes(allow, deny.replace("priority: 9", "priority: 10"))


def test_a_subject_that_selects_nothing_says_which_namespaces_it_asked_for():
    found = lint(Network(read_cluster("-", stdin_text=BASE + "---\n" + cnp(
        "nobody", 1, "{namespaces: {matchLabels: {team: nope}}}", "ingress",
        "{action: Deny, from: [{namespaces: {}}]}"))))
    (finding,) = [f for f in found if f.code == "policy-selects-nothing"]
    assert "subject: namespaces [team=nope]" in finding.message
    assert "no namespace carries labels [team=nope]" in finding.hint


def test_a_nodes_peer_without_node_objects_says_to_add_them():
    found = lint(Network(read_cluster("-", stdin_text=BASE + "---\n" + cnp(
        "n", 1, SHOP, "egress", "{action: Deny, to: [{nodes: {matchLabels: {role: infra}}}]}"))))
    (finding,) = [f for f in found if f.code == "peer-matches-nothing"]
    assert finding.message.endswith("matches no Node") and "kubectl get nodes" in finding.hint


def _prune(cluster: Cluster, net: Network) -> Cluster:
    """Without the admin/baseline rules reported as shadowed or passing uselessly."""
    gone = {f.subject for f in lint(net)
            if f.code in ("tier-rule-shadowed", "pass-changes-nothing")}

    def keep(policy: Policy, direction: str) -> tuple:
        rules = policy.ingress if direction == "ingress" else policy.egress
        return tuple(r for r in rules if f"{policy.ref} {direction} {r.label}" not in gone
                     and f"{policy.ref} {r.label}" not in gone)

    return replace(cluster, policies=tuple(
        replace(p, ingress=keep(p, "ingress"), egress=keep(p, "egress"))
        for p in cluster.policies))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(max_admin=3))
def test_deleting_every_rule_reported_as_deciding_nothing_changes_no_connection(
        cluster: Cluster) -> None:
    for ipblock_pods in (True, False):
        net = Network(cluster, ipblock_pods=ipblock_pods)
        pruned = Network(_prune(cluster, net), ipblock_pods=ipblock_pods)
        assert not diff(net, pruned, by="pod")
