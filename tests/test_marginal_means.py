"""Marginal means and contrasts (logitfit.inference.marginal_means, the estimator's methods).

Oracles: the average of the estimator's own ``predict_proba`` over the data
with the factor set to each level (the definition, computed through the
public prediction path); the delta method checked against central finite
differences of that prediction function in the coefficients; Holm and
Bonferroni against statsmodels ``multipletests``; Bonferroni intervals
against scipy's normal quantile. Data: the UCLA admissions
(../shared/data/ucla-admissions) and a generated three-class set.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests

from logitfit import LogisticRegression
from logitfit.exceptions import DataError
from logitfit.inference.marginal_means import adjust_pvalues

#: Finite differences against the analytic delta method (issue 17).
FD_RTOL = 1e-5
FD_STEP = 1e-6
FIT_TOL = 1e-11
LEVELS = [1, 2, 3, 4]


UCLA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ucla-admissions" / "binary.csv"


@pytest.fixture(scope="module")
def ucla() -> pd.DataFrame:
    if not UCLA.is_file():
        pytest.skip(f"published data {UCLA} is absent (../shared/data is not checked out here)")
    return pd.read_csv(UCLA)


@pytest.fixture(scope="module")
def model(ucla) -> LogisticRegression:
    return LogisticRegression.from_formula("admit ~ gre + gpa * C(rank)", ucla, tol=FIT_TOL)


def _theta(m):
    return np.concatenate([m.coef_.ravel(), m.intercept_])


def _with_theta(m, theta):
    """A copy of a binary model predicting with parameters ``theta = [w, b]``."""
    out = copy.copy(m)
    out.coef_ = theta[:-1].reshape(1, -1)
    out.intercept_ = theta[-1:]
    return out


def _average(m, data, at, weights=None):
    """The definition: set the variables for every row, average predict_proba of the positive class."""
    w = np.ones(len(data)) if weights is None else np.asarray(weights, float)
    return np.array([np.average(m.predict_proba(data.assign(**dict(point)))[:, 1], weights=w)
                     for point in _points(at)])


def _designs(m, data, at):
    """The design matrix of the data with each grid point's values set (built once per test)."""
    return [m.encoder_.transform(data.assign(**dict(point))) for point in _points(at)]


def _fd_average(m, designs, weights=None):
    """``theta -> averaged probabilities`` through the fitted model's prediction on fixed designs."""
    w = np.ones(designs[0].shape[0]) if weights is None else np.asarray(weights, float)

    def f(theta):
        fitted = _with_theta(m, theta)._model()
        return np.array([np.average(fitted.predict_proba(D)[:, 1], weights=w) for D in designs])

    return f


def _points(at):
    return [tuple(zip(at, combo, strict=True)) for combo in itertools.product(*at.values())]


def _fd_jacobian(f, theta):
    cols = []
    for j in range(theta.size):
        h = FD_STEP * max(1.0, abs(theta[j]))
        e = np.zeros_like(theta)
        e[j] = h
        cols.append((f(theta + e) - f(theta - e)) / (2 * h))
    return np.column_stack(cols)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC1"])
def test_marginal_means_are_averaged_predictions_with_delta_method_se(model, ucla, cov_type):
    at = {"rank": LEVELS}
    table = model.marginal_means(ucla, at, cov_type=cov_type, level=0.9)
    direct = _average(model, ucla, at)
    np.testing.assert_allclose(table["proba"], direct, rtol=1e-12)
    J = _fd_jacobian(_fd_average(model, _designs(model, ucla, at)), _theta(model))
    se = np.sqrt(np.einsum("ij,jk,ik->i", J, model.cov_params(cov_type), J))
    np.testing.assert_allclose(table["se"], se, rtol=FD_RTOL)
    z = stats.norm.ppf(0.95)
    logit = np.log(direct / (1 - direct))
    half = z * se / (direct * (1 - direct))
    np.testing.assert_allclose(table["lower"], 1 / (1 + np.exp(-(logit - half))), rtol=FD_RTOL)
    np.testing.assert_allclose(table["upper"], 1 / (1 + np.exp(-(logit + half))), rtol=FD_RTOL)
    assert list(table["rank"]) == LEVELS


def test_numeric_grid_with_weights_and_a_one_row_prediction(model, ucla):
    at = {"gre": [400, 600], "rank": [1, 4]}
    w = np.linspace(0.5, 2.0, len(ucla))
    table = model.marginal_means(ucla, at, weights=w)
    assert list(zip(table["gre"], table["rank"], strict=True)) == [(400, 1), (400, 4), (600, 1), (600, 4)]
    np.testing.assert_allclose(table["proba"], _average(model, ucla, at, w), rtol=1e-12)
    J = _fd_jacobian(_fd_average(model, _designs(model, ucla, at), w), _theta(model))
    se = np.sqrt(np.einsum("ij,jk,ik->i", J, model.cov_params(), J))
    np.testing.assert_allclose(table["se"], se, rtol=FD_RTOL)
    # one row: a prediction at a point, equal to predict_interval's
    row = ucla.iloc[[0]]
    one = model.marginal_means(row, {"rank": [2]})
    point = model.predict_interval(row.assign(rank=2))
    np.testing.assert_allclose(one[["proba", "se", "lower", "upper"]].to_numpy().ravel(),
                               point[["proba", "se", "lower", "upper"]].to_numpy().ravel(), rtol=1e-10)


@pytest.mark.parametrize("adjust", ["holm", "bonferroni", "none"])
def test_pairwise_differences(model, ucla, adjust):
    at = {"rank": LEVELS}
    out = model.contrasts(ucla, at, adjust=adjust, level=0.95)
    pairs = list(itertools.combinations(range(4), 2))
    assert list(out["contrast"]) == [f"{LEVELS[a]} - {LEVELS[b]}" for a, b in pairs]

    average = _fd_average(model, _designs(model, ucla, at))

    def diffs(t):
        m = average(t)
        return np.array([m[a] - m[b] for a, b in pairs])

    theta = _theta(model)
    np.testing.assert_allclose(out["estimate"], diffs(theta), rtol=1e-10)
    J = _fd_jacobian(diffs, theta)
    se = np.sqrt(np.einsum("ij,jk,ik->i", J, model.cov_params(), J))
    np.testing.assert_allclose(out["se"], se, rtol=FD_RTOL)
    p = 2 * stats.norm.sf(np.abs(diffs(theta) / se))
    np.testing.assert_allclose(out["p_value"], p, rtol=FD_RTOL * 10)
    if adjust == "none":
        np.testing.assert_array_equal(out["p_adjusted"], out["p_value"])
    else:
        np.testing.assert_allclose(out["p_adjusted"], multipletests(out["p_value"], method=adjust)[1],
                                   rtol=1e-12)
    z = stats.norm.ppf(1 - 0.05 / (2 * (1 if adjust == "none" else len(pairs))))
    np.testing.assert_allclose(out["lower"], out["estimate"] - z * out["se"], rtol=1e-12)
    np.testing.assert_allclose(out["upper"], out["estimate"] + z * out["se"], rtol=1e-12)


def test_odds_ratios_of_averaged_probabilities(model, ucla):
    at = {"rank": LEVELS}
    out = model.contrasts(ucla, at, scale="odds_ratio", adjust="bonferroni")
    pairs = list(itertools.combinations(range(4), 2))

    average = _fd_average(model, _designs(model, ucla, at))

    def log_or(t):
        m = average(t)
        odds = m / (1 - m)
        return np.array([np.log(odds[a] / odds[b]) for a, b in pairs])

    theta = _theta(model)
    np.testing.assert_allclose(out["estimate"], np.exp(log_or(theta)), rtol=1e-10)
    J = _fd_jacobian(log_or, theta)
    se = np.sqrt(np.einsum("ij,jk,ik->i", J, model.cov_params(), J))
    np.testing.assert_allclose(out["se"], se, rtol=FD_RTOL)
    z = stats.norm.ppf(1 - 0.05 / (2 * len(pairs)))
    np.testing.assert_allclose(out["lower"], np.exp(log_or(theta) - z * se), rtol=FD_RTOL)
    assert list(out["contrast"])[0] == "1 / 2"


@settings(max_examples=10)  # multipletests takes ~0.1 s a call on the shared machine
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_adjustments_equal_statsmodels_multipletests(p):
    for method in ("holm", "bonferroni"):
        np.testing.assert_allclose(adjust_pvalues(p, method), multipletests(p, method=method)[1],
                                   rtol=1e-12, atol=1e-15)


def test_multinomial_means_per_class():
    rng = np.random.default_rng(5)
    n = 400
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n)})
    eta = np.column_stack([np.zeros(n), 0.8 * df.x + (df.g == "b"), -0.5 * df.x + (df.g == "c")])
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    df["y"] = np.array(["lo", "mid", "hi"])[[rng.choice(3, p=row) for row in p]]
    m = LogisticRegression.from_formula("y ~ x + g", df, tol=FIT_TOL)
    at = {"g": ["a", "b", "c"]}
    table = m.marginal_means(df, at)
    direct = np.array([m.predict_proba(df.assign(g=v)).mean(axis=0) for v in at["g"]])
    assert list(table["class"]) == list(m.classes_) * 3
    np.testing.assert_allclose(table["proba"], direct.ravel(), rtol=1e-12)
    inf = m._inference()
    q = m.coef_.shape[1] + 1

    designs = _designs(m, df, at)

    def means(theta):
        B = np.zeros((3, q))
        B[1:] = theta.reshape(2, q)  # contrasts against class 0
        clone = copy.copy(m)
        clone.coef_, clone.intercept_ = B[:, :-1], B[:, -1]
        return np.array([clone._model().predict_proba(D).mean(axis=0) for D in designs]).ravel()

    J = _fd_jacobian(means, np.asarray(inf.params))
    se = np.sqrt(np.einsum("ij,jk,ik->i", J, m.cov_params(), J))
    np.testing.assert_allclose(table["se"], se, rtol=FD_RTOL)
    out = m.contrasts(df, at)
    assert len(out) == 9 and set(out["class"]) == set(m.classes_)


def test_bad_input(model, ucla):
    with pytest.raises(ValueError, match="'ranking', which is not a column"):
        model.marginal_means(ucla, {"ranking": [1]})
    with pytest.raises(DataError, match="rank"):
        model.marginal_means(ucla, {"rank": [7]})
    with pytest.raises(ValueError, match="adjust must be one of"):
        model.contrasts(ucla, {"rank": LEVELS}, adjust="hochberg")
    with pytest.raises(ValueError, match="at least two grid points"):
        model.contrasts(ucla, {"rank": [1]})
    with pytest.raises(ValueError, match="weights must be 400"):
        model.marginal_means(ucla, {"rank": [1]}, weights=np.ones(3))
    with pytest.raises(ValueError, match="pass a pandas"):
        model.marginal_means(ucla.to_numpy(), {"rank": [1]})


def test_formula_offset_is_evaluated_on_each_counterfactual_table():
    rng = np.random.default_rng(1)
    n = 300
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n),
                       "e": rng.uniform(0.5, 3, n)})
    df["y"] = (0.5 * df.x + (df.g == "b") + np.log(df.e) + rng.logistic(size=n) > 0).astype(int)
    m = LogisticRegression.from_formula("y ~ x + g + offset(np.log(e))", df, tol=FIT_TOL)
    table = m.marginal_means(df, {"g": ["a", "b", "c"], "e": [1.0, 2.0]})
    direct = [m.predict_proba(df.assign(g=g, e=e))[:, 1].mean()
              for g, e in itertools.product("abc", [1.0, 2.0])]
    np.testing.assert_allclose(table["proba"], direct, rtol=1e-12)


def test_a_factor_name_stands_for_its_training_levels(model, ucla):
    by_name = model.marginal_means(ucla, "rank")
    pd.testing.assert_frame_equal(by_name, model.marginal_means(ucla, {"rank": LEVELS}))
    frame = ucla.assign(band=np.where(ucla["gpa"] > 3.4, "high", "low"))
    plain = LogisticRegression(tol=FIT_TOL).fit(frame[["gre", "band"]], frame["admit"])
    assert list(plain.contrasts(frame, ["band"])["contrast"]) == ["high - low"]
    with pytest.raises(ValueError, match="'gre' is not a categorical variable"):
        model.marginal_means(ucla, "gre")
