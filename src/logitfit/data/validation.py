"""Every input check: X, y (class indices), sample and class weights, table columns.

Errors name what is wrong and where: the file (for table columns), the column
(by name when there are names), the first offending row, the value. Nothing is
silently dropped, imputed or clipped.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from logitfit._numerics import issparse
from logitfit.data.arrow_input import from_numpy, to_numpy
from logitfit.exceptions import DataError


@dataclass(frozen=True)
class Design:
    """Validated training data.

    X : float32/float64 ndarray (C or F order, as given) or CSR/CSC matrix.
    y : class indices, float 0/1 for two classes, int 0..K-1 otherwise.
    sample_weight : float64, non-negative, positive sum (class weights applied).
    classes : sorted unique labels; ``classes[y]`` recovers the labels.
    """

    X: Any
    y: np.ndarray
    sample_weight: np.ndarray
    classes: np.ndarray


def column_label(j: int, feature_names: np.ndarray | None) -> str:
    if feature_names is not None and j < len(feature_names):
        return f"column {feature_names[j]!r} (index {j})"
    return f"column {j}"


def check_non_numeric_columns(X: Any) -> None:
    """Raise naming every non-numeric column of a pandas or polars DataFrame."""
    bad: list[str] = []
    dtypes = getattr(X, "dtypes", None)
    if hasattr(X, "schema") and hasattr(X, "columns") and not hasattr(X, "iloc"):  # polars
        for name, dt in X.schema.items():
            if not (dt.is_numeric() or str(dt) == "Boolean"):
                bad.append(f"{name!r} ({dt})")
    elif dtypes is not None and hasattr(X, "iloc") and getattr(X, "ndim", 2) == 2:  # pandas
        for name, dt in dtypes.items():
            if getattr(dt, "kind", "O") not in "biuf":
                bad.append(f"{name!r} ({dt})")
    if bad:
        raise ValueError(
            f"X has non-numeric columns: {', '.join(bad)}. Encode them as numbers "
            "(for example one-hot), or drop them, before fitting."
        )


def check_finite(X: Any, feature_names: np.ndarray | None = None, what: str = "X") -> None:
    """Raise on the first NaN or infinity, naming its column and first row."""
    data = X.data if issparse(X) else X
    # A finite sum proves every entry finite without the n x p boolean mask
    # (12.5 % of a float64 X) that np.isfinite(data) would allocate.
    with np.errstate(over="ignore"):  # huge finite entries may sum to inf: then look closer
        total = data.sum() if data.size else 0.0
    if np.isfinite(total) or np.all(np.isfinite(data)):
        return
    if issparse(X):
        X = X.tocsc()
        bad_cols = [j for j in range(X.shape[1]) if not np.all(np.isfinite(X[:, j].data))]
        j = bad_cols[0]
        col = X[:, j]
        i = int(col.indices[np.flatnonzero(~np.isfinite(col.data))[0]])
        value = X[i, j]
    else:
        finite = np.isfinite(X)
        j = int(np.flatnonzero(~finite.all(axis=0))[0])
        i = int(np.flatnonzero(~finite[:, j])[0])
        value = X[i, j]
    kind = "NaN" if np.isnan(value) else "infinity"
    raise ValueError(
        f"{what} contains {kind} in {column_label(j, feature_names)}, first at row {i}; "
        "remove or impute those rows before fitting"
    )


def encode_labels(y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check y and return (classes, class indices). Two classes give float 0/1 indices.

    scikit-learn's rules for a classifier's target, in numpy alone (the CLI's fit
    path imports no scikit-learn): a column vector is raveled with a warning,
    continuous values and mixed-type objects are refused.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                      "change the shape of y to (n_samples, ), for example using ravel().",
                      DataConversionWarning, stacklevel=3)
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    if y.dtype.kind == "f":
        missing = np.isnan(y)
    elif y.dtype.kind == "O":
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in y], dtype=bool)
    else:
        missing = np.zeros(y.shape, dtype=bool)
    if missing.any():
        raise ValueError(f"y contains NaN (missing labels), first at row {int(np.flatnonzero(missing)[0])}")
    label_type = _label_type(y)
    if label_type is not None:
        raise ValueError(f"Unknown label type: {label_type}. Maybe you are trying to fit a "
                         "classifier, which expects discrete classes on a regression target "
                         "with continuous values.")
    classes, idx = np.unique(y, return_inverse=True)
    check_two_classes(classes)
    if classes.size == 2:
        return classes, idx.astype(np.float64)
    return classes, idx.astype(np.intp)


def _label_type(y: np.ndarray) -> str | None:
    """None for class labels; else the name scikit-learn gives the target type."""
    kind = y.dtype.kind
    if kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.floor(y)):
            return "continuous"
        return None
    if kind in "biuUS":
        return None
    if kind == "O":
        types = {type(v) for v in y}
        if all(issubclass(t, str) for t in types):
            return None
        if all(issubclass(t, (int, np.integer, bool, np.bool_)) for t in types):
            return None
        if all(issubclass(t, (float, np.floating, int, np.integer)) for t in types):
            values = np.asarray(y, dtype=np.float64)
            return "continuous" if np.any(values != np.floor(values)) else None
        return "unknown"
    return "unknown"


def check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray:
    """Non-negative, finite, one per row, not all zero."""
    if sample_weight is None:
        return np.ones(n_samples)
    if np.isscalar(sample_weight):
        sw = np.full(n_samples, float(sample_weight))
    else:
        sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim != 1 or sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has shape {sw.shape} but X has {n_samples} rows; "
            "give one weight per row (a 1-D array)"
        )
    if not np.all(np.isfinite(sw)):
        i = int(np.flatnonzero(~np.isfinite(sw))[0])
        raise ValueError(f"sample_weight contains a non-finite value ({sw[i]}) at row {i}")
    if np.any(sw < 0):
        i = int(np.flatnonzero(sw < 0)[0])
        raise ValueError(f"sample_weight has negative values, first at row {i} ({sw[i]})")
    if not np.any(sw > 0):
        raise ValueError("sample_weight is zero for every row: nothing to fit")
    return sw


def check_two_classes(classes: np.ndarray, what: str = "y") -> None:
    """Raise ``ValueError`` unless ``classes`` (the distinct labels of ``what``) number two or more."""
    if len(classes) >= 2:
        return
    # .item() turns np.str_('yes') (NumPy 2's repr) into the plain 'yes'
    only = repr(classes[0].item() if isinstance(classes[0], np.generic) else classes[0]) \
        if len(classes) else "none"
    raise ValueError(f"{what} has one class only ({only}); logistic regression needs at least "
                     "two classes")


def class_multipliers(class_weight: Any, classes: np.ndarray, counts: np.ndarray) -> np.ndarray | None:
    """Per-class weight factors from ``class_weight`` and the weighted class counts.

    "balanced": ``S / (K * S_k)`` with ``S_k`` the weight of class k's rows and
    ``S = sum_k S_k`` (scikit-learn's rule); a dict maps labels to factors
    (absent labels keep 1); None gives None.
    """
    if class_weight is None:
        return None
    counts = np.asarray(counts, dtype=np.float64)
    if isinstance(class_weight, str) and class_weight == "balanced":
        with np.errstate(divide="ignore"):
            mult = counts.sum() / (len(classes) * counts)
        return np.where(counts > 0, mult, 0.0)
    if isinstance(class_weight, dict):
        labels = [c.item() if isinstance(c, np.generic) else c for c in classes]
        unknown = [k for k in class_weight if k not in labels]
        if unknown:
            raise ValueError(f"class_weight names {unknown!r}, which are not classes of y "
                             f"(the classes are {labels!r})")
        return np.array([float(class_weight.get(c, 1.0)) for c in labels])
    raise ValueError(f"class_weight must be 'balanced', a dict or None, got {class_weight!r}")


def apply_class_weight(class_weight: Any, classes: np.ndarray, y_idx: np.ndarray, sw: np.ndarray) -> np.ndarray:
    """Multiply row weights by per-class weights ('balanced' or {label: weight})."""
    idx = y_idx.astype(np.intp)
    mult = class_multipliers(class_weight, classes, np.bincount(idx, weights=sw, minlength=len(classes)))
    return sw if mult is None else sw * mult[idx]


def validate_fit(estimator: Any, X: Any, y: Any, sample_weight: Any = None, dtype: Any = None) -> Design:
    """Validate and encode training data for ``estimator`` (sets n_features_in_/feature_names_in_)."""
    from sklearn.utils.validation import validate_data

    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None"
        )
    check_non_numeric_columns(X)
    X = validate_data(
        estimator,
        X,
        accept_sparse=["csr", "csc"],
        dtype=[np.float64, np.float32] if dtype is None else dtype,
        ensure_all_finite=False,
        ensure_min_samples=1,
        reset=True,
    )
    if issparse(X) and X.format not in ("csr", "csc"):
        X = X.tocsr()
    check_finite(X, getattr(estimator, "feature_names_in_", None))
    classes, y_idx = encode_labels(y)
    if y_idx.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y_idx.shape[0]} entries")
    sw = check_sample_weight(sample_weight, X.shape[0])
    sw = apply_class_weight(getattr(estimator, "class_weight", None), classes, y_idx, sw)
    return Design(X=X, y=y_idx, sample_weight=sw, classes=classes)


def validate_predict(estimator: Any, X: Any) -> Any:
    """Validate prediction input against the fitted feature count and names."""
    from sklearn.utils.validation import validate_data

    check_non_numeric_columns(X)
    X = validate_data(
        estimator,
        X,
        accept_sparse=["csr", "csc"],
        dtype=[np.float64, np.float32],
        ensure_all_finite=False,
        reset=False,
    )
    check_finite(X, getattr(estimator, "feature_names_in_", None))
    return X


# --------------------------------------------------------------------------
# table columns (pyarrow) on their way into a design matrix
# --------------------------------------------------------------------------


def check_no_missing(col: Any, path: str, column: str, row_offset: int = 0,
                     what: str = "a feature column") -> None:
    """Raise :class:`DataError` at the first missing value of a pyarrow column."""
    if col.null_count:
        import pyarrow.compute as pc

        i = pc.index(pc.is_null(col), True).as_py()
        raise DataError(path, f"missing value in {what}", row=row_offset + i + 1, column=column)


def level_codes(col: Any, levels: list, path: str, column: str, row_offset: int = 0) -> np.ndarray:
    """Index in ``levels`` of every value of a pyarrow column (no missing values).

    Raises :class:`DataError` naming the row, the column and the known levels
    at the first value that is not one of ``levels`` (a level not seen in
    training has no coefficient).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    strings = all(isinstance(v, str) for v in levels)
    known = from_numpy(np.array(levels, dtype=object) if strings else np.asarray(levels))
    try:
        values = col if col.type == known.type else pc.cast(col, known.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. 1.5 among integer levels
        values = pc.cast(col, pa.string())
        known = from_numpy(np.array([str(v) for v in levels], dtype=object))
    codes = pc.index_in(values, value_set=known)
    if codes.null_count:
        i = pc.index(pc.is_null(codes), True).as_py()
        shown = ", ".join(map(repr, levels[:10])) + (" ..." if len(levels) > 10 else "")
        raise DataError(path, f"level {col[i].as_py()!r} was not seen in training; known "
                        f"levels: {shown}", row=row_offset + i + 1, column=column)
    return to_numpy(codes).astype(np.intp)


def as_arrow(data: Any, columns: list[str] | None = None) -> Any:
    """A pyarrow Table or RecordBatch of ``data`` (pyarrow, pandas or polars), as is when pyarrow.

    ``columns`` limits a pandas frame to those columns (when it has them).
    A pandas object column of mixed types becomes strings.
    """
    if hasattr(data, "schema") and hasattr(data, "num_rows"):
        return data
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow ships with the io, cli and test extras
        raise ImportError("encoding a table of named columns needs pyarrow "
                          "(pip install 'logitfit[io]')") from None
    if hasattr(data, "to_arrow") and not hasattr(data, "iloc"):  # polars
        return data.to_arrow()
    if not (hasattr(data, "iloc") and hasattr(data, "columns")):
        raise TypeError(f"expected a table (pandas, polars or pyarrow), got {type(data).__name__}")
    if columns is not None:
        data = data[[c for c in columns if c in data.columns]]
    arrays, names = [], []
    for name in data.columns:
        series = data[name]
        try:
            arrays.append(pa.array(series, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types in an object column
            missing = series.isna().to_numpy()
            arrays.append(pa.array([None if m else str(v) for v, m in zip(series, missing, strict=True)],
                                   pa.string()))
        names.append(str(name))
    return pa.Table.from_arrays(arrays, names=names)
