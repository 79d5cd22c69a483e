"""The public face of reach: one pinned list of names, each importable and documented."""

from __future__ import annotations

import subprocess
import sys

import reach

PUBLIC = [
    "CheckReport", "Cluster", "CompileOptions", "Compiled", "Connection", "Diagnostic", "Diff",
    "Endpoint", "ExpectationError", "Finding", "InvalidQuery", "Location", "ManifestError",
    "Network", "PortSet", "ReachError", "RenderError", "ServiceVerdict", "Side",
    "UnknownEndpoint", "Verdict", "check", "compile_cluster", "diff", "exposure",
    "format_connections", "isolated", "lint", "load", "load_expectations", "paths",
    "reachable_from", "reachable_to", "to_frame", "with_staged",
]


def test_all_is_pinned_and_sorted() -> None:
    assert reach.__all__ == PUBLIC
    assert sorted(reach.__all__) == reach.__all__


def test_every_public_name_resolves_and_has_a_docstring() -> None:
    for name in reach.__all__:
        value = getattr(reach, name)
        assert value.__doc__, name


def test_functions_win_over_their_modules_of_the_same_name() -> None:
    import reach.analysis.check  # importing the modules must not shadow the functions
    import reach.analysis.diff
    import reach.analysis.lint

    assert callable(reach.diff) and callable(reach.lint) and callable(reach.check)


def test_import_reach_leaves_plotting_and_graph_libraries_alone() -> None:
    code = (
        "import sys, reach; "
        "print(sorted(m for m in ('matplotlib', 'pydot', 'networkx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_reach_leaves_pandas_alone_until_to_frame() -> None:
    code = "import sys, reach; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_attributes_raise_attribute_error() -> None:
    try:
        reach.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
