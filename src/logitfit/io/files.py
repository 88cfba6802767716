"""Which files a user means, and what they hold: path resolution and format detection.

One home for the file-format table. A format is recognised by content first
(Parquet's ``PAR1``, Arrow IPC's ``ARROW1`` or stream continuation marker,
gzip and zstd magic bytes, then a sniff of the decompressed text), by
extension when the content does not decide, and ``--format`` overrides both.
A path that exists is always that file: a name such as ``data[b].csv`` is
never expanded as a glob pattern.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from logitfit.exceptions import DataError, DataFileNotFound

__all__ = ["FORMATS", "STDIN", "detect_format", "open_stream", "resolve_path", "resolve_paths"]

FORMATS = ("csv", "tsv", "parquet", "feather", "libsvm")
STDIN = "-"

_COMPRESSION = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
_EXTENSIONS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
    ".parquet": "parquet", ".pq": "parquet",
    ".feather": "feather", ".arrow": "feather", ".arrows": "feather", ".ipc": "feather",
    ".libsvm": "libsvm", ".svm": "libsvm", ".svmlight": "libsvm",
}
_LIBSVM_LINE = re.compile(rb"^\s*[-+]?[\w.]+(\s+(qid:\S+|\d+:\S+))*\s*(#.*)?$")
_GZIP, _ZSTD = b"\x1f\x8b", b"\x28\xb5\x2f\xfd"


# --------------------------------------------------------------------------
# paths and patterns
# --------------------------------------------------------------------------


def _data_files(directory: str) -> list[str]:
    return sorted(
        os.path.join(root, f)
        for root, _, files in os.walk(directory)
        for f in files
        if not f.startswith((".", "_")) and _extension_format(f) is not None
    )


def resolve_paths(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """The files a user path, glob pattern, directory, or list of these names.

    A path that exists is that file (or, for a directory, the data files under
    it, sorted); only a path that does not exist is expanded as a glob pattern.

    Raises
    ------
    DataError
        Nothing exists at the path and no file matches the pattern, or a
        directory holds no data files.
    """
    if isinstance(source, (list, tuple)):
        return [p for s in source for p in resolve_paths(s)]
    path = os.fspath(source)
    if path == STDIN:
        return [path]
    if os.path.isdir(path):
        found = _data_files(path)
        if not found:
            raise DataFileNotFound(path, "the directory holds no data files (.parquet, .csv, "
                                   ".feather, ...)")
        return found
    if os.path.exists(path):
        return [path]
    if glob.has_magic(path):
        found = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
        if not found:
            raise DataFileNotFound(path, "no file matches this pattern")
        return found
    raise DataFileNotFound(path, "no such file")


def resolve_path(path: str | os.PathLike) -> str:
    """One input file (or a Parquet directory, or ``"-"``) for a reader of a single data set.

    As :func:`resolve_paths`, except that a directory is returned as itself
    and a pattern must match exactly one file.
    """
    spath = os.fspath(path)
    if spath == STDIN or os.path.exists(spath):
        return spath
    found = resolve_paths(spath)
    if len(found) > 1:
        shown = ", ".join(found[:5]) + (" ..." if len(found) > 5 else "")
        raise DataError(spath, f"the pattern matches {len(found)} files ({shown}); give one file "
                        "here, or fit them together by streaming (logitfit.scan)")
    return found[0]


# --------------------------------------------------------------------------
# format detection
# --------------------------------------------------------------------------


def _extension_format(name: str) -> str | None:
    base, _ = split_compression(name)
    return _EXTENSIONS.get(Path(base).suffix.lower())


def split_compression(path: str) -> tuple[str, str | None]:
    """(path without a ``.gz``/``.zst`` suffix, codec or None) by extension."""
    p = path.lower()
    for ext, codec in _COMPRESSION.items():
        if p.endswith(ext):
            return path[: -len(ext)], codec
    return path, None


def _magic(path: str, n: int = 8) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as err:
        raise DataError(path, f"cannot open the file: {err.strerror or err}") from None


def compression_of(path: str) -> str | None:
    """``"gzip"``, ``"zstd"`` or None, by magic bytes (the extension only names what it claims)."""
    magic = _magic(path, 4)
    if magic[:2] == _GZIP:
        return "gzip"
    if magic == _ZSTD:
        return "zstd"
    return None


def open_stream(path: str) -> Any:
    """A binary input stream (no memory-mapping), decompressing gzip/zstd found by magic bytes."""
    import pyarrow as pa

    if path == STDIN:
        import sys

        return pa.PythonFile(sys.stdin.buffer, mode="r")
    codec = compression_of(path)
    try:
        return pa.input_stream(path, compression=codec)
    except (OSError, pa.ArrowException) as err:
        raise DataError(path, f"cannot open the file: {err}") from None


def read_head(path: str, n: int = 65_536) -> bytes:
    """The first ``n`` (decompressed) bytes of a file."""
    import pyarrow as pa

    try:
        with open_stream(path) as f:
            return f.read(n)
    except (OSError, EOFError, pa.ArrowException) as err:
        raise DataError(path, f"cannot decompress the file: {err}") from None


def _content_format(path: str) -> str | None:
    """The format the first bytes prove, or None when they do not decide."""
    magic = _magic(path)
    if magic[:4] == b"PAR1":
        return "parquet"
    if magic[:6] == b"ARROW1" or magic[:4] == b"\xff\xff\xff\xff":
        return "feather"
    return None


def detect_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The format of ``path``: one of :data:`FORMATS`.

    ``fmt`` when given; else the magic bytes of Parquet and Arrow IPC; else
    the extension (``.csv``, ``.tsv``, ``.parquet``, ``.feather``/``.arrow``,
    ``.libsvm``/``.svm``, text formats optionally ``.gz``/``.zst``); else a
    sniff of the (decompressed) text. A directory is a Parquet data set;
    ``"-"`` (standard input) is CSV.

    Raises
    ------
    DataError
        The file does not exist, is empty, or is in no format logitfit reads.
    """
    spath = str(path)
    if fmt is not None:
        if fmt not in FORMATS:
            raise DataError(spath, f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    if spath == STDIN:
        return "csv"
    p = Path(spath)
    if p.is_dir():
        if not any(p.rglob("*.parquet")) and not any(p.rglob("*.pq")):
            raise DataError(spath, "the directory holds no .parquet files")
        return "parquet"
    if not p.exists():
        raise DataFileNotFound(spath, "no such file")
    if p.stat().st_size == 0:
        raise DataError(spath, "the file is empty")
    found = _content_format(spath) or _extension_format(spath)
    if found is not None:
        return found
    return _sniff_text(spath)


def _sniff_text(path: str) -> str:
    head = read_head(path, 8192)
    if b"\x00" in head:
        raise DataError(path, "unknown format: binary data that is not Parquet or Arrow")
    lines = [ln for ln in head.splitlines()[:20] if ln.strip()]
    if not lines:
        raise DataError(path, "the file is empty")
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of the sample may be cut
    if all(_LIBSVM_LINE.match(ln) for ln in lines) and any(b":" in ln for ln in lines):
        return "libsvm"
    delim = sniff_delimiter(lines[0].decode("utf-8", "replace"))
    if delim is not None:
        return "tsv" if delim == "\t" else "csv"
    raise DataError(
        path,
        "unknown format: give the file an extension (.csv, .tsv, .parquet, .feather, "
        ".libsvm) or pass --format",
    )


def sniff_delimiter(header: str) -> str | None:
    """The most frequent of ``, \\t ; |`` in a header line, or None."""
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else None
