"""Lazy inference on a fitted model: likelihoods, covariance, tests, intervals, marginal effects.

Everything comes from the *same* objective the solver minimised
(:class:`logitfit.model.objective.LogisticObjective`), evaluated once more at
the fitted parameters: log-likelihood ``llf = -S * loss(x)`` with ``S = sum_i s_i``.
The formulas live in :mod:`~logitfit.inference.covariance`,
:mod:`~logitfit.inference.hypothesis_tests`, :mod:`~logitfit.inference.profile`
and :mod:`~logitfit.inference.marginal`; :class:`Inference` holds the fit and
caches what they compute.

L1-penalised fits are refused (no valid standard errors for lasso estimates
from these formulas). Multinomial models are reported per class against a
reference class (the first by default), as statsmodels' MNLogit:
``theta_k = B[:, k] - B[:, ref]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from logitfit.inference import weights
from logitfit.inference.covariance import COV_TYPES, cluster_covariance
from logitfit.inference.distributions import chi2_sf, normal_ppf, normal_two_sided_p
from logitfit.inference.firth import firth_profile_ci
from logitfit.inference.hypothesis_tests import ChiSquareTest, wald_test
from logitfit.inference.marginal import marginal_effects
from logitfit.inference.profile import profile_ci
from logitfit.inference.table import term_names
from logitfit.model.fitted import FitStatistics, FittedModel
from logitfit.model.objective import pack_coef

__all__ = ["COVARIANCE_MAX_PARAMS", "Inference", "Retained"]

#: Largest number of parameters whose covariance a fit stores with its model file.
COVARIANCE_MAX_PARAMS = 2000


class Retained:
    """Keeps the fitted objective for later inference; dropped when the model is pickled."""

    def __init__(self, objective: Any) -> None:
        self.objective = objective

    def __getstate__(self) -> dict:
        return {"objective": None}

    def __setstate__(self, state: dict) -> None:
        self.objective = None


def _class_sums(block, K):
    return (np.bincount(block.y.astype(np.intp), weights=block.sw, minlength=K),)


class Inference:
    """Lazy inference on a fit: the fitted model and the objective it minimised.

    Parameters are ``theta``: for two classes ``[w_1..w_p, b]`` (intercept
    last, named "Intercept"); for K classes the K-1 blocks ``B[:, k] -
    B[:, ref]``, class by class. Every quantity is computed on first use and cached.
    """

    def __init__(self, model: FittedModel, objective: Any, ref_class: int = 0) -> None:
        if objective is None:
            raise ValueError(
                "this model no longer holds its training data (it was loaded from a file "
                "or pickled); refit it to compute standard errors and tests"
            )
        penalty = model.params.get("penalty")
        if penalty in ("l1", "elasticnet"):
            raise ValueError(
                f"penalty={penalty!r}: no p-values, standard errors or intervals are given for "
                "L1-penalised estimates (the selection step invalidates the usual formulas). "
                "Refit without the L1 penalty on the selected features, or use the bootstrap."
            )
        self.model = model
        self.obj = objective
        self.weight_type = model.params.get("weight_type")  # logitfit.inference.weights
        self.firth = penalty == "firth"
        self.penalised = bool(self.obj.alpha) and not self.firth
        self.ref = int(ref_class)
        self.x = pack_coef(objective, model.coef, model.intercept)
        self.S = float(self.obj.blocks.sw_sum)
        self._cache: dict = {}
        self.term_names = term_names(model.feature_names if model.names_from_fit else None,
                                     self.obj.n_features,
                                     self.obj.fit_intercept)
        K = self.obj.n_classes
        if self.obj.multinomial:
            if not 0 <= self.ref < K:
                raise ValueError(f"ref_class must be in 0..{K - 1}, got {ref_class}")
            self.others = [k for k in range(K) if k != self.ref]
            q = self.obj.n_dof
            A = np.zeros((q * (K - 1), q * K))
            for m, k in enumerate(self.others):
                for j in range(q):
                    A[m * q + j, j * K + k] = 1.0
                    A[m * q + j, j * K + self.ref] = -1.0
            self.A = A
            labels = model.classes
            self.names = [f"{labels[k]}:{t}" for k in self.others for t in self.term_names]
        else:
            self.others = [1]
            self.A = np.eye(self.obj.n_params)
            self.names = list(self.term_names)
        self.params = self.A @ self.x

    def record(self) -> tuple[np.ndarray | None, FitStatistics | None]:
        """(nonrobust covariance of theta, fit statistics) for a model file; (None, None)
        over :data:`COVARIANCE_MAX_PARAMS` parameters or when the information is singular."""
        if self.k_params > COVARIANCE_MAX_PARAMS:
            return None, None
        cov_type = "HC0" if self.weight_type == "probability" else "nonrobust"  # survey: the sandwich
        try:
            cov = np.asarray(self.cov_params(cov_type), dtype=np.float64)
            stats = FitStatistics(nobs=float(self.nobs), llf=float(self.llf), llnull=float(self.llnull),
                                  cov_type=cov_type)
        except (ValueError, np.linalg.LinAlgError):
            return None, None
        if cov.shape != (self.k_params,) * 2 or not np.all(np.isfinite(cov)):
            return None, None
        return cov, stats

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` on first use of ``key``, the stored value afterwards."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    # ---------------------------------------------------------- likelihoods

    @property
    def nobs(self) -> float:
        """Number of observations: ``sum w``, rows or groups as the weights mean (:mod:`.weights`)."""
        return weights.n_observations(self)

    @property
    def k_params(self) -> int:
        return len(self.params)

    @property
    def llf(self) -> float:
        """``-S * mean loss`` at the fit (without any penalty), plus grouped data's binomial coefficients."""
        return self.cached("llf", lambda: -self.S * self.obj.loss(self.x) + weights.log_binom(self))

    @property
    def llnull(self) -> float:
        """Log-likelihood of the intercept-only model (all probabilities equal without an intercept)."""

        def compute() -> float:
            K = self.obj.n_classes
            if getattr(self.obj.blocks, "has_offset", False):  # fitted with the offsets, as R does
                from logitfit.inference.null_model import null_loglik

                return null_loglik(self.obj) + weights.log_binom(self)
            if not self.obj.fit_intercept:
                return -self.S * np.log(K) if self.obj.multinomial else -self.S * np.log(2.0)
            (n_k,) = self.obj.blocks.map_reduce(_class_sums, K)
            n_k = n_k[n_k > 0]
            return float(n_k @ np.log(n_k / self.S)) + weights.log_binom(self)

        return self.cached("llnull", compute)

    @property
    def df_model(self) -> int:
        return self.k_params - int(self.obj.fit_intercept) * (len(self.others))

    @property
    def df_resid(self) -> float:
        return self.nobs - self.k_params

    @property
    def llr(self) -> float:
        weights.likelihood_figure(self, "a likelihood-ratio test")
        return 2.0 * (self.llf - self.llnull)

    @property
    def llr_pvalue(self) -> float:
        return float(chi2_sf(self.llr, self.df_model))

    @property
    def prsquared(self) -> float:
        """McFadden's pseudo-R2 ``1 - llf / llnull``."""
        return 1.0 - self.llf / self.llnull

    @property
    def aic(self) -> float:
        weights.likelihood_figure(self, "AIC")
        return -2.0 * self.llf + 2.0 * self.k_params

    @property
    def bic(self) -> float:
        weights.likelihood_figure(self, "BIC")
        return -2.0 * self.llf + np.log(self.nobs) * self.k_params

    @property
    def deviance(self) -> float:
        """``2 (llf_saturated - llf)``: ``-2 llf`` for 0/1 rows; grouped data's own saturated model."""
        return 2.0 * (weights.saturated_llf(self) - self.llf)

    @property
    def null_deviance(self) -> float:
        return 2.0 * (weights.saturated_llf(self) - self.llnull)

    # ------------------------------------------------- covariance and tests

    def cov_params(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        """Covariance of ``theta`` (see :mod:`logitfit.inference.covariance` for each ``cov_type``)."""
        if cov_type not in COV_TYPES:
            raise ValueError(f"cov_type must be one of {', '.join(COV_TYPES)}; got {cov_type!r}")
        if cov_type == "cluster":
            if groups is None:
                raise ValueError("cov_type='cluster' needs groups= (one cluster label per row)")
            return cluster_covariance(self, weights.row_groups(self, groups))
        if groups is not None:
            raise ValueError(f"groups= is used only with cov_type='cluster', not {cov_type!r}")
        return self.cached(("cov", cov_type), lambda: weights.covariance(self, cov_type))

    def bse(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        return np.sqrt(np.diag(self.cov_params(cov_type, groups)))

    def zvalues(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        return self.params / self.bse(cov_type, groups)

    def pvalues(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        """Two-sided normal p-values ``2 * Phi(-|z|)``."""
        return normal_two_sided_p(self.zvalues(cov_type, groups))

    def conf_int(self, alpha: float = 0.05, method: str = "wald", cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        """Intervals, shape (k, 2): Wald ``theta +- z_{1-alpha/2} se`` or profile likelihood."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        if method == "profile":
            return self.cached(("profile", alpha), lambda: self._profile_ci(alpha))
        if method != "wald":
            raise ValueError(f"method must be 'wald' or 'profile', got {method!r}")
        q = normal_ppf(1.0 - alpha / 2.0)
        se = self.bse(cov_type, groups)
        return np.column_stack([self.params - q * se, self.params + q * se])

    def wald_test(self, R: Any, r: Any = None, cov_type: str = "nonrobust", groups: Any = None) -> ChiSquareTest:
        """Wald test of ``R theta = r`` (``R`` a matrix or equations in the term names, e.g. ``"gre = gpa"``)."""
        return wald_test(self.params, self.cov_params(cov_type, groups), self.names, R, r)

    def marginal_effects(self) -> dict[str, np.ndarray]:
        """Average marginal effects with delta-method standard errors (:mod:`logitfit.inference.marginal`)."""
        if self.penalised:
            raise ValueError("marginal effects with delta-method SEs are given for unpenalised fits only")
        return self.cached("me", lambda: marginal_effects(self))

    def _profile_ci(self, alpha: float) -> np.ndarray:
        if self.penalised:
            raise ValueError("profile-likelihood intervals are given for unpenalised (or Firth) fits only")
        if self.obj.multinomial:
            raise ValueError("profile-likelihood intervals are implemented for the binary model")
        if self.firth:
            return firth_profile_ci(self.obj, self.x, alpha)

        def fgh(x):
            f, g, H = self.obj.value_grad_hess(x)
            return self.S * f, self.S * g, self.S * H

        return profile_ci(fgh, self.x, self.bse(), alpha)
