"""What sample weights mean, and the constants of grouped binomial data.

Every weight is a plain row weight in the loss, ``J = (1/S) sum_i s_i l_i``;
what differs between the meanings is the inference
(:mod:`logitfit.inference.weights`):

* ``None`` (the default, the rule before weights had a declared meaning): the
  counts of frequency weights (``n = sum w``) with the robust sandwich of
  analytic weights (``w_i^2`` in the meat); any weight >= 0 is accepted;
* ``"frequency"``: row i stands for ``w_i`` identical rows (``w_i`` a whole
  number): ``n = sum w`` and every figure equals that of the expanded data;
* ``"analytic"``: row i has variance ``1 / w_i`` (statsmodels' ``var_weights``):
  ``n`` is the number of rows;
* ``"probability"``: survey weights, ``n`` the number of rows; only sandwich
  standard errors are given.

Grouped binomial rows ``(x_i, s_i successes of n_i trials)`` are fitted as two
weighted rows, ``(x_i, 1)`` with weight ``w_i s_i`` and ``(x_i, 0)`` with
``w_i (n_i - s_i)``; the grouped log-likelihood adds the binomial coefficients::

    llf = sum_i w_i [log C(n_i, s_i) + s_i log p_i + (n_i - s_i) log(1 - p_i)]

and the deviance is measured from the saturated grouped model (``p_i = s_i / n_i``),
as R's ``glm(cbind(s, n - s) ~ ...)`` and statsmodels' two-column binomial GLM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["WEIGHT_TYPES", "GroupedRecord", "grouped_record"]

#: The declared meanings of ``sample_weight`` (None: the default, see the module text).
WEIGHT_TYPES = (None, "frequency", "analytic", "probability")


@dataclass(frozen=True)
class GroupedRecord:
    """What the grouped likelihood adds to the expanded rows' one (model files store it).

    ``nobs``: observations of the grouped model (groups; ``sum w`` with frequency
    weights); ``log_binom = sum_i w_i log C(n_i, s_i)``; ``ll_saturated``: the
    saturated model's log-likelihood without the binomial coefficients,
    ``sum_i w_i [s_i log(s_i/n_i) + (n_i - s_i) log(1 - s_i/n_i)]`` (0 log 0 = 0);
    ``weighted``: whether weights other than 1 were given.
    """

    nobs: float
    log_binom: float
    ll_saturated: float
    weighted: bool = False


def _xlogx_over(a: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``a log(a / n)`` with ``0 log 0 = 0``."""
    out = np.zeros_like(a)
    pos = a > 0
    out[pos] = a[pos] * np.log(a[pos] / n[pos])
    return out


def grouped_record(successes: np.ndarray, trials: np.ndarray, weights: np.ndarray | None,
                   weight_type: str | None) -> GroupedRecord:
    """The :class:`GroupedRecord` of checked ``successes <= trials`` (whole numbers) and weights."""
    s = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    w = np.ones_like(s) if weights is None else np.asarray(weights, dtype=np.float64)
    lgamma = np.frompyfunc(math.lgamma, 1, 1)
    log_c = (lgamma(n + 1.0) - lgamma(s + 1.0) - lgamma(n - s + 1.0)).astype(np.float64)
    sat = _xlogx_over(s, n) + _xlogx_over(n - s, n)
    nobs = float(w.sum()) if weight_type in (None, "frequency") else float(len(s))
    return GroupedRecord(nobs=nobs, log_binom=float(w @ log_c), ll_saturated=float(w @ sat),
                         weighted=bool(np.any(w != 1.0)))
