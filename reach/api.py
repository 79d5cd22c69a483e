"""Entry points that read files: :func:`load`.

Examples
--------
>>> import reach
>>> net = reach.load("samples/seed/cluster.yaml")
>>> bool(net.can("network-policy/client-1", "network-policy/server", port=8888))
True
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from reach.network import Network

if TYPE_CHECKING:
    from reach.loader import LiveDump

__all__ = ["load"]


def load(
    *paths: str | os.PathLike[str],
    ipblock_pods: bool = True,
    host_network_pods: bool = False,
    stdin_text: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    cluster: bool = False,
    context: str | None = None,
    kubeconfig: str | None = None,
    live: LiveDump | None = None,
    cache: str | os.PathLike[str] | None = None,
) -> Network:
    """Read manifests (files, folders read recursively, ``"-"`` for stdin) and compile them.

    Parameters
    ----------
    *paths
        Files, folders or ``"-"`` (then ``stdin_text`` is the text read).
    cluster
        Also read the live cluster: ``kubectl get -A -o json`` for the kinds reach
        reads (see :mod:`reach.loader._kubectl`), with ``context`` and ``kubeconfig``
        passed to kubectl. Objects the paths define again replace the live ones (as
        ``kubectl apply`` would).
    live
        A cluster already read by :func:`reach.loader.kubectl_dump` (instead of
        ``cluster``), to analyse one snapshot several ways.
    ipblock_pods
        Whether ipBlocks also match pods whose IP they contain (as Calico does).
    host_network_pods
        Whether policies select host-network pods like other pods (as np-guard does).
    progress
        Called as ``progress(stage, done, total)`` while large files are read and
        during long compiles.
    cache
        A folder of compiled networks (:mod:`reach.cache`): when it holds the network
        of these very inputs, options and reach, it is read from there instead of
        compiled; otherwise it is compiled and stored. The network's ``notes`` say
        which, and whether an entry was ignored.

    Raises
    ------
    reach.errors.ManifestError
        Input that cannot be analysed, as ``FILE:LINE:COL: message``.
    """
    from reach.loader import kubectl_dump, read_cluster

    if live is None and cluster:
        live = kubectl_dump(context=context, kubeconfig=kubeconfig)
    if cache is not None:
        from reach.cache import load_cached
        from reach.engine.classes import CompileOptions

        options = CompileOptions(ipblock_pods=ipblock_pods, host_network_pods=host_network_pods)
        return load_cached(cache, paths, stdin_text=stdin_text, live=live, options=options,
                           progress=progress)
    read = read_cluster(*paths, stdin_text=stdin_text, live=live, progress=progress)
    return Network(
        read,
        ipblock_pods=ipblock_pods,
        host_network_pods=host_network_pods,
        progress=progress,
    )
