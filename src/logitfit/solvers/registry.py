"""The solver registry: names, the ``auto`` rule and :func:`minimize`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from logitfit.blocks.threads import single_threaded_blas
from logitfit.model.objective import Objective
from logitfit.solvers.base import History, Solver, SolverOptions, SolverResult

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
# auto's L-BFGS (well-scaled binary models past NEWTON_MAX_PARAMS) gets this many iterations;
# Newton-CG then takes over from its last iterate (docs/solvers.md, "L-BFGS under auto").
LBFGS_HANDOVER_ITER = 100
# Rows the auto rule's conditioning probe reads (the Hessian diagonal at the start).
PROBE_ROWS = 4096


def choose_solver(n_samples: int, n_params: int, *, sparse: bool, multinomial: bool = False) -> str:
    """The ``auto`` rule: ``"newton"`` for a binary model with ``n_params <= NEWTON_MAX_PARAMS``, else ``"newton-cg"``.

    It never returns ``"lbfgs"``: that choice needs one look at the rows, which
    :func:`minimize` takes (a well-scaled binary model too small for sub-sampled
    Hessian products runs L-BFGS, with Newton-CG taking over if it stalls;
    docs/solvers.md). ``n_samples`` and ``sparse`` do not enter the rule (kept
    in the signature for callers). Newton converges in a
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
    x0 = np.asarray(x0, dtype=np.float64).copy()
    if solver == "auto":
        solver = choose_solver(
            n_samples or 0,
            objective.n_params,
            sparse=sparse,
            multinomial=bool(getattr(objective, "multinomial", False)),
        )
        if solver == "newton-cg" and _well_scaled_without_subsample(objective):
            with single_threaded_blas():
                return _lbfgs_then_newton_cg(objective, x0, options)
    run = get_solver(solver)
    if solver in ("cd", "prox"):  # dense H @ delta and LU of large faces: BLAS threads help
        return run(objective, x0, options)
    # the solver's own arithmetic is on parameter-length vectors; the objective's passes run their own threads
    with single_threaded_blas():
        return run(objective, x0, options)


def _well_scaled_without_subsample(objective: Objective) -> bool:
    """Whether ``auto`` runs L-BFGS instead of Newton-CG: a binary model whose rows are in
    memory and too few for sub-sampled Hessian products, with a near-uniform Hessian diagonal
    (its max/min under ``JACOBI_MIN_SPREAD``: no columns in different units).

    There each L-BFGS iteration is one pass over X, and it needs fewer passes than
    Newton-CG's CG steps (W2, 20,000 x 2,000: 27 evaluations against 40 passes at tol 1e-6).
    Badly scaled columns, which L-BFGS cannot undo, go to Newton-CG's Jacobi-preconditioned CG.
    The probe is the diagonal at ``x = 0`` from the first ``PROBE_ROWS`` rows: column
    second moments to a few per cent, at a small share of one pass.
    """
    from logitfit.solvers.newton_cg import JACOBI_MIN_SPREAD, spread

    probe = getattr(objective, "start_diagonal", None)
    stride = getattr(objective, "hessian_block_stride", None)
    if probe is None or stride is None or stride() > 1:
        return False
    d = probe(PROBE_ROWS)
    return d is not None and spread(d) < JACOBI_MIN_SPREAD


def _lbfgs_then_newton_cg(objective: Objective, x0: np.ndarray, options: SolverOptions) -> SolverResult:
    """L-BFGS for at most ``LBFGS_HANDOVER_ITER`` iterations, then Newton-CG from where it stopped.

    Newton-CG also takes over when L-BFGS stops short of ``tol`` for another
    reason (a failed line search near the optimum, at very tight tolerances).

    The iterations, the history and the callback's iteration numbers run on
    across the hand-over; ``solver`` reads ``"lbfgs"`` or ``"lbfgs+newton-cg"``.
    """
    from logitfit.solvers.lbfgs import DEFAULT_MAX_ITER
    from logitfit.solvers.lbfgs import solve as lbfgs
    from logitfit.solvers.newton_cg import solve as newton_cg

    limit = DEFAULT_MAX_ITER if options.max_iter is None else options.max_iter
    first = lbfgs(objective, x0, replace(options, max_iter=min(limit, LBFGS_HANDOVER_ITER)))
    if first.converged or first.n_iter >= limit or "stopped by callback" in first.message:
        return first
    callback = options.callback
    shifted = None if callback is None else (lambda it, x, f, gn: callback(it + first.n_iter, x, f, gn))
    second = newton_cg(objective, first.x, replace(options, max_iter=limit - first.n_iter, callback=shifted))
    h1, h2 = first.history, second.history
    history = History(h1.objective + h2.objective[1:], h1.grad_norm + h2.grad_norm[1:],
                      h1.step_size + h2.step_size[1:])
    return replace(second, n_iter=first.n_iter + second.n_iter, history=history,
                   solver="lbfgs+newton-cg", message=f"{second.message} (after {first.n_iter} L-BFGS iterations)")
