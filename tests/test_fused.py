"""The compiled one-pass kernels (logitfit.blocks.fused) against the plain formulas."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from logitfit.blocks import InMemoryBlocks, fused
from logitfit.model.objective import LogisticObjective

# The kernels sum in another order than numpy/BLAS: agreement to rounding.
EXACT_RTOL = 1e-12
# float32 X: numpy multiplies in float32; the kernels widen every entry and sum in float64.
FLOAT32_RTOL = 1e-5


def test_extension_is_built():
    """Where a C compiler exists the kernels must be built: a silent fallback to
    numpy would hide a broken build. Without one, logitfit runs on numpy kernels."""
    if not fused.AVAILABLE and shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler here: logitfit runs on its numpy kernels")
    assert fused.AVAILABLE


def _plain_terms(z, y, sw):
    """The formulas in 80-bit long double, rounded once to float64: the truth to < 1 ulp."""
    z, y, sw = (np.asarray(a, dtype=np.longdouble) for a in (z, y, sw))
    e = np.exp(-np.abs(z))
    loss = sw * ((np.maximum(z, 0.0) - y * z) + np.log1p(e))
    q = e / (1.0 + e)
    res = sw * np.where(z > 0, (1.0 - y) - q, q - y)
    wt = sw * q / (1.0 + e)
    return tuple(a.astype(np.float64) for a in (loss, res, wt))


def _ulps(got, want):
    want = np.asarray(want)
    scale = np.spacing(np.maximum(np.abs(want), np.finfo(float).tiny))
    return np.abs(got - want) / scale


# Measured against long double: exp 0.94 ulp and log1p 0.65 ulp alone (C
# harness); the loss, residual and weight add a rounding per operation, as
# numpy's float64 evaluation of the same formulas does. The kernels may be at
# most one ulp worse than numpy there (measured: 2, 3, 5 ulp; numpy 2, 3, 4).
EXTRA_ULPS = 1


def test_elementwise_terms_within_a_few_ulps_everywhere():
    rng = np.random.default_rng(0)
    z = np.concatenate(
        [
            rng.standard_normal(50_000) * 5,
            rng.standard_normal(50_000) * 200,
            np.linspace(-745, 745, 20_001),
            [0.0, -0.0, 5e-324, -5e-324, 1e-300, 40.0, -40.0, 700.0, -700.0, 1e300, -1e300, 1.7e308, -1.7e308],
        ]
    )
    y = (rng.random(z.size) < 0.5).astype(float)
    sw = rng.uniform(0.5, 2.0, z.size)
    loss, res, wt = (np.empty_like(z) for _ in range(3))
    with np.errstate(all="raise"):
        total = fused._fused.binary_terms(z, y, sw, loss, res, wt)
    want = _plain_terms(z, y, sw)
    e = np.exp(-np.abs(z))
    q = e / (1.0 + e)
    numpy_terms = (
        sw * ((np.maximum(z, 0.0) - y * z) + np.log1p(e)),
        sw * np.where(z > 0, (1.0 - y) - q, q - y),
        sw * q / (1.0 + e),
    )
    normal = np.abs(z) < 700  # beyond, exp(-|z|) is subnormal: absolute error only
    for got, ref, peer in zip((loss, res, wt), want, numpy_terms, strict=True):
        assert np.all(np.isfinite(got))
        peer_ulps = _ulps(peer[normal], ref[normal]).max()
        assert _ulps(got[normal], ref[normal]).max() <= peer_ulps + EXTRA_ULPS
        np.testing.assert_allclose(got[~normal], ref[~normal], rtol=1e-15, atol=1e-300)
    assert total == pytest.approx(want[0].sum(), rel=1e-14)
    # the confidently correct row keeps its tiny loss (z = 40, y = 1: exp(-40))
    one = np.array([40.0])
    out = [np.empty(1) for _ in range(3)]
    fused._fused.binary_terms(one, np.ones(1), np.ones(1), *out)
    assert out[0][0] == pytest.approx(np.exp(-40.0), rel=1e-15)
    assert out[1][0] == pytest.approx(-np.exp(-40.0) / (1 + np.exp(-40.0)), rel=1e-15)


def _data(kind: str, n: int, p: int, seed: int):
    rng = np.random.default_rng(seed)
    if kind.startswith("csr"):
        X = sp.random(n, p, density=0.3, random_state=seed, format="csr", dtype=np.float64)
        X.data = rng.standard_normal(X.data.size)
        if kind == "csr-int64":
            X.indices = X.indices.astype(np.int64)
            X.indptr = X.indptr.astype(np.int64)
        if kind == "csr-float32":
            X = X.astype(np.float32)
    else:
        X = rng.standard_normal((n, p))
        if kind == "dense-float32":
            X = X.astype(np.float32)
    y = (rng.random(n) < 0.4).astype(float)
    sw = rng.uniform(0.2, 3.0, n)
    return X, y, sw


def _pair(X, y, sw, rows, threads=2, intercept=True):
    fast = LogisticObjective(
        InMemoryBlocks(X, y, sw, rows_per_block=rows, n_threads=threads), fit_intercept=intercept, alpha=1e-3
    )
    plain = LogisticObjective(InMemoryBlocks(X, y, sw, rows_per_block=rows), fit_intercept=intercept, alpha=1e-3)
    plain._fused = None
    return fast, plain


KINDS = ["dense", "dense-float32", "csr", "csr-int64", "csr-float32"]


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    n=st.integers(1, 1200),
    p=st.integers(1, 9),
    rows=st.integers(1, 700),
    intercept=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_fast_path_equals_plain_formula_at_every_block_remainder(kind, n, p, rows, intercept, seed):
    X, y, sw = _data(kind, n, p, seed)
    fast, plain = _pair(X, y, sw, rows, intercept=intercept)
    assert fast._fused is not None
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal(fast.n_params)
    v = rng.standard_normal(fast.n_params)
    rtol = FLOAT32_RTOL if X.dtype == np.float32 else EXACT_RTOL
    f1, g1 = fast.value_and_grad(x)
    f2, g2 = plain.value_and_grad(x)
    assert f1 == pytest.approx(f2, rel=rtol)
    assert fast.value(x) == pytest.approx(f1, rel=EXACT_RTOL)
    np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * np.abs(g2).max())
    h1, h2 = fast.hessp(x)(v), plain.hessp(x)(v)
    np.testing.assert_allclose(h1, h2, rtol=rtol, atol=rtol * np.abs(h2).max())
    F1, G1, H1 = fast.value_grad_hess(x, subsample=True)
    F2, G2, H2 = plain.value_grad_hess(x, subsample=True)
    assert F1 == f1 and np.array_equal(G1, g1)  # one formula for every entry point
    np.testing.assert_allclose(H1, H2, rtol=rtol, atol=rtol * np.abs(H2).max())
    # Newton-CG's Jacobi preconditioner: the Hessian's diagonal, from one read of X
    diag = fast.hessian_diagonal(x)
    np.testing.assert_allclose(diag, np.diag(plain.hess(x)), rtol=rtol, atol=rtol * diag.max())
    assert plain.hessian_diagonal(x) is None  # no compiled kernels: no preconditioner


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 900),
    p=st.integers(0, 7),
    K=st.integers(3, 6),
    rows=st.integers(1, 600),
    intercept=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_softmax_fast_path_equals_plain_formula(n, p, K, rows, intercept, seed):
    assume(p > 0 or intercept)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * 2.0
    y, sw = rng.integers(0, K, n), rng.uniform(0.2, 3.0, n)

    def objective(fast):
        obj = LogisticObjective(
            InMemoryBlocks(X, y, sw, rows_per_block=rows), K, fit_intercept=intercept, alpha=1e-3
        )
        if not fast:
            obj._fused = None
        return obj

    fast, plain = objective(True), objective(False)
    assert fast._fused is not None
    x, v = rng.standard_normal(fast.n_params) * 3.0, rng.standard_normal(fast.n_params)
    f1, g1 = fast.value_and_grad(x)
    f2, g2 = plain.value_and_grad(x)
    assert f1 == pytest.approx(f2, rel=EXACT_RTOL)
    assert fast.value(x) == pytest.approx(f1, rel=EXACT_RTOL)
    np.testing.assert_allclose(g1, g2, rtol=EXACT_RTOL, atol=EXACT_RTOL * np.abs(g2).max())
    h1, h2 = fast.hessp(x)(v), plain.hessp(x)(v)
    np.testing.assert_allclose(h1, h2, rtol=EXACT_RTOL, atol=EXACT_RTOL * np.abs(h2).max())
    F1, G1, H1 = fast.value_grad_hess(x, subsample=True)
    F2, G2, H2 = plain.value_grad_hess(x, subsample=True)
    assert F1 == f1 and np.array_equal(G1, g1)
    diag = fast.hessian_diagonal(x)  # the softmax Hessian's diagonal, from one read of X
    np.testing.assert_allclose(diag, np.diag(plain.hess(x)), rtol=EXACT_RTOL, atol=EXACT_RTOL * diag.max())
    np.testing.assert_allclose(H1, H2, rtol=EXACT_RTOL, atol=EXACT_RTOL * np.abs(H2).max())


def test_softmax_keeps_tiny_losses_of_confident_rows():
    """A row with its class 40 logits ahead keeps loss ~ (K-1) e^-40, not 0 (no 1 + tiny)."""
    X = np.array([[1.0], [0.0]])
    y, sw = np.array([0, 1]), np.ones(2)
    obj = LogisticObjective(InMemoryBlocks(X, y, sw), 3, fit_intercept=False)
    assert obj._fused is not None
    x = np.array([40.0, 0.0, 0.0])  # row 0: logits (40, 0, 0), class 0
    (loss_row0,) = [obj.loss(x) * 2 - np.log(3.0)]  # row 1 has logits 0: loss log 3
    assert loss_row0 == pytest.approx(2 * np.exp(-40.0), rel=1e-6)


def test_no_features_only_the_intercept():
    X, y, sw = np.empty((50, 0)), (np.arange(50) % 3 == 0).astype(float), np.ones(50)
    fast, plain = _pair(X, y, sw, rows=7)
    x = np.array([0.3])
    assert fast.value_and_grad(x)[0] == pytest.approx(plain.value_and_grad(x)[0], rel=EXACT_RTOL)
    np.testing.assert_allclose(fast.hessp(x)(np.ones(1)), plain.hessp(x)(np.ones(1)), rtol=EXACT_RTOL)


@pytest.mark.parametrize("kind", ["dense", "csr"])
def test_bit_identical_for_any_thread_count(kind):
    X, y, sw = _data(kind, 5000, 12, 3)
    x = np.random.default_rng(4).standard_normal(13)
    results = []
    for threads in (1, 2, 3, 5):
        obj = LogisticObjective(InMemoryBlocks(X, y, sw, rows_per_block=333, n_threads=threads))
        f, g = obj.value_and_grad(x)
        results.append((f, g, obj.hessp(x)(x)))
    for f, g, h in results[1:]:
        assert f == results[0][0]
        assert np.array_equal(g, results[0][1]) and np.array_equal(h, results[0][2])


def test_layouts_the_kernels_do_not_take_keep_the_blas_path():
    rng = np.random.default_rng(5)
    y, sw = (rng.random(100) < 0.5).astype(float), np.ones(100)
    fortran = np.asfortranarray(rng.standard_normal((100, 4)))
    assert fused.fused_rows(InMemoryBlocks(fortran, y, sw)) is None
    assert fused.fused_rows(InMemoryBlocks(np.ascontiguousarray(fortran), y, sw)) is not None
    # the softmax kernels take dense float64 only
    labels = rng.integers(0, 3, 100)
    assert LogisticObjective(InMemoryBlocks(fortran, labels, sw), n_classes=3)._fused is None
    as32 = np.ascontiguousarray(fortran, dtype=np.float32)
    assert LogisticObjective(InMemoryBlocks(as32, labels, sw), n_classes=3)._fused is None
    assert LogisticObjective(InMemoryBlocks(as32, y, sw))._fused is not None
    sparse = sp.csr_matrix(fortran)
    assert LogisticObjective(InMemoryBlocks(sparse, labels, sw), n_classes=3)._fused is None


@pytest.mark.parametrize("K", [2, 3])
def test_active_set_hessian_runs_merge_blocks_without_changing_results(K):
    """value_grad_hess_sub: compiled value/gradient plus a Hessian over merged runs of blocks."""
    rng = np.random.default_rng(7)
    n, p = 3000, 30
    X = rng.standard_normal((n, p))
    y = rng.integers(0, K, n) if K > 2 else (rng.random(n) < 0.5).astype(float)
    sw = rng.uniform(0.5, 2.0, n)
    cols = np.array([0, 3, 4, 17, 29])
    x = rng.standard_normal(LogisticObjective(InMemoryBlocks(X, y, sw), K).n_params) * 0.3
    out = []
    for threads, fast in ((1, True), (2, True), (3, True), (2, False)):
        obj = LogisticObjective(InMemoryBlocks(X, y, sw, rows_per_block=8, n_threads=threads), K, alpha=1e-2)
        if not fast:
            obj._fused = None
        out.append(obj.value_grad_hess_sub(x, cols))
        if fast:
            f, g = obj.value_and_grad(x)
            assert out[-1][0] == f and np.array_equal(out[-1][1], g)
    for f, g, H, idx in out[1:3]:  # bit-identical whatever the thread count
        assert f == out[0][0] and np.array_equal(g, out[0][1]) and np.array_equal(H, out[0][2])
    f, g, H, idx = out[3]  # the plain per-block kernels
    assert f == pytest.approx(out[0][0], rel=EXACT_RTOL)
    np.testing.assert_allclose(H, out[0][2], rtol=EXACT_RTOL, atol=EXACT_RTOL * np.abs(H).max())
    np.testing.assert_array_equal(idx, out[0][3])


def test_float32_rows_are_summed_in_float64():
    """A float32 X is widened exactly, so its objective equals the float64 objective of the
    same numbers to float64 rounding (float32 sums would be ~1e-7 off)."""
    rng = np.random.default_rng(11)
    X32 = rng.standard_normal((4000, 70)).astype(np.float32)
    y, sw = (rng.random(4000) < 0.5).astype(float), rng.uniform(0.5, 2.0, 4000)
    x, v = rng.standard_normal(71), rng.standard_normal(71)
    o32 = LogisticObjective(InMemoryBlocks(X32, y, sw))
    o64 = LogisticObjective(InMemoryBlocks(X32.astype(np.float64), y, sw))
    assert o32._fused is not None and o64._fused is not None
    f32, g32 = o32.value_and_grad(x)
    f64, g64 = o64.value_and_grad(x)
    assert f32 == pytest.approx(f64, rel=EXACT_RTOL)
    np.testing.assert_allclose(g32, g64, rtol=EXACT_RTOL, atol=EXACT_RTOL * np.abs(g64).max())
    np.testing.assert_allclose(o32.hessp(x)(v), o64.hessp(x)(v), rtol=EXACT_RTOL, atol=1e-12)
    np.testing.assert_allclose(o32.hess(x), o64.hess(x), rtol=EXACT_RTOL, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("with_offset", [False, True])
def test_block_pass_equals_the_numpy_block_kernels(dtype, with_offset):
    """A Dask partition's compiled pass (blocks.fused.block_pass) gives the numpy kernels' sums."""
    from logitfit.blocks.protocol import Block
    from logitfit.model import binary

    rng = np.random.default_rng(3)
    n, p = 777, 6
    X = (rng.standard_normal((n, p)) * 2).astype(dtype)
    block = Block(0, X, (rng.random(n) < 0.3).astype(float), rng.uniform(0.1, 2, n),
                  rng.normal(size=n) if with_offset else None)
    w, b = rng.standard_normal(p), 0.4
    rtol = FLOAT32_RTOL if dtype == np.float32 else EXACT_RTOL
    (v1,), (v2,) = binary.compiled_value(block, w, b), binary.binary_value(block, w, b)
    assert v1 == pytest.approx(v2, rel=rtol)
    t1, g1, gb1 = binary.compiled_value_grad(block, w, b)
    t2, g2, gb2 = binary.binary_value_grad(block, w, b)
    assert t1 == pytest.approx(t2, rel=rtol) and gb1 == pytest.approx(gb2, rel=rtol, abs=rtol)
    np.testing.assert_allclose(g1, g2, rtol=rtol, atol=rtol * np.abs(g2).max())
    assert fused.block_pass(block._replace(X=np.asfortranarray(X)), w, b, gradient=True) is None
    assert fused.block_pass(block._replace(X=sp.csr_matrix(X)), w, b, gradient=True) is None
    with_hess = binary.compiled_value_grad_hess_some(block, w, b, True, True)
    np.testing.assert_allclose(with_hess[3], binary.binary_value_grad_hess(block, w, b, True)[3])
    assert binary.compiled_value_grad_hess_some(block, w, b, True, False)[3:] == (0.0, 0.0)
    total, g, gb, H, S = binary.compiled_value_grad_hess_some(block, w, b, True, 300)  # first 300 rows
    assert total == pytest.approx(t2, rel=rtol) and S == pytest.approx(block.sw[:300].sum())
    head = block._replace(X=X[:300], y=block.y[:300], sw=block.sw[:300],
                          offset=None if block.offset is None else block.offset[:300])
    np.testing.assert_allclose(H, binary.binary_hess_only(head, w, b, True)[0], rtol=1e-12)


def test_start_diagonal_is_the_hessian_diagonal_at_zero_from_the_first_rows():
    """The auto rule's probe: diag H(0) with h(1 - h) = 1/4, over the first rows only."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((3000, 5)) * [1.0, 10.0, 0.1, 1.0, 3.0]
    y, sw = (rng.random(3000) < 0.4).astype(float), rng.uniform(0.5, 2.0, 3000)
    obj = LogisticObjective(InMemoryBlocks(X, y, sw, rows_per_block=700), 2, alpha=1e-2)
    np.testing.assert_allclose(obj.start_diagonal(3000), obj.hessian_diagonal(obj.zero()), rtol=1e-12)
    head = LogisticObjective(InMemoryBlocks(X[:1000], y[:1000], sw[:1000]), 2, alpha=1e-2)
    np.testing.assert_allclose(obj.start_diagonal(1000), head.hessian_diagonal(head.zero()), rtol=1e-12)
    K3 = LogisticObjective(InMemoryBlocks(X, rng.integers(0, 3, 3000), sw), 3)
    assert K3.start_diagonal(100) is None
