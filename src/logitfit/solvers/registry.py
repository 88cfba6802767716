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

    Examples
    --------
    >>> from logitfit.solvers import choose_solver
    >>> choose_solver(10_000, 20, sparse=False)
    'newton'
    >>> choose_solver(10_000, 500, sparse=False)
    'newton-cg'
    >>> choose_solver(10_000, 20, sparse=False, multinomial=True)
    'newton-cg'
    """
    del n_samples, sparse
    if not multinomial and n_params <= NEWTON_MAX_PARAMS:
        return "newton"
    return "newton-cg"


def get_solver(name: str) -> Solver:
    """The solver function registered under ``name`` (one of :data:`SOLVERS` but ``"auto"``).

    Every solver has the signature ``solve(objective, x0, options) -> SolverResult``.

    Raises
    ------
    ValueError
        ``name`` is not a registered solver; the message lists the names.

    Examples
    --------
    >>> from logitfit.solvers import get_solver
    >>> get_solver("lbfgs").__module__
    'logitfit.solvers.lbfgs'
    """
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
    """Minimise ``objective`` from ``x0`` with the named solver (or the ``auto`` rule).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> from logitfit import LogisticObjective
    >>> from logitfit.blocks.memory import InMemoryBlocks
    >>> from logitfit.solvers import SolverOptions, minimize
    >>> objective = LogisticObjective(InMemoryBlocks(X, y.astype(float), np.ones(200)))
    >>> newton = minimize(objective, np.zeros(3), "newton")
    >>> lbfgs = minimize(objective, np.zeros(3), "lbfgs", SolverOptions(tol=1e-8))
    >>> newton.converged, lbfgs.converged
    (True, True)
    >>> np.allclose(newton.x, lbfgs.x, atol=1e-5)
    True
    """
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
