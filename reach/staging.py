"""What-if for Calico's staged policies: the cluster as if every one were enforced.

Calico's ``StagedNetworkPolicy``, ``StagedGlobalNetworkPolicy`` and
``StagedKubernetesNetworkPolicy`` preview a change the cluster does not enforce; the
loader reads them into :attr:`reach.model.Cluster.staged`, apart from the policies.
:func:`with_staged` is the cluster once they are enforced, so the usual questions
(and ``reach diff --with-staged``) can be asked of it.

Examples
--------
>>> from reach.loader import read_cluster
>>> cluster = read_cluster("-", stdin_text='''
... apiVersion: networking.k8s.io/v1
... kind: NetworkPolicy
... metadata: {name: web, namespace: shop}
... spec: {podSelector: {}}
... ---
... apiVersion: projectcalico.org/v3
... kind: StagedKubernetesNetworkPolicy
... metadata: {name: web, namespace: shop}
... spec: {stagedAction: Delete}
... ''')
>>> [p.ref for p in cluster.policies], [p.ref for p in with_staged(cluster).policies]
(['shop/web'], [])
"""

from __future__ import annotations

from dataclasses import replace

from reach.model import NAMESPACE_NAME_LABEL, Cluster, Diagnostic, Labels, Namespace, Policy
from reach.policies.calico import STAGED_CODE, staged_target

__all__ = ["with_staged"]


def with_staged(cluster: Cluster) -> Cluster:
    """The cluster as if every staged policy were enforced.

    A staged policy whose ``stagedAction`` is ``Set`` replaces the policy it stages
    (the Calico policy of that name in that tier and namespace, or the Kubernetes
    NetworkPolicy of that name in that namespace), or is added when there is none; a
    ``Delete`` removes that policy. The result has no staged policies left; it
    carries the warnings that reading each staged policy gave (they hold now that it
    is enforced) instead of the loader's warning that staged policies are not
    enforced, and a warning for each ``Delete`` of a policy the input does not hold.

    Parameters
    ----------
    cluster
        A cluster as :func:`reach.loader.read_cluster` reads it.

    Returns
    -------
    Cluster
        ``cluster`` itself when it has nothing staged.

    Examples
    --------
    >>> from reach.model import Policy
    >>> from reach.model.cluster import StagedPolicy
    >>> old, new = Policy("shop", "web"), Policy("shop", "web", policy_types=("Egress",))
    >>> knp = "StagedKubernetesNetworkPolicy"
    >>> staged = with_staged(Cluster(policies=(old,), staged=(StagedPolicy(new, "Set", knp),)))
    >>> staged.policies == (new,), staged.staged
    (True, ())
    >>> gone = with_staged(Cluster(staged=(StagedPolicy(old, "Delete", knp),)))
    >>> print(gone.diagnostics[0].message)  # doctest: +NORMALIZE_WHITESPACE
    StagedKubernetesNetworkPolicy shop/web (Delete) deletes NetworkPolicy shop/web, which
    the input does not hold: nothing to delete
    """
    if not cluster.staged:
        return cluster
    notes = [d for d in cluster.diagnostics if d.code != STAGED_CODE]
    by_target: dict[tuple[str, str, str, str], list[Policy]] = {}
    for policy in cluster.policies:
        by_target.setdefault(staged_target(policy), []).append(policy)
    for staged in cluster.staged:
        target = staged_target(staged.policy)
        if staged.action == "Set":
            by_target[target] = [staged.policy]
        elif by_target.pop(target, None) is None:
            notes.append(Diagnostic(
                "warning", f"{staged} deletes {staged.policy.kind} {staged.policy.ref}, which "
                "the input does not hold: nothing to delete", staged.policy.location,
                code="staged-delete"))
        notes.extend(staged.notes)
    policies = sorted((p for group in by_target.values() for p in group),
                      key=lambda p: (p.namespace, p.kind, p.name))
    return replace(cluster, policies=tuple(policies), staged=(), diagnostics=tuple(notes),
                   namespaces=_namespaces(cluster, policies))


def _namespaces(cluster: Cluster, policies: list[Policy]) -> tuple[Namespace, ...]:
    """The cluster's namespaces, with the namespaces of staged policies that no object
    of the input defines added as implicit (as the loader does)."""
    known = {ns.name: ns for ns in cluster.namespaces}
    for policy in policies:
        if policy.namespace and policy.namespace not in known:
            known[policy.namespace] = Namespace(
                policy.namespace, Labels({NAMESPACE_NAME_LABEL: policy.namespace}),
                implicit=True)
    return tuple(known[name] for name in sorted(known))
