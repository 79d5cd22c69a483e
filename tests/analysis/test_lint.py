"""reach.analysis.lint: every rule finds its problem, and stays quiet when the problem is absent.

Clusters are built from model objects so each test shows the whole situation it
judges. Each rule has a positive test (the problem is there and reported) and a
negative test (a near miss that must not be reported).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import clusters

from reach.analysis.lint import RULES, Finding, format_findings, lint
from reach.cli import main
from reach.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    IPBlock,
    Labels,
    LabelSelector,
    Location,
    Namespace,
    Peer,
    Pod,
    Policy,
    PolicyPort,
    Rule,
    Service,
    ServicePort,
)
from reach.network import Network

# ---------------------------------------------------------------------------
# building clusters


def labels(text: str) -> Labels:
    return Labels(dict(item.split("=", 1) for item in text.split(",") if item))


def sel(text: str = "") -> LabelSelector:
    return LabelSelector(labels(text))


def pod(
    ref: str,
    text: str = "",
    *,
    ips: Sequence[str] = (),
    ports: Sequence[ContainerPort] = (),
    host: bool = False,
    owner: str = "",
) -> Pod:
    ns, name = ref.split("/")
    return Pod(
        ns,
        name,
        labels(text),
        ports=tuple(ports),
        ips=tuple(ips),
        host_network=host,
        owner_kind="Deployment" if owner else "",
        owner_name=owner,
    )


def pods_peer(text: str = "", namespaces: str | None = None) -> Peer:
    return Peer(
        pod_selector=sel(text),
        namespace_selector=sel(namespaces) if namespaces is not None else None,
    )


def ns_peer(text: str = "") -> Peer:
    return Peer(namespace_selector=sel(text))


def block(cidr: str, *excepts: str) -> Peer:
    return Peer(ip_block=IPBlock(cidr, tuple(excepts)))


def port(proto: str, number: int | str | None = None, end: int | None = None) -> PolicyPort:
    return PolicyPort(proto, number, end)


RuleSpec = tuple[tuple[Peer, ...], tuple[PolicyPort, ...]]


def rule(*peers: Peer, ports: Sequence[PolicyPort] = ()) -> RuleSpec:
    """A rule as (peers, ports): no peers = every peer, no ports = every port."""
    return tuple(peers), tuple(ports)


def policy(
    ref: str,
    selects: str = "",
    *,
    ingress_rules: Sequence[RuleSpec] = (),
    egress_rules: Sequence[RuleSpec] = (),
    types: Sequence[str] | None = None,
) -> Policy:
    ns, name = ref.split("/")
    if types is None:
        types = ("Ingress", "Egress") if egress_rules else ("Ingress",)
    return Policy(
        ns,
        name,
        sel(selects),
        tuple(types),
        ingress=tuple(
            Rule("ingress", i, tuple(peers), tuple(ports))
            for i, (peers, ports) in enumerate(ingress_rules)
        ),
        egress=tuple(
            Rule("egress", i, tuple(peers), tuple(ports))
            for i, (peers, ports) in enumerate(egress_rules)
        ),
        location=Location(f"{name}.yaml", 1, 1),
    )


def network(*objects: Pod | Policy | Service | Namespace) -> Network:
    return Network(
        Cluster(
            namespaces=tuple(o for o in objects if isinstance(o, Namespace)),
            pods=tuple(o for o in objects if isinstance(o, Pod)),
            services=tuple(o for o in objects if isinstance(o, Service)),
            policies=tuple(o for o in objects if isinstance(o, Policy)),
        )
    )


def codes(net: Network, code: str) -> list[Finding]:
    return [f for f in lint(net) if f.code == code]


WEB = pod("shop/web", "app=web", ports=[ContainerPort(8080, "TCP", "http")])
API = pod("shop/api", "app=api", ports=[ContainerPort(9090, "TCP", "grpc")])
DB = pod("shop/db", "app=db", ports=[ContainerPort(5432, "TCP", "pg")])


# ---------------------------------------------------------------------------
# the catalogue


def test_every_rule_has_a_severity_and_a_description() -> None:
    assert all(sev in ("error", "warning", "info") and text for sev, text in RULES.values())


def test_findings_come_sorted_errors_first() -> None:
    net = network(
        WEB,
        policy("shop/typo", "app=wbe"),
        policy("shop/bad-cidr", "app=web", egress_rules=[rule(block("10.0.0.1/8"))]),
    )
    severities = [f.severity for f in lint(net)]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert severities[0] == "error"


def test_severity_filter_keeps_only_findings_at_least_that_severe() -> None:
    net = network(WEB, policy("shop/typo", "app=wbe"))
    assert {f.severity for f in lint(net, severity="warning")} == {"warning"}
    with pytest.raises(ValueError):
        lint(net, severity="loud")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# policy-selects-nothing


def test_a_policy_whose_selector_matches_no_pod_is_reported() -> None:
    found = codes(network(WEB, policy("shop/deny-web", "app=wbe")), "policy-selects-nothing")
    assert [f.subject for f in found] == ["shop/deny-web"]
    assert found[0].location == Location("deny-web.yaml", 1, 1)


def test_a_policy_in_the_wrong_namespace_gets_a_hint_naming_where_the_pods_are() -> None:
    found = codes(network(WEB, policy("default/deny-web", "app=web")), "policy-selects-nothing")
    assert "namespace shop" in found[0].hint


def test_a_policy_that_selects_a_pod_is_not_reported() -> None:
    assert not codes(network(WEB, policy("shop/deny-web", "app=web")), "policy-selects-nothing")


# ---------------------------------------------------------------------------
# peer-matches-nothing


def test_a_peer_that_matches_no_pod_is_reported() -> None:
    net = network(WEB, API, policy("shop/api", "app=api",
                                   ingress_rules=[rule(pods_peer("app=wbe"))]))
    found = codes(net, "peer-matches-nothing")
    assert len(found) == 1 and "ingress[0] from[0]" in found[0].message


def test_a_pod_selector_alone_looks_only_in_the_policys_namespace() -> None:
    # "podSelector ... selects particular Pods in the same namespace as the NetworkPolicy"
    prom = pod("monitoring/prometheus", "app=prometheus")
    net = network(WEB, prom, policy("shop/web", "app=web",
                                    ingress_rules=[rule(pods_peer("app=prometheus"))]))
    found = codes(net, "peer-matches-nothing")
    assert "namespaceSelector" in found[0].hint and "monitoring" in found[0].hint


def test_a_namespace_selector_that_matches_no_namespace_says_so() -> None:
    net = network(WEB, policy("shop/web", "app=web", ingress_rules=[rule(ns_peer("team=ops"))]))
    assert NAMESPACE_NAME_LABEL in codes(net, "peer-matches-nothing")[0].hint


def test_peers_that_match_pods_and_ip_blocks_are_not_reported() -> None:
    net = network(WEB, API, policy("shop/api", "app=api", ingress_rules=[
        rule(pods_peer("app=web"), block("203.0.113.0/24"))]))
    assert not codes(net, "peer-matches-nothing")


# ---------------------------------------------------------------------------
# named-port-undefined


def test_a_named_port_that_no_selected_pod_declares_is_reported() -> None:
    net = network(WEB, policy("shop/web", "app=web", ingress_rules=[
        rule(ports=[port("TCP", "https")])]))
    found = codes(net, "named-port-undefined")
    assert len(found) == 1 and '"https"' in found[0].message and "http" in found[0].hint


def test_a_named_port_with_the_wrong_protocol_gets_a_hint() -> None:
    net = network(WEB, policy("shop/web", "app=web", ingress_rules=[
        rule(ports=[port("UDP", "http")])]))
    assert "protocol TCP" in codes(net, "named-port-undefined")[0].hint


def test_an_egress_named_port_resolves_on_the_destination_pods() -> None:
    to_db = policy("shop/web-out", "app=web", egress_rules=[
        rule(pods_peer("app=db"), ports=[port("TCP", "pg")])])
    assert not codes(network(WEB, DB, to_db), "named-port-undefined")
    to_db_typo = policy("shop/web-out", "app=web", egress_rules=[
        rule(pods_peer("app=db"), ports=[port("TCP", "postgres")])])
    assert codes(network(WEB, DB, to_db_typo), "named-port-undefined")


def test_a_named_port_that_a_selected_pod_declares_is_not_reported() -> None:
    net = network(WEB, policy("shop/web", "app=web", ingress_rules=[
        rule(ports=[port("TCP", "http")])]))
    assert not codes(net, "named-port-undefined")


# ---------------------------------------------------------------------------
# port-not-declared


def test_a_port_that_no_selected_pod_listens_on_is_reported() -> None:
    net = network(WEB, policy("shop/web", "app=web", ingress_rules=[rule(ports=[port("TCP", 80)])]))
    found = codes(net, "port-not-declared")
    assert len(found) == 1 and "TCP 8080" in found[0].message


def test_a_service_port_used_instead_of_its_target_port_gets_a_hint() -> None:
    svc = Service("shop", "web", selector=labels("app=web"),
                  ports=(ServicePort(80, 8080, "TCP"),))
    net = network(WEB, svc, policy("shop/web", "app=web", ingress_rules=[
        rule(ports=[port("TCP", 80)])]))
    assert "targetPort 8080" in codes(net, "port-not-declared")[0].hint


def test_ports_and_ranges_covering_a_declared_port_are_not_reported() -> None:
    net = network(WEB, policy("shop/web", "app=web", ingress_rules=[
        rule(ports=[port("TCP", 8080)]), rule(ports=[port("TCP", 8000, 8100)])]))
    assert not codes(net, "port-not-declared")


def test_pods_that_declare_no_port_are_not_judged() -> None:
    bare = pod("shop/bare", "app=bare")
    net = network(bare, policy("shop/bare", "app=bare", ingress_rules=[
        rule(ports=[port("TCP", 80)])]))
    assert not codes(net, "port-not-declared")


# ---------------------------------------------------------------------------
# rule-shadowed, rule-allows-nothing, policy-redundant


def test_a_rule_inside_another_rule_of_the_same_policy_is_shadowed() -> None:
    net = network(WEB, API, policy("shop/api", "app=api", ingress_rules=[
        rule(pods_peer("app=web"), ports=[port("TCP", 9090)]),
        rule(pods_peer(), ports=[port("TCP", 9000, 9100)]),
    ]))
    found = codes(net, "rule-shadowed")
    assert [f.message.split(" is ")[0] for f in found] == ["shop/api ingress[0]"]
    assert "shop/api ingress[1]" in found[0].message


def test_a_rule_covered_by_another_policy_selecting_the_same_pods_is_shadowed() -> None:
    net = network(WEB, API,
                  policy("shop/api-from-web", "app=api", ingress_rules=[
                      rule(pods_peer("app=web"), ports=[port("TCP", 9090)]),
                      rule(pods_peer("app=web"), ports=[port("UDP", 53)])]),
                  policy("shop/api-from-all", "app=api", ingress_rules=[
                      rule(pods_peer(), ports=[port("TCP", 9090)])]))
    found = codes(net, "rule-shadowed")
    assert [f.subject for f in found] == ["shop/api-from-web ingress[0]"]


def test_a_rule_is_shadowed_only_if_covered_for_every_pod_it_applies_to() -> None:
    # from-db selects every pod of shop; its rule is covered on api (by api-open),
    # not on web and db.
    narrow = policy("shop/from-db", "", ingress_rules=[
        rule(pods_peer("app=db"), ports=[port("TCP", 1, 65535)])])
    api_only = policy("shop/api-open", "app=api", ingress_rules=[rule()])
    assert not codes(network(WEB, API, DB, narrow, api_only), "rule-shadowed")


def test_shadowing_counts_named_ports_per_pod() -> None:
    # "http" is 8080 on web, so TCP 8080 covers it there; on api "http" is undefined.
    same = policy("shop/web", "app=web", ingress_rules=[
        rule(ports=[port("TCP", "http")]), rule(ports=[port("TCP", 8080)])])
    found = codes(network(WEB, same), "rule-shadowed")
    assert len(found) == 1 and "ingress[0]" in found[0].message


def test_an_ip_block_rule_inside_a_wider_ip_block_rule_is_shadowed() -> None:
    net = network(WEB, policy("shop/web", "app=web", ingress_rules=[
        rule(block("10.1.0.0/16")), rule(block("10.0.0.0/8", "192.168.0.0/16"))]))
    assert "ingress[0]" in codes(net, "rule-shadowed")[0].message


def test_rules_that_each_allow_something_of_their_own_are_not_shadowed() -> None:
    net = network(WEB, API, DB, policy("shop/db", "app=db", ingress_rules=[
        rule(pods_peer("app=api"), ports=[port("TCP", 5432)]),
        rule(pods_peer("app=web"), ports=[port("TCP", 5432)]),
        rule(pods_peer("app=api"), ports=[port("TCP", 5433)])]))
    assert not codes(net, "rule-shadowed")
    assert not codes(net, "policy-redundant")


def test_a_rule_whose_ip_block_excepts_all_of_itself_allows_nothing() -> None:
    net = network(WEB, API, policy("shop/api", "app=api", ingress_rules=[
        rule(pods_peer("app=web")), rule(block("10.0.0.0/16", "10.0.0.0/8"))]))
    found = codes(net, "rule-allows-nothing")
    assert [f.subject for f in found] == ["shop/api ingress[1]"]


def test_an_empty_rule_already_explained_by_its_peer_is_reported_once() -> None:
    net = network(WEB, API, policy("shop/api", "app=api", ingress_rules=[
        rule(pods_peer("app=web")), rule(pods_peer("app=nobody"))]))
    assert not codes(net, "rule-allows-nothing")
    assert [f.subject for f in codes(net, "peer-matches-nothing")] == ["shop/api ingress[1]"]


def test_adding_a_policy_that_only_restricts_is_redundant() -> None:
    # The reference scenario's lesson: policies are additive; block-one-ip cannot take
    # away what allow-us-east's egress rule allows.
    client1 = pod("np/client-1", "app=client,region=us-east", ips=["192.168.134.72"])
    server = pod("np/server", "app=server")
    allow = policy("np/allow-us-east", "app=server",
                   ingress_rules=[rule(pods_peer("region=us-east"), ports=[port("TCP", 8888)])],
                   egress_rules=[rule()])
    block_one = policy("np/block-one-ip", "app=server", types=("Egress",),
                       egress_rules=[rule(block("0.0.0.0/0", "192.168.134.72/32"))])
    found = codes(network(client1, server, allow, block_one), "policy-redundant")
    assert [f.subject for f in found] == ["np/block-one-ip"]
    assert "allow-us-east egress[0]" in found[0].message and "additive" in found[0].hint
    # alone, block-one-ip isolates the server: not redundant
    assert not codes(network(client1, server, block_one), "policy-redundant")


def test_a_deny_for_some_pods_under_a_default_deny_is_redundant() -> None:
    one = policy("shop/deny-all", "")
    two = policy("shop/deny-web", "app=web")
    found = codes(network(WEB, API, one, two), "policy-redundant")
    assert [f.subject for f in found] == ["shop/deny-web"]


def test_a_default_deny_is_never_redundant_it_guards_pods_yet_to_come() -> None:
    deny_all = policy("shop/default-deny", "", types=("Ingress", "Egress"))
    everyone_in = policy("shop/metrics", "", ingress_rules=[rule(ports=[port("TCP", 9100)])])
    everyone_out = policy("shop/dns", "", types=("Egress",), egress_rules=[
        rule(ports=[port("UDP", 53)])])
    assert not codes(network(WEB, API, deny_all, everyone_in, everyone_out), "policy-redundant")


def test_a_namespace_wide_policy_is_not_redundant_because_of_todays_pods() -> None:
    # Every pod of shop happens to be allowed TCP 9090 by specific policies; the
    # namespace-wide rule still covers pods created tomorrow.
    wide = policy("shop/all-9090", "", ingress_rules=[rule(ports=[port("TCP", 9090)])])
    web = policy("shop/web", "app=web", ingress_rules=[rule(ports=[port("TCP", 9090)])])
    api = policy("shop/api", "app=api", ingress_rules=[rule(ports=[port("TCP", 9090)])])
    found = codes(network(WEB, API, wide, web, api), "policy-redundant")
    assert sorted(f.subject for f in found) == ["shop/api", "shop/web"]


def test_a_policy_that_is_the_only_one_isolating_its_pods_is_not_redundant() -> None:
    assert not codes(network(WEB, policy("shop/deny-web", "app=web")), "policy-redundant")


def test_a_policy_that_allows_something_others_do_not_is_not_redundant() -> None:
    net = network(WEB, API,
                  policy("shop/deny-all", ""),
                  policy("shop/api-from-web", "app=api", ingress_rules=[
                      rule(pods_peer("app=web"))]))
    assert not codes(net, "policy-redundant")


# ---------------------------------------------------------------------------
# dns-blocked


KUBE_DNS = pod("kube-system/coredns", "k8s-app=kube-dns",
               ports=[ContainerPort(5353, "UDP", "dns"), ContainerPort(5353, "TCP", "dns-tcp")])
DNS_SVC = Service("kube-system", "kube-dns", selector=labels("k8s-app=kube-dns"),
                  ports=(ServicePort(53, "dns", "UDP"), ServicePort(53, "dns-tcp", "TCP")))
WEB_TO_API = policy("shop/web-out", "app=web", egress_rules=[
    rule(pods_peer("app=api"), ports=[port("TCP", 9090)])])


def test_egress_isolation_without_a_dns_rule_blocks_dns() -> None:
    found = codes(network(WEB, API, KUBE_DNS, DNS_SVC, WEB_TO_API), "dns-blocked")
    assert len(found) == 1 and found[0].severity == "warning"
    assert "UDP 5353 and TCP 5353" in found[0].message  # the Service's targetPort


def test_dns_allowed_on_53_is_still_blocked_when_the_pods_listen_on_5353() -> None:
    # Policies see the pod's port after the Service translated 53 to targetPort 5353.
    wrong = policy("shop/dns", "", types=("Egress",), egress_rules=[
        rule(ns_peer(), ports=[port("UDP", 53), port("TCP", 53)])])
    found = codes(network(WEB, API, KUBE_DNS, DNS_SVC, WEB_TO_API, wrong), "dns-blocked")
    assert found and "5353" in found[0].hint


def test_dns_allowed_to_the_target_port_is_not_reported() -> None:
    right = policy("shop/dns", "", types=("Egress",), egress_rules=[
        rule(ns_peer(), ports=[port("UDP", "dns"), port("TCP", "dns-tcp")])])
    assert not codes(network(WEB, API, KUBE_DNS, DNS_SVC, WEB_TO_API, right), "dns-blocked")


def test_without_kube_dns_in_the_input_a_standard_one_is_assumed() -> None:
    found = codes(network(WEB, API, WEB_TO_API), "dns-blocked")
    assert found and "assumed" in found[0].message and "UDP 53" in found[0].message
    dns = policy("shop/dns", "", types=("Egress",), egress_rules=[
        rule(pods_peer("k8s-app=kube-dns", namespaces=""), ports=[port("UDP", 53),
                                                                port("TCP", 53)])])
    assert not codes(network(WEB, API, WEB_TO_API, dns), "dns-blocked")


def test_a_pod_whose_egress_is_closed_entirely_gets_only_a_note() -> None:
    locked = policy("shop/db-locked", "app=db", types=("Egress",))
    found = codes(network(DB, locked), "dns-blocked")
    assert [f.severity for f in found] == ["info"]


def test_pods_without_egress_isolation_are_not_reported() -> None:
    assert not codes(network(WEB, API, KUBE_DNS, DNS_SVC), "dns-blocked")


# ---------------------------------------------------------------------------
# ipblock-matches-pods, cidr-host-bits


def test_an_ip_block_that_names_a_pod_ip_is_fragile() -> None:
    c1 = pod("np/client-1", "app=client", ips=["192.168.134.72"])
    c2 = pod("np/client-2", "app=client", ips=["192.168.233.198"])
    server = pod("np/server", "app=server")
    block_one = policy("np/block-one-ip", "app=server", types=("Egress",),
                       egress_rules=[rule(block("0.0.0.0/0", "192.168.134.72/32"))])
    found = codes(network(c1, c2, server, block_one), "ipblock-matches-pods")
    assert len(found) == 1 and "np/client-1" in found[0].message
    assert "labels" in found[0].hint


def test_an_ip_block_for_outside_addresses_is_not_fragile() -> None:
    c1 = pod("np/client-1", "app=client", ips=["10.1.2.3"])
    out = policy("np/out", "app=client", types=("Egress",),
                 egress_rules=[rule(block("0.0.0.0/0", "10.0.0.0/8"))])
    assert not codes(network(c1, out), "ipblock-matches-pods")


def test_a_cidr_with_host_bits_is_an_error() -> None:
    bad = policy("shop/web", "app=web", ingress_rules=[rule(block("10.0.0.1/8", "10.1.0.5/16"))])
    found = codes(network(WEB, bad), "cidr-host-bits")
    assert [f.severity for f in found] == ["error", "error"]
    assert "10.0.0.0/8" in found[0].hint and "10.1.0.0/16" in found[1].hint


def test_a_cidr_written_as_a_network_is_not_reported() -> None:
    good = policy("shop/web", "app=web", ingress_rules=[rule(block("10.0.0.0/8", "10.1.0.0/16"))])
    assert not codes(network(WEB, good), "cidr-host-bits")


# ---------------------------------------------------------------------------
# no-default-deny, pod-unprotected


def test_a_namespace_without_default_deny_is_noted() -> None:
    found = codes(network(WEB, API, policy("shop/api", "app=api")), "no-default-deny")
    assert [f.severity for f in found] == ["info"]
    assert "ingress and egress" in found[0].message


def test_a_namespace_with_default_deny_both_ways_is_not_noted() -> None:
    deny = policy("shop/default-deny", "", types=("Ingress", "Egress"))
    assert not codes(network(WEB, deny), "no-default-deny")


def test_system_namespaces_are_left_alone() -> None:
    assert not codes(network(KUBE_DNS), "no-default-deny")


def test_a_workload_left_out_of_its_namespaces_policies_is_unprotected() -> None:
    found = codes(network(WEB, API, policy("shop/api", "app=api")), "pod-unprotected")
    assert [f.subject for f in found] == ["shop/web[Pod]"]
    assert "ingress" in found[0].message and "egress" not in found[0].message


def test_host_network_pods_are_unprotected_whatever_the_policies() -> None:
    agent = pod("shop/agent", "app=agent", host=True)
    found = codes(network(WEB, agent, policy("shop/deny-all", "")), "pod-unprotected")
    assert [f.subject for f in found] == ["shop/agent[Pod]"]
    assert "host network" in found[0].message


def test_a_workload_is_not_unprotected_when_all_pods_are_isolated() -> None:
    assert not codes(network(WEB, API, policy("shop/deny-all", "")), "pod-unprotected")


# ---------------------------------------------------------------------------
# plugin-no-enforcement, plugin-unknown


FLANNEL = pod("kube-flannel/kube-flannel-ds-x7k2p", "app=flannel", host=True,
              owner="kube-flannel-ds")
CALICO = pod("kube-system/calico-node-abcde", "k8s-app=calico-node", host=True,
             owner="calico-node")


def test_policies_with_flannel_alone_do_nothing() -> None:
    found = codes(network(WEB, FLANNEL, policy("shop/deny-all", "")), "plugin-no-enforcement")
    assert [f.severity for f in found] == ["error"]
    assert "flannel" in found[0].message


def test_policies_with_kindnet_may_do_nothing() -> None:
    kindnet = pod("kube-system/kindnet-abcde", "app=kindnet", host=True, owner="kindnet")
    found = codes(network(WEB, kindnet, policy("shop/deny-all", "")), "plugin-no-enforcement")
    assert [f.severity for f in found] == ["warning"]


def test_flannel_with_calico_canal_enforces() -> None:
    assert not codes(network(WEB, FLANNEL, CALICO, policy("shop/deny-all", "")),
                     "plugin-no-enforcement")


def test_flannel_without_policies_is_fine() -> None:
    assert not codes(network(WEB, FLANNEL), "plugin-no-enforcement")


def test_an_unknown_plugin_is_a_note() -> None:
    assert [f.severity for f in codes(network(WEB, policy("shop/deny-all", "")),
                                      "plugin-unknown")] == ["info"]
    assert not codes(network(WEB, CALICO, policy("shop/deny-all", "")), "plugin-unknown")


# ---------------------------------------------------------------------------
# output


def test_text_output_ends_with_counts_and_json_carries_every_field() -> None:
    import json

    findings = lint(network(WEB, policy("shop/typo", "app=wbe")))
    text = format_findings(findings)
    assert text.splitlines()[-1] == "1 warning, 2 infos"
    assert "typo.yaml:1:1: warning [policy-selects-nothing]" in text
    doc = json.loads(format_findings(findings, "json"))
    assert doc["counts"] == {"info": 2, "warning": 1, "error": 0}
    assert doc["findings"][0]["location"] == "typo.yaml:1:1"
    assert set(doc["findings"][0]) >= {"severity", "code", "message", "hint", "line", "path"}


# ---------------------------------------------------------------------------
# exactness: what lint calls redundant can be deleted without changing anything


def _prune(cluster: Cluster, findings: Sequence[Finding]) -> Cluster:
    """The cluster without the redundant policies and the shadowed/empty rules found."""
    gone = {f.subject for f in findings if f.code == "policy-redundant"}
    rules_gone = {
        f.subject for f in findings if f.code in ("rule-shadowed", "rule-allows-nothing")
    }
    kept = []
    for p in cluster.policies:
        if p.ref in gone:
            continue

        def keep(r: Rule, p: Policy = p) -> bool:
            return f"{p.ref} {r.direction}[{r.index}]" not in rules_gone

        kept.append(replace(p, ingress=tuple(r for r in p.ingress if keep(r)),
                            egress=tuple(r for r in p.egress if keep(r))))
    return replace(cluster, policies=tuple(kept))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters())
def test_deleting_everything_reported_redundant_changes_no_connection(cluster: Cluster) -> None:
    from reach.analysis.diff import diff

    for ipblock_pods in (True, False):
        net = Network(cluster, ipblock_pods=ipblock_pods)
        findings = lint(net)
        pruned = Network(_prune(cluster, findings), ipblock_pods=ipblock_pods)
        assert not diff(net, pruned, by="pod"), format_findings(findings)


# ---------------------------------------------------------------------------
# reach lint, on the samples

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def _lint_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["lint", *args])
    return code, capsys.readouterr().out


def test_the_flawed_sample_has_every_planted_problem_found_where_it_was_planted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _lint_cli(capsys, "-f", str(SAMPLES / "flawed"), "-o", "json")
    found = {(f["code"], f["subject"]) for f in json.loads(out)["findings"]}
    planted = {
        ("plugin-no-enforcement", "flannel"),
        ("cidr-host-bits", "bank/batch-to-audit egress[1]"),
        ("port-not-declared", "bank/frontend ingress[0]"),
        ("policy-redundant", "bank/frontend-copy"),
        ("dns-blocked", "bank/frontend"),
        ("port-not-declared", "bank/frontend-dns egress[0]"),
        ("dns-blocked", "bank/ledger"),
        ("rule-shadowed", "bank/ledger ingress[1]"),
        ("peer-matches-nothing", "bank/ledger ingress[2]"),
        ("named-port-undefined", "bank/ledger ingress[2]"),
        ("ipblock-matches-pods", "bank/batch-to-audit egress[0]"),
        ("policy-selects-nothing", "bank/deny-legacy"),
        ("no-default-deny", "bank"),
        ("pod-unprotected", "bank/legacy-reports[Deployment]"),
    }
    assert planted <= found
    assert code == 1  # two of them are errors


def test_the_flawed_sample_points_at_the_lines(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = _lint_cli(capsys, "-f", str(SAMPLES / "flawed"))
    policies = SAMPLES / "flawed" / "policies.yaml"
    lines = policies.read_text().splitlines()
    for finding in out.splitlines():
        if finding.startswith(str(policies)) and "[rule-shadowed]" in finding:
            line = int(finding.split(":")[1])
            assert "rule-shadowed" in lines[line - 1]  # the comment planted on that line


def test_the_shop_lints_clean_but_informative(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _lint_cli(capsys, "-f", str(SAMPLES / "shop"))
    assert code == 0
    assert "warning" not in out and "error" not in out
    assert "[no-default-deny] namespace tools has no NetworkPolicy" in out  # the planted hole


def test_the_seed_scenario_warns_that_block_one_ip_is_fragile_and_redundant(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed = SAMPLES / "seed"
    code, out = _lint_cli(capsys, "-f", str(seed / "cluster.yaml"), "-f",
                          str(seed / "policies"), "--severity", "warning")
    assert code == 0
    assert "[ipblock-matches-pods] network-policy/block-one-ip egress[0]" in out
    assert "[policy-redundant] network-policy/block-one-ip is redundant" in out
    assert "info" not in out.splitlines()[-1]


def test_reach_lint_without_policies_in_the_seed_is_quiet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _lint_cli(capsys, "-f", str(SAMPLES / "seed" / "cluster.yaml"),
                          "--severity", "warning")
    assert (code, out.strip()) == (0, "no findings")
