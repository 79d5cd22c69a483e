"""The reach command as a user meets it: formats, exit codes, errors without tracebacks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from reach.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "seed"
STATE_2 = ["-f", str(SEED / "cluster.yaml"), "-f", str(SEED / "policies" / "allow-us-east.yaml")]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_is_the_stable_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", *STATE_2, "--by", "pod", "-o", "json")
    doc = json.loads(out)
    assert code == 0 and set(doc) == {"connections", "warnings", "caveats"}
    # the seed's calico pods use the host network: read as node traffic, a caveat
    [caveat] = doc["caveats"]
    assert "host network" in caveat and "--host-network-pods" in caveat
    to_server = [c for c in doc["connections"] if c["dst"].get("name") == "server"]
    assert to_server == [{
        "src": {"kind": "Pod", "namespace": "network-policy", "name": "client-1"},
        "dst": {"kind": "Pod", "namespace": "network-policy", "name": "server"},
        "protocols": {"TCP": [[8888, 8888]]},
    }]
    outside = [c for c in doc["connections"] if c["src"]["kind"] == "External"]
    assert outside and all(c["src"] == {"kind": "External", "range": "0.0.0.0-255.255.255.255"}
                           for c in outside)
    # every IP protocol: ports, ICMP types and codes, the other protocols by number
    everything = {"ICMP": [[0, 65535]], "ICMPv6": [[0, 65535]], "SCTP": [[1, 65535]],
                  "TCP": [[1, 65535]], "UDP": [[1, 65535]], "UDPLite": [[1, 65535]],
                  "ip_protocols": [[2, 5], [7, 16], [18, 57], [59, 131], [133, 135],
                                   [137, 255]]}
    assert all(c["protocols"] == everything for c in outside)


@pytest.mark.parametrize("fmt", ["txt", "csv", "md"])
def test_list_text_formats_name_every_connection(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    code, out, _ = run(capsys, "list", *STATE_2, "--by", "pod", "-o", fmt)
    assert code == 0
    rows = [row for row in out.splitlines() if "client-1[Pod]" in row and "server[Pod]" in row]
    assert len(rows) == 2  # one each way
    first, second = rows
    assert first.index("client-1") < first.index("server") and "TCP 8888" in first
    assert "All Connections" in second


def test_list_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO((SEED / "cluster.yaml").read_text()))
    code, out, _ = run(capsys, "list", "-f", "-", "--by", "namespace")
    assert code == 0 and "network-policy[Namespace] => kube-system[Namespace]" in out


def test_an_unknown_endpoint_is_a_usage_error_with_candidates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "can", "network-policy/nobody", "network-policy/server", *STATE_2)
    assert code == 2 and out == ""
    assert 'nothing called "nobody" in namespace "network-policy"' in err
    assert "network-policy/Pod/server" in err  # what does exist there


def test_a_missing_file_is_reported_without_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "list", "-f", str(tmp_path / "nope.yaml"))
    assert code == 2 and "nope.yaml" in err and "Traceback" not in err


def test_unknown_output_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "list", *STATE_2, "-o", "yaml")
    assert code == 2 and "yaml" in err


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == 2 and "COMMAND" in err


def test_python_dash_m_reach_is_the_same_command() -> None:
    done = subprocess.run([sys.executable, "-m", "reach", "--version"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("reach ")


def test_warnings_go_to_stderr_and_quiet_silences_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("not a manifest\n")
    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
    code, out, err = run(capsys, "list", "-f", str(tmp_path))
    assert code == 0 and "notes.txt" in err and "notes.txt" not in out
    code, _, err = run(capsys, "list", "-q", "-f", str(tmp_path))
    assert code == 0 and err == ""


STAGED = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: web}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, image: db}]}
status: {podIP: 10.0.0.2}
---
apiVersion: projectcalico.org/v3
kind: StagedNetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  selector: app == 'db'
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [5432]}}
"""


def test_diff_with_staged_compares_the_input_with_its_staged_policies_enforced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "staged.yaml"
    path.write_text(STAGED)
    code, out, err = run(capsys, "diff", "--with-staged", "-f", str(path), "--by", "pod")
    assert code == 1
    assert "shop/web[Pod] => shop/db[Pod] : All Connections -> TCP 5432" in out
    assert "1 staged policy is not enforced" in err
    # both sides given: the staged policies of NEW are enforced, OLD is read as is
    assert run(capsys, "diff", "--with-staged", str(path), str(path), "--by", "pod")[0] == 1
    assert run(capsys, "diff", str(path), str(path))[0] == 0


def test_diff_with_staged_exits_0_when_staging_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    same = tmp_path / "same.yaml"  # the staged policy is the enforced one, word for word
    same.write_text(STAGED + "---\n" + STAGED.split("---\n")[-1].replace(
        "kind: StagedNetworkPolicy", "kind: NetworkPolicy"))
    code, out, _ = run(capsys, "diff", "--with-staged", "-f", str(same), "-o", "json")
    assert code == 0 and json.loads(out)["different"] is False
    plain = tmp_path / "plain.yaml"
    plain.write_text(STAGED.rsplit("---\n", 1)[0])
    code, _, err = run(capsys, "diff", "--with-staged", str(plain))
    assert code == 0 and "holds no staged policy" in err


def test_diff_with_staged_needs_an_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "diff", "--with-staged")
    assert code == 2 and "--with-staged OLD" in err
    assert "--with-staged" in run(capsys, "diff", "--help")[1]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "quiet", "shown"), [
    (_Terminal(), False, True), (_Terminal(), True, False), (io.StringIO(), False, False)])
def test_a_progress_bar_only_on_a_terminal_without_quiet(stream: io.StringIO, quiet: bool,
                                                          shown: bool):
    from reach.cli import _Progress

    bar = _Progress(stream, quiet)
    bar("reading cluster.json", 10, 100)  # the first second: nothing yet
    assert stream.getvalue() == ""
    bar.started -= 2
    bar("reading cluster.json", 50, 100)
    bar("egress", 3, 4)
    bar.close()
    assert ("reading cluster.json" in stream.getvalue()) is shown
    assert ("compiling egress" in stream.getvalue()) is shown
