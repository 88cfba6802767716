"""Blocks streamed from files: every pass re-reads CSV / Parquet / Arrow IPC record batches.

The objective is a sum over rows (:mod:`logitfit.blocks`), so a fit never
needs all rows at once. :class:`StreamBlocks` reads the files in a fixed order
on every pass, turns each record batch into a :class:`~logitfit.blocks.Block`
(float X, class indices y, float64 weights), runs the kernel on it and keeps a
running sum. The order of blocks depends only on the files and the block size,
so repeated passes, and repeated fits, give bit-identical sums.

Memory budget
-------------
With ``p`` features, a block of ``r`` rows holds ``8 r p`` bytes of float64
X. While the kernel runs on block ``i``, block ``i + 1`` is decoded by a
reader thread, and each block briefly exists twice (Arrow columns, then the
numpy copy); the Hessian kernel makes one scaled copy of its block. So at most
:data:`COPIES_PER_BLOCK` block-sized buffers are alive, and the rows per block
are chosen as::

    r = (memory_limit - 3 * 8 * n_params^2) / (COPIES_PER_BLOCK * 8 * p)

(the second term keeps room for the Hessian accumulator and one block's
partial Hessian). Peak memory does not grow with the number of rows.

Errors while reading (a truncated or corrupt file, a column whose type
changed, a missing value) raise :class:`StreamError`, which names the file and
the row group (Parquet), record batch (Arrow IPC) or block (CSV).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from logitfit.blocks.protocol import Block, BlockKernel
from logitfit.data.arrow_input import validate
from logitfit.exceptions import DataError

__all__ = [
    "COPIES_PER_BLOCK",
    "DEFAULT_MEMORY_LIMIT",
    "StreamBlocks",
    "StreamError",
    "StreamSpec",
    "rows_for_budget",
]

DEFAULT_MEMORY_LIMIT = 1 << 30  # 1 GiB
# Block-sized buffers alive at once: the block being reduced and its scaled
# Hessian copy, the block being decoded ahead (Arrow columns + numpy copy),
# and one spare for the reader's decompression buffers.
COPIES_PER_BLOCK = 5
MIN_BLOCK_ROWS = 256
MAX_BLOCK_ROWS = 1 << 22
# Parquet pages are read through a buffer of this size instead of whole
# column chunks, so a large row group does not have to fit in the budget.
PARQUET_READ_BUFFER = 1 << 20


class StreamError(DataError):
    """A file could not be read during a streaming pass (a :class:`DataError`).

    Attributes
    ----------
    path : str
        The file.
    unit : str
        Where in the file: ``"row group 3"``, ``"record batch 0"``, ``"CSV block 2"``.
    row, column : int or None, str or None
        1-based row of the file and column name, when known.
    """

    def __init__(self, path: str, unit: str, message: str, *, row: int | None = None,
                 column: str | None = None) -> None:
        super().__init__(f"{path}, {unit}", message)
        self.path, self.unit, self.row, self.column = str(path), unit, row, column


@dataclass(frozen=True)
class StreamSpec:
    """What to read from which files (validated by :func:`logitfit.scan`).

    paths : the files, in pass order.
    fmt : "parquet", "csv" or "ipc" (one format for all files).
    features : feature column names, in model order.
    target : label column name.
    weight : sample-weight column name or None.
    target_type : pyarrow type of the label column (every file must agree).
    csv_delimiter : field separator for CSV files.
    offset : offset column name (``z = X w + b + offset``) or None.
    """

    paths: tuple[str, ...]
    fmt: str
    features: tuple[str, ...]
    target: str
    weight: str | None
    target_type: Any
    csv_delimiter: str = ","
    offset: str | None = None

    @property
    def columns(self) -> list[str]:
        cols = [*self.features, self.target]
        cols = cols + [self.weight] if self.weight else cols
        return cols + [self.offset] if self.offset else cols


def rows_for_budget(n_features: int, n_params: int, memory_limit: int, itemsize: int = 8) -> int:
    """Rows per block that keep a pass within ``memory_limit`` bytes (module formula)."""
    reserve = 3 * 8 * n_params * n_params
    room = memory_limit - reserve
    if room <= 0:
        raise ValueError(
            f"memory_limit={memory_limit:,} bytes cannot hold the {n_params}x{n_params} Hessian "
            f"({reserve:,} bytes with its partial sums); raise memory_limit or use solver='lbfgs'"
        )
    per_row = COPIES_PER_BLOCK * max(8, itemsize) * max(1, n_features)
    return int(min(MAX_BLOCK_ROWS, max(MIN_BLOCK_ROWS, room // per_row)))


# --------------------------------------------------------------------------
# readers: (path, unit label, record batch) in a fixed order
# --------------------------------------------------------------------------


def _wrap(path: str, unit: str, err: Exception) -> StreamError:
    return StreamError(path, unit, f"cannot read ({type(err).__name__}: {err})")


def _parquet_batches(path: str, spec: StreamSpec, rows: int) -> Iterator[tuple[str, Any]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path, buffer_size=PARQUET_READ_BUFFER, memory_map=False,
                            page_checksum_verification=True)
    except Exception as err:  # noqa: BLE001 - pyarrow raises OSError, ArrowInvalid, ...
        raise _wrap(path, "footer", err) from None
    missing = [c for c in spec.columns if c not in pf.schema_arrow.names]
    if missing:
        raise StreamError(path, "schema", f"columns {missing} are missing (the files changed since scan)")
    for rg in range(pf.num_row_groups):
        unit = f"row group {rg}"
        try:
            it = pf.iter_batches(batch_size=rows, row_groups=[rg], columns=spec.columns, use_threads=True)
            for batch in it:
                yield unit, validate(path, batch, "Parquet", where=unit)
        except StreamError:
            raise
        except Exception as err:  # noqa: BLE001
            raise _wrap(path, unit, err) from None


def _ipc_batches(path: str, spec: StreamSpec, rows: int) -> Iterator[tuple[str, Any]]:
    import pyarrow as pa

    try:  # a plain file handle: a memory map of a file truncated while read is a SIGBUS
        src = pa.OSFile(path, "r")
        magic = src.read(6)
        src.seek(0)
    except Exception as err:  # noqa: BLE001
        raise _wrap(path, "header", err) from None
    try:
        try:
            reader = pa.ipc.open_file(src) if magic == b"ARROW1" else pa.ipc.open_stream(src)
        except Exception as err:  # noqa: BLE001
            raise _wrap(path, "header", err) from None
        n = getattr(reader, "num_record_batches", None)
        i = 0
        while True:
            unit = f"record batch {i}"
            try:
                if n is not None:
                    if i >= n:
                        break
                    batch = reader.get_batch(i)
                else:
                    batch = reader.read_next_batch()
                batch.validate(full=True)  # before any kernel reads a buffer
            except StopIteration:
                break
            except Exception as err:  # noqa: BLE001
                raise _wrap(path, unit, err) from None
            names = batch.schema.names
            missing = [c for c in spec.columns if c not in names]
            if missing:
                raise StreamError(path, unit, f"columns {missing} are missing")
            batch = batch.select(spec.columns)
            for off in range(0, batch.num_rows, rows):
                yield unit, batch.slice(off, rows)
            i += 1
    finally:
        src.close()


def _csv_bytes_per_row(path: str) -> float:
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    lines = head.count(b"\n")
    return max(8.0, len(head) / max(1, lines))


_CSV_CONVERSION = re.compile(r"In CSV column #(\d+): CSV conversion error to (\w+): invalid value '(.*)'", re.S)


def _csv_error(path: str, unit: str, err: Exception, spec: StreamSpec) -> StreamError:
    """pyarrow's conversion error as the column's name and value; any other error wrapped."""
    import pyarrow as pa
    import pyarrow.csv as pc

    m = _CSV_CONVERSION.search(str(err))
    if m is None:
        return _wrap(path, unit, err)
    try:  # the column number counts every column of the file: names from the header
        names = pc.open_csv(path, parse_options=pc.ParseOptions(delimiter=spec.csv_delimiter)).schema.names
        name = names[int(m.group(1))]
    except (pa.ArrowException, OSError, IndexError):
        return _wrap(path, unit, err)
    value = m.group(3)[:40]
    if name == spec.target:
        what = f"label column {name!r} holds {value!r}, not of type {m.group(2)} as in the first rows of the file"
    else:
        what = (f"column {name!r} holds {value!r}, which is not a number; scan takes numeric "
                "features and weights: leave the column out of features or encode it first")
    return StreamError(path, unit, what, column=name)


def _csv_batches(path: str, spec: StreamSpec, rows: int) -> Iterator[tuple[str, Any]]:
    import pyarrow as pa
    import pyarrow.csv as pc

    types = {c: pa.float64() for c in spec.features}
    types[spec.target] = spec.target_type
    if spec.weight:
        types[spec.weight] = pa.float64()
    if spec.offset:
        types[spec.offset] = pa.float64()
    block_size = int(min(1 << 30, max(1 << 16, rows * _csv_bytes_per_row(path))))
    try:
        reader = pc.open_csv(
            path,
            read_options=pc.ReadOptions(block_size=block_size),
            parse_options=pc.ParseOptions(delimiter=spec.csv_delimiter),
            convert_options=pc.ConvertOptions(column_types=types, include_columns=spec.columns),
        )
    except Exception as err:  # noqa: BLE001
        unit = "CSV block 0" if _CSV_CONVERSION.search(str(err)) else "CSV header"
        raise _csv_error(path, unit, err, spec) from None
    i = 0
    while True:
        unit = f"CSV block {i} (about rows {i * rows}-{(i + 1) * rows - 1})"
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except Exception as err:  # noqa: BLE001
            raise _csv_error(path, unit, err, spec) from None
        for off in range(0, batch.num_rows, rows):
            yield f"CSV block {i}", batch.slice(off, rows)
        i += 1


_READERS = {"parquet": _parquet_batches, "ipc": _ipc_batches, "csv": _csv_batches}


def iter_record_batches(spec: StreamSpec, rows: int) -> Iterator[tuple[str, str, Any, int]]:
    """``(path, unit, batch, rows before it in its file)`` for every batch, in pass order."""
    read = _READERS[spec.fmt]
    for path in spec.paths:
        before = 0
        for unit, batch in read(path, spec, rows):
            if batch.num_rows:
                yield path, unit, batch, before
                before += batch.num_rows


# --------------------------------------------------------------------------
# record batch -> Block
# --------------------------------------------------------------------------


def _numeric(path: str, unit: str, name: str, col: Any) -> np.ndarray:
    import pyarrow as pa

    t = col.type
    if not (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_boolean(t)):
        raise StreamError(path, unit, f"column {name!r} has type {t}, not a number (the schema changed)")
    return col.to_numpy(zero_copy_only=False)


def _labels_to_numpy(col: Any) -> np.ndarray:
    values = col.to_numpy(zero_copy_only=False)
    return values.astype(str) if values.dtype == object else values


@dataclass
class _Converter:
    """Turns one record batch into a Block (checks every value on the way)."""

    spec: StreamSpec
    classes: np.ndarray
    dtype: np.dtype
    class_multiplier: np.ndarray | None

    def __call__(self, index: int, path: str, unit: str, batch: Any, before: int = 0) -> Block:
        spec = self.spec
        n = batch.num_rows
        X = np.empty((n, len(spec.features)), dtype=self.dtype, order="F")
        for j, name in enumerate(spec.features):
            X[:, j] = _numeric(path, unit, name, batch.column(name))
        if not np.isfinite(X).all():
            bad = ~np.isfinite(X)
            j = int(np.flatnonzero(bad.any(axis=0))[0])
            i = int(np.flatnonzero(bad[:, j])[0])
            raise StreamError(
                path, unit, f"missing or non-finite value in column {spec.features[j]!r} "
                f"at row {before + i + 1} of the file; remove or impute such rows before fitting",
                row=before + i + 1, column=spec.features[j],
            )
        ycol = batch.column(spec.target)
        if ycol.null_count:
            raise StreamError(path, unit, f"label column {spec.target!r} has missing values")
        if ycol.type != spec.target_type:
            raise StreamError(
                path, unit, f"label column {spec.target!r} is {ycol.type} here but "
                f"{spec.target_type} in {spec.paths[0]} (the schema changed)"
            )
        labels = _labels_to_numpy(ycol)
        idx = np.searchsorted(self.classes, labels)
        idx = np.minimum(idx, len(self.classes) - 1)
        unknown = self.classes[idx] != labels
        if unknown.any():
            raise StreamError(
                path, unit, f"label {labels[np.flatnonzero(unknown)[0]]!r} was not in the first "
                "pass over the labels (the files changed since scan)"
            )
        y = idx.astype(np.float64) if len(self.classes) == 2 else idx.astype(np.intp)
        if spec.weight:
            sw = np.asarray(_numeric(path, unit, spec.weight, batch.column(spec.weight)), dtype=np.float64)
            if not (np.isfinite(sw).all() and (sw >= 0).all()):
                raise StreamError(path, unit, f"weight column {spec.weight!r} has a negative or missing value")
        else:
            sw = np.ones(n)
        if self.class_multiplier is not None:
            sw = sw * self.class_multiplier[idx]
        offset = None
        if spec.offset:
            offset = np.asarray(_numeric(path, unit, spec.offset, batch.column(spec.offset)), dtype=np.float64)
            bad = np.flatnonzero(~np.isfinite(offset))
            if bad.size:
                raise StreamError(path, unit, f"missing or non-finite value in offset column "
                                  f"{spec.offset!r} at row {before + int(bad[0]) + 1} of the file; an "
                                  "offset must be a finite number on every row",
                                  row=before + int(bad[0]) + 1, column=spec.offset)
        return Block(index, X, y, sw, offset)


class _Deferred:
    """Per-block state recomputed during the next pass instead of held in memory.

    ``map_blocks`` on a stream cannot keep O(n) state (the Hessian weights
    ``h(1-h)``) without breaking the budget; the state of a block is the
    kernel's output on that block, so it is recomputed when the block is read.
    """

    def __init__(self, kernel: BlockKernel, args: tuple) -> None:
        self.kernel = kernel
        self.args = args

    def __getitem__(self, block: Block) -> Any:
        return self.kernel(block, *self.args)


class StreamBlocks:
    """Blocks read from files on every pass (bounded memory; see the module docstring).

    Parameters
    ----------
    spec : StreamSpec
        Files and columns.
    classes : ndarray
        Sorted labels from the first pass; ``y`` holds indices into it.
    n_samples : int
        Rows in all files (first pass).
    sw_sum : float
        Sum of the sample weights (class multipliers applied).
    dtype : numpy dtype, default float64
        float32 halves the bytes per block; kernels sum in float64.
    rows_per_block : int
        From :func:`rows_for_budget`.
    class_multiplier : ndarray, optional
        Per-class weight factor (``class_weight``).
    verbose : int
        Print rows per second after every pass when positive.
    """

    is_sparse = False

    def __init__(
        self,
        spec: StreamSpec,
        classes: np.ndarray,
        n_samples: int,
        sw_sum: float,
        *,
        rows_per_block: int,
        dtype: Any = np.float64,
        class_multiplier: np.ndarray | None = None,
        verbose: int = 0,
    ) -> None:
        self.spec = spec
        self.has_offset = spec.offset is not None
        self.offset_name = spec.offset
        self.classes = classes
        self.n_samples = int(n_samples)
        self.n_features = len(spec.features)
        self.dtype = np.dtype(dtype)
        self.sw_sum = float(sw_sum)
        self.rows_per_block = int(rows_per_block)
        self.verbose = verbose
        self._convert = _Converter(spec, classes, self.dtype, class_multiplier)
        self.passes: list[tuple[int, float]] = []  # (rows, seconds) of every pass

    def iter_blocks(self) -> Iterator[Block]:
        """The blocks of one pass, the next one decoded by a reader thread while this one is used."""
        source = iter_record_batches(self.spec, self.rows_per_block)
        end = object()

        def produce(i: int) -> Any:
            item = next(source, end)
            return item if item is end else self._convert(i, *item)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="logitfit-stream") as pool:
            i = 0
            ahead = pool.submit(produce, i)
            while True:
                block = ahead.result()
                if block is end:
                    return
                i += 1
                ahead = pool.submit(produce, i)
                yield block
                del block

    def _pass(self, fn) -> Any:
        t0 = time.perf_counter()
        rows = 0
        acc: list[np.ndarray] | None = None
        for block in self.iter_blocks():
            part = fn(block)
            rows += len(block.sw)
            if acc is None:
                acc = [np.array(v, dtype=np.float64, copy=True) for v in part]
            else:
                for a, v in zip(acc, part, strict=True):
                    a += v
        seconds = time.perf_counter() - t0
        self.passes.append((rows, seconds))
        if self.verbose:
            rate = rows / seconds if seconds > 0 else float("inf")
            print(
                f"[stream] pass {len(self.passes)}: {rows:,} rows in {seconds:.2f} s ({rate:,.0f} rows/s)",
                file=sys.stderr,
            )
        if rows != self.n_samples:
            raise StreamError(
                self.spec.paths[-1], "end of pass",
                f"read {rows:,} rows but the first pass counted {self.n_samples:,} (the files changed)",
            )
        return tuple(acc) if acc is not None else ()

    def map_reduce(self, kernel: BlockKernel, *args: Any, state: Sequence | _Deferred | None = None) -> tuple:
        """One pass: the running sum of ``kernel(block, *args[, state_i])`` in file order."""
        if state is None:
            return self._pass(lambda b: kernel(b, *args))
        if isinstance(state, _Deferred):
            return self._pass(lambda b: kernel(b, *args, state[b]))
        return self._pass(lambda b: kernel(b, *args, state[b.index]))

    def map_blocks(self, kernel: BlockKernel, *args: Any) -> _Deferred:
        """Deferred per-block state: recomputed from each block in the pass that uses it."""
        return _Deferred(kernel, args)

    def __repr__(self) -> str:
        files = len(self.spec.paths)
        return (
            f"StreamBlocks({self.n_samples:,} rows x {self.n_features} features from {files} "
            f"{self.spec.fmt} file{'s' * (files != 1)}, {self.rows_per_block:,} rows per block)"
        )


def file_size(paths: Sequence[str]) -> int:
    """Bytes on disk of all files (for the CLI's automatic streaming rule)."""
    return sum(os.path.getsize(p) for p in paths)
