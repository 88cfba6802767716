"""Plain table columns to a numeric design matrix: the encoding a model file stores.

A fitted model sees numbers; a data file or DataFrame holds columns of numbers
and of strings. :class:`ColumnEncoder` remembers how each feature column
became design columns, so new data are encoded exactly as the training data:

* a numeric (integer, float, boolean) column is one design column, as float64;
* a string column is categorical, treatment (dummy) coded: one 0/1 column per
  level except the first level, the reference, named ``column[T.level]`` as
  patsy and formulaic name them. Levels are sorted, except that a categorical
  (dictionary) column keeps its categories in their declared order;
* a LIBSVM file is already a sparse design matrix: the encoder records the
  number of features and whether indices start at 0.

The encoder is plain data (``to_dict`` / ``from_dict``): a model file never
holds code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from logitfit._memory import check_memory, dense_bytes
from logitfit.data.arrow_input import check_finite, check_schema, column_kind, to_numpy
from logitfit.data.validation import as_arrow, check_no_missing, level_codes
from logitfit.exceptions import DataError

__all__ = ["Column", "ColumnEncoder", "Encoder", "target_values"]

#: A string column whose values parse as numbers this often (and not always)
#: is a numeric column with a typo, not a categorical one: report the first
#: value that does not parse instead of making hundreds of dummy columns.
NUMERIC_LIKE_FRACTION = 0.9
#: A string column with more distinct values than this fraction of its rows
#: (and more than MIN_LEVELS_CHECK) is an identifier: one dummy per row would
#: make the fit singular and slow.
MAX_LEVELS_FRACTION = 0.5
MIN_LEVELS_CHECK = 20
#: Most classes a target may have unless the caller raises the limit: a
#: softmax over more is almost always a mistaken column (an id, a date).
MAX_CLASSES = 1000


@dataclass(frozen=True)
class Column:
    """How one input column becomes design columns.

    Attributes
    ----------
    name : str
        The column name in the data file.
    kind : {"numeric", "categorical"}
    levels : tuple of str
        Categorical levels in coding order; ``levels[0]`` is the reference
        level (no design column).
    """

    name: str
    kind: Literal["numeric", "categorical"]
    levels: tuple[str, ...] = ()

    @property
    def design_names(self) -> list[str]:
        if self.kind == "numeric":
            return [self.name]
        return [f"{self.name}[T.{lev}]" for lev in self.levels[1:]]


@dataclass(frozen=True)
class ColumnEncoder:
    """Plain columns to the design matrix: numbers as they are, strings treatment coded.

    One of the two implementations of :class:`logitfit.data.encoding.TableEncoder`
    (the other is :class:`logitfit.data.formula.FormulaEncoder`).

    Attributes
    ----------
    kind : {"table", "libsvm"}
    columns : tuple of Column
        The feature columns, in design order (``kind == "table"``).
    n_features : int
        Number of design columns.
    zero_based : bool
        LIBSVM only: feature indices start at 0.
    """

    kind: Literal["table", "libsvm"]
    columns: tuple[Column, ...] = ()
    n_features: int = 0
    zero_based: bool = False

    # -- construction -----------------------------------------------------------

    @classmethod
    def fit(cls, table: Any, features: Sequence[str] | None = None, *, path: str = "<data>",
            categorical: Sequence[str] = ()) -> ColumnEncoder:
        """Decide the encoding of ``features`` from a table (pyarrow, pandas or polars).

        Parameters
        ----------
        table : pyarrow.Table, pandas.DataFrame or polars.DataFrame
        features : sequence of str, optional
            Feature columns, in order (default: every column).
        path : str
            Used in error messages.
        categorical : sequence of str
            Columns to treat as categorical even when numeric.

        Raises
        ------
        DataError
            A string column that is mostly numbers (names the first bad row), an
            identifier-like string column, or a column of an unsupported type.
        """
        table = as_arrow(table)
        features = list(table.schema.names) if features is None else list(features)
        cols = [_fit_column(table.column(name), name, path, name in categorical)
                for name in features]
        n = sum(len(c.design_names) for c in cols)
        return cls("table", tuple(cols), n)

    @classmethod
    def numeric(cls, names: Sequence[str]) -> ColumnEncoder:
        """The encoder of numeric columns ``names``, one design column each."""
        return cls("table", tuple(Column(str(n), "numeric") for n in names), len(names))

    @classmethod
    def libsvm(cls, n_features: int, zero_based: bool) -> ColumnEncoder:
        """The encoder of a LIBSVM data set with ``n_features`` feature columns."""
        return cls("libsvm", (), int(n_features), bool(zero_based))

    # -- description ------------------------------------------------------------

    @property
    def feature_names(self) -> list[str]:
        """Design column names: ``col`` or ``col[T.level]``; ``x1``.. for LIBSVM."""
        if self.kind == "libsvm":
            start = 0 if self.zero_based else 1
            return [f"x{j + start}" for j in range(self.n_features)]
        return [n for c in self.columns for n in c.design_names]

    @property
    def input_columns(self) -> list[str]:
        """The data-file columns the encoder reads."""
        return [c.name for c in self.columns]

    def terms(self) -> list[tuple[str, list[int], frozenset[str]]]:
        """``(column, its design column indices, {column})`` per input column (one term each)."""
        out, j = [], 0
        for c in self.columns:
            k = len(c.design_names)
            out.append((c.name, list(range(j, j + k)), frozenset([c.name])))
            j += k
        return out

    def column_types(self) -> dict[str, Any]:
        """pyarrow types to read the input columns with (float64 / string)."""
        import pyarrow as pa

        return {c.name: pa.float64() if c.kind == "numeric" else pa.string() for c in self.columns}

    # -- encoding ---------------------------------------------------------------

    def transform(self, data: Any, *, path: str = "<data>", row_offset: int = 0) -> np.ndarray:
        """Encode a table (pyarrow Table/RecordBatch, pandas or polars) to the design matrix.

        Parameters
        ----------
        data : table
        path : str
            Used in error messages.
        row_offset : int
            Rows before this batch in the file, so errors name the file row.

        Returns
        -------
        ndarray, shape (n_rows, n_features), float64, C order

        Raises
        ------
        DataError
            A missing column or value, a non-numeric or non-finite value in a
            numeric column, or a categorical level not seen in training.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.kind != "table":
            raise TypeError("a LIBSVM encoder has no table transform")
        data = as_arrow(data, self.input_columns)
        check_memory(dense_bytes(data.num_rows, self.n_features), "the design matrix", path=path,
                     hint="select fewer columns (--features) or fit by streaming (--memory-limit)")
        out = np.zeros((data.num_rows, self.n_features), dtype=np.float64)
        j = 0
        for c in self.columns:
            if c.name not in data.schema.names:
                raise DataError(path, "missing column (the model uses it)", column=c.name)
            col = data.column(c.name)
            check_no_missing(col, path, c.name, row_offset)
            if c.kind == "categorical":
                code = level_codes(pc.cast(col, pa.string()) if not pa.types.is_dictionary(col.type)
                                   else col, list(c.levels), path, c.name, row_offset)
                rows = np.flatnonzero(code > 0)
                out[rows, j + code[rows] - 1] = 1.0
                j += len(c.levels) - 1
                continue
            kind = column_kind(col.type)
            if kind != "numeric":
                bad = _first_non_numeric(col) if kind == "string" else (0, f"<{col.type}>")
                if bad is not None:
                    raise DataError(path, f"non-numeric value {bad[1]!r} in a numeric column",
                                    row=row_offset + bad[0] + 1, column=c.name)
            values = pc.cast(col, pa.float64())
            check_finite(path, pa.Table.from_arrays([values], [c.name]), row_offset=row_offset)
            out[:, j] = to_numpy(values)
            j += 1
        return out

    # -- serialisation ----------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return {
            "kind": self.kind,
            "n_features": self.n_features,
            "zero_based": self.zero_based,
            "columns": [
                {"name": c.name, "kind": c.kind, "levels": list(c.levels)} for c in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnEncoder:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on malformed input."""
        if not isinstance(d, dict) or d.get("kind") not in ("table", "libsvm"):
            raise ValueError("encoding.kind must be 'table' or 'libsvm'")
        cols = []
        for c in d.get("columns", []):
            if (not isinstance(c, dict) or not isinstance(c.get("name"), str)
                    or c.get("kind") not in ("numeric", "categorical")
                    or not isinstance(c.get("levels"), list)
                    or not all(isinstance(v, str) for v in c["levels"])):
                raise ValueError(f"encoding.columns has a malformed entry: {c!r}")
            cols.append(Column(c["name"], c["kind"], tuple(c["levels"])))
        n = d.get("n_features")
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValueError("encoding.n_features must be a non-negative integer")
        if not isinstance(d.get("zero_based"), bool):
            raise ValueError("encoding.zero_based must be true or false")
        enc = cls(d["kind"], tuple(cols), n, d["zero_based"])
        if enc.kind == "table" and len(enc.feature_names) != n:
            raise ValueError("encoding.n_features does not match its columns")
        return enc


#: The name the command line and model files used before there were two encoders.
Encoder = ColumnEncoder


def _fit_column(col: Any, name: str, path: str, categorical: bool) -> Column:
    """How one table column becomes design columns (see the module docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    typ = col.type
    declared: list[str] | None = None
    if pa.types.is_dictionary(typ):  # a categorical: its categories in their declared order
        dictionaries = [chunk.dictionary for chunk in col.chunks]
        if dictionaries and all(d.equals(dictionaries[0]) for d in dictionaries):
            declared = pc.cast(dictionaries[0], pa.string()).to_pylist()
        col = col.cast(typ.value_type)
        typ = col.type
    kind = column_kind(typ)
    if kind == "numeric" and not categorical and declared is None:
        return Column(name, "numeric")
    if kind == "null":
        raise DataError(path, "the column is empty (every value missing)", column=name)
    if kind is None:
        check_schema(path, pa.schema([(name, typ)]))  # names the type and the fix
    strings = pc.cast(col, pa.string()).to_pylist()
    if declared is None:
        _check_not_numeric_typo(path, name, strings)
    levels = declared if declared is not None else sorted({s for s in strings if s is not None})
    if len(levels) > MAX_LEVELS_FRACTION * len(strings) and len(levels) > MIN_LEVELS_CHECK:
        raise DataError(path, f"string column with {len(levels)} distinct values in "
                        f"{len(strings)} rows looks like an identifier, not a category; "
                        "leave it out of the features (--features on the command line)",
                        column=name)
    return Column(name, "categorical", tuple(levels))


def _first_non_numeric(col: Any) -> tuple[int, str] | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, v in enumerate(pc.cast(col, pa.string()).to_pylist()):
        if v is None:
            continue
        try:
            float(v)
        except ValueError:
            return i, v
    return None


def _check_not_numeric_typo(path: str, name: str, strings: list[str | None]) -> None:
    present = [s for s in strings if s is not None]
    if not present:
        return
    bad_at = None
    n_num = 0
    for i, s in enumerate(strings):
        if s is None:
            continue
        try:
            float(s)
            n_num += 1
        except ValueError:
            if bad_at is None:
                bad_at = i
    if bad_at is not None and n_num >= NUMERIC_LIKE_FRACTION * len(present):
        raise DataError(path, f"non-numeric value {strings[bad_at]!r} in a numeric column",
                        row=bad_at + 1, column=name)


def target_values(table: Any, target: str, *, path: str = "<data>",
                  max_classes: int = MAX_CLASSES) -> np.ndarray:
    """The target column as a numpy array of class labels (no missing values).

    Integer, boolean and whole-number float targets keep their type (floats
    become int64); strings stay strings. Checked before any fit is built.

    Parameters
    ----------
    max_classes : int, default :data:`MAX_CLASSES`
        Refuse a target with more distinct values than this.

    Raises
    ------
    DataError
        A missing target value (names the row); a target that is not class
        labels (a date, decimal, nested or binary column, a fraction or a
        non-finite number); more than ``max_classes`` classes.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    col = table.column(target)
    typ = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
    if not (pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_boolean(typ)
            or pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        raise DataError(path, f"the target has type {str(typ)[:80]}; a target holds class labels "
                        "(integers, booleans or strings)", column=target)
    if col.null_count:
        i = pc.index(pc.is_null(col), True).as_py()
        raise DataError(path, "missing value in the target column", row=i + 1, column=target)
    if typ != col.type:
        col = col.cast(typ)
    if pa.types.is_integer(typ):
        y = to_numpy(col).astype(np.int64)
    elif pa.types.is_floating(typ):
        y = to_numpy(col).astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)) | (np.abs(y) >= 2**53))
        if bad.size:
            i = int(bad[0])
            raise DataError(path, f"target value {float(y[i])!r} is not a class label; a target "
                            "holds classes (integers, booleans or strings), not measurements",
                            row=i + 1, column=target)
        y = y.astype(np.int64)
    elif pa.types.is_boolean(typ):
        y = to_numpy(col).astype(bool)
    else:
        y = np.asarray(col.to_pylist(), dtype=str)
    n_classes = len(np.unique(y))
    if n_classes > max_classes:
        raise DataError(path, f"the target has {n_classes:,} distinct values, more than the limit "
                        f"of {max_classes:,} classes; if they are classes, raise the limit "
                        "(max_classes, or --max-classes on the command line)", column=target)
    return y
