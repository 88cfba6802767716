"""Model-file fields of a fit's inference record: ``statistics`` and ``grouped``.

``statistics``: ``nobs``, ``llf``, ``llnull`` and, when the stored covariance is
not the nonrobust one, its ``cov_type`` (probability weights store "HC0").
``grouped`` (only for fits to grouped binomial data): ``nobs``, ``log_binom``,
``ll_saturated`` and ``weighted`` of :class:`~logitfit.model.weighting.GroupedRecord`.
Files without these keys load as before. ``c`` is the model file's field checker
(:class:`logitfit.io.model_file._Check`), so errors name the field.
"""

from __future__ import annotations

import math
from typing import Any

from logitfit.model.fitted import FitStatistics, FittedModel
from logitfit.model.weighting import GroupedRecord

__all__ = ["grouped_field", "load_grouped", "load_statistics", "statistics_field"]

_COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")


def _float(x: float) -> float:
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"a fit statistic must be finite, got {x}")
    return x


def statistics_field(stats: FitStatistics) -> dict[str, Any]:
    """The ``statistics`` object of a model file."""
    out: dict[str, Any] = {"nobs": _float(stats.nobs), "llf": _float(stats.llf),
                           "llnull": _float(stats.llnull)}
    if stats.cov_type != "nonrobust":
        out["cov_type"] = stats.cov_type
    return out


def load_statistics(c: Any, stats: dict | None) -> FitStatistics | None:
    """The :class:`FitStatistics` of a ``statistics`` object (None stays None)."""
    if stats is None:
        return None
    nobs, llf, llnull = (c.number(c.get(stats, k, (int, float), "statistics."), f"statistics.{k}")
                         for k in ("nobs", "llf", "llnull"))
    if not (nobs > 0 and math.isfinite(nobs) and math.isfinite(llf) and math.isfinite(llnull)):
        raise c.fail("statistics", "must hold finite numbers and a positive nobs")
    cov_type = stats.get("cov_type", "nonrobust")
    if cov_type not in _COV_TYPES:
        raise c.fail("statistics.cov_type", f"must be one of {', '.join(_COV_TYPES)}")
    return FitStatistics(nobs=nobs, llf=llf, llnull=llnull, cov_type=cov_type)


def grouped_field(model: FittedModel) -> dict[str, Any]:
    """``{"grouped": {...}}`` for a grouped fit, else ``{}`` (the document gains no key)."""
    g = getattr(model, "grouped", None)
    if g is None:
        return {}
    return {"grouped": {"nobs": _float(g.nobs), "log_binom": _float(g.log_binom),
                        "ll_saturated": _float(g.ll_saturated), "weighted": bool(g.weighted)}}


def load_grouped(c: Any, doc: dict) -> GroupedRecord | None:
    """The :class:`GroupedRecord` of a file's ``grouped`` object (None when absent)."""
    g = c.get(doc, "grouped", (dict, type(None))) if "grouped" in doc else None
    if g is None:
        return None
    nobs, log_binom, ll_sat = (c.number(c.get(g, k, (int, float), "grouped."), f"grouped.{k}")
                               for k in ("nobs", "log_binom", "ll_saturated"))
    if not (nobs > 0 and math.isfinite(log_binom) and log_binom >= 0 and math.isfinite(ll_sat)
            and ll_sat <= 0):
        raise c.fail("grouped", "must hold a positive nobs, log_binom >= 0 and ll_saturated <= 0")
    return GroupedRecord(nobs=nobs, log_binom=log_binom, ll_saturated=ll_sat,
                         weighted=c.get(g, "weighted", (bool,), "grouped.") is True)
