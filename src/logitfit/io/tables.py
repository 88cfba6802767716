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

from logitfit.data.arrow_input import check_finite, check_schema, reader_error, reading, validate
from logitfit.data.columns import _first_non_numeric
from logitfit.exceptions import DataError
from logitfit.io.files import (
    FORMATS,
    STDIN,
    detect_format,
    open_stream,
    read_head,
    resolve_path,
    sniff_delimiter,
)

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

__all__ = [
    "FORMATS",
    "detect_format",
    "read_table",
    "iter_batches",
    "csv_options",
]

#: Rows per streamed batch: about 64k rows keeps a batch of a few dozen
#: float64 columns within tens of MB, small next to any machine, large enough
#: that per-batch overhead (validation, a BLAS call) is negligible.
BATCH_ROWS = 65_536
#: Bytes per CSV read block in the streaming reader (pyarrow's unit of work).
#: pyarrow reads up to 32 blocks ahead on its I/O thread, so this sets most of
#: ``logitfit predict``'s memory: 4 MB blocks held 130 MB of read-ahead, 1 MB
#: blocks 34 MB, at the same speed (docs/cli.md).
CSV_BLOCK_BYTES = 1 << 20

_NULLS = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]


# --------------------------------------------------------------------------
# CSV / TSV
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _CsvDialect:
    delimiter: str
    header: list[str]


def _csv_dialect(path: str, fmt: str, head: bytes | None = None) -> _CsvDialect:
    if head is None:
        head = read_head(path)
    if not head.strip():
        raise DataError(path, "the file is empty")
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text.splitlines() else ""
    delim = "\t" if fmt == "tsv" else (sniff_delimiter(first) or ",")
    import csv

    with reading(path, "CSV", where="header"):
        header = [h.strip() for h in next(csv.reader([first], delimiter=delim), [])]
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


def _explain_csv_error(path: str, dialect: _CsvDialect, err: Exception) -> DataError:
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
    if path == STDIN:
        return reader_error(path, err, "CSV")
    try:  # a second pass with Python's csv module finds the row pyarrow did not name
        if "Expected" in msg and "columns" in msg:
            found = _scan_ragged(path, dialect)
            if found is not None:
                return found
        m = re.search(r"In CSV column #(\d+): .*?invalid value '(.*)'", msg)
        if m and int(m.group(1)) < len(dialect.header):
            col = dialect.header[int(m.group(1))]
            found = _scan_non_numeric(path, dialect, col)
            return found or DataError(path, f"non-numeric value {m.group(2)!r} in a numeric "
                                      "column", column=col)
    except Exception as scan_err:  # noqa: BLE001 - the second pass fails on what the first did
        return reader_error(path, scan_err, "CSV")
    return reader_error(path, err, "CSV")


def _text_lines(path: str) -> Iterator[str]:
    with open_stream(path) as raw:
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
        source = open_stream(path)
    _check_columns(path, dialect.header, columns)
    read, parse, convert = csv_options(dialect, columns=columns, column_types=column_types)
    try:
        table = pc.read_csv(source, read_options=read, parse_options=parse,
                            convert_options=convert)
    except Exception as err:  # noqa: BLE001 - untrusted bytes: any reader failure is the file's
        raise _explain_csv_error(path, dialect, err) from None
    if table.num_rows == 0:
        raise DataError(path, "the file has a header but no data rows")
    return table


# --------------------------------------------------------------------------
# Parquet / Feather: read through a file handle, fully validated
# --------------------------------------------------------------------------


def _read_parquet(path: str, columns: Sequence[str] | None) -> pa.Table:
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    with reading(path, "Parquet"):
        if Path(path).is_dir():
            source: Any = ds.dataset(path, format="parquet", partitioning="hive")
        else:
            source = pq.ParquetFile(path, memory_map=False, page_checksum_verification=True)
        schema = source.schema if Path(path).is_dir() else source.schema_arrow
        check_schema(path, schema, columns)
        _check_columns(path, schema.names, columns)
        cols = list(columns) if columns is not None else None
        table = source.to_table(columns=cols) if Path(path).is_dir() else source.read(columns=cols)
    return validate(path, table, "Parquet")


def _iter_parquet(path: str, columns: Sequence[str] | None, batch_rows: int) -> Iterator[Any]:
    import pyarrow.parquet as pq

    if Path(path).is_dir():  # a data set: read whole (directories are for fitting)
        yield from _read_parquet(path, columns).to_batches(batch_rows)
        return
    with reading(path, "Parquet"):
        pf = pq.ParquetFile(path, memory_map=False, page_checksum_verification=True)
        check_schema(path, pf.schema_arrow, columns)
        _check_columns(path, pf.schema_arrow.names, columns)
        for rg in range(pf.num_row_groups):
            with reading(path, "Parquet", where=f"row group {rg}"):
                it = pf.iter_batches(batch_size=batch_rows, row_groups=[rg],
                                     columns=list(columns) if columns is not None else None)
                for batch in it:
                    yield validate(path, batch, "Parquet", where=f"row group {rg}")


def _ipc_reader(path: str) -> tuple[Any, Any]:
    """(reader, source) for an Arrow IPC file or stream, through a plain file handle."""
    import pyarrow as pa

    with reading(path, "Feather/Arrow IPC"):
        src = pa.OSFile(path, "r")
        try:
            file_format = src.read(6) == b"ARROW1"
            src.seek(0)
            reader = pa.ipc.open_file(src) if file_format else pa.ipc.open_stream(src)
        except BaseException:
            src.close()
            raise
    return reader, src


def _iter_ipc(path: str, columns: Sequence[str] | None, batch_rows: int) -> Iterator[Any]:
    reader, src = _ipc_reader(path)
    try:
        check_schema(path, reader.schema, columns)
        _check_columns(path, reader.schema.names, columns)
        n = getattr(reader, "num_record_batches", None)
        i = 0
        while n is None or i < n:
            where = f"record batch {i}"
            with reading(path, "Feather/Arrow IPC", where=where):
                try:
                    batch = reader.get_batch(i) if n is not None else reader.read_next_batch()
                except StopIteration:
                    return
                validate(path, batch, "Feather/Arrow IPC", where=where)
                if columns is not None:
                    batch = batch.select(list(columns))
            for off in range(0, batch.num_rows, batch_rows):
                yield batch.slice(off, batch_rows)
            i += 1
    finally:
        src.close()


def _cast_columns(path: str, data: Any, column_types: dict[str, Any] | None,
                  row_offset: int = 0) -> Any:
    """Cast columns to the requested types, naming the column (and row) on failure."""
    if not column_types:
        return data
    import pyarrow as pa
    import pyarrow.compute as pcm

    out = data
    for name, typ in column_types.items():
        if name not in out.schema.names:
            continue
        i = out.schema.get_field_index(name)
        col = out.column(i)
        if col.type == typ:
            continue
        if pa.types.is_floating(typ) and not pa.types.is_floating(col.type):
            bad = _first_non_numeric(col)
            if bad is not None:
                raise DataError(path, f"non-numeric value {bad[1]!r} in a numeric column",
                                row=row_offset + bad[0] + 1, column=name)
        with reading(path, f"{typ}", where=f"column {name!r}"):
            col = pcm.cast(col, typ)
        out = out.set_column(i, name, col)
    return out


def _checked(path: str, data: Any, columns: Sequence[str] | None,
             column_types: dict[str, Any] | None, row_offset: int = 0) -> Any:
    """Cast, then refuse non-finite numbers: what every reader returns passes through here."""
    data = _cast_columns(path, data, column_types, row_offset)
    check_finite(path, data, columns, row_offset=row_offset)
    return data


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

    Binary formats are read through a file handle (no memory-mapping) and
    fully validated; every column read must hold numbers, booleans or strings,
    and every float must be finite.

    Parameters
    ----------
    path : str or path-like
        File, Parquet directory, ``"-"``, or a pattern matching one file
        (:func:`~logitfit.io.files.resolve_path`).
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
    spath = resolve_path(path)
    fmt = detect_format(spath, fmt)
    if fmt == "libsvm":
        raise DataError(spath, "LIBSVM files are sparse: read them with read_libsvm")
    if fmt in ("csv", "tsv"):
        table = _read_csv(spath, fmt, columns, column_types)
        check_schema(spath, table.schema, columns)
    else:
        if fmt == "parquet":
            table = _read_parquet(spath, columns)
        else:
            import pyarrow as pa

            batches = list(_iter_ipc(spath, columns, 1 << 62))
            table = pa.Table.from_batches(batches) if batches else None
        if table is None or table.num_rows == 0:
            raise DataError(spath, "the file has no data rows")
    return _checked(spath, table, columns, column_types)


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
    by batch, each batch validated and checked as in :func:`read_table`.
    Parameters as there; batches have at most about ``batch_rows`` rows (CSV
    batches follow the reader's blocks).

    Raises
    ------
    DataError
        As :func:`read_table`, possibly after some batches have been yielded
        (a ragged row deep in a CSV file is only seen when reached).
    """
    spath = resolve_path(path)
    fmt = detect_format(spath, fmt)
    if fmt == "libsvm":
        raise DataError(spath, "LIBSVM files are sparse: stream them with iter_libsvm")
    if fmt in ("csv", "tsv"):
        batches = _iter_csv(spath, fmt, columns, column_types)
    elif fmt == "parquet":
        batches = _iter_parquet(spath, columns, batch_rows)
    else:
        batches = _iter_ipc(spath, columns, batch_rows)
    rows = 0
    for batch in batches:
        if batch.num_rows:
            yield _checked(spath, batch, columns, column_types, rows)
            rows += batch.num_rows


def _iter_csv(path: str, fmt: str, columns: Sequence[str] | None,
              column_types: dict[str, Any] | None) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.csv as pc

    if path == STDIN:  # stdin cannot be read twice: peek the header through a buffered reader
        import sys

        buf = sys.stdin.buffer
        head = buf.peek(65_536) if hasattr(buf, "peek") else b""
        if not head.strip():
            raise DataError(path, "the input is empty")
        dialect = _csv_dialect(path, fmt, head)
        source: Any = pa.PythonFile(buf, mode="r")
    else:
        dialect = _csv_dialect(path, fmt)
        source = open_stream(path)
    _check_columns(path, dialect.header, columns)
    read, parse, convert = csv_options(dialect, columns=columns, column_types=column_types,
                                       streaming=True)
    try:
        reader = pc.open_csv(source, read_options=read, parse_options=parse,
                             convert_options=convert)
        yield from reader
    except Exception as err:  # noqa: BLE001 - untrusted bytes: any reader failure is the file's
        raise _explain_csv_error(path, dialect, err) from None
