"""The changes the conformance tests make to a running cluster, as edits of the dump.

Upstream a sub-test fetches a policy, changes a copy and patches the cluster with
it; the change stays for the sub-tests after it. Here each change is a small frozen
object whose :meth:`apply` edits the YAML objects of a :class:`~livecluster.World`
the same way (and bumps ``resourceVersion``/``generation`` as the API server would).
Rule indexes count from 0 in the policy as it is when the edit applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from npapi.livecluster import NAME_LABEL, World

CNP = "ClusterNetworkPolicy"


def _policy(world: World, name: str) -> dict[str, Any]:
    return world.find(CNP, name)


def _rules(world: World, policy: str, direction: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = _policy(world, policy)["spec"][direction]
    return rules


@dataclass(frozen=True)
class SwapRules:
    """Swap two rules of one direction of a policy."""

    policy: str
    direction: str  # "ingress" or "egress"
    first: int
    second: int

    def apply(self, world: World) -> None:
        rules = _rules(world, self.policy, self.direction)
        rules[self.first], rules[self.second] = rules[self.second], rules[self.first]
        world.bump(_policy(world, self.policy))

    def __str__(self) -> str:
        return f"swap {self.policy} {self.direction}[{self.first}] and [{self.second}]"


@dataclass(frozen=True)
class SetAction:
    """Give one rule another action."""

    policy: str
    direction: str
    index: int
    action: str

    def apply(self, world: World) -> None:
        _rules(world, self.policy, self.direction)[self.index]["action"] = self.action
        world.bump(_policy(world, self.policy))

    def __str__(self) -> str:
        return f"{self.policy} {self.direction}[{self.index}] action {self.action}"


@dataclass(frozen=True)
class NamedPortOnly:
    """Replace the ``protocols`` of one rule by a single ``destinationNamedPort``."""

    policy: str
    direction: str
    index: int
    port_name: str

    def apply(self, world: World) -> None:
        rule = _rules(world, self.policy, self.direction)[self.index]
        rule["protocols"] = [{"destinationNamedPort": self.port_name}]
        world.bump(_policy(world, self.policy))

    def __str__(self) -> str:
        return f"{self.policy} {self.direction}[{self.index}] to named port {self.port_name}"


@dataclass(frozen=True)
class SetPriority:
    """Change a policy's ``spec.priority``."""

    policy: str
    priority: int

    def apply(self, world: World) -> None:
        _policy(world, self.policy)["spec"]["priority"] = self.priority
        world.bump(_policy(world, self.policy))

    def __str__(self) -> str:
        return f"{self.policy} priority {self.priority}"


@dataclass(frozen=True)
class PrependAcceptToPodIPs:
    """Insert, before every egress rule, an Accept rule whose one peer is ``networks``
    of the given pods' ``status.podIP``, each as a host prefix (/32, or /128 for IPv6)."""

    policy: str
    rule_name: str
    pods: tuple[str, ...]

    def apply(self, world: World) -> None:
        cidrs = []
        for pod in self.pods:
            ip = world.pod_ip(pod)
            cidrs.append(f"{ip}/128" if ":" in ip else f"{ip}/32")
        rule = {"name": self.rule_name, "action": "Accept", "to": [{"networks": cidrs}]}
        spec = _policy(world, self.policy)["spec"]
        spec["egress"] = [rule, *spec.get("egress", [])]
        world.bump(_policy(world, self.policy))

    def __str__(self) -> str:
        return f"{self.policy}: Accept egress to the IPs of {', '.join(self.pods)} first"


@dataclass(frozen=True)
class DeleteNetworkPolicy:
    """Delete a NetworkPolicy."""

    namespace: str
    name: str

    def apply(self, world: World) -> None:
        world.remove("NetworkPolicy", self.name, self.namespace)

    def __str__(self) -> str:
        return f"delete NetworkPolicy {self.namespace}/{self.name}"


@dataclass(frozen=True)
class RelabelNamespace:
    """Replace a namespace's labels (upstream: ``SetLabels`` then a patch).

    The API server puts ``kubernetes.io/metadata.name`` back whatever the patch says,
    so the dump keeps it.
    """

    namespace: str
    labels: tuple[tuple[str, str], ...]

    def apply(self, world: World) -> None:
        ns = world.find("Namespace", self.namespace)
        ns["metadata"]["labels"] = {**dict(self.labels), NAME_LABEL: self.namespace}
        world.bump(ns, spec=False)

    def __str__(self) -> str:
        labels = ",".join(f"{k}={v}" for k, v in self.labels)
        return f"namespace {self.namespace} labels {labels}"


Edit = SwapRules | SetAction | NamedPortOnly | SetPriority | PrependAcceptToPodIPs | \
    DeleteNetworkPolicy | RelabelNamespace
