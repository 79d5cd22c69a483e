"""Endpoints: what a connection goes from and to, and how users name them.

An endpoint is a pod, a workload, a namespace, a Service, an external address
range, the ingress controller or the internet. References users type:
``NAMESPACE/NAME`` (a pod, or a workload when that is unambiguous),
``NAMESPACE/KIND/NAME`` with kubectl's kind names and short forms, or an IP address.

Examples
--------
>>> str(Endpoint("Deployment", "shop", "web"))
'shop/web[Deployment]'
>>> str(Endpoint.external(0, 255))
'0.0.0.0-0.0.0.255[External]'
>>> parse_reference("shop/deploy/web")
('shop', 'Deployment', 'web')
>>> parse_reference("shop/web")
('shop', None, 'web')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reach.engine.addresses import format_range

__all__ = ["KIND_ALIASES", "Endpoint", "parse_reference"]

KIND_ALIASES: dict[str, str] = {
    "pod": "Pod",
    "pods": "Pod",
    "po": "Pod",
    "deployment": "Deployment",
    "deployments": "Deployment",
    "deploy": "Deployment",
    "statefulset": "StatefulSet",
    "statefulsets": "StatefulSet",
    "sts": "StatefulSet",
    "daemonset": "DaemonSet",
    "daemonsets": "DaemonSet",
    "ds": "DaemonSet",
    "replicaset": "ReplicaSet",
    "replicasets": "ReplicaSet",
    "rs": "ReplicaSet",
    "replicationcontroller": "ReplicationController",
    "replicationcontrollers": "ReplicationController",
    "rc": "ReplicationController",
    "job": "Job",
    "jobs": "Job",
    "cronjob": "CronJob",
    "cronjobs": "CronJob",
    "cj": "CronJob",
    "service": "Service",
    "services": "Service",
    "svc": "Service",
}


@dataclass(frozen=True, slots=True, order=True)
class Endpoint:
    """One end of a connection.

    ``kind`` is ``Pod``, a workload kind, ``Namespace``, ``Service``, ``External``,
    ``IngressController`` or ``Internet``. External endpoints carry their address
    range as ``lo``/``hi`` address keys and ``name`` ``a.b.c.d-e.f.g.h``.
    """

    kind: str
    namespace: str = ""
    name: str = ""
    lo: int = -1
    hi: int = -1

    @staticmethod
    def external(lo: int, hi: int) -> Endpoint:
        return Endpoint("External", "", format_range(lo, hi), lo, hi)

    @property
    def is_external(self) -> bool:
        return self.kind == "External"

    def __str__(self) -> str:
        if self.kind == "External":
            return f"{self.name}[External]"
        if self.kind == "Namespace":
            return f"{self.name}[Namespace]"
        if self.kind == "IngressController" and not self.namespace:
            return "{ingress-controller}"
        if self.kind == "Internet":
            return "{internet}"
        return f"{self.namespace}/{self.name}[{self.kind}]"

    def to_json(self) -> dict[str, Any]:
        """The stable JSON form: ``{"kind", "namespace", "name"}`` or ``{"kind", "range"}``."""
        if self.kind == "External":
            return {"kind": "External", "range": self.name}
        if self.kind == "Internet":
            return {"kind": "Internet"}
        if self.kind == "Namespace":
            return {"kind": "Namespace", "name": self.name}
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}


def parse_reference(text: str) -> tuple[str, str | None, str]:
    """Split ``NS/NAME`` or ``NS/KIND/NAME`` into ``(namespace, Kind or None, name)``.

    Raises ``ValueError`` for other shapes or unknown kinds.
    """
    parts = text.strip().split("/")
    if len(parts) == 2 and all(parts):
        return parts[0], None, parts[1]
    if len(parts) == 3 and all(parts):
        kind = KIND_ALIASES.get(parts[1].lower())
        if kind is None:
            known = ", ".join(sorted({k for k in KIND_ALIASES if len(k) <= 6}))
            raise ValueError(f'unknown kind "{parts[1]}" in "{text}" (known: {known})')
        return parts[0], kind, parts[2]
    raise ValueError(
        f'cannot read endpoint "{text}": expected NAMESPACE/NAME, NAMESPACE/KIND/NAME '
        "or an IP address"
    )
