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
    "CIDRS",
    "NAMESPACES",
    "NODES",
    "admin_policies",
    "clusters",
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
