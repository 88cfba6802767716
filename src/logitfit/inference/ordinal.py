"""Inference for the ordinal model: covariances, the summary table, LR test, marginal effects, profiles.

Everything is in the natural coordinates ``(beta, theta)`` of
:mod:`logitfit.model.ordinal` (R's ``polr`` reports the same). With ``S`` the
weight sum, ``H`` the Hessian of the mean negative log-likelihood at the fit and
``u_i = s_i d log P(y_i | x_i) / d(beta, theta)`` the weighted per-row scores:

* ``"nonrobust"``: ``V = (S H)^{-1}``; with an L2 term ``a`` on beta the
  sandwich ``A^{-1} (S H) A^{-1}``, ``A = S (H + diag(a))``;
* ``"HC0"``: ``V = A^{-1} (sum_i u_i u_i^T) A^{-1}``;
* ``"cluster"``: meat ``sum_g U_g U_g^T`` (``U_g`` the scores summed over
  cluster g) times ``G/(G-1) (n-1)/(n-k)``, as statsmodels and Stata.

``llnull`` is the thresholds-only model (no covariates; with an offset, fitted
with that offset). The average marginal effect of feature j on category k is
``(1/S) sum_i s_i beta_j [f(theta_{k-1} - eta_i) - f(theta_k - eta_i)]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit.inference.covariance import inverse_information, symmetrise
from logitfit.inference.distributions import normal_ppf, normal_two_sided_p
from logitfit.inference.hypothesis_tests import ChiSquareTest
from logitfit.model.ordinal import OrdinalObjective, category_counts
from logitfit.solvers.base import SolverOptions
from logitfit.solvers.registry import minimize

__all__ = ["ORDINAL_COV_TYPES", "OrdinalInference", "OrdinalSummary", "StoredOrdinalInference",
           "threshold_names"]

ORDINAL_COV_TYPES = ("nonrobust", "HC0", "cluster")


def threshold_names(classes: Any) -> list[str]:
    """``"a|b"`` for the threshold between consecutive categories (R's ``polr`` names)."""
    labels = [str(c) for c in classes]
    return [f"{labels[k]}|{labels[k + 1]}" for k in range(len(labels) - 1)]


class _OrdinalStats:
    """What a summary reads, shared by a fit's inference and a model file's stored one."""

    names: list[str]
    params: np.ndarray
    classes: list
    nobs: int
    S: float
    k_params: int
    n_features: int
    link: str
    penalised: bool
    l1: bool = False
    firth: bool = False  # what logitfit.lr_test asks of a fit
    weight_type: str | None = None

    def cov(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        raise NotImplementedError

    @property
    def llf(self) -> float:
        raise NotImplementedError

    @property
    def llnull(self) -> float:
        raise NotImplementedError

    def lr_test(self) -> ChiSquareTest:
        """LR test of all slopes: ``2 (llf - llnull)`` on ``p`` degrees of freedom (unpenalised fits)."""
        if self.penalised:
            raise ValueError("the likelihood-ratio test needs an unpenalised fit (penalty=None)")
        return ChiSquareTest.of("LR", 2.0 * (self.llf - self.llnull), self.n_features)

    @property
    def aic(self) -> float:
        return -2.0 * self.llf + 2.0 * self.k_params

    @property
    def bic(self) -> float:
        return -2.0 * self.llf + np.log(self.S) * self.k_params

    def bse(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        return np.sqrt(np.diag(self.cov(cov_type, groups)))

    def wald_ci(self, alpha: float = 0.05, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        se = self.bse(cov_type, groups)
        q = normal_ppf(1.0 - alpha / 2.0)
        return np.column_stack([self.params - q * se, self.params + q * se])

    def summary(self, cov_type: str = "nonrobust", groups: Any = None, alpha: float = 0.05,
                converged: bool = True) -> OrdinalSummary:
        return OrdinalSummary(self, cov_type, groups, alpha, converged=converged)


class StoredOrdinalInference(_OrdinalStats):
    """The nonrobust covariance and log-likelihoods a model file stored (no training rows).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.inference.ordinal import StoredOrdinalInference
    >>> stored = StoredOrdinalInference.from_dict(
    ...     {"covariance": [[0.04, 0.0], [0.0, 0.09]], "llf": -10.0, "llnull": -12.0, "nobs": 20,
    ...      "weight_sum": 20.0, "penalised": False}, np.array([0.5, 0.1]), ["x"], [0, 1], "logit")
    >>> stored.bse()
    array([0.2, 0.3])
    >>> round(stored.lr_test().statistic, 6)
    4.0
    """

    def __init__(self, params: np.ndarray, cov: np.ndarray, llf: float, llnull: float, nobs: int,
                 weight_sum: float, penalised: bool, feature_names: list[str], classes: Any, link: str) -> None:
        self.params, self._cov = params, cov
        self._llf, self._llnull = llf, llnull
        self.nobs, self.S, self.penalised = nobs, weight_sum, penalised
        self.feature_names = list(feature_names)
        self.classes = list(classes)
        self.names = [*self.feature_names, *threshold_names(self.classes)]
        self.k_params = params.size
        self.n_features = len(self.feature_names)
        self.link = link

    @classmethod
    def from_dict(cls, d: Any, params: np.ndarray, feature_names: list[str], classes: Any,
                  link: str) -> StoredOrdinalInference:
        """Checked: a symmetric finite covariance of the parameters' size, finite log-likelihoods."""
        if not isinstance(d, dict):
            raise ValueError("ordinal model: inference must be an object")
        k = params.size
        try:
            V = np.asarray(d["covariance"], dtype=np.float64)
            llf, llnull = float(d["llf"]), float(d["llnull"])
            nobs, S = d["nobs"], float(d["weight_sum"])
            penalised = d["penalised"]
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"ordinal model: inference field missing or not a number ({err})") from None
        if V.shape != (k, k) or not np.all(np.isfinite(V)) or not np.allclose(V, V.T) or np.any(np.diag(V) < 0):
            raise ValueError(f"ordinal model: the covariance must be a finite symmetric {k} x {k} matrix "
                             "with a non-negative diagonal")
        if not (np.isfinite(llf) and np.isfinite(llnull)) or llf > 0 or llnull > 0:
            raise ValueError("ordinal model: llf and llnull must be finite and <= 0")
        if not (isinstance(nobs, int) and nobs > 0 and np.isfinite(S) and S > 0 and isinstance(penalised, bool)):
            raise ValueError("ordinal model: nobs, weight_sum and penalised must be a positive integer, "
                             "a positive number and a boolean")
        return cls(params, V, llf, llnull, nobs, S, penalised, feature_names, classes, link)

    def cov(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        if cov_type != "nonrobust":
            raise ValueError(f"a model file stores the nonrobust covariance only; {cov_type!r} needs the "
                             "training rows (refit the model)")
        return self._cov

    @property
    def llf(self) -> float:
        return self._llf

    @property
    def llnull(self) -> float:
        return self._llnull

    def conf_int(self, alpha: float = 0.05, method: str = "wald", cov_type: str = "nonrobust",
                 groups: Any = None) -> np.ndarray:
        if method != "wald":
            raise ValueError("a model file supports Wald intervals only; profile intervals need the training rows")
        return self.wald_ci(alpha, cov_type, groups)


class OrdinalInference(_OrdinalStats):
    """Standard errors and tests of an ordinal fit at ``x`` (solver coordinates) of ``objective``.

    Parameters
    ----------
    objective : OrdinalObjective, the objective the fit minimised (its rows are used again).
    x : ndarray, the minimiser.
    feature_names, classes : the term and category labels.
    l1 : bool, an L1 penalty was part of the fit (then no standard errors).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.blocks.memory import InMemoryBlocks
    >>> from logitfit.model.ordinal import OrdinalObjective
    >>> from logitfit.inference.ordinal import OrdinalInference
    >>> from logitfit.solvers import minimize
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 1))
    >>> y = np.digitize(X[:, 0] + rng.logistic(size=300), [-1.0, 1.0])
    >>> objective = OrdinalObjective(InMemoryBlocks(X, y, np.ones(300)), 3)
    >>> fit = minimize(objective, np.zeros(3))
    >>> inf = OrdinalInference(objective, fit.x, ["x"], [0, 1, 2])
    >>> inf.names
    ['x', '0|1', '1|2']
    >>> inf.params.round(3)
    array([ 1.156, -1.218,  0.991])
    >>> inf.bse().round(3)
    array([0.134, 0.148, 0.142])
    """

    def __init__(self, objective: OrdinalObjective, x: np.ndarray, feature_names: Any, classes: Any,
                 *, l1: bool = False) -> None:
        self.obj = objective
        self.x = np.asarray(x, dtype=np.float64)
        self.classes = list(classes)
        self.feature_names = [str(n) for n in feature_names]
        self.names = [*self.feature_names, *threshold_names(self.classes)]
        beta, theta = objective.unpack(self.x)
        self.beta, self.theta = beta, theta
        self.params = np.concatenate([beta, theta])
        self.S = objective.blocks.sw_sum
        self.nobs = objective.blocks.n_samples
        self.k_params = self.params.size
        self.n_features = objective.n_features
        self.link = objective.link
        self.l1 = l1
        self.penalised = bool(objective.alpha) or l1
        self._cache: dict[str, Any] = {}

    def _cached(self, key: str, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    # ------------------------------------------------------------ likelihood

    @property
    def llf(self) -> float:
        """Log-likelihood at the fit (the penalty excluded)."""
        return self._cached("llf", lambda: -self.S * self.obj.loss(self.x))

    @property
    def llnull(self) -> float:
        """Log-likelihood of the thresholds-only model."""
        return self._cached("llnull", self._llnull)

    def _llnull(self) -> float:
        counts = category_counts(self.obj.blocks, self.obj.n_classes)
        if not self.obj.has_offset:  # the closed form: the fitted probabilities are the proportions
            on = counts > 0
            return float(counts[on] @ np.log(counts[on] / counts.sum()))
        null = _ThresholdsOnly(self.obj)  # beta = 0 with the offsets kept, on the same rows
        res = minimize(null, self.obj.zero(counts)[self.obj.n_features:], "newton", SolverOptions(tol=1e-10))
        return -self.S * self.obj.loss(null.full(res.x))

    # ------------------------------------------------------------ covariance

    def information(self) -> tuple[np.ndarray, np.ndarray]:
        """(observed information ``S H``, penalised bread ``A``), natural coordinates."""

        def compute():
            _, _, H = self.obj.natural_hessian(self.x)
            info = self.S * H
            p = self.obj.n_features
            A = info.copy()
            A[np.diag_indices(p)] += self.S * self.obj.l2[:p]
            return info, A

        return self._cached("info", compute)

    def _bread(self) -> np.ndarray:
        return self._cached("bread", lambda: inverse_information(self.information()[1]))

    def scores(self) -> np.ndarray:
        """Weighted per-row scores, shape (n, k), natural coordinates."""
        return self._cached("scores", lambda: np.vstack(list(self.obj.scores(self.x))))

    def cov(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        """Covariance of ``(beta, theta)`` for ``cov_type`` in "nonrobust", "HC0", "cluster"."""
        if self.l1:
            raise ValueError("standard errors are not defined for an L1 (lasso / elastic-net) fit")
        if cov_type not in ORDINAL_COV_TYPES:
            raise ValueError(f"cov_type must be one of {', '.join(ORDINAL_COV_TYPES)}, got {cov_type!r}")
        key = f"cov:{cov_type}"
        if cov_type != "cluster" and key in self._cache:
            return self._cache[key]
        B = self._bread()
        if cov_type == "nonrobust":
            V = B @ self.information()[0] @ B if self.penalised else B
        elif cov_type == "HC0":
            U = self.scores()
            V = B @ (U.T @ U) @ B
        else:
            g = np.asarray(groups)
            if groups is None or g.ndim != 1 or g.shape[0] != self.nobs:
                raise ValueError(f"cov_type='cluster' needs groups: one label per row ({self.nobs} rows)")
            labels, codes = np.unique(g, return_inverse=True)
            G = labels.size
            if G < 2:
                raise ValueError("cov_type='cluster' needs at least two clusters")
            U = self.scores()
            Ug = np.zeros((G, U.shape[1]))
            np.add.at(Ug, codes, U)
            n, k = self.nobs, self.k_params
            V = B @ (Ug.T @ Ug) @ B * (G / (G - 1) * (n - 1) / (n - k))
            return symmetrise(V)
        self._cache[key] = symmetrise(V)
        return self._cache[key]

    def conf_int(self, alpha: float = 0.05, method: str = "wald", cov_type: str = "nonrobust",
                 groups: Any = None) -> np.ndarray:
        """Intervals, shape (k, 2): Wald for every parameter, or ``"profile"`` likelihood for the slopes.

        The profile rows of the thresholds are their Wald intervals (a threshold
        past the first is not a coordinate of the fit's parameterisation).
        """
        out = self.wald_ci(alpha, cov_type, groups)
        se = self.bse(cov_type, groups)
        if method == "wald":
            return out
        if method != "profile":
            raise ValueError(f"method must be 'wald' or 'profile', got {method!r}")
        if self.penalised:
            raise ValueError("profile intervals need an unpenalised fit (penalty=None)")
        from logitfit.inference.profile import profile_ci

        p = self.obj.n_features
        if p == 0:
            return out

        def fgh(x: np.ndarray):
            f, g, H = self.obj.value_grad_hess(x)
            return self.S * f, self.S * g, self.S * H

        full = profile_ci(fgh, self.x, np.concatenate([se[:p], np.ones(self.k_params - p)]), alpha)
        out[:p] = full[:p]  # beta's coordinates are the same in both parameterisations
        return out

    # --------------------------------------------------------- marginal effects

    def marginal_effects(self, cov_type: str = "nonrobust", groups: Any = None) -> dict[str, Any]:
        """Average marginal effects on each category's probability, with delta-method standard errors.

        ``effect[j, k] = beta_j m_k``, ``m_k = (1/S) sum_i s_i [f(theta_{k-1} - eta_i) - f(theta_k - eta_i)]``
        (rows in memory). The Jacobian in ``(beta, theta)`` is exact (``f' = f g``)::

            d effect_jk / d beta_l  = delta_jl m_k + beta_j (1/S) sum_i s_i x_il [f'(theta_k - eta_i) - f'(theta_{k-1} - eta_i)]
            d effect_jk / d theta_m = beta_j (1/S) sum_i s_i [f'(theta_{k-1} - eta_i) [m = k-1] - f'(theta_k - eta_i) [m = k]]

        Returns ``{"effect", "std_err", "z", "p_value"}`` (arrays of shape (p, K)),
        ``"names"`` (the features) and ``"categories"``.
        """
        X = _rows(self.obj)
        eta = np.asarray(X @ self.beta, dtype=np.float64).ravel()
        offset = getattr(self.obj.blocks, "offset", None)
        if offset is not None:
            eta = eta + offset
        sw = self.obj.blocks.sw  # type: ignore[attr-defined]
        dens, slope = _density(self.theta, eta, self.obj.link)  # (n, K + 1) at theta_{-1}..theta_{K-1}
        m = sw @ (dens[:, :-1] - dens[:, 1:]) / self.S  # d P_k / d eta, averaged
        effect = np.outer(self.beta, m)
        p, K = self.beta.size, m.size
        dm_beta = np.asarray(X.T @ ((slope[:, 1:] - slope[:, :-1]) * sw[:, None]), dtype=np.float64) / self.S
        tot = sw @ slope / self.S  # (K + 1,): mean f' at each threshold (0 at the ends)
        dm_theta = np.zeros((K, K - 1))
        for k in range(K):
            if k >= 1:
                dm_theta[k, k - 1] += tot[k]
            if k <= K - 2:
                dm_theta[k, k] -= tot[k + 1]
        J = np.zeros((p * K, p + K - 1))
        for j in range(p):
            rows = slice(j * K, (j + 1) * K)
            J[rows, :p] = self.beta[j] * dm_beta.T
            J[rows, j] += m
            J[rows, p:] = self.beta[j] * dm_theta
        V = self.cov(cov_type, groups)
        se = np.sqrt(np.einsum("ij,jk,ik->i", J, V, J)).reshape(p, K)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, effect / se, np.nan)
        return {"effect": effect, "std_err": se, "z": z,
                "p_value": np.array([[normal_two_sided_p(v) for v in row] for row in z]).reshape(p, K),
                "names": np.array(self.feature_names), "categories": np.array(self.classes)}


class _ThresholdsOnly:
    """The objective over the thresholds alone, beta fixed at 0 (the null model, offsets kept)."""

    def __init__(self, obj: OrdinalObjective) -> None:
        self.obj = obj
        self.p = obj.n_features
        self.n_params = obj.n_classes - 1

    def full(self, t: np.ndarray) -> np.ndarray:
        return np.concatenate([np.zeros(self.p), t])

    def value(self, t: np.ndarray) -> float:
        return self.obj.value(self.full(t))

    def value_and_grad(self, t: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = self.obj.value_and_grad(self.full(t))
        return f, g[self.p:]

    def grad(self, t: np.ndarray) -> np.ndarray:
        return self.value_and_grad(t)[1]

    def value_grad_hess(self, t: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        f, g, H = self.obj.value_grad_hess(self.full(t))
        return f, g[self.p:], H[self.p:, self.p:]

    def hess(self, t: np.ndarray) -> np.ndarray:
        return self.value_grad_hess(t)[2]

    def hessp(self, t: np.ndarray):
        H = self.hess(t)
        return lambda v: H @ v


def _rows(obj: OrdinalObjective) -> Any:
    X = getattr(obj.blocks, "X", None)
    if X is None:
        raise ValueError("marginal effects need the rows in memory")
    return X


def _density(theta: np.ndarray, eta: np.ndarray, link: str) -> tuple[np.ndarray, np.ndarray]:
    """``f(theta_k - eta)`` and ``f'(theta_k - eta)`` for k = -1..K-1 (0 at the infinite ends), each (n, K + 1)."""
    from logitfit.model.ordinal import _LINK_FUNCS

    t = theta[None, :] - eta[:, None]
    _, _, lf, h, _, s_up, _ = _LINK_FUNCS[link](t)
    f = np.exp(lf)
    zeros = np.zeros((eta.size, 1))
    return np.hstack([zeros, f, zeros]), np.hstack([zeros, f * (s_up - h), zeros])  # f' = f g, g = s_up - h


class OrdinalSummary:
    """The coefficient table of an ordinal fit: slopes, then thresholds, with z tests and intervals.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import OrdinalLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 1))
    >>> y = np.digitize(X[:, 0] + rng.logistic(size=300), [-1.0, 1.0])
    >>> summary = OrdinalLogisticRegression().fit(X, y).summary()
    >>> summary.names
    ['x0', '0|1', '1|2']
    >>> summary.std_err.round(3)
    array([0.134, 0.148, 0.142])
    """

    def __init__(self, inference: _OrdinalStats, cov_type: str = "nonrobust", groups: Any = None,
                 alpha: float = 0.05, *, converged: bool = True) -> None:
        inf = inference
        self.inference, self.cov_type, self.alpha = inf, cov_type, alpha
        self.names = list(inf.names)
        self.coef = inf.params.copy()
        self.std_err = inf.bse(cov_type, groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.z = np.where(self.std_err > 0, self.coef / self.std_err, np.nan)
        self.p_value = np.array([normal_two_sided_p(v) for v in self.z])
        ci = inf.conf_int(alpha, "wald", cov_type, groups)
        self.ci_lower, self.ci_upper = ci[:, 0], ci[:, 1]
        self.info: dict[str, str] = {
            "Model": f"ordinal ({inf.link})", "No. observations": str(inf.nobs),
            "Categories": str(len(inf.classes)), "Covariance": cov_type,
            "Log-likelihood": f"{inf.llf:.4f}", "AIC": f"{inf.aic:.4f}",
        }
        if not inf.penalised:
            lr = inf.lr_test()
            self.info.update({"LL-Null": f"{inf.llnull:.4f}", "LR chi2": f"{lr.statistic:.4f}",
                              "LLR p-value": f"{lr.pvalue:.4g}"})
        self.notes = [f"logit P(y <= k) = theta_k - x'beta (R polr's sign); categories "
                      f"{', '.join(repr(str(c)) for c in inf.classes)} in order."]
        if inf.link != "logit":
            self.notes[0] = self.notes[0].replace("logit P(y <= k)", "F^-1(P(y <= k))")
        if not converged:
            self.notes.append("The fit did NOT converge: these numbers are not maximum-likelihood estimates.")

    def to_frame(self) -> Any:
        """pandas DataFrame, one row per parameter (slopes then thresholds)."""
        import pandas as pd

        data = {"coef": self.coef, "std_err": self.std_err, "z": self.z, "p_value": self.p_value,
                "ci_lower": self.ci_lower, "ci_upper": self.ci_upper}
        return pd.DataFrame(data, index=pd.Index(self.names, name="term"))

    def _rows(self) -> list[list[str]]:
        return [[n, f"{c:.4f}", f"{s:.3f}", f"{z:.3f}", f"{p:.3f}", f"{lo:.3f}", f"{hi:.3f}"]
                for n, c, s, z, p, lo, hi in zip(self.names, self.coef, self.std_err, self.z,
                                                 self.p_value, self.ci_lower, self.ci_upper, strict=True)]

    def __str__(self) -> str:
        lo, hi = self.alpha / 2, 1 - self.alpha / 2
        head = ["", "coef", "std err", "z", "P>|z|", f"[{lo:.3g}", f"{hi:.3g}]"]
        body = self._rows()
        widths = [max(len(r[i]) for r in [*body, head]) for i in range(7)]
        stats = [f"{k}: {v}" for k, v in self.info.items()]
        width = max(sum(widths) + 12, *(len(s) for s in stats))
        fmt = lambda r: "  ".join(  # noqa: E731
            r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i]) for i in range(7))
        p = self.inference.n_features
        out = ["=" * width, "Ordinal Regression Results (logitfit)".center(width), "=" * width, *stats,
               "=" * width, fmt(head), "-" * width, *(fmt(r) for r in body[:p]),
               "-" * width, *(fmt(r) for r in body[p:]), "=" * width]
        out += [f"Note: {n}" for n in self.notes]
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown: the statistics then the coefficient table."""
        lines = ["| statistic | value |", "| --- | --- |", *(f"| {k} | {v} |" for k, v in self.info.items())]
        lines += ["", "| term | coef | std err | z | P>\\|z\\| | lower | upper |", "|" + " --- |" * 7]
        lines += ["| " + " | ".join(r) + " |" for r in self._rows()]
        return "\n".join(lines)
