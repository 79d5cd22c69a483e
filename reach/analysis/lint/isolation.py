"""What isolation leaves open or closes by accident: no-default-deny, pod-unprotected,
dns-blocked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from reach.analysis.lint.facts import (
    DIRECTIONS,
    PRIVATE,
    SYSTEM_NAMESPACES,
    Facts,
    block_set,
    calico,
    labels_cover,
    pod_keys,
    short_list,
)
from reach.analysis.lint.finding import Check, Finding
from reach.engine.addresses import AddressSet
from reach.engine.compiler import rule_ports
from reach.engine.entities import NAMESPACE_PREFIX, calico_labels
from reach.engine.matrix import AllowMatrix
from reach.engine.trace import TraceContext, resolve_on, trace_side
from reach.model import (
    ContainerPort,
    Direction,
    Labels,
    Namespace,
    Peer,
    Pod,
    Policy,
    Rule,
)
from reach.model.expressions import CalicoSelector


def _namespace_findings(facts: Facts) -> Iterator[Finding]:
    """no-default-deny, per namespace with pods (system namespaces left out)."""
    cluster = facts.net.cluster
    with_pods = sorted({p.namespace for p in cluster.pods} - SYSTEM_NAMESPACES)
    in_namespace: dict[str, int] = {}  # the classes (bitset) holding pods of a namespace
    compiled = facts.net.compiled
    for pod, k in zip(compiled.pods, compiled.pod_class.tolist(), strict=True):
        in_namespace[pod.namespace] = in_namespace.get(pod.namespace, 0) | 1 << int(k)
    with_calico = any(calico(p) for p in cluster.policies)
    for name in with_pods:
        policies = [p for p in cluster.policies if p.namespace == name]
        missing = [
            d
            for d in DIRECTIONS
            if not any(_default_deny(facts, p, name, d) for p in cluster.policies)
        ]
        if not missing:
            continue
        ns = facts.namespaces.get(name)
        location = ns.location if ns is not None and not ns.implicit else None
        types = ", ".join(d.capitalize() for d in missing)
        wide = [p.ref for p in cluster.policies
                if p.cluster_scoped and facts.selects(p) & in_namespace.get(name, 0)]
        if not policies and not wide:
            message = (
                f"namespace {name} has no NetworkPolicy: every pod accepts and opens any "
                "connection"
            )
        elif not policies:
            message = (
                f"namespace {name} has no default-deny for {' and '.join(missing)}: only "
                f"cluster-wide policies select its pods ({short_list(wide)}), and none of "
                "them isolates all of them, future ones included"
            )
        else:
            message = (
                f"namespace {name} has no default-deny for {' and '.join(missing)}: pods "
                "that no policy selects (including future ones) are open"
            )
        hint = (f"add a policy with podSelector: {{}} and policyTypes: [{types}] and no rules, "
                "then allow what is needed")
        if with_calico:
            hint += (" (with Calico, a policy of the default tier with selector all(), "
                     f"types [{types}] and no rules does the same)")
        yield Finding("info", "no-default-deny", message, location, hint, name)


def _default_deny(facts: Facts, policy: Policy, namespace: str, direction: Direction) -> bool:
    """Whether ``policy`` isolates every pod of ``namespace`` for ``direction``, future ones
    too: a NetworkPolicy with podSelector {}, or a Calico policy whose selector only looks
    at the namespace, in a tier that denies what it leaves undecided, and that has no rule
    allowing or passing everything."""
    if not policy.applies(direction):
        return False
    if not calico(policy):
        return policy.namespace == namespace and policy.pod_selector.is_empty
    if policy.namespace not in ("", namespace) or not policy.tier.ends_in_deny:
        return False
    if any(_catch_all(rule) for rule in policy.rules(direction)):
        return False
    selector = policy.pod_selector
    if not isinstance(selector, CalicoSelector):
        return False
    mentioned = selector.keys()
    if not all(key in _NAMESPACE_KEYS or key.startswith(NAMESPACE_PREFIX) for key in mentioned):
        return False  # it depends on the pods' own labels: future pods may escape it
    probe = Pod(namespace, "", service_account="")
    return selector.matches(calico_labels(probe, facts.namespaces.get(namespace), None))


# The labels a Calico endpoint carries whatever the pod: its namespace's
_NAMESPACE_KEYS = frozenset({"projectcalico.org/namespace", "projectcalico.org/orchestrator"})


def _catch_all(rule: Rule) -> bool:
    """A rule that allows or passes every connection: nothing is left to deny."""
    return (rule.action in ("Allow", "Pass") and not rule.peers and not rule.ports
            and not rule.not_ports and rule.local is None)


def _unprotected_findings(facts: Facts) -> Iterator[Finding]:
    """pod-unprotected, per workload, where its namespace isolates some pod that way.

    A pod counts as unprotected for a direction when no tier isolates it and its side
    allows everything (a Calico or admin policy may restrict a pod without isolating it).
    """
    c = facts.net.compiled
    cluster = facts.net.cluster
    flags = {"ingress": (c.ingress_isolated, c.ingress_open),
             "egress": (c.egress_isolated, c.egress_open)}
    isolating: dict[str, set[str]] = {}
    for i, pod in enumerate(cluster.pods):
        k = int(c.pod_class[i])
        for direction, (isolated, _) in flags.items():
            if bool(isolated[k]):
                isolating.setdefault(pod.namespace, set()).add(direction)
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
            for d, (isolated, allows_all) in flags.items()
            if d in isolating.get(pod.namespace, set()) and not bool(isolated[k])
            and (pod.host_network or bool(allows_all[k]))
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
    # what isolates a pod: the policies of a tier that denies what it leaves undecided
    egress_policies = [p for p in net.cluster.policies
                       if p.applies("egress") and p.tier.ends_in_deny]
    selected = [facts.selects(p) for p in egress_policies]
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
        kubernetes = [p for p in policies if not calico(p)]
        where = "kube-dns"
        if target.index is None:
            where += " (not in the input; assumed in kube-system, labelled k8s-app=kube-dns)"
        yield Finding(
            "info" if nothing else "warning",
            "dns-blocked",
            f"egress of {names} (isolated by {short_list(p.ref for p in policies)}) "
            f"blocks DNS to {where} on {port_text}"
            + (": their egress is closed entirely" if nothing else ""),
            (kubernetes or policies)[0].location,
            _dns_hint(target) if kubernetes or not policies else _calico_dns_hint(target),
            ", ".join(p.ref for p in pods[:1]),
        )


def _dns_hint(target: _DnsTarget) -> str:
    ports_yaml = ", ".join(
        f"{{protocol: {proto}, port: {p}}}" for proto in ("UDP", "TCP")
        for p in target.ports[proto]
    )
    return ("allow egress to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "
            "kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}] with ports: "
            f"[{ports_yaml}] (policies see the DNS pods' targetPort)")


def _calico_dns_hint(target: _DnsTarget) -> str:
    rules = " and ".join(
        f"{{action: Allow, protocol: {proto}, destination: {{namespaceSelector: "
        f"projectcalico.org/name == 'kube-system', selector: k8s-app == 'kube-dns', "
        f"ports: [{', '.join(str(p) for p in target.ports[proto])}]}}}}"
        for proto in ("UDP", "TCP"))
    return (f"add the egress rules {rules} before any Deny of the policy (policies see the "
            "DNS pods' targetPort)")


def _egress_closed(allow: AllowMatrix, k: int) -> bool:
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
                                  net.options.ipblock_pods,
                                  accounts=net.cluster.service_accounts,
                                  network_sets=net.cluster.network_sets)
            walk = trace_side(ctx, "egress", facts.reps[k], target.pod, None)
            if walk.allowed.allows(proto, port):
                return True
        if not pod_keys(target.pod) and net.options.ipblock_pods and _ipblock_may_allow(
            facts, k, target.pod, proto, port
        ):
            return True
    return False


def _ipblock_may_allow(facts: Facts, k: int, dns: Pod, proto: str, port: int) -> bool:
    """Whether an ipBlock rule (or a Calico rule of nets) covering private ranges allows
    DNS (the pod's IP is unknown)."""
    for policy in facts.net.cluster.policies:
        if not policy.applies("egress") or (policy.cluster_scoped and not calico(policy)):
            continue  # (an admin policy's networks may as well deny)
        if not facts.selects(policy) >> k & 1:
            continue
        for rule in policy.egress:
            if rule.action != "Allow" or not facts.rule_applies(policy, rule, k):
                continue
            if not any(_private(peer) for peer in rule.peers):
                continue
            if rule_ports(rule, resolve_on(dns)).allows(proto, port):
                return True
    return False


def _private(peer: Peer) -> bool:
    """Whether an address peer holds private addresses (where pod IPs are)."""
    if peer.ip_block is not None:
        return bool(block_set(peer.ip_block) & PRIVATE)
    entity = peer.entity
    if entity is None or entity.selector is not None or not entity.nets:
        return False
    held = AddressSet.none()
    for cidr in entity.nets:
        held = held | AddressSet.cidr(cidr)
    for cidr in entity.not_nets:
        held = held - AddressSet.cidr(cidr)
    return bool(held & PRIVATE)


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
