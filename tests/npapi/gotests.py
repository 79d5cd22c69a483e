"""Read the probes out of the suite's Go tests, to check our transcription against them.

This is no Go parser: it scans each ``suite.ConformanceTest`` literal of
``conformance/tests/*.go`` for the few call shapes the suite uses, in source order:
``t.Run("...")`` opens a sub-test, ``X := kubernetes.GetPod(t, s.Client, NS, NAME, ...)``
names a server pod, and ``kubernetes.PokeServer(..., NS, POD, PROTO, X.Status.PodIP,
int32(PORT), ..., EXPECT)`` is a probe. A ``PokeServer`` call of any other shape is
reported, so that the check fails instead of skipping probes it cannot read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from npapi.upstream import HOST_NETWORK_PORTS, Upstream

TESTS_DIR = "conformance/tests"


@dataclass(frozen=True)
class GoProbe:
    client_namespace: str
    client: str
    protocol: str
    server_namespace: str
    server: str
    port: int
    connects: bool


@dataclass
class GoTest:
    short_name: str
    manifests: tuple[str, ...]
    features: tuple[str, ...]
    steps: list[list[GoProbe]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)


_LITERAL = re.compile(r"var\s+(\w+)\s*=\s*suite\.ConformanceTest\{")
_SHORT = re.compile(r'ShortName:\s*"([^"]+)"')
_MANIFESTS = re.compile(r"Manifests:\s*\[\]string\{([^}]*)\}")
_FEATURES = re.compile(r"Features:\s*\[\]suite\.SupportedFeature\{([^}]*)\}")
_REGISTERED = re.compile(r"ConformanceTests\s*=\s*append\(\s*ConformanceTests\s*,([^)]*)\)")
_EVENT = re.compile(
    r'(?P<run>t\.Run\(\s*")'
    r'|(?P<var>\w+)\s*:?=\s*kubernetes\.GetPod\(\s*t\s*,\s*s\.Client\s*,\s*'
    r'"(?P<gns>[^"]+)"\s*,\s*"(?P<gname>[^"]+)"'
    r'|(?P<poke>kubernetes\.PokeServer\()'
)
_POKE = re.compile(
    r'kubernetes\.PokeServer\(\s*t\s*,\s*s\.ClientSet\s*,\s*&s\.KubeConfig\s*,\s*'
    r'"(?P<ns>[^"]+)"\s*,\s*"(?P<pod>[^"]+)"\s*,\s*"(?P<proto>[^"]+)"\s*,\s*'
    r"(?P<target>\w+)\.Status\.PodIP\s*,\s*"
    r"int32\((?P<port>\d+|s\.HostNetworkPorts\[\d+\])\)\s*,\s*"
    r"s\.TimeoutConfig\s*,\s*(?P<expect>true|false)\s*\)"
)


def _strings(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r'"([^"]*)"', text))


def _literal_end(text: str, start: int) -> int:
    """The index just past the brace that closes the literal opened before ``start``."""
    depth = 1
    i = start
    while depth:
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == '"':
            i = text.index('"', i + 1)
        elif ch == "`":
            i = text.index("`", i + 1)
        i += 1
    return i


def _port(text: str) -> int:
    found = re.fullmatch(r"s\.HostNetworkPorts\[(\d+)\]", text)
    return HOST_NETWORK_PORTS[int(found.group(1))] if found else int(text)


def _scan(test: GoTest, body: str) -> None:
    servers: dict[str, tuple[str, str]] = {}
    before: list[GoProbe] = []  # probes outside any t.Run (none so far upstream)
    for event in _EVENT.finditer(body):
        if event.group("run"):
            test.steps.append([])
        elif event.group("var"):
            servers[event.group("var")] = (event.group("gns"), event.group("gname"))
        else:
            poke = _POKE.match(body, event.start())
            if poke is None or poke.group("target") not in servers:
                test.unread.append(body[event.start():event.start() + 200])
                continue
            server_ns, server = servers[poke.group("target")]
            probe = GoProbe(poke.group("ns"), poke.group("pod"), poke.group("proto").upper(),
                            server_ns, server, _port(poke.group("port")),
                            poke.group("expect") == "true")
            (test.steps[-1] if test.steps else before).append(probe)
    if before:
        test.unread.append(f"{len(before)} probes outside any t.Run")


def read_go_tests(upstream: Upstream) -> tuple[dict[str, GoTest], set[str]]:
    """Every ConformanceTest by ShortName, and the ShortNames the suite registers."""
    tests: dict[str, GoTest] = {}
    registered_vars: set[str] = set()
    by_var: dict[str, str] = {}
    for path in upstream.listing(TESTS_DIR):
        if not path.endswith(".go") or path.endswith("_test.go"):
            continue
        text = upstream.read(path)
        for names in _REGISTERED.findall(text):
            registered_vars.update(n.strip() for n in names.split(",") if n.strip())
        for literal in _LITERAL.finditer(text):
            end = _literal_end(text, literal.end())
            block = text[literal.end():end]
            short = _SHORT.search(block)
            manifests = _MANIFESTS.search(block)
            features = _FEATURES.search(block)
            if short is None:
                continue
            test = GoTest(
                short.group(1),
                _strings(manifests.group(1)) if manifests else (),
                tuple(f.strip() for f in features.group(1).split(",") if f.strip())
                if features else (),
            )
            _scan(test, block)
            tests[test.short_name] = test
            by_var[literal.group(1)] = test.short_name
    registered = {by_var[v] for v in registered_vars if v in by_var}
    return tests, registered
