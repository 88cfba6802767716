"""Regularisation paths: L1 / elastic-net fits over a decreasing grid of alphas, warm started.

For the penalised objective (see :mod:`logitfit.model.penalties`)::

    F_alpha(x) = (1/S) sum_i s_i l_i(x) + alpha sum_j f_j [r |w_j| + (1 - r)/2 w_j^2]

the path starts at ``alpha_max``, the smallest alpha whose solution has every
penalised coefficient at zero. With ``g`` the gradient of the loss at the null
model (intercepts and unpenalised features fitted, penalised coefficients 0),
the KKT conditions give::

    alpha_max = max_j ||g_j|| / (r f_j)      (||.|| = |.| binary, max_k |.| or the
                                              Euclidean norm (grouped) multinomial)

(Friedman, Hastie & Tibshirani 2010, sec. 2.5; for ``r < 1e-3`` glmnet's
convention ``r = 1e-3`` is used to place the grid). The grid is geometric down
to ``alpha_min_ratio * alpha_max``; each fit starts from the previous solution
and its working set from the sequential strong rule (:mod:`logitfit.solvers.cd`).

Deviance ``D = 2 S (mean loss)``; ``deviance explained = 1 - D / D_null``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from logitfit.blocks import Blocks, InMemoryBlocks
from logitfit.model.fitted import FittedModel
from logitfit.model.objective import LogisticObjective
from logitfit.model.penalties import L1Penalty, make_penalty, split_alpha
from logitfit.solvers import SolverOptions
from logitfit.solvers.cd import hessian_source, solve_warm

__all__ = ["PathResult", "PathSpec", "alpha_grid", "fit_path", "regularization_path"]

# glmnet's defaults: a 1e-4 ratio when n > p, else 1e-2 (the saturated end of
# the path is not identifiable when p >= n and costs most of the time).
RATIO_N_GT_P = 1e-4
RATIO_P_GE_N = 1e-2
# glmnet places the grid of a (near-)ridge path as if l1_ratio were 1e-3.
MIN_RATIO_FOR_GRID = 1e-3


@dataclass(frozen=True)
class PathSpec:
    """What defines the penalty along a path (everything but alpha)."""

    l1_ratio: float = 1.0
    fit_intercept: bool = True
    penalty_factor: Any = None
    grouped: bool = False
    lower_bounds: Any = None
    upper_bounds: Any = None
    tol: float = 1e-7
    max_iter: int | None = None


@dataclass(frozen=True)
class PathResult:
    """Fits along the path (alphas decreasing).

    Attributes
    ----------
    alphas : ndarray (n_alphas,)
    coef : ndarray (n_alphas, n_outputs, n_features); n_outputs is 1 (binary) or K
    intercept : ndarray (n_alphas, n_outputs)
    n_nonzero : ndarray (n_alphas,), features with a non-zero coefficient (any class)
    deviance : ndarray (n_alphas,), training deviance ``2 S mean-loss``
    null_deviance : float, deviance of the null model
    deviance_explained : ndarray (n_alphas,), ``1 - deviance / null_deviance``
    n_iter, kkt_violation : ndarray (n_alphas,), per fit
    l1_ratio : float
    classes : ndarray or None
    offset : str or None, the offsets' name when the rows carried offsets (the models
        of the path then predict with ``offset=``)
    """

    alphas: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    n_nonzero: np.ndarray
    deviance: np.ndarray
    null_deviance: float
    deviance_explained: np.ndarray
    n_iter: np.ndarray
    kkt_violation: np.ndarray
    l1_ratio: float
    classes: np.ndarray | None = None
    offset: str | None = None

    def model(self, i: int = -1, feature_names: list[str] | None = None) -> FittedModel:
        """The fit at ``alphas[i]`` as a :class:`~logitfit.model.fitted.FittedModel` (predicts)."""
        K = self.coef.shape[1]
        classes = self.classes if self.classes is not None else np.arange(max(K, 2))
        return FittedModel(self.coef[i], self.intercept[i], classes, feature_names=feature_names,
                           params={"penalty": "elasticnet", "alpha": float(self.alphas[i]),
                                   "l1_ratio": self.l1_ratio}, offset=self.offset)


def _penalty(objective: LogisticObjective, spec: PathSpec, l1: float) -> L1Penalty:
    return make_penalty(
        objective.n_features,
        objective.n_outputs,
        spec.fit_intercept,
        l1=l1,
        penalty_factor=spec.penalty_factor,
        grouped=spec.grouped,
        lower_bounds=spec.lower_bounds,
        upper_bounds=spec.upper_bounds,
    )


def _objective(blocks: Blocks, n_classes: int, spec: PathSpec, alpha: float) -> LogisticObjective:
    ridge = split_alpha(alpha, spec.l1_ratio)[1]
    return LogisticObjective(
        blocks, n_classes, fit_intercept=spec.fit_intercept, alpha=ridge, penalty_factor=spec.penalty_factor
    )


def null_fit(blocks: Blocks, n_classes: int, spec: PathSpec) -> tuple[np.ndarray, np.ndarray, LogisticObjective]:
    """The null model (penalised coefficients frozen at 0): its ``x``, loss gradient, objective."""
    obj = _objective(blocks, n_classes, spec, 0.0)
    frozen = _penalty(obj, spec, 1.0)
    lam = np.where(frozen.lam > 0, np.inf, 0.0)
    pen = replace(frozen, lam=lam)
    res = solve_warm(obj, obj.zero(), SolverOptions(tol=spec.tol, max_iter=spec.max_iter, penalty=pen))
    return res.x, obj.grad(res.x), obj


def alpha_grid(
    blocks: Blocks, n_classes: int, spec: PathSpec, n_alphas: int = 100, alpha_min_ratio: float | None = None
) -> np.ndarray:
    """Geometric grid from ``alpha_max`` (all penalised coefficients zero) down, length n_alphas."""
    x0, g, obj = null_fit(blocks, n_classes, spec)
    K = obj.n_outputs
    p = obj.n_features
    G = g.reshape(-1, K)[:p]
    score = np.linalg.norm(G, axis=1) if spec.grouped else np.abs(G).max(axis=1)
    factor = np.ones(p) if spec.penalty_factor is None else np.asarray(spec.penalty_factor, float)
    on = factor > 0
    if not np.any(on):
        raise ValueError("every penalty factor is 0: there is no path to compute")
    r = max(spec.l1_ratio, MIN_RATIO_FOR_GRID)
    alpha_max = float(np.max(score[on] / (r * factor[on])))
    if alpha_max <= 0:
        alpha_max = 1.0  # the null model is already optimal; any grid is flat
    if alpha_min_ratio is None:
        alpha_min_ratio = RATIO_N_GT_P if blocks.n_samples > p else RATIO_P_GE_N
    if n_alphas == 1:
        return np.array([alpha_max])
    return alpha_max * np.geomspace(1.0, alpha_min_ratio, n_alphas)


def fit_path(
    blocks: Blocks, n_classes: int, alphas: np.ndarray, spec: PathSpec, classes: np.ndarray | None = None
) -> PathResult:
    """Fit every alpha of ``alphas`` (sorted decreasing here) with warm starts on ``blocks``."""
    alphas = np.sort(np.asarray(alphas, dtype=np.float64))[::-1]
    if alphas.size == 0 or np.any(alphas < 0) or not np.all(np.isfinite(alphas)):
        raise ValueError("alphas must be finite, non-negative and not empty")
    x, _, obj0 = null_fit(blocks, n_classes, spec)
    S = blocks.sw_sum
    null_dev = 2.0 * S * obj0.loss(x)
    K, p = obj0.n_outputs, obj0.n_features
    n = alphas.size
    coef = np.zeros((n, K, p))
    intercept = np.zeros((n, K))
    dev = np.zeros(n)
    n_iter = np.zeros(n, dtype=int)
    kkt = np.zeros(n)
    lam_prev = None
    # one Hessian cache (or column copy, sparse X) along the path: weights change little
    source = hessian_source(obj0, spec.grouped)
    carry: dict = {}  # each fit's last loss, gradient and weights: the next fit starts there
    for i, alpha in enumerate(alphas):
        obj = _objective(blocks, n_classes, spec, alpha)
        pen = _penalty(obj, spec, split_alpha(alpha, spec.l1_ratio)[0])
        res = solve_warm(
            obj, x, SolverOptions(tol=spec.tol, max_iter=spec.max_iter, penalty=pen), lam_prev=lam_prev,
            source=source, carry=carry,
        )
        x = res.x
        lam_prev = pen.lam
        B = x.reshape(-1, K)
        coef[i] = B[:p].T
        if spec.fit_intercept:
            intercept[i] = B[p]
        if K > 1:  # softmax intercepts: centred, as the estimator reports them
            intercept[i] -= intercept[i].mean()
        fresh = bool(carry) and np.array_equal(carry["x"], x)  # not after a FISTA hand-off
        dev[i] = 2.0 * S * (carry["loss"] if fresh else obj.loss(x))
        n_iter[i] = res.n_iter
        kkt[i] = res.kkt_violation
    n_nonzero = np.count_nonzero(np.any(coef != 0, axis=1), axis=1)
    explained = 1.0 - dev / null_dev if null_dev > 0 else np.zeros(n)
    return PathResult(
        alphas=alphas,
        coef=coef,
        intercept=intercept,
        n_nonzero=n_nonzero,
        deviance=dev,
        null_deviance=float(null_dev),
        deviance_explained=explained,
        n_iter=n_iter,
        kkt_violation=kkt,
        l1_ratio=spec.l1_ratio,
        classes=classes,
        offset=("offset" if getattr(blocks, "has_offset", False) else None),
    )


def regularization_path(
    X: Any,
    y: Any,
    n_alphas: int = 100,
    alpha_min_ratio: float | None = None,
    l1_ratio: float = 1.0,
    *,
    alphas: Any = None,
    sample_weight: Any = None,
    fit_intercept: bool = True,
    penalty_factor: Any = None,
    grouped: bool = False,
    lower_bounds: Any = None,
    upper_bounds: Any = None,
    tol: float = 1e-7,
    max_iter: int | None = None,
    n_threads: int | None = None,
    offset: Any = None,
) -> PathResult:
    """L1 / elastic-net logistic regression over a grid of alphas, warm started.

    Parameters
    ----------
    X : array-like or sparse (n_samples, n_features); y : labels (2 or more classes)
    n_alphas : int, grid size (ignored when ``alphas`` is given)
    alpha_min_ratio : float, smallest alpha / alpha_max (default 1e-4 if n > p, else 1e-2)
    l1_ratio : float in [0, 1], elastic-net mixing r (1 = lasso)
    alphas : array, optional, an explicit grid (fitted in decreasing order)
    sample_weight, fit_intercept, penalty_factor, grouped, lower_bounds, upper_bounds :
        as in :class:`logitfit.LogisticRegression`
    tol : float, KKT tolerance of each fit
    max_iter : int, proximal Newton iterations per fit
    offset : array of n numbers ((n, K) for K >= 3 classes), optional, known terms of the
        linear predictor (:mod:`logitfit.data.offsets`); the null model and alpha_max include them

    Returns
    -------
    PathResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> from logitfit import regularization_path
    >>> path = regularization_path(X, y, n_alphas=5)
    >>> path.alphas.round(4)
    array([0.2934, 0.0293, 0.0029, 0.0003, 0.    ])
    >>> path.coef.shape
    (5, 1, 2)
    """
    from logitfit.data.validation import validate_fit
    from logitfit.estimators.logistic import LogisticRegression

    if not (0.0 <= l1_ratio <= 1.0):
        raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}")
    from logitfit.data.offsets import check_offset

    design = validate_fit(LogisticRegression(), X, y, sample_weight)
    off = None if offset is None else check_offset(offset, design.y.shape[0], len(design.classes))
    blocks = InMemoryBlocks(design.X, design.y, design.sample_weight, n_threads=n_threads, offset=off)
    spec = PathSpec(l1_ratio, fit_intercept, penalty_factor, grouped, lower_bounds, upper_bounds, tol, max_iter)
    K = len(design.classes)
    if alphas is None:
        alphas = alpha_grid(blocks, K, spec, n_alphas, alpha_min_ratio)
    return fit_path(blocks, K, np.asarray(alphas, dtype=np.float64), spec, design.classes)
