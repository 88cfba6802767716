"""Inference under the declared meaning of the weights (:mod:`logitfit.model.weighting`).

The fit is the same for every meaning (weighted rows in the loss); these
functions say what changes after it:

============  ================  =============================  ==========================
weight_type   n (nobs)          nonrobust covariance           sandwich meat
============  ================  =============================  ==========================
None          ``sum w``         ``(X^T W V X)^{-1}``           ``sum w_i^2 r_i^2 x x^T``
frequency     ``sum w``         ``(X^T W V X)^{-1}``           ``sum w_i r_i^2 x x^T``
analytic      rows              ``(X^T W V X)^{-1}``           ``sum w_i^2 r_i^2 x x^T``
probability   rows              refused                        ``sum w_i^2 r_i^2 x x^T``
============  ================  =============================  ==========================

(``V = diag(p (1 - p))``, ``r = p - y``.) Frequency weights therefore give
every figure of the row-expanded data (HC2/HC3 use each copy's leverage
``h_i / w_i``); analytic weights give statsmodels' ``GLM(var_weights=w)``;
probability weights give point estimates of the weighted population and the
sandwich (``cov_type="HC0"`` is statsmodels' GLM HC0 with ``var_weights``),
with no likelihood-ratio test, AIC or BIC (a pseudo-likelihood is not a likelihood).

Grouped binomial fits (:class:`~logitfit.model.weighting.GroupedRecord`) count
groups as observations; their sandwiches sum each group's two rows' scores
(``u_i = w_i (s_i - n_i p_i) x_i``), as a sandwich of the grouped GLM does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit.inference.covariance import _cluster_scores, robust_covariance, sandwich, symmetrise

__all__ = ["check_cov_type", "covariance", "likelihood_figure", "n_observations", "row_groups",
           "saturated_llf"]


def n_observations(inf: Any) -> float:
    """``n``: groups for grouped data, ``sum w`` for frequency weights (and None), else rows."""
    grouped = getattr(inf.model, "grouped", None)
    if grouped is not None:
        return float(grouped.nobs)
    if inf.weight_type in ("analytic", "probability"):
        return float(inf.obj.blocks.n_samples)
    return inf.S


def log_binom(inf: Any) -> float:
    """``sum_i w_i log C(n_i, s_i)`` of grouped data (0 otherwise)."""
    grouped = getattr(inf.model, "grouped", None)
    return 0.0 if grouped is None else float(grouped.log_binom)


def saturated_llf(inf: Any) -> float:
    """Log-likelihood of the saturated model: 0 for 0/1 rows, the grouped one for groups."""
    grouped = getattr(inf.model, "grouped", None)
    return 0.0 if grouped is None else float(grouped.ll_saturated + grouped.log_binom)


def likelihood_figure(inf: Any, what: str) -> None:
    """Refuse ``what`` (an LR test, AIC, BIC) for probability weights: a pseudo-likelihood."""
    if inf.weight_type == "probability":
        raise ValueError(f"weight_type='probability': {what} is not given for survey weights (the "
                         "weighted log-likelihood is a pseudo-likelihood); use Wald tests with a "
                         "sandwich covariance (cov_type='HC0', 'HC1' or 'cluster')")


def check_cov_type(inf: Any, cov_type: str) -> None:
    """Refuse the covariances that the weights' meaning does not support, naming the alternative."""
    if inf.weight_type == "probability" and cov_type == "nonrobust":
        raise ValueError("weight_type='probability': model-based (nonrobust) standard errors are "
                         "not valid for survey weights; ask for a sandwich: cov_type='HC0' (as "
                         "statsmodels GLM with var_weights), 'HC1' (times n/(n-k)) or 'cluster'")
    grouped = getattr(inf.model, "grouped", None)
    if grouped is None or cov_type in ("nonrobust", "cluster"):
        return
    if cov_type in ("HC2", "HC3"):
        raise ValueError(f"{cov_type} is not defined here for grouped binomial data; use HC0, "
                         "HC1 or cluster")
    if grouped.weighted and inf.weight_type in (None, "frequency"):
        raise ValueError("a sandwich of grouped data with frequency weights is not given: repeat "
                         "the groups instead of weighting them, or declare "
                         "weight_type='analytic' or 'probability'")


def row_groups(inf: Any, groups: Any) -> Any:
    """Cluster labels per fitted row: a grouped fit's labels (one per group) cover both its rows."""
    if getattr(inf.model, "grouped", None) is None or groups is None:
        return groups
    g = np.asarray(groups)
    m = inf.obj.blocks.n_samples // 2
    if g.ndim != 1 or g.shape[0] != m:
        raise ValueError(f"groups has shape {g.shape}; give one label per group ({m} groups)")
    return np.concatenate([g, g])


def _grouped_sandwich(inf: Any, cov_type: str) -> np.ndarray:
    obj = inf.obj
    m = obj.blocks.n_samples // 2
    codes = np.concatenate([np.arange(m), np.arange(m)])
    from logitfit.inference.covariance import _n_rows

    sizes = obj.blocks.map_blocks(_n_rows)
    state = np.split(codes, np.cumsum(sizes)[:-1])
    W, b = obj.unpack(inf.x)
    (U,) = obj.blocks.map_reduce(_cluster_scores, W, b, obj.fit_intercept, m, obj.multinomial,
                                 state=state)
    V = sandwich(inf, U.T @ U)
    if cov_type == "HC1":
        V = V * inf.nobs / (inf.nobs - inf.k_params)
    return symmetrise(V)


def covariance(inf: Any, cov_type: str) -> np.ndarray:
    """Covariance of ``theta`` for "nonrobust" or "HC0".."HC3" under the weights' meaning."""
    check_cov_type(inf, cov_type)
    if cov_type != "nonrobust" and getattr(inf.model, "grouped", None) is not None:
        return _grouped_sandwich(inf, cov_type)
    return robust_covariance(inf, cov_type)
