"""The null model of a fit with offsets: the intercept-only model fitted WITH the offsets.

Without offsets the intercept-only model has a closed form (the class shares),
which :class:`~logitfit.inference.results.Inference` uses. With offsets ``o_i``
the null model is ``z_i = b + o_i`` (``z_i = o_i`` without an intercept), as R's
``glm`` and statsmodels' ``GLM(offset=...)`` define ``llnull`` (and hence the LR
chi-square and the pseudo-R2); ``b`` has no closed form. It is fitted here by
Newton's method on the training rows wherever they live (memory, files, Dask):
the rows are mapped with their features dropped, so each pass reads only y, the
weights and the offsets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit.blocks.protocol import Block
from logitfit.model.binary import binary_parts
from logitfit.model.softmax import multi_terms

__all__ = ["null_loglik"]

#: Newton iterations of the null model (each halves its step until the loss falls).
MAX_ITER = 100


def _null_terms(block: Block, b: Any, multinomial: bool) -> tuple:
    """The block's ``(sum s l, gradient, Hessian)`` in the intercepts at ``z = b + offset``."""
    if not multinomial:
        total, r, d = binary_parts(b + block.offset, block.y, block.sw, want_d=True)
        return total, np.array([r.sum()]), np.array([[d.sum()]])
    loss, P, R = multi_terms(b + block.offset, block.y)
    SP = P * block.sw[:, None]
    H = np.diag(SP.sum(axis=0)) - SP.T @ P
    return block.sw @ loss, (R * block.sw[:, None]).sum(axis=0), H


def null_loglik(objective: Any, tol: float = 1e-10) -> float:
    """``llnull``: the log-likelihood ``-S * mean loss`` of the intercept-only model with the
    objective's offsets (``z_i = b + o_i``; ``z_i = o_i`` without an intercept, as R's ``glm``).

    Newton's method on the intercepts, one pass over the rows per step (a pseudo-inverse
    for the softmax, whose intercepts are fixed only up to a common shift).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.blocks import InMemoryBlocks
    >>> from logitfit.model.objective import LogisticObjective
    >>> from logitfit.inference.null_model import null_loglik
    >>> y = np.array([0.0, 1, 1, 0, 1])
    >>> rows = InMemoryBlocks(np.ones((5, 1)), y, np.ones(5), offset=np.zeros(5))
    >>> round(null_loglik(LogisticObjective(rows, 2)), 6)  # zero offsets: 2 log(2/5) + 3 log(3/5)
    -3.365058
    """
    blocks, multinomial = objective.blocks, objective.multinomial
    S = blocks.sw_sum
    b = np.zeros(objective.n_classes) if multinomial else 0.0
    f, g, H = blocks.map_reduce(_null_terms, b, multinomial)
    if not objective.fit_intercept:
        return -float(f)
    for _ in range(MAX_ITER):
        if np.max(np.abs(g)) <= tol * S:
            break
        step = np.linalg.pinv(H) @ g
        step = step if multinomial else float(step[0])
        t = 1.0
        while True:  # the loss is convex in b: halve the step until it falls
            f_new, g_new, H_new = blocks.map_reduce(_null_terms, b - t * step, multinomial)
            if f_new <= f or t < 1e-10:
                break
            t /= 2.0
        if f_new > f:
            break
        b, f, g, H = b - t * step, f_new, g_new, H_new
    return -float(f)
