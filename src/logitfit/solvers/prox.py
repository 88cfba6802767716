"""FISTA: accelerated proximal gradient for L1 / elastic net / grouped penalties and bounds.

For very large sparse X, where even an active-set Hessian is too costly, this
solver needs only ``value_and_grad`` of the smooth part ``J`` and the
proximal map of the non-smooth part ``P`` (``options.penalty``)::

    x_{k+1} = prox_{t P}(y_k - t grad J(y_k))
    y_{k+1} = x_{k+1} + ((s_k - 1) / s_{k+1}) (x_{k+1} - x_k),
    s_{k+1} = (1 + sqrt(1 + 4 s_k^2)) / 2

(Beck & Teboulle 2009, SIAM J. Imaging Sci. 2(1), FISTA with backtracking,
sec. 4). The step ``t`` is found by backtracking on the quadratic upper bound
``J(x+) <= J(y) + g^T (x+ - y) + ||x+ - y||^2 / (2t)`` and is allowed to grow
again by ``STEP_GROWTH`` each iteration; momentum restarts whenever ``F``
rises (O'Donoghue & Candes 2015, function-value restart).

Convergence: the maximum KKT violation of ``J + P`` at ``x``
(:meth:`logitfit.model.penalties.L1Penalty.kkt_violation`) ``<= tol``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from logitfit.model.objective import Objective
from logitfit.model.penalties import L1Penalty
from logitfit.solvers._common import MAX_HALVINGS, Recorder, armijo_slack
from logitfit.solvers.base import SolverOptions, SolverResult

DEFAULT_MAX_ITER = 20000
# Let the step grow a little each iteration so one early over-cautious
# backtrack does not slow the rest of the run.
STEP_GROWTH = 1.25
# For the logistic loss the curvature is at most 1/4 of the largest
# eigenvalue of X^T X / S; the first step starts at 1 and backtracks.
INITIAL_STEP = 1.0


def solve(objective: Objective, x0: np.ndarray, options: SolverOptions) -> SolverResult:
    n = objective.n_params
    pen = options.penalty
    if pen is None:
        pen = L1Penalty(np.zeros(n), np.full(n, -np.inf), np.full(n, np.inf))
    max_iter = DEFAULT_MAX_ITER if options.max_iter is None else options.max_iter
    x = pen.project(np.asarray(x0, dtype=np.float64))
    f, g = objective.value_and_grad(x)
    F = f + pen.value(x)
    kkt = pen.max_kkt_violation(x, g)
    rec = Recorder("prox", options, F, kkt)
    y, fy, gy = x, f, g
    s = 1.0
    t = INITIAL_STEP
    message = f"reached max_iter={max_iter}"
    it = 0
    while it < max_iter and kkt > options.tol and not rec.stop_requested:
        it += 1
        for _ in range(MAX_HALVINGS):
            xn = pen.prox(y - t * gy, t)
            dx = xn - y
            fn, gn_ = objective.value_and_grad(xn)
            bound = fy + float(gy @ dx) + float(dx @ dx) / (2 * t)
            if np.isfinite(fn) and fn <= bound + armijo_slack(fy):
                break
            t *= 0.5
        else:
            message = "backtracking found no step: the objective is flat to rounding"
            break
        Fn = fn + pen.value(xn)
        # Restart the momentum from the better point when F rises; a plain
        # proximal-gradient step from x (y is x) decreases F by construction,
        # so a rise there is rounding and the step is accepted.
        if Fn > F + armijo_slack(F) and y is not x:
            s = 1.0
            y, fy, gy = x, f, g
            if not np.any(dx):
                message = "no progress: the objective is flat to rounding"
                break
            rec.record(it, x, F, kkt, 0.0)
            continue
        s_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * s * s))
        beta = (s - 1.0) / s_next
        step = float(np.linalg.norm(xn - x))
        y = pen.project(xn + beta * (xn - x)) if beta else xn
        x, f, g, F = xn, fn, gn_, Fn
        kkt = pen.max_kkt_violation(x, g)
        if y is xn:
            fy, gy = fn, gn_
        else:
            fy, gy = objective.value_and_grad(y)
        s = s_next
        t *= STEP_GROWTH
        rec.record(it, x, F, kkt, step)
    else:
        if rec.stop_requested:
            message = "stopped by callback"
    result = rec.result(x, F, kkt, it, message)
    msg = result.message if "KKT" in result.message else f"{result.message} (max KKT violation {kkt:.3g})"
    return replace(result, kkt_violation=float(kkt), message=msg)
