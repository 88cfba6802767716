"""LogisticRegressionCV. Oracles: the held-out deviance recomputed by hand from
an independent estimator fit on one fold, the one-standard-error rule applied to
the stored fold scores, and the final model equal to a single fit at alpha_."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedKFold

from logitfit.estimators.cv import LogisticRegressionCV
from logitfit.estimators.logistic import LogisticRegression

COEF_TOL = 1e-6
DEV_TOL = 1e-6
N_ALPHAS = 12
FOLDS = 4


@pytest.fixture(scope="module")
def fitted():
    X, y = make_classification(240, 10, n_informative=3, random_state=0)
    cv = LogisticRegressionCV(n_alphas=N_ALPHAS, cv=FOLDS, tol=1e-9, n_jobs=2).fit(X, y)
    return X, y, cv


def test_fold_deviance_matches_an_independent_fit(fitted):
    X, y, cv = fitted
    train, test = next(StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(X, y))
    a = 5
    m = LogisticRegression(penalty="l1", alpha=cv.alphas_[a], tol=1e-10).fit(X[train], y[train])
    p1 = m.predict_proba(X[test])[:, 1]
    dev = -2 * np.mean(y[test] * np.log(p1) + (1 - y[test]) * np.log1p(-p1))
    assert cv.cv_scores_[0, a] == pytest.approx(dev, rel=DEV_TOL)


def test_selection_rules(fitted):
    X, y, cv = fitted
    best = np.argmin(cv.cv_mean_)
    assert cv.alpha_min_ == cv.alphas_[best]
    limit = cv.cv_mean_[best] + cv.cv_se_[best]
    first = np.flatnonzero(cv.cv_mean_ <= limit)[0]
    assert cv.alpha_1se_ == cv.alphas_[first] and cv.alpha_1se_ >= cv.alpha_min_
    np.testing.assert_allclose(cv.cv_se_, cv.cv_scores_.std(0, ddof=1) / np.sqrt(FOLDS))


def test_final_model_is_the_all_rows_fit(fitted):
    X, y, cv = fitted
    m = LogisticRegression(penalty="l1", alpha=cv.alpha_, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(cv.coef_, m.coef_, atol=COEF_TOL)
    np.testing.assert_allclose(cv.intercept_, m.intercept_, atol=COEF_TOL)
    np.testing.assert_array_equal(cv.predict(X), m.predict(X))


@pytest.mark.parametrize("scoring", ["auc", "accuracy"])
def test_other_scorings_are_maximised(scoring):
    X, y = make_classification(150, 6, n_informative=3, n_classes=3, random_state=1)
    cv = LogisticRegressionCV(n_alphas=6, cv=3, scoring=scoring, alpha_min_ratio=0.05).fit(X, y)
    assert cv.alpha_min_ == cv.alphas_[np.argmax(cv.cv_mean_)]
    assert np.all((cv.cv_scores_ >= 0) & (cv.cv_scores_ <= 1))
    assert cv.predict_proba(X).shape == (150, 3)


def test_bad_scoring():
    with pytest.raises(ValueError, match="scoring"):
        LogisticRegressionCV(scoring="f1").fit(np.eye(4), [0, 1, 0, 1])


def test_cv_predicts_through_its_fitted_model():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(240, 4))
    y = np.array(["a", "b", "c"])[np.argmax(X[:, :3] + rng.gumbel(size=(240, 3)), axis=1)]
    cv = LogisticRegressionCV(n_alphas=6, cv=3).fit(X, y)
    m = cv._model()
    assert np.array_equal(cv.predict_proba(X), m.predict_proba(X))
    assert np.array_equal(cv.predict(X), m.predict(X))
    assert np.array_equal(cv.predict(X), cv.classes_[cv.predict_proba(X).argmax(axis=1)])
