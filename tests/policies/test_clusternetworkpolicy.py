"""The admin policy API (ClusterNetworkPolicy v1alpha2, AdminNetworkPolicy and
BaselineAdminNetworkPolicy v1alpha1): what each becomes, and every rule of the CRDs
enforced at its exact place.

Quotes are from kubernetes-sigs/network-policy-api: ``apis/v1alpha2/
clusternetworkpolicy_types.go`` (main) and ``apis/v1alpha1/*_types.go`` (tag v0.1.8).
"""

from __future__ import annotations

import textwrap

import pytest
from helpers import error, load

from reach.model import (
    ADMIN_TIER,
    BASELINE_TIER,
    IPBlock,
    Labels,
    LabelSelector,
    Location,
    Peer,
    Policy,
    PolicyPort,
)

CNP_HEAD = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: p}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {}}
"""
ANP_HEAD = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: p}
spec:
  priority: 10
  subject: {namespaces: {}}
"""
BANP_HEAD = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
"""


def doc(head: str, body: str = "") -> str:
    return head + textwrap.indent(textwrap.dedent(body), "  ")


def one(head: str, body: str = "") -> Policy:
    (policy,) = load(doc(head, body)).policies
    return policy


# -- what each kind becomes ----------------------------------------------------------------


def test_cluster_network_policy_admin_tier_and_priority():
    """ "Policy tiers are evaluated in the following order: Admin tier, NetworkPolicy tier,
    Baseline tier." -- "Priority is a value from 0 to 1000"."""
    policy = one(CNP_HEAD)
    assert (policy.kind, policy.tier, policy.priority, policy.namespace) == (
        "ClusterNetworkPolicy", ADMIN_TIER, 10, "")
    assert policy.ref == "cnp/p" and policy.location == Location("<stdin>", 1, 1)


def test_cluster_network_policy_baseline_tier():
    policy = one(CNP_HEAD.replace("tier: Admin", "tier: Baseline"))
    assert policy.tier == BASELINE_TIER


def test_admin_network_policy_is_the_admin_tier_and_banp_the_baseline():
    assert one(ANP_HEAD).tier == ADMIN_TIER and one(ANP_HEAD).ref == "anp/p"
    banp = one(BANP_HEAD)
    assert (banp.tier, banp.priority, banp.ref) == (BASELINE_TIER, 0, "banp/default")


def test_accept_is_read_as_allow_and_rule_names_are_kept():
    """ "Accept: Accepts the selected traffic" (v1alpha2 renamed v1alpha1's Allow)."""
    policy = one(CNP_HEAD, """\
        egress:
        - name: to-dns
          action: Accept
          to: [{namespaces: {}}]
        """)
    (rule,) = policy.egress
    assert (rule.action, rule.name, rule.index, rule.label) == (
        "Allow", "to-dns", 0, 'rule "to-dns"')
    assert policy.policy_types == ("Egress",)


def test_subject_namespaces_selects_every_pod_of_those_namespaces():
    """ "Namespaces is used to select pods via namespace selectors." """
    policy = one(CNP_HEAD.replace("{namespaces: {}}", "{namespaces: {matchLabels: {team: a}}}"))
    assert policy.namespace_selector == LabelSelector(Labels({"team": "a"}))
    assert policy.pod_selector.is_empty


def test_subject_pods_selects_by_namespace_and_pod():
    """ "Pods is used to select pods via namespace AND pod selectors." """
    policy = one(CNP_HEAD.replace(
        "{namespaces: {}}", "{pods: {namespaceSelector: {matchLabels: {team: a}}, "
        "podSelector: {matchLabels: {app: db}}}}"))
    assert policy.namespace_selector == LabelSelector(Labels({"team": "a"}))
    assert policy.pod_selector == LabelSelector(Labels({"app": "db"}))


def test_v1alpha2_namespace_selector_of_pods_is_optional_and_empty_means_all():
    """ "NamespaceSelector follows standard label selector semantics; if empty, it selects
    all Namespaces." (+optional in v1alpha2)"""
    cluster = load(doc(CNP_HEAD.replace("{namespaces: {}}", "{pods: {podSelector: {}}}")))
    assert cluster.policies[0].namespace_selector == LabelSelector()
    assert not cluster.diagnostics


def test_v1alpha1_pods_without_selectors_are_read_as_every_pod_with_a_warning():
    """v1alpha1 requires both selectors of ``pods``; manifests in the wild omit them."""
    cluster = load(doc(ANP_HEAD, """\
        egress:
        - action: Allow
          to: [{pods: {namespaceSelector: {matchLabels: {team: a}}}}]
        """))
    (peer,) = cluster.policies[0].egress[0].peers
    assert peer.pod_selector == LabelSelector()
    (note,) = cluster.diagnostics
    assert note.severity == "warning" and "has no podSelector" in note.message


def test_every_peer_kind():
    policy = one(CNP_HEAD, """\
        egress:
        - action: Deny
          to:
          - namespaces: {matchLabels: {team: a}}
          - pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}
          - nodes: {matchLabels: {role: infra}}
          - networks: [10.0.0.0/8, "fd00::/8"]
        """)
    peers = policy.egress[0].peers
    assert peers[0] == Peer(namespace_selector=LabelSelector(Labels({"team": "a"})),
                            location=peers[0].location)
    assert peers[1].pod_selector == LabelSelector(Labels({"app": "db"}))
    assert peers[1].namespace_selector == LabelSelector()
    assert peers[2].node_selector == LabelSelector(Labels({"role": "infra"}))
    # a networks peer holds several CIDRs: one address peer each
    assert [p.ip_block.cidr for p in peers[3:] if p.ip_block] == ["10.0.0.0/8", "fd00::/8"]
    assert peers[3].ip_block == IPBlock("10.0.0.0/8", (), Location("<stdin>", 14, 18))


def test_v1alpha2_protocols_become_destination_port_matches():
    """ "DestinationNamedPort selects a destination port on a pod based on the ContainerPort
    name" -- ports always match the destination."""
    policy = one(CNP_HEAD, """\
        ingress:
        - action: Accept
          from: [{namespaces: {}}]
          protocols:
          - tcp: {destinationPort: {number: 80}}
          - udp: {destinationPort: {range: {start: 5000, end: 6000}}}
          - sctp: {destinationPort: {number: 9003}}
          - destinationNamedPort: web
        """)
    ports = [(p.protocol, p.port, p.end_port) for p in policy.ingress[0].ports]
    assert ports == [("TCP", 80, None), ("UDP", 5000, 6000), ("SCTP", 9003, None),
                     ("", "web", None)]


def test_v1alpha1_ports_default_to_tcp():
    """ "Protocol is the network protocol (TCP, UDP, or SCTP) which traffic must match. If
    not specified, this field defaults to TCP." """
    policy = one(ANP_HEAD, """\
        ingress:
        - action: Allow
          from: [{namespaces: {}}]
          ports:
          - portNumber: {port: 80}
          - portRange: {protocol: UDP, start: 10, end: 20}
          - namedPort: dns
        """)
    ports = policy.ingress[0].ports
    assert ports[0] == PolicyPort("TCP", 80, None, ports[0].location)
    assert (ports[1].protocol, ports[1].port, ports[1].end_port) == ("UDP", 10, 20)
    assert (ports[2].protocol, ports[2].port) == ("", "dns")


def test_a_policy_without_rules_of_a_direction_does_not_take_part_in_it():
    """ "CNPs with no ingress rules do not affect ingress traffic." """
    assert one(CNP_HEAD).policy_types == ()


# -- fail closed ---------------------------------------------------------------------------


def test_an_unknown_peer_field_makes_a_deny_rule_deny_everything():
    """ "For "Deny" and "Pass" rules, "fail closed" means: "treat the rule as a 'Deny all'
    rule"." """
    cluster = load(doc(CNP_HEAD, """\
        egress:
        - name: newer-api
          action: Pass
          to: [{serviceAccounts: {name: x}}]
          protocols: [{tcp: {destinationPort: {number: 80}}}]
        """))
    (rule,) = cluster.policies[0].egress
    assert (rule.action, rule.peers, rule.ports, rule.name) == ("Deny", (), (), "newer-api")
    (caveat,) = cluster.caveats
    assert caveat.code == "fail-closed" and "denies everything" in caveat.message
    assert caveat.location == Location("<stdin>", 11, 11)


def test_an_unknown_peer_field_makes_an_accept_rule_match_nothing():
    """ "For "Accept" rules, "fail closed" means: "treat the rule as matching no
    traffic"." """
    cluster = load(doc(CNP_HEAD, """\
        egress:
        - action: Accept
          to: [{serviceAccounts: {name: x}}]
        """))
    (rule,) = cluster.policies[0].egress
    assert rule.action == "Allow" and rule.peers[0].unknown == "serviceAccounts"
    assert "matches nothing" in cluster.caveats[0].message


def test_domain_names_cannot_be_resolved_and_say_so():
    cluster = load(doc(CNP_HEAD, """\
        egress:
        - action: Accept
          to: [{domainNames: [example.com, "*.example.org"]}]
        """))
    (peer,) = cluster.policies[0].egress[0].peers
    assert peer.domain_names == ("example.com", "*.example.org")
    (caveat,) = cluster.caveats
    assert caveat.code == "unresolvable" and "cannot be resolved" in caveat.message


def test_domain_names_in_a_deny_rule_say_they_are_accept_only():
    """ "DomainNames is only supported for Accept rules." """
    cluster = load(doc(CNP_HEAD, """\
        egress:
        - action: Deny
          to: [{domainNames: [example.com]}]
        """))
    assert "only in Accept/Allow rules" in cluster.caveats[0].message


def test_named_port_with_an_address_peer_is_a_warning():
    """The experimental CRD refuses it (CEL: "networks/nodes/domainNames peer cannot be set
    with namedPorts"); the standard channel accepts it and it matches nothing there."""
    cluster = load(doc(ANP_HEAD, """\
        egress:
        - action: Allow
          to: [{networks: [10.0.0.0/8]}]
          ports: [{namedPort: dns}]
        """))
    (note,) = cluster.diagnostics
    assert note.severity == "warning" and "never matches" in note.message


def test_a_namespace_on_a_cluster_scoped_policy_is_ignored_with_a_warning():
    cluster = load(CNP_HEAD.replace("metadata: {name: p}", "metadata: {name: p, namespace: x}"))
    assert cluster.policies[0].namespace == ""
    assert "is ignored" in cluster.diagnostics[0].message


# -- refused, at the place -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    (CNP_HEAD.replace("priority: 10", "priority: 1001"),
     "<stdin>:6:13: spec.priority 1001 is out of range 0-1000 (lower numbers are evaluated "
     "first)"),
    (CNP_HEAD.replace("priority: 10", "priority: -1"),
     "<stdin>:6:13: spec.priority -1 is out of range 0-1000 (lower numbers are evaluated "
     "first)"),
    (CNP_HEAD.replace("  priority: 10\n", ""),
     "<stdin>:4:1: a ClusterNetworkPolicy needs spec.priority (a number from 0 (evaluated "
     "first) to 1000)"),
    (CNP_HEAD.replace("  tier: Admin\n", ""),
     "<stdin>:4:1: a ClusterNetworkPolicy needs spec.tier (tier: Admin or Baseline)"),
    (CNP_HEAD.replace("tier: Admin", "tier: admin"),
     '<stdin>:5:9: unknown tier "admin" (did you mean Admin? valid tiers: Admin, Baseline)'),
    (CNP_HEAD.replace("  subject: {namespaces: {}}\n", ""),
     "<stdin>:4:1: ClusterNetworkPolicy p has no spec.subject (write `subject: {namespaces: "
     "{}}` to select every pod)"),
    (CNP_HEAD.replace("{namespaces: {}}", "{}"),
     "<stdin>:7:12: spec.subject needs exactly one of: namespaces, pods"),
    (CNP_HEAD.replace("{namespaces: {}}", "{namespaces: {}, pods: {podSelector: {}}}"),
     "<stdin>:7:29: spec.subject may set only one of namespaces, pods; it sets namespaces and "
     "pods (write two entries, one field each)"),
    (CNP_HEAD.replace("{namespaces: {}}", "{pods: {namespaceSelector: {}}}"),
     "<stdin>:7:19: subject.pods needs a podSelector (write `podSelector: {}` for every pod)"),
    (BANP_HEAD.replace("name: default", "name: other"),
     '<stdin>:3:18: a BaselineAdminNetworkPolicy must be named "default", not "other" (it is '
     "a singleton: there is at most one, named default)"),
    (BANP_HEAD + "  priority: 3\n",
     '<stdin>:6:3: unknown field "priority" in BaselineAdminNetworkPolicy spec (a '
     "BaselineAdminNetworkPolicy has no priority: there is only one, evaluated after "
     "NetworkPolicies)"),
    (ANP_HEAD + "  tier: Admin\n",
     '<stdin>:7:3: unknown field "tier" in AdminNetworkPolicy spec (an AdminNetworkPolicy has '
     "no tier; the tier field is ClusterNetworkPolicy's (policy.networking.k8s.io/v1alpha2))"),
    (CNP_HEAD.replace("metadata: {name: p}", "metadata: {name: p}\nstatus: {}\nextra: 1"),
     '<stdin>:5:1: unknown field "extra" in ClusterNetworkPolicy (valid fields: apiVersion, '
     "kind, metadata, spec, status)"),
])
def test_spec_mistakes(text: str, message: str):
    assert error(text) == message


@pytest.mark.parametrize(("head", "body", "message"), [
    (CNP_HEAD, "egress:\n- action: Allow\n  to: [{namespaces: {}}]\n",
     '<stdin>:9:13: unknown action "Allow" for a ClusterNetworkPolicy rule '
     "(ClusterNetworkPolicy (v1alpha2) renamed Allow to Accept; valid actions: Accept, Deny, "
     "Pass)"),
    (ANP_HEAD, "egress:\n- action: Accept\n  to: [{namespaces: {}}]\n",
     '<stdin>:8:13: unknown action "Accept" for an AdminNetworkPolicy rule (Accept is '
     "ClusterNetworkPolicy's (v1alpha2); AdminNetworkPolicy uses Allow; valid actions: Allow, "
     "Deny, Pass)"),
    (BANP_HEAD, "egress:\n- action: Pass\n  to: [{namespaces: {}}]\n",
     '<stdin>:7:13: unknown action "Pass" for a BaselineAdminNetworkPolicy rule (a '
     "BaselineAdminNetworkPolicy cannot pass: it is the last tier; valid actions: Allow, Deny)"),
    (CNP_HEAD, "egress:\n- action: deny\n  to: [{namespaces: {}}]\n",
     '<stdin>:9:13: unknown action "deny" for a ClusterNetworkPolicy rule (did you mean '
     "Deny? actions are case-sensitive; valid actions: Accept, Deny, Pass)"),
    (CNP_HEAD, "egress:\n- to: [{namespaces: {}}]\n",
     "<stdin>:9:5: a rule needs an action (valid actions: Accept, Deny, Pass)"),
    (CNP_HEAD, "egress:\n- action: Deny\n",
     "<stdin>:9:5: an egress rule needs `to` (`to: [{namespaces: {}}]` matches every pod)"),
    (CNP_HEAD, "egress:\n- action: Deny\n  to: []\n",
     "<stdin>:10:9: to must list at least one entry"),
    (CNP_HEAD, "ingress:\n- action: Deny\n  to: [{namespaces: {}}]\n",
     '<stdin>:10:5: unknown field "to" in ClusterNetworkPolicy ingress rule (ingress rules '
     "use `from`)"),
    (CNP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}}]\n  ports: []\n",
     '<stdin>:11:5: unknown field "ports" in ClusterNetworkPolicy egress rule '
     "(ClusterNetworkPolicy (v1alpha2) writes ports as `protocols`, e.g. `protocols: [{tcp: "
     "{destinationPort: {number: 80}}}]`)"),
    (ANP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}}]\n  protocols: []\n",
     '<stdin>:10:5: unknown field "protocols" in AdminNetworkPolicy egress rule '
     "(AdminNetworkPolicy (v1alpha1) writes ports as `ports`, e.g. `ports: [{portNumber: "
     "{protocol: TCP, port: 80}}]`)"),
    (CNP_HEAD, f"egress:\n- name: {'x' * 101}\n  action: Deny\n  to: [{{namespaces: {{}}}}]\n",
     "<stdin>:9:11: rule name is 101 characters long; at most 100 are allowed"),
    (CNP_HEAD, "ingress:\n- action: Deny\n  from: [{networks: [10.0.0.0/8]}]\n",
     "<stdin>:10:13: networks is an egress peer; ingress peers are namespaces or pods"),
    (BANP_HEAD, "egress:\n- action: Allow\n  to: [{domainNames: [a.com]}]\n",
     "<stdin>:8:11: a BaselineAdminNetworkPolicy has no domainNames peer (domainNames is "
     "AdminNetworkPolicy's and ClusterNetworkPolicy's)"),
    (CNP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}, pods: {podSelector: {}}}]\n",
     "<stdin>:10:27: ClusterNetworkPolicy egress peer may set only one of domainNames, "
     "namespaces, networks, nodes, pods; it sets namespaces and pods (write two entries, one "
     "field each)"),
    (CNP_HEAD, "egress:\n- action: Deny\n  to: [{networks: [10.0.0.0/33]}]\n",
     '<stdin>:10:22: invalid CIDR "10.0.0.0/33": prefix length must be 0 to 32 (a networks '
     "entry is a CIDR such as 10.0.0.0/8 or fd00::/8)"),
    (CNP_HEAD, "egress:\n- action: Accept\n  to: [{domainNames: [-bad.com]}]\n",
     '<stdin>:10:25: invalid domain name "-bad.com" (an exact name (example.com) or a '
     "wildcard prefix (*.example.com))"),
    (CNP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}}]\n"
     "  protocols: [{tcp: {destinationPort: {range: {start: 90, end: 80}}}}]\n",
     "<stdin>:11:66: range end 80 must be greater than start 90 (for a single port write "
     "`number`)"),
    (CNP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}}]\n"
     "  protocols: [{tcp: {destinationPort: {range: {start: 80, end: 80}}}}]\n",
     "<stdin>:11:66: range end 80 must be greater than start 80 (for a single port write "
     "`number`)"),
    (CNP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}}]\n  protocols: [{tcp: {}}]\n",
     "<stdin>:11:23: tcp needs a destinationPort (for every port write `destinationPort: "
     "{range: {start: 1, end: 65535}}`)"),
    (CNP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}}]\n"
     "  protocols: [{TCP: {destinationPort: {number: 80}}}]\n",
     '<stdin>:11:18: unknown field "TCP" in protocols entry (did you mean tcp? protocol '
     "fields are lowercase)"),
    (CNP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}}]\n"
     "  protocols: [{tcp: {destinationPort: {number: 0}}}]\n",
     "<stdin>:11:50: number 0 is out of range 1-65535"),
    (ANP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}}]\n"
     "  ports: [{portRange: {start: 90, end: 80}}]\n",
     "<stdin>:10:42: portRange end 80 is below start 90 (start must be less than end)"),
    (ANP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}}]\n"
     "  ports: [{portNumber: {protocol: tcp, port: 80}}]\n",
     '<stdin>:10:37: unknown protocol "tcp" (did you mean TCP? protocols are case-sensitive)'),
    (ANP_HEAD, "egress:\n- action: Deny\n  to: [{namespaces: {}}]\n"
     "  ports: [{portNumber: {port: 80}, namedPort: web}]\n",
     "<stdin>:10:38: ports entry may set only one of namedPort, portNumber, portRange; it "
     "sets portNumber and namedPort (write two entries, one field each)"),
])
def test_rule_mistakes(head: str, body: str, message: str):
    assert error(head + textwrap.indent(body, "  ")) == message


def test_list_limits_follow_the_api_version():
    """v1alpha2: "A maximum of 25 rules is allowed"; v1alpha1: "A total of 100 rules"."""
    rules = "".join("- action: Deny\n  to: [{namespaces: {}}]\n" for _ in range(26))
    assert error(CNP_HEAD + textwrap.indent("egress:\n" + rules, "  ")).endswith(
        "spec.egress has 26 rules; a ClusterNetworkPolicy allows at most 25")
    assert load(ANP_HEAD + textwrap.indent("egress:\n" + rules, "  ")).policies
    peers = ", ".join(["{namespaces: {}}"] * 26)
    assert error(CNP_HEAD + f"  egress:\n  - action: Deny\n    to: [{peers}]\n").endswith(
        "to has 26 entries; a ClusterNetworkPolicy allows at most 25")
    cidrs = ", ".join(f"10.0.{i}.0/24" for i in range(26))
    assert error(ANP_HEAD + f"  egress:\n  - action: Deny\n    to: [{{networks: [{cidrs}]}}]\n"
                 ).endswith("networks lists 26 CIDRs; at most 25 are allowed")
