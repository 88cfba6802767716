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
"""

from __future__ import annotations

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


def solve(objective: Objective, x0: np.ndarray, options: SolverOptions) -> SolverResult:
    max_iter = DEFAULT_MAX_ITER if options.max_iter is None else options.max_iter
    x = x0
    # Tall data: the Hessian from an evenly spread subset of rows (the objective
    # decides how many); value and gradient, hence the convergence test, stay exact.
    sub = options.subsample_hessian and hasattr(objective, "hessian_block_stride")

    def vgh(x):
        return objective.value_grad_hess(x, subsample=True) if sub else objective.value_grad_hess(x)

    f, g, H = vgh(x)
    gn = gnorm(g)
    rec = Recorder("newton", options, f, gn)
    null_space = getattr(objective, "null_space", None)
    null = null_space() if callable(null_space) else None
    message = f"reached max_iter={max_iter}"
    it = 0
    while it < max_iter and gn > options.tol and not rec.stop_requested:
        it += 1
        d = newton_direction(H, g, null)
        slope = float(g @ d)
        # The full Newton step is nearly always accepted: evaluate J, g and H
        # there in one pass, and fall back to value-only backtracking if not.
        f1, g1, H1 = vgh(x + d)
        if np.isfinite(f1) and f1 <= f + ARMIJO_C * slope + armijo_slack(f):
            t = 1.0
        else:
            found = backtrack(objective.value, x, f, slope, d, t=0.5)
            if found is None:
                message = "line search found no decrease: the objective is flat to rounding"
                break
            t = found[0]
            f1, g1, H1 = vgh(x + t * d)
        step = t * float(np.linalg.norm(d))
        x = x + t * d
        f, g, H = f1, g1, H1
        gn = gnorm(g)
        rec.record(it, x, f, gn, step)
    else:
        if rec.stop_requested:
            message = "stopped by callback"
    return rec.result(x, f, gn, it, message)
