"""Predicted probabilities with their uncertainty (delta method), as R's ``predict(se.fit=TRUE)``.

Binary model, ``x~ = [x, 1]``, parameters ``theta`` with covariance ``V``, offset ``o``
(0 without one)::

    eta = x~^T theta + o,   se(eta) = sqrt(x~^T V x~),   p = sigmoid(eta),   se(p) = p (1 - p) se(eta)
    interval: sigmoid(eta -+ z_{1-a/2} se(eta))        (inside [0, 1] by construction)

Multinomial model (parameters ``theta_m = B_m - B_ref`` against the reference
class, ``eta_ref = 0``): ``dp_k / dtheta_m = p_k (delta_km - p_m) x~``, so
``se(p_k) = sqrt(g_k^T V g_k)``; the interval of ``p_k`` is taken on its logit
scale, ``logit(p_k) -+ z se(p_k) / (p_k (1 - p_k))``, and mapped back.

``V`` is any covariance the fit's inference gives (nonrobust, HC0-HC3,
cluster); an L2-penalised fit's covariance is the sandwich of the penalised
fit (the summary's rule), an L1 fit has none.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit._numerics import sigmoid
from logitfit.inference.distributions import normal_ppf

__all__ = ["prediction_intervals"]


def _augmented(X: np.ndarray, fit_intercept: bool) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    return np.column_stack([X, np.ones(X.shape[0])]) if fit_intercept else X


def _row_quadratic(Xt: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``diag(Xt V Xt^T)`` without forming the n x n matrix."""
    return np.einsum("ij,ij->i", Xt @ V, Xt)


def prediction_intervals(inference: Any, X: Any, level: float = 0.95,
                         cov_type: str = "nonrobust", groups: Any = None,
                         offset: Any = None) -> dict[str, np.ndarray]:
    """Probabilities, their standard errors and intervals for the design rows ``X``.

    Parameters
    ----------
    inference : logitfit.inference.results.Inference
        The fit's inference (reference class 0 for a multinomial model).
    X : ndarray, shape (n, p)
        Design rows (as the model's columns).
    level : float
        Coverage of the intervals, in (0, 1).
    cov_type, groups
        As :meth:`~logitfit.inference.results.Inference.cov_params`.
    offset : array of n numbers ((n, K) for K classes), optional
        Known terms of the rows' linear predictors (required when the model was
        fitted with an offset); a constant, so ``se(eta)`` does not change.

    Returns
    -------
    dict of ndarray
        Binary: ``proba``, ``se``, ``lower``, ``upper`` (of the positive class), ``eta``
        and ``se_eta`` (the linear predictor), shape (n,). Multinomial: ``proba``,
        ``se``, ``lower``, ``upper`` of shape (n, K), columns in class order.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> out = LogisticRegression().fit(X, y).predict_interval(X[:2])
    >>> bool(np.all((out["lower"] <= out["proba"]) & (out["proba"] <= out["upper"])))
    True
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    z = normal_ppf(0.5 + level / 2.0)
    V = np.asarray(inference.cov_params(cov_type, groups), dtype=np.float64)
    Xt = _augmented(X, inference.obj.fit_intercept)
    q = Xt.shape[1]
    # the offset enters eta as a constant: ``model.add_offset`` checks it (and its absence)
    add_offset = inference.model.add_offset
    if not inference.obj.multinomial:
        eta = add_offset(Xt @ inference.params, offset)
        se_eta = np.sqrt(np.clip(_row_quadratic(Xt, V), 0.0, None))
        p = sigmoid(eta)
        return {"proba": p, "se": p * (1.0 - p) * se_eta, "lower": sigmoid(eta - z * se_eta),
                "upper": sigmoid(eta + z * se_eta), "eta": eta, "se_eta": se_eta}
    others, ref = inference.others, inference.ref
    K = len(others) + 1
    theta = inference.params.reshape(len(others), q)
    eta = np.zeros((Xt.shape[0], K))
    eta[:, others] = Xt @ theta.T
    eta = add_offset(eta, offset)
    eta -= eta.max(axis=1, keepdims=True)
    P = np.exp(eta)
    P /= P.sum(axis=1, keepdims=True)
    se = np.empty_like(P)
    for k in range(K):
        # g_k over the contrast blocks m: p_k (delta_km - p_m) x~
        coeff = -P[:, k][:, None] * P[:, others]
        if k != ref:
            coeff[:, others.index(k)] += P[:, k]
        G = (coeff[:, :, None] * Xt[:, None, :]).reshape(Xt.shape[0], -1)
        se[:, k] = np.sqrt(np.clip(_row_quadratic(G, V), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        logit = np.log(P) - np.log1p(-P)
        half = z * se / (P * (1.0 - P))
    lower, upper = sigmoid(logit - half), sigmoid(logit + half)
    return {"proba": P, "se": se, "lower": lower, "upper": upper}
