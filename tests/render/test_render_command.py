"""reach render, and the diagram formats of reach list."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from reach.cli import main
from reach.render import graphviz_available

ROOT = Path(__file__).resolve().parents[2]
SEED = [str(ROOT / "samples/seed/cluster.yaml"), str(ROOT / "samples/seed/policies")]
INPUT = [arg for path in SEED for arg in ("-f", path)]


@pytest.fixture(autouse=True)
def _matplotlib_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REACH_RENDER_ENGINE", raising=False)


def test_render_writes_a_dot_file(tmp_path: Path) -> None:
    out = tmp_path / "seed.dot"
    assert main(["render", *INPUT, "-o", str(out), "--by", "pod"]) == 0
    text = out.read_text()
    assert text.startswith("digraph reach {") and 'label="network-policy"' in text


@pytest.mark.parametrize("engine", ["matplotlib", "graphviz"])
def test_render_writes_png_and_svg(tmp_path: Path, engine: str) -> None:
    if engine == "graphviz" and not graphviz_available():
        pytest.skip("Graphviz is not installed")
    png, svg = tmp_path / "seed.png", tmp_path / "seed.svg"
    assert main(["render", *INPUT, "-o", str(png), "--engine", engine]) == 0
    image = Image.open(png)
    assert image.width > 100 and image.height > 100
    assert main(["render", *INPUT, "-o", str(svg), "--engine", engine, "--focus",
                 "network-policy/server", "--hops", "1"]) == 0
    assert "server" in " ".join(ET.parse(svg).getroot().itertext())


def test_render_highlights_paths(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", *INPUT, "-o", "dot", "--by", "pod", "--path",
                 "network-policy/client-1", "network-policy/server"]) == 0
    out = capsys.readouterr().out
    assert out.count("#d62728") >= 3  # two endpoints and the hop between them


def test_render_says_when_there_is_no_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", *INPUT, "-o", "dot", "--path", "network-policy/client-2",
                 "network-policy/server", "--max-hops", "1", "--no-summary"]) == 0
    captured = capsys.readouterr()
    assert "#d62728" not in captured.out
    assert "reach render: no path from network-policy/client-2" in captured.err


def test_render_options_reach_the_renderer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", *INPUT, "-o", "dot", "--by", "pod", "--no-collapse",
                 "--no-summary", "--no-services", "--title", "seed"]) == 0
    out = capsys.readouterr().out
    assert "calico-node" in out and "3 pods" not in out and "open" not in out
    assert '<b>seed<br align="left"/></b>' in out


def test_render_png_to_stdout_writes_bytes(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["render", *INPUT, "-o", "png", "--engine", "matplotlib"]) == 0
    assert Image.open(io.BytesIO(capsysbinary.readouterr().out)).width > 100


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "seed.gif", "--engine", "matplotlib"], "matplotlib engine cannot draw gif"),
        (["-o", "dot", "--focus", "network-policy/nobody"], "nothing called"),
        (["-o", "dot", "--hops", "-1", "--focus", "network-policy/server"], "--hops"),
    ],
)
def test_render_errors_exit_2(args: list[str], message: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", *INPUT, *args]) == 2
    assert message in capsys.readouterr().err


def test_render_needs_an_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", *INPUT]) == 2


def test_list_draws_dot_and_svg(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", *INPUT, "-o", "dot", "--by", "pod"]) == 0
    assert capsys.readouterr().out.startswith("digraph reach {")
    assert main(["list", *INPUT, "-o", "svg", "--by", "namespace"]) == 0
    ET.fromstring(capsys.readouterr().out)


def test_list_png_goes_to_stdout_but_never_to_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.setenv("REACH_RENDER_ENGINE", "matplotlib")
    assert main(["list", *INPUT, "-o", "png"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"\x89PNG")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert main(["list", *INPUT, "-o", "png"]) == 2
    assert b"refusing to write png to a terminal" in capsysbinary.readouterr().err


# ---------------------------------------------------------------------------
# the interactive page, budgets, and staying out of the hot path

SHOP = ["-f", str(ROOT / "samples/shop")]


def test_render_writes_the_interactive_page(tmp_path: Path) -> None:
    out = tmp_path / "cluster.html"
    assert main(["render", *SHOP, "-o", str(out), "--title", "the shop"]) == 0
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<script src=" not in text
    assert "nodes-namespace" in text and "nodes-pod" in text and "the shop" in text


def test_render_html_by_workload_stops_at_workloads(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", *SHOP, "-o", "html", "--by", "workload"]) == 0
    out = capsys.readouterr().out
    assert "nodes-workload" in out and "nodes-pod" not in out


def test_render_says_when_it_draws_coarser(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", *SHOP, "-o", "dot", "--max-nodes", "10"]) == 0
    out = capsys.readouterr().out
    assert "do not fit one page" in out and "drawn by namespace" in out
    assert main(["render", *SHOP, "-o", "dot", "--by", "pod", "--max-nodes", "0",
                 "--max-edges", "0", "--no-bundle"]) == 0
    out = capsys.readouterr().out
    assert "do not fit" not in out and "group: one arrow" not in out


def test_render_refuses_negative_budgets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", *SHOP, "-o", "dot", "--max-nodes", "-1"]) == 2
    assert "--max-nodes" in capsys.readouterr().err


def test_render_of_an_empty_view_is_an_error(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    assert main(["render", *SHOP, "-o", str(out), "--focus", "8.8.8.8"]) == 2
    assert "nothing to draw around 8.8.8.8" in capsys.readouterr().err
    assert not out.exists()


def test_render_path_highlights_only_the_shortest_paths(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", *SHOP, "-o", "dot", "--path", "internet", "shop/db"]) == 0
    captured = capsys.readouterr()
    assert "highlighting the 2 shortest path(s) (3 hops)" in captured.err
    red = [line for line in captured.out.splitlines() if "#d62728" in line and "->" in line]
    # internet -> (svc ->) ingress controller -> prometheus, internet -> (svc ->) debug ->
    # prometheus, and their shared last hop prometheus -> db: seven arrows
    assert len(red) == 7


@pytest.mark.parametrize("command", [["list"], ["list", "-o", "json"], ["can", "shop/web",
                                                                         "shop/db"]])
def test_the_hot_path_imports_no_renderer(command: list[str]) -> None:
    """reach list (and can) never import matplotlib, pydot, Bokeh or reach.render."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom reach.cli import main\n"
        f"main({[*command, *SHOP, '-q']!r})\n"
        "heavy = ('matplotlib', 'pydot', 'bokeh', 'reach.render')\n"
        "print('IMPORTED', sorted(m for m in sys.modules if m.split('.')[0] in heavy "
        "or m.startswith('reach.render')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=ROOT)
    assert "IMPORTED" in done.stdout, done.stderr
    assert done.stdout.rsplit("IMPORTED", 1)[1].strip() == "[]"
