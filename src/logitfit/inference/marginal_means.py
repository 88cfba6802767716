"""Marginal means: predicted probabilities averaged over the data, at a grid of values, and their contrasts.

Definition (the *counterfactual average*, "average predictive margins";
Stata's ``margins``, R's ``marginaleffects::avg_predictions``): for each grid
point ``g`` (a value of each variable in ``at``), every row ``i`` of the
data is given those values, its other variables kept, and the model's
probabilities are averaged with row weights ``s_i``::

    m_g = sum_i s_i p(x_i(g)) / sum_i s_i

This is *not* emmeans' default, which predicts at a reference grid (numeric
covariates at their means, equal weight to the levels of other factors) and
averages on the link scale; the two agree only for a model without other
covariates. A one-row data set gives plain predictions at the grid points.

Standard errors by the delta method with any covariance ``V`` of ``theta``
the fit gives: ``se(m_g) = sqrt(G_g V G_g^T)``, ``G_g = dm_g/dtheta``; binary
``G_g = sum_i s_i p_i (1 - p_i) x~_i(g) / sum s``; multinomial (contrasts
against the reference class) ``dP_k/dtheta_m = P_k (delta_km - P_m) x~``. The
interval of ``m_g`` is taken on the logit scale and mapped back (it stays in
[0, 1]): ``sigmoid(logit m -+ z se / (m (1 - m)))``.

Pairwise contrasts between grid points ``a`` and ``b`` (per class):

* ``"difference"``: ``m_a - m_b``, gradient ``G_a - G_b``, interval ``d -+ z se``;
* ``"odds_ratio"``: the odds ratio of the averaged probabilities,
  ``OR = [m_a / (1 - m_a)] / [m_b / (1 - m_b)]``, tested and bounded on the log
  scale with gradient ``G_a / (m_a (1 - m_a)) - G_b / (m_b (1 - m_b))``
  (``se`` is that of ``log OR``). It is a *marginal* odds ratio: it differs
  from the conditional ``exp(beta_a - beta_b)`` of the coefficients (odds
  ratios are not collapsible), which :meth:`conf_int` of the coefficients gives.

Multiplicity (the family is every pair within one class): Bonferroni
``min(1, m p)``; Holm's step-down ``p_(j) -> max_{i <= j} min(1, (m - i + 1) p_(i))``;
or none. Intervals under "bonferroni" and "holm" use ``z_{1 - alpha / (2m)}``
(Holm has no simultaneous intervals of its own, so those are Bonferroni's).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from logitfit._numerics import sigmoid
from logitfit.inference.distributions import normal_ppf, normal_two_sided_p

__all__ = ["adjust_pvalues", "average_predictions", "grid_points", "marginal_means",
           "pairwise_contrasts"]

ADJUSTMENTS = ("holm", "bonferroni", "none")


def grid_points(at: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the values in ``at`` (the last variable varying fastest).

    Examples
    --------
    >>> grid_points({"a": [1, 2], "b": ["x"]})
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    """
    if not isinstance(at, dict) or not at:
        raise ValueError("at must be a dict: variable -> value or list of values, e.g. {'rank': [1, 2]}")
    values = {k: (list(v) if isinstance(v, (list, tuple, np.ndarray)) else [v]) for k, v in at.items()}
    for k, v in values.items():
        if not v:
            raise ValueError(f"at[{k!r}] has no values")
    return [dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())]


def average_predictions(inf: Any, design: np.ndarray, weights: np.ndarray,
                        offset: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``(m, G)``: weighted mean probabilities of the design rows and their gradient in ``theta``.

    ``offset``: the rows' offsets when the model was fitted with one (a constant in ``eta``).

    Binary: ``m`` shape (1,) (the positive class), ``G`` (1, k). Multinomial:
    ``m`` (K,), ``G`` (K, k), classes in order.
    """
    X = np.asarray(design, dtype=np.float64)
    Xt = np.column_stack([X, np.ones(X.shape[0])]) if inf.obj.fit_intercept else X
    w = weights / weights.sum()
    if not inf.obj.multinomial:
        p = sigmoid(inf.model.add_offset(Xt @ inf.params, offset))
        return np.array([w @ p]), ((w * p * (1.0 - p)) @ Xt)[None, :]
    others, ref = inf.others, inf.ref
    K, q = len(others) + 1, Xt.shape[1]
    eta = np.zeros((Xt.shape[0], K))
    eta[:, others] = Xt @ inf.params.reshape(len(others), q).T
    eta = inf.model.add_offset(eta, offset)
    eta -= eta.max(axis=1, keepdims=True)
    P = np.exp(eta)
    P /= P.sum(axis=1, keepdims=True)
    G = np.empty((K, len(others) * q))
    for k in range(K):
        coeff = -P[:, k][:, None] * P[:, others]  # dP_k / d eta_m for m in others
        if k != ref:
            coeff[:, others.index(k)] += P[:, k]
        G[k] = ((w[:, None] * coeff).T @ Xt).ravel()
    return w @ P, G


def marginal_means(inf: Any, transform: Callable[[Any], np.ndarray], data: Any, at: dict[str, Any],
                   weights: Any = None, level: float = 0.95, cov_type: str = "nonrobust",
                   groups: Any = None, offset: Any = None) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Counterfactual averages at each grid point: ``(rows, m, G)`` (see the module docstring).

    Parameters
    ----------
    inf : logitfit.inference.results.Inference
    transform : table -> design matrix (the fit's encoder)
    data : pandas.DataFrame, the rows averaged over
    at : dict, variable -> value or list of values
    weights : array of one non-negative weight per row, optional (default equal)
    level : coverage of the intervals
    cov_type, groups : the covariance, as ``Inference.cov_params``
    offset : the rows' offsets (a model fitted with one): an array, or a function of the
        counterfactual table (a formula's ``offset(...)`` term is evaluated on it)

    Returns
    -------
    rows : list of dict
        The grid values, ``class`` (multinomial), ``proba``, ``se``, ``lower``, ``upper``.
    m : ndarray, shape (n_points, n_out)
    G : ndarray, shape (n_points, n_out, k)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from logitfit import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=200), "g": rng.choice(["a", "b"], 200)})
    >>> df["y"] = (df.x + (df.g == "b") + rng.logistic(size=200) > 0).astype(int)
    >>> model = LogisticRegression.from_formula("y ~ x + g", df)
    >>> rows, m, G = marginal_means(model._inference(), model.encoder_.transform, df, {"g": ["a", "b"]})
    >>> [r["g"] for r in rows], bool(m[1, 0] > m[0, 0])
    (['a', 'b'], True)
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if not hasattr(data, "assign"):
        raise ValueError("marginal means average over the rows of a pandas DataFrame; pass one")
    if len(data) == 0:
        raise ValueError("the data have no rows to average over")
    missing = [k for k in at if k not in data.columns]
    if missing:
        raise ValueError(f"at names {missing[0]!r}, which is not a column of the data")
    w = np.ones(len(data)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(data),) or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights must be {len(data)} finite non-negative numbers, not all zero")
    points = grid_points(at)
    V = np.asarray(inf.cov_params(cov_type, groups), dtype=np.float64)
    z = normal_ppf(0.5 + level / 2.0)
    means, grads, rows = [], [], []
    labels = list(inf.model.classes) if inf.obj.multinomial else [None]
    for point in points:
        frame = data.assign(**{k: [v] * len(data) for k, v in point.items()})
        off = offset(frame) if callable(offset) else offset
        m, G = average_predictions(inf, transform(frame), w, off)
        means.append(m)
        grads.append(G)
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", G, V, G), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            logit = np.log(m) - np.log1p(-m)
            half = z * se / (m * (1.0 - m))
        for k, label in enumerate(labels):
            row = {**point, **({"class": _plain(label)} if label is not None else {})}
            row.update(proba=float(m[k]), se=float(se[k]), lower=float(sigmoid(logit[k] - half[k])),
                       upper=float(sigmoid(logit[k] + half[k])))
            rows.append(row)
    return rows, np.array(means), np.array(grads)


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def adjust_pvalues(p: Any, method: str = "holm") -> np.ndarray:
    """Family-wise adjusted p-values: "holm" (step-down), "bonferroni" or "none".

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "holm").round(2)
    array([0.03, 0.06, 0.06])
    >>> adjust_pvalues([0.01, 0.04, 0.03], "bonferroni").round(2)
    array([0.03, 0.12, 0.09])
    """
    if method not in ADJUSTMENTS:
        raise ValueError(f"adjust must be one of {', '.join(ADJUSTMENTS)}; got {method!r}")
    p = np.asarray(p, dtype=np.float64)
    m = p.size
    if method == "none" or m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, m * p)
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = stepped
    return out


def pairwise_contrasts(inf: Any, points: list[dict[str, Any]], m: np.ndarray, G: np.ndarray,
                       scale: str = "difference", adjust: str = "holm", level: float = 0.95,
                       cov_type: str = "nonrobust", groups: Any = None) -> list[dict[str, Any]]:
    """Every pair ``a < b`` of grid points, per class: estimate, ``se``, ``z``, p-values, interval.

    ``m``, ``G`` as :func:`marginal_means` returns them. Rows: ``contrast`` ("a - b", or
    "a / b" for odds ratios), ``class`` (multinomial), ``estimate``, ``se`` (of ``log OR``
    for odds ratios), ``z``, ``p_value``, ``p_adjusted``, ``lower``, ``upper``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from logitfit import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=200), "g": rng.choice(["a", "b"], 200)})
    >>> df["y"] = (df.x + (df.g == "b") + rng.logistic(size=200) > 0).astype(int)
    >>> model = LogisticRegression.from_formula("y ~ x + g", df)
    >>> inf, at = model._inference(), {"g": ["a", "b"]}
    >>> rows, m, G = marginal_means(inf, model.encoder_.transform, df, at)
    >>> out = pairwise_contrasts(inf, [{"g": "a"}, {"g": "b"}], m, G, scale="odds_ratio")
    >>> out[0]["contrast"], bool(out[0]["estimate"] < 1)
    ('a / b', True)
    """
    if scale not in ("difference", "odds_ratio"):
        raise ValueError(f"scale must be 'difference' or 'odds_ratio', got {scale!r}")
    if adjust not in ADJUSTMENTS:
        raise ValueError(f"adjust must be one of {', '.join(ADJUSTMENTS)}; got {adjust!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    pairs = list(itertools.combinations(range(len(points)), 2))
    if not pairs:
        raise ValueError("contrasts need at least two grid points")
    V = np.asarray(inf.cov_params(cov_type, groups), dtype=np.float64)
    n_tests = len(pairs)
    z_crit = normal_ppf(1.0 - (1.0 - level) / (2.0 * (1 if adjust == "none" else n_tests)))
    labels = list(inf.model.classes) if inf.obj.multinomial else [None]
    rows = []
    for k, label in enumerate(labels):
        est, grad = [], []
        for a, b in pairs:
            if scale == "difference":
                est.append(m[a, k] - m[b, k])
                grad.append(G[a, k] - G[b, k])
            else:
                ma, mb = m[a, k], m[b, k]
                est.append(np.log(ma) - np.log1p(-ma) - np.log(mb) + np.log1p(-mb))
                grad.append(G[a, k] / (ma * (1.0 - ma)) - G[b, k] / (mb * (1.0 - mb)))
        est, grad = np.array(est), np.array(grad)
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", grad, V, grad), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = est / se
        p = normal_two_sided_p(z)
        p_adj = adjust_pvalues(p, adjust)
        lower, upper = est - z_crit * se, est + z_crit * se
        if scale == "odds_ratio":
            est, lower, upper = np.exp(est), np.exp(lower), np.exp(upper)
        sep = " - " if scale == "difference" else " / "
        for i, (a, b) in enumerate(pairs):
            row = {"contrast": _label(points[a]) + sep + _label(points[b])}
            if label is not None:
                row["class"] = _plain(label)
            row.update(estimate=float(est[i]), se=float(se[i]), z=float(z[i]), p_value=float(p[i]),
                       p_adjusted=float(p_adj[i]), lower=float(lower[i]), upper=float(upper[i]))
            rows.append(row)
    return rows


def _label(point: dict[str, Any]) -> str:
    """A grid point as text: its value alone for one variable, else ``var=value`` pairs."""
    if len(point) == 1:
        return str(_plain(next(iter(point.values()))))
    return ", ".join(f"{k}={_plain(v)}" for k, v in point.items())
