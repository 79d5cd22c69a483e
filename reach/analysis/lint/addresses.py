"""Addresses written wrong or used fragilely: cidr-host-bits, ipblock-matches-pods."""

from __future__ import annotations

from collections.abc import Iterator

from reach.analysis.lint.facts import Facts, block_set, pod_keys, rule_name, short_list
from reach.analysis.lint.finding import Check, Finding
from reach.engine.addresses import parse_cidr
from reach.model import (
    IPBlock,
    Location,
    Peer,
    Policy,
    Rule,
)


def _iter_ip_blocks(
    facts: Facts,
) -> Iterator[tuple[Policy, Rule, Peer, IPBlock]]:
    for policy in facts.net.cluster.policies:
        for rule in policy.ingress + policy.egress:
            for peer in rule.peers:
                if peer.ip_block is not None:
                    yield policy, rule, peer, peer.ip_block


def _block_location(peer: Peer, block: IPBlock, rule: Rule) -> Location:
    for loc in (block.location, peer.location, rule.location):
        if loc.line:
            return loc
    return block.location


def _cidr_findings(facts: Facts) -> Iterator[Finding]:
    for policy, rule, peer, block in _iter_ip_blocks(facts):
        for text in (block.cidr, *block.except_):
            try:
                parse_cidr(text, strict=True)
            except ValueError as exc:
                if "host bits" not in str(exc):
                    continue
                network = str(exc).rsplit("the network is ", 1)[-1].rstrip(")")
                yield Finding(
                    "error",
                    "cidr-host-bits",
                    f'{rule_name(policy, rule)}: CIDR "{text}" has host bits set; it '
                    f"means {network}",
                    _block_location(peer, block, rule),
                    f"write {network} if that is what you mean; to match one address "
                    "use a /32 (IPv4) or /128 (IPv6)",
                    rule_name(policy, rule),
                )


def _ipblock_pod_findings(facts: Facts) -> Iterator[Finding]:
    """ipblock-matches-pods: an ipBlock that tells pods apart by their (ephemeral) IPs."""
    pods = [p for p in facts.net.pods if not p.host_network and p.ips]
    keyed = [(p, pod_keys(p)) for p in pods]
    keyed = [(p, keys) for p, keys in keyed if keys]
    if not keyed:
        return
    all_keys = {k for _, keys in keyed for k in keys}
    seen: set[tuple[str, str, IPBlock]] = set()
    for policy, rule, peer, block in _iter_ip_blocks(facts):
        mark = (policy.ref, rule_name(policy, rule), block)
        if mark in seen:
            continue
        seen.add(mark)
        addresses = block_set(block)
        singles = {single_address(text) for text in (block.cidr, *block.except_)}
        if not singles & all_keys and (
            all(k in addresses for k in all_keys) or not any(k in addresses for k in all_keys)
        ):
            continue  # names no pod IP, and holds all pods or none: not telling pods apart
        inside = [p for p, keys in keyed if any(k in addresses for k in keys)]
        inside_refs = {p.ref for p in inside}
        outside = [p for p, _ in keyed if p.ref not in inside_refs]
        exact = [p for p, keys in keyed if singles & set(keys)]
        parts = []
        if exact:
            parts.append(f"it names the IP of {short_list(p.ref for p in exact)}")
        if inside and outside:
            parts.append(
                f"it matches {short_list(p.ref for p in inside)} but not "
                f"{short_list(p.ref for p in outside)}"
            )
        if not parts:
            continue
        semantics = (
            "with ipBlocks applied to pod IPs (as Calico does)"
            if facts.net.options.ipblock_pods
            else "on plugins that apply ipBlocks to pod IPs (such as Calico)"
        )
        yield Finding(
            "warning",
            "ipblock-matches-pods",
            f"{rule_name(policy, rule)}: ipBlock {block} matches pods by IP "
            f"{semantics}: {'; '.join(parts)}. Pod IPs change when pods restart",
            _block_location(peer, block, rule),
            "select pods by labels (podSelector/namespaceSelector); keep ipBlocks for "
            "addresses outside the cluster",
            rule_name(policy, rule),
        )


def single_address(text: str) -> int | None:
    try:
        lo, hi = parse_cidr(text, strict=False)
    except ValueError:
        return None
    return lo if lo == hi else None


CHECKS = (
    Check(_cidr_findings, {
        "cidr-host-bits": ("error", "a CIDR with host bits set"),
    }),
    Check(_ipblock_pod_findings, {
        "ipblock-matches-pods": ("warning", "an ipBlock that tells pods apart by their IPs"),
    }),
)
