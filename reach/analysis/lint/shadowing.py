"""NetworkPolicy rules and policies that change nothing: rule-shadowed, rule-allows-nothing,
policy-redundant."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from reach.analysis.lint.facts import (
    DIRECTIONS,
    Facts,
    IntArray,
    calico,
    covered,
    isolating,
    rule_name,
    short_list,
    union,
)
from reach.analysis.lint.finding import Check, Finding
from reach.model import (
    NETWORKPOLICY_TIER,
    ContainerPort,
    Direction,
    Policy,
)


@dataclass(slots=True)
class _Profile:
    """Classes selected by the same policies for one direction: one evaluation for all.

    Policies are named by their position in ``cluster.policies`` and rules by their
    position in the policy's rules of that direction (hashing model objects in inner
    loops is slow). ``rows[(p, r)]`` is what the rule allows there, column by column.
    ``ordered``: a Calico policy of the NetworkPolicy tier comes between these
    NetworkPolicies in the evaluation order, so their rules are no longer a union.
    """

    direction: Direction
    chosen: tuple[int, ...]
    rows: dict[tuple[int, int], IntArray]
    ordered: bool = False


def _profiles(facts: Facts) -> list[_Profile]:
    cluster = facts.net.cluster
    out: list[_Profile] = []
    for direction in DIRECTIONS:
        indices = [i for i, p in enumerate(cluster.policies)
                   if p.applies(direction) and isolating(p)]
        selected = [facts.selects(cluster.policies[i]) for i in indices]
        # Calico policies of the same tier, which decide in order among them
        among = [(p.order, facts.selects(p)) for p in cluster.policies
                 if p.applies(direction) and p.tier == NETWORKPOLICY_TIER and calico(p)]
        groups: dict[tuple[tuple[int, ...], tuple[ContainerPort, ...], bool], int] = {}
        for k in range(facts.n):
            chosen = tuple(indices[j] for j, bits in enumerate(selected) if bits >> k & 1)
            if chosen:
                # ingress ports resolve named ports on the selected pod itself
                named = facts.reps[k].ports if direction == "ingress" else ()
                orders = [cluster.policies[i].order for i in chosen]
                lo, hi = min(orders), max(orders)
                ordered = any(lo < at < hi for at, bits in among if bits >> k & 1)
                groups.setdefault((chosen, named, ordered), k)
        for (chosen, _named, ordered), k in groups.items():
            rows = {
                (pi, ri): facts.rule_row(cluster.policies[pi], rule, k)
                for pi in chosen
                for ri, rule in enumerate(cluster.policies[pi].rules(direction))
            }
            out.append(_Profile(direction, chosen, rows, ordered))
    return out


def _shadow_findings(facts: Facts) -> Iterator[Finding]:
    """policy-redundant, rule-shadowed and rule-allows-nothing, exactly.

    For each profile (classes selected by the same policies), a rule's row is
    compared with the union of the rows of every other rule of every policy
    selecting those classes for the same direction. A rule is shadowed when it is
    covered in every profile it applies to.

    A policy with an empty podSelector is only compared with other such policies of
    its namespace: it also applies to pods that do not exist yet. A default-deny
    (podSelector {} and no rules) is never reported: it is the explicit baseline,
    kept on purpose even when other namespace-wide policies isolate the same way.

    Two identical rules cover each other; reporting both would invite deleting both.
    So the decision is greedy, last written first: a policy or rule found redundant
    is taken out before the next is judged, and everything reported can be deleted
    together without changing any allowed connection.
    """
    profiles = _profiles(facts)
    policies = facts.net.cluster.policies
    wide = [p.pod_selector.is_empty for p in policies]
    gone_policies: set[int] = set()
    gone_rules: set[tuple[str, int, int]] = set()
    findings: list[Finding] = []
    by_policy: dict[int, list[_Profile]] = {}
    for profile in profiles:
        for pi in profile.chosen:
            by_policy.setdefault(pi, []).append(profile)
    # a NetworkPolicy that Calico policies interleave with others is not judged here
    ordered = {pi for profile in profiles if profile.ordered for pi in profile.chosen}

    def name(direction: Direction, key: tuple[int, int]) -> str:
        policy = policies[key[0]]
        return rule_name(policy, policy.rules(direction)[key[1]])

    def live(direction: Direction, key: tuple[int, int]) -> bool:
        return key[0] not in gone_policies and (direction, *key) not in gone_rules

    def comparable(judged: int, other: int) -> bool:
        # A policy with podSelector {} also guards pods that do not exist yet: only
        # another such policy can stand in for it.
        return wide[other] or not wide[judged]

    for pi in reversed(range(len(policies))):
        policy = policies[pi]
        mine_profiles = by_policy.get(pi, [])
        if not mine_profiles or _is_default_deny(policy) or pi in ordered:
            continue  # selects nothing (reported on its own), or the explicit baseline
        cover: set[str] = set()
        redundant = True
        for profile in mine_profiles:
            d = profile.direction
            others = {
                p for p in profile.chosen
                if p != pi and p not in gone_policies and comparable(pi, p)
            }
            if not others:
                redundant = False  # the only policy isolating these pods this way
                break
            mine = union(facts, [r for k, r in profile.rows.items() if k[0] == pi])
            theirs = {k: r for k, r in profile.rows.items() if k[0] in others and live(d, k)}
            if not covered(mine, union(facts, list(theirs.values())), facts):
                redundant = False
                break
            if not mine.any():
                cover.update(policies[p].ref for p in others)
            cover.update(name(d, k) for k, r in theirs.items() if facts.meet(mine, r).any())
        if not redundant:
            continue
        gone_policies.add(pi)
        findings.append(
            Finding(
                "warning",
                "policy-redundant",
                f"{policy.ref} is redundant: the pods it selects are isolated by other "
                "policies too, and everything it allows is already allowed by "
                f"{short_list(sorted(cover)) or 'them'}",
                policy.location,
                "delete it, or fix what it was meant to do: policies are additive, a policy "
                "can only add allowed connections, never take away what another allows",
                policy.ref,
            )
        )

    for pi in reversed(range(len(policies))):
        policy = policies[pi]
        if pi in gone_policies or pi in ordered:
            continue
        for direction in DIRECTIONS[::-1]:
            rules = policy.rules(direction)
            for ri in reversed(range(len(rules))):
                rule = rules[ri]
                key = (pi, ri)
                mine_profiles = [
                    p for p in by_policy.get(pi, []) if p.direction == direction
                ]
                if not mine_profiles:
                    continue
                nonempty = False
                is_covered = True
                shadowers: set[str] = set()
                for profile in mine_profiles:
                    row = profile.rows[key]
                    nonempty = nonempty or bool(row.any())
                    rest = {
                        k: r
                        for k, r in profile.rows.items()
                        if k != key and live(profile.direction, k) and comparable(pi, k[0])
                    }
                    if not covered(row, union(facts, list(rest.values())), facts):
                        is_covered = False
                        break
                    shadowers.update(
                        name(profile.direction, k)
                        for k, r in rest.items()
                        if facts.meet(row, r).any()
                    )
                if not is_covered:
                    continue
                gone_rules.add((direction, pi, ri))
                if not nonempty:
                    findings.append(
                        Finding(
                            "warning",
                            "rule-allows-nothing",
                            f"{rule_name(policy, rule)} allows nothing (its peers or ports "
                            "match nothing)",
                            rule.location,
                            "fix its peers or ports, or remove it",
                            rule_name(policy, rule),
                        )
                    )
                else:
                    findings.append(
                        Finding(
                            "warning",
                            "rule-shadowed",
                            f"{rule_name(policy, rule)} is shadowed: everything it allows is "
                            f"already allowed by {short_list(sorted(shadowers))}",
                            rule.location,
                            "remove it, or correct it if it was meant to allow something else",
                            rule_name(policy, rule),
                        )
                    )
    yield from findings


def _is_default_deny(policy: Policy) -> bool:
    """podSelector {} and no rule: every pod of the namespace isolated, nothing allowed."""
    return policy.pod_selector.is_empty and not policy.ingress and not policy.egress


CHECKS = (
    Check(_shadow_findings, {
        "rule-shadowed": ("warning", "a rule that allows nothing the other rules do not"),
        "rule-allows-nothing": ("warning", "a rule that allows nothing at all"),
        "policy-redundant": ("warning", "a policy whose removal changes nothing"),
    }),
)
