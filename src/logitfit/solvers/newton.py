"""Newton-Cholesky (IRLS) with a backtracking line search.

Each iteration solves ``H d = -g`` with the full Hessian
``H = (1/S) X~^T diag(s h(1-h)) X~ + diag(a)`` (one pass over X computes J, g
and H together), then takes the largest step ``t`` in {1, 1/2, ...} meeting the
Armijo condition. For the logistic log loss this is iteratively reweighted
least squares (McCullagh & Nelder 1989, sec. 2.5); near the optimum it
converges quadratically.

Directions along which J is exactly flat by construction (the objective's
``null_space()``, e.g. the unpenalised softmax's per-feature class shift) are
removed before factoring: with N orthonormal and ``N^T g = 0``,
``(H + sigma N N^T) d = -g`` gives the exact Newton step with ``N^T d = 0``,
so Cholesky still applies. Any other singular or indefinite-by-rounding Hessian (collinear or constant columns,
separable data, the unpenalised softmax whose coefficients are determined
only up to a constant per feature) makes Cholesky fail; the step is then the
minimum-norm solution from the eigendecomposition, dropping eigenvalues below
``RCOND * max eigenvalue``, which moves only in identifiable directions.

:func:`damped_newton` is the one damped Newton iteration of the package: the
solver, the Firth fit and the constrained fits of profile likelihoods run it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from logitfit.model.objective import Objective
from logitfit.solvers._common import ARMIJO_C, Recorder, armijo_slack, backtrack, gnorm
from logitfit.solvers.base import SolverOptions, SolverResult

DEFAULT_MAX_ITER = 100
RCOND = 1e-12


def newton_direction(H: np.ndarray, g: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    """Solve ``H d = -g`` by Cholesky, or by a truncated eigendecomposition when H is singular.

    ``null`` (orthonormal columns spanning directions where J is flat) is
    lifted out of the kernel of H first: ``H + sigma N N^T``, sigma = mean diag(H).
    """
    if null is not None:
        H = H + np.mean(np.diag(H)) * (null @ null.T)
    try:
        c = linalg.cho_factor(H, lower=False, check_finite=False)
        # A factor with a pivot this small means H is singular to working
        # precision: the solve would take a huge step along a flat direction.
        pivots = np.diag(c[0]) ** 2
        if pivots.min() > RCOND * pivots.max():
            d = linalg.cho_solve(c, -g, check_finite=False)
            if np.all(np.isfinite(d)) and g @ d < 0:
                return d
    except linalg.LinAlgError:
        pass
    lam, V = linalg.eigh(H, check_finite=False)
    keep = lam > RCOND * max(lam.max(), np.finfo(float).tiny)
    d = -(V[:, keep] @ ((V[:, keep].T @ g) / lam[keep]))
    if not np.all(np.isfinite(d)) or g @ d >= 0:
        d = -g
    return d


@dataclass(frozen=True)
class NewtonStep:
    """How :func:`damped_newton` steps: cap on a step's largest component, iteration default, name."""

    name: str = "newton"
    max_iter: int = DEFAULT_MAX_ITER
    # None: no cap; Firth and profile fits cap as logistf's maxstep does.
    max_step: float | None = None


PLAIN = NewtonStep()


def damped_newton(
    fun_grad_hess: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
    x0: np.ndarray,
    options: SolverOptions,
    step: NewtonStep = PLAIN,
    *,
    value: Callable[[np.ndarray], float] | None = None,
    null: np.ndarray | None = None,
) -> SolverResult:
    """Minimise ``f`` by Newton steps ``H d = -g`` with an Armijo backtracking line search.

    ``fun_grad_hess(x) -> (f, g, H)``; ``H`` may be any positive definite
    model of the curvature (Fisher scoring for Firth). The full step is tried
    with ``fun_grad_hess``; if it fails the Armijo test ``f(x + t d) <= f + c t g^T d``
    (Nocedal & Wright, eq. 3.4), ``t`` is halved using ``value`` (default:
    ``fun_grad_hess(x)[0]``). Stops when ``max|g| <= options.tol``.
    """
    max_iter = step.max_iter if options.max_iter is None else options.max_iter
    value = value or (lambda x: fun_grad_hess(x)[0])
    x = np.array(x0, dtype=np.float64)
    f, g, H = fun_grad_hess(x)
    gn = gnorm(g)
    rec = Recorder(step.name, options, f, gn)
    message = f"reached max_iter={max_iter}"
    it = 0
    while it < max_iter and gn > options.tol and not rec.stop_requested:
        it += 1
        d = newton_direction(H, g, null)
        big = np.max(np.abs(d), initial=0.0)
        if step.max_step is not None and big > step.max_step:
            d = d * (step.max_step / big)
        slope = float(g @ d)
        # The full step is nearly always accepted: evaluate f, g and H there at once.
        f1, g1, H1 = fun_grad_hess(x + d)
        if np.isfinite(f1) and f1 <= f + ARMIJO_C * slope + armijo_slack(f):
            t = 1.0
        else:
            found = backtrack(value, x, f, slope, d, t=0.5)
            if found is None:
                message = "line search found no decrease: the objective is flat to rounding"
                break
            t = found[0]
            f1, g1, H1 = fun_grad_hess(x + t * d)
        x = x + t * d
        f, g, H = f1, g1, H1
        gn = gnorm(g)
        rec.record(it, x, f, gn, t * float(np.linalg.norm(d)))
    else:
        if rec.stop_requested:
            message = "stopped by callback"
    return rec.result(x, f, gn, it, message)


def solve(objective: Objective, x0: np.ndarray, options: SolverOptions) -> SolverResult:
    """Newton-Cholesky on the objective (sub-sampled Hessian on tall data when allowed)."""
    # Tall data: the Hessian from an evenly spread subset of rows (the objective
    # decides how many); value and gradient, hence the convergence test, stay exact.
    sub = options.subsample_hessian and hasattr(objective, "hessian_block_stride")

    def vgh(x):
        return objective.value_grad_hess(x, subsample=True) if sub else objective.value_grad_hess(x)

    null_space = getattr(objective, "null_space", None)
    null = null_space() if callable(null_space) else None
    return damped_newton(vgh, x0, options, value=objective.value, null=null)
