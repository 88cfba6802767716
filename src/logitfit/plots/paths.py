"""Plots of regularisation paths and cross-validation curves (glmnet's ``plot`` and ``plot.cv``).

Both functions draw with matplotlib (imported on first use, Agg backend
unless one is already chosen), return the :class:`matplotlib.figure.Figure`
and accept ``ax=`` to draw into an existing axes. Nothing here computes model
math: the coefficients come from a :class:`logitfit.estimators.regularization.PathResult` and the
scores from a fitted :class:`logitfit.estimators.cv.LogisticRegressionCV`.

The horizontal axis is ``alpha`` on a log scale, decreasing from left to
right, so the path reads in the order it is computed (features enter as the
penalty relaxes). The top axis gives the number of features with a non-zero
coefficient at a few alphas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from logitfit.estimators.regularization import PathResult

__all__ = ["plot_cv", "plot_path"]

#: Features labelled at the right end of a path plot (the largest |coef| there).
DEFAULT_N_LABELS = 8
#: Tick marks of the non-zero count on the top axis.
N_TOP_TICKS = 6


def _axes(ax: Axes | None, size: tuple[float, float] = (6.0, 4.2)) -> tuple[Figure, Axes]:
    from logitfit.plots.fit import _axes as new_axes  # one home for the Agg/Figure set-up

    return new_axes(ax, size)


def _nonzero_axis(ax: Axes, alphas: np.ndarray, n_nonzero: np.ndarray) -> None:
    """Top axis: the number of non-zero features at ``N_TOP_TICKS`` alphas of the grid."""
    top = ax.secondary_xaxis("top")
    pick = np.unique(np.linspace(0, alphas.size - 1, min(N_TOP_TICKS, alphas.size)).round().astype(int))
    top.set_xticks(alphas[pick], [str(int(n)) for n in n_nonzero[pick]])
    top.minorticks_off()
    top.set_xlabel("non-zero features")


def _as_path(path: Any) -> PathResult:
    """A PathResult, or the ``path_`` of a fitted LogisticRegressionCV."""
    if hasattr(path, "coef") and hasattr(path, "alphas"):
        return path
    if hasattr(path, "path_"):
        return path.path_
    raise TypeError(f"expected a PathResult or a fitted LogisticRegressionCV, got {type(path).__name__}")


def plot_path(
    path: Any,
    *,
    cv: Any = None,
    class_index: int | None = None,
    feature_names: Any = None,
    n_labels: int = DEFAULT_N_LABELS,
    ax: Axes | None = None,
) -> Figure:
    """Coefficient paths: every feature's coefficient against ``alpha`` (log scale).

    Parameters
    ----------
    path : PathResult or fitted LogisticRegressionCV
        From :func:`logitfit.regularization_path` (or the CV estimator's ``path_``,
        whose vertical lines then mark ``alpha_min_`` and ``alpha_1se_``).
    cv : fitted LogisticRegressionCV, optional
        Mark its ``alpha_min_`` and ``alpha_1se_`` on this path (e.g. the
        full-grid path from :func:`logitfit.regularization_path`).
    class_index : int, optional
        Multinomial paths: draw class ``class_index``'s coefficients ``B_jk``.
        By default a multinomial path draws each feature's Euclidean norm
        over the classes, ``||B_j||_2`` (the quantity the grouped penalty
        acts on). Ignored for binary paths.
    feature_names : sequence of str, optional
        Labels for the ``n_labels`` features with the largest magnitude at the
        smallest alpha (default ``x0, x1, ...``).
    n_labels : int
        How many line ends to label (0 for none).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from logitfit import LogisticRegression, plots
    >>> model = LogisticRegression().fit(X, y)
    >>> proba = model.predict_proba(X)
    >>> from logitfit import regularization_path
    >>> fig = plots.plot_path(regularization_path(X, y, n_alphas=10))
    >>> fig.axes[0].get_xscale()
    'log'
    """
    if cv is None and hasattr(path, "alpha_min_"):
        cv = path
    r = _as_path(path)
    fig, ax = _axes(ax)
    K = r.coef.shape[1]
    if K == 1:
        C, ylabel = r.coef[:, 0, :], "coefficient"
    elif class_index is not None:
        C = r.coef[:, class_index, :]
        name = r.classes[class_index] if r.classes is not None else class_index
        ylabel = f"coefficient (class {name})"
    else:
        C, ylabel = np.linalg.norm(r.coef, axis=1), "||coefficients over classes||"
    ax.plot(r.alphas, C, lw=1.2)
    ax.set_xscale("log")
    ax.set_xlim(r.alphas.max(), r.alphas.min())
    ax.axhline(0.0, color="grey", lw=0.6)
    ax.set(xlabel="alpha (log scale; penalty decreases to the right)", ylabel=ylabel,
           title=f"regularisation path (l1_ratio={r.l1_ratio:g})")
    names = feature_names if feature_names is not None else [f"x{j}" for j in range(C.shape[1])]
    order = np.argsort(-np.abs(C[-1]))[: max(n_labels, 0)]
    for j in order:
        if C[-1, j] != 0:
            ax.annotate(str(names[j]), (r.alphas[-1], C[-1, j]), xytext=(3, 0),
                        textcoords="offset points", fontsize="x-small", va="center")
    _nonzero_axis(ax, r.alphas, r.n_nonzero)
    if cv is not None:
        _mark_selected(ax, cv)
    return fig


def _mark_selected(ax: Axes, cv: Any) -> None:
    ax.axvline(cv.alpha_min_, ls="--", color="C3", lw=1, label=f"alpha_min = {cv.alpha_min_:.3g}")
    ax.axvline(cv.alpha_1se_, ls=":", color="C2", lw=1.2, label=f"alpha_1se = {cv.alpha_1se_:.3g}")
    ax.legend(loc="best", fontsize="small")


_SCORE_LABEL = {
    "deviance": "held-out deviance (mean per row)",
    "auc": "held-out AUC",
    "accuracy": "held-out accuracy",
}


def plot_cv(cv: Any, *, ax: Axes | None = None) -> Figure:
    """Cross-validation curve: mean fold score against ``alpha`` with +-1 standard error bars.

    The points are ``cv_mean_[a]`` with error bars ``cv_mean_[a] +- cv_se_[a]``
    (``cv_se_ = sd over folds / sqrt(k)``); dashed and dotted vertical lines
    mark ``alpha_min_`` and ``alpha_1se_`` (the largest alpha whose mean is
    within one standard error of the best), as in glmnet's ``plot.cv.glmnet``.

    Parameters
    ----------
    cv : fitted LogisticRegressionCV
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from logitfit import LogisticRegression, plots
    >>> model = LogisticRegression().fit(X, y)
    >>> proba = model.predict_proba(X)
    >>> from logitfit import LogisticRegressionCV
    >>> cv = LogisticRegressionCV(n_alphas=10, cv=3, random_state=0).fit(X, y)
    >>> fig = plots.plot_cv(cv)
    >>> fig.axes[0].get_xscale()
    'log'
    """
    if not hasattr(cv, "cv_mean_"):
        raise TypeError("plot_cv needs a fitted LogisticRegressionCV")
    fig, ax = _axes(ax)
    ax.errorbar(cv.alphas_, cv.cv_mean_, yerr=cv.cv_se_, fmt="o", ms=3, color="C0",
                ecolor="0.6", elinewidth=1, capsize=2)
    ax.set_xscale("log")
    ax.set_xlim(cv.alphas_.max(), cv.alphas_.min())
    ax.set(xlabel="alpha (log scale; penalty decreases to the right)",
           ylabel=_SCORE_LABEL.get(cv.scoring, cv.scoring),
           title=f"{cv.cv_scores_.shape[0]}-fold cross-validation")
    if getattr(cv, "cv_n_nonzero_", None) is not None:
        _nonzero_axis(ax, cv.alphas_, np.round(cv.cv_n_nonzero_))
    _mark_selected(ax, cv)
    return fig
