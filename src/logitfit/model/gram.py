"""Products of one block of rows with the design: ``X w``, ``X^T r`` and weighted Grams ``X~^T diag(d) X~``.

``w`` and ``r`` are cast to the dtype of X, so a float32 X is read as float32
(half the bytes), while every result is float64. Grams are symmetric rank-k
updates (BLAS ``dsyrk``) on ``sqrt(d)``-scaled rows where ``d >= 0``.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg.blas import dsyrk

from logitfit._numerics import issparse

__all__ = [
    "matvec", "rmatvec", "scaled_rows", "syrk_upper", "sparse_gram", "gram", "gram_sub"
]


def matvec(Xb, w: np.ndarray) -> np.ndarray:
    return np.asarray(Xb @ w.astype(Xb.dtype, copy=False), dtype=np.float64)


def rmatvec(Xb, r: np.ndarray) -> np.ndarray:
    return np.asarray(Xb.T @ r.astype(Xb.dtype, copy=False), dtype=np.float64)


def scaled_rows(Xb, s: np.ndarray) -> np.ndarray:
    """``diag(s) Xb`` as a new C-ordered float64 block (any input order or dtype)."""
    out = np.empty(Xb.shape, dtype=np.float64)
    np.multiply(Xb, s[:, None], out=out)
    return out


def syrk_upper(A: np.ndarray) -> np.ndarray:
    """``A^T A`` (upper triangle filled) by BLAS ``dsyrk``, for C-ordered float64 ``A``.

    ``A.T`` of a C-ordered array is Fortran-ordered, which is what the BLAS
    wrapper takes without a copy; half the flops of ``A.T @ A``.
    """
    return dsyrk(1.0, A.T, trans=0, lower=0)


# Dense row chunks of a sparse block's Gram: at most this many bytes each.
GRAM_CHUNK_BYTES = 16 << 20


def sparse_gram(Xb, d: np.ndarray) -> np.ndarray:
    """``Xb^T diag(d) Xb`` for CSR rows as a dense array, by dense row chunks and BLAS-3.

    The Gram of a working set is dense, so a sparse-sparse product (two passes
    to size the result, then a conversion) is slow (docs/kernels.md). Here each
    chunk of rows is made dense (``GRAM_CHUNK_BYTES`` at most) and added by a
    symmetric rank-k update (upper triangle filled) when ``d >= 0``, by a
    general product otherwise (the softmax's off-diagonal class blocks).
    """
    n, p = Xb.shape
    H = np.zeros((p, p))
    rows = max(1, GRAM_CHUNK_BYTES // (8 * max(p, 1)))
    nonneg = bool(np.all(d >= 0))
    for a in range(0, n, rows):
        A = Xb[a : a + rows].toarray().astype(np.float64, copy=False)
        dc = d[a : a + rows]
        if nonneg:
            A *= np.sqrt(dc)[:, None]
            H += syrk_upper(A)
        else:
            H += A.T @ (A * dc[:, None])
    return H


def gram(Xb, d: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """``X~^T diag(d) X~`` for one block, float64.

    For dense X and ``d >= 0`` only the upper triangle of the X part is filled
    (the caller symmetrises after the block sum); otherwise the full matrix.
    """
    p = Xb.shape[1]
    q = p + int(fit_intercept)
    H = np.zeros((q, q))
    if issparse(Xb):
        H[:p, :p] = sparse_gram(Xb, d)
    elif np.any(d < 0):
        H[:p, :p] = np.asarray(Xb, dtype=np.float64).T @ scaled_rows(Xb, d)
    else:
        # Symmetric rank-k update on sqrt(d)-scaled rows: half the flops of a
        # general product and BLAS-3 speed, on a block that is in cache.
        H[:p, :p] = syrk_upper(scaled_rows(Xb, np.sqrt(d)))
    if fit_intercept:
        H[:p, p] = rmatvec(Xb, d)
        H[p, :p] = H[:p, p]
        H[p, p] = d.sum()
    return H


def gram_sub(Xb, cols, d: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """``gram`` on the columns ``cols`` (BLAS refuses a product with no columns)."""
    if cols.size == 0:
        return np.full((1, 1), d.sum()) if fit_intercept else np.zeros((0, 0))
    return gram(Xb[:, cols], d, fit_intercept)
