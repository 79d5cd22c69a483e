"""Ports that match nothing: named-port-undefined, port-not-declared."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from reach.analysis.lint.facts import Facts, calico, labels_cover, rule_name, short_list
from reach.analysis.lint.finding import Check, Finding
from reach.engine.portsets import iter_bits
from reach.model import (
    Peer,
    Pod,
    Policy,
    PolicyPort,
    Rule,
)


def destination_classes(facts: Facts, policy: Policy, rule: Rule) -> int:
    """Classes a rule's ports are about: the selected pods (ingress) or the peers (egress).

    A Calico ingress rule's ``destination`` narrows the selected pods it is for.
    """
    if rule.direction == "ingress":
        selected = facts.selects(policy)
        if rule.local is not None:
            selected &= facts.peer_classes(Peer(entity=rule.local), policy.namespace)
        return selected
    if not rule.peers:
        return (1 << facts.n) - 1
    out = 0
    for peer in rule.peers:
        out |= facts.peer_classes(peer, policy.namespace)
    return out


def _named_port_findings(facts: Facts) -> Iterator[Finding]:
    for policy in facts.net.cluster.policies:
        for rule in policy.ingress + policy.egress:
            targets = destination_classes(facts, policy, rule)
            if not targets:
                continue  # reported as a policy or peer matching nothing
            pods = [facts.reps[k] for k in iter_bits(targets)]
            for port in rule.ports:
                if not isinstance(port.port, str):
                    continue
                if any(declares(pod, port.port, port.protocol) for pod in pods):
                    continue
                other_proto = sorted(
                    {cp.protocol for pod in pods for cp in pod.ports if cp.name == port.port}
                )
                whose = "selected" if rule.direction == "ingress" else "destination"
                if other_proto:
                    hint = (
                        f'the port "{port.port}" is declared with protocol '
                        f"{', '.join(other_proto)}: set protocol to match"
                    )
                else:
                    declared = sorted(
                        {cp.name for pod in pods for cp in pod.ports if cp.name}
                    )
                    hint = (
                        f"the {whose} pods name their ports {', '.join(declared)}"
                        if declared
                        else f"the {whose} pods declare no named container port"
                    )
                yield Finding(
                    "warning",
                    "named-port-undefined",
                    f"{rule_name(policy, rule)}: no {whose} pod declares a "
                    f'{port.protocol + " " if port.protocol else ""}container port named '
                    f'"{port.port}", so this port '
                    f'{"allows" if rule.action == "Allow" else "matches"} nothing',
                    port.location if port.location.line else rule.location,
                    hint,
                    rule_name(policy, rule),
                )


def declares(pod: Pod, name: str, protocol: str) -> bool:
    """Whether ``pod`` has a container port of that name (and protocol; "" is any)."""
    return any(cp.name == name and (not protocol or cp.protocol == protocol)
               for cp in pod.ports)


def _port_findings(facts: Facts) -> Iterator[Finding]:
    """port-not-declared: numeric ports that no declaring destination pod has."""
    cluster = facts.net.cluster
    compiled = facts.net.compiled
    for policy in cluster.policies:
        for rule in policy.ingress + policy.egress:
            if rule.direction == "egress" and (
                not rule.peers or any(_outside(facts, p) for p in rule.peers)
            ):
                continue  # the destination may be outside the cluster
            if calico(policy) and rule.action != "Allow":
                continue  # a guardrail may well deny a port that no pod declares
            targets = destination_classes(facts, policy, rule)
            # every pod of the classes: a class need not share its numeric ports
            pods = [compiled.pods[i] for k in iter_bits(targets) for i in compiled.class_pods[k]]
            declaring = [pod for pod in pods if pod.ports]
            if not declaring:
                continue  # containerPort is optional: nothing to compare with
            for port in rule.ports:
                if port.port is None or isinstance(port.port, str):
                    continue
                last = port.end_port if port.end_port is not None else port.port
                if any(
                    cp.protocol == port.protocol and port.port <= cp.port <= last
                    for pod in declaring
                    for cp in pod.ports
                ):
                    continue
                yield Finding(
                    "warning",
                    "port-not-declared",
                    f"{rule_name(policy, rule)}: {port} matches no container port of the "
                    f"{'selected' if rule.direction == 'ingress' else 'destination'} pods "
                    f"({short_list(_declared(declaring))})",
                    port.location if port.location.line else rule.location,
                    _service_port_hint(facts, declaring, port),
                    rule_name(policy, rule),
                )


def _outside(facts: Facts, peer: Peer) -> bool:
    """Whether a peer may be an address outside the cluster (an ipBlock, a Calico entity
    with nets or network sets)."""
    if peer.ip_block is not None:
        return True
    if peer.entity is None:
        return False
    return bool(facts.net.compiled.addresses.get(("entity", peer.entity), True))


def _declared(pods: Sequence[Pod]) -> list[str]:
    return sorted({f"{cp.protocol} {cp.port}" for pod in pods for cp in pod.ports})


def _service_port_hint(facts: Facts, pods: Sequence[Pod], port: PolicyPort) -> str:
    assert isinstance(port.port, int)
    last = port.end_port if port.end_port is not None else port.port
    for svc in facts.net.cluster.services:
        if svc.selector is None:
            continue
        backs = [
            p for p in pods if p.namespace == svc.namespace and labels_cover(svc.selector, p)
        ]
        if not backs:
            continue
        for sp in svc.ports:
            if sp.protocol != port.protocol or not port.port <= sp.port <= last:
                continue
            target = sp.target_port
            numbers = sorted(
                {cp.port for p in backs for cp in p.ports
                 if cp.name == target and cp.protocol == sp.protocol}
            ) if isinstance(target, str) else [target]
            if numbers == [sp.port]:
                continue
            shown = ",".join(str(n) for n in numbers) or "?"
            if isinstance(target, str):
                use = f"{shown} (or the named port {target})"
                target_text = f"{target} ({shown})"
            else:
                use = target_text = shown
            return (
                f"{sp.port} is a port of Service {svc.ref}, which forwards to targetPort "
                f"{target_text}; policies see the pod's port: use {use}"
            )
    return "use a port the pods listen on (policies see the pod's port, not a Service's)"


CHECKS = (
    Check(_named_port_findings, {
        "named-port-undefined": ("warning", "a named port that no destination pod declares"),
    }),
    Check(_port_findings, {
        "port-not-declared": ("warning", "a port that no selected pod declares"),
    }),
)
