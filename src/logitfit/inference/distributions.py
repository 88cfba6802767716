"""Normal and chi-square tails for the tests, from the standard library (exact closed forms).

scipy.stats takes about a second to import; the command line prints a p-value
on every fit, so the tails it needs are computed here:

* normal: ``P(|Z| > |z|) = erfc(|z| / sqrt 2)``, quantiles from :class:`statistics.NormalDist`;
* chi-square with ``k`` degrees of freedom (integer ``k``), ``Q = P(X > x)``::

      k = 2m:      Q = exp(-x/2) sum_{i<m} (x/2)^i / i!
      k = 2m + 1:  Q = erfc(sqrt(x/2)) + exp(-x/2) sum_{i<m} (x/2)^(i+1/2) / Gamma(i + 3/2)

  (the regularised upper incomplete gamma function ``Q(k/2, x/2)`` for integer
  and half-integer order), each term taken in log space; a non-integer ``k``
  falls back to scipy.stats.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = ["chi2_ppf_1", "chi2_sf", "normal_ppf", "normal_two_sided_p"]

_NORMAL = NormalDist()


def normal_two_sided_p(z: Any) -> Any:
    """``2 P(Z > |z|)`` elementwise (a float for a scalar)."""
    if np.ndim(z) == 0:
        return math.erfc(abs(float(z)) / math.sqrt(2.0))  # erfc(inf) = 0, erfc(nan) = nan
    return np.vectorize(normal_two_sided_p, otypes=[np.float64])(np.asarray(z, dtype=np.float64))


def normal_ppf(q: float) -> float:
    """The standard normal quantile ``Phi^{-1}(q)``."""
    return _NORMAL.inv_cdf(q)


def chi2_ppf_1(q: float) -> float:
    """The chi-square(1) quantile: ``Phi^{-1}((1 + q) / 2)^2``."""
    return _NORMAL.inv_cdf((1.0 + q) / 2.0) ** 2


def chi2_sf(x: Any, df: Any) -> Any:
    """``P(X > x)`` for X chi-square with ``df`` degrees of freedom (elementwise over ``x``)."""
    if np.ndim(x) != 0 or np.ndim(df) != 0:
        return np.vectorize(chi2_sf, otypes=[np.float64])(x, df)
    x, df = float(x), float(df)
    if math.isnan(x) or math.isnan(df):
        return math.nan
    if df != int(df) or df <= 0:
        from scipy import stats  # a fractional or invalid df: scipy's general routine

        return float(stats.chi2.sf(x, df))
    if x <= 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    k, h = int(df), x / 2.0
    if h == 0.0:  # x/2 underflowed: the whole mass lies above it
        return 1.0
    log_h = math.log(h)
    if k % 2 == 0:
        terms = (i * log_h - math.lgamma(i + 1.0) for i in range(k // 2))
        return min(1.0, math.fsum(math.exp(t - h) for t in terms))
    terms = ((i + 0.5) * log_h - math.lgamma(i + 1.5) for i in range(k // 2))
    return min(1.0, math.erfc(math.sqrt(h)) + math.fsum(math.exp(t - h) for t in terms))
