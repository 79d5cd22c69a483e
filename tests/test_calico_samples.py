"""``samples/calico``: three Calico tiers on top of the shop, and what they promise.

security (order 100) denies and allows first, platform (order 500) passes DNS and
Prometheus scrapes on to the application policies and denies the rest of those
ports, and the default tier holds the application policies: the shop's Kubernetes
NetworkPolicies and a Calico NetworkPolicy of its own (see
``samples/calico/README.md``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import reach
from reach.cli import main

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SHOP = str(SAMPLES / "shop")
CALICO = SAMPLES / "calico"
EXPECTATIONS = str(CALICO / "expectations.yaml")
FILES = ["-f", SHOP, "-f", str(CALICO)]

GUARDRAILS = "gnp/security.guardrails"
PLATFORM = "gnp/platform.dns-and-monitoring"
PARTNER = "198.51.100.7"  # in the GlobalNetworkSet payment-partners

#: Every tier of the sample, and the policies in it, by evaluation order.
TIERS = [
    ("security", 100.0, [GUARDRAILS, "shop/security.api-to-partners"]),
    ("platform", 500.0, [PLATFORM]),
]


def can(
    capsys: pytest.CaptureFixture[str], src: str, dst: str, *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(["can", src, dst, "-o", "json", *extra, *FILES])
    return code, json.loads(capsys.readouterr().out)


def trace(verdict: dict[str, Any], direction: str) -> list[tuple[str, str, str | None, int | None]]:
    """One side's steps as (tier, action, policy, rule index)."""
    return [(s["tier"], s["action"], s.get("policy"), s.get("rule"))
            for s in verdict[direction]["steps"]]


def expectation_names() -> list[str]:
    with open(EXPECTATIONS) as f:
        return [e["name"] for e in yaml.safe_load(f)["expectations"]]


# ---------------------------------------------------------------------------
# the sample as read


def test_the_sample_holds_three_tiers_in_order() -> None:
    net = reach.load(SHOP, str(CALICO))
    tiers = {p.ref: (p.tier.name, p.tier.order) for p in net.cluster.policies}
    for name, order, refs in TIERS:
        for ref in refs:
            assert tiers[ref] == (name, order), ref
    # No tier field: Calico's default tier, beside the Kubernetes NetworkPolicies.
    app = next(p for p in net.cluster.policies if p.ref == "shop/db-only-from-api")
    default = next(p for p in net.cluster.policies if p.ref == "shop/db")
    assert (app.kind, app.tier, app.priority) == ("CalicoNetworkPolicy", default.tier, 100.0)
    assert [d for d in net.cluster.diagnostics
            if d.severity != "info" and "samples/calico" in str(d)] == []


# ---------------------------------------------------------------------------
# reach check


def test_reach_check_passes_every_expectation(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", *FILES, "--expect", EXPECTATIONS, "-o", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"] is True
    statuses = {r["name"]: r["status"] for r in report["results"]}
    assert sorted(statuses) == sorted(expectation_names())
    assert set(statuses.values()) == {"pass"}


def test_reach_check_passes_through_the_python_api() -> None:
    net = reach.load(SHOP, str(CALICO))
    report = reach.check(net, reach.load_expectations(EXPECTATIONS))
    assert report.ok, report.format()
    assert [r.status for r in report.results] == ["pass"] * len(expectation_names())


def test_the_tiers_are_what_makes_the_expectations_hold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without them the shop breaks the security and platform promises."""
    code = main(["check", "-f", SHOP, "--expect", EXPECTATIONS, "-o", "json"])
    report = json.loads(capsys.readouterr().out)
    failed = sorted(r["name"] for r in report["results"] if r["status"] != "pass")
    assert code == 1
    assert failed == sorted([
        "the api calls the payment partners on HTTPS (security Allow)",
        "no pod reaches the cloud metadata endpoint (security Deny)",
        "no pod asks another resolver (platform Deny)",
        "nobody else reads the metrics ports (platform Deny)",
    ])


# ---------------------------------------------------------------------------
# reach can: the tier that decides, and its rule


def test_the_api_reaches_the_partners_by_the_security_allow(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "shop/api", PARTNER, "--port", "443")
    assert (code, verdict["allowed"]) == (0, True)
    assert trace(verdict, "egress") == [
        ("security", "Allow", "shop/security.api-to-partners", 0)]
    [step] = verdict["egress"]["steps"]
    assert step["location"].startswith(str(CALICO / "security-tier.yaml") + ":")


def test_web_is_passed_down_to_its_own_networkpolicies_which_deny_the_partners(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "shop/web", PARTNER, "--port", "443")
    assert (code, verdict["allowed"]) == (1, False)
    assert trace(verdict, "egress") == [
        ("security", "Pass", GUARDRAILS, 2),
        ("platform", "Pass", PLATFORM, 4),
        ("NetworkPolicy", "isolated", None, None),
    ]


def test_the_metadata_endpoint_is_denied_by_the_first_guardrail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "shop/api", "169.254.169.254", "--port", "80")
    assert (code, verdict["allowed"]) == (1, False)
    assert trace(verdict, "egress") == [("security", "Deny", GUARDRAILS, 0)]


def test_the_debug_shell_is_denied_the_database_in_the_security_tier(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "tools/debug", "shop/db", "--port", "5432")
    assert (code, verdict["allowed"]) == (1, False)
    assert trace(verdict, "egress") == [("security", "Deny", GUARDRAILS, 1)]


def test_dns_is_passed_by_the_platform_and_allowed_by_the_shop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "shop/web", "kube-system/coredns", "--port", "53",
                        "--protocol", "UDP")
    assert (code, verdict["allowed"]) == (0, True)
    assert trace(verdict, "egress") == [
        ("security", "Pass", GUARDRAILS, 2),
        ("platform", "Pass", PLATFORM, 0),
        ("NetworkPolicy", "Allow", "shop/allow-dns", 0),
    ]


def test_dns_to_another_resolver_is_denied_by_the_platform(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "tools/debug", "8.8.8.8", "--port", "53", "--protocol", "UDP")
    assert (code, verdict["allowed"]) == (1, False)
    assert trace(verdict, "egress") == [
        ("security", "Pass", GUARDRAILS, 2),
        ("platform", "Deny", PLATFORM, 2),
    ]


def test_prometheus_scrapes_are_passed_by_the_platform_and_allowed_by_the_shop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "monitoring/prometheus", "shop/db", "--port", "9090")
    assert (code, verdict["allowed"]) == (0, True)
    assert trace(verdict, "ingress") == [
        ("platform", "Pass", PLATFORM, 0),
        ("NetworkPolicy", "Allow", "shop/allow-prometheus", 0),
    ]


def test_the_metrics_port_is_denied_to_anyone_but_prometheus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "tools/debug", "ingress-nginx/ingress-nginx-controller",
                        "--port", "10254")
    assert (code, verdict["allowed"]) == (1, False)
    assert trace(verdict, "ingress") == [("platform", "Deny", PLATFORM, 1)]


def test_the_application_policy_denies_the_database_port_to_web(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "shop/web", "shop/db", "--port", "5432")
    assert (code, verdict["allowed"]) == (1, False)
    assert trace(verdict, "ingress") == [
        ("platform", "Pass", PLATFORM, 2),
        ("NetworkPolicy", "Deny", "shop/db-only-from-api", 1),
    ]
    step = verdict["ingress"]["steps"][-1]
    assert (step["kind"], step["location"].split(":")[0]) == (
        "CalicoNetworkPolicy", str(CALICO / "application-policy.yaml"))


# The shop team's NetworkPolicies, plus two that someone adds later to let web into
# the database. Calico runs db-only-from-api (order 100) before every Kubernetes
# NetworkPolicy (order 1000 in the default tier), so its Deny still wins.
OPEN_DB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-to-db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{protocol: TCP, port: 5432}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress-to-db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}]
    ports: [{protocol: TCP, port: 5432}]
"""


def test_the_application_policy_runs_before_the_kubernetes_networkpolicies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    extra = tmp_path / "open-db.yaml"
    extra.write_text(OPEN_DB)
    code, verdict = can(capsys, "shop/web", "shop/db", "--port", "5432", "-f", str(extra))
    assert trace(verdict, "ingress") == [
        ("platform", "Pass", PLATFORM, 2),
        ("NetworkPolicy", "Deny", "shop/db-only-from-api", 1),
    ]
    assert (code, verdict["allowed"]) == (1, False)
    code, verdict = can(capsys, "shop/api", "shop/db", "--port", "5432")
    assert trace(verdict, "ingress")[-1] == ("NetworkPolicy", "Allow", "shop/db-only-from-api", 0)
