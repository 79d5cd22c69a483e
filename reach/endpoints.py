"""Endpoints: what a connection goes from and to, and how users name them.

An endpoint is a pod, a workload, a namespace, a Service, an Ingress or Route, an
external address range, the ingress controller or the internet. Every command and
the Python API read the same references (:data:`REFERENCE_FORMS`):

- ``NAMESPACE/NAME``: a pod or a workload, or a Service when no pod or workload has
  that name;
- ``NAMESPACE/KIND/NAME`` with kubectl's kind names and short forms (``pod``,
  ``deploy``, ``sts``, ``ds``, ``rs``, ``job``, ``cronjob``, ``svc``, ``ingress``,
  ``route``...), case-insensitive;
- an IP address or a CIDR (``203.0.113.10``, ``10.0.0.0/8``);
- ``internet`` (every public address) and ``ingress-controller`` (with or without
  braces, as the connection lists print them);
- any name as reach prints it: ``shop/web[Deployment]``, ``10.0.0.0-10.0.0.255[External]``.

One name per endpoint: ``str(endpoint)`` is what every command prints and what the
graph's nodes are keyed by (:func:`pod_endpoint` says which endpoint a pod is at each
granularity).

Examples
--------
>>> str(Endpoint("Deployment", "shop", "web"))
'shop/web[Deployment]'
>>> str(Endpoint.external(0, 255)), str(Endpoint.external(16909060, 16909060))
('0.0.0.0-0.0.0.255[External]', '1.2.3.4[External]')
>>> parse_reference("shop/deploy/web")
('shop', 'Deployment', 'web')
>>> parse_reference("shop/web")
('shop', None, 'web')
>>> Endpoint("Deployment", "shop", "web")
Endpoint('Deployment', 'shop', 'web')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reach.engine.addresses import IPV4_ALL, AddressSet, format_range
from reach.model import Pod

__all__ = [
    "INGRESS_CONTROLLER",
    "INTERNET",
    "KIND_ALIASES",
    "PUBLIC_ADDRESSES",
    "REFERENCE_FORMS",
    "Endpoint",
    "closest",
    "edit_distance",
    "parse_reference",
    "pod_endpoint",
]

#: The endpoint forms every command accepts (shown by ``--help`` and the README).
REFERENCE_FORMS = (
    "NAMESPACE/NAME (a pod or workload; a Service when nothing else has the name), "
    "NAMESPACE/KIND/NAME (kubectl kinds and short forms: pod, deploy, sts, ds, rs, job, "
    "cronjob, svc, ingress, route), an IP address or CIDR, internet, ingress-controller, "
    "or a name as reach prints it (shop/web[Deployment])"
)

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
    "ingress": "Ingress",
    "ingresses": "Ingress",
    "ing": "Ingress",
    "route": "Route",
    "routes": "Route",
}

_SHORT_KINDS = ("pod", "deploy", "sts", "ds", "rs", "rc", "job", "cronjob", "svc", "ingress",
                "route")

_NOT_PUBLIC = (
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # RFC 1918
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link local
    "172.16.0.0/12",  # RFC 1918
    "192.168.0.0/16",  # RFC 1918
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, broadcast
)


def _public() -> AddressSet:
    out = IPV4_ALL
    for cidr in _NOT_PUBLIC:
        out = out - AddressSet.cidr(cidr)
    return out | AddressSet.cidr("2000::/3")


#: Addresses the internet can come from: IPv4 minus private, loopback, link-local, CGNAT,
#: multicast and reserved space, plus IPv6 global unicast. Documentation ranges
#: (``203.0.113.0/24``...) count as public: examples use them for internet clients.
PUBLIC_ADDRESSES: AddressSet = _public()


@dataclass(frozen=True, slots=True, order=True)
class Endpoint:
    """One end of a connection.

    ``kind`` is ``Pod``, a workload kind, ``Namespace``, ``Service``, ``Ingress``,
    ``Route``, ``External``, ``IngressController`` or ``Internet``. External endpoints
    carry their address range as ``lo``/``hi`` address keys and ``name``
    ``a.b.c.d-e.f.g.h`` (a single address: ``a.b.c.d``).
    """

    kind: str
    namespace: str = ""
    name: str = ""
    lo: int = -1
    hi: int = -1

    @staticmethod
    def external(lo: int, hi: int) -> Endpoint:
        name = format_range(lo, hi)
        return Endpoint("External", "", name.partition("-")[0] if lo == hi else name, lo, hi)

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

    def __repr__(self) -> str:
        if self.kind == "External":
            return f"Endpoint.external({self.lo}, {self.hi})"
        args = [self.kind, self.namespace, self.name]
        while args and not args[-1]:
            args.pop()
        return f"Endpoint({', '.join(repr(a) for a in args)})"

    def to_json(self) -> dict[str, Any]:
        """The stable JSON form: ``{"kind", "namespace", "name"}`` or ``{"kind", "range"}``."""
        if self.kind == "External":
            return {"kind": "External", "range": self.name}
        if self.kind == "Internet":
            return {"kind": "Internet"}
        if self.kind == "Namespace":
            return {"kind": "Namespace", "name": self.name}
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}


#: The internet: the source of every connection from outside the organisation.
INTERNET = Endpoint("Internet")

#: The ingress controller that serves Ingresses and Routes when the input holds none.
INGRESS_CONTROLLER = Endpoint("IngressController", "", "ingress-controller")


def pod_endpoint(pod: Pod, by: str) -> Endpoint:
    """The endpoint ``pod`` is at granularity ``by`` (``pod``, ``workload``, ``namespace``).

    A workload's pod template stands for pods that have no name of their own: at pod
    granularity it is its workload, as everywhere else.

    >>> from reach.model import Pod
    >>> template = Pod("shop", "web", owner_kind="Deployment", owner_name="web", template=True)
    >>> str(pod_endpoint(template, "pod")), str(pod_endpoint(Pod("shop", "debug"), "pod"))
    ('shop/web[Deployment]', 'shop/debug[Pod]')
    """
    if by == "namespace":
        return Endpoint("Namespace", "", pod.namespace)
    if by == "workload" or pod.template:
        return Endpoint(pod.workload_kind, pod.namespace, pod.workload_name)
    return Endpoint("Pod", pod.namespace, pod.name)


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
            near = closest(parts[1].lower(), KIND_ALIASES, 1)
            hint = f"did you mean {near[0]}? " if near else ""
            raise ValueError(f'unknown kind "{parts[1]}" in "{text}" ({hint}known: '
                             f"{', '.join(_SHORT_KINDS)})")
        return parts[0], kind, parts[2]
    raise ValueError(f'cannot read endpoint "{text}": expected {REFERENCE_FORMS}')


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent swaps counted as one edit.

    >>> edit_distance("web", "wbe"), edit_distance("api", "apis"), edit_distance("db", "cache")
    (1, 1, 5)
    """
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            row.append(value)
        previous2, previous = previous, row
    return previous[-1]


def closest(word: str, candidates: Iterable[str], limit: int = 5) -> list[str]:
    """The ``candidates`` nearest to ``word`` by edit distance (ties alphabetically).

    Only candidates within a third of the longer name's length (one edit at least) are
    offered.

    >>> closest("cahce", ["cache", "api", "db", "web"])
    ['cache']
    >>> closest("wbe", ["web", "db"])
    ['web']
    """
    scored = sorted((edit_distance(word.lower(), c.lower()), c) for c in set(candidates))
    return [c for d, c in scored if d <= max(1, max(len(word), len(c)) // 3)][:limit]
