"""Admin and baseline tiers: rules that never decide, passes that change nothing,
baselines never reached, priorities whose order decides.

Each is decided exactly, over the compiled classes: for every *profile* (the classes
that the same policies of one tier select, in evaluation order) the tier is walked
column by column as the compiler walks it (:mod:`~reach.analysis.lint.walks`), and
compared with the walk without the rule, or with two policies swapped. Calico
policies take part in the walks of the tiers they share, but their own rules are
judged by :mod:`~reach.analysis.lint.calico` (Calico orders policies of one order by
name, so their order is never undefined).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from reach.analysis.lint.facts import DIRECTIONS, Facts, calico, isolating, short_list
from reach.analysis.lint.finding import Check, Finding
from reach.analysis.lint.walks import Key, order, profiles, rule_of, rule_stats, walk
from reach.engine.addresses import format_range
from reach.model import NETWORKPOLICY_TIER, Direction, Policy

__all__ = ["CHECKS"]


def _name(policies: tuple[Policy, ...], key: Key, direction: Direction) -> str:
    """``cnp/p egress rule "dns"`` (rule names are only unique within a direction)."""
    policy = policies[key[0]]
    rule = policy.rules(direction)[key[1]]
    return f"{policy.ref} {direction} {rule.label}" if rule.name else f"{policy.ref} {rule.label}"


def _judged(policy: Policy) -> bool:
    """An admin or baseline policy: NetworkPolicies are judged as a union (shadowing),
    Calico's own policies by the calico family."""
    return not isolating(policy) and not calico(policy)


def _shadow_findings(facts: Facts) -> Iterator[Finding]:
    """tier-rule-shadowed and pass-changes-nothing."""
    policies = facts.net.cluster.policies
    for (direction, key), stats in sorted(rule_stats(facts).items()):
        if not _judged(policies[key[0]]):
            continue
        rule = rule_of(policies, key, direction)
        if stats.matched and not stats.decided:
            by = sorted(_name(policies, k, direction) for k in stats.shadowers)
            yield Finding(
                "warning", "tier-rule-shadowed",
                f"{_name(policies, key, direction)} never decides anything: rules of higher "
                f"precedence ({short_list(by)}) decide all it matches first",
                rule.location, "remove it, or move it before them (a lower priority number, "
                "or earlier in its policy)", _name(policies, key, direction))
        elif stats.pass_useless and stats.decided:
            yield Finding(
                "warning", "pass-changes-nothing",
                f"{_name(policies, key, direction)} passes traffic that no later rule of the "
                f"{policies[key[0]].tier} tier would decide anyway: removing it changes nothing",
                rule.location, "remove it, or put it before the rule it is meant to skip",
                _name(policies, key, direction))


def _default_tier_closes(facts: Facts, direction: Direction) -> tuple[int, bool]:
    """The classes (bitset) whose ``direction`` the NetworkPolicy tier always decides (it
    selects them and none of its policies that do has a Pass rule), and whether a Calico
    policy is among those that select them."""
    selecting = passing = 0
    with_calico = False
    for policy in facts.net.cluster.policies:
        if policy.tier != NETWORKPOLICY_TIER or not policy.applies(direction):
            continue
        bits = facts.selects(policy)
        selecting |= bits
        with_calico = with_calico or (calico(policy) and bool(bits))
        if any(rule.action == "Pass" for rule in policy.rules(direction)):
            passing |= bits
    return selecting & ~passing, with_calico


def _baseline_findings(facts: Facts) -> Iterator[Finding]:
    """baseline-unreachable: every pod a baseline policy selects is NetworkPolicy-isolated.

    Isolated here means that the NetworkPolicy tier decides everything for the pod: a
    Calico policy of that tier with a Pass rule may hand traffic on to the baseline.
    (The compiled isolation flags are not used: a Calico tier ending in deny isolates
    too, and may pass.)
    """
    closes = {d: _default_tier_closes(facts, d) for d in DIRECTIONS}
    for policy in facts.net.cluster.policies:
        if (policy.tier.order <= NETWORKPOLICY_TIER.order or policy.tier.ends_in_deny
                or calico(policy)):
            continue
        selected = facts.selects(policy)
        for direction in DIRECTIONS:
            rules = policy.rules(direction)
            if not rules or not selected:
                continue
            closed, with_calico = closes[direction]
            if not selected & ~closed:
                by = ("the policies of the NetworkPolicy tier (Calico's default tier)"
                      if with_calico else "NetworkPolicies")
                yield Finding(
                    "warning", "baseline-unreachable",
                    f"{policy.ref}: every pod it selects is isolated for {direction} by "
                    f"{by}, which decide before the {policy.tier} tier: its "
                    f"{direction} rules are never reached",
                    rules[0].location, "NetworkPolicies override the baseline; put the rule in "
                    "the Admin tier if it must hold for these pods", f"{policy.ref} {direction}")


def _column(facts: Facts, column: int) -> str:
    if column < facts.n:
        return facts.reps[column].ref
    lo, hi = facts.atoms[column - facts.n]
    return format_range(lo, hi)


def _tie_findings(facts: Facts) -> Iterator[Finding]:
    """same-priority-overlap: swapping two policies of one priority changes a verdict.

    Only admin and baseline policies: Calico breaks ties of order by name, and the
    order of NetworkPolicies, which only allow, never matters.
    """
    policies = facts.net.cluster.policies
    reported: set[tuple[Direction, int, int]] = set()
    for profile in profiles(facts):
        walked = walk(facts, profile, order(facts, profile))
        chosen = list(profile.chosen)
        for a, b in itertools.pairwise([pi for pi in chosen if _judged(policies[pi])]):
            if policies[a].priority != policies[b].priority:
                continue
            key = (profile.direction, a, b)
            if key in reported:
                continue
            swapped = list(chosen)
            i, j = swapped.index(a), swapped.index(b)
            swapped[i], swapped[j] = b, a
            other = walk(facts, profile, order(facts, profile, tuple(swapped)))
            if other.same(walked):
                continue
            reported.add(key)
            differs = np.nonzero((walked.allowed != other.allowed)
                                 | (walked.denied != other.denied))
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
