"""The estimator (logitfit.LogisticRegression) against the outside world.

Oracles:
* the course's published fit (../shared/REFERENCE.md section 1);
* scikit-learn's LogisticRegression on the same objective (C = 1/(alpha m)),
  solver newton-cg at tol 1e-12 (its lbfgs stops on a relative-decrease test
  near 1e-6 relative and is not an exact reference);
* invariances that hold exactly for the maximum-likelihood fit;
* scikit-learn's check_estimator.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, make_classification
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import logitfit
from logitfit import ConvergenceWarning, LogisticRegression, SeparationWarning
from logitfit.blocks import InMemoryBlocks

pytestmark = pytest.mark.usefixtures("single_blas_thread")

# The course prints the optimum to 3 decimals, probabilities to 3, accuracy in %.
PUBLISHED_3DP = 5e-4
# Max-abs coefficient difference relative to the largest coefficient.
SKLEARN_RTOL = 1e-6
FIT_TOL = 1e-10
# float32 X: the optimum moves by O(eps32 * condition) ~ 1e-6 relative.
FLOAT32_RTOL = 1e-5
# Two exact fits of the same objective (reordered sums, duplicated rows, ...).
INVARIANCE_RTOL = 1e-8


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def params(est) -> np.ndarray:
    return np.concatenate([est.coef_.ravel(), est.intercept_])


# --------------------------------------------------------------- published values


def test_course_part1_optimum_probability_and_accuracy(ng_ex2_part1):
    exams, y = ng_ex2_part1
    est = LogisticRegression(solver="newton", tol=FIT_TOL).fit(exams, y)  # unscaled, no penalty
    assert est.converged_
    theta = np.r_[est.intercept_, est.coef_.ravel()]
    np.testing.assert_allclose(theta, [-25.161, 0.206, 0.201], atol=PUBLISHED_3DP)
    assert est.objective_ == pytest.approx(0.203, abs=PUBLISHED_3DP)
    assert est.predict_proba([[45, 85]])[0, 1] == pytest.approx(0.776, abs=PUBLISHED_3DP)
    assert est.score(exams, y) == pytest.approx(0.89)
    # The textbook cost at the fitted theta is the estimator's objective.
    X1 = np.column_stack([np.ones(len(y)), exams])
    assert logitfit.cost(theta, X1, y) == pytest.approx(est.objective_, rel=1e-12)


def test_course_part2_regularised_accuracy(ng_ex2_part2):
    """lam = 1 on the 28 course features: the estimator never penalises the
    intercept, so it fits the 27 non-constant monomials with fit_intercept and
    alpha = lam/m, which is the course's J exactly."""
    F, y = ng_ex2_part2
    m = len(y)
    est = LogisticRegression(penalty="l2", alpha=1.0 / m, solver="newton", tol=FIT_TOL).fit(F[:, 1:], y)
    assert est.converged_
    assert 100 * est.score(F[:, 1:], y) == pytest.approx(83.1, abs=0.05)
    theta = np.r_[est.intercept_, est.coef_.ravel()]
    assert logitfit.cost(theta, F, y, lam=1.0) == pytest.approx(est.objective_, rel=1e-12)
    assert np.max(np.abs(logitfit.gradient(theta, F, y, lam=1.0))) <= FIT_TOL


# ------------------------------------------------------------ agreement with sklearn


def _breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _iris():
    return load_iris(return_X_y=True)


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:500] / 16.0, y[:500]  # a subset keeps the 650-parameter fit quick


def _random_dense():
    return make_classification(600, 20, n_informative=8, random_state=0)


def _random_sparse():
    rng = np.random.default_rng(1)
    X = sp.random(800, 200, density=0.05, format="csr", random_state=2)
    y = (X @ rng.standard_normal(200) + 0.3 * rng.standard_normal(800) > 0).astype(int)
    return X, y


@pytest.mark.parametrize(
    ("load", "alpha"),
    [
        (_breast_cancer, 1e-3),
        (_iris, 1e-3),
        (_digits, 1e-2),
        (_random_dense, 1e-3),
        (_random_sparse, 1e-3),
    ],
    ids=["breast_cancer", "iris", "digits", "random_dense", "random_sparse"],
)
def test_coefficients_equal_sklearn(load, alpha):
    X, y = load()
    m = X.shape[0]
    sk = SkLogisticRegression(C=1.0 / (alpha * m), tol=1e-12, solver="newton-cg", max_iter=1000).fit(X, y)
    # newton-cg: exact to tol 1e-10 on every one of these (auto may pick lbfgs,
    # which stalls near max|grad| ~ 1e-10: see docs/solvers.md).
    est = LogisticRegression(penalty="l2", alpha=alpha, solver="newton-cg", tol=FIT_TOL).fit(X, y)
    assert est.converged_
    assert est.coef_.shape == sk.coef_.shape and est.intercept_.shape == sk.intercept_.shape
    assert rel_diff(params(est), params(sk)) <= SKLEARN_RTOL
    np.testing.assert_allclose(est.predict_proba(X), sk.predict_proba(X), atol=SKLEARN_RTOL)
    np.testing.assert_array_equal(est.classes_, sk.classes_)


# ---------------------------------------------------------------------- invariances


def _binary_problem(n: int = 120, p: int = 4, seed: int = 0):
    X, y = make_classification(n, p, n_informative=3, n_redundant=0, flip_y=0.2, random_state=seed)
    return X, y


@settings(max_examples=15)
@given(st.permutations(list(range(60))))
def test_row_order_does_not_change_the_fit(perm):
    X, y = _binary_problem(60)
    ref = LogisticRegression(solver="newton", tol=FIT_TOL).fit(X, y)
    est = LogisticRegression(solver="newton", tol=FIT_TOL).fit(X[perm], y[perm])
    assert rel_diff(params(est), params(ref)) <= INVARIANCE_RTOL


@pytest.mark.parametrize("K", [2, 3])
def test_sample_weight_two_equals_a_duplicated_row(K):
    X, y = make_classification(80, 4, n_informative=3, n_redundant=0, n_classes=K, flip_y=0.2, random_state=K)
    sw = np.ones(len(y))
    sw[[3, 10, 41]] = 2.0
    dup = np.r_[np.arange(len(y)), [3, 10, 41]]
    for penalty in (None, "l2"):
        a = LogisticRegression(penalty=penalty, alpha=0.01, tol=FIT_TOL).fit(X, y, sample_weight=sw)
        b = LogisticRegression(penalty=penalty, alpha=0.01, tol=FIT_TOL).fit(X[dup], y[dup])
        assert rel_diff(params(a), params(b)) <= INVARIANCE_RTOL


def test_zero_weight_equals_a_dropped_row():
    X, y = _binary_problem()
    sw = np.ones(len(y))
    sw[:7] = 0.0
    a = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=sw)
    b = LogisticRegression(tol=FIT_TOL).fit(X[7:], y[7:])
    assert rel_diff(params(a), params(b)) <= INVARIANCE_RTOL


def test_flipping_labels_flips_signs():
    X, y = _binary_problem()
    for penalty in (None, "l2"):
        a = LogisticRegression(penalty=penalty, alpha=0.05, tol=FIT_TOL).fit(X, y)
        b = LogisticRegression(penalty=penalty, alpha=0.05, tol=FIT_TOL).fit(X, 1 - y)
        assert rel_diff(params(b), -params(a)) <= INVARIANCE_RTOL
        np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X)[:, ::-1], atol=INVARIANCE_RTOL)


def test_two_classes_use_the_binary_model():
    """Any two labels give the sigmoid model: coef_ (1, p), P(class 1) = sigmoid(z)."""
    X, y = _binary_problem()
    est = LogisticRegression(tol=FIT_TOL).fit(X, np.where(y == 1, "yes", "no"))
    ref = LogisticRegression(tol=FIT_TOL).fit(X, y)
    assert est.coef_.shape == (1, X.shape[1])
    np.testing.assert_array_equal(params(est), params(ref))
    z = est.decision_function(X)
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], logitfit.sigmoid(z), rtol=1e-15)


def test_float32_fit_matches_float64():
    X, y = _breast_cancer()
    X32 = X.astype(np.float32)
    a = LogisticRegression(penalty="l2", alpha=1e-3, tol=1e-8).fit(X32, y)
    b = LogisticRegression(penalty="l2", alpha=1e-3, tol=1e-8).fit(X32.astype(np.float64), y)
    assert a.converged_
    assert rel_diff(params(a), params(b)) <= FLOAT32_RTOL
    c = LogisticRegression(penalty="l2", alpha=1e-3, tol=1e-8, dtype=np.float32).fit(X, y)
    assert rel_diff(params(c), params(b)) <= FLOAT32_RTOL


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "newton-cg"])
def test_thread_count_gives_bit_identical_coefficients(solver):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40_000, 8))  # 2.5 MB: three cache-sized blocks
    y = (X @ rng.standard_normal(8) + rng.logistic(size=40_000) > 0).astype(int)
    assert len(InMemoryBlocks(X, y, np.ones(len(y)))) > 2  # the threads really split the work
    fits = [LogisticRegression(solver=solver, tol=1e-8, n_threads=t).fit(X, y) for t in (1, 2)]
    np.testing.assert_array_equal(params(fits[0]), params(fits[1]))
    assert fits[0].n_iter_ == fits[1].n_iter_


# --------------------------------------------------------------- check_estimator


def test_check_estimator_penalised_passes_every_check():
    check_estimator(LogisticRegression(penalty="l2", alpha=0.01))


# The checks' data: 15 rows, 30 features, 3 classes (sklearn's
# _check_sample_weight_equivalence). With twice as many features as rows the
# classes are linearly separable, so the unpenalised MLE does not exist and
# two fits of it (weighted vs repeated rows) stop at different points along
# the ray to infinity: their probabilities cannot agree.
SEPARABLE_REASON = (
    "the check's data (15 rows, 30 features) are linearly separable: the unpenalised "
    "maximum-likelihood estimate does not exist, so weighted and repeated fits stop at "
    "different points on the way to infinity (SeparationWarning)"
)


def test_sample_weight_check_data_are_separable():
    rng = np.random.RandomState(42)  # reproduces sklearn's check data exactly
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15)
    sw = rng.randint(0, 5, size=15)
    with pytest.warns(SeparationWarning, match="completely separated|separat"):
        est = LogisticRegression().fit(X, y, sample_weight=sw)
    assert not est.converged_
    with pytest.warns(SeparationWarning):
        LogisticRegression().fit(X.repeat(sw, axis=0), y.repeat(sw))


def test_check_estimator_default_passes_all_but_the_separable_checks():
    expected = {
        "check_sample_weight_equivalence_on_dense_data": SEPARABLE_REASON,
        "check_sample_weight_equivalence_on_sparse_data": SEPARABLE_REASON,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = check_estimator(LogisticRegression(), expected_failed_checks=expected, on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed == set(), failed
    # Newton with the softmax's flat directions removed happens to stop at the
    # same point for weighted and repeated rows, so these may pass; on
    # separable data nothing guarantees it, hence they stay allowed to fail.
    xfailed = {r["check_name"] for r in results if r["status"] == "xfail"}
    assert xfailed <= set(expected)


# -------------------------------------------------------------- input containers


def test_pandas_polars_sparse_and_numpy_give_the_same_fit():
    X, y = _binary_problem()
    names = [f"f{j}" for j in range(X.shape[1])]
    ref = LogisticRegression(tol=FIT_TOL).fit(X, y)
    df = pd.DataFrame(X, columns=names)
    est_pd = LogisticRegression(tol=FIT_TOL).fit(df, pd.Series(y))
    np.testing.assert_array_equal(est_pd.feature_names_in_, names)
    est_pl = LogisticRegression(tol=FIT_TOL).fit(pl.DataFrame(df), pl.Series(y))
    est_sp = LogisticRegression(solver="newton", tol=FIT_TOL).fit(sp.csr_matrix(X), y)
    est_csc = LogisticRegression(solver="newton", tol=FIT_TOL).fit(sp.csc_matrix(X), y)
    for est in (est_pd, est_pl, est_sp, est_csc):
        assert rel_diff(params(est), params(ref)) <= INVARIANCE_RTOL
    np.testing.assert_array_equal(est_pd.predict(df), ref.predict(X))


@pytest.mark.parametrize(
    "labels",
    [np.array(["cat", "dog", "emu"]), np.array([False, True]), np.array([-1, 1]), np.array([3, 7, 11])],
    ids=["str", "bool", "int-binary", "int-multi"],
)
def test_labels_of_any_type(labels):
    X, y = make_classification(90, 4, n_informative=3, n_redundant=0, n_classes=len(labels), random_state=1)
    y_lab = labels[y]
    est = LogisticRegression(penalty="l2", alpha=0.01).fit(X, y_lab)
    np.testing.assert_array_equal(est.classes_, np.sort(labels))
    pred = est.predict(X)
    assert pred.dtype == y_lab.dtype
    assert set(pred) <= set(labels)
    assert est.score(X, y_lab) > 0.6


def test_pipeline_gridsearch_and_cross_val_score():
    X, y = _breast_cancer()
    pipe = make_pipeline(StandardScaler(), LogisticRegression(penalty="l2"))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.9)
    grid = GridSearchCV(pipe, {"logisticregression__alpha": [1e-3, 1e-1]}, cv=3).fit(X, y)
    assert grid.best_params_["logisticregression__alpha"] in (1e-3, 1e-1)
    assert grid.score(X, y) > 0.9


# -------------------------------------------------------------- honest convergence


def test_separable_data_without_penalty():
    X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    for solver in ("auto", "newton", "newton-cg", "lbfgs", "gd"):
        with pytest.warns(SeparationWarning) as record:
            est = LogisticRegression(solver=solver).fit(X, y)
        message = str(record[0].message)
        assert "separat" in message and "penalty" in message, message
        assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
        assert est.converged_ is False
        assert np.all(np.isfinite(est.predict_proba(X)))
    # A penalty gives a unique finite fit, and no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = LogisticRegression(penalty="l2", alpha=0.01).fit(X, y)
    assert est.converged_


def test_non_convergence_warning_names_criterion_distance_and_remedy():
    X, y = _breast_cancer()
    with pytest.warns(ConvergenceWarning) as record:
        est = LogisticRegression(penalty="l2", alpha=1e-3, solver="gd", max_iter=5, tol=1e-8).fit(X, y)
    message = str(record[0].message)
    assert not est.converged_ and est.n_iter_ == 5
    assert "max|grad J|" in message  # the criterion
    found = re.search(r"max\|grad J\| = ([0-9.e+-]+) > tol = ([0-9.e+-]+)", message)
    assert found and float(found.group(1)) > float(found.group(2))  # how far from it
    assert "standardise" in message and "newton" in message  # what to try
    assert message.strip() != "increase max_iter"


@pytest.mark.parametrize("kind", ["constant", "duplicated"])
def test_constant_or_duplicated_columns_still_fit(kind):
    X, y = _binary_problem()
    extra = np.ones((len(y), 1)) * 3.0 if kind == "constant" else X[:, :1]
    Xe = np.hstack([X, extra])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = LogisticRegression(solver="newton", tol=1e-8).fit(Xe, y)
    ref = LogisticRegression(solver="newton", tol=1e-8).fit(X, y)
    assert est.converged_ and np.all(np.isfinite(est.coef_))
    # Same fitted probabilities: the extra column adds no information.
    np.testing.assert_allclose(est.predict_proba(Xe), ref.predict_proba(X), atol=1e-7)


# --------------------------------------------------------------- the API surface


def test_fitted_attributes_and_methods():
    X, y = _iris()
    est = LogisticRegression(penalty="l2", alpha=0.01).fit(X, y)
    K, p = 3, X.shape[1]
    assert est.coef_.shape == (K, p) and est.intercept_.shape == (K,)
    assert est.n_features_in_ == p and isinstance(est.n_iter_, int)
    assert est.solver_ == "newton-cg" and est.converged_  # auto: softmax -> newton-cg
    h = est.history_
    assert len(h["objective"]) == est.n_iter_ + 1 and h["objective"][-1] == pytest.approx(est.objective_)
    P = est.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(P), rtol=1e-12)
    assert est.decision_function(X).shape == (len(y), K)
    # Unpenalised softmax intercepts are reported centred (sum to zero).
    assert est.intercept_.sum() == pytest.approx(0.0, abs=1e-12)


def test_predict_log_proba_is_finite_where_proba_rounds_to_zero():
    X = np.array([[-1.0], [1.0]])
    est = LogisticRegression(penalty="l2", alpha=1e-3).fit(X, [0, 1])
    far = np.array([[-1e4]])
    assert est.predict_proba(far)[0, 1] == 0.0
    logp = est.predict_log_proba(far)[0, 1]
    assert np.isfinite(logp) and logp < -1000


def test_warm_start_resumes_from_the_previous_fit():
    X, y = _breast_cancer()
    est = LogisticRegression(penalty="l2", alpha=1e-3, warm_start=True, tol=1e-8).fit(X, y)
    first = est.n_iter_
    est.fit(X, y)
    assert est.n_iter_ < first and est.n_iter_ <= 1


def test_class_weight_equals_sample_weight():
    X, y = _binary_problem()
    a = LogisticRegression(class_weight={0: 1.0, 1: 3.0}, tol=FIT_TOL).fit(X, y)
    b = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=np.where(y == 1, 3.0, 1.0))
    assert rel_diff(params(a), params(b)) <= INVARIANCE_RTOL


def test_default_is_the_unpenalised_textbook_objective():
    X, y = _binary_problem()
    est = LogisticRegression(tol=FIT_TOL).fit(X, y)
    assert est.penalty is None
    theta = np.r_[est.intercept_, est.coef_.ravel()]
    X1 = np.column_stack([np.ones(len(y)), X])
    assert est.objective_ == pytest.approx(logitfit.cost(theta, X1, y), rel=1e-12)
    assert "no penalty" in LogisticRegression.__doc__


def test_demo_runs_and_reports(capsys):
    """``make demo``: both fits converge, the history and the accuracy are printed."""
    from logitfit import demo

    demo.main()
    out = capsys.readouterr().out
    assert out.count(": converged in") == 2
    assert "cost J" in out and "max|grad J|" in out
    accuracy = float(re.search(r"training accuracy ([0-9.]+) %", out).group(1))
    assert accuracy > 95.0


# ------------------------------------------------ the fit without the estimator


def test_fit_defaults_are_the_constructor_defaults():
    import inspect

    from logitfit.estimators.fitting import DEFAULTS

    sig = inspect.signature(LogisticRegression.__init__).parameters
    assert DEFAULTS == {k: p.default for k, p in sig.items() if k != "self"}


@pytest.mark.parametrize("params", [{}, {"penalty": "l2", "alpha": 1e-2},
                                    {"penalty": "l1", "alpha": 1e-2, "penalty_factor": [0, 1, 1]},
                                    {"class_weight": "balanced"}])
@pytest.mark.parametrize("K", [2, 3])
def test_fit_model_equals_the_estimator(params, K):
    from logitfit.estimators.fitting import fit_model
    from logitfit.model.fitted import FittedModel

    rng = np.random.default_rng(K)
    X = rng.normal(size=(300, 3))
    y = np.argmax(X[:, :K] * 1.5 + rng.gumbel(size=(300, K)), axis=1)
    est = LogisticRegression(**params).fit(X, y)
    m = fit_model(X, y, feature_names=["a", "b", "c"], **params)
    assert isinstance(m, FittedModel) and m.feature_names == ["a", "b", "c"]
    assert np.array_equal(m.coef, est.coef_) and np.array_equal(m.intercept, est.intercept_)
    assert np.array_equal(m.predict_proba(X), est.predict_proba(X))
    assert np.array_equal(m.predict(X), est.predict(X))
    assert m.fit.n_iter == est.n_iter_ and m.fit.converged == est.converged_


def test_fit_model_refuses_bad_parameters():
    from logitfit.estimators.fitting import fit_model

    X, y = np.eye(4), np.array([0, 1, 0, 1])
    with pytest.raises(TypeError, match="unknown parameters"):
        fit_model(X, y, C=1.0)
    with pytest.raises(ValueError, match="penalty_factor must be"):
        fit_model(X, y, penalty="l1", penalty_factor=[1, 1])


def test_fit_model_imports_no_scikit_learn():
    import subprocess
    import sys

    code = ("import sys, numpy as np; from logitfit.estimators.fitting import fit_model; "
            "rng = np.random.default_rng(0); X = rng.normal(size=(200, 3)); "
            "y = (X[:, 0] + rng.logistic(size=200) > 0).astype(int); "
            "m = fit_model(X, y); m.predict_proba(X); "
            "print(sorted({n.split('.')[0] for n in sys.modules} & {'sklearn', 'pandas'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    assert out.stdout.strip() == "[]"
