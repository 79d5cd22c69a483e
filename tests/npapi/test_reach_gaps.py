"""Where reach answers otherwise than a cluster running the conformance suite would.

Each test is the smallest dump that shows one gap found by running the admin policy
API's conformance suite against reach (``test_npapi_conformance.py``), with the
probe the cluster decides; all of them are closed now (a new gap is written here as
``xfail(strict=True)`` until it is fixed).
Beside each, a guard probe that reach gets right today, so that the expected failure
is the gap and not a broken fixture. None of them needs the upstream suite.
"""

from __future__ import annotations

import textwrap

import reach


def load(text: str) -> reach.Network:
    return reach.load("-", stdin_text=textwrap.dedent(text))


def pod(namespace: str, name: str, *ips: str, labels: str = "{}", extra: str = "") -> str:
    """A running pod as ``kubectl get -o yaml`` shows it (``extra``: more spec fields)."""
    pod_ips = ", ".join(f"{{ip: {ip}}}" for ip in ips)
    return f"""
    ---
    apiVersion: v1
    kind: Pod
    metadata: {{name: {name}, namespace: {namespace}, labels: {labels}}}
    spec: {{containers: [{{name: c, image: agnhost}}]{extra}}}
    status: {{phase: Running, podIP: {ips[0]}, podIPs: [{pod_ips}]}}
    """


# -- a dump without Namespace objects ------------------------------------------

HOUSES = pod("slytherin", "draco", "10.244.1.5") + pod("gryffindor", "harry", "10.244.2.5") + """
    ---
    apiVersion: policy.networking.k8s.io/v1alpha2
    kind: ClusterNetworkPolicy
    metadata: {name: priority-50-example}
    spec:
      tier: Admin
      priority: 50
      subject: {namespaces: {matchLabels: {conformance-house: gryffindor}}}
      ingress:
      - name: deny-all-ingress-from-slytherin
        action: Deny
        from: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]
    """


def test_namespace_labels_missing_from_the_dump_are_a_caveat() -> None:
    """On the cluster the Admin Deny blocks draco -> harry (CNPAdminTierPriorityField 1.1).
    Without the Namespace objects reach cannot see ``conformance-house``; it may not
    know the answer, but it must not give the opposite one silently."""
    verdict = load(HOUSES).can("slytherin/draco", "10.244.2.5", port=80)
    assert not verdict.allowed or verdict.caveats, str(verdict)


def test_with_the_namespaces_the_same_probe_is_blocked() -> None:
    namespaces = """
    ---
    apiVersion: v1
    kind: Namespace
    metadata: {name: slytherin, labels: {conformance-house: slytherin}}
    ---
    apiVersion: v1
    kind: Namespace
    metadata: {name: gryffindor, labels: {conformance-house: gryffindor}}
    """
    verdict = load(HOUSES + namespaces).can("slytherin/draco", "10.244.2.5", port=80)
    assert not verdict.allowed


# -- a dump without Node objects -------------------------------------------------

NODE_PEERS = pod("gryffindor", "harry", "10.244.2.5") + pod(
    "forest", "centaur", "172.18.0.4",
    extra=", hostNetwork: true, nodeName: kind-worker2") + """
    ---
    apiVersion: policy.networking.k8s.io/v1alpha2
    kind: ClusterNetworkPolicy
    metadata: {name: default}
    spec:
      tier: Baseline
      priority: 10
      subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: gryffindor}}}
      egress:
      - name: allow-egress-to-34345-on-nodes
        action: Accept
        to: [{nodes: {matchLabels: {kubernetes.io/os: linux}}}]
        protocols: [{tcp: {destinationPort: {range: {start: 34345, end: 34346}}}}]
      - name: deny-egress-to-nodes-and-internet
        action: Deny
        to: [{nodes: {matchLabels: {kubernetes.io/os: linux}}}, {networks: [0.0.0.0/0, "::/0"]}]
    """

NODE = """
    ---
    apiVersion: v1
    kind: Node
    metadata: {name: kind-worker2, labels: {kubernetes.io/os: linux}}
    status: {addresses: [{type: InternalIP, address: 172.18.0.4}, {type: Hostname, address: x}]}
    """


def test_a_nodes_peer_without_nodes_in_the_dump_is_a_caveat() -> None:
    """On the cluster the Baseline Accept to the nodes lets harry reach the host-network
    centaur on TCP 34345 (CNPBaselineTierEgressNodePeers 1.1). The Go type says
    ``nodes`` "selects the nodeIPs as the peer type by matching on the IPs present in
    the node.Status.Addresses field of the node": without Nodes, reach cannot know them."""
    verdict = load(NODE_PEERS).can("gryffindor/harry", "172.18.0.4", port=34345)
    assert verdict.allowed or verdict.caveats, str(verdict)


def test_with_the_node_the_same_probe_connects() -> None:
    verdict = load(NODE_PEERS + NODE).can("gryffindor/harry", "172.18.0.4", port=34345)
    assert verdict.allowed


# -- dual stack: a CIDR names one address of the pod -----------------------------

DUAL = pod("gryffindor", "harry", "10.244.1.5", "fd00:10:244:1::5") + pod(
    "ravenclaw", "luna", "10.244.2.5", "fd00:10:244:2::5") + """
    ---
    apiVersion: policy.networking.k8s.io/v1alpha2
    kind: ClusterNetworkPolicy
    metadata: {name: inline-cidr-as-peers-example}
    spec:
      tier: Admin
      priority: 85
      subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: gryffindor}}}
      egress:
      - name: allow-egress-to-specific-podIPs
        action: Accept
        to: [{networks: [10.244.2.5/32]}]
      - name: deny-egress-to-internet
        action: Deny
        to: [{networks: [0.0.0.0/0, "::/0"]}]
    """


def test_a_cidr_of_a_pods_ipv4_address_does_not_accept_its_ipv6_address() -> None:
    """The suite inserts ``status.podIP`` + /32 (CNPAdminTierEgressInlineCIDRPeers 2.1)
    and pokes that address; a connection to the pod's IPv6 address is not in the /32
    and ``::/0`` denies it. The Go type: "cluster-internal traffic will be checked
    against the rule as well. So if you Accept or Deny traffic to "0.0.0.0/0", that
    will allow or deny all IPv4 pod-to-pod traffic as well" and ""::/0" will match both
    IPv6 and ICMPv6 traffic"."""
    verdict = load(DUAL).can("gryffindor/harry", "fd00:10:244:2::5", port=80)
    assert not verdict.allowed, str(verdict)


def test_the_ipv4_address_the_cidr_names_is_accepted() -> None:
    assert load(DUAL).can("gryffindor/harry", "10.244.2.5", port=80).allowed


# -- a workload dumped with its pods ---------------------------------------------

STATEFUL = pod("gryffindor", "harry", "10.244.1.5") + """
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: luna-lovegood, namespace: ravenclaw}
    spec:
      replicas: 1
      selector: {matchLabels: {conformance-house: ravenclaw}}
      template:
        metadata: {labels: {conformance-house: ravenclaw}}
        spec: {containers: [{name: c, image: agnhost}]}
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: luna-lovegood-0
      namespace: ravenclaw
      labels: {conformance-house: ravenclaw}
      ownerReferences:
      - {apiVersion: apps/v1, kind: StatefulSet, name: luna-lovegood, uid: 1, controller: true}
    spec: {containers: [{name: c, image: agnhost}]}
    status: {phase: Running, podIP: 10.244.2.5, podIPs: [{ip: 10.244.2.5}]}
    ---
    apiVersion: policy.networking.k8s.io/v1alpha2
    kind: ClusterNetworkPolicy
    metadata: {name: inline-cidr-as-peers-example}
    spec:
      tier: Admin
      priority: 85
      subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: gryffindor}}}
      egress:
      - name: deny-egress-to-internet
        action: Deny
        to: [{networks: [0.0.0.0/0, "::/0"]}]
    """


def test_a_workload_whose_pods_are_dumped_is_only_its_pods() -> None:
    """Every pod of the StatefulSet is denied (CNPAdminTierEgressInlineCIDRPeers 1.1,
    asked of the workload): the only pod is luna-lovegood-0, and 0.0.0.0/0 holds its IP."""
    net = load(STATEFUL)
    verdict = net.can("gryffindor/harry", "ravenclaw/StatefulSet/luna-lovegood", port=80)
    assert not verdict.allowed, str(verdict)
    assert sorted(p.ref for p in net.pods) == ["gryffindor/harry", "ravenclaw/luna-lovegood-0"]


def test_its_pod_asked_by_name_is_denied() -> None:
    assert not load(STATEFUL).can("gryffindor/harry", "ravenclaw/luna-lovegood-0", port=80)
