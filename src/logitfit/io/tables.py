"""Reading data files: CSV/TSV (plain, gzip, zstd), Parquet, Feather/Arrow IPC, LIBSVM.

Everything goes through pyarrow, imported on first use. Two ways in:

* :func:`read_table` reads a whole tabular file into a ``pyarrow.Table``
  (what ``logitfit fit`` needs), :func:`read_libsvm` a LIBSVM/svmlight file
  into a scipy CSR matrix and its labels (kept sparse);
* :func:`iter_batches` / :func:`iter_libsvm` stream the same files in record
  batches of bounded size (what ``logitfit predict`` needs: memory stays flat
  however large the file is).

Every problem a person can fix (unknown format, empty file, missing header,
ragged row, a non-numeric value in a numeric column, a missing column) raises
:class:`DataError`, whose message names the file and, where it applies, the
row and the column. Rows are counted from 1 for the first data row (the
header is not a row); ``line`` is the line of a text file (the header is
line 1).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logitfit.exceptions import DataError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

__all__ = [
    "FORMATS",
    "detect_format",
    "read_table",
    "iter_batches",
    "csv_options",
]

FORMATS = ("csv", "tsv", "parquet", "feather", "libsvm")
STDIN = "-"

#: Rows per streamed batch: about 64k rows keeps a batch of a few dozen
#: float64 columns within tens of MB, small next to any machine, large enough
#: that per-batch overhead (validation, a BLAS call) is negligible.
BATCH_ROWS = 65_536
#: Bytes per CSV read block in the streaming reader (pyarrow's unit of work).
#: pyarrow reads up to 32 blocks ahead on its I/O thread, so this sets most of
#: ``logitfit predict``'s memory: 4 MB blocks held 130 MB of read-ahead, 1 MB
#: blocks 34 MB, at the same speed (docs/cli.md).
CSV_BLOCK_BYTES = 1 << 20

_COMPRESSION = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".feather": "feather",
    ".arrow": "feather",
    ".arrows": "feather",
    ".ipc": "feather",
    ".libsvm": "libsvm",
    ".svm": "libsvm",
    ".svmlight": "libsvm",
}
_NULLS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
_LIBSVM_LINE = re.compile(rb"^\s*[-+]?[\w.]+(\s+(qid:\S+|\d+:\S+))*\s*(#.*)?$")


# --------------------------------------------------------------------------
# format detection
# --------------------------------------------------------------------------


def _split_compression(path: str) -> tuple[str, str | None]:
    p = path.lower()
    for ext, codec in _COMPRESSION.items():
        if p.endswith(ext):
            return path[: -len(ext)], codec
    return path, None


def _open_stream(path: str) -> Any:
    """A binary input stream, decompressing gzip/zstd by extension or magic bytes."""
    import pyarrow as pa

    if path == STDIN:
        import sys

        return pa.PythonFile(sys.stdin.buffer, mode="r")
    _, codec = _split_compression(path)
    if codec is None:
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic[:2] == b"\x1f\x8b":
            codec = "gzip"
        elif magic == b"\x28\xb5\x2f\xfd":
            codec = "zstd"
    return pa.input_stream(path, compression=codec)


def _head(path: str, n: int = 65_536) -> bytes:
    with _open_stream(path) as f:
        return f.read(n)


def detect_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The format of ``path``: one of :data:`FORMATS`.

    Uses ``fmt`` when given, otherwise the extension (``.csv``, ``.tsv``,
    ``.parquet``, ``.feather``/``.arrow``, ``.libsvm``/``.svm``, each text format
    optionally ``.gz``/``.zst``), otherwise the first bytes of the file. A
    directory is a Parquet data set; ``"-"`` (standard input) is CSV.

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
            raise DataError(spath, "directory holds no .parquet files")
        return "parquet"
    if not p.exists():
        raise DataError(spath, "no such file")
    if p.stat().st_size == 0:
        raise DataError(spath, "the file is empty")
    base, _ = _split_compression(spath)
    ext = Path(base).suffix.lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    with open(spath, "rb") as f:
        magic = f.read(8)
    if magic[:4] == b"PAR1":
        return "parquet"
    if magic[:6] == b"ARROW1" or magic[:4] == b"\xff\xff\xff\xff":
        return "feather"
    head = _head(spath, 8192)
    if b"\x00" in head:
        raise DataError(spath, "unknown format: binary data that is not Parquet or Arrow")
    lines = [ln for ln in head.splitlines()[:20] if ln.strip()]
    if not lines:
        raise DataError(spath, "the file is empty")
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of the sample may be cut
    if all(_LIBSVM_LINE.match(ln) for ln in lines) and any(b":" in ln for ln in lines):
        return "libsvm"
    delim = _sniff_delimiter(lines[0].decode("utf-8", "replace"))
    if delim is not None:
        return "tsv" if delim == "\t" else "csv"
    raise DataError(
        spath,
        "unknown format: give the file an extension (.csv, .tsv, .parquet, .feather, "
        ".libsvm) or pass --format",
    )


def _sniff_delimiter(header: str) -> str | None:
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else None


# --------------------------------------------------------------------------
# CSV / TSV
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _CsvDialect:
    delimiter: str
    header: list[str]


def _csv_dialect(path: str, fmt: str, head: bytes | None = None) -> _CsvDialect:
    if head is None:
        head = _head(path)
    if not head.strip():
        raise DataError(path, "the file is empty")
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text.splitlines() else ""
    delim = "\t" if fmt == "tsv" else (_sniff_delimiter(first) or ",")
    import csv

    header = next(csv.reader([first], delimiter=delim))
    header = [h.strip() for h in header]
    if all(_is_number(h) for h in header if h):
        raise DataError(
            path, "no header: the first line looks like data; add a header line naming the columns",
            line=1,
        )
    seen: set[str] = set()
    for h in header:
        if h == "":
            raise DataError(path, "a column has an empty name in the header", line=1)
        if h in seen:
            raise DataError(path, "column name appears twice in the header", line=1, column=h)
        seen.add(h)
    return _CsvDialect(delim, header)


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def csv_options(
    dialect: _CsvDialect,
    *,
    columns: Sequence[str] | None = None,
    column_types: dict[str, Any] | None = None,
    streaming: bool = False,
) -> tuple[Any, Any, Any]:
    """pyarrow read/parse/convert options for a file of this dialect."""
    import pyarrow.csv as pc

    read = pc.ReadOptions(
        column_names=dialect.header,
        skip_rows=1,
        use_threads=False,  # single-threaded parsing reports the row of a ragged line
        block_size=CSV_BLOCK_BYTES if streaming else None,
    )
    parse = pc.ParseOptions(delimiter=dialect.delimiter)
    convert = pc.ConvertOptions(
        include_columns=list(columns) if columns is not None else None,
        column_types=column_types or {},
        null_values=_NULLS,
        strings_can_be_null=True,
    )
    return read, parse, convert


def _explain_csv_error(path: str, dialect: _CsvDialect, err: Exception,
                       column_types: dict[str, Any] | None) -> DataError:
    """Turn a pyarrow CSV error into a DataError naming row and column.

    pyarrow names the row of a ragged line but not the row of a value that
    fails conversion, so on that (rare, fatal) path the file is scanned again
    with Python's csv module to find the first offending cell.
    """
    msg = str(err)
    m = re.search(r"Row #(\d+): Expected (\d+) columns, got (\d+)", msg)
    if m:
        line = int(m.group(1))
        return DataError(
            path,
            f"ragged row: expected {m.group(2)} fields (as in the header), got {m.group(3)}",
            line=line, row=line - 1,
        )
    if "Expected" in msg and "columns" in msg:
        return _scan_ragged(path, dialect) or DataError(path, f"malformed CSV: {msg}")
    m = re.search(r"In CSV column #(\d+): .*?invalid value '(.*)'", msg)
    if m:
        col = dialect.header[int(m.group(1))]
        found = _scan_non_numeric(path, dialect, col)
        if found is not None:
            return found
        return DataError(path, f"non-numeric value {m.group(2)!r} in a numeric column", column=col)
    return DataError(path, f"cannot read as CSV: {msg}")


def _text_lines(path: str) -> Iterator[str]:
    with _open_stream(path) as raw:
        yield from io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def _scan_ragged(path: str, dialect: _CsvDialect) -> DataError | None:
    import csv

    reader = csv.reader(_text_lines(path), delimiter=dialect.delimiter)
    n = len(dialect.header)
    for i, rec in enumerate(reader):
        if i and rec and len(rec) != n:
            return DataError(path, f"ragged row: expected {n} fields (as in the header), got "
                             f"{len(rec)}", line=reader.line_num, row=i)
    return None


def _scan_non_numeric(path: str, dialect: _CsvDialect, column: str) -> DataError | None:
    import csv

    j = dialect.header.index(column)
    reader = csv.reader(_text_lines(path), delimiter=dialect.delimiter)
    next(reader, None)
    for i, rec in enumerate(reader, start=1):
        if j < len(rec):
            v = rec[j].strip()
            if v not in _NULLS and not _is_number(v):
                return DataError(path, f"non-numeric value {v!r} in a numeric column",
                                 row=i, line=reader.line_num, column=column)
    return None


def _check_columns(path: str, available: Sequence[str], wanted: Sequence[str] | None) -> None:
    if wanted is None:
        return
    missing = [c for c in wanted if c not in available]
    if missing:
        shown = ", ".join(list(available)[:20]) + (" ..." if len(available) > 20 else "")
        raise DataError(
            path, f"missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)}; the file has: {shown}",
            column=missing[0],
        )


def _read_csv(path: str, fmt: str, columns, column_types) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pc

    if path == STDIN:
        import sys

        data = sys.stdin.buffer.read()
        if not data.strip():
            raise DataError(path, "the input is empty")
        dialect = _csv_dialect(path, fmt, data[:65_536])
        source: Any = pa.BufferReader(data)
    else:
        dialect = _csv_dialect(path, fmt)
        source = _open_stream(path)
    _check_columns(path, dialect.header, columns)
    read, parse, convert = csv_options(dialect, columns=columns, column_types=column_types)
    try:
        table = pc.read_csv(source, read_options=read, parse_options=parse,
                            convert_options=convert)
    except pa.ArrowInvalid as err:
        if path == STDIN:
            raise DataError(path, f"cannot read as CSV: {err}") from None
        raise _explain_csv_error(path, dialect, err, column_types) from None
    if table.num_rows == 0:
        raise DataError(path, "the file has a header but no data rows")
    return table


# --------------------------------------------------------------------------
# Parquet / Feather
# --------------------------------------------------------------------------


def _parquet_dataset(path: str) -> Any:
    import pyarrow.dataset as ds

    try:
        return ds.dataset(path, format="parquet", partitioning="hive")
    except Exception as err:  # noqa: BLE001 - pyarrow raises several types here
        raise DataError(path, f"cannot read as Parquet: {err}") from None


def _ipc_reader(path: str) -> tuple[Any, Any]:
    """(reader, source) for an Arrow IPC file or stream (Feather v2 is the IPC file format)."""
    import pyarrow as pa

    with open(path, "rb") as f:
        magic = f.read(8)
    try:
        if magic[:6] == b"ARROW1":
            src = pa.memory_map(path, "r")
            return pa.ipc.open_file(src), src
        src = pa.OSFile(path, "r")
        return pa.ipc.open_stream(src), src
    except pa.ArrowInvalid as err:
        raise DataError(path, f"cannot read as Feather/Arrow IPC: {err}") from None


def _cast_columns(path: str, table_or_batch: Any, column_types: dict[str, Any] | None) -> Any:
    """Cast columns to the requested types, naming the column (and row) on failure."""
    if not column_types:
        return table_or_batch
    import pyarrow as pa
    import pyarrow.compute as pcm

    out = table_or_batch
    for name, typ in column_types.items():
        if name not in out.schema.names:
            continue
        i = out.schema.get_field_index(name)
        col = out.column(i)
        if col.type == typ:
            continue
        if pa.types.is_floating(typ) and (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            bad = _first_non_numeric(col)
            if bad is not None:
                raise DataError(path, f"non-numeric value {bad[1]!r} in a numeric column",
                                row=bad[0] + 1, column=name)
        try:
            col = pcm.cast(col, typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise DataError(path, f"cannot convert to {typ}: {err}", column=name) from None
        out = out.set_column(i, name, col)
    return out


def _first_non_numeric(col: Any) -> tuple[int, str] | None:
    values = col.to_pylist()
    for i, v in enumerate(values):
        if v is not None and v.strip() not in _NULLS and not _is_number(v):
            return i, v
    return None


# --------------------------------------------------------------------------
# public readers
# --------------------------------------------------------------------------


def read_table(
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    columns: Sequence[str] | None = None,
    column_types: dict[str, Any] | None = None,
) -> pa.Table:
    """Read a CSV/TSV/Parquet/Feather file (or ``"-"``: CSV on stdin) into a pyarrow Table.

    Parameters
    ----------
    path : str or path-like
        File, Parquet directory, or ``"-"``.
    fmt : str, optional
        Force the format instead of detecting it (:func:`detect_format`).
    columns : sequence of str, optional
        Read only these columns; a missing one raises :class:`DataError`.
    column_types : dict, optional
        Column name -> pyarrow type, e.g. ``pa.float64()`` for the numeric
        features a fitted model expects.

    Returns
    -------
    pyarrow.Table
        With at least one row.
    """
    spath = str(path)
    fmt = detect_format(spath, fmt)
    if fmt == "libsvm":
        raise DataError(spath, "LIBSVM files are sparse: read them with read_libsvm")
    if fmt in ("csv", "tsv"):
        return _read_csv(spath, fmt, columns, column_types)
    if fmt == "parquet":
        dset = _parquet_dataset(spath)
        _check_columns(spath, dset.schema.names, columns)
        table = dset.to_table(columns=list(columns) if columns is not None else None)
    else:
        reader, src = _ipc_reader(spath)
        try:
            _check_columns(spath, reader.schema.names, columns)
            table = reader.read_all()
        finally:
            src.close()
        if columns is not None:
            table = table.select(list(columns))
    if table.num_rows == 0:
        raise DataError(spath, "the file has no data rows")
    return _cast_columns(spath, table, column_types)


def iter_batches(
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    columns: Sequence[str] | None = None,
    column_types: dict[str, Any] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Stream a tabular file as record batches; memory is bounded by one batch.

    CSV is read with pyarrow's streaming reader (blocks of
    :data:`CSV_BLOCK_BYTES`), Parquet row group by row group, Arrow IPC batch
    by batch. Parameters as in :func:`read_table`; batches have at most about
    ``batch_rows`` rows (CSV batches follow the reader's blocks).

    Raises
    ------
    DataError
        As :func:`read_table`, possibly after some batches have been yielded
        (a ragged row deep in a CSV file is only seen when reached).
    """
    import pyarrow as pa
    import pyarrow.csv as pc

    spath = str(path)
    fmt = detect_format(spath, fmt)
    if fmt == "libsvm":
        raise DataError(spath, "LIBSVM files are sparse: stream them with iter_libsvm")
    if fmt in ("csv", "tsv"):
        dialect = _csv_dialect(spath, fmt) if spath != STDIN else None
        if dialect is None:
            # stdin cannot be read twice: peek the header through a buffered reader
            import sys

            buf = sys.stdin.buffer
            head = buf.peek(65_536) if hasattr(buf, "peek") else b""
            if not head.strip():
                raise DataError(spath, "the input is empty")
            dialect = _csv_dialect(spath, fmt, head)
            source: Any = pa.PythonFile(buf, mode="r")
        else:
            source = _open_stream(spath)
        _check_columns(spath, dialect.header, columns)
        read, parse, convert = csv_options(
            dialect, columns=columns, column_types=column_types, streaming=True
        )
        try:
            reader = pc.open_csv(source, read_options=read, parse_options=parse,
                                 convert_options=convert)
            for batch in reader:
                if batch.num_rows:
                    yield batch
        except pa.ArrowInvalid as err:
            if spath == STDIN:
                raise DataError(spath, f"cannot read as CSV: {err}") from None
            raise _explain_csv_error(spath, dialect, err, column_types) from None
        return
    if fmt == "parquet":
        dset = _parquet_dataset(spath)
        _check_columns(spath, dset.schema.names, columns)
        for batch in dset.to_batches(
            columns=list(columns) if columns is not None else None,
            batch_size=batch_rows, batch_readahead=1, fragment_readahead=1,
        ):
            if batch.num_rows:
                yield _cast_columns(spath, batch, column_types)
        return
    reader, src = _ipc_reader(spath)
    try:
        _check_columns(spath, reader.schema.names, columns)
        it = (reader.get_batch(i) for i in range(reader.num_record_batches)) \
            if hasattr(reader, "num_record_batches") else iter(reader)
        for batch in it:
            if columns is not None:
                batch = batch.select(list(columns))
            for off in range(0, batch.num_rows, batch_rows):
                yield _cast_columns(spath, batch.slice(off, batch_rows), column_types)
    finally:
        src.close()

