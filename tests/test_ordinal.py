"""The ordinal (cumulative-link) model: objective, estimator, inference.

Oracles: statsmodels ``OrderedModel`` (coefficients, thresholds converted from
its ``[theta_0, log increments]`` parameters, standard errors, llf, llnull) on
two data sets; R's ``MASS::polr`` results for the UCLA ``apply ~ pared + public
+ gpa`` data as published in statsmodels' own test suite,
``statsmodels/miscmodels/tests/results/results_ordinal_model.py`` (data
``ologit_ucla.csv`` beside it, read from the installed statsmodels at test
time); the binary logistic regression for two categories; finite differences
for the gradient and Hessian; independent re-fits for profile intervals.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logitfit import LogisticRegression, OrdinalLogisticRegression
from logitfit.blocks.memory import InMemoryBlocks
from logitfit.model.ordinal import (
    OrdinalObjective,
    ordinal_log_proba,
    params_from_thresholds,
    threshold_jacobian,
    thresholds_from_params,
)

pd = pytest.importorskip("pandas")
sm_ordinal = pytest.importorskip("statsmodels.miscmodels.ordinal_model")

CATS = ["unlikely", "somewhat likely", "very likely"]
FEATURES = ["pared", "public", "gpa"]


def _results_dir() -> Path:
    import statsmodels

    return Path(statsmodels.__file__).parent / "miscmodels" / "tests" / "results"


@pytest.fixture(scope="module")
def ucla():
    path = _results_dir() / "ologit_ucla.csv"
    if not path.is_file():
        pytest.skip(f"{path} is not installed with statsmodels")
    return pd.read_csv(path)


@pytest.fixture(scope="module")
def r_polr():
    """The published R polr results (a module of statsmodels' test suite, loaded by path)."""
    import importlib.util

    path = _results_dir() / "results_ordinal_model.py"
    if not path.is_file():
        pytest.skip(f"{path} is not installed with statsmodels")
    spec = importlib.util.spec_from_file_location("results_ordinal_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _synthetic(n=600, seed=3):
    """Four categories, three features (one binary), thresholds unevenly spaced."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.uniform(-1, 2, n)])
    eta = X @ [0.8, -0.6, 0.4]
    y = np.digitize(eta + rng.logistic(size=n), [-1.0, 0.2, 1.5])
    return X, y


def _statsmodels_fit(X, y, distr="logit", offset=None, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm_ordinal.OrderedModel(y, X, distr=distr, offset=offset)
        return model, model.fit(method="bfgs", disp=False, gtol=1e-11, maxiter=10_000, **kw)


def _natural(model, res):
    """statsmodels' parameters and covariance converted to (beta, theta)."""
    p = model.exog.shape[1]
    raw = np.asarray(res.params)
    theta = thresholds_from_params(raw[p:])
    T = np.eye(raw.size)
    T[p:, p:] = threshold_jacobian(raw[p:])
    cov = T @ np.asarray(res.cov_params()) @ T.T
    return np.concatenate([raw[:p], theta]), cov


def _datasets(ucla):
    X = ucla[FEATURES].to_numpy(float)
    y = ucla["apply"].map(CATS.index).to_numpy()
    return {"ucla": (X, y), "synthetic": _synthetic()}


# ------------------------------------------------------------ vs statsmodels


@pytest.mark.parametrize("name", ["ucla", "synthetic"])
@pytest.mark.parametrize("link", ["logit", "probit"])
def test_matches_statsmodels(ucla, name, link):
    X, y = _datasets(ucla)[name]
    model = OrdinalLogisticRegression(link=link, tol=1e-10).fit(X, y)
    sm_model, res = _statsmodels_fit(X, y, distr=link)
    params, cov = _natural(sm_model, res)
    ours = np.concatenate([model.coef_, model.thresholds_])
    np.testing.assert_allclose(ours, params, rtol=1e-6)
    assert model.llf_ == pytest.approx(res.llf, rel=1e-10)
    assert model.llnull_ == pytest.approx(res.llnull, rel=1e-8)
    # statsmodels differentiates its likelihood numerically for the Hessian (default step:
    # agreement 3e-6); its fourth-order difference approx_hess3 with a step of 3e-4 gets to ~2e-7
    np.testing.assert_allclose(model.bse_, np.sqrt(np.diag(cov)), rtol=1e-5)
    from statsmodels.tools.numdiff import approx_hess3

    raw = np.asarray(res.params)
    H = approx_hess3(raw, sm_model.loglike, epsilon=3e-4)
    T = np.eye(raw.size)
    p = X.shape[1]
    T[p:, p:] = threshold_jacobian(raw[p:])
    np.testing.assert_allclose(model.bse_, np.sqrt(np.diag(T @ np.linalg.inv(-H) @ T.T)), rtol=1e-6)


@pytest.mark.parametrize("cov_type", ["HC0", "cluster"])
def test_robust_covariances_match_statsmodels(ucla, cov_type):
    X, y = _datasets(ucla)["synthetic"]
    groups = np.arange(len(y)) % 23
    model = OrdinalLogisticRegression(tol=1e-10).fit(X, y)
    kw = {"cov_type": cov_type} | ({"cov_kwds": {"groups": groups}} if cov_type == "cluster" else {})
    sm_model, res = _statsmodels_fit(X, y, **kw)
    _, cov = _natural(sm_model, res)
    # statsmodels' scores and Hessian are numerical derivatives: 1e-5 on the standard errors
    V = model.cov_params(cov_type, groups)
    np.testing.assert_allclose(np.sqrt(np.diag(V)), np.sqrt(np.diag(cov)), rtol=1e-5)
    np.testing.assert_allclose(V, cov, atol=1e-5 * np.abs(cov).max())


def test_offset_matches_statsmodels(ucla):
    X, y = _datasets(ucla)["synthetic"]
    offset = 0.3 * np.sin(np.arange(len(y)))
    model = OrdinalLogisticRegression(tol=1e-10).fit(X, y, offset=offset)
    sm_model, res = _statsmodels_fit(X, y, offset=offset)
    params, _ = _natural(sm_model, res)
    np.testing.assert_allclose(np.concatenate([model.coef_, model.thresholds_]), params, rtol=1e-6)
    assert model.llf_ == pytest.approx(res.llf, rel=1e-10)
    with pytest.raises(ValueError, match="pass offset="):
        model.predict(X)
    np.testing.assert_allclose(model.predict_proba(X, offset=offset), np.asarray(res.predict()), atol=1e-7)
    # the null model keeps the offset: a thresholds-only fit with it
    null = OrdinalLogisticRegression(tol=1e-10).fit(np.zeros((len(y), 0)), y, offset=offset)
    assert model.llnull_ == pytest.approx(null.llf_, rel=1e-10)


# ------------------------------------------------------------ vs R's polr


@pytest.mark.parametrize("link, key", [("logit", "res_ord_logit"), ("probit", "res_ord_probit"),
                                       ("cloglog", "res_ord_cloglog")])
def test_matches_published_r_polr(ucla, r_polr, link, key):
    """R 3.4.4 MASS::polr on the UCLA data (results_ordinal_model.py in statsmodels' tests).

    R stops its BFGS earlier than our Newton fit: its estimates agree to the
    3-5 digits it converged to (its logit thresholds to 3e-4 relative; our
    log-likelihood is the higher one), its standard errors to the 4 decimals printed.
    """
    ref = getattr(r_polr, key)
    model = OrdinalLogisticRegression(link=link, categories=CATS).fit(ucla[FEATURES], ucla["apply"])
    np.testing.assert_allclose(model.coef_, ref.coefficients_val, rtol=1e-4, atol=2e-4)
    np.testing.assert_allclose(model.thresholds_, ref.thresholds, rtol=3e-4)
    y = ucla["apply"].map(CATS.index).to_numpy()
    objective = OrdinalObjective(InMemoryBlocks(ucla[FEATURES].to_numpy(float), y, np.ones(400)), 3, link=link)
    llf_r = -400 * objective.loss(objective.pack(ref.coefficients_val, ref.thresholds))
    assert model.llf_ >= llf_r
    np.testing.assert_allclose(model.bse_[:3], ref.coefficients_stdE, atol=1e-4 if link == "logit" else 2e-4)
    proba = model.predict_proba(ucla[FEATURES].iloc[:7])
    np.testing.assert_allclose(proba, ref.prob_pred, atol=1e-4)
    summary = model.summary()
    np.testing.assert_allclose(summary.p_value[:3], ref.coefficients_pval, rtol=2e-3, atol=1e-5)


# ------------------------------------------------------------ two categories


def test_two_categories_equal_binary_logistic_regression():
    """logit P(y <= 0) = theta - x'beta and logit P(y = 1) = b + x'w: beta = w, theta = -b."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 3))
    y = (X @ [1.0, -0.5, 0.25] + 0.3 + rng.logistic(size=400) > 0).astype(int)
    sw = rng.uniform(0.5, 2.0, 400)
    ordinal = OrdinalLogisticRegression(tol=1e-10).fit(X, y, sample_weight=sw)
    binary = LogisticRegression(tol=1e-10).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ordinal.coef_, binary.coef_[0], rtol=1e-9)
    np.testing.assert_allclose(ordinal.thresholds_, -binary.intercept_, rtol=1e-9)
    np.testing.assert_allclose(ordinal.predict_proba(X), binary.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(ordinal.bse_, binary.bse_, rtol=1e-8)
    assert ordinal.llf_ == pytest.approx(binary.llf_, rel=1e-12)


# ------------------------------------------------------------ derivatives


@st.composite
def problems(draw):
    n = draw(st.integers(5, 30))
    p = draw(st.integers(0, 3))
    K = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    link = draw(st.sampled_from(["logit", "probit", "cloglog"]))
    rng = np.random.default_rng(seed)
    # scale 3 reaches |eta| ~ 20: cloglog's e^eta ~ 1e8, where naive curvature terms would cancel
    X = rng.normal(size=(n, p)) * draw(st.sampled_from([0.5, 1.0, 3.0]))
    y = rng.integers(0, K, n)
    sw = rng.uniform(0.0, 2.0, n)
    offset = rng.normal(size=n) if draw(st.booleans()) else None
    x = rng.normal(size=p + K - 1)
    x[p + 1 :] = np.clip(x[p + 1 :], -2.0, 1.0)  # log increments
    alpha = draw(st.sampled_from([0.0, 0.3]))
    return X, y, sw, offset, link, K, x, alpha


def _richardson(fn, x, h=1e-4):
    """Central differences extrapolated (Richardson): error O(h^4), rows one per coordinate."""
    def central(step):
        return np.array([(np.asarray(fn(x + step * e)) - np.asarray(fn(x - step * e))) / (2 * step)
                         for e in np.eye(x.size)])

    return (4.0 * central(h / 2) - central(h)) / 3.0


@settings(max_examples=40)
@given(problems(), st.integers(1, 7))
def test_gradient_and_hessian_match_finite_differences(problem, rows_per_block):
    X, y, sw, offset, link, K, x, alpha = problem
    blocks = InMemoryBlocks(X, y, sw, rows_per_block=rows_per_block, offset=offset)
    objective = OrdinalObjective(blocks, K, link=link, alpha=alpha)
    f, g, H = objective.value_grad_hess(x)
    assert f == pytest.approx(objective.value(x), rel=1e-12)
    np.testing.assert_allclose(objective.grad(x), g, rtol=1e-12, atol=1e-14)
    g_fd = _richardson(objective.value, x)
    H_fd = _richardson(objective.grad, x)
    scale = max(1.0, np.abs(H).max())
    np.testing.assert_allclose(g, g_fd, atol=1e-6 * max(1.0, np.abs(g).max()))
    np.testing.assert_allclose(H, H_fd, atol=1e-6 * scale)
    np.testing.assert_allclose(H, H.T, atol=1e-12 * scale)
    v = np.linspace(-1.0, 1.0, x.size)
    np.testing.assert_allclose(objective.hessp(x)(v), H @ v, rtol=1e-12, atol=1e-14)


def test_scores_sum_to_the_gradient():
    X, y = _synthetic(200)
    sw = np.linspace(0.5, 1.5, y.size)
    objective = OrdinalObjective(InMemoryBlocks(X, y, sw, rows_per_block=64), 4, link="probit")
    x = np.array([0.3, -0.2, 0.1, -0.5, 0.1, 0.2])
    _, g_nat, _ = objective.natural_hessian(x)
    U = np.vstack(list(objective.scores(x)))
    np.testing.assert_allclose(-U.sum(axis=0) / sw.sum(), g_nat, rtol=1e-10, atol=1e-14)


def test_log_probabilities_are_stable_in_the_tails():
    theta = np.array([0.0, 1.0])
    eta = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    for link in ("logit", "probit", "cloglog"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no overflow or invalid-value warning anywhere
            logp = ordinal_log_proba(eta, theta, link)
        assert np.all(np.isfinite(logp) | (logp == -np.inf))
        np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0, rtol=1e-12)
    logit = ordinal_log_proba(eta, theta, "logit")
    # P(y = 2 | eta = -40) = 1 - sigmoid(41) = sigmoid(-41): log = -41 - log1p(exp(-41))
    assert logit[1, 2] == pytest.approx(-41.0 - math.log1p(math.exp(-41.0)), rel=1e-14)
    # P(y = 1 | eta = 40) = sigmoid(-39) - sigmoid(-40), computed in closed form
    exact = math.log(math.exp(-39) / (1 + math.exp(-39)) - math.exp(-40) / (1 + math.exp(-40)))
    assert logit[3, 1] == pytest.approx(exact, rel=1e-12)
    # a narrow gap: P(y = 1) = sigmoid(1e-9) - sigmoid(0) ~ 2.5e-10, to full precision
    narrow = ordinal_log_proba(np.array([0.0]), np.array([0.0, 1e-9]), "logit")[0, 1]
    assert narrow == pytest.approx(math.log(0.25e-9), rel=1e-9)


def test_threshold_parameterisation_round_trips():
    theta = np.array([-1.5, -0.2, 0.0, 3.0])
    np.testing.assert_allclose(thresholds_from_params(params_from_thresholds(theta)), theta, rtol=1e-15)
    with pytest.raises(ValueError, match="strictly increasing"):
        params_from_thresholds(np.array([0.0, 0.0]))


# ------------------------------------------------------------ the estimator


def test_sample_weights_equal_repeated_rows():
    X, y = _synthetic(150, seed=9)
    w = np.random.default_rng(0).integers(0, 4, y.size)
    weighted = OrdinalLogisticRegression(tol=1e-10).fit(X, y, sample_weight=w)
    repeated = OrdinalLogisticRegression(tol=1e-10).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8)
    np.testing.assert_allclose(weighted.thresholds_, repeated.thresholds_, rtol=1e-8)
    np.testing.assert_allclose(weighted.bse_, repeated.bse_, rtol=1e-8)


def test_l2_penalty_minimises_the_penalised_objective():
    from scipy.optimize import minimize as scipy_minimize

    X, y = _synthetic(300)
    model = OrdinalLogisticRegression(penalty="l2", alpha=0.05, tol=1e-10).fit(X, y)

    def f(x):  # the same penalised objective, written out independently
        beta, theta = x[:3], x[3:]
        if np.any(np.diff(theta) <= 0):
            return np.inf
        loss = -ordinal_log_proba(X @ beta, theta)[np.arange(y.size), y].mean()
        return loss + 0.025 * beta @ beta

    start = np.concatenate([np.zeros(3), [-1.0, 0.0, 1.0]])
    ref = scipy_minimize(f, start, method="BFGS", options={"gtol": 1e-9})
    np.testing.assert_allclose(np.concatenate([model.coef_, model.thresholds_]), ref.x, atol=1e-6)
    assert np.all(np.abs(model.coef_) < np.abs(OrdinalLogisticRegression().fit(X, y).coef_))


def test_l1_penalty_meets_its_optimality_conditions():
    X, y = _synthetic(300)
    X = np.column_stack([X, np.random.default_rng(1).normal(size=(300, 2))])  # two noise features
    alpha = 0.02
    model = OrdinalLogisticRegression(penalty="l1", alpha=alpha, tol=1e-9).fit(X, y)
    assert model.solver_ == "prox"
    objective = OrdinalObjective(InMemoryBlocks(X, y, np.ones(300)), 4)
    x = objective.pack(model.coef_, model.thresholds_)
    g = objective.grad(x)
    p = X.shape[1]
    on = model.coef_ != 0
    np.testing.assert_allclose(g[:p][on], -alpha * np.sign(model.coef_[on]), atol=1e-7)
    assert np.all(np.abs(g[:p][~on]) <= alpha + 1e-7)
    np.testing.assert_allclose(g[p:], 0.0, atol=1e-7)
    assert OrdinalLogisticRegression(penalty="l1", alpha=10.0).fit(X, y).coef_.tolist() == [0.0] * p
    with pytest.raises(ValueError, match="standard errors are not defined"):
        model.summary()
    with pytest.raises(ValueError, match="needs solver 'prox'"):
        OrdinalLogisticRegression(penalty="l1", solver="newton").fit(X, y)


def test_elastic_net_splits_alpha():
    X, y = _synthetic(200)
    enet = OrdinalLogisticRegression(penalty="elasticnet", alpha=0.04, l1_ratio=0.5, tol=1e-9).fit(X, y)
    objective = OrdinalObjective(InMemoryBlocks(X, y, np.ones(200)), 4, alpha=0.02)
    g = objective.grad(objective.pack(enet.coef_, enet.thresholds_))
    on = enet.coef_ != 0
    np.testing.assert_allclose(g[:3][on], -0.02 * np.sign(enet.coef_[on]), atol=1e-7)


def test_predictions_and_categories(ucla):
    model = OrdinalLogisticRegression(categories=CATS).fit(ucla[FEATURES], ucla["apply"])
    proba = model.predict_proba(ucla[FEATURES])
    assert proba.shape == (400, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    labels = model.predict(ucla[FEATURES])
    assert set(labels) <= set(CATS)
    np.testing.assert_array_equal(labels, np.asarray(CATS)[proba.argmax(axis=1)])
    assert model.score(ucla[FEATURES], ucla["apply"]) == pytest.approx(np.mean(labels == ucla["apply"]))
    np.testing.assert_allclose(model.predict_cumulative(ucla[FEATURES]), np.cumsum(proba, axis=1)[:, :2])
    # an ordered categorical keeps its order; plain strings sort (a different model)
    ordered = pd.Categorical(ucla["apply"], categories=CATS, ordered=True)
    again = OrdinalLogisticRegression().fit(ucla[FEATURES], pd.Series(ordered))
    np.testing.assert_array_equal(again.classes_, CATS)
    np.testing.assert_allclose(again.coef_, model.coef_, rtol=1e-12)


def test_formula_and_string_columns(ucla):
    data = ucla.assign(apply=pd.Categorical(ucla["apply"], categories=CATS, ordered=True),
                       school=np.where(ucla["public"] == 1, "public", "private"))
    by_formula = OrdinalLogisticRegression.from_formula("apply ~ pared + C(public) + gpa", data)
    plain = OrdinalLogisticRegression(categories=CATS).fit(ucla[FEATURES], ucla["apply"])
    np.testing.assert_allclose(by_formula.coef_, plain.coef_, rtol=1e-10)
    assert by_formula.summary().names[:3] == ["pared", "C(public)[T.1]", "gpa"]
    np.testing.assert_allclose(by_formula.predict_proba(data), plain.predict_proba(ucla[FEATURES]), rtol=1e-10)
    frame = data[["pared", "school", "gpa"]]
    coded = OrdinalLogisticRegression(categories=CATS).fit(frame, ucla["apply"])
    np.testing.assert_allclose(coded.coef_, plain.coef_, rtol=1e-10)
    np.testing.assert_allclose(coded.predict_proba(frame.iloc[:5]), plain.predict_proba(ucla[FEATURES].iloc[:5]),
                               rtol=1e-10)


def test_bad_input_is_refused_clearly():
    X, y = _synthetic(50)
    with pytest.raises(ValueError, match="label 7 at row 0"):
        OrdinalLogisticRegression(categories=[0, 1, 2, 3]).fit(X, np.r_[7, y[1:]])
    with pytest.raises(ValueError, match="category '4' has no rows"):
        OrdinalLogisticRegression(categories=[0, 1, 2, 3, 4]).fit(X, y)
    with pytest.raises(ValueError, match="link must be one of"):
        OrdinalLogisticRegression(link="cauchit").fit(X, y)
    with pytest.raises(ValueError, match="cd and sgd need"):
        OrdinalLogisticRegression(solver="cd").fit(X, y)
    with pytest.raises(ValueError, match="at least two categories"):
        OrdinalLogisticRegression().fit(X, np.zeros(50))
    with pytest.raises(ValueError, match="offset has a missing or non-finite value"):
        OrdinalLogisticRegression().fit(X, y, offset=np.full(50, np.nan))


@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs"])
def test_solvers_agree(solver):
    X, y = _synthetic(300)
    ref = OrdinalLogisticRegression(tol=1e-10).fit(X, y)
    other = OrdinalLogisticRegression(solver=solver, tol=1e-9).fit(X, y)
    assert other.converged_
    np.testing.assert_allclose(other.coef_, ref.coef_, rtol=1e-6)


# ------------------------------------------------------------ inference


def test_profile_intervals_reach_the_chi_square_cut_off(ucla):
    """At each end point, an independent statsmodels fit with beta_j fixed (as an offset) gives the cut-off."""
    X, y = _datasets(ucla)["ucla"]
    model = OrdinalLogisticRegression(tol=1e-10).fit(X, y)
    ci = model.conf_int(method="profile")
    cut = 3.841458820694124  # chi2_{1, 0.95}
    for j in range(3):
        for c in ci[j]:
            others = np.delete(X, j, axis=1)
            _, res = _statsmodels_fit(others, y, offset=c * X[:, j])
            assert 2 * (model.llf_ - res.llf) == pytest.approx(cut, abs=1e-5)
    wald = model.conf_int()
    assert np.all(np.abs(ci[:3] - wald[:3]) < 0.05)  # close to, but not, the Wald intervals
    np.testing.assert_allclose(ci[3:], wald[3:])


def test_lr_test_and_aic(ucla):
    X, y = _datasets(ucla)["ucla"]
    model = OrdinalLogisticRegression().fit(X, y)
    lr = model.lr_test()
    assert lr.df == 3
    assert lr.statistic == pytest.approx(2 * (model.llf_ - model.llnull_))
    counts = np.bincount(y)
    assert model.llnull_ == pytest.approx(counts @ np.log(counts / counts.sum()), rel=1e-12)
    assert model.aic_ == pytest.approx(-2 * model.llf_ + 2 * 5)
    from scipy import stats

    assert lr.pvalue == pytest.approx(stats.chi2.sf(lr.statistic, 3), rel=1e-10)


def test_average_marginal_effects_match_finite_differences(ucla):
    from logitfit.inference.ordinal import OrdinalInference

    X, y = _synthetic(300)
    sw = np.linspace(0.5, 2.0, 300)
    for link in ("logit", "cloglog"):
        model = OrdinalLogisticRegression(link=link, tol=1e-10).fit(X, y, sample_weight=sw)
        me = model.marginal_effects()
        ame = me["effect"]
        h = 1e-6
        for j in range(3):  # the effect: finite differences of the average predicted probabilities
            up, down = X.copy(), X.copy()
            up[:, j] += h
            down[:, j] -= h
            fd = sw @ (model.predict_proba(up) - model.predict_proba(down)) / (2 * h) / sw.sum()
            np.testing.assert_allclose(ame[j], fd, atol=1e-8)
        np.testing.assert_allclose(ame.sum(axis=1), 0.0, atol=1e-14)
        # the standard errors: the delta method with a finite-difference Jacobian in (beta, theta)
        objective, x = model._retained
        params = np.concatenate([model.coef_, model.thresholds_])

        def effect(v):
            at = objective.pack(v[:3], v[3:])
            return OrdinalInference(objective, at, ["a", "b", "c"], model.classes_).marginal_effects()["effect"]

        J = _richardson(lambda v: effect(v).ravel(), params, h=1e-4).T
        V = model.cov_params()
        se = np.sqrt(np.einsum("ij,jk,ik->i", J, V, J)).reshape(ame.shape)
        np.testing.assert_allclose(me["std_err"], se, rtol=1e-6)
        np.testing.assert_allclose(me["z"], ame / se, rtol=1e-6)
        assert list(me["names"]) == ["x0", "x1", "x2"] and list(me["categories"]) == [0, 1, 2, 3]
        del x


def test_summary_text_and_frame(ucla):
    model = OrdinalLogisticRegression(categories=CATS).fit(ucla[FEATURES], ucla["apply"])
    summary = model.summary()
    text = str(summary)
    assert "unlikely|somewhat likely" in text and "LR chi2" in text and "polr" in text
    frame = summary.to_frame()
    assert list(frame.index) == [*FEATURES, "unlikely|somewhat likely", "somewhat likely|very likely"]
    np.testing.assert_allclose(frame["std_err"], model.bse_)
    assert "| pared |" in summary.to_markdown()
    hc0 = model.summary(cov_type="HC0")
    assert hc0.std_err[0] != summary.std_err[0]
    with pytest.raises(ValueError, match="needs groups"):
        model.summary(cov_type="cluster")


def test_state_round_trip_and_validation(ucla):
    data = ucla.assign(apply=pd.Categorical(ucla["apply"], categories=CATS, ordered=True))
    model = OrdinalLogisticRegression.from_formula("apply ~ pared + C(public) + gpa", data)
    state = model.to_state()
    import json

    again = OrdinalLogisticRegression.from_state(json.loads(json.dumps(state)))
    np.testing.assert_array_equal(again.predict_proba(data), model.predict_proba(data))
    np.testing.assert_array_equal(again.predict(data), model.predict(data))
    np.testing.assert_allclose(again.summary().std_err, model.summary().std_err, rtol=1e-15)
    assert again.summary().info["LR chi2"] == model.summary().info["LR chi2"]
    with pytest.raises(ValueError, match="training rows"):
        again.summary(cov_type="HC0")
    bad = [("thresholds", [1.0, 0.5]), ("thresholds", [0.0]), ("coef", ["1"]), ("link", "cauchit"),
           ("coef", [float("nan")] * 3), ("fit", {"n_iter": [1] * 5, "converged": True, "solver": "newton",
                                                  "objective": 1.0}),
           ("fit", {"n_iter": 3, "converged": True, "solver": "os.system", "objective": 1.0}),
           ("offset", "yes"), ("feature_names", ["a", "b"])]
    for key, value in bad:
        broken = json.loads(json.dumps(state))
        broken[key] = value
        with pytest.raises(ValueError):
            OrdinalLogisticRegression.from_state(broken)
    broken = json.loads(json.dumps(state))
    broken["inference"]["covariance"][0][1] = 5.0  # not symmetric
    with pytest.raises(ValueError, match="symmetric"):
        OrdinalLogisticRegression.from_state(broken)


def test_pickle_drops_the_training_rows():
    import pickle

    X, y = _synthetic(100)
    model = OrdinalLogisticRegression().fit(X, y)
    model.summary()
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert "_retained" not in again.__dict__


def test_shipped_ucla_data_equal_statsmodels_copy(ucla):
    """logitfit.datasets.load_ucla_apply is the statsmodels file, byte for byte, with the order set."""
    from logitfit import datasets

    assert Path(datasets.path("ucla_apply")).read_bytes() == (_results_dir() / "ologit_ucla.csv").read_bytes()
    shipped = datasets.load_ucla_apply()
    assert list(shipped["apply"].cat.categories) == CATS and shipped["apply"].cat.ordered
    np.testing.assert_array_equal(shipped["apply"].astype(str), ucla["apply"])
    model = OrdinalLogisticRegression.from_formula("apply ~ pared + public + gpa", shipped)
    np.testing.assert_array_equal(model.classes_, CATS)


def test_streamed_rows_fit_as_in_memory(tmp_path):
    """The objective is a map over blocks: rows streamed from a Parquet file give the in-memory fit."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from logitfit.blocks.stream import StreamBlocks, StreamSpec
    from logitfit.model.ordinal import category_counts
    from logitfit.solvers import SolverOptions, minimize

    X, y = _synthetic(700, seed=11)
    offset = 0.2 * np.sin(np.arange(700))
    sw = np.linspace(0.5, 1.5, 700)
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y, "w": sw, "o": offset}), path,
                   row_group_size=100)
    spec = StreamSpec(paths=(str(path),), fmt="parquet", features=("a", "b", "c"), target="y", weight="w",
                      target_type=pa.int64(), offset="o")
    streamed = StreamBlocks(spec, np.arange(4), 700, float(sw.sum()), rows_per_block=128)
    memory = InMemoryBlocks(X, y, sw, offset=offset)
    fits = []
    for blocks in (streamed, memory):
        objective = OrdinalObjective(blocks, 4, link="probit")
        fits.append(minimize(objective, objective.zero(category_counts(blocks, 4)), "newton",
                             SolverOptions(tol=1e-11)).x)
    np.testing.assert_allclose(fits[0], fits[1], rtol=1e-8)
    model = OrdinalLogisticRegression(link="probit", tol=1e-11).fit(X, y, sample_weight=sw, offset=offset)
    np.testing.assert_allclose(fits[0][:3], model.coef_, rtol=1e-8)


def test_lr_test_of_nested_models(ucla):
    """logitfit.lr_test compares two ordinal fits; the statistic is statsmodels' llf difference."""
    from logitfit import lr_test

    X, y = _datasets(ucla)["ucla"]
    full = OrdinalLogisticRegression(tol=1e-10).fit(X, y)
    restricted = OrdinalLogisticRegression(tol=1e-10).fit(X[:, [0, 2]], y)
    test = lr_test(restricted, full)
    _, res_full = _statsmodels_fit(X, y)
    _, res_restricted = _statsmodels_fit(X[:, [0, 2]], y)
    assert test.df == 1
    assert test.statistic == pytest.approx(2 * (res_full.llf - res_restricted.llf), rel=1e-6)


def test_sparse_rows_give_the_dense_fit():
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)) * (rng.random((300, 4)) < 0.5)
    y = np.digitize(X @ [1.0, -1.0, 0.5, 0.0] + rng.logistic(size=300), [-1.0, 0.0, 1.0])
    dense = OrdinalLogisticRegression(tol=1e-10).fit(X, y)
    sparse = OrdinalLogisticRegression(tol=1e-10).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-12)
    np.testing.assert_allclose(sparse.cov_params("HC0"), dense.cov_params("HC0"), rtol=1e-10)
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), rtol=1e-12)


def test_separated_categories_warn():
    from logitfit import ConvergenceWarning

    X = np.arange(30.0)[:, None]
    y = np.repeat([0, 1, 2], 10)  # x orders the categories perfectly: no finite maximum
    with pytest.warns(ConvergenceWarning, match="separate the categories"):
        model = OrdinalLogisticRegression(max_iter=30).fit(X, y)
    assert not model.converged_
