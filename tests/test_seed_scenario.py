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

# The same policies written as Calico NetworkPolicies (samples/seed/calico): state
# "calico/X" is state X with each Kubernetes policy replaced by its Calico version.
CALICO = SEED / "calico"
CALICO_ALLOW = str(CALICO / "allow-us-east.yaml")
CALICO_BLOCK = str(CALICO / "block-one-ip.yaml")
STATES.update({
    "calico/none": [CLUSTER],
    "calico/allow-us-east": [CLUSTER, CALICO_ALLOW],
    "calico/both": [CLUSTER, CALICO_ALLOW, CALICO_BLOCK],
    "calico/block-one-ip": [CLUSTER, CALICO_BLOCK],
})


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


# ---------------------------------------------------------------------------
# the same observations with the policies written for Calico

#: Every (state, source, destination, extra arguments) the observation tests above
#: ask about. The --no-ipblock-pods question is left out: it is about a reading of
#: Kubernetes ipBlocks (np-guard's), while Calico's nets always match pod IPs.
OBSERVED = [
    *[("none", src, dst, ("--port", "8888")) for src, dst in [
        ("client-1", "server"), ("client-2", "server"),
        ("server", "client-1"), ("server", "client-2")]],
    ("allow-us-east", "client-1", "server", ("--port", "8888")),
    ("allow-us-east", "client-2", "server", ()),
    ("allow-us-east", "client-1", "server", ("--port", "8080")),
    ("allow-us-east", "server", "client-1", ("--port", "5000")),
    ("allow-us-east", "server", "client-2", ("--port", "5000")),
    ("both", "server", "client-1", ()),
    ("block-one-ip", "server", "client-1", ()),
    ("block-one-ip", "server", "client-2", ("--port", "443")),
    ("block-one-ip", "client-1", "server", ("--port", "8888")),
    ("block-one-ip", "client-2", "server", ("--port", "8888")),
]


@pytest.mark.parametrize(
    ("state", "src", "dst", "extra"), OBSERVED,
    ids=[f"{st}:{s}->{d}{''.join(e)}" for st, s, d, e in OBSERVED],
)
def test_the_calico_policies_give_the_kubernetes_verdicts(
    capsys: pytest.CaptureFixture[str], state: str, src: str, dst: str, extra: tuple[str, ...],
) -> None:
    k8s_code, k8s = can(capsys, state, src, dst, *extra)
    calico_code, calico = can(capsys, f"calico/{state}", src, dst, *extra)
    assert (calico_code, calico["allowed"]) == (k8s_code, k8s["allowed"])
    assert calico["ports"] == k8s["ports"]  # the same allowed ports between the two
    for direction in ("egress", "ingress"):
        assert calico[direction]["selected_by"] == k8s[direction]["selected_by"]
        assert calico[direction]["isolated"] == k8s[direction]["isolated"]


def test_the_calico_policies_are_read_as_calico_ones() -> None:
    """The parity above compares two dialects, not one file with itself."""
    import reach

    net = reach.load(CLUSTER, CALICO_ALLOW, CALICO_BLOCK)
    assert sorted((p.ref, p.kind) for p in net.cluster.policies) == [
        (f"{NS}/allow-us-east", "CalicoNetworkPolicy"),
        (f"{NS}/block-one-ip", "CalicoNetworkPolicy"),
    ]


def test_calico_observation_2_the_verdict_names_the_calico_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "calico/allow-us-east", "client-1", "server", "--port", "8888")
    assert (code, verdict["allowed"]) == (0, True)
    [rule] = verdict["ingress"]["allowed_by"]
    assert (rule["policy"], rule["direction"], rule["rule"]) == (
        f"{NS}/allow-us-east", "ingress", 0)
    assert rule["location"].startswith(CALICO_ALLOW + ":")
    assert verdict["ports"] == {"TCP": [[8888, 8888]]}


def test_calico_observation_3_policies_are_additive_and_the_verdict_names_the_rule(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, verdict = can(capsys, "calico/both", "server", "client-1")
    assert (code, verdict["allowed"]) == (0, True)
    egress = verdict["egress"]
    assert egress["isolated"] is True
    assert sorted(egress["selected_by"]) == [f"{NS}/allow-us-east", f"{NS}/block-one-ip"]
    [rule] = egress["allowed_by"]
    assert (rule["policy"], rule["direction"], rule["rule"]) == (f"{NS}/allow-us-east", "egress", 0)
    assert rule["location"].startswith(CALICO_ALLOW + ":")
    [step] = egress["steps"]
    assert (step["kind"], step["action"], step["policy"]) == (
        "CalicoNetworkPolicy", "Allow", f"{NS}/allow-us-east")


def test_calico_observation_5_removing_a_policy_is_visible_as_a_difference() -> None:
    import reach

    before = reach.load(CLUSTER)
    after = reach.load(CLUSTER, CALICO_ALLOW)
    lost = {(str(c.src), str(c.dst)) for c in before.connections(by="pod")} - {
        (str(c.src), str(c.dst)) for c in after.connections(by="pod")
    }
    assert (f"{NS}/client-2[Pod]", f"{NS}/server[Pod]") in lost
    assert (f"{NS}/client-1[Pod]", f"{NS}/server[Pod]") not in lost


@pytest.mark.parametrize("state", ["allow-us-east", "both", "block-one-ip"])
def test_each_calico_state_connects_exactly_like_its_kubernetes_state(state: str) -> None:
    """Beyond the observations: every pod and outside range, every port."""
    import reach

    def edges(files: list[str]) -> set[tuple[str, str, str]]:
        net = reach.load(*files)
        return {(str(c.src), str(c.dst), str(c.ports)) for c in net.connections(by="pod")}

    assert edges(STATES[f"calico/{state}"]) == edges(STATES[state])
