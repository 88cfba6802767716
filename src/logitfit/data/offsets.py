"""Offsets: a known term added to the linear predictor, ``z = X w + b + offset``.

An offset is a coefficient fixed at 1 (a log exposure, a known prior log-odds, a
term carried over from another model). :func:`check_offset` validates one given
to ``fit`` or to a prediction:

* binary model: one finite number per row, shape (n,) (an (n, 1) column is accepted);
* multinomial model (K classes): shape (n, K), column k added to class k's score.
  One number per row would add the same amount to every class's score, which the
  softmax cancels, so shape (n,) is refused there with that reason.

Errors name the offset (its column when it came from a table) and the first bad row.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_offset", "missing_offset_error"]


def check_offset(offset: Any, n_samples: int, n_classes: int = 2, name: str = "offset") -> np.ndarray:
    """``offset`` as a float64 array of shape (n,) (binary) or (n, K) (K >= 3 classes).

    Raises ``ValueError`` naming ``name`` for a wrong shape or length, a
    non-numeric value, or a missing or non-finite value (with its 0-based row).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.data.offsets import check_offset
    >>> check_offset([0.5, -1.0, 2.0], 3)
    array([ 0.5, -1. ,  2. ])
    >>> try:
    ...     check_offset([0.5, np.nan, 2.0], 3)
    ... except ValueError as err:
    ...     print(err)
    offset has a missing or non-finite value (nan) at row 1; an offset must be a finite number on every row
    """
    if hasattr(offset, "to_numpy"):  # pandas / polars Series or frame
        offset = offset.to_numpy()
    try:
        a = np.asarray(offset, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must hold numbers (a finite float per row)") from None
    multinomial = n_classes > 2
    if a.ndim == 2 and a.shape[1] == 1 and not multinomial:
        a = a[:, 0]
    if multinomial:
        if a.ndim == 1:
            raise ValueError(
                f"{name} has one number per row, but this model has {n_classes} classes: the same "
                f"amount added to every class's score cancels in the softmax. Give an array of "
                f"shape (n_samples, {n_classes}), column k added to class k's score")
        if a.ndim != 2 or a.shape[1] != n_classes:
            raise ValueError(f"{name} must have shape (n_samples, {n_classes}) for {n_classes} "
                             f"classes, got {a.shape}")
    elif a.ndim != 1:
        raise ValueError(f"{name} must be one number per row (shape (n_samples,)), got shape {a.shape}")
    if a.shape[0] != n_samples:
        raise ValueError(f"{name} has {a.shape[0]} rows but X has {n_samples}; give one offset per row")
    if not np.isfinite(a).all():
        bad = np.flatnonzero(~np.isfinite(a).reshape(a.shape[0], -1).all(axis=1))[0]
        value = a[bad] if a.ndim == 1 else a[bad][~np.isfinite(a[bad])][0]
        raise ValueError(f"{name} has a missing or non-finite value ({value}) at row {bad}; an offset "
                         "must be a finite number on every row")
    return np.ascontiguousarray(a)


def missing_offset_error(name: str) -> ValueError:
    """The error of a prediction without the offset the model was fitted with (``name`` names it).

    Examples
    --------
    >>> from logitfit.data.offsets import missing_offset_error
    >>> print(missing_offset_error("log_exposure"))
    this model was fitted with an offset (log_exposure): pass offset= (one number per row) to predict, score or evaluate with it
    """
    return ValueError(f"this model was fitted with an offset ({name}): pass offset= (one number per "
                      "row) to predict, score or evaluate with it")
