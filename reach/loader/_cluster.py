"""Documents to model objects, and the objects to one sorted :class:`Cluster`."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import cast

from yaml.nodes import MappingNode, Node, SequenceNode

from reach.documents._fields import read_meta
from reach.documents._json import Imprecise, JsonItem, JsonItems, json_items
from reach.documents._plain import PlainSource
from reach.documents._yaml import Source, describe
from reach.loader._objects import (
    WORKLOAD_KINDS,
    not_running,
    read_endpoint_slice,
    read_endpoints,
    read_ingress,
    read_node,
    read_pod,
    read_route,
    read_service,
    read_service_account,
    read_workload,
)
from reach.loader._owners import resolve_owners
from reach.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Diagnostic,
    Endpoints,
    Ingress,
    Labels,
    Location,
    Namespace,
    NetworkSet,
    Pod,
    Policy,
    Service,
    ServiceAccount,
    Workload,
)
from reach.model import Node as ClusterNode
from reach.model.cluster import StagedPolicy
from reach.policies import CALICO_OBJECTS, STAGED_KINDS, Reader, not_analysed, reader_for
from reach.policies.calico import (
    CALICO_VERSIONS,
    STAGED_CODE,
    CalicoTier,
    read_network_set,
    read_staged_policy,
    read_tier,
    settle_tiers,
    without_copies,
)

__all__ = ["KIND_GROUPS", "Collector"]

#: The kinds read besides the policy dialects, with the API groups each is read from.
KIND_GROUPS: dict[str, frozenset[str]] = {
    "Namespace": frozenset({""}),
    "Pod": frozenset({""}),
    "Service": frozenset({""}),
    "Endpoints": frozenset({""}),
    "ReplicationController": frozenset({""}),
    "Deployment": frozenset({"apps", "extensions"}),
    "ReplicaSet": frozenset({"apps", "extensions"}),
    "DaemonSet": frozenset({"apps", "extensions"}),
    "StatefulSet": frozenset({"apps"}),
    "Job": frozenset({"batch"}),
    "CronJob": frozenset({"batch"}),
    "EndpointSlice": frozenset({"discovery.k8s.io"}),
    "Ingress": frozenset({"networking.k8s.io", "extensions"}),
    "Node": frozenset({""}),
    "Route": frozenset({"route.openshift.io"}),
    "ServiceAccount": frozenset({""}),
}
_MAX_LIST_NESTING = 8
_COLLECTED = ("notes", "namespaces", "pods", "workloads", "services", "endpoints", "ingresses",
              "policies", "nodes", "service_accounts", "network_sets", "tiers", "staged",
              "stopped")


@dataclass
class Collector:
    """Accumulates the objects of every document, refusing duplicate names."""

    notes: list[Diagnostic] = field(default_factory=list)
    namespaces: list[Namespace] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    endpoints: list[Endpoints] = field(default_factory=list)
    ingresses: list[Ingress] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    nodes: list[ClusterNode] = field(default_factory=list)
    service_accounts: list[ServiceAccount] = field(default_factory=list)
    network_sets: list[NetworkSet] = field(default_factory=list)
    tiers: list[CalicoTier] = field(default_factory=list)
    staged: list[StagedPolicy] = field(default_factory=list)
    stopped: list[tuple[Pod, str]] = field(default_factory=list)
    _names: dict[tuple[str, str, str], Location] = field(default_factory=dict)
    _objects: int = 0
    _live: set[tuple[str, str, str]] = field(default_factory=set)
    _reading_live: bool = False
    progress: Callable[[str, int, int], None] | None = None

    def read_text(self, path: str, text: str, *, warn_empty: bool = True,
                  live: bool = False) -> None:
        """Read every document of one file; a file without any object is a warning.

        ``live``: the text is a live cluster's dump; an object that a later file defines
        again replaces it (as ``kubectl apply`` would), instead of being a duplicate.
        """
        self._reading_live = live
        src = Source(path)
        before, documents = self._objects, 0
        # A JSON dump is read on the fast path, unless it replaces objects of a live
        # cluster (that cannot be undone). Where the fast path cannot say exactly where
        # something is, what it read is undone and the text is read again through YAML.
        fast = json_items(text) if live or not self._live else None
        if fast is not None:
            state = self._checkpoint()
            try:
                documents = self._read_json(src, text, fast)
            except (Imprecise, RecursionError):
                self._rollback(state)
                fast = None
        if fast is None:
            for root in src.documents(text):
                documents += 1
                if self.progress is not None and documents % 256 == 0:
                    self.progress(f"reading {os.path.basename(path)}", root.start_mark.index,
                                  len(text))
                if type(root) is SequenceNode and any(map(_is_object, root.value)):
                    for item in root.value:  # calicoctl -o json: a top-level array
                        self._read_object(src, item, None, 1)
                    continue
                self._read_object(src, root, None, 0)
        if not warn_empty:
            return
        if not documents:
            what = "is empty" if not text.strip() else "holds no YAML document"
            self.notes.append(Diagnostic(
                "warning", f"{path} {what}: no Kubernetes object read from it",
                Location(path), code="empty-file"))
        elif self._objects == before and not any(
                d.location is not None and d.location.path == path for d in self.notes):
            self.notes.append(Diagnostic(
                "warning", f"{path} holds no Kubernetes object (an empty list)",
                Location(path), code="empty-file"))

    def _read_json(self, src: Source, text: str, fast: JsonItems) -> int:
        """Read the objects of a JSON text on the fast path; the number of documents."""
        src.text = text
        plain = PlainSource(src.path)
        if fast.top is None:
            self._read_json_item(src, plain, text, fast.items[0], None, 0)
            return 1
        kind, api_version = fast.top.get("kind"), fast.top.get("apiVersion")
        if type(kind) is not str or type(api_version) is not str or not kind.endswith("List"):
            raise Imprecise  # not a plain List: YAML reads it as it reads any other object
        item_kind = kind.removesuffix("List") if kind != "List" else ""
        context = (item_kind, api_version if item_kind else "")
        for k, item in enumerate(fast.items):
            self._read_json_item(src, plain, text, item, context, 1)
            if self.progress is not None and k % 256 == 255:
                self.progress(f"reading {os.path.basename(src.path)}", item.end, len(text))
        return 1

    def _read_json_item(self, src: Source, plain: PlainSource, text: str, item: JsonItem,
                        context: tuple[str, str] | None, depth: int) -> None:
        """One object of a JSON text: the kinds of :data:`KIND_GROUPS` are read from the
        decoded value (``plain``); anything else (policies, whose rules and peers have
        places, kinds reach skips, what is not an object) is composed by YAML."""
        value = item.value
        if type(value) is dict:
            kind, api_version = value.get("kind"), value.get("apiVersion")
            if context is not None:
                kind, api_version = kind or context[0], api_version or context[1]
            if type(kind) is str and type(api_version) is str and kind and api_version:
                groups = KIND_GROUPS.get(kind)
                if groups is not None and api_version.rpartition("/")[0] in groups:
                    plain.at(item)  # the readers hand the value back to plain only
                    self._read_known(plain, cast(Node, value),
                                     plain.mapping(value, "an object") or {}, kind)
                    return
        node = src.composed(text, item.start, item.end, item.line, item.column)
        self._read_object(src, node, context, depth)

    def _checkpoint(self) -> tuple[dict[str, int], int, int, set[tuple[str, str, str]]]:
        lengths = {name: len(getattr(self, name)) for name in _COLLECTED}
        return lengths, self._objects, len(self._names), set(self._live)

    def _rollback(self, state: tuple[dict[str, int], int, int, set[tuple[str, str, str]]]
                  ) -> None:
        """Undo what was read since ``state`` (a file read on the JSON fast path)."""
        lengths, objects, names, live = state
        for name, length in lengths.items():
            del getattr(self, name)[length:]
        self._objects = objects
        for key in list(self._names)[names:]:
            del self._names[key]
        self._live = live

    def _skip(self, src: Source, node: Node, why: str) -> None:
        self.notes.append(Diagnostic(
            "warning",
            f"skipped a document of {src.path}: {why}",
            src.location(node),
            code="not-kubernetes",
        ))

    def _read_object(
        self, src: Source, node: Node, list_item: tuple[str, str] | None, depth: int
    ) -> None:
        if type(node) is not MappingNode:
            self._skip(src, node, f"not a Kubernetes object ({describe(node)})")
            return
        fields = src.mapping(node, "an object") or {}
        kind, api_version = (_plain(fields.get(key)) for key in ("kind", "apiVersion"))
        if list_item is not None:
            kind, api_version = kind or list_item[0], api_version or list_item[1]
        if not kind or not api_version:
            self._skip(src, node, "not a Kubernetes object (no kind or apiVersion)")
            return
        if kind == "List" or (kind.endswith("List") and "items" in fields):
            self._read_list(src, fields, kind, api_version, depth)
            return
        policy_reader = reader_for(kind, api_version)
        if policy_reader is not None:
            self._read_policy(src, node, fields, kind, policy_reader)
            return
        if kind in CALICO_OBJECTS and api_version in CALICO_VERSIONS:
            self._read_calico(src, node, fields, kind)
            return
        if kind in STAGED_KINDS and api_version in CALICO_VERSIONS:
            self._read_staged(src, node, fields, kind)
            return
        group = api_version.rpartition("/")[0]
        groups = KIND_GROUPS.get(kind)
        if groups is None or group not in groups:
            self._skip_kind(src, node, fields, kind, api_version, groups)
            return
        self._read_known(src, node, fields, kind)

    def _skip_kind(self, src: Source, node: Node, fields: dict[str, tuple[Node, Node]],
                   kind: str, api_version: str, groups: frozenset[str] | None) -> None:
        """A kind reach does not read: a warning if it can change reachability, else a note."""
        reason = not_analysed(kind, api_version)
        if reason is None:
            self.notes.append(Diagnostic(
                "info",
                f"skipped {kind} ({api_version}): {_skip_reason(kind, groups)}",
                src.location(node),
                code="unknown-kind",
            ))
            return
        name = _object_name(fields)
        what = f'{kind} "{name}"' if name else kind
        if reason.startswith("is not a kind"):
            message = f"{what} {reason} It is skipped: verdicts ignore it"
        else:
            message = f"{what} is not analysed ({reason}); verdicts ignore it"
        self.notes.append(Diagnostic("warning", message, src.location(node),
                                     code="not-analysed"))

    def _read_list(
        self, src: Source, fields: dict[str, tuple[Node, Node]], kind: str, api_version: str,
        depth: int,
    ) -> None:
        entry = fields.get("items")
        if entry is None:
            return
        if depth >= _MAX_LIST_NESTING:
            src.fail(entry[0], f"lists nested more than {_MAX_LIST_NESTING} deep")
        item_kind = kind.removesuffix("List") if kind != "List" else ""
        for item in src.sequence(entry[1], f"{kind}.items") or []:
            self._read_object(src, item, (item_kind, api_version if item_kind else ""),
                              depth + 1)

    def _read_known(
        self, src: Source, node: Node, fields: dict[str, tuple[Node, Node]], kind: str
    ) -> None:
        self._objects += 1
        meta = read_meta(src, fields, node, kind)
        namespace = "" if kind in ("Namespace", "Node") else meta.namespace
        self._claim(src, node, kind, namespace, meta.name)
        if kind == "Namespace":
            self.namespaces.append(Namespace(meta.name, meta.labels, meta.location))
        elif kind == "Pod":
            pod = read_pod(src, fields, meta, self.notes)
            why = not_running(src, fields, meta)
            if why is None:
                self.pods.append(pod)
            else:
                self.stopped.append((pod, why))
        elif kind in WORKLOAD_KINDS:
            workload, template = read_workload(src, kind, fields, meta, self.notes)
            self.workloads.append(workload)
            if template is not None:
                self.pods.append(template)
        elif kind == "Service":
            self.services.append(read_service(src, fields, meta))
        elif kind == "Endpoints":
            self.endpoints.append(read_endpoints(src, fields, meta))
        elif kind == "EndpointSlice":
            endpoints = read_endpoint_slice(src, fields, meta, self.notes)
            if endpoints is not None:
                self.endpoints.append(endpoints)
        elif kind == "Ingress":
            self.ingresses.append(read_ingress(src, fields, meta))
        elif kind == "Route":
            self.ingresses.append(read_route(src, fields, meta))
        elif kind == "Node":
            self.nodes.append(read_node(src, fields, meta))
        elif kind == "ServiceAccount":
            self.service_accounts.append(read_service_account(meta))

    def _read_policy(self, src: Source, node: Node, fields: dict[str, tuple[Node, Node]],
                     kind: str, reader: Reader) -> None:
        self._objects += 1
        meta = read_meta(src, fields, node, kind, strict=True)
        policy = reader(src, fields, meta, node, self.notes)
        self._claim(src, node, policy.kind, policy.namespace, meta.name)
        self.policies.append(policy)

    def _read_staged(self, src: Source, node: Node, fields: dict[str, tuple[Node, Node]],
                     kind: str) -> None:
        """A Calico staged policy: kept apart, since the cluster does not enforce it."""
        self._objects += 1
        meta = read_meta(src, fields, node, kind, strict=True)
        staged = read_staged_policy(src, fields, meta, node)
        self._claim(src, node, kind, staged.policy.namespace, meta.name)
        self.staged.append(staged)

    def _read_calico(self, src: Source, node: Node, fields: dict[str, tuple[Node, Node]],
                     kind: str) -> None:
        """A Calico Tier, NetworkSet or GlobalNetworkSet."""
        self._objects += 1
        meta = read_meta(src, fields, node, kind)
        namespace = meta.namespace if kind == "NetworkSet" else ""
        self._claim(src, node, kind, namespace, meta.name)
        if kind == "Tier":
            self.tiers.append(read_tier(src, fields, meta))
        else:
            self.network_sets.append(read_network_set(src, fields, meta, kind))

    def _claim(self, src: Source, node: Node, kind: str, namespace: str, name: str) -> None:
        key = (kind, namespace, name)
        first = self._names.get(key)
        ref = f"{namespace}/{name}" if namespace else name
        if self._reading_live:
            self._live.add(key)
        elif key in self._live:
            self._live.discard(key)
            self._forget(kind, namespace, name)
            self.notes.append(Diagnostic(
                "info", f"{kind} {ref} of the files replaces the live cluster's",
                src.location(node), code="replaces-live"))
            first = None
        if first is not None:
            src.fail(node, f'duplicate {kind} "{ref}" (first defined at {first})',
                     "each object must have a unique name within its kind and namespace")
        self._names[key] = src.location(node)

    def _forget(self, kind: str, namespace: str, name: str) -> None:
        """Drop the object ``kind namespace/name`` read so far (and a workload's template)."""
        def other(obj: object) -> bool:
            return (getattr(obj, "namespace", ""), getattr(obj, "name", "")) != (namespace, name)

        if kind == "Namespace":
            self.namespaces = [n for n in self.namespaces if n.name != name]
        elif kind == "Node":
            self.nodes = [n for n in self.nodes if n.name != name]
        elif kind == "Pod":
            self.pods = [p for p in self.pods if p.template or other(p)]
            self.stopped = [(p, why) for p, why in self.stopped if other(p)]
        elif kind in WORKLOAD_KINDS:
            self.workloads = [w for w in self.workloads if w.kind != kind or other(w)]
            self.pods = [p for p in self.pods if not (p.template and p.owner_kind == kind
                                                      and not other(p))]
        elif kind == "Service":
            self.services = [x for x in self.services if other(x)]
        elif kind == "Endpoints":
            self.endpoints = [e for e in self.endpoints if (e.namespace, e.service) != (
                namespace, name)]
        elif kind in ("Ingress", "Route"):
            self.ingresses = [i for i in self.ingresses if i.kind != kind or other(i)]
        elif kind == "ServiceAccount":
            self.service_accounts = [a for a in self.service_accounts if other(a)]
        elif kind == "Tier":
            self.tiers = [t for t in self.tiers if t.name != name]
        elif kind in ("NetworkSet", "GlobalNetworkSet"):
            self.network_sets = [n for n in self.network_sets if other(n)]
        elif kind in STAGED_KINDS:
            self.staged = [s for s in self.staged if s.kind != kind or other(s.policy)]
        else:
            self.policies = [p for p in self.policies if p.kind != kind or other(p)]

    def cluster(self) -> Cluster:
        """The sorted cluster, with implicit namespaces for those only referenced.

        Pods belong to their top controller (see :mod:`reach.loader._owners`); pods
        that do not run are left out with a warning.
        """
        pods = resolve_owners(self.pods, self.workloads, self.notes)
        if self.stopped:
            names = sorted(f"{pod.ref} ({why})" for pod, why in self.stopped)
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5
                                             else "")
            self.notes.append(Diagnostic(
                "warning",
                f"left out {len(names)} pod{'s that do' if len(names) != 1 else ' that does'} "
                f"not run: {shown}", self.stopped[0][0].location, code="not-running"))
        policies = settle_tiers(without_copies(self.policies, self.notes), self.tiers,
                                self.notes)
        staged = self._settled_staged()
        return Cluster(
            namespaces=self._all_namespaces(),
            pods=tuple(sorted(pods, key=lambda p: (p.namespace, p.name, p.owner_kind))),
            workloads=tuple(sorted(self.workloads, key=lambda w: (w.namespace, w.name, w.kind))),
            services=tuple(sorted(self.services, key=lambda s: (s.namespace, s.name))),
            endpoints=tuple(sorted(
                self.endpoints,
                key=lambda e: (e.namespace, e.service, e.location.path, e.location.line),
            )),
            ingresses=tuple(sorted(self.ingresses, key=lambda i: (i.namespace, i.name))),
            policies=tuple(sorted(policies, key=lambda p: (p.namespace, p.kind, p.name))),
            diagnostics=tuple(self.notes),
            nodes=tuple(sorted(self.nodes, key=lambda n: n.name)),
            service_accounts=tuple(sorted(self.service_accounts,
                                          key=lambda a: (a.namespace, a.name))),
            network_sets=tuple(sorted(self.network_sets, key=lambda n: (n.namespace, n.name))),
            staged=tuple(sorted(staged, key=lambda s: (s.policy.namespace, s.kind,
                                                       s.policy.name))),
        )

    def _settled_staged(self) -> list[StagedPolicy]:
        """The staged policies with their tiers settled (each keeps what settling notes:
        it holds once the policy is enforced), and one warning that they are not enforced."""
        out = []
        for staged in self.staged:
            notes = list(staged.notes)
            # a Delete's tier only names the policy deleted: nothing to warn about
            policy = settle_tiers([staged.policy], self.tiers,
                                  notes if staged.action == "Set" else [])[0]
            out.append(replace(staged, policy=policy, notes=tuple(notes)))
        if out:
            count = len(out)
            self.notes.append(Diagnostic(
                "warning",
                f"{count} staged {'policies are' if count != 1 else 'policy is'} not enforced; "
                "`reach diff --with-staged` shows what staging them would change",
                out[0].policy.location, code=STAGED_CODE))
        return out

    def _all_namespaces(self) -> tuple[Namespace, ...]:
        found: dict[str, Namespace] = {}
        for ns in self.namespaces:
            written = ns.labels.get(NAMESPACE_NAME_LABEL)
            if written is not None and written != ns.name:
                self.notes.append(Diagnostic(
                    "warning",
                    f'namespace {ns.name} has label {NAMESPACE_NAME_LABEL}="{written}"; '
                    f'the API server always sets it to "{ns.name}"',
                    ns.location,
                ))
            labels = Labels({**ns.labels, NAMESPACE_NAME_LABEL: ns.name})
            found[ns.name] = Namespace(ns.name, labels, ns.location)
        groups: tuple[list[Pod] | list[Workload] | list[Service] | list[Endpoints]
                      | list[Ingress] | list[Policy], ...] = (
            self.pods, self.workloads, self.services, self.endpoints, self.ingresses,
            self.policies,
        )
        for group in groups:
            for obj in group:
                if obj.namespace and obj.namespace not in found:
                    found[obj.namespace] = Namespace(
                        obj.namespace, Labels({NAMESPACE_NAME_LABEL: obj.namespace}),
                        implicit=True,
                    )
        return tuple(found[name] for name in sorted(found))


def _is_object(node: Node) -> bool:
    """Whether ``node`` looks like a Kubernetes object (a mapping with kind and apiVersion)."""
    if type(node) is not MappingNode:
        return False
    keys = {k.value for k, _ in node.value if isinstance(k.value, str)}
    return {"kind", "apiVersion"} <= keys


def _plain(entry: tuple[Node, Node] | None) -> str:
    """The text of a string scalar, or "" for anything else."""
    if entry is None:
        return ""
    value = entry[1]
    if value.tag != "tag:yaml.org,2002:str" or not isinstance(value.value, str):
        return ""
    text: str = value.value
    return text


def _skip_reason(kind: str, groups: frozenset[str] | None) -> str:
    if groups is None:
        return "reach does not use this kind"
    wanted = " or ".join(sorted(f"{g}/..." if g else "v1" for g in groups))
    return f"reach reads {kind} from {wanted} only"


def _object_name(fields: dict[str, tuple[Node, Node]]) -> str:
    """``namespace/name`` (or ``name``) of an object reach does not read, if it has one."""
    meta = fields.get("metadata")
    if meta is None or type(meta[1]) is not MappingNode:
        return ""
    items = {key.value: value for key, value in meta[1].value if isinstance(key.value, str)}
    name, namespace = (items.get(key) for key in ("name", "namespace"))
    text = name.value if name is not None and isinstance(name.value, str) else ""
    if text and namespace is not None and isinstance(namespace.value, str) and namespace.value:
        return f"{namespace.value}/{text}"
    return text
