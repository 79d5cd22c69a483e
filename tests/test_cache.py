"""The cache of compiled networks: a hit answers as a compile would, and nothing in a
cache folder is trusted.

The key covers everything an answer depends on (each input's bytes and path, the
files skipped, the options, reach itself); an entry that is corrupt, foreign or
unreadable is ignored with a warning and written again.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

import reach
from reach.cache import KEEP
from reach.cli import main
from reach.network import Network

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "samples" / "shop"
PLATFORM = ROOT / "samples" / "platform"
CALICO = ROOT / "samples" / "calico"


def codes(net: Network) -> list[str]:
    return [d.code for d in net.notes]


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.npz") if not p.name.startswith("."))


def answers(net: Network) -> tuple[object, ...]:
    """What a user reads off a network: connections at every granularity, the warnings,
    verdicts with their explanations, lint."""
    return (
        [str(c) for by in ("pod", "workload", "namespace") for c in net.connections(by)],
        [str(w) for w in net.warnings if not w.code.startswith("cache-")],
        [json.dumps(net.can(a.ref, b.ref, port=p).to_json(), sort_keys=True)
         for a in net.pods[:4] for b in net.pods[:4]
         for p in (80, 5432)],
        [str(f) for f in reach.lint(net)],
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_a_second_load_of_the_same_inputs_is_read_from_the_cache(folder: Path) -> None:
    fresh = reach.load(SHOP, PLATFORM, CALICO)
    first = reach.load(SHOP, PLATFORM, CALICO, cache=folder)
    again = reach.load(SHOP, PLATFORM, CALICO, cache=folder)
    assert codes(first) == [] and codes(again) == ["cache-hit"]
    assert len(entries(folder)) == 1
    assert answers(again) == answers(first) == answers(fresh)


def test_a_changed_input_is_another_entry(folder: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(SHOP, inputs)
    before = reach.load(inputs, cache=folder)
    policy = next(inputs.rglob("*.yaml"))
    policy.write_text(policy.read_text() + "\n# a comment changes the bytes\n")
    after = reach.load(inputs, cache=folder)
    assert codes(after) == [] and len(entries(folder)) == 2
    assert codes(reach.load(inputs, cache=folder)) == ["cache-hit"]
    assert answers(after) == answers(before)


def test_a_file_skipped_in_a_folder_is_part_of_the_key(folder: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    shutil.copytree(SHOP, inputs)
    reach.load(inputs, cache=folder)
    (inputs / "notes.txt").write_text("not a manifest")
    net = reach.load(inputs, cache=folder)
    assert codes(net) == []  # a miss: the warning about notes.txt is new
    assert any("notes.txt" in str(w) for w in net.warnings)
    again = reach.load(inputs, cache=folder)
    assert codes(again) == ["cache-hit"]
    assert [str(w) for w in again.warnings][:-1] == [str(w) for w in net.warnings]


def test_the_options_and_the_order_of_inputs_are_part_of_the_key(folder: Path) -> None:
    reach.load(SHOP, PLATFORM, cache=folder)
    assert codes(reach.load(SHOP, PLATFORM, cache=folder, ipblock_pods=False)) == []
    assert codes(reach.load(SHOP, PLATFORM, cache=folder, host_network_pods=True)) == []
    assert codes(reach.load(PLATFORM, SHOP, cache=folder)) == []
    assert len(entries(folder)) == 4
    assert codes(reach.load(SHOP, PLATFORM, cache=folder, ipblock_pods=False)) == ["cache-hit"]


def test_standard_input_is_keyed_by_its_text(folder: Path) -> None:
    text = (SHOP / "workloads.yaml").read_text() if (SHOP / "workloads.yaml").exists() else \
        next(SHOP.rglob("*.yaml")).read_text()
    first = reach.load("-", stdin_text=text, cache=folder)
    assert codes(reach.load("-", stdin_text=text, cache=folder)) == ["cache-hit"]
    assert codes(reach.load("-", stdin_text=text + "\n---\n", cache=folder)) == []
    assert [p.ref for p in first.pods] == [
        p.ref for p in reach.load("-", stdin_text=text, cache=folder).pods]


def _truncate(entry: Path) -> None:
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])


def _flip(entry: Path) -> None:
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.write_bytes(bytes(data))


def _members(entry: Path) -> dict[str, np.ndarray]:
    with np.load(entry, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _rewrite(entry: Path, members: dict[str, np.ndarray]) -> None:
    with entry.open("wb") as out:
        np.savez(out, **members)


def _foreign(entry: Path) -> None:
    members = _members(entry)
    header = json.loads(members["header"].tobytes())
    header["reach"] = "0" * 64  # another reach wrote it
    members["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    _rewrite(entry, members)


def _pickled(entry: Path) -> None:
    members = _members(entry)
    members["array_pod_class"] = np.array([object()], dtype=object)
    with entry.open("wb") as out:
        np.savez(out, allow_pickle=True, **members)


def _edited_model(entry: Path) -> None:
    members = _members(entry)
    model = json.loads(members["model"].tobytes())
    model["tables"]["Pod"]["name"][0] = 7
    members["model"] = np.frombuffer(json.dumps(model).encode(), dtype=np.uint8)
    _rewrite(entry, members)


def _out_of_range(entry: Path) -> None:
    members = _members(entry)
    members["array_pod_class"] = members["array_pod_class"] + 1000
    _rewrite(entry, members)


def _not_a_zip(entry: Path) -> None:
    entry.write_text("import os; os.system('echo owned')\n")


@pytest.mark.parametrize("damage", [_truncate, _flip, _foreign, _pickled, _edited_model,
                                    _out_of_range, _not_a_zip],
                         ids=lambda f: f.__name__.strip("_"))
def test_a_damaged_entry_is_ignored_with_a_warning_and_written_again(
        folder: Path, damage: object) -> None:
    fresh = reach.load(SHOP, PLATFORM, cache=folder)
    (entry,) = entries(folder)
    damage(entry)  # type: ignore[operator]
    net = reach.load(SHOP, PLATFORM, cache=folder)
    assert codes(net) == ["cache-ignored"]
    (warning,) = net.notes
    assert warning.severity == "warning" and entry.name in warning.message
    assert answers(net) == answers(fresh)
    assert zipfile.is_zipfile(entry)
    assert codes(reach.load(SHOP, PLATFORM, cache=folder)) == ["cache-hit"]


def test_an_unwritable_cache_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    net = reach.load(SHOP, cache=blocked)
    assert codes(net) == ["cache-unwritable"]
    assert answers(net) == answers(reach.load(SHOP))


def test_only_the_most_recently_used_entries_are_kept(folder: Path, tmp_path: Path) -> None:
    text = next(SHOP.rglob("*.yaml")).read_text()
    for i in range(KEEP + 3):
        reach.load("-", stdin_text=f"{text}\n# {i}\n", cache=folder)
        for k, entry in enumerate(sorted(entries(folder), key=os.path.getmtime)):
            os.utime(entry, (k, k))  # distinct times, oldest first, on any filesystem
    kept = entries(folder)
    assert len(kept) == KEEP
    assert codes(reach.load("-", stdin_text=f"{text}\n# {KEEP + 2}\n", cache=folder)) == [
        "cache-hit"]
    assert codes(reach.load("-", stdin_text=f"{text}\n# 0\n", cache=folder)) == []


def test_what_a_killed_writer_left_is_removed_once_a_day_old(folder: Path) -> None:
    folder.mkdir()
    old, new = folder / ".reach-old.npz", folder / ".reach-new.npz"
    for path in (old, new):
        path.write_bytes(b"half an entry")
    os.utime(old, (0, 0))
    reach.load(SHOP, cache=folder)
    assert not old.exists() and new.exists()  # new may be another writer's, still writing
    assert len(entries(folder)) == 1


def test_the_cli_answers_the_same_from_the_cache(folder: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["list", "-f", str(SHOP), "-f", str(PLATFORM), "-o", "json", "--cache", str(folder)]
    outputs = []
    for _ in range(2):
        assert main(argv) == 0
        outputs.append(capsys.readouterr())
    assert outputs[0] == outputs[1]
    assert len(entries(folder)) == 1
    _flip(entries(folder)[0])
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "warning: ignored the cache entry" in err
    doc, before = json.loads(out), json.loads(outputs[0].out)
    assert doc["connections"] == before["connections"]
    ignored = [w for w in doc["warnings"] if w not in before["warnings"]]
    assert len(ignored) == 1 and "ignored the cache entry" in ignored[0]


def test_the_cli_reads_the_cache_folder_from_the_environment(
        folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REACH_CACHE", str(folder))
    assert main(["list", "-f", str(SHOP)]) == 0
    assert len(entries(folder)) == 1
