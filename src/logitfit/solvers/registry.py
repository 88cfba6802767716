"""The solver registry: names, the ``auto`` rule and :func:`minimize`."""

from __future__ import annotations

import numpy as np

from logitfit.blocks.threads import single_threaded_blas
from logitfit.model.objective import Objective
from logitfit.solvers.base import Solver, SolverOptions, SolverResult

__all__ = ["NEWTON_MAX_PARAMS", "SOLVERS", "choose_solver", "get_solver", "minimize"]


def _registry() -> dict[str, Solver]:
    from logitfit.solvers.cd import solve as cd
    from logitfit.solvers.gd import solve as gd
    from logitfit.solvers.lbfgs import solve as lbfgs
    from logitfit.solvers.newton import solve as newton
    from logitfit.solvers.newton_cg import solve as newton_cg
    from logitfit.solvers.prox import solve as prox
    from logitfit.solvers.sgd import solve as sgd

    return {
        "gd": gd,
        "sgd": sgd,
        "lbfgs": lbfgs,
        "newton": newton,
        "newton-cg": newton_cg,
        "cd": cd,
        "prox": prox,
    }


SOLVERS = ("auto", "gd", "sgd", "lbfgs", "newton", "newton-cg", "cd", "prox")

# Past this many parameters Newton's (q K)^2 Hessian costs more than Newton-CG's passes (docs/solvers.md).
NEWTON_MAX_PARAMS = 150


def choose_solver(n_samples: int, n_params: int, *, sparse: bool, multinomial: bool = False) -> str:
    """The ``auto`` rule: ``"newton"`` for a binary model with ``n_params <= NEWTON_MAX_PARAMS``, else ``"newton-cg"``.

    It never returns ``"lbfgs"``. ``n_samples`` and ``sparse`` do not enter
    the rule (kept in the signature for callers). Newton converges in a
    handful of passes over X, each one Hessian accumulation (on tall data from
    a subset of rows); past ``NEWTON_MAX_PARAMS`` the (q x q) Hessian costs
    more than the two passes per CG step of Newton-CG. The softmax Hessian has
    K^2 blocks, so every multinomial model takes Newton-CG. Measurements in
    docs/solvers.md. (The estimators take ``"cd"`` instead whenever an L1 or
    elastic-net penalty or box bounds apply.)
    """
    del n_samples, sparse
    if not multinomial and n_params <= NEWTON_MAX_PARAMS:
        return "newton"
    return "newton-cg"


def get_solver(name: str) -> Solver:
    registry = _registry()
    try:
        return registry[name]
    except KeyError:
        raise ValueError(f"unknown solver {name!r}; choose one of {', '.join(SOLVERS)}") from None


def minimize(
    objective: Objective,
    x0: np.ndarray,
    solver: str = "auto",
    options: SolverOptions | None = None,
    *,
    n_samples: int | None = None,
    sparse: bool = False,
) -> SolverResult:
    """Minimise ``objective`` from ``x0`` with the named solver (or the ``auto`` rule)."""
    options = options or SolverOptions()
    if solver == "auto":
        solver = choose_solver(
            n_samples or 0,
            objective.n_params,
            sparse=sparse,
            multinomial=bool(getattr(objective, "multinomial", False)),
        )
    run = get_solver(solver)
    x0 = np.asarray(x0, dtype=np.float64).copy()
    if solver in ("cd", "prox"):  # dense H @ delta and LU of large faces: BLAS threads help
        return run(objective, x0, options)
    # the solver's own arithmetic is on parameter-length vectors; the objective's passes run their own threads
    with single_threaded_blas():
        return run(objective, x0, options)
