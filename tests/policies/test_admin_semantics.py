"""The tiers, rule by rule, as the admin policy API defines them.

Each test quotes the sentence of kubernetes-sigs/network-policy-api it implements
(``apis/v1alpha2/clusternetworkpolicy_types.go`` on main, ``apis/v1alpha1`` at
v0.1.8, ``site-src/api-overview.md``). Clusters are read from YAML, as users write
them, and every verdict is checked three ways: ``Network.can`` (and its
explanation), the compiled port sets and the brute-force oracle.
"""

from __future__ import annotations

import json
import textwrap

import oracle
import pytest

from reach.cli import main
from reach.loader import read_cluster
from reach.network import Network

PODS = """\
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
spec:
  containers: [{name: c, ports: [{containerPort: 8080, name: http}]}]
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec:
  containers: [{name: c, ports: [{containerPort: 5432, name: pg}, {containerPort: 53,
    protocol: UDP, name: pg}]}]
status: {podIP: 10.1.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: ops, labels: {app: agent}}
status: {podIP: 10.2.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: node-agent, namespace: ops, labels: {app: agent}}
spec: {hostNetwork: true}
status: {podIP: 192.168.0.10}
---
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {role: infra}}
status:
  addresses: [{type: InternalIP, address: 192.168.0.10}, {type: Hostname, address: n1}]
"""


def cnp(name: str, tier: str, priority: int, subject: str, *rules: str) -> str:
    ingress = [r for r in rules if "from:" in r]
    egress = [r for r in rules if "to:" in r]
    body = f"""\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {{name: {name}}}
spec:
  tier: {tier}
  priority: {priority}
  subject: {subject}
"""
    if ingress:
        body += "  ingress:\n" + "".join(textwrap.indent(r, "  ") for r in ingress)
    if egress:
        body += "  egress:\n" + "".join(textwrap.indent(r, "  ") for r in egress)
    return body


def rule(action: str, peers: str, protocols: str = "", name: str = "") -> str:
    """One rule: ``peers`` is ``from: [...]`` or ``to: [...]``."""
    out = f"- action: {action}\n  {peers}\n"
    if name:
        out = f"- name: {name}\n  action: {action}\n  {peers}\n"
    if protocols:
        out += f"  protocols: {protocols}\n"
    return out


NP_WEB_ONLY_FROM_SHOP = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {}}]}]
"""

SHOP = "{namespaces: {matchLabels: {team: shop}}}"
OPS = "{namespaces: {matchLabels: {team: ops}}}"
WEB = "{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}"
DB = "{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}"


class World:
    """Manifests read from YAML, answering every question three times over."""

    def __init__(self, *documents: str, ipblock_pods: bool = True) -> None:
        text = "\n---\n".join([PODS, *documents])
        self.cluster = read_cluster("-", stdin_text=text)
        self.ipblock_pods = ipblock_pods
        self.net = Network(self.cluster, ipblock_pods=ipblock_pods)

    def endpoint(self, ref: str) -> object:
        if "/" not in ref:
            return ref
        return next(p for p in self.cluster.pods if p.ref == ref)

    def can(self, src: str, dst: str, port: int = 80, protocol: str = "TCP") -> bool:
        verdict = self.net.can(src, dst, port=port, protocol=protocol)
        want = oracle.allowed(self.cluster, self.endpoint(src), self.endpoint(dst),  # type: ignore[arg-type]
                              protocol, port, self.ipblock_pods)
        assert bool(verdict) == want, str(verdict)
        walked = verdict.egress.ports & verdict.ingress.ports
        assert walked.allows(protocol, port) == want, str(verdict)
        assert verdict.ports.allows(protocol, port) == want or src == dst
        return want


# ---------------------------------------------------------------------------
# actions


def test_admin_deny_overrides_networkpolicy():
    """ "Deny: Drops the selected traffic. No further ClusterNetworkPolicy or NetworkPolicy
    rules will be processed." """
    allow_all = NP_WEB_ONLY_FROM_SHOP.replace("[{podSelector: {}}]", "[{namespaceSelector: {}}]")
    w = World(allow_all, cnp("deny", "Admin", 1, WEB, rule("Deny", f"from: [{OPS}]")))
    assert not w.can("ops/agent", "shop/web")
    assert w.can("shop/db", "shop/web")


def test_admin_accept_overrides_networkpolicy_isolation():
    """ "Accept: Accepts the selected traffic ... No further ingress ClusterNetworkPolicy or
    NetworkPolicy rules will be processed." """
    w = World(NP_WEB_ONLY_FROM_SHOP, cnp("ops-in", "Admin", 1, WEB,
                                         rule("Accept", f"from: [{OPS}]")))
    assert w.can("ops/agent", "shop/web")
    assert not World(NP_WEB_ONLY_FROM_SHOP).can("ops/agent", "shop/web")


def test_an_egress_accept_leaves_the_ingress_of_the_destination_in_force():
    """Egress "Accept: ... No further egress ClusterNetworkPolicy or NetworkPolicy rules
    will be processed but any ingress rules at the destination do apply." """
    w = World(NP_WEB_ONLY_FROM_SHOP, cnp("out", "Admin", 1, OPS, rule("Accept", f"to: [{SHOP}]")))
    assert not w.can("ops/agent", "shop/web")
    assert w.can("ops/agent", "shop/db")


def test_pass_skips_the_rest_of_the_admin_tier_and_networkpolicy_decides():
    """ "Pass: Skips all further ClusterNetworkPolicy rules in the current tier for the
    selected traffic, and passes evaluation to the next tier." """
    w = World(NP_WEB_ONLY_FROM_SHOP,
              cnp("a-pass", "Admin", 1, WEB, rule("Pass", f"from: [{SHOP}]")),
              cnp("b-deny", "Admin", 2, WEB, rule("Deny", "from: [{namespaces: {}}]")))
    assert w.can("shop/db", "shop/web")  # passed, then NetworkPolicy allows it
    assert not w.can("ops/agent", "shop/web")  # not passed: the lower admin Deny


def test_pass_reaches_the_baseline_when_no_networkpolicy_selects_the_pod():
    """ "v1.NetworkPolicy always makes a final decision for selected pods. Further
    evaluation only happens for Pods not selected by a v1.NetworkPolicy." """
    w = World(cnp("pass", "Admin", 1, DB, rule("Pass", f"from: [{OPS}]")),
              cnp("base", "Baseline", 1, DB, rule("Deny", f"from: [{OPS}]")))
    assert not w.can("ops/agent", "shop/db")
    assert w.can("shop/web", "shop/db")


def test_networkpolicy_overrides_the_baseline():
    """ "Baseline tier is a cluster-wide policy that can be overridden by the
    v1.NetworkPolicy." """
    allow_ops = NP_WEB_ONLY_FROM_SHOP.replace("[{podSelector: {}}]",
                                              "[{namespaceSelector: {matchLabels: {team: ops}}}]")
    w = World(allow_ops, cnp("base", "Baseline", 1, WEB, rule("Deny", f"from: [{OPS}]")))
    assert w.can("ops/agent", "shop/web")
    w = World(cnp("base", "Baseline", 1, WEB, rule("Deny", f"from: [{OPS}]")))
    assert not w.can("ops/agent", "shop/web")


def test_a_baseline_pass_falls_through_to_the_default():
    """ "If a given connection wasn't allowed or denied by any of the tiers, the default
    kubernetes policy is applied, which says that all pods can communicate with each
    other." """
    w = World(cnp("a", "Baseline", 1, WEB, rule("Pass", f"from: [{OPS}]")),
              cnp("b", "Baseline", 2, WEB, rule("Deny", f"from: [{OPS}]")))
    assert w.can("ops/agent", "shop/web")


def test_log_is_no_decision():
    """Log records and goes on (the admin APIs have no Log action; Calico has)."""
    from dataclasses import replace

    w = World(cnp("deny", "Admin", 1, WEB, rule("Deny", f"from: [{OPS}]")))
    policy = w.cluster.policies[0]
    logged = replace(policy, ingress=(replace(policy.ingress[0], action="Log"),))
    w.cluster = replace(w.cluster, policies=(logged,))
    w.net = Network(w.cluster)
    assert w.can("ops/agent", "shop/web")
    steps = w.net.can("ops/agent", "shop/web", port=80).ingress.steps
    assert [s.action for s in steps] == ["Log", "default"]


# ---------------------------------------------------------------------------
# order


def test_lower_priority_numbers_are_evaluated_first():
    """ "Policies with lower priority values have higher precedence, and are checked before
    policies with higher priority values in the same tier." """
    allow = cnp("allow", "Admin", 10, WEB, rule("Accept", f"from: [{OPS}]"))
    deny = cnp("deny", "Admin", 20, WEB, rule("Deny", f"from: [{OPS}]"))
    assert World(allow, deny).can("ops/agent", "shop/web")
    assert not World(allow.replace("priority: 10", "priority: 30"), deny).can(
        "ops/agent", "shop/web")


def test_rules_are_evaluated_in_the_order_written():
    """ "a rule that appears at the top of the ingress rules would take the highest
    precedence." """
    first_deny = cnp("p", "Admin", 1, WEB, rule("Deny", f"from: [{OPS}]"),
                     rule("Accept", "from: [{namespaces: {}}]"))
    first_allow = cnp("p", "Admin", 1, WEB, rule("Accept", "from: [{namespaces: {}}]"),
                      rule("Deny", f"from: [{OPS}]"))
    assert not World(first_deny).can("ops/agent", "shop/web")
    assert World(first_allow).can("ops/agent", "shop/web")


def test_a_rule_matches_only_on_its_ports_and_the_rest_goes_on():
    """ "Protocols allows for more fine-grain matching of traffic on protocol-specific
    attributes such as the port." """
    w = World(cnp("p", "Admin", 1, WEB,
                  rule("Deny", f"from: [{OPS}]", "[{tcp: {destinationPort: {number: 80}}}]")))
    assert not w.can("ops/agent", "shop/web", 80)
    assert w.can("ops/agent", "shop/web", 81)
    assert w.can("ops/agent", "shop/web", 80, "UDP")


def test_same_priority_ties_are_walked_by_name_and_said():
    """ "If two (or more) policies in the same tier with the same priority could match a
    connection, then the implementation can apply any of the matching policies ... there
    is no way for the user to reliably determine which one it will choose." """
    w = World(cnp("b-deny", "Admin", 5, WEB, rule("Deny", f"from: [{OPS}]")),
              cnp("a-allow", "Admin", 5, WEB, rule("Accept", f"from: [{OPS}]")))
    assert w.can("ops/agent", "shop/web")  # reach's documented order: kind, then name
    verdict = w.net.can("ops/agent", "shop/web", port=80)
    assert [(a.ref, b.ref) for a, b in verdict.ingress.walk.ties] == [
        ("cnp/a-allow", "cnp/b-deny")]
    assert "the API leaves their order undefined" in str(verdict)
    assert verdict.to_json()["ingress"]["ties"] == [["cnp/a-allow", "cnp/b-deny"]]
    # same action at the same priority: the order does not matter, nothing to say
    same = World(cnp("b", "Admin", 5, WEB, rule("Deny", f"from: [{OPS}]")),
                 cnp("a", "Admin", 5, WEB, rule("Deny", f"from: [{OPS}]")))
    assert not same.net.can("ops/agent", "shop/web", port=80).ingress.walk.ties


# ---------------------------------------------------------------------------
# peers


def test_networks_match_pod_ips_too():
    """ "cluster-internal traffic will be checked against the rule as well. So if you Accept
    or Deny traffic to "0.0.0.0/0", that will allow or deny all IPv4 pod-to-pod traffic as
    well." """
    w = World(cnp("p", "Admin", 1, OPS, rule("Deny", "to: [{networks: [0.0.0.0/0]}]")))
    assert not w.can("ops/agent", "shop/web")
    assert not w.can("ops/agent", "8.8.8.8")
    np_guard = World(cnp("p", "Admin", 1, OPS, rule("Deny", "to: [{networks: [0.0.0.0/0]}]")),
                     ipblock_pods=False)
    assert np_guard.can("ops/agent", "shop/web") and not np_guard.can("ops/agent", "8.8.8.8")


def test_nodes_peers_match_the_addresses_of_the_selected_nodes():
    """ "It selects the nodeIPs as the peer type by matching on the IPs present in the
    node.Status.Addresses field of the node." """
    w = World(cnp("p", "Admin", 1, SHOP,
                  rule("Deny", "to: [{nodes: {matchLabels: {role: infra}}}]")))
    assert not w.can("shop/web", "192.168.0.10")
    assert w.can("shop/web", "192.168.0.11")
    other = World(cnp("p", "Admin", 1, SHOP,
                      rule("Deny", "to: [{nodes: {matchLabels: {role: worker}}}]")))
    assert other.can("shop/web", "192.168.0.10")


def test_host_network_pods_are_never_subjects_or_pod_peers():
    """ "Note that host-networked pods are not included in subject selection." -- "Note
    that host-networked pods are not included in this type of peer." """
    w = World(cnp("p", "Admin", 1, OPS, rule("Deny", "to: [{namespaces: {}}]")),
              cnp("q", "Admin", 2, SHOP, rule("Deny", f"from: [{OPS}]")))
    assert not w.can("ops/agent", "shop/db")
    assert w.can("ops/node-agent", "8.8.8.8")  # not a subject of p
    assert w.can("ops/node-agent", "shop/db", 5432)  # not a peer of q


def test_named_ports_resolve_on_the_destination_pod_in_any_protocol():
    """ "DestinationNamedPort selects a destination port on a pod based on the ContainerPort
    name." (the admin APIs' named ports carry no protocol)"""
    w = World(cnp("p", "Admin", 1, DB, rule("Deny", f"from: [{OPS}]",
                                            "[{destinationNamedPort: pg}]")))
    assert not w.can("ops/agent", "shop/db", 5432)
    assert not w.can("ops/agent", "shop/db", 53, "UDP")
    assert w.can("ops/agent", "shop/db", 53)


def test_domain_names_match_no_address():
    w = World(cnp("p", "Admin", 1, SHOP,
                  rule("Accept", "to: [{domainNames: [example.com]}]"),
                  rule("Deny", "to: [{networks: [0.0.0.0/0]}]")))
    assert not w.can("shop/web", "93.184.216.34")
    # (the fixture's host-network pod is a caveat of its own)
    assert [c.code for c in w.net.caveats if "host network" not in c.message] == ["unresolvable"]


def test_an_unknown_peer_in_a_deny_rule_denies_everything():
    """ "For "Deny" and "Pass" rules, "fail closed" means: "treat the rule as a 'Deny all'
    rule"." """
    w = World(cnp("p", "Admin", 1, WEB, rule("Pass", "from: [{newField: {}}]")))
    assert not w.can("shop/db", "shop/web") and not w.can("8.8.8.8", "shop/web")
    assert [c.code for c in w.net.caveats if "host network" not in c.message] == ["fail-closed"]


# ---------------------------------------------------------------------------
# v1alpha1


ANP = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: pass-ops}
spec:
  priority: 3
  subject: {namespaces: {matchLabels: {team: shop}}}
  ingress:
  - {name: pass-ops, action: Pass, from: [{namespaces: {matchLabels: {team: ops}}}]}
"""
BANP = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {matchLabels: {team: shop}}}
  ingress:
  - {name: deny-ops, action: Deny, from: [{namespaces: {matchLabels: {team: ops}}}]}
"""


def test_v1alpha1_pass_goes_to_networkpolicies_then_to_the_baseline():
    """ "Pass: instructs the selected traffic to skip any remaining ANP rules, and then pass
    execution to any NetworkPolicies that select the pod. If the pod is not selected by any
    NetworkPolicies then execution is passed to any BaselineAdminNetworkPolicies that select
    the pod." """
    allow_ops = NP_WEB_ONLY_FROM_SHOP.replace("[{podSelector: {}}]", "[{namespaceSelector: {}}]")
    w = World(ANP, BANP, allow_ops)
    assert w.can("ops/agent", "shop/web")  # NetworkPolicy selects web
    assert not w.can("ops/agent", "shop/db")  # nothing selects db: the baseline denies


# ---------------------------------------------------------------------------
# what users see


def test_can_explains_the_trace_through_the_tiers(capsys: pytest.CaptureFixture[str]) -> None:
    """Each direction as a trace: tier, action, policy, rule name and file:line."""
    w = World(ANP, BANP, NP_WEB_ONLY_FROM_SHOP)
    text = str(w.net.can("ops/agent", "shop/web", port=8080))
    assert text.splitlines()[0] == "ops/agent[Pod] -> shop/web[Pod]: DENIED on TCP 8080"
    # the port asked about: each step shows its share of it
    assert '[Admin] Pass TCP 8080 by anp/pass-ops rule "pass-ops" (<stdin>:' in text
    assert "[NetworkPolicy] isolated by web (<stdin>:" in text
    assert "[NetworkPolicy] Deny TCP 8080: no NetworkPolicy rule allows it" in text
    assert "=> denied" in text
    db = str(w.net.can("ops/agent", "shop/db", port=5432))
    assert '[Baseline] Deny TCP 5432 by banp/default rule "deny-ops"' in db
    # any port: each step shows all it decided
    anyport = str(w.net.can("ops/agent", "shop/db"))
    assert '[Admin] Pass All Connections by anp/pass-ops rule "pass-ops"' in anyport


def test_can_json_carries_the_same_steps(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "all.yaml"
    path.write_text("\n---\n".join([PODS, ANP, BANP]))
    code = main(["can", "ops/agent", "shop/db", "--port", "5432", "-f", str(path), "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["allowed"] is False
    assert [c for c in doc["caveats"] if "host network" not in c] == []
    steps = doc["ingress"]["steps"]
    assert [(s["tier"], s["action"], s.get("policy"), s.get("rule_name")) for s in steps] == [
        ("Admin", "Pass", "anp/pass-ops", "pass-ops"),
        ("Baseline", "Deny", "banp/default", "deny-ops"),
    ]
    assert steps[0]["location"].startswith(f"{path}:")


def test_networks_of_all_ipv4_match_pods_whose_ip_the_input_does_not_give():
    """ "if you Accept or Deny traffic to "0.0.0.0/0", that will allow or deny all IPv4
    pod-to-pod traffic as well" -- every pod has an IPv4 address, known or not; a narrower
    block is not assumed to hold an unknown one."""
    deployment = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template: {metadata: {labels: {app: cart}}}
"""
    everything = cnp("p", "Admin", 1, OPS, rule("Deny", "to: [{networks: [0.0.0.0/0]}]"))
    assert not World(deployment, everything).can("ops/agent", "shop/cart")
    halves = cnp("p", "Admin", 1, OPS,
                 rule("Deny", "to: [{networks: [0.0.0.0/1]}, {networks: [128.0.0.0/1]}]"))
    assert not World(deployment, halves).can("ops/agent", "shop/cart")
    private = cnp("p", "Admin", 1, OPS, rule("Deny", "to: [{networks: [10.0.0.0/8]}]"))
    assert World(deployment, private).can("ops/agent", "shop/cart")
    assert World(deployment, everything, ipblock_pods=False).can("ops/agent", "shop/cart")


def test_pods_of_unknown_ip_beside_blocks_that_may_hold_them_are_a_caveat():
    """An address peer that may hold pod IPs is read as matching none of the pods the
    input gives no IP: an assumption, said as a caveat."""
    deployment = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template: {metadata: {labels: {app: cart}}}
"""
    private = cnp("p", "Admin", 1, OPS, rule("Deny", "to: [{networks: [10.0.0.0/8]}]"))
    (caveat,) = [c for c in World(deployment, private).net.caveats if "no IP" in c.message]
    assert caveat.code == "assumption" and "1 pod(s) have no IP in the input (shop/cart)" in (
        caveat.message)
    assert "networks" not in caveat.message and "ipBlock 10.0.0.0/8 (<stdin>:" in caveat.message
    # a block that holds all of IPv4 matches them anyway; one outside pod space cannot
    everything = cnp("p", "Admin", 1, OPS, rule("Deny", "to: [{networks: [0.0.0.0/0]}]"))
    public = cnp("p", "Admin", 1, OPS, rule("Deny", "to: [{networks: [8.8.8.0/24]}]"))
    def no_ip(w: World) -> list[str]:
        return [c.message for c in w.net.caveats if "no IP" in c.message]

    assert not no_ip(World(deployment, everything))
    assert not no_ip(World(deployment, public))
    assert not no_ip(World(deployment, private, ipblock_pods=False))
