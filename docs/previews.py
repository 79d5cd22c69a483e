"""Regenerate the diagram previews in docs/ (run from the repository root).

    python docs/previews.py

Each PNG is drawn by ``reach render`` exactly as a user would type it (the commands
are printed); the synthetic clusters come from ``benchmarks/generate.py`` (seed 0);
the screenshot of the interactive page is taken in headless Chromium, when installed.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))


def reach(*args: str) -> None:
    command = ["reach", *args]
    print("$", shlex.join(command))
    subprocess.run([sys.executable, "-m", "reach", *args], check=True, cwd=ROOT)


def main() -> int:
    import generate

    reach("render", "-f", "samples/shop", "-o", "docs/shop.png", "--engine", "graphviz")
    reach("render", "-f", "samples/shop", "-o", "docs/shop-matplotlib.png",
          "--engine", "matplotlib")
    reach("render", "-f", "samples/shop", "-o", "docs/shop-attack-path.png",
          "--engine", "graphviz", "--path", "internet", "shop/db")
    with tempfile.TemporaryDirectory() as tmp:
        for pods, policies, workloads in ((300, 30, 30), (2000, 200, 200)):
            folder = Path(tmp) / f"c{workloads}"
            generate.write(folder, pods=pods, namespaces=20, policies=policies, seed=0)
            title = (f"{workloads} workloads in 20 namespaces (benchmarks/generate.py --pods "
                     f"{pods} --namespaces 20 --policies {policies})")
            for engine, suffix in (("graphviz", ""), ("matplotlib", "-matplotlib")):
                reach("render", "-q", "-f", str(folder), "-o",
                      f"docs/workloads-{workloads}{suffix}.png", "--engine", engine,
                      "--title", title)
        reach("render", "-f", "samples/shop", "-o", f"{tmp}/shop.html", "--title", "the shop")
        screenshot(Path(tmp) / "shop.html", DOCS / "interactive.png")
    return 0


def screenshot(page_file: Path, out: Path) -> None:
    """The page after a click on shop/api, as the browser shows it."""
    from browser import Browser, chromium

    exe = chromium()
    if exe is None:
        print("no chromium: the screenshot of the page is left as it was")
        return
    browser = Browser(exe)
    try:
        page = browser.page(width=1400, height=820)
        page.goto(page_file.as_uri())
        page.wait_for("window.Bokeh && Bokeh.documents.length > 0 && "
                      "Bokeh.documents[0].get_model_by_name('diagram').inner_width > 0")
        browser.pump(0.5)
        x, y = page.evaluate("""(() => {
            function walk(v) {
              if (v.model && v.model.name === 'diagram') return v;
              for (const c of (v.child_views || [])) { const f = walk(c); if (f) return f; }
              return null;
            }
            const view = [...Bokeh.index.roots].map(walk).find(v => v);
            const data = Bokeh.documents[0].get_model_by_name('nodes-workload').data;
            const i = data.name.findIndex((n, k) => n === 'api' && data.kind[k] === 'Deployment');
            const box = view.canvas_view.el.getBoundingClientRect();
            return [box.left + view.frame.x_scale.compute(data.x[i]),
                    box.top + view.frame.y_scale.compute(data.y[i])];
        })()""")
        page.click(x, y)
        out.write_bytes(page.screenshot())
        print(f"screenshot of the page after a click on shop/api: {out.relative_to(ROOT)}")
    finally:
        browser.close()


if __name__ == "__main__":
    raise SystemExit(main())
