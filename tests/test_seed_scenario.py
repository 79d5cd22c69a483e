"""The reference scenario's five observations, through the ``reach can`` command.

See ``samples/seed/README.md``: each state is the cluster plus some policy files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reach.cli import main

SEED = Path(__file__).resolve().parents[1] / "samples" / "seed"
CLUSTER = str(SEED / "cluster.yaml")
ALLOW = str(SEED / "policies" / "allow-us-east.yaml")
BLOCK = str(SEED / "policies" / "block-one-ip.yaml")
NS = "network-policy"

STATES = {
    "none": [CLUSTER],
    "allow-us-east": [CLUSTER, ALLOW],
    "both": [CLUSTER, ALLOW, BLOCK],
    "block-one-ip": [CLUSTER, BLOCK],
}


def can(
    capsys: pytest.CaptureFixture[str], state: str, src: str, dst: str, *extra: str
) -> tuple[int, dict]:
    argv = ["can", f"{NS}/{src}", f"{NS}/{dst}", "-o", "json", *extra]
    for path in STATES[state]:
        argv += ["-f", path]
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_observation_1_without_policies_everyone_talks(capsys: pytest.CaptureFixture[str]) -> None:
    for src, dst in [("client-1", "server"), ("client-2", "server"),
                     ("server", "client-1"), ("server", "client-2")]:
        code, verdict = can(capsys, "none", src, dst, "--port", "8888")
        assert code == 0 and verdict["allowed"] is True, (src, dst)


def test_observation_2_allow_us_east_admits_only_client_1_on_8888(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "allow-us-east", "client-1", "server", "--port", "8888")
    assert (code, verdict["allowed"]) == (0, True)
    assert verdict["ingress"]["allowed_by"][0]["policy"] == f"{NS}/allow-us-east"

    code, verdict = can(capsys, "allow-us-east", "client-2", "server")  # any port
    assert (code, verdict["allowed"]) == (1, False)
    assert verdict["ports"] == {}

    code, verdict = can(capsys, "allow-us-east", "client-1", "server", "--port", "8080")
    assert (code, verdict["allowed"]) == (1, False)

    for client in ("client-1", "client-2"):
        code, verdict = can(capsys, "allow-us-east", "server", client, "--port", "5000")
        assert (code, verdict["allowed"]) == (0, True)


def test_observation_3_policies_are_additive_and_the_verdict_names_the_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "both", "server", "client-1")
    assert (code, verdict["allowed"]) == (0, True)
    egress = verdict["egress"]
    assert egress["isolated"] is True
    assert sorted(egress["selected_by"]) == [f"{NS}/allow-us-east", f"{NS}/block-one-ip"]
    [rule] = egress["allowed_by"]
    assert (rule["policy"], rule["direction"], rule["rule"]) == (f"{NS}/allow-us-east", "egress", 0)
    assert rule["location"].startswith(str(SEED / "policies" / "allow-us-east.yaml") + ":")

    files = [arg for path in STATES["both"] for arg in ("-f", path)]
    assert main(["can", f"{NS}/server", f"{NS}/client-1", *files]) == 0
    text = capsys.readouterr().out
    assert "allowed by" in text and "allow-us-east egress[0]" in text


def test_observation_4_block_one_ip_cuts_server_to_client_1_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "block-one-ip", "server", "client-1")
    assert (code, verdict["allowed"]) == (1, False)
    code, verdict = can(capsys, "block-one-ip", "server", "client-2", "--port", "443")
    assert (code, verdict["allowed"]) == (0, True)
    for client in ("client-1", "client-2"):
        code, verdict = can(capsys, "block-one-ip", client, "server", "--port", "8888")
        assert (code, verdict["allowed"]) == (0, True)


def test_observation_4_depends_on_ipblocks_matching_pod_ips(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With ipBlocks blind to pods (np-guard's reading) the egress rule admits no pod at all."""
    for client in ("client-1", "client-2"):
        code, verdict = can(capsys, "block-one-ip", "server", client, "--no-ipblock-pods")
        assert (code, verdict["allowed"]) == (1, False)
        assert verdict["egress"]["isolated"] is True and verdict["egress"]["allowed_by"] == []


def test_observation_5_removing_a_policy_is_visible_as_a_difference() -> None:
    """Observation 5 needs a diff: adding allow-us-east removes client-2 -> server."""
    import reach

    before = reach.load(CLUSTER)
    after = reach.load(CLUSTER, ALLOW)
    lost = {(str(c.src), str(c.dst)) for c in before.connections(by="pod")} - {
        (str(c.src), str(c.dst)) for c in after.connections(by="pod")
    }
    assert (f"{NS}/client-2[Pod]", f"{NS}/server[Pod]") in lost
    assert (f"{NS}/client-1[Pod]", f"{NS}/server[Pod]") not in lost  # narrowed, not removed


@pytest.mark.parametrize(
    ("path", "where", "text"),
    [
        (SEED / "malformed" / "allow-us-east.yaml", ":18:7:", 'unknown field "ports"'),
        (SEED / "malformed" / "block-one-ip.yaml", ":17:5:", 'unknown field "except"'),
    ],
)
def test_the_notes_first_drafts_are_refused_at_the_offending_key(
    capsys: pytest.CaptureFixture[str], path: Path, where: str, text: str
) -> None:
    assert main(["list", "-f", CLUSTER, "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}{where} {text}")
    assert "Traceback" not in err
