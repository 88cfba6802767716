"""One benchmark cell: fit one library configuration on one workload, in this process.

Every cell runs in a fresh process (see ``__main__``), so imports, BLAS
warm-up and memory of one fit never help or hurt another. The timed region is
the fit only (for W6, S1 and S3 the fit plus standard errors); the objective is then
evaluated with logitfit's own objective at the returned coefficients, so all
libraries are judged on one formula::

    J(w, b) = (1/n) sum_i [log(1 + e^{z_i}) - y_i z_i] + (alpha/2) ||w||^2   (L2)
    J(w, b) = (1/n) sum_i [...] + alpha ||w||_1                              (L1, W5)

Parameter maps: scikit-learn minimises ``C sum_i l_i + (1/2)||w||^2`` (L2) or
``C sum_i l_i + ||w||_1`` (L1), so ``C = 1 / (alpha n)``; glum minimises the
mean of half the binomial deviance (= the mean log loss) plus
``alpha [l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2]``, the same J.
"""

from __future__ import annotations

import resource
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.workloads import Workload

# "tight" asks every library for far more precision than the 1e-9 relative
# objective gap it is judged by; defaults are each library's own.
TIGHT_TOL = 1e-10
TIGHT_MAX_ITER = 10_000


@dataclass(frozen=True)
class Cell:
    library: str
    config: str  # "<solver>/<default|tight>"


def _sk_C(w: Workload) -> float:
    return np.inf if w.spec.alpha == 0 else 1.0 / (w.spec.alpha * w.X.shape[0])


# ----------------------------------------------------------------- fitters
# Each returns (x in logitfit's layout, n_iter); on the ``inference`` workloads
# (W6, S1, S3) they also compute standard errors.


def _x_from(coef: np.ndarray, intercept: np.ndarray, multinomial: bool) -> np.ndarray:
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(intercept, dtype=np.float64))
    if multinomial:
        return np.vstack([coef.T, intercept[None, :]]).ravel()
    return np.r_[coef.ravel(), intercept[:1]]


def fit_logitfit(w: Workload, solver: str, level: str):
    from logitfit import LogisticRegression

    penalty = {"l2": "l2", "l1": "l1", "none": None}[w.spec.penalty]
    kw: dict[str, Any] = {"penalty": penalty, "alpha": w.spec.alpha, "solver": solver}
    if level == "tight":
        kw.update(tol=TIGHT_TOL)
    model = LogisticRegression(**kw).fit(w.X, w.y)
    if w.spec.inference:
        np.asarray(model.bse_)
    return _x_from(model.coef_, model.intercept_, w.spec.n_classes > 2), int(model.n_iter_)


def fit_sklearn(w: Workload, solver: str, level: str):
    from sklearn.linear_model import LogisticRegression

    kw: dict[str, Any] = {"C": _sk_C(w), "solver": solver}
    if w.spec.penalty == "l1":
        kw["l1_ratio"] = 1.0
    if level == "tight":
        kw.update(tol=TIGHT_TOL, max_iter=TIGHT_MAX_ITER)
    model = LogisticRegression(**kw).fit(w.X, w.y)
    if w.spec.inference:
        _sandwich_free_se(w.X, model.coef_.ravel(), float(model.intercept_[0]))
    n_iter = int(np.max(model.n_iter_))
    return _x_from(model.coef_, model.intercept_, w.spec.n_classes > 2), n_iter


def _sandwich_free_se(X: np.ndarray, coef: np.ndarray, b: float) -> np.ndarray:
    """Model-based SEs from the observed information, as a scikit-learn user computes them."""
    z = X @ coef + b
    h = 1.0 / (1.0 + np.exp(-z))
    Xt = np.hstack([X, np.ones((X.shape[0], 1))])
    info = Xt.T @ (Xt * (h * (1 - h))[:, None])
    return np.sqrt(np.diag(np.linalg.inv(info)))


def fit_glum(w: Workload, solver: str, level: str):
    from glum import GeneralizedLinearRegressor

    kw: dict[str, Any] = {
        "family": "binomial",
        "alpha": w.spec.alpha,
        "l1_ratio": 1.0 if w.spec.penalty == "l1" else 0.0,
        "solver": solver,
    }
    if level == "tight":
        kw.update(gradient_tol=TIGHT_TOL, max_iter=TIGHT_MAX_ITER)
    model = GeneralizedLinearRegressor(**kw).fit(w.X, w.y)
    return _x_from(model.coef_, np.array([model.intercept_]), False), int(model.n_iter_)


def fit_statsmodels(w: Workload, solver: str, level: str):
    import statsmodels.api as sm

    Xc = np.hstack([w.X, np.ones((w.X.shape[0], 1))])
    kw: dict[str, Any] = {"method": solver, "disp": 0}
    if level == "tight":
        kw.update(tol=TIGHT_TOL, maxiter=TIGHT_MAX_ITER)
    res = sm.Logit(w.y, Xc).fit(**kw)
    np.asarray(res.bse)
    return np.asarray(res.params, dtype=np.float64), int(res.mle_retvals.get("iterations", 0))


FITTERS: dict[str, Callable] = {
    "logitfit": fit_logitfit,
    "sklearn": fit_sklearn,
    "glum": fit_glum,
    "statsmodels": fit_statsmodels,
}

# The small-data table (fit + standard errors, unpenalised): scikit-learn's
# Newton solver, its default lbfgs (C = inf is its unpenalised fit, accepted by
# both) and statsmodels' Newton.
SMALL_DATA_PEERS = [
    ("sklearn", "newton-cholesky"),
    ("sklearn", "lbfgs"),
    ("statsmodels", "newton"),
]

# Which peer configurations apply to which workload. liblinear is left out: it
# penalises the intercept (a different objective); sag/saga only where the
# lasso needs them. glum has no multinomial family.
PEERS: dict[str, list[tuple[str, str]]] = {
    "W1": [
        ("sklearn", "lbfgs"),
        ("sklearn", "newton-cholesky"),
        ("glum", "irls-ls"),
        ("glum", "lbfgs"),
    ],
    "W2": [
        ("sklearn", "lbfgs"),
        ("sklearn", "newton-cholesky"),
        ("glum", "irls-ls"),
        ("glum", "lbfgs"),
    ],
    "W3": [("sklearn", "lbfgs"), ("sklearn", "newton-cg"), ("glum", "lbfgs")],
    "W4": [("sklearn", "lbfgs"), ("sklearn", "newton-cholesky")],
    "W5": [("sklearn", "saga"), ("glum", "irls-cd")],
    "W6": SMALL_DATA_PEERS,
    "S1": SMALL_DATA_PEERS,
    "S3": SMALL_DATA_PEERS,
}
LEVELS = ("default", "tight")


# logitfit's other exact solvers on the workloads where the ``auto`` rule has a
# close call to make: the same run then shows whether the rule picked the fastest.
LOGITFIT_ALTERNATIVES = {"W1": ["newton-cg", "lbfgs"], "W2": ["lbfgs"], "W4": ["lbfgs"]}


def cells(workload: str, libraries: set[str] | None = None) -> list[Cell]:
    """logitfit (auto, and the alternatives above) and every applicable peer, each at
    default and tight tolerance."""
    out = [Cell("logitfit", f"auto/{level}") for level in LEVELS]
    for solver in LOGITFIT_ALTERNATIVES.get(workload, []):
        out += [Cell("logitfit", f"{solver}/{level}") for level in LEVELS]
    for lib, solver in PEERS[workload]:
        out += [Cell(lib, f"{solver}/{level}") for level in LEVELS]
    return [c for c in out if libraries is None or c.library in libraries]


# --------------------------------------------------------------- objective


def objective(w: Workload, x: np.ndarray) -> float:
    """J at ``x`` (logitfit's layout) with logitfit's objective: one formula for all."""
    from logitfit.blocks import InMemoryBlocks
    from logitfit.model.objective import LogisticObjective

    sw = np.ones(w.X.shape[0])
    l2 = w.spec.alpha if w.spec.penalty == "l2" else 0.0
    obj = LogisticObjective(InMemoryBlocks(w.X, w.y, sw), w.spec.n_classes, alpha=l2)
    value = obj.value(x)
    if w.spec.penalty == "l1":
        value += w.spec.alpha * float(np.abs(x[: w.X.shape[1]]).sum())
    return float(value)


WARMUP_ROWS = 500


def run_cell(w: Workload, cell: Cell) -> dict[str, Any]:
    """Fit once, timed; return time, objective, iterations and peak extra memory.

    A warm-up fit on the first rows runs first, so the timed fit excludes
    imports and first-call set-up (what a fresh process pays once, not per fit).
    """
    solver, level = cell.config.split("/")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings are part of the result
        small = Workload(w.spec, w.X[:WARMUP_ROWS], w.y[:WARMUP_ROWS])
        FITTERS[cell.library](small, solver, "default")
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        c0, t0 = time.process_time(), time.perf_counter()
        x, n_iter = FITTERS[cell.library](w, solver, level)
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "workload": w.name,
        "library": cell.library,
        "config": cell.config,
        "seconds": seconds,
        # CPU time of all threads: on a loaded shared machine wall time grows
        # with the load while CPU time much less so.
        "cpu_seconds": cpu,
        "objective": objective(w, x),
        "n_iter": n_iter,
        # ru_maxrss is in KiB on Linux: the peak above what data generation reached
        "peak_extra_mb": max(0, rss1 - rss0) / 1024.0,
    }


def reference(w: Workload) -> dict[str, Any]:
    """A very tight solve with logitfit (Newton where the Hessian fits, else Newton-CG)."""
    from logitfit import LogisticRegression

    penalty = {"l2": "l2", "l1": "l1", "none": None}[w.spec.penalty]
    n_params = (w.X.shape[1] + 1) * (1 if w.spec.n_classes == 2 else w.spec.n_classes)
    solver = "auto" if penalty == "l1" else ("newton" if n_params <= 2500 else "newton-cg")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(
            penalty=penalty, alpha=w.spec.alpha, solver=solver, tol=1e-12, max_iter=5000
        ).fit(w.X, w.y)
    x = _x_from(model.coef_, model.intercept_, w.spec.n_classes > 2)
    return {
        "workload": w.name,
        "objective": objective(w, x),
        "solver": solver,
        "grad_norm": float(model.solver_result_.grad_norm),
        "seconds": time.perf_counter() - t0,
    }
