"""Intervals of the mean predicted probability per calibration bin (inference/calibration.py).

Oracles: a bin holding one row is that row's prediction interval
(``predict_interval``, itself checked against statsmodels); a bin's standard
error equals the delta method with a finite-difference gradient of the bin mean;
batches add up to the whole; the report honours the summary's penalty rule.
"""

from __future__ import annotations

import numpy as np
import pytest

from logitfit import LogisticRegression
from logitfit.inference.calibration import add_sums, calibration_intervals, calibration_sums


def _fit(penalty=None, n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X @ [1.0, -1.5, 0.5] + 0.3 + rng.logistic(size=n) > 0).astype(int)
    kw = {"penalty": penalty, "alpha": 0.05} if penalty else {}
    return X, y, LogisticRegression(tol=1e-10, **kw).fit(X, y)


def test_one_row_bin_is_the_row_prediction_interval():
    X, y, m = _fit()
    p = m.predict_proba(X)[:, 1]
    i = int(np.argmin(np.abs(p - 0.45)))
    got = calibration_intervals(calibration_sums(X[i:i + 1], p[i:i + 1], y[i:i + 1] == 1, True),
                                m.cov_params())
    ref = m.predict_interval(X[i:i + 1])
    assert got[0]["mean_predicted"] == pytest.approx(ref["proba"][0], rel=1e-12)
    assert got[0]["se"] == pytest.approx(ref["se"][0], rel=1e-10)
    assert got[0]["lower"] == pytest.approx(ref["lower"][0], rel=1e-10)
    assert got[0]["upper"] == pytest.approx(ref["upper"][0], rel=1e-10)


def test_bin_se_is_the_delta_method_with_a_numerical_gradient():
    X, y, m = _fit()
    V = m.cov_params()
    theta = np.r_[m.coef_.ravel(), m.intercept_]
    p = m.predict_proba(X)[:, 1]
    rows = calibration_intervals(calibration_sums(X, p, y == 1, True, n_bins=5), V)
    bins = np.clip(np.searchsorted(np.linspace(0, 1, 6), p, side="right") - 1, 0, 4)
    Xt = np.column_stack([X, np.ones(len(X))])
    for r, b in zip(rows, [b for b in range(5) if np.any(bins == b)], strict=True):
        sel = bins == b

        def mean_p(t, sel=sel):
            return float(np.mean(1 / (1 + np.exp(-Xt[sel] @ t))))

        h = 1e-6
        g = np.array([(mean_p(theta + h * e) - mean_p(theta - h * e)) / (2 * h)
                      for e in np.eye(len(theta))])
        assert r["se"] == pytest.approx(np.sqrt(g @ V @ g), rel=1e-6)
        assert r["observed_rate"] == pytest.approx(y[sel].mean())
        assert r["lower"] < r["mean_predicted"] < r["upper"]


def test_batches_add_up():
    X, y, m = _fit()
    p = m.predict_proba(X)[:, 1]
    whole = calibration_sums(X, p, y == 1, True)
    parts = None
    for s in (slice(0, 100), slice(100, 170), slice(170, None)):
        parts = add_sums(parts, calibration_sums(X[s], p[s], y[s] == 1, True))
    for k in whole:
        np.testing.assert_allclose(parts[k], whole[k], rtol=1e-12, atol=1e-12)


def test_report_shows_the_intervals_with_a_covariance():
    pytest.importorskip("matplotlib")
    from logitfit.metrics import classification_report
    from logitfit.report import build_report

    X, y, m = _fit()
    fitted = m.to_fitted()
    proba = m.predict_proba(X)
    metrics = classification_report(y, proba, m.classes_)
    html = build_report(fitted, y, proba, metrics=metrics, X=X, covariance=fitted.covariance)
    assert "delta-method 95% interval" in html


@pytest.mark.parametrize("penalty", [None, "l2", "l1"])
def test_report_intervals_follow_the_penalty_rule(penalty):
    """L2: shown and labelled as penalised; L1: none, with the reason (the summary's rule)."""
    from logitfit.report import _calibration_intervals

    X, y, m = _fit(penalty)
    fitted = m.to_fitted()
    cov = fitted.covariance if penalty != "l1" else m.to_fitted(inference=False).covariance
    rows, label, note = _calibration_intervals(fitted, y, m.predict_proba(X), X, cov, None)
    if penalty == "l1":
        assert rows is None and "L1-penalised fit: no intervals" in note
        return
    assert rows and all(r["lower"] <= r["mean_predicted"] <= r["upper"] for r in rows)
    assert ("L2-PENALISED" in label) == (penalty == "l2")
    no_cov = _calibration_intervals(fitted, y, m.predict_proba(X), X, None, None)
    assert no_cov[0] is None and "No covariance" in no_cov[2]
