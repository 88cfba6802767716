"""What every solver shares: the options it is told and the frozen result it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from logitfit.model.objective import Objective

__all__ = ["History", "Solver", "SolverOptions", "SolverResult"]


@dataclass(frozen=True)
class History:
    """Per-iteration record; entry 0 is the starting point.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> from logitfit import LogisticRegression
    >>> history = LogisticRegression(solver="newton").fit(X, y).history_
    >>> len(history["objective"]) == len(history["grad_norm"])
    True
    >>> history["grad_norm"][-1] <= 1e-6
    True
    """

    objective: tuple[float, ...] = ()
    grad_norm: tuple[float, ...] = ()
    step_size: tuple[float, ...] = ()

    def as_dict(self) -> dict[str, list[float]]:
        return {
            "objective": list(self.objective),
            "grad_norm": list(self.grad_norm),
            "step_size": list(self.step_size),
        }


@dataclass(frozen=True)
class SolverResult:
    """What every solver returns.

    Attributes
    ----------
    x : ndarray, the final parameter vector.
    fun : float, objective at ``x``.
    grad_norm : float, ``max |grad|`` at ``x`` (the convergence measure).
    n_iter : int, iterations taken (epochs for sgd).
    converged : bool, ``grad_norm <= tol``.
    message : str, why the solver stopped.
    history : History

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> from logitfit import LogisticObjective
    >>> from logitfit.blocks.memory import InMemoryBlocks
    >>> from logitfit.solvers import minimize
    >>> objective = LogisticObjective(InMemoryBlocks(X, y.astype(float), np.ones(200)))
    >>> result = minimize(objective, np.zeros(3), "newton")
    >>> result.converged, result.solver, result.n_iter
    (True, 'newton', 5)
    >>> result.x.round(2)
    array([ 1.17, -2.41,  0.32])
    >>> result.grad_norm <= 1e-6
    True
    """

    x: np.ndarray
    fun: float
    grad_norm: float
    n_iter: int
    converged: bool
    message: str
    history: History = field(default_factory=History)
    solver: str = ""
    kkt_violation: float | None = None  # L1 solvers (cd, prox): max KKT violation at x


@dataclass(frozen=True)
class SolverOptions:
    """Everything a solver may be told, bundled (one signature for all solvers).

    ``max_iter=None`` means the solver's own default. ``learning_rate=None``
    means a backtracking (Armijo) line search for gd and an estimate from the
    curvature for sgd. ``callback(iteration, x, fun, grad_norm)`` is called
    after each iteration; returning True stops the solver.

    Examples
    --------
    >>> from logitfit.solvers import SolverOptions
    >>> options = SolverOptions(tol=1e-8, max_iter=50)
    >>> options.tol, options.max_iter
    (1e-08, 50)
    """

    tol: float = 1e-6
    max_iter: int | None = None
    verbose: int = 0
    callback: Callable[[int, np.ndarray, float, float], bool | None] | None = None
    learning_rate: float | None = None
    random_state: int | None = None
    batch_size: int = 256
    sgd_method: str = "adam"  # "adam" or "momentum"
    momentum: float = 0.9
    # newton: Hessian from a subset of rows on tall data (LogisticObjective.hessian_block_stride);
    # False forces the exact Hessian every iteration.
    subsample_hessian: bool = True
    # Non-smooth part (L1 / elastic net / grouped, box bounds) for the cd and
    # prox solvers: a logitfit.model.penalties.L1Penalty; None means smooth only.
    penalty: Any = None


Solver = Callable[[Objective, np.ndarray, SolverOptions], SolverResult]
