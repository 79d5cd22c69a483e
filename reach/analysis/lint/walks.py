"""Tiers walked in order over the compiled classes: what each rule decides, exactly.

Shared by the tier families (:mod:`~reach.analysis.lint.tiers` for the admin and
baseline policies, :mod:`~reach.analysis.lint.calico` for Calico's). For every
*profile* (the classes that the same policies of one tier select for a direction,
with the same rules applying to them) the tier is walked column by column as the
compiler walks it (:func:`reach.engine.compiler.walk_column`), in the evaluation order
of :mod:`reach.model.policy`. A tier made of Kubernetes NetworkPolicies alone is a
union, not an order: :mod:`~reach.analysis.lint.shadowing` judges it, and it is not
walked here; the default tier is walked, NetworkPolicies included, for the classes a
Calico policy of that tier selects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reach.analysis.lint.facts import DIRECTIONS, Facts, IntArray, calico, isolating
from reach.engine.compiler import Plan, walk_column
from reach.engine.portsets import NO_PORTS
from reach.model import Direction, Peer, Policy, Rule, Tier

__all__ = ["Key", "Profile", "RuleStats", "Walk", "order", "profiles", "rule_of", "rule_stats",
           "walk"]

Key = tuple[int, int]  # (policy index in cluster.policies, rule index in its direction)


@dataclass(slots=True)
class Profile:
    """Classes that the same policies of one tier select for one direction."""

    direction: Direction
    tier: Tier
    classes: list[int]
    chosen: tuple[int, ...]  # policy indices, in evaluation order
    rows: dict[Key, IntArray]  # what each rule matches there, column by column


def profiles(facts: Facts) -> list[Profile]:
    """Every profile of every tier that is walked (computed once per lint run)."""
    found: list[Profile] | None = facts.memo.get("profiles")
    if found is None:
        found = facts.memo["profiles"] = _profiles(facts)
    return found


def _profiles(facts: Facts) -> list[Profile]:
    policies = facts.net.cluster.policies
    out: list[Profile] = []
    for direction in DIRECTIONS:
        applying = [i for i, p in enumerate(policies) if p.applies(direction)]
        # the tiers walked: those holding a policy that is not a NetworkPolicy
        walked = {policies[i].tier for i in applying if not isolating(policies[i])}
        indices = sorted((i for i in applying if policies[i].tier in walked),
                         key=lambda i: policies[i].order)
        selected = {i: facts.selects(policies[i]) for i in indices}
        # the classes a rule with criteria on its own end is for (Calico)
        local = {(i, ri): facts.peer_classes(Peer(entity=rule.local), policies[i].namespace)
                 for i in indices for ri, rule in enumerate(policies[i].rules(direction))
                 if rule.local is not None}
        groups: dict[tuple[Tier, tuple[int, ...], object, tuple[Key, ...]], list[int]] = {}
        for k in range(facts.n):
            by_tier: dict[Tier, list[int]] = {}
            for i in indices:
                if selected[i] >> k & 1:
                    by_tier.setdefault(policies[i].tier, []).append(i)
            # ingress ports resolve named ports on the selected pod itself
            named = facts.reps[k].ports if direction == "ingress" else ()
            for tier, in_tier in by_tier.items():
                if all(isolating(policies[i]) for i in in_tier):
                    continue  # NetworkPolicies alone: a union, judged by shadowing
                members = set(in_tier)
                applies = tuple(key for key, bits in local.items()
                                if key[0] in members and bits >> k & 1)
                groups.setdefault((tier, tuple(in_tier), named, applies), []).append(k)
        for (tier, chosen, _named, _applies), classes in groups.items():
            k = classes[0]
            rows = {(pi, ri): facts.rule_row(policies[pi], rule, k)
                    for pi in chosen for ri, rule in enumerate(policies[pi].rules(direction))}
            out.append(Profile(direction, tier, classes, chosen, rows))
    return out


def order(facts: Facts, profile: Profile, chosen: tuple[int, ...] | None = None,
          without: Key | None = None) -> list[tuple[Key, str]]:
    """The profile's rules in evaluation order (policies ``chosen``, or the profile's),
    each with its action; ``without`` leaves one out."""
    policies = facts.net.cluster.policies
    return [((pi, ri), rule.action)
            for pi in (chosen if chosen is not None else profile.chosen)
            for ri, rule in enumerate(policies[pi].rules(profile.direction))
            if (pi, ri) != without]


@dataclass(slots=True)
class Walk:
    hits: dict[Key, IntArray]
    allowed: IntArray
    denied: IntArray

    def same(self, other: Walk) -> bool:
        return bool(np.array_equal(self.allowed, other.allowed)
                    and np.array_equal(self.denied, other.denied))


def walk(facts: Facts, profile: Profile, rules: list[tuple[Key, str]]) -> Walk:
    """The profile's tier walked as the compiler walks it, at every distinct column:
    each rule's share, what the tier allows and what it denies."""
    plan: Plan = ((profile.tier.ends_in_deny, tuple(action for _, action in rules)),)
    matrix = np.stack([profile.rows[key] for key, _ in rules]) if rules else (
        np.zeros((1, facts.cols), dtype=np.int64))
    columns, inverse = np.unique(matrix.T, axis=0, return_inverse=True)
    walked = [walk_column(facts.table, plan, column.tolist()) for column in columns]
    inverse = inverse.reshape(-1)

    def spread(values: list[int]) -> IntArray:
        out: IntArray = np.array(values, dtype=np.int64)[inverse]
        return out

    hits = {key: spread([w.hits[k] for w in walked]) for k, (key, _) in enumerate(rules)}
    return Walk(hits, spread([w.allowed for w in walked]), spread([w.denied for w in walked]))


@dataclass(slots=True)
class RuleStats:
    """One rule over every profile it is walked in.

    ``matched``: its peers and ports match something somewhere; ``decided``: some of
    that reaches it (it allows, denies, passes or logs it); ``shadowers``: the earlier
    rules that take what it matches where nothing reaches it; ``pass_useless``: a Pass
    whose removal changes no verdict of its tier anywhere (admin and baseline Passes
    only: None otherwise); ``passed``: the classes (bitset) for which a Pass passes
    something.
    """

    matched: bool = False
    decided: bool = False
    shadowers: set[Key] = field(default_factory=set)
    pass_useless: bool | None = None
    passed: int = 0


def rule_stats(facts: Facts) -> dict[tuple[Direction, Key], RuleStats]:
    """:class:`RuleStats` of every walked rule (computed once per lint run)."""
    found: dict[tuple[Direction, Key], RuleStats] | None = facts.memo.get("rule_stats")
    if found is None:
        found = facts.memo["rule_stats"] = _rule_stats(facts)
    return found


def _rule_stats(facts: Facts) -> dict[tuple[Direction, Key], RuleStats]:
    policies = facts.net.cluster.policies
    out: dict[tuple[Direction, Key], RuleStats] = {}
    for profile in profiles(facts):
        rules = order(facts, profile)
        walked = walk(facts, profile, rules)
        for position, (key, action) in enumerate(rules):
            stats = out.setdefault((profile.direction, key), RuleStats())
            row = profile.rows[key]
            hit = bool(walked.hits[key].any())
            stats.matched = stats.matched or bool(row.any())
            stats.decided = stats.decided or hit
            if row.any() and not hit:
                stats.shadowers.update(
                    k for k, earlier in rules[:position]
                    if earlier != "Log"  # a Log takes nothing
                    and (facts.table.meet_arrays(walked.hits[k], row) != NO_PORTS).any())
            if action != "Pass":
                continue
            if hit:
                for k in profile.classes:
                    stats.passed |= 1 << k
            if not calico(policies[key[0]]):
                same = walk(facts, profile, order(facts, profile, without=key)).same(walked)
                stats.pass_useless = (stats.pass_useless is not False) and same
    return out


def rule_of(policies: tuple[Policy, ...], key: Key, direction: Direction) -> Rule:
    return policies[key[0]].rules(direction)[key[1]]
