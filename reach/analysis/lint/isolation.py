"""What isolation leaves open or closes by accident: no-default-deny, pod-unprotected,
dns-blocked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reach.analysis.lint.facts import (
    DIRECTIONS,
    PRIVATE,
    SYSTEM_NAMESPACES,
    Facts,
    block_set,
    by_direction,
    labels_cover,
    pod_keys,
    short_list,
)
from reach.analysis.lint.finding import Check, Finding
from reach.engine.compiler import rule_ports
from reach.engine.selectors import matches
from reach.engine.trace import TraceContext, resolve_on, trace_side
from reach.model import (
    ContainerPort,
    Labels,
    Namespace,
    Pod,
)


def _namespace_findings(facts: Facts) -> Iterator[Finding]:
    """no-default-deny, per namespace with pods (system namespaces left out)."""
    cluster = facts.net.cluster
    with_pods = sorted({p.namespace for p in cluster.pods} - SYSTEM_NAMESPACES)
    for name in with_pods:
        policies = [p for p in cluster.policies if p.namespace == name]
        missing = [
            d
            for d in DIRECTIONS
            if not any(p.pod_selector.is_empty and p.applies(d) for p in policies)
        ]
        if not missing:
            continue
        ns = facts.namespaces.get(name)
        location = ns.location if ns is not None and not ns.implicit else None
        types = ", ".join(d.capitalize() for d in missing)
        if not policies:
            message = (
                f"namespace {name} has no NetworkPolicy: every pod accepts and opens any "
                "connection"
            )
        else:
            message = (
                f"namespace {name} has no default-deny for {' and '.join(missing)}: pods "
                "that no policy selects (including future ones) are open"
            )
        yield Finding(
            "info",
            "no-default-deny",
            message,
            location,
            f"add a policy with podSelector: {{}} and policyTypes: [{types}] and no rules, "
            "then allow what is needed",
            name,
        )


def _unprotected_findings(facts: Facts) -> Iterator[Finding]:
    """pod-unprotected, per workload, where its namespace isolates some pod that way."""
    c = facts.net.compiled
    cluster = facts.net.cluster
    isolating: dict[str, set[str]] = {}
    for direction in DIRECTIONS:
        policies, selected = by_direction(facts, direction)
        for policy, bits in zip(policies, selected, strict=True):
            if bits:
                isolating.setdefault(policy.namespace, set()).add(direction)
    done: set[tuple[str, str, str]] = set()
    for i, pod in enumerate(cluster.pods):
        if pod.namespace in SYSTEM_NAMESPACES:
            continue
        key = (pod.namespace, pod.workload_kind, pod.workload_name)
        if key in done:
            continue
        k = int(c.pod_class[i])
        open_ = [
            d
            for d, flags in (("ingress", c.ingress_isolated), ("egress", c.egress_isolated))
            if d in isolating.get(pod.namespace, set()) and not bool(flags[k])
        ]
        if not open_:
            continue
        done.add(key)
        what = f"{pod.namespace}/{pod.workload_name}[{pod.workload_kind}]"
        if pod.host_network:
            message = f"{what} uses the host network: no policy can select it"
        else:
            message = (
                f"{what} is not isolated for {' and '.join(open_)}, while other pods of "
                f"namespace {pod.namespace} are: it "
                + " and ".join(
                    "accepts any connection" if d == "ingress" else "may connect anywhere"
                    for d in open_
                )
            )
        yield Finding(
            "info",
            "pod-unprotected",
            message,
            pod.location if pod.location.line else None,
            "select it from a policy (or add a default-deny) if it should be protected",
            what,
        )


@dataclass(frozen=True, slots=True)
class _DnsTarget:
    pod: Pod
    index: int | None  # None: a stand-in, the input has no kube-dns pod
    ports: dict[str, tuple[int, ...]]  # protocol -> ports the pod listens on for DNS


def _dns_targets(facts: Facts) -> list[_DnsTarget]:
    cluster = facts.net.cluster
    service = next(
        (s for s in cluster.services if s.namespace == "kube-system" and s.name == "kube-dns"),
        None,
    )
    indices: list[int] = []
    if service is not None and service.selector:
        indices = [
            i
            for i, pod in enumerate(cluster.pods)
            if pod.namespace == "kube-system" and labels_cover(service.selector, pod)
        ]
    if not indices:
        indices = [
            i for i, pod in enumerate(cluster.pods) if pod.labels.get("k8s-app") == "kube-dns"
        ]
    stand_in = Pod(
        "kube-system",
        "kube-dns",
        Labels({"k8s-app": "kube-dns"}),
        ports=(ContainerPort(53, "UDP", "dns"), ContainerPort(53, "TCP", "dns-tcp")),
    )
    out: list[_DnsTarget] = []
    choices: list[int | None] = list(indices) if indices else [None]
    for index in choices:
        pod = cluster.pods[index] if index is not None else stand_in
        ports: dict[str, tuple[int, ...]] = {}
        for proto in ("UDP", "TCP"):
            found: list[int] = []
            if service is not None:
                for sp in service.ports:
                    if sp.protocol != proto or sp.port != 53:
                        continue
                    target = sp.target_port
                    if isinstance(target, str):
                        number = next(
                            (cp.port for cp in pod.ports if cp.name == target
                             and cp.protocol == proto),
                            None,
                        )
                        if number is not None:
                            found.append(number)
                    else:
                        found.append(target)
            ports[proto] = tuple(found) if found else (53,)
        out.append(_DnsTarget(pod, index, ports))
    return out


def _dns_findings(facts: Facts) -> Iterator[Finding]:
    net = facts.net
    c = net.compiled
    if not c.egress_isolated.any():
        return
    targets = _dns_targets(facts)
    dns_indices = {t.index for t in targets if t.index is not None}
    egress_policies, selected = by_direction(facts, "egress")
    namespaces = dict(facts.namespaces)
    namespaces.setdefault("kube-system", net.cluster.namespace("kube-system"))
    groups: dict[tuple[int, ...], list[tuple[int, list[str]]]] = {}
    for k in range(facts.n):
        if not bool(c.egress_isolated[k]):
            continue
        members = c.class_pods[k]
        if any(i in dns_indices for i in members) or facts.reps[k].host_network:
            continue
        blocked = [
            proto
            for proto in ("UDP", "TCP")
            if not any(_dns_allowed(facts, k, t, proto, namespaces) for t in targets)
        ]
        if blocked:
            chosen = tuple(pi for pi, bits in enumerate(selected) if bits >> k & 1)
            groups.setdefault(chosen, []).append((k, blocked))
    for chosen, items in groups.items():
        pods = [facts.reps[k] for k, _ in items]
        names = short_list(
            f"{p.namespace}/{p.workload_name}" for k, _ in items for p in (facts.reps[k],)
        )
        protos = sorted({proto for _, blocked in items for proto in blocked}, reverse=True)
        target = targets[0]
        port_text = " and ".join(
            f"{proto} {','.join(str(p) for p in target.ports[proto])}" for proto in protos
        )
        nothing = all(_egress_closed(c.allow, k) for k, _ in items)
        policies = [egress_policies[pi] for pi in chosen]
        where = "kube-dns"
        if target.index is None:
            where += " (not in the input; assumed in kube-system, labelled k8s-app=kube-dns)"
        ports_yaml = ", ".join(
            f"{{protocol: {proto}, port: {p}}}" for proto in ("UDP", "TCP")
            for p in target.ports[proto]
        )
        yield Finding(
            "info" if nothing else "warning",
            "dns-blocked",
            f"egress of {names} (isolated by {short_list(p.ref for p in policies)}) "
            f"blocks DNS to {where} on {port_text}"
            + (": their egress is closed entirely" if nothing else ""),
            policies[0].location,
            "allow egress to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
            "kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}] with ports: "
            f"[{ports_yaml}] (policies see the DNS pods' targetPort)",
            ", ".join(p.ref for p in pods[:1]),
        )


def _egress_closed(allow: npt.NDArray[np.int32], k: int) -> bool:
    """Whether class ``k`` may open no connection at all (but within its own class)."""
    row = allow[k, :].copy()
    row[k] = 0
    return not bool(row.any())


def _dns_allowed(
    facts: Facts, k: int, target: _DnsTarget, proto: str, namespaces: dict[str, Namespace]
) -> bool:
    net = facts.net
    c = net.compiled
    for port in target.ports[proto]:
        if target.index is not None:
            if c.pod_ports(c.class_pods[k][0], target.index).allows(proto, port):
                return True
        else:
            ctx = TraceContext.of(net.cluster.policies, namespaces, net.cluster.nodes,
                                  net.options.ipblock_pods)
            walk = trace_side(ctx, "egress", facts.reps[k], target.pod, None)
            if walk.allowed.allows(proto, port):
                return True
        if not pod_keys(target.pod) and net.options.ipblock_pods and _ipblock_may_allow(
            facts, k, target.pod, proto, port
        ):
            return True
    return False


def _ipblock_may_allow(facts: Facts, k: int, dns: Pod, proto: str, port: int) -> bool:
    """Whether an ipBlock rule covering private ranges allows DNS (the pod's IP is unknown)."""
    pod = facts.reps[k]
    for policy in facts.net.cluster.policies:
        if policy.namespace != pod.namespace or not policy.applies("egress"):
            continue  # (cluster-scoped policies have no namespace)
        if not matches(policy.pod_selector, pod.labels):
            continue
        for rule in policy.egress:
            if not any(
                peer.ip_block is not None and bool(block_set(peer.ip_block) & PRIVATE)
                for peer in rule.peers
            ):
                continue
            if rule_ports(rule, resolve_on(dns)).allows(proto, port):
                return True
    return False


CHECKS = (
    Check(_dns_findings, {
        "dns-blocked": ("warning", "egress isolation that blocks DNS to kube-dns"),
    }),
    Check(_namespace_findings, {
        "no-default-deny": ("info", "a namespace without a default-deny policy"),
    }),
    Check(_unprotected_findings, {
        "pod-unprotected": ("info", "a workload that no policy isolates in a direction"),
    }),
)
