"""The ``reach`` command: a thin shell over the library.

Exit codes: 0 ok, 1 a finding (denied, difference, violated expectation, lint
error), 2 bad input or usage. Errors print as ``FILE:LINE:COL: message``, never as
a traceback.

Each subcommand is two functions: ``_setup_NAME(parser)`` adds its arguments and
``_run_NAME(args) -> int`` does the work through the public API.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TextIO

from reach.endpoints import REFERENCE_FORMS
from reach.engine.ports import MAX_PORT, canonical_protocol
from reach.errors import ManifestError, ReachError
from reach.model import Diagnostic
from reach.network import GRANULARITIES, Network
from reach.selection import Selection
from reach.staging import with_staged

__all__ = ["main"]

Runner = Callable[[argparse.Namespace], int]

#: What every endpoint argument accepts (the README lists the same forms).
ENDPOINT_HELP = REFERENCE_FORMS


# ---------------------------------------------------------------------------
# shared plumbing


def _add_input(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--file",
        dest="files",
        action="append",
        default=[],
        metavar="PATH",
        help="manifest file, folder (read recursively) or - for stdin; repeatable",
    )
    _add_cluster(parser)
    _add_reading(parser)


def _add_cluster(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cluster", action="store_true",
        help="read the live cluster: kubectl get -A -o json for the kinds reach reads; "
        "with -f, the files are applied on top (an object of a file replaces the live one "
        "of the same name, as kubectl apply would)")
    parser.add_argument("--context", help="the kubectl context --cluster reads")
    parser.add_argument("--kubeconfig", metavar="FILE", help="the kubeconfig --cluster uses")


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
    parser.add_argument(
        "--cache", metavar="DIR", default=os.environ.get("REACH_CACHE") or None,
        help="keep compiled networks in DIR: asked again on unchanged inputs (same files, "
        "options and reach), the answer skips reading and compiling (default: $REACH_CACHE)")


class _Progress:
    """A progress bar on stderr (tqdm), only when stderr is a terminal, ``-q`` is not
    given and the work has taken more than a second."""

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream = stream
        self.enabled = stream.isatty() and not quiet
        self.started = time.monotonic()
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.started < 1.0:
            return
        from tqdm import tqdm

        if stage in ("ingress", "egress", "classes", "matrix"):
            stage = f"compiling {stage}"
        if self.bar is None or self.bar.desc != stage:
            if self.bar is not None:
                self.bar.close()
            unit = "B" if stage.startswith("reading") else " classes"
            self.bar = tqdm(total=total, desc=stage, file=self.stream, leave=False,
                            unit=unit, unit_scale=True, dynamic_ncols=True)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def load_network(args: argparse.Namespace, files: Sequence[str] | None = None,
                 live: Any = None) -> Network:
    """Load and compile the inputs (``-f`` and ``--cluster``, or the cluster dump
    ``live`` already read), printing warnings to stderr unless ``-q``."""
    from reach.api import load

    paths = list(files if files is not None else args.files)
    cluster = live is None and bool(getattr(args, "cluster", False))
    if not paths and not cluster and live is None:
        raise _UsageError("give the manifests with -f PATH (repeatable), or read the live "
                          "cluster with --cluster")
    stdin_text = sys.stdin.read() if "-" in paths else None
    progress = _Progress(sys.stderr, getattr(args, "quiet", False))
    try:
        net = load(
            *paths,
            ipblock_pods=getattr(args, "ipblock_pods", True),
            host_network_pods=getattr(args, "host_network_pods", False),
            stdin_text=stdin_text,
            progress=progress,
            cluster=cluster,
            context=getattr(args, "context", None),
            kubeconfig=getattr(args, "kubeconfig", None),
            live=live,
            cache=getattr(args, "cache", None),
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
    """A JSON answer, with the caveats of the networks it comes from.

    Written as it is encoded: a list of objects (or an iterator of them) one object
    per line, everything else indented, so a large answer streams out in C-encoded
    lines instead of waiting for the pure-Python indenting encoder.
    """
    import json

    compact = json.JSONEncoder(separators=(", ", ": "), ensure_ascii=True).encode
    write = sys.stdout.write
    fields = list({**doc, "caveats": _caveats(nets)}.items())
    write("{\n")
    for k, (key, value) in enumerate(fields):
        comma = "," if k < len(fields) - 1 else ""
        write(f"  {json.dumps(key)}: ")
        if isinstance(value, (list, tuple, Iterator)) and not isinstance(value, str):
            items = iter(value)
            first = next(items, _END)
            if first is _END:
                write(f"[]{comma}\n")
                continue
            if not isinstance(first, (dict, _Encoded)):
                rest = [first, *items]
                write(json.dumps(rest, indent=2).replace("\n", "\n  ") + comma + "\n")
                continue
            write("[\n    " + _encoded(first, compact))
            batch: list[str] = []
            size = 0
            for item in items:
                text = _encoded(item, compact)
                batch.append(",\n    " + text)
                size += len(text)
                if size >= 1 << 20:  # written a megabyte or so at a time
                    write("".join(batch))
                    batch.clear()
                    size = 0
            write("".join(batch) + f"\n  ]{comma}\n")
        else:
            write(json.dumps(value, indent=2).replace("\n", "\n  ") + comma + "\n")
    write("}\n")


_END = object()


def _encoded(item: Any, compact: Callable[[Any], str]) -> str:
    return item if isinstance(item, _Encoded) else compact(item)


def _emit(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _port(text: str) -> int | str:
    """``--port``: a number 1-65535 (an ICMP type 0-255) or a port name (resolved on the
    destination)."""
    text = text.strip()
    if text.isdigit() or (text[:1] in "+-" and text[1:].isdigit()):
        number = int(text)
        if not 0 <= number <= MAX_PORT:
            raise argparse.ArgumentTypeError(f"{number} is out of range: ports are 1-{MAX_PORT}")
        return number
    if not text or not any(ch.isalpha() for ch in text) or len(text) > 15:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a port number (1-{MAX_PORT}) nor a port name")
    return text


def _add_port(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--port", type=_port, default=None, metavar="PORT", help=help_text)
    parser.add_argument("--protocol", default="TCP", type=_protocol, metavar="PROTOCOL",
                        help="TCP (the default), UDP, SCTP, ICMP (--port is then the ICMP "
                        "type), ICMPv6, any other IP protocol by name (VRRP, GRE...) or "
                        "number 1-255")


def _protocol(text: str) -> str:
    try:
        return canonical_protocol(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_selection(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("-n", "--namespace", metavar="NS",
                        help=f"show only {what} of this namespace (the analysis still uses "
                        "the whole input)")
    parser.add_argument("-l", "--selector", metavar="SELECTOR",
                        help=f"show only {what} of pods matching this label selector "
                        "(kubectl syntax: app=web,tier!=db,env in (a,b),!canary)")


def _selection(args: argparse.Namespace) -> Selection:
    return Selection.of(getattr(args, "namespace", None), getattr(args, "selector", None))


def _choose_output(parser: argparse.ArgumentParser, formats: Sequence[str],
                   default: str = "txt", extra: str = "") -> None:
    parser.add_argument("-o", "--output", default=default, metavar="FORMAT",
                        type=_one_of(formats),
                        help=f"{', '.join(formats)} (default {default}){extra}")


def _one_of(formats: Sequence[str]) -> Callable[[str], str]:
    def check(text: str) -> str:
        if text not in formats:
            raise argparse.ArgumentTypeError(
                f"unknown format {text!r}: choose one of {', '.join(formats)}")
        return text

    return check


def _table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as columns aligned with spaces (the first row is the header)."""
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    return "\n".join("   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


# ---------------------------------------------------------------------------
# reach list


LIST_FORMATS = ("txt", "wide", "json", "csv", "md", "dot", "svg", "png", "pdf")


def _setup_list(parser: argparse.ArgumentParser) -> None:
    _add_input(parser)
    parser.add_argument("--by", choices=GRANULARITIES, default="workload")
    _add_selection(parser, "connections with an end")
    _choose_output(parser, LIST_FORMATS, extra=": wide adds the policies that select each "
                   "end; dot, svg, png, pdf draw the diagram to stdout (png and pdf only "
                   "when stdout is not a terminal; reach render -o FILE writes files)")


def _run_list(args: argparse.Namespace) -> int:
    from reach.report import write_connections

    net = load_network(args)
    selection = _selection(args)
    if args.output in PICTURE_FORMATS:
        return _draw(args, net, args.output, selection=selection)
    # Without a selection the list streams: lines go out as the rows are computed.
    conns: Iterable[Any] = (selection.connections(net, net.connections(by=args.by))
                            if selection else net.connection_chunks(by=args.by))
    if args.output == "wide":
        _emit(_wide_connections(net, list(_expanded(conns))))
    elif args.output == "json":
        _emit_json({"connections": _connections_json(conns),
                    "warnings": [str(w) for w in net.warnings if w.severity != "info"]}, net)
    else:
        write_connections(conns, args.output, sys.stdout)
    return 0


def _expanded(chunks: Iterable[Any]) -> Iterator[Any]:
    """Connections, with the row runs of :meth:`Network.connection_chunks` expanded."""
    from reach.network import RowRun

    for chunk in chunks:
        if isinstance(chunk, RowRun):
            yield from chunk.connections()
        else:
            yield chunk


class _Encoded(str):
    """JSON values already encoded, one or several objects of a list joined by
    ``",\\n    "`` (written as they are by :func:`_emit_json`)."""


def _connections_json(chunks: Iterable[Any]) -> Iterator[_Encoded]:
    """Each connection's JSON object, encoded; each endpoint and port set encoded once."""
    import json

    from reach.network import RowRun

    encode = json.JSONEncoder(separators=(", ", ": "), ensure_ascii=True).encode
    ends: dict[int, tuple[Any, str]] = {}  # by identity, holding the object
    ports: dict[int, tuple[Any, str]] = {}
    runs: dict[int, list[str]] = {}
    run_ports: dict[int, str] = {}

    def end(ep: Any) -> str:
        found = ends.get(id(ep))
        if found is None:
            found = ends[id(ep)] = (ep, encode(ep.to_json()))
        return found[1]

    def allowed(portset: Any) -> str:
        found = ports.get(id(portset))
        if found is None:
            found = ports[id(portset)] = (portset, encode(portset.to_json()))
        return found[1]

    for chunk in chunks:
        if isinstance(chunk, RowRun):
            names = runs.get(id(chunk.rows))
            if names is None:
                runs.clear()
                run_ports.clear()
                names = runs[id(chunk.rows)] = [end(ep) for ep in chunk.rows.ends]
            sets = chunk.rows.c.ports.sets
            lead = '{"src": ' + names[chunk.src] + ', "dst": '
            for v in set(chunk.ids):
                if v not in run_ports:
                    run_ports[v] = ', "protocols": ' + allowed(sets[v]) + "}"
            yield _Encoded(",\n    ".join([lead + names[j] + run_ports[v] for j, v in zip(
                chunk.dsts, chunk.ids, strict=True)]))
        else:
            yield _Encoded('{"src": ' + end(chunk.src) + ', "dst": ' + end(chunk.dst)
                           + ', "protocols": ' + allowed(chunk.ports) + "}")


def _wide_connections(net: Network, conns: Sequence[Any]) -> str:
    """The connection list as a table, with the policies that select each end."""
    cache: dict[tuple[Any, str], str] = {}

    def governing(ep: Any, direction: Any) -> str:
        key = (ep, direction)
        if key not in cache:
            try:
                found = net.resolve(ep)
            except ReachError:
                found = None
            pods = found.pods if found is not None else ()
            policies = net.selecting(pods, direction) if pods else ()
            cache[key] = ",".join(p.ref for p in policies) or ("-" if pods else "(outside)")
        return cache[key]

    rows = [("SRC", "DST", "CONNECTIONS", "SRC EGRESS POLICIES", "DST INGRESS POLICIES")]
    rows += [(str(c.src), str(c.dst), str(c.ports), governing(c.src, "egress"),
              governing(c.dst, "ingress")) for c in conns]
    return _table(rows) if conns else ""


# ---------------------------------------------------------------------------
# reach can


def _setup_can(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help=ENDPOINT_HELP)
    parser.add_argument("dst", help=ENDPOINT_HELP + "; a Service (NS/svc/NAME) is answered "
                        "per backend, on each backend's resolved targetPort")
    _add_input(parser)
    _add_port(parser, "a port number (1-65535) or name: a container port name of the "
              "destination, or a service port (number or name) of a Service (default: any "
              "port)")
    parser.add_argument(
        "--any-backend", action="store_true",
        help="for a Service: allowed when at least one backend admits the client (default: "
        "every backend must)")
    _choose_output(parser, ("txt", "json"))
    parser.epilog = ("exit code 0 when allowed (for a Service: by every backend, or with "
                     "--any-backend by one), 1 when denied, 2 on bad input or usage")


def _run_can(args: argparse.Namespace) -> int:
    net = load_network(args)
    verdict = net.can(args.src, args.dst, port=args.port, protocol=args.protocol,
                      any_backend=args.any_backend)
    _emit_result(args, verdict, net)
    return 0 if verdict else 1


# ---------------------------------------------------------------------------
# reach diff (what-if: what a change opens and closes)


def _setup_diff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old_path", nargs="?", metavar="OLD", help="file or folder before")
    parser.add_argument("new_path", nargs="?", metavar="NEW", help="file or folder after")
    parser.add_argument("-f", "--file", dest="files", action="append", default=[],
                        metavar="PATH", help="given twice: -f OLD -f NEW")
    parser.add_argument("--old", action="append", default=[], metavar="PATH",
                        help="input of the old state; repeatable (adds to OLD)")
    parser.add_argument("--new", action="append", default=[], metavar="PATH",
                        help="input of the new state; repeatable (adds to NEW)")
    _add_cluster(parser)
    parser.add_argument(
        "--with-staged", action="store_true",
        help="enforce Calico's staged policies (StagedNetworkPolicy, "
        "StagedGlobalNetworkPolicy, StagedKubernetesNetworkPolicy) in the new state: "
        "stagedAction Set replaces (or adds) the policy of that name, Delete removes it. "
        "Given only the old state (OLD, -f OLD, --old PATH or --cluster alone), the new "
        "state is the old one with its staged policies enforced")
    parser.add_argument("--by", choices=GRANULARITIES, default="workload")
    _choose_output(parser, ("txt", "json", "md"))
    _add_reading(parser)
    parser.epilog = ("--cluster makes the live cluster the old state and the live cluster "
                     "with NEW applied on top (objects of NEW replace those of the same "
                     "name) the new one: reach diff --cluster NEW says what applying NEW "
                     "would change. reach diff --with-staged OLD (or --cluster "
                     "--with-staged) says what enforcing the staged policies of OLD (of "
                     "the live cluster) would change. Exit code 0 when nothing differs, 1 "
                     "when something does, 2 on bad input or usage")


def _run_diff(args: argparse.Namespace) -> int:
    from reach.analysis.diff import diff, format_diff

    old = ([args.old_path] if args.old_path else []) + list(args.old)
    new = ([args.new_path] if args.new_path else []) + list(args.new)
    if args.files:
        if args.with_staged and len(args.files) == 1 and not old and not new:
            old = [args.files[0]]  # reach diff --with-staged -f OLD
        elif len(args.files) != 2 or old or new:
            raise _UsageError("-f is given twice, for the old and the new state: -f OLD -f NEW "
                              "(use --old PATH --new PATH, repeatable, for several files)")
        else:
            old, new = [args.files[0]], [args.files[1]]
    if args.cluster and old and not new:
        old, new = [], old  # reach diff --cluster NEW: NEW is the only path given
    if args.cluster and old:
        raise _UsageError("with --cluster the live cluster is the old state: reach diff "
                          "--cluster NEW")
    itself = args.with_staged and not new  # the old state against itself, staged
    if (not old and not args.cluster) or not (new or itself):
        raise _UsageError("give the old and the new state: OLD NEW, -f OLD -f NEW, "
                          "--old PATH --new PATH, or --cluster NEW"
                          + (" (or the old state alone: --with-staged OLD)"
                             if args.with_staged else ""))
    if args.cluster:
        from reach.loader import kubectl_dump

        # one snapshot, the old state; NEW is applied on top of it, as kubectl apply would
        snapshot = kubectl_dump(context=args.context, kubeconfig=args.kubeconfig)
        before = load_network(args, old, live=snapshot)
        after = before if itself else load_network(args, new, live=snapshot)
    else:
        before = load_network(args, old)
        after = before if itself else load_network(args, new)
    if args.with_staged:
        after = _staged_network(args, after)
    change = diff(before, after, by=args.by)
    if args.output == "json":
        _emit_json(change.to_json(), before, after)
    else:
        _emit(format_diff(change, args.output))
    return 1 if change else 0


def _staged_network(args: argparse.Namespace, net: Network) -> Network:
    """``net`` with its staged policies enforced, printing the warnings that brings
    (and stopping on its caveats with ``--strict``) as :func:`load_network` does."""
    if not net.cluster.staged:
        if not getattr(args, "quiet", False):
            print("reach: warning: --with-staged: the input holds no staged policy "
                  "(StagedNetworkPolicy, StagedGlobalNetworkPolicy, "
                  "StagedKubernetesNetworkPolicy)", file=sys.stderr)
        return net
    progress = _Progress(sys.stderr, getattr(args, "quiet", False))
    try:
        staged = Network(with_staged(net.cluster), ipblock_pods=net.options.ipblock_pods,
                         host_network_pods=net.options.host_network_pods, progress=progress)
    finally:
        progress.close()
    known = set(net.warnings)
    fresh = [d for d in dict.fromkeys(staged.warnings) if d not in known]
    strict = getattr(args, "strict", False)
    _warn(args, [d for d in fresh if not (strict and d.caveat)])
    caveats = [d for d in fresh if d.caveat]
    if strict and caveats:
        raise _StrictError(caveats)
    return staged


# ---------------------------------------------------------------------------
# reach lint (policies that do not do what their authors think)


def _setup_lint(parser: argparse.ArgumentParser) -> None:
    _add_input(parser)
    _choose_output(parser, ("txt", "json"))
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
    _choose_output(parser, ("txt", "json"))


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
    _add_selection(parser, "endpoints and their connections,")
    parser.add_argument("--focus", metavar="ENDPOINT",
                        help="draw only this endpoint (or everything in this namespace) and "
                        "its neighbourhood: " + ENDPOINT_HELP)
    parser.add_argument("--hops", type=int, default=1,
                        help="size of the --focus neighbourhood in hops (default 1)")
    parser.add_argument("--path", nargs=2, metavar=("SRC", "DST"),
                        help="highlight the shortest paths from SRC to DST (endpoints as for "
                        "--focus)")
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
    if args.focus:
        net.resolve(args.focus)  # one resolver: unknown names say what is near
    highlight = None
    if args.path:
        from reach.graph.queries import paths

        by: Any = "workload" if args.by == "class" else args.by
        found = paths(net, args.path[0], args.path[1], max_hops=args.max_hops, by=by)
        if not found:
            print(f"reach render: {found}", file=sys.stderr)
        shortest = min((len(p) for p in found.paths), default=0)
        highlight = [p.nodes for p in found.paths if len(p) == shortest]
        if len(highlight) < len(found.paths):
            print(f"reach render: highlighting the {len(highlight)} shortest path(s) "
                  f"({shortest} hops) of the {len(found.paths)} found; reach paths "
                  "lists them all", file=sys.stderr)
    fmt = args.out.lower() if args.out.lower() in PICTURE_FORMATS else None
    if args.out.lower() == "html" or args.out.lower().endswith((".html", ".htm")):
        if _selection(args):
            raise _UsageError("-n/-l are not supported with the interactive page: it has "
                              "its own namespace filter and search")
        return _page(args, net, highlight)
    return _draw(args, net, fmt or args.out, highlight=highlight, focus=args.focus,
                 hops=args.hops, collapse=args.collapse, summarize=args.summarize,
                 services=args.services, bundle=args.bundle, title=args.title,
                 engine=args.engine, budget=Budget(args.max_nodes, args.max_edges),
                 selection=_selection(args))


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


def _draw(args: argparse.Namespace, net: Network, target: str,
          selection: Selection | None = None, **options: Any) -> int:
    """Draw ``net`` at ``args.by``; a bare format goes to stdout, a path to its file.

    With a selection, the diagram holds the selected endpoints, their connections and
    the endpoints at the other end of those.
    """
    from reach.render import render

    if target in ("png", "pdf") and sys.stdout.isatty():
        raise _UsageError(f"refusing to write {target} to a terminal: redirect stdout, "
                          f"or use reach render -o FILE.{target}")
    source: Any = net
    if selection:
        source = _selected_graph(net, args.by, selection, options.get("services", True))
        if options.get("focus") is not None:
            options["focus"] = _locate(source, net, options["focus"])
    data = render(source, target, by=args.by, **options)
    if target in ("dot", "svg"):
        _emit(data.decode())
    elif target in ("png", "pdf"):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def _selected_graph(net: Network, by: str, selection: Selection, services: bool) -> Any:
    from reach.graph.views import graph

    full = graph(net, by=by, services=services)  # type: ignore[arg-type]
    ends = {n: full.nodes[n]["endpoint"] for n in full}
    chosen = selection.endpoints(net, ends.values())
    keep = {n for n, ep in ends.items() if ep in chosen}
    if not keep:
        raise _UsageError("nothing on the diagram matches -n/-l")
    wanted = set(keep)
    for n in keep:
        wanted.update(full.successors(n))
        wanted.update(full.predecessors(n))
    sub = full.subgraph(wanted).copy()
    sub.remove_edges_from([(a, b) for a, b in list(sub.edges) if a not in keep and b not in keep])
    return sub


def _locate(graph: Any, net: Network, reference: str) -> str:
    from reach.render.scene import locate

    found = locate(graph, reference, net)
    if not found:
        raise _UsageError(f"--focus {reference} is not among the endpoints -n/-l selected")
    return str(found[0])


# ---------------------------------------------------------------------------
# reach paths / reachable-from / reachable-to / isolated / exposure (the graph queries)


def _setup_query(parser: argparse.ArgumentParser, port: bool = True, by: bool = True,
                 wide: bool = False) -> None:
    """Options shared by the graph queries."""
    _add_input(parser)
    if port:
        _add_port(parser, "keep only hops that allow this port: a number (1-65535), or a "
                  "name resolved on the destination (default: any port)")
    if by:
        parser.add_argument("--by", choices=("pod", "workload", "namespace", "class"),
                            default="workload", help="how endpoints are shown (default workload)")
    _choose_output(parser, ("txt", "wide", "json") if wide else ("txt", "json"))


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
        _emit(str(result))


def _setup_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help=ENDPOINT_HELP)
    parser.add_argument("dst", help=ENDPOINT_HELP)
    parser.add_argument("--max-hops", type=int, default=4, help="longest path (default 4)")
    parser.add_argument("--limit", type=int, default=10, help="most paths shown (default 10)")
    _setup_query(parser)
    parser.epilog = "exit code 0 when a path exists, 1 when none does, 2 on bad input or usage"


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
    parser.add_argument("src", help=ENDPOINT_HELP)
    _setup_query(parser)
    parser.epilog = "exit code 0 (also when nothing is reachable), 2 on bad input or usage"


def _run_reachable_from(args: argparse.Namespace) -> int:
    from reach.graph.queries import reachable_from

    net = _query_network(args)
    result = reachable_from(net, args.src, port=args.port, protocol=args.protocol, by=args.by)
    _emit_result(args, result, net)
    return 0


def _setup_reachable_to(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dst", help=ENDPOINT_HELP)
    _setup_query(parser)
    parser.epilog = "exit code 0 (also when nothing reaches it), 2 on bad input or usage"


def _run_reachable_to(args: argparse.Namespace) -> int:
    from reach.graph.queries import reachable_to

    net = _query_network(args)
    result = reachable_to(net, args.dst, port=args.port, protocol=args.protocol, by=args.by)
    _emit_result(args, result, net)
    return 0


def _setup_isolated(parser: argparse.ArgumentParser) -> None:
    _setup_query(parser, port=False, by=False, wide=True)
    _add_selection(parser, "the pods")


def _run_isolated(args: argparse.Namespace) -> int:
    from reach.graph.queries import Isolation, isolated

    net = _query_network(args)
    selection = _selection(args)
    result = isolated(net)
    if selection:
        wanted = selection.endpoints(net, {e.pod for e in result})
        result = Isolation(tuple(e for e in result if e.pod in wanted))
    if args.output == "wide":
        rows = [("POD", "INGRESS", "EGRESS", "PEERS IN", "PEERS OUT", "ISOLATED BY")]
        for e in result:
            by = sorted(set(e.ingress_policies + e.egress_policies + e.ingress_guards
                            + e.egress_guards))
            rows.append((str(e.pod), _direction(e, "ingress"), _direction(e, "egress"),
                         _peers(e.ingress_peers, e.outside_in),
                         _peers(e.egress_peers, e.outside_out), ",".join(by) or "-"))
        _emit(_table(rows) if len(rows) > 1 else "")
    else:
        _emit_result(args, result, net)
    return 0


def _direction(entry: Any, direction: str) -> str:
    if getattr(entry, f"{direction}_isolated"):
        return "isolated"
    return "restricted" if getattr(entry, f"{direction}_guards") else "unprotected"


def _peers(pods: int, outside: bool) -> str:
    return f"{pods} pod{'s' if pods != 1 else ''}" + (" + outside" if outside else "")


def _setup_exposure(parser: argparse.ArgumentParser) -> None:
    _setup_query(parser, port=False, wide=True)
    _add_selection(parser, "targets")


def _run_exposure(args: argparse.Namespace) -> int:
    from reach.graph.queries import Exposure, exposure

    net = _query_network(args)
    selection = _selection(args)
    result = exposure(net, by=args.by)
    if selection:
        wanted = selection.endpoints(net, result.targets())
        result = Exposure(tuple(i for i in result if i.target in wanted), result.warnings)
    if args.output == "wide":
        rows = [("TARGET", "PORTS", "VIA", "THROUGH", "INTERNET CONNECTS TO", "FROM")]
        rows += [(str(i.target), str(i.ports), i.via,
                  " -> ".join(str(t) for t in i.through) or "-",
                  str(i.entry) if i.entry else "-",
                  ",".join(s.name for s in i.sources) or "-") for i in result]
        _emit(_table(rows) if len(rows) > 1 else "nothing is reachable from the internet")
    else:
        _emit_result(args, result, net)
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
    "isolated": ("per pod: isolated or unprotected in each direction, whether anything "
                 "can connect to it at all; -o wide: the policies and how many peers",
                 _setup_isolated, _run_isolated),
    "exposure": ("what the internet reaches: directly, through NodePort/LoadBalancer, Ingress",
                 _setup_exposure, _run_exposure),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reach",
        description="Kubernetes NetworkPolicy reachability: who can talk to whom, and why.",
        epilog=f"endpoints (SRC, DST, --focus, --path): {REFERENCE_FORMS}",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, setup, runner) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        setup(child)
        child.set_defaults(run=runner, parser=child)
    return parser


def _version() -> str:
    from reach import __version__

    return f"reach {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``reach`` command; returns the exit code."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            # an unknown flag is the subcommand's usage error, shown with its usage
            child = getattr(args, "parser", parser)
            child.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    # A short-lived process holding millions of acyclic objects: reference counting
    # frees them, and the cyclic collector would only walk them again and again.
    gc.disable()
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
