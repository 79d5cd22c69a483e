"""The dialect-neutral form of policy: what every dialect reader produces and the engine reads.

A :class:`Policy` is a set of ordered :class:`Rule` s with a subject (the pods it
applies to), a :class:`Tier` and a priority inside it. Each rule has an action
(``Allow``, ``Deny``, ``Pass``, ``Log``), peers (the other end of the connection)
and ports (always the destination's). One direction of a connection is decided by
walking the tiers in order:

* inside a tier, the policies that select the pod for that direction, by ascending
  priority (ties broken by kind, then name, so the walk is deterministic), and
  their rules in written order; the first rule whose peer and port match decides:
  ``Allow`` allows, ``Deny`` denies, ``Pass`` leaves the tier (``Log`` records and
  goes on);
* traffic no rule of the tier decided is denied when the tier ``ends in deny`` and
  some policy of the tier selects the pod (NetworkPolicy isolation), else it goes on
  to the next tier;
* traffic no tier decided is allowed.

A NetworkPolicy is a policy of :data:`NETWORKPOLICY_TIER` whose rules all allow; an
AdminNetworkPolicy or an Admin ClusterNetworkPolicy one of :data:`ADMIN_TIER`, a
BaselineAdminNetworkPolicy or a Baseline ClusterNetworkPolicy one of
:data:`BASELINE_TIER`. The constructors default to a NetworkPolicy.

Examples
--------
>>> deny = Policy("shop", "deny-all", LabelSelector(), ("Ingress",))
>>> deny.ref, deny.tier.name, deny.applies("ingress"), deny.applies("egress")
('shop/deny-all', 'NetworkPolicy', True, False)
>>> cnp = Policy("", "platform", kind="ClusterNetworkPolicy", tier=ADMIN_TIER, priority=10,
...              namespace_selector=LabelSelector(), policy_types=("Egress",))
>>> cnp.ref, cnp.cluster_scoped
('cnp/platform', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reach.model.base import NOWHERE, Direction, Labels, Location
from reach.model.expressions import CalicoSelector

__all__ = [
    "ACTIONS",
    "ADMIN_TIER",
    "BASELINE_TIER",
    "CALICO_KINDS",
    "NETWORKPOLICY_ORDER",
    "NETWORKPOLICY_TIER",
    "Action",
    "Entity",
    "IPBlock",
    "LabelSelector",
    "Peer",
    "Policy",
    "PolicyPort",
    "Requirement",
    "Rule",
    "Selector",
    "Tier",
]

Action = Literal["Allow", "Deny", "Pass", "Log"]
ACTIONS: tuple[str, ...] = ("Allow", "Deny", "Pass", "Log")

#: The Calico kinds that are policies (``projectcalico.org/v3``, ``crd.projectcalico.org/v1``).
CALICO_KINDS = frozenset({"CalicoNetworkPolicy", "GlobalNetworkPolicy"})

#: Short names of cluster-scoped kinds, as kubectl prints them; refs read ``cnp/NAME``.
SHORT_KINDS: dict[str, str] = {
    "ClusterNetworkPolicy": "cnp",
    "AdminNetworkPolicy": "anp",
    "BaselineAdminNetworkPolicy": "banp",
    "GlobalNetworkPolicy": "gnp",
}


@dataclass(frozen=True, slots=True)
class Tier:
    """A stage of the evaluation; lower ``order`` is evaluated first.

    ``ends_in_deny``: traffic that no rule of this tier decided is denied for a pod
    that some policy of the tier selects (NetworkPolicy isolation). Otherwise such
    traffic goes on to the next tier.

    >>> str(ADMIN_TIER), ADMIN_TIER.order < NETWORKPOLICY_TIER.order < BASELINE_TIER.order
    ('Admin', True)
    """

    name: str
    order: float
    ends_in_deny: bool = False

    def __str__(self) -> str:
        return self.name

    @property
    def sort_name(self) -> str:
        """The name tiers of one order are sorted by: Calico's for the tiers it shares
        with the other dialects (``default``, ``adminnetworkpolicy``,
        ``baselineadminnetworkpolicy``)."""
        return _CALICO_TIER_NAMES.get(self.name, self.name)


# The orders are Calico's, whose tiers hold these policies: admin policies in a tier
# of order 1,000, Kubernetes NetworkPolicies in the default tier (1,000,000) and the
# baseline policies in a tier of order 10,000,000.
_CALICO_TIER_NAMES = {"NetworkPolicy": "default", "Admin": "adminnetworkpolicy",
                      "Baseline": "baselineadminnetworkpolicy"}

#: The order of every Kubernetes NetworkPolicy inside its tier, as Calico gives it (Calico
#: policies of the default tier with a lower order run before them).
NETWORKPOLICY_ORDER = 1000.0

ADMIN_TIER = Tier("Admin", 1_000)
NETWORKPOLICY_TIER = Tier("NetworkPolicy", 1_000_000, ends_in_deny=True)
BASELINE_TIER = Tier("Baseline", 10_000_000)


@dataclass(frozen=True, slots=True)
class Requirement:
    """One ``matchExpressions`` entry: ``key operator values``."""

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A label selector; the empty selector matches everything.

    >>> LabelSelector().is_empty
    True
    >>> str(LabelSelector(match_labels=Labels({"app": "web"})))
    'app=web'
    """

    match_labels: Labels = field(default_factory=Labels)
    match_expressions: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.match_labels.items()]
        for req in self.match_expressions:
            if req.operator in ("In", "NotIn"):
                parts.append(f"{req.key} {req.operator.lower()} ({','.join(req.values)})")
            elif req.operator == "Exists":
                parts.append(req.key)
            else:
                parts.append(f"!{req.key}")
        return ",".join(parts) if parts else "{}"


Selector = LabelSelector | CalicoSelector
"""A subject selector: a Kubernetes label selector, or a Calico selector expression
(evaluated over a pod's Calico labels: its own, ``projectcalico.org/namespace``,
``projectcalico.org/serviceaccount``, and its namespace's and service account's as
``pcns.*`` and ``pcsa.*``)."""


@dataclass(frozen=True, slots=True)
class IPBlock:
    """Addresses: ``cidr`` minus every CIDR in ``except_`` (an ipBlock, a ``networks`` entry)."""

    cidr: str
    except_: tuple[str, ...] = ()
    location: Location = NOWHERE

    def __str__(self) -> str:
        if self.except_:
            return f"{self.cidr} except {', '.join(self.except_)}"
        return self.cidr


@dataclass(frozen=True, slots=True)
class Entity:
    """A Calico rule's ``source`` or ``destination``: every criterion given must match.

    ``selector``: the endpoints (pods) and network sets it selects, namespace scope
    already folded in (None: no endpoint criterion, so every address, inside the
    cluster or not). ``not_selector``: minus those (scoped alike). ``nets`` (any of)
    and ``not_nets`` (none of): CIDRs the address must or must not be in; Calico
    applies them to pod IPs too. Network sets the selectors match add their CIDRs to
    what they match.

    >>> from reach.model.expressions import CalicoSelector
    >>> str(Entity(not_nets=("10.0.0.0/8",)))
    'notNets 10.0.0.0/8'
    """

    selector: CalicoSelector | None = None
    not_selector: CalicoSelector | None = None
    nets: tuple[str, ...] = ()
    not_nets: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = []
        if self.selector is not None:
            parts.append(f"selector [{self.selector}]")
        if self.not_selector is not None:
            parts.append(f"notSelector [{self.not_selector}]")
        if self.nets:
            parts.append(f"nets {', '.join(self.nets)}")
        if self.not_nets:
            parts.append(f"notNets {', '.join(self.not_nets)}")
        return " and ".join(parts) or "anywhere"


@dataclass(frozen=True, slots=True)
class Peer:
    """One peer of a rule: the other end of the connections the rule is about.

    Exactly one kind of peer:

    * selectors: ``pod_selector`` alone, pods of the policy's namespace (a
      namespaced policy); ``namespace_selector`` alone, every pod of the matching
      namespaces; both, the matching pods of the matching namespaces. Host-network
      pods never match selectors.
    * ``ip_block``: the addresses of the block (pods too, when the compile option
      ``ipblock_pods`` says so).
    * ``node_selector``: the addresses (``status.addresses``) of the matching Nodes.
    * ``domain_names``: DNS names, which no static analysis can resolve: matches
      nothing (a caveat says so).
    * ``unknown``: a field reach does not know (a newer API): matches nothing; the
      dialect has already turned a Deny or Pass rule holding it into "deny all".
    * ``entity``: a Calico rule's source or destination (see :class:`Entity`).
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None
    location: Location = NOWHERE
    node_selector: LabelSelector | None = None
    domain_names: tuple[str, ...] = ()
    unknown: str = ""
    entity: Entity | None = None

    @property
    def selects_pods(self) -> bool:
        """Whether this peer is a pod/namespace selector peer."""
        return self.pod_selector is not None or self.namespace_selector is not None

    def __str__(self) -> str:
        if self.entity is not None:
            return str(self.entity)
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block}"
        if self.node_selector is not None:
            return f"nodes [{self.node_selector}]"
        if self.domain_names:
            return f"domainNames {', '.join(self.domain_names)}"
        if self.unknown:
            return f"unknown peer field {self.unknown}"
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaces [{self.namespace_selector}]")
        if self.pod_selector is not None:
            parts.append(f"pods [{self.pod_selector}]")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class PolicyPort:
    """One port match of a rule, always on the destination.

    ``port`` None: every port of ``protocol``; an int: that port, up to ``end_port``
    when set; a str: a named container port of the destination pod, of
    ``protocol``, or of any protocol when ``protocol`` is ``""`` (the admin APIs'
    named ports carry no protocol). For ICMP and ICMPv6, ``port`` is the ICMP type and
    ``code`` its code (None: every code); a protocol without ports (VRRP, ...) has
    ``port`` None.
    """

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None
    location: Location = NOWHERE
    code: int | None = None

    def __str__(self) -> str:
        if isinstance(self.port, str) and not self.protocol:
            return f"named port {self.port}"
        if self.protocol in ("ICMP", "ICMPv6"):
            if self.port is None:
                return self.protocol
            code = f" code {self.code}" if self.code is not None else ""
            return f"{self.protocol} type {self.port}{code}"
        if self.port is None:
            return f"{self.protocol} (all ports)"
        if self.end_port is not None:
            return f"{self.protocol} {self.port}-{self.end_port}"
        return f"{self.protocol} {self.port}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One ingress or egress rule. Empty ``peers`` = every peer; empty ``ports`` = every port.

    ``index`` is the rule's position in its policy's list for this direction;
    ``name`` the name the manifest gives it (the admin APIs), if any. ``not_ports``:
    ports the rule does not match even when ``ports`` do (Calico's ``notPorts``,
    ``notProtocol``). ``local``: a criterion on the rule's own end (a Calico ingress
    rule's ``destination``, an egress rule's ``source``): the rule applies only to the
    selected pods that match it.
    """

    direction: Direction
    index: int
    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()
    location: Location = NOWHERE
    action: Action = "Allow"
    name: str = ""
    not_ports: tuple[PolicyPort, ...] = ()
    local: Entity | None = None

    @property
    def label(self) -> str:
        """``rule "name"`` when named, else ``ingress[2]``."""
        return f'rule "{self.name}"' if self.name else f"{self.direction}[{self.index}]"


@dataclass(frozen=True, slots=True)
class Policy:
    """A policy in the dialect-neutral form (by default a networking.k8s.io/v1 NetworkPolicy).

    The subject is ``pod_selector`` over the pods of ``namespace`` for a namespaced
    policy, or over the pods of the namespaces ``namespace_selector`` matches for a
    cluster-scoped one (``namespace`` is ``""``; None: every namespace). Calico
    policies select with a :class:`~reach.model.expressions.CalicoSelector`.
    ``policy_types`` lists the directions the policy applies to; for a NetworkPolicy
    they are already defaulted as the API server does (``Ingress`` always, ``Egress``
    too when the ``egress`` list is not empty).
    """

    namespace: str
    name: str
    pod_selector: Selector = field(default_factory=LabelSelector)
    policy_types: tuple[str, ...] = ("Ingress",)
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    location: Location = NOWHERE
    namespace_selector: LabelSelector | None = None
    kind: str = "NetworkPolicy"
    tier: Tier = NETWORKPOLICY_TIER
    priority: float = 0

    @property
    def cluster_scoped(self) -> bool:
        return not self.namespace

    @property
    def ref(self) -> str:
        """``namespace/name``, or ``cnp/name`` (kubectl's short kind) when cluster-scoped."""
        if self.namespace:
            return f"{self.namespace}/{self.name}"
        return f"{SHORT_KINDS.get(self.kind, self.kind.lower())}/{self.name}"

    @property
    def order(self) -> tuple[float, str, float, str, str, str]:
        """The evaluation order: tier (tiers of one order by name, each whole), priority,
        then kind and name to break ties."""
        return (self.tier.order, self.tier.sort_name, self.priority, self.kind, self.namespace,
                self.name)

    def applies(self, direction: Direction) -> bool:
        """Whether this policy takes part in deciding ``direction`` for the pods it selects."""
        return ("Ingress" if direction == "ingress" else "Egress") in self.policy_types

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction == "ingress" else self.egress
