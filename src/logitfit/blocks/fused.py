"""One-pass compiled kernels over in-memory rows (binary model; dense C-ordered or CSR X).

:class:`FusedRows` runs the compiled kernels of ``logitfit.blocks._fused``
over the blocks of an :class:`~logitfit.blocks.memory.InMemoryBlocks`: each
row of X is read from memory once per evaluation (``z = x . w + b``, the loss
and residual, then ``g += r x`` while the row is in cache). The numpy kernels
in :mod:`logitfit.loss` read each block twice through BLAS and pay a Python
call per numpy step and block; on 1,000,000 x 100 that was 2.2x slower (see
docs/benchmarks.md).

Threads take contiguous ranges of blocks; every block writes its own partial
sums, which are added in block order afterwards, so the result is
bit-identical for any number of threads, as the numpy path is.

The extension is built by ``pip install`` (setuptools + Cython). Without it
(``AVAILABLE`` is False) the objective falls back to the numpy kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

try:
    from logitfit.blocks import _fused
except ImportError:  # pragma: no cover - the extension is part of every install
    _fused = None

AVAILABLE = _fused is not None
# The float32 dense kernels keep a block's gradient in a fixed stack buffer.
MAX_FLOAT32_FEATURES = 4096

__all__ = ["AVAILABLE", "FusedRows", "fused_rows"]


def fused_rows(blocks: Any) -> FusedRows | None:
    """The compiled kernels for ``blocks``, or None where they do not apply.

    They apply to an in-memory dense C-contiguous or CSR float32/float64 X
    (Fortran-ordered X keeps the BLAS path, which reads it without a copy).
    """
    if not AVAILABLE:
        return None
    X = getattr(blocks, "X", None)
    bounds = getattr(blocks, "bounds", None)
    if X is None or bounds is None or blocks.dtype not in (np.float32, np.float64):
        return None
    if sp.issparse(X):
        if X.format != "csr" or X.indices.dtype not in (np.int32, np.int64):
            return None
    elif not (isinstance(X, np.ndarray) and X.ndim == 2 and X.flags.c_contiguous):
        return None
    elif X.dtype == np.float32 and X.shape[1] > MAX_FLOAT32_FEATURES:
        return None
    return FusedRows(blocks)


class FusedRows:
    """Binary value, gradient, Hessian weights and Hessian-vector products in one pass each.

    Parameters
    ----------
    blocks : InMemoryBlocks
        Supplies X, y (0/1), the sample weights, the block bounds and the thread pool.
    """

    def __init__(self, blocks: Any) -> None:
        self.blocks = blocks
        X = blocks.X
        self.sparse = sp.issparse(X)
        if self.sparse:
            indptr = X.indptr
            if indptr.dtype != X.indices.dtype:
                indptr = indptr.astype(X.indices.dtype)
            self._X = (X.data, X.indices, indptr)
        else:
            self._X = (X,)
        self.n_features = blocks.n_features
        self.y = np.ascontiguousarray(blocks.y, dtype=np.float64)
        self.sw = np.ascontiguousarray(blocks.sw, dtype=np.float64)
        self.bounds = np.array([a for a, _ in blocks.bounds] + [blocks.n_samples], dtype=np.int64)
        self.n_blocks = len(blocks.bounds)

    def _run(self, call, width: int) -> np.ndarray:
        """Per-block partial sums of width ``width`` from ``call(k0, k1, out)``, added in block order."""
        out = np.empty((self.n_blocks, width))
        self.blocks.run_ranges(lambda k0, k1: call(k0, k1, out))
        return out.sum(axis=0)

    def _coef(self, w: np.ndarray) -> np.ndarray:
        """Coefficients as the kernels read them: X's dtype for dense X (BLAS), float64 for CSR."""
        dtype = np.float64 if self.sparse else self.blocks.dtype
        return np.ascontiguousarray(w, dtype=dtype)

    def _binary(self, mode: int, w: np.ndarray, b: float, width: int, d: np.ndarray) -> np.ndarray:
        w = self._coef(w)
        kernel = _fused.binary_csr if self.sparse else _fused.binary_dense

        def call(k0, k1, out):
            kernel(*self._X, self.y, self.sw, w, float(b), self.bounds, k0, k1, mode, out, d)

        return self._run(call, width)

    def value(self, w: np.ndarray, b: float) -> float:
        """``sum_i s_i l_i`` at coefficients ``w`` and intercept ``b``."""
        return float(self._binary(_fused.VALUE, w, b, 1, _EMPTY)[0])

    def value_grad(self, w: np.ndarray, b: float) -> tuple[float, np.ndarray, float]:
        """``(sum_i s_i l_i, X^T (s * r), sum_i s_i r_i)`` with ``r = sigmoid(z) - y``."""
        p = self.n_features
        acc = self._binary(_fused.GRADIENT, w, b, p + 2, _EMPTY)
        return float(acc[0]), acc[1 : p + 1], float(acc[p + 1])

    def weights(self, w: np.ndarray, b: float) -> np.ndarray:
        """Hessian weights ``s_i h_i (1 - h_i)`` for every row, shape (n_samples,)."""
        d = np.empty(self.blocks.n_samples)
        self._binary(_fused.WEIGHTS, w, b, 1, d)
        return d

    def hessp(self, d: np.ndarray, v: np.ndarray, vb: float) -> tuple[np.ndarray, float]:
        """``(X^T u, sum_i u_i)`` with ``u = d * (X v + vb)``."""
        v = self._coef(v)
        kernel = _fused.hessp_csr if self.sparse else _fused.hessp_dense
        p = self.n_features

        def call(k0, k1, out):
            kernel(*self._X, d, v, float(vb), self.bounds, k0, k1, out)

        acc = self._run(call, p + 1)
        return acc[:p], float(acc[p])


_EMPTY = np.empty(0)
