"""Leverages of the weighted hat matrix, shared by the HC2/HC3 sandwiches and Firth's score.

With ``x~_i = [x_i, 1]`` (the intercept column only when fitted), weights
``d_i = s_i p_i (1 - p_i)`` and ``A`` the information ``X~^T diag(d) X~``::

    h_i = d_i x~_i^T A^{-1} x~_i

the diagonal of ``W^{1/2} X~ A^{-1} X~^T W^{1/2}`` (Pregibon 1981, Ann. Statist. 9:705).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit._numerics import issparse

__all__ = ["augmented_design", "leverages"]


def augmented_design(X: Any, fit_intercept: bool) -> np.ndarray:
    """Dense ``X~ = [X, 1]`` of one block (``X`` itself without an intercept)."""
    Xd = X.toarray() if issparse(X) else np.asarray(X, dtype=np.float64)
    if not fit_intercept:
        return Xd
    return np.hstack([Xd, np.ones((Xd.shape[0], 1))])


def leverages(Xt: np.ndarray, d: np.ndarray, Ainv: np.ndarray) -> np.ndarray:
    """``h_i = d_i x~_i^T A^{-1} x~_i`` for the rows of ``Xt`` (shape (n,))."""
    return d * np.einsum("ij,jk,ik->i", Xt, Ainv, Xt)
