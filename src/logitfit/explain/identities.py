"""Two identities behind the gradient, checked numerically: sigma' = sigma (1 - sigma), and the
cost J as minus the mean log-likelihood (so minimising J is maximum likelihood).

Used through :mod:`logitfit.explain` (``logitfit.explain.sigmoid_check()``,
``logitfit.explain.likelihood(X, y)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from logitfit._numerics import log_sigmoid, sigmoid
from logitfit.explain.steps import EPS, FD_STEP_FACTOR, _check, _col_scale, fit_theta, resolve_theta
from logitfit.model.textbook import cost

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["LikelihoodCheck", "SigmoidCheck", "likelihood", "sigmoid_check"]


# --------------------------------------------------------------------------
# 2. sigma' = sigma (1 - sigma)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SigmoidCheck:
    """``sigma'(z) = sigma(z)(1 - sigma(z))`` against central differences on a grid of z.

    Examples
    --------
    >>> from logitfit import explain
    >>> check = explain.sigmoid_check([0.0, 1.0])
    >>> check.analytic.round(4)
    array([0.25  , 0.1966])
    """

    z: np.ndarray
    sigma: np.ndarray
    analytic: np.ndarray
    finite_diff: np.ndarray

    @property
    def abs_err(self) -> np.ndarray:
        return np.abs(self.finite_diff - self.analytic)

    @property
    def max_abs_err(self) -> float:
        return float(np.max(self.abs_err))

    @property
    def max_rel_err(self) -> float:
        return float(np.max(self.abs_err / self.analytic))

    def figure(self) -> Figure:
        """sigma and sigma' (analytic and finite difference), and the error, side by side."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 3.4), layout="constrained")
        a, b = fig.subplots(1, 2)
        a.plot(self.z, self.sigma, label="sigma(z)")
        a.plot(self.z, self.analytic, label="sigma(z)(1 - sigma(z))")
        a.plot(self.z[::8], self.finite_diff[::8], "o", ms=3, label="central difference")
        a.set_xlabel("z")
        a.legend(fontsize=8)
        b.semilogy(self.z, np.maximum(self.abs_err, EPS * 1e-3))
        b.set_xlabel("z")
        b.set_title(f"|difference|, max {self.max_abs_err:.1e}", fontsize=10)
        return fig


def sigmoid_check(z: ArrayLike | None = None) -> SigmoidCheck:
    """Check ``sigma' = sigma (1 - sigma)`` against ``(sigma(z+d) - sigma(z-d)) / 2d``.

    ``d = eps^(1/3) max(1, |z|)``; ``1 - sigma(z)`` is computed as ``sigma(-z)``
    (exact, no cancellation). Default grid: 401 points on [-10, 10].

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> check = explain.sigmoid_check()
    >>> bool(np.abs(check.analytic - check.finite_diff).max() < 1e-9)
    True
    """
    z = np.linspace(-10.0, 10.0, 401) if z is None else np.asarray(z, dtype=np.float64).ravel()
    d = FD_STEP_FACTOR * np.maximum(1.0, np.abs(z))
    zp, zm = z + d, z - d
    fd = (sigmoid(zp) - sigmoid(zm)) / (zp - zm)  # divide by the step actually taken
    return SigmoidCheck(z, sigmoid(z), sigmoid(z) * sigmoid(-z), fd)


# --------------------------------------------------------------------------
# 3. cost = minus the mean log-likelihood
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LikelihoodCheck:
    """The cost against the log-likelihood, at a theta and at both optima.

    ``terms`` are the per-row log-likelihood contributions
    ``y log h + (1-y) log(1-h)``; ``theta_min_cost`` comes from the library's
    Newton solver on J, ``theta_max_likelihood`` from maximising the
    log-likelihood by Fisher scoring (a different algorithm on a different
    function).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> check = explain.likelihood(X, y, np.zeros(2))
    >>> round(check.cost, 6), round(check.loglike, 6), check.m
    (0.693147, -2.772589, 4)
    """

    theta: np.ndarray
    cost: float
    loglike: float
    m: int
    h: np.ndarray
    y: np.ndarray
    terms: np.ndarray
    theta_min_cost: np.ndarray
    theta_max_likelihood: np.ndarray
    X: np.ndarray = field(repr=False)

    @property
    def cost_gap(self) -> float:
        """``J(theta) - (-loglike / m)``: zero to rounding."""
        return self.cost + self.loglike / self.m

    @property
    def optimum_gap(self) -> float:
        """``max_j |theta_min_cost - theta_max_likelihood| / max(1, |theta_j|)``."""
        a, b = self.theta_min_cost, self.theta_max_likelihood
        return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a))))

    def figure(self) -> Figure:
        """Along each coordinate through the optimum: J (left axis) and the log-likelihood (right)."""
        from matplotlib.figure import Figure

        n = min(self.theta_min_cost.size, 4)
        fig = Figure(figsize=(3.2 * n, 3.0), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, n))
        t = np.linspace(-3.0, 3.0, 121)
        step = 1.0 / _col_scale(self.X)
        for k, ax in enumerate(axes):
            thetas = self.theta_min_cost + np.outer(t * step[k], np.eye(self.theta_min_cost.size)[k])
            J = np.array([cost(th, self.X, self.y) for th in thetas])
            ax.plot(thetas[:, k], J, color="C0")
            ax.axvline(self.theta_min_cost[k], color="k", lw=0.8, ls="--")
            ax.set_xlabel(f"theta_{k}")
            ax.set_ylabel("J(theta)", color="C0")
            ax2 = ax.twinx()
            ax2.plot(thetas[:, k], -self.m * J, color="C1", ls=":")
            ax2.set_ylabel("log-likelihood", color="C1")
        fig.suptitle("argmin J = argmax log-likelihood", fontsize=10)
        return fig


#: Fisher scoring stops when a step moves no coordinate by more than this
#: (relative): a few iterations past the point where the step reaches rounding.
IRLS_TOL = 1e-13
IRLS_MAX_ITER = 100


def _max_likelihood(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Maximise ``l(theta) = sum_i y log h + (1-y) log(1-h)`` by Fisher scoring (IRLS).

    ``theta <- theta + I(theta)^-1 U(theta)`` with score ``U = X^T (y - h)`` and
    information ``I = X^T diag(h(1-h)) X`` (McCullagh & Nelder, Generalized
    Linear Models, 2nd ed., sec. 2.5): the statistician's route to the MLE,
    which never evaluates the cost J.
    """
    theta = np.zeros(X.shape[1])
    for _ in range(IRLS_MAX_ITER):
        z = X @ theta
        U = X.T @ (y - sigmoid(z))
        info = (X.T * (sigmoid(z) * sigmoid(-z))) @ X
        step = np.linalg.lstsq(info, U, rcond=None)[0]
        theta = theta + step
        if np.all(np.abs(step) <= IRLS_TOL * np.maximum(1.0, np.abs(theta))):
            break
    return theta


def likelihood(X: ArrayLike, y: ArrayLike, theta: ArrayLike | None = None) -> LikelihoodCheck:
    """Show ``J(theta) = -(1/m) log L(theta)`` with the numbers, and argmin J = argmax L.

    ``log L = sum_i log( h_i^y_i (1-h_i)^(1-y_i) ) = sum_i [y_i log h_i + (1-y_i) log(1-h_i)]``
    is evaluated with ``log h = log_sigmoid(z)`` and ``log(1-h) = log_sigmoid(-z)``;
    J with :func:`logitfit.cost`. theta defaults to zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> check = explain.likelihood(X, y)
    >>> bool(np.isclose(check.cost, -check.loglike / check.m))
    True
    >>> np.allclose(check.theta_min_cost, check.theta_max_likelihood, atol=1e-6)
    True
    """
    X, y = _check(X, y)
    theta = np.zeros(X.shape[1]) if theta is None else resolve_theta(theta, X, y)
    z = X @ theta
    terms = y * log_sigmoid(z) + (1.0 - y) * log_sigmoid(-z)
    return LikelihoodCheck(theta, cost(theta, X, y), float(np.sum(terms)), X.shape[0], sigmoid(z),
                           y, terms, fit_theta(X, y), _max_likelihood(X, y), X)
