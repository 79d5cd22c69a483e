"""Which workload a pod belongs to, as a live cluster's dump writes it.

``kubectl get -A -o yaml`` shows a Deployment's pods owned by a ReplicaSet named
after the Deployment plus its ``pod-template-hash`` (``web-7d4b9c8f6d``), and a
CronJob's pods owned by a Job named after the CronJob plus the scheduled minute
(``backup-28512345``). Users think in Deployments and CronJobs, and a rollout
replaces the ReplicaSet without changing any policy, so a pod belongs to its *top*
controller:

- a ReplicaSet (or Job) in the input owned by a Deployment (or CronJob) hands its
  pods to that owner;
- without the ReplicaSet object, a ReplicaSet whose name is ``NAME-HASH`` where
  ``HASH`` is the pod's ``pod-template-hash`` label is Deployment ``NAME``'s;
- without the Job object, a Job named ``NAME-DIGITS`` is CronJob ``NAME``'s when
  that CronJob is in the input.

Pod templates stand for pods that the input does not hold. When it holds the
running pods of a workload, they are what runs: the templates of the workload (and
of the ReplicaSets or Jobs it owns) are left out. An owned ReplicaSet or Job stands
for its owner's pods only when the owner itself is absent, and only when it runs
pods (``replicas`` above 0: a Deployment keeps its old, scaled-down ReplicaSets).

Examples
--------
>>> from reach.model import Labels, Pod, Workload
>>> live = Pod("shop", "web-7d4b9c8f6d-x2b7q", Labels({"pod-template-hash": "7d4b9c8f6d"}),
...            owner_kind="ReplicaSet", owner_name="web-7d4b9c8f6d")
>>> [(p.owner_kind, p.owner_name) for p in resolve_owners([live], [], [])]
[('Deployment', 'web')]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from reach.model import Diagnostic, Labels, Pod, Workload

__all__ = ["TEMPLATE_HASH_LABEL", "resolve_owners", "top_owner"]

TEMPLATE_HASH_LABEL = "pod-template-hash"

Key = tuple[str, str, str]
"""(namespace, kind, name) of a workload."""

#: Which kind owns which, as Kubernetes controllers create them.
_OWNED_BY = {"ReplicaSet": "Deployment", "Job": "CronJob"}


def top_owner(namespace: str, kind: str, name: str, labels: Labels,
              workloads: dict[Key, Workload]) -> tuple[str, str]:
    """The top controller ``(kind, name)`` of something owned by ``kind``/``name``.

    ``labels`` are the pod's (or the owned workload's), for ``pod-template-hash``.
    """
    seen: set[Key] = set()
    while (namespace, kind, name) not in seen:
        seen.add((namespace, kind, name))
        found = workloads.get((namespace, kind, name))
        if found is not None:
            if found.owner_kind and found.owner_kind == _OWNED_BY.get(kind):
                kind, name = found.owner_kind, found.owner_name
                continue
            return kind, name
        if kind == "ReplicaSet":
            digest = labels.get(TEMPLATE_HASH_LABEL, "")
            if digest and name.endswith(f"-{digest}") and len(name) > len(digest) + 1:
                return "Deployment", name[: -len(digest) - 1]
        if kind == "Job":
            stem, _, digits = name.rpartition("-")
            if stem and digits.isdigit() and (namespace, "CronJob", stem) in workloads:
                return "CronJob", stem
        return kind, name
    return kind, name  # pragma: no cover - an ownership cycle: keep the last


def resolve_owners(pods: Sequence[Pod], workloads: Sequence[Workload],
                   notes: list[Diagnostic]) -> list[Pod]:
    """The pods with their top controllers, and the templates that stand for what runs.

    A note (``info``) says which templates were left out because running pods or the
    owning workload stand for them.
    """
    index = {(w.namespace, w.kind, w.name): w for w in workloads}
    live: set[Key] = set()
    out: list[Pod] = []
    templates: dict[Key, list[tuple[Workload, Pod]]] = {}
    for pod in pods:
        if pod.template:
            workload = index.get((pod.namespace, pod.owner_kind, pod.owner_name))
            if workload is None:  # pragma: no cover - a template always has its workload
                out.append(pod)
                continue
            kind, name = top_owner(pod.namespace, workload.kind, workload.name,
                                   workload.labels, index)
            templates.setdefault((pod.namespace, kind, name), []).append((workload, pod))
            continue
        if pod.owner_kind:
            kind, name = top_owner(pod.namespace, pod.owner_kind, pod.owner_name,
                                   pod.labels, index)
            if (kind, name) != (pod.owner_kind, pod.owner_name):
                pod = dataclasses.replace(pod, owner_kind=kind, owner_name=name)
            live.add((pod.namespace, kind, name))
        out.append(pod)
    for key in sorted(templates):
        namespace, kind, name = key
        candidates = templates[key]
        if key in live:
            notes.append(Diagnostic(
                "info",
                f"{kind} {namespace}/{name}: its pods in the input stand for it; its pod "
                "template is not analysed separately", candidates[0][0].location,
                code="template-replaced"))
            continue
        own = [pod for workload, pod in candidates if (workload.kind, workload.name) == (kind,
                                                                                     name)]
        if own:
            out.extend(own)
            continue
        running = [(w, pod) for w, pod in candidates if w.replicas > 0]
        for _, pod in running:
            out.append(dataclasses.replace(pod, owner_kind=kind, owner_name=name))
        for workload, _ in candidates:
            if workload.replicas <= 0:
                notes.append(Diagnostic(
                    "info",
                    f"{workload.kind} {workload.namespace}/{workload.name} of {kind} {name} "
                    "runs no pod (replicas 0): left out", workload.location,
                    code="scaled-down"))
    return out
