"""A cache of compiled networks: a question asked again on unchanged inputs skips
reading and compiling.

An entry is one file, ``DIR/<key>.npz``: NumPy arrays and JSON text in an
uncompressed zip (read with ``allow_pickle=False``: nothing in it can run code). Its
key is a SHA-256 over everything the answer depends on: the bytes of every input
file with its path (and the notes about the files skipped), the live cluster's
dump, the compile options, and reach itself (the text of its modules, so that any
other reach writes other keys, and the versions of Python, PyYAML and NumPy).

An entry is checked before use: the zip's CRC of every member, its header (format,
key, reach), and every table and array against the model and each other
(:mod:`reach.model.codec`, :mod:`reach.engine.storage`). An entry that fails any
check, or cannot be read, is ignored with a warning and written again; nothing in a
cache is trusted. Entries are written atomically (a temporary file, then a rename),
and the :data:`KEEP` most recently used are kept (with temporary files a killed writer
left, once a day old).

Examples
--------
>>> import tempfile, reach
>>> folder = tempfile.mkdtemp()
>>> first = reach.load("samples/seed/cluster.yaml", cache=folder)
>>> again = reach.load("samples/seed/cluster.yaml", cache=folder)
>>> [d.code for d in again.notes], bool(again.can("network-policy/client-1",
...                                                "network-policy/server", port=8888))
(['cache-hit'], True)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from reach.documents._files import Sources
from reach.engine.classes import CompileOptions
from reach.engine.storage import compiled_data, compiled_from_data
from reach.loader import read_sources
from reach.model import Diagnostic, Location, Severity
from reach.model.codec import CodecError, Encoder, decode_cluster, schema_digest
from reach.network import Network

if TYPE_CHECKING:
    from reach.loader import LiveDump

__all__ = ["KEEP", "cache_key", "load_cached"]

FORMAT = 1
"""The layout of an entry (its members and header)."""

KEEP = 8
"""Entries kept in a cache folder: the most recently used."""

_SUFFIX = ".npz"
_TEMPORARY = ".reach-"


@cache
def _reach_digest() -> str:
    """reach itself: the text of every one of its modules (its version among them), and
    the versions of Python, PyYAML and NumPy that read the inputs and write the arrays."""
    import yaml

    versions = f"{sys.version}\0{yaml.__version__}\0{np.__version__}"
    h = hashlib.sha256(f"{FORMAT}\0{schema_digest()}\0{versions}\0".encode())
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_key(sources: Sources, live: LiveDump | None, options: CompileOptions) -> str:
    """The key of the network of ``sources`` (and ``live``) compiled with ``options``."""
    h = hashlib.sha256()

    def part(data: bytes | str) -> None:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        h.update(len(raw).to_bytes(8, "little"))
        h.update(raw)

    part(_reach_digest())
    part(json.dumps([options.ipblock_pods, options.host_network_pods]))
    if live is not None:
        part(live.name)
        for text in live.texts:
            part(text)
        for note in live.notes:
            part(repr(note))
    for before, path, raw in sources.items:
        for note in before:
            part(repr(note))
        part(path)
        part(raw)
    for note in sources.trailing:
        part(repr(note))
    return h.hexdigest()


def _note(code: str, message: str, folder: Path, severity: Severity = "warning") -> Diagnostic:
    return Diagnostic(severity, message, Location(str(folder)), code=code)


def load_cached(
    folder: str | os.PathLike[str],
    paths: Sequence[str | os.PathLike[str]],
    *,
    stdin_text: str | None = None,
    live: LiveDump | None = None,
    options: CompileOptions | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Network:
    """The network of ``paths`` from the cache ``folder``, or read, compiled and stored.

    What happened is the network's first :attr:`~reach.Network.notes`: an info note
    ``cache-hit``, or a warning ``cache-ignored`` (an entry that failed a check) or
    ``cache-unwritable``; a miss says nothing.
    """
    options = options or CompileOptions()
    where = Path(folder).expanduser()
    sources = Sources.read(tuple(paths), stdin_text)
    key = cache_key(sources, live, options)
    entry = where / f"{key}{_SUFFIX}"
    notes: list[Diagnostic] = []
    if entry.exists():
        try:
            net = _read_entry(entry, key, options)
        except Exception as exc:  # nothing read from a cache is trusted: any failure ignores it
            notes.append(_note("cache-ignored", f"ignored the cache entry {entry.name}: "
                               f"{_reason(exc)}; compiling again", where))
        else:
            _touch(entry)
            return net
    cluster = read_sources(sources.replay, live=live, progress=progress)
    net = Network(cluster, ipblock_pods=options.ipblock_pods,
                  host_network_pods=options.host_network_pods, progress=progress)
    try:
        _write_entry(where, entry, key, net)
    except OSError as exc:
        notes.append(_note("cache-unwritable", f"cannot write the cache: {exc.strerror or exc}",
                           where))
    return Network.of_compiled(net.compiled, notes) if notes else net


def _reason(exc: BaseException) -> str:
    if isinstance(exc, CodecError):
        return str(exc)
    text = str(exc) or type(exc).__name__
    return f"unreadable ({text})"


def _touch(entry: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(entry)


def _header(key: str) -> dict[str, Any]:
    return {"format": FORMAT, "key": key, "reach": _reach_digest()}


def _json_array(value: Any) -> np.ndarray[Any, np.dtype[np.uint8]]:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)


def _write_entry(where: Path, entry: Path, key: str, net: Network) -> None:
    encoder = Encoder()
    meta, arrays = compiled_data(net.compiled, encoder)
    members = {
        "header": _json_array(_header(key)),
        "model": _json_array(encoder.data(net.cluster)),
        "compiled": _json_array(meta),
        **{f"array_{name}": array for name, array in arrays.items()},
    }
    where.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=_TEMPORARY, suffix=_SUFFIX, dir=where)
    try:
        with os.fdopen(fd, "wb") as out:
            np.savez(out, allow_pickle=False, **members)
        os.replace(temporary, entry)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _prune(where, entry)


def _prune(where: Path, keep: Path) -> None:
    """Remove all but the :data:`KEEP` most recently used entries (never ``keep``), and
    what writers that were killed left behind a day ago or more."""
    entries = []
    stale = time.time() - 86400
    for path in where.glob(f"*{_SUFFIX}"):
        try:
            used = path.stat().st_mtime
        except OSError:
            continue
        if len(path.stem) == 64 and path != keep:
            entries.append((used, path))
        elif path.name.startswith(_TEMPORARY) and used < stale:
            path.unlink(missing_ok=True)
    entries.sort(reverse=True)
    for _, path in entries[KEEP - 1:]:
        path.unlink(missing_ok=True)


def _member_json(archive: Any, name: str) -> Any:
    array = archive[name]
    if array.dtype != np.uint8 or array.ndim != 1:
        raise CodecError(f"not a reach cache entry: {name} is not text")
    return json.loads(array.tobytes().decode("utf-8", "surrogatepass"))


def _read_entry(entry: Path, key: str, options: CompileOptions) -> Network:
    with np.load(entry, allow_pickle=False) as archive:
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise CodecError("not a reach cache entry: not an archive of arrays")
        header = _member_json(archive, "header")
        if header != _header(key):
            raise CodecError("not a reach cache entry for these inputs and this reach")
        model = decode_cluster(_member_json(archive, "model"))
        meta = _member_json(archive, "compiled")
        arrays = {name.removeprefix("array_"): archive[name]
                  for name in archive.files if name.startswith("array_")}
    compiled = compiled_from_data(model, options, meta, arrays)
    note = _note("cache-hit", f"read the compiled network from the cache entry {entry.name}",
                 entry.parent, "info")
    return Network.of_compiled(compiled, [note])
