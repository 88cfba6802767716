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


@dataclass
class FitResult:
    """A fitted model with what the command prints and saves."""

    model: Any
    encoder: Any
    options: FitOptions
    n_train: int
    n_holdout: int
    seconds: float
    holdout_metrics: dict[str, Any] | None
    covariance: np.ndarray | None
    warnings: list[str]
    fmt: str
    fitted_by: str = "memory"  # or "stream" (from disk, bounded memory) or "dask"


def new_model(opts: FitOptions, callback: Any = None) -> Any:
    """The unfitted estimator ``opts`` describe."""
    from logitfit.estimators.logistic import LogisticRegression

    penalty = None if opts.penalty in (None, "none", "None") else opts.penalty
    return LogisticRegression(
        penalty=penalty, alpha=opts.alpha, solver=opts.solver, tol=opts.tol,
        max_iter=opts.max_iter, class_weight=opts.class_weight, callback=callback,
    )


def fit_recording_warnings(model: Any, fit: Any) -> tuple[float, list[str]]:
    """Run ``fit()``; return its seconds and logitfit's warnings (also printed to stderr)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    seconds = time.perf_counter() - t0
    model.callback = None
    msgs = [str(w.message) for w in caught if issubclass(w.category, Warning)
            and "logitfit" in type(w.message).__module__]
    for m in msgs:
        print(f"logitfit: warning: {' '.join(m.split())}", file=sys.stderr)
    return seconds, msgs


def model_covariance(model: Any) -> np.ndarray | None:
    """The (nonrobust) parameter covariance from :mod:`logitfit.inference.covariance`, or None.

    Binary: of ``[w_1..w_p, b]``, the model file's coefficients. Multinomial
    (K classes): of the contrasts with the first class, ``B_k - B_0`` for
    k = 1..K-1, each ``[w_1..w_p, b]`` (the softmax coefficients themselves
    are identified only up to a common shift).
    """
    if getattr(model, "penalty", None) == "l1":
        return None
    try:
        from logitfit.inference.results import Inference

        cov = np.asarray(Inference(model, ref_class=0).cov_params(), dtype=np.float64)
    except Exception:  # noqa: BLE001 - inference is optional (e.g. singular information)
        return None
    K = np.atleast_2d(model.coef_).shape[0]
    q = (model.coef_.shape[1] + int(model.fit_intercept)) * (1 if K == 1 else K - 1)
    if cov.shape != (q, q) or not np.all(np.isfinite(cov)):
        return None
    return cov
