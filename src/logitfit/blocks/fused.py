"""One-pass compiled kernels over in-memory rows (dense C-ordered or CSR X).

:class:`FusedRows` runs the compiled kernels of ``logitfit.blocks._fused``
over the blocks of an :class:`~logitfit.blocks.memory.InMemoryBlocks`: each
row of X is read from memory once per evaluation (``z = x . w + b``, the loss
and residual, then ``g += r x`` while the row is in cache). The numpy kernels
in :mod:`logitfit.model.objective` read each block twice through BLAS and pay a Python
call per numpy step and block: about twice as slow (docs/benchmarks.md).

Threads take contiguous ranges of blocks; every block writes its own partial
sums, which are added in block order afterwards, so the result is
bit-identical for any number of threads, as the numpy path is.

The extension is built by ``pip install`` (setuptools + Cython). Without it
(``AVAILABLE`` is False) the objective falls back to the numpy kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit._numerics import issparse

try:
    import logitfit.blocks._fused as _fused
except ImportError:  # pragma: no cover - the extension is part of every install
    _fused = None

AVAILABLE = _fused is not None

__all__ = ["AVAILABLE", "FusedRows", "block_pass", "fused_rows"]


def block_pass(block: Any, w: np.ndarray, b: float, *, gradient: bool) -> tuple | None:
    """One compiled binary pass over one ``Block`` (a Dask partition on its worker), or None.

    Returns what the numpy kernels return: ``(sum s l,)``, or with ``gradient``
    ``(sum s l, X^T (s r), sum s r)``; None where the kernels do not apply
    (sparse or non-C-ordered rows, other dtypes, softmax offsets), so the caller
    runs the numpy kernel. One thread: a worker runs one task per core.
    """
    X = block.X
    if not (AVAILABLE and _binary_offset(block.offset) and _dense_rows(X) and X.shape[0] > 0):
        return None
    n, p = X.shape
    off = _EMPTY if block.offset is None else np.ascontiguousarray(block.offset, dtype=np.float64)
    out = np.empty((1, p + 2 if gradient else 1))
    _fused.binary_dense(X, np.ascontiguousarray(block.y, dtype=np.float64),
                        np.ascontiguousarray(block.sw, dtype=np.float64),
                        np.ascontiguousarray(w, dtype=np.float64), float(b), np.array([0, n], dtype=np.int64),
                        0, 1, _fused.GRADIENT if gradient else _fused.VALUE, out, _EMPTY, off)
    if gradient:
        return float(out[0, 0]), out[0, 1 : p + 1].copy(), float(out[0, p + 1])
    return (float(out[0, 0]),)


def fused_rows(blocks: Any) -> FusedRows | None:
    """The compiled kernels for ``blocks``, or None where they do not apply.

    They apply to an in-memory dense C-contiguous or CSR float32/float64 X
    (Fortran-ordered X keeps the BLAS path, which reads it without a copy).
    """
    if not AVAILABLE or not _binary_offset(getattr(blocks, "offset", None)):
        return None
    X = getattr(blocks, "X", None)
    bounds = getattr(blocks, "bounds", None)
    if X is None or bounds is None or blocks.dtype not in (np.float32, np.float64):
        return None
    if issparse(X):
        if X.format != "csr" or X.indices.dtype not in (np.int32, np.int64):
            return None
    elif not _dense_rows(X):
        return None
    return FusedRows(blocks)


def _binary_offset(offset: Any) -> bool:
    """No offsets, or one per row: multinomial offsets (n, K) take the numpy kernels."""
    return offset is None or np.ndim(offset) == 1


def _dense_rows(X: Any) -> bool:
    """A dense X the kernels read as stored: 2-D, C-ordered, float32 or float64
    (Fortran-ordered X keeps the BLAS path, which reads it without a copy)."""
    return (isinstance(X, np.ndarray) and X.ndim == 2 and X.flags.c_contiguous
            and X.dtype in (np.float32, np.float64))


class FusedRows:
    """Value, gradient, Hessian state and Hessian-vector products, one pass over X each.

    Binary model: coefficients ``w`` of shape (p,) and a float intercept; dense
    (float32/float64, C order) or CSR X; the rows' offsets (``blocks.offset``, one
    per row) enter ``z`` when the blocks carry them. Multinomial model: ``W`` of shape
    (p, K) and intercepts (K,); dense float64 C-ordered X without offsets
    (:attr:`supports_multinomial`). The shape of the coefficients says which.

    Parameters
    ----------
    blocks : InMemoryBlocks
        Supplies X, y, the sample weights, the block bounds and the thread pool.
    """

    def __init__(self, blocks: Any) -> None:
        self.blocks = blocks
        X = blocks.X
        self.sparse = issparse(X)
        if self.sparse:
            indptr = X.indptr
            if indptr.dtype != X.indices.dtype:
                indptr = indptr.astype(X.indices.dtype)
            self._X = (X.data, X.indices, indptr)
        else:
            self._X = (X,)
        self.n_features = blocks.n_features
        offset = getattr(blocks, "offset", None)
        self.supports_multinomial = not self.sparse and blocks.dtype == np.float64 and offset is None
        self.sw = np.ascontiguousarray(blocks.sw, dtype=np.float64)
        # the kernels read a length-0 array as "no offsets"
        self.offset = _EMPTY if offset is None else np.ascontiguousarray(offset, dtype=np.float64)
        self.bounds = np.array([a for a, _ in blocks.bounds] + [blocks.n_samples], dtype=np.int64)
        self.n_blocks = len(blocks.bounds)
        self._labels: dict[type, np.ndarray] = {}

    def _y(self, dtype) -> np.ndarray:
        """The labels as the kernels read them: float 0/1 (binary) or int64 class indices."""
        if dtype not in self._labels:
            self._labels[dtype] = np.ascontiguousarray(self.blocks.y, dtype=dtype)
        return self._labels[dtype]

    def _run(self, call, width: int) -> np.ndarray:
        """Per-block partial sums of width ``width`` from ``call(k0, k1, out)``, added in block order."""
        out = np.empty((self.n_blocks, width))
        self.blocks.run_ranges(lambda k0, k1: call(k0, k1, out))
        return out.sum(axis=0)

    @staticmethod
    def _coef(w: np.ndarray) -> np.ndarray:
        """Coefficients as the kernels read them: float64, contiguous."""
        return np.ascontiguousarray(w, dtype=np.float64)

    def _pass(self, mode: int, w: np.ndarray, b, width: int, state: np.ndarray) -> np.ndarray:
        w = self._coef(w)
        if w.ndim == 2:
            y, b = self._y(np.int64), np.ascontiguousarray(b, dtype=np.float64)

            def call(k0, k1, out):
                _fused.multinomial_dense(*self._X, y, self.sw, w, b, self.bounds, k0, k1, mode, out, state)

        else:
            kernel = _fused.binary_csr if self.sparse else _fused.binary_dense
            y, b = self._y(np.float64), float(b)

            def call(k0, k1, out):
                kernel(*self._X, y, self.sw, w, b, self.bounds, k0, k1, mode, out, state, self.offset)

        return self._run(call, width)

    def value(self, w: np.ndarray, b) -> float:
        """``sum_i s_i l_i`` at coefficients ``w`` and intercept(s) ``b``."""
        empty = _EMPTY2 if np.ndim(w) == 2 else _EMPTY
        return float(self._pass(_fused.VALUE, w, b, 1, empty)[0])

    def value_grad(self, w: np.ndarray, b) -> tuple[float, np.ndarray, Any]:
        """``(sum_i s_i l_i, X^T (s * R), sum_i s_i R_i)``, ``R = sigmoid(z) - y`` or ``softmax(Z) - onehot(y)``."""
        p = self.n_features
        if np.ndim(w) == 2:
            K = w.shape[1]
            acc = self._pass(_fused.GRADIENT, w, b, 1 + p * K + K, _EMPTY2)
            return float(acc[0]), acc[1 : 1 + p * K].reshape(p, K), acc[1 + p * K :]
        acc = self._pass(_fused.GRADIENT, w, b, p + 2, _EMPTY)
        return float(acc[0]), acc[1 : p + 1], float(acc[p + 1])

    def value_grad_weights(self, w: np.ndarray, b: float) -> tuple[float, np.ndarray, float, np.ndarray]:
        """Binary :meth:`value_grad` plus the Hessian weights :meth:`weights` returns, in the same pass."""
        p = self.n_features
        d = np.empty(self.blocks.n_samples)
        acc = self._pass(_fused.GRADIENT, w, b, p + 2, d)
        return float(acc[0]), acc[1 : p + 1], float(acc[p + 1]), d

    def weights(self, w: np.ndarray, b) -> np.ndarray:
        """The Hessian state: ``s_i h_i (1 - h_i)`` (binary, shape (n,)) or the probabilities (n, K)."""
        n = self.blocks.n_samples
        if np.ndim(w) == 2:
            state = np.empty((n, w.shape[1]))
        else:
            state = np.empty(n)
        self._pass(_fused.WEIGHTS, w, b, 1, state)
        return state

    @property
    def supports_hessian(self) -> bool:
        """Whether :meth:`hessian` applies (binary model, dense X)."""
        return not self.sparse

    def hessian(self, w: np.ndarray, b: float, fit_intercept: bool, ranges: list[tuple[int, int]]) -> np.ndarray:
        """Binary ``H = X~^T diag(s h (1 - h)) X~`` over the row ``ranges`` (upper triangle filled).

        One pass per range, summed in order; the value and gradient come from
        :meth:`value_grad`, whose block partition value_and_grad shares.
        """
        w = self._coef(w)
        p = self.n_features
        q = p + int(fit_intercept)
        starts = np.array([a for a, _ in ranges], dtype=np.int64)
        ends = np.array([e for _, e in ranges], dtype=np.int64)
        out = np.empty((len(ranges), q * q))
        y = self._y(np.float64)

        def call(r0, r1):
            _fused.binary_dense_hess(*self._X, y, self.sw, w, float(b), starts, ends, r0, r1, fit_intercept, out,
                                     self.offset)

        self.blocks.run_ranges(call, len(ranges))
        return out.sum(axis=0).reshape(q, q)

    def hessp(self, state: np.ndarray, v: np.ndarray, vb) -> tuple[np.ndarray, Any]:
        """``(X^T U, sum_i U_i)``: ``U = d * (X v + vb)`` (binary) or
        ``s (T - P rowsum(T))`` with ``T = P * (X V + vb)`` (multinomial)."""
        v = self._coef(v)
        p = self.n_features
        if v.ndim == 2:
            K = v.shape[1]
            vb = np.ascontiguousarray(vb, dtype=np.float64)

            def call(k0, k1, out):
                _fused.multinomial_hessp_dense(*self._X, self.sw, state, v, vb, self.bounds, k0, k1, out)

            acc = self._run(call, p * K + K)
            return acc[: p * K].reshape(p, K), acc[p * K :]
        kernel = _fused.hessp_csr if self.sparse else _fused.hessp_dense

        def call(k0, k1, out):
            kernel(*self._X, state, v, float(vb), self.bounds, k0, k1, out)

        acc = self._run(call, p + 1)
        return acc[:p], float(acc[p])

    def hessian_diagonal(self, D: np.ndarray, rows: int | None = None) -> np.ndarray:
        """``[sum_i x_ij^2 D_ic (rows j < p), sum_i D_ic (row p)]``, shape (p + 1, m), one read of X.

        ``D`` (n, m) holds each row's Hessian weights: ``s_i h_i (1 - h_i)``
        (binary, m = 1) or ``s_i P_ik (1 - P_ik)`` (softmax, m = K); the
        diagonal of ``X~^T diag(D_c) X~`` for each column ``c`` of ``D``.
        With ``rows``, over the first ``rows`` rows only, in one thread.
        """
        D = np.ascontiguousarray(D.reshape(D.shape[0], -1), dtype=np.float64)
        p, m = self.n_features, D.shape[1]
        if self.sparse:
            if m != 1:
                raise ValueError("the CSR kernels are binary only")

            def call(k0, k1, out, bounds=self.bounds):
                _fused.hess_diag_csr(*self._X, D[:, 0], p, bounds, k0, k1, out)

        else:

            def call(k0, k1, out, bounds=self.bounds):
                _fused.hess_diag_dense(*self._X, D, bounds, k0, k1, out)

        if rows is not None:
            out = np.empty((1, (p + 1) * m))
            call(0, 1, out, np.array([0, min(rows, self.blocks.n_samples)], dtype=np.int64))
            return out[0].reshape(p + 1, m)
        return self._run(call, (p + 1) * m).reshape(p + 1, m)


_EMPTY = np.empty(0)
_EMPTY2 = np.empty((0, 0))
