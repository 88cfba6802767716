"""The encoder protocol: how a table becomes a design matrix, one way everywhere.

A table (a data file read by pyarrow, a pandas or polars DataFrame) becomes the
float64 design matrix a model sees through a :class:`TableEncoder`. There are
exactly two implementations:

* :class:`logitfit.data.columns.ColumnEncoder`: plain columns, numbers as
  they are and strings treatment coded (also the LIBSVM record, ``kind ==
  "libsvm"``, which has no table transform);
* :class:`logitfit.data.formula.FormulaEncoder`: a formula's right-hand side.

One naming rule holds for both: a string column ``city`` gives the design
columns ``city[T.<level>]`` for every level but the reference; ``C(city)``
in a formula gives ``C(city)[T.<level>]``. ``fit(DataFrame)``,
``from_formula``, ``LogisticRegressionCV``, the command line and model files
all go through this protocol; :func:`encoder_from_dict` rebuilds either kind
from a model file.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from logitfit.data.columns import ColumnEncoder
from logitfit.data.formula import FormulaEncoder

__all__ = ["ColumnEncoder", "FormulaEncoder", "TableEncoder", "encode_for_fit",
           "encode_for_predict", "encoder_from_dict", "is_table", "set_encoder"]


@runtime_checkable
class TableEncoder(Protocol):
    """What every encoder offers (plain data: ``to_dict`` holds no code).

    Attributes
    ----------
    kind : str
        "table" (plain columns), "libsvm" or "formula": the model file's ``encoding.kind``.
    input_columns : list of str
        The table columns it reads.
    feature_names : list of str
        Design column names, in design order.
    n_features : int
        Number of design columns.
    """

    kind: str

    @property
    def input_columns(self) -> list[str]: ...

    @property
    def feature_names(self) -> list[str]: ...

    @property
    def n_features(self) -> int: ...

    def column_types(self) -> dict[str, Any]:
        """pyarrow types to read the input columns of a data file with."""

    def transform(self, data: Any, *, path: str = "<data>", row_offset: int = 0) -> np.ndarray:
        """The float64 design matrix (n_rows, n_features) of a table.

        Raises :class:`~logitfit.exceptions.DataError` naming ``path``, the row
        (``row_offset + i + 1``) and the column for a missing column or value,
        a non-finite number or a level not seen in training.
        """

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; ``from_dict`` of the same class inverts it."""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TableEncoder:
        """Rebuild from :meth:`to_dict`; ``ValueError`` when ``d`` is malformed."""


def encoder_from_dict(d: Any) -> ColumnEncoder | FormulaEncoder:
    """The encoder a model file's ``encoding`` object describes (by its ``kind``).

    Raises ``ValueError`` naming what is malformed; a stored formula is checked
    by the restricted reader before anything evaluates it.
    """
    if not isinstance(d, dict):
        raise ValueError("encoding must be an object")
    if d.get("kind") == "formula":
        return FormulaEncoder.from_dict(d)
    return ColumnEncoder.from_dict(d)


def is_table(X: Any) -> bool:
    """True for a pandas or polars DataFrame or a pyarrow Table / RecordBatch."""
    if hasattr(X, "iloc"):
        return getattr(X, "ndim", 2) == 2
    module = type(X).__module__.split(".")[0]
    return module in ("polars", "pyarrow") and hasattr(X, "schema") and hasattr(X, "columns")


def _has_non_numeric_columns(X: Any) -> bool:
    if hasattr(X, "iloc"):
        return any(getattr(dt, "kind", "O") not in "biuf" for dt in X.dtypes)
    if hasattr(X, "to_arrow"):  # polars
        return any(not (dt.is_numeric() or str(dt) == "Boolean") for dt in X.schema.values())
    import pyarrow as pa

    return not all(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
                   for t in X.schema.types)


def encode_for_fit(X: Any) -> tuple[Any, ColumnEncoder | None]:
    """(design matrix, encoder) for a table with non-numeric columns; (X, None) otherwise.

    Numeric-only tables stay as they are (scikit-learn's validation keeps their
    names); a string or categorical column is treatment coded
    (``city[T.Oslo]``) by a :class:`ColumnEncoder` fitted on ``X``.
    """
    if not is_table(X) or not _has_non_numeric_columns(X):
        return X, None
    encoder = ColumnEncoder.fit(X)
    return encoder.transform(X), encoder


def set_encoder(estimator: Any, encoder: TableEncoder | None) -> None:
    """Record the encoder a fit used (``encoder_``) and its design names (``feature_names_in_``)."""
    estimator.__dict__.pop("encoder_", None)
    if encoder is not None:
        estimator.encoder_ = encoder
        estimator.feature_names_in_ = np.asarray(encoder.feature_names, dtype=object)


def encode_for_predict(estimator: Any, X: Any) -> np.ndarray | None:
    """The design matrix of ``X`` through ``estimator.encoder_``; None when X needs no encoding.

    A table goes through the encoder, unless its columns are the design
    columns by name (it is encoded already). An array is a design matrix,
    accepted only when the encoder's design columns are its input columns
    (plain numbers): an array cannot be encoded by name.
    """
    encoder = getattr(estimator, "encoder_", None)
    if encoder is None or getattr(encoder, "kind", None) == "libsvm":
        return None
    if is_table(X):
        names = X.schema.names if type(X).__module__.startswith("pyarrow") else X.columns
        if [str(n) for n in names] == list(encoder.feature_names):
            return None
        return encoder.transform(X)
    if list(encoder.feature_names) != list(encoder.input_columns):
        raise ValueError(
            "this model encodes named columns (a formula or string columns): predict from a "
            f"table (pandas, polars, pyarrow) with the columns {encoder.input_columns}"
        )
    return None
