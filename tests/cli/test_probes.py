"""The probes of issue 10, as a new user types them: each answers as Kubernetes says.

``tests/data/probes/shop.yaml``: web -> api through Service api (port 80, targetPort
``http`` = 8080) -> db; a LoadBalancer ``default/web`` (externalTrafficPolicy Local)
whose backend admits 203.0.113.0/24 on 8443; an Ingress to web. ``tests/data/cluster``
holds a recorded ``kubectl get -A -o json`` of a live cluster, before and after a
rollout of ``shop/web``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reach.cli import build_parser, main
from reach.endpoints import REFERENCE_FORMS

ROOT = Path(__file__).resolve().parents[2]
SHOP = ["-f", str(ROOT / "tests" / "data" / "probes" / "shop.yaml")]
SEED = ROOT / "samples" / "seed"
LIVE = ROOT / "tests" / "data" / "cluster"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------------
# 1. one resolver: a Service is an endpoint of every command


def test_can_to_a_service_on_its_service_port(capsys: pytest.CaptureFixture[str]) -> None:
    """"A Service ... port: the port that will be exposed by this service; targetPort:
    number or name of the port to access on the pods" — port 80 reaches api on 8080."""
    code, out, _ = run(capsys, "can", "shop/web", "shop/svc/api", "--port", "80", *SHOP)
    assert code == 0
    assert out.splitlines()[0] == (
        "shop/web[Deployment] -> shop/api[Service]: ALLOWED on TCP 80 to every backend (1 of 1)")
    assert "TCP 80 -> shop/api[Deployment] TCP 8080: allowed" in out


@pytest.mark.parametrize("ref", ["shop/svc/api", "shop/service/api", "shop/Service/api",
                                 "shop/services/api"])
def test_every_kubectl_spelling_of_service_names_it(capsys: pytest.CaptureFixture[str],
                                                    ref: str) -> None:
    code, out, _ = run(capsys, "can", "shop/web", ref, "--port", "80", *SHOP, "-o", "json")
    assert code == 0 and json.loads(out)["dst"] == {"kind": "Service", "namespace": "shop",
                                                    "name": "api"}


def test_paths_render_and_reachable_take_the_same_service(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "paths", "shop/web", "shop/svc/api", *SHOP)
    assert code == 0 and "shop/web[Deployment] --TCP 80--> shop/api[Service]" in out
    code, out, _ = run(capsys, "render", *SHOP, "--focus", "shop/svc/api", "-o", "dot")
    assert code == 0 and 'tooltip="shop/api[Service]"' in out
    code, out, _ = run(capsys, "reachable-to", "shop/svc/api", *SHOP)
    assert code == 0 and "1 hop: shop/web[Deployment]" in out


def test_an_unknown_name_lists_the_closest_candidates_of_every_kind(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "can", "shop/wbe", "shop/svc/api", *SHOP)
    assert code == 2 and out == ""
    assert 'nothing called "wbe" in namespace "shop"' in err
    candidates = err.strip().split("candidates: ")[1].split(", ")
    assert candidates == ["shop/Deployment/web", "shop/Ingress/web", "shop/Service/web"]
    code, _, err = run(capsys, "can", "shop/web", "shop/svc/aip", *SHOP)
    assert code == 2 and "candidates: shop/Service/api" in err


# ---------------------------------------------------------------------------
# 2. the internet and outside addresses, to pods and to exposed Services


def test_can_from_the_internet(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "can", "internet", "shop/web", *SHOP)
    assert code == 0  # web admits 8080 from anyone, the internet included
    assert out.startswith("{internet} -> shop/web[Deployment]: ALLOWED on TCP 8080 (not on "
                          "every port)")


def test_can_from_an_outside_address_to_a_load_balancer(
        capsys: pytest.CaptureFixture[str]) -> None:
    """externalTrafficPolicy Local "preserves the client source IP": 203.0.113.10 is in
    the admitted /24, 198.51.100.7 is not."""
    code, out, _ = run(capsys, "can", "203.0.113.10", "default/svc/web", *SHOP)
    assert code == 0 and "ALLOWED on TCP 443 to every backend (1 of 1)" in out
    assert "TCP 443 -> default/web[Deployment] TCP 8443: allowed" in out
    code, out, _ = run(capsys, "can", "198.51.100.7", "default/svc/web", *SHOP)
    assert code == 1 and "DENIED" in out.splitlines()[0]


def test_a_cluster_ip_service_is_not_reachable_from_outside(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "can", "internet", "shop/svc/api", *SHOP)
    assert code == 1 and "ClusterIP Service: only NodePort and LoadBalancer" in out


def test_paths_from_outside_go_through_the_service_to_the_backend(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "paths", "203.0.113.10", "default/web", *SHOP)
    assert code == 0
    assert out.splitlines()[1] == (
        "1 hop: 203.0.113.10[External] --TCP 443--> default/web[Service] --TCP 8443--> "
        "default/web[Deployment]")
    # never the backend first and then its own Service
    assert "default/web[Deployment] --" not in out


# ---------------------------------------------------------------------------
# 3. granularity keeps every connection


SEED_2 = ["-f", str(SEED / "cluster.yaml"), "-f", str(SEED / "policies" / "allow-us-east.yaml")]


def test_namespace_level_lists_traffic_inside_a_namespace(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--by", "namespace", *SEED_2)
    assert code == 0
    assert "network-policy[Namespace] => network-policy[Namespace] : All Connections" in out


@pytest.mark.parametrize("by", ["pod", "workload", "namespace"])
def test_diff_reports_removing_client_2_to_server_at_every_level(
        capsys: pytest.CaptureFixture[str], by: str) -> None:
    code, out, _ = run(capsys, "diff", "--by", by, "--old", str(SEED / "cluster.yaml"),
                       "--new", str(SEED / "cluster.yaml"),
                       "--new", str(SEED / "policies" / "allow-us-east.yaml"))
    assert code == 1 and "no difference" not in out
    if by == "namespace":
        assert ("~ network-policy[Namespace] => network-policy[Namespace] : All Connections "
                "(changed between some of their pods)") in out
    else:
        assert "network-policy/client-2[Pod] => network-policy/server[Pod]" in out


def test_list_has_the_ingress_controller_connections(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", *SHOP)
    assert code == 0 and "{ingress-controller} => shop/web[Deployment] : TCP 8080" in out


BLOG = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: blog, namespace: blog}
spec:
  template:
    metadata: {labels: {app: blog}}
    spec: {containers: [{name: blog, image: blog, ports: [{name: http, containerPort: 2368}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: blog, namespace: blog}
spec: {selector: {app: blog}, ports: [{name: web, port: 80, targetPort: http}]}
---
apiVersion: route.openshift.io/v1
kind: Route
metadata: {name: blog, namespace: blog}
spec: {to: {kind: Service, name: blog}, port: {targetPort: web}}
"""


def test_an_openshift_route_routes_like_an_ingress(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    """"spec.port.targetPort: ... If this is a string, it will be looked up as a named
    port in the target endpoints port list" (the service port name)."""
    route = tmp_path / "blog.yaml"
    route.write_text(BLOG)
    code, out, _ = run(capsys, "list", *SHOP, "-f", str(route))
    assert code == 0 and "{ingress-controller} => blog/blog[Deployment] : TCP 2368" in out
    code, out, _ = run(capsys, "can", "ingress-controller", "blog/route/blog", *SHOP, "-f",
                       str(route))
    assert code == 0 and "TCP 80 -> blog/blog[Deployment] TCP 2368: allowed" in out
    # api admits only web: the controller does not get through a Route to it
    api = tmp_path / "api.yaml"
    api.write_text("apiVersion: route.openshift.io/v1\nkind: Route\n"
                   "metadata: {name: api, namespace: shop}\n"
                   "spec: {to: {kind: Service, name: api}}\n")
    code, out, _ = run(capsys, "list", *SHOP, "-f", str(api))
    assert code == 0 and "{ingress-controller} => shop/api" not in out


# ---------------------------------------------------------------------------
# 4. live-cluster dumps


def test_a_dump_names_workloads_after_their_deployment(capsys: pytest.CaptureFixture[str]) -> None:
    dump = ["-f", str(LIVE / "kubectl-get.json")]
    code, out, _ = run(capsys, "can", "shop/web", "shop/api", "--port", "8080", *dump)
    assert code == 0 and out.startswith("shop/web[Deployment] -> shop/api[Deployment]")
    code, out, _ = run(capsys, "list", *dump)
    assert "[ReplicaSet]" not in out and "shop/web[Deployment] => shop/api[Deployment]" in out


@pytest.mark.parametrize("by", ["pod", "workload", "namespace"])
def test_a_rollout_without_policy_change_is_no_difference(capsys: pytest.CaptureFixture[str],
                                                          by: str) -> None:
    code, out, _ = run(capsys, "diff", "--by", by, "-f", str(LIVE / "kubectl-get.json"),
                       "-f", str(LIVE / "kubectl-get-after-rollout.json"))
    assert (code, out.strip()) == (0, f"no difference in allowed connections (by {by})")


def test_pods_that_ended_are_left_out_with_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list", "--by", "pod", "-f", str(LIVE / "kubectl-get.json"))
    assert code == 0 and "backup" not in out
    assert "left out 1 pod that does not run: shop/backup-28512345-abcde (phase Succeeded)" in err


# ---------------------------------------------------------------------------
# 5. kubectl habits


def test_namespace_and_selector_narrow_what_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", *SHOP, "-n", "default")
    lines = out.splitlines()
    assert code == 0 and lines and all("default/" in line for line in lines)
    code, out, _ = run(capsys, "list", *SHOP, "-l", "app=db")
    assert all("shop/db[StatefulSet]" in line for line in out.splitlines())
    code, out, _ = run(capsys, "isolated", *SHOP, "-l", "app in (web,api)")
    assert [line.split(":")[0] for line in out.splitlines()] == [
        "shop/api[Deployment]", "shop/web[Deployment]"]
    code, out, _ = run(capsys, "exposure", *SHOP, "-n", "default")
    assert out.splitlines() and all(line.startswith("default/") for line in out.splitlines())
    code, out, _ = run(capsys, "render", *SHOP, "-n", "default", "-o", "dot")
    assert code == 0 and "shop/api" not in out and "default/web[Deployment]" in out


def test_wide_output_has_more_columns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", *SHOP, "-o", "wide")
    header = out.splitlines()[0].split()
    assert code == 0 and header[:3] == ["SRC", "DST", "CONNECTIONS"]
    assert any("shop/api,shop/default-deny" in line for line in out.splitlines())
    code, out, _ = run(capsys, "isolated", *SHOP, "-o", "wide")
    assert "PEERS IN" in out.splitlines()[0]


def test_unknown_flags_show_the_subcommand_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "can", "shop/web", "shop/api", *SHOP, "--portt", "80")
    assert code == 2 and err.startswith("usage: reach can") and "--portt" in err


def test_an_invalid_output_lists_the_valid_formats(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "isolated", *SHOP, "-o", "yaml")
    assert code == 2 and "choose one of txt, wide, json" in err


@pytest.mark.parametrize("port", ["0", "99999", "-1"])
def test_ports_outside_1_to_65535_are_usage_errors(capsys: pytest.CaptureFixture[str],
                                                   port: str) -> None:
    code, out, err = run(capsys, "can", "shop/web", "shop/api", *SHOP, f"--port={port}")
    assert code == 2 and out == "" and "1-65535" in err


def test_a_port_name_is_resolved_on_the_destination(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "can", "shop/web", "shop/api", "--port", "http", *SHOP)
    assert code == 0 and out.startswith(
        "shop/web[Deployment] -> shop/api[Deployment]: ALLOWED on TCP 8080 (http)")
    code, _, err = run(capsys, "can", "shop/web", "shop/api", "--port", "grpc", *SHOP)
    assert code == 2 and "no container port named \"grpc\"" in err and "http, metrics" in err


# ---------------------------------------------------------------------------
# 6. wording that cannot be misread


def test_can_says_which_ports_and_never_any_port(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "can", "shop/web", "shop/api", *SHOP)
    assert code == 0 and out.splitlines()[0] == (
        "shop/web[Deployment] -> shop/api[Deployment]: ALLOWED on TCP 8080 (not on every port)")
    assert "any port" not in out
    code, out, _ = run(capsys, "can", "network-policy/server", "network-policy/client-1",
                       *SEED_2)
    assert out.splitlines()[0].endswith(": ALLOWED on every port")


def test_reachable_from_the_internet_does_not_list_the_internet(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reachable-from", "internet", *SHOP, "-o", "json")
    ends = json.loads(out)["endpoints"]
    assert code == 0 and {"kind": "Internet"} not in [
        {k: v for k, v in e.items() if k != "hops"} for e in ends]
    ranges = [e["range"] for e in ends if e["kind"] == "External"]
    assert len(ranges) == len(set(ranges))


def test_a_single_address_is_written_as_itself(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    block = tmp_path / "block.yaml"
    block.write_text((SEED / "policies" / "block-one-ip.yaml").read_text())
    code, out, _ = run(capsys, "list", "--by", "pod", "-f", str(SEED / "cluster.yaml"),
                       "-f", str(block))
    assert code == 0 and "192.168.134.72-192.168.134.72" not in out


def test_isolated_names_a_workload_as_list_does(capsys: pytest.CaptureFixture[str]) -> None:
    _, listed, _ = run(capsys, "list", *SHOP)
    _, isolated, _ = run(capsys, "isolated", *SHOP)
    assert "shop/web[Deployment]" in listed and "shop/web[Deployment]:" in isolated
    assert "[Pod]" not in isolated


def test_reachable_from_exits_0_on_an_empty_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "reachable-from", "shop/db", *SHOP)
    assert code == 0 and out.startswith("nothing reachable from shop/db[StatefulSet]")


def test_isolated_help_promises_what_it_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["isolated", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "-o wide: the policies and how many peers" in text
    code, out, _ = run(capsys, "isolated", *SHOP, "-o", "wide")
    assert code == 0 and "PEERS IN" in out and "pods" in out


# ---------------------------------------------------------------------------
# 7. say what was assumed


def test_host_network_pods_are_a_caveat_naming_them(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list", "-q", "-o", "json", "-f", str(LIVE / "kubectl-get.json"))
    caveats = json.loads(out)["caveats"]
    assert code == 0 and len(caveats) == 1
    assert "kube-system/kube-proxy" in caveats[0] and "--host-network-pods" in caveats[0]
    assert "kube-system/kube-proxy" in err  # caveats are printed even with -q
    code, _, _ = run(capsys, "list", "--strict", "-f", str(LIVE / "kubectl-get.json"))
    assert code == 2
    code, out, _ = run(capsys, "list", "-o", "json", "--host-network-pods",
                       "-f", str(LIVE / "kubectl-get.json"))
    assert json.loads(out)["caveats"] == []


def test_an_empty_file_is_a_warning_naming_it(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    empty = tmp_path / "policies.yaml"
    empty.write_text("")
    code, _, err = run(capsys, "list", *SHOP, "-f", str(empty))
    assert code == 0 and f"{empty} is empty" in err


# ---------------------------------------------------------------------------
# README and --help list the same endpoint forms


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_readme_and_every_help_list_the_same_endpoint_forms() -> None:
    readme = _flat((ROOT / "README.md").read_text())
    assert _flat(REFERENCE_FORMS) in readme
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, child in sub.choices.items():  # type: ignore[union-attr]
        takes_endpoints = any(a.dest in ("src", "dst", "focus") for a in child._actions)
        if takes_endpoints:
            assert _flat(REFERENCE_FORMS) in _flat(child.format_help()), name
    assert _flat(REFERENCE_FORMS) in _flat(parser.format_help())
