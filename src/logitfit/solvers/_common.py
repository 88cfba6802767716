"""Pieces shared by the solvers: the history recorder and the Armijo line search."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from logitfit.solvers.base import History, SolverOptions, SolverResult

# Sufficient-decrease constant of the Armijo rule (Nocedal & Wright, eq. 3.4).
ARMIJO_C = 1e-4
# Below this many halvings the step is ~1e-18 of the first: nothing left to gain.
MAX_HALVINGS = 60


def gnorm(g: np.ndarray) -> float:
    """The convergence measure: ``max_j |g_j|``."""
    return float(np.max(np.abs(g))) if g.size else 0.0


def armijo_slack(f: float) -> float:
    """Rounding allowance in the decrease test: near the optimum J changes
    below its own rounding error, and a step must not be refused for that."""
    return 16 * np.finfo(float).eps * max(1.0, abs(f))


class Recorder:
    """Collects the per-iteration history and runs the user's callback/verbose print."""

    def __init__(self, name: str, options: SolverOptions, f0: float, g0: float) -> None:
        self.name = name
        self.options = options
        self.objective = [f0]
        self.grad_norm = [g0]
        self.step_size = [0.0]
        self.stop_requested = False

    def record(self, it: int, x: np.ndarray, f: float, gn: float, step: float) -> None:
        self.objective.append(float(f))
        self.grad_norm.append(float(gn))
        self.step_size.append(float(step))
        if self.options.verbose:
            print(f"[{self.name}] iter {it:5d}  objective {f:.12g}  |grad| {gn:.3e}  step {step:.3e}")
        if self.options.callback is not None and self.options.callback(it, x, f, gn):
            self.stop_requested = True

    def result(self, x, f, gn, n_iter, message) -> SolverResult:
        converged = gn <= self.options.tol
        history = History(tuple(self.objective), tuple(self.grad_norm), tuple(self.step_size))
        return SolverResult(
            x=x,
            fun=float(f),
            grad_norm=float(gn),
            n_iter=int(n_iter),
            converged=bool(converged),
            message=("converged: max|grad| <= tol" if converged else message),
            history=history,
            solver=self.name,
        )


def backtrack(
    value: Callable[[np.ndarray], float],
    x: np.ndarray,
    f: float,
    slope: float,
    d: np.ndarray,
    t: float = 1.0,
) -> tuple[float, float] | None:
    """Halve ``t`` until ``value(x + t d) <= f + c t slope``; None when no step decreases J.

    ``slope = g^T d < 0`` is the directional derivative at x.
    """
    slack = armijo_slack(f)
    for _ in range(MAX_HALVINGS):
        ft = value(x + t * d)
        if np.isfinite(ft) and ft <= f + ARMIJO_C * t * slope + slack:
            return t, ft
        t *= 0.5
    return None
