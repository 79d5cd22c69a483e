"""Small helpers shared by the loader tests: read text as stdin, catch the error text."""

from __future__ import annotations

import textwrap

import pytest

from reach.errors import ManifestError
from reach.loader import read_cluster
from reach.model import Cluster

POLICY_HEAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  podSelector: {}
"""
"""Five lines: a policy body given to :func:`policy` starts on line 6."""


def load(text: str) -> Cluster:
    """Read ``text`` as standard input."""
    return read_cluster("-", stdin_text=textwrap.dedent(text))


def error(text: str) -> str:
    """The message of the ManifestError that reading ``text`` raises."""
    with pytest.raises(ManifestError) as info:
        load(text)
    return str(info.value)


def policy(body: str) -> str:
    """A NetworkPolicy document whose spec continues with ``body`` (indented 2)."""
    return POLICY_HEAD + textwrap.indent(textwrap.dedent(body), "  ")


def policy_error(body: str) -> str:
    """The error that the policy with spec ``body`` raises."""
    with pytest.raises(ManifestError) as info:
        read_cluster("-", stdin_text=policy(body))
    return str(info.value)
