"""NetworkPolicy (networking.k8s.io/v1) to :class:`reach.model.Policy`, fully validated.

Every unknown field, at any depth, is refused at its key with a hint that says
where it probably belongs: most wrong policies are indentation mistakes that YAML
accepts and the API server would reject (or, worse, read as something else).
"""

from __future__ import annotations

from yaml.nodes import Node

from reach.documents._fields import (
    Meta,
    check_fields,
    read_port_name,
    read_port_number,
    read_protocol,
    read_selector,
)
from reach.documents._yaml import Mapping, Source, is_null
from reach.engine.addresses import parse_cidr
from reach.model import (
    NETWORKPOLICY_ORDER,
    Diagnostic,
    IPBlock,
    LabelSelector,
    Peer,
    Policy,
    PolicyPort,
    Rule,
)

__all__ = ["read_policy"]

_TOP = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_SPEC = frozenset({"podSelector", "policyTypes", "ingress", "egress"})
_RULE = {"ingress": frozenset({"from", "ports"}), "egress": frozenset({"to", "ports"})}
_PEER = frozenset({"podSelector", "namespaceSelector", "ipBlock"})
_IPBLOCK = frozenset({"cidr", "except"})
_PORT = frozenset({"protocol", "port", "endPort"})
_POLICY_TYPES = ("Ingress", "Egress")

_UNDER_SPEC = "it belongs under spec: indent it under `spec:`"
_TOP_HINTS = {
    **{key: _UNDER_SPEC for key in _SPEC},
    **{key: "it belongs under metadata" for key in ("name", "namespace", "labels")},
}


def _spec_hints() -> dict[str, str]:
    return {
        "from": "from belongs to an ingress rule: `ingress: [{from: [...], ports: [...]}]`",
        "to": "to belongs to an egress rule: `egress: [{to: [...], ports: [...]}]`",
        "ports": "ports belongs to a rule, beside from/to: indent it under an ingress or "
        "egress rule",
        "selector": "did you mean podSelector?",
        "namespaceSelector": "a namespaceSelector belongs in a peer under from/to; "
        "spec.podSelector selects the pods of the policy's own namespace",
        "ipBlock": "an ipBlock belongs in a peer under from/to",
    }


def _rule_hints(direction: str) -> dict[str, str]:
    peers = "from" if direction == "ingress" else "to"
    other = "to" if direction == "ingress" else "from"
    hints = {
        other: f"{direction} rules use `{peers}`; `{other}` is for "
        f"{'egress' if direction == 'ingress' else 'ingress'} rules",
        "except": "did you mean ipBlock.except? it must be indented under ipBlock",
        "cidr": "did you mean ipBlock.cidr? it must be indented under ipBlock",
        "matchLabels": "it belongs under podSelector or namespaceSelector, inside a peer",
        "matchExpressions": "it belongs under podSelector or namespaceSelector, inside a peer",
    }
    for key in ("podSelector", "namespaceSelector", "ipBlock"):
        hints[key] = f"a peer is a list item under `{peers}`: write `- {peers}:` then `  - {key}:`"
    for key in ("port", "protocol", "endPort"):
        hints[key] = f"did you mean ports[].{key}? it must be in a list item under `ports`"
    return hints


def _peer_hints(direction: str) -> dict[str, str]:
    peers = "from" if direction == "ingress" else "to"
    hints = {
        "ports": f"ports belongs to the rule, beside from/to: indent it at the level of `{peers}`",
        "except": "did you mean ipBlock.except? it must be indented under ipBlock",
        "cidr": "did you mean ipBlock.cidr? it must be indented under ipBlock",
        "matchLabels": "it belongs under podSelector or namespaceSelector: indent it there",
        "matchExpressions": "it belongs under podSelector or namespaceSelector: indent it there",
        "from": "a peer cannot hold `from`: check the indentation of this rule",
        "to": "a peer cannot hold `to`: check the indentation of this rule",
    }
    for key in ("port", "protocol", "endPort"):
        hints[key] = f"it belongs to a ports entry of the rule, beside `{peers}`"
    return hints


def _ipblock_hints(direction: str) -> dict[str, str]:
    peers = "from" if direction == "ingress" else "to"
    hints = {
        "ports": f"ports belongs to the rule, beside from/to: indent it at the level of `{peers}`",
    }
    for key in ("podSelector", "namespaceSelector"):
        hints[key] = (
            f"{key} belongs to its own peer, not inside ipBlock; an ipBlock peer "
            "cannot also have selectors"
        )
    return hints


_PORT_HINTS = {
    "targetPort": "NetworkPolicy ports use `port` (and `endPort` for a range)",
    "containerPort": "NetworkPolicy ports use `port` (and `endPort` for a range)",
    "name": "a named port is written `port: <name>`",
    "from": "from belongs to the rule, not to a ports entry: check the indentation",
    "to": "to belongs to the rule, not to a ports entry: check the indentation",
}
_SELECTOR_HINTS = {
    "podSelector": "podSelector goes beside namespaceSelector in the same peer, not inside it",
    "namespaceSelector": "namespaceSelector goes beside podSelector in the same peer, "
    "not inside it",
    "ports": "ports belongs to the rule, beside from/to: check the indentation",
}


def read_policy(
    src: Source, fields: Mapping, meta: Meta, root: Node, notes: list[Diagnostic]
) -> Policy:
    """Build a :class:`Policy`; refuse anything the API server would refuse."""
    check_fields(src, fields, _TOP, "NetworkPolicy", _TOP_HINTS)
    spec_entry = fields.get("spec")
    spec = src.mapping(spec_entry[1], "spec") if spec_entry else None
    if spec is None:
        notes.append(Diagnostic(
            "warning",
            f"NetworkPolicy {meta.namespace}/{meta.name} has no spec: it selects every pod "
            "of its namespace and denies all their ingress",
            meta.location,
        ))
        spec = {}
    check_fields(src, spec, _SPEC, "NetworkPolicy spec", _spec_hints())
    selector_entry = spec.get("podSelector")
    if selector_entry is None and spec_entry is not None:
        notes.append(Diagnostic(
            "warning",
            f"NetworkPolicy {meta.namespace}/{meta.name} has no spec.podSelector: "
            "it selects every pod of its namespace (write `podSelector: {}` to say so)",
            meta.location,
        ))
    pod_selector = (
        read_selector(src, selector_entry[1], "spec.podSelector", _SELECTOR_HINTS)
        if selector_entry else None
    ) or LabelSelector()
    rules = {
        direction: _rules(src, spec.get(direction), direction)
        for direction in ("ingress", "egress")
    }
    types_entry = spec.get("policyTypes")
    types = _policy_types(src, types_entry[1]) if types_entry else ()
    if not types:
        # API server defaulting: "Any policy that does not specify policyTypes implies
        # at least Ingress", plus Egress when len(spec.egress) != 0.
        types = ("Ingress", "Egress") if rules["egress"] else ("Ingress",)
    return Policy(
        namespace=meta.namespace,
        name=meta.name,
        pod_selector=pod_selector,
        policy_types=types,
        ingress=rules["ingress"],
        egress=rules["egress"],
        location=meta.location,
        priority=NETWORKPOLICY_ORDER,
    )


def _policy_types(src: Source, node: Node) -> tuple[str, ...]:
    items = src.sequence(node, "policyTypes") or []
    if len(items) > 2:
        src.fail(node, "policyTypes may not list more than two types",
                 "use Ingress, Egress or both")
    seen: list[str] = []
    for item in items:
        value = src.string(item, "a policyTypes entry")
        if value not in _POLICY_TYPES:
            near = [t for t in _POLICY_TYPES if value and t.lower() == value.lower()]
            hint = f"did you mean {near[0]}? " if near else ""
            src.fail(item, f'unknown policy type "{value}"', f"{hint}valid: Ingress, Egress")
        if value not in seen:
            seen.append(value)
    return tuple(t for t in _POLICY_TYPES if t in seen)


def _rules(src: Source, entry: tuple[Node, Node] | None, direction: str) -> tuple[Rule, ...]:
    if entry is None:
        return ()
    items = src.sequence(entry[1], f"spec.{direction}") or []
    return tuple(_rule(src, item, direction, index) for index, item in enumerate(items))


def _rule(src: Source, node: Node, direction: str, index: int) -> Rule:
    fields = src.mapping(node, f"an {direction} rule") or {}
    check_fields(src, fields, _RULE[direction], f"{direction} rule", _rule_hints(direction))
    peers_key = "from" if direction == "ingress" else "to"
    peers_entry = fields.get(peers_key)
    peer_items = (src.sequence(peers_entry[1], peers_key) if peers_entry else None) or []
    ports_entry = fields.get("ports")
    port_items = (src.sequence(ports_entry[1], "ports") if ports_entry else None) or []
    return Rule(
        direction="ingress" if direction == "ingress" else "egress",
        index=index,
        peers=tuple(_peer(src, item, direction) for item in peer_items),
        ports=tuple(_port(src, item) for item in port_items),
        location=src.location(node),
    )


def _peer(src: Source, node: Node, direction: str) -> Peer:
    peers_key = "from" if direction == "ingress" else "to"
    fields = src.mapping(node, f"a {peers_key} peer") or {}
    check_fields(src, fields, _PEER, f"{direction} peer", _peer_hints(direction))
    present = {key: entry for key, entry in fields.items() if not is_null(entry[1])}
    if not present:
        nulls = [key for key in fields if key != "ipBlock"]
        hint = (
            f"`{nulls[0]}:` with no value is null; write `{nulls[0]}: {{}}` to select "
            "every pod" if nulls else
            f"to allow every peer, leave `{peers_key}` out or write `{peers_key}: []`"
        )
        src.fail(node, "empty peer: a peer needs podSelector, namespaceSelector or ipBlock",
                 hint)
    if "ipBlock" in present and len(present) > 1:
        other = next(key for key in present if key != "ipBlock")
        src.fail(
            present[other][0],
            f"a peer may not combine ipBlock with {other}",
            f"write two peers: `- ipBlock: ...` and `- {other}: ...`",
        )
    pods = present.get("podSelector")
    namespaces = present.get("namespaceSelector")
    block = present.get("ipBlock")
    return Peer(
        pod_selector=read_selector(src, pods[1], "podSelector", _SELECTOR_HINTS) if pods else None,
        namespace_selector=(
            read_selector(src, namespaces[1], "namespaceSelector", _SELECTOR_HINTS)
            if namespaces else None
        ),
        ip_block=_ip_block(src, block[1], direction) if block else None,
        location=src.location(node),
    )


def _ip_block(src: Source, node: Node, direction: str) -> IPBlock:
    fields = src.mapping(node, "ipBlock") or {}
    check_fields(src, fields, _IPBLOCK, "ipBlock", _ipblock_hints(direction))
    cidr_entry = fields.get("cidr")
    cidr = src.string(cidr_entry[1], "ipBlock.cidr") if cidr_entry else None
    if not cidr:
        src.fail(cidr_entry[1] if cidr_entry else node, "ipBlock needs a cidr",
                 "e.g. `cidr: 10.0.0.0/8`")
    assert cidr_entry is not None
    try:
        lo, hi = _cidr(cidr)
    except ValueError as exc:
        src.fail(cidr_entry[1], str(exc), "ipBlock.cidr is a network such as 10.0.0.0/8")
    except_entry = fields.get("except")
    excepts: list[str] = []
    for item in (src.sequence(except_entry[1], "ipBlock.except") if except_entry else None) or []:
        text = src.string(item, "an ipBlock.except entry")
        if not text:
            src.fail(item, "empty ipBlock.except entry", "write a CIDR such as 10.1.0.0/16")
        try:
            ex_lo, ex_hi = _cidr(text)
        except ValueError as exc:
            src.fail(item, str(exc), "ipBlock.except entries are networks such as 10.1.0.0/16")
        if (ex_lo >= 1 << 128) != (lo >= 1 << 128):
            families = ("IPv6", "IPv4") if ex_lo >= 1 << 128 else ("IPv4", "IPv6")
            src.fail(item, f'except "{text}" is {families[0]} but cidr "{cidr}" is '
                     f"{families[1]}", "an except must be inside its cidr")
        if not (lo <= ex_lo and ex_hi <= hi):
            src.fail(item, f'except "{text}" is not inside cidr "{cidr}"',
                     "each except entry must be a strict subset of the cidr")
        if (ex_lo, ex_hi) == (lo, hi):
            src.fail(item, f'except "{text}" is the whole cidr "{cidr}"',
                     "each except entry must be a strict subset of the cidr; "
                     "this peer would match nothing")
        excepts.append(text)
    return IPBlock(cidr=cidr, except_=tuple(excepts), location=src.location(node))


def _cidr(text: str) -> tuple[int, int]:
    """Address keys of a CIDR written in ASCII; host bits are allowed (a lint warns)."""
    if not text.isascii():
        raise ValueError(f'invalid CIDR "{text}": not an IPv4 or IPv6 network')
    return parse_cidr(text, strict=False)


def _port(src: Source, node: Node) -> PolicyPort:
    fields = src.mapping(node, "a ports entry") or {}
    check_fields(src, fields, _PORT, "ports entry", _PORT_HINTS)
    protocol_entry = fields.get("protocol")
    protocol = read_protocol(src, protocol_entry[1]) if protocol_entry else "TCP"
    port_entry = fields.get("port")
    port = src.int_or_string(port_entry[1], "port") if port_entry else None
    end_entry = fields.get("endPort")
    end_port = read_port_number(src, end_entry[1], "endPort") if end_entry else None
    if isinstance(port, str):
        assert port_entry is not None
        read_port_name(src, port_entry[1], port, "port name")
        if end_entry is not None and end_port is not None:
            src.fail(end_entry[0], f'endPort may not be used with a named port ("{port}")',
                     "endPort needs a numeric port")
    elif port is not None:
        assert port_entry is not None
        read_port_number(src, port_entry[1], "port")
        if end_port is not None and end_port < port:
            assert end_entry is not None
            src.fail(end_entry[1], f"endPort {end_port} is below port {port}",
                     "endPort is the last port of the range and must be >= port")
    elif end_entry is not None and end_port is not None:
        src.fail(end_entry[0], f"endPort {end_port} needs a port",
                 "write `port: <first>` with `endPort: <last>`")
    return PolicyPort(protocol=protocol, port=port, end_port=end_port,
                      location=src.location(node))
