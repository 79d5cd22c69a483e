"""Where the upstream conformance suite of the admin policy API is read from.

kubernetes-sigs/network-policy-api keeps its suite in ``conformance/``: the base
manifests (a Go template), the policies of each test and the Go tests. reach never
carries a copy: these helpers read the files at test time from a checkout (a work
tree) or a bare repository, named by ``REACH_NPAPI_DIR`` (default: the mirror at
``/work/.mirror/kubernetes-sigs+network-policy-api/repo`` when it exists). A bare
repository is read at ``REACH_NPAPI_REV`` (default ``HEAD``) with ``git show``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ENV_DIR = "REACH_NPAPI_DIR"
ENV_REV = "REACH_NPAPI_REV"
DEFAULT_DIR = Path("/work/.mirror/kubernetes-sigs+network-policy-api/repo")
BASE_MANIFESTS = "conformance/base/manifests.yaml"

# The suite's default host-network port range: eight ports from 34345 (suite.go).
HOST_NETWORK_PORTS = tuple(range(34345, 34345 + 8))


class UpstreamMissing(Exception):
    """The suite is not where we looked; the tests skip with this message."""


@dataclass(frozen=True)
class Upstream:
    """One copy of network-policy-api: ``root`` is a work tree, or a git dir when ``bare``."""

    root: Path
    bare: bool
    rev: str = "HEAD"

    def read(self, path: str) -> str:
        """The text of ``path`` (relative to the repository's top)."""
        if not self.bare:
            return (self.root / path).read_text(encoding="utf-8")
        done = subprocess.run(
            ["git", "--git-dir", str(self.root), "show", f"{self.rev}:{path}"],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise FileNotFoundError(f"{self.root} at {self.rev}: {path}: {done.stderr.strip()}")
        return done.stdout

    def listing(self, folder: str) -> list[str]:
        """The files under ``folder``, as repository paths, sorted."""
        if not self.bare:
            base = self.root / folder
            return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())
        done = subprocess.run(
            ["git", "--git-dir", str(self.root), "ls-tree", "-r", "--name-only",
             self.rev, "--", folder],
            capture_output=True, text=True, check=True,
        )
        return sorted(done.stdout.split())

    def describe(self) -> str:
        """Where the suite was read from, for messages."""
        if not self.bare:
            return str(self.root)
        done = subprocess.run(
            ["git", "--git-dir", str(self.root), "rev-parse", "--short", self.rev],
            capture_output=True, text=True, check=False,
        )
        return f"{self.root} at {done.stdout.strip() or self.rev}"


def locate() -> Upstream:
    """The copy the environment names, or the default mirror; else :class:`UpstreamMissing`."""
    named = os.environ.get(ENV_DIR)
    root = Path(named) if named else DEFAULT_DIR
    rev = os.environ.get(ENV_REV, "HEAD")
    if (root / BASE_MANIFESTS).is_file():
        return Upstream(root, bare=False)
    if (root / "HEAD").is_file() and (root / "objects").is_dir():
        if shutil.which("git") is None:
            raise UpstreamMissing(f"{root} is a bare git repository but git is not installed")
        upstream = Upstream(root, bare=True, rev=rev)
        try:
            upstream.read(BASE_MANIFESTS)
        except FileNotFoundError as exc:
            raise UpstreamMissing(str(exc)) from None
        return upstream
    why = f"${ENV_DIR}={named}" if named else f"{DEFAULT_DIR} (set ${ENV_DIR})"
    raise UpstreamMissing(f"no network-policy-api conformance suite at {why}")


_ACTION = re.compile(r"\{\{(.*?)\}\}", re.S)
_HOST_PORT = re.compile(r"\s*index\s+\.HostNetworkPorts\s+(\d+)\s*")


def render(template: str, host_ports: tuple[int, ...] = HOST_NETWORK_PORTS) -> str:
    """Fill in a manifest the way the suite's Applier does (Go ``text/template``).

    The manifests only ever use ``{{ index .HostNetworkPorts N }}``; any other action
    is refused, so that a new construct upstream fails here instead of being
    rendered wrong.
    """

    def fill(match: re.Match[str]) -> str:
        found = _HOST_PORT.fullmatch(match.group(1))
        if found is None:
            raise ValueError(f"template action this renderer does not know: {match.group(0)}")
        return str(host_ports[int(found.group(1))])

    return _ACTION.sub(fill, template)
