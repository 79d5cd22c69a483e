"""reach.analysis.check: expected reachability facts, the report of each broken one, JUnit XML.

A small shop is built from model objects: web (shop) talks to api (shop) on TCP 9090,
api to db on TCP 5432; db accepts nothing from outside; a monitoring namespace
scrapes everyone on TCP 9100.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reach.analysis.check import INTERNET, CheckReport, check, load_expectations, parse_expectations
from reach.cli import main
from reach.engine.ports import PortSet
from reach.errors import ExpectationError
from reach.model import (
    Cluster,
    ContainerPort,
    IPBlock,
    Labels,
    LabelSelector,
    Location,
    Namespace,
    Peer,
    Pod,
    Policy,
    PolicyPort,
    Rule,
)
from reach.network import Network


def _sel(**labels: str) -> LabelSelector:
    return LabelSelector(Labels(labels))


def _from(*peers: Peer, port: int) -> Rule:
    return Rule("ingress", 0, peers, (PolicyPort("TCP", port),))


def shop(*, db_open_to_internet: bool = False) -> Network:
    pods = (
        Pod("shop", "web-7d9f", Labels({"app": "web"}), ports=(ContainerPort(8080),),
            owner_kind="Deployment", owner_name="web"),
        Pod("shop", "api-5c4b", Labels({"app": "api"}), ports=(ContainerPort(9090),),
            owner_kind="Deployment", owner_name="api"),
        Pod("shop", "db-0", Labels({"app": "db"}), ports=(ContainerPort(5432),),
            owner_kind="StatefulSet", owner_name="db"),
        Pod("monitoring", "prometheus-0", Labels({"app": "prometheus"}),
            owner_kind="StatefulSet", owner_name="prometheus"),
    )
    monitoring = Peer(namespace_selector=_sel(team="ops"))
    db_peers: tuple[Peer, ...] = (Peer(pod_selector=_sel(app="api")),)
    if db_open_to_internet:
        db_peers += (Peer(ip_block=IPBlock("0.0.0.0/0")),)
    policies = (
        Policy("shop", "default-deny", LabelSelector(), ("Ingress",),
               location=Location("policies.yaml", 1, 1)),
        Policy("shop", "web", _sel(app="web"), ingress=(_from(port=8080),),
               location=Location("policies.yaml", 10, 1)),
        Policy("shop", "api", _sel(app="api"),
               ingress=(_from(Peer(pod_selector=_sel(app="web")), port=9090),),
               location=Location("policies.yaml", 20, 1)),
        Policy("shop", "db", _sel(app="db"),
               ingress=(Rule("ingress", 0, db_peers, (PolicyPort("TCP", 5432),),
                             location=Location("policies.yaml", 33, 3)),),
               location=Location("policies.yaml", 30, 1)),
        Policy("shop", "metrics", LabelSelector(),
               ingress=(_from(monitoring, port=9100),),
               location=Location("policies.yaml", 40, 1)),
    )
    namespaces = (
        Namespace("shop", Labels({"kubernetes.io/metadata.name": "shop"})),
        Namespace("monitoring", Labels({"kubernetes.io/metadata.name": "monitoring",
                                        "team": "ops"})),
    )
    return Network(Cluster(namespaces=namespaces, pods=pods, policies=policies))


def run(text: str, net: Network | None = None) -> CheckReport:
    return check(net or shop(), parse_expectations(text, "expect.yaml"))


# ---------------------------------------------------------------------------
# allow


def test_allow_holds_when_every_source_reaches_every_destination_on_the_ports() -> None:
    report = run("- allow: {from: shop/web, to: shop/api, ports: [9090]}")
    assert report.ok and bool(report)


def test_allow_without_ports_asks_for_some_port() -> None:
    assert run("- allow: {from: shop/api, to: shop/db}").ok


def test_allow_fails_naming_the_policy_that_isolates_and_the_missing_ports() -> None:
    report = run("- allow: {from: shop/web, to: shop/db, ports: [TCP 5432]}")
    assert not report.ok
    result = report.results[0]
    assert result.status == "fail" and result.total == 1
    violation = result.violations[0]
    assert str(violation.src) == "shop/web[Deployment]"
    assert str(violation.dst) == "shop/db[StatefulSet]"
    assert violation.offending == PortSet.single("TCP", 5432)
    assert "isolated by" in violation.explanation and "shop/db" in violation.explanation
    assert "no rule of these policies allows this connection" in violation.explanation


def test_allow_between_label_selected_groups() -> None:
    text = """
- allow:
    from: {namespace: monitoring, labels: {app: prometheus}}
    to: {namespace: shop}
    ports: ["TCP 9100"]
"""
    assert run(text).ok


# ---------------------------------------------------------------------------
# deny


def test_deny_holds_when_no_pair_connects_on_the_ports() -> None:
    assert run("- deny: {from: shop/web, to: shop/db}").ok
    assert run("- deny: {from: shop/api, to: shop/db, ports: [22, 'UDP 53']}").ok


def test_deny_fails_naming_the_rule_that_allows() -> None:
    report = run("- deny: {from: shop/api, to: shop/db, ports: [5432]}")
    text = report.format()
    assert "FAIL" in text and "policies.yaml:33:3: shop/db ingress[0] allows TCP 5432" in text


def test_nothing_from_the_internet_reaches_the_database() -> None:
    text = "- deny: {from: internet, to: {labels: {app: db}}}"
    assert run(text).ok
    broken = run(text, shop(db_open_to_internet=True))
    assert not broken.ok
    result = broken.results[0]
    assert all(v.src.is_external for v in result.violations)
    assert "shop/db ingress[0]" in result.violations[0].explanation


def test_the_internet_is_public_addresses_only() -> None:
    assert not INTERNET.contains_ip("10.1.2.3") and not INTERNET.contains_ip("192.168.0.1")
    assert INTERNET.contains_ip("8.8.8.8") and INTERNET.contains_ip("2001:4860::8888")


def test_a_cidr_group_is_checked_on_the_addresses_it_holds() -> None:
    assert run("- deny: {from: {cidr: 10.0.0.0/8}, to: shop/db}").ok
    assert not run("- deny: {from: 203.0.113.7, to: shop/db}",
                   shop(db_open_to_internet=True)).ok


# ---------------------------------------------------------------------------
# isolated


def test_a_namespace_is_isolated_when_nothing_outside_it_reaches_in() -> None:
    # shop accepts only from itself, monitoring (9100) and, on web, anyone on 8080.
    report = run("- isolated: shop")
    assert not report.ok
    assert "into the namespace" in report.results[0].message


def test_isolated_egress_and_both() -> None:
    assert not run("- isolated: {namespace: monitoring, direction: egress}").ok
    assert not run("- isolated: {namespace: shop, direction: both}").ok


def test_isolated_holds_for_a_locked_namespace() -> None:
    locked = Network(Cluster(
        pods=(Pod("vault", "vault-0"), Pod("shop", "web")),
        policies=(Policy("vault", "deny-all", LabelSelector()),),
    ))
    assert run("- isolated: vault", locked).ok


# ---------------------------------------------------------------------------
# groups that name nothing


def test_a_selector_that_matches_no_pod_fails_rather_than_passing_vacuously() -> None:
    result = run("- deny: {from: internet, to: {labels: {app: dbb}}}").results[0]
    assert result.status == "fail" and "matches no pod" in result.message


def test_an_unknown_endpoint_cannot_be_evaluated() -> None:
    report = run("- allow: {from: shop/wbe, to: shop/api}")
    assert report.results[0].status == "error" and not report.ok
    assert "shop/wbe" in report.results[0].message


def test_two_outside_ends_cannot_be_evaluated() -> None:
    assert run("- deny: {from: internet, to: 10.0.0.1}").results[0].status == "error"


# ---------------------------------------------------------------------------
# the file format


def test_a_mapping_with_expectations_and_version_is_accepted() -> None:
    facts = parse_expectations("version: 1\nexpectations:\n  - name: db closed\n"
                               "    deny: {from: internet, to: shop/db}\n")
    assert [e.title for e in facts] == ["db closed"]
    assert facts[0].location == Location("<string>", 3, 5)


def test_ports_are_read_in_every_documented_spelling() -> None:
    facts = parse_expectations(
        '- allow: {from: a/b, to: a/c, ports: [80, "TCP 443", "UDP/53", "8000-8100", SCTP,'
        " {protocol: UDP, port: 5000, endPort: 5010}]}"
    )
    ports = facts[0].ports
    assert ports is not None
    assert str(ports) == "SCTP 1-65535,TCP 80,443,8000-8100,UDP 53,5000-5010"


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("- allow: {from: shop/web}", "e.yaml:1:10", 'allow needs "from" and "to"'),
        ("- allw: {from: a/b, to: a/c}", "e.yaml:1:3", 'unknown key "allw"'),
        ("- allow: {from: a/b, to: a/c}\n  deny: {from: a/b, to: a/c}", "e.yaml:1:3",
         "exactly one of"),
        ("- allow: {from: a/b, to: a/c, ports: [70000]}", "e.yaml:1:39", "out of range"),
        ("- allow: {from: a/b, to: a/c, ports: [http]}", "e.yaml:1:39", 'cannot read port "http"'),
        ("- deny: {from: {cidr: 10.0.0.1/8}, to: a/c}", "e.yaml:1:23", "host bits"),
        ("- deny: {from: {labels: {app: web}, cidr: 10.0.0.0/8}, to: a/c}", "e.yaml:1:16",
         "cidr cannot be combined"),
        ("- deny: {from: web, to: a/c}", "e.yaml:1:16", 'cannot read endpoint "web"'),
        ("- isolated: {namespace: shop, direction: sideways}", "e.yaml:1:42", "direction"),
        ("- deny: {from: a/b, to: a/c, from: a/d}", "e.yaml:1:30", 'duplicate key "from"'),
        ("expectations: {allow: 1}", "e.yaml:1:15", "must be a list"),
        ("- allow: [unclosed", "e.yaml:1:19", "invalid YAML"),
    ],
)
def test_malformed_expectations_say_where_and_what(text: str, where: str, message: str) -> None:
    with pytest.raises(ExpectationError) as caught:
        parse_expectations(text, "e.yaml")
    assert str(caught.value).startswith(where + ":")
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_load_expectations_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "expect.yaml"
    path.write_text("- isolated: shop\n")
    facts = load_expectations(path)
    assert facts[0].location.path == str(path)
    with pytest.raises(ExpectationError):
        load_expectations(tmp_path / "missing.yaml")


# ---------------------------------------------------------------------------
# reports


BROKEN = """
- name: web reaches api
  allow: {from: shop/web, to: shop/api, ports: [9090]}
- name: the internet cannot reach the database
  deny: {from: internet, to: {labels: {app: db}}}
"""


def test_the_text_report_lists_failures_first_then_a_summary() -> None:
    text = run(BROKEN, shop(db_open_to_internet=True)).format()
    lines = text.splitlines()
    assert lines[0].startswith("FAIL  the internet cannot reach the database (expect.yaml:4:3)")
    assert lines[-1] == "2 expectations: 1 passed, 1 failed"
    assert any(line.startswith("PASS  web reaches api") for line in lines)


def test_json_report_carries_status_and_violations() -> None:
    import json

    doc = json.loads(run(BROKEN, shop(db_open_to_internet=True)).format("json"))
    assert doc["ok"] is False
    assert [r["status"] for r in doc["results"]] == ["pass", "fail"]
    assert doc["results"][1]["violations"][0]["dst"]["name"] == "db"


def test_junit_xml_has_one_case_per_expectation_and_a_failure_for_each_broken_one() -> None:
    xml = run(BROKEN, shop(db_open_to_internet=True)).to_junit()
    root = ET.fromstring(xml)
    assert root.tag == "testsuite"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    cases = root.findall("testcase")
    assert [c.get("name") for c in cases] == ["web reaches api",
                                              "the internet cannot reach the database"]
    failure = cases[1].find("failure")
    assert failure is not None and "shop/db ingress[0]" in (failure.text or "")
    assert cases[0].find("failure") is None


def test_isolated_except_lets_the_named_groups_cross() -> None:
    # Into shop come: anyone (outside addresses too) to web on 8080, prometheus on 9100.
    only_prometheus = run("- isolated: {namespace: shop, except: monitoring/prometheus-0}")
    assert not only_prometheus.ok
    assert all(v.src.is_external for v in only_prometheus.results[0].violations)
    text = """
- isolated:
    namespace: shop
    except: [monitoring/prometheus-0, outside]
"""
    assert run(text).ok
    locked = Network(Cluster(
        pods=(Pod("vault", "vault-0"), Pod("ops", "backup", Labels({"app": "backup"}))),
        policies=(Policy("vault", "backup-only", LabelSelector(), ingress=(
            Rule("ingress", 0, (Peer(namespace_selector=LabelSelector(),
                                     pod_selector=_sel(app="backup")),)),)),),
    ))
    assert not run("- isolated: vault", locked).ok
    assert run("- isolated: {namespace: vault, except: ops/backup}", locked).ok
    assert run("- isolated: {namespace: vault, except: {labels: {app: backup}}}", locked).ok


# ---------------------------------------------------------------------------
# reach check, on the realistic sample

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "samples" / "shop"


def test_the_shop_keeps_its_promises(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "-f", str(SHOP), "--expect", str(SHOP / "expectations.yaml")])
    out = capsys.readouterr()
    assert code == 0
    assert out.out.splitlines()[-1] == "10 expectations: 10 passed"
    # the expectations file beside the manifests is skipped quietly; the one line on
    # stderr is the caveat that calico-node (host network) is read as node traffic
    assert "xpectations" not in out.err
    assert [line for line in out.err.splitlines() if line.startswith("reach:")] == [
        line for line in out.err.splitlines() if "host network" in line]


def test_the_broken_expectations_fail_with_a_readable_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    junit = tmp_path / "report.xml"
    code = main(["check", "-f", str(SHOP), "--expect", str(SHOP / "expectations-broken.yaml"),
                 "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1
    assert out.splitlines()[-1] == "5 expectations: 1 passed, 4 failed"
    assert "FAIL  web reaches the database directly" in out
    assert "shop/web[Deployment] => shop/db[StatefulSet] : no connection allowed" in out
    assert "no rule of these policies allows this connection" in out
    assert "allowed by" in out and "shop/allow-prometheus ingress[0] allows TCP 9090" in out
    assert "FAIL  the debug shell is isolated" in out
    assert '"{pods [app=database]}" matches no pod' in out
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures")) == ("5", "4")


def test_a_malformed_expectations_file_exits_2_with_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("expectations:\n  - allow: {from: shop/web, too: shop/api}\n")
    assert main(["check", "-f", str(SHOP), "--expect", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2:29: unknown key \"too\"" in err


def test_reach_check_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code = main(["check", "-f", str(SHOP), "--expect", str(SHOP / "expectations-broken.yaml"),
                 "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["ok"] is False and len(doc["results"]) == 5


PROBES = ROOT / "tests" / "data" / "probes" / "shop.yaml"


def test_a_service_destination_is_checked_per_backend_on_its_service_ports() -> None:
    """to: a Service means what `reach can` means: every backend on the targetPort the
    listed service port resolves to (api: port 80 -> targetPort http = 8080)."""
    import reach

    net = reach.load(PROBES)
    facts = parse_expectations('''
- allow: {from: shop/web, to: shop/svc/api, ports: [80]}
- deny: {from: shop/db, to: shop/svc/api}
- allow: {from: shop/db, to: shop/svc/api, ports: [80]}
- deny: {from: internet, to: shop/svc/api}
- allow: {from: 203.0.113.7, to: default/svc/web, ports: [443]}
- allow: {from: shop/web, to: shop/svc/api, ports: [8080]}
- allow: {from: shop/web, to: shop/api, ports: [80]}
- allow: {from: shop/web, to: shop/api, ports: [8080]}
''')
    report = check(net, facts)
    # shop/api on 80 (the Service's port, not the pods') is the Service, as for reach can;
    # on 8080 (the pods' port) it is the Deployment
    assert [r.status for r in report.results] == ["pass", "pass", "fail", "pass", "pass",
                                                  "error", "pass", "pass"]
    failed = report.results[2]
    assert failed.message == "1 client cannot use it as expected"
    assert "DENIED on TCP 80" in failed.violations[0].explanation
    assert "has none of the ports TCP 8080" in report.results[5].message


def test_the_platform_guardrails_keep_their_promises_on_top_of_the_shop(
    capsys: pytest.CaptureFixture[str],
) -> None:
    platform = ROOT / "samples" / "platform"
    expect = str(platform / "expectations.yaml")
    code = main(["check", "-f", str(SHOP), "-f", str(platform), "--expect", expect])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.rstrip().endswith("7 expectations: 7 passed")
    # the shop's own promises still hold under the guardrails
    assert main(["check", "-f", str(SHOP), "-f", str(platform), "--expect",
                 str(SHOP / "expectations.yaml")]) == 0
    capsys.readouterr()
    # the shop's NetworkPolicies already keep most of them; Prometheus, which has no
    # policy of its own, is open until the baseline default deny closes it
    assert main(["check", "-f", str(SHOP), "--expect", expect]) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and "no pod connects to Prometheus" in failed[0], out
