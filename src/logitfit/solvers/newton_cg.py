"""Truncated Newton (Newton-CG) with Hessian-vector products and a line search.

Each outer iteration approximately solves ``H d = -g`` by conjugate gradients
using only ``v -> H v`` (two passes over X per product, no Hessian formed),
stopping at the forcing tolerance ``||r|| <= min(0.5, sqrt||g||) ||g||``
(Nocedal & Wright, Algorithm 7.1), or at negative curvature. Suits many
features and sparse X.
"""

from __future__ import annotations

import numpy as np

from logitfit.model.objective import Objective
from logitfit.solvers._common import ARMIJO_C, Recorder, armijo_slack, backtrack, gnorm
from logitfit.solvers.base import SolverOptions, SolverResult

DEFAULT_MAX_ITER = 200
MAX_CG_ITER = 250


def cg_direction(hessp, g: np.ndarray, max_iter: int = MAX_CG_ITER) -> np.ndarray:
    """Conjugate gradients on ``H d = -g`` from d = 0, truncated (Nocedal & Wright Alg. 7.1)."""
    gnorm2 = float(np.linalg.norm(g))
    eps = min(0.5, np.sqrt(gnorm2)) * gnorm2
    d = np.zeros_like(g)
    r = g.copy()
    p = -r
    rr = float(r @ r)
    for j in range(max_iter):
        Hp = hessp(p)
        curv = float(p @ Hp)
        if curv <= 0:
            return -g if j == 0 else d
        a = rr / curv
        d = d + a * p
        r = r + a * Hp
        rr_new = float(r @ r)
        if np.sqrt(rr_new) <= eps:
            break
        p = -r + (rr_new / rr) * p
        rr = rr_new
    return d


def solve(objective: Objective, x0: np.ndarray, options: SolverOptions) -> SolverResult:
    max_iter = DEFAULT_MAX_ITER if options.max_iter is None else options.max_iter
    x = x0
    f, g = objective.value_and_grad(x)
    gn = gnorm(g)
    rec = Recorder("newton-cg", options, f, gn)
    message = f"reached max_iter={max_iter}"
    # tall data: Hessian-vector products from a subset of rows (LogisticObjective.hessp)
    sub = options.subsample_hessian and hasattr(objective, "hessian_block_stride")
    it = 0
    while it < max_iter and gn > options.tol and not rec.stop_requested:
        it += 1
        d = cg_direction(objective.hessp(x, subsample=True) if sub else objective.hessp(x), g)
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
