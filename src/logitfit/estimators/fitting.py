"""The fit itself: parameters -> objective -> solver -> :class:`~logitfit.model.fitted.FittedModel`.

:class:`~logitfit.LogisticRegression` runs its fits through :func:`fit_blocks`;
:func:`fit_model` is the same fit for arrays without the estimator, so the
command line fits without importing scikit-learn. With ``S = sum_i s_i``::

    J(w, b) = (1/S) sum_i s_i l_i(w, b) + alpha [r ||f * w||_1 + (1 - r)/2 ||f * w||^2]

(``r = 1`` for "l1", 0 for "l2"; f the penalty factors), minimised over the
box ``lower_bounds <= w <= upper_bounds``; the intercept is never penalised
or bounded. The ridge part lives in the objective, the L1 part and the box in
the cd/prox solvers' penalty (:mod:`logitfit.model.penalties`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from logitfit._numerics import issparse
from logitfit.blocks import Blocks, InMemoryBlocks
from logitfit.model.fitted import FitRecord, FittedModel
from logitfit.model.objective import LogisticObjective, pack_coef
from logitfit.model.penalties import L1Penalty, make_penalty, split_alpha
from logitfit.solvers import SOLVERS, SolverOptions, SolverResult, minimize

__all__ = ["PENALTIES", "ParamError", "Solution", "check_params", "fit_blocks", "fit_design", "fit_model",
           "fit_warning", "fitted_attributes",
           "ridge_alpha"]

PENALTIES = (None, "none", "l2", "l1", "elasticnet", "firth")
#: Parameters of a fit and their defaults (``LogisticRegression``'s constructor).
DEFAULTS: dict[str, Any] = {
    "penalty": None, "alpha": 1e-4, "fit_intercept": True, "solver": "auto", "tol": 1e-6,
    "max_iter": None, "class_weight": None, "warm_start": False, "random_state": None,
    "verbose": 0, "learning_rate": None, "batch_size": 256, "sgd_method": "adam",
    "n_threads": None, "dtype": None, "callback": None, "l1_ratio": 1.0, "penalty_factor": None,
    "grouped": False, "lower_bounds": None, "upper_bounds": None, "weight_type": None,
}
_PER_FEATURE = ("penalty_factor", "lower_bounds", "upper_bounds")


class ParamError(ValueError):
    """A constructor parameter out of its range; ``name`` names it."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(message)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def check_params(params: dict[str, Any], n_features: int | None = None) -> None:
    """Raise ``ValueError`` naming the first parameter out of its range.

    With ``n_features``, per-feature arrays (penalty factors, bounds) must have that length.
    """
    p = {**DEFAULTS, **params}
    if p["penalty"] not in PENALTIES:
        raise ParamError("penalty", f"penalty must be None, 'l2', 'l1', 'elasticnet' or 'firth', got {p['penalty']!r}")
    if p["solver"] not in SOLVERS:
        raise ParamError("solver", f"solver must be one of {', '.join(SOLVERS)}; got {p['solver']!r}")
    if not (_number(p["alpha"]) and np.isfinite(p["alpha"]) and p["alpha"] >= 0):
        raise ParamError("alpha", f"alpha must be a finite number >= 0, got {p['alpha']!r}")
    if not (_number(p["l1_ratio"]) and 0.0 <= p["l1_ratio"] <= 1.0) and p["penalty"] == "elasticnet":
        raise ParamError("l1_ratio", f"l1_ratio must be in [0, 1], got {p['l1_ratio']!r}")
    if not (_number(p["tol"]) and p["tol"] > 0):
        raise ParamError("tol", f"tol must be > 0, got {p['tol']!r}")
    if p["max_iter"] is not None and not (_number(p["max_iter"]) and p["max_iter"] >= 0):
        raise ParamError("max_iter", f"max_iter must be >= 0 or None, got {p['max_iter']!r}")
    for name in ("fit_intercept", "grouped", "warm_start"):
        if not isinstance(p[name], (bool, np.bool_)):
            raise ParamError(name, f"{name} must be True or False, got {p[name]!r}")
    from logitfit.model.weighting import WEIGHT_TYPES

    if p["weight_type"] not in WEIGHT_TYPES:
        raise ParamError("weight_type", "weight_type must be None, 'frequency', 'analytic' or "
                         f"'probability', got {p['weight_type']!r}")
    cw = p["class_weight"]
    if not (cw is None or isinstance(cw, dict) or (isinstance(cw, str) and cw == "balanced")):
        raise ParamError("class_weight", f"class_weight must be 'balanced', a dict or None, got {cw!r}")
    for name in _PER_FEATURE:
        v = p[name]
        if v is None or _number(v):
            continue
        a = np.asarray(v)
        if a.ndim != 1 or a.dtype.kind not in "biuf" or (
                n_features is not None and a.shape[0] != n_features):
            want = f"{n_features} numbers" if n_features is not None else "a 1-D array of numbers"
            raise ParamError(name, f"{name} must be a number or {want}, one per feature; got shape "
                             f"{a.shape}")


def ridge_alpha(params: dict[str, Any]) -> float:
    """The smooth (ridge) strength held by the objective; L1 parts go to the solver."""
    penalty, alpha = params.get("penalty"), float(params.get("alpha", DEFAULTS["alpha"]))
    if penalty == "l2":
        return alpha
    if penalty == "elasticnet":
        return split_alpha(alpha, float(params.get("l1_ratio", 1.0)))[1]
    return 0.0


def _l1_penalty(params: dict[str, Any], objective: LogisticObjective) -> L1Penalty | None:
    """The non-smooth part for the cd/prox solvers (None for None/"l2" without bounds)."""
    p = {**DEFAULTS, **params}
    sparse_penalty = p["penalty"] in ("l1", "elasticnet")
    if not (sparse_penalty or p["lower_bounds"] is not None or p["upper_bounds"] is not None):
        return None
    ratio = 1.0 if p["penalty"] == "l1" else float(p["l1_ratio"])
    return make_penalty(
        objective.n_features, objective.n_outputs, p["fit_intercept"],
        l1=split_alpha(float(p["alpha"]), ratio)[0] if sparse_penalty else 0.0,
        penalty_factor=p["penalty_factor"], grouped=bool(p["grouped"]) and sparse_penalty,
        lower_bounds=p["lower_bounds"], upper_bounds=p["upper_bounds"],
    )


@dataclass(frozen=True)
class Solution:
    """A finished fit: the objective it minimised, the solver's result, the penalty, the coefficients."""

    objective: LogisticObjective
    result: SolverResult
    penalty: L1Penalty | None
    coef: np.ndarray
    intercept: np.ndarray
    classes: np.ndarray

    def record(self) -> FitRecord:
        r = self.result
        return FitRecord(n_iter=r.n_iter, converged=r.converged, solver=r.solver,
                         objective=r.fun, history=r.history.as_dict())


def fit_blocks(blocks: Blocks, classes: np.ndarray, params: dict[str, Any],
               warm: tuple[np.ndarray, np.ndarray] | None = None) -> Solution:
    """Minimise J over any row source that follows the Blocks protocol (memory, files, Dask).

    ``warm``: a previous ``(coef, intercept)`` to start from when its shape fits.
    """
    p = {**DEFAULTS, **params}
    objective = LogisticObjective(blocks, len(classes), fit_intercept=p["fit_intercept"],
                                  alpha=ridge_alpha(p), penalty_factor=p["penalty_factor"])
    penalty = _l1_penalty(p, objective)
    solver = p["solver"]
    if solver == "auto" and penalty is not None:
        solver = "cd"
    elif penalty is not None and solver not in ("cd", "prox"):
        raise ValueError(f"penalty={p['penalty']!r} and box bounds need solver 'cd' or 'prox' "
                         f"(or 'auto'), got {solver!r}")
    options = SolverOptions(
        tol=p["tol"], max_iter=p["max_iter"], verbose=p["verbose"], callback=p["callback"],
        learning_rate=p["learning_rate"], random_state=p["random_state"],
        batch_size=p["batch_size"], sgd_method=p["sgd_method"], penalty=penalty)
    x0 = pack_coef(objective, *warm) if warm is not None else None
    x0 = objective.zero() if x0 is None else x0
    if p["penalty"] == "firth":  # bias-reduced ML: its own Newton iteration
        from logitfit.inference.firth import fit_firth

        result = fit_firth(objective, x0, options)
    else:
        # "auto" resolves in minimize: its rule may probe the rows (solvers.registry)
        result = minimize(objective, x0, solver, options, n_samples=blocks.n_samples, sparse=blocks.is_sparse)
    coef, intercept = _coefficients(objective, result.x, penalty)
    return Solution(objective, result, penalty, coef, intercept, np.asarray(classes))


def _coefficients(objective: LogisticObjective, x: np.ndarray, penalty: L1Penalty | None):
    """``(coef, intercept)`` of a solution; softmax rows no penalty reaches are centred."""
    if objective.multinomial:
        # The softmax is unchanged by adding one constant to every class of a row
        # of B; free rows are centred so that every solver reports the same answer.
        K = objective.n_classes
        B = x.reshape(objective.n_dof, K).copy()
        free = objective.l2.reshape(objective.n_dof, K)[:, 0] == 0
        if penalty is not None:  # L1 rows are identified by the penalty: leave them alone
            free &= penalty.lam.reshape(objective.n_dof, K)[:, 0] == 0
            free &= ~np.isfinite(penalty.lower.reshape(objective.n_dof, -1)[:, 0])
            free &= ~np.isfinite(penalty.upper.reshape(objective.n_dof, -1)[:, 0])
        B[free] -= B[free].mean(axis=1, keepdims=True)
        W, b = objective.unpack(B.ravel())
        return np.ascontiguousarray(W.T), np.array(b, dtype=np.float64)
    W, b = objective.unpack(x)
    return np.asarray(W, dtype=np.float64).reshape(1, -1).copy(), np.array([b], dtype=np.float64)


def fit_warning(solution: Solution, params: dict[str, Any], names: Any = None) -> tuple[Warning | None, bool]:
    """(the warning a fit deserves, whether the data are separated); the warning is None when all is well.

    Separation is looked for in unpenalised fits; else non-convergence is reported.
    """
    p = {**DEFAULTS, **params}
    result = solution.result
    penalised = solution.objective.alpha > 0 or (
        p["penalty"] in ("l1", "elasticnet") and float(p["alpha"]) > 0)
    if not penalised and p["penalty"] != "firth":
        from logitfit.inference.separation import separation_warning

        model = FittedModel(solution.coef, solution.intercept, solution.classes, feature_names=names,
                            params={"fit_intercept": bool(p["fit_intercept"])})
        found = separation_warning(model, solution.objective.blocks, result)
        if found is not None:
            return found, True
    if result.converged:
        return None, False
    from logitfit.exceptions import ConvergenceWarning  # built on first use: imports sklearn

    return ConvergenceWarning(
        f"solver {result.solver!r} stopped before convergence: max|grad J| = "
        f"{result.grad_norm:.3g} > tol = {p['tol']:.3g} after {result.n_iter} "
        f"iterations ({result.message}). Try, in this order: standardise the "
        "features; solver='newton' (few features) or 'lbfgs'; add a penalty "
        "(penalty='l2'); raise max_iter; or loosen tol if this precision is enough."), False


def fit_model(X: Any, y: Any, *, sample_weight: Any = None, feature_names: list[str] | None = None,
              encoder: Any = None, **params: Any) -> FittedModel:
    """Fit on a design matrix without scikit-learn; return the :class:`FittedModel`.

    The same as :func:`fit_design` without the objective.
    """
    return fit_design(X, y, sample_weight=sample_weight, feature_names=feature_names,
                      encoder=encoder, **params)[0]


def fit_design(X: Any, y: Any, *, sample_weight: Any = None, feature_names: list[str] | None = None,
               encoder: Any = None, trials: Any = None, columns: dict[str, str] | None = None,
               path: str = "<input>", offset: Any = None, offset_name: str = "offset",
               **params: Any) -> tuple[FittedModel, LogisticObjective]:
    """Fit on a design matrix without scikit-learn; return the model and the objective it minimised.

    The objective keeps the training rows, for inference on the same fit
    (:class:`~logitfit.inference.results.Inference`).

    Parameters
    ----------
    X : ndarray or scipy sparse matrix, shape (n, p)
    y : array of n labels (two or more classes)
    sample_weight : array of n non-negative weights, optional
    feature_names : list of p str, optional (design column names)
    encoder : the encoder that made X, optional (kept with the model)
    trials : array of n whole numbers >= 1, optional
        Grouped binomial data: ``y`` counts the successes of ``trials``
        (:mod:`logitfit.data.grouped`); the classes are 0 and 1.
    columns, path : what errors in ``y``, ``trials`` and ``sample_weight`` name
        (``{"y": ..., "trials": ..., "sample_weight": ...}`` column names; the file)
    offset : array of n finite numbers ((n, K) for K >= 3 classes), optional
        Added to the linear predictor; ``offset_name`` (a column name) names it in
        errors and in the model, whose predictions then need one.
    **params : ``LogisticRegression``'s constructor parameters

    Warnings (separation, non-convergence) are issued as ``warnings.warn``.
    """
    from logitfit.data.offsets import check_offset
    from logitfit.data.validation import (
        apply_class_weight,
        check_finite,
        check_sample_weight,
        encode_labels,
    )

    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"unknown parameters {unknown}; known: {sorted(DEFAULTS)}")
    X = X if issparse(X) else np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows x features), got shape {X.shape}")
    check_params(params, X.shape[1])
    dtype = params.get("dtype")
    if dtype is not None or X.dtype not in (np.float32, np.float64):
        X = X.astype(dtype or np.float64)
    check_finite(X, None if feature_names is None else np.asarray(feature_names, dtype=object))
    if offset is not None:  # checked on the rows as given; grouped rows stack X twice
        n_classes = 2 if trials is not None else len(np.unique(np.asarray(y)))
        offset = check_offset(offset, X.shape[0], n_classes, name=offset_name)
        offset = np.concatenate([offset, offset]) if trials is not None else offset
    grouped, sample_weight = _grouped_rows(X, y, trials, sample_weight, params.get("weight_type"),
                                           columns or {}, path)
    if grouped is not None:
        X, y, sample_weight, grouped = grouped
    classes, y_idx = encode_labels(y)
    if y_idx.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y_idx.shape[0]} entries")
    sw = check_sample_weight(sample_weight, X.shape[0])
    sw = apply_class_weight(params.get("class_weight"), classes, y_idx, sw)
    blocks = InMemoryBlocks(X, y_idx, sw, n_threads=params.get("n_threads"), offset=offset)
    blocks.offset_name = offset_name
    solution = fit_blocks(blocks, classes, params)
    record = solution.record()
    found, separated = fit_warning(solution, params, feature_names)
    if separated:
        record = FitRecord(record.n_iter, False, record.solver, record.objective, record.history)
    if found is not None:
        warnings.warn(found, stacklevel=2)
    fitted = FittedModel(solution.coef, solution.intercept, classes, feature_names=feature_names,
                         encoder=encoder, fit=record, params={**DEFAULTS, **params},
                         names_from_fit=feature_names is not None, grouped=grouped,
                         offset=offset_name if offset is not None else None)
    return fitted, solution.objective


def _grouped_rows(X: Any, y: Any, trials: Any, sample_weight: Any, weight_type: str | None,
                  columns: dict[str, str], path: str) -> tuple[Any, Any]:
    """(None, checked weights), or for grouped data ((X2, y2, w2, GroupedRecord), None)."""
    from logitfit.data.grouped import check_counts, check_weights, expand_grouped
    from logitfit.model.weighting import grouped_record

    w = check_weights(sample_weight, X.shape[0], weight_type, path=path,
                      column=columns.get("sample_weight", "sample_weight"))
    if trials is None:
        return None, w
    s, n = check_counts(y, trials, X.shape[0], successes_column=columns.get("y", "y"),
                        trials_column=columns.get("trials", "trials"), path=path)
    return (*expand_grouped(X, s, n, w), grouped_record(s, n, w, weight_type)), None


def fit_offset(offset: Any, n_samples: int, n_classes: int, encoder: Any = None,
               data: Any = None) -> tuple[np.ndarray | None, str | None]:
    """(checked offsets, their name) of a fit, or (None, None) without any.

    ``offset=`` wins; else a formula encoder's ``offset(...)`` term evaluated on the
    table ``data`` (:meth:`~logitfit.data.formula.FormulaEncoder.offset`).
    """
    from logitfit.data.offsets import check_offset

    name = "offset"
    if offset is None and getattr(encoder, "offset_name", None) is not None and data is not None:
        offset, name = encoder.offset(data), encoder.offset_name
    if offset is None:
        return None, None
    return check_offset(offset, n_samples, n_classes, name=name), name


def predict_offset(model: FittedModel, data: Any, offset: Any) -> Any:
    """The offset of a prediction: ``offset=``, else the formula's ``offset(...)`` term of the table ``data``."""
    enc = model.encoder
    if offset is None and getattr(enc, "offset_name", None) is not None and hasattr(data, "columns"):
        return enc.offset(data)
    return offset


def offset_name(blocks: Blocks) -> str | None:
    """The name a model records for the offsets its training rows carried (None without)."""
    from logitfit.blocks.protocol import has_offset

    return (getattr(blocks, "offset_name", None) or "offset") if has_offset(blocks) else None


def fitted_attributes(model: FittedModel) -> dict[str, Any]:
    """A fitted model under the estimator's attribute names (``coef_``, ``encoder_``, ...)."""
    fit = model.fit
    out: dict[str, Any] = {
        "coef_": model.coef, "intercept_": model.intercept, "classes_": model.classes,
        "n_features_in_": model.n_features, "n_iter_": fit.n_iter, "converged_": fit.converged,
        "history_": dict(fit.history), "encoder_": model.encoder, "covariance_": model.covariance,
        "fit_statistics_": model.statistics, "formula_": model.formula,
        "feature_names_": model.feature_names or [f"x{j}" for j in range(model.n_features)],
        "metadata_": model.metadata, "model_file_": model.source, "grouped_": model.grouped,
        "offset_": model.offset,
    }
    if model.names_from_fit:
        out["feature_names_in_"] = np.asarray(model.feature_names, dtype=object)
    if fit.solver is not None:
        out["solver_"] = fit.solver
    if fit.objective is not None:
        out["objective_"] = fit.objective
    return out
