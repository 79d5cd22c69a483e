"""Lint of Calico policies: each calico-* finding on the case it is about and quiet on a
near miss, and the other families right about clusters that hold Calico policies.

Clusters are read from YAML (``reach.loader.read_cluster``), as users write them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import reach
from reach.analysis.diff import diff
from reach.analysis.lint import FAMILIES, RULES, Finding, calico, lint
from reach.loader import read_cluster
from reach.network import Network

BASE = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {team: ops}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: x, ports: [{containerPort: 80, name: http}]}]}
status: {podIP: 10.0.1.5}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, image: x, ports: [{containerPort: 5432, name: pg}]}]}
status: {podIP: 10.0.1.6}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops, labels: {app: agent}}
status: {podIP: 10.0.2.7}
---
apiVersion: v1
kind: Pod
metadata: {name: calico-node-x1, namespace: kube-system, labels: {k8s-app: calico-node}}
spec: {hostNetwork: true}
status: {podIP: 172.18.0.2}
"""

SECURITY_TIER = """\
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
"""


def gnp(name: str, body: str) -> str:
    return (f"apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
            f"metadata: {{name: {name}}}\nspec:\n{body}")


def cnp(namespace: str, name: str, body: str) -> str:
    return (f"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{body}")


def network(*documents: str, base: str = BASE) -> Network:
    return Network(read_cluster("-", stdin_text="\n---\n".join([base, *documents])))


def found(code: str, *documents: str) -> list[Finding]:
    return [f for f in lint(network(*documents)) if f.code == code]


def subjects(code: str, *documents: str) -> list[str]:
    return [f.subject for f in found(code, *documents)]


# ---------------------------------------------------------------------------
# the registry


def test_the_calico_family_is_registered_with_its_codes_and_severities() -> None:
    assert calico in FAMILIES
    assert {code: RULES[code][0] for code in RULES if code.startswith("calico-")} == {
        "calico-selects-nothing": "warning",
        "calico-shadowed-rule": "warning",
        "calico-undefined-tier": "warning",
        "calico-pass-to-nothing": "info",
        "calico-nets-on-pod-ips": "info",
    }


def test_every_calico_code_is_in_the_lint_documentation_table() -> None:
    doc = reach.analysis.lint.__doc__ or ""
    for code in RULES:
        assert f"``{code}``" in doc, code


# ---------------------------------------------------------------------------
# calico-selects-nothing


def test_a_policy_whose_selector_matches_no_pod_selects_nothing() -> None:
    [finding] = found("calico-selects-nothing", gnp("typo", "  selector: app == 'dbb'\n"))
    assert (finding.severity, finding.subject) == ("warning", "gnp/typo")
    assert "gnp/typo selects no pod (selector [app == 'dbb'])" in finding.message
    assert str(finding.location).startswith("<stdin>:")
    assert "no pod has labels that satisfy [app == 'dbb']" in finding.hint


def test_a_policy_that_selects_a_pod_is_quiet() -> None:
    assert not found("calico-selects-nothing", gnp("db", "  selector: app == 'db'\n"))


def test_the_kubernetes_finding_is_not_used_for_calico_selectors() -> None:
    # a GlobalNetworkPolicy has no Kubernetes namespaceSelector: the Kubernetes rule
    # must neither judge it nor evaluate its selector over plain pod labels
    by_namespace = cnp("shop", "ns", "  selector: projectcalico.org/namespace == 'shop'\n")
    net = network(gnp("typo", "  selector: app == 'dbb'\n"), by_namespace)
    assert [f.subject for f in lint(net) if f.code == "policy-selects-nothing"] == []
    assert [f.subject for f in lint(net) if f.code == "calico-selects-nothing"] == ["gnp/typo"]


def test_a_namespaced_policy_for_pods_of_another_namespace_says_where_they_are() -> None:
    [finding] = found("calico-selects-nothing", cnp("ops", "web", "  selector: app == 'web'\n"))
    assert finding.subject == "ops/web"
    assert "live in namespace shop" in finding.hint and "GlobalNetworkPolicy" in finding.hint


def test_a_label_no_pod_carries_is_named_in_the_hint() -> None:
    [finding] = found("calico-selects-nothing",
                      gnp("t", "  namespaceSelector: tier == 'gold'\n  selector: all()\n"))
    assert "namespace label tier" in finding.hint


def test_a_rule_selector_that_matches_no_pod_and_no_network_set_matches_nothing() -> None:
    policy = gnp("db", "  selector: app == 'db'\n  ingress:\n  - action: Allow\n"
                 "    source: {selector: app == 'api'}\n")
    [finding] = found("calico-selects-nothing", policy)
    assert finding.subject == "gnp/db ingress[0]"
    assert "source (selector [app == 'api']) matches no pod and no network set" in (
        finding.message)


def test_a_rule_of_only_nets_or_a_selector_of_a_network_set_is_quiet() -> None:
    partners = ("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\n"
                "metadata: {name: partners, labels: {role: partner}}\n"
                "spec: {nets: [198.51.100.0/24]}\n")
    policy = gnp("web", "  selector: app == 'web'\n  egress:\n"
                 "  - action: Allow\n    destination: {nets: [203.0.113.0/24]}\n"
                 "  - action: Allow\n    destination: {selector: role == 'partner'}\n")
    assert not found("calico-selects-nothing", partners, policy)


def test_a_selector_of_a_namespaced_policy_looks_in_its_namespace_only() -> None:
    policy = cnp("shop", "from-agent", "  selector: app == 'web'\n  ingress:\n"
                 "  - action: Allow\n    source: {selector: app == 'agent'}\n")
    [finding] = found("calico-selects-nothing", policy)
    assert "live in namespace ops" in finding.hint and "namespaceSelector" in finding.hint
    fixed = policy.replace("{selector: app == 'agent'}",
                           "{selector: app == 'agent', namespaceSelector: team == 'ops'}")
    assert not found("calico-selects-nothing", fixed)


def test_criteria_on_the_rules_own_end_that_leave_out_every_selected_pod() -> None:
    # an ingress rule's destination is the selected pod: app == 'db' is none of them
    policy = gnp("web", "  selector: app == 'web'\n  ingress:\n  - action: Allow\n"
                 "    destination: {selector: app == 'db'}\n")
    [finding] = found("calico-selects-nothing", policy)
    assert "destination (selector [app == 'db']) matches none of the pods gnp/web selects" in (
        finding.message)
    assert "source" in finding.hint
    assert not found("calico-selects-nothing", policy.replace("app == 'db'}", "app == 'web'}"))


# ---------------------------------------------------------------------------
# calico-shadowed-rule

SHADOWED = gnp("web", "  selector: app == 'web'\n  ingress:\n"
               "  - action: Deny\n    source: {selector: has(app)}\n"
               "  - action: Allow\n    source: {selector: app == 'agent'}\n")


def test_a_rule_whose_traffic_an_earlier_rule_of_its_policy_takes_is_shadowed() -> None:
    [finding] = found("calico-shadowed-rule", SHADOWED)
    assert (finding.severity, finding.subject) == ("warning", "gnp/web ingress[1]")
    assert "earlier rules of the same policy (gnp/web ingress[0] (<stdin>:" in finding.message
    assert finding.location is not None and finding.location.line > 0


def test_a_rule_that_still_gets_some_traffic_is_not_shadowed() -> None:
    # the Deny only takes TCP 80: the Allow still decides every other port
    narrow = SHADOWED.replace("  - action: Deny\n", "  - action: Deny\n    protocol: TCP\n"
                              "    destination: {ports: [80]}\n")
    assert not found("calico-shadowed-rule", narrow)


def test_deleting_a_shadowed_rule_changes_no_connection() -> None:
    net = network(SHADOWED)
    [finding] = [f for f in lint(net) if f.code == "calico-shadowed-rule"]
    [policy] = net.cluster.policies
    pruned = replace(net.cluster, policies=(replace(policy, ingress=policy.ingress[:1]),))
    assert finding.subject == "gnp/web ingress[1]"
    assert not diff(net, Network(pruned), by="pod")


def test_a_rule_that_an_earlier_policy_of_the_tier_decides_is_shadowed() -> None:
    deny = gnp("security.deny-ops", "  tier: security\n  order: 10\n  selector: app == 'web'\n"
               "  ingress:\n  - action: Deny\n    source: {namespaceSelector: team == 'ops'}\n")
    allow = gnp("security.allow-agent", "  tier: security\n  order: 20\n"
                "  selector: app == 'web'\n  ingress:\n  - action: Allow\n"
                "    source: {selector: app == 'agent', namespaceSelector: all()}\n")
    [finding] = found("calico-shadowed-rule", SECURITY_TIER, deny, allow)
    assert finding.subject == "gnp/security.allow-agent ingress[0]"
    assert "rules that come before it in tier security (gnp/security.deny-ops ingress[0]" in (
        finding.message)
    assert "lower order" in finding.hint
    # the Deny only takes TCP 80 of ops: the Allow still decides the agent's other ports
    narrow = deny.replace("  - action: Deny\n", "  - action: Deny\n    protocol: TCP\n"
                          "    destination: {ports: [80]}\n")
    assert not found("calico-shadowed-rule", SECURITY_TIER, narrow, allow)


def test_a_rule_left_out_by_its_own_end_does_not_shadow() -> None:
    # the Deny is only for web (its source, in an egress rule): db reaches the Allow
    policy = gnp("out", "  selector: has(app)\n  egress:\n"
                 "  - action: Deny\n    source: {selector: app == 'web'}\n"
                 "  - action: Allow\n")
    assert not found("calico-shadowed-rule", policy)
    assert found("calico-shadowed-rule", policy.replace("app == 'web'", "has(app)"))


def test_a_kubernetes_networkpolicy_does_not_shadow_a_calico_policy_of_lower_order() -> None:
    # Calico runs Kubernetes NetworkPolicies at order 1000: order 100 comes first
    allow_all = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                 "metadata: {name: allow-all, namespace: shop}\n"
                 "spec: {podSelector: {}, ingress: [{}]}\n")
    mine = cnp("shop", "from-agent", "  order: 100\n  selector: app == 'web'\n  ingress:\n"
               "  - action: Allow\n    source: {selector: app == 'agent', "
               "namespaceSelector: team == 'ops'}\n")
    assert not found("calico-shadowed-rule", allow_all, mine)
    later = mine.replace("order: 100", "order: 2000")
    assert subjects("calico-shadowed-rule", allow_all, later) == ["shop/from-agent ingress[0]"]


def test_calico_rules_are_not_reported_as_admin_tier_rules() -> None:
    assert not found("tier-rule-shadowed", SHADOWED)
    assert not found("pass-changes-nothing",
                     gnp("p", "  selector: all()\n  egress:\n  - action: Pass\n"))


# ---------------------------------------------------------------------------
# calico-pass-to-nothing

PASS_OPS = gnp("security.ops", "  tier: security\n  order: 10\n"
               "  namespaceSelector: projectcalico.org/name == 'ops'\n  selector: all()\n"
               "  types: [Egress]\n  egress:\n  - action: Pass\n")
OPS_EGRESS = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
              "metadata: {name: egress, namespace: ops}\n"
              "spec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}\n")


def test_a_pass_with_no_later_tier_for_the_pod_lands_on_the_default_profile() -> None:
    [finding] = found("calico-pass-to-nothing", SECURITY_TIER, PASS_OPS)
    assert (finding.severity, finding.subject) == ("info", "gnp/security.ops egress[0]")
    assert "ops/agent" in finding.message and "allows it" in finding.message
    assert "after tier security, no tier has a policy that selects them" in finding.message


def test_a_pass_to_a_later_tier_that_selects_the_pod_is_quiet() -> None:
    assert not found("calico-pass-to-nothing", SECURITY_TIER, PASS_OPS, OPS_EGRESS)


def test_a_pass_that_earlier_rules_leave_nothing_to_is_not_a_pass_to_nothing() -> None:
    denied = PASS_OPS.replace("  - action: Pass\n", "  - action: Deny\n  - action: Pass\n")
    assert not found("calico-pass-to-nothing", SECURITY_TIER, denied)
    assert subjects("calico-shadowed-rule", SECURITY_TIER, denied) == [
        "gnp/security.ops egress[1]"]


# ---------------------------------------------------------------------------
# calico-undefined-tier


def test_a_policy_in_a_tier_the_input_does_not_define_is_reported_with_the_fix() -> None:
    policy = gnp("platform.dns", "  tier: platform\n  selector: all()\n  types: [Egress]\n"
                 "  egress:\n  - action: Pass\n")
    net = network(policy)
    assert any(d.code == "assumption" and "platform" in d.message
               for d in net.cluster.diagnostics)
    [finding] = [f for f in lint(net) if f.code == "calico-undefined-tier"]
    assert (finding.severity, finding.subject) == ("warning", "gnp/platform.dns")
    assert "tier 'platform', which no Tier of the input defines" in finding.message
    assert "kind: Tier" in finding.hint and "name: platform" in finding.hint
    tier = SECURITY_TIER.replace("security", "platform")
    assert not found("calico-undefined-tier", tier, policy)


def test_the_default_tier_needs_no_tier_object() -> None:
    assert not found("calico-undefined-tier", gnp("d", "  selector: all()\n"))


# ---------------------------------------------------------------------------
# calico-nets-on-pod-ips


def egress_to(entity: str) -> str:
    return gnp("out", f"  selector: app == 'db'\n  egress:\n  - action: Deny\n"
                      f"    destination: {entity}\n  - action: Allow\n")


def test_nets_that_name_a_pod_ip_are_fragile() -> None:
    [finding] = found("calico-nets-on-pod-ips", egress_to("{nets: [10.0.1.5/32]}"))
    assert (finding.severity, finding.subject) == ("info", "gnp/out egress[0]")
    assert "destination.nets 10.0.1.5/32" in finding.message
    assert "names the IP of shop/web" in finding.message
    assert "labels" in finding.hint


def test_not_nets_that_hold_some_pods_but_not_others_are_fragile() -> None:
    [finding] = found("calico-nets-on-pod-ips", egress_to("{notNets: [10.0.1.0/24]}"))
    assert "destination.notNets" in finding.message
    assert "holds shop/db, shop/web but not ops/agent" in finding.message


def test_nets_outside_the_pods_or_around_all_of_them_are_quiet() -> None:
    assert not found("calico-nets-on-pod-ips", egress_to("{nets: [203.0.113.0/24]}"))
    assert not found("calico-nets-on-pod-ips", egress_to("{notNets: [10.0.0.0/8]}"))


NODE_SET = ("apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\n"
            "metadata: {name: shop-nodes, labels: {role: shop}}\n"
            "spec: {nets: [10.0.1.0/24]}\n")


def test_a_network_set_that_holds_pod_ips_is_fragile_when_a_rule_selects_it() -> None:
    [finding] = found("calico-nets-on-pod-ips", NODE_SET,
                      egress_to("{selector: role == 'shop'}"))
    assert finding.subject == "globalnetworkset/shop-nodes"
    assert "which gnp/out egress[0] selects" in finding.message
    assert finding.location is not None and finding.location.line > 0


def test_a_network_set_that_no_rule_selects_is_quiet() -> None:
    assert not found("calico-nets-on-pod-ips", NODE_SET,
                     egress_to("{selector: role == 'other'}"))


# ---------------------------------------------------------------------------
# the other families, with Calico policies

DEFAULT_DENY = gnp("default-deny", "  selector: projectcalico.org/namespace != 'kube-system'\n"
                   "  types: [Ingress, Egress]\n")


def test_a_calico_default_deny_counts_as_the_namespaces_default_deny() -> None:
    assert not found("no-default-deny", DEFAULT_DENY)
    assert not found("no-default-deny", cnp("shop", "deny", "  selector: all()\n"
                                            "  types: [Ingress, Egress]\n"),
                     cnp("ops", "deny", "  selector: all()\n  types: [Ingress, Egress]\n"))


def test_calico_policies_that_do_not_deny_by_default_leave_the_note() -> None:
    passing = DEFAULT_DENY.replace("  types: [Ingress, Egress]\n",
                                   "  types: [Ingress, Egress]\n  ingress:\n  - action: Pass\n"
                                   "  egress:\n  - action: Pass\n")
    assert subjects("no-default-deny", passing) == ["shop", "ops"]
    [finding, _] = found("no-default-deny", passing)
    assert "only cluster-wide policies select its pods (gnp/default-deny)" in finding.message
    assert "every pod accepts" not in finding.message
    # a selector over the pods' own labels leaves future pods out
    by_label = cnp("shop", "deny", "  selector: has(app)\n  types: [Ingress, Egress]\n")
    assert "shop" in subjects("no-default-deny", by_label)
    # a tier that passes what it leaves undecided isolates nothing
    tier = SECURITY_TIER.replace("spec: {order: 100}", "spec: {order: 100, defaultAction: Pass}")
    in_tier = DEFAULT_DENY.replace("spec:\n", "spec:\n  tier: security\n").replace(
        "name: default-deny", "name: security.default-deny")
    assert subjects("no-default-deny", tier, in_tier) == ["shop", "ops"]


def test_dns_blocked_by_a_calico_policy_gets_a_calico_hint() -> None:
    [finding, *_] = found("dns-blocked", DEFAULT_DENY)
    assert "gnp/default-deny" in finding.message
    assert "action: Allow" in finding.hint and "k8s-app == 'kube-dns'" in finding.hint
    assert "matchLabels" not in finding.hint


def test_calico_nets_over_private_ranges_may_allow_dns_to_a_pod_of_unknown_ip() -> None:
    # the input has no kube-dns pod: its IP is unknown, a private range may hold it
    out = cnp("shop", "out", "  selector: app == 'web'\n  types: [Egress]\n  egress:\n"
              "  - action: Allow\n    destination: {nets: [10.0.0.0/8]}\n")
    assert not found("dns-blocked", out)
    assert subjects("dns-blocked", out.replace("10.0.0.0/8", "203.0.113.0/24")) == ["shop/web"]


def test_calico_deny_rules_are_not_read_as_networkpolicy_allows() -> None:
    allow = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
             "metadata: {name: web, namespace: shop}\nspec:\n"
             "  podSelector: {matchLabels: {app: web}}\n"
             "  ingress: [{from: [{namespaceSelector: {matchLabels: {team: ops}}}]}]\n")
    deny = cnp("shop", "deny-ops", "  order: 2000\n  selector: app == 'web'\n  ingress:\n"
               "  - action: Deny\n    source: {namespaceSelector: team == 'ops'}\n")
    codes = {f.code for f in lint(network(allow, deny))}
    assert not codes & {"rule-shadowed", "policy-redundant", "rule-allows-nothing"}


def test_a_pod_a_calico_policy_restricts_is_not_said_to_accept_any_connection() -> None:
    web_only = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                "metadata: {name: web, namespace: shop}\n"
                "spec: {podSelector: {matchLabels: {app: web}}}\n")
    assert subjects("pod-unprotected", web_only) == ["shop/db[Pod]"]
    tier = SECURITY_TIER.replace("spec: {order: 100}", "spec: {order: 100, defaultAction: Pass}")
    guard = gnp("security.db", "  tier: security\n  selector: app == 'db'\n  ingress:\n"
                "  - action: Deny\n    source: {namespaceSelector: team == 'ops'}\n")
    assert not found("pod-unprotected", web_only, tier, guard)


def test_a_baseline_reached_through_a_calico_pass_is_not_unreachable() -> None:
    baseline = ("apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
                "metadata: {name: base}\nspec:\n  tier: Baseline\n  priority: 10\n"
                "  subject: {namespaces: {matchLabels: {team: shop}}}\n"
                "  ingress:\n  - {action: Deny, from: [{namespaces: {}}]}\n")
    isolate = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
               "metadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n")
    assert subjects("baseline-unreachable", baseline, isolate) == ["cnp/base ingress"]
    passing = cnp("shop", "pass", "  selector: all()\n  ingress:\n  - action: Pass\n")
    assert not found("baseline-unreachable", baseline, isolate, passing)


def test_calico_policies_of_one_order_are_not_an_undefined_overlap() -> None:
    allow = gnp("security.a", "  tier: security\n  order: 10\n  selector: app == 'web'\n"
                "  ingress:\n  - action: Allow\n")
    deny = gnp("security.b", "  tier: security\n  order: 10\n  selector: app == 'web'\n"
               "  ingress:\n  - action: Deny\n")
    assert not found("same-priority-overlap", SECURITY_TIER, allow, deny)
    # (Calico takes them by name: b's Deny is never reached)
    assert subjects("calico-shadowed-rule", SECURITY_TIER, allow, deny) == [
        "gnp/security.b ingress[0]"]


def test_calico_policies_show_the_plugin_is_calico() -> None:
    # without the calico-node pods in the input, the plugin is not seen ...
    base = BASE[:BASE.index("---\napiVersion: v1\nkind: Pod\nmetadata: {name: calico-node")]
    kubernetes = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                  "metadata: {name: d, namespace: shop}\nspec: {podSelector: {}}\n")
    codes = [f.code for f in lint(network(kubernetes, base=base))]
    assert "plugin-unknown" in codes
    # ... but Calico's own kinds are only served where Calico runs
    codes = [f.code for f in lint(network(kubernetes, DEFAULT_DENY, base=base))]
    assert "plugin-unknown" not in codes and "plugin-no-enforcement" not in codes


def test_a_calico_deny_of_a_port_no_pod_declares_is_not_a_mistake() -> None:
    guard = gnp("no-ssh", "  selector: has(app)\n  ingress:\n  - action: Deny\n"
                "    protocol: TCP\n    destination: {ports: [22]}\n")
    assert not found("port-not-declared", guard)
    allow = guard.replace("action: Deny", "action: Allow")
    assert subjects("port-not-declared", allow) == ["gnp/no-ssh ingress[0]"]


def test_a_calico_named_port_only_counts_the_pods_its_rule_is_for() -> None:
    # http is web's port; the rule's destination leaves only db, which has none
    policy = gnp("p", "  selector: has(app)\n  ingress:\n  - action: Deny\n    protocol: TCP\n"
                 "    destination: {selector: app == 'db', ports: [http]}\n")
    [finding] = found("named-port-undefined", policy)
    assert "matches nothing" in finding.message
    assert not found("named-port-undefined", policy.replace("app == 'db'", "app == 'web'"))


# ---------------------------------------------------------------------------
# the samples

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_the_shop_with_its_calico_tiers_lints_without_a_wrong_finding() -> None:
    net = reach.load(SAMPLES / "shop", SAMPLES / "calico")
    assert [(f.code, f.subject) for f in lint(net)] == [
        # namespaces without policies of their own: DNS, scrapes and the rest are
        # passed on by the platform tier and nothing after it selects these pods
        ("calico-pass-to-nothing", "gnp/platform.dns-and-monitoring egress[0]"),
        ("calico-pass-to-nothing", "gnp/platform.dns-and-monitoring egress[1]"),
        ("calico-pass-to-nothing", "gnp/platform.dns-and-monitoring egress[4]"),
        ("calico-pass-to-nothing", "gnp/platform.dns-and-monitoring ingress[0]"),
        ("calico-pass-to-nothing", "gnp/platform.dns-and-monitoring ingress[2]"),
        # kube-system is left out of the platform tier
        ("calico-pass-to-nothing", "gnp/security.guardrails egress[2]"),
        ("no-default-deny", "monitoring"),
        ("no-default-deny", "ingress-nginx"),
        ("no-default-deny", "tools"),
    ]


def test_the_shop_with_its_calico_tiers_has_no_warning() -> None:
    net = reach.load(SAMPLES / "shop", SAMPLES / "calico")
    assert lint(net, severity="warning") == []
