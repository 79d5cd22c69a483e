"""The ``reach`` command: a thin shell over the library.

Exit codes: 0 ok, 1 a finding (denied, difference, violated expectation, lint
error), 2 bad input or usage. Errors print as ``FILE:LINE:COL: message``, never as
a traceback.

Each subcommand is two functions: ``_setup_NAME(parser)`` adds its arguments and
``_run_NAME(args) -> int`` does the work through the public API.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from reach.errors import ManifestError, ReachError
from reach.model import Diagnostic
from reach.network import GRANULARITIES, Network

__all__ = ["main"]

Runner = Callable[[argparse.Namespace], int]


# ---------------------------------------------------------------------------
# shared plumbing


def _add_input(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--file",
        dest="files",
        action="append",
        required=True,
        metavar="PATH",
        help="manifest file, folder (read recursively) or - for stdin; repeatable",
    )
    _add_reading(parser)


def _add_reading(parser: argparse.ArgumentParser) -> None:
    """How the input is read: the semantic options and the warnings switch."""
    parser.add_argument(
        "--no-ipblock-pods",
        dest="ipblock_pods",
        action="store_false",
        help="ipBlocks match only traffic from/to outside the cluster, never pod IPs",
    )
    parser.add_argument(
        "--host-network-pods",
        action="store_true",
        help="policies select host-network pods like any other pod (np-guard's reading)",
    )
    parser.add_argument(
        "--strict", action="store_true",
        help="fail (exit 2) when the input holds anything that can change reachability but "
        "that reach does not analyse, or when reach had to assume something (the caveats)",
    )
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="do not print warnings (caveats are always printed)")


class _Progress:
    """A progress bar on stderr, only when stderr is a terminal and the work is long."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.started < 1.0:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            self.stream.write(f"\rreach: {stage} {done}/{total}")
            self.stream.flush()
            return
        if self.bar is None or self.bar.desc != stage:
            if self.bar is not None:
                self.bar.close()
            self.bar = tqdm(total=total, desc=stage, file=self.stream, leave=False)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def load_network(args: argparse.Namespace, files: Sequence[str] | None = None) -> Network:
    """Load and compile the ``-f`` inputs, printing warnings to stderr unless ``-q``."""
    from reach.api import load

    paths = list(files if files is not None else args.files)
    stdin_text = sys.stdin.read() if "-" in paths else None
    progress = _Progress(sys.stderr)
    try:
        net = load(
            *paths,
            ipblock_pods=getattr(args, "ipblock_pods", True),
            host_network_pods=getattr(args, "host_network_pods", False),
            stdin_text=stdin_text,
            progress=progress,
        )
    finally:
        progress.close()
    strict = getattr(args, "strict", False)
    _warn(args, [d for d in net.warnings if not (strict and d.caveat)])
    if strict and net.caveats:
        raise _StrictError(net.caveats)
    return net


def _warn(args: argparse.Namespace, diagnostics: Sequence[Diagnostic]) -> None:
    """Print warnings to stderr: caveats always, the others unless ``-q``."""
    quiet = getattr(args, "quiet", False)
    for diag in diagnostics:
        if diag.severity != "info" and (diag.caveat or not quiet):
            print(f"reach: {diag}", file=sys.stderr)


def _caveats(nets: Sequence[Network]) -> list[str]:
    return list(dict.fromkeys(c.located for net in nets for c in net.caveats))


def _emit_json(doc: dict[str, Any], *nets: Network) -> None:
    """A JSON answer, with the caveats of the networks it comes from."""
    import json

    _emit(json.dumps({**doc, "caveats": _caveats(nets)}, indent=2))


def _emit(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


# ---------------------------------------------------------------------------
# reach list


def _setup_list(parser: argparse.ArgumentParser) -> None:
    _add_input(parser)
    parser.add_argument("--by", choices=GRANULARITIES, default="workload")
    parser.add_argument(
        "-o", "--output", default="txt",
        help="txt, json, csv or md (default txt); or a diagram to stdout: dot, svg, png "
        "(png only when stdout is not a terminal; reach render -o FILE writes files)",
    )


def _run_list(args: argparse.Namespace) -> int:
    from reach.report import CONNECTION_FORMATS, format_connections

    if args.output in PICTURE_FORMATS:
        return _draw(args, load_network(args), args.output)
    if args.output not in CONNECTION_FORMATS:
        raise _UsageError(f"unknown output format {args.output!r} for list")
    net = load_network(args)
    _emit(format_connections(net.connections(by=args.by), args.output, net.warnings))
    return 0


# ---------------------------------------------------------------------------
# reach can


def _setup_can(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help="NAMESPACE/NAME, NAMESPACE/KIND/NAME or an IP address")
    parser.add_argument("dst", help="NAMESPACE/NAME, NAMESPACE/KIND/NAME or an IP address")
    _add_input(parser)
    parser.add_argument("--port", type=int, default=None, help="port (default: any port)")
    parser.add_argument("--protocol", default="TCP", type=str.upper,
                        choices=("TCP", "UDP", "SCTP"))
    parser.add_argument("-o", "--output", default="txt", choices=("txt", "json"))


def _run_can(args: argparse.Namespace) -> int:
    net = load_network(args)
    verdict = net.can(args.src, args.dst, port=args.port, protocol=args.protocol)
    _emit_result(args, verdict, net)
    return 0 if verdict else 1


# ---------------------------------------------------------------------------
# reach diff (what-if: what a change opens and closes)


def _setup_diff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old_path", nargs="?", metavar="OLD", help="file or folder before")
    parser.add_argument("new_path", nargs="?", metavar="NEW", help="file or folder after")
    parser.add_argument("--old", action="append", default=[], metavar="PATH",
                        help="input of the old state; repeatable (adds to OLD)")
    parser.add_argument("--new", action="append", default=[], metavar="PATH",
                        help="input of the new state; repeatable (adds to NEW)")
    parser.add_argument("--by", choices=GRANULARITIES, default="workload")
    parser.add_argument("-o", "--output", default="txt", choices=("txt", "json", "md"))
    _add_reading(parser)


def _run_diff(args: argparse.Namespace) -> int:
    from reach.analysis.diff import diff, format_diff

    old = ([args.old_path] if args.old_path else []) + list(args.old)
    new = ([args.new_path] if args.new_path else []) + list(args.new)
    if not old or not new:
        raise _UsageError("give the old and the new state: OLD NEW, or --old PATH --new PATH")
    before, after = load_network(args, old), load_network(args, new)
    change = diff(before, after, by=args.by)
    if args.output == "json":
        _emit_json(change.to_json(), before, after)
    else:
        _emit(format_diff(change, args.output))
    return 1 if change else 0


# ---------------------------------------------------------------------------
# reach lint (policies that do not do what their authors think)


def _setup_lint(parser: argparse.ArgumentParser) -> None:
    _add_input(parser)
    parser.add_argument("-o", "--output", default="txt", choices=("txt", "json"))
    parser.add_argument(
        "--severity",
        default="info",
        choices=("info", "warning", "error"),
        help="lowest severity shown (default info); errors always count for the exit code",
    )


def _run_lint(args: argparse.Namespace) -> int:
    from reach.analysis.lint import findings_json, format_findings, lint

    net = load_network(args)
    findings = lint(net, severity=args.severity)
    if args.output == "json":
        _emit_json(findings_json(findings), net)
    else:
        _emit(format_findings(findings, args.output))
    return 1 if any(f.severity == "error" for f in findings) else 0


# ---------------------------------------------------------------------------
# reach check (reachability assertions for CI)


def _setup_check(parser: argparse.ArgumentParser) -> None:
    _add_input(parser)
    parser.add_argument("--expect", required=True, metavar="FILE",
                        help="expectations file (YAML; format in docs/ci.md)")
    parser.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report here")
    parser.add_argument("-o", "--output", default="txt", choices=("txt", "json"))


def _run_check(args: argparse.Namespace) -> int:
    from reach.analysis.check import check, load_expectations

    expectations = load_expectations(args.expect)
    net = load_network(args)
    report = check(net, expectations, source=args.expect)
    if args.junit:
        with open(args.junit, "w", encoding="utf-8") as handle:
            handle.write(report.to_junit() + "\n")
    if args.output == "json":
        _emit_json(report.to_json(), net)
    else:
        _emit(report.format(args.output))
    return 0 if report.ok else 1


# ---------------------------------------------------------------------------
# reach render (and the diagram formats of reach list)

PICTURE_FORMATS = ("dot", "svg", "png", "pdf")
# reach.render.detail.DEFAULT_BUDGET, written out so that the CLI does not import the
# renderers for every command (tests/cli pins the two against each other)
BUDGET_HELP = (60, 80)


def _setup_render(parser: argparse.ArgumentParser) -> None:
    _add_input(parser)
    parser.add_argument(
        "-o", "--output", dest="out", required=True, metavar="FILE|FORMAT",
        help="file to write, its format from the suffix (.png, .svg, .pdf, .dot, or .html "
        "for the interactive page, one self-contained file); or dot, svg, png, pdf, html "
        "to write to stdout",
    )
    parser.add_argument("--by", choices=("pod", "workload", "namespace", "class"),
                        default=None, help="granularity of the nodes (default workload; "
                        "coarser when the view does not fit one page, see --max-nodes)")
    parser.add_argument("--focus", metavar="NS/NAME|NAMESPACE",
                        help="draw only this endpoint (or everything in this namespace) and "
                        "its neighbourhood")
    parser.add_argument("--hops", type=int, default=1,
                        help="size of the --focus neighbourhood in hops (default 1)")
    parser.add_argument("--path", nargs=2, metavar=("SRC", "DST"),
                        help="highlight the shortest paths from SRC to DST")
    parser.add_argument("--max-hops", type=int, default=4, help="longest --path (default 4)")
    parser.add_argument("--engine", choices=("auto", "graphviz", "matplotlib"), default=None,
                        help="auto (Graphviz when installed, else matplotlib; the default, or "
                        "$REACH_RENDER_ENGINE), graphviz or matplotlib")
    parser.add_argument("--title", default="", help="a caption for the diagram")
    parser.add_argument("--no-collapse", dest="collapse", action="store_false",
                        help="one node per endpoint, even when several are equivalent")
    parser.add_argument("--no-summary", dest="summarize", action="store_false",
                        help="draw every all-ports edge instead of noting it on the endpoint")
    parser.add_argument("--no-services", dest="services", action="store_false",
                        help="leave Services out (traffic goes straight to backends)")
    parser.add_argument("--no-bundle", dest="bundle", action="store_false",
                        help="draw every edge of a fan instead of one edge from a group node")
    parser.add_argument("--max-nodes", type=int, default=BUDGET_HELP[0], metavar="N",
                        help="most boxes on one diagram before it is drawn at a coarser level "
                        f"(default {BUDGET_HELP[0]}; 0: no limit)")
    parser.add_argument("--max-edges", type=int, default=BUDGET_HELP[1], metavar="N",
                        help=f"most arrows likewise (default {BUDGET_HELP[1]}; 0: no limit)")


def _run_render(args: argparse.Namespace) -> int:
    from reach.render.detail import Budget

    args.by_given = args.by is not None
    args.by = args.by or "workload"
    if args.hops < 0:
        raise _UsageError("--hops must be 0 or more")
    if args.max_nodes < 0 or args.max_edges < 0:
        raise _UsageError("--max-nodes and --max-edges must be 0 (no limit) or more")
    net = load_network(args)
    highlight = None
    if args.path:
        from reach.graph.queries import paths

        by: Any = "workload" if args.by == "class" else args.by
        found = paths(net, args.path[0], args.path[1], max_hops=args.max_hops, by=by)
        if not found:
            print(f"reach render: {found.explain()}", file=sys.stderr)
        shortest = min((len(p) for p in found.paths), default=0)
        highlight = [p.nodes for p in found.paths if len(p) == shortest]
        if len(highlight) < len(found.paths):
            print(f"reach render: highlighting the {len(highlight)} shortest path(s) "
                  f"({shortest} hops) of the {len(found.paths)} found; reach paths "
                  "lists them all", file=sys.stderr)
    fmt = args.out.lower() if args.out.lower() in PICTURE_FORMATS else None
    if args.out.lower() == "html" or args.out.lower().endswith((".html", ".htm")):
        return _page(args, net, highlight)
    return _draw(args, net, fmt or args.out, highlight=highlight, focus=args.focus,
                 hops=args.hops, collapse=args.collapse, summarize=args.summarize,
                 services=args.services, bundle=args.bundle, title=args.title,
                 engine=args.engine, budget=Budget(args.max_nodes, args.max_edges))


def _page(args: argparse.Namespace, net: Network, highlight: Any) -> int:
    """The interactive page: to the file named, or to stdout for ``-o html``."""
    from reach.render.detail import Budget
    from reach.render.html import HTML_BUDGET, LEVELS, to_html

    wanted = args.by if args.by != "class" else "workload"
    levels = LEVELS[: LEVELS.index(wanted) + 1] if args.by_given else LEVELS
    budget = HTML_BUDGET if (args.max_nodes, args.max_edges) == BUDGET_HELP else Budget(
        args.max_nodes, args.max_edges)
    target = None if args.out.lower() == "html" else args.out
    text = to_html(net, target, levels=levels, focus=args.focus, hops=args.hops,
                   highlight=highlight, collapse=args.collapse, summarize=args.summarize,
                   services=args.services, bundle=args.bundle, title=args.title,
                   budget=budget)
    if target is None:
        _emit(text)
    return 0


def _draw(args: argparse.Namespace, net: Network, target: str, **options: Any) -> int:
    """Draw ``net`` at ``args.by``; a bare format goes to stdout, a path to its file."""
    from reach.render import render

    if target in ("png", "pdf") and sys.stdout.isatty():
        raise _UsageError(f"refusing to write {target} to a terminal: redirect stdout, "
                          f"or use reach render -o FILE.{target}")
    data = render(net, target, by=args.by, **options)
    if target in ("dot", "svg"):
        _emit(data.decode())
    elif target in ("png", "pdf"):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


# ---------------------------------------------------------------------------
# reach paths / reachable-from / reachable-to / isolated / exposure (the graph queries)

_ENDPOINT_HELP = ("NAMESPACE/NAME, NAMESPACE/KIND/NAME, NAMESPACE/svc/NAME, an IP address, "
                  "internet or ingress-controller")


def _setup_query(parser: argparse.ArgumentParser, port: bool = True, by: bool = True) -> None:
    """Options shared by the graph queries."""
    _add_input(parser)
    if port:
        parser.add_argument("--port", type=int, default=None,
                            help="keep only hops that allow this port (default: any port)")
        parser.add_argument("--protocol", default="TCP", type=str.upper,
                            choices=("TCP", "UDP", "SCTP"))
    if by:
        parser.add_argument("--by", choices=("pod", "workload", "namespace", "class"),
                            default="workload", help="how endpoints are shown (default workload)")
    parser.add_argument("-o", "--output", default="txt", choices=("txt", "json"))


def _query_network(args: argparse.Namespace) -> Network:
    """Load the inputs and print the service and ingress warnings too, unless ``-q``."""
    from reach.graph.views import class_view

    net = load_network(args)
    _warn(args, class_view(net).warnings)
    return net


def _emit_result(args: argparse.Namespace, result: Any, net: Network) -> None:
    if args.output == "json":
        _emit_json(result.to_json(), net)
    else:
        _emit(result.explain())


def _setup_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help=_ENDPOINT_HELP)
    parser.add_argument("dst", help=_ENDPOINT_HELP)
    parser.add_argument("--max-hops", type=int, default=4, help="longest path (default 4)")
    parser.add_argument("--limit", type=int, default=10, help="most paths shown (default 10)")
    _setup_query(parser)


def _run_paths(args: argparse.Namespace) -> int:
    from reach.graph.queries import paths

    if args.max_hops < 0 or args.limit < 0:
        raise _UsageError("--max-hops and --limit must not be negative")
    net = _query_network(args)
    result = paths(net, args.src, args.dst, max_hops=args.max_hops, port=args.port,
                   protocol=args.protocol, limit=args.limit, by=args.by)
    _emit_result(args, result, net)
    return 0 if result else 1


def _setup_reachable_from(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help=_ENDPOINT_HELP)
    _setup_query(parser)


def _run_reachable_from(args: argparse.Namespace) -> int:
    from reach.graph.queries import reachable_from

    net = _query_network(args)
    result = reachable_from(net, args.src, port=args.port, protocol=args.protocol, by=args.by)
    _emit_result(args, result, net)
    return 0 if result else 1


def _setup_reachable_to(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dst", help=_ENDPOINT_HELP)
    _setup_query(parser)


def _run_reachable_to(args: argparse.Namespace) -> int:
    from reach.graph.queries import reachable_to

    net = _query_network(args)
    result = reachable_to(net, args.dst, port=args.port, protocol=args.protocol, by=args.by)
    _emit_result(args, result, net)
    return 0 if result else 1


def _setup_isolated(parser: argparse.ArgumentParser) -> None:
    _setup_query(parser, port=False, by=False)


def _run_isolated(args: argparse.Namespace) -> int:
    from reach.graph.queries import isolated

    net = _query_network(args)
    _emit_result(args, isolated(net), net)
    return 0


def _setup_exposure(parser: argparse.ArgumentParser) -> None:
    _setup_query(parser, port=False)


def _run_exposure(args: argparse.Namespace) -> int:
    from reach.graph.queries import exposure

    net = _query_network(args)
    _emit_result(args, exposure(net, by=args.by), net)
    return 0


# ---------------------------------------------------------------------------
# main


class _UsageError(Exception):
    pass


class _StrictError(ReachError):
    """``--strict`` and the input has caveats."""

    def __init__(self, caveats: Sequence[Diagnostic]) -> None:
        self.caveats = tuple(caveats)
        lines = [f"{c.location}: error: {c.message}" if c.location else f"error: {c.message}"
                 for c in self.caveats]
        lines.append(f"reach: {len(self.caveats)} caveat(s) and --strict: stopping; the "
                     "verdicts could differ from what the cluster enforces")
        super().__init__("\n".join(lines))


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Runner]] = {
    "list": ("list every allowed connection", _setup_list, _run_list),
    "can": ("can SRC open a connection to DST? and which rule decides", _setup_can, _run_can),
    "diff": ("what a change opens and closes: compare allowed connections", _setup_diff,
             _run_diff),
    "lint": ("find policies that do not do what they seem to", _setup_lint, _run_lint),
    "check": ("check expected reachability facts (for CI)", _setup_check, _run_check),
    "render": ("draw the reachability diagram: PNG, SVG, PDF, DOT or an interactive HTML page",
               _setup_render,
               _run_render),
    "paths": ("shortest multi-hop paths from SRC to DST, each hop an allowed connection",
              _setup_paths, _run_paths),
    "reachable-from": ("everything SRC reaches in any number of hops (its blast radius)",
                       _setup_reachable_from, _run_reachable_from),
    "reachable-to": ("everything that reaches DST in any number of hops",
                     _setup_reachable_to, _run_reachable_to),
    "isolated": ("per pod: isolated or unprotected in each direction, and its peers",
                 _setup_isolated, _run_isolated),
    "exposure": ("what the internet reaches: directly, through NodePort/LoadBalancer, Ingress",
                 _setup_exposure, _run_exposure),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reach",
        description="Kubernetes NetworkPolicy reachability: who can talk to whom, and why.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, setup, runner) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        setup(child)
        child.set_defaults(run=runner)
    return parser


def _version() -> str:
    from reach import __version__

    return f"reach {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``reach`` command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except _UsageError as exc:
        print(f"reach {args.command}: {exc}", file=sys.stderr)
        return 2
    except (ManifestError, _StrictError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except ReachError as exc:
        print(f"reach: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:
        print(f"reach: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
