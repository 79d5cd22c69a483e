"""Read Kubernetes manifests into the immutable model, refusing bad input precisely.

The loader reads YAML (multi-document) and JSON files, folders of them, and
standard input; ``List`` and ``*List`` kinds (``kubectl get -o yaml`` dumps) and
top-level arrays of objects (``calicoctl get -o json``) are unpacked. Namespace, Pod,
the workloads (Deployment, ReplicaSet, ReplicationController, StatefulSet, DaemonSet,
Job, CronJob), Service, Endpoints, EndpointSlice, Ingress, OpenShift Route, Node,
ServiceAccount and every policy dialect's kinds (NetworkPolicy, the admin policy API,
Calico's policies, tiers, network sets and staged policies) become model objects;
other kinds are skipped with a note, or a warning when they can change what the
cluster enforces. Every object, rule, peer and port remembers its file, line and
column; every error is a :class:`~reach.errors.ManifestError` pointing at the
offending key or value.

Examples
--------
>>> from reach.loader import read_cluster
>>> cluster = read_cluster("-", stdin_text='''
... apiVersion: networking.k8s.io/v1
... kind: NetworkPolicy
... metadata: {name: deny-all, namespace: shop}
... spec:
...   podSelector: {}
... ''')
>>> [(p.ref, p.policy_types) for p in cluster.policies]
[('shop/deny-all', ('Ingress',))]
>>> [(ns.name, ns.implicit) for ns in cluster.namespaces]
[('shop', True)]
>>> read_cluster("-", stdin_text='''
... apiVersion: networking.k8s.io/v1
... kind: NetworkPolicy
... metadata: {name: typo}
... spec:
...   podSelector: {}
...   ingress:
...   - form: []
... ''')
Traceback (most recent call last):
...
reach.errors.ManifestError: <stdin>:8:5: unknown field "form" in ingress rule (did you mean from?)
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable

from reach.documents._files import MANIFEST_SUFFIXES, Raw, iter_sources, text_of
from reach.loader._cluster import Collector
from reach.loader._kubectl import LiveDump, kubectl_dump
from reach.model import Cluster, Diagnostic

__all__ = ["MANIFEST_SUFFIXES", "LiveDump", "kubectl_dump", "read_cluster", "read_sources"]


def read_cluster(*paths: str | os.PathLike[str], stdin_text: str | None = None,
                 live: LiveDump | None = None,
                 progress: Callable[[str, int, int], None] | None = None) -> Cluster:
    """Read manifests from files, folders or standard input into one :class:`Cluster`.

    Parameters
    ----------
    *paths
        Files, folders (read recursively, in sorted order, hidden entries left out)
        or ``"-"`` for standard input. A file given twice is read once.
    stdin_text
        The text standing for ``"-"``; when None, ``sys.stdin`` is read. Its
        locations are shown as ``<stdin>``.
    live
        What :func:`kubectl_dump` read from a live cluster, read before the paths; an
        object the paths define again replaces the live one (as ``kubectl apply``
        would), so files can be tried out on top of the live cluster.
    progress
        Called as ``progress(stage, done, total)`` now and then while a large file is
        read (``done`` and ``total`` in characters of that file).

    Returns
    -------
    Cluster
        Every object read, each collection sorted by namespace and name, the
        namespaces that objects use but no manifest defines added as implicit,
        and the warnings and notes about skipped input in ``diagnostics``.

    Raises
    ------
    ManifestError
        For the first bad input found: unreadable file, YAML syntax error, anchor
        or alias, duplicate key, invalid field value, unknown NetworkPolicy field,
        duplicate object. Nothing else, whatever the input.

    Examples
    --------
    >>> cluster = read_cluster("-", stdin_text="kind: Pod\\napiVersion: v1\\n"
    ...                        "metadata: {name: web, labels: {app: web}}\\n")
    >>> [(pod.ref, str(pod.labels), str(pod.location)) for pod in cluster.pods]
    [('default/web', 'app=web', '<stdin>:1:1')]
    """
    return read_sources(lambda notes: iter_sources(paths, stdin_text, notes), live=live,
                        progress=progress)


def read_sources(sources: Callable[[list[Diagnostic]], Iterable[tuple[str, Raw]]], *,
                 live: LiveDump | None = None,
                 progress: Callable[[str, int, int], None] | None = None) -> Cluster:
    """:func:`read_cluster` over the sources ``sources(notes)`` gives (appending its
    notes about skipped files to ``notes``): :func:`~reach.documents._files.iter_sources` of
    the paths, or :meth:`~reach.documents._files.Sources.replay` of paths read up front."""
    # Composing allocates millions of short-lived, acyclic node objects: reference
    # counting frees them, and cyclic collections in between would only slow the read
    # down (more so in a process that already holds many objects).
    collecting = gc.isenabled()
    gc.disable()
    try:
        collector = Collector(progress=progress)
        if live is not None:
            collector.notes.extend(live.notes)
            for text in live.texts:
                collector.read_text(live.name, text, warn_empty=False, live=True)
        for path, raw in sources(collector.notes):
            collector.read_text(path, text_of(path, raw))
        return collector.cluster()
    finally:
        if collecting:
            gc.enable()
