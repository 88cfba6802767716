"""Goodness-of-fit tests (logitfit.inference.goodness_of_fit, LogisticRegression.goodness_of_fit).

Oracles:

* Hosmer-Lemeshow: the published Stata 14 ``estat gof, group(5)`` on the
  Spector data, as statsmodels' own test suite records it
  (statsmodels/discrete/tests/test_discrete.py, ``test_diagnostic``:
  chi2 = 1.630883318257913, p = 0.6524, df = 3, group sizes 7, 6, 7, 6, 6), and an
  independent computation here from Hosmer & Lemeshow's C-hat formula with numpy's
  ``averaged_inverted_cdf`` quantiles;
* le Cessie-van Houwelingen: the formula of Hosmer et al. (1997) / rms
  ``residuals.lrm(type="gof")`` written here with a least-squares solve, and its
  calibration under the model by simulation;
* covariate patterns: statsmodels' binomial GLM on the aggregated counts
  (``pearson_chi2``, ``deviance``, ``df_resid``);
* frequency weights: integer weights equal the expanded rows.
"""

from __future__ import annotations

import numpy as np
import pytest

from logitfit import LogisticRegression
from logitfit.datasets import load_spector
from logitfit.inference.distributions import chi2_sf
from logitfit.inference.goodness_of_fit import GofAccumulator, hosmer_lemeshow

FIT_TOL = 1e-12


def _spector():
    d = load_spector()
    X, y = d[["GPA", "TUCE", "PSI"]].to_numpy(), d["GRADE"].to_numpy()
    return LogisticRegression(tol=FIT_TOL).fit(X, y), X, y


def _grouped(seed=3, n=600):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.integers(0, 3, n), rng.integers(0, 2, n)]).astype(float)
    eta = 0.5 * X[:, 0] - 0.8 * X[:, 1] - 0.2 + 0.4 * (X[:, 0] == 2) * (X[:, 1] == 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return X, y


def test_hosmer_lemeshow_reproduces_stata_estat_gof_on_spector():
    model, X, y = _spector()
    test = hosmer_lemeshow(model.predict_proba(X)[:, 1], y, groups=5)
    assert test.statistic == pytest.approx(1.630883318257913, rel=1e-6)
    assert test.p_value == pytest.approx(0.6524, abs=6e-5)
    assert test.df == 3
    assert [g["weight"] for g in test.detail["table"]] == [7, 6, 7, 6, 6]


def _hl_by_the_paper(p, y, g):
    """C-hat = sum_k (o_k - n_k pbar_k)^2 / (n_k pbar_k (1 - pbar_k)), deciles of risk by quantile."""
    cuts = np.unique(np.quantile(p, np.arange(1, g) / g, method="averaged_inverted_cdf"))
    group = np.digitize(p, cuts, right=True)
    stat = 0.0
    used = 0
    for k in np.unique(group):
        sel = group == k
        n_k, o_k, pbar = sel.sum(), y[sel].sum(), p[sel].mean()
        stat += (o_k - n_k * pbar) ** 2 / (n_k * pbar * (1 - pbar))
        used += 1
    return stat, used - 2


@pytest.mark.parametrize("groups", [5, 8, 10])
def test_hosmer_lemeshow_equals_the_papers_formula(groups):
    rng = np.random.default_rng(groups)
    X = rng.normal(size=(503, 3))
    y = (rng.random(503) < 1 / (1 + np.exp(-(X @ [1.0, -0.5, 0.3] + 0.2 * X[:, 0] ** 2)))).astype(int)
    model = LogisticRegression(tol=FIT_TOL).fit(X, y)
    p = model.predict_proba(X)[:, 1]
    stat, df = _hl_by_the_paper(p, y.astype(float), groups)
    test = model.goodness_of_fit(X, y, groups=groups)["Hosmer-Lemeshow"]
    assert test.statistic == pytest.approx(stat, rel=1e-10)
    assert test.df == df == groups - 2
    assert test.p_value == pytest.approx(chi2_sf(stat, df), rel=1e-12)


def test_tied_probabilities_share_a_group():
    X, y = _grouped()
    model = LogisticRegression(tol=FIT_TOL).fit(X, y)
    p = model.predict_proba(X)[:, 1]
    test = model.goodness_of_fit(X, y)["Hosmer-Lemeshow"]
    table = test.detail["table"]
    # groups are intervals of p: no probability lies in two groups
    for a, b in zip(table, table[1:], strict=False):
        assert a["upper"] < b["lower"]
    assert sum(g["weight"] for g in table) == len(y)
    assert test.df == len(table) - 2 < 8 and "tied" in test.note
    assert len(np.unique(p)) == 6


def _lcvh_by_the_formula(X, y, p):
    """rms: sse = sum (y-p)^2, ev = sum p(1-p), sd = sqrt(RSS of lm.wfit([1, X], 1-2p, p(1-p)))."""
    w = p * (1 - p)
    A = np.column_stack([np.ones(len(y)), X]) * np.sqrt(w)[:, None]
    d = (1 - 2 * p) * np.sqrt(w)
    beta, *_ = np.linalg.lstsq(A, d, rcond=None)
    sd = np.sqrt(np.sum((d - A @ beta) ** 2))
    return (np.sum((y - p) ** 2) - w.sum()) / sd, sd


@pytest.mark.parametrize("data", ["spector", "generated"])
def test_le_cessie_van_houwelingen_equals_the_formula(data):
    if data == "spector":
        model, X, y = _spector()
    else:
        rng = np.random.default_rng(11)
        X = rng.normal(size=(800, 4))
        y = (rng.random(800) < 1 / (1 + np.exp(-(X @ [0.7, -0.4, 0.2, 0.1])))).astype(int)
        model = LogisticRegression(tol=FIT_TOL).fit(X, y)
    p = model.predict_proba(X)[:, 1]
    z, sd = _lcvh_by_the_formula(X, y, p)
    test = model.goodness_of_fit(X, y)["le Cessie-van Houwelingen"]
    assert test.statistic == pytest.approx(z, rel=1e-8)
    assert test.detail["sd"] == pytest.approx(sd, rel=1e-8)
    assert test.df is None and test.reference == "N(0,1)"


def test_le_cessie_van_houwelingen_is_calibrated_and_has_power():
    rng = np.random.default_rng(5)
    z_null, z_alt = [], []
    for _ in range(80):
        X = rng.normal(size=(300, 2))
        eta = X @ [1.0, -1.0]
        y = (rng.random(300) < 1 / (1 + np.exp(-eta))).astype(int)
        z_null.append(LogisticRegression().fit(X, y).goodness_of_fit(X, y)["le Cessie-van Houwelingen"].statistic)
        eta = 2.0 * X[:, 0] ** 2 - 2.0
        y = (rng.random(300) < 1 / (1 + np.exp(-eta))).astype(int)
        z_alt.append(LogisticRegression().fit(X, y).goodness_of_fit(X, y)["le Cessie-van Houwelingen"].statistic)
    z_null, z_alt = np.array(z_null), np.array(z_alt)
    assert abs(z_null.mean()) < 0.35 and 0.7 < z_null.std() < 1.35  # ~N(0, 1) under the model
    assert np.mean(np.abs(z_null) > 1.96) < 0.15
    assert np.mean(np.abs(z_alt) > 1.96) > 0.6  # a missed quadratic term is found


def test_covariate_pattern_statistics_equal_statsmodels_grouped_glm():
    sm = pytest.importorskip("statsmodels.api")
    X, y = _grouped()
    model = LogisticRegression(tol=FIT_TOL).fit(X, y)
    gof = model.goodness_of_fit(X, y)
    u, inv = np.unique(X, axis=0, return_inverse=True)
    inv = inv.ravel()
    succ, total = np.bincount(inv, weights=y), np.bincount(inv)
    res = sm.GLM(np.column_stack([succ, total - succ]), np.column_stack([u, np.ones(len(u))]),
                 family=sm.families.Binomial()).fit(tol=1e-14)
    pearson, deviance = gof["Pearson (covariate patterns)"], gof["Deviance (covariate patterns)"]
    assert pearson.statistic == pytest.approx(res.pearson_chi2, rel=1e-6)
    assert deviance.statistic == pytest.approx(res.deviance, rel=1e-6)
    assert pearson.df == deviance.df == res.df_resid == 3
    assert pearson.detail["patterns"] == 6 and pearson.note == ""


def test_integer_weights_equal_expanded_rows():
    X, y = _grouped(seed=8, n=300)
    X = np.column_stack([X, np.random.default_rng(1).normal(size=300)])
    w = np.random.default_rng(2).integers(1, 4, 300)
    weighted = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=w)
    rows = np.repeat(np.arange(300), w)
    expanded = LogisticRegression(tol=FIT_TOL).fit(X[rows], y[rows])
    a = weighted.goodness_of_fit(X, y, sample_weight=w)
    b = expanded.goodness_of_fit(X[rows], y[rows])
    assert [t.name for t in a.tests] == [t.name for t in b.tests]
    for s, t in zip(a.tests, b.tests, strict=True):
        assert s.statistic == pytest.approx(t.statistic, rel=1e-6)
        assert s.df == t.df
    assert a.nobs == b.nobs == w.sum()


def test_accumulator_merge_equals_one_pass_and_too_many_patterns_are_skipped():
    model, X, y = _spector()
    theta = np.append(model.coef_.ravel(), model.intercept_)
    one = GofAccumulator(theta, True)
    one.add(X, y, np.ones(32))
    a, b = GofAccumulator(theta, True), GofAccumulator(theta, True)
    a.add(X[:13], y[:13], np.ones(13))
    b.add(X[13:], y[13:], np.ones(19))
    merged = a.merge(b).result()
    for s, t in zip(merged.tests, one.result().tests, strict=True):
        assert s.statistic == pytest.approx(t.statistic, rel=1e-12)
    few = GofAccumulator(theta, True, max_patterns=10)
    few.add(X, y, np.ones(32))
    res = few.result()
    assert [t.name for t in res.tests] == ["Hosmer-Lemeshow", "le Cessie-van Houwelingen"]
    assert "more than 10 patterns" in res.skipped[0]


def test_summary_shows_the_tests_on_request():
    model, X, y = _spector()
    plain = str(model.summary())
    with_gof = model.summary(gof=(X, y))
    assert "Hosmer-Lemeshow" not in plain
    assert "Hosmer-Lemeshow" in str(with_gof) and "le Cessie" in with_gof.to_markdown()
    assert "Hosmer-Lemeshow" in with_gof.to_html()
    frame = model.goodness_of_fit(X, y).to_frame()
    assert list(frame.columns) == ["statistic", "df", "p_value"] and np.isnan(frame.loc["le Cessie-van Houwelingen", "df"])


def test_bad_groups_and_multinomial_are_refused():
    model, X, y = _spector()
    with pytest.raises(ValueError, match="at least 3"):
        model.goodness_of_fit(X, y, groups=2)
    with pytest.raises(ValueError, match="binary model"):
        LogisticRegression().fit(X, (X[:, 0] > 3).astype(int) + y).goodness_of_fit(X, y)


@pytest.mark.parametrize("module", ["logitfit.inference.goodness_of_fit", "logitfit.inference.diagnostics",
                                    "logitfit.estimators.checking", "logitfit.plots.diagnostics"])
def test_module_examples_run(module, tmp_path, monkeypatch):
    # the examples of names outside the API reference's list (methods, helpers) run too
    import doctest
    import importlib

    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 5
