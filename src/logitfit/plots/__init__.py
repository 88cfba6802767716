"""Plots of a fit (:mod:`.fit`), of model checking (:mod:`.diagnostics`), of regularisation paths
(:mod:`.paths`) and of marginal means and contrasts (:mod:`.marginal`); matplotlib on first use."""

from __future__ import annotations

from logitfit.plots.diagnostics import plot_influence, plot_residuals
from logitfit.plots.fit import (
    plot_calibration,
    plot_coefficients,
    plot_confusion,
    plot_decision_boundary,
    plot_history,
    plot_pr,
    plot_roc,
)
from logitfit.plots.marginal import plot_contrasts, plot_marginal_means
from logitfit.plots.paths import plot_cv, plot_path

__all__ = ["plot_calibration", "plot_coefficients", "plot_confusion", "plot_cv",
           "plot_decision_boundary", "plot_history", "plot_path", "plot_pr", "plot_roc",
           "plot_influence", "plot_residuals",
           "plot_marginal_means", "plot_contrasts"]
