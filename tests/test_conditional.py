"""Conditional (matched case-control) logistic regression: model.conditional and estimators.conditional.

What matches what (tolerances stated at each test):

* the recursion's value, gradient and Hessian against brute-force enumeration of
  every m-subset of a stratum (itertools.combinations), 1e-12;
* the log-likelihood of a stratum of 2,000 rows with 50 cases against the
  elementary symmetric polynomial computed by polynomial multiplication, 1e-10;
* params, bse and llf against statsmodels ``ConditionalLogit`` (its Newton fit), 1e-6;
* 1:1 pairs against the logistic regression of the within-pair differences (no
  intercept, d with y=1 and -d with y=0, weights 1/2), 1e-6; the two
  log-likelihood functions agree at several beta to 1e-12;
* Efron and Breslow against statsmodels ``PHReg`` (cases with an event at time 1,
  controls censored at time 2, strata = matched sets), params and llf to 1e-6;
* gradient and Hessian against finite differences on hypothesis-drawn strata;
* streamed (chunks cutting strata) and Dask fits against the in-memory fit, 1e-8.
"""

from __future__ import annotations

import itertools
import json
import math
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logitfit import ConditionalLogisticRegression
from logitfit.data.formula_reader import FormulaRefused, split_strata
from logitfit.model.conditional import (
    ConditionalObjective,
    InMemoryStrata,
    make_strata_block,
    strata_from_rows,
    strata_kernel,
)


def _matched(n_strata=120, sizes=(2, 7), p=3, seed=0, beta=(0.8, -0.5, 0.3)):
    """Strata of random sizes, each with 1..n-1 cases drawn with odds exp(x beta)."""
    rng = np.random.default_rng(seed)
    n_s = rng.integers(sizes[0], sizes[1], size=n_strata)
    groups = np.repeat(np.arange(n_strata), n_s)
    X = rng.normal(size=(groups.size, p))
    eta = X @ np.asarray(beta[:p])
    y = np.zeros(groups.size, dtype=int)
    for g in range(n_strata):
        idx = np.flatnonzero(groups == g)
        m = rng.integers(1, idx.size)
        w = np.exp(eta[idx])
        y[rng.choice(idx, m, replace=False, p=w / w.sum())] = 1
    return X, y, groups


def _brute(X, case, beta):
    """l, dl/dbeta and -d2l/dbeta2 of one stratum by enumerating every m-subset."""
    case = np.asarray(case, bool)
    subsets = list(itertools.combinations(range(X.shape[0]), int(case.sum())))
    xs = np.array([X[list(S)].sum(axis=0) for S in subsets])
    e = xs @ beta
    top = e.max()
    P = np.exp(e - top)
    Z = P.sum()
    P /= Z
    mu = P @ xs
    return X[case].sum(axis=0) @ beta - top - math.log(Z), X[case].sum(axis=0) - mu, (xs - mu).T @ ((xs - mu) * P[:, None])


# ------------------------------------------------------------------ the kernel


@pytest.mark.parametrize("n, m", [(2, 1), (5, 1), (5, 2), (6, 3), (7, 5), (4, 3), (9, 4), (8, 7), (10, 6)])
def test_recursion_matches_enumeration(n, m):
    rng = np.random.default_rng(n * 10 + m)
    X = rng.normal(size=(n, 3)) * 2 + 5  # far from centred: the block centres them
    case = np.zeros(n, bool)
    case[rng.choice(n, m, replace=False)] = True
    beta = rng.normal(size=3)
    ll, g, H = strata_kernel(make_strata_block(X, case, [0, n]), beta, "exact", 2)
    ll0, g0, H0 = _brute(X, case, beta)
    assert abs(ll - ll0) < 1e-12 * max(1, abs(ll0))
    np.testing.assert_allclose(g, g0, rtol=0, atol=1e-12 * max(1, np.abs(g0).max()))
    np.testing.assert_allclose(H, H0, rtol=0, atol=1e-12 * max(1, np.abs(H0).max()))


def test_block_of_mixed_strata_is_the_weighted_sum_of_its_strata():
    rng = np.random.default_rng(3)
    sizes, cases = [3, 5, 5, 6, 2, 5, 4, 9], [1, 2, 2, 4, 1, 3, 3, 1]  # plain, flipped, softmax
    X = rng.normal(size=(sum(sizes), 2))
    case = np.concatenate([np.arange(s) < c for s, c in zip(sizes, cases, strict=True)])
    w = rng.uniform(0.5, 2.0, size=len(sizes))
    starts = np.concatenate([[0], np.cumsum(sizes)])
    beta = np.array([0.7, -1.1])
    ll, g, H, M = strata_kernel(make_strata_block(X, case, starts, w), beta, "exact", 3)
    parts = [_brute(X[a:b], case[a:b], beta) for a, b in itertools.pairwise(starts)]
    assert abs(ll - sum(wi * p[0] for wi, p in zip(w, parts, strict=True))) < 1e-12
    np.testing.assert_allclose(g, sum(wi * p[1] for wi, p in zip(w, parts, strict=True)), atol=1e-12)
    np.testing.assert_allclose(H, sum(wi * p[2] for wi, p in zip(w, parts, strict=True)), atol=1e-12)
    np.testing.assert_allclose(M, sum(wi**2 * np.outer(p[1], p[1]) for wi, p in zip(w, parts, strict=True)),
                               atol=1e-12)


def test_large_stratum_equals_the_elementary_symmetric_polynomial():
    """B(50, 2000) as the t^50 coefficient of prod_j (1 + w_j t), by repeated polynomial multiplication."""
    rng = np.random.default_rng(7)
    n, m = 2000, 50
    X = rng.normal(size=(n, 2))
    case = np.arange(n) < m
    beta = np.array([0.4, -0.3])
    (ll,) = strata_kernel(make_strata_block(X, case, [0, n]), beta, "exact", 0)
    eta = X @ beta
    c = eta.max()
    coeff = np.zeros(m + 1)
    coeff[0] = 1.0
    for wj in np.exp(eta - c):
        coeff[1:] = coeff[1:] + wj * coeff[:-1]
    expected = eta[case].sum() - (m * c + math.log(coeff[m]))
    assert abs(ll - expected) < 1e-10 * abs(expected)


@pytest.mark.parametrize("n, m", [(65, 2), (100, 7), (101, 30), (150, 140), (230, 12)])
def test_long_strata_merged_in_runs_equal_the_row_by_row_recursion(n, m, monkeypatch):
    import logitfit.model.conditional as mc

    rng = np.random.default_rng(n + m)
    X = rng.normal(size=(2 * n, 3))
    case = np.concatenate([rng.permutation(np.arange(n) < m), rng.permutation(np.arange(n) < m)])
    block = make_strata_block(X, case, [0, n, 2 * n], [1.0, 2.5])
    beta = rng.normal(size=3)
    runs = strata_kernel(block, beta, "exact", 2)
    monkeypatch.setattr(mc, "_SHORT_STRATUM", 10**9)
    rows = strata_kernel(block, beta, "exact", 2)
    for a, b in zip(runs, rows, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11)


def test_extreme_scores_stay_finite():
    X = np.array([[800.0], [0.0], [-800.0], [1.0], [3.0]])
    case = np.array([1, 1, 0, 0, 1], bool)
    out = strata_kernel(make_strata_block(X, case, [0, 5]), np.array([1.0]), "exact", 2)
    assert all(np.all(np.isfinite(v)) for v in out)
    assert abs(out[0] - _brute(X, case, np.array([1.0]))[0]) < 1e-9


@st.composite
def _problems(draw):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    sizes = draw(st.lists(st.integers(2, 7), min_size=1, max_size=6))
    case = np.concatenate([rng.permutation(np.arange(s) < rng.integers(1, s)) for s in sizes])
    p = draw(st.integers(1, 3))
    X = rng.normal(size=(case.size, p))
    w = rng.uniform(0.2, 3.0, size=len(sizes))
    block = make_strata_block(X, case, np.concatenate([[0], np.cumsum(sizes)]), w)
    method = draw(st.sampled_from(["exact", "efron", "breslow"]))
    alpha = draw(st.sampled_from([0.0, 0.3]))
    obj = ConditionalObjective(InMemoryStrata([block]), p, weight_sum=float(w.sum()), method=method, alpha=alpha)
    return obj, rng.normal(size=p)


@settings(max_examples=60, deadline=None)
@given(_problems())
def test_gradient_and_hessian_match_finite_differences(problem):
    obj, beta = problem
    h = 1e-5
    eye = np.eye(beta.size)
    fd_g = np.array([(obj.value(beta + h * e) - obj.value(beta - h * e)) / (2 * h) for e in eye])
    fd_H = np.array([(obj.grad(beta + h * e) - obj.grad(beta - h * e)) / (2 * h) for e in eye])
    f, g, H = obj.value_grad_hess(beta)
    assert f == pytest.approx(obj.value(beta), abs=1e-12)
    np.testing.assert_allclose(g, fd_g, atol=1e-7)
    np.testing.assert_allclose(H, fd_H, atol=1e-6)
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    assert np.linalg.eigvalsh(H).min() > -1e-10  # convex
    v = np.ones(beta.size)
    np.testing.assert_allclose(obj.hessp(beta)(v), H @ v, atol=1e-12)


# -------------------------------------------------------- against references


def test_matches_statsmodels_conditional_logit():
    from statsmodels.discrete.conditional_models import ConditionalLogit

    X, y, groups = _matched()
    ref = ConditionalLogit(y, X, groups=groups).fit(method="newton", tol=1e-12, disp=0)
    model = ConditionalLogisticRegression().fit(X, y, groups=groups)
    np.testing.assert_allclose(model.coef_, ref.params, rtol=1e-6)
    np.testing.assert_allclose(model.bse_, ref.bse, rtol=1e-6)
    assert model.llf_ == pytest.approx(ref.llf, rel=1e-6)
    assert model.llnull_ == pytest.approx(ConditionalLogit(y, X, groups=groups).loglike(np.zeros(3)), rel=1e-12)


def test_pairs_equal_the_logistic_regression_of_differences():
    from logitfit import LogisticRegression

    rng = np.random.default_rng(5)
    n, p = 150, 3
    xa, xb = rng.normal(size=(n, p)), rng.normal(size=(n, p))
    first = (xa - xb) @ [1.0, -0.7, 0.2] + rng.logistic(size=n) > 0
    case_x, ctrl_x = np.where(first[:, None], xa, xb), np.where(first[:, None], xb, xa)
    X = np.empty((2 * n, p))
    X[0::2], X[1::2] = case_x, ctrl_x
    y = np.tile([1, 0], n)
    groups = np.repeat(np.arange(n), 2)
    model = ConditionalLogisticRegression().fit(X, y, groups=groups)
    d = case_x - ctrl_x
    both = np.vstack([d, -d])
    lr = LogisticRegression(fit_intercept=False, tol=1e-10).fit(both, np.r_[np.ones(n), np.zeros(n)],
                                                                 sample_weight=np.full(2 * n, 0.5))
    np.testing.assert_allclose(model.coef_, lr.coef_[0], rtol=1e-6)
    # the two log-likelihood functions are the same function of beta
    block, info = strata_from_rows(X, y == 1, groups)
    obj = ConditionalObjective(InMemoryStrata([block]), p, weight_sum=info.weight_sum)
    for beta in rng.normal(size=(4, p)):
        z = d @ beta
        assert obj.loglik(beta)[0] == pytest.approx(-np.logaddexp(0, -z).sum(), abs=1e-12 * n)


@pytest.mark.parametrize("method", ["efron", "breslow"])
def test_tied_approximations_match_statsmodels_phreg(method):
    from statsmodels.duration.hazard_regression import PHReg

    X, y, groups = _matched(n_strata=60, seed=2)
    # cases have their event at time 1; controls are censored at time 2 (still at risk at time 1)
    ref = PHReg(np.where(y == 1, 1.0, 2.0), X, status=y, strata=groups, ties=method).fit()
    model = ConditionalLogisticRegression(method=method).fit(X, y, groups=groups)
    np.testing.assert_allclose(model.coef_, ref.params, rtol=1e-6)
    np.testing.assert_allclose(model.bse_, ref.bse, rtol=1e-6)
    assert model.llf_ == pytest.approx(ref.llf, rel=1e-6)


def test_one_case_per_stratum_makes_the_three_methods_agree():
    X, _, groups = _matched(seed=4)
    y = np.zeros(groups.size, int)
    y[np.unique(groups, return_index=True)[1]] = 1
    fits = [ConditionalLogisticRegression(method=m).fit(X, y, groups=groups).coef_ for m in ("exact", "efron", "breslow")]
    np.testing.assert_allclose(fits[1], fits[0], rtol=1e-10)
    np.testing.assert_allclose(fits[2], fits[0], rtol=1e-10)


def test_infert_matches_statsmodels():
    from statsmodels.discrete.conditional_models import ConditionalLogit

    from logitfit.datasets import load_infert

    d = load_infert()
    model = ConditionalLogisticRegression.from_formula("case ~ spontaneous + induced + strata(stratum)", d)
    ref = ConditionalLogit(d["case"].to_numpy(), d[["spontaneous", "induced"]].to_numpy(),
                           groups=d["stratum"].to_numpy()).fit(method="newton", tol=1e-12, disp=0)
    np.testing.assert_allclose(model.coef_, ref.params, rtol=1e-6)
    np.testing.assert_allclose(model.bse_, ref.bse, rtol=1e-6)
    assert list(model.feature_names_in_) == ["spontaneous", "induced"]


def test_tests_and_cluster_covariance_from_their_definitions():
    X, y, groups = _matched(n_strata=80, seed=6)
    model = ConditionalLogisticRegression().fit(X, y, groups=groups)
    block, info = strata_from_rows(X, y == 1, groups)
    obj = ConditionalObjective(InMemoryStrata([block]), 3, weight_sum=info.weight_sum)
    ll0, u0, i0 = obj.loglik(np.zeros(3), 2)
    tests = model.tests()
    assert tests["lr"][0] == pytest.approx(2 * (model.llf_ - ll0), rel=1e-12)
    assert tests["score"][0] == pytest.approx(u0 @ np.linalg.solve(i0, u0), rel=1e-10)
    cov = model.cov_params()
    assert tests["wald"][0] == pytest.approx(model.coef_ @ np.linalg.solve(cov, model.coef_), rel=1e-8)
    # cluster: the sandwich with each stratum's own score, one stratum at a time
    scores = []
    for g in np.unique(groups):
        rows = groups == g
        b = make_strata_block(X[rows], y[rows] == 1, [0, int(rows.sum())])
        scores.append(strata_kernel(b, model.coef_, "exact", 1)[1])
    S = np.array(scores)
    np.testing.assert_allclose(model.cov_params("cluster"), cov @ S.T @ S @ cov, rtol=1e-8)
    assert model.aic_ == pytest.approx(-2 * model.llf_ + 6)


# ------------------------------------------------------------------ the API


def test_predict_proba_is_a_softmax_within_strata():
    X, y, groups = _matched(seed=8)
    model = ConditionalLogisticRegression().fit(X, y, groups=groups)
    prob = model.predict_proba(X, groups=groups)
    sums = np.bincount(groups, prob)
    np.testing.assert_allclose(sums, 1.0, rtol=1e-12)
    rows = groups == 3
    eta = X[rows] @ model.coef_
    np.testing.assert_allclose(prob[rows], np.exp(eta) / np.exp(eta).sum(), rtol=1e-12)


def test_dataframe_columns_and_formula_agree_with_arrays():
    import pandas as pd

    X, y, groups = _matched(seed=9)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(case=y, pair=groups)
    ref = ConditionalLogisticRegression().fit(X, y, groups=groups)
    cols = ConditionalLogisticRegression().fit(df, "case", groups="pair")
    formula = ConditionalLogisticRegression.from_formula("case ~ a + b + c + strata(pair)", df)
    np.testing.assert_allclose(cols.coef_, ref.coef_, rtol=1e-12)
    np.testing.assert_allclose(formula.coef_, ref.coef_, rtol=1e-12)
    assert list(cols.feature_names_in_) == ["a", "b", "c"]
    np.testing.assert_allclose(formula.predict_proba(df, groups="pair"), ref.predict_proba(X, groups), rtol=1e-12)


def test_degenerate_strata_are_dropped_with_a_warning():
    X, y, groups = _matched(n_strata=50, seed=10)
    extra_X = np.random.default_rng(0).normal(size=(7, 3))
    X2 = np.vstack([X, extra_X])
    y2 = np.r_[y, [0, 0, 0, 1, 1, 1, 1]]  # stratum 100: controls only; 101: cases only
    g2 = np.r_[groups, [100, 100, 100, 101, 101, 101, 101]]
    ref = ConditionalLogisticRegression().fit(X, y, groups=groups)
    with pytest.warns(UserWarning, match=r"^2 strata have no case or no control"):
        model = ConditionalLogisticRegression().fit(X2, y2, groups=g2)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-12)
    assert (model.n_strata_, model.n_dropped_strata_, model.n_obs_) == (50, 2, X.shape[0])


def test_bad_input_errors():
    X, y, groups = _matched(n_strata=20, seed=11)
    fit = ConditionalLogisticRegression().fit
    with pytest.raises(ValueError, match="groups must be one label per row"):
        fit(X, y, groups=groups[:-1])
    Xn = X.copy()
    Xn[4, 1] = np.nan
    with pytest.raises(ValueError, match="row 4, column 1"):
        fit(Xn, y, groups=groups)
    with pytest.raises(ValueError, match="groups has a missing value at row 2"):
        fit(X, y, groups=np.where(np.arange(groups.size) == 2, np.nan, groups))
    with pytest.raises(ValueError, match="0 \\(control\\) or 1 \\(case\\)"):
        fit(X, np.where(y == 1, 2, 0), groups=groups)
    with pytest.raises(ValueError, match="groups \\(the stratum of each row\\) is required"):
        fit(X, y)
    with pytest.raises(ValueError, match="constant within a stratum"):
        fit(X, y, groups=groups, sample_weight=np.arange(groups.size, dtype=float))
    with pytest.raises(ValueError, match="method must be one of"):
        ConditionalLogisticRegression(method="cox").fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="nothing to fit"), pytest.warns(UserWarning):
        fit(X, np.zeros_like(y), groups=groups)


def test_stratum_weights_equal_repeated_strata():
    X, y, groups = _matched(n_strata=40, seed=12)
    twice = groups < 10  # strata 0..9 counted twice
    Xr = np.vstack([X, X[twice]])
    yr = np.r_[y, y[twice]]
    gr = np.r_[groups, groups[twice] + 1000]
    ref = ConditionalLogisticRegression().fit(Xr, yr, groups=gr)
    model = ConditionalLogisticRegression().fit(X, y, groups=groups, sample_weight=np.where(twice, 2.0, 1.0))
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-10)
    assert model.llf_ == pytest.approx(ref.llf_, rel=1e-12)


def test_state_round_trips_through_json_and_is_validated():
    from logitfit.datasets import load_infert

    d = load_infert()
    model = ConditionalLogisticRegression.from_formula("case ~ spontaneous + induced + C(education) + strata(stratum)", d)
    state = json.loads(json.dumps(model.to_state()))
    back = ConditionalLogisticRegression.from_state(state)
    np.testing.assert_array_equal(back.coef_, model.coef_)
    np.testing.assert_array_equal(back.bse_, model.bse_)
    assert str(back.summary()) == str(model.summary())
    np.testing.assert_array_equal(back.predict_proba(d, groups="stratum"), model.predict_proba(d, groups="stratum"))
    bad = [("kind", "logistic"), ("coef", [1.0]), ("coef", ["1", 2.0, 3.0, 4.0]), ("feature_names", [1, 2]),
           ("cov", [[float("nan")] * 4] * 4), ("statistics", {"llf": 1.0}), ("params", {"method": "x"}),
           ("counts", {**state["counts"], "n_obs": -1}), ("strata_column", 3),
           ("encoding", {**state["encoding"], "rhs": "__import__('os')"})]
    for key, value in bad:
        with pytest.raises(ValueError):
            ConditionalLogisticRegression.from_state({**state, key: value})


def test_split_strata_is_safe():
    assert split_strata("x1 + x2 + strata(pair)") == ("x1 + x2", "pair")
    assert split_strata("strata(`my set`) + C(g)") == ("C(g)", "my set")
    assert split_strata("x1") == ("x1", None)
    for rhs in ("x1 * strata(p)", "x + strata(os.system('ls'))", "strata(a) + strata(b)", "x + strata(a, b)"):
        with pytest.raises(FormulaRefused):
            split_strata(rhs)


def test_large_stratum_fits_quickly():
    rng = np.random.default_rng(13)
    n, m = 2000, 50
    X = rng.normal(size=(n, 5))
    w = np.exp(X @ [0.5, -0.5, 0.25, 0.0, 0.3])
    case = np.zeros(n, int)
    case[rng.choice(n, m, replace=False, p=w / w.sum())] = 1
    t = time.perf_counter()
    model = ConditionalLogisticRegression().fit(X, case, groups=np.zeros(n, int))
    seconds = time.perf_counter() - t
    assert model.converged_
    assert seconds < 10  # about 0.3 s alone on one core; generous for a shared machine


# ------------------------------------------------------------ at scale


def _grouped_frame(seed=14):
    import pandas as pd

    X, y, groups = _matched(n_strata=90, seed=seed)
    return pd.DataFrame(X, columns=["a", "b", "c"]).assign(case=y, pair=groups)


def test_streamed_fit_equals_in_memory(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from logitfit import scan
    from logitfit.estimators.conditional_scale import StreamedStrata

    df = _grouped_frame()
    ref = ConditionalLogisticRegression().fit(df, "case", groups="pair")
    for i, part in enumerate(np.array_split(np.arange(len(df)), 2)):  # two files, a stratum may span them
        pq.write_table(pa.Table.from_pandas(df.iloc[part], preserve_index=False), tmp_path / f"p{i}.parquet",
                       row_group_size=37)
    data = scan(str(tmp_path / "*.parquet"), target="case", features=["a", "b", "c"])
    streamed = ConditionalLogisticRegression().fit(data, groups="pair")
    np.testing.assert_allclose(streamed.coef_, ref.coef_, rtol=1e-8)
    np.testing.assert_allclose(streamed.bse_, ref.bse_, rtol=1e-8)
    assert streamed.n_strata_ == ref.n_strata_ and streamed.llf_ == pytest.approx(ref.llf_, rel=1e-10)
    # chunks of 37 rows cut strata: the blocks still hold whole strata
    src = StreamedStrata(sorted(map(str, tmp_path.glob("*.parquet"))), "parquet", ["a", "b", "c"], "case", "pair",
                         batch_rows=37)
    assert sum(b.starts.size - 1 for b, _ in src.iter_blocks()) == 90
    # a stratum that comes back after others is refused, naming the file
    shuffled = df.sample(frac=1.0, random_state=0)
    shuffled.to_csv(tmp_path / "shuffled.csv", index=False)
    with pytest.raises(ValueError, match="appears again"):
        ConditionalLogisticRegression().fit(scan(str(tmp_path / "shuffled.csv"), target="case",
                                                 features=["a", "b", "c"]), groups="pair")


def test_dask_fit_equals_in_memory():
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    df = _grouped_frame(seed=15)
    ref = ConditionalLogisticRegression().fit(df, "case", groups="pair")
    cuts = [0, 30, 60, 90]  # whole strata per partition
    parts = [df[(df["pair"] >= a) & (df["pair"] < b)] for a, b in itertools.pairwise(cuts)]
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None):
        frame = dd.concat([dd.from_pandas(p, npartitions=1) for p in parts])
        model = ConditionalLogisticRegression().fit(frame, "case", groups="pair")
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8)
        np.testing.assert_allclose(model.bse_, ref.bse_, rtol=1e-8)
        # cut the rows inside stratum 45: it lies in two partitions
        k = int(np.flatnonzero(df["pair"].to_numpy() == 45)[1])
        split = dd.concat([dd.from_pandas(df.iloc[:k], npartitions=1), dd.from_pandas(df.iloc[k:], npartitions=1)])
        with pytest.raises(ValueError, match="stratum 45 lies in partitions 0 and 1"):
            ConditionalLogisticRegression().fit(split, "case", groups="pair")


def test_a_plain_fit_emits_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, y, groups = _matched(n_strata=30, seed=16)
        ConditionalLogisticRegression().fit(X, y, groups=groups)


def test_l2_penalty_solves_its_score_equation_and_shrinks():
    X, y, groups = _matched(n_strata=60, seed=17)
    plain = ConditionalLogisticRegression().fit(X, y, groups=groups)
    ridge = ConditionalLogisticRegression(alpha=0.05).fit(X, y, groups=groups)
    block, info = strata_from_rows(X, y == 1, groups)
    obj = ConditionalObjective(InMemoryStrata([block]), 3, weight_sum=info.weight_sum)
    _, score = obj.loglik(ridge.coef_, 1)
    np.testing.assert_allclose(score / info.weight_sum, 0.05 * ridge.coef_, atol=1e-8)
    assert np.linalg.norm(ridge.coef_) < np.linalg.norm(plain.coef_)


def test_summary_table_and_restored_array_model():
    X, y, groups = _matched(n_strata=50, seed=18)
    model = ConditionalLogisticRegression(method="efron").fit(X, y, groups=groups)
    summary = model.summary(cov_type="cluster", alpha=0.1)
    frame = summary.to_frame()
    np.testing.assert_allclose(frame["std_err"], np.sqrt(np.diag(model.cov_params("cluster"))), rtol=1e-12)
    np.testing.assert_allclose(frame["odds_ratio"], np.exp(model.coef_), rtol=1e-12)
    np.testing.assert_allclose(frame["ci_upper"] - frame["coef"], 1.6448536269514722 * frame["std_err"], rtol=1e-9)
    text = str(summary)
    assert "conditional logit (efron)" in text and "Score test: chi2(3)" in text and "[90% conf." in text
    back = ConditionalLogisticRegression.from_state(json.loads(json.dumps(model.to_state())))
    assert back.method == "efron"
    np.testing.assert_array_equal(back.predict_proba(X, groups), model.predict_proba(X, groups))
    np.testing.assert_array_equal(back.cov_params("cluster"), model.cov_params("cluster"))
    with pytest.raises(ValueError, match="3 feature columns"):
        back.predict_proba(X[:, :2], groups)


def test_scikit_learn_parameters_and_clone():
    """get_params / set_params / clone as any scikit-learn estimator (an unfitted copy, same settings)."""
    from sklearn.base import clone

    est = ConditionalLogisticRegression(method="efron", alpha=0.5)
    assert est.get_params() == {"method": "efron", "alpha": 0.5, "tol": 1e-8, "max_iter": None}
    copy = clone(est.set_params(tol=1e-6))
    assert copy.get_params()["tol"] == 1e-6 and copy is not est and not hasattr(copy, "coef_")
    assert repr(est).startswith("ConditionalLogisticRegression(method='efron', alpha=0.5")
