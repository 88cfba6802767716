"""Coordinate descent through X's columns (sparse X) against the formed-Hessian inner solver."""

import numpy as np
import pytest
import scipy.sparse as sp

from logitfit.blocks import InMemoryBlocks
from logitfit.estimators.regularization import PathSpec, alpha_grid, fit_path
from logitfit.model.objective import LogisticObjective
from logitfit.model.penalties import L1Penalty
from logitfit.solvers import cd
from logitfit.solvers import naive_cd as nc

pytestmark = pytest.mark.skipif(nc._naive_sweeps is None, reason="compiled kernels not built")


def _sparse(n=400, p=60, density=0.1, seed=0, collinear=False):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, random_state=seed, format="csr", data_rvs=rng.standard_normal)
    if collinear:  # near-duplicate columns: an ill-conditioned model, where plain CD crawls
        X = sp.hstack([X, X[:, :10] * (1 + 1e-3)]).tocsr()
        X = X + sp.random(n, X.shape[1], density=0.01, random_state=seed + 1, format="csr") * 1e-3
        X = X.tocsr()
    w = rng.normal(0, 1, X.shape[1]) * (rng.random(X.shape[1]) < 0.3)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w)))).astype(float)
    return X, y, rng.uniform(0.5, 2.0, n)


def _model_kkt(H, g, u0, u, pen):
    return pen.max_kkt_violation(u, g + H @ (u - u0))


@pytest.mark.parametrize("collinear", [False, True])
def test_naive_solve_matches_the_formed_hessian_model(collinear):
    X, y, sw = _sparse(collinear=collinear)
    obj = LogisticObjective(InMemoryBlocks(X, y, sw, n_threads=1), 2, alpha=0.05)
    p = X.shape[1]
    rng = np.random.default_rng(1)
    x = np.zeros(p + 1)
    x[:8] = rng.normal(0, 0.3, 8)
    cols = np.arange(0, p, 2)
    f, g, d = obj.value_grad_weights(x)
    _, _, H, idx = obj.value_grad_hess_sub(x, cols)
    lam = np.full(idx.size, 0.002)
    lam[-1] = 0.0  # the intercept
    lam[3] = 0.0  # an unpenalised feature
    lo = np.full(idx.size, -np.inf)
    hi = np.full(idx.size, np.inf)
    lo[5], hi[6] = 0.0, 0.05  # box bounds
    pen = L1Penalty(lam, lo, hi)
    model = nc.NaiveModel(obj)
    tol = 1e-10
    u = model.solve(obj, d, cols, g[idx], x[idx], lam, lo, hi, tol)
    u_ref = cd.inner_cd_separable(H, g[idx], x[idx], lam, lo, hi, tol)
    assert _model_kkt(H, g[idx], x[idx], u, pen) <= 1e-8
    assert u[5] >= 0.0 and u[6] <= 0.05
    np.testing.assert_allclose(u, u_ref, atol=1e-6)


def test_sparse_path_same_with_and_without_naive_updates(monkeypatch):
    X, y, sw = _sparse(n=600, p=80, seed=3)
    blocks = InMemoryBlocks(X, y, sw, n_threads=1)
    spec = PathSpec(tol=1e-8)
    alphas = alpha_grid(blocks, 2, spec, 30)
    naive = fit_path(blocks, 2, alphas, spec)
    monkeypatch.setattr(cd, "USE_NAIVE", False)
    formed = fit_path(blocks, 2, alphas, spec)
    assert naive.kkt_violation.max() <= 1e-8
    np.testing.assert_allclose(naive.coef, formed.coef, atol=1e-5)
    np.testing.assert_allclose(naive.deviance, formed.deviance, rtol=1e-6)
