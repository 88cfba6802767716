"""L-BFGS through scipy's L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995).

scipy's projected-gradient test ``max|g| <= gtol`` is exactly logitfit's
convergence criterion, so ``gtol = tol``. The relative-decrease test is set to
a few ulps so that it does not stop the solver before the gradient test does.
"""

from __future__ import annotations

import numpy as np

from logitfit.model.objective import Objective
from logitfit.solvers._common import Recorder, gnorm
from logitfit.solvers.base import SolverOptions, SolverResult

DEFAULT_MAX_ITER = 1000
# Memory of the quasi-Newton update; more pairs cost little next to a pass over X.
N_CORRECTIONS = 20
FTOL = 0.0


def solve(objective: Objective, x0: np.ndarray, options: SolverOptions) -> SolverResult:
    from scipy.optimize import minimize  # imported on use: it costs ~0.4 s at start-up

    max_iter = DEFAULT_MAX_ITER if options.max_iter is None else options.max_iter
    last: dict[str, object] = {}

    def fun(x: np.ndarray):
        f, g = objective.value_and_grad(x)
        last.update(x=x.copy(), f=f, g=g)
        return f, g

    f0, g0 = fun(x0)
    rec = Recorder("lbfgs", options, f0, gnorm(g0))
    state = {"it": 0, "x_prev": x0.copy()}

    def callback(intermediate_result):
        state["it"] += 1
        x = intermediate_result.x
        g = last["g"] if np.array_equal(last["x"], x) else objective.grad(x)
        rec.record(state["it"], x, intermediate_result.fun, gnorm(g), float(np.linalg.norm(x - state["x_prev"])))
        state["x_prev"] = x.copy()
        if rec.stop_requested:
            raise StopIteration

    if gnorm(g0) <= options.tol or max_iter == 0:
        return rec.result(x0, f0, gnorm(g0), 0, "initial point is optimal")
    res = minimize(
        fun,
        x0,
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={"maxiter": max_iter, "gtol": options.tol, "ftol": FTOL, "maxcor": N_CORRECTIONS, "maxls": 50},
    )
    x = res.x
    g = last["g"] if np.array_equal(last["x"], x) else objective.grad(x)
    msg = str(res.message)
    if rec.stop_requested:
        msg = "stopped by callback"
    return rec.result(x, res.fun, gnorm(g), res.nit, f"L-BFGS-B stopped: {msg}")
