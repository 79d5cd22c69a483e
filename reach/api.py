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

    Raises
    ------
    reach.errors.ManifestError
        Input that cannot be analysed, as ``FILE:LINE:COL: message``.
    """
    from reach.loader import kubectl_dump, read_cluster

    if live is None and cluster:
        live = kubectl_dump(context=context, kubeconfig=kubeconfig)
    read = read_cluster(*paths, stdin_text=stdin_text, live=live, progress=progress)
    return Network(
        read,
        ipblock_pods=ipblock_pods,
        host_network_pods=host_network_pods,
        progress=progress,
    )
