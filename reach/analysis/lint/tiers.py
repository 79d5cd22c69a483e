"""Admin and baseline tiers: rules that never decide, passes that change nothing,
baselines never reached, priorities whose order decides.

Each is decided exactly, over the compiled classes: for every *profile* (the classes
that the same admin or baseline policies of one tier select, in evaluation order) the
tier is walked column by column as the compiler walks it, and compared with the walk
without the rule, or with two policies swapped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from reach.analysis.lint.facts import DIRECTIONS, Facts, IntArray, isolating, short_list
from reach.analysis.lint.finding import Check, Finding
from reach.engine.addresses import format_range
from reach.engine.compiler import Plan, walk_column
from reach.engine.portsets import NO_PORTS, iter_bits
from reach.model import NETWORKPOLICY_TIER, Direction, Policy, Rule, Tier

__all__ = ["CHECKS"]

Key = tuple[int, int]  # (policy index in cluster.policies, rule index in its direction)


@dataclass(slots=True)
class _Profile:
    """Classes that the same policies of one tier select for one direction."""

    direction: Direction
    tier: Tier
    classes: list[int]
    chosen: tuple[int, ...]  # policy indices, in evaluation order
    rows: dict[Key, IntArray]  # what each rule matches there, column by column


def _profiles(facts: Facts) -> list[_Profile]:
    policies = facts.net.cluster.policies
    out: list[_Profile] = []
    for direction in DIRECTIONS:
        indices = sorted(
            (i for i, p in enumerate(policies) if p.applies(direction) and not isolating(p)),
            key=lambda i: policies[i].order)
        selected = {i: facts.selects(policies[i]) for i in indices}
        groups: dict[tuple[Tier, tuple[int, ...], object], list[int]] = {}
        for k in range(facts.n):
            by_tier: dict[Tier, list[int]] = {}
            for i in indices:
                if selected[i] >> k & 1:
                    by_tier.setdefault(policies[i].tier, []).append(i)
            # ingress ports resolve named ports on the selected pod itself
            named = facts.reps[k].ports if direction == "ingress" else ()
            for tier, in_tier in by_tier.items():
                groups.setdefault((tier, tuple(in_tier), named), []).append(k)
        for (tier, chosen, _named), members in groups.items():
            k = members[0]
            rows = {(pi, ri): facts.rule_row(policies[pi], rule, k)
                    for pi in chosen for ri, rule in enumerate(policies[pi].rules(direction))}
            out.append(_Profile(direction, tier, members, chosen, rows))
    return out


def _order(facts: Facts, profile: _Profile, chosen: tuple[int, ...] | None = None,
           without: Key | None = None) -> list[tuple[Key, str]]:
    policies = facts.net.cluster.policies
    return [((pi, ri), rule.action)
            for pi in (chosen if chosen is not None else profile.chosen)
            for ri, rule in enumerate(policies[pi].rules(profile.direction))
            if (pi, ri) != without]


@dataclass(slots=True)
class _Walk:
    hits: dict[Key, IntArray]
    allowed: IntArray
    denied: IntArray

    def same(self, other: _Walk) -> bool:
        return bool(np.array_equal(self.allowed, other.allowed)
                    and np.array_equal(self.denied, other.denied))


def _walk(facts: Facts, profile: _Profile, order: list[tuple[Key, str]]) -> _Walk:
    """The profile's tier walked as the compiler walks it, at every distinct column:
    each rule's share, what the tier allows and what it denies."""
    plan: Plan = ((profile.tier.ends_in_deny, tuple(action for _, action in order)),)
    matrix = np.stack([profile.rows[key] for key, _ in order]) if order else (
        np.zeros((1, facts.cols), dtype=np.int64))
    columns, inverse = np.unique(matrix.T, axis=0, return_inverse=True)
    walked = [walk_column(facts.table, plan, column.tolist()) for column in columns]
    inverse = inverse.reshape(-1)

    def spread(values: list[int]) -> IntArray:
        out: IntArray = np.array(values, dtype=np.int64)[inverse]
        return out

    hits = {key: spread([w.hits[k] for w in walked]) for k, (key, _) in enumerate(order)}
    return _Walk(hits, spread([w.allowed for w in walked]), spread([w.denied for w in walked]))


def _name(policies: tuple[Policy, ...], key: Key, direction: Direction) -> str:
    """``cnp/p egress rule "dns"`` (rule names are only unique within a direction)."""
    policy = policies[key[0]]
    rule = policy.rules(direction)[key[1]]
    return f"{policy.ref} {direction} {rule.label}" if rule.name else f"{policy.ref} {rule.label}"


def _rule(policies: tuple[Policy, ...], key: Key, direction: Direction) -> Rule:
    return policies[key[0]].rules(direction)[key[1]]


def _shadow_findings(facts: Facts) -> Iterator[Finding]:
    """tier-rule-shadowed and pass-changes-nothing."""
    policies = facts.net.cluster.policies
    matched: dict[tuple[Direction, Key], bool] = {}
    decided: dict[tuple[Direction, Key], bool] = {}
    shadowers: dict[tuple[Direction, Key], set[Key]] = {}
    pass_useless: dict[tuple[Direction, Key], bool] = {}
    for profile in _profiles(facts):
        order = _order(facts, profile)
        walk = _walk(facts, profile, order)
        for position, (key, action) in enumerate(order):
            slot = (profile.direction, key)
            row = profile.rows[key]
            matched[slot] = matched.get(slot, False) or bool(row.any())
            decided[slot] = decided.get(slot, False) or bool(walk.hits[key].any())
            if row.any() and not walk.hits[key].any():
                earlier = {k for k, _ in order[:position]
                           if (facts.table.meet_arrays(walk.hits[k], row) != NO_PORTS).any()}
                shadowers.setdefault(slot, set()).update(earlier)
            if action == "Pass":
                same = _walk(facts, profile, _order(facts, profile, without=key)).same(walk)
                pass_useless[slot] = pass_useless.get(slot, True) and same
    for (direction, key), was_matched in sorted(matched.items()):
        slot = (direction, key)
        rule = _rule(policies, key, direction)
        if was_matched and not decided[slot]:
            by = sorted(_name(policies, k, direction) for k in shadowers.get(slot, ()))
            yield Finding(
                "warning", "tier-rule-shadowed",
                f"{_name(policies, key, direction)} never decides anything: rules of higher "
                f"precedence ({short_list(by)}) decide all it matches first",
                rule.location, "remove it, or move it before them (a lower priority number, "
                "or earlier in its policy)", _name(policies, key, direction))
        elif pass_useless.get(slot) and decided[slot]:
            yield Finding(
                "warning", "pass-changes-nothing",
                f"{_name(policies, key, direction)} passes traffic that no later rule of the "
                f"{policies[key[0]].tier} tier would decide anyway: removing it changes nothing",
                rule.location, "remove it, or put it before the rule it is meant to skip",
                _name(policies, key, direction))


def _baseline_findings(facts: Facts) -> Iterator[Finding]:
    """baseline-unreachable: every pod a baseline policy selects is NetworkPolicy-isolated."""
    compiled = facts.net.compiled
    for index, policy in enumerate(facts.net.cluster.policies):
        if policy.tier.order <= NETWORKPOLICY_TIER.order or policy.tier.ends_in_deny:
            continue
        classes = iter_bits(compiled.policy_classes(index))
        for direction in DIRECTIONS:
            rules = policy.rules(direction)
            if not rules or not classes:
                continue
            isolated = compiled.ingress_isolated if direction == "ingress" else (
                compiled.egress_isolated)
            if all(isolated[k] for k in classes):
                yield Finding(
                    "warning", "baseline-unreachable",
                    f"{policy.ref}: every pod it selects is isolated for {direction} by "
                    f"NetworkPolicies, which decide before the {policy.tier} tier: its "
                    f"{direction} rules are never reached",
                    rules[0].location, "NetworkPolicies override the baseline; put the rule in "
                    "the Admin tier if it must hold for these pods", f"{policy.ref} {direction}")


def _column(facts: Facts, column: int) -> str:
    if column < facts.n:
        return facts.reps[column].ref
    lo, hi = facts.atoms[column - facts.n]
    return format_range(lo, hi)


def _tie_findings(facts: Facts) -> Iterator[Finding]:
    """same-priority-overlap: swapping two policies of one priority changes a verdict."""
    policies = facts.net.cluster.policies
    reported: set[tuple[Direction, int, int]] = set()
    for profile in _profiles(facts):
        walk = _walk(facts, profile, _order(facts, profile))
        chosen = list(profile.chosen)
        for a, b in itertools.pairwise(chosen):
            if policies[a].priority != policies[b].priority:
                continue
            key = (profile.direction, a, b)
            if key in reported:
                continue
            swapped = list(chosen)
            i = swapped.index(a)
            swapped[i], swapped[i + 1] = b, a
            other = _walk(facts, profile, _order(facts, profile, tuple(swapped)))
            if other.same(walk):
                continue
            reported.add(key)
            differs = np.nonzero((walk.allowed != other.allowed) | (walk.denied != other.denied))
            column = int(differs[0][0])
            subject = facts.reps[profile.classes[0]].ref
            first, second = policies[a], policies[b]
            who = (f"{_column(facts, column)} -> {subject}" if profile.direction == "ingress"
                   else f"{subject} -> {_column(facts, column)}")
            yield Finding(
                "warning", "same-priority-overlap",
                f"{first.ref} and {second.ref} are {first.tier} policies of the same priority "
                f"({first.priority:g}) that decide {who} differently: the API leaves their "
                f"order undefined (reach applies {first.ref} first)",
                first.location, "give them different priorities", first.ref)


CHECKS = (
    Check(_shadow_findings, {
        "tier-rule-shadowed": ("warning", "an admin or baseline rule that rules of higher "
                               "precedence always decide before it"),
        "pass-changes-nothing": ("warning", "a Pass whose traffic the rest of its tier would "
                                 "leave undecided anyway"),
    }),
    Check(_baseline_findings, {
        "baseline-unreachable": ("warning", "a baseline policy whose pods NetworkPolicies "
                                 "isolate: its rules are never reached"),
    }),
    Check(_tie_findings, {
        "same-priority-overlap": ("warning", "two policies of one tier and priority whose order "
                                  "decides a connection"),
    }),
)
