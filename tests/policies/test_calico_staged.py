"""Calico's staged policies: read apart from the policies, enforced only by ``with_staged``.

Calico's reference: a staged policy's rules "are used to preview network behavior and
do not enforce network traffic"; a StagedKubernetesNetworkPolicy, "once persisted, ...
will create a Kubernetes network policy backed by a Calico network policy". Its
``stagedAction`` is ``Set`` (the default: the policy of that name becomes this one) or
``Delete`` (that policy goes), and Calico's validator (libcalico-go
``validateStagedNetworkPolicy``) refuses a Delete whose spec sets more: "Spec fields,
except Tier, should all be zero-value if stagedAction is Delete".
"""

from __future__ import annotations

import textwrap

import pytest

import reach
from reach.engine.ports import PortSet
from reach.errors import ManifestError
from reach.loader import read_cluster
from reach.model import Cluster, Policy
from reach.model.cluster import StagedPolicy
from reach.network import Network

V3 = "projectcalico.org/v3"
V1 = "crd.projectcalico.org/v1"

PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: web}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, image: db}]}
status: {podIP: 10.0.0.2}
"""

# What each staged kind stages, with a spec of that kind selecting the db pod and
# allowing TCP 5432 into it.
SPECS = {
    "StagedNetworkPolicy": """\
metadata: {name: db, namespace: shop}
spec:
  selector: app == 'db'
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [5432]}}
""",
    "StagedGlobalNetworkPolicy": """\
metadata: {name: db}
spec:
  selector: app == 'db'
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [5432]}}
""",
    "StagedKubernetesNetworkPolicy": """\
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - ports: [{port: 5432}]
""",
}
STAGES = {"StagedNetworkPolicy": ("CalicoNetworkPolicy", "shop/db"),
          "StagedGlobalNetworkPolicy": ("GlobalNetworkPolicy", "gnp/db"),
          "StagedKubernetesNetworkPolicy": ("NetworkPolicy", "shop/db")}


def read(*docs: str) -> Cluster:
    return read_cluster("-", stdin_text="---\n".join(textwrap.dedent(d) for d in docs))


def staged(kind: str, version: str = V3, action: str | None = None) -> str:
    text = f"apiVersion: {version}\nkind: {kind}\n" + SPECS[kind]
    if action is not None:
        text = text.replace("spec:\n", f"spec:\n  stagedAction: {action}\n", 1)
    return text


def allowed(cluster: Cluster, src: str, dst: str) -> PortSet:
    return Network(cluster).can(src, dst).ports


TCP_5432 = PortSet.single("TCP", 5432)


# ---------------------------------------------------------------------------
# reading


@pytest.mark.parametrize("version", [V3, V1])
@pytest.mark.parametrize("kind", sorted(SPECS))
def test_each_staged_kind_is_read_apart_from_the_policies(kind: str, version: str) -> None:
    cluster = read(PODS, staged(kind, version))
    assert cluster.policies == ()
    [item] = cluster.staged
    assert (item.kind, item.action) == (kind, "Set")
    assert (item.policy.kind, item.policy.ref) == STAGES[kind]
    assert item.policy.location.line == 13
    # "do not enforce network traffic": the cluster as read is unchanged
    assert allowed(cluster, "shop/web", "shop/db") == PortSet.all()
    assert allowed(reach.with_staged(cluster), "shop/web", "shop/db") == TCP_5432


def test_one_warning_counts_the_staged_policies_and_is_no_caveat() -> None:
    cluster = read(PODS, staged("StagedNetworkPolicy"),
                   staged("StagedGlobalNetworkPolicy", V1, "Delete").replace(
                       "  selector: app == 'db'\n  ingress:\n"
                       "  - {action: Allow, protocol: TCP, destination: {ports: [5432]}}\n",
                       ""))
    [note] = [d for d in cluster.diagnostics if d.code == "staged"]
    assert note.severity == "warning" and not note.caveat
    assert note.message == ("2 staged policies are not enforced; `reach diff --with-staged` "
                            "shows what staging them would change")
    assert cluster.caveats == ()


def test_a_staged_policy_is_validated_like_the_kind_it_stages() -> None:
    bad = staged("StagedNetworkPolicy").replace("selector: app == 'db'",
                                                "selector: app == 'db'\n  podSelector: {}")
    with pytest.raises(ManifestError, match=r'<stdin>:\d+:3: unknown field "podSelector" in '
                       "Calico StagedNetworkPolicy spec"):
        read(PODS, bad)
    bad = staged("StagedKubernetesNetworkPolicy").replace("- ports:", "- port:")
    with pytest.raises(ManifestError, match=r'<stdin>:\d+:5: unknown field "port" in '
                       "ingress rule"):
        read(PODS, bad)
    bad = staged("StagedGlobalNetworkPolicy").replace("app == 'db'", "app = 'db'")
    with pytest.raises(ManifestError, match=r"<stdin>:\d+:\d+: invalid selector"):
        read(PODS, bad)


def test_staged_action_is_set_or_delete_case_sensitively() -> None:
    with pytest.raises(ManifestError, match=r'<stdin>:17:17: unknown stagedAction "delete" '
                       r"\(did you mean Delete\?"):
        read(PODS, staged("StagedNetworkPolicy", action="delete"))
    assert read(PODS, staged("StagedNetworkPolicy", action="Set")).staged[0].action == "Set"


def test_a_delete_may_set_nothing_but_its_tier() -> None:
    """ "Spec fields, except Tier, should all be zero-value if stagedAction is Delete"."""
    with pytest.raises(ManifestError, match=r"<stdin>:18:3: StagedNetworkPolicy db sets "
                       r"spec.selector, but its stagedAction is Delete"):
        read(PODS, staged("StagedNetworkPolicy", action="Delete"))
    cluster = read(PODS, f"""\
        apiVersion: {V3}
        kind: StagedNetworkPolicy
        metadata: {{name: security.db, namespace: shop}}
        spec: {{stagedAction: Delete, tier: security, selector: "", ingress: []}}
        """)
    [item] = cluster.staged
    assert item.action == "Delete" and item.policy.tier.name == "security"
    assert item.policy.policy_types == () and item.notes == ()


def test_two_staged_policies_of_one_name_are_refused() -> None:
    with pytest.raises(ManifestError, match='duplicate StagedNetworkPolicy "shop/db"'):
        read(PODS, staged("StagedNetworkPolicy"), staged("StagedNetworkPolicy", V1))


def test_a_staged_policy_and_the_policy_it_stages_share_their_name() -> None:
    cluster = read(PODS, staged("StagedKubernetesNetworkPolicy"), """\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: db, namespace: shop}
        spec: {podSelector: {}}
        """)
    assert [p.ref for p in cluster.policies] == ["shop/db"] and len(cluster.staged) == 1


def test_the_warnings_of_a_staged_policy_wait_until_it_is_enforced() -> None:
    http = staged("StagedNetworkPolicy").replace(
        "  - {action: Allow,", "  - {action: Deny, http: {methods: [GET]}}\n  - {action: Allow,")
    cluster = read(PODS, http)
    assert cluster.caveats == ()
    [note] = cluster.staged[0].notes
    assert note.code == "unresolvable"
    assert reach.with_staged(cluster).caveats == (note,)


# ---------------------------------------------------------------------------
# with_staged


ENFORCED = f"""\
apiVersion: {V3}
kind: NetworkPolicy
metadata: {{name: db, namespace: shop}}
spec:
  selector: app == 'db'
  ingress:
  - {{action: Allow, protocol: TCP, destination: {{ports: [80]}}}}
"""


def test_set_replaces_the_policy_of_the_same_name() -> None:
    cluster = read(PODS, ENFORCED, staged("StagedNetworkPolicy"))
    assert allowed(cluster, "shop/web", "shop/db") == PortSet.single("TCP", 80)
    enforced = reach.with_staged(cluster)
    [policy] = enforced.policies
    assert policy == cluster.staged[0].policy and policy.location.line == 21
    assert allowed(enforced, "shop/web", "shop/db") == TCP_5432
    assert enforced.staged == () and not [d for d in enforced.diagnostics if d.code == "staged"]


def test_set_adds_a_policy_when_none_has_its_name() -> None:
    other = ENFORCED.replace("name: db,", "name: web-80,")
    cluster = read(PODS, other, staged("StagedNetworkPolicy"))
    enforced = reach.with_staged(cluster)
    assert [p.name for p in enforced.policies] == ["db", "web-80"]
    # Calico's policies allow the union of what they allow (both in the default tier)
    assert allowed(enforced, "shop/web", "shop/db") == PortSet.single("TCP", 80) | TCP_5432


def test_delete_removes_the_policy_of_the_same_name() -> None:
    gnp = ENFORCED.replace("kind: NetworkPolicy", "kind: GlobalNetworkPolicy").replace(
        "{name: db, namespace: shop}", "{name: db}")
    cluster = read(PODS, gnp, f"""\
        apiVersion: {V1}
        kind: StagedGlobalNetworkPolicy
        metadata: {{name: db}}
        spec: {{stagedAction: Delete}}
        """)
    assert allowed(cluster, "shop/web", "shop/db") == PortSet.single("TCP", 80)
    enforced = reach.with_staged(cluster)
    assert enforced.policies == ()
    assert allowed(enforced, "shop/web", "shop/db") == PortSet.all()


def test_staged_kubernetes_network_policy_stages_a_kubernetes_network_policy() -> None:
    k8s = """\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: db, namespace: shop}
        spec: {podSelector: {matchLabels: {app: db}}}
        """
    calico = ENFORCED  # a Calico NetworkPolicy of the same name is another policy
    cluster = read(PODS, k8s, calico, staged("StagedKubernetesNetworkPolicy"))
    enforced = reach.with_staged(cluster)
    assert sorted((p.kind, p.ref, p.location.line) for p in enforced.policies) == [
        ("CalicoNetworkPolicy", "shop/db", 18), ("NetworkPolicy", "shop/db", 26)]
    assert allowed(enforced, "shop/web", "shop/db") == PortSet.single("TCP", 80) | TCP_5432
    deleted = read(PODS, k8s, f"""\
        apiVersion: {V3}
        kind: StagedKubernetesNetworkPolicy
        metadata: {{name: db, namespace: shop}}
        spec: {{stagedAction: Delete}}
        """)
    assert reach.with_staged(deleted).policies == ()
    assert allowed(deleted, "shop/web", "shop/db") == PortSet.none()


def test_calico_names_a_policy_by_its_tier_with_or_without_the_prefix() -> None:
    """Calico stores a policy of tier T as T.NAME (libcalico-go ``TieredPolicyName``)."""
    tier = f"apiVersion: {V3}\nkind: Tier\nmetadata: {{name: security}}\nspec: {{order: 10}}\n"
    prefixed = ENFORCED.replace("name: db,", "name: security.db,").replace(
        "spec:\n", "spec:\n  tier: security\n", 1)
    same = staged("StagedNetworkPolicy").replace("spec:\n", "spec:\n  tier: security\n", 1)
    cluster = reach.with_staged(read(PODS, tier, prefixed, same))
    assert [(p.name, p.tier.name, p.tier.order) for p in cluster.policies] == [
        ("db", "security", 10)]
    # the same name in the default tier is another policy
    other = reach.with_staged(read(PODS, tier, prefixed, staged("StagedNetworkPolicy")))
    assert sorted(p.name for p in other.policies) == ["db", "security.db"]


def test_delete_of_a_policy_the_input_does_not_hold_is_a_warning() -> None:
    cluster = read(PODS, """\
        apiVersion: projectcalico.org/v3
        kind: StagedNetworkPolicy
        metadata: {name: nothing, namespace: shop}
        spec: {stagedAction: Delete}
        """)
    [note] = [d for d in reach.with_staged(cluster).diagnostics]
    assert note.severity == "warning" and not note.caveat and note.location is not None
    assert str(note.location) == "<stdin>:13:1"
    assert note.message == ("StagedNetworkPolicy shop/nothing (Delete) deletes "
                            "CalicoNetworkPolicy shop/nothing, which the input does not "
                            "hold: nothing to delete")


def test_with_staged_is_pure_and_leaves_a_cluster_without_staged_policies_alone() -> None:
    cluster = read(PODS, ENFORCED, staged("StagedNetworkPolicy"))
    before = (cluster.policies, cluster.staged, cluster.diagnostics)
    enforced = reach.with_staged(cluster)
    assert (cluster.policies, cluster.staged, cluster.diagnostics) == before
    assert reach.with_staged(enforced) is enforced
    plain = read(PODS, ENFORCED)
    assert reach.with_staged(plain) is plain


def test_a_staged_policy_of_a_namespace_no_object_uses_brings_the_namespace() -> None:
    policy = Policy("lab", "deny")
    cluster = reach.with_staged(Cluster(staged=(StagedPolicy(
        policy, "Set", "StagedKubernetesNetworkPolicy"),)))
    assert [(ns.name, ns.implicit) for ns in cluster.namespaces] == [("lab", True)]
