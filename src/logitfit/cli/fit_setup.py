"""What every ``logitfit fit`` shares, in memory, streamed or on Dask: options, result, the run.

:mod:`logitfit.cli.fitting` (in memory) and :mod:`logitfit.cli.scale`
(streaming, Dask) both build on this module; it imports neither.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class FitOptions:
    """The options of ``logitfit fit``."""

    data: str
    target: str | None = None
    features: list[str] | None = None
    formula: str | None = None
    categorical: list[str] = field(default_factory=list)
    penalty: str | None = None
    alpha: float = 1e-4
    solver: str = "auto"
    tol: float = 1e-6
    max_iter: int | None = None
    class_weight: str | None = None
    weight_col: str | None = None
    holdout: float = 0.0
    seed: int = 0
    fmt: str | None = None
    scheduler: str | None = None
    memory_limit: str | None = None
    max_classes: int = 1000
    weight_type: str | None = None  # --weight-type: what --weight-col's weights mean
    trials_col: str | None = None  # --trials COLUMN: grouped binomial rows, target = successes
    offset_col: str | None = None  # --offset COLUMN: known terms of the linear predictor


@dataclass
class FitResult:
    """A fitted model with what the command prints and saves."""

    fitted: Any  # logitfit.model.fitted.FittedModel, with its covariance when computed
    inference: Any  # logitfit.inference.results.Inference of the fit, or None
    options: FitOptions
    n_train: int
    n_holdout: int
    seconds: float
    holdout_metrics: dict[str, Any] | None
    warnings: list[str]
    fmt: str
    fitted_by: str = "memory"  # or "stream" (from disk, bounded memory) or "dask"

    @property
    def encoder(self) -> Any:
        return self.fitted.encoder

    @property
    def covariance(self) -> np.ndarray | None:
        return self.fitted.covariance


def fit_params(opts: FitOptions, callback: Any = None) -> dict[str, Any]:
    """The estimator parameters ``opts`` describe."""
    penalty = None if opts.penalty in (None, "none", "None") else opts.penalty
    return dict(penalty=penalty, alpha=opts.alpha, solver=opts.solver, tol=opts.tol,
                max_iter=opts.max_iter, class_weight=opts.class_weight, callback=callback,
                weight_type=opts.weight_type)


def recording_warnings(fit: Any) -> tuple[Any, float, list[str]]:
    """Run ``fit()``; return its value, its seconds and logitfit's warnings (also printed)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = fit()
    seconds = time.perf_counter() - t0
    msgs = [str(w.message) for w in caught if issubclass(w.category, Warning)
            and "logitfit" in type(w.message).__module__]
    for m in msgs:
        print(f"logitfit: warning: {' '.join(m.split())}", file=sys.stderr)
    return value, seconds, msgs


def with_inference(fitted: Any, objective: Any) -> tuple[Any, Any]:
    """(the model with its nonrobust covariance and statistics, its Inference), when they exist.

    Binary: the covariance of ``[w_1..w_p, b]``; multinomial (K classes): of the
    contrasts with the first class ``B_k - B_0``, k = 1..K-1 (the softmax
    coefficients themselves are identified only up to a common shift).
    """
    from logitfit.inference.results import Inference

    if fitted.params.get("penalty") in ("l1", "elasticnet"):
        return fitted, None
    inference = Inference(fitted, objective, ref_class=0)
    covariance, statistics = inference.record()
    if covariance is None:
        return fitted, None
    return fitted.replace(covariance=covariance, statistics=statistics), inference
