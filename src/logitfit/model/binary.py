"""Block kernels of the binary (sigmoid) model; conventions in :mod:`logitfit.model.objective`.

Each kernel sees one :class:`~logitfit.blocks.protocol.Block` and returns
partial sums (loss, gradient, Hessian, Hessian-vector product) that the
blocks add. ``w`` holds the coefficients, ``b`` the intercept (0 without one).
A block's offsets (``Block.offset``, None when the fit has none) enter the linear
predictor ``z = X w + b + offset`` in :func:`binary_z` only; Hessian-vector
products (:func:`binary_hessp`) take the direction ``X v + vb``, which has none.
"""

from __future__ import annotations

import numpy as np

from logitfit._numerics import binary_loss_terms, binary_residual
from logitfit.blocks.fused import block_pass
from logitfit.blocks.protocol import Block
from logitfit.model.gram import gram, gram_sub, matvec, rmatvec

__all__ = [
    "binary_z", "binary_parts", "binary_value", "binary_value_grad", "binary_weights",
    "binary_value_grad_hess", "binary_value_grad_hess_some", "binary_hess_only",
    "binary_hess_state", "binary_hessp", "binary_vgh_sub", "binary_hess_sub",
    "compiled_value", "compiled_value_grad", "compiled_value_grad_hess_some",
]


def binary_z(block: Block, w: np.ndarray, b: float) -> np.ndarray:
    """``z = X w + b (+ offset)`` of the block's rows, float64."""
    z = matvec(block.X, w)
    if b:
        z += b
    if block.offset is not None:
        z += block.offset
    return z


def binary_parts(z: np.ndarray, y: np.ndarray, sw: np.ndarray, want_d: bool = False):
    """Fused elementwise part of a binary evaluation, with few temporaries.

    With ``e = exp(-|z|)`` (the only exponential taken) and ``s = e/(1+e)``:

    * loss sum ``sum_i s_i [(max(z,0) - y z) + log1p(e)]`` (as
      :func:`logitfit._numerics.binary_loss_terms`),
    * weighted residual ``sw * (sigmoid(z) - y)`` with ``sigmoid(z) - y``
      equal to ``(1 - y) - s`` for z > 0 and ``s - y`` otherwise (as
      :func:`logitfit._numerics.binary_residual`),
    * when ``want_d``, the Hessian weights ``sw * h(1-h) = sw * s / (1+e)``.

    The results equal the plain formulas to rounding; computing them in one
    sweep with ``out=`` buffers costs one exp and one log1p per row and keeps
    the block's vectors in cache.
    """
    e = np.abs(z)
    np.negative(e, out=e)
    np.exp(e, out=e)  # e = exp(-|z|) in (0, 1]
    tmp = np.multiply(y, z)
    loss = np.maximum(z, 0.0)
    loss -= tmp
    np.log1p(e, out=tmp)
    loss += tmp
    total = float(sw @ loss)
    onepe = np.add(e, 1.0, out=loss)  # reuse the loss buffer: 1 + e
    s = np.divide(e, onepe, out=e)  # s = sigmoid(-|z|)
    pos = z > 0
    r = np.subtract(s, y, out=tmp)
    np.subtract(1.0 - y, s, out=r, where=pos)
    r *= sw
    d = None
    if want_d:
        d = np.divide(s, onepe, out=onepe)
        d *= sw
    return total, r, d


def binary_value(block: Block, w, b):
    z = binary_z(block, w, b)
    return (block.sw @ binary_loss_terms(z, block.y),)


def binary_value_grad(block: Block, w, b):
    total, sr, _ = binary_parts(binary_z(block, w, b), block.y, block.sw)
    return total, rmatvec(block.X, sr), sr.sum()


def binary_weights(z: np.ndarray) -> np.ndarray:
    """``h (1 - h) = e / (1 + e)^2`` with ``e = exp(-|z|)``: symmetric, no cancellation."""
    e = np.exp(-np.abs(z))
    return e / (1.0 + e) ** 2


def binary_value_grad_hess(block: Block, w, b, fit_intercept):
    total, sr, d = binary_parts(binary_z(block, w, b), block.y, block.sw, want_d=True)
    H = gram(block.X, d, fit_intercept)
    return total, rmatvec(block.X, sr), sr.sum(), H


def binary_value_grad_hess_some(block: Block, w, b, fit_intercept, with_hess):
    """``binary_value_grad_hess`` where ``with_hess`` is True, else value and
    gradient with a scalar 0 for the Hessian (it broadcasts in the block sum,
    whose first block always carries a Hessian); the last entry is the block's
    weight in the Hessian."""
    if with_hess:
        return (*binary_value_grad_hess(block, w, b, fit_intercept), block.sw.sum())
    return (*binary_value_grad(block, w, b), 0.0, 0.0)


def compiled_value(block: Block, w, b):
    """:func:`binary_value` by the compiled one-pass kernel where the block's rows allow it
    (:func:`logitfit.blocks.fused.block_pass`), else by numpy: the same sum to rounding."""
    out = block_pass(block, w, b, gradient=False)
    return binary_value(block, w, b) if out is None else out


def compiled_value_grad(block: Block, w, b):
    """:func:`binary_value_grad` by the compiled kernel where it applies (one read of the rows)."""
    out = block_pass(block, w, b, gradient=True)
    return binary_value_grad(block, w, b) if out is None else out


def compiled_value_grad_hess_some(block: Block, w, b, fit_intercept, with_hess):
    """:func:`binary_value_grad_hess_some` with the compiled value and gradient; ``with_hess`` is
    False or 0 (no Hessian), True (from every row) or a row count: the Hessian from the block's
    first rows only, since a sub-sampled Hessian needs a fixed number of rows, not whole partitions."""
    if not with_hess:
        return (*compiled_value_grad(block, w, b), 0.0, 0.0)
    n = block.X.shape[0]
    rows = n if with_hess is True else min(int(with_hess), n)
    if rows == n:
        return binary_value_grad_hess_some(block, w, b, fit_intercept, True)
    head = Block(block.index, block.X[:rows], block.y[:rows], block.sw[:rows],
                 None if block.offset is None else block.offset[:rows])
    return (*compiled_value_grad(block, w, b), *binary_hess_only(head, w, b, fit_intercept))


def binary_hess_only(block: Block, w, b, fit_intercept):
    """The block's Hessian partial ``X~^T diag(s h(1-h)) X~`` and its weight ``sum s``."""
    d = block.sw * binary_weights(binary_z(block, w, b))
    return gram(block.X, d, fit_intercept), block.sw.sum()


def binary_hess_state(block: Block, w, b):
    return block.sw * binary_weights(binary_z(block, w, b))


def binary_hessp(block: Block, vw, vb, d):
    u = matvec(block.X, vw)
    if vb:
        u += vb
    u *= d
    return rmatvec(block.X, u), u.sum()


def binary_vgh_sub(block: Block, w, b, cols, fit_intercept):
    z = binary_z(block, w, b)
    sr = block.sw * binary_residual(z, block.y)
    H = gram_sub(block.X, cols, block.sw * binary_weights(z), fit_intercept)
    return block.sw @ binary_loss_terms(z, block.y), rmatvec(block.X, sr), sr.sum(), H


def binary_hess_sub(block: Block, w, b, cols, fit_intercept):
    """The block's Hessian partial over features ``cols`` (and the intercept)."""
    d = block.sw * binary_weights(binary_z(block, w, b))
    return (gram_sub(block.X, cols, d, fit_intercept),)
