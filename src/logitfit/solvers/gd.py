"""Batch gradient descent, the course's update ``theta <- theta - eta * grad J``.

With ``learning_rate`` set, every step uses that fixed eta (the textbook
algorithm; too large an eta diverges, which the history shows). Without it,
each step backtracks from twice the previous accepted step until the Armijo
condition ``J(x - t g) <= J(x) - c t ||g||^2`` holds (Nocedal & Wright,
Algorithm 3.1), which converges for any smooth J.
"""

from __future__ import annotations

import numpy as np

from logitfit.model.objective import Objective
from logitfit.solvers._common import ARMIJO_C, MAX_HALVINGS, Recorder, armijo_slack, gnorm
from logitfit.solvers.base import SolverOptions, SolverResult

DEFAULT_MAX_ITER = 10_000


def solve(objective: Objective, x0: np.ndarray, options: SolverOptions) -> SolverResult:
    max_iter = DEFAULT_MAX_ITER if options.max_iter is None else options.max_iter
    fixed = options.learning_rate
    x = x0
    f, g = objective.value_and_grad(x)
    gn = gnorm(g)
    rec = Recorder("gd", options, f, gn)
    message = f"reached max_iter={max_iter}"
    t = 1.0
    it = 0
    while it < max_iter and gn > options.tol and not rec.stop_requested:
        it += 1
        gg = float(g @ g)
        if fixed is not None:
            t = fixed
            x_new = x - t * g
            f_new, g_new = objective.value_and_grad(x_new)
            if not np.isfinite(f_new):
                x, f, g = x_new, f_new, g_new
                message = f"diverged: the objective overflowed with learning_rate={fixed}"
                rec.record(it, x, f, np.inf, t)
                gn = np.inf
                break
        else:
            t *= 2.0
            slack = armijo_slack(f)
            for _ in range(MAX_HALVINGS):
                x_new = x - t * g
                f_new, g_new = objective.value_and_grad(x_new)
                if not np.isfinite(f_new):
                    t *= 0.5
                    continue
                if f_new <= f - ARMIJO_C * t * gg:
                    break
                # Near the optimum J changes below its rounding error; a step
                # is then judged by the gradient it leads to instead.
                if f_new <= f + slack and g_new @ g_new < gg:
                    break
                t *= 0.5
            else:
                message = "line search found no decrease: the objective is flat to rounding"
                break
        x, f, g = x_new, f_new, g_new
        gn = gnorm(g)
        rec.record(it, x, f, gn, t)
    else:
        if rec.stop_requested:
            message = "stopped by callback"
    return rec.result(x, f, gn, it, message)
