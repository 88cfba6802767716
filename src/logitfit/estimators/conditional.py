"""``ConditionalLogisticRegression``: matched case-control (conditional) logistic regression.

The model (R's ``survival::clogit``, statsmodels' ``ConditionalLogit``): within
each stratum (a matched set) the probability that the observed cases are the
cases, given how many there are; the likelihood, its exact recursion and the
Breslow / Efron approximations are in :mod:`logitfit.model.conditional`. There
is no intercept (it cancels within a stratum); a covariate constant within
every stratum cannot be estimated either.

The fit runs the package's Newton solver on that objective (exact Hessian),
in memory, streamed from files sorted or grouped by stratum
(``fit(logitfit.scan(...), groups="column")``) or on Dask
(``fit(dask_frame, y="column", groups="column")``); see
:mod:`logitfit.estimators.conditional_scale`. The inference (covariances,
tests) is computed once at the end of the fit and kept in the model, so a
model restored with :meth:`ConditionalLogisticRegression.from_state` summarises
and predicts without the data.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from logitfit.exceptions import ConvergenceWarning
from logitfit.inference.distributions import chi2_sf
from logitfit.inference.table import coefficient_table
from logitfit.model.conditional import (
    METHODS,
    ConditionalObjective,
    InMemoryStrata,
    StrataInfo,
    strata_from_rows,
)
from logitfit.solvers.base import SolverOptions
from logitfit.solvers.registry import minimize

__all__ = ["ConditionalLogisticRegression", "ConditionalSummary"]

STATE_KIND = "conditional_logit"
STATE_VERSION = 1
_STATISTICS = ("llf", "llnull", "lr", "wald", "score")


class ConditionalLogisticRegression(BaseEstimator):
    """Conditional logistic regression for matched (stratified) case-control data.

    For a stratum with rows ``x_j``, scores ``eta_j = x_j^T beta`` and ``m``
    cases ``D``, the exact conditional likelihood is::

        L_s(beta) = exp(sum_{j in D} eta_j) / sum_{|S| = m} exp(sum_{j in S} eta_j)

    (the sum over every set S of m rows of the stratum), computed by the
    recursion of Gail, Lubin & Rubinstein (1981) in O(n m) per stratum.
    ``method="breslow"`` / ``"efron"`` use the tied-times Cox approximations.
    The fit maximises ``sum_s w_s log L_s`` (minus ``alpha/2 W ||beta||^2``
    with ``alpha > 0``; ``W = sum_s w_s``) by Newton's method with the exact Hessian.

    Parameters
    ----------
    method : {"exact", "efron", "breslow"}, default="exact"
    alpha : float, default=0.0
        L2 penalty on the mean log-likelihood (0: maximum likelihood).
    tol : float, default=1e-8
        Stop when the largest gradient entry of the mean objective is at most ``tol``.
    max_iter : int or None
        Newton iterations (None: the solver's default, 100).

    Attributes
    ----------
    coef_ : ndarray (p,), the log odds ratios.
    feature_names_in_ : ndarray of str, the feature names (``x0``, ``x1``... for arrays).
    n_obs_, n_strata_, n_dropped_strata_ : rows and strata used; strata dropped (no case or no control).
    llf_, llnull_ : log-likelihood at ``coef_`` and at ``beta = 0``.
    aic_ : ``-2 llf + 2 p``.
    n_iter_, converged_ : the solver's.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> pairs = np.repeat(np.arange(100), 2)               # 100 matched pairs
    >>> X = rng.normal(size=(200, 2))
    >>> eta = X @ [1.0, -0.5]
    >>> first = eta[0::2] - eta[1::2] + rng.logistic(size=100) > 0
    >>> case = np.zeros(200, dtype=int)
    >>> case[0::2], case[1::2] = first, ~first
    >>> from logitfit import ConditionalLogisticRegression
    >>> model = ConditionalLogisticRegression().fit(X, case, groups=pairs)
    >>> model.coef_.round(3)
    array([ 1.175, -0.687])
    >>> model.summary().std_err.round(3)
    array([0.272, 0.218])
    >>> model.predict_proba(X[:4], groups=[0, 0, 1, 1]).round(3)
    array([0.391, 0.609, 0.147, 0.853])
    """

    def __init__(self, method: str = "exact", alpha: float = 0.0, tol: float = 1e-8,
                 max_iter: int | None = None) -> None:
        self.method = method
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------------ fit

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if not (isinstance(self.alpha, (int, float)) and math.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be a finite number >= 0, got {self.alpha!r}")
        if not (isinstance(self.tol, (int, float)) and self.tol > 0):
            raise ValueError(f"tol must be positive, got {self.tol!r}")

    def fit(self, X: Any, y: Any = None, groups: Any = None, sample_weight: Any = None) -> ConditionalLogisticRegression:
        """Fit on rows ``X`` with case indicator ``y`` (0/1 or bool) and stratum labels ``groups``.

        ``X`` may be an array, a DataFrame (then ``y`` and ``groups`` may name
        its columns, which are then not features), a :func:`logitfit.scan` of
        files grouped by stratum (``groups`` names the column; streamed), or a
        Dask DataFrame (``y`` and ``groups`` name columns; strata must not
        cross partitions). ``sample_weight`` is one weight per row, constant
        within each stratum, weighting the stratum's log-likelihood (a
        column name for files and Dask frames).

        Strata with no case or no control contribute nothing: they are dropped
        with a warning that says how many.
        """
        self._check_params()
        self._encoder = None
        from logitfit.estimators import conditional_scale as scale

        if scale.is_scan(X) or scale.is_dask_frame(X):
            source, info, names = (scale.stream_source if scale.is_scan(X) else scale.dask_source)(
                X, y, groups, sample_weight)
            return self._fit_source(source, info, names)
        Xa, case, labels, sw, names = _validate_rows(X, y, groups, sample_weight)
        block, info = strata_from_rows(Xa, case, labels, sw)
        return self._fit_source(InMemoryStrata([block]), info, names)

    @classmethod
    def from_formula(cls, formula: str, data: Any, sample_weight: Any = None, **params: Any) -> ConditionalLogisticRegression:
        """Fit ``"case ~ x1 + x2 + strata(pair)"`` on a DataFrame; ``strata(column)`` names the strata.

        The other terms are encoded as in :meth:`LogisticRegression.from_formula`
        (categorical terms treatment coded against their first level; the
        intercept, if any, is dropped: it cancels within strata). Without a
        ``strata()`` term pass ``groups=`` through ``params``.
        """
        from logitfit.data.formula import FormulaEncoder
        from logitfit.data.formula_reader import split_strata

        if "~" not in formula:
            raise ValueError(f"a model formula needs '~' (case ~ terms + strata(column)); got {formula!r}")
        lhs, rhs = (s.strip() for s in formula.split("~", 1))
        rhs, strata = split_strata(rhs)
        groups = params.pop("groups", None)
        if strata is None and groups is None:
            raise ValueError("say which column holds the strata: a strata(column) term or groups=")
        if strata is not None:
            if strata not in data.columns:
                raise ValueError(f"the strata column {strata!r} is not a column of the data")
            groups = data[strata].to_numpy()
        encoder, X, y = FormulaEncoder.from_formula(f"{lhs} ~ {rhs}", data)
        model = cls(**params)
        model.fit(X, y, groups=groups, sample_weight=sample_weight)
        model._encoder, model.strata_column_ = encoder, strata
        model.feature_names_in_ = np.array(encoder.feature_names, dtype=object)
        return model

    def _fit_source(self, source: Any, info: StrataInfo, names: list[str]) -> ConditionalLogisticRegression:
        if info.n_dropped:
            warnings.warn(f"{info.n_dropped} strata have no case or no control and contribute nothing; "
                          "they were dropped", UserWarning, stacklevel=3)
        if info.n_strata == 0:
            raise ValueError("no stratum has both a case and a control: nothing to fit")
        p = len(names)
        if p == 0:
            raise ValueError("the model has no features to fit")
        obj = ConditionalObjective(source, p, weight_sum=info.weight_sum, method=self.method,
                                   alpha=float(self.alpha))
        result = minimize(obj, np.zeros(p), "newton", SolverOptions(tol=self.tol, max_iter=self.max_iter))
        if not result.converged:
            warnings.warn(f"conditional logit did not converge: {result.message} (max |grad| "
                          f"{result.grad_norm:.3g}); a covariate may separate cases from controls "
                          "within strata", ConvergenceWarning, stacklevel=3)
        self.coef_ = np.asarray(result.x, dtype=np.float64)
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_iter_, self.converged_ = int(result.n_iter), bool(result.converged)
        self.n_obs_, self.n_strata_, self.n_dropped_strata_ = info.n_rows, info.n_strata, info.n_dropped
        self.weight_sum_ = info.weight_sum
        self.strata_column_ = getattr(self, "strata_column_", None)
        self._stats = _inference(obj, self.coef_)
        return self

    # ------------------------------------------------------------ predict

    def _design(self, X: Any) -> np.ndarray:
        self._check_fitted()
        if self._encoder is not None:
            X = self._encoder.transform(X)
        elif hasattr(X, "columns") and not isinstance(X, np.ndarray):
            names = [str(c) for c in self.feature_names_in_]
            missing = [c for c in names if c not in [str(k) for k in X.columns]]
            if missing:
                raise ValueError(f"X lacks the model's feature columns {missing}")
            X = X[names]
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.coef_.size:
            raise ValueError(f"X must have {self.coef_.size} feature columns, got shape {X.shape}")
        if not np.isfinite(X).all():
            i, j = (int(k[0]) for k in np.nonzero(~np.isfinite(X)))
            raise ValueError(f"X has a missing or infinite value at row {i}, column {j}")
        return X

    def decision_function(self, X: Any) -> np.ndarray:
        """The linear scores ``eta = X beta`` (log odds ratios against a row with x = 0)."""
        return self._design(X) @ self.coef_

    def predict_proba(self, X: Any, groups: Any) -> np.ndarray:
        """Within-stratum probability that each row is the case: ``exp(eta_j) / sum_{i in s} exp(eta_i)``.

        That is the conditional probability of being the case given that its
        stratum holds exactly one case (a softmax over the stratum; for 1:M
        matched sets the model's own prediction). ``groups`` are the stratum
        labels of the rows (or the column name, for a DataFrame). Returns an
        array of shape (n,) summing to 1 within each stratum.
        """
        if isinstance(groups, str) and hasattr(X, "columns"):
            groups = np.asarray(X[groups])
        eta = self.decision_function(X)
        labels = _labels(groups, eta.size)
        from logitfit.model.conditional import group_strata

        order, starts, _ = group_strata(labels)
        e = eta[order]
        sizes = np.diff(starts)
        top = np.maximum.reduceat(e, starts[:-1])
        ex = np.exp(e - np.repeat(top, sizes))
        prob = np.empty_like(eta)
        prob[order] = ex / np.repeat(np.add.reduceat(ex, starts[:-1]), sizes)
        return prob

    # ---------------------------------------------------------- inference

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ValueError("this ConditionalLogisticRegression is not fitted yet: call fit first")

    def cov_params(self, cov_type: str = "nonrobust") -> np.ndarray:
        """Covariance of ``coef_``: inverse information (``"nonrobust"``) or the sandwich
        ``I^-1 (sum_s w_s^2 u_s u_s^T) I^-1`` over strata (``"cluster"``, no small-sample factor)."""
        self._check_fitted()
        key = {"nonrobust": "cov", "cluster": "cov_cluster"}.get(cov_type)
        if key is None:
            raise ValueError(f"cov_type must be 'nonrobust' or 'cluster', got {cov_type!r}")
        return np.array(self._stats[key])

    @property
    def bse_(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov_params()), 0, None))

    @property
    def llf_(self) -> float:
        self._check_fitted()
        return float(self._stats["llf"])

    @property
    def llnull_(self) -> float:
        self._check_fitted()
        return float(self._stats["llnull"])

    @property
    def aic_(self) -> float:
        return -2.0 * self.llf_ + 2.0 * self.coef_.size

    def tests(self) -> dict[str, tuple[float, int, float]]:
        """The LR, Wald and score tests of ``beta = 0``: name -> (statistic, df, p-value)."""
        self._check_fitted()
        df = self.coef_.size
        return {name: (float(self._stats[name]), df, float(chi2_sf(self._stats[name], df)))
                for name in ("lr", "wald", "score")}

    def summary(self, cov_type: str = "nonrobust", alpha: float = 0.05) -> ConditionalSummary:
        """The coefficient table (z tests, Wald intervals, odds ratios) and the fit's statistics."""
        return ConditionalSummary(self, cov_type, alpha)

    # --------------------------------------------------------- model state

    def to_state(self) -> dict[str, Any]:
        """The fitted model as plain JSON-able data (see :meth:`from_state`)."""
        self._check_fitted()
        return {
            "kind": STATE_KIND,
            "version": STATE_VERSION,
            "params": {"method": self.method, "alpha": float(self.alpha), "tol": float(self.tol),
                       "max_iter": self.max_iter},
            "feature_names": [str(n) for n in self.feature_names_in_],
            "coef": [float(v) for v in self.coef_],
            "cov": np.asarray(self._stats["cov"], float).tolist(),
            "cov_cluster": np.asarray(self._stats["cov_cluster"], float).tolist(),
            "statistics": {k: float(self._stats[k]) for k in _STATISTICS},
            "counts": {"n_obs": self.n_obs_, "n_strata": self.n_strata_,
                       "n_dropped_strata": self.n_dropped_strata_, "weight_sum": float(self.weight_sum_),
                       "n_iter": self.n_iter_, "converged": self.converged_},
            "strata_column": self.strata_column_,
            "encoding": None if self._encoder is None else self._encoder.to_dict(),
        }

    @classmethod
    def from_state(cls, state: Any) -> ConditionalLogisticRegression:
        """Rebuild a fitted model from :meth:`to_state`; every field is checked (``ValueError``).

        The state may come from an untrusted file: nothing in it is evaluated
        (a stored formula passes :mod:`logitfit.data.formula_reader`).
        """
        if not isinstance(state, dict) or state.get("kind") != STATE_KIND:
            raise ValueError(f"not a conditional logit state (kind must be {STATE_KIND!r})")
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported conditional logit state version {state.get('version')!r}")
        params = _field(state, "params", dict)
        model = cls(method=params.get("method"), alpha=params.get("alpha"), tol=params.get("tol"),
                    max_iter=params.get("max_iter"))
        model._check_params()
        if not (model.max_iter is None or (isinstance(model.max_iter, int) and model.max_iter > 0)):
            raise ValueError("params.max_iter must be a positive integer or null")
        names = _field(state, "feature_names", list)
        if not names or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise ValueError("feature_names must be a non-empty list of distinct strings")
        p = len(names)
        coef = _numbers(state.get("coef"), (p,), "coef")
        stats = {"cov": _numbers(state.get("cov"), (p, p), "cov"),
                 "cov_cluster": _numbers(state.get("cov_cluster"), (p, p), "cov_cluster")}
        given = _field(state, "statistics", dict)
        for k in _STATISTICS:
            v = given.get(k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"statistics.{k} must be a finite number")
            stats[k] = float(v)
        counts = _field(state, "counts", dict)
        for k in ("n_obs", "n_strata", "n_dropped_strata", "n_iter"):
            if isinstance(counts.get(k), bool) or not isinstance(counts.get(k), int) or counts[k] < 0:
                raise ValueError(f"counts.{k} must be a non-negative integer")
        ws = counts.get("weight_sum")
        if isinstance(ws, bool) or not isinstance(ws, (int, float)) or not (math.isfinite(ws) and ws > 0):
            raise ValueError("counts.weight_sum must be a positive number")
        if not isinstance(counts.get("converged"), bool):
            raise ValueError("counts.converged must be true or false")
        strata = state.get("strata_column")
        if not isinstance(strata, (str, type(None))):
            raise ValueError("strata_column must be a string or null")
        encoder = None
        if state.get("encoding") is not None:
            from logitfit.data.formula import FormulaEncoder

            encoder = FormulaEncoder.from_dict(state["encoding"])
            if list(encoder.feature_names) != names:
                raise ValueError("the stored formula's columns differ from feature_names")
        model.coef_, model._stats, model._encoder = coef, stats, encoder
        model.feature_names_in_ = np.array(names, dtype=object)
        model.n_obs_, model.n_strata_ = counts["n_obs"], counts["n_strata"]
        model.n_dropped_strata_, model.n_iter_ = counts["n_dropped_strata"], counts["n_iter"]
        model.weight_sum_, model.converged_, model.strata_column_ = float(ws), counts["converged"], strata
        return model

    def __repr__(self) -> str:
        return f"ConditionalLogisticRegression(method={self.method!r}, alpha={self.alpha!r})"


class ConditionalSummary:
    """Coefficient table and fit statistics of a :class:`ConditionalLogisticRegression`.

    Attributes: ``names``, ``coef``, ``std_err``, ``z``, ``p_value``,
    ``ci_lower``, ``ci_upper`` (arrays in feature order), ``tests`` (LR, Wald,
    score against beta = 0) and ``info`` (label -> text).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(300, 1))
    >>> case = np.tile([1, 0, 0], 100)
    >>> from logitfit import ConditionalLogisticRegression
    >>> summary = ConditionalLogisticRegression().fit(X, case, groups=np.repeat(np.arange(100), 3)).summary()
    >>> summary.names, summary.info["No. Strata"]
    (['x0'], '100')
    """

    def __init__(self, model: ConditionalLogisticRegression, cov_type: str = "nonrobust", alpha: float = 0.05) -> None:
        self.names = [str(n) for n in model.feature_names_in_]
        se = np.sqrt(np.clip(np.diag(model.cov_params(cov_type)), 0, None))
        rows = coefficient_table(model.coef_[None, :], se[None, :], self.names, ["case"], alpha=alpha)
        self.rows = rows
        self.coef = model.coef_.copy()
        self.std_err, self.z, self.p_value, self.ci_lower, self.ci_upper = (
            np.array([r[c] for r in rows]) for c in ("std_err", "z", "p_value", "ci_lower", "ci_upper"))
        self.cov_type, self.alpha = cov_type, alpha
        self.tests = model.tests()
        self.info = {
            "Model": f"conditional logit ({model.method})",
            "No. Observations": str(model.n_obs_),
            "No. Strata": str(model.n_strata_),
            "Dropped strata": str(model.n_dropped_strata_),
            "Log-Likelihood": f"{model.llf_:.6g}",
            "LL-Null": f"{model.llnull_:.6g}",
            "AIC": f"{model.aic_:.6g}",
            "Covariance": cov_type,
            "Converged": str(model.converged_),
        }

    def to_frame(self) -> Any:
        """The coefficient table as a pandas DataFrame indexed by term."""
        import pandas as pd

        return pd.DataFrame({"coef": self.coef, "std_err": self.std_err, "z": self.z, "p_value": self.p_value,
                             "ci_lower": self.ci_lower, "ci_upper": self.ci_upper,
                             "odds_ratio": np.exp(self.coef)}, index=self.names)

    def __str__(self) -> str:
        lines = [f"{k}: {v}" for k, v in self.info.items()]
        for name, (stat, df, pv) in self.tests.items():
            label = {"lr": "Likelihood ratio", "wald": "Wald", "score": "Score"}[name]
            lines.append(f"{label} test: chi2({df}) = {stat:.6g}, p = {pv:.4g}")
        width = max(len(n) for n in self.names)
        level = int(round(100 * (1 - self.alpha)))
        lines.append(f"{'':{width}} {'coef':>10} {'std err':>10} {'z':>8} {'P>|z|':>8} "
                     f"{'[' + str(level) + '% conf.':>11} {'int.]':>9} {'exp(coef)':>10}")
        for j, n in enumerate(self.names):
            lines.append(f"{n:{width}} {self.coef[j]:10.4f} {self.std_err[j]:10.4f} {self.z[j]:8.3f} "
                         f"{self.p_value[j]:8.3g} {self.ci_lower[j]:11.4f} {self.ci_upper[j]:9.4f} "
                         f"{math.exp(min(self.coef[j], 700.0)):10.4g}")
        return "\n".join(lines)

    __repr__ = __str__


# ------------------------------------------------------------------ helpers


def _inference(obj: ConditionalObjective, beta: np.ndarray) -> dict[str, Any]:
    """Covariances and the three tests of beta = 0, from two passes (at beta-hat and at 0)."""
    ll, _, info, meat = obj.loglik(beta, 3)
    ll0, u0, info0 = obj.loglik(np.zeros_like(beta), 2)
    pen = info + obj.alpha * obj.weight_sum * np.eye(beta.size)
    cov = _pinv_sym(pen)
    cov_cluster = cov @ meat @ cov
    wald = float(beta @ _pinv_sym(cov) @ beta)
    score = float(u0 @ _pinv_sym(info0) @ u0)
    return {"cov": cov, "cov_cluster": 0.5 * (cov_cluster + cov_cluster.T), "llf": float(ll),
            "llnull": float(ll0), "lr": max(0.0, 2.0 * (float(ll) - float(ll0))), "wald": wald, "score": score}


def _pinv_sym(A: np.ndarray) -> np.ndarray:
    A = 0.5 * (A + A.T)
    return np.linalg.pinv(A, hermitian=True)


def _labels(groups: Any, n: int) -> np.ndarray:
    if groups is None:
        raise ValueError("groups (the stratum of each row) is required")
    labels = np.asarray(groups)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"groups must be one label per row: got shape {labels.shape} for {n} rows")
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError(f"groups has a missing value at row {int(np.flatnonzero(np.isnan(labels))[0])}")
    if labels.dtype.kind == "O":
        bad = [i for i, v in enumerate(labels) if v is None or (isinstance(v, float) and v != v)]
        if bad:
            raise ValueError(f"groups has a missing value at row {bad[0]}")
        labels = labels.astype(str) if len({type(v) for v in labels}) > 1 else labels
    return labels


def _validate_rows(X: Any, y: Any, groups: Any, sample_weight: Any) -> tuple:
    """Arrays (X, case, labels, weights, feature names) from in-memory input, with clear errors."""
    names = None
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a pandas DataFrame
        drop = [c for c in (y, groups, sample_weight) if isinstance(c, str)]
        for c in drop:
            if c not in X.columns:
                raise ValueError(f"{c!r} is not a column of X")
        y, groups, sample_weight = (X[c].to_numpy() if isinstance(c, str) else c for c in (y, groups, sample_weight))
        X = X.drop(columns=drop)
        names = [str(c) for c in X.columns]
        nonnum = [c for c in X.columns if X[c].dtype.kind not in "biuf"]
        if nonnum:
            raise ValueError(f"non-numeric feature columns {nonnum}: encode them (from_formula) first")
    Xa = np.asarray(X, dtype=np.float64)
    if Xa.ndim != 2:
        raise ValueError(f"X must be 2-D, got shape {Xa.shape}")
    n = Xa.shape[0]
    if not np.isfinite(Xa).all():
        i, j = (int(k[0]) for k in np.nonzero(~np.isfinite(Xa)))
        raise ValueError(f"X has a missing or infinite value at row {i}, column {j}")
    if y is None:
        raise ValueError("y (1 for a case, 0 for a control) is required")
    ya = np.asarray(y)
    if ya.ndim != 1 or ya.shape[0] != n:
        raise ValueError(f"y must be one value per row: got shape {ya.shape} for {n} rows")
    if ya.dtype.kind == "b":
        case = ya
    else:
        yf = np.asarray(ya, dtype=np.float64)
        if not np.isin(yf, (0.0, 1.0)).all():
            bad = int(np.flatnonzero(~np.isin(yf, (0.0, 1.0)))[0])
            raise ValueError(f"y must be 0 (control) or 1 (case); row {bad} has {ya[bad]!r}")
        case = yf == 1.0
    labels = _labels(groups, n)
    sw = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        if sw.shape != (n,):
            raise ValueError(f"sample_weight must be one value per row: got shape {sw.shape} for {n} rows")
        if not (np.isfinite(sw).all() and (sw >= 0).all()):
            raise ValueError("sample_weight must be finite and non-negative")
    return Xa, case, labels, sw, names or [f"x{j}" for j in range(Xa.shape[1])]


def _field(state: dict, key: str, kind: type) -> Any:
    value = state.get(key)
    if not isinstance(value, kind):
        raise ValueError(f"{key} must be a {'object' if kind is dict else 'list'}")
    return value


def _numbers(value: Any, shape: tuple, key: str) -> np.ndarray:
    """A finite float array of exactly ``shape`` from plain lists (no objects, no strings)."""
    def ok(v: Any) -> bool:
        return isinstance(v, list) or (isinstance(v, (int, float)) and not isinstance(v, bool))

    if not isinstance(value, list) or not all(ok(v) for v in value):
        raise ValueError(f"{key} must be a list of numbers")
    try:
        arr = np.array(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise ValueError(f"{key} must be a list of numbers") from None
    if arr.shape != shape or not np.isfinite(arr).all():
        raise ValueError(f"{key} must be finite numbers of shape {shape}, got shape {arr.shape}")
    return arr
