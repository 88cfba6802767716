"""Weights with a declared meaning (``weight_type``): frequency, analytic, probability, and the default.

Oracles: the row-expanded data fitted without weights (frequency weights: every
summary figure, 1e-8 relative); statsmodels ``GLM(var_weights=w)`` (analytic
weights: coefficients, standard errors, llf, deviance, df_resid, AIC, BIC; and
its HC0, the sandwich of probability weights); a sandwich computed here with
dense numpy from its definition (probability weights).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

import logitfit
from logitfit import LogisticRegression, lr_test
from logitfit.datasets import load_spector
from logitfit.exceptions import DataError

FIT_TOL = 1e-11
RTOL_EXPANDED = 1e-8
RTOL_SM = 1e-6
FIGURES = ("nobs", "llf", "llnull", "aic", "bic", "df_resid", "df_model", "llr", "llr_pvalue",
           "prsquared", "deviance", "null_deviance")


def _spector_weighted(seed: int = 0):
    d = load_spector()
    X = d[["GPA", "TUCE", "PSI"]]
    y = d["GRADE"].to_numpy()
    w = np.random.default_rng(seed).integers(1, 5, size=len(y)).astype(float)
    return X, y, w


def _expanded(X, y, w):
    idx = np.repeat(np.arange(len(y)), w.astype(int))
    return X.iloc[idx].reset_index(drop=True), y[idx], idx


def _glm(X, y, **kw):
    return sm.GLM(y, sm.add_constant(np.asarray(X, dtype=float), prepend=False),
                  family=sm.families.Binomial(), **kw)


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


# ------------------------------------------------------------- frequency


def test_frequency_weights_equal_expanded_rows_in_every_figure():
    X, y, w = _spector_weighted()
    Xe, ye, idx = _expanded(X, y, w)
    a = LogisticRegression(tol=FIT_TOL, weight_type="frequency").fit(X, y, sample_weight=w)
    b = LogisticRegression(tol=FIT_TOL).fit(Xe, ye)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=RTOL_EXPANDED)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=RTOL_EXPANDED)
    ia, ib = a._inference(), b._inference()
    for name in FIGURES:
        assert getattr(ia, name) == pytest.approx(getattr(ib, name), rel=RTOL_EXPANDED), name
    for cov_type in ("nonrobust", "HC0", "HC1", "HC2", "HC3"):
        np.testing.assert_allclose(ia.bse(cov_type), ib.bse(cov_type), rtol=RTOL_EXPANDED,
                                   err_msg=cov_type)
    groups = np.arange(len(y)) % 5
    np.testing.assert_allclose(ia.bse("cluster", groups), ib.bse("cluster", groups[idx]),
                               rtol=RTOL_EXPANDED)
    sa, sb = a.summary(), b.summary()
    np.testing.assert_allclose(sa.std_err, sb.std_err, rtol=RTOL_EXPANDED)
    assert {k: v for k, v in sa.info.items() if k != "Iterations"} == \
        {k: v for k, v in sb.info.items() if k != "Iterations"}
    # a likelihood-ratio test between nested weighted fits equals the expanded one
    ra = LogisticRegression(tol=FIT_TOL, weight_type="frequency").fit(X[["GPA"]], y, sample_weight=w)
    rb = LogisticRegression(tol=FIT_TOL).fit(Xe[["GPA"]], ye)
    ta, tb = lr_test(ra, a), lr_test(rb, b)
    assert ta.df == tb.df
    assert ta.statistic == pytest.approx(tb.statistic, rel=RTOL_EXPANDED)
    assert ta.pvalue == pytest.approx(tb.pvalue, rel=RTOL_EXPANDED)


def test_frequency_weights_multinomial_sandwich_equals_expanded():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 2))
    y = np.argmax(X @ [[1.0, -1.0, 0.0], [0.5, 0.0, -0.5]] + rng.gumbel(size=(90, 3)), axis=1)
    w = rng.integers(1, 4, size=90).astype(float)
    idx = np.repeat(np.arange(90), w.astype(int))
    a = LogisticRegression(tol=FIT_TOL, weight_type="frequency").fit(X, y, sample_weight=w)
    b = LogisticRegression(tol=FIT_TOL).fit(X[idx], y[idx])
    for cov_type in ("nonrobust", "HC0", "HC1"):
        np.testing.assert_allclose(a._inference().bse(cov_type), b._inference().bse(cov_type),
                                   rtol=1e-7, err_msg=cov_type)
    assert a.bic_ == pytest.approx(b.bic_, rel=RTOL_EXPANDED)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=40, max_size=40).filter(lambda v: sum(v) > 10),
       st.integers(0, 2**16))
def test_frequency_weights_property(weights, seed):
    """Any whole-number weights (zeros included) give the expanded data's llf, SEs and BIC."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 2))
    y = (X @ [1.0, -0.5] + rng.logistic(size=40) > 0).astype(int)
    w = np.asarray(weights, dtype=float)
    idx = np.repeat(np.arange(40), w.astype(int))
    if len(np.unique(y[idx])) < 2:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a small sample may separate; both fits see the same rows
        a = LogisticRegression(tol=FIT_TOL, weight_type="frequency").fit(X, y, sample_weight=w)
        b = LogisticRegression(tol=FIT_TOL).fit(X[idx], y[idx])
    if not (a.converged_ and b.converged_):
        return
    assert a.llf_ == pytest.approx(b.llf_, rel=1e-7, abs=1e-9)
    assert a.bic_ == pytest.approx(b.bic_, rel=1e-7)
    np.testing.assert_allclose(a._inference().bse("HC0"), b._inference().bse("HC0"), rtol=1e-6)


@pytest.mark.parametrize("bad, what", [(-1.0, "negative"), (1.5, "not a whole number"),
                                       (np.nan, "not a finite number")])
def test_bad_frequency_weights_name_column_and_row(bad, what):
    X, y, w = _spector_weighted()
    w[6] = bad
    with pytest.raises(DataError, match=rf"row 7, column 'sample_weight'.*{what}") as err:
        LogisticRegression(weight_type="frequency").fit(X, y, sample_weight=w)
    assert err.value.row == 7 and err.value.column == "sample_weight"


def test_weight_type_is_checked():
    X, y, _ = _spector_weighted()
    with pytest.raises(ValueError, match="weight_type must be None, 'frequency'"):
        LogisticRegression(weight_type="survey").fit(X, y)


# -------------------------------------------------------------- analytic


def test_analytic_weights_match_statsmodels_var_weights():
    X, y, _ = _spector_weighted()
    w = np.random.default_rng(1).uniform(0.2, 3.0, size=len(y))
    m = LogisticRegression(tol=FIT_TOL, weight_type="analytic").fit(X, y, sample_weight=w)
    r = _glm(X, y, var_weights=w).fit(tol=1e-13)
    inf = m._inference()
    assert _rel(inf.params, r.params) < RTOL_SM
    assert _rel(inf.bse(), r.bse) < RTOL_SM
    r0 = _glm(X, y, var_weights=w).fit(tol=1e-13, cov_type="HC0")
    assert _rel(inf.bse("HC0"), r0.bse) < RTOL_SM
    for ours, theirs in [(inf.llf, r.llf), (inf.deviance, r.deviance), (inf.nobs, r.nobs),
                         (inf.df_resid, r.df_resid), (inf.aic, r.aic), (inf.bic, r.bic_llf),
                         (inf.llnull, r.llnull), (inf.null_deviance, r.null_deviance),
                         (inf.prsquared, r.pseudo_rsquared("mcf"))]:
        assert ours == pytest.approx(theirs, rel=RTOL_SM)
    assert inf.nobs == len(y)


# ------------------------------------------------------------ probability


def _numpy_sandwich(X, y, w, theta):
    """``A^{-1} M A^{-1}``: ``A = sum w p(1-p) x x^T``, ``M = sum w^2 (p - y)^2 x x^T`` (HC0)."""
    Xt = np.column_stack([np.asarray(X, dtype=float), np.ones(len(y))])
    p = 1.0 / (1.0 + np.exp(-Xt @ theta))
    A = Xt.T @ (Xt * (w * p * (1 - p))[:, None])
    M = Xt.T @ (Xt * (w**2 * (p - y) ** 2)[:, None])
    Ainv = np.linalg.inv(A)
    return Ainv @ M @ Ainv


def test_probability_weights_sandwich_and_refusals():
    X, y, _ = _spector_weighted()
    w = np.random.default_rng(2).uniform(0.5, 4.0, size=len(y))
    m = LogisticRegression(tol=FIT_TOL, weight_type="probability").fit(X, y, sample_weight=w)
    plain = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(m.coef_, plain.coef_)  # the point estimates: the weighted fit
    inf = m._inference()
    V = _numpy_sandwich(X, y, w, inf.params)
    np.testing.assert_allclose(inf.cov_params("HC0"), V, rtol=1e-8)
    r = _glm(X, y, var_weights=w).fit(tol=1e-13, cov_type="HC0")
    assert _rel(inf.bse("HC0"), r.bse) < RTOL_SM
    n, k = len(y), 4
    np.testing.assert_allclose(inf.bse("HC1"), np.sqrt(np.diag(V) * n / (n - k)), rtol=1e-8)
    assert inf.nobs == n and inf.df_resid == n - k
    for call in (lambda: m.bse_, lambda: m.summary(), lambda: m.cov_params(),
                 lambda: m.predict_interval(X.iloc[:2])):
        with pytest.raises(ValueError, match="probability.*nonrobust"):
            call()
    for call, what in ((lambda: m.aic_, "AIC"), (lambda: m.bic_, "BIC"),
                       (lambda: lr_test(LogisticRegression(weight_type="probability").fit(
                           X[["GPA"]], y, sample_weight=w), m), "likelihood-ratio")):
        with pytest.raises(ValueError, match=f"probability.*{what}"):
            call()
    s = m.summary(cov_type="HC0")
    assert s.info["AIC"] == s.info["LR chi2"] == "n/a"
    assert any("pseudo-likelihood" in note for note in s.notes)
    np.testing.assert_allclose(s.std_err, inf.bse("HC0"))


# ---------------------------------------------------------------- default


def test_default_keeps_the_earlier_rule():
    """None: n = sum w (non-integer weights accepted), SEs model-based, the sandwich squares w."""
    X, y, _ = _spector_weighted()
    w = np.random.default_rng(4).uniform(0.5, 2.0, size=len(y))
    m = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=w)
    a = LogisticRegression(tol=FIT_TOL, weight_type="analytic").fit(X, y, sample_weight=w)
    inf, ia = m._inference(), a._inference()
    assert inf.nobs == pytest.approx(w.sum(), rel=1e-12)
    assert inf.df_resid == pytest.approx(w.sum() - 4, rel=1e-12)
    assert inf.bic == pytest.approx(-2 * inf.llf + np.log(w.sum()) * 4, rel=1e-12)
    np.testing.assert_allclose(inf.bse(), ia.bse(), rtol=1e-12)
    np.testing.assert_allclose(inf.bse("HC0"), ia.bse("HC0"), rtol=1e-12)
    assert not any("weights" in note for note in m.summary().notes)


# ------------------------------------------------------------ model files


@pytest.mark.parametrize("weight_type", ["frequency", "analytic", "probability"])
def test_loaded_model_gives_the_same_summary(weight_type, tmp_path):
    X, y, w = _spector_weighted()
    m = LogisticRegression(tol=FIT_TOL, weight_type=weight_type).fit(X, y, sample_weight=w)
    m.save(tmp_path / "m.json")
    loaded = logitfit.load(tmp_path / "m.json")
    assert loaded.weight_type == weight_type
    cov_type = "HC0" if weight_type == "probability" else "nonrobust"
    assert str(loaded.summary(cov_type=cov_type)) == str(m.summary(cov_type=cov_type))
    if weight_type == "probability":
        with pytest.raises(ValueError, match="nonrobust"):
            loaded.summary()


# -------------------------------------------------------------------- CLI


def _cli(*args, cwd):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "logitfit", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120)


def test_cli_weight_type(tmp_path):
    X, y, w = _spector_weighted()
    frame = X.assign(GRADE=y, w=w)
    frame.to_csv(tmp_path / "spector.csv", index=False)
    out = _cli("fit", "spector.csv", "--target", "GRADE", "--weight-col", "w", "--weight-type",
               "frequency", "-o", "m.json", "--tol", "1e-10", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Frequency weights" in out.stdout
    loaded = logitfit.load(tmp_path / "m.json")
    ref = LogisticRegression(tol=1e-10, weight_type="frequency").fit(X, y, sample_weight=w)
    assert loaded.weight_type == "frequency"
    np.testing.assert_allclose(loaded.bse_, ref.bse_, rtol=1e-8)
    assert loaded.summary().info["No. Observations"] == str(int(w.sum()))
    frame.assign(w=np.r_[w[:4], 2.5, w[5:]]).to_csv(tmp_path / "bad.csv", index=False)
    bad = _cli("fit", "bad.csv", "--target", "GRADE", "--weight-col", "w", "--weight-type",
               "frequency", cwd=tmp_path)
    assert bad.returncode == 2
    assert "bad.csv, row 5, column 'w'" in bad.stderr and "not a whole number" in bad.stderr
    wrong = _cli("fit", "spector.csv", "--target", "GRADE", "--weight-col", "w", "--weight-type",
                 "survey", cwd=tmp_path)
    assert wrong.returncode == 2 and "weight_type must be" in wrong.stderr
