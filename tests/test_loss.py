"""The objective (logitfit.model.objective.LogisticObjective): value, gradient, Hessian, Hessian-vector product.

Oracles:
* derivatives: central finite differences with the five-point stencil
  ``f'(x) ~ [-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)] / (12 h)``
  (truncation O(h^4), rounding O(eps/h)), on data, weights and coefficients
  that hypothesis draws; binary and multinomial, dense and CSR, float32 and float64;
* the value: scikit-learn's ``log_loss`` (weighted mean) plus the L2 term by hand;
* block sums: the same objective in one block (only the summation order differs).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from logitfit.blocks import InMemoryBlocks
from logitfit.model.objective import LogisticObjective

# Five-point stencil. float64: h = 1e-3 gives truncation ~h^4 f^(5) ~ 1e-12 and
# rounding ~eps/h ~ 1e-13 on an O(1) objective, so 1e-7 has ample room.
FD_STEP64 = 1e-3
FD_TOL64 = 1e-7
# float32 X: z = X w is computed with w rounded to float32, so J moves in steps
# of ~6e-8 |z|; with h = 1e-2 that is ~1e-5 in the quotient.
FD_STEP32 = 1e-2
FD_TOL32 = 2e-4
# float32 X against the same numbers held in float64: float32 products, float64 sums.
FLOAT32_VS_64_RTOL = 1e-5
# H v two ways (per-row products vs the formed matrix): a few hundred roundings.
HESSP_VS_HESS_RTOL = 1e-10
# Same sums, different order (block boundaries).
BLOCK_ORDER_RTOL = 1e-13
# Two exact formulas (ours vs scikit-learn's log_loss / a hand-written softmax loss).
EXACT_RTOL = 1e-12


def five_point(f, x: np.ndarray, v: np.ndarray, h: float):
    """Directional derivative of ``f`` at ``x`` along ``v`` (works for vector-valued f)."""
    return (-f(x + 2 * h * v) + 8 * f(x + h * v) - 8 * f(x - h * v) + f(x - 2 * h * v)) / (12 * h)


def fd_gradient(obj, x, h):
    return np.array([five_point(obj.value, x, e, h) for e in np.eye(x.size)])


def fd_hessian(obj, x, h):
    return np.column_stack([five_point(obj.grad, x, e, h) for e in np.eye(x.size)])


@st.composite
def problems(draw, max_rows: int = 30, max_features: int = 4):
    """X (dense or CSR, float32/64), class indices, weights (some zero), theta, options."""
    n = draw(st.integers(2, max_rows))
    p = draw(st.integers(1, max_features))
    K = draw(st.sampled_from([2, 3, 4]))
    X = draw(arrays(np.float64, (n, p), elements=st.floats(-3, 3, allow_subnormal=False)))
    sparse = draw(st.booleans())
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    y = draw(arrays(np.intp, n, elements=st.integers(0, K - 1)))
    sw = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5])))
    sw[draw(st.integers(0, n - 1))] = 1.0  # at least one positive weight
    fit_intercept = draw(st.booleans())
    alpha = draw(st.sampled_from([0.0, 0.01, 0.5]))
    rows_per_block = draw(st.integers(1, n))
    X = X.astype(dtype)
    Xin = sp.csr_matrix(X) if sparse else X
    yin = y.astype(np.float64) if K == 2 else y
    blocks = InMemoryBlocks(Xin, yin, sw, rows_per_block=rows_per_block, n_threads=1)
    obj = LogisticObjective(blocks, K, fit_intercept=fit_intercept, alpha=alpha)
    x = draw(arrays(np.float64, obj.n_params, elements=st.floats(-2, 2, allow_subnormal=False)))
    return obj, x, dtype


def _tols(dtype):
    return (FD_STEP64, FD_TOL64) if dtype == np.float64 else (FD_STEP32, FD_TOL32)


@settings(max_examples=40)
@given(problems())
def test_gradient_matches_finite_differences(case):
    obj, x, dtype = case
    h, tol = _tols(dtype)
    np.testing.assert_allclose(obj.grad(x), fd_gradient(obj, x, h), rtol=tol, atol=tol)


@settings(max_examples=30)
@given(problems())
def test_hessian_matches_finite_differences_of_gradient(case):
    obj, x, dtype = case
    h, tol = _tols(dtype)
    H = obj.hess(x)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-15)
    np.testing.assert_allclose(H, fd_hessian(obj, x, h), rtol=tol, atol=tol)


@settings(max_examples=40)
@given(problems(), st.integers(0, 2**32 - 1))
def test_hessp_matches_finite_differences_and_hess(case, seed):
    obj, x, dtype = case
    h, tol = _tols(dtype)
    v = np.random.default_rng(seed).standard_normal(obj.n_params)
    Hv = obj.hessp(x)(v)
    np.testing.assert_allclose(Hv, five_point(obj.grad, x, v, h), rtol=tol, atol=tol * np.abs(v).sum())
    # hess forms X^T D X in float64; hessp reads a float32 X with v rounded to float32.
    rtol = HESSP_VS_HESS_RTOL if dtype == np.float64 else FLOAT32_VS_64_RTOL
    np.testing.assert_allclose(Hv, obj.hess(x) @ v, rtol=rtol, atol=rtol)


@settings(max_examples=40)
@given(problems())
def test_value_and_grad_consistent_across_methods(case):
    """value, grad, value_and_grad and value_grad_hess agree (one formula, four entry points)."""
    obj, x, _ = case
    f, g = obj.value_and_grad(x)
    f3, g3, _ = obj.value_grad_hess(x)
    assert obj.value(x) == pytest.approx(f, rel=EXACT_RTOL)
    assert f3 == pytest.approx(f, rel=EXACT_RTOL)
    np.testing.assert_allclose(g3, g, rtol=EXACT_RTOL, atol=1e-15)


@settings(max_examples=40)
@given(problems(max_features=3))
def test_float32_matches_float64_on_the_same_numbers(case):
    obj, x, dtype = case
    if dtype != np.float32:
        return
    b = obj.blocks
    X64 = b.X.astype(np.float64)
    obj64 = LogisticObjective(
        InMemoryBlocks(X64, b.y, b.sw), obj.n_classes, fit_intercept=obj.fit_intercept, alpha=obj.alpha
    )
    f32, g32 = obj.value_and_grad(x)
    f64, g64 = obj64.value_and_grad(x)
    assert f32 == pytest.approx(f64, rel=FLOAT32_VS_64_RTOL)
    np.testing.assert_allclose(g32, g64, rtol=FLOAT32_VS_64_RTOL, atol=FLOAT32_VS_64_RTOL)
    assert isinstance(f32, float) and g32.dtype == np.float64


def _reference_problem(sparse: bool, K: int, n: int = 17, p: int = 3):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, p))
    X[rng.random((n, p)) < 0.3] = 0.0
    y = rng.integers(0, K, n)
    y = y.astype(float) if K == 2 else y
    sw = rng.uniform(0.1, 2.0, n)
    return (sp.csr_matrix(X) if sparse else X), y, sw


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("K", [2, 3])
def test_every_block_remainder_gives_the_same_sums(sparse, K):
    """rows_per_block = 1..n covers every remainder n mod rows_per_block."""
    X, y, sw = _reference_problem(sparse, K)
    n = X.shape[0]
    ref = LogisticObjective(InMemoryBlocks(X, y, sw, rows_per_block=n), K, alpha=0.1)
    x = np.random.default_rng(1).standard_normal(ref.n_params)
    v = np.random.default_rng(2).standard_normal(ref.n_params)
    f0, g0, H0 = ref.value_grad_hess(x)
    Hv0 = ref.hessp(x)(v)
    for rows in range(1, n + 1):
        obj = LogisticObjective(InMemoryBlocks(X, y, sw, rows_per_block=rows, n_threads=2), K, alpha=0.1)
        f, g, H = obj.value_grad_hess(x)
        assert f == pytest.approx(f0, rel=BLOCK_ORDER_RTOL), rows
        np.testing.assert_allclose(g, g0, rtol=BLOCK_ORDER_RTOL, atol=1e-15, err_msg=f"rows={rows}")
        np.testing.assert_allclose(H, H0, rtol=BLOCK_ORDER_RTOL, atol=1e-15, err_msg=f"rows={rows}")
        np.testing.assert_allclose(obj.hessp(x)(v), Hv0, rtol=BLOCK_ORDER_RTOL, atol=1e-14)


@pytest.mark.parametrize("K", [2, 3])
def test_thread_count_is_bit_identical(K):
    X, y, sw = _reference_problem(False, K, n=1000, p=5)
    x = np.random.default_rng(3).standard_normal((5 + 1) * (1 if K == 2 else K))
    out = []
    for threads in (1, 2, 3):
        obj = LogisticObjective(InMemoryBlocks(X, y, sw, rows_per_block=64, n_threads=threads), K, alpha=0.1)
        f, g, H = obj.value_grad_hess(x)
        out.append((f, g, H, obj.hessp(x)(x)))
    for f, g, H, Hv in out[1:]:
        assert f == out[0][0]
        for a, b in zip((g, H, Hv), out[0][1:], strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("K", [2, 3, 5])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_value_is_weighted_mean_log_loss_plus_l2(K, fit_intercept):
    """Oracle: sklearn.metrics.log_loss (weighted mean) and (alpha/2)||W||^2 by hand."""
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(K)
    n, p, alpha = 40, 3, 0.3
    X = rng.standard_normal((n, p))
    y = rng.integers(0, K, n)
    y[:K] = np.arange(K)
    sw = rng.uniform(0, 2, n)
    obj = LogisticObjective(
        InMemoryBlocks(X, y.astype(float) if K == 2 else y, sw), K, fit_intercept=fit_intercept, alpha=alpha
    )
    x = rng.standard_normal(obj.n_params)
    W, b = obj.unpack(x)
    if K == 2:
        z = X @ W + b
        P = np.column_stack([1 / (1 + np.exp(z)), 1 / (1 + np.exp(-z))])
        penalty = 0.5 * alpha * W @ W
    else:
        assert W.shape == (p, K) and np.shape(b) == (K,)
        # Convention: x = B.ravel() (C order), B = [W; b] of shape (p + 1, K).
        B = x.reshape(-1, K)
        np.testing.assert_array_equal(W, B[:p])
        Z = X @ W + b
        P = np.exp(Z - Z.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        penalty = 0.5 * alpha * np.sum(W * W)
    expected_loss = log_loss(y, P, sample_weight=sw, labels=np.arange(K))
    assert obj.loss(x) == pytest.approx(expected_loss, rel=EXACT_RTOL)
    assert obj.value(x) == pytest.approx(expected_loss + penalty, rel=EXACT_RTOL)
    # The intercept is never penalised: its penalty coefficient is zero.
    assert obj.n_params == (p + fit_intercept) * (1 if K == 2 else K)
    if fit_intercept:
        assert np.all(obj.l2.reshape(p + 1, -1)[p] == 0)


def test_extreme_linear_predictors_are_finite_and_exact():
    """z = +-40, +-800, +-1e300 through the whole objective, warnings as errors.

    Rows 0-2 are classified correctly with margin z, rows 3-5 wrongly; the exact
    per-row losses are log(1 + e^-|z|) and |z| + log(1 + e^-|z|).
    """
    for zabs, small in [(40.0, 4.248354255291589e-18), (800.0, 0.0), (1e300, 0.0)]:
        X = np.array([[1.0], [-1.0], [1.0], [1.0], [-1.0], [1.0]])
        y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
        sw = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])  # correctly classified rows only
        obj = LogisticObjective(InMemoryBlocks(X, y, sw), 2, fit_intercept=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(all="raise", under="ignore"):
                f, g, H = obj.value_grad_hess(np.array([zabs]))
                hv = obj.hessp(np.array([zabs]))(np.array([1.0]))
                obj_bad = LogisticObjective(InMemoryBlocks(X, y, 1.0 - sw), 2, fit_intercept=False)
                f_bad, g_bad = obj_bad.value_and_grad(np.array([zabs]))
        assert f == pytest.approx(small, rel=EXACT_RTOL, abs=0)
        assert g[0] == pytest.approx(-small, rel=EXACT_RTOL, abs=0)
        assert np.all(np.isfinite(H)) and np.all(np.isfinite(hv))
        assert f_bad == pytest.approx(zabs, rel=EXACT_RTOL)
        assert g_bad[0] == pytest.approx(1.0, rel=EXACT_RTOL)


def test_multinomial_extreme_predictors_are_finite():
    X = np.array([[1.0], [1.0], [1.0]])
    y = np.array([0, 1, 2])
    for scale in (40.0, 800.0, 1e300):
        obj = LogisticObjective(InMemoryBlocks(X, y, np.ones(3)), 3, fit_intercept=False)
        x = np.array([scale, -scale, 0.0])  # Z = [scale, -scale, 0] on every row
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with np.errstate(all="raise", under="ignore"):
                f, g, H = obj.value_grad_hess(x)
        # Row 0 is right (loss ~ e^-scale), row 1 loses 2 scale, row 2 loses scale.
        assert f == pytest.approx((2 * scale + scale) / 3, rel=EXACT_RTOL)
        assert np.all(np.isfinite(g)) and np.all(np.isfinite(H))


def test_penalty_factor_scales_alpha_per_feature():
    X, y, sw = _reference_problem(False, 2)
    factor = np.array([0.0, 1.0, 3.0])
    obj = LogisticObjective(InMemoryBlocks(X, y, sw), 2, alpha=0.2, penalty_factor=factor)
    plain = LogisticObjective(InMemoryBlocks(X, y, sw), 2)
    x = np.array([1.0, -2.0, 0.5, 4.0])
    expected = plain.value(x) + 0.5 * 0.2 * (1.0 * 4.0 + 3.0 * 0.25)
    assert obj.value(x) == pytest.approx(expected, rel=EXACT_RTOL)


def test_minibatch_rows_equal_a_subset_objective():
    X, y, sw = _reference_problem(False, 3)
    obj = LogisticObjective(InMemoryBlocks(X, y, sw), 3, alpha=0.05)
    rows = np.array([0, 3, 4, 9, 16])
    sub = LogisticObjective(InMemoryBlocks(X[rows], y[rows], sw[rows]), 3, alpha=0.05)
    x = np.random.default_rng(5).standard_normal(obj.n_params)
    f, g = obj.value_and_grad_rows(x, rows)
    f_sub, g_sub = sub.value_and_grad(x)
    assert f == pytest.approx(f_sub, rel=EXACT_RTOL)
    np.testing.assert_allclose(g, g_sub, rtol=EXACT_RTOL, atol=1e-15)


def test_fortran_order_and_csc_need_no_special_handling():
    X, y, sw = _reference_problem(False, 2)
    x = np.array([0.3, -1.0, 2.0, 0.1])
    ref = LogisticObjective(InMemoryBlocks(X, y, sw), 2).value_and_grad(x)
    for Xin in (np.asfortranarray(X), sp.csc_matrix(X)):
        f, g = LogisticObjective(InMemoryBlocks(Xin, y, sw), 2).value_and_grad(x)
        assert f == pytest.approx(ref[0], rel=EXACT_RTOL)
        np.testing.assert_allclose(g, ref[1], rtol=EXACT_RTOL, atol=1e-15)


def test_dense_input_is_not_copied():
    X, y, sw = _reference_problem(False, 2)
    for Xin in (X, np.asfortranarray(X), X.astype(np.float32)):
        assert InMemoryBlocks(Xin, y, sw).X is Xin


def test_one_class_model_is_refused():
    X, y, sw = _reference_problem(False, 2)
    with pytest.raises(ValueError, match="at least two classes"):
        LogisticObjective(InMemoryBlocks(X, y, sw), 1)


@settings(max_examples=30)
@given(arrays(np.float64, (12, 2), elements=st.floats(-50, 50)), arrays(np.intp, 12, elements=st.integers(0, 1)))
def test_two_class_softmax_equals_the_binary_model(Z, y):
    """Oracle: with two classes, softmax(Z)_1 = sigmoid(Z_1 - Z_0), so the softmax
    loss and residual equal the binary loss and residual at z = Z_1 - Z_0."""
    from logitfit._numerics import binary_loss_terms, binary_residual
    from logitfit.model.softmax import multi_terms as _multi_terms

    loss, P, R = _multi_terms(Z, y)
    z = Z[:, 1] - Z[:, 0]
    np.testing.assert_allclose(loss, binary_loss_terms(z, y.astype(float)), rtol=EXACT_RTOL, atol=1e-15)
    np.testing.assert_allclose(R[:, 1], binary_residual(z, y.astype(float)), rtol=EXACT_RTOL, atol=1e-15)
    np.testing.assert_allclose(R[:, 0], -R[:, 1], rtol=EXACT_RTOL, atol=1e-15)


def test_hess_at_the_last_newton_point_is_the_cached_exact_hessian():
    """Inference's hess(x) at the solution reuses Newton's last exact Hessian: same numbers, no pass."""
    from logitfit.solvers import minimize

    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 4))
    y = (X @ [1.0, -1.0, 0.5, 0.0] + rng.logistic(size=500) > 0).astype(float)
    obj = LogisticObjective(InMemoryBlocks(X, y, np.ones(500)), alpha=0.01)
    x = minimize(obj, obj.zero(), "newton").x
    fresh = LogisticObjective(InMemoryBlocks(X, y, np.ones(500)), alpha=0.01).hess(x)
    calls = []
    original = obj.value_grad_hess
    obj.value_grad_hess = lambda *a, **k: calls.append(a) or original(*a, **k)
    np.testing.assert_array_equal(obj.hess(x), fresh)
    assert calls == []
    # another point is computed, not served from the cache
    other = LogisticObjective(InMemoryBlocks(X, y, np.ones(500)), alpha=0.01).hess(x + 0.1)
    np.testing.assert_array_equal(obj.hess(x + 0.1), other)
    assert len(calls) == 1
