"""A live cluster, read with ``kubectl get -A -o json`` for exactly the kinds reach reads.

Users without manifest files get the same analysis: reach asks kubectl (the user's
own, with their context and kubeconfig, so their credentials and permissions apply)
for the kinds the loader reads, in one call for the built-in kinds and one call per
kind that a CustomResourceDefinition provides (admin network policies, OpenShift
Routes, other policy dialects), because a cluster without that CRD refuses the
whole call. A CRD that is not installed is a note: the cluster then has no such
object. Calico's kinds are asked of its API server (``projectcalico.org``) and, where
that is not installed, as the datastore keeps them (``crd.projectcalico.org``).

Examples
--------
>>> [r for r in RESOURCES if r.startswith("networkpolicies")]
['networkpolicies.networking.k8s.io', 'networkpolicies.projectcalico.org']
>>> FALLBACK_RESOURCES["tiers.projectcalico.org"]
'tiers.crd.projectcalico.org'
>>> kubectl_command(["pods"], context="prod", kubeconfig=None)
['kubectl', '--context', 'prod', 'get', 'pods', '--all-namespaces', '-o', 'json']
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reach.errors import ManifestError
from reach.loader._cluster import KIND_GROUPS
from reach.model import Diagnostic
from reach.policies import CALICO_OBJECTS, DIALECTS, STAGED_KINDS

__all__ = ["BUILTIN_GROUPS", "CRD_RESOURCES", "FALLBACK_RESOURCES", "RESOURCES", "LiveDump",
           "kubectl_command", "kubectl_dump"]

#: The API groups every cluster serves; kinds of other groups come from CRDs.
BUILTIN_GROUPS = frozenset({"", "apps", "batch", "networking.k8s.io", "discovery.k8s.io"})

_LEGACY_GROUPS = frozenset({"extensions"})  # served by no current API server
# Calico's API server serves projectcalico.org; without it, the same objects are read
# as the datastore stores them (crd.projectcalico.org). Asking both would read each twice.
_CALICO, _CALICO_CRD = "projectcalico.org", "crd.projectcalico.org"
_TIMEOUT = 300


def _plural(kind: str) -> str:
    low = kind.lower()
    if low.endswith("s"):
        return low if low == "endpoints" else low + "es"
    if low.endswith("y"):
        return low[:-1] + "ies"
    return low + "s"


def _resource(kind: str, group: str) -> str:
    return f"{_plural(kind)}.{group}" if group else _plural(kind)


def _resources() -> tuple[list[str], list[str]]:
    """Every kind the loader reads (its own table of groups, and the policy dialects)."""
    builtin: list[str] = []
    crd: list[str] = []
    kinds: dict[str, set[str]] = {kind: set(groups) for kind, groups in KIND_GROUPS.items()}
    for kind, (versions, _) in DIALECTS.items():
        kinds.setdefault(kind, set()).update(v.rpartition("/")[0] for v in versions)
    for kind in (*CALICO_OBJECTS, *STAGED_KINDS, "NetworkPolicy"):
        kinds.setdefault(kind, set()).add(_CALICO)
    for kind in sorted(kinds):
        for group in sorted(kinds[kind] - _LEGACY_GROUPS - {_CALICO_CRD}):
            (builtin if group in BUILTIN_GROUPS else crd).append(_resource(kind, group))
    return builtin, crd


_BUILTIN, _CRD = _resources()

#: Every resource asked for, fully qualified (``networkpolicies.networking.k8s.io``).
RESOURCES: tuple[str, ...] = (*_BUILTIN, *_CRD)

#: The resources that CRDs provide: asked one by one, absent ones noted.
CRD_RESOURCES: tuple[str, ...] = tuple(_CRD)

#: What to ask when a resource is not served: Calico's kinds as the datastore keeps them.
FALLBACK_RESOURCES: dict[str, str] = {
    r: r.removesuffix(_CALICO) + _CALICO_CRD for r in _CRD if r.endswith(f".{_CALICO}")}


@dataclass(frozen=True, slots=True)
class LiveDump:
    """What kubectl returned: one JSON text per call, and the notes about absent CRDs."""

    name: str
    texts: tuple[str, ...]
    notes: tuple[Diagnostic, ...] = field(default=())


def kubectl_command(resources: Sequence[str], *, context: str | None, kubeconfig: str | None,
                    kubectl: str = "kubectl") -> list[str]:
    """The kubectl command line that lists ``resources`` in every namespace as JSON."""
    command = [kubectl]
    if kubeconfig:
        command += ["--kubeconfig", kubeconfig]
    if context:
        command += ["--context", context]
    return [*command, "get", ",".join(resources), "--all-namespaces", "-o", "json"]


def _not_installed(stderr: str) -> bool:
    text = stderr.lower()
    return "doesn't have a resource type" in text or "no matches for kind" in text


def _run(command: list[str], where: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT,
                              check=False)
    except FileNotFoundError:
        raise ManifestError(
            f"cannot run {command[0]}: not found on the PATH", path=where,
            hint="install kubectl, or give the manifests with -f") from None
    except subprocess.TimeoutExpired:
        raise ManifestError(f"kubectl did not answer within {_TIMEOUT}s", path=where) from None


def kubectl_dump(*, context: str | None = None, kubeconfig: str | None = None,
                 kubectl: str | None = None,
                 resources: Iterable[str] | None = None) -> LiveDump:
    """Ask kubectl for every object reach reads, in every namespace.

    Raises :class:`~reach.errors.ManifestError` when kubectl cannot be run or fails
    (its own message is shown: unreachable cluster, no permission, unknown context).
    """
    exe = kubectl or shutil.which("kubectl") or "kubectl"
    where = f"<cluster{':' + context if context else ''}>"
    wanted = list(resources) if resources is not None else list(RESOURCES)
    builtin = [r for r in wanted if r not in CRD_RESOURCES]
    optional = [r for r in wanted if r in CRD_RESOURCES]
    texts: list[str] = []
    notes: list[Diagnostic] = []
    calls = ([builtin] if builtin else []) + [[r] for r in optional]
    for group in calls:
        command = kubectl_command(group, context=context, kubeconfig=kubeconfig, kubectl=exe)
        done = _run(command, where)
        fallback = FALLBACK_RESOURCES.get(group[0])
        if done.returncode != 0 and fallback and _not_installed(done.stderr):
            group = [fallback]  # no Calico API server: read what the datastore keeps
            command = kubectl_command(group, context=context, kubeconfig=kubeconfig,
                                      kubectl=exe)
            done = _run(command, where)
        if done.returncode != 0:
            if group[0] in CRD_RESOURCES + tuple(FALLBACK_RESOURCES.values()) and (
                    _not_installed(done.stderr)):
                notes.append(Diagnostic(
                    "info", f"{group[0]} is not installed in the cluster (no such CRD): "
                    "none read", None, code="no-crd"))
                continue
            message = done.stderr.strip() or f"exit code {done.returncode}"
            raise ManifestError(f"{' '.join(command)} failed: {message}", path=where)
        try:
            json.loads(done.stdout)
        except ValueError as exc:
            raise ManifestError(f"kubectl printed no JSON ({exc})", path=where) from None
        texts.append(done.stdout)
    return LiveDump(where, tuple(texts), tuple(notes))
