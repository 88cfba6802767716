"""Solvers: one signature, one frozen result, found through a registry.

Every solver is a function ``solve(objective, x0, options) -> SolverResult``
that sees only the objective protocol (:class:`logitfit.model.objective.Objective`):
value, gradient, Hessian-vector product and full Hessian, plus the optional
capabilities of :class:`logitfit.model.objective.LinearModelObjective`. It
never sees X, y or a sigmoid otherwise, so a solver that works in memory works
out of core and on Dask.

Convergence is judged on the gradient: a solver stops successfully when
``max_j |grad_j J(x)| <= tol``. J is a weighted *mean* loss, so ``tol`` does
not scale with the number of rows.

The ``auto`` rule (:func:`choose_solver`) is documented in docs/solvers.md.
"""

from logitfit.solvers.base import History, SolverOptions, SolverResult
from logitfit.solvers.registry import (
    NEWTON_MAX_PARAMS,
    SOLVERS,
    choose_solver,
    get_solver,
    minimize,
)

__all__ = [
    "History",
    "SolverResult",
    "SolverOptions",
    "NEWTON_MAX_PARAMS",
    "SOLVERS",
    "choose_solver",
    "get_solver",
    "minimize",
]
