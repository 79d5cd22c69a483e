"""Turn the paths a user gives into (display path, text) pairs, deterministically."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reach.errors import ManifestError
from reach.model import Diagnostic, Location

__all__ = ["MANIFEST_SUFFIXES", "STDIN", "Raw", "Sources", "decode", "iter_sources", "iter_texts",
           "text_of"]

MANIFEST_SUFFIXES = (".json", ".yaml", ".yml")
STDIN = "<stdin>"
_DOC_SUFFIXES = (".md", ".rst")


Raw = bytes | str
"""A file's bytes, or the text of standard input (already decoded)."""


def iter_texts(
    paths: tuple[str | os.PathLike[str], ...],
    stdin_text: str | None,
    notes: list[Diagnostic],
) -> Iterator[tuple[str, str]]:
    """Every manifest text to read, in order; each file at most once.

    Folders are read recursively in sorted order, skipping hidden entries;
    their files that are not .yaml/.yml/.json are skipped with a warning. A file
    named explicitly is read whatever its suffix, as ``kubectl -f`` does.
    """
    for path, raw in iter_sources(paths, stdin_text, notes):
        yield path, text_of(path, raw)


def text_of(path: str, raw: Raw) -> str:
    """The text of a source :func:`iter_sources` gave."""
    return raw if isinstance(raw, str) else decode(raw, path)


def iter_sources(
    paths: tuple[str | os.PathLike[str], ...],
    stdin_text: str | None,
    notes: list[Diagnostic],
) -> Iterator[tuple[str, Raw]]:
    """What :func:`iter_texts` reads, undecoded: each file's bytes (stdin's text)."""
    seen: set[str] = set()
    for raw in paths:
        text_path = os.fspath(raw)
        if text_path == "-":
            if STDIN not in seen:
                seen.add(STDIN)
                yield STDIN, _stdin(stdin_text)
            continue
        path = Path(text_path)
        if path.is_dir():
            for file in _folder_files(path, notes):
                if _first_time(file, seen):
                    yield str(file), _read(file)
        elif path.exists():
            if _first_time(path, seen):
                yield text_path, _read(path)
        else:
            raise ManifestError("no such file or directory", path=text_path)


@dataclass(frozen=True, slots=True)
class Sources:
    """Every source :func:`iter_sources` gives, read up front, with the notes about
    skipped files in the order they came among them: reading them again
    (:meth:`replay`) says exactly what reading the paths would have said.
    """

    items: tuple[tuple[tuple[Diagnostic, ...], str, Raw], ...]
    trailing: tuple[Diagnostic, ...]

    @staticmethod
    def read(paths: tuple[str | os.PathLike[str], ...], stdin_text: str | None) -> Sources:
        items = []
        notes: list[Diagnostic] = []
        for path, raw in iter_sources(paths, stdin_text, notes):
            items.append((tuple(notes), path, raw))
            notes.clear()
        return Sources(tuple(items), tuple(notes))

    def replay(self, notes: list[Diagnostic]) -> Iterator[tuple[str, Raw]]:
        """The sources in order, each note appended to ``notes`` where it came."""
        for before, path, raw in self.items:
            notes.extend(before)
            yield path, raw
        notes.extend(self.trailing)


def _first_time(path: Path, seen: set[str]) -> bool:
    key = os.path.realpath(path)
    if key in seen:
        return False
    seen.add(key)
    return True


def _stdin(stdin_text: str | None) -> str:
    if stdin_text is not None:
        return stdin_text
    try:
        return sys.stdin.read()
    except (OSError, UnicodeError, ValueError) as exc:
        raise ManifestError(f"cannot read standard input: {exc}", path=STDIN) from None


def _folder_files(folder: Path, notes: list[Diagnostic]) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder, onerror=None):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            file = Path(root) / name
            if file.suffix.lower() in MANIFEST_SUFFIXES:
                yield file
            else:
                # Documentation beside manifests is expected; anything else is worth a warning.
                docs = file.suffix.lower() in _DOC_SUFFIXES or name.upper().startswith("README")
                notes.append(Diagnostic(
                    "info" if docs else "warning",
                    f"skipped {file}: not a .yaml, .yml or .json file",
                    Location(str(file)),
                    code="skipped-file",
                ))


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None


def decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM, as YAML allows."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    else:  # utf-8-sig only with a BOM: on a large file it is twice as slow as utf-8
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(
            f"not {encoding.upper().removesuffix('-SIG')} text: {exc.reason} at byte {exc.start}",
            path=path,
            line=line,
            hint="save the file as UTF-8",
        ) from None
