"""Reachability assertions: expected facts about a network, checked in CI.

An expectations file is a small YAML document listing facts that must hold::

    apiVersion: reach/v1          # optional; with kind, lets the file sit beside
    kind: Expectations            # the manifests (the loader skips it quietly)
    expectations:
      - name: the web tier reaches the api          # optional, shown in reports
        allow:
          from: shop/web                            # NAMESPACE/NAME or NAMESPACE/KIND/NAME
          to: {namespace: shop, labels: {app: api}} # or a label-selected group
          ports: [TCP 8080]                         # optional: default "some port"
      - deny:
          from: internet                            # public addresses
          to: {labels: {app: db}}                   # any namespace
      - isolated: shop                              # nothing outside shop connects into it
      - isolated: {namespace: payments, direction: both}
      - isolated: {namespace: shop, except: [ingress-nginx/ingress-nginx-controller]}

``allow`` holds when *every* source may open a connection to *every* destination
on every listed port (on at least one port when ``ports`` is left out); ``deny``
holds when *no* source may reach *any* destination on any listed port (on any
port at all when ``ports`` is left out). ``isolated`` is a ``deny`` from
everything outside the namespace (other namespaces' pods and every outside
address) into it (``direction: ingress``, the default), out of it (``egress``) or
both; ``except`` lists the groups that are allowed to cross. A group that matches
no pod fails its expectation: a typo must not pass silently. The full format is in
``docs/ci.md``.

Examples
--------
>>> from reach.model import Cluster, Labels, LabelSelector, Pod, Policy
>>> from reach.network import Network, Resolved
>>> pods = (Pod("shop", "web", Labels({"app": "web"})), Pod("shop", "db", Labels({"app": "db"})))
>>> deny_db = Policy("shop", "deny-db", LabelSelector(Labels({"app": "db"})))
>>> net = Network(Cluster(pods=pods, policies=(deny_db,)))
>>> facts = parse_expectations('''
... - deny: {from: shop/web, to: {labels: {app: db}}}
... - allow: {from: shop/db, to: shop/web, ports: [80]}
... ''')
>>> report = check(net, facts)
>>> report.ok, [r.status for r in report.results]
(True, ['pass', 'pass'])
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn

import yaml

from reach.endpoints import PUBLIC_ADDRESSES, Endpoint, pod_endpoint
from reach.engine.addresses import IPV4_ALL, IPV6_ALL, AddressSet, format_range
from reach.engine.intervals import IntervalSet
from reach.engine.ports import MAX_PORT, PORT_PROTOCOLS, PortSet, canonical_protocol
from reach.engine.selectors import matches
from reach.errors import ExpectationError, ReachError
from reach.model import Labels, LabelSelector, Location, Pod
from reach.network import Network, Resolved

__all__ = [
    "API_VERSION",
    "CHECK_FORMATS",
    "KIND",
    "CheckReport",
    "Expectation",
    "Group",
    "Result",
    "Violation",
    "check",
    "load_expectations",
    "parse_expectations",
]

CHECK_FORMATS: tuple[str, ...] = ("txt", "json")
# With these two keys an expectations file can live beside the manifests: the
# loader sees an object of a kind it does not use and skips it with a note.
API_VERSION = "reach/v1"
KIND = "Expectations"
Kind = Literal["allow", "deny", "isolated"]
Status = Literal["pass", "fail", "error"]
MAX_SHOWN = 3

#: "internet": the public addresses, as every command reads ``internet``.
INTERNET = PUBLIC_ADDRESSES
OUTSIDE = IPV4_ALL | IPV6_ALL


# ---------------------------------------------------------------------------
# the model of an expectations file


@dataclass(frozen=True, slots=True)
class Group:
    """A set of endpoints named in an expectation.

    One of: ``ref`` (a pod or workload reference), a selection (``namespace``,
    ``labels``, ``namespace_labels``; each optional), ``addresses`` (outside
    addresses), or ``parts`` (a union of groups).
    """

    text: str
    ref: str | None = None
    namespace: str | None = None
    labels: LabelSelector | None = None
    namespace_labels: LabelSelector | None = None
    addresses: AddressSet | None = None
    parts: tuple[Group, ...] = ()
    selection: bool = False

    def __str__(self) -> str:
        return self.text

    def addresses_within(self) -> AddressSet:
        """Every outside address the group names (through its parts too)."""
        out = self.addresses or AddressSet.none()
        for part in self.parts:
            out = out | part.addresses_within()
        return out


@dataclass(frozen=True, slots=True)
class Expectation:
    """One expected fact, as read from an expectations file."""

    kind: Kind
    location: Location
    name: str = ""
    src: Group | None = None
    dst: Group | None = None
    ports: PortSet | None = None
    namespace: str = ""
    direction: str = "ingress"
    excepted: Group | None = None

    @property
    def title(self) -> str:
        """The name given, or a description of the fact."""
        return self.name or str(self)

    def __str__(self) -> str:
        if self.kind == "isolated":
            but = f" except {self.excepted}" if self.excepted is not None else ""
            return f"namespace {self.namespace} is isolated ({self.direction}){but}"
        ports = f" on {self.ports}" if self.ports is not None else ""
        verb = "reaches" if self.kind == "allow" else "does not reach"
        return f"{self.src} {verb} {self.dst}{ports}"


@dataclass(frozen=True, slots=True)
class Violation:
    """A pair of endpoints that breaks an expectation, and why."""

    src: Endpoint
    dst: Endpoint
    allowed: PortSet
    offending: PortSet
    explanation: str = ""

    def describe(self, kind: str) -> str:
        """One line: the pair, and what is missing (allow) or what gets through."""
        pair = f"{self.src} => {self.dst}"
        if kind != "allow":
            return f"{pair} : allowed {self.offending}"
        if not self.allowed:
            return f"{pair} : no connection allowed"
        return f"{pair} : missing {self.offending} (allowed: {self.allowed})"

    def to_json(self) -> dict[str, Any]:
        return {
            "src": self.src.to_json(),
            "dst": self.dst.to_json(),
            "allowed": str(self.allowed),
            "offending": str(self.offending),
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one expectation: ``pass``, ``fail`` or ``error`` (could not evaluate)."""

    expectation: Expectation
    status: Status
    message: str = ""
    violations: tuple[Violation, ...] = ()
    total: int = 0

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def __str__(self) -> str:
        """The result as a few indented lines."""
        e = self.expectation
        head = f"{self.status.upper():5} {e.title} ({e.location})"
        lines = [head]
        if self.message:
            lines.append(f"      {self.message}")
        for v in self.violations:
            lines.append(f"      {v.describe(self.expectation.kind)}")
            lines.extend(f"        {line}" for line in v.explanation.splitlines())
        if self.total > len(self.violations):
            more = self.total - len(self.violations)
            lines.append(f"      ... and {more} more pair{'s' if more != 1 else ''}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        e = self.expectation
        return {
            "name": e.title,
            "kind": e.kind,
            "location": str(e.location),
            "status": self.status,
            "message": self.message,
            "violations": [v.to_json() for v in self.violations],
            "total_violations": self.total,
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The results of checking expectations against a network; truthy when all hold.

    Examples
    --------
    >>> from reach.model import Cluster, Pod
    >>> net = Network(Cluster(pods=(Pod("ns", "a"), Pod("ns", "b"))))
    >>> report = check(net, parse_expectations("- allow: {from: ns/a, to: ns/b}"))
    >>> report.ok, report.summary()
    (True, '1 expectation: 1 passed')
    >>> print(report.to_junit(suite="policies"))  # doctest: +ELLIPSIS
    <?xml version='1.0' encoding='utf-8'?>
    <testsuite name="policies" tests="1" failures="0" errors="0">
      <testcase name="ns/a reaches ns/b" classname="&lt;string&gt;" ... line="1" />
    </testsuite>
    """

    results: tuple[Result, ...] = ()
    source: str = ""

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def failed(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if not r.passed)

    def summary(self) -> str:
        n = len(self.results)
        counts = {s: sum(1 for r in self.results if r.status == s) for s in ("pass", "fail",
                                                                            "error")}
        text = f"{n} expectation{'s' if n != 1 else ''}: {counts['pass']} passed"
        if counts["fail"]:
            text += f", {counts['fail']} failed"
        if counts["error"]:
            text += f", {counts['error']} could not be evaluated"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": self.source,
            "summary": self.summary(),
            "results": [r.to_json() for r in self.results],
        }

    def __str__(self) -> str:
        return self.format("txt")

    def __repr__(self) -> str:
        return f"<CheckReport {self.summary()}>"

    def format(self, fmt: str = "txt") -> str:
        """The report as ``txt`` (failures first, with explanations) or ``json``."""
        if fmt == "json":
            return json.dumps(self.to_json(), indent=2)
        if fmt != "txt":
            raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(CHECK_FORMATS)}")
        ordered = [r for r in self.results if not r.passed] + [
            r for r in self.results if r.passed
        ]
        return "\n".join([*(str(r) for r in ordered), self.summary()])

    def to_junit(self, suite: str = "reach check") -> str:
        """JUnit XML: one test case per expectation, failures carry the report."""
        root = ET.Element(
            "testsuite",
            name=suite,
            tests=str(len(self.results)),
            failures=str(sum(1 for r in self.results if r.status == "fail")),
            errors=str(sum(1 for r in self.results if r.status == "error")),
        )
        classname = os.path.basename(self.source) if self.source else "expectations"
        for r in self.results:
            case = ET.SubElement(
                root, "testcase", name=r.expectation.title, classname=classname,
                file=r.expectation.location.path, line=str(r.expectation.location.line),
            )
            if r.status != "pass":
                tag = "failure" if r.status == "fail" else "error"
                first = r.message or f"{r.total} violating pairs"
                child = ET.SubElement(case, tag, message=first, type=r.expectation.kind)
                child.text = str(r)
        ET.indent(root)
        return ET.tostring(root, encoding="unicode", xml_declaration=True)


# ---------------------------------------------------------------------------
# reading


def load_expectations(path: str | os.PathLike[str]) -> tuple[Expectation, ...]:
    """Read an expectations file.

    Parameters
    ----------
    path
        A YAML file in the format of the module documentation (and ``docs/ci.md``).

    Returns
    -------
    tuple of Expectation
        In the order written, each with its location.

    Raises
    ------
    reach.errors.ExpectationError
        As ``FILE:LINE:COL: message`` when the file cannot be read or understood.

    Examples
    --------
    >>> facts = load_expectations("samples/shop/expectations.yaml")
    >>> facts[0].title, str(facts[0].location)
    ('the ingress controller reaches web', 'samples/shop/expectations.yaml:8:5')
    """
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise ExpectationError(f"{name}: cannot read: {exc.strerror or exc}") from None
    return parse_expectations(text, name)


def parse_expectations(text: str, path: str = "<string>") -> tuple[Expectation, ...]:
    """Parse expectations from YAML text (see the module documentation for the format).

    Examples
    --------
    >>> [str(e) for e in parse_expectations("- isolated: shop")]
    ['namespace shop is isolated (ingress)']
    >>> parse_expectations("- allow: {from: shop/web}", "e.yaml")
    Traceback (most recent call last):
    ...
    reach.errors.ExpectationError: e.yaml:1:10: allow needs "from" and "to"
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise ExpectationError(f"{where}: invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ExpectationError(f"{path}: invalid YAML: {exc}") from None
    reader = _Reader(path)
    if root is None:
        raise ExpectationError(f"{path}: empty expectations file")
    items: yaml.Node = root
    if isinstance(root, yaml.MappingNode):
        top = reader.mapping(
            root, ("apiVersion", "kind", "expectations", "version"), "the expectations file"
        )
        if "version" in top and reader.scalar(top["version"]) not in ("1", 1):
            reader.fail(top["version"], "unsupported version (only 1 is known)")
        if "apiVersion" in top and reader.scalar(top["apiVersion"]) != API_VERSION:
            reader.fail(top["apiVersion"], f"unsupported apiVersion (expected {API_VERSION})")
        if "kind" in top and reader.scalar(top["kind"]) != KIND:
            reader.fail(top["kind"], f"kind of an expectations file is {KIND}")
        if "expectations" not in top:
            reader.fail(root, 'expected a list, or a mapping with the key "expectations"')
        items = top["expectations"]
    if not isinstance(items, yaml.SequenceNode):
        reader.fail(items, "expectations must be a list")
    return tuple(reader.expectation(node) for node in items.value)


_KINDS = ("allow", "deny", "isolated")
_PORT_RE = re.compile(r"^(?:(TCP|UDP|SCTP)[\s/:]*)?(\d+)?(?:\s*-\s*(\d+))?$", re.IGNORECASE)


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def where(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.path, mark.line + 1, mark.column + 1)

    def fail(self, node: yaml.Node, message: str) -> NoReturn:
        raise ExpectationError(f"{self.where(node)}: {message}")

    def mapping(
        self, node: yaml.Node, allowed: Sequence[str], what: str
    ) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping")
        out: dict[str, yaml.Node] = {}
        for key_node, value in node.value:
            key = self.scalar(key_node)
            if not isinstance(key, str):
                self.fail(key_node, f"keys of {what} are words, not {key!r}")
            if key in out:
                self.fail(key_node, f'duplicate key "{key}" in {what}')
            if key not in allowed:
                self.fail(
                    key_node,
                    f'unknown key "{key}" in {what} (expected one of {", ".join(allowed)})',
                )
            out[key] = value
        return out

    def scalar(self, node: yaml.Node) -> str | int | bool | None:
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, "expected a single value")
        value = str(node.value)
        if node.tag.endswith(":int"):
            try:
                return int(value, 0)
            except ValueError:
                return value
        if node.tag.endswith(":bool"):
            return value.lower() in ("true", "yes", "on")
        if node.tag.endswith(":null"):
            return None
        return value

    def text(self, node: yaml.Node, what: str) -> str:
        value = self.scalar(node)
        if not isinstance(value, str) or not value.strip():
            self.fail(node, f"{what} must be a non-empty string")
        return value.strip()

    # -- expectations ----------------------------------------------------

    def expectation(self, node: yaml.Node) -> Expectation:
        where = self.where(node)
        if isinstance(node, yaml.ScalarNode):
            self.fail(node, "an expectation is a mapping such as {allow: {from: ..., to: ...}}")
        fields = self.mapping(node, ("name", *_KINDS), "an expectation")
        kinds = [k for k in _KINDS if k in fields]
        if len(kinds) != 1:
            self.fail(node, "an expectation has exactly one of allow, deny or isolated")
        kind = kinds[0]
        name = self.text(fields["name"], "name") if "name" in fields else ""
        body = fields[kind]
        if kind == "isolated":
            return self.isolated(body, where, name)
        spec = self.mapping(body, ("from", "to", "ports"), kind)
        if "from" not in spec or "to" not in spec:
            self.fail(body, f'{kind} needs "from" and "to"')
        ports = self.ports(spec["ports"]) if "ports" in spec else None
        return Expectation(
            kind="allow" if kind == "allow" else "deny",
            location=where,
            name=name,
            src=self.group(spec["from"]),
            dst=self.group(spec["to"]),
            ports=ports,
        )

    def isolated(self, body: yaml.Node, where: Location, name: str) -> Expectation:
        direction = "ingress"
        excepted: Group | None = None
        if isinstance(body, yaml.ScalarNode):
            namespace = self.text(body, "isolated")
        else:
            spec = self.mapping(body, ("namespace", "direction", "except"), "isolated")
            if "namespace" not in spec:
                self.fail(body, 'isolated needs "namespace"')
            namespace = self.text(spec["namespace"], "namespace")
            if "direction" in spec:
                direction = self.text(spec["direction"], "direction").lower()
                if direction not in ("ingress", "egress", "both"):
                    self.fail(spec["direction"], "direction is ingress, egress or both")
            if "except" in spec:
                excepted = self.group(spec["except"])
        if "/" in namespace:
            self.fail(body, f'"{namespace}" is not a namespace name')
        return Expectation("isolated", where, name, namespace=namespace, direction=direction,
                           excepted=excepted)

    def group(self, node: yaml.Node) -> Group:
        if isinstance(node, yaml.SequenceNode):
            if not node.value:
                self.fail(node, "an empty list names nothing")
            parts = tuple(self.group(item) for item in node.value)
            return Group(" or ".join(p.text for p in parts), parts=parts)
        if isinstance(node, yaml.ScalarNode):
            return self.group_text(node)
        spec = self.mapping(
            node,
            ("namespace", "labels", "namespaceLabels", "cidr", "except"),
            "an endpoint group",
        )
        if "cidr" in spec:
            if set(spec) - {"cidr", "except"}:
                self.fail(node, "cidr cannot be combined with namespace or labels")
            block = self.cidr(spec["cidr"])
            text = self.text(spec["cidr"], "cidr")
            if "except" in spec:
                items = spec["except"]
                if not isinstance(items, yaml.SequenceNode):
                    self.fail(items, "except is a list of CIDRs")
                for item in items.value:
                    block = block - self.cidr(item)
                text += " except " + ", ".join(str(self.scalar(i)) for i in items.value)
            return Group(text, addresses=block)
        if "except" in spec:
            self.fail(node, "except belongs beside cidr")
        namespace = self.text(spec["namespace"], "namespace") if "namespace" in spec else None
        labels = self.selector(spec["labels"]) if "labels" in spec else None
        ns_labels = (
            self.selector(spec["namespaceLabels"]) if "namespaceLabels" in spec else None
        )
        words = []
        if namespace:
            words.append(f"namespace {namespace}")
        if ns_labels is not None:
            words.append(f"namespaces [{ns_labels}]")
        words.append(f"pods [{labels}]" if labels is not None else "all pods")
        return Group(
            "{" + ", ".join(words) + "}",
            namespace=namespace,
            labels=labels,
            namespace_labels=ns_labels,
            selection=True,
        )

    def group_text(self, node: yaml.Node) -> Group:
        text = self.text(node, "an endpoint")
        low = text.lower()
        if low in ("internet", "{internet}"):
            return Group("internet", addresses=INTERNET)
        if low in ("ingress-controller", "{ingress-controller}"):
            return Group(text, ref=text)
        if low == "outside":
            return Group("outside", addresses=OUTSIDE)
        try:
            ipaddress.ip_address(text)
        except ValueError:
            pass
        else:
            return Group(text, addresses=self.cidr(node, single=True))
        if re.match(r"^[0-9a-fA-F:.]+/\d+$", text):
            return Group(text, addresses=self.cidr(node))
        if text.count("/") not in (1, 2) or not all(text.split("/")):
            self.fail(
                node,
                f'cannot read endpoint "{text}": expected NAMESPACE/NAME, NAMESPACE/KIND/NAME, '
                "an IP address or CIDR, internet, outside, or a mapping "
                "{namespace: ..., labels: {...}}",
            )
        return Group(text, ref=text)

    def cidr(self, node: yaml.Node, single: bool = False) -> AddressSet:
        text = str(self.scalar(node)).strip()
        if single:
            text += "/128" if ":" in text else "/32"
        try:
            return AddressSet.cidr(text, strict=True)
        except ValueError as exc:
            self.fail(node, str(exc))

    def selector(self, node: yaml.Node) -> LabelSelector:
        spec = self.mapping(node, _ANY_KEY, "labels")
        labels = {}
        for key, value_node in spec.items():
            value = self.scalar(value_node)
            if value is None or isinstance(value, bool):
                self.fail(value_node, f'label "{key}" needs a string value (quote it)')
            labels[key] = str(value)
        return LabelSelector(Labels(labels))

    def ports(self, node: yaml.Node) -> PortSet:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if not items:
            self.fail(node, "an empty list of ports allows nothing; leave ports out for any port")
        out = PortSet.none()
        for item in items:
            out = out | self.port(item)
        return out

    def port(self, node: yaml.Node) -> PortSet:
        if isinstance(node, yaml.MappingNode):
            spec = self.mapping(node, ("protocol", "port", "endPort"), "a port")
            proto = "TCP"
            if "protocol" in spec:
                try:
                    proto = canonical_protocol(str(self.scalar(spec["protocol"])))
                except ValueError as err:
                    self.fail(spec["protocol"], str(err))
            if "port" not in spec:
                return PortSet.protocol(proto)
            if proto not in PORT_PROTOCOLS:
                self.fail(spec["port"], f"{proto} has no ports")
            first = self._number(spec["port"])
            last = self._number(spec["endPort"]) if "endPort" in spec else first
            if last < first:
                self.fail(node, "endPort is below port")
            return PortSet.range(proto, first, last)
        value = self.scalar(node)
        if isinstance(value, int) and not isinstance(value, bool):
            self._check_range(node, value)
            return PortSet.single("TCP", value)
        match = _PORT_RE.match(str(value).strip())
        if not match or not (match.group(1) or match.group(2)):
            self.fail(node, f'cannot read port "{value}": write 8080, "TCP 8080", '
                      '"UDP 53", "TCP 8000-8100" or "SCTP"')
        proto = (match.group(1) or "TCP").upper()
        if match.group(2) is None:
            return PortSet.protocol(proto)
        first = int(match.group(2))
        last = int(match.group(3)) if match.group(3) else first
        self._check_range(node, first)
        self._check_range(node, last)
        if last < first:
            self.fail(node, "the end of a port range is below its start")
        return PortSet.range(proto, first, last)

    def _number(self, node: yaml.Node) -> int:
        value = self.scalar(node)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(node, "a port number is expected here (named ports are not supported)")
        self._check_range(node, value)
        return value

    def _check_range(self, node: yaml.Node, value: int) -> None:
        if not 1 <= value <= MAX_PORT:
            self.fail(node, f"port {value} is out of range 1-{MAX_PORT}")


class _AnyKey(tuple[str, ...]):
    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)


_ANY_KEY = _AnyKey(("any label key",))


# ---------------------------------------------------------------------------
# evaluating


@dataclass(slots=True)
class _Members:
    """A group resolved: pod indices, and outside atoms as (column, lo, hi, shown as)."""

    pods: list[int] = field(default_factory=list)
    atoms: list[tuple[int, int, int, str]] = field(default_factory=list)


class _Unresolved(Exception):
    pass


def _resolve(net: Network, group: Group) -> _Members:
    if group.parts:
        out = _Members()
        for part in group.parts:
            found = _resolve(net, part)
            out.pods.extend(i for i in found.pods if i not in out.pods)
            out.atoms.extend(a for a in found.atoms if a not in out.atoms)
        return out
    if group.addresses is not None:
        c = net.compiled
        atoms = []
        for k, (lo, hi) in enumerate(c.externals):
            overlap = group.addresses.intervals & IntervalSet.of((lo, hi))
            if overlap:
                first = overlap.intervals[0]
                shown = format_range(*first)
                if len(overlap.intervals) > 1:
                    shown += f" and {len(overlap.intervals) - 1} more ranges"
                atoms.append((c.n_classes + k, first[0], first[1], f"{group.text} ({shown})"))
        return _Members(atoms=atoms)
    if group.ref is not None:
        try:
            return _Members(pods=list(net.resolve(group.ref).pods))
        except ReachError as exc:
            raise _Unresolved(f"{group.ref}: {exc}") from None
    chosen = []
    for i, pod in enumerate(net.pods):
        if group.namespace is not None and pod.namespace != group.namespace:
            continue
        if group.namespace_labels is not None:
            ns = net.cluster.namespace(pod.namespace)
            if not matches(group.namespace_labels, ns.labels):
                continue
        if group.labels is not None and not matches(group.labels, pod.labels):
            continue
        chosen.append(i)
    return _Members(pods=chosen)


def _pod_endpoint(pod: Pod) -> Endpoint:
    return pod_endpoint(pod, "pod")


def _display(pod: Pod) -> Endpoint:
    return Endpoint(pod.workload_kind, pod.namespace, pod.workload_name)


def _pairs(
    net: Network, src: _Members, dst: _Members
) -> Iterator[tuple[Endpoint, Endpoint, Endpoint, Endpoint, PortSet]]:
    """Each distinct (class or atom) pair: shown ends, ends to explain, allowed ports."""
    c = net.compiled
    pods = net.pods
    src_by_class: dict[int, list[int]] = {}
    for i in src.pods:
        src_by_class.setdefault(int(c.pod_class[i]), []).append(i)
    dst_by_class: dict[int, list[int]] = {}
    for i in dst.pods:
        dst_by_class.setdefault(int(c.pod_class[i]), []).append(i)
    for a, a_pods in src_by_class.items():
        for b, b_pods in dst_by_class.items():
            if a == b and len(set(a_pods) | set(b_pods)) == 1:
                continue  # a pod with itself
            s = a_pods[0]
            d = next((x for x in b_pods if x != s), b_pods[0])
            yield (_display(pods[s]), _display(pods[d]), _pod_endpoint(pods[s]),
                   _pod_endpoint(pods[d]), c.pod_ports(s, d))
        for column, lo, _hi, shown in dst.atoms:
            ext = Endpoint("External", "", shown, lo, _hi)
            yield (_display(pods[a_pods[0]]), ext, _pod_endpoint(pods[a_pods[0]]),
                   Endpoint.external(lo, lo), c.column_ports(a, column))
    for column, lo, _hi, shown in src.atoms:
        ext = Endpoint("External", "", shown, lo, _hi)
        for b, b_pods in dst_by_class.items():
            yield (ext, _display(pods[b_pods[0]]), Endpoint.external(lo, lo),
                   _pod_endpoint(pods[b_pods[0]]), c.column_ports(column, b))


def _first_port(ports: PortSet) -> tuple[str, int] | None:
    for proto, ranges in ports.to_dict().items():
        return proto, ranges[0][0]
    return None


def _explain(net: Network, src: Endpoint, dst: Endpoint, ports: PortSet | None) -> str:
    first = _first_port(ports) if ports is not None else None
    try:
        if first is None:
            verdict = net.can(src, dst)
        else:
            verdict = net.can(src, dst, port=first[1], protocol=first[0])
    except ReachError as exc:  # pragma: no cover - the ends come from the network itself
        return f"(no explanation: {exc})"
    # caveats are the network's, said once (stderr, JSON), not under every pair
    return "\n".join(line for line in str(verdict).splitlines()
                     if not line.startswith("caveat: "))


def _check_pairs(
    net: Network, e: Expectation, src: _Members, dst: _Members, outside_note: str = ""
) -> Result:
    violations: list[Violation] = []
    total = 0
    for shown_src, shown_dst, src_ep, dst_ep, allowed in _pairs(net, src, dst):
        if e.kind == "allow":
            wanted = e.ports
            offending = (wanted - allowed) if wanted is not None else (
                PortSet.all() if not allowed else PortSet.none()
            )
            bad = bool(offending)
            explain_ports = offending if wanted is not None else None
        else:
            offending = allowed & e.ports if e.ports is not None else allowed
            bad = bool(offending)
            explain_ports = offending if e.ports is not None else None
        if not bad:
            continue
        total += 1
        if len(violations) < MAX_SHOWN:
            text = _explain(net, src_ep, dst_ep, explain_ports)
            violations.append(Violation(shown_src, shown_dst, allowed, offending, text))
    if not total:
        return Result(e, "pass")
    if e.kind == "allow":
        message = f"{total} pair{'s' if total != 1 else ''} cannot connect as expected"
    else:
        message = f"{total} pair{'s' if total != 1 else ''} can connect{outside_note}"
    return Result(e, "fail", message, tuple(violations), total)


def _service_target(net: Network, group: Group, e: Expectation) -> Resolved | None:
    """The Service (or Ingress, Route) a destination names, if it names one: as for
    ``reach can``, NAMESPACE/NAME of a workload fronted by a Service of its name is the
    Service when every port listed is the Service's and none is one the pods declare."""
    if group.ref is None:
        return None
    try:
        found = net.resolve(group.ref)
    except ReachError:
        return None
    if found.kind in ("service", "ingress"):
        return found
    parts = group.ref.strip().split("/")
    if found.kind != "pods" or len(parts) != 2 or e.ports is None or not e.ports:
        return None
    listed = [(proto, first) for proto, ranges in e.ports.to_dict().items()
              for first, last in ranges if first == last]
    if len(listed) != sum(len(r) for r in e.ports.to_dict().values()):
        return None  # a range of ports is about the pods
    chosen = [net.resolve(group.ref, port, proto) for proto, port in listed]
    if any(c.service is None for c in chosen) or len({c.endpoint for c in chosen}) != 1:
        return None
    return chosen[0]


def _service_ports(net: Network, target: Resolved, e: Expectation) -> list[int | None]:
    """The service ports an expectation asks about (None: any service port)."""
    if e.ports is None:
        return [None]
    infos = [target.service] if target.service is not None else [
        r.service for r in target.routes]
    numbers = sorted({sp.port for info in infos if info is not None
                      for sp in info.service.ports
                      if e.ports.allows(sp.protocol, sp.port)})
    return list(numbers)


def _check_service(net: Network, e: Expectation, src: _Members, target: Resolved) -> Result:
    """A Service (or Ingress) destination: every client pod (or outside atom) asked per
    backend on each service port the expectation lists. ``allow`` holds when every
    backend admits every client; ``deny`` when no backend admits any."""
    reason = _empty(e.src or "", src)
    if reason:
        return Result(e, "fail", reason)
    wanted = _service_ports(net, target, e)
    if not wanted:
        return Result(e, "error" if e.kind == "allow" else "pass",
                      f"{target.endpoint} has none of the ports {e.ports}"
                      if e.kind == "allow" else "")
    clients: list[tuple[Endpoint, Endpoint]] = []
    seen: set[int] = set()
    for i in src.pods:
        cls = int(net.compiled.pod_class[i])
        if cls not in seen:
            seen.add(cls)
            pod = net.pods[i]
            clients.append((_display(pod), _pod_endpoint(pod)))
    for _, lo, hi, text in src.atoms:
        clients.append((Endpoint("External", "", text, lo, hi), Endpoint.external(lo, lo)))
    violations: list[Violation] = []
    total = 0
    for shown, client in clients:
        for port in wanted:
            verdict = net.can(client, target.endpoint, port, any_backend=e.kind == "deny")
            bad = not verdict if e.kind == "allow" else bool(verdict)
            if not bad:
                continue
            total += 1
            if len(violations) < MAX_SHOWN:
                asked = _service_port_set(target, port)
                text = "\n".join(line for line in str(verdict).splitlines()
                                 if not line.startswith("caveat: "))
                violations.append(Violation(shown, target.endpoint, verdict.ports,
                                            asked - verdict.ports if e.kind == "allow"
                                            else verdict.ports & asked, text))
    if not total:
        return Result(e, "pass")
    what = "cannot use it as expected" if e.kind == "allow" else "can use it"
    return Result(e, "fail", f"{total} client{'s' if total != 1 else ''} {what}",
                  tuple(violations), total)


def _service_port_set(target: Resolved, port: int | None) -> PortSet:
    infos = [target.service] if target.service is not None else [
        r.service for r in target.routes]
    out = PortSet.none()
    for info in infos:
        for sp in info.service.ports:
            if port is None or sp.port == port:
                out = out | PortSet.single(sp.protocol, sp.port)
    return out


def _empty(group: Group | str, members: _Members) -> str:
    if members.pods or members.atoms:
        return ""
    return f'"{group}" matches no pod (a typo? an empty group would pass vacuously)'


def _evaluate(net: Network, e: Expectation) -> Result:
    if e.kind == "isolated":
        inside = [i for i, p in enumerate(net.pods) if p.namespace == e.namespace]
        if not inside:
            return Result(e, "fail", f'namespace "{e.namespace}" has no pod')
        spared = _Members()
        if e.excepted is not None:
            try:
                spared = _resolve(net, e.excepted)
            except _Unresolved as exc:
                return Result(e, "error", f"cannot resolve {exc}")
        spared_pods = set(spared.pods)
        outside_pods = [
            i for i, p in enumerate(net.pods)
            if p.namespace != e.namespace and i not in spared_pods
        ]
        c = net.compiled
        spared_addresses = e.excepted.addresses_within() if e.excepted else AddressSet.none()
        atoms = [
            (c.n_classes + k, lo, hi, f"outside ({format_range(lo, hi)})")
            for k, (lo, hi) in enumerate(c.externals)
            if not IntervalSet.of((lo, hi)).issubset(spared_addresses.intervals)
        ]
        mine = _Members(pods=inside)
        rest = _Members(pods=outside_pods, atoms=atoms)
        results = []
        if e.direction in ("ingress", "both"):
            results.append(_check_pairs(net, e, rest, mine, " into the namespace"))
        if e.direction in ("egress", "both"):
            results.append(_check_pairs(net, e, mine, rest, " out of the namespace"))
        failed = [r for r in results if not r.passed]
        if not failed:
            return Result(e, "pass")
        return Result(
            e,
            "fail",
            "; ".join(r.message for r in failed),
            tuple(v for r in failed for v in r.violations)[: MAX_SHOWN],
            sum(r.total for r in failed),
        )
    assert e.src is not None and e.dst is not None
    target = _service_target(net, e.dst, e)
    if target is not None:
        try:
            src = _resolve(net, e.src)
        except _Unresolved as exc:
            return Result(e, "error", f"cannot resolve {exc}")
        return _check_service(net, e, src, target)
    try:
        src, dst = _resolve(net, e.src), _resolve(net, e.dst)
    except _Unresolved as exc:
        return Result(e, "error", f"cannot resolve {exc}")
    for group, members in ((e.src, src), (e.dst, dst)):
        reason = _empty(group, members)
        if reason:
            return Result(e, "fail", reason)
    if not src.pods and not dst.pods:
        return Result(e, "error", "both ends are outside the cluster: no policy applies there")
    return _check_pairs(net, e, src, dst)


def check(
    net: Network, expectations: Sequence[Expectation], source: str = ""
) -> CheckReport:
    """Check every expectation against ``net``.

    Parameters
    ----------
    net
        The analysed network.
    expectations
        From :func:`load_expectations` or :func:`parse_expectations`.
    source
        Where the expectations came from (shown in reports and JUnit XML).

    Returns
    -------
    CheckReport
        Truthy when every expectation holds. A violated expectation lists the first
        violating pairs with the verdict of :meth:`Network.can`, which names the
        policies and rules that decide.

    Examples
    --------
    >>> from reach.model import Cluster, Pod
    >>> net = Network(Cluster(pods=(Pod("ns", "a"), Pod("ns", "b"))))
    >>> report = check(net, parse_expectations("- deny: {from: ns/a, to: ns/b, ports: [22]}"))
    >>> report.ok
    False
    >>> print(report.format())  # doctest: +ELLIPSIS
    FAIL  ns/a does not reach ns/b on TCP 22 (<string>:1:3)
          1 pair can connect
          ns/a[Pod] => ns/b[Pod] : allowed TCP 22
            ns/a[Pod] -> ns/b[Pod]: ALLOWED on TCP 22
            egress of source ns/a: not isolated (no policy selects it for egress), ...
            ingress of destination ns/b: not isolated (no policy selects it for ingress), ...
            allowed between them: All Connections
    1 expectation: 0 passed, 1 failed
    """
    results = tuple(_evaluate(net, e) for e in expectations)
    if not source and expectations:
        source = expectations[0].location.path
    return CheckReport(results, source)

