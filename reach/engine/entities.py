"""Calico's view of endpoints: the labels its selectors see, and what a rule entity matches.

Calico selectors do not see a pod's labels alone. A pod's workload endpoint also
carries ``projectcalico.org/namespace``, ``projectcalico.org/orchestrator`` and
``projectcalico.org/serviceaccount``, and inherits the labels of its namespace's
profile (``pcns.<key>``, with ``pcns.projectcalico.org/name``) and of its service
account's (``pcsa.<key>``, with ``pcsa.projectcalico.org/name``). The Calico reader
rewrites ``namespaceSelector`` and ``serviceAccountSelector`` onto those prefixed
labels, so that one selector over :func:`calico_labels` decides every endpoint
criterion.

A rule's :class:`~reach.model.Entity` matches a pod by labels and by IP, and an
outside address by IP: :class:`EntitySets` holds the address sets involved
(network sets the selectors match, ``nets``, ``notNets``).

Examples
--------
>>> from reach.model import Labels, Namespace, Pod
>>> pod = Pod("shop", "web", Labels({"app": "web"}), service_account="web")
>>> labels = calico_labels(pod, Namespace("shop", Labels({"team": "a"})), None)
>>> labels["projectcalico.org/namespace"], labels["pcns.team"], labels[ACCOUNT_PREFIX + NAME_LABEL]
('shop', 'a', 'web')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reach.engine.addresses import IPV4_ALL, IPV6_ALL, AddressSet
from reach.model import Entity, Labels, Namespace, NetworkSet, Pod, ServiceAccount
from reach.model.expressions import CalicoSelector

__all__ = [
    "ACCOUNT_PREFIX",
    "NAMESPACE_PREFIX",
    "EntitySets",
    "calico_labels",
    "entity_sets",
    "labelled_sets",
    "network_set_labels",
]

NAMESPACE_LABEL = "projectcalico.org/namespace"
NAME_LABEL = "projectcalico.org/name"
NAMESPACE_PREFIX = "pcns."
ACCOUNT_PREFIX = "pcsa."


def calico_labels(pod: Pod, namespace: Namespace | None,
                  account: ServiceAccount | None) -> Labels:
    """The labels Calico selectors see on ``pod``'s workload endpoint."""
    out = {f"{NAMESPACE_PREFIX}{k}": v for k, v in (namespace.labels if namespace else {}).items()}
    out[f"{NAMESPACE_PREFIX}{NAME_LABEL}"] = pod.namespace
    out.update({f"{ACCOUNT_PREFIX}{k}": v for k, v in (account.labels if account else {}).items()})
    out[f"{ACCOUNT_PREFIX}{NAME_LABEL}"] = pod.service_account
    out.update(pod.labels)
    out[NAMESPACE_LABEL] = pod.namespace
    out["projectcalico.org/orchestrator"] = "k8s"
    out["projectcalico.org/serviceaccount"] = pod.service_account
    return Labels(out)


def network_set_labels(nset: NetworkSet, namespace: Namespace | None) -> Labels:
    """The labels Calico selectors see on a network set (a namespaced one is in its namespace)."""
    if not nset.namespace:
        return nset.labels
    out = {f"{NAMESPACE_PREFIX}{k}": v for k, v in (namespace.labels if namespace else {}).items()}
    out[f"{NAMESPACE_PREFIX}{NAME_LABEL}"] = nset.namespace
    out.update(nset.labels)
    out[NAMESPACE_LABEL] = nset.namespace
    return Labels(out)


def labelled_sets(network_sets: Iterable[NetworkSet], namespaces: Mapping[str, Namespace]
                  ) -> list[tuple[NetworkSet, Labels]]:
    """Each network set with the labels Calico selectors see on it (as :func:`entity_sets`
    takes them)."""
    return [(n, network_set_labels(n, namespaces.get(n.namespace))) for n in network_sets]


def _nets(cidrs: Sequence[str]) -> AddressSet:
    out = AddressSet.none()
    for cidr in cidrs:
        out = out | AddressSet.cidr(cidr)
    return out


@dataclass(frozen=True, slots=True)
class EntitySets:
    """The address sets that decide what an :class:`~reach.model.Entity` matches.

    ``selected``/``not_selected``: the CIDRs of the network sets its selector and
    notSelector match; ``nets`` (everything when the entity gives none) and
    ``not_nets``. A pod matches when (its labels match the selector, or its IP is
    ``selected``), its IP is in ``nets`` and not in ``not_nets`` or
    ``not_selected``, and its labels do not match the notSelector. An outside
    address matches when it is in :attr:`outside`.
    """

    entity: Entity
    selected: AddressSet
    not_selected: AddressSet
    nets: AddressSet
    not_nets: AddressSet

    @property
    def outside(self) -> AddressSet:
        """The addresses outside the cluster the entity matches."""
        base = self.nets if self.entity.selector is None else self.selected & self.nets
        return base - self.not_nets - self.not_selected

    def pod_ip_ok(self, key: int) -> bool:
        """Whether a pod address passes the entity's address criteria (selector aside)."""
        return key in self.nets and key not in self.not_nets and key not in self.not_selected


def _matching_sets(selector: CalicoSelector | None, sets: Sequence[tuple[NetworkSet, Labels]]
                   ) -> AddressSet:
    if selector is None:
        return AddressSet.none()
    out = AddressSet.none()
    for nset, labels in sets:
        if selector.matches(labels, global_=not nset.namespace):
            out = out | _nets(nset.nets)
    return out


def entity_sets(entity: Entity, network_sets: Sequence[tuple[NetworkSet, Labels]]) -> EntitySets:
    """The address sets of ``entity`` given the network sets (with :func:`network_set_labels`)."""
    return EntitySets(
        entity,
        selected=_matching_sets(entity.selector, network_sets),
        not_selected=_matching_sets(entity.not_selector, network_sets),
        nets=_nets(entity.nets) if entity.nets else IPV4_ALL | IPV6_ALL,
        not_nets=_nets(entity.not_nets),
    )
