"""Grouped binomial data: rows of (successes, trials) fitted directly, in Python and the CLI.

Oracles: statsmodels' two-column binomial GLM ``GLM(column_stack([s, n - s]), X)``
(params, bse, HC0, deviance, df_resid, AIC, BIC, llf, llnull, pseudo R2; 1e-6
relative), which reports what R's ``glm(cbind(s, n - s) ~ x)`` does; and the
expanded 0/1 data fitted row by row (coefficients, standard errors, LR chi2: 1e-8).
Data: Bliss's (1935) beetle mortality, as tabulated by Dobson & Barnett,
*An Introduction to Generalized Linear Models* (3rd ed.), Table 7.2.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
import statsmodels.api as sm

import logitfit
from logitfit import LogisticRegression
from logitfit.exceptions import DataError

FIT_TOL = 1e-11
RTOL_SM = 1e-6
RTOL_EXPANDED = 1e-8

DOSE = np.array([1.6907, 1.7242, 1.7552, 1.7842, 1.8113, 1.8369, 1.8610, 1.8839])
TRIALS = np.array([59, 60, 62, 56, 63, 59, 62, 60])
KILLED = np.array([6, 13, 18, 28, 52, 53, 61, 60])


def _synthetic_groups(seed: int = 0, m: int = 40):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    n = rng.integers(1, 30, size=m)
    p = 1.0 / (1.0 + np.exp(-(X @ [0.8, -0.5, 0.3] + 0.2)))
    return X, rng.binomial(n, p), n


def _sm_grouped(X, s, n, **fit):
    model = sm.GLM(np.column_stack([s, n - s]), sm.add_constant(X, prepend=False),
                   family=sm.families.Binomial())
    return model.fit(tol=1e-13, **fit)


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize("data", ["beetles", "synthetic"])
def test_grouped_fit_matches_statsmodels_two_column_glm(data):
    X, s, n = (DOSE[:, None], KILLED, TRIALS) if data == "beetles" else _synthetic_groups()
    m = LogisticRegression(tol=FIT_TOL).fit(X, s, trials=n)
    r = _sm_grouped(X, s, n)
    inf = m._inference()
    np.testing.assert_array_equal(m.classes_, [0, 1])
    assert _rel(inf.params, r.params) < RTOL_SM
    assert _rel(inf.bse(), r.bse) < RTOL_SM
    assert _rel(inf.bse("HC0"), _sm_grouped(X, s, n, cov_type="HC0").bse) < RTOL_SM
    for ours, theirs in [(inf.deviance, r.deviance), (inf.df_resid, r.df_resid), (inf.aic, r.aic),
                         (inf.llf, r.llf), (inf.llnull, r.llnull), (inf.bic, r.bic_llf),
                         (inf.null_deviance, r.null_deviance), (inf.nobs, r.nobs),
                         (inf.prsquared, r.pseudo_rsquared("mcf"))]:
        assert ours == pytest.approx(theirs, rel=RTOL_SM)
    info = m.summary().info
    assert info["No. Observations"] == str(len(s))
    assert float(info["Deviance"]) == pytest.approx(r.deviance, rel=1e-5)


def test_grouped_fit_equals_expanded_binary_rows():
    X, s, n = _synthetic_groups(1)
    rows = np.repeat(np.arange(len(s)), n)
    y01 = np.concatenate([np.r_[np.ones(k), np.zeros(t - k)] for k, t in zip(s, n, strict=True)])
    g = LogisticRegression(tol=FIT_TOL).fit(X, s, trials=n)
    e = LogisticRegression(tol=FIT_TOL).fit(X[rows], y01)
    np.testing.assert_allclose(g.coef_, e.coef_, rtol=RTOL_EXPANDED)
    np.testing.assert_allclose(g.intercept_, e.intercept_, rtol=RTOL_EXPANDED)
    np.testing.assert_allclose(g.bse_, e.bse_, rtol=RTOL_EXPANDED)
    gi, ei = g._inference(), e._inference()
    assert gi.llr == pytest.approx(ei.llr, rel=RTOL_EXPANDED)  # the binomial constants cancel
    # what differs is the grouped model's own: the constants, the saturated model, n = groups
    log_binom = sum(np.log(float(math.comb(int(t), int(k)))) for k, t in zip(s, n, strict=True))
    assert gi.llf - ei.llf == pytest.approx(log_binom, rel=1e-10)
    assert gi.nobs == len(s) and ei.nobs == n.sum()


@pytest.mark.parametrize("kind", ["frame", "sparse", "float32"])
def test_grouped_inputs(kind):
    X, s, n = _synthetic_groups(2)
    ref = LogisticRegression(tol=FIT_TOL).fit(X, s, trials=n)
    if kind == "frame":
        import pandas as pd

        Xk = pd.DataFrame(X, columns=["a", "b", "c"])
    elif kind == "sparse":
        Xk = sp.csr_matrix(X)
    else:
        Xk = X.astype(np.float32)
    m = LogisticRegression(tol=FIT_TOL).fit(Xk, s, trials=n)
    rtol = 1e-4 if kind == "float32" else 1e-8
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=rtol)
    np.testing.assert_allclose(m.bse_, ref.bse_, rtol=rtol)
    if kind == "frame":
        assert m.summary().names == ["a", "b", "c", "Intercept"]
        assert m.predict_proba(Xk.iloc[:3]).shape == (3, 2)


def test_grouped_cluster_labels_are_per_group():
    X, s, n = _synthetic_groups(3)
    m = LogisticRegression(tol=FIT_TOL).fit(X, s, trials=n)
    # each group its own cluster: the grouped HC0 times the small-sample factor
    G, k = len(s), 4
    factor = G / (G - 1) * (G - 1) / (G - k)
    np.testing.assert_allclose(m.cov_params("cluster", groups=np.arange(G)),
                               m.cov_params("HC0") * factor, rtol=1e-10)
    with pytest.raises(ValueError, match="one label per group"):
        m.cov_params("cluster", groups=np.arange(2 * G))
    with pytest.raises(ValueError, match="HC3 is not defined here for grouped"):
        m.cov_params("HC3")


def test_grouped_model_file_keeps_the_grouped_summary(tmp_path):
    m = LogisticRegression(tol=FIT_TOL).fit(DOSE[:, None], KILLED, trials=TRIALS)
    m.save(tmp_path / "beetles.json")
    loaded = logitfit.load(tmp_path / "beetles.json")
    assert str(loaded.summary()) == str(m.summary())
    assert loaded.grouped_ == m.grouped_
    doc = json.loads((tmp_path / "beetles.json").read_text())
    # a version-3 reader would ignore the grouped constants: the file says version 4
    assert doc["grouped"]["nobs"] == 8 and doc["format_version"] == 4


@pytest.mark.parametrize("successes, trials, column, row, what", [
    ([6, 13, 63, 28], [59, 60, 62, 56], "y", 3, "exceed the trials"),
    ([6, -1, 18, 28], [59, 60, 62, 56], "y", 2, "negative"),
    ([6, 13, 18, 28], [59, 60.5, 62, 56], "trials", 2, "not a whole number"),
    ([6, 13, 18, 28], [59, 60, -62, 56], "trials", 3, "negative"),
    ([6, 13, 0, 28], [59, 60, 0, 56], "trials", 3, "at least 1"),
    ([6, 13.5, 18, 28], [59, 60, 62, 56], "y", 2, "not a whole number"),
])
def test_bad_grouped_input_names_column_and_row(successes, trials, column, row, what):
    with pytest.raises(DataError, match=f"row {row}, column '{column}'.*{what}") as err:
        LogisticRegression().fit(DOSE[:4, None], successes, trials=trials)
    assert (err.value.row, err.value.column) == (row, column)


def test_grouped_length_mismatch():
    with pytest.raises(DataError, match="column 'trials'.*3 entries but the data have 4 rows"):
        LogisticRegression().fit(DOSE[:4, None], [1, 2, 3, 4], trials=[5, 5, 5])


def test_grouped_frequency_weights_count_groups():
    """A group of frequency weight 2 is the group twice."""
    X, s, n = DOSE[:, None], KILLED, TRIALS
    w = np.array([1, 2, 1, 1, 3, 1, 1, 2], dtype=float)
    idx = np.repeat(np.arange(8), w.astype(int))
    a = LogisticRegression(tol=FIT_TOL, weight_type="frequency").fit(X, s, trials=n, sample_weight=w)
    b = LogisticRegression(tol=FIT_TOL).fit(X[idx], s[idx], trials=n[idx])
    ia, ib = a._inference(), b._inference()
    for name in ("nobs", "llf", "llnull", "aic", "bic", "deviance", "df_resid", "llr"):
        assert getattr(ia, name) == pytest.approx(getattr(ib, name), rel=RTOL_EXPANDED), name
    np.testing.assert_allclose(ia.bse(), ib.bse(), rtol=RTOL_EXPANDED)


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "logitfit", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120)


def test_cli_trials_end_to_end(tmp_path):
    rows = ["dose,killed,n"] + [f"{d},{k},{t}" for d, k, t in zip(DOSE, KILLED, TRIALS, strict=True)]
    (tmp_path / "beetles.csv").write_text("\n".join(rows) + "\n")
    out = _cli("fit", "beetles.csv", "--target", "killed", "--trials", "n", "-o", "m.json",
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Deviance" in out.stdout
    loaded = logitfit.load(tmp_path / "m.json")
    ref = LogisticRegression(tol=1e-6).fit(DOSE[:, None], KILLED, trials=TRIALS)
    r = _sm_grouped(DOSE[:, None], KILLED, TRIALS)
    np.testing.assert_allclose(loaded.coef_.ravel(), r.params[:1], rtol=1e-5)
    np.testing.assert_allclose(loaded.coef_, ref.coef_, rtol=1e-8)
    assert loaded._inference().deviance == pytest.approx(r.deviance, rel=1e-5)
    assert loaded.feature_names_in_.tolist() == ["dose"]  # the trials column is no feature
    # successes above trials: exit status 2 and the file, row and column named
    (tmp_path / "bad.csv").write_text("dose,killed,n\n1.7,3,5\n1.8,7,6\n")
    bad = _cli("fit", "bad.csv", "--target", "killed", "--trials", "n", cwd=tmp_path)
    assert bad.returncode == 2
    assert "bad.csv, row 2, column 'killed'" in bad.stderr and "exceed the trials" in bad.stderr
