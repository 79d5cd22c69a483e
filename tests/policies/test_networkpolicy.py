"""NetworkPolicy: the model it becomes, and every mistake refused at its exact place."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import error, load, policy, policy_error

from reach.errors import ManifestError
from reach.loader import read_cluster
from reach.model import (
    IPBlock,
    Labels,
    LabelSelector,
    Location,
    Peer,
    Policy,
    PolicyPort,
    Requirement,
)

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "seed"


def only_policy(body: str) -> Policy:
    (result,) = load(policy(body)).policies
    return result


# -- the seed scenario --------------------------------------------------------------------


def test_seed_malformed_allow_us_east_is_refused_at_ports():
    with pytest.raises(ManifestError) as info:
        read_cluster(SAMPLES / "cluster.yaml", SAMPLES / "malformed" / "allow-us-east.yaml")
    err = info.value
    assert (Path(err.path or "").name, err.line, err.column) == ("allow-us-east.yaml", 18, 7)
    assert err.message == 'unknown field "ports" in ingress peer'
    assert err.hint == (
        "ports belongs to the rule, beside from/to: indent it at the level of `from`"
    )


def test_seed_malformed_block_one_ip_is_refused_at_except():
    with pytest.raises(ManifestError) as info:
        read_cluster(SAMPLES / "cluster.yaml", SAMPLES / "malformed" / "block-one-ip.yaml")
    err = info.value
    assert (Path(err.path or "").name, err.line, err.column) == ("block-one-ip.yaml", 17, 5)
    assert str(err).endswith(
        ':17:5: unknown field "except" in egress rule '
        "(did you mean ipBlock.except? it must be indented under ipBlock)"
    )


def test_seed_policies_as_written_in_the_notes():
    cluster = read_cluster(SAMPLES / "cluster.yaml", SAMPLES / "policies")
    allow, block = cluster.policies
    assert allow.name == "allow-us-east"
    assert allow.pod_selector == LabelSelector(Labels({"app": "server"}))
    assert allow.policy_types == ("Ingress", "Egress")
    (rule,) = allow.ingress
    assert rule.peers[0].pod_selector == LabelSelector(Labels({"region": "us-east"}))
    assert [(p.protocol, p.port) for p in rule.ports] == [("TCP", 8888)]
    (egress,) = allow.egress
    assert (egress.peers, egress.ports) == ((), ())
    assert block.policy_types == ("Egress",)
    assert block.egress[0].peers[0].ip_block is not None
    assert block.egress[0].peers[0].ip_block.except_ == ("192.168.134.72/32",)


# -- structure and locations ---------------------------------------------------------------


def test_rules_peers_and_ports_keep_their_locations():
    pol = only_policy("""\
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/8
          ports:
          - port: 80
        """)
    (rule,) = pol.ingress
    assert pol.location == Location("<stdin>", 1, 1)
    assert (rule.direction, rule.index) == ("ingress", 0)
    assert rule.location == Location("<stdin>", 7, 5)
    assert rule.peers[0].location == Location("<stdin>", 8, 7)
    assert rule.peers[0].ip_block == IPBlock("10.0.0.0/8", location=Location("<stdin>", 9, 9))
    assert rule.ports == (PolicyPort("TCP", 80, location=Location("<stdin>", 11, 7)),)


def test_rule_index_is_the_position_in_its_list():
    pol = only_policy("""\
        egress:
        - {}
        - to: []
        - ports: [{port: 53, protocol: UDP}]
        """)
    assert [(r.direction, r.index) for r in pol.egress] == [
        ("egress", 0), ("egress", 1), ("egress", 2)]


@pytest.mark.parametrize("peers", ["from:", "from: []", "from: null", "ports: []"])
def test_absent_null_or_empty_from_means_every_peer(peers: str):
    """'If this field is empty or missing, this rule matches all sources.'"""
    (rule,) = only_policy(f"ingress:\n- {peers}\n").ingress
    assert rule.peers == () and rule.ports == ()


def test_a_null_rule_is_an_empty_rule():
    (rule,) = only_policy("ingress:\n-\n").ingress
    assert (rule.peers, rule.ports) == ((), ())


def test_peer_with_both_selectors_keeps_both():
    (rule,) = only_policy("""\
        ingress:
        - from:
          - namespaceSelector: {matchLabels: {team: a}}
            podSelector: {}
        """).ingress
    assert rule.peers[0] == Peer(
        pod_selector=LabelSelector(),
        namespace_selector=LabelSelector(Labels({"team": "a"})),
        location=Location("<stdin>", 8, 7),
    )


def test_match_expressions_become_requirements():
    pol = only_policy("""\
        ingress:
        - from:
          - podSelector:
              matchExpressions:
              - {key: tier, operator: In, values: [web, api]}
              - {key: canary, operator: DoesNotExist}
        """)
    selector = pol.ingress[0].peers[0].pod_selector
    assert selector == LabelSelector(match_expressions=(
        Requirement("tier", "In", ("web", "api")), Requirement("canary", "DoesNotExist")))


def test_ports_default_to_tcp_and_keep_names_and_ranges():
    (rule,) = only_policy("""\
        egress:
        - ports:
          - port: dns
            protocol: UDP
          - {port: 8000, endPort: 8080}
          - protocol: SCTP
        """).egress
    assert [(p.protocol, p.port, p.end_port) for p in rule.ports] == [
        ("UDP", "dns", None), ("TCP", 8000, 8080), ("SCTP", None, None)]


# -- policyTypes defaulting ------------------------------------------------------------------


def test_policy_types_default_to_ingress():
    """'Any policy that does not specify policyTypes implies at least Ingress.'"""
    assert only_policy("ingress: []\n").policy_types == ("Ingress",)


def test_policy_types_default_adds_egress_when_there_are_egress_rules():
    """API server defaulting: Egress is added when len(spec.egress) != 0."""
    assert only_policy("egress:\n- {}\n").policy_types == ("Ingress", "Egress")


@pytest.mark.parametrize("egress", ["egress: []", "egress:", "policyTypes: []\negress: []"])
def test_policy_types_default_ignores_an_empty_egress_list(egress: str):
    assert only_policy(egress + "\n").policy_types == ("Ingress",)


def test_policy_types_are_kept_in_canonical_order_without_repeats():
    pol = only_policy("policyTypes: [Egress, Ingress]\n")
    assert pol.policy_types == ("Ingress", "Egress")
    assert only_policy("policyTypes: [Egress, Egress]\n").policy_types == ("Egress",)


def test_empty_pod_selector_selects_everything():
    assert only_policy("").pod_selector == LabelSelector()


def test_policy_without_spec_is_a_deny_all_ingress_with_a_warning():
    cluster = load("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p}
        """)
    assert cluster.policies[0].policy_types == ("Ingress",)
    assert [str(d) for d in cluster.diagnostics] == [
        "<stdin>:1:1: warning: NetworkPolicy default/p has no spec: it selects every pod of "
        "its namespace and denies all their ingress"]


# -- unknown fields at every depth --------------------------------------------------------------

UNKNOWN_FIELDS = [
    pytest.param(
        "ingress:\n- from:\n  - podSelector: {}\n    ports: []\n",
        '<stdin>:9:7: unknown field "ports" in ingress peer (ports belongs to the rule, '
        "beside from/to: indent it at the level of `from`)",
        id="ports-in-ingress-peer"),
    pytest.param(
        "egress:\n- to:\n  - podSelector: {}\n    ports: []\n",
        '<stdin>:9:7: unknown field "ports" in egress peer (ports belongs to the rule, '
        "beside from/to: indent it at the level of `to`)",
        id="ports-in-egress-peer"),
    pytest.param(
        "egress:\n- to:\n  - ipBlock: {cidr: 0.0.0.0/0}\n  except: [10.0.0.0/8]\n",
        '<stdin>:9:5: unknown field "except" in egress rule (did you mean ipBlock.except? '
        "it must be indented under ipBlock)",
        id="except-in-rule"),
    pytest.param(
        "egress:\n- cidr: 10.0.0.0/8\n",
        '<stdin>:7:5: unknown field "cidr" in egress rule (did you mean ipBlock.cidr? '
        "it must be indented under ipBlock)",
        id="cidr-in-rule"),
    pytest.param(
        "ingress:\n- from:\n  - cidr: 10.0.0.0/8\n",
        '<stdin>:8:7: unknown field "cidr" in ingress peer (did you mean ipBlock.cidr? '
        "it must be indented under ipBlock)",
        id="cidr-in-peer"),
    pytest.param(
        "ingress:\n- to: []\n",
        '<stdin>:7:5: unknown field "to" in ingress rule (ingress rules use `from`; `to` '
        "is for egress rules)",
        id="to-in-ingress-rule"),
    pytest.param(
        "egress:\n- from: []\n",
        '<stdin>:7:5: unknown field "from" in egress rule (egress rules use `to`; `from` '
        "is for ingress rules)",
        id="from-in-egress-rule"),
    pytest.param(
        "ingress:\n- podSelector: {}\n",
        '<stdin>:7:5: unknown field "podSelector" in ingress rule (a peer is a list item '
        "under `from`: write `- from:` then `  - podSelector:`)",
        id="peer-field-in-rule"),
    pytest.param(
        "ingress:\n- port: 80\n",
        '<stdin>:7:5: unknown field "port" in ingress rule (did you mean ports[].port? '
        "it must be in a list item under `ports`)",
        id="port-in-rule"),
    pytest.param(
        "ingress:\n- form: []\n",
        '<stdin>:7:5: unknown field "form" in ingress rule (did you mean from?)',
        id="typo-in-rule"),
    pytest.param(
        "ingress:\n- from:\n  - ipBlock: {cidr: 10.0.0.0/8, exept: [10.1.0.0/16]}\n",
        '<stdin>:8:35: unknown field "exept" in ipBlock (did you mean except?)',
        id="typo-in-ipblock"),
    pytest.param(
        "ingress:\n- ports:\n  - {port: 80, Protocol: TCP}\n",
        '<stdin>:8:18: unknown field "Protocol" in ports entry (did you mean protocol? '
        "field names are case-sensitive)",
        id="case-in-port"),
    pytest.param(
        "ingress:\n- ports:\n  - targetPort: 80\n",
        '<stdin>:8:7: unknown field "targetPort" in ports entry (NetworkPolicy ports use '
        "`port` (and `endPort` for a range))",
        id="targetport-in-port"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      app: web\n",
        '<stdin>:9:9: unknown field "app" in podSelector (label keys go under matchLabels: '
        "`matchLabels: {app: ...}`)",
        id="label-in-selector"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchExpressions:\n"
        "      - {key: a, operator: In, value: [b]}\n",
        '<stdin>:10:34: unknown field "value" in matchExpressions entry (did you mean '
        "values? it takes a list)",
        id="value-in-requirement"),
    pytest.param(
        "ingres: []\n",
        '<stdin>:6:3: unknown field "ingres" in NetworkPolicy spec (did you mean ingress?)',
        id="typo-in-spec"),
    pytest.param(
        "from: []\n",
        '<stdin>:6:3: unknown field "from" in NetworkPolicy spec (from belongs to an ingress '
        "rule: `ingress: [{from: [...], ports: [...]}]`)",
        id="from-in-spec"),
    pytest.param(
        "matchLabels: {a: b}\n",
        '<stdin>:6:3: unknown field "matchLabels" in NetworkPolicy spec (valid fields: egress, '
        "ingress, podSelector, policyTypes)",
        id="no-close-match"),
]


@pytest.mark.parametrize(("body", "message"), UNKNOWN_FIELDS)
def test_unknown_fields_are_refused_with_a_hint(body: str, message: str):
    assert policy_error(body) == message


def test_unknown_field_outside_spec():
    assert error("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p}
        podSelector: {}
        """) == (
        '<stdin>:4:1: unknown field "podSelector" in NetworkPolicy (it belongs under spec: '
        "indent it under `spec:`)")


def test_unknown_field_in_policy_metadata():
    assert error("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: p
          podSelector: {}
        """) == (
        '<stdin>:5:3: unknown field "podSelector" in metadata (podSelector belongs under '
        "spec, not metadata: check its indentation)")


# -- values ------------------------------------------------------------------------------------

VALUE_ERRORS = [
    pytest.param(
        "ingress:\n- from:\n  - ipBlock: {cidr: 10.0.0/8}\n",
        '<stdin>:8:23: invalid CIDR "10.0.0/8": not an IPv4 or IPv6 network '
        "(ipBlock.cidr is a network such as 10.0.0.0/8)",
        id="invalid-cidr"),
    pytest.param(
        "ingress:\n- from:\n  - ipBlock: {cidr: 10.0.0.1}\n",
        '<stdin>:8:23: invalid CIDR "10.0.0.1": expected ADDRESS/PREFIX, e.g. 10.0.0.0/8 '
        "(ipBlock.cidr is a network such as 10.0.0.0/8)",
        id="cidr-without-prefix"),
    pytest.param(
        "ingress:\n- from:\n  - ipBlock: {}\n",
        "<stdin>:8:16: ipBlock needs a cidr (e.g. `cidr: 10.0.0.0/8`)",
        id="ipblock-without-cidr"),
    pytest.param(
        "ingress:\n- from:\n  - ipBlock:\n      cidr: 10.0.0.0/16\n      except: [10.1.0.0/24]\n",
        '<stdin>:10:18: except "10.1.0.0/24" is not inside cidr "10.0.0.0/16" '
        "(each except entry must be a strict subset of the cidr)",
        id="except-outside"),
    pytest.param(
        "ingress:\n- from:\n  - ipBlock:\n      cidr: 10.0.0.0/16\n      except: [10.0.0.0/8]\n",
        '<stdin>:10:18: except "10.0.0.0/8" is not inside cidr "10.0.0.0/16" '
        "(each except entry must be a strict subset of the cidr)",
        id="except-larger"),
    pytest.param(
        "ingress:\n- from:\n  - ipBlock:\n      cidr: 10.0.0.0/16\n      except: [10.0.0.0/16]\n",
        '<stdin>:10:18: except "10.0.0.0/16" is the whole cidr "10.0.0.0/16" (each except '
        "entry must be a strict subset of the cidr; this peer would match nothing)",
        id="except-equal"),
    pytest.param(
        "ingress:\n- from:\n  - ipBlock:\n      cidr: 10.0.0.0/8\n      except: ['fd00::/64']\n",
        '<stdin>:10:18: except "fd00::/64" is IPv6 but cidr "10.0.0.0/8" is IPv4 '
        "(an except must be inside its cidr)",
        id="except-other-family"),
    pytest.param(
        "ingress:\n- from:\n  - ipBlock:\n      cidr: 10.0.0.0/8\n      except: [10.1.0.0/33]\n",
        '<stdin>:10:18: invalid CIDR "10.1.0.0/33": prefix length must be 0 to 32 '
        "(ipBlock.except entries are networks such as 10.1.0.0/16)",
        id="except-invalid"),
    pytest.param(
        "ingress:\n- from:\n  - ipBlock: {cidr: 10.0.0.0/8}\n    podSelector: {}\n",
        "<stdin>:9:7: a peer may not combine ipBlock with podSelector "
        "(write two peers: `- ipBlock: ...` and `- podSelector: ...`)",
        id="ipblock-and-selector"),
    pytest.param(
        "ingress:\n- from:\n  - {}\n",
        "<stdin>:8:7: empty peer: a peer needs podSelector, namespaceSelector or ipBlock "
        "(to allow every peer, leave `from` out or write `from: []`)",
        id="empty-peer"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n",
        "<stdin>:8:7: empty peer: a peer needs podSelector, namespaceSelector or ipBlock "
        "(`podSelector:` with no value is null; write `podSelector: {}` to select every pod)",
        id="null-selector-peer"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchExpressions:\n"
        "      - {key: a, operator: In}\n",
        "<stdin>:10:30: operator In needs at least one value "
        "(add `values: [...]`, or use Exists to match any value)",
        id="in-without-values"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchExpressions:\n"
        "      - {key: a, operator: NotIn, values: []}\n",
        "<stdin>:10:30: operator NotIn needs at least one value "
        "(add `values: [...]`, or use Exists to match any value)",
        id="notin-empty-values"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchExpressions:\n"
        "      - {key: a, operator: Exists, values: [b]}\n",
        "<stdin>:10:38: operator Exists takes no values (remove `values`, or use In / NotIn)",
        id="exists-with-values"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchExpressions:\n"
        "      - {key: a, operator: Equals, values: [b]}\n",
        '<stdin>:10:30: unknown operator "Equals" in matchExpressions '
        "(valid operators: DoesNotExist, Exists, In, NotIn)",
        id="unknown-operator"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchExpressions:\n"
        "      - {key: a, operator: notin, values: [b]}\n",
        '<stdin>:10:30: unknown operator "notin" in matchExpressions '
        "(did you mean NotIn? valid operators: DoesNotExist, Exists, In, NotIn)",
        id="operator-case"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchExpressions:\n"
        "      - {key: a, values: [b]}\n",
        "<stdin>:10:11: a matchExpressions entry needs an operator "
        "(valid operators: DoesNotExist, Exists, In, NotIn)",
        id="missing-operator"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchLabels: {'app name': web}\n",
        '<stdin>:9:23: invalid label key "app name" in podSelector.matchLabels: name part '
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
        "with an alphanumeric character",
        id="bad-label-key"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchLabels: {app: -web}\n",
        '<stdin>:9:28: invalid value "-web" for label "app" in podSelector.matchLabels: '
        "a label value must consist of alphanumeric characters, '-', '_' or '.', and must "
        "start and end with an alphanumeric character",
        id="bad-label-value"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchLabels: {version: 1.10}\n",
        '<stdin>:9:32: label "version" in podSelector.matchLabels must have a string value, '
        'not a float (quote it: version: "1.10")',
        id="float-label-value"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchExpressions:\n"
        "      - {key: 'a/b/c', operator: Exists}\n",
        '<stdin>:10:17: invalid label key "a/b/c" in matchExpressions: '
        "a label key may contain at most one '/'",
        id="bad-requirement-key"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector:\n      matchExpressions:\n"
        "      - {key: a, operator: In, values: [yes]}\n",
        "<stdin>:10:43: a matchExpressions value must be a string, not a boolean "
        '(quote it: "yes")',
        id="bool-requirement-value"),
    pytest.param(
        "ingress:\n- ports:\n  - port: 70000\n",
        "<stdin>:8:13: port 70000 is out of range 1-65535",
        id="port-too-high"),
    pytest.param(
        "ingress:\n- ports:\n  - port: 0\n",
        "<stdin>:8:13: port 0 is out of range 1-65535",
        id="port-zero"),
    pytest.param(
        "ingress:\n- ports:\n  - {port: 80, endPort: 70000}\n",
        "<stdin>:8:27: endPort 70000 is out of range 1-65535",
        id="endport-too-high"),
    pytest.param(
        "ingress:\n- ports:\n  - port: HTTP\n",
        '<stdin>:8:13: invalid port name "HTTP": must contain only lowercase alphanumeric '
        "characters (a-z, 0-9) or '-' (a port name is 1-15 lowercase letters, digits and '-', "
        "with at least one letter)",
        id="port-name-uppercase"),
    pytest.param(
        "ingress:\n- ports:\n  - port: '8080'\n",
        '<stdin>:8:13: invalid port name "8080": must contain at least one letter '
        "(write the number without quotes)",
        id="port-quoted-number"),
    pytest.param(
        "ingress:\n- ports:\n  - port: a-very-long-port-name\n",
        '<stdin>:8:13: invalid port name "a-very-long-port-name": must be no more than 15 '
        "characters (a port name is 1-15 lowercase letters, digits and '-', with at least one "
        "letter)",
        id="port-name-too-long"),
    pytest.param(
        "ingress:\n- ports:\n  - {port: http, endPort: 90}\n",
        '<stdin>:8:20: endPort may not be used with a named port ("http") '
        "(endPort needs a numeric port)",
        id="endport-with-named-port"),
    pytest.param(
        "ingress:\n- ports:\n  - {endPort: 90}\n",
        "<stdin>:8:8: endPort 90 needs a port (write `port: <first>` with `endPort: <last>`)",
        id="endport-without-port"),
    pytest.param(
        "ingress:\n- ports:\n  - {port: 8080, endPort: 80}\n",
        "<stdin>:8:29: endPort 80 is below port 8080 "
        "(endPort is the last port of the range and must be >= port)",
        id="endport-below-port"),
    pytest.param(
        "ingress:\n- ports:\n  - {port: 80, protocol: tcp}\n",
        '<stdin>:8:28: unknown protocol "tcp" (did you mean TCP? protocols are case-sensitive)',
        id="protocol-lowercase"),
    pytest.param(
        "ingress:\n- ports:\n  - {port: 80, protocol: HTTP}\n",
        '<stdin>:8:28: unknown protocol "HTTP" (use TCP, UDP or SCTP)',
        id="protocol-unknown"),
    pytest.param(
        "policyTypes: [ingress]\n",
        '<stdin>:6:17: unknown policy type "ingress" (did you mean Ingress? valid: Ingress, '
        "Egress)",
        id="policy-type-case"),
    pytest.param(
        "policyTypes: [Ingress, Egress, Ingress]\n",
        "<stdin>:6:16: policyTypes may not list more than two types (use Ingress, Egress or "
        "both)",
        id="policy-types-too-many"),
    pytest.param(
        "policyTypes: Ingress\n",
        "<stdin>:6:16: policyTypes must be a list, not a string (start each entry with `- `)",
        id="policy-types-not-a-list"),
    pytest.param(
        "ingress:\n  from: []\n",
        "<stdin>:7:5: spec.ingress must be a list, not a mapping (start each entry with `- `)",
        id="rules-not-a-list"),
    pytest.param(
        "ingress:\n- from:\n    podSelector: {}\n",
        "<stdin>:8:7: from must be a list, not a mapping (start each entry with `- `)",
        id="peers-not-a-list"),
    pytest.param(
        "ingress:\n- ports:\n  - port: [80]\n",
        "<stdin>:8:13: port must be an integer or a name, not a list",
        id="port-wrong-type"),
    pytest.param(
        "ingress:\n- from:\n  - podSelector: []\n",
        "<stdin>:8:20: podSelector must be a mapping, not a list "
        "(remove the `- ` in front of its fields)",
        id="selector-wrong-type"),
]


@pytest.mark.parametrize(("body", "message"), VALUE_ERRORS)
def test_invalid_values_are_refused_where_they_are(body: str, message: str):
    assert policy_error(body) == message


def test_host_bits_in_a_cidr_are_accepted_here():
    """The API server accepts 10.0.0.1/8; a lint warns about it later."""
    block = only_policy("ingress:\n- from:\n  - ipBlock: {cidr: 10.0.0.1/8}\n")
    assert block.ingress[0].peers[0].ip_block == IPBlock(
        "10.0.0.1/8", location=Location("<stdin>", 8, 16))


def test_ipv6_blocks_are_read():
    pol = only_policy("egress:\n- to:\n  - ipBlock: {cidr: 'fd00::/8', except: ['fd00::/16']}\n")
    assert pol.egress[0].peers[0].ip_block is not None
    assert pol.egress[0].peers[0].ip_block.except_ == ("fd00::/16",)


def test_policy_needs_a_name():
    assert error("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {namespace: a}
        spec: {podSelector: {}}
        """) == (
        "<stdin>:3:11: NetworkPolicy has no metadata.name (every object needs metadata.name)")


def test_policy_without_pod_selector_selects_everything_with_a_warning():
    cluster = load("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p}
        spec: {policyTypes: [Egress]}
        """)
    assert cluster.policies[0].pod_selector == LabelSelector()
    assert [d.severity for d in cluster.diagnostics] == ["warning"]


def test_calico_network_policy_is_another_kind_and_never_ignored_in_silence():
    """Calico's NetworkPolicy has Kubernetes' kind name in another API group: it is read by
    the Calico dialect (kind CalicoNetworkPolicy), never as a Kubernetes one; what reach does
    not analyse of Calico (profiles, endpoints) is a caveat."""
    cluster = load("""\
        apiVersion: projectcalico.org/v3
        kind: NetworkPolicy
        metadata: {name: p, namespace: shop}
        spec: {selector: all()}
        ---
        apiVersion: projectcalico.org/v3
        kind: HostEndpoint
        metadata: {name: node1-eth0}
        spec: {node: node1, interfaceName: eth0}
        """)
    assert [(p.kind, p.ref, str(p.pod_selector)) for p in cluster.policies] == [
        ("CalicoNetworkPolicy", "shop/p", "all()")]
    assert [d.code for d in cluster.caveats] == ["not-analysed"]
    assert "HostEndpoint" in cluster.caveats[0].message


def test_a_networkpolicy_of_an_unknown_api_version_is_a_caveat():
    cluster = load("""\
        apiVersion: networking.k8s.io/v2
        kind: NetworkPolicy
        metadata: {name: p}
        spec: {podSelector: {}}
        """)
    assert cluster.policies == ()
    (caveat,) = cluster.caveats
    assert caveat.message == (
        'NetworkPolicy "p" is not analysed (reach reads NetworkPolicy at extensions/v1beta1 or '
        "networking.k8s.io/v1, not networking.k8s.io/v2); verdicts ignore it")
