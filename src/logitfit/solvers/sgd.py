"""Mini-batch stochastic gradient with momentum or Adam, seeded, with growing batches.

Each epoch shuffles the rows (``numpy.random.default_rng(random_state)``) and
takes one step per mini-batch:

* momentum (heavy ball): ``v <- beta v + g_B``, ``x <- x - eta v``;
* Adam (Kingma & Ba 2015, Algorithm 1): bias-corrected first and second
  moment estimates, ``x <- x - eta m^ / (sqrt(v^) + eps)``.

Plain SGD with a fixed step stalls at a noise floor set by the batch
variance. To reach the exact optimum, the batch grows geometrically from
epoch to epoch (dynamic sample size: Byrd, Chin, Nocedal & Wu 2012;
Friedlander & Schmidt 2012), so the gradient noise vanishes, and the step is
halved whenever an epoch raises J. After every epoch one full pass computes
J and its gradient: that is the history and the convergence test.
"""

from __future__ import annotations

import numpy as np

from logitfit.model.objective import Objective
from logitfit.solvers._common import Recorder, gnorm
from logitfit.solvers.base import SolverOptions, SolverResult

DEFAULT_MAX_ITER = 1000  # epochs
BATCH_GROWTH = 1.5
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8
DEFAULT_ADAM_LR = 0.01
POWER_ITERATIONS = 20


def curvature_step(objective: Objective, x: np.ndarray, rng: np.random.Generator) -> float:
    """``1 / L`` with L the largest Hessian eigenvalue at x (power iteration)."""
    hessp = objective.hessp(x)
    v = rng.standard_normal(x.size)
    lam = 1.0
    for _ in range(POWER_ITERATIONS):
        w = hessp(v / np.linalg.norm(v))
        lam = float(np.linalg.norm(w))
        v = w
    return 1.0 / max(lam, 1e-12)


def solve(objective: Objective, x0: np.ndarray, options: SolverOptions) -> SolverResult:
    if not hasattr(objective, "value_and_grad_rows"):
        raise ValueError("sgd needs mini-batches of rows; this data source streams whole blocks: use lbfgs or newton")
    max_epochs = DEFAULT_MAX_ITER if options.max_iter is None else options.max_iter
    rng = np.random.default_rng(options.random_state)
    n = objective.n_samples
    adam = options.sgd_method == "adam"
    if options.sgd_method not in ("adam", "momentum"):
        raise ValueError(f"sgd_method must be 'adam' or 'momentum', got {options.sgd_method!r}")
    beta = options.momentum
    if options.learning_rate is not None:
        eta = options.learning_rate
    elif adam:
        eta = DEFAULT_ADAM_LR
    else:
        eta = (1 - beta) * curvature_step(objective, x0, rng)
    x = x0.copy()
    f, g = objective.value_and_grad(x)
    gn = gnorm(g)
    rec = Recorder("sgd", options, f, gn)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    t = 0
    batch = float(min(options.batch_size, n))
    message = f"reached max_iter={max_epochs} epochs"
    epoch = 0
    while epoch < max_epochs and gn > options.tol and not rec.stop_requested:
        epoch += 1
        x_start, f_start = x.copy(), f
        b = int(batch)
        order = rng.permutation(n)
        for start in range(0, n, b):
            _, gb = objective.value_and_grad_rows(x, order[start : start + b])
            if adam:
                t += 1
                m = beta * m + (1 - beta) * gb
                v = ADAM_BETA2 * v + (1 - ADAM_BETA2) * gb * gb
                mhat = m / (1 - beta**t)
                vhat = v / (1 - ADAM_BETA2**t)
                x = x - eta * mhat / (np.sqrt(vhat) + ADAM_EPS)
            else:
                m = beta * m + gb
                x = x - eta * m
        f, g = objective.value_and_grad(x)
        if not np.isfinite(f) or f > f_start:
            # The epoch made things worse: undo it, calm the step, restart the moments.
            x, eta = x_start, eta * 0.5
            f, g = objective.value_and_grad(x)
            m[:] = 0.0
            v[:] = 0.0
            t = 0
        batch = min(batch * BATCH_GROWTH, float(n))
        gn = gnorm(g)
        rec.record(epoch, x, f, gn, eta)
    else:
        if rec.stop_requested:
            message = "stopped by callback"
    return rec.result(x, f, gn, epoch, message)
