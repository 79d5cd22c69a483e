"""Calico policies: selectors that match nothing, rules never reached, passes that land
on the default profile, tiers the input does not define, nets that match pods by IP.

calico-selects-nothing, calico-shadowed-rule, calico-pass-to-nothing,
calico-undefined-tier, calico-nets-on-pod-ips. What a policy or a rule entity selects
is read from the compiled classes (Calico selectors evaluated over the labels Calico
sees on a pod, :func:`reach.engine.entities.calico_labels`); which rules decide, from
the tiers walked in the compiler's order (:mod:`~reach.analysis.lint.walks`, the
NetworkPolicies of the default tier included). Only hints look at labels again.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from reach.analysis.lint.addresses import single_address
from reach.analysis.lint.facts import (
    DIRECTIONS,
    Facts,
    calico,
    isolating,
    pod_keys,
    rule_name,
    short_list,
)
from reach.analysis.lint.finding import Check, Finding
from reach.analysis.lint.walks import Key, rule_of, rule_stats
from reach.engine.addresses import AddressSet
from reach.engine.entities import (
    ACCOUNT_PREFIX,
    NAMESPACE_PREFIX,
    calico_labels,
    labelled_sets,
    network_set_labels,
)
from reach.engine.portsets import iter_bits
from reach.model import (
    NETWORKPOLICY_ORDER,
    NETWORKPOLICY_TIER,
    Direction,
    Entity,
    Labels,
    NetworkSet,
    Peer,
    Pod,
    Policy,
    Rule,
    Tier,
)
from reach.model.expressions import CalicoSelector

__all__ = ["CHECKS"]

_NAMESPACE = "projectcalico.org/namespace"

#: The order Calico gives every Kubernetes NetworkPolicy in its default tier.
KUBERNETES_ORDER = NETWORKPOLICY_ORDER


def _calico_policies(facts: Facts) -> Iterator[Policy]:
    return (p for p in facts.net.cluster.policies if calico(p))


def _sides(rule: Rule) -> Iterator[tuple[str, Entity, Peer, bool]]:
    """A rule's entities: (``source``/``destination``, entity, its peer, own end?)."""
    other, mine = ("source", "destination") if rule.direction == "ingress" else (
        "destination", "source")
    for peer in rule.peers:
        if peer.entity is not None:
            yield other, peer.entity, peer, False
    if rule.local is not None:
        yield mine, rule.local, Peer(entity=rule.local), True


def _labelled(facts: Facts) -> list[tuple[Pod, Labels]]:
    """Every pod with the labels Calico selectors see on it (for hints only)."""
    found: list[tuple[Pod, Labels]] | None = facts.memo.get("calico_labels")
    if found is None:
        cluster = facts.net.cluster
        accounts = {(a.namespace, a.name): a for a in cluster.service_accounts}
        found = facts.memo["calico_labels"] = [
            (pod, calico_labels(pod, facts.namespaces.get(pod.namespace),
                                accounts.get((pod.namespace, pod.service_account))))
            for pod in facts.net.pods]
    return found


def _key_text(key: str) -> str:
    if key.startswith(NAMESPACE_PREFIX):
        return f"namespace label {key.removeprefix(NAMESPACE_PREFIX)}"
    if key.startswith(ACCOUNT_PREFIX):
        return f"service account label {key.removeprefix(ACCOUNT_PREFIX)}"
    return f"label {key}"


def _labels_hint(facts: Facts, selector: CalicoSelector, namespace: str) -> str:
    """Which keys of ``selector`` no pod (of ``namespace``, if given) carries."""
    labelled = [labels for pod, labels in _labelled(facts)
                if not namespace or pod.namespace == namespace]
    mentioned = selector.keys()
    missing = sorted(k for k in mentioned if not any(k in labels for labels in labelled))
    where = f"of namespace {namespace} " if namespace else ""
    if missing:
        return (f"no pod {where}carries the {short_list(_key_text(k) for k in missing)}; "
                "Calico selectors see a pod's own labels, its namespace's (namespaceSelector) "
                "and its service account's (serviceAccountSelector)")
    return (f"no pod {where}has labels that satisfy [{selector}]; check the labels of the "
            "pods you meant (values are case-sensitive)")


def _host_hint(pods: list[Pod]) -> str:
    refs = short_list(sorted({f"{p.namespace}/{p.workload_name}" for p in pods}))
    return (f"{refs} would match but {'use' if len(pods) > 1 else 'uses'} the host network: "
            "Calico selects such pods only as host endpoints, which reach does not model")


# ---------------------------------------------------------------------------
# calico-selects-nothing


def _selection_findings(facts: Facts) -> Iterator[Finding]:
    """calico-selects-nothing: subjects, and rule entities, that match nothing."""
    for policy in _calico_policies(facts):
        selected = facts.selects(policy)
        if not selected:
            yield Finding(
                "warning", "calico-selects-nothing",
                f"{policy.ref} selects no pod (selector [{policy.pod_selector}]): it has no "
                "effect", policy.location, _subject_hint(facts, policy), policy.ref)
        for rule in policy.ingress + policy.egress:
            for side, entity, peer, own in _sides(rule):
                if entity.selector is None:
                    continue  # nets alone: addresses, judged by calico-nets-on-pod-ips
                classes = facts.peer_classes(peer, policy.namespace)
                name = rule_name(policy, rule)
                where = rule.location
                if own:
                    if not selected or classes & selected:
                        continue
                    other = "source" if side == "destination" else "destination"
                    yield Finding(
                        "warning", "calico-selects-nothing",
                        f"{name} {side} ({entity}) matches none of the pods {policy.ref} "
                        "selects: the rule never applies", where,
                        f"the {side} of an {rule.direction} rule is the selected pod itself; "
                        f"if the criterion is about the other end, write it under {other}",
                        name)
                    continue
                outside = facts.net.compiled.addresses.get(("entity", entity), AddressSet.none())
                if classes or outside:
                    continue
                yield Finding(
                    "warning", "calico-selects-nothing",
                    f"{name} {side} ({entity}) matches no pod and no network set: the rule "
                    "matches nothing", where, _entity_hint(facts, policy, entity), name)


def _subject_hint(facts: Facts, policy: Policy) -> str:
    selector = policy.pod_selector
    assert isinstance(selector, CalicoSelector)
    labelled = _labelled(facts)
    if policy.namespace:
        elsewhere = sorted({pod.namespace for pod, labels in labelled
                            if pod.namespace != policy.namespace and not pod.host_network
                            and selector.matches(labels)})
        if elsewhere:
            return (f"pods it would select live in namespace {', '.join(elsewhere)}; a Calico "
                    f"NetworkPolicy selects only pods of its own namespace ({policy.namespace}): "
                    "use a GlobalNetworkPolicy to select pods of other namespaces")
    hosts = [pod for pod, labels in labelled if pod.host_network and selector.matches(labels)
             and (not policy.namespace or pod.namespace == policy.namespace)]
    if hosts:
        return _host_hint(hosts)
    return _labels_hint(facts, selector, policy.namespace)


def _entity_hint(facts: Facts, policy: Policy, entity: Entity) -> str:
    selector = entity.selector
    assert selector is not None
    labelled = _labelled(facts)
    by_labels = [pod for pod, labels in labelled if selector.matches(labels)]
    if any(not pod.host_network for pod in by_labels):
        return (f"its selector matches {short_list(p.ref for p in by_labels)}, but its nets, "
                "notNets or notSelector leave none of them")
    if by_labels:
        return _host_hint(by_labels)
    if policy.namespace:
        # a selector without namespaceSelector looks in the policy's namespace only
        elsewhere = sorted({pod.namespace for pod, labels in labelled
                            if pod.namespace != policy.namespace and selector.matches(
                                {**labels, _NAMESPACE: policy.namespace})})
        if elsewhere:
            return (f"the pods it is after live in namespace {', '.join(elsewhere)}: without a "
                    "namespaceSelector a rule of a Calico NetworkPolicy looks only in the "
                    f"policy's namespace ({policy.namespace}); add namespaceSelector: "
                    f"projectcalico.org/name == '{elsewhere[0]}'")
        sets = [s for s in facts.net.cluster.network_sets if not s.namespace and selector.matches(
            {**network_set_labels(s, None), _NAMESPACE: policy.namespace})]
        if sets:
            return (f"{short_list(s.ref for s in sets)} would match: a GlobalNetworkSet is "
                    "matched by a rule of a Calico NetworkPolicy only with namespaceSelector: "
                    "global()")
    return _labels_hint(facts, selector, "")


# ---------------------------------------------------------------------------
# calico-shadowed-rule, calico-pass-to-nothing


def _label(policies: tuple[Policy, ...], key: Key, direction: Direction) -> str:
    policy = policies[key[0]]
    rule = rule_of(policies, key, direction)
    return f"{rule_name(policy, rule)} ({rule.location})" if rule.location.line else (
        rule_name(policy, rule))


def _shadow_findings(facts: Facts) -> Iterator[Finding]:
    """calico-shadowed-rule: earlier rules of its tier decide all the rule matches.

    Calico runs Kubernetes NetworkPolicies at order 1000 of the default tier: a rule
    that only a NetworkPolicy seems to shadow, in a policy of a lower order (or the
    same), is not reported, whatever order the walk put them in.
    """
    policies = facts.net.cluster.policies
    for (direction, key), stats in sorted(rule_stats(facts).items()):
        policy = policies[key[0]]
        if not calico(policy) or not stats.matched or stats.decided:
            continue
        by = sorted(stats.shadowers)
        if policy.priority <= KUBERNETES_ORDER and any(isolating(policies[k[0]]) for k in by):
            continue  # in Calico's order those NetworkPolicies come after it
        rule = rule_of(policies, key, direction)
        name = rule_name(policy, rule)
        alone = all(k[0] == key[0] for k in by)
        what = "earlier rules of the same policy" if alone else (
            f"rules that come before it in {_tier(policy.tier)}")
        yield Finding(
            "warning", "calico-shadowed-rule",
            f"{name} never takes effect: {what} "
            f"({short_list(_label(policies, k, direction) for k in by)}) decide everything it "
            "matches first",
            rule.location,
            "remove it, or move it above them" if alone else (
                "remove it, or move it above them (a lower order for its policy, or earlier "
                "in its policy)"),
            name)


def _tier(tier: Tier) -> str:
    """``tier security``, or ``the default tier`` (which reach calls NetworkPolicy)."""
    return "the default tier" if tier == NETWORKPOLICY_TIER else f"tier {tier}"


def _later(tier: Tier, other: Tier) -> bool:
    """Whether Calico evaluates tier ``other`` after ``tier`` (by order, then by name)."""
    return other != tier and (other.order, other.name) > (tier.order, tier.name)


def _pass_findings(facts: Facts) -> Iterator[Finding]:
    """calico-pass-to-nothing: a Pass with no later tier selecting the pod is an Allow."""
    cluster = facts.net.cluster
    policies = cluster.policies
    tiers = {d: [(p.tier, facts.selects(p)) for p in policies if p.applies(d)]
             for d in DIRECTIONS}
    compiled = facts.net.compiled
    for (direction, key), stats in sorted(rule_stats(facts).items()):
        policy = policies[key[0]]
        rule = rule_of(policies, key, direction)
        if not calico(policy) or rule.action != "Pass" or not stats.passed:
            continue
        landing = [k for k in iter_bits(stats.passed)
                   if not any(_later(policy.tier, tier) and bits >> k & 1
                              for tier, bits in tiers[direction])]
        if not landing:
            continue
        pods = short_list(sorted({f"{p.namespace}/{p.workload_name}" for k in landing
                                  for p in (compiled.pods[i] for i in compiled.class_pods[k])}))
        name = rule_name(policy, rule)
        yield Finding(
            "info", "calico-pass-to-nothing",
            f"{name} passes {direction} traffic of {pods} to Calico's default profile, which "
            f"allows it: after {_tier(policy.tier)}, no tier has a policy that selects them "
            f"for {direction}",
            rule.location,
            "if the pass is meant for the pods' own policies, give them one (a NetworkPolicy, "
            "or a Calico policy of a later tier, such as a default-deny); if it is meant to "
            "allow, write Allow",
            name)


# ---------------------------------------------------------------------------
# calico-undefined-tier

# The loader's note on a policy whose tier no Tier object defines (calico.settle_tiers).
_UNDEFINED = re.compile(r" is in tier (.+?), which the input does not define")


def _undefined_tiers(facts: Facts) -> set[str]:
    out: set[str] = set()
    for note in facts.net.cluster.diagnostics:
        found = _UNDEFINED.search(note.message) if note.code == "assumption" else None
        if found is None:
            continue
        try:
            name = ast.literal_eval(found.group(1))
        except (ValueError, SyntaxError):
            continue
        if isinstance(name, str):
            out.add(name)
    return out


def _tier_findings(facts: Facts) -> Iterator[Finding]:
    """calico-undefined-tier: a policy in a tier that no Tier object of the input defines."""
    undefined = _undefined_tiers(facts)
    for policy in _calico_policies(facts):
        name = policy.tier.name
        if name not in undefined:
            continue
        yield Finding(
            "warning", "calico-undefined-tier",
            f"{policy.ref} is in tier {name!r}, which no Tier of the input defines: Calico "
            "refuses a policy whose tier does not exist, and reach reads it as ordered after "
            "every other tier, denying what it leaves undecided",
            policy.location,
            f"add the Tier to the input (apiVersion: projectcalico.org/v3, kind: Tier, "
            f"metadata: {{name: {name}}}, spec: {{order: ...}}), or correct spec.tier",
            policy.ref)


# ---------------------------------------------------------------------------
# calico-nets-on-pod-ips


def _telling_apart(cidrs: tuple[str, ...], keyed: list[tuple[Pod, list[int]]]) -> list[str]:
    """How CIDRs single out pods by IP: naming a pod's IP, or holding some pods but not all."""
    held = AddressSet.none()
    for cidr in cidrs:
        held = held | AddressSet.cidr(cidr)
    singles = {single_address(cidr) for cidr in cidrs}
    exact = [p for p, keys in keyed if singles & set(keys)]
    inside = [p for p, keys in keyed if any(k in held for k in keys)]
    outside = [p for p, keys in keyed if not any(k in held for k in keys)]
    parts = []
    if exact:
        parts.append(f"names the IP of {short_list(p.ref for p in exact)}")
    if inside and outside:
        parts.append(f"holds {short_list(p.ref for p in inside)} but not "
                     f"{short_list(p.ref for p in outside)}")
    return parts


_NETS_HINT = ("select pods by labels (selector, namespaceSelector); keep nets and network sets "
              "for addresses outside the cluster")


def _nets_findings(facts: Facts) -> Iterator[Finding]:
    """calico-nets-on-pod-ips: nets, notNets and network sets that tell pods apart by IP."""
    keyed = [(p, keys) for p in facts.net.pods if not p.host_network
             for keys in (pod_keys(p),) if keys]
    if not keyed:
        return
    users: dict[int, list[str]] = {}  # network set (by position) -> the rules matching it
    sets = labelled_sets(facts.net.cluster.network_sets, facts.namespaces)
    for policy in _calico_policies(facts):
        for rule in policy.ingress + policy.egress:
            name = rule_name(policy, rule)
            for side, entity, _peer, _own in _sides(rule):
                for field, cidrs in (("nets", entity.nets), ("notNets", entity.not_nets)):
                    parts = _telling_apart(cidrs, keyed) if cidrs else []
                    if parts:
                        yield Finding(
                            "info", "calico-nets-on-pod-ips",
                            f"{name} {side}.{field} {', '.join(cidrs)}: Calico matches nets "
                            f"against pod IPs too, and it {'; it '.join(parts)}. Pod IPs change "
                            "when pods restart", rule.location, _NETS_HINT, name)
                for i, (nset, labels) in enumerate(sets):
                    if any(sel is not None and sel.matches(labels, global_=not nset.namespace)
                           for sel in (entity.selector, entity.not_selector)):
                        users.setdefault(i, []).append(name)
    for i, names in sorted(users.items()):
        nset = sets[i][0]
        parts = _telling_apart(nset.nets, keyed)
        if parts:
            yield _set_finding(nset, names, parts)


def _set_finding(nset: NetworkSet, names: list[str], parts: list[str]) -> Finding:
    kind = "NetworkSet" if nset.namespace else "GlobalNetworkSet"
    return Finding(
        "info", "calico-nets-on-pod-ips",
        f"{kind} {nset.ref} (nets {', '.join(nset.nets)}), which {short_list(names)} "
        f"{'select' if len(names) > 1 else 'selects'}: Calico matches its nets against pod "
        f"IPs too, and it {'; it '.join(parts)}. Pod IPs change when pods restart",
        nset.location, _NETS_HINT, nset.ref)


CHECKS = (
    Check(_selection_findings, {
        "calico-selects-nothing": ("warning", "a Calico policy, or a rule's selector, that "
                                   "matches no pod (and no network set)"),
    }),
    Check(_shadow_findings, {
        "calico-shadowed-rule": ("warning", "a Calico rule that earlier rules of its policy "
                                 "or tier always decide before it"),
    }),
    Check(_pass_findings, {
        "calico-pass-to-nothing": ("info", "a Calico Pass with no later tier for the pod: "
                                   "the default profile allows it"),
    }),
    Check(_tier_findings, {
        "calico-undefined-tier": ("warning", "a Calico policy in a tier no Tier object of "
                                  "the input defines"),
    }),
    Check(_nets_findings, {
        "calico-nets-on-pod-ips": ("info", "Calico nets or network sets that tell pods apart "
                                   "by their IPs"),
    }),
)
