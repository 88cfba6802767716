"""Profile-likelihood intervals: ``{c : 2 (f(c) - f_min) <= chi2_{1, 1-alpha}}`` for each parameter.

``f`` is the negative (possibly Firth-penalised) log-likelihood and
``f(c) = min_{x : x_j = c} f(x)`` its profile, each minimum found by the solver
package's damped Newton iteration over the other coordinates. The end points
are roots of ``2 (f(c) - f_min) - chi2_{1, 1-alpha}`` found by Brent's method
(Venzon & Moolgavkar 1988, Appl. Statist. 37:87 describe the same set; R's
``confint.glm`` computes it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from logitfit.inference.distributions import chi2_ppf_1
from logitfit.solvers.base import SolverOptions
from logitfit.solvers.newton import NewtonStep, damped_newton

__all__ = ["constrained_minimum", "profile_ci", "profile_tol"]

FGH = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]

#: Gradient tolerance of a constrained fit, relative to max(1, |f_min|) on the total scale.
PROFILE_RTOL = 1e-10
#: A capped Newton step (as logistf's maxstep) keeps far profiles stable.
PROFILE_STEP = NewtonStep(name="profile", max_iter=200, max_step=5.0)
#: Doublings of the bracketing step before a profile is declared not to reach the cut-off.
MAX_DOUBLINGS = 40


def profile_tol(f_min: float) -> float:
    """The gradient tolerance of constrained fits around a minimum ``f_min``."""
    return PROFILE_RTOL * max(1.0, abs(f_min))


def constrained_minimum(fgh: FGH, x0: np.ndarray, j: int, c: float, tol: float) -> tuple[float, np.ndarray]:
    """``(min f, argmin)`` over ``x`` with ``x_j = c``; ``fgh(x) -> (f, g, H)``, started from ``x0``."""
    x = np.array(x0, dtype=np.float64)
    x[j] = c
    free = np.arange(x.size) != j

    def embed(v: np.ndarray) -> np.ndarray:
        out = x.copy()
        out[free] = v
        return out

    def free_fgh(v: np.ndarray):
        f, g, H = fgh(embed(v))
        return f, g[free], H[np.ix_(free, free)]

    res = damped_newton(free_fgh, x[free], SolverOptions(tol=tol), PROFILE_STEP)
    return res.fun, embed(res.x)


def profile_ci(fgh: FGH, x_hat: np.ndarray, se: np.ndarray, alpha: float) -> np.ndarray:
    """Profile-likelihood interval of every parameter, shape (k, 2), around the minimiser ``x_hat``.

    ``se`` (the Wald standard errors) sets the first bracketing step.
    """
    from scipy.optimize import brentq  # imported on use (profile intervals only)

    f_min = fgh(x_hat)[0]
    tol = profile_tol(f_min)
    q = chi2_ppf_1(1.0 - alpha)
    out = np.empty((x_hat.size, 2))
    for j in range(x_hat.size):
        solved = {float(x_hat[j]): x_hat}

        def excess(c, j=j, solved=solved):
            # warm start from the nearest value already solved: deterministic in c
            near = min(solved, key=lambda v: abs(v - c))
            f, x = constrained_minimum(fgh, solved[near], j, c, tol)
            solved[float(c)] = x
            return 2.0 * (f - f_min) - q

        for side, sgn in ((0, -1.0), (1, 1.0)):
            step = max(se[j], 1e-3 * max(1.0, abs(x_hat[j])))
            lo = float(x_hat[j])
            hi = lo + sgn * step
            n = 0
            while (e_hi := excess(hi)) < 0:
                lo, hi = hi, hi + sgn * step * 2.0**n
                n += 1
                if n > MAX_DOUBLINGS:
                    raise ValueError(f"the profile likelihood of parameter {j} does not reach the cut-off")
            if e_hi == 0.0:
                out[j, side] = hi
                continue
            out[j, side] = brentq(excess, lo, hi, xtol=1e-12, rtol=1e-12)
    return out
