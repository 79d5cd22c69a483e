"""Every semantic rule of the NetworkPolicy API, one named test each.

Each docstring quotes the sentence of the Kubernetes documentation the test
implements: the concept page (kubernetes.io/docs/concepts/services-networking/
network-policies), the networking.k8s.io/v1 API reference (NetworkPolicySpec,
NetworkPolicyPeer, NetworkPolicyPort, IPBlock, the ingress and egress rules),
LabelSelector, and the labels concept page. Clusters are built from model objects
(or, for defaulting done by the API server, read from YAML) and every verdict is
checked three ways: ``Network.can``, the compiled port sets and the brute-force
oracle.
"""

from __future__ import annotations

import oracle
import pytest

import reach
from reach.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    IPBlock,
    Labels,
    LabelSelector,
    Namespace,
    Peer,
    Pod,
    Policy,
    PolicyPort,
    Requirement,
    Rule,
)
from reach.network import Network

# ---------------------------------------------------------------------------
# building blocks


def sel(**labels: str) -> LabelSelector:
    return LabelSelector(Labels(labels))


def expr(key: str, operator: str, *values: str) -> LabelSelector:
    return LabelSelector(match_expressions=(Requirement(key, operator, values),))  # type: ignore[arg-type]


def ns(name: str, **labels: str) -> Namespace:
    return Namespace(name, Labels({**labels, NAMESPACE_NAME_LABEL: name}))


def pod(ref: str, ips: tuple[str, ...] = (), ports: tuple[ContainerPort, ...] = (),
        host_network: bool = False, **labels: str) -> Pod:
    namespace, name = ref.split("/")
    return Pod(namespace, name, Labels(labels), ports=ports, ips=ips, host_network=host_network)


def ingress(*peers: Peer, ports: tuple[PolicyPort, ...] = (), index: int = 0) -> Rule:
    return Rule("ingress", index, peers, ports)


def egress(*peers: Peer, ports: tuple[PolicyPort, ...] = (), index: int = 0) -> Rule:
    return Rule("egress", index, peers, ports)


def policy(ref: str, selector: LabelSelector | None = None, *rules: Rule,
           types: tuple[str, ...] | None = None) -> Policy:
    namespace, name = ref.split("/")
    ins = tuple(r for r in rules if r.direction == "ingress")
    outs = tuple(r for r in rules if r.direction == "egress")
    if types is None:
        types = ("Ingress", "Egress") if outs else ("Ingress",)
    return Policy(namespace, name, selector or LabelSelector(), types, ins, outs)


def pods_peer(selector: LabelSelector) -> Peer:
    return Peer(pod_selector=selector)


def namespaces_peer(selector: LabelSelector) -> Peer:
    return Peer(namespace_selector=selector)


def block(cidr: str, *excepts: str) -> Peer:
    return Peer(ip_block=IPBlock(cidr, excepts))


def tcp(port: int | str | None = None, end: int | None = None) -> PolicyPort:
    return PolicyPort("TCP", port, end)


class World:
    """A cluster compiled both ways, answering every question three times over."""

    def __init__(self, *objects: Pod | Policy | Namespace, ipblock_pods: bool = True) -> None:
        self.cluster = Cluster(
            namespaces=tuple(o for o in objects if isinstance(o, Namespace)),
            pods=tuple(o for o in objects if isinstance(o, Pod)),
            policies=tuple(o for o in objects if isinstance(o, Policy)),
        )
        self.ipblock_pods = ipblock_pods
        self.net = Network(self.cluster, ipblock_pods=ipblock_pods)

    def endpoint(self, ref: str) -> Pod | str:
        if "/" not in ref:
            return ref
        return next(p for p in self.cluster.pods if p.ref == ref)

    def can(self, src: str, dst: str, port: int | None = 80, protocol: str = "TCP") -> bool:
        """``net.can``; asserts that the compiled ports and the oracle agree with it."""
        verdict = self.net.can(src, dst, port=port, protocol=protocol)
        a, b = self.endpoint(src), self.endpoint(dst)
        if port is not None:
            expected = oracle.allowed(self.cluster, a, b, protocol, port, self.ipblock_pods)
            assert bool(verdict) == expected, str(verdict)
            if isinstance(a, Pod) and isinstance(b, Pod):
                pods = self.cluster.pods
                compiled = self.net.compiled.pod_ports(pods.index(a), pods.index(b))
                assert compiled.allows(protocol, port) == expected
        return bool(verdict)


# ---------------------------------------------------------------------------
# isolation


def test_pods_are_non_isolated_by_default() -> None:
    """"By default, a pod is non-isolated for egress; all outbound connections are allowed."
    "By default, a pod is non-isolated for ingress; all inbound connections are allowed."
    """
    w = World(pod("a/x"), pod("b/y"))
    assert w.can("a/x", "b/y") and w.can("b/y", "a/x")
    assert w.can("a/x", "8.8.8.8", port=53, protocol="UDP")
    assert w.can("8.8.8.8", "a/x", port=443)
    verdict = w.net.can("a/x", "b/y", port=80)
    assert not verdict.egress.isolated and not verdict.ingress.isolated


def test_policy_without_rules_denies_all() -> None:
    """ingress: "If this field is empty then this NetworkPolicy does not allow any traffic
    (and serves solely to ensure that the pods it selects are isolated by default)"."""
    w = World(pod("ns/a"), pod("ns/b"), policy("ns/deny-all"))
    assert not w.can("ns/a", "ns/b")
    assert not w.can("8.8.8.8", "ns/b")
    assert w.can("ns/a", "8.8.8.8")  # egress is not isolated


def test_ingress_isolation_only_with_ingress_type() -> None:
    """"A pod is isolated for ingress if there is any NetworkPolicy that both selects the
    pod and has "Ingress" in its policyTypes"."""
    egress_only = policy("ns/egress-only", sel(), ingress(), types=("Egress",))
    w = World(pod("ns/a"), pod("ns/b"), egress_only)
    assert not w.can("ns/a", "ns/b")  # a's egress is isolated, with no egress rule
    assert w.can("8.8.8.8", "ns/b")  # ingress is not isolated: the ingress rule is moot
    assert not w.net.can("8.8.8.8", "ns/b").ingress.isolated


def test_egress_isolation_only_with_egress_type() -> None:
    """"A pod is isolated for egress if there is any NetworkPolicy that both selects the pod
    and has "Egress" in its policyTypes"."""
    ingress_only = policy("ns/ingress-only", sel(app="a"), egress(block("10.0.0.0/8")),
                          types=("Ingress",))
    w = World(pod("ns/a", app="a"), ingress_only)
    assert w.can("ns/a", "8.8.8.8")  # the egress rule does not isolate anything
    assert not w.net.can("ns/a", "8.8.8.8").egress.isolated


def test_default_policy_types() -> None:
    """"If no policyTypes are specified on a NetworkPolicy then by default Ingress will
    always be set and Egress will be set if the NetworkPolicy has any egress rules.\""""
    yaml = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-egress, namespace: ns}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: empty-egress, namespace: ns}
spec: {podSelector: {}, egress: []}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: with-egress, namespace: ns}
spec: {podSelector: {}, egress: [{}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: explicit, namespace: ns}
spec: {podSelector: {}, policyTypes: [Egress], ingress: [{}]}
"""
    net = reach.load("-", stdin_text=yaml)
    types = {p.name: p.policy_types for p in net.cluster.policies}
    assert types == {
        "no-egress": ("Ingress",),
        "empty-egress": ("Ingress",),
        "with-egress": ("Ingress", "Egress"),
        "explicit": ("Egress",),
    }


def test_both_sides_must_allow() -> None:
    """"For a connection from a source pod to a destination pod to be allowed, both the
    egress policy on the source pod and the ingress policy on the destination pod need to
    allow the connection. If either side does not allow the connection, it will not
    happen.\""""
    only_b_out = policy("ns/a-out", sel(app="a"), egress(pods_peer(sel(app="b"))))
    deny_b_in = policy("ns/b-in", sel(app="b"))
    allow_b_in = policy("ns/b-in-ok", sel(app="b"), ingress(pods_peer(sel(app="a"))))
    a, b, c = pod("ns/a", app="a"), pod("ns/b", app="b"), pod("ns/c", app="c")
    assert World(a, b, c, only_b_out).can("ns/a", "ns/b")
    assert not World(a, b, c, only_b_out).can("ns/a", "ns/c")  # egress says no
    assert not World(a, b, c, only_b_out, deny_b_in).can("ns/a", "ns/b")  # ingress says no
    assert World(a, b, c, only_b_out, deny_b_in, allow_b_in).can("ns/a", "ns/b")


def test_policies_are_additive() -> None:
    """"Network policies do not conflict; they are additive. If any policy or policies apply
    to a given pod for a given direction, the connections allowed in that direction from
    that pod is the union of what the applicable policies allow.\""""
    web = policy("ns/web", sel(app="db"), ingress(pods_peer(sel(app="web")), ports=(tcp(5432),)))
    ops = policy("ns/ops", sel(app="db"), ingress(pods_peer(sel(app="ops")), ports=(tcp(22),)))
    w = World(pod("ns/db", app="db"), pod("ns/web", app="web"), pod("ns/ops", app="ops"), web, ops)
    assert w.can("ns/web", "ns/db", port=5432) and not w.can("ns/web", "ns/db", port=22)
    assert w.can("ns/ops", "ns/db", port=22) and not w.can("ns/ops", "ns/db", port=5432)
    verdict = w.net.can("ns/web", "ns/db", port=None)
    assert str(verdict.ports) == "TCP 5432"
    assert [p.name for p in verdict.ingress.selecting] == ["ops", "web"]  # evaluation order


def test_order_of_policies_does_not_matter() -> None:
    """"Thus, order of evaluation does not affect the policy result.\""""
    first = policy("ns/first", sel(app="db"), ingress(pods_peer(sel(app="web"))))
    second = policy("ns/second", sel(), egress(ports=(tcp(53),)))
    pods = (pod("ns/db", app="db"), pod("ns/web", app="web"))
    one, two = World(*pods, first, second), World(*pods, second, first)
    for src, dst in (("ns/web", "ns/db"), ("ns/db", "ns/web")):
        for port in (53, 80):
            assert one.can(src, dst, port=port) == two.can(src, dst, port=port)


def test_empty_pod_selector_selects_all_pods_in_namespace() -> None:
    """"An empty podSelector selects all pods in the namespace.\""""
    w = World(pod("ns/a", app="a"), pod("ns/b"), pod("other/c"), policy("ns/deny", sel()))
    assert not w.can("other/c", "ns/a") and not w.can("other/c", "ns/b")
    assert w.can("ns/a", "other/c")  # a policy applies only in its own namespace


def test_policy_applies_only_in_its_namespace() -> None:
    """spec: "has all the information needed to define a particular network policy in the
    given namespace.\""""
    w = World(pod("ns/web", app="web"), pod("other/web", app="web"), pod("x/c"),
              policy("ns/deny-web", sel(app="web")))
    assert not w.can("x/c", "ns/web")
    assert w.can("x/c", "other/web")


def test_allow_all_ingress_cannot_be_narrowed() -> None:
    """"With this policy in place, no additional policy or policies can cause any incoming
    connection to those pods to be denied.\""""
    allow_all = policy("ns/allow-all", sel(), ingress())
    narrow = policy("ns/narrow", sel(), ingress(pods_peer(sel(app="none")), ports=(tcp(1),)))
    w = World(pod("ns/a"), pod("x/b"), allow_all, narrow)
    assert w.can("x/b", "ns/a", port=8080) and w.can("1.2.3.4", "ns/a", port=9, protocol="UDP")


def test_default_deny_ingress_does_not_affect_egress() -> None:
    """Default deny all ingress traffic: "This policy does not affect isolation for egress
    from any pod.\""""
    w = World(pod("ns/a"), pod("x/b"), policy("ns/deny-in", sel(), types=("Ingress",)))
    assert w.can("ns/a", "x/b") and w.can("ns/a", "9.9.9.9")
    assert not w.can("x/b", "ns/a")


def test_default_deny_egress_does_not_affect_ingress() -> None:
    """Default deny all egress traffic: "This policy does not change the ingress isolation
    behavior of any pod.\""""
    w = World(pod("ns/a"), pod("x/b"), policy("ns/deny-out", sel(), types=("Egress",)))
    assert not w.can("ns/a", "x/b") and not w.can("ns/a", "9.9.9.9")
    assert w.can("x/b", "ns/a") and w.can("9.9.9.9", "ns/a")


def test_rule_needs_both_peer_and_port() -> None:
    """ingress: "Each rule allows traffic which matches both the from and ports sections.\""""
    w = World(pod("ns/db", app="db"), pod("ns/web", app="web"), pod("ns/x", app="x"),
              policy("ns/p", sel(app="db"), ingress(pods_peer(sel(app="web")), ports=(tcp(5432),))))
    assert w.can("ns/web", "ns/db", port=5432)
    assert not w.can("ns/web", "ns/db", port=5433)
    assert not w.can("ns/x", "ns/db", port=5432)


# ---------------------------------------------------------------------------
# peers


def test_missing_from_allows_all_sources() -> None:
    """from: "If this field is empty or missing, this rule matches all sources (traffic not
    restricted by source).\""""
    w = World(pod("ns/db", app="db"), pod("x/any"), pod("y/host", ips=("10.1.1.1",),
                                                       host_network=True),
              policy("ns/p", sel(app="db"), ingress(ports=(tcp(5432),))))
    for src in ("x/any", "y/host", "203.0.113.9"):
        assert w.can(src, "ns/db", port=5432)
        assert not w.can(src, "ns/db", port=22)


def test_empty_from_list_allows_all() -> None:
    """from: "If this field is empty or missing, this rule matches all sources" -- an
    explicit ``from: []`` reads the same as no ``from`` at all."""
    yaml = """
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: ns, labels: {app: db}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: other}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: []
    ports: [{port: 5432}]
"""
    net = reach.load("-", stdin_text=yaml)
    assert net.cluster.policies[0].ingress[0].peers == ()
    assert net.can("other/c", "ns/db", port=5432)
    assert net.can("198.51.100.1", "ns/db", port=5432)
    assert not net.can("other/c", "ns/db", port=80)


def test_missing_to_allows_all_destinations() -> None:
    """to: "If this field is empty or missing, this rule matches all destinations (traffic
    not restricted by destination).\""""
    dns_only = policy("ns/dns", sel(), egress(ports=(PolicyPort("UDP", 53),)))
    w = World(pod("ns/a"), pod("x/b"), dns_only)
    assert w.can("ns/a", "x/b", port=53, protocol="UDP")
    assert w.can("ns/a", "8.8.8.8", port=53, protocol="UDP")
    assert not w.can("ns/a", "8.8.8.8", port=53, protocol="TCP")


def test_pod_selector_peer_selects_pods_in_policy_namespace() -> None:
    """podSelector: "This selects particular Pods in the same namespace as the NetworkPolicy
    which should be allowed as ingress sources or egress destinations.\""""
    w = World(pod("ns/db", app="db"), pod("ns/web", app="web"), pod("other/web", app="web"),
              policy("ns/p", sel(app="db"), ingress(pods_peer(sel(app="web")))))
    assert w.can("ns/web", "ns/db")
    assert not w.can("other/web", "ns/db")


def test_empty_pod_selector_peer_selects_all_pods_of_own_namespace() -> None:
    """podSelector: "if present but empty, it selects all pods. ... Otherwise it selects the
    Pods matching PodSelector in the policy's own Namespace.\""""
    w = World(pod("ns/db", app="db"), pod("ns/any"), pod("other/any"),
              policy("ns/p", sel(app="db"), ingress(pods_peer(sel()))))
    assert w.can("ns/any", "ns/db")
    assert not w.can("other/any", "ns/db")
    assert not w.can("10.0.0.1", "ns/db")  # pods only, never outside addresses


def test_namespace_selector_peer_selects_all_pods_of_matching_namespaces() -> None:
    """namespaceSelector: "This selects particular namespaces for which all Pods should be
    allowed as ingress sources or egress destinations.\""""
    w = World(ns("prod", env="prod"), ns("dev", env="dev"),
              pod("prod/a", app="a"), pod("prod/b"), pod("dev/a", app="a"), pod("db/db", app="db"),
              policy("db/p", sel(app="db"), ingress(namespaces_peer(sel(env="prod")))))
    assert w.can("prod/a", "db/db") and w.can("prod/b", "db/db")
    assert not w.can("dev/a", "db/db")


def test_namespace_selector_matches_namespace_labels_not_pod_labels() -> None:
    """namespaceSelector: "Selects Namespaces using cluster-scoped labels.\""""
    w = World(ns("prod", env="prod"), pod("prod/a"), pod("dev/a", env="prod"), pod("db/db"),
              policy("db/p", sel(), ingress(namespaces_peer(sel(env="prod")))))
    assert w.can("prod/a", "db/db")
    assert not w.can("dev/a", "db/db")


def test_empty_namespace_selector_selects_all_namespaces() -> None:
    """namespaceSelector: "This field follows standard label selector semantics; if present
    but empty, it selects all namespaces.\""""
    w = World(ns("declared", team="x"), pod("declared/a"), pod("implicit/b"), pod("db/db"),
              policy("db/p", sel(), ingress(namespaces_peer(sel()))))
    assert w.can("declared/a", "db/db") and w.can("implicit/b", "db/db")
    assert not w.can("192.0.2.1", "db/db")


def test_namespace_selector_by_metadata_name_label() -> None:
    """"The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on
    all namespaces, the value of the label is the namespace name.\""""
    by_name = namespaces_peer(sel(**{NAMESPACE_NAME_LABEL: "frontend"}))
    w = World(pod("frontend/web"), pod("backend/web"), pod("db/db"),  # implicit namespaces
              policy("db/p", sel(), ingress(by_name)))
    assert w.can("frontend/web", "db/db")
    assert not w.can("backend/web", "db/db")


def test_pod_and_namespace_selector_in_one_peer_are_anded() -> None:
    """"A single to/from entry that specifies both namespaceSelector and podSelector selects
    particular Pods within particular namespaces.\""""
    both = Peer(pod_selector=sel(role="client"), namespace_selector=sel(user="alice"))
    w = World(ns("alice", user="alice"), ns("bob", user="bob"),
              pod("alice/client", role="client"), pod("alice/other"),
              pod("bob/client", role="client"), pod("db/db", role="db"),
              policy("db/p", sel(role="db"), ingress(both)))
    assert w.can("alice/client", "db/db")
    assert not w.can("alice/other", "db/db")
    assert not w.can("bob/client", "db/db")


def test_separate_peers_are_ored() -> None:
    """"It contains two elements in the from array, and allows connections from Pods in the
    local Namespace with the label role=client, *or* from any Pod in any namespace with the
    label user=alice.\""""
    w = World(ns("alice", user="alice"), ns("db"),
              pod("alice/other"), pod("db/client", role="client"), pod("db/other"),
              pod("bob/client", role="client"), pod("db/db", role="db"),
              policy("db/p", sel(role="db"), ingress(namespaces_peer(sel(user="alice")),
                                                     pods_peer(sel(role="client")))))
    assert w.can("alice/other", "db/db")
    assert w.can("db/client", "db/db")
    assert not w.can("db/other", "db/db")
    assert not w.can("bob/client", "db/db")


# ---------------------------------------------------------------------------
# label selectors


def test_notin_matches_pods_without_the_key() -> None:
    """"The second example selects all resources with key equal to tier and values other
    than frontend and backend, and all resources with no labels with the tier key.\""""
    w = World(pod("ns/db", app="db"), pod("ns/front", tier="frontend"),
              pod("ns/cache", tier="cache"), pod("ns/bare"),
              policy("ns/p", sel(app="db"),
                     ingress(pods_peer(expr("tier", "NotIn", "frontend", "backend")))))
    assert not w.can("ns/front", "ns/db")
    assert w.can("ns/cache", "ns/db")
    assert w.can("ns/bare", "ns/db")


def test_in_requires_the_key_with_one_of_the_values() -> None:
    """"The first example selects all resources with key equal to environment and value
    equal to production or qa.\""""
    w = World(pod("ns/db", app="db"), pod("ns/prod", environment="production"),
              pod("ns/qa", environment="qa"), pod("ns/dev", environment="dev"), pod("ns/bare"),
              policy("ns/p", sel(app="db"),
                     ingress(pods_peer(expr("environment", "In", "production", "qa")))))
    assert w.can("ns/prod", "ns/db") and w.can("ns/qa", "ns/db")
    assert not w.can("ns/dev", "ns/db") and not w.can("ns/bare", "ns/db")


def test_exists_and_does_not_exist_check_only_the_key() -> None:
    """"The third example selects all resources including a label with key partition; no
    values are checked. The fourth example selects all resources without a label with key
    partition; no values are checked.\""""
    cluster = (pod("ns/db", app="db"), pod("ns/p1", partition="1"), pod("ns/p2", partition=""),
               pod("ns/none"))
    exists = World(*cluster, policy("ns/p", sel(app="db"),
                                    ingress(pods_peer(expr("partition", "Exists")))))
    assert exists.can("ns/p1", "ns/db") and exists.can("ns/p2", "ns/db")
    assert not exists.can("ns/none", "ns/db")
    absent = World(*cluster, policy("ns/p", sel(app="db"),
                                    ingress(pods_peer(expr("partition", "DoesNotExist")))))
    assert not absent.can("ns/p1", "ns/db") and not absent.can("ns/p2", "ns/db")
    assert absent.can("ns/none", "ns/db")


def test_match_labels_and_match_expressions_are_anded() -> None:
    """"The result of matchLabels and matchExpressions are ANDed." and matchExpressions:
    "The requirements are ANDed.\""""
    both = LabelSelector(Labels({"app": "web"}),
                         (Requirement("tier", "In", ("front",)),
                          Requirement("canary", "DoesNotExist")))
    w = World(pod("ns/db", app="db"), pod("ns/ok", app="web", tier="front"),
              pod("ns/canary", app="web", tier="front", canary="yes"),
              pod("ns/back", app="web", tier="back"), pod("ns/other", tier="front"),
              policy("ns/p", sel(app="db"), ingress(pods_peer(both))))
    assert w.can("ns/ok", "ns/db")
    for other in ("ns/canary", "ns/back", "ns/other"):
        assert not w.can(other, "ns/db")


def test_match_labels_is_in_with_one_value() -> None:
    """matchLabels: "A single {key,value} in the matchLabels map is equivalent to an element
    of matchExpressions, whose key field is "key", the operator is "In", and the values
    array contains only "value".\""""
    pods = (pod("ns/db", app="db"), pod("ns/a", app="web"), pod("ns/b", app="web2"), pod("ns/c"))
    by_labels = World(*pods, policy("ns/p", sel(app="db"), ingress(pods_peer(sel(app="web")))))
    by_expr = World(*pods, policy("ns/p", sel(app="db"),
                                  ingress(pods_peer(expr("app", "In", "web")))))
    for src in ("ns/a", "ns/b", "ns/c"):
        assert by_labels.can(src, "ns/db") == by_expr.can(src, "ns/db")


# ---------------------------------------------------------------------------
# ipBlock


def test_ipblock_except() -> None:
    """"IP addresses in the ranges 172.17.0.0-172.17.0.255 and 172.17.2.0-172.17.255.255
    (ie, all of 172.17.0.0/16 except 172.17.1.0/24)"; except: "a slice of CIDRs that should
    not be included within an IPBlock"."""
    w = World(pod("default/db", role="db"),
              policy("default/p", sel(role="db"),
                     ingress(block("172.17.0.0/16", "172.17.1.0/24"), ports=(tcp(6379),))))
    for address, ok in (("172.16.255.255", False), ("172.17.0.0", True), ("172.17.0.255", True),
                        ("172.17.1.0", False), ("172.17.1.255", False), ("172.17.2.0", True),
                        ("172.17.255.255", True), ("172.18.0.0", False)):
        assert w.can(address, "default/db", port=6379) == ok, address


def test_ipblock_egress_to_outside() -> None:
    """"(Egress rules) allows connections from any pod in the "default" namespace with the
    label "role=db" to CIDR 10.0.0.0/24 on TCP port 5978\""""
    w = World(pod("default/db", role="db"),
              policy("default/p", sel(role="db"), egress(block("10.0.0.0/24"), ports=(tcp(5978),))))
    assert w.can("default/db", "10.0.0.0", port=5978)
    assert w.can("default/db", "10.0.0.255", port=5978)
    assert not w.can("default/db", "10.0.1.0", port=5978)
    assert not w.can("default/db", "10.0.0.7", port=5979)


def test_ipblock_ipv6() -> None:
    """IPBlock: "describes a particular CIDR (Ex. "192.168.1.0/24","2001:db8::/64")"."""
    w = World(pod("ns/db", app="db"),
              policy("ns/p", sel(app="db"), ingress(block("2001:db8::/64", "2001:db8::/112"))))
    assert w.can("2001:db8::1:0", "ns/db")
    assert not w.can("2001:db8::ffff", "ns/db")
    assert not w.can("2001:db9::", "ns/db")
    assert not w.can("10.0.0.1", "ns/db")


def test_ipblock_never_matches_the_other_family() -> None:
    """IPBlock: "describes a particular CIDR ... that is allowed to the pods": an IPv6 pod
    IP lies in no IPv4 CIDR, not even 0.0.0.0/0."""
    w = World(pod("ns/v6", ips=("fd00::5",)), pod("ns/v4", ips=("10.0.0.5",)),
              pod("ns/db", app="db"), policy("ns/p", sel(app="db"), ingress(block("0.0.0.0/0"))))
    assert w.can("ns/v4", "ns/db")
    assert not w.can("ns/v6", "ns/db")


@pytest.mark.parametrize("ipblock_pods", [True, False])
def test_ipblock_matches_pod_ip_unless_disabled(ipblock_pods: bool) -> None:
    """ipBlock: "These should be cluster-external IPs, since Pod IPs are ephemeral and
    unpredictable." reach follows Calico and the upstream e2e suite: a pod whose IP is known
    matches an ipBlock holding it, unless ``ipblock_pods=False`` (np-guard's reading)."""
    w = World(pod("ns/client", ips=("10.0.0.5",)), pod("ns/db", app="db"),
              policy("ns/p", sel(app="db"), ingress(block("10.0.0.0/24"))),
              ipblock_pods=ipblock_pods)
    assert w.can("ns/client", "ns/db") == ipblock_pods
    assert w.can("10.0.0.9", "ns/db")  # outside addresses match either way


# ---------------------------------------------------------------------------
# ports


def test_protocol_defaults_to_tcp() -> None:
    """protocol: "The protocol (TCP, UDP, or SCTP) which traffic must match. If not
    specified, this field defaults to TCP.\""""
    assert PolicyPort().protocol == "TCP"
    yaml = """
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: ns, labels: {app: db}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ns}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{ports: [{port: 5432}]}]
"""
    net = reach.load("-", stdin_text=yaml)
    assert net.cluster.policies[0].ingress[0].ports[0].protocol == "TCP"
    assert net.can("ns/web", "ns/db", port=5432, protocol="TCP")
    assert not net.can("ns/web", "ns/db", port=5432, protocol="UDP")


def test_protocol_must_match() -> None:
    """port: "If present, only traffic on the specified protocol AND port will be
    matched.\""""
    w = World(pod("ns/dns", app="dns"), pod("ns/c"),
              policy("ns/p", sel(app="dns"), ingress(ports=(PolicyPort("UDP", 53),))))
    assert w.can("ns/c", "ns/dns", port=53, protocol="UDP")
    assert not w.can("ns/c", "ns/dns", port=53, protocol="TCP")
    assert not w.can("ns/c", "ns/dns", port=53, protocol="SCTP")


def test_port_omitted_matches_all_ports_of_protocol() -> None:
    """port: "If this field is not provided, this matches all port names and numbers.\""""
    w = World(pod("ns/db", app="db"), pod("ns/c"),
              policy("ns/p", sel(app="db"), ingress(ports=(PolicyPort("UDP"),))))
    for port in (1, 53, 65535):
        assert w.can("ns/c", "ns/db", port=port, protocol="UDP")
        assert not w.can("ns/c", "ns/db", port=port, protocol="TCP")
    assert str(w.net.can("ns/c", "ns/db", port=None).ports) == "UDP 1-65535"


def test_ports_omitted_matches_all_ports() -> None:
    """ports: "If this field is empty or missing, this rule matches all ports (traffic not
    restricted by port).\""""
    w = World(pod("ns/db", app="db"), pod("ns/web", app="web"),
              policy("ns/p", sel(app="db"), ingress(pods_peer(sel(app="web")))))
    for protocol in ("TCP", "UDP", "SCTP"):
        assert w.can("ns/web", "ns/db", port=1, protocol=protocol)
        assert w.can("ns/web", "ns/db", port=65535, protocol=protocol)
    assert w.net.can("ns/web", "ns/db", port=None).ports.is_all()


def test_endport_range() -> None:
    """endPort: "indicates that the range of ports from port to endPort if set, inclusive,
    should be allowed by the policy." -- "provided that the target port is between the
    range 32000 and 32768"."""
    w = World(pod("default/db", role="db"),
              policy("default/multi-port-egress", sel(role="db"),
                     egress(block("10.0.0.0/24"), ports=(tcp(32000, 32768),)), types=("Egress",)))
    assert not w.can("default/db", "10.0.0.1", port=31999)
    assert w.can("default/db", "10.0.0.1", port=32000)
    assert w.can("default/db", "10.0.0.1", port=32768)
    assert not w.can("default/db", "10.0.0.1", port=32769)
    assert str(w.net.can("default/db", "10.0.0.1", port=None).ports) == "TCP 32000-32768"


def test_named_port_resolved_on_destination() -> None:
    """port: "This can either be a numerical or named port on a pod." A named port means
    the destination pod's container port of that name, whichever side the rule is on."""
    http = PolicyPort("TCP", "http")
    server = pod("ns/server", ports=(ContainerPort(8080, "TCP", "http"),), app="server")
    client = pod("ns/client", ports=(ContainerPort(9999, "TCP", "http"),), app="client")
    ing = World(server, client, policy("ns/in", sel(app="server"), ingress(ports=(http,))))
    assert ing.can("ns/client", "ns/server", port=8080)
    assert not ing.can("ns/client", "ns/server", port=9999)
    out = World(server, client, policy("ns/out", sel(app="client"), egress(ports=(http,))))
    assert out.can("ns/client", "ns/server", port=8080)
    assert not out.can("ns/client", "ns/server", port=9999)  # the source's own http port


def test_named_port_needs_matching_protocol() -> None:
    """port: "If present, only traffic on the specified protocol AND port will be matched."
    A named port resolves only to a container port of that name *and* protocol."""
    dns = pod("ns/dns", ports=(ContainerPort(53, "UDP", "dns"), ContainerPort(5353, "TCP", "dns")),
              app="dns")
    w = World(dns, pod("ns/c"),
              policy("ns/p", sel(app="dns"), ingress(ports=(PolicyPort("UDP", "dns"),))))
    assert w.can("ns/c", "ns/dns", port=53, protocol="UDP")
    assert not w.can("ns/c", "ns/dns", port=53, protocol="TCP")
    assert not w.can("ns/c", "ns/dns", port=5353, protocol="TCP")


def test_unresolved_named_port_matches_nothing() -> None:
    """port: "a numerical or named port on a pod": a name no container declares is no port."""
    w = World(pod("ns/db", app="db"), pod("ns/c"),
              policy("ns/p", sel(app="db"), ingress(ports=(tcp("postgres"),))))
    assert not w.can("ns/c", "ns/db", port=5432)
    assert not w.net.can("ns/c", "ns/db", port=None)


def test_named_port_matches_nothing_outside_the_cluster() -> None:
    """port: "a numerical or named port on a pod": an outside address has no named ports."""
    w = World(pod("ns/c", ports=(ContainerPort(443, "TCP", "https"),), app="c"),
              policy("ns/p", sel(app="c"), egress(block("0.0.0.0/0"), ports=(tcp("https"),))))
    assert not w.can("ns/c", "1.1.1.1", port=443)
    assert not w.net.can("ns/c", "1.1.1.1", port=None)


def test_sctp() -> None:
    """"NetworkPolicy is defined for layer 4 connections (TCP, UDP, and optionally SCTP).\""""
    w = World(pod("ns/sig", app="sig"), pod("ns/c"),
              policy("ns/p", sel(app="sig"), ingress(ports=(PolicyPort("SCTP", 9000, 9005),))))
    assert w.can("ns/c", "ns/sig", port=9003, protocol="SCTP")
    assert not w.can("ns/c", "ns/sig", port=9003, protocol="TCP")
    assert not w.can("ns/c", "ns/sig", port=9006, protocol="SCTP")


# ---------------------------------------------------------------------------
# the exceptions: self traffic and hostNetwork pods


def test_pod_always_reaches_itself() -> None:
    """"Other pods that are allowed (exception: a pod cannot block access to itself)\""""
    w = World(pod("ns/a", app="a"), pod("ns/twin", app="a"),
              policy("ns/deny", sel(), types=("Ingress", "Egress")))
    assert w.can("ns/a", "ns/a", port=80)
    assert w.net.can("ns/a", "ns/a", port=None)
    assert w.net.compiled.pod_ports(0, 0).is_all()
    assert not w.can("ns/a", "ns/twin")  # the same labels do not make another pod "itself"


def test_host_network_pods_not_selected() -> None:
    """"The network plugin cannot properly distinguish hostNetwork pod traffic, and so it
    ignores hostNetwork pods when matching podSelector and namespaceSelector. ... (This is
    the most common implementation.)\""""
    host = pod("ns/node-agent", host_network=True, ips=("192.168.0.10",), app="a")
    w = World(host, pod("ns/a", app="a"), pod("x/b", app="b"),
              policy("ns/deny", sel(app="a"), types=("Ingress", "Egress")),
              policy("x/from-a", sel(app="b"), ingress(pods_peer(sel(app="a")),
                                                       namespaces_peer(sel()))))
    assert w.can("x/b", "ns/node-agent") and w.can("ns/node-agent", "8.8.8.8")  # not isolated
    assert not w.can("x/b", "ns/a")
    assert not w.can("ns/node-agent", "x/b")  # not matched by the peers' selectors
    verdict = w.net.can("x/b", "ns/node-agent", port=80)
    assert not verdict.ingress.isolated


def test_host_network_pod_matched_by_ipblock() -> None:
    """"since hostNetwork pods have the same IP addresses as the nodes they reside on, their
    connections will be treated as node connections. For example, you can allow traffic from
    a hostNetwork Pod using an ipBlock rule.\""""
    host = pod("kube-system/agent", host_network=True, ips=("192.168.0.10",))
    w = World(host, pod("ns/db", app="db"),
              policy("ns/p", sel(app="db"), ingress(block("192.168.0.0/24"))))
    assert w.can("kube-system/agent", "ns/db")


def test_verdict_names_the_deciding_rules() -> None:
    """NetworkPolicySpec.ingress: traffic is allowed "if the traffic matches at least one
    ingress rule across all of the NetworkPolicy objects whose podSelector matches the pod"
    -- the verdict names those rules, or the policies that selected the pod in vain."""
    p = policy("ns/p", sel(app="db"),
               ingress(pods_peer(sel(app="web")), ports=(tcp(5432),), index=0),
               ingress(pods_peer(sel(app="ops")), index=1))
    w = World(pod("ns/db", app="db"), pod("ns/web", app="web"), pod("ns/ops", app="ops"), p)
    allowed = w.net.can("ns/web", "ns/db", port=5432)
    assert [(m.policy.name, m.rule.index) for m in allowed.ingress.allowing] == [("p", 0)]
    denied = w.net.can("ns/web", "ns/db", port=22)
    assert not denied and denied.ingress.isolated and not denied.ingress.allowing
    assert [q.name for q in denied.ingress.selecting] == ["p"]
