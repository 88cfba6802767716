"""``logitfit.scan`` (defined here): a data set on disk that is fitted by streaming, in bounded memory.

::

    ds = logitfit.scan("data/*.parquet", target="y", memory_limit="1GB")
    model = LogisticRegression().fit(ds)

``scan`` reads only file metadata (Parquet footers, Arrow IPC schemas, CSV
headers) and checks that every file has the same columns. The first time the
data set is used it makes one pass over the label (and weight) column to find
the classes, the row count and the sum of the weights; every objective
evaluation is then one pass over the files (:mod:`logitfit.blocks.stream`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from logitfit.blocks.stream import (
    DEFAULT_MEMORY_LIMIT,
    StreamBlocks,
    StreamError,
    StreamSpec,
    file_size,
    rows_for_budget,
)
from logitfit.data.arrow_input import check_schema, column_kind
from logitfit.data.columns import MAX_CLASSES
from logitfit.data.validation import check_two_classes, class_multipliers
from logitfit.exceptions import DataError
from logitfit.io.files import compression_of, detect_format, resolve_paths

__all__ = ["ScanDataset", "scan", "parse_bytes", "in_memory_bytes", "should_stream"]

#: io's format names (:func:`logitfit.io.files.detect_format`) to the stream readers'.
_SCAN_FORMAT = {"csv": "csv", "tsv": "csv", "parquet": "parquet", "feather": "ipc"}
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_bytes(value: int | str) -> int:
    """``1_000_000``, ``"500MB"``, ``"1 GiB"`` -> bytes."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    m = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(value))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"cannot read {value!r} as a size; write e.g. 500MB, 1GB or 2GiB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _format(paths: list[str], fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in ("parquet", "csv", "ipc"):
            raise ValueError(f"format must be 'parquet', 'csv' or 'ipc', got {fmt!r}")
        return fmt
    kinds = {}
    for p in paths:
        found = detect_format(p)
        if found not in _SCAN_FORMAT:
            raise DataError(p, f"a {found} file cannot be scanned; use Parquet, CSV or Arrow IPC")
        kinds[p] = _SCAN_FORMAT[found]
    if len(set(kinds.values())) > 1:
        raise ValueError(f"the files mix formats ({sorted(set(kinds.values()))}); scan one format at a time")
    return next(iter(kinds.values()))


def file_schema(path: str, fmt: str, delimiter: str = ",") -> Any:
    """The pyarrow schema of one file (``fmt`` one of parquet, ipc, csv), read without its rows."""
    import pyarrow as pa
    import pyarrow.csv as pc
    import pyarrow.parquet as pq

    try:
        if fmt == "parquet":
            schema = pq.read_schema(path, memory_map=False)
        elif fmt == "ipc":
            with pa.OSFile(path, "r") as src:
                file_format = src.read(6) == b"ARROW1"
                src.seek(0)
                reader = pa.ipc.open_file(src) if file_format else pa.ipc.open_stream(src)
                schema = reader.schema
        else:
            with pa.input_stream(path, compression=compression_of(path)) as src:
                schema = pc.open_csv(src, parse_options=pc.ParseOptions(delimiter=delimiter)).schema
    except Exception as err:  # noqa: BLE001 - untrusted bytes: any reader failure is the file's
        raise StreamError(path, "schema", f"cannot read ({type(err).__name__}: {err})") from None
    check_schema(path, schema, [])  # duplicate names; the columns used are checked by scan
    return schema


def _numeric_or_unknown(schema: Any, name: str, fmt: str) -> bool:
    """A numeric column; for CSV (types inferred from the first block) also one empty there."""
    kind = column_kind(schema.field(name).type)
    return kind == "numeric" or (fmt == "csv" and kind == "null")


class ScanDataset:
    """Files to be fitted by streaming; see :func:`scan`.

    Attributes
    ----------
    paths : tuple of str
    format : str
    feature_names : ndarray of str
    target, weight : str, str or None
    memory_limit : int, bytes
    n_samples, classes, sw_sum, class_counts : from the first pass (computed on first use)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> import pandas as pd
    >>> from logitfit import scan
    >>> pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y}).to_csv("rows.csv", index=False)
    >>> data = scan("rows.csv", target="y")
    >>> list(data.feature_names), data.n_samples, data.classes.tolist()
    (['a', 'b'], 200, [0, 1])
    """

    def __init__(self, spec: StreamSpec, memory_limit: int, max_classes: int = MAX_CLASSES) -> None:
        self.spec = spec
        self.memory_limit = int(memory_limit)
        self.max_classes = int(max_classes)
        self._first: tuple[np.ndarray, np.ndarray, int] | None = None

    paths = property(lambda self: self.spec.paths)
    format = property(lambda self: self.spec.fmt)
    target = property(lambda self: self.spec.target)
    weight = property(lambda self: self.spec.weight)
    feature_names = property(lambda self: np.array(self.spec.features, dtype=object))
    n_features = property(lambda self: len(self.spec.features))

    @property
    def nbytes_on_disk(self) -> int:
        return file_size(self.spec.paths)

    def _first_pass(self) -> tuple[np.ndarray, np.ndarray, int]:
        """One pass over the label (and weight) column: classes, weighted class counts, rows."""
        if self._first is not None:
            return self._first
        labels_spec = StreamSpec(
            paths=self.spec.paths, fmt=self.spec.fmt, features=(), target=self.spec.target,
            weight=self.spec.weight, target_type=self.spec.target_type,
            csv_delimiter=self.spec.csv_delimiter,
        )
        from logitfit.blocks.stream import _labels_to_numpy, iter_record_batches

        counts: dict[Any, float] = {}
        n = 0
        for path, unit, batch, before in iter_record_batches(labels_spec, 1 << 20):
            col = batch.column(self.spec.target)
            if col.null_count:
                raise StreamError(path, unit, f"label column {self.spec.target!r} has missing values")
            labels = _labels_to_numpy(col)
            if self.spec.weight:
                sw = np.asarray(batch.column(self.spec.weight).to_numpy(zero_copy_only=False), float)
                if not (np.isfinite(sw).all() and (sw >= 0).all()):
                    raise StreamError(path, unit, f"weight column {self.spec.weight!r} has a negative or missing value")
            else:
                sw = np.ones(len(labels))
            self._check_labels(path, labels, before)
            u, inv = np.unique(labels, return_inverse=True)
            for lab, w in zip(u.tolist(), np.bincount(inv, weights=sw, minlength=len(u)), strict=True):
                counts[lab] = counts.get(lab, 0.0) + float(w)
            if len(counts) > self.max_classes:
                raise DataError(path, f"the target has more than {self.max_classes:,} distinct "
                                "values; if they are classes, raise the limit (scan(..., "
                                "max_classes=...), or --max-classes on the command line)",
                                column=self.spec.target)
            n += len(labels)
        classes = np.array(sorted(counts))
        check_two_classes(classes, repr(self.spec.target))
        weights = np.array([counts[c] for c in classes.tolist()])
        if not weights.sum() > 0:
            raise ValueError("the sample weights are zero for every row: nothing to fit")
        self._first = (classes, weights, n)
        return self._first

    def _check_labels(self, path: str, labels: np.ndarray, rows_before: int) -> None:
        """Float labels must be whole, finite numbers (class labels, not measurements)."""
        if labels.dtype.kind != "f":
            return
        bad = np.flatnonzero(~np.isfinite(labels) | (labels != np.round(labels)))
        if bad.size:
            i = int(bad[0])
            raise DataError(path, f"target value {float(labels[i])!r} is not a class label; a "
                            "target holds classes (integers, booleans or strings), not "
                            "measurements", row=rows_before + i + 1, column=self.spec.target)

    @property
    def classes(self) -> np.ndarray:
        return self._first_pass()[0]

    @property
    def class_counts(self) -> np.ndarray:
        """Weighted count of each class (sum of weights of its rows)."""
        return self._first_pass()[1]

    @property
    def n_samples(self) -> int:
        return self._first_pass()[2]

    def blocks(
        self,
        *,
        n_params: int | None = None,
        dtype: Any = None,
        class_weight: dict | str | None = None,
        verbose: int = 0,
    ) -> StreamBlocks:
        """The :class:`StreamBlocks` of this data set, sized to ``memory_limit``.

        ``n_params`` (default: binary model with intercept) reserves room for the Hessian.
        """
        classes, counts, n = self._first_pass()
        mult = class_multipliers(class_weight, classes, counts)
        sw_sum = float(counts @ mult) if mult is not None else float(counts.sum())
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        p = self.n_features
        q = (p + 1) * (1 if len(classes) == 2 else len(classes))
        rows = rows_for_budget(p, n_params or q, self.memory_limit, dtype.itemsize)
        return StreamBlocks(
            self.spec, classes, n, sw_sum, rows_per_block=rows, dtype=dtype,
            class_multiplier=mult, verbose=verbose,
        )

    def _logitfit_blocks(self, estimator: Any, y: Any, sample_weight: Any) -> tuple[StreamBlocks, np.ndarray]:
        """The estimator's hook: blocks and classes for ``LogisticRegression.fit(dataset)``."""
        if y is not None or sample_weight is not None:
            raise ValueError(
                "a scanned data set carries its own labels (target=) and weights (weight=); "
                "call fit(dataset) without y or sample_weight"
            )
        if getattr(estimator, "solver", None) == "sgd":
            raise ValueError(
                "solver='sgd' draws random mini-batches of rows, which a stream cannot give; "
                "use 'newton' (up to a few thousand features) or 'lbfgs'"
            )
        classes = self.classes
        if self.spec.offset is not None and len(classes) > 2:
            raise ValueError(f"an offset column ({self.spec.offset!r}) gives one number per row, which "
                             f"cancels in the softmax of {len(classes)} classes: offsets of a "
                             "multinomial model take an (n, K) array in memory")
        K = 1 if len(classes) == 2 else len(classes)
        n_params = (self.n_features + int(getattr(estimator, "fit_intercept", True))) * K
        blocks = self.blocks(
            n_params=n_params,
            dtype=getattr(estimator, "dtype", None),
            class_weight=getattr(estimator, "class_weight", None),
            verbose=getattr(estimator, "verbose", 0),
        )
        estimator.n_features_in_ = self.n_features
        estimator.feature_names_in_ = self.feature_names
        return blocks, classes

    def __repr__(self) -> str:
        n = len(self.spec.paths)
        return (
            f"ScanDataset({n} {self.spec.fmt} file{'s' * (n != 1)}, target={self.spec.target!r}, "
            f"{self.n_features} features, memory_limit={self.memory_limit:,} bytes)"
        )


def scan(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    target: str,
    features: Sequence[str] | None = None,
    *,
    weight: str | None = None,
    offset: str | None = None,
    memory_limit: int | str = DEFAULT_MEMORY_LIMIT,
    format: str | None = None,  # noqa: A002 - the word users know
    delimiter: str = ",",
    max_classes: int = MAX_CLASSES,
) -> ScanDataset:
    """Point at files to fit by streaming: a file, a glob, a directory, or a list of them.

    Parameters
    ----------
    source : path, glob pattern, directory or list of these
        Parquet (``.parquet``/``.pq``), CSV (``.csv``/``.tsv``/``.txt``) or
        Arrow IPC / Feather (``.arrow``/``.feather``/``.ipc``) files, read in
        sorted path order.
    target : str
        The label column (any type: numbers, strings, booleans).
    features : sequence of str, optional
        Feature columns in model order; default: every numeric column except
        ``target`` and ``weight``.
    weight : str, optional
        A column of non-negative sample weights.
    offset : str, optional
        A column of offsets, known terms added to the linear predictor
        (``z = X w + b + offset``; binary models). The fitted model records it and
        needs it to predict.
    memory_limit : int or str, default 1 GiB
        Budget for the fit's working memory; the rows per block follow from it
        (:func:`logitfit.blocks.stream.rows_for_budget`).
    format : {"parquet", "csv", "ipc"}, optional
        Override detection from the file extension.
    delimiter : str, default ","
        CSV field separator.
    max_classes : int, default 1000
        Refuse a target with more distinct values (almost always a wrong column).

    Returns
    -------
    ScanDataset
        Pass it to ``LogisticRegression().fit``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> import pandas as pd
    >>> from logitfit import LogisticRegression, scan
    >>> pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y}).to_parquet("rows.parquet")
    >>> data = scan("rows.parquet", target="y")
    >>> model = LogisticRegression().fit(data)
    >>> np.allclose(model.coef_, LogisticRegression().fit(X, y).coef_, atol=1e-6)
    True
    """
    paths = resolve_paths(source)
    fmt = _format(paths, format)
    limit = parse_bytes(memory_limit)
    first = file_schema(paths[0], fmt, delimiter)
    if target not in first.names:
        raise ValueError(f"{paths[0]}: no column {target!r}; columns are {first.names}")
    if column_kind(first.field(target).type) not in ("numeric", "string"):
        raise DataError(paths[0], f"the target has type {first.field(target).type}; a target "
                        "holds class labels (integers, booleans or strings)", column=target)
    if weight is not None and weight not in first.names:
        raise ValueError(f"{paths[0]}: no weight column {weight!r}; columns are {first.names}")
    if offset is not None and offset not in first.names:
        raise ValueError(f"{paths[0]}: no offset column {offset!r}; columns are {first.names}")
    if features is None:
        features = [n for n in first.names
                    if n not in (target, weight, offset) and _numeric_or_unknown(first, n, fmt)]
    elif offset is not None and offset in features:
        raise ValueError(f"the offset column {offset!r} cannot also be a feature")
    features = tuple(features)
    if not features:
        raise ValueError(f"{paths[0]}: no numeric feature columns besides {target!r}")
    for path in paths:
        schema = first if path == paths[0] else file_schema(path, fmt, delimiter)
        missing = [c for c in (*features, target, weight, offset) if c is not None and c not in schema.names]
        if missing:
            raise StreamError(path, "schema", f"columns {missing} are missing (present in {paths[0]})")
        bad = [f"{c!r} ({schema.field(c).type})" for c in features if not _numeric_or_unknown(schema, c, fmt)]
        if bad:
            raise StreamError(path, "schema", f"feature columns are not numeric: {', '.join(bad)}; "
                              "scan takes numeric features: leave these out of features or encode them first")
        if fmt != "csv":
            if schema.field(target).type != first.field(target).type:
                raise StreamError(
                    path, "schema", f"label column {target!r} is {schema.field(target).type} "
                    f"here but {first.field(target).type} in {paths[0]}"
                )
    spec = StreamSpec(
        paths=tuple(paths), fmt=fmt, features=features, target=target, weight=weight,
        target_type=first.field(target).type, csv_delimiter=delimiter, offset=offset,
    )
    return ScanDataset(spec, limit, max_classes)


def in_memory_bytes(source: str | os.PathLike | Sequence[str | os.PathLike], n_columns: int | None = None) -> int:
    """Estimated bytes of the float64 design matrix of ``source`` if read into memory.

    Parquet and Arrow IPC: rows (from metadata) x numeric columns x 8.
    CSV: the file size (a decimal text number takes about as many bytes as
    its float64). The CLI streams when this exceeds the memory budget.
    """

    paths = resolve_paths(source)
    fmt = _format(paths, None)
    if fmt == "csv":
        return file_size(paths)
    total = 0
    for path in paths:
        schema = file_schema(path, fmt, ",")
        cols = n_columns or sum(_numeric_or_unknown(schema, f.name, fmt) for f in schema)
        total += _row_count(path, fmt) * cols * 8
    return total


def _row_count(path: str, fmt: str) -> int:
    """Rows of a Parquet or Arrow IPC file from its metadata (IPC streams: batch headers)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if fmt == "parquet":
            return pq.ParquetFile(path, memory_map=False).metadata.num_rows
        with pa.OSFile(path, "r") as src:
            if src.read(6) == b"ARROW1":
                src.seek(0)
                return pa.ipc.open_file(src).count_rows()
            src.seek(0)
            return sum(b.num_rows for b in pa.ipc.open_stream(src))  # counted, never computed on
    except Exception as err:  # noqa: BLE001 - untrusted bytes: any reader failure is the file's
        raise StreamError(path, "footer", f"cannot read ({type(err).__name__}: {err})") from None


def should_stream(source: str | os.PathLike | Sequence[str | os.PathLike],
                  memory_limit: int | str = DEFAULT_MEMORY_LIMIT) -> bool:
    """True when ``source`` would not fit the memory budget in memory: fit it with :func:`scan`."""
    return in_memory_bytes(source) > parse_bytes(memory_limit)
