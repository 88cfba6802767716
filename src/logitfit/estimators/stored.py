"""Inference on a loaded model: the tables from the covariance and statistics its file stores.

A model file keeps the nonrobust covariance of ``theta`` (against the first
class; "HC0" for probability weights) and ``nobs``, ``llf`` and ``llnull`` (:class:`~logitfit.model.fitted.FitStatistics`).
That is all :class:`~logitfit.inference.summary.Summary`, standard errors,
Wald intervals and tests need, so they equal the fitted model's; what needs
the training rows (robust or cluster covariances, profile intervals, marginal
effects) is refused with the reason.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from logitfit.estimators import fitting
from logitfit.inference.results import Inference
from logitfit.inference.table import term_names
from logitfit.model.fitted import FittedModel

__all__ = ["StoredInference"]

_NEEDS_DATA = ("this model was loaded from a file, which keeps the nonrobust covariance and "
               "the log-likelihoods only; {what} needs the training rows: refit the model")


class StoredInference(Inference):
    """:class:`~logitfit.inference.results.Inference` of a loaded model, from its stored record."""

    def __init__(self, fitted: FittedModel, ref_class: int = 0) -> None:
        if int(ref_class) != 0:
            raise ValueError(_NEEDS_DATA.format(what=f"ref_class={ref_class}"))
        if fitted.covariance is None or fitted.statistics is None:
            raise ValueError(_NEEDS_DATA.format(what="this table"))
        params = fitted.params
        multinomial = fitted.n_classes > 2
        # what Inference and Summary read of the objective
        self.obj = SimpleNamespace(alpha=fitting.ridge_alpha(params), multinomial=multinomial,
                                   fit_intercept=fitted.fit_intercept, n_classes=fitted.n_classes)
        self.model = fitted
        self.weight_type = params.get("weight_type")
        self.firth = params.get("penalty") == "firth"
        self.penalised = bool(self.obj.alpha) and not self.firth
        self.ref = 0
        self.others = list(range(1, fitted.n_classes)) if multinomial else [1]
        self.params = fitted.contrasts(0)
        self.term_names = term_names(fitted.feature_names if fitted.names_from_fit else None,
                                     fitted.n_features, fitted.fit_intercept)
        self.names = [f"{fitted.classes[k]}:{t}" for k in self.others for t in self.term_names] \
            if multinomial else list(self.term_names)
        self.S = float(fitted.statistics.nobs)
        self._stats = fitted.statistics
        self._covariance = fitted.covariance
        self._cache: dict = {}

    @property
    def nobs(self) -> float:
        return self._stats.nobs

    @property
    def llf(self) -> float:
        return self._stats.llf

    @property
    def llnull(self) -> float:
        return self._stats.llnull

    def cov_params(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        from logitfit.inference.weights import check_cov_type

        check_cov_type(self, cov_type)  # probability weights: no nonrobust covariance
        if cov_type != self._stats.cov_type or groups is not None:
            raise ValueError(_NEEDS_DATA.format(what=f"cov_type={cov_type!r}"))
        return self._covariance.copy()

    def conf_int(self, alpha: float = 0.05, method: str = "wald", cov_type: str = "nonrobust",
                 groups: Any = None) -> np.ndarray:
        if method == "profile":
            raise ValueError(_NEEDS_DATA.format(what="a profile-likelihood interval"))
        return super().conf_int(alpha, method, cov_type, groups)

    def marginal_effects(self) -> dict[str, np.ndarray]:
        raise ValueError(_NEEDS_DATA.format(what="a marginal effect"))
