"""The course's functional API: ``sigmoid``, ``cost`` and ``gradient`` exactly as taught.

X is used exactly as given: the caller prepends a column of ones for an
intercept, as Andrew Ng's Machine Learning course (exercise 2) does, and the
penalty spares ``theta[0]`` only:

    h        = sigmoid(X theta)
    cost     = (1/m) sum_i [-y_i log h_i - (1 - y_i) log(1 - h_i)] + lam/(2m) sum_{j>=1} theta_j^2
    gradient = (1/m) X^T (h - y) + (lam/m) [0, theta_1, ..., theta_n]

These are for learning and checking; the estimator uses :mod:`logitfit.model.objective`,
which computes the same numbers block by block.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from logitfit._numerics import binary_loss_terms, binary_residual, sigmoid

__all__ = ["sigmoid", "cost", "gradient"]


def _as_arrays(theta: ArrayLike, X: ArrayLike, y: ArrayLike):
    theta = np.asarray(theta, dtype=np.float64).ravel()
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (m rows, n columns); got shape {X.shape}")
    if X.shape[1] != theta.size:
        raise ValueError(f"theta has {theta.size} entries but X has {X.shape[1]} columns")
    if X.shape[0] != y.size:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.size} entries")
    if X.shape[0] == 0:
        raise ValueError("X has no rows")
    return theta, X, y


def cost(theta: ArrayLike, X: ArrayLike, y: ArrayLike, lam: float = 0.0) -> float:
    """Log-loss cost ``J(theta)`` of the course, with the optional L2 term ``lam/(2m)``.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import cost
    >>> X = np.array([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0]])
    >>> y = np.array([1, 0, 1])
    >>> round(cost(np.zeros(2), X, y), 6)
    0.693147
    >>> bool(np.isclose(cost(np.zeros(2), X, y), np.log(2)))
    True
    """
    theta, X, y = _as_arrays(theta, X, y)
    m = X.shape[0]
    J = float(np.mean(binary_loss_terms(X @ theta, y)))
    if lam == 0:  # theta . theta may overflow for a huge theta, and 0 * inf is NaN
        return J
    return J + lam / (2 * m) * float(theta[1:] @ theta[1:])


def gradient(theta: ArrayLike, X: ArrayLike, y: ArrayLike, lam: float = 0.0) -> np.ndarray:
    """Gradient ``(1/m) X^T (h - y) + (lam/m) theta`` (``theta[0]`` not penalised).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import gradient
    >>> X = np.array([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0]])
    >>> y = np.array([1, 0, 1])
    >>> gradient(np.zeros(2), X, y)
    array([-0.16666667, -0.58333333])
    """
    theta, X, y = _as_arrays(theta, X, y)
    m = X.shape[0]
    g = X.T @ binary_residual(X @ theta, y) / m
    g[1:] += lam / m * theta[1:]
    return g
