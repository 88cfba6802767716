"""Truncated Newton (Newton-CG) with Hessian-vector products and a line search.

Each outer iteration approximately solves ``H d = -g`` by conjugate gradients
using only ``v -> H v`` (two passes over X per product, no Hessian formed),
stopping at the forcing tolerance ``||r|| <= min(0.5, sqrt||g||) ||g||``
(Nocedal & Wright, Algorithm 7.1), or at negative curvature. Suits many
features and sparse X.

Where the objective offers ``hessian_diagonal`` (in-memory rows, compiled
kernels) and that diagonal spans at least ``JACOBI_MIN_SPREAD`` at the start,
CG is preconditioned by it (Jacobi, one more read of X per outer iteration): it
takes away the columns' units, so features on scales decades apart cost a few
CG steps instead of hundreds (docs/solvers.md).
"""

from __future__ import annotations

import numpy as np

from logitfit.model.objective import Objective
from logitfit.solvers._common import ARMIJO_C, Recorder, armijo_slack, backtrack, gnorm
from logitfit.solvers.base import SolverOptions, SolverResult

DEFAULT_MAX_ITER = 200
MAX_CG_ITER = 250
# Jacobi only pays where the diagonal spans decades: on W2 (spread 1.07) it adds a read of X per
# iteration for no fewer CG steps, on W4 (softmax, 1.03) it took 154 steps against 93; W3 (TF-IDF,
# 2.5e4) 60 against 80 (docs/solvers.md). Below this max/min ratio the fit runs without it.
JACOBI_MIN_SPREAD = 10.0


def cg_direction(
    hessp,
    g: np.ndarray,
    max_iter: int = MAX_CG_ITER,
    diagonal: np.ndarray | None = None,
    enough: float = 0.0,
) -> np.ndarray:
    """Conjugate gradients on ``H d = -g`` from d = 0, truncated (Nocedal & Wright Alg. 7.1).

    Stops at ``||r|| <= max(min(0.5, sqrt||g||) ||g||, enough)``: the residual
    ``r = H d + g`` is the model's gradient after the step, so ``enough = tol / 2``
    spares the last iteration the steps that would take it far below ``tol``.
    With ``diagonal`` (``diag H``), preconditioned CG (their Alg. 5.3) with
    ``M = diag H``: each step solves ``M z = r`` elementwise; the test stays on
    the plain residual.
    """
    gnorm2 = float(np.linalg.norm(g))
    eps = max(min(0.5, np.sqrt(gnorm2)) * gnorm2, enough)
    scale = None if diagonal is None else np.where(diagonal > 0, diagonal, 1.0)
    d = np.zeros_like(g)
    r = g.copy()
    z = r if scale is None else r / scale
    p = -z
    rz = float(r @ z)
    for j in range(max_iter):
        Hp = hessp(p)
        curv = float(p @ Hp)
        if curv <= 0:
            return -g if j == 0 else d
        a = rz / curv
        d = d + a * p
        r = r + a * Hp
        if float(np.linalg.norm(r)) <= eps:
            break
        z = r if scale is None else r / scale
        rz_new = float(r @ z)
        p = -z + (rz_new / rz) * p
        rz = rz_new
    return d


def spread(diagonal: np.ndarray) -> float:
    """``max / min`` of the diagonal's positive entries (1 when there are none)."""
    positive = diagonal[diagonal > 0]
    return float(positive.max() / positive.min()) if positive.size else 1.0


def solve(objective: Objective, x0: np.ndarray, options: SolverOptions) -> SolverResult:
    max_iter = DEFAULT_MAX_ITER if options.max_iter is None else options.max_iter
    x = x0
    f, g = objective.value_and_grad(x)
    gn = gnorm(g)
    rec = Recorder("newton-cg", options, f, gn)
    message = f"reached max_iter={max_iter}"
    # tall data: Hessian-vector products from a subset of rows (LogisticObjective.hessp)
    sub = options.subsample_hessian and hasattr(objective, "hessian_block_stride")
    precondition = getattr(objective, "hessian_diagonal", None)
    it = 0
    while it < max_iter and gn > options.tol and not rec.stop_requested:
        it += 1
        hessp = objective.hessp(x, subsample=True) if sub else objective.hessp(x)
        diagonal = precondition(x, subsample=sub) if precondition is not None else None
        if diagonal is not None and spread(diagonal) < JACOBI_MIN_SPREAD:
            precondition = diagonal = None  # near-uniform: off for the rest of the fit
        d = cg_direction(hessp, g, diagonal=diagonal, enough=0.5 * options.tol)
        slope = float(g @ d)
        if slope >= 0:
            d, slope = -g, -float(g @ g)
        f1, g1 = objective.value_and_grad(x + d)
        if np.isfinite(f1) and f1 <= f + ARMIJO_C * slope + armijo_slack(f):
            t = 1.0
        else:
            found = backtrack(objective.value, x, f, slope, d, t=0.5)
            if found is None:
                message = "line search found no decrease: the objective is flat to rounding"
                break
            t = found[0]
            f1, g1 = objective.value_and_grad(x + t * d)
        step = t * float(np.linalg.norm(d))
        x = x + t * d
        f, g = f1, g1
        gn = gnorm(g)
        rec.record(it, x, f, gn, step)
    else:
        if rec.stop_requested:
            message = "stopped by callback"
    return rec.result(x, f, gn, it, message)
