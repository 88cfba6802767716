"""Complete and quasi-complete separation, decided by linear programs (scipy's HiGHS).

With ``u_i = (2 y_i - 1) x~_i`` (``x~ = [x, 1]``), the binary maximum-likelihood
estimate fails to exist exactly when a direction ``d != 0`` has ``u_i^T d >= 0``
for every row (Albert & Anderson 1984, Biometrika 71:1; the LP form is Konis
2007, "Linear programming algorithms for detecting separated data in binary
logistic regression models", DPhil thesis, Oxford):

* **complete** separation: some ``d`` has ``u_i^T d > 0`` for all rows.
  LP: maximise ``t`` subject to ``u_i^T d >= t``, ``-1 <= d <= 1``, ``t <= 1``;
* **quasi-complete**: no such ``d``, but ``max sum_i u_i^T d`` subject to
  ``u_i^T d >= 0`` and the box is positive.

The variables named are those that move along the separating directions: for
complete separation the sparsest one (minimise ``||d||_1`` subject to
``u_i^T d >= 1``), for quasi-complete every coordinate that is non-zero
somewhere on the cone (``max d_j`` and ``min d_j``, one LP each). Their sign
is the direction in which the estimate diverges.

For K classes (reference class r, ``d_r = 0``) the rows are
``x~_i^T (d_{y_i} - d_k) >= t`` for every class ``k != y_i``.

Columns are scaled by their largest absolute value before the LPs so that the
box ``[-1, 1]`` and the tolerance mean the same for every column.

After a binary fit, :func:`score_certificate` first tries the converged score
equation as a proof that no separation exists (Stiemke's lemma); the LPs run
only when it fails.

Offsets (``z = X w + b + offset``) do not change whether the estimate exists (a
finite shift of every row's predictor), so the LPs read X and y only; the checks
after a fit (fitted margins, the score certificate) use the offsets the fit used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from logitfit._numerics import issparse, sigmoid
from logitfit.inference.table import INTERCEPT, term_names
from logitfit.model.gram import gram, matvec, rmatvec

if TYPE_CHECKING:
    from logitfit.model.fitted import FittedModel
    from logitfit.solvers.base import SolverResult

__all__ = ["SeparationResult", "check_separation"]

#: LP optimum (max-abs-scaled columns) counted as separation: 10x HiGHS' feasibility tolerance.
LP_TOL = 1e-6
#: A fitted |z| above this (p within 6e-6 of 0 or 1) makes an unpenalised fit suspect.
SUSPECT_Z = 12.0
#: Largest number of parameters for which the score certificate is tried before the LPs.
CERTIFICATE_MAX_PARAMS = 2000
#: Beyond this many matrix entries the automatic check after a fit is skipped.
AUTO_CHECK_MAX_ENTRIES = 20_000_000
#: Beyond this many parameters the automatic check runs no LP: naming the separating columns
#: takes one LP per column (over 5 minutes on 2,000 x 1,000); check_separation still does it.
AUTO_LP_MAX_PARAMS = 100


@dataclass(frozen=True)
class SeparationResult:
    """What :func:`check_separation` found.

    Attributes
    ----------
    kind : {"none", "quasi-complete", "complete"}
    variables : list of str
        Terms whose estimates diverge ("Intercept" included when it does).
    directions : dict
        term -> "+inf" / "-inf" / "+-inf" (binary), or "class:term" -> ... (multinomial).
    """

    kind: str
    variables: list[str] = field(default_factory=list)
    directions: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.kind != "none"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "variables": list(self.variables), "directions": dict(self.directions)}

    def __str__(self) -> str:
        if not self:
            return "no separation: the maximum-likelihood estimate exists"
        dirs = ", ".join(f"{k} -> {v}" for k, v in self.directions.items())
        return f"{self.kind} separation; diverging estimates: {dirs}"


def check_separation(X: Any, y: Any, sample_weight: Any = None, *, fit_intercept: bool = True,
                     feature_names: list[str] | None = None, ref_class: int = 0) -> SeparationResult:
    """Decide whether (X, y) are completely or quasi-completely separated.

    Parameters
    ----------
    X : array-like or DataFrame, shape (n, p)
    y : array-like, shape (n,), two or more classes (any labels; sorted, as ``classes_``)
    sample_weight : array-like, optional; rows of weight 0 are ignored.
    fit_intercept : bool, default=True
    feature_names : list of str, optional (taken from a DataFrame's columns otherwise)
    ref_class : int, default=0, the reference class of the multinomial case.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import check_separation
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> result = check_separation(X, np.array([0, 0, 1, 1]))
    >>> result.kind, result.variables
    ('complete', ['x0'])
    >>> print(check_separation(X, np.array([0, 1, 0, 1])))
    no separation: the maximum-likelihood estimate exists
    """
    if feature_names is None and hasattr(X, "columns"):
        feature_names = [str(c) for c in X.columns]
    X = X.toarray() if issparse(X) else np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {X.shape}")
    classes, yi = np.unique(np.asarray(y), return_inverse=True)
    if len(yi) != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {len(yi)} entries")
    if sample_weight is not None:
        keep = np.asarray(sample_weight, dtype=np.float64) > 0
        X, yi = X[keep], yi[keep]
    names = term_names(feature_names, X.shape[1], fit_intercept)
    if fit_intercept:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    scale = np.abs(X).max(axis=0)
    scale[scale == 0] = 1.0
    X = X / scale
    if len(classes) < 2:
        raise ValueError("y has one class only: nothing to separate")
    if len(classes) == 2:
        U = X * np.where(yi == 1, 1.0, -1.0)[:, None]
        labels = names
    else:
        U, labels = _multinomial_rows(X, yi, len(classes), ref_class, names, classes)
    return _decide(U, labels)


def _multinomial_rows(X, yi, K, ref, names, classes):
    others = [k for k in range(K) if k != ref]
    q = X.shape[1]
    rows = []
    for i in range(X.shape[0]):
        for k in range(K):
            if k == yi[i]:
                continue
            r = np.zeros((q, len(others)))
            if yi[i] != ref:
                r[:, others.index(yi[i])] += X[i]
            if k != ref:
                r[:, others.index(k)] -= X[i]
            rows.append(r.T.ravel())
    labels = [f"{classes[k]}:{t}" for k in others for t in names]
    return np.array(rows), labels


def _lp(c, A_ub, b_ub, bounds):
    from scipy.optimize import linprog  # imported on use: ~0.5 s, and most fits need no LP

    res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status not in (0, 3):
        raise RuntimeError(f"the separation LP failed: {res.message}")
    return res


def _decide(U: np.ndarray, labels: list[str]) -> SeparationResult:
    n, m = U.shape
    # complete: max t, U d >= t, |d| <= 1, t <= 1
    res = _lp(np.r_[np.zeros(m), -1.0], np.hstack([-U, np.ones((n, 1))]), np.zeros(n),
              [(-1, 1)] * m + [(None, 1)])
    if -res.fun > LP_TOL:
        return _complete(U, labels)
    # quasi-complete: max sum U d, U d >= 0, |d| <= 1
    res = _lp(-U.sum(axis=0), -U, np.zeros(n), [(-1, 1)] * m)
    if -res.fun <= LP_TOL:
        return SeparationResult("none")
    directions = {}
    for j in range(m):
        e = np.zeros(m)
        e[j] = 1.0
        hi = -_lp(-e, -U, np.zeros(n), [(-1, 1)] * m).fun
        lo = _lp(e, -U, np.zeros(n), [(-1, 1)] * m).fun
        if hi > LP_TOL or lo < -LP_TOL:
            directions[labels[j]] = "+-inf" if hi > LP_TOL and lo < -LP_TOL else ("+inf" if hi > LP_TOL else "-inf")
    return SeparationResult("quasi-complete", list(directions), directions)


def _max_margin(U: np.ndarray) -> tuple[float, np.ndarray]:
    n, m = U.shape
    res = _lp(np.r_[np.zeros(m), -1.0], np.hstack([-U, np.ones((n, 1))]), np.zeros(n),
              [(-1, 1)] * m + [(None, 1)])
    return -res.fun, res.x[:m]


def _complete(U: np.ndarray, labels: list[str]) -> SeparationResult:
    """Name an irreducible set of separating columns by backward elimination.

    A column is dropped when the others still separate completely; columns with
    the smallest weight in the max-margin direction are tried first, so a
    column that separates on its own (with the intercept) is what remains. The
    intercept is never dropped (a threshold needs it).
    """
    active = list(range(U.shape[1]))
    _, d = _max_margin(U)
    fixed = {k for k in active if labels[k] == INTERCEPT or labels[k].endswith(f":{INTERCEPT}")}
    for j in sorted((k for k in active if k not in fixed), key=lambda k: abs(d[k])):
        trial = [k for k in active if k != j]
        if trial and _max_margin(U[:, trial])[0] > LP_TOL:
            active = trial
    _, d = _max_margin(U[:, active])
    d = d / np.max(np.abs(d))
    keep = [(k, dk) for k, dk in zip(active, d, strict=True) if abs(dk) > LP_TOL]
    return SeparationResult("complete", [labels[k] for k, _ in keep],
                            {labels[k]: "+inf" if dk > 0 else "-inf" for k, dk in keep})


def classified_with_margin(Z: np.ndarray, y: np.ndarray, sw: np.ndarray) -> bool:
    """True when the linear predictor ``Z`` classifies every row of positive weight correctly with margin.

    Then scaling the coefficients up lowers the loss without end, so no finite
    maximum-likelihood estimate exists (complete separation). ``Z`` has shape
    (n,) for two classes (``y`` in {0, 1}), (n, K) otherwise (``y`` class indices).
    """
    keep = sw > 0
    if Z.ndim == 1:
        sign = np.where(y[keep] > 0.5, 1.0, -1.0)
        return bool(np.all(sign * Z[keep] > 0))
    Zk = Z[keep]
    yk = np.asarray(y[keep], dtype=np.intp)
    rows = np.arange(len(yk))
    true = Zk[rows, yk].copy()
    Zk[rows, yk] = -np.inf
    return bool(np.all(true > Zk.max(axis=1)))


def _score_sums(block: Any, w: np.ndarray, b: float, fit_intercept: bool) -> tuple:
    """One block's ``X~^T Lam X~`` (upper triangle), score ``X~^T s (y - p)`` and rounded rows."""
    z = matvec(block.X, w) + b
    if block.offset is not None:  # the fitted probabilities include the rows' offsets
        z += block.offset
    resid = block.y - sigmoid(z)
    lam = block.sw * np.abs(resid)
    score = rmatvec(block.X, block.sw * resid)
    if fit_intercept:
        score = np.append(score, np.sum(block.sw * resid))
    rounded = np.count_nonzero((block.sw > 0) & (lam == 0))
    return gram(block.X, lam, fit_intercept), score, rounded


def _largest_ratio(block: Any, v: np.ndarray, fit_intercept: bool) -> tuple:
    """``max |x~_i^T v|`` over the block's rows of positive weight."""
    p = block.X.shape[1]
    t = matvec(block.X, v[:p]) + (v[p] if fit_intercept else 0.0)
    return (float(np.max(np.abs(t[block.sw > 0]), initial=0.0)),)


def score_certificate(blocks: Any, w: np.ndarray, b: float, fit_intercept: bool) -> bool:
    """True when the binary fit ``(w, b)``'s score equation proves that no separation exists.

    With ``u_i = (2 y_i - 1) x~_i`` and ``lam_i = s_i |y_i - p_i| > 0`` on the rows
    of positive weight, the score is ``g = sum_i lam_i u_i``. The correction
    ``delta = -Lam U (U^T Lam U)^+ g`` gives ``sum_i (lam_i + delta_i) u_i = 0`` with
    ``|delta_i| / lam_i = |x~_i^T v|``, ``v = (X~^T Lam X~)^+ g``. When that ratio
    stays below 1/2 every weight ``lam_i + delta_i`` is positive, and by Stiemke's
    lemma no ``d`` has ``u_i^T d >= 0`` for all rows with one inequality strict:
    neither complete nor quasi-complete separation (no linear program needed).
    Two passes over the blocks; ``blocks`` holds the binary training rows.
    """
    if blocks.n_features + int(fit_intercept) > CERTIFICATE_MAX_PARAMS:
        return False
    H, g, rounded = blocks.map_reduce(_score_sums, w, b, fit_intercept)
    if rounded:
        return False  # a fitted probability rounded to 0 or 1: let the LPs decide
    H = np.triu(H) + np.triu(H, 1).T  # gram may fill only the upper triangle
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(g))):
        return False  # overflowing values: let the LPs decide
    try:
        v = np.linalg.solve(H, g)
    except np.linalg.LinAlgError:  # collinear columns: no certificate from this system
        return False
    if not np.all(np.isfinite(v)):
        return False
    return max(r for (r,) in blocks.map_blocks(_largest_ratio, v, fit_intercept)) < 0.5


def separation_warning(model: FittedModel, blocks: Any, result: SolverResult) -> Warning | None:
    """A SeparationWarning for an unpenalised fit whose data are separated, else None.

    ``model`` predicts with the fitted coefficients; ``blocks`` holds the
    training rows (``X``, ``y``, ``sw`` when they are in memory). The LPs run
    only when the fit looks suspect (not converged, the fitted predictor
    classifies every row with margin, or some ``|z| > SUSPECT_Z``) and the
    rows are not too many (``AUTO_CHECK_MAX_ENTRIES``) nor the parameters
    (``AUTO_LP_MAX_PARAMS``); past either, a fit that classifies every row with
    margin gets the generic warning without LPs.
    """
    X = getattr(blocks, "X", None)
    if X is None:
        return None  # streamed or Dask rows: no second pass for this check
    Z = model.decision_function(X, getattr(blocks, "offset", None))
    separates = classified_with_margin(Z, blocks.y, blocks.sw)
    suspect = separates or not result.converged or float(np.max(np.abs(Z), initial=0.0)) > SUSPECT_Z
    if not suspect:
        return None
    too_large = (X.shape[0] * (X.shape[1] + 1) > AUTO_CHECK_MAX_ENTRIES
                 or X.shape[1] + 1 > AUTO_LP_MAX_PARAMS)
    if not separates and (too_large or (Z.ndim == 1 and score_certificate(
            blocks, model.coef[0], float(model.intercept[0]), model.fit_intercept))):
        return None
    from logitfit.exceptions import SeparationWarning  # built on first use: imports scikit-learn

    if too_large:
        return _generic(SeparationWarning)
    found = check_separation(X, blocks.y, blocks.sw, fit_intercept=model.fit_intercept,
                             feature_names=model.feature_names)
    if not found:
        return None
    return SeparationWarning(
        f"{found}. The maximum-likelihood estimate does not exist: the coefficients returned "
        "are finite only because the solver stopped, and their standard errors are meaningless. "
        "Use penalty='firth' (finite, bias-reduced estimates with valid intervals), add an L2 "
        "penalty, or drop/merge the variables named.",
        found.as_dict(),
    )


def _generic(cls):
    return cls(
        "the classes are completely separated by a linear function of the features, so the "
        "unpenalised maximum-likelihood estimate does not exist (coefficients grow without bound "
        "as the loss falls to 0). Use penalty='firth' or penalty='l2' for a finite fit; "
        "logitfit.check_separation(X, y) names the separating columns.",
        {"kind": "complete"},
    )
