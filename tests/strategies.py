"""Hypothesis strategies for small clusters whose policies collide often.

Everything is drawn from small vocabularies (label keys and values, container
ports, pod IPs, node addresses, CIDRs, policy ports, priorities) so that selectors
match, named ports resolve, ranges overlap, ipBlocks cut through pod IPs and admin
policies share priorities far more often than chance would allow. The clusters are
what the loader would produce: explicit namespaces carry their
``kubernetes.io/metadata.name`` label, undeclared ones are implicit; admin and
baseline policies (ClusterNetworkPolicy, AdminNetworkPolicy, BANP) are mixed with
NetworkPolicies.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

from reach.model import (
    ADMIN_TIER,
    BASELINE_TIER,
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    IPBlock,
    Labels,
    LabelSelector,
    Namespace,
    Node,
    Peer,
    Pod,
    Policy,
    PolicyPort,
    Requirement,
    Rule,
)

__all__ = [
    "CALICO_OUTSIDE",
    "CALICO_PORTS",
    "CIDRS",
    "NAMESPACES",
    "NODES",
    "admin_policies",
    "calico_entities",
    "calico_manifests",
    "calico_policies",
    "calico_rules",
    "calico_selectors",
    "clusters",
    "kubernetes_policies",
    "label_selectors",
    "labels",
    "peers",
    "pods",
    "policies",
    "policy_ports",
    "rules",
]

NAMESPACES = ("ns1", "ns2", "ns3")
POD_KEYS = ("app", "tier", "env")
POD_VALUES = ("a", "b", "c")
NS_KEYS = ("team", "env", NAMESPACE_NAME_LABEL)
NS_VALUES = ("x", "y", "ns1", "ns2")

CONTAINER_PORTS = (
    ContainerPort(80, "TCP", "http"),
    ContainerPort(8080, "TCP", "http"),
    ContainerPort(53, "UDP", "dns"),
    ContainerPort(53, "TCP", "dns"),
    ContainerPort(5353, "UDP", "dns"),
    ContainerPort(9000, "SCTP", "sctp"),
    ContainerPort(443, "TCP", None),
    ContainerPort(1, "TCP", "edge"),
    ContainerPort(65535, "UDP", "edge"),
)

POD_IPS = (
    "10.0.0.1",
    "10.0.0.5",
    "10.0.0.127",
    "10.0.0.128",
    "10.0.0.130",
    "10.0.1.7",
    "192.168.1.1",
    "172.16.0.3",
    "fd00::5",
    "fd00::1:0",
)

#: (cidr, except) pairs; overlapping on purpose, one with host bits set, some IPv6.
CIDRS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("10.0.0.0/24", ()),
    ("10.0.0.0/24", ("10.0.0.0/25",)),
    ("10.0.0.0/24", ("10.0.0.128/28", "10.0.0.4/30")),
    ("10.0.0.0/8", ("10.0.1.0/24",)),
    ("0.0.0.0/0", ()),
    ("0.0.0.0/0", ("10.0.0.0/8", "192.168.0.0/16")),
    ("192.168.1.1/32", ()),
    ("172.16.0.0/12", ()),
    ("10.0.0.1/24", ()),
    ("fd00::/64", ()),
    ("fd00::/112", ("fd00::/120",)),
    ("::/0", ()),
)

#: Nodes whose addresses overlap pod IPs (host-network pods) and outside addresses.
NODES = (
    Node("n1", Labels({"role": "infra"}), ("10.0.0.1",)),
    Node("n2", Labels({"role": "worker"}), ("203.0.113.9", "fd00::5")),
    Node("n3", Labels({"role": "worker", "zone": "b"}), ("192.168.1.1",)),
)
NODE_KEYS = ("role", "zone")
NODE_VALUES = ("infra", "worker", "b")

POLICY_PORTS = (
    PolicyPort("TCP", 80),
    PolicyPort("TCP", 80, 90),
    PolicyPort("TCP", 8080),
    PolicyPort("TCP", 1, 1024),
    PolicyPort("UDP", 53),
    PolicyPort("UDP", 1, 65535),
    PolicyPort("SCTP", 9000, 9005),
    PolicyPort("TCP", None),
    PolicyPort("SCTP", None),
    PolicyPort("UDP", None),
    PolicyPort("TCP", "http"),
    PolicyPort("UDP", "dns"),
    PolicyPort("TCP", "dns"),
    PolicyPort("SCTP", "sctp"),
    PolicyPort("UDP", "edge"),
    PolicyPort("TCP", "nope"),
    PolicyPort("TCP", 65535),
)


def labels(keys: tuple[str, ...] = POD_KEYS,
           values: tuple[str, ...] = POD_VALUES) -> st.SearchStrategy[Labels]:
    return st.dictionaries(st.sampled_from(keys), st.sampled_from(values), max_size=3).map(Labels)


def requirements(keys: tuple[str, ...], values: tuple[str, ...]) -> st.SearchStrategy[Requirement]:
    with_values = st.builds(
        Requirement,
        st.sampled_from(keys),
        st.sampled_from(("In", "NotIn")),
        st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True).map(tuple),
    )
    without = st.builds(Requirement, st.sampled_from(keys),
                        st.sampled_from(("Exists", "DoesNotExist")))
    return st.one_of(with_values, without)


def label_selectors(keys: tuple[str, ...] = POD_KEYS,
                    values: tuple[str, ...] = POD_VALUES) -> st.SearchStrategy[LabelSelector]:
    return st.builds(
        LabelSelector,
        st.dictionaries(st.sampled_from(keys), st.sampled_from(values), max_size=2).map(Labels),
        st.lists(requirements(keys, values), max_size=2).map(tuple),
    )


def ip_blocks() -> st.SearchStrategy[IPBlock]:
    return st.sampled_from(CIDRS).map(lambda c: IPBlock(c[0], c[1]))


def peers() -> st.SearchStrategy[Peer]:
    pod_sel = label_selectors()
    ns_sel = label_selectors(NS_KEYS, NS_VALUES)
    return st.one_of(
        st.builds(Peer, ip_block=ip_blocks()),
        st.builds(Peer, pod_selector=pod_sel),
        st.builds(Peer, namespace_selector=ns_sel),
        st.builds(Peer, pod_selector=pod_sel, namespace_selector=ns_sel),
    )


def policy_ports() -> st.SearchStrategy[PolicyPort]:
    random_range = st.builds(
        lambda proto, lo, width: PolicyPort(proto, lo, min(lo + width, 65535) if width else None),
        st.sampled_from(("TCP", "UDP", "SCTP")),
        st.integers(1, 65535),
        st.integers(0, 3000),
    )
    return st.one_of(st.sampled_from(POLICY_PORTS), random_range)


ADMIN_PORTS = (
    PolicyPort("", "http"),  # the admin APIs' named ports carry no protocol
    PolicyPort("", "dns"),
    PolicyPort("", "nope"),
    PolicyPort("TCP", 80),
    PolicyPort("TCP", 1, 1024),
    PolicyPort("UDP", 53),
    PolicyPort("SCTP", 9000, 9005),
    PolicyPort("TCP", 8080, 8090),
)


def admin_peers() -> st.SearchStrategy[Peer]:
    """The peers of the admin APIs: namespaces, pods, networks, nodes, domain names."""
    pod_sel = label_selectors()
    ns_sel = label_selectors(NS_KEYS, NS_VALUES)
    return st.one_of(
        st.builds(Peer, namespace_selector=ns_sel),
        st.builds(Peer, pod_selector=pod_sel, namespace_selector=ns_sel),
        st.builds(Peer, ip_block=st.sampled_from(CIDRS).map(lambda c: IPBlock(c[0]))),
        st.builds(Peer, node_selector=label_selectors(NODE_KEYS, NODE_VALUES)),
        st.just(Peer(domain_names=("example.com",))),
        st.just(Peer(unknown="someNewPeer")),
    )


# Built once: composite strategies below draw from these on every example.
_POD_LABELS = labels()
_POD_SELECTORS = label_selectors()
_PEERS = peers()
_PORTS = policy_ports()
_TYPES = st.sampled_from((("Ingress",), ("Egress",), ("Ingress", "Egress")))
_CONTAINER_PORTS = st.lists(st.sampled_from(CONTAINER_PORTS), max_size=3, unique=True)
_IPS = st.lists(st.sampled_from(POD_IPS), max_size=2, unique=True).map(tuple)
_OWNERS = st.sampled_from((("", ""), ("", ""), ("Deployment", "web"), ("Deployment", "db"),
                           ("StatefulSet", "web")))
_NS_LABELS = st.dictionaries(st.sampled_from(("team", "env")), st.sampled_from(NS_VALUES),
                             max_size=2)


@st.composite
def rules(draw: st.DrawFn, direction: str, index: int) -> Rule:
    return Rule(
        direction,  # type: ignore[arg-type]
        index,
        tuple(draw(st.lists(_PEERS, max_size=3))),
        tuple(draw(st.lists(_PORTS, max_size=3))),
    )


@st.composite
def policies(
    draw: st.DrawFn, namespaces: tuple[str, ...] = NAMESPACES, name: str = "pol"
) -> Policy:
    n_in = draw(st.integers(0, 2))
    n_out = draw(st.integers(0, 2))
    return Policy(
        namespace=draw(st.sampled_from(namespaces)),
        name=name,
        pod_selector=draw(_POD_SELECTORS),
        policy_types=draw(_TYPES),
        ingress=tuple(draw(rules("ingress", i)) for i in range(n_in)),
        egress=tuple(draw(rules("egress", i)) for i in range(n_out)),
    )


_ADMIN_PEERS = admin_peers()
_ADMIN_PORTS = st.one_of(st.sampled_from(ADMIN_PORTS), policy_ports())


@st.composite
def admin_rules(draw: st.DrawFn, direction: str, index: int, actions: tuple[str, ...]) -> Rule:
    return Rule(
        direction,  # type: ignore[arg-type]
        index,
        tuple(draw(st.lists(_ADMIN_PEERS, min_size=1, max_size=3))),
        tuple(draw(st.lists(_ADMIN_PORTS, max_size=2))),
        action=draw(st.sampled_from(actions)),  # type: ignore[arg-type]
        name=f"r{index}",
    )


@st.composite
def admin_policies(draw: st.DrawFn, name: str = "admin") -> Policy:
    """An Admin or Baseline cluster policy: few priorities, so that ties happen."""
    tier = draw(st.sampled_from((ADMIN_TIER, ADMIN_TIER, BASELINE_TIER)))
    kind = draw(st.sampled_from(("ClusterNetworkPolicy", "AdminNetworkPolicy"))) if (
        tier is ADMIN_TIER) else "ClusterNetworkPolicy"
    actions = ("Allow", "Deny", "Pass", "Log")
    n_in, n_out = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    ingress = tuple(draw(admin_rules("ingress", i, actions)) for i in range(n_in))
    egress = tuple(draw(admin_rules("egress", i, actions)) for i in range(n_out))
    pods_subject = draw(st.booleans())
    return Policy(
        namespace="",
        name=name,
        pod_selector=draw(_POD_SELECTORS) if pods_subject else LabelSelector(),
        policy_types=tuple(t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules),
        ingress=ingress,
        egress=egress,
        namespace_selector=draw(label_selectors(NS_KEYS, NS_VALUES)),
        kind=kind,
        tier=tier,
        priority=draw(st.sampled_from((0, 1, 1, 2, 1000))),
    )


@st.composite
def pods(draw: st.DrawFn, namespaces: tuple[str, ...], name: str) -> Pod:
    named: set[tuple[str | None, str]] = set()
    unique_ports = []
    for cp in draw(_CONTAINER_PORTS):  # a name is unique per protocol within a pod
        if cp.name is not None and (cp.name, cp.protocol) in named:
            continue
        named.add((cp.name, cp.protocol))
        unique_ports.append(cp)
    owner_kind, owner_name = draw(_OWNERS)
    return Pod(
        namespace=draw(st.sampled_from(namespaces)),
        name=name,
        labels=draw(_POD_LABELS),
        ports=tuple(unique_ports),
        ips=draw(_IPS),
        host_network=draw(st.integers(0, 7)) == 0,
        owner_kind=owner_kind,
        owner_name=owner_name,
    )


@st.composite
def clusters(draw: st.DrawFn, max_pods: int = 6, max_policies: int = 4,
             max_admin: int = 2) -> Cluster:
    names = tuple(draw(st.lists(st.sampled_from(NAMESPACES), min_size=1, max_size=3,
                                unique=True)))
    declared = []
    for ns in names:
        if draw(st.booleans()):
            extra = draw(_NS_LABELS)
            declared.append(Namespace(ns, Labels({**extra, NAMESPACE_NAME_LABEL: ns})))
    n_pods = draw(st.integers(2, max_pods))
    all_pods = tuple(draw(pods(names, f"p{i}")) for i in range(n_pods))
    n_pol = draw(st.integers(0, max_policies))
    all_policies = tuple(draw(policies(names, f"pol{i}")) for i in range(n_pol))
    n_admin = draw(st.integers(0, max_admin))
    admin = tuple(draw(admin_policies(f"admin{i}")) for i in range(n_admin))
    nodes = tuple(draw(st.lists(st.sampled_from(NODES), max_size=3, unique=True))) if (
        admin) else ()
    return Cluster(
        namespaces=tuple(sorted(declared, key=lambda n: n.name)),
        pods=tuple(sorted(all_pods, key=lambda p: (p.namespace, p.name))),
        policies=admin + all_policies,
        nodes=tuple(sorted(nodes, key=lambda n: n.name)),
    )


# ---------------------------------------------------------------------------
# Calico clusters, as manifests
#
# Drawn as the documents a user writes (dicts, dumped to YAML by the tests and read
# back by reach's loader), so that the reader is exercised along with the engine and
# the oracle can read the same documents its own way. The vocabularies are small so
# that selectors, namespace and service-account selectors, nets and network sets hit
# the pods often; every choice lists first (where Hypothesis starts, and shrinks to)
# the value that makes policies meet: labelled pods, policies with rules, rules that
# match. Policy names sort the way reach breaks order ties (Calico's NetworkPolicies
# "a-NS-i", then GlobalNetworkPolicies "g-i", then the Kubernetes policy, which
# Calico calls "knp.default.k"), so that equal orders mean one thing to both.

CALICO_NAMESPACES = ("ns1", "ns2", "ns3")
CALICO_APIS = ("projectcalico.org/v3", "crd.projectcalico.org/v1")
CALICO_POD_IPS = ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.1.1", "10.0.1.2", "192.168.0.5")
CALICO_CIDRS = ("10.0.0.0/24", "10.0.0.2/32", "10.0.1.0/24", "10.0.0.0/16", "192.168.0.0/16",
                "203.0.113.0/24", "198.51.100.7/32", "0.0.0.0/0")
#: Outside addresses to probe: in and out of the CIDRs above.
CALICO_OUTSIDE = ("203.0.113.5", "198.51.100.7", "198.51.100.8", "10.0.5.5", "192.168.9.9",
                  "8.8.8.8")
#: Ports where some generated rule's answer changes, and their neighbours.
CALICO_PORTS = (1, 52, 53, 54, 79, 80, 81, 85, 89, 90, 91, 95, 96, 443, 1024, 1025, 5353,
                7999, 8000, 8080, 9000, 9001, 65535)

_CALICO_CONTAINER_PORTS: tuple[dict[str, object], ...] = (
    {"name": "http", "containerPort": 80},
    {"name": "dns", "containerPort": 53, "protocol": "UDP"},
    {"name": "web", "containerPort": 8080, "protocol": "TCP"},
    {"name": "dns", "containerPort": 5353, "protocol": "TCP"},
    {"containerPort": 443},
)
_LabelSets = tuple[dict[str, str], ...]
_CALICO_POD_LABELS: _LabelSets = ({"app": "a"}, {"app": "b", "tier": "a"}, {"tier": "b"},
                                  {"app": "a", "tier": "b"}, {})
_CALICO_NS_LABELS: _LabelSets = ({"team": "x"}, {"team": "y", "env": "prod"}, {},
                                 {"env": "prod"})
_CALICO_SA_LABELS: _LabelSets = ({"role": "front"}, {"role": "back"}, {})
_CALICO_SET_LABELS: _LabelSets = ({"app": "a"}, {"tier": "b"}, {})
_POD_ATOMS = ("app == 'a'", "all()", "app != 'a'", "has(tier)", "!has(tier)", "app == 'b'",
              "has(app)", "app in {'a', 'b'}", "tier not in {'a'}", "tier == 'b'",
              "projectcalico.org/namespace == 'ns1'", "pcns.team == 'x'",
              "projectcalico.org/serviceaccount == 'sa1'")
_NS_ATOMS = ("team == 'x'", "all()", "has(team)", "team in {'x', 'y'}", "env == 'prod'",
             "projectcalico.org/name == 'ns1'", "projectcalico.org/name in {'ns2', 'ns3'}",
             "team != 'x'", "!has(env)")
_SA_ATOMS = ("role == 'front'", "has(role)", "projectcalico.org/name == 'sa1'",
             "role in {'front', 'back'}", "role != 'back'", "!has(role)")
_CALICO_PORT_ITEMS = ("http", 80, "80:90", "dns", 443, 53, "1:1024", "8000:9000", "web")
_CALICO_NOT_PORTS = (80, "85:95", 53, "http")
_ORDERS = (None, 1, 5, 500, 1500, 5, 2.5, None)
_ACTIONS = ("Allow", "Deny", "Pass", "Deny", "Log", "Allow", "Pass")
_PROTOCOLS = ("TCP", None, "UDP", 6, 17, None)
_LAYOUTS = ((1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 1), (1, 2), (2, 2), (0, 0))
_CRITERIA = ("selector", "nets", "notNets", "namespaceSelector", "serviceAccounts", "selector",
             "nets", "selector")


def _combined(atoms: tuple[str, ...]) -> st.SearchStrategy[str]:
    """An atom, or two joined by && or ||, or one negated."""
    atom = st.sampled_from(atoms)
    both = st.tuples(atom, atom)
    return st.one_of(atom, atom, both.map(lambda ab: f"({ab[0]}) && ({ab[1]})"),
                     both.map(lambda ab: f"{ab[0]} || {ab[1]}"), atom.map(lambda a: f"!({a})"))


def calico_selectors() -> st.SearchStrategy[str]:
    """Selectors over pod (and network set) labels, the labels Calico adds among them."""
    return _combined(_POD_ATOMS)


_CALICO_SELECTORS = calico_selectors()
_NS_SELECTORS = _combined(_NS_ATOMS)
_SA_SELECTORS = _combined(_SA_ATOMS)
_CIDR_LISTS = st.lists(st.sampled_from(CALICO_CIDRS), min_size=1, max_size=2, unique=True)


@st.composite
def calico_entities(draw: st.DrawFn, global_policy: bool) -> dict[str, object]:
    """A rule's other end: none, one or two of selector, namespaceSelector,
    serviceAccounts, nets, notNets and (in a GlobalNetworkPolicy) notSelector."""
    kinds = _CRITERIA + (("notSelector", "notSelector") if global_policy else ())
    size = draw(st.sampled_from((1, 0, 2, 1)))
    chosen = set(draw(st.lists(st.sampled_from(kinds), min_size=size, max_size=size)))
    if "namespaceSelector" in chosen:
        chosen.discard("notSelector")
    out: dict[str, object] = {}
    if "selector" in chosen:
        out["selector"] = draw(_CALICO_SELECTORS)
    if "namespaceSelector" in chosen:
        out["namespaceSelector"] = draw(_NS_SELECTORS)
    if "serviceAccounts" in chosen:
        accounts: dict[str, object] = {}
        if draw(st.booleans()):
            accounts["names"] = draw(st.lists(st.sampled_from(("sa1", "sa2", "default")),
                                              min_size=1, max_size=2, unique=True))
        if not accounts or draw(st.booleans()):
            accounts["selector"] = draw(_SA_SELECTORS)
        out["serviceAccounts"] = accounts
    if "nets" in chosen:
        out["nets"] = draw(_CIDR_LISTS)
    if "notNets" in chosen:
        out["notNets"] = draw(_CIDR_LISTS)
    if "notSelector" in chosen:
        out["notSelector"] = draw(_CALICO_SELECTORS)
    return out


@st.composite
def calico_rules(draw: st.DrawFn, direction: str, global_policy: bool) -> dict[str, object]:
    """A Calico rule: an action, maybe a protocol (by name or number), the other end,
    maybe ports and notPorts, rarely a criterion on the rule's own end."""
    rule: dict[str, object] = {"action": draw(st.sampled_from(_ACTIONS))}
    protocol = draw(st.sampled_from(_PROTOCOLS))
    if protocol is not None:
        rule["protocol"] = protocol
    elif draw(st.integers(0, 3)) == 3:
        rule["notProtocol"] = draw(st.sampled_from(("TCP", "UDP", 17)))
    other = draw(calico_entities(global_policy))
    mine: dict[str, object] = {}
    if draw(st.integers(0, 6)) == 6:
        mine["selector"] = draw(_CALICO_SELECTORS)
    if draw(st.integers(0, 8)) == 8:
        mine["nets"] = draw(_CIDR_LISTS)
    destination = other if direction == "egress" else mine
    if protocol is not None:
        if draw(st.booleans()):
            destination["ports"] = draw(st.lists(st.sampled_from(_CALICO_PORT_ITEMS),
                                                 min_size=1, max_size=2, unique=True))
        if draw(st.integers(0, 4)) == 4:
            destination["notPorts"] = draw(st.lists(st.sampled_from(_CALICO_NOT_PORTS),
                                                    min_size=1, max_size=2, unique=True))
    for side, entity in (("source", other if direction == "ingress" else mine),
                         ("destination", destination)):
        if entity:
            rule[side] = entity
    return rule


@st.composite
def calico_policies(draw: st.DrawFn, namespaces: tuple[str, ...], index: int,
                    tiers: tuple[str, ...]) -> dict[str, object]:
    """A Calico NetworkPolicy or GlobalNetworkPolicy, as a manifest."""
    is_global = draw(st.booleans())
    namespace = draw(st.sampled_from(namespaces))
    metadata: dict[str, object] = ({"name": f"g-{index}"} if is_global else
                                   {"name": f"a-{namespace}-{index}", "namespace": namespace})
    spec: dict[str, object] = {}
    tier = draw(st.sampled_from(tiers))
    if tier != "default" or draw(st.booleans()):
        spec["tier"] = tier
    order = draw(st.sampled_from(_ORDERS))
    if order is not None:
        spec["order"] = order
    if draw(st.booleans()):
        spec["selector"] = draw(_CALICO_SELECTORS)
    if is_global and draw(st.integers(0, 3)) == 3:
        spec["namespaceSelector"] = draw(_NS_SELECTORS)
    if draw(st.integers(0, 5)) == 5:
        spec["serviceAccountSelector"] = draw(_SA_SELECTORS)
    if draw(st.integers(0, 3)) == 3:
        spec["types"] = draw(st.sampled_from((["Ingress"], ["Egress"], ["Ingress", "Egress"])))
    for direction, count in zip(("ingress", "egress"), draw(st.sampled_from(_LAYOUTS)),
                                strict=True):
        if count:
            spec[direction] = [draw(calico_rules(direction, is_global)) for _ in range(count)]
    return {"apiVersion": draw(st.sampled_from(CALICO_APIS)),
            "kind": "GlobalNetworkPolicy" if is_global else "NetworkPolicy",
            "metadata": metadata, "spec": spec}


_K8S_PEERS: tuple[dict[str, object] | None, ...] = (
    None, None, None,
    {"podSelector": {"matchLabels": {"app": "a"}}},
    {"namespaceSelector": {"matchLabels": {}}},
    {"namespaceSelector": {"matchLabels": {"team": "x"}}},
    {"podSelector": {}},
    {"ipBlock": {"cidr": "10.0.0.0/24"}},
    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ns2"}},
     "podSelector": {"matchLabels": {"tier": "b"}}},
    {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.1.0/24"]}},
    {"ipBlock": {"cidr": "203.0.113.0/24"}},
)
_K8S_PORTS = (None, None, None, {"protocol": "TCP", "port": 80}, {"port": 8000, "endPort": 9000},
              {"protocol": "UDP"}, {"protocol": "UDP", "port": "dns"}, {"port": "http"})


@st.composite
def kubernetes_policies(draw: st.DrawFn, namespaces: tuple[str, ...]) -> dict[str, object]:
    """A networking.k8s.io NetworkPolicy named ``k`` (Calico's ``knp.default.k``)."""
    spec: dict[str, object] = {"podSelector": {"matchLabels": draw(st.sampled_from(
        ({}, {"app": "a"}, {"app": "b"})))}}
    for direction, key, count in zip(("ingress", "egress"), ("from", "to"),
                                     draw(st.sampled_from(_LAYOUTS)), strict=True):
        rules = []
        for _ in range(count):
            rule: dict[str, object] = {}
            peer, port = draw(st.sampled_from(_K8S_PEERS)), draw(st.sampled_from(_K8S_PORTS))
            if peer is not None:
                rule[key] = [peer]
            if port is not None:
                rule["ports"] = [port]
            rules.append(rule)
        if rules:
            spec[direction] = rules
    if draw(st.integers(0, 2)) == 2:
        spec["policyTypes"] = draw(st.sampled_from((["Ingress"], ["Egress"],
                                                    ["Ingress", "Egress"])))
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "k", "namespace": draw(st.sampled_from(namespaces))},
            "spec": spec}


def _named_port(port: dict[str, object]) -> tuple[object, object]:
    """A container port's name and protocol, unique within a pod."""
    return port.get("name"), port.get("protocol", "TCP")


@st.composite
def calico_manifests(draw: st.DrawFn, kubernetes: bool = True) -> list[dict[str, object]]:
    """A small cluster with Calico policies, as manifests: 2-3 labelled namespaces, 2-5
    pods (labels, one IPv4 address each, service accounts, named ports), 0-2 labelled
    ServiceAccounts, 0-1 network sets, 1-2 tiers, 1-4 Calico policies and, with
    ``kubernetes``, a Kubernetes NetworkPolicy."""
    names = tuple(sorted(draw(st.lists(st.sampled_from(CALICO_NAMESPACES), min_size=2,
                                       max_size=3, unique=True))))
    docs: list[dict[str, object]] = []
    for ns in names:
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": ns, "labels": dict(draw(st.sampled_from(_CALICO_NS_LABELS)))}})
    accounts = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(("sa1", "sa2"))),
                             max_size=2, unique=True))
    for ns, name in accounts:
        docs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {
            "name": name, "namespace": ns,
            "labels": dict(draw(st.sampled_from(_CALICO_SA_LABELS)))}})
    ips = draw(st.lists(st.sampled_from(CALICO_POD_IPS), min_size=2, max_size=5, unique=True))
    for i, ip in enumerate(ips):
        spec: dict[str, object] = {"containers": [{"name": "c", "image": "app", "ports": draw(
            st.lists(st.sampled_from(_CALICO_CONTAINER_PORTS), min_size=1, max_size=2,
                     unique_by=_named_port))}]}
        account = draw(st.sampled_from((None, "sa1", "sa2")))
        if account is not None:
            spec["serviceAccountName"] = account
        docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": f"p{i}", "namespace": draw(st.sampled_from(names)),
            "labels": dict(draw(st.sampled_from(_CALICO_POD_LABELS)))},
            "spec": spec, "status": {"podIP": ip}})
    if draw(st.integers(0, 2)):
        set_labels = dict(draw(st.sampled_from(_CALICO_SET_LABELS)))
        nets = draw(_CIDR_LISTS)
        api = draw(st.sampled_from(CALICO_APIS))
        if draw(st.booleans()):
            docs.append({"apiVersion": api, "kind": "GlobalNetworkSet",
                         "metadata": {"name": "set", "labels": set_labels},
                         "spec": {"nets": nets}})
        else:
            docs.append({"apiVersion": api, "kind": "NetworkSet", "metadata": {
                "name": "set", "namespace": draw(st.sampled_from(names)),
                "labels": set_labels}, "spec": {"nets": nets}})
    tiers: tuple[str, ...] = ("default",)
    if draw(st.integers(0, 2)):
        tiers = ("default", "sec")
        tier_spec: dict[str, object] = {}
        order = draw(st.sampled_from((100, None, 2_000_000, 1_000_000)))  # 1e6: the default's
        if order is not None:
            tier_spec["order"] = order
        action = draw(st.sampled_from((None, "Pass", "Deny")))
        if action is not None:
            tier_spec["defaultAction"] = action
        docs.append({"apiVersion": draw(st.sampled_from(CALICO_APIS)), "kind": "Tier",
                     "metadata": {"name": "sec"}, "spec": tier_spec})
    for i in range(draw(st.sampled_from((2, 3, 1, 4)))):
        docs.append(draw(calico_policies(names, i, tiers)))
    if kubernetes:
        docs.append(draw(kubernetes_policies(names)))
    # no shared objects (YAML would write them as anchors, which reach refuses)
    out: list[dict[str, object]] = json.loads(json.dumps(docs))
    return out
