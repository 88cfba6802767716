"""Checks of frequency weights and of grouped binomial data, and the grouped rows' expansion.

A grouped row ``(x_i, s_i, n_i)`` (``s_i`` successes of ``n_i`` trials) becomes
two weighted rows of the usual 0/1 model::

    (x_i, y = 1, weight w_i s_i)   and   (x_i, y = 0, weight w_i (n_i - s_i))

rows ``0..m-1`` the successes and ``m..2m-1`` the failures, so the loss, its
gradient and Hessian are those of the expanded 0/1 data (each group's n_i
Bernoulli rows). Errors name the column and the 1-based row, as
:class:`~logitfit.exceptions.DataError` does for files (``path`` "<input>"
for arrays).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit._numerics import issparse
from logitfit.exceptions import DataError

__all__ = ["check_counts", "check_frequency_weights", "check_weights", "expand_grouped"]

_ARRAYS = "<input>"


def _column(values: Any, n_rows: int | None, column: str, path: str) -> np.ndarray:
    a = np.asarray(values)
    if a.ndim != 1:
        raise DataError(path, f"must be one number per row (1-D), got shape {a.shape}", column=column)
    if n_rows is not None and a.shape[0] != n_rows:
        raise DataError(path, f"has {a.shape[0]} entries but the data have {n_rows} rows",
                        column=column)
    if a.dtype.kind not in "biuf":
        raise DataError(path, f"must hold numbers, not {a.dtype}", column=column)
    a = a.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(a))
    if bad.size:
        raise DataError(path, f"value {a[bad[0]]!r} is not a finite number", row=int(bad[0]) + 1,
                        column=column)
    return a


def _whole(a: np.ndarray, column: str, path: str, what: str) -> None:
    bad = np.flatnonzero(a < 0)
    if bad.size:
        raise DataError(path, f"{what} {a[bad[0]]:g} is negative", row=int(bad[0]) + 1,
                        column=column)
    bad = np.flatnonzero(a != np.round(a))
    if bad.size:
        raise DataError(path, f"{what} {a[bad[0]]:g} is not a whole number", row=int(bad[0]) + 1,
                        column=column)


def check_frequency_weights(weights: Any, n_rows: int | None = None, *, column: str = "sample_weight",
                            path: str = _ARRAYS) -> np.ndarray:
    """Frequency weights as float64: finite, whole numbers >= 0, one per row, not all zero."""
    w = _column(weights, n_rows, column, path)
    _whole(w, column, path, "frequency weight")
    if not np.any(w > 0):
        raise DataError(path, "every frequency weight is 0: nothing to fit", column=column)
    return w


def check_counts(successes: Any, trials: Any, n_rows: int | None = None, *,
                 successes_column: str = "y", trials_column: str = "trials",
                 path: str = _ARRAYS) -> tuple[np.ndarray, np.ndarray]:
    """``(s, n)`` as float64: whole numbers with ``n >= 1`` and ``0 <= s <= n``, row by row."""
    s = _column(successes, n_rows, successes_column, path)
    n = _column(trials, s.shape[0], trials_column, path)
    _whole(s, successes_column, path, "successes")
    _whole(n, trials_column, path, "trials")
    bad = np.flatnonzero(n < 1)
    if bad.size:
        raise DataError(path, "trials must be at least 1 (a group of no trials holds no data)",
                        row=int(bad[0]) + 1, column=trials_column)
    bad = np.flatnonzero(s > n)
    if bad.size:
        i = int(bad[0])
        raise DataError(path, f"successes {s[i]:g} exceed the trials {n[i]:g} of "
                        f"{trials_column!r}", row=i + 1, column=successes_column)
    return s, n


def expand_grouped(X: Any, successes: np.ndarray, trials: np.ndarray,
                   weights: np.ndarray | None = None) -> tuple[Any, np.ndarray, np.ndarray]:
    """``(X2, y2, w2)``: each grouped row as a success row and a failure row (see the module text).

    ``X2`` stacks ``X`` twice (a pandas frame, dense or sparse; dtype kept), ``y2 = [1]*m + [0]*m``
    and ``w2 = [w s, w (n - s)]``.
    """
    w = np.ones_like(successes) if weights is None else weights
    m = successes.shape[0]
    if hasattr(X, "iloc"):  # a pandas frame keeps its column names
        X2 = X.iloc[np.concatenate([np.arange(m), np.arange(m)])]
    elif issparse(X):
        import scipy.sparse as sp  # on use: only sparse input gets here

        X2 = sp.vstack([X, X], format=X.format if X.format in ("csr", "csc") else "csr")
    else:
        X2 = np.concatenate([np.asarray(X), np.asarray(X)], axis=0)
    y2 = np.concatenate([np.ones(m, dtype=np.int64), np.zeros(m, dtype=np.int64)])
    return X2, y2, np.concatenate([w * successes, w * (trials - successes)])


def check_weights(weights: Any, n_rows: int, weight_type: str | None, *,
                  column: str = "sample_weight", path: str = _ARRAYS) -> np.ndarray | None:
    """Weights of the declared meaning: whole numbers for "frequency"; None stays None."""
    if weights is None:
        return None
    if weight_type == "frequency":
        return check_frequency_weights(weights, n_rows, column=column, path=path)
    w = _column(weights, n_rows, column, path)
    bad = np.flatnonzero(w < 0)
    if bad.size:
        raise DataError(path, f"weight {w[bad[0]]:g} is negative", row=int(bad[0]) + 1, column=column)
    return w
