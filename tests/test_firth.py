"""Firth's bias-reduced logistic regression (logitfit.inference.firth).

Oracle: an independent implementation written here, which maximises
``l(b) + 0.5 log det(X~^T W X~)`` with scipy's BFGS, its gradient computed by
the trace formula ``0.5 tr(I^{-1} dI/db_l)`` (not the leverage form the
library uses). No published logistf numbers could be loaded from a Python
package (the sex2 and endometrial data ship with R only), so none are used.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from logitfit import LogisticRegression
from logitfit.inference.firth import flic_intercept, penalised_lr_tests

#: Agreement with the independent BFGS maximisation (its gtol is 1e-10).
RTOL_INDEP = 1e-6
FIT_TOL = 1e-11


def _data(separated: bool, seed: int = 0, n: int = 60):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    if separated:
        y = (X[:, 0] > 0).astype(float)
    else:
        y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [1.0, -0.5])))).astype(float)
    return X, y


def _neg_pen_llf(b, Xt, y, fixed=None):
    if fixed is not None:
        b = np.insert(b, fixed[0], fixed[1])
    z = Xt @ b
    p = 1 / (1 + np.exp(-z))
    w = p * (1 - p)
    info = Xt.T @ (Xt * w[:, None])
    Iinv = np.linalg.inv(info)
    llf = np.sum(y * z - np.logaddexp(0, z))
    dw = w * (1 - 2 * p)
    g = Xt.T @ (y - p) + np.array([0.5 * np.trace(Iinv @ (Xt.T @ (Xt * (dw * Xt[:, k])[:, None]))) for k in range(Xt.shape[1])])
    if fixed is not None:
        g = np.delete(g, fixed[0])
    return -(llf + 0.5 * np.linalg.slogdet(info)[1]), -g


def _independent(X, y, start, fixed=None):
    Xt = np.column_stack([X, np.ones(len(y))])
    res = optimize.minimize(_neg_pen_llf, start, args=(Xt, y, fixed), jac=True, method="BFGS", options={"gtol": 1e-10})
    return res.x, -res.fun


@pytest.mark.parametrize("separated", [False, True])
def test_firth_matches_independent_maximisation(separated):
    X, y = _data(separated)
    m = LogisticRegression(penalty="firth", tol=FIT_TOL).fit(X, y)
    beta = np.r_[m.coef_.ravel(), m.intercept_]
    assert m.converged_ and np.all(np.isfinite(beta))
    indep, _ = _independent(X, y, np.zeros(3))
    np.testing.assert_allclose(beta, indep, rtol=RTOL_INDEP)
    # covariance: inverse Fisher information at the penalised estimate
    Xt = np.column_stack([X, np.ones(len(y))])
    p = 1 / (1 + np.exp(-Xt @ beta))
    np.testing.assert_allclose(m.cov_params(), np.linalg.inv(Xt.T @ (Xt * (p * (1 - p))[:, None])), rtol=RTOL_INDEP)


def test_firth_profile_interval_and_lr_test_match_independent_root_finding():
    """On overlapping data, where the penalised profile has one optimum for each fixed value
    (on separated data it can have several, and a local optimiser such as BFGS may stop in
    the wrong one)."""
    X, y = _data(False, seed=1)
    m = LogisticRegression(penalty="firth", tol=FIT_TOL).fit(X, y)
    beta = np.r_[m.coef_.ravel(), m.intercept_]
    _, lmax = _independent(X, y, beta)
    cut = stats.chi2.ppf(0.95, 1)
    j = 0

    def dev(c):
        _, lc = _independent(X, y, np.delete(beta, j), fixed=(j, c))
        return 2 * (lmax - lc) - cut

    lo = optimize.brentq(dev, beta[j] - 4 * m.bse_[j], beta[j], xtol=1e-12)
    hi = optimize.brentq(dev, beta[j], beta[j] + 4 * m.bse_[j], xtol=1e-12)
    ci = m.conf_int(method="profile")
    np.testing.assert_allclose(ci[j], [lo, hi], rtol=RTOL_INDEP)
    lr = penalised_lr_tests(m)
    expected = 2 * (lmax - _independent(X, y, np.delete(beta, j), fixed=(j, 0.0))[1])
    assert lr["statistic"][j] == pytest.approx(expected, rel=RTOL_INDEP)
    assert lr["p_value"][j] == pytest.approx(stats.chi2.sf(expected, 1), rel=RTOL_INDEP)


def test_flic_matches_event_rate():
    """FLIC's intercept makes the mean predicted probability equal the observed event rate."""
    X, y = _data(False, seed=2, n=80)
    m = LogisticRegression(penalty="firth", tol=FIT_TOL).fit(X, y)
    b = flic_intercept(m)
    p = 1 / (1 + np.exp(-(X @ m.coef_.ravel() + b)))
    assert p.mean() == pytest.approx(y.mean(), rel=1e-10)
    # Firth's own intercept does not have that property in general
    assert abs(m.predict_proba(X)[:, 1].mean() - y.mean()) > 1e-6


def test_firth_refuses_multinomial_and_l2_combination():
    X, _ = _data(False)
    with pytest.raises(ValueError, match="two classes"):
        LogisticRegression(penalty="firth").fit(X, np.arange(len(X)) % 3)


@pytest.mark.slow  # ~2 min: the penalised profile of a separating variable converges slowly
def test_firth_profile_interval_on_separated_data_is_finite_and_excludes_zero():
    X, y = _data(True, seed=3, n=40)
    m = LogisticRegression(penalty="firth", tol=FIT_TOL).fit(X, y)
    ci = m.conf_int(method="profile")
    assert np.all(np.isfinite(ci))
    assert ci[0, 0] > 0  # the separating variable
    assert np.all((ci[:, 0] < m._inference().params) & (m._inference().params < ci[:, 1]))
