"""Regularisation paths. Oracles: the KKT conditions (alpha_max makes every
penalised coefficient zero, any smaller alpha does not), independent
single-alpha fits of the estimator, and the deviance from the objective."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

from logitfit.estimators.logistic import LogisticRegression
from logitfit.estimators.regularization import regularization_path

KKT_TOL = 1e-7
WARM_VS_COLD = 1e-6
N_ALPHAS = 15


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(300, 15, n_informative=4, random_state=0)
    return (X - X.mean(0)) / X.std(0), y


def test_first_alpha_all_zero_and_next_not(binary):
    X, y = binary
    r = regularization_path(X, y, n_alphas=N_ALPHAS)
    assert np.all(r.coef[0] == 0) and r.n_nonzero[0] == 0
    assert r.n_nonzero[1] >= 1  # alpha_max is the exact entry point of the first feature
    assert r.deviance_explained[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(r.deviance) <= 1e-9)  # less penalty, lower training deviance
    assert np.all(r.kkt_violation <= KKT_TOL)
    np.testing.assert_allclose(r.alphas[-1] / r.alphas[0], 1e-4)  # n > p default ratio


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_path_point_equals_a_cold_single_fit(binary, l1_ratio):
    X, y = binary
    r = regularization_path(X, y, n_alphas=N_ALPHAS, l1_ratio=l1_ratio, tol=1e-10)
    i = N_ALPHAS // 2
    m = LogisticRegression(penalty="elasticnet", alpha=r.alphas[i], l1_ratio=l1_ratio, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(r.coef[i], m.coef_, atol=WARM_VS_COLD)
    np.testing.assert_allclose(r.intercept[i], m.intercept_, atol=WARM_VS_COLD)
    # deviance = 2 n (mean log loss), from the fitted probabilities
    p1 = m.predict_proba(X)[:, 1]
    dev = -2 * np.sum(y * np.log(p1) + (1 - y) * np.log1p(-p1))
    assert r.deviance[i] == pytest.approx(dev, rel=1e-6)


def test_explicit_grid_and_penalty_factor(binary):
    X, y = binary
    factor = np.ones(X.shape[1])
    factor[0] = 0.0
    r = regularization_path(X, y, alphas=[0.5, 0.1, 1.0], penalty_factor=factor)
    np.testing.assert_array_equal(r.alphas, [1.0, 0.5, 0.1])
    assert np.all(r.coef[:, 0, 0] != 0)  # the unpenalised feature is always in


def test_multinomial_grouped_path_keeps_whole_features():
    X, y = make_classification(200, 8, n_informative=4, n_classes=3, random_state=1)
    r = regularization_path(X, y, n_alphas=6, alpha_min_ratio=0.05, grouped=True)
    assert np.all(r.coef[0] == 0)
    rows_zero = np.all(r.coef == 0, axis=1)
    rows_full = np.all(r.coef != 0, axis=1)
    assert np.all(rows_zero | rows_full)
    assert np.all(r.kkt_violation <= KKT_TOL)


def test_bad_l1_ratio():
    with pytest.raises(ValueError, match="l1_ratio"):
        regularization_path(np.eye(4), [0, 1, 0, 1], l1_ratio=1.5)


@pytest.mark.parametrize("sparse", [False, True])
def test_every_deviance_is_that_of_its_coefficients(binary, sparse):
    """Fits hand their loss to the next fit (no pass over X); the figures must still be exact."""
    import scipy.sparse as sp

    X, y = binary
    Xf = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0)) if sparse else X
    r = regularization_path(Xf, y, n_alphas=N_ALPHAS, l1_ratio=0.5)
    Z = np.asarray(Xf @ r.coef[:, 0, :].T) + r.intercept[:, 0]
    s = np.where(y[:, None] == 1, 1.0, -1.0)
    dev = 2 * np.logaddexp(0, -s * Z).sum(axis=0)
    np.testing.assert_allclose(r.deviance, dev, rtol=1e-12)
    assert np.all(r.kkt_violation <= KKT_TOL)


def test_path_fit_predicts_through_a_fitted_model():
    from logitfit.model.fitted import FittedModel

    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] - X[:, 1] + rng.logistic(size=300) > 0).astype(int)
    path = regularization_path(X, y, n_alphas=5)
    m = path.model(2)
    assert isinstance(m, FittedModel) and m.params["alpha"] == path.alphas[2]
    Z = X @ path.coef[2].T + path.intercept[2]
    np.testing.assert_allclose(m.decision_function(X), Z[:, 0], rtol=1e-12, atol=1e-12)
    assert set(m.predict(X)) <= set(path.classes)
