"""The Hessian cache of the cd solver: exact with rho = 0, within its Loewner bound otherwise."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import linalg

from logitfit.blocks import InMemoryBlocks
from logitfit.model.objective import LogisticObjective
from logitfit.solvers import gram_cache as gc


def _problem(kind: str, n: int = 700, p: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if kind == "csr":
        X[rng.random((n, p)) < 0.8] = 0.0
        X = sp.csr_matrix(X)
    elif kind == "fortran":
        X = np.asfortranarray(X)
    elif kind == "float32":
        X = X.astype(np.float32)
    y = (rng.random(n) < 0.4).astype(float)
    sw = rng.uniform(0.5, 2.0, n)
    return X, y, sw


def _steps(p: int, seed: int = 1):
    """A sequence of (x, cols) as a path produces them: sets grow, then shrink, x moves."""
    rng = np.random.default_rng(seed)
    sets = [np.arange(3), np.arange(6), np.array([0, 2, 5, 9, 11]), np.arange(p), np.array([1, 4, 7])]
    for cols in sets:
        x = np.zeros(p + 1)
        x[cols] = rng.normal(0, 0.5, cols.size)
        x[-1] = rng.normal()
        yield x, cols


@pytest.mark.parametrize("kind", ["dense", "fortran", "float32", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_rho_zero_is_the_exact_hessian(kind, fit_intercept):
    X, y, sw = _problem(kind)
    obj = LogisticObjective(InMemoryBlocks(X, y, sw, n_threads=1), 2, fit_intercept=fit_intercept, alpha=0.3)
    cache = gc.gram_cache_for(obj, rho=0.0)
    assert cache is not None
    # float32 X: the cache sums in float64, so it matches the float64 objective
    # of the same numbers (the objective's own float32 Hessian pass forms z in float32)
    X64 = X.astype(np.float64)
    ref = LogisticObjective(InMemoryBlocks(X64, y, sw, n_threads=1), 2, fit_intercept=fit_intercept, alpha=0.3)
    p = X.shape[1]
    for x, cols in _steps(p):
        if not fit_intercept:
            x = x[:p]
        H, idx = cache.hessian(obj, cols, obj.value_grad_weights(x)[2])
        _, _, H_ref, idx_ref = ref.value_grad_hess_sub(x, cols)
        np.testing.assert_array_equal(idx, idx_ref)
        np.testing.assert_allclose(H, H_ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_refreshed_hessian_within_its_loewner_bound(kind):
    X, y, sw = _problem(kind, n=2000, p=12)
    obj = LogisticObjective(InMemoryBlocks(X, y, sw, n_threads=1), 2, alpha=0.0)
    rho = 0.1
    cache = gc.gram_cache_for(obj, rho=rho)
    cols = np.arange(12)
    rng = np.random.default_rng(3)
    x = np.zeros(13)
    refreshed = []
    for _ in range(6):
        x = x + rng.normal(0, 0.08, 13)
        B, _ = cache.hessian(obj, cols, obj.value_grad_weights(x)[2])
        refreshed.append(cache.rows_refreshed)
        H = obj.value_grad_hess_sub(x, cols)[2]
        # generalised eigenvalues of (B, H): all within [1 - rho, 1 + rho]
        ev = linalg.eigh(B, H, eigvals_only=True)
        assert ev.min() >= 1 - rho - 1e-9 and ev.max() <= 1 + rho + 1e-9
    assert cache.full_builds == 1  # small moves refresh rows, they do not rebuild
    assert 0 < refreshed[-1] < 6 * 2000


@pytest.mark.skipif(gc._gram_kernels is None, reason="compiled kernels not built")
@pytest.mark.parametrize("kind", ["dense", "float32", "csr"])
def test_compiled_products_match_numpy(kind):
    X, y, sw = _problem(kind, n=300, p=20)
    cache = gc.GramCache(LogisticObjective(InMemoryBlocks(X, y, sw, n_threads=1)))
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(300, 120, replace=False))
    cols = np.array([3, 17, 0, 8])
    dr = rng.normal(size=120)  # signed, as a refresh's changes are
    assert cache._compiled()
    np.testing.assert_allclose(cache._gram(rows, cols, dr), cache._gram_numpy(rows, cols, dr), rtol=1e-10, atol=1e-12)
    d = rng.random(300)
    new, allc = np.array([5, 9]), np.array([3, 17, 5, 9])
    np.testing.assert_allclose(cache._cross(new, allc, d), cache._cross_numpy(new, allc, d), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_path_without_compiled_kernels_gives_the_same_fits(kind, monkeypatch):
    """An install without a C compiler: numpy Gram products, no column updates; same path."""
    from logitfit.estimators.regularization import PathSpec, alpha_grid, fit_path
    from logitfit.solvers import naive_cd

    X, y, sw = _problem(kind, n=500, p=15)
    blocks = InMemoryBlocks(X, y, sw, n_threads=1)
    spec = PathSpec(tol=1e-9)
    alphas = alpha_grid(blocks, 2, spec, 12)
    compiled = fit_path(blocks, 2, alphas, spec)
    monkeypatch.setattr(gc, "_gram_kernels", None)
    monkeypatch.setattr(naive_cd, "_naive_sweeps", None)
    plain = fit_path(blocks, 2, alphas, spec)
    assert plain.kkt_violation.max() <= 1e-9
    np.testing.assert_allclose(plain.coef, compiled.coef, atol=1e-6)
