"""Calico's policies, rule by rule, as Calico's reference documents them.

Each test quotes the sentence it implements, from Calico's reference (the
NetworkPolicy, GlobalNetworkPolicy, Tier and NetworkSet resources, "Get started with
policy tiers", "Calico automatic labels") or, where the docs are silent, names the
place in projectcalico/calico's code (see /work/shared/semantics/calico.md). Clusters
are read from YAML, as users write them; every verdict is asserted as the exact set
of ports allowed, through ``Network.can``; and every cluster built here is checked,
pod pair by pod pair and against a few outside addresses, for the explanation's walk
giving exactly what the compiler gives.
"""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from reach.engine.addresses import address_key
from reach.engine.ports import PortSet
from reach.errors import ManifestError
from reach.loader import read_cluster
from reach.model import NOWHERE, Cluster
from reach.network import Network
from reach.verdict import Verdict

V3 = "projectcalico.org/v3"
V1 = "crd.projectcalico.org/v1"

PODS = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: lab, labels: {team: b}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop, labels: {role: front}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: db, namespace: shop, labels: {role: back}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web, tier: front}}
spec:
  serviceAccountName: web
  containers: [{name: c, image: web, ports: [{containerPort: 8080, name: http}]}]
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db, tier: back}}
spec:
  serviceAccountName: db
  containers:
  - name: c
    image: db
    ports: [{containerPort: 5432, name: pg}, {containerPort: 53, protocol: UDP, name: dns}]
status: {podIP: 10.0.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: probe, namespace: lab, labels: {app: probe}}
spec:
  containers: [{name: c, image: probe}]
status: {podIP: 10.0.1.1}
"""
"""Three pods: shop/web (10.0.0.1, account web: role front), shop/db (10.0.0.2,
account db: role back; named ports pg TCP 5432 and dns UDP 53) and lab/probe
(10.0.1.1, the account default, which has no ServiceAccount object)."""

#: Outside addresses, one inside 203.0.113.0/24 and one outside every net used here.
OUTSIDE = ("203.0.113.5", "198.51.100.1")

ALL, NONE = PortSet.all(), PortSet.none()


def _ports(protocol: str, ports: tuple[int | tuple[int, int], ...]) -> PortSet:
    if not ports:
        return PortSet.protocol(protocol)
    out = PortSet.none()
    for port in ports:
        first, last = port if isinstance(port, tuple) else (port, port)
        out = out | PortSet.range(protocol, first, last)
    return out


def tcp(*ports: int | tuple[int, int]) -> PortSet:
    """TCP on ``ports`` (numbers, or ``(first, last)`` ranges); every TCP port if none."""
    return _ports("TCP", ports)


def udp(*ports: int | tuple[int, int]) -> PortSet:
    return _ports("UDP", ports)


def sctp(*ports: int | tuple[int, int]) -> PortSet:
    return _ports("SCTP", ports)


#: The protocols with ports.
PORTED = tcp() | udp() | sctp()


# ---------------------------------------------------------------------------
# manifests


def _doc(api: str, kind: str, metadata: str, body: str) -> str:
    head = f"apiVersion: {api}\nkind: {kind}\nmetadata: {metadata}\n"
    body = textwrap.dedent(body).strip("\n")
    return head + ("spec:\n" + textwrap.indent(body, "  ") + "\n" if body else "")


def gnp(name: str, body: str, api: str = V3) -> str:
    """A GlobalNetworkPolicy whose spec is ``body``."""
    return _doc(api, "GlobalNetworkPolicy", f"{{name: {name}}}", body)


def cnp(namespace: str, name: str, body: str, api: str = V3) -> str:
    """A Calico NetworkPolicy (projectcalico.org) whose spec is ``body``."""
    return _doc(api, "NetworkPolicy", f"{{name: {name}, namespace: {namespace}}}", body)


def knp(namespace: str, name: str, body: str) -> str:
    """A Kubernetes NetworkPolicy whose spec is ``body``."""
    return _doc("networking.k8s.io/v1", "NetworkPolicy",
                f"{{name: {name}, namespace: {namespace}}}", body)


def tier(name: str, order: float | None = None, default_action: str | None = None,
         api: str = V3) -> str:
    body = ""
    if order is not None:
        body += f"order: {order}\n"
    if default_action is not None:
        body += f"defaultAction: {default_action}\n"
    return _doc(api, "Tier", f"{{name: {name}}}", body)


def network_set(name: str, labels: str, nets: str, namespace: str = "", api: str = V3) -> str:
    """A NetworkSet in ``namespace``, or a GlobalNetworkSet without one."""
    if namespace:
        meta = f"{{name: {name}, namespace: {namespace}, labels: {labels}}}"
        return _doc(api, "NetworkSet", meta, f"nets: {nets}")
    return _doc(api, "GlobalNetworkSet", f"{{name: {name}, labels: {labels}}}", f"nets: {nets}")


def load(*documents: str) -> Cluster:
    return read_cluster("-", stdin_text="\n---\n".join([PODS, *documents]))


def build(*documents: str) -> Network:
    """The network of the three pods and ``documents``, its walks checked against its
    compiled matrix."""
    net = Network(load(*documents))
    assert_walks_agree(net)
    return net


def assert_walks_agree(net: Network) -> None:
    """For every pod pair and pod/outside pair, what ``can`` explains (each direction's
    walk, and the two together) is the port set the compiler gives."""
    compiled = net.compiled
    refs = [f"{p.namespace}/pod/{p.name}" for p in net.pods]
    for i, a in enumerate(refs):
        for j, b in enumerate(refs):
            if i == j:
                continue
            verdict = net.can(a, b)
            assert isinstance(verdict, Verdict)
            assert verdict.ports == compiled.pod_ports(i, j), str(verdict)
            assert verdict.egress.ports & verdict.ingress.ports == verdict.ports, str(verdict)
        cls = int(compiled.pod_class[i])
        for address in OUTSIDE:
            column = compiled.external_column(address_key(address))
            out, into = net.can(a, address), net.can(address, a)
            assert isinstance(out, Verdict) and isinstance(into, Verdict)
            assert out.ports == out.egress.ports == compiled.column_ports(cls, column), str(out)
            assert into.ports == into.ingress.ports == compiled.column_ports(column, cls), (
                str(into))


def allowed(net: Network, src: str, dst: str) -> PortSet:
    """Every port ``src`` may open to ``dst``."""
    return net.can(src, dst).ports


def isolated_for_ingress(net: Network) -> set[str]:
    """The pods that nobody else may reach on any port (by name)."""
    c = net.compiled
    return {dst.name for j, dst in enumerate(net.pods)
            if all(not c.pod_ports(i, j) for i in range(len(net.pods)) if i != j)}


def sources_of(net: Network, dst: str) -> set[str]:
    """The pods (by name) and outside addresses that may reach ``dst`` on some port."""
    found = {p.name for p in net.pods
             if f"{p.namespace}/{p.name}" != dst and allowed(net, f"{p.namespace}/{p.name}", dst)}
    return found | {a for a in OUTSIDE if allowed(net, a, dst)}


def error(*documents: str) -> str:
    with pytest.raises(ManifestError) as info:
        read_cluster("-", stdin_text="\n---\n".join(documents))
    return str(info.value)


DENY_ALL_INTO_DB = """\
selector: app == 'db'
ingress: [{action: Deny}]
"""


# ---------------------------------------------------------------------------
# the reader


def test_a_global_policy_is_read_with_its_order_tier_and_types():
    cluster = load(tier("security", 100), gnp("g", """\
        tier: security
        order: 10
        selector: app == 'db'
        ingress: [{action: Deny}]
        egress: [{action: Allow}]
        """))
    [policy] = cluster.policies
    assert (policy.ref, policy.kind, policy.namespace, policy.priority) == (
        "gnp/g", "GlobalNetworkPolicy", "", 10.0)
    assert (policy.tier.name, policy.tier.order, policy.tier.ends_in_deny) == (
        "security", 100, True)
    assert policy.policy_types == ("Ingress", "Egress")


def test_a_calico_networkpolicy_is_read_beside_kubernetes_ones_under_its_own_kind():
    cluster = load(cnp("shop", "p", DENY_ALL_INTO_DB), knp("shop", "p", "podSelector: {}"))
    assert sorted((p.kind, p.ref) for p in cluster.policies) == [
        ("CalicoNetworkPolicy", "shop/p"), ("NetworkPolicy", "shop/p")]


def test_crd_projectcalico_org_v1_is_read_exactly_like_projectcalico_org_v3():
    """The API server serves projectcalico.org/v3, "storing resources internally as
    crd.projectcalico.org/v1 CRDs" [CRD]: same kinds, same spec."""
    def documents(api: str) -> list[str]:
        return [tier("security", 100, "Pass", api=api),
                network_set("ext", "{kind: ext}", "[203.0.113.0/24]", api=api),
                network_set("near", "{kind: near}", "[10.0.1.0/24]", "shop", api=api),
                gnp("g", """\
                    tier: security
                    order: 1
                    selector: app == 'db'
                    ingress: [{action: Pass, source: {selector: kind == 'ext'}},
                              {action: Deny, protocol: UDP}]
                    """, api=api),
                cnp("shop", "p", """\
                    selector: has(app)
                    ingress: [{action: Allow, source: {selector: kind == 'near'}},
                              {action: Allow, protocol: TCP, destination: {ports: [pg]}}]
                    egress: [{action: Allow, destination: {nets: [10.0.0.0/24]}}]
                    """, api=api)]

    v3, v1 = load(*documents(V3)), load(*documents(V1))
    assert v1.policies == v3.policies
    assert [dataclasses.replace(n, location=NOWHERE) for n in v1.network_sets] == [
        dataclasses.replace(n, location=NOWHERE) for n in v3.network_sets]
    assert build(*documents(V1)).connections() == build(*documents(V3)).connections()


@pytest.mark.parametrize(("rules", "types"), [
    ("egress: [{action: Allow}]", ("Egress",)),
    ("ingress: [{action: Allow}]", ("Ingress",)),
    ("ingress: [{action: Allow}]\negress: [{action: Allow}]", ("Ingress", "Egress")),
    ("", ("Ingress",)),
    ("types: [Egress]\ningress: [{action: Deny}]", ("Egress",)),
])
def test_types_default_from_the_rules_given(rules: str, types: tuple[str, ...]):
    """types: "If types has no value, Calico defaults as follows": no rules or ingress
    rules only, Ingress; egress rules only, Egress; both, Ingress and Egress [NP]."""
    [policy] = load(gnp("g", "selector: app == 'db'\n" + rules)).policies
    assert policy.policy_types == types


# ---------------------------------------------------------------------------
# types, and the pods no policy selects


def test_a_policy_with_only_egress_rules_leaves_ingress_alone():
    net = build(cnp("shop", "p", """\
        selector: app == 'db'
        egress: [{action: Allow, destination: {selector: app == 'web'}}]
        """))
    assert allowed(net, "shop/web", "shop/db") == ALL  # ingress is not governed
    assert allowed(net, "shop/db", "shop/web") == ALL
    assert allowed(net, "shop/db", "lab/probe") == NONE  # the rule's selector: shop only
    assert allowed(net, "shop/db", "203.0.113.5") == NONE


def test_a_policy_without_rules_denies_ingress_only():
    net = build(gnp("g", "selector: app == 'db'"))
    assert allowed(net, "shop/web", "shop/db") == NONE
    assert allowed(net, "shop/db", "shop/web") == ALL
    assert allowed(net, "shop/db", "203.0.113.5") == ALL


def test_rules_of_a_direction_the_types_leave_out_are_ignored():
    net = build(gnp("g", """\
        selector: app == 'db'
        types: [Ingress]
        ingress: [{action: Allow, source: {selector: app == 'web'}}]
        egress: [{action: Deny}]
        """))
    assert allowed(net, "shop/db", "lab/probe") == ALL
    assert allowed(net, "shop/web", "shop/db") == ALL
    assert allowed(net, "lab/probe", "shop/db") == NONE


def test_a_pod_no_policy_selects_is_allowed_everything():
    """Calico's namespace profile kns.<ns> has "default ingress and egress rules, which
    are both 'allow'" (libcalico-go conversion.go); "For compatibility with
    Kubernetes, Calico network policy follows the same behavior for Kubernetes pods"
    [Start]."""
    net = build(gnp("g", DENY_ALL_INTO_DB))
    assert allowed(net, "shop/web", "lab/probe") == ALL
    assert allowed(net, "lab/probe", "shop/web") == ALL
    assert allowed(net, "203.0.113.5", "lab/probe") == ALL
    assert allowed(net, "shop/db", "shop/web") == ALL  # db's egress is not governed
    assert isolated_for_ingress(net) == {"db"}


# ---------------------------------------------------------------------------
# actions


def test_allow_is_final_and_rules_run_in_order():
    """"Allow and Deny are immediate and final and no further rules are processed"
    [Rule]."""
    net = build(gnp("g", """\
        selector: app == 'db'
        ingress:
        - {action: Allow, protocol: TCP, destination: {ports: [5432]}}
        - {action: Deny}
        - {action: Allow}
        """))
    assert allowed(net, "shop/web", "shop/db") == tcp(5432)


def test_deny_is_final():
    net = build(gnp("g", """\
        selector: app == 'db'
        ingress:
        - {action: Deny, protocol: TCP, destination: {ports: [5432]}}
        - {action: Allow}
        """))
    assert allowed(net, "shop/web", "shop/db") == ALL - tcp(5432)


def test_log_changes_nothing():
    """"After a Log action, processing continues with the next rule" [Rule]."""
    net = build(gnp("g", """\
        selector: app == 'db'
        ingress:
        - {action: Log}
        - {action: Allow, protocol: TCP, destination: {ports: [5432]}}
        - {action: Log, protocol: UDP}
        """))
    assert allowed(net, "shop/web", "shop/db") == tcp(5432)


def test_a_policy_that_only_logs_decides_nothing_and_its_tier_denies():
    net = build(gnp("g", "selector: app == 'db'\ningress: [{action: Log}]"))
    assert allowed(net, "shop/web", "shop/db") == NONE


def test_pass_goes_on_to_the_next_tier():
    """Pass: "the next Tier containing a Policy that applies to the endpoint processes
    the packet" [Tier]."""
    net = build(
        tier("security", 100),
        gnp("screen", """\
            tier: security
            selector: app == 'db'
            ingress:
            - {action: Pass, source: {selector: app == 'web'}}
            - {action: Deny}
            """),
        cnp("shop", "db", """\
            selector: app == 'db'
            ingress: [{action: Allow, protocol: TCP, destination: {ports: [5432]}}]
            """))
    assert allowed(net, "shop/web", "shop/db") == tcp(5432)
    assert allowed(net, "lab/probe", "shop/db") == NONE


def test_pass_skips_the_rest_of_its_tier():
    net = build(
        tier("security", 100),
        gnp("first", """\
            tier: security
            order: 1
            selector: app == 'db'
            ingress: [{action: Pass, source: {selector: app == 'web'}}]
            """),
        gnp("second", """\
            tier: security
            order: 2
            selector: app == 'db'
            ingress: [{action: Deny}]
            """))
    # the last tier applying passes: "that endpoint's Profiles are evaluated" [Tier]
    assert allowed(net, "shop/web", "shop/db") == ALL
    assert allowed(net, "lab/probe", "shop/db") == NONE


# ---------------------------------------------------------------------------
# the end of a tier


def test_a_tier_that_selects_the_pod_and_decides_nothing_denies():
    """"If the Tier applies to the endpoint, but takes no action on the packet the
    packet is dropped" [Tier]."""
    net = build(tier("security", 100), gnp("g", """\
        tier: security
        selector: app == 'db'
        ingress: [{action: Allow, source: {selector: app == 'probe'}}]
        """))
    assert allowed(net, "shop/web", "shop/db") == NONE
    assert allowed(net, "lab/probe", "shop/db") == ALL


@pytest.mark.parametrize(("default_tier", "want"), [
    ("", ALL),  # nothing else applies: the profile allows
    ("selector: app == 'db'\ningress: [{action: Allow, protocol: TCP}]", tcp()),
])
def test_a_tier_with_default_action_pass_passes_what_it_does_not_decide(
        default_tier: str, want: PortSet):
    """What a tier leaves undecided is dropped unless its defaultAction is Pass; then the
    next tier applying to the pod decides, or the profile [Tier]."""
    docs = [tier("security", 100, "Pass"), gnp("g", """\
        tier: security
        selector: app == 'db'
        ingress: [{action: Deny, source: {selector: app == 'probe'}}]
        """)]
    if default_tier:
        docs.append(cnp("shop", "rest", default_tier))
    net = build(*docs)
    assert allowed(net, "shop/web", "shop/db") == want
    assert allowed(net, "lab/probe", "shop/db") == NONE


def test_a_tier_with_no_policy_for_the_pod_is_skipped():
    """"if no policies within a tier apply to endpoints, the tier is skipped, and the
    tier's implicit deny behavior is not executed" [Tiers]."""
    net = build(tier("security", 100), gnp("g", "tier: security\n" + DENY_ALL_INTO_DB),
                cnp("lab", "probe", "selector: all()\ningress: [{action: Allow}]"))
    assert allowed(net, "shop/web", "lab/probe") == ALL
    assert allowed(net, "shop/db", "shop/web") == ALL


# ---------------------------------------------------------------------------
# the order of tiers


@pytest.mark.parametrize(("screen", "open_", "want"), [(100, 200, NONE), (300, 200, ALL)])
def test_tiers_run_by_order_lowest_first(screen: int, open_: int, want: PortSet):
    """"Tiers are sorted by their order - smallest number first" [Tier]."""
    net = build(
        tier("screen", screen), tier("open", open_),
        gnp("screen", """\
            tier: screen
            selector: app == 'db'
            ingress: [{action: Deny, source: {selector: app == 'web'}}, {action: Pass}]
            """),
        gnp("open", "tier: open\nselector: app == 'db'\ningress: [{action: Allow}]"))
    assert allowed(net, "shop/web", "shop/db") == want
    assert allowed(net, "lab/probe", "shop/db") == ALL


def test_a_tier_without_order_comes_after_every_ordered_tier():
    """A tier without order comes after every ordered tier [Tier], whatever its name
    (this one's sorts first)."""
    net = build(
        tier("aaa"), tier("zzz", 5_000_000),
        gnp("deny", "tier: aaa\n" + DENY_ALL_INTO_DB),
        gnp("allow", "tier: zzz\nselector: app == 'db'\ningress: [{action: Allow}]"))
    assert allowed(net, "shop/web", "shop/db") == ALL


@pytest.mark.parametrize(("order", "want"), [(999_999, NONE), (1_000_001, tcp(5432))])
def test_the_default_tier_has_order_one_million(order: int, want: PortSet):
    """Policies without a tier live in the default tier, order 1,000,000 [Tiers]."""
    net = build(
        tier("other", order),
        gnp("deny", "tier: other\n" + DENY_ALL_INTO_DB),
        cnp("shop", "db", """\
            selector: app == 'db'
            ingress: [{action: Allow, protocol: TCP, destination: {ports: [5432]}}]
            """))
    assert allowed(net, "shop/web", "shop/db") == want


def test_tiers_of_equal_order_each_run_whole():
    """Each tier "processes the packet" as a whole [Tier]: two tiers without order are
    ordered between themselves (by name in Felix), never interleaved."""
    net = build(
        tier("x"), tier("y"),
        gnp("x-first", """\
            tier: x
            order: 1
            selector: app == 'db'
            ingress: [{action: Allow, protocol: TCP, destination: {ports: [80]}}]
            """),
        gnp("y-middle", "tier: y\norder: 2\nselector: app == 'db'\ningress: [{action: Pass}]"),
        gnp("x-last", """\
            tier: x
            order: 3
            selector: app == 'db'
            ingress: [{action: Allow, protocol: TCP, destination: {ports: [443]}}]
            """))
    # whichever tier runs first, tier x allows 80 and 443 and denies the rest
    assert allowed(net, "shop/web", "shop/db") == tcp(80, 443)


@pytest.mark.parametrize(("name", "want"), [("app", NONE), ("edge", ALL)])
def test_a_tier_of_the_default_tiers_order_is_taken_by_name(name: str, want: PortSet):
    """The default tier has order 1,000,000 [Tiers]; tiers of one order are taken by
    name (Felix's tier sort): "app" before "default", "edge" after it."""
    net = build(
        tier(name, 1_000_000),
        gnp("deny", f"tier: {name}\n" + DENY_ALL_INTO_DB),
        cnp("shop", "db", "selector: app == 'db'\ningress: [{action: Allow}]"))
    assert allowed(net, "shop/web", "shop/db") == want


# ---------------------------------------------------------------------------
# the order of policies in a tier


@pytest.mark.parametrize(("deny", "allow", "want"), [(10, 20, NONE), (30, 20, ALL)])
def test_policies_run_by_order_lowest_first(deny: int, allow: int, want: PortSet):
    """order: "Calico applies the policy with the lowest value first" [NP]."""
    net = build(
        gnp("a-deny", f"order: {deny}\n" + DENY_ALL_INTO_DB),
        gnp("b-allow", f"order: {allow}\nselector: app == 'db'\ningress: [{{action: Allow}}]"))
    assert allowed(net, "shop/web", "shop/db") == want


def test_a_policy_without_order_comes_after_every_ordered_one():
    """No order is +Inf, after every ordered policy (Felix polMetaDefaultOrder)."""
    net = build(
        gnp("a-unordered", DENY_ALL_INTO_DB),
        gnp("b-ordered", """\
            order: 1000000000
            selector: app == 'db'
            ingress: [{action: Allow, protocol: TCP, destination: {ports: [5432]}}]
            """))
    assert allowed(net, "shop/web", "shop/db") == tcp(5432)


@pytest.mark.parametrize(("deny_name", "want"), [("a", NONE), ("c", ALL)])
def test_equal_orders_are_taken_by_name(deny_name: str, want: PortSet):
    """"Order is equal, use name as tie-break" (Felix PolKVLess)."""
    net = build(gnp(deny_name, "order: 5\n" + DENY_ALL_INTO_DB),
                gnp("b", "order: 5\nselector: app == 'db'\ningress: [{action: Allow}]"))
    assert allowed(net, "shop/web", "shop/db") == want


# ---------------------------------------------------------------------------
# Kubernetes NetworkPolicies in the default tier


KNP_ALLOW_ALL_INTO_DB = knp("shop", "db", """\
    podSelector: {matchLabels: {app: db}}
    ingress: [{}]
    """)


@pytest.mark.parametrize(("order", "want"), [
    ("order: 500", NONE), ("order: 2000", ALL), ("", ALL)])
def test_kubernetes_policies_are_at_order_1000_of_the_default_tier(order: str, want: PortSet):
    """"We insert all the NetworkPolicy Policies at order 1000.0 after conversion"
    (libcalico-go conversion.go): a Calico Deny at order 500 beats a Kubernetes allow,
    one at order 2000 or without order comes too late."""
    net = build(KNP_ALLOW_ALL_INTO_DB, cnp("shop", "deny-web", f"""\
        {order}
        selector: app == 'db'
        ingress: [{{action: Deny, source: {{selector: app == 'web'}}}}]
        """))
    assert allowed(net, "shop/web", "shop/db") == want
    assert allowed(net, "lab/probe", "shop/db") == ALL


def test_the_default_tier_ends_in_deny_for_kubernetes_and_calico_policies_alike():
    net = build(
        knp("shop", "db", """\
            podSelector: {matchLabels: {app: db}}
            ingress: [{ports: [{port: 5432}]}]
            """),
        gnp("udp", """\
            selector: app == 'db'
            ingress: [{action: Allow, protocol: UDP, destination: {ports: [53]}}]
            """))
    assert allowed(net, "shop/web", "shop/db") == tcp(5432) | udp(53)


def test_a_pass_from_an_earlier_tier_reaches_the_kubernetes_policies():
    net = build(
        tier("security", 100),
        gnp("screen", """\
            tier: security
            selector: all()
            ingress: [{action: Pass, source: {nets: [10.0.0.0/24]}}, {action: Deny}]
            """),
        knp("shop", "db", """\
            podSelector: {matchLabels: {app: db}}
            ingress: [{ports: [{port: 5432}]}]
            """))
    assert allowed(net, "shop/web", "shop/db") == tcp(5432)
    assert allowed(net, "shop/db", "shop/web") == ALL  # passed, and no default-tier policy
    assert allowed(net, "lab/probe", "shop/db") == NONE


# ---------------------------------------------------------------------------
# selectors


SELECTORS = [
    ("app == 'web'", {"web"}),
    ("app != 'web'", {"db", "probe"}),  # also matches resources without the label
    ("has(tier)", {"web", "db"}),
    ("!has(tier)", {"probe"}),
    ("app in {'web', 'db'}", {"web", "db"}),
    ("tier not in {'front'}", {"db", "probe"}),  # also matches resources without it
    ("all()", {"web", "db", "probe"}),
    ("has(tier) && app != 'db'", {"web"}),
    ("app == 'probe' || tier == 'back'", {"db", "probe"}),
    ("!(app == 'web' || app == 'db')", {"probe"}),
    ("app == 'web' || app == 'db' && tier == 'front'", {"web"}),  # && binds tighter
    ("projectcalico.org/namespace == 'lab'", {"probe"}),
    ("projectcalico.org/serviceaccount == 'web'", {"web"}),
    ("projectcalico.org/orchestrator == 'k8s'", {"web", "db", "probe"}),
]


@pytest.mark.parametrize(("selector", "pods"), SELECTORS)
def test_a_policy_selector_selects_the_pods_it_matches(selector: str, pods: set[str]):
    """The operators of [Sel]: ==, != (also without the key), has, !has, in, not in
    (also without the key), all(), &&, || and !; Calico adds projectcalico.org/namespace,
    /serviceaccount and /orchestrator to every workload endpoint."""
    net = build(gnp("g", f'selector: "{selector}"\ningress: [{{action: Deny}}]'))
    assert isolated_for_ingress(net) == pods


@pytest.mark.parametrize(("selector", "pods"), SELECTORS)
def test_a_rule_selector_picks_the_sources_it_matches(selector: str, pods: set[str]):
    net = build(gnp("g", f"""\
        selector: all()
        ingress: [{{action: Allow, source: {{selector: "{selector}"}}}}]
        """))
    senders = {s.name for i, s in enumerate(net.pods)
               if any(net.compiled.pod_ports(i, j) for j in range(len(net.pods)) if j != i)}
    assert senders == pods
    assert not sources_of(net, "shop/web") & set(OUTSIDE)  # selectors: endpoints only


def test_a_rule_selector_all_matches_endpoints_not_all_packets():
    """"A rule with a selector all() won't match "all packets", it will match "packets
    from all in-scope endpoints and network sets". To match all packets, do not include
    a selector" [Entity]."""
    everything = build(gnp("g", "selector: app == 'db'\ningress: [{action: Allow}]"))
    endpoints = build(gnp("g", """\
        selector: app == 'db'
        ingress: [{action: Allow, source: {selector: all()}}]
        """))
    assert sources_of(everything, "shop/db") == {"web", "probe", *OUTSIDE}
    assert sources_of(endpoints, "shop/db") == {"web", "probe"}


def test_a_criterion_on_the_rules_own_end_narrows_the_pods_it_applies_to():
    """An ingress rule's destination is the pod itself (an egress rule's source): all
    match criteria must match [Entity], so the rule applies to the selected pods that
    match it."""
    net = build(gnp("g", """\
        selector: has(app)
        ingress: [{action: Allow, destination: {selector: app == 'db'}}]
        egress:
        - {action: Allow, source: {nets: [10.0.0.0/24]}, destination: {selector: all()}}
        """))
    assert allowed(net, "shop/web", "shop/db") == ALL
    assert allowed(net, "shop/db", "shop/web") == NONE  # web's ingress: no rule for web
    assert allowed(net, "lab/probe", "shop/db") == NONE  # probe's egress: not from 10.0.0/24
    assert allowed(net, "shop/db", "203.0.113.5") == NONE  # all(): endpoints only


def test_a_selector_sees_its_namespaces_labels_as_pcns():
    """A namespace's profile applies pcns.<label> to its pods (conversion.go
    NamespaceToProfile; labelsToApply "in addition to the endpoint's own labels" [Prof])."""
    net = build(gnp("g", "selector: pcns.team == 'a'\ningress: [{action: Deny}]"))
    assert isolated_for_ingress(net) == {"web", "db"}


def test_a_rule_selector_in_a_namespaced_policy_matches_its_own_namespace():
    """A rule's selector without namespaceSelector matches "the same namespace for
    NetworkPolicy" [Sel]."""
    net = build(cnp("shop", "p", """\
        selector: app == 'db'
        ingress: [{action: Allow, source: {selector: has(app)}}]
        """))
    assert sources_of(net, "shop/db") == {"web"}


def test_a_rule_selector_in_a_global_policy_matches_every_namespace():
    """... and "all endpoints/network sets for GlobalNetworkPolicy" [Sel]."""
    net = build(gnp("g", """\
        selector: app == 'db'
        ingress: [{action: Allow, source: {selector: has(app)}}]
        """))
    assert sources_of(net, "shop/db") == {"web", "probe"}


@pytest.mark.parametrize(("source", "senders"), [
    ("{namespaceSelector: team == 'b'}", {"probe"}),
    ("{namespaceSelector: projectcalico.org/name == 'lab'}", {"probe"}),
    ("{namespaceSelector: all(), selector: app == 'probe'}", {"probe"}),
    ("{namespaceSelector: all(), selector: has(app)}", {"web", "probe"}),
    ("{namespaceSelector: team == 'a', selector: app == 'web'}", {"web"}),
    ("{namespaceSelector: has(nothing)}", set()),
])
def test_a_namespace_selector_in_a_rule_sets_the_namespaces_matched(
        source: str, senders: set[str]):
    """namespaceSelector: "If specified, only workload endpoints in the selected
    Kubernetes namespaces are matched. ... Defines the scope that selectors will apply
    to ... Match a specific namespace by name using the projectcalico.org/name label"
    [Entity]."""
    net = build(cnp("shop", "p", f"""\
        selector: app == 'db'
        ingress: [{{action: Allow, source: {source}}}]
        """))
    assert sources_of(net, "shop/db") == senders


@pytest.mark.parametrize(("namespaces", "pods"), [
    ("team == 'a'", {"web", "db"}),
    ("projectcalico.org/name == 'lab'", {"probe"}),
    ("all()", {"web", "db", "probe"}),
])
def test_a_global_policy_namespace_selector_sets_the_namespaces_it_applies_in(
        namespaces: str, pods: set[str]):
    """A GNP's namespaceSelector "Selects the namespace(s) to which this policy
    applies" [GNP]."""
    net = build(gnp("g", f"namespaceSelector: {namespaces}\ningress: [{{action: Deny}}]"))
    assert isolated_for_ingress(net) == pods


def test_a_namespaced_policy_applies_in_its_namespace_only():
    """NetworkPolicy "only applies to workload endpoint resources in that namespace" [NP]."""
    net = build(cnp("lab", "p", "selector: all()\ningress: [{action: Deny}]"))
    assert isolated_for_ingress(net) == {"probe"}


# ---------------------------------------------------------------------------
# service accounts


@pytest.mark.parametrize(("policy", "pods"), [
    (cnp("shop", "p", "serviceAccountSelector: role == 'back'\ningress: [{action: Deny}]"),
     {"db"}),
    (cnp("shop", "p", "serviceAccountSelector: projectcalico.org/name == 'web'\n"
         "ingress: [{action: Deny}]"), {"web"}),
    (gnp("g", "serviceAccountSelector: has(role)\ningress: [{action: Deny}]"), {"web", "db"}),
    # a pod without spec.serviceAccountName runs as default, which has no object here
    (gnp("g", "serviceAccountSelector: projectcalico.org/name == 'default'\n"
         "ingress: [{action: Deny}]"), {"probe"}),
    (gnp("g", "selector: has(tier)\nserviceAccountSelector: role == 'front'\n"
         "ingress: [{action: Deny}]"), {"web"}),
])
def test_a_service_account_selector_selects_pods_by_their_accounts_labels(
        policy: str, pods: set[str]):
    """serviceAccountSelector: "Selects the service account(s) to which this policy
    applies. Select a specific service account by name using the projectcalico.org/name
    label" [NP]."""
    assert isolated_for_ingress(build(policy)) == pods


@pytest.mark.parametrize(("policy", "senders"), [
    (gnp("g", "selector: app == 'db'\n"
         "ingress: [{action: Allow, source: {serviceAccounts: {names: [web]}}}]"), {"web"}),
    (gnp("g", "selector: app == 'db'\n"
         "ingress: [{action: Allow, source: {serviceAccounts: {selector: role == 'front'}}}]"),
     {"web"}),
    (gnp("g", "selector: app == 'db'\n"
         "ingress: [{action: Allow, source: {serviceAccounts: {names: [default]}}}]"),
     {"probe"}),
    (gnp("g", "selector: app == 'db'\ningress: [{action: Allow, source: {serviceAccounts: "
         "{names: [web, default], selector: role == 'front'}}}]"), {"web"}),
    # a namespaced policy: its own namespace, unless a namespaceSelector says otherwise
    (cnp("shop", "p", "selector: app == 'db'\n"
         "ingress: [{action: Allow, source: {serviceAccounts: {names: [default]}}}]"), set()),
    (cnp("shop", "p", "selector: app == 'db'\ningress: [{action: Allow, source: "
         "{namespaceSelector: all(), serviceAccounts: {names: [default]}}}]"), {"probe"}),
])
def test_rule_service_accounts_match_pods_running_under_them(policy: str, senders: set[str]):
    """serviceAccounts matches "endpoints running under service accounts", by names and
    by a selector over the account's labels; with a namespaceSelector, in the selected
    namespaces only; in a NetworkPolicy without one, in the policy's namespace [Entity,
    SA]."""
    assert sources_of(build(policy), "shop/db") == senders


@pytest.mark.parametrize("accounts", ["role != 'x'", "!has(role)"])
@pytest.mark.parametrize("namespace", ["", "shop"])
def test_rule_service_accounts_never_match_a_network_set(accounts: str, namespace: str):
    """serviceAccounts matches "endpoints running under service accounts" [Entity]; a
    network set runs under none."""
    net = build(
        network_set("ext", "{kind: ext}", "[203.0.113.0/24]", namespace=namespace),
        gnp("g", f"""\
            selector: app == 'web'
            egress:
            - {{action: Allow, destination: {{serviceAccounts: {{selector: "{accounts}"}}}}}}
            """))
    assert allowed(net, "shop/web", "203.0.113.5") == NONE


# ---------------------------------------------------------------------------
# nets, notNets, notSelector and network sets


def test_nets_match_pod_ips_and_outside_addresses():
    """nets: the address is in any of the CIDRs [Entity]; pods' own IPs are addresses
    like any other."""
    net = build(gnp("g", """\
        selector: app == 'db'
        ingress: [{action: Allow, source: {nets: [10.0.0.1/32, 203.0.113.0/24]}}]
        egress: [{action: Allow, destination: {nets: [10.0.1.0/24]}}]
        """))
    assert sources_of(net, "shop/db") == {"web", "203.0.113.5"}
    assert allowed(net, "shop/db", "lab/probe") == ALL
    assert allowed(net, "shop/db", "shop/web") == NONE
    assert allowed(net, "shop/db", "203.0.113.5") == NONE


def test_not_nets_match_every_address_outside_them():
    """notNets: the address is in none of the CIDRs [Entity]."""
    net = build(gnp("g", """\
        selector: app == 'db'
        ingress: [{action: Allow, source: {notNets: [10.0.0.0/24, 198.51.100.0/24]}}]
        """))
    assert sources_of(net, "shop/db") == {"probe", "203.0.113.5"}


def test_nets_and_a_selector_must_both_match():
    """"If the rule contains multiple match criteria ... then all match criteria must
    match" [Entity]."""
    net = build(gnp("g", """\
        selector: app == 'db'
        ingress: [{action: Allow, source: {selector: has(app), nets: [10.0.1.0/24]}}]
        """))
    assert sources_of(net, "shop/db") == {"probe"}


def test_not_selector_matches_everywhere_but_the_selected_endpoints():
    """"notSelector: has(foo) matches packets from/to anywhere (including outside the
    cluster), except ... endpoints and network sets that have the label "foo"",
    whereas "selector: !has(foo) matches packets from/to endpoints and network sets that
    do not have the label "foo"" [Entity]."""
    not_selector = build(gnp("g", """\
        selector: app == 'db'
        ingress: [{action: Allow, source: {notSelector: has(tier)}}]
        """))
    assert sources_of(not_selector, "shop/db") == {"probe", *OUTSIDE}
    negated = build(gnp("g", """\
        selector: app == 'db'
        ingress: [{action: Allow, source: {selector: "!has(tier)"}}]
        """))
    assert sources_of(negated, "shop/db") == {"probe"}


def test_a_global_network_set_puts_its_cidrs_into_the_selectors_that_match_it():
    """"it includes the CIDRs from any network sets that match the selector" [NSet]:
    outside addresses and pod IPs alike."""
    net = build(
        network_set("ext", "{kind: ext}", "[203.0.113.0/24, 10.0.1.0/24]"),
        gnp("g", """\
            selector: app == 'db'
            ingress: [{action: Allow, source: {selector: kind == 'ext'}}]
            """))
    assert sources_of(net, "shop/db") == {"probe", "203.0.113.5"}


def test_a_network_set_matched_by_a_not_selector_is_excluded():
    net = build(
        network_set("ext", "{kind: ext}", "[203.0.113.0/24]"),
        gnp("g", """\
            selector: app == 'db'
            ingress: [{action: Allow, source: {notSelector: kind == 'ext'}}]
            """))
    assert sources_of(net, "shop/db") == {"web", "probe", "198.51.100.1"}


def test_a_namespaced_network_set_serves_the_policies_of_its_namespace():
    """Namespaced network sets serve the NetworkPolicies of their namespace; a rule
    selector of a NetworkPolicy matches "the same namespace" [Sel]."""
    net = build(
        network_set("ext", "{kind: ext}", "[203.0.113.0/24]", namespace="shop"),
        cnp("shop", "db", """\
            selector: app == 'db'
            ingress: [{action: Allow, source: {selector: kind == 'ext'}}]
            """),
        cnp("lab", "probe", """\
            selector: all()
            ingress: [{action: Allow, source: {selector: kind == 'ext'}}]
            """))
    assert sources_of(net, "shop/db") == {"203.0.113.5"}
    assert sources_of(net, "lab/probe") == set()


def test_a_namespace_selector_reaches_the_network_sets_of_those_namespaces():
    net = build(
        network_set("ext", "{kind: ext}", "[203.0.113.0/24]", namespace="shop"),
        cnp("lab", "probe", """\
            selector: all()
            ingress: [{action: Allow, source: {namespaceSelector: team == 'a',
                                               selector: kind == 'ext'}}]
            """))
    assert sources_of(net, "lab/probe") == {"203.0.113.5"}


@pytest.mark.parametrize(("namespace", "want"), [("", ALL), ("shop", NONE)])
def test_global_in_a_namespace_selector_matches_the_global_network_sets(namespace: str,
                                                                         want: PortSet):
    """namespaceSelector: "global()" selects the non-namespaced resources [Entity]: the
    GlobalNetworkSets, not a namespace's NetworkSets (nor any pod)."""
    net = build(
        network_set("ext", "{kind: ext}", "[203.0.113.0/24]", namespace=namespace),
        gnp("g", """\
            selector: app == 'web'
            egress:
            - {action: Allow, destination: {namespaceSelector: global(), selector: kind == 'ext'}}
            """))
    assert allowed(net, "shop/web", "203.0.113.5") == want
    assert allowed(net, "shop/web", "shop/db") == NONE


def test_a_rule_selector_all_matches_the_network_sets_in_scope():
    """all() matches "packets from all in-scope endpoints and network sets" [Entity]: a
    NetworkPolicy's scope holds the network sets of its namespace."""
    net = build(
        network_set("ext", "{kind: ext}", "[203.0.113.0/24]", namespace="shop"),
        cnp("shop", "p", """\
            selector: app == 'db'
            ingress: [{action: Allow, source: {selector: all()}}]
            """))
    assert sources_of(net, "shop/db") == {"web", "203.0.113.5"}


@pytest.mark.parametrize("namespaces", ["team != 'x'", "!has(owner)"])
def test_a_namespace_selector_never_matches_a_global_network_set(namespaces: str):
    """namespaceSelector: "Positive match on selected namespaces. If specified, only
    workload endpoints in the selected Kubernetes namespaces are matched", and
    "global()" is how a rule selects "non-namespaced resources" [Entity]."""
    net = build(
        network_set("ext", "{kind: ext}", "[203.0.113.0/24]"),
        gnp("g", f"""\
            selector: app == 'web'
            egress: [{{action: Allow, destination: {{namespaceSelector: "{namespaces}",
                                                    selector: kind == 'ext'}}}}]
            """))
    assert allowed(net, "shop/web", "203.0.113.5") == NONE


# ---------------------------------------------------------------------------
# protocols and ports


@pytest.mark.parametrize(("protocol", "want"), [
    ("TCP", tcp()), ("6", tcp()), ("UDP", udp()), ("17", udp()),
    ("SCTP", sctp()), ("132", sctp())])
def test_a_protocol_is_named_or_numbered(protocol: str, want: PortSet):
    """protocol: "TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite, 1-255" [Rule]."""
    net = build(gnp("g", "selector: app == 'db'\n"
                    f"ingress: [{{action: Allow, protocol: {protocol}}}]"))
    assert allowed(net, "shop/web", "shop/db") == want


@pytest.mark.parametrize(("not_protocol", "want"), [("TCP", ALL - tcp()), ("17", ALL - udp())])
def test_not_protocol_matches_every_other_protocol(not_protocol: str, want: PortSet):
    """notProtocol: "Negative protocol match" [Rule]."""
    net = build(gnp("g", "selector: app == 'db'\n"
                    f"ingress: [{{action: Allow, notProtocol: {not_protocol}}}]"))
    assert allowed(net, "shop/web", "shop/db") == want


@pytest.mark.parametrize(("ports", "want"), [
    ("[5432]", tcp(5432)),
    ("[5432, '8000:8080']", tcp(5432, (8000, 8080))),
    ("['1:1024']", tcp((1, 1024))),
    ("[pg]", tcp(5432)),  # the destination pod's named port
    ("[http]", NONE),  # db declares no port named http
])
def test_destination_ports_are_numbers_ranges_or_names(ports: str, want: PortSet):
    """ports: an integer, 'start:end' (inclusive), or a named port "as defined in the
    ports list of one or more endpoints" [Ports]."""
    net = build(gnp("g", f"""\
        selector: app == 'db'
        ingress: [{{action: Allow, protocol: TCP, destination: {{ports: {ports}}}}}]
        """))
    assert allowed(net, "shop/web", "shop/db") == want


def test_a_named_port_is_of_the_rules_protocol():
    net = build(gnp("g", """\
        selector: app == 'db'
        ingress:
        - {action: Allow, protocol: UDP, destination: {ports: [dns]}}
        - {action: Allow, protocol: TCP, destination: {ports: [dns]}}
        """))
    assert allowed(net, "shop/web", "shop/db") == udp(53)


def test_an_egress_named_port_is_the_destination_pods():
    net = build(gnp("g", """\
        selector: app == 'web'
        egress: [{action: Allow, protocol: TCP, destination: {ports: [pg]}}]
        """))
    assert allowed(net, "shop/web", "shop/db") == tcp(5432)
    assert allowed(net, "shop/web", "lab/probe") == NONE
    assert allowed(net, "shop/web", "203.0.113.5") == NONE


def test_not_ports_take_ports_away():
    """notPorts: a rule matches none of them, by number, range or name [Ports]."""
    net = build(gnp("g", """\
        selector: app == 'db'
        ingress:
        - {action: Allow, protocol: TCP, destination: {notPorts: ['1:1023', pg]}}
        """))
    assert allowed(net, "shop/web", "shop/db") == tcp((1024, 5431), (5433, 65535))


@pytest.mark.parametrize("protocol", ["ICMP", "1", "ICMPv6", "58"])
def test_a_rule_for_icmp_matches_no_tcp_udp_or_sctp(protocol: str):
    net = build(gnp("g", f"""\
        selector: app == 'db'
        ingress: [{{action: Allow, protocol: {protocol}}}]
        """))
    assert allowed(net, "shop/web", "shop/db") & PORTED == NONE


def test_a_deny_for_icmp_denies_no_tcp_udp_or_sctp():
    net = build(gnp("g", """\
        selector: app == 'db'
        ingress: [{action: Deny, protocol: ICMP}, {action: Allow}]
        """))
    assert allowed(net, "shop/web", "shop/db") & PORTED == PORTED


def test_not_protocol_icmp_matches_all_of_tcp_udp_and_sctp():
    net = build(gnp("g", "selector: app == 'db'\ningress: [{action: Allow, notProtocol: ICMP}]"))
    assert allowed(net, "shop/web", "shop/db") & PORTED == PORTED


@pytest.mark.parametrize(("version", "want"), [(6, NONE), (4, ALL)])
def test_ip_version_6_does_not_match_ipv4_peers(version: int, want: PortSet):
    """ipVersion (4 or 6) restricts a rule to addresses of that family [Rule]."""
    net = build(gnp("g", f"""\
        selector: app == 'db'
        ingress: [{{action: Allow, ipVersion: {version}}}]
        egress: [{{action: Allow, ipVersion: {version}}}]
        """))
    assert allowed(net, "shop/web", "shop/db") == want
    assert allowed(net, "203.0.113.5", "shop/db") == want
    assert allowed(net, "shop/db", "203.0.113.5") == want


# ---------------------------------------------------------------------------
# criteria no static analysis decides


UNDECIDABLE = {
    "http": ("ingress", "http: {methods: [GET]}"),
    "source ports": ("ingress", "source: {ports: [1234]}"),
    "services": ("ingress", "source: {services: {name: web, namespace: shop}}"),
    "domains": ("egress", "destination: {domains: [example.com]}"),
}


@pytest.mark.parametrize("criterion", sorted(UNDECIDABLE))
def test_an_allow_rule_with_an_undecidable_criterion_matches_nothing(criterion: str):
    direction, text = UNDECIDABLE[criterion]
    subject = "app == 'db'" if direction == "ingress" else "app == 'web'"
    net = build(gnp("g", f"""\
        selector: {subject}
        {direction}: [{{action: Allow, protocol: TCP, {text}}}]
        """))
    assert allowed(net, "shop/web", "shop/db") == NONE
    [note] = [w for w in net.warnings if w.code == "unresolvable"]
    assert note.severity == "warning" and "matching nothing" in note.message
    assert note.caveat


@pytest.mark.parametrize("criterion", sorted(UNDECIDABLE))
def test_a_deny_rule_with_an_undecidable_criterion_applies_without_it(criterion: str):
    direction, text = UNDECIDABLE[criterion]
    subject = "app == 'db'" if direction == "ingress" else "app == 'web'"
    net = build(gnp("g", f"""\
        selector: {subject}
        {direction}: [{{action: Deny, protocol: TCP, {text}}}, {{action: Allow}}]
        """))
    assert allowed(net, "shop/web", "shop/db") == ALL - tcp()
    [note] = [w for w in net.warnings if w.code == "unresolvable"]
    assert note.severity == "warning" and "as if it matched without it" in note.message


# ---------------------------------------------------------------------------
# refusals and warnings


BAD_SELECTOR = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: bad}
spec:
"""


@pytest.mark.parametrize(("line", "column"), [
    ("  selector: app == 'web' && $bad", 29),  # the selector starts at column 13
    ("  selector: \"app == 'web' && $bad\"", 30),  # inside the quotes, one further
    ("  ingress: [{action: Allow, source: {selector: app == 'web' && $bad}}]", 64),
])
def test_a_selector_syntax_error_points_inside_the_selector(line: str, column: int):
    message = error(BAD_SELECTOR + line + "\n")
    assert message.startswith(f"<stdin>:5:{column}: invalid selector")
    assert 'unexpected character "$"' in message
    assert line[column - 1] == "$"


@pytest.mark.parametrize("line", [
    "  selector: 'app == ''web'' && $bad'",
    '  selector: "app == \\"web\\" && $bad"',
])
def test_a_selector_syntax_error_column_counts_the_escapes(line: str):
    message = error(BAD_SELECTOR + line + "\n")
    column = line.index("$") + 1
    assert message.startswith(f"<stdin>:5:{column}: invalid selector")


@pytest.mark.parametrize(("spec", "where", "expected"), [
    ("selectr: all()", "5:3", 'unknown field "selectr" in Calico GlobalNetworkPolicy spec '
     "(did you mean selector?)"),
    ("ingress: [{action: allow}]", "5:22",
     'unknown action "allow" (did you mean Allow? actions are case-sensitive)'),
    ("ingress: [{action: Reject}]", "5:22", 'unknown action "Reject" (use Allow, Deny, Log '
     "or Pass)"),
    ("ingress: [{action: Allow, protocol: HTTP}]", "5:39",
     'unknown protocol "HTTP" (use TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or a number 1-255)'),
    ("ingress: [{action: Allow, destination: {ports: [80]}}]", "5:43",
     "destination.ports needs the rule's protocol to be TCP, UDP, SCTP or UDPLite "
     "(add `protocol: TCP` to the rule)"),
    ("ingress: [{action: Allow, protocol: TCP, destination: {ports: ['90:80']}}]", "5:66",
     "port range 90:80 starts after it ends"),
    ("ingress: [{action: Allow, source: {notNamespaceSelector: all()}}]", "5:38",
     'unknown field "notNamespaceSelector" in rule source (Calico has no '
     "notNamespaceSelector; negate inside namespaceSelector with !)"),
    ("ingress: [{action: Allow, source: {nets: [10.0.0.0/33]}}]", "5:45",
     'invalid CIDR "10.0.0.0/33" in source.nets'),
])
def test_malformed_policies_are_refused_where_the_fault_is(spec: str, where: str,
                                                           expected: str):
    message = error(BAD_SELECTOR + "  " + spec + "\n")
    assert message.startswith(f"<stdin>:{where}: {expected}")


def test_a_namespaced_policy_with_a_namespace_selector_is_refused_with_a_hint():
    message = error(cnp("shop", "p", "namespaceSelector: all()"))
    assert message.startswith('<stdin>:5:3: unknown field "namespaceSelector"')
    assert "use a GlobalNetworkPolicy" in message


def test_a_policy_in_a_tier_the_input_does_not_define_is_a_warning():
    net = build(gnp("g", "tier: missing\n" + DENY_ALL_INTO_DB))
    [note] = [w for w in net.warnings if w.code == "assumption"]
    assert note.severity == "warning"
    assert "gnp/g" in note.message and "'missing'" in note.message
    # read as ordered after every other tier, denying what it does not decide
    assert allowed(net, "shop/web", "shop/db") == NONE
    [policy] = net.cluster.policies
    assert policy.tier.ends_in_deny and policy.tier.order == float("inf")
