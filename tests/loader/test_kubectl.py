"""``--cluster``: a live cluster read through the user's kubectl, for exactly the kinds
reach reads. A fake kubectl on the PATH plays back a recorded ``kubectl get -A -o json``;
no real cluster is needed."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

import reach
from reach.cli import main
from reach.errors import ManifestError
from reach.loader._kubectl import CRD_RESOURCES, FALLBACK_RESOURCES, RESOURCES, kubectl_dump
from reach.policies import DIALECTS

DUMP = Path(__file__).resolve().parents[1] / "data" / "cluster" / "kubectl-get.json"

FAKE = """\
#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_KUBECTL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if os.environ.get("FAKE_KUBECTL_FAIL"):
    sys.stderr.write(os.environ["FAKE_KUBECTL_FAIL"] + "\\n")
    sys.exit(1)
resources = args[args.index("get") + 1].split(",")
if "pods" in resources:
    sys.stdout.write(open(os.environ["FAKE_KUBECTL_DUMP"]).read())
elif resources[0].startswith("adminnetworkpolicies") or (
        resources[0].endswith(".projectcalico.org") and ".crd." not in resources[0]
        and os.environ.get("FAKE_NO_CALICO_API")):
    sys.stderr.write('error: the server doesn\\'t have a resource type "%s"\\n' % resources[0])
    sys.exit(1)
elif (resources[0] == "globalnetworkpolicies.crd.projectcalico.org"
      and os.environ.get("FAKE_CALICO")):
    sys.stdout.write(open(os.environ["FAKE_CALICO"]).read())
else:
    sys.stdout.write(json.dumps({{"apiVersion": "v1", "kind": "List", "items": []}}))
"""


@pytest.fixture
def kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake kubectl first on the PATH; returns the log of its calls (one JSON per line)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    exe = folder / "kubectl"
    exe.write_text(FAKE.format(python=sys.executable))
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "calls.log"
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(log))
    monkeypatch.setenv("FAKE_KUBECTL_DUMP", str(DUMP))
    monkeypatch.delenv("FAKE_KUBECTL_FAIL", raising=False)
    return log


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_the_kinds_asked_are_exactly_the_kinds_reach_reads() -> None:
    builtin = {"namespaces", "nodes", "pods", "services", "endpoints",
               "replicationcontrollers", "deployments.apps", "replicasets.apps",
               "statefulsets.apps", "daemonsets.apps", "jobs.batch", "cronjobs.batch",
               "endpointslices.discovery.k8s.io", "ingresses.networking.k8s.io",
               "networkpolicies.networking.k8s.io"}
    assert builtin <= set(RESOURCES)
    # every policy dialect at every API group it is read at, and OpenShift Routes
    for kind, (versions, _) in DIALECTS.items():
        for version in versions:
            group = version.rpartition("/")[0]
            if group != "extensions":
                assert any(r.endswith(f".{group}") and r.startswith(kind.lower()[:8])
                           for r in (*RESOURCES, *FALLBACK_RESOURCES.values())), (kind, group)
    assert "routes.route.openshift.io" in CRD_RESOURCES
    assert "adminnetworkpolicies.policy.networking.k8s.io" in CRD_RESOURCES
    assert not set(CRD_RESOURCES) & builtin


def test_cluster_reads_what_kubectl_prints_like_a_file(kubectl: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--cluster", "--context", "prod", "--kubeconfig", "/k/config"]) == 0
    live = capsys.readouterr().out
    assert main(["list", "-f", str(DUMP)]) == 0
    assert live == capsys.readouterr().out and "shop/web[Deployment]" in live
    made = calls(kubectl)
    first = made[0]
    assert first[:5] == ["--kubeconfig", "/k/config", "--context", "prod", "get"]
    assert first[-3:] == ["--all-namespaces", "-o", "json"]
    assert set(first[5].split(",")) == set(RESOURCES) - set(CRD_RESOURCES)
    # each CRD kind on its own, so that a missing CRD does not fail the others
    assert sorted(c[5] for c in made[1:]) == sorted(CRD_RESOURCES)


def test_a_missing_crd_is_a_note_not_an_error(kubectl: Path) -> None:
    net = reach.load(cluster=True)
    notes = [d for d in net.warnings if d.code == "no-crd"]
    assert [d.severity for d in notes] == ["info"]
    assert "adminnetworkpolicies" in notes[0].message
    assert [p.name for p in net.pods if p.namespace == "shop"] == [
        "api-66d9f8c7b-q2w3e", "web-7d4b9c8f6d-k8s9d", "web-7d4b9c8f6d-x2b7q"]


def test_files_add_to_the_live_cluster(kubectl: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    deny = tmp_path / "deny.yaml"
    deny.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: deny-web, namespace: shop}\n"
                    "spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Egress]}\n")
    assert main(["diff", "--cluster", str(deny)]) == 1  # live cluster (old) vs the files (new)
    out = capsys.readouterr().out
    assert "shop/web[Deployment] => shop/api[Deployment]" in out


def test_files_replace_live_objects_of_the_same_name(kubectl: Path, tmp_path: Path) -> None:
    """As kubectl apply would: a file's NetworkPolicy shop/api replaces the live one."""
    api = tmp_path / "api.yaml"
    api.write_text("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                   "metadata: {name: api, namespace: shop}\n"
                   "spec: {podSelector: {matchLabels: {app: api}}, policyTypes: [Ingress]}\n")
    live = reach.load(cluster=True)
    tried = reach.load(api, cluster=True)
    assert live.can("shop/web", "shop/api", port=8080)
    assert not tried.can("shop/web", "shop/api", port=8080)
    assert [p.ref for p in tried.cluster.policies] == ["shop/api"]
    assert "replaces-live" in [d.code for d in tried.warnings]


def test_diff_asks_kubectl_once(kubectl: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    same = tmp_path / "nothing.yaml"
    same.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    assert main(["diff", "--cluster", str(same)]) == 0
    assert len(calls(kubectl)) == 1 + len(CRD_RESOURCES)


def test_kubectl_failing_is_a_clear_error(kubectl: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FAKE_KUBECTL_FAIL", "error: context \"nope\" does not exist")
    assert main(["list", "--cluster", "--context", "nope"]) == 2
    err = capsys.readouterr().err
    assert 'context "nope" does not exist' in err and "Traceback" not in err


def test_no_kubectl_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="not found on the PATH"):
        kubectl_dump(kubectl=str(tmp_path / "no-kubectl"))


def test_neither_files_nor_cluster_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 2
    assert "-f PATH" in capsys.readouterr().err


def test_calico_objects_come_from_the_datastore_without_calico_s_api_server(
        kubectl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Calico's kinds are asked at projectcalico.org (its API server) and, where that is not
    served, at crd.projectcalico.org, as the datastore keeps them: never both, which would
    read every Calico policy twice."""
    assert "tiers.projectcalico.org" in CRD_RESOURCES
    assert not any(r.endswith(".crd.projectcalico.org") for r in RESOURCES)
    gnp = {"apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy",
        "metadata": {"name": "deny-all"},
        "spec": {"selector": "all()", "types": ["Ingress"]}}]}
    dump = tmp_path / "gnp.json"
    dump.write_text(json.dumps(gnp))
    monkeypatch.setenv("FAKE_NO_CALICO_API", "1")
    monkeypatch.setenv("FAKE_CALICO", str(dump))
    live = kubectl_dump()
    asked = [c[c.index("get") + 1] for c in calls(kubectl)]
    assert "globalnetworkpolicies.projectcalico.org" in asked
    assert "globalnetworkpolicies.crd.projectcalico.org" in asked
    assert not any("no such CRD" in n.message and "globalnetworkpolicies" in n.message
                   for n in live.notes)
    net = reach.load(cluster=True)
    assert [p.ref for p in net.cluster.policies if p.kind == "GlobalNetworkPolicy"] == [
        "gnp/deny-all"]
