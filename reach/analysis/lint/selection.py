"""Subjects and peers that select nothing: policy-selects-nothing, peer-matches-nothing.

Calico policies select with Calico selectors over the labels Calico sees: the calico
family reports theirs (``calico-selects-nothing``).
"""

from __future__ import annotations

from collections.abc import Iterator

from reach.analysis.lint.facts import Facts, calico, rule_name, short_list
from reach.analysis.lint.finding import Check, Finding
from reach.engine.selectors import matches
from reach.model import NAMESPACE_NAME_LABEL, Peer, Policy, Rule


def _policy_findings(facts: Facts) -> Iterator[Finding]:
    """policy-selects-nothing, with a hint when the pods live elsewhere."""
    cluster = facts.net.cluster
    for policy in cluster.policies:
        if facts.selects(policy) or calico(policy):
            continue
        if policy.cluster_scoped:
            yield _subject_finding(facts, policy)
            continue
        elsewhere = sorted(
            {
                pod.namespace
                for pod in cluster.pods
                if pod.namespace != policy.namespace
                and not pod.host_network
                and matches(policy.pod_selector, pod.labels)
            }
        )
        if elsewhere:
            hint = (
                f"pods with these labels live in namespace {', '.join(elsewhere)}; a policy "
                f"only selects pods of its own namespace ({policy.namespace})"
            )
        else:
            hint = (
                f"no pod of namespace {policy.namespace} carries labels "
                f"[{policy.pod_selector}]; check the labels of the pods you meant"
            )
        yield Finding(
            "warning",
            "policy-selects-nothing",
            f"{policy.ref} selects no pod (podSelector [{policy.pod_selector}]): it has no "
            "effect",
            policy.location,
            hint,
            policy.ref,
        )


def _subject_finding(facts: Facts, policy: Policy) -> Finding:
    """policy-selects-nothing for a cluster-scoped subject (namespaces and pods)."""
    assert policy.namespace_selector is not None
    names = facts.namespaces_matching(policy.namespace_selector)
    if not names:
        hint = (f"no namespace carries labels [{policy.namespace_selector}]; every namespace "
                f"has the label {NAMESPACE_NAME_LABEL}: NAME")
    else:
        hint = (f"the namespaces it selects ({short_list(names)}) have no pod with labels "
                f"[{policy.pod_selector}] (host-network pods are never subjects)")
    return Finding(
        "warning", "policy-selects-nothing",
        f"{policy.ref} selects no pod (subject: namespaces [{policy.namespace_selector}], pods "
        f"[{policy.pod_selector}]): it has no effect",
        policy.location, hint, policy.ref)


def _node_finding(facts: Facts, policy: Policy, rule: Rule, i: int, peer: Peer) -> Finding | None:
    """peer-matches-nothing for a ``nodes`` peer: no Node of the input has those labels."""
    assert peer.node_selector is not None
    nodes = facts.net.cluster.nodes
    if any(matches(peer.node_selector, node.labels) for node in nodes):
        return None
    if nodes:
        labels = short_list(sorted({str(node.labels) or "(none)" for node in nodes}))
        hint = f"the Nodes of the input carry the labels {labels}"
    else:
        hint = ("the input has no Node objects, so no node address is known: add the nodes "
                "(`kubectl get nodes -o yaml`) to the input")
    return Finding(
        "warning", "peer-matches-nothing",
        f"{rule_name(policy, rule)} to[{i}] ({peer}) matches no Node",
        peer.location if peer.location.line else rule.location, hint, rule_name(policy, rule))


def _peer_findings(facts: Facts) -> Iterator[Finding]:
    """peer-matches-nothing, with hints for the two common mistakes."""
    cluster = facts.net.cluster
    for policy in cluster.policies:
        for rule in policy.ingress + policy.egress:
            for i, peer in enumerate(rule.peers):
                if peer.node_selector is not None:
                    found = _node_finding(facts, policy, rule, i, peer)
                    if found is not None:
                        yield found
                    continue
                if not peer.selects_pods or facts.peer_classes(peer, policy.namespace):
                    continue
                hint = _peer_hint(facts, policy, peer)
                yield Finding(
                    "warning",
                    "peer-matches-nothing",
                    f"{rule_name(policy, rule)} "
                    f"{'from' if rule.direction == 'ingress' else 'to'}[{i}] ({peer}) "
                    "matches no pod",
                    peer.location if peer.location.line else rule.location,
                    hint,
                    rule_name(policy, rule),
                )


def _peer_hint(facts: Facts, policy: Policy, peer: Peer) -> str:
    if peer.namespace_selector is not None:
        names = facts.namespaces_matching(peer.namespace_selector)
        if not names:
            return (
                f"no namespace carries labels [{peer.namespace_selector}]; every namespace "
                f"has the label {NAMESPACE_NAME_LABEL}: NAME"
            )
        hosts = sorted({f"{p.namespace}/{p.workload_name}" for p in facts.net.cluster.pods
                        if p.host_network and p.namespace in names and (
                            peer.pod_selector is None or matches(peer.pod_selector, p.labels))})
        host = (f"; {short_list(hosts)} would match but "
                f"{'use' if len(hosts) > 1 else 'uses'} the host network: read as node "
                "traffic, which selectors never match (--host-network-pods analyses it as "
                "a pod)") if hosts else ""
        if peer.pod_selector is None:
            return f"the namespaces it selects ({short_list(names)}) have no pods{host}"
        return (
            f"the namespaces it selects ({short_list(names)}) have no pod with labels "
            f"[{peer.pod_selector}]{host}"
        )
    assert peer.pod_selector is not None
    elsewhere = sorted(
        {
            pod.namespace
            for pod in facts.net.cluster.pods
            if pod.namespace != policy.namespace and matches(peer.pod_selector, pod.labels)
        }
    )
    if elsewhere:
        return (
            f"a podSelector alone selects pods of the policy's namespace ({policy.namespace}); "
            f"the pods with these labels live in {', '.join(elsewhere)}: add a "
            "namespaceSelector in the same peer item"
        )
    return f"no pod of namespace {policy.namespace} carries labels [{peer.pod_selector}]"


CHECKS = (
    Check(_policy_findings, {
        "policy-selects-nothing": ("warning", "a policy whose subject matches no pod"),
    }),
    Check(_peer_findings, {
        "peer-matches-nothing": ("warning", "a peer whose selectors match no pod (or node)"),
    }),
)
