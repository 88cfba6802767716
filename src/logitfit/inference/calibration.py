"""Intervals of a binary model's mean predicted probability per calibration bin (delta method).

Rows are binned by their predicted probability ``p_i`` of the positive class
(equal-width bins, as :func:`logitfit.metrics.calibration_table`). With
``x~ = [x, 1]`` and ``V`` the covariance of ``theta`` (the one a model file
stores, or any of the fit's :meth:`~logitfit.inference.results.Inference.cov_params`)::

    m_b = (1/n_b) sum_{i in b} p_i,      dm_b/dtheta = g_b = (1/n_b) sum_{i in b} p_i (1 - p_i) x~_i
    se(m_b) = sqrt(g_b^T V g_b),         interval: sigmoid(logit(m_b) -+ z se(m_b) / (m_b (1 - m_b)))

(the interval of one row's probability, :mod:`logitfit.inference.prediction`,
is the case n_b = 1). The sums are additive over rows, so a stream of batches
adds its :func:`calibration_sums` and calls :func:`calibration_intervals` once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit._numerics import sigmoid
from logitfit.inference.distributions import normal_ppf

__all__ = ["add_sums", "calibration_intervals", "calibration_sums"]


def _edges(n_bins: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, n_bins + 1)


def calibration_sums(X: Any, p: np.ndarray, y_event: np.ndarray, fit_intercept: bool,
                     n_bins: int = 10) -> dict[str, np.ndarray]:
    """Per-bin ``count``, ``sum_p``, ``sum_y`` and ``grad`` (``sum p (1 - p) x~``, shape (bins, q)).

    ``X``: the rows' design (dense or sparse), ``p``: their predicted probability of
    the event, ``y_event``: whether the event happened. Add two results key by key
    to combine batches.
    """
    p = np.asarray(p, dtype=np.float64)
    idx = np.clip(np.searchsorted(_edges(n_bins), p, side="right") - 1, 0, n_bins - 1)
    onehot = np.zeros((len(p), n_bins))
    onehot[np.arange(len(p)), idx] = 1.0
    d = p * (1.0 - p)
    grad = np.asarray((onehot * d[:, None]).T @ X)  # sparse X: a (bins, p) product
    if fit_intercept:
        grad = np.column_stack([grad, onehot.T @ d])
    return {"count": onehot.sum(axis=0), "sum_p": onehot.T @ p,
            "sum_y": onehot.T @ np.asarray(y_event, dtype=np.float64), "grad": grad}


def add_sums(total: dict[str, np.ndarray] | None, part: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``total + part`` key by key (``part`` when ``total`` is None): sums of two batches."""
    return dict(part) if total is None else {k: total[k] + part[k] for k in total}


def calibration_intervals(sums: dict[str, np.ndarray], covariance: np.ndarray,
                          level: float = 0.95) -> list[dict[str, float]]:
    """Non-empty bins: ``count``, ``mean_predicted``, ``observed_rate``, ``se``, ``lower``, ``upper``.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import LogisticRegression
    >>> from logitfit.inference.calibration import calibration_intervals, calibration_sums
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> model = LogisticRegression().fit(X, y)
    >>> p = model.predict_proba(X)[:, 1]
    >>> rows = calibration_intervals(calibration_sums(X, p, y == 1, True), model.cov_params())
    >>> all(r["lower"] <= r["mean_predicted"] <= r["upper"] for r in rows)
    True
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    z = normal_ppf(0.5 + level / 2.0)
    V = np.asarray(covariance, dtype=np.float64)
    out = []
    for b in np.flatnonzero(sums["count"] > 0):
        n = float(sums["count"][b])
        m = float(sums["sum_p"][b]) / n
        g = sums["grad"][b] / n
        se = float(np.sqrt(max(g @ V @ g, 0.0)))
        lower = upper = m  # a mean of 0 or 1 in double precision: no spread left to show
        if 0.0 < m < 1.0:
            logit, half = np.log(m) - np.log1p(-m), z * se / (m * (1.0 - m))
            lower, upper = float(sigmoid(logit - half)), float(sigmoid(logit + half))
        out.append({"count": n, "mean_predicted": m, "observed_rate": float(sums["sum_y"][b]) / n,
                    "se": se, "lower": lower, "upper": upper})
    return out
