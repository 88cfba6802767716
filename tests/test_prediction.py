"""predict_interval: against statsmodels' GLM get_prediction and a finite-difference delta method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from logitfit import LogisticRegression
from logitfit.datasets import load_spector

#: Agreement with statsmodels' summary_frame (mean, mean_se, interval), relative.
SM_RTOL = 1e-6
#: Finite-difference delta method (central differences, step 1e-6) against the analytic one.
FD_RTOL = 1e-5


def _spector():
    d = load_spector()
    return d[["GPA", "TUCE", "PSI"]], d["GRADE"].to_numpy()


def _simulated(seed=0, n=400):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X @ [0.8, -1.2, 0.3] + 0.2 + rng.logistic(size=n) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("data", ["spector", "simulated"])
def test_binary_matches_statsmodels_get_prediction(data):
    X, y = _spector() if data == "spector" else _simulated()
    m = LogisticRegression(tol=1e-12).fit(X, y)
    glm = sm.GLM(y, sm.add_constant(np.asarray(X, dtype=float)), family=sm.families.Binomial()).fit(tol=1e-12)
    frame = glm.get_prediction(sm.add_constant(np.asarray(X, dtype=float))).summary_frame(alpha=0.05)
    out = m.predict_interval(np.asarray(X, dtype=float) if data == "simulated" else X)
    for ours, theirs in (("proba", "mean"), ("se", "mean_se"), ("lower", "mean_ci_lower"),
                         ("upper", "mean_ci_upper")):
        np.testing.assert_allclose(np.asarray(out[ours]), frame[theirs].to_numpy(), rtol=SM_RTOL)


def test_dataframe_in_dataframe_out_and_interval_inside_unit_interval():
    X, y = _spector()
    out = LogisticRegression().fit(X, y).predict_interval(X, level=0.9)
    assert isinstance(out, pd.DataFrame) and list(out.index) == list(X.index)
    assert ((out["lower"] >= 0) & (out["lower"] <= out["proba"]) & (out["proba"] <= out["upper"])
            & (out["upper"] <= 1)).all()


def _fd_se(model, X, cov_type, groups=None):
    """Delta method by central differences of the probabilities in the inference parameters."""
    inf = model._inference(0)
    V = inf.cov_params(cov_type, groups)
    theta0 = inf.params.copy()
    q = X.shape[1] + 1
    K = len(model.classes_)

    def proba(theta):
        if K == 2:
            eta = X @ theta[:-1] + theta[-1]
            return np.column_stack([1 - 1 / (1 + np.exp(-eta)), 1 / (1 + np.exp(-eta))])
        eta = np.zeros((X.shape[0], K))
        for m, k in enumerate(inf.others):
            t = theta[m * q:(m + 1) * q]
            eta[:, k] = X @ t[:-1] + t[-1]
        P = np.exp(eta - eta.max(axis=1, keepdims=True))
        return P / P.sum(axis=1, keepdims=True)

    J = np.empty((X.shape[0], K, theta0.size))
    for i in range(theta0.size):
        h = 1e-6 * max(1.0, abs(theta0[i]))
        tp, tm = theta0.copy(), theta0.copy()
        tp[i] += h
        tm[i] -= h
        J[:, :, i] = (proba(tp) - proba(tm)) / (2 * h)
    return np.sqrt(np.einsum("nki,ij,nkj->nk", J, V, J))


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1", "cluster"])
def test_multinomial_delta_method_matches_finite_differences(cov_type):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 2))
    y = np.argmax(X @ [[1.0, -0.5, 0.0], [0.2, 0.8, -1.0]] + rng.gumbel(size=(300, 3)), axis=1)
    groups = np.arange(300) % 30 if cov_type == "cluster" else None
    m = LogisticRegression(tol=1e-12).fit(X, y)
    out = m.predict_interval(X[:20], cov_type=cov_type, groups=groups)
    np.testing.assert_allclose(out["proba"], m.predict_proba(X[:20]), rtol=1e-12)
    np.testing.assert_allclose(out["se"], _fd_se(m, X[:20], cov_type, groups), rtol=FD_RTOL)
    assert np.all((out["lower"] <= out["proba"]) & (out["proba"] <= out["upper"]))


@pytest.mark.parametrize("cov_type", ["HC0", "HC3", "cluster"])
def test_binary_robust_covariances_match_finite_differences(cov_type):
    X, y = _simulated(5, 300)
    groups = np.arange(300) % 25 if cov_type == "cluster" else None
    m = LogisticRegression(tol=1e-12).fit(X, y)
    out = m.predict_interval(X[:25], cov_type=cov_type, groups=groups)
    np.testing.assert_allclose(out["se"], _fd_se(m, X[:25], cov_type, groups)[:, 1], rtol=FD_RTOL)


def test_l1_refused_and_bad_level():
    X, y = _simulated()
    with pytest.raises(ValueError, match="L1"):
        LogisticRegression(penalty="l1", alpha=0.01).fit(X, y).predict_interval(X[:2])
    with pytest.raises(ValueError, match="level"):
        LogisticRegression().fit(X, y).predict_interval(X[:2], level=1.5)
