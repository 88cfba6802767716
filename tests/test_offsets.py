"""Offsets, ``z = X w + b + offset``: fit, predict, inference, null model, paths/CV, scan, Dask,
formulas, model files and the CLI.

Oracles: statsmodels ``GLM(..., family=Binomial(), offset=...)`` (coefficients, standard
errors, llf, llnull = the intercept-only model fitted WITH the offset) and its
``get_prediction(..., offset=...)``; the in-memory fit for the streamed and Dask fits;
manual fold fits for cross-validation; and the identity that fixing a coefficient by an
offset reproduces the unconstrained optimum (binary and multinomial).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logitfit import (
    FittedModel,
    LogisticRegression,
    LogisticRegressionCV,
    regularization_path,
    scan,
)
from logitfit.datasets import load_spector
from logitfit.solvers import SOLVERS

sm = pytest.importorskip("statsmodels.api")
pd = pytest.importorskip("pandas")

RTOL = 1e-6  # the bound against statsmodels
SCALE_RTOL = 1e-8  # streamed / Dask fits against the in-memory one
FIT_TOL = 1e-10


def _spector():
    """Spector: GRADE ~ GPA + PSI with TUCE's coefficient fixed at 0.1 (an offset of 0.1 TUCE)."""
    d = load_spector()
    return d[["GPA", "PSI"]].to_numpy(float), d["GRADE"].to_numpy(), 0.1 * d["TUCE"].to_numpy(float)


def _exposure(n=600, seed=0):
    """Binary outcomes over an exposure: log(exposure) is the offset (its coefficient is 1)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    exposure = rng.integers(1, 40, size=n)
    off = np.log(exposure) - 2.0
    y = (X @ [0.8, -0.5, 0.3] + off + 0.4 + rng.logistic(size=n) > 0).astype(int)
    return X, y, off


DATASETS = {"spector": _spector, "exposure": _exposure}


def _glm(X, y, off, fit_intercept=True):
    Xs = sm.add_constant(X, prepend=False, has_constant="add") if fit_intercept else X
    return sm.GLM(y, Xs, family=sm.families.Binomial(), offset=off).fit(tol=1e-13), Xs


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize("data", sorted(DATASETS))
def test_fit_and_inference_match_statsmodels_glm(data):
    X, y, off = DATASETS[data]()
    ref, _ = _glm(X, y, off)
    m = LogisticRegression(tol=FIT_TOL).fit(X, y, offset=off)
    assert m.offset_ == "offset"
    assert _rel(np.append(m.coef_[0], m.intercept_), ref.params) < RTOL
    assert _rel(m.bse_, ref.bse) < RTOL
    assert _rel(m.llf_, ref.llf) < RTOL
    assert _rel(m.llnull_, ref.llnull) < RTOL  # the null model is fitted with the offset
    s = m._inference()
    assert _rel(s.llr, ref.null_deviance - ref.deviance) < RTOL
    assert _rel(s.prsquared, 1.0 - ref.llf / ref.llnull) < RTOL
    # without the offset the fit differs: the offset did enter
    assert _rel(LogisticRegression(tol=FIT_TOL).fit(X, y).coef_, m.coef_) > 1e-3


def test_null_model_without_intercept_is_the_offset_alone():
    """No intercept: llnull is the log-likelihood at z = offset (R's glm: linkinv(offset))."""
    X, y, off = _exposure()
    m = LogisticRegression(tol=FIT_TOL, fit_intercept=False).fit(X, y, offset=off)
    p = 1.0 / (1.0 + np.exp(-off))
    assert _rel(m.llnull_, np.sum(y * np.log(p) + (1 - y) * np.log1p(-p))) < 1e-12
    ref, _ = _glm(X, y, off, fit_intercept=False)
    assert _rel(m.coef_[0], ref.params) < RTOL and _rel(m.bse_, ref.bse) < RTOL


@pytest.mark.parametrize("data", sorted(DATASETS))
def test_fit_matches_glum_with_an_offset(data):
    """glum's GLM (an independent IRLS solver) with the same offset: coefficients, standard errors, llf."""
    glum = pytest.importorskip("glum")
    X, y, off = DATASETS[data]()
    ref = glum.GeneralizedLinearRegressor(family="binomial", alpha=0, gradient_tol=1e-12).fit(X, y, offset=off)
    m = LogisticRegression(tol=FIT_TOL).fit(X, y, offset=off)
    assert _rel(np.append(m.coef_[0], m.intercept_), np.append(ref.coef_, ref.intercept_)) < RTOL
    # model-based (not robust) covariance, dispersion 1; glum puts the intercept first
    cov = ref.covariance_matrix(X, y, offset=off, robust=False, dispersion=1.0, expected_information=True)
    n, k = X.shape[0], X.shape[1] + 1
    # glum scales its covariance by n / (n - k) (a degrees-of-freedom correction) even at dispersion 1
    glum_bse = np.sqrt(np.diag(cov) * (n - k) / n)[np.r_[1:k, 0]]
    assert _rel(m.bse_, glum_bse) < RTOL
    # the log-likelihood at glum's optimum (its predictions with the offset)
    p = ref.predict(X, offset=off)
    assert _rel(m.llf_, float(np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))) < RTOL


@pytest.mark.parametrize("data", sorted(DATASETS))
def test_predict_interval_matches_statsmodels_get_prediction(data):
    X, y, off = DATASETS[data]()
    ref, Xs = _glm(X, y, off)
    m = LogisticRegression(tol=FIT_TOL).fit(X, y, offset=off)
    rows = slice(0, 25)
    out = m.predict_interval(X[rows], level=0.9, offset=off[rows])
    frame = ref.get_prediction(Xs[rows], offset=off[rows]).summary_frame(alpha=0.1)
    for ours, theirs in (("proba", "mean"), ("se", "mean_se"), ("lower", "mean_ci_lower"),
                         ("upper", "mean_ci_upper")):
        assert _rel(out[ours], frame[theirs]) < RTOL, ours
    assert _rel(m.predict_proba(X, offset=off)[:, 1], ref.predict(Xs, offset=off)) < RTOL


def test_predictions_need_the_offset_the_model_was_fitted_with():
    X, y, off = _exposure(200)
    m = LogisticRegression().fit(X, y, offset=off)
    for call in (m.predict, m.predict_proba, m.predict_log_proba, m.decision_function,
                 m.predict_interval, lambda X: m.score(X, y)):
        with pytest.raises(ValueError, match=r"fitted with an offset \(offset\)"):
            call(X)
    z = m.decision_function(X, offset=off)
    assert np.array_equal(z, X @ m.coef_[0] + m.intercept_[0] + off)
    assert np.allclose(m.predict_log_proba(X, offset=off), np.log(m.predict_proba(X, offset=off)),
                       rtol=1e-12, atol=0)
    assert m.score(X, y, offset=off) == np.mean(m.predict(X, offset=off) == y)


@pytest.mark.parametrize("solver", [s for s in SOLVERS if s != "auto"])
def test_zero_offset_is_no_offset_bit_for_bit(solver):
    """z + 0.0 == z: every solver, the compiled (C-ordered) and numpy (F-ordered, CSR) kernels."""
    import scipy.sparse as sp

    X, y, _ = _exposure(300)
    params = dict(solver=solver, tol=1e-8, max_iter=300, random_state=0)
    if solver in ("cd", "prox"):
        params.update(penalty="l1", alpha=1e-3)
    for design in (X, np.asfortranarray(X), sp.csr_matrix(X)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gd/sgd may stop at max_iter: both fits alike
            a = LogisticRegression(**params).fit(design, y)
            b = LogisticRegression(**params).fit(design, y, offset=np.zeros(len(y)))
        assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)


@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs", "cd", "gd", "prox"])
def test_every_solver_honours_the_offset(solver):
    X, y, off = _exposure(400)
    ref, _ = _glm(X, y, off)
    # gd converges linearly: a looser gradient tolerance, the matching looser comparison
    tol, rtol = (1e-7, 1e-4) if solver == "gd" else (1e-9, 1e-5)
    for design in (X, np.asfortranarray(X)):
        m = LogisticRegression(solver=solver, tol=tol, max_iter=50_000).fit(design, y, offset=off)
        assert _rel(np.append(m.coef_[0], m.intercept_), ref.params) < rtol


def test_sgd_honours_the_offset():
    X, y, off = _exposure(400)
    ref, _ = _glm(X, y, off)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LogisticRegression(solver="sgd", tol=1e-7, random_state=0).fit(X, y, offset=off)
    assert _rel(np.append(m.coef_[0], m.intercept_), ref.params) < 1e-3


def test_an_offset_that_fixes_a_coefficient_reproduces_the_optimum_binary_and_multinomial():
    """Fitting with x_j's fitted coefficient moved into an offset leaves the other coefficients
    at the full model's optimum; for K classes the offset is (n, K), column k for class k."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 3))
    for K in (2, 3):
        Z = X @ rng.normal(size=(3, K))
        y = np.array([rng.choice(K, p=np.exp(z) / np.exp(z).sum()) for z in Z])
        full = LogisticRegression(tol=1e-11).fit(X, y)
        fixed = np.outer(X[:, 2], full.coef_[:, 2])  # (n, 1) or (n, K)
        off = fixed[:, 0] if K == 2 else fixed
        part = LogisticRegression(tol=1e-11).fit(X[:, :2], y, offset=off)
        assert _rel(part.coef_, full.coef_[:, :2]) < 1e-7
        assert np.allclose(part.intercept_, full.intercept_, atol=1e-8)
        assert np.allclose(part.predict_proba(X[:, :2], offset=off), full.predict_proba(X), atol=1e-10)


def test_multinomial_offsets_take_one_column_per_class():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 2))
    y = rng.integers(0, 3, size=90)
    with pytest.raises(ValueError, match="cancels in the softmax"):
        LogisticRegression().fit(X, y, offset=np.ones(90))
    with pytest.raises(ValueError, match=r"shape \(n_samples, 3\)"):
        LogisticRegression().fit(X, y, offset=np.ones((90, 2)))


@pytest.mark.parametrize("bad, match", [
    (np.zeros(599), "offset has 599 rows but X has 600"),
    (np.where(np.arange(600) == 17, np.nan, 0.0), r"non-finite value \(nan\) at row 17"),
    (np.where(np.arange(600) == 3, np.inf, 0.0), r"non-finite value \(inf\) at row 3"),
    (np.array(["a"] * 600), "offset must hold numbers"),
])
def test_bad_offsets_are_refused_naming_the_row(bad, match):
    X, y, _ = _exposure()
    with pytest.raises(ValueError, match=match):
        LogisticRegression().fit(X, y, offset=bad)
    m = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=match):
        m.predict_proba(X, offset=bad)


def test_cv_folds_carry_their_offsets():
    """Each fold's scores equal a manual path fit on the fold's rows with their offsets."""
    from sklearn.model_selection import StratifiedKFold

    from logitfit.estimators.cv import _scores

    X, y, off = _exposure(300)
    cv = LogisticRegressionCV(n_alphas=6, cv=3, random_state=0, n_jobs=1).fit(X, y, offset=off)
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(X, y)
    for f, (train, test) in enumerate(folds):
        path = regularization_path(X[train], y[train], alphas=cv.alphas_, offset=off[train], tol=1e-7)
        manual = _scores(X[test], y[test], np.ones(len(test)), path, "deviance", off[test])
        assert np.allclose(cv.cv_scores_[f], manual, rtol=1e-9)
    blind = LogisticRegressionCV(n_alphas=6, cv=3, random_state=0, n_jobs=1).fit(X, y)
    assert not np.allclose(blind.cv_scores_, cv.cv_scores_)
    with pytest.raises(ValueError, match="fitted with an offset"):
        cv.predict(X)
    assert cv.score(X, y, offset=off) == np.mean(cv.predict(X, offset=off) == y)


def test_path_null_model_includes_the_offset():
    X, y, off = _exposure(300)
    path = regularization_path(X, y, n_alphas=5, offset=off)
    ref, _ = _glm(X, y, off)
    assert _rel(path.null_deviance, ref.null_deviance) < RTOL
    assert path.model(-1).offset == "offset"


def test_formula_offset_term(tmp_path):
    import statsmodels.formula.api as smf

    import logitfit

    X, y, off = _exposure(400)
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "g": rng.choice(["u", "v"], 400),
                       "n": np.exp(off + 2.0), "y": y})
    m = LogisticRegression.from_formula("y ~ a + b + C(g) + offset(np.log(n) - 2)", df, tol=FIT_TOL)
    ref = smf.glm("y ~ a + b + C(g)", df, family=sm.families.Binomial(),
                  offset=np.log(df["n"]) - 2).fit(tol=1e-13)
    ours = dict(zip(m.encoder_.feature_names, m.coef_[0], strict=True))
    assert _rel([ours[k] for k in ("a", "b", "C(g)[T.v]")], ref.params[["a", "b", "C(g)[T.v]"]]) < RTOL
    assert _rel(m.llnull_, ref.llnull) < RTOL
    assert m.offset_ == "offset(np.log(n) - 2)"
    p = m.predict_proba(df)[:, 1]  # the term is computed from the table
    assert _rel(p, ref.predict(df, offset=np.log(df["n"]) - 2)) < 1e-9
    m.save(tmp_path / "m.json")
    loaded = logitfit.load(tmp_path / "m.json")
    assert loaded.offset_ == m.offset_ and np.array_equal(loaded.predict_proba(df)[:, 1], p)
    bad = df.assign(n=np.where(np.arange(400) == 9, 0.0, df["n"]))
    with pytest.raises(ValueError, match=r"row 10, column 'offset\(np.log\(n\) - 2\)'"):
        m.predict_proba(bad)


@pytest.mark.parametrize("formula, match", [
    ("y ~ a:offset(n)", "added as a term of its own"),
    ("y ~ a + offset(n) + offset(b)", "more than one offset"),
    ("y ~ a + offset(__import__('os').getcwd())", "an offset may use"),
    ("y ~ a + offset(n.real)", "an offset may use"),
    ("y ~ a + offset(zz)", "'zz', which is not one of"),
])
def test_formula_offsets_are_read_by_the_restricted_reader(formula, match):
    df = pd.DataFrame({"a": [0.1, 0.5, 0.2, 0.9], "b": [1.0, 2, 3, 4], "n": [1.0, 2, 3, 4], "y": [0, 1, 0, 1]})
    with pytest.raises(ValueError, match=match):
        LogisticRegression.from_formula(formula, df)


def test_stored_formula_offset_is_checked_before_use():
    from logitfit.data.formula_reader import FormulaRefused, check_formula

    assert check_formula("a + offset(log(n))", {"a", "n"}) == {"a", "n"}
    with pytest.raises(FormulaRefused, match="an offset may use"):
        check_formula("a + offset(open('x'))", {"a", "n"})


def test_scan_fits_with_an_offset_column_equal_the_in_memory_fit(tmp_path):
    X, y, off = _exposure(2000)
    ref = LogisticRegression(tol=1e-11).fit(X, y, offset=off)
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "lo": off, "y": y})
    df.iloc[:900].to_parquet(tmp_path / "p1.parquet")
    df.iloc[900:].to_parquet(tmp_path / "p2.parquet")
    df.to_csv(tmp_path / "all.csv", index=False)
    for source in (tmp_path / "*.parquet", tmp_path / "all.csv"):
        m = LogisticRegression(tol=1e-11).fit(scan(str(source), target="y", offset="lo",
                                                   memory_limit="100KB"))
        assert m.offset_ == "lo"
        assert _rel(m.coef_, ref.coef_) < SCALE_RTOL and _rel(m.intercept_, ref.intercept_) < SCALE_RTOL
        assert _rel(m.llnull_, ref.llnull_) < SCALE_RTOL and _rel(m.bse_, ref.bse_) < SCALE_RTOL
    df.assign(lo=np.where(np.arange(2000) == 41, np.inf, off)).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"offset column 'lo' at row 42"):
        LogisticRegression().fit(scan(str(tmp_path / "bad.csv"), target="y", offset="lo"))
    with pytest.raises(ValueError, match="no offset column 'nope'"):
        scan(str(tmp_path / "all.csv"), target="y", offset="nope")


def test_dask_fit_and_predict_with_offsets_equal_the_in_memory_ones():
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    X, y, off = _exposure(1500)
    ref = LogisticRegression(tol=1e-11).fit(X, y, offset=off)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        assert client is not None
        chunks = 400
        m = LogisticRegression(tol=1e-11).fit(da.from_array(X, chunks=(chunks, 3)),
                                              da.from_array(y, chunks=chunks),
                                              offset=da.from_array(off, chunks=chunks))
        assert m.offset_ == "offset"
        assert _rel(m.coef_, ref.coef_) < SCALE_RTOL and _rel(m.llnull_, ref.llnull_) < SCALE_RTOL
        lazy = m.predict_proba(da.from_array(X, chunks=(chunks, 3)), offset=da.from_array(off, chunks=chunks))
        assert np.allclose(lazy.compute(), ref.predict_proba(X, offset=off), rtol=0, atol=1e-12)
        with pytest.raises(ValueError, match="fitted with an offset"):
            m.predict(da.from_array(X, chunks=(chunks, 3)))
        with pytest.raises(ValueError, match="partition 1: offset has a missing or non-finite value"):
            bad = np.where(np.arange(1500) == 450, np.nan, off)
            LogisticRegression().fit(da.from_array(X, chunks=(chunks, 3)), da.from_array(y, chunks=chunks),
                                     offset=da.from_array(bad, chunks=chunks))


def test_model_file_records_the_offset(tmp_path):
    import logitfit
    from logitfit.io.model_file import load_model

    X, y, off = _exposure(300)
    m = LogisticRegression().fit(X, y, offset=off)
    m.save(tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["offset"] == {"name": "offset"}
    # a version-3 reader would drop the offset and predict without it: the file says version 4
    assert doc["format_version"] == 4
    fitted = load_model(tmp_path / "m.json")
    assert fitted.offset == "offset"
    with pytest.raises(ValueError, match="fitted with an offset"):
        fitted.predict_proba(X)
    loaded = logitfit.load(tmp_path / "m.json")
    assert np.array_equal(loaded.predict_proba(X, offset=off), m.predict_proba(X, offset=off))
    # a model without an offset writes no such field, and predicts with one when given
    plain = LogisticRegression().fit(X, y)
    plain.save(tmp_path / "p.json")
    plain_doc = json.loads((tmp_path / "p.json").read_text())
    assert "offset" not in plain_doc and plain_doc["format_version"] == 3
    assert np.array_equal(FittedModel(plain.coef_, plain.intercept_, plain.classes_).decision_function(X, off),
                          plain.decision_function(X) + off)


def test_separation_is_still_detected_with_an_offset():
    from logitfit.exceptions import SeparationWarning

    x = np.array([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    with pytest.warns(SeparationWarning):
        LogisticRegression().fit(x, y, offset=np.linspace(-0.3, 0.3, 6))


def test_cli_offset_on_fit_predict_and_evaluate(tmp_path):
    from typer.testing import CliRunner

    from logitfit.cli.app import app

    X, y, off = _exposure(400)
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "lo": off, "y": y})
    df.to_csv(tmp_path / "d.csv", index=False)
    runner = CliRunner()

    def cli(*args, ok=True):
        r = runner.invoke(app, [str(a) for a in args])
        assert (r.exit_code == 0) == ok, r.output
        return r.output + (str(r.exception) if r.exception is not None else "")

    cli("fit", tmp_path / "d.csv", "-t", "y", "--offset", "lo", "-o", tmp_path / "m.json", "--quiet")
    ref = LogisticRegression().fit(X, y, offset=off)
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["offset"] == {"name": "lo"} and doc["features"]["names"] == ["a", "b", "c"]
    assert np.allclose(doc["coef"], ref.coef_, rtol=1e-6)
    cli("predict", tmp_path / "m.json", tmp_path / "d.csv", "-o", tmp_path / "p.csv", "--proba",
        "--offset", "lo")
    p = pd.read_csv(tmp_path / "p.csv")["proba_1"].to_numpy()
    assert np.allclose(p, ref.predict_proba(X, offset=off)[:, 1], rtol=1e-6)
    out = cli("evaluate", tmp_path / "m.json", tmp_path / "d.csv", "--offset", "lo", "--json")
    assert json.loads(out)["n"] == 400
    assert "fitted with an offset (lo): give its values with --offset COLUMN" in cli(
        "predict", tmp_path / "m.json", tmp_path / "d.csv", "-o", tmp_path / "q.csv", ok=False)
    assert "column 'nope': missing column" in cli(
        "evaluate", tmp_path / "m.json", tmp_path / "d.csv", "--offset", "nope", ok=False)
    df.assign(lo=np.where(np.arange(400) == 7, np.nan, off)).to_csv(tmp_path / "bad.csv", index=False)
    assert "row 8, column 'lo': missing value in the offset column" in cli(
        "fit", tmp_path / "bad.csv", "-t", "y", "--offset", "lo", "--quiet", ok=False)


def test_multinomial_null_model_and_inference_use_the_offsets():
    """llnull of a K-class fit with (n, K) offsets: the intercept-only softmax fitted with them
    (checked by scipy's BFGS on the intercepts); the covariance comes from the same Hessian."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 2))
    off = rng.normal(size=(300, 3))
    Z = off + X @ np.array([[0.5, 0.0, -0.5], [0.0, 0.3, 0.0]])
    y = np.array([rng.choice(3, p=np.exp(z) / np.exp(z).sum()) for z in Z])
    m = LogisticRegression(tol=1e-10).fit(X, y, offset=off)

    def nll(b):
        Z = b + off
        return float(np.sum(logsumexp(Z, axis=1) - Z[np.arange(300), y]))

    best = minimize(nll, np.zeros(3), method="BFGS", options={"gtol": 1e-10})
    assert _rel(m.llnull_, -best.fun) < 1e-9
    assert np.all(np.isfinite(m.bse_)) and m.bse_.shape == (6,)


def test_onnx_export_refuses_a_model_with_an_offset():
    pytest.importorskip("onnx")
    from logitfit.io.onnx import to_onnx

    X, y, off = _exposure(100)
    with pytest.raises(ValueError, match="fitted with an offset"):
        to_onnx(LogisticRegression().fit(X, y, offset=off))


@given(st.integers(0, 2**32 - 1), st.sampled_from([2, 3]), st.booleans())
@settings(max_examples=12, deadline=None)
def test_objective_with_offsets_compiled_and_numpy_kernels_agree_with_finite_differences(seed, K, sparse):
    """Value, gradient, Hessian and Hessian-vector products with offsets: the compiled kernels
    (C-ordered X) equal the numpy ones (F-ordered X) to rounding, and the gradient and Hessian
    equal central differences."""
    import scipy.sparse as sp

    from logitfit.blocks import InMemoryBlocks
    from logitfit.model.objective import LogisticObjective

    rng = np.random.default_rng(seed)
    n, p = 120, 3
    X = rng.normal(size=(n, p))
    y = rng.integers(0, K, size=n).astype(float if K == 2 else np.intp)
    off = rng.normal(size=n) * 2 if K == 2 else rng.normal(size=(n, K)) * 2
    sw = rng.uniform(0.5, 2.0, size=n)
    designs = [X, np.asfortranarray(X)] + ([sp.csr_matrix(X)] if sparse and K == 2 else [])
    objs = [LogisticObjective(InMemoryBlocks(D, y, sw, offset=off, rows_per_block=50), K, alpha=0.01)
            for D in designs]
    x = rng.normal(size=objs[0].n_params) * 0.5
    v = rng.normal(size=x.size)
    f0, g0, H0 = objs[0].value_grad_hess(x)
    for obj in objs[1:]:
        f, g, H = obj.value_grad_hess(x)
        assert abs(f - f0) <= 1e-12 * abs(f0) and np.allclose(g, g0, rtol=1e-10, atol=1e-13)
        assert np.allclose(H, H0, rtol=1e-10, atol=1e-13)
        assert np.allclose(obj.hessp(x)(v), H0 @ v, rtol=1e-8, atol=1e-11)
    h = 1e-6
    E = np.eye(x.size)
    fd = np.array([(objs[0].value(x + h * e) - objs[0].value(x - h * e)) / (2 * h) for e in E])
    assert np.allclose(g0, fd, rtol=1e-5, atol=1e-7)
    fdH = np.array([(objs[0].grad(x + h * e) - objs[0].grad(x - h * e)) / (2 * h) for e in E])
    assert np.allclose(H0, fdH, rtol=1e-4, atol=1e-6)
    # the offset did enter: without it the value differs
    plain = LogisticObjective(InMemoryBlocks(X, y, sw, rows_per_block=50), K, alpha=0.01)
    assert abs(plain.value(x) - f0) > 1e-6


def test_grouped_binomial_rows_with_offsets():
    """(successes, trials) rows with an offset: statsmodels' two-column binomial GLM with the
    same offset, and the expanded 0/1 rows each carrying their group's offset."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    trials = rng.integers(1, 12, size=40)
    off = rng.normal(size=40)
    p = 1.0 / (1.0 + np.exp(-(X @ [0.7, -0.4] + off - 0.2)))
    s = rng.binomial(trials, p)
    m = LogisticRegression(tol=FIT_TOL).fit(X, s, trials=trials, offset=off)
    ref = sm.GLM(np.column_stack([s, trials - s]), sm.add_constant(X, prepend=False),
                 family=sm.families.Binomial(), offset=off).fit(tol=1e-13)
    assert _rel(np.append(m.coef_[0], m.intercept_), ref.params) < RTOL
    assert _rel(m.bse_, ref.bse) < RTOL
    rows = np.repeat(np.arange(40), trials)
    y01 = np.concatenate([np.r_[np.ones(k), np.zeros(t - k)] for k, t in zip(s, trials, strict=True)])
    expanded = LogisticRegression(tol=FIT_TOL).fit(X[rows], y01, offset=off[rows])
    assert _rel(expanded.coef_, m.coef_) < 1e-8 and _rel(expanded.bse_, m.bse_) < 1e-8


def test_summary_names_the_offset(tmp_path):
    import logitfit

    X, y, off = _exposure(300)
    m = LogisticRegression().fit(X, y, offset=off)
    assert "Offset:" in str(m.summary()) and "Offset:" not in str(LogisticRegression().fit(X, y).summary())
    m.save(tmp_path / "m.json")
    assert "Offset:" in str(logitfit.load(tmp_path / "m.json").summary())
