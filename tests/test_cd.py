"""L1 / elastic-net / grouped / bounded fits: cd and prox solvers and the estimator.

Oracles: scikit-learn's saga run to tol 1e-12 (same objective with
C = 1/(alpha n)), glum's GeneralizedLinearRegressor (same objective: mean
half-deviance plus alpha [r ||w||_1 + (1-r)/2 ||w||^2]), scipy's L-BFGS-B for
box bounds, the unpenalised Newton fit for penalty factor 0, and the KKT
conditions themselves.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize as scipy_minimize
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from logitfit.blocks import InMemoryBlocks
from logitfit.estimators.logistic import LogisticRegression
from logitfit.model.objective import LogisticObjective
from logitfit.model.penalties import make_penalty
from logitfit.solvers import SolverOptions, minimize

# saga at tol 1e-12 agrees with an exact solver to ~1e-8 on these well-scaled problems.
SAGA_COEF_TOL = 1e-6
GLUM_COEF_TOL = 1e-6
KKT_TOL = 1e-7
SOLVER_AGREEMENT = 1e-6
LBFGSB_TOL = 1e-5
FIT_TOL = 1e-10


def _data(n=300, p=12, classes=2, seed=0):
    X, y = make_classification(n, p, n_informative=5, n_classes=classes, random_state=seed)
    X = (X - X.mean(0)) / X.std(0)
    return X, y


def _saga(X, y, alpha, l1_ratio):
    sk = SkLogisticRegression(
        l1_ratio=l1_ratio, C=1 / (alpha * len(y)), solver="saga", tol=1e-12, max_iter=100_000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sk.fit(X, y)


@pytest.mark.parametrize("penalty, l1_ratio", [("l1", 1.0), ("elasticnet", 0.5)])
def test_binary_matches_sklearn_saga(penalty, l1_ratio):
    X, y = _data()
    alpha = 0.02
    m = LogisticRegression(penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, tol=FIT_TOL).fit(X, y)
    sk = _saga(X, y, alpha, l1_ratio)
    assert m.solver_ == "cd" and m.converged_
    np.testing.assert_allclose(m.coef_, sk.coef_, atol=SAGA_COEF_TOL)
    np.testing.assert_allclose(m.intercept_, sk.intercept_, atol=SAGA_COEF_TOL)
    assert np.array_equal(m.coef_ == 0, np.abs(sk.coef_) < SAGA_COEF_TOL)
    assert m.solver_result_.kkt_violation <= KKT_TOL


def test_multinomial_l1_matches_sklearn_saga():
    X, y = _data(classes=3)
    alpha = 0.02
    m = LogisticRegression(penalty="l1", alpha=alpha, tol=FIT_TOL).fit(X, y)
    sk = _saga(X, y, alpha, 1.0)
    np.testing.assert_allclose(m.coef_, sk.coef_, atol=SAGA_COEF_TOL)
    # the unpenalised softmax intercepts are identified only up to a constant
    np.testing.assert_allclose(
        m.intercept_ - m.intercept_.mean(), sk.intercept_ - sk.intercept_.mean(), atol=SAGA_COEF_TOL
    )


@pytest.mark.parametrize("l1_ratio", [1.0, 0.3])
def test_binary_matches_glum(l1_ratio):
    glum = pytest.importorskip("glum")
    X, y = _data(seed=1)
    alpha = 0.01
    m = LogisticRegression(penalty="elasticnet", alpha=alpha, l1_ratio=l1_ratio, tol=FIT_TOL).fit(X, y)
    g = glum.GeneralizedLinearRegressor(
        family="binomial", alpha=alpha, l1_ratio=l1_ratio, gradient_tol=1e-12, max_iter=1000
    ).fit(X, y)
    np.testing.assert_allclose(m.coef_[0], g.coef_, atol=GLUM_COEF_TOL)
    np.testing.assert_allclose(m.intercept_[0], g.intercept_, atol=GLUM_COEF_TOL)


def _objective(X, y, classes, alpha_ridge=0.0):
    blocks = InMemoryBlocks(X, y.astype(float) if classes == 2 else y, np.ones(len(y)))
    return LogisticObjective(blocks, classes, alpha=alpha_ridge)


@pytest.mark.parametrize("classes, grouped", [(2, False), (3, False), (3, True)])
def test_prox_agrees_with_cd_and_kkt_holds(classes, grouped):
    X, y = _data(classes=classes)
    obj = _objective(X, y, classes, alpha_ridge=0.005)
    pen = make_penalty(X.shape[1], obj.n_outputs, True, l1=0.03, grouped=grouped)
    opts = SolverOptions(tol=1e-9, penalty=pen)
    r_cd = minimize(obj, obj.zero(), "cd", opts)
    r_px = minimize(obj, obj.zero(), "prox", opts)
    for r in (r_cd, r_px):
        assert r.converged and r.kkt_violation <= KKT_TOL
        assert "KKT" in r.message
        # independent recomputation of the KKT measure at the returned x
        assert pen.max_kkt_violation(r.x, obj.grad(r.x)) <= KKT_TOL
    K = obj.n_outputs
    B_cd, B_px = r_cd.x.reshape(-1, K), r_px.x.reshape(-1, K)
    np.testing.assert_allclose(B_cd[:-1], B_px[:-1], atol=SOLVER_AGREEMENT)
    # softmax intercepts are identified only up to a constant shared by the classes
    np.testing.assert_allclose(B_cd[-1] - B_cd[-1].mean(), B_px[-1] - B_px[-1].mean(), atol=SOLVER_AGREEMENT)


def test_grouped_multinomial_zeroes_whole_features():
    X, y = _data(p=20, classes=3, seed=2)
    m = LogisticRegression(penalty="l1", alpha=0.04, grouped=True, tol=FIT_TOL).fit(X, y)
    zero_rows = np.all(m.coef_ == 0, axis=0)
    nonzero_rows = np.all(m.coef_ != 0, axis=0)
    assert np.all(zero_rows | nonzero_rows)
    assert 0 < zero_rows.sum() < X.shape[1]
    ungrouped = LogisticRegression(penalty="l1", alpha=0.04, tol=FIT_TOL).fit(X, y)
    assert np.any(~np.all(ungrouped.coef_ == 0, axis=0) & np.any(ungrouped.coef_ == 0, axis=0))


def test_box_bounds_match_lbfgsb():
    X, y = _data(seed=3)
    m = LogisticRegression(lower_bounds=0.0, upper_bounds=0.5, tol=FIT_TOL).fit(X, y)
    assert m.solver_ == "cd"
    assert np.all(m.coef_ >= 0) and np.all(m.coef_ <= 0.5)
    obj = _objective(X, y, 2)
    bounds = [(0.0, 0.5)] * X.shape[1] + [(None, None)]
    ref = scipy_minimize(obj.value_and_grad, obj.zero(), jac=True, method="L-BFGS-B", bounds=bounds,
                         options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000})
    np.testing.assert_allclose(m.coef_[0], ref.x[:-1], atol=LBFGSB_TOL)
    assert m.objective_ <= ref.fun + 1e-12


def test_penalty_factor_zero_leaves_feature_unpenalised():
    X, y = _data(seed=4)
    factor = np.ones(X.shape[1])
    factor[3] = 0.0
    # alpha far above alpha_max: every penalised coefficient is 0, feature 3 is free
    m = LogisticRegression(penalty="l1", alpha=10.0, penalty_factor=factor, tol=FIT_TOL).fit(X, y)
    assert np.count_nonzero(m.coef_) == 1 and m.coef_[0, 3] != 0
    ref = LogisticRegression(tol=FIT_TOL).fit(X[:, [3]], y)
    np.testing.assert_allclose(m.coef_[0, 3], ref.coef_[0, 0], rtol=1e-8)
    np.testing.assert_allclose(m.intercept_, ref.intercept_, rtol=1e-8)


def test_penalty_factor_equals_column_rescaling():
    # L1 with factor c on feature j is the same model as feature j divided by c.
    X, y = _data(seed=5)
    c = 2.5
    factor = np.ones(X.shape[1])
    factor[0] = c
    a = LogisticRegression(penalty="l1", alpha=0.01, penalty_factor=factor, tol=FIT_TOL).fit(X, y)
    Xs = X.copy()
    Xs[:, 0] /= c
    b = LogisticRegression(penalty="l1", alpha=0.01, tol=FIT_TOL).fit(Xs, y)
    np.testing.assert_allclose(a.coef_[0, 0], b.coef_[0, 0] / c, atol=1e-8)
    np.testing.assert_allclose(a.coef_[0, 1:], b.coef_[0, 1:], atol=1e-8)


def test_sparse_input_matches_dense():
    X, y = _data(seed=6)
    X[np.abs(X) < 0.8] = 0.0
    dense = LogisticRegression(penalty="l1", alpha=0.01, tol=FIT_TOL).fit(X, y)
    for solver in ("cd", "prox"):
        m = LogisticRegression(penalty="l1", alpha=0.01, tol=1e-9, solver=solver).fit(sp.csr_matrix(X), y)
        np.testing.assert_allclose(m.coef_, dense.coef_, atol=SOLVER_AGREEMENT)


def test_l1_needs_cd_or_prox():
    X, y = _data()
    with pytest.raises(ValueError, match="cd"):
        LogisticRegression(penalty="l1", solver="lbfgs").fit(X, y)


def test_default_behaviour_unchanged():
    X, y = _data()
    m = LogisticRegression(tol=FIT_TOL).fit(X, y)
    assert m.solver_ == "newton" and m.solver_result_.kkt_violation is None


# Near-separable iris at small alpha used to stall (grouped hit max_iter with KKT 6.7e-5).
IRIS_ALPHAS = [1e-3, 1e-5]


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("alpha", IRIS_ALPHAS)
def test_near_separable_iris_converges_to_kkt(grouped, alpha):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    m = LogisticRegression(penalty="l1", alpha=alpha, grouped=grouped, tol=KKT_TOL).fit(X, y)
    assert m.converged_ and m.solver_result_.kkt_violation <= KKT_TOL
    # independent KKT check from the objective's gradient at the fitted x
    obj = _objective(X, y, 3)
    pen = make_penalty(X.shape[1], 3, True, l1=alpha, grouped=grouped)
    assert pen.max_kkt_violation(m.solver_result_.x, obj.grad(m.solver_result_.x)) <= KKT_TOL


def test_group_solve_is_the_exact_block_minimiser():
    # Oracle: the first-order optimality condition of the block problem
    # w^T B w/2 - c^T w + lam ||w||:  B w - c + lam w/||w|| = 0.
    from logitfit.solvers.cd_inner import _group_solve

    rng = np.random.default_rng(0)
    for _ in range(20):
        A = rng.normal(size=(4, 4))
        B = A @ A.T * rng.uniform(1e-6, 1.0)
        B[np.diag_indices(4)] += rng.uniform(0, 1e-3)
        c = rng.normal(size=4)
        lam = 0.5 * np.linalg.norm(c)
        e, Q = np.linalg.eigh(B)
        w = Q @ _group_solve(Q.T @ c, np.maximum(e, 0), lam)
        resid = B @ w - c + lam * w / np.linalg.norm(w)
        assert np.linalg.norm(resid) <= 1e-9 * (1 + np.linalg.norm(c))


def test_large_working_set_falls_back_to_prox(monkeypatch):
    # Oracle: the full cd fit (dense Hessian) at the same objective.
    import logitfit.solvers.cd as cd

    X, y = _data(seed=7)
    obj = _objective(X, y, 2)
    pen = make_penalty(X.shape[1], 1, True, l1=0.005)
    opts = SolverOptions(tol=1e-9, penalty=pen)
    full = minimize(obj, obj.zero(), "cd", opts)
    monkeypatch.setattr(cd, "MAX_HESSIAN_PARAMS", 3)
    small = minimize(obj, obj.zero(), "cd", opts)
    assert "FISTA" in small.message and small.kkt_violation <= KKT_TOL
    np.testing.assert_allclose(small.x, full.x, atol=SOLVER_AGREEMENT)


@pytest.mark.parametrize("bounds", [False, True])
def test_vectorised_inner_solver_matches_cyclic(monkeypatch, bounds):
    # Oracle: the cyclic coordinate-descent fit (and the KKT conditions).
    import logitfit.solvers.cd as cd

    X, y = _data(p=30, seed=8)
    obj = _objective(X, y, 2)
    lo, hi = (-0.3, 0.4) if bounds else (None, None)
    pen = make_penalty(X.shape[1], 1, True, l1=0.003, lower_bounds=lo, upper_bounds=hi)
    opts = SolverOptions(tol=1e-9, penalty=pen)
    cyclic = minimize(obj, obj.zero(), "cd", opts)
    monkeypatch.setattr(cd, "VECTORISED_MIN_SIZE", 1)
    vec = minimize(obj, obj.zero(), "cd", opts)
    assert vec.converged and vec.kkt_violation <= KKT_TOL
    np.testing.assert_allclose(vec.x, cyclic.x, atol=SOLVER_AGREEMENT)


def _reference_sweeps(H, g, u, v, lam, lo, hi, idx, tol, max_sweeps):
    """Plain-Python cyclic sweeps: the update the compiled kernel must reproduce."""
    diag = np.maximum(np.diag(H), np.finfo(float).tiny)
    change = 0.0
    for s in range(1, max_sweeps + 1):
        change = 0.0
        for i in idx:
            z = diag[i] * u[i] - (g[i] + v[i])
            new = np.sign(z) * max(abs(z) - lam[i], 0.0) / diag[i]
            new = min(max(new, lo[i]), hi[i])
            delta = new - u[i]
            if delta != 0.0:
                u[i] = new
                v += delta * H[i]
                change = max(change, abs(delta) * diag[i])
        if change <= tol:
            return s, change
    return max_sweeps, change


def _random_model(rng, m):
    A = rng.normal(size=(m, m + 3))
    H = A @ A.T / m + 1e-3 * np.eye(m)
    g = rng.normal(size=m)
    lam = rng.uniform(0.0, 0.8, m)
    lam[rng.random(m) < 0.3] = 0.0  # unpenalised coordinates
    lo = np.where(rng.random(m) < 0.5, -np.inf, -rng.uniform(0.05, 0.5, m))
    hi = np.where(rng.random(m) < 0.5, np.inf, rng.uniform(0.05, 0.5, m))
    u0 = np.clip(rng.normal(scale=0.3, size=m) * (rng.random(m) < 0.5), lo, hi)
    return H, g, u0, lam, lo, hi


def _sweeps_impl(impl):
    from logitfit.solvers import cd_inner as cd

    if impl == "fallback":  # what runs where the extension could not be built
        return cd._python_sweeps
    if cd._compiled_sweeps is None:
        pytest.skip("logitfit.solvers._cd_kernels was not built (no C compiler)")
    return cd._compiled_sweeps


@pytest.mark.parametrize("impl", ["compiled", "fallback"])
@pytest.mark.parametrize("seed", range(6))
def test_compiled_sweeps_match_python_reference(seed, impl):
    # Oracle: the plain-Python coordinate update of the glmnet inner solver.
    sweeps = _sweeps_impl(impl)

    rng = np.random.default_rng(seed)
    m = [1, 5, 17, 40, 64, 120][seed]
    H, g, u0, lam, lo, hi = _random_model(rng, m)
    diag = np.maximum(np.diag(H), np.finfo(float).tiny)
    u_c, v_c = u0.copy(), np.zeros(m)
    u_p, v_p = u0.copy(), np.zeros(m)
    everything = np.arange(m, dtype=np.intp)
    subset = rng.permutation(m)[: max(1, m // 2)].astype(np.intp)
    # one full sweep, a few sweeps on a subset (shuffled order), then sweeps to convergence
    for idx, tol, n_max in [(everything, 0.0, 1), (subset, 0.0, 3), (everything, 1e-10, 500)]:
        n_c, ch_c = sweeps(H, g, u_c, v_c, diag, lam, lo, hi, idx, tol, n_max)
        n_p, ch_p = _reference_sweeps(H, g, u_p, v_p, lam, lo, hi, idx, tol, n_max)
        assert n_c == n_p
        np.testing.assert_allclose(ch_c, ch_p, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(u_c, u_p, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(v_c, v_p, rtol=1e-12, atol=1e-12)
    assert np.all(u_c >= lo) and np.all(u_c <= hi)
    # at convergence the model's KKT conditions hold: 0 in g + v + lam * subdiff|u| (+ normal cone)
    r = g + v_c
    free = (u_c > lo) & (u_c < hi)
    on = free & (u_c != 0)
    np.testing.assert_allclose(r[on] + lam[on] * np.sign(u_c[on]), 0.0, atol=1e-8)
    off = free & (u_c == 0)
    assert np.all(np.abs(r[off]) <= lam[off] + 1e-8)


def test_compiled_sweeps_edge_cases():
    sweeps = _sweeps_impl("compiled")

    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    g, lam = np.array([-1.0, 3.0]), np.zeros(2)
    lo, hi = np.full(2, -np.inf), np.full(2, np.inf)
    u, v = np.zeros(2), np.zeros(2)
    diag = np.diag(H).copy()
    # empty index list: nothing moves, change 0, one sweep counted
    assert sweeps(H, g, u, v, diag, lam, lo, hi, np.zeros(0, dtype=np.intp), 0.0, 5) == (1, 0.0)
    assert not np.any(u) and not np.any(v)
    # unpenalised, unbounded: converges to the Newton solution H u = -g
    n, change = sweeps(H, g, u, v, diag, lam, lo, hi, np.arange(2, dtype=np.intp), 1e-14, 10_000)
    assert change <= 1e-14 and n < 10_000
    np.testing.assert_allclose(u, np.linalg.solve(H, -g), rtol=1e-12)
    np.testing.assert_allclose(v, H @ u, rtol=1e-12)
    with pytest.raises(IndexError):
        sweeps(H, g, u, v, diag, lam, lo, hi, np.array([2], dtype=np.intp), 0.0, 1)
    with pytest.raises(ValueError):
        sweeps(H, g[:1], u, v, diag, lam, lo, hi, np.arange(2, dtype=np.intp), 0.0, 1)
