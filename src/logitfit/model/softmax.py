"""Block kernels of the multinomial (softmax) model; conventions in :mod:`logitfit.model.objective`.

Each kernel sees one :class:`~logitfit.blocks.protocol.Block` and returns
partial sums that the blocks add. ``W`` has shape (p, K) and ``b`` (K,);
Hessians are laid out in the ravel order ``j*K + k`` of ``B = [W; b]``.
"""

from __future__ import annotations

import numpy as np

from logitfit._numerics import issparse
from logitfit.blocks.protocol import Block
from logitfit.model.gram import gram, scaled_rows, syrk_upper

__all__ = [
    "multi_Z", "multi_terms", "multi_value", "multi_value_grad", "multi_hess_from_P",
    "multi_value_grad_hess", "multi_value_grad_hess_some", "multi_hess_only", "multi_hess_state",
    "multi_hessp", "multi_hess_sub", "multi_hess_sub_from_P", "multi_vgh_sub"
]


def multi_Z(block: Block, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Z = X W + b (+ offset)``, shape (rows, K); the offsets (rows, K) add class by class."""
    Z = _multi_linear(block, W, b)
    if block.offset is not None:
        Z += block.offset
    return Z


def _multi_linear(block: Block, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``X W + b`` without the offsets (the direction of a Hessian-vector product)."""
    Z = np.asarray(block.X @ W.astype(block.X.dtype, copy=False), dtype=np.float64)
    Z += b
    return Z


def multi_terms(Z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row loss ``logsumexp(Z) - Z_y``, probabilities P and residual ``P - onehot(y)``.

    With ``k* = argmax_k Z`` and ``t = sum_{k != k*} exp(Z_k - Z_k*)`` (the
    largest term left out of the sum, so no ``1 + tiny`` is ever formed):
    ``logsumexp = Z_k* + log1p(t)`` and, when ``y = k*``,
    ``P_y - 1 = -t / (1 + t)``. A confidently correct row keeps its tiny loss
    and residual instead of rounding them to zero.
    """
    n = Z.shape[0]
    rows = np.arange(n)
    kmax = Z.argmax(axis=1)
    zmax = Z[rows, kmax]
    with np.errstate(over="ignore"):  # -inf differences are exact (exp -> 0)
        E = np.exp(Z - zmax[:, None])
    E[rows, kmax] = 0.0
    t = E.sum(axis=1)
    E[rows, kmax] = 1.0
    P = E / (1.0 + t)[:, None]
    loss = (zmax - Z[rows, y]) + np.log1p(t)
    R = P.copy()
    top = y == kmax
    R[rows, y] -= 1.0
    R[rows[top], y[top]] = -t[top] / (1.0 + t[top])
    return loss, P, R


def multi_value(block: Block, W, b):
    loss, _, _ = multi_terms(multi_Z(block, W, b), block.y)
    return (block.sw @ loss,)


def multi_value_grad(block: Block, W, b):
    loss, _, R = multi_terms(multi_Z(block, W, b), block.y)
    SR = R * block.sw[:, None]
    G = np.asarray(block.X.T @ SR.astype(block.X.dtype, copy=False), dtype=np.float64)
    return block.sw @ loss, G, SR.sum(axis=0)


def multi_hess_from_P(Xb, P: np.ndarray, sw: np.ndarray, fit_intercept: bool) -> np.ndarray:
    """Hessian (unnormalised) for ravel order ``j*K + k``, shape (q K, q K).

    Block (k, c) is ``X~^T diag(sw P_k (delta_kc - P_c)) X~``. For dense X all
    off-diagonal blocks come from one symmetric rank-k update: with the rows
    ``A_i = sqrt(sw_i) (x~_i kron P_i)`` (length q K, in ravel order),
    ``-A^T A`` holds ``-X~^T diag(sw P_k P_c) X~`` in block (k, c); the K
    diagonal blocks are then set from their own weights ``sw P_k (1 - P_k)``
    (no cancellation). One BLAS-3 call replaces K (K + 1) / 2 small products.
    For dense X only the upper triangle is filled (the objective symmetrises
    after the block sum); the sparse path returns the full matrix.
    """
    n, K = P.shape
    p = Xb.shape[1]
    q = p + int(fit_intercept)
    if issparse(Xb):
        H4 = np.zeros((q, K, q, K))
        for k in range(K):
            for c in range(k, K):
                G = gram(Xb, sw * P[:, k] * ((k == c) - P[:, c]), fit_intercept)
                G = np.triu(G) + np.triu(G, 1).T  # gram fills the upper triangle
                H4[:, k, :, c] = G
                if c != k:
                    H4[:, c, :, k] = G
        return H4.reshape(q * K, q * K)
    Xt = np.empty((n, q))
    Xt[:, :p] = Xb
    if fit_intercept:
        Xt[:, p] = 1.0
    SP = P * np.sqrt(sw)[:, None]
    A = (Xt[:, :, None] * SP[:, None, :]).reshape(n, q * K)
    H = syrk_upper(A)
    H *= -1.0
    H4 = H.reshape(q, K, q, K)
    for k in range(K):
        G = syrk_upper(scaled_rows(Xt, np.sqrt(sw * P[:, k] * (1.0 - P[:, k]))))
        H4[:, k, :, k] = G
    return H


def multi_value_grad_hess(block: Block, W, b, fit_intercept):
    loss, P, R = multi_terms(multi_Z(block, W, b), block.y)
    SR = R * block.sw[:, None]
    G = np.asarray(block.X.T @ SR.astype(block.X.dtype, copy=False), dtype=np.float64)
    H = multi_hess_from_P(block.X, P, block.sw, fit_intercept)
    return block.sw @ loss, G, SR.sum(axis=0), H


def multi_value_grad_hess_some(block: Block, W, b, fit_intercept, with_hess):
    """``multi_value_grad_hess`` on the blocks chosen for the Hessian (see the binary one)."""
    if with_hess:
        return (*multi_value_grad_hess(block, W, b, fit_intercept), block.sw.sum())
    return (*multi_value_grad(block, W, b), 0.0, 0.0)


def multi_hess_only(block: Block, W, b, fit_intercept):
    """The block's softmax Hessian partial (unnormalised) and its weight ``sum s``."""
    _, P, _ = multi_terms(multi_Z(block, W, b), block.y)
    return multi_hess_from_P(block.X, P, block.sw, fit_intercept), block.sw.sum()


def multi_hess_state(block: Block, W, b):
    _, P, _ = multi_terms(multi_Z(block, W, b), block.y)
    return P


def multi_hessp(block: Block, VW, vb, P):
    T = P * _multi_linear(block, VW, vb)
    U = block.sw[:, None] * (T - P * T.sum(axis=1, keepdims=True))
    G = np.asarray(block.X.T @ U.astype(block.X.dtype, copy=False), dtype=np.float64)
    return G, U.sum(axis=0)


def multi_hess_sub(block: Block, W, b, cols, fit_intercept):
    """The block's softmax Hessian partial over features ``cols`` (and the intercepts)."""
    _, P, _ = multi_terms(multi_Z(block, W, b), block.y)
    return (multi_hess_sub_from_P(block.X, cols, P, block.sw, fit_intercept),)


def multi_hess_sub_from_P(Xb, cols, P, sw, fit_intercept):
    if cols.size == 0 and fit_intercept:  # intercepts only: diag(p) - p p^T, weighted
        SP = P * sw[:, None]
        return np.diag(SP.sum(axis=0)) - SP.T @ P
    return multi_hess_from_P(Xb[:, cols], P, sw, fit_intercept)


def multi_vgh_sub(block: Block, W, b, cols, fit_intercept):
    loss, P, R = multi_terms(multi_Z(block, W, b), block.y)
    SR = R * block.sw[:, None]
    G = np.asarray(block.X.T @ SR.astype(block.X.dtype, copy=False), dtype=np.float64)
    H = multi_hess_sub_from_P(block.X, cols, P, block.sw, fit_intercept)
    return block.sw @ loss, G, SR.sum(axis=0), H
