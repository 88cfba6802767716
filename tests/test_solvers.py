"""Solvers (logitfit.solvers): one signature, one frozen result, the same optimum.

Oracle: Newton-Cholesky run to max|grad| <= 1e-12 (quadratic convergence makes
that reachable) on a well-conditioned problem; every other solver must land on
the same coefficients. Intercepts of the unpenalised symmetric softmax are
determined only up to a common constant, so multinomial intercepts are
compared after centring (as the estimator reports them).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from logitfit.blocks import InMemoryBlocks
from logitfit.model.objective import LogisticObjective
from logitfit.solvers import (
    NEWTON_MAX_PARAMS,
    SOLVERS,
    History,
    SolverOptions,
    SolverResult,
    choose_solver,
    get_solver,
    minimize,
)
from logitfit.solvers.newton import newton_direction

pytestmark = pytest.mark.usefixtures("single_blas_thread")

REFERENCE_TOL = 1e-12
# The bar: every solver equals every other to 1e-6 relative at tight tol.
AGREE_RTOL = 1e-6
# Per-solver gradient tolerance each can honestly reach on this problem, and why:
SOLVER_TOL = {
    "newton": 1e-10,
    "newton-cg": 1e-10,
    # L-BFGS-B's line search needs J to fall, and J ~ 0.6 stops changing in
    # float64 once max|grad| ~ 1e-10 (J moves by ~grad^2/curvature < eps J).
    "lbfgs": 1e-9,
    # Armijo gradient descent converges linearly at rate ~(1 - 1/cond): 1e-9 in
    # a few hundred iterations on a condition number ~10 problem.
    "gd": 1e-9,
    # SGD with growing batches ends as full-batch Adam: noise-free but
    # linearly convergent; 1e-8 in < 300 epochs here, 1e-9 takes thousands.
    "sgd": 1e-8,
}
ALL_SOLVERS = tuple(SOLVER_TOL)
# Coefficient error is about max|grad| / (smallest curvature). For sgd at 1e-8
# and the multinomial problem's smallest curvature ~0.01 that is ~1e-6 absolute
# (4e-6 relative measured): sgd meets 1e-5, not the 1e-6 of the exact solvers.
# Going tighter costs thousands of epochs (1000 epochs reach only 1.4e-9).
SGD_AGREE_RTOL = 1e-5


def well_conditioned(K: int, n: int = 400, p: int = 5, alpha: float = 0.01, sparse: bool = False):
    rng = np.random.default_rng(K)
    X = rng.standard_normal((n, p))
    if K == 2:
        w = 0.5 * rng.standard_normal(p)
        y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w + 0.3)))).astype(float)
    else:
        y = rng.integers(0, K, n)
    if sparse:
        X[rng.random((n, p)) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    return LogisticObjective(InMemoryBlocks(X, y, np.ones(n)), K, alpha=alpha)


def centred(obj: LogisticObjective, x: np.ndarray) -> np.ndarray:
    if not obj.multinomial:
        return x
    B = x.reshape(obj.n_dof, obj.n_classes).copy()
    B[-1] -= B[-1].mean()
    return B.ravel()


@pytest.fixture(scope="module", params=[2, 3], ids=["binary", "multinomial"])
def problem(request):
    obj = well_conditioned(request.param)
    ref = minimize(obj, obj.zero(), "newton", SolverOptions(tol=REFERENCE_TOL))
    assert ref.converged, ref.message
    return obj, centred(obj, ref.x)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_every_solver_reaches_the_newton_optimum(problem, solver):
    obj, x_ref = problem
    res = minimize(obj, obj.zero(), solver, SolverOptions(tol=SOLVER_TOL[solver], random_state=0))
    assert res.converged, res.message
    assert res.grad_norm <= SOLVER_TOL[solver]
    rtol = SGD_AGREE_RTOL if solver == "sgd" else AGREE_RTOL
    np.testing.assert_allclose(centred(obj, res.x), x_ref, rtol=0, atol=rtol * np.abs(x_ref).max())


def test_sgd_momentum_reaches_the_optimum():
    obj = well_conditioned(2)
    ref = minimize(obj, obj.zero(), "newton", SolverOptions(tol=REFERENCE_TOL))
    res = minimize(obj, obj.zero(), "sgd", SolverOptions(tol=2e-8, random_state=0, sgd_method="momentum"))
    assert res.converged, res.message
    np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=AGREE_RTOL * np.abs(ref.x).max())


def test_sparse_solvers_agree():
    obj = well_conditioned(2, sparse=True)
    ref = minimize(obj, obj.zero(), "newton", SolverOptions(tol=REFERENCE_TOL)).x
    for solver in ("newton-cg", "lbfgs"):
        res = minimize(obj, obj.zero(), solver, SolverOptions(tol=SOLVER_TOL[solver]))
        assert res.converged, (solver, res.message)
        np.testing.assert_allclose(res.x, ref, rtol=0, atol=AGREE_RTOL * np.abs(ref).max())


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_result_is_frozen_with_a_consistent_history(problem, solver):
    obj, _ = problem
    res = minimize(obj, obj.zero(), solver, SolverOptions(tol=1e-6, random_state=0))
    assert isinstance(res, SolverResult) and isinstance(res.history, History)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.n_iter = 0  # type: ignore[misc]
    h = res.history
    assert len(h.objective) == len(h.grad_norm) == len(h.step_size)
    assert len(h.objective) == res.n_iter + 1  # entry 0 is the start
    assert h.objective[0] == pytest.approx(obj.value(obj.zero()))
    assert h.objective[-1] == pytest.approx(res.fun)
    assert h.grad_norm[-1] == pytest.approx(res.grad_norm)
    assert res.fun == pytest.approx(obj.value(res.x), rel=1e-12)
    assert res.solver == solver
    assert set(h.as_dict()) == {"objective", "grad_norm", "step_size"}
    if solver in ("newton", "newton-cg", "gd", "lbfgs"):  # monotone line-search methods
        assert np.all(np.diff(h.objective) <= 1e-15)


def test_converged_flag_means_the_gradient_test():
    obj = well_conditioned(2)
    res = minimize(obj, obj.zero(), "gd", SolverOptions(tol=1e-12, max_iter=3))
    assert not res.converged and res.n_iter == 3
    assert res.grad_norm > 1e-12 and "max_iter=3" in res.message


def test_max_iter_zero_returns_the_start():
    obj = well_conditioned(2)
    for solver in ALL_SOLVERS:
        res = minimize(obj, obj.zero(), solver, SolverOptions(max_iter=0))
        assert res.n_iter == 0 and np.array_equal(res.x, obj.zero()), solver


def test_callback_can_stop_and_sees_each_iteration():
    obj = well_conditioned(3)
    seen = []

    def callback(it, x, f, gn):
        seen.append((it, f, gn))
        return it >= 2

    res = minimize(obj, obj.zero(), "newton", SolverOptions(tol=1e-14, callback=callback))
    assert [s[0] for s in seen] == [1, 2]
    assert res.n_iter == 2 and not res.converged and "callback" in res.message


def test_verbose_prints_one_line_per_iteration(capsys):
    obj = well_conditioned(2)
    res = minimize(obj, obj.zero(), "newton", SolverOptions(tol=1e-10, verbose=1))
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[newton]")]
    assert len(lines) == res.n_iter


def test_gd_fixed_learning_rate_is_the_course_update():
    """With learning_rate eta, one step is exactly x1 = x0 - eta * grad J(x0)."""
    obj = well_conditioned(2)
    x0 = np.full(obj.n_params, 0.1)
    res = minimize(obj, x0, "gd", SolverOptions(learning_rate=0.5, max_iter=1, tol=1e-14))
    np.testing.assert_array_equal(res.x, x0 - 0.5 * obj.grad(x0))
    assert res.history.step_size[1] == 0.5


def test_gd_too_large_a_learning_rate_is_reported():
    obj = well_conditioned(2, alpha=0.0)
    res = minimize(obj, obj.zero(), "gd", SolverOptions(learning_rate=1e6, max_iter=50, tol=1e-10))
    # The stable loss stays finite (no overflow to report), so the history shows
    # the divergence: J jumps from ln 2 by orders of magnitude and never returns.
    h = res.history.objective
    assert not res.converged and res.n_iter == 50
    assert np.all(np.isfinite(h))
    assert min(h[1:]) > 100 * h[0]


def test_sgd_is_reproducible_with_a_seed():
    obj = well_conditioned(2)
    opts = SolverOptions(tol=1e-12, max_iter=5, random_state=123)
    a = minimize(obj, obj.zero(), "sgd", opts)
    b = minimize(obj, obj.zero(), "sgd", opts)
    np.testing.assert_array_equal(a.x, b.x)
    c = minimize(obj, obj.zero(), "sgd", dataclasses.replace(opts, random_state=124))
    assert not np.array_equal(a.x, c.x)


def test_sgd_rejects_an_unknown_method():
    obj = well_conditioned(2)
    with pytest.raises(ValueError, match="sgd_method"):
        minimize(obj, obj.zero(), "sgd", SolverOptions(sgd_method="rmsprop"))


def test_newton_direction_survives_a_singular_hessian():
    """Duplicated column: H is singular; the step is the minimum-norm solution,
    which moves only in the identifiable directions (equal weights on the twins)."""
    H = np.array([[2.0, 2.0, 0.0], [2.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    g = np.array([1.0, 1.0, -1.0])
    d = newton_direction(H, g)
    np.testing.assert_allclose(d, [-0.25, -0.25, 1.0], rtol=1e-12)
    assert g @ d < 0


def test_newton_handles_duplicated_columns_in_a_fit():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(200)
    X = np.column_stack([x, x, rng.standard_normal(200)])
    y = (rng.random(200) < 1 / (1 + np.exp(-x))).astype(float)
    obj = LogisticObjective(InMemoryBlocks(X, y, np.ones(200)), 2)
    res = minimize(obj, obj.zero(), "newton", SolverOptions(tol=1e-10))
    assert res.converged, res.message
    assert res.x[0] == pytest.approx(res.x[1], rel=1e-8)  # the symmetric (minimum-norm) split


def test_choose_solver_rule():
    """Newton-Cholesky for binary models up to NEWTON_MAX_PARAMS parameters, then
    Newton-CG; softmax models always Newton-CG (docs/solvers.md has the measurements)."""
    cut = NEWTON_MAX_PARAMS
    assert choose_solver(1000, 5, sparse=False) == "newton"
    assert choose_solver(1000, cut, sparse=False) == "newton"
    assert choose_solver(1000, cut + 1, sparse=False) == "newton-cg"
    assert choose_solver(1000, 15, sparse=False, multinomial=True) == "newton-cg"
    assert choose_solver(1000, cut + 1, sparse=True) == "newton-cg"
    assert choose_solver(1000, 100 * cut, sparse=True) == "newton-cg"


def test_registry_and_unknown_solver():
    for name in SOLVERS:
        if name != "auto":
            assert callable(get_solver(name))
    obj = well_conditioned(2)
    with pytest.raises(ValueError, match="unknown solver 'bfgs'"):
        minimize(obj, obj.zero(), "bfgs")
    res = minimize(obj, obj.zero(), "auto", SolverOptions(tol=1e-8), n_samples=400)
    assert res.solver == "newton" and res.converged


# ----------------------------------------------------- sub-sampled Hessian

SUBSAMPLE_AGREEMENT = 1e-8  # same optimum: the stopping test uses the exact gradient


@pytest.mark.parametrize("n_classes", [2, 3])
def test_subsampled_hessian_newton_reaches_the_exact_optimum(n_classes, monkeypatch):
    import logitfit.model.objective as loss_module

    # a small row target so that this test's data are "tall": every 4th block
    monkeypatch.setattr(loss_module, "HESSIAN_MIN_ROWS", 1500)
    monkeypatch.setattr(loss_module, "HESSIAN_ROWS_PER_PARAM", 1)
    rng = np.random.default_rng(11)
    n, p = 6000, 5
    X = rng.standard_normal((n, p))
    y = rng.integers(0, n_classes, n).astype(float if n_classes == 2 else np.intp)
    obj = LogisticObjective(InMemoryBlocks(X, y, np.ones(n), rows_per_block=512), n_classes, alpha=1e-3)
    assert obj.hessian_block_stride() == 4
    f_sub, g_sub, H_sub = obj.value_grad_hess(obj.zero() + 0.1, subsample=True)
    f, g, H = obj.value_grad_hess(obj.zero() + 0.1)
    assert f_sub == f and np.array_equal(g_sub, g)  # value and gradient stay exact
    assert not np.allclose(H_sub, H, rtol=1e-12)  # the Hessian really is estimated
    np.testing.assert_allclose(H_sub, H, rtol=0.2, atol=0.02)
    exact = minimize(obj, obj.zero(), "newton", SolverOptions(tol=1e-11, subsample_hessian=False))
    sub = minimize(obj, obj.zero(), "newton", SolverOptions(tol=1e-11))
    assert exact.converged and sub.converged
    np.testing.assert_allclose(sub.x, exact.x, rtol=SUBSAMPLE_AGREEMENT, atol=SUBSAMPLE_AGREEMENT)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_subsampled_hessp_newton_cg_reaches_the_exact_optimum(n_classes, monkeypatch):
    """Newton-CG's products from every 4th block: a real estimate of H v, the same optimum."""
    import logitfit.model.objective as loss_module

    monkeypatch.setattr(loss_module, "HESSIAN_MIN_ROWS", 1500)
    monkeypatch.setattr(loss_module, "HESSIAN_ROWS_PER_PARAM", 1)
    rng = np.random.default_rng(12)
    n, p = 6000, 5
    X = rng.standard_normal((n, p))
    y = rng.integers(0, n_classes, n).astype(float if n_classes == 2 else np.intp)
    offset = rng.normal(size=n) if n_classes == 2 else None
    obj = LogisticObjective(InMemoryBlocks(X, y, np.ones(n), rows_per_block=512, offset=offset),
                            n_classes, alpha=1e-3)
    x, v = obj.zero() + 0.1, rng.normal(size=obj.n_params)
    Hv_sub, Hv = obj.hessp(x, subsample=True)(v), obj.hessp(x)(v)
    assert not np.allclose(Hv_sub, Hv, rtol=1e-12)
    np.testing.assert_allclose(Hv_sub, Hv, rtol=0.2, atol=0.02)
    # the sub-sample is every 4th block of the rows (with their offsets): its own exact product
    idx = np.concatenate([np.arange(a, e) for a, e in obj.blocks.bounds[::4]])
    own = LogisticObjective(InMemoryBlocks(X[idx], y[idx], np.ones(idx.size),
                                           offset=None if offset is None else offset[idx]),
                            n_classes, alpha=1e-3)
    np.testing.assert_allclose(Hv_sub, own.hessp(x)(v), rtol=1e-12, atol=1e-14)
    exact = minimize(obj, obj.zero(), "newton-cg", SolverOptions(tol=1e-10, subsample_hessian=False))
    sub = minimize(obj, obj.zero(), "newton-cg", SolverOptions(tol=1e-10))
    assert exact.converged and sub.converged
    np.testing.assert_allclose(sub.x, exact.x, rtol=SUBSAMPLE_AGREEMENT, atol=SUBSAMPLE_AGREEMENT)


def test_subsampled_hessp_copy_is_bounded(monkeypatch):
    """A sub-sample that would copy a large share of a large X is not made: exact products instead."""
    import logitfit.model.objective as loss_module

    monkeypatch.setattr(loss_module, "HESSIAN_MIN_ROWS", 1500)
    monkeypatch.setattr(loss_module, "HESSIAN_ROWS_PER_PARAM", 1)
    rng = np.random.default_rng(13)
    X = rng.standard_normal((6000, 5))
    y = rng.integers(0, 2, 6000).astype(float)
    obj = LogisticObjective(InMemoryBlocks(X, y, np.ones(6000), rows_per_block=512), 2)
    x, v = obj.zero() + 0.1, rng.normal(size=obj.n_params)
    monkeypatch.setattr(loss_module, "HESSP_COPY_FREE_BYTES", 0)  # every copy counts as large
    np.testing.assert_array_equal(obj.hessp(x, subsample=True)(v), obj.hessp(x)(v))


def test_newton_cg_jacobi_preconditioner_takes_away_the_columns_units(monkeypatch):
    """Features on scales four decades apart: the same optimum as Newton, in far fewer CG steps."""
    import logitfit.solvers.newton_cg as newton_cg

    rng = np.random.default_rng(5)
    n, p = 3000, 40
    scales = 10.0 ** rng.uniform(-2, 2, p)
    X = rng.standard_normal((n, p)) * scales
    y = (X / scales @ rng.normal(size=p) * 0.3 + rng.logistic(size=n) > 0).astype(float)
    obj = LogisticObjective(InMemoryBlocks(X, y, np.ones(n)), 2, alpha=1e-4)
    assert newton_cg.spread(obj.hessian_diagonal(obj.zero())) > 1e6
    steps = []
    cg = newton_cg.cg_direction

    def counted(hessp, g, max_iter=newton_cg.MAX_CG_ITER, diagonal=None, enough=0.0):
        calls = [0]

        def product(v):
            calls[0] += 1
            return hessp(v)

        d = cg(product, g, max_iter, diagonal, enough)
        steps.append(calls[0])
        return d

    monkeypatch.setattr(newton_cg, "cg_direction", counted)
    reference = minimize(obj, obj.zero(), "newton", SolverOptions(tol=1e-10))
    jacobi = minimize(obj, obj.zero(), "newton-cg", SolverOptions(tol=1e-8))
    jacobi_steps, steps[:] = sum(steps), []
    monkeypatch.setattr(obj, "hessian_diagonal", lambda x, subsample=False: None)
    plain = minimize(obj, obj.zero(), "newton-cg", SolverOptions(tol=1e-8, max_iter=50))
    assert jacobi.converged
    np.testing.assert_allclose(jacobi.x, reference.x, rtol=1e-6, atol=1e-6 * np.abs(reference.x).max())
    assert jacobi_steps * 5 < sum(steps), (jacobi_steps, sum(steps), plain.converged)


def test_newton_cg_skips_jacobi_on_a_near_uniform_diagonal(monkeypatch):
    """Standardised columns: the diagonal is nearly flat, so CG runs unpreconditioned."""
    import logitfit.solvers.newton_cg as newton_cg

    rng = np.random.default_rng(6)
    X = rng.standard_normal((2000, 30))
    y = (X @ rng.normal(size=30) * 0.3 + rng.logistic(size=2000) > 0).astype(float)
    obj = LogisticObjective(InMemoryBlocks(X, y, np.ones(2000)), 2, alpha=1e-3)
    seen = []
    cg = newton_cg.cg_direction
    monkeypatch.setattr(newton_cg, "cg_direction",
                        lambda hessp, g, max_iter=250, diagonal=None, enough=0.0: seen.append(diagonal) or cg(hessp, g))
    assert minimize(obj, obj.zero(), "newton-cg", SolverOptions(tol=1e-8)).converged
    assert seen and all(d is None for d in seen)


def _wide(scales: np.ndarray | None = None, seed: int = 7):
    rng = np.random.default_rng(seed)
    n, p = 1500, 200  # 201 parameters: past NEWTON_MAX_PARAMS, too few rows for sub-sampled products
    X = rng.standard_normal((n, p))
    y = (X @ rng.normal(size=p) * 0.1 + rng.logistic(size=n) > 0).astype(float)
    if scales is not None:
        X = X * scales
    return LogisticObjective(InMemoryBlocks(X, y, np.ones(n)), 2, alpha=1e-3)


def test_auto_runs_lbfgs_on_a_well_scaled_wide_binary_model():
    obj = _wide()
    auto = minimize(obj, obj.zero(), "auto", SolverOptions(tol=1e-9))
    reference = minimize(obj, obj.zero(), "newton", SolverOptions(tol=1e-11))
    assert auto.solver == "lbfgs" and auto.converged
    np.testing.assert_allclose(auto.x, reference.x, atol=1e-7)


def test_auto_keeps_newton_cg_for_columns_in_different_units():
    obj = _wide(scales=10.0 ** np.random.default_rng(8).uniform(-2, 2, 200))
    auto = minimize(obj, obj.zero(), "auto", SolverOptions(tol=1e-8))
    assert auto.solver == "newton-cg" and auto.converged


def test_auto_hands_lbfgs_over_to_newton_cg(monkeypatch):
    """L-BFGS past its iteration budget: Newton-CG finishes, iterations and history run on."""
    import logitfit.solvers.registry as registry

    monkeypatch.setattr(registry, "LBFGS_HANDOVER_ITER", 3)
    obj = _wide()
    seen = []
    result = minimize(obj, obj.zero(), "auto",
                      SolverOptions(tol=1e-9, callback=lambda it, x, f, gn: seen.append(it)))
    reference = minimize(obj, obj.zero(), "newton", SolverOptions(tol=1e-11))
    assert result.solver == "lbfgs+newton-cg" and result.converged
    assert seen == list(range(1, result.n_iter + 1)) and result.n_iter > 3
    assert len(result.history.objective) == result.n_iter + 1
    np.testing.assert_allclose(result.x, reference.x, atol=1e-7)
    capped = minimize(obj, obj.zero(), "auto", SolverOptions(tol=1e-9, max_iter=3))
    assert capped.solver == "lbfgs" and capped.n_iter == 3 and not capped.converged
