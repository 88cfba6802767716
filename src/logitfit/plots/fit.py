"""Plots of a fit: cost per iteration, ROC, PR, calibration, coefficients, confusion, boundary.

Every function draws with matplotlib (imported on first use, Agg backend
unless one is already chosen), returns the :class:`matplotlib.figure.Figure`
and accepts ``ax=`` to draw into an existing axes. No function computes model
math: probabilities come from ``predict_proba`` and curves from
:mod:`sklearn.metrics`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_history",
    "plot_roc",
    "plot_pr",
    "plot_calibration",
    "plot_coefficients",
    "plot_confusion",
    "plot_decision_boundary",
]

#: Two-sided 95% normal quantile for coefficient intervals.
Z95 = 1.959963984540054


def _axes(ax: Axes | None, size: tuple[float, float] = (5.0, 4.0)) -> tuple[Figure, Axes]:
    import matplotlib

    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _binary_score(y: np.ndarray, proba: np.ndarray, classes: np.ndarray | None) -> tuple[
        np.ndarray, np.ndarray, list[Any]]:
    """(one-hot truth, proba, class labels) with one column per class."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:
        proba = np.column_stack([1 - proba, proba])
    K = proba.shape[1]
    classes = np.arange(K) if classes is None else np.asarray(classes)
    index = {c: i for i, c in enumerate(classes.tolist())}
    yi = np.array([index[v] for v in np.asarray(y).tolist()])
    return np.eye(K)[yi], proba, classes.tolist()


def plot_history(history: dict[str, list[float]] | Any, *, ax: Axes | None = None) -> Figure:
    """Objective (cost J) and max |gradient| per iteration, log scale for the gradient.

    Parameters
    ----------
    history : dict or fitted estimator
        ``history_`` of a fit (lists ``objective`` and ``grad_norm``; entry 0
        is the start) or the estimator itself.
    ax : matplotlib Axes, optional

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
    >>> fig = plots.plot_history(model.history_)
    >>> len(fig.axes)
    2
    """
    h = getattr(history, "history_", history)
    fig, ax = _axes(ax)
    obj = np.asarray(h.get("objective", []), dtype=float)
    ax.plot(np.arange(len(obj)), obj, marker="o", ms=3, color="C0", label="objective J")
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective J (mean log loss + penalty)", color="C0")
    gn = np.asarray(h.get("grad_norm", []), dtype=float)
    if gn.size and np.all(gn[np.isfinite(gn)] > 0):
        ax2 = ax.twinx()
        ax2.semilogy(np.arange(len(gn)), gn, marker="s", ms=3, color="C1", label="max |grad J|")
        ax2.set_ylabel("max |grad J|", color="C1")
    ax.set_title("cost per iteration")
    return fig


def plot_roc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray | None = None, *,
             ax: Axes | None = None) -> Figure:
    """ROC curve (one-vs-rest per class for three or more classes) with AUC in the legend.

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
    >>> fig = plots.plot_roc(y, proba)
    >>> fig.axes[0].get_xlabel()
    'false positive rate'
    """
    from sklearn.metrics import auc, roc_curve

    Y, P, labels = _binary_score(y, proba, classes)
    fig, ax = _axes(ax)
    cols = [1] if P.shape[1] == 2 else range(P.shape[1])
    for k in cols:
        if 0 < Y[:, k].sum() < len(Y):
            fpr, tpr, _ = roc_curve(Y[:, k], P[:, k])
            ax.plot(fpr, tpr, label=f"{labels[k]} (AUC {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve",
           xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize="small")
    return fig


def plot_pr(y: np.ndarray, proba: np.ndarray, classes: np.ndarray | None = None, *,
            ax: Axes | None = None) -> Figure:
    """Precision-recall curve with average precision in the legend.

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
    >>> fig = plots.plot_pr(y, proba)
    >>> fig.axes[0].get_ylabel()
    'precision'
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    Y, P, labels = _binary_score(y, proba, classes)
    fig, ax = _axes(ax)
    cols = [1] if P.shape[1] == 2 else range(P.shape[1])
    for k in cols:
        if Y[:, k].sum() > 0:
            prec, rec, _ = precision_recall_curve(Y[:, k], P[:, k])
            ap = average_precision_score(Y[:, k], P[:, k])
            ax.step(rec, prec, where="post", label=f"{labels[k]} (AP {ap:.3f})")
            ax.axhline(Y[:, k].mean(), ls=":", lw=1, color="grey")
    ax.set(xlabel="recall", ylabel="precision", title="precision-recall curve",
           xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower left", fontsize="small")
    return fig


def plot_calibration(y: np.ndarray, proba: np.ndarray, classes: np.ndarray | None = None, *,
                     n_bins: int = 10, ax: Axes | None = None, intervals: list[dict] | None = None,
                     interval_label: str = "95% interval of the mean predicted") -> Figure:
    """Reliability diagram: observed rate against mean predicted probability per bin.

    Two classes: the event is the positive class ``classes[1]``; more classes:
    the event is "the most probable class is right". ``intervals``: per bin
    ``mean_predicted``, ``observed_rate``, ``lower``, ``upper`` (the interval of the
    bin's mean predicted probability,
    :func:`logitfit.inference.calibration.calibration_intervals`), drawn as
    horizontal bars labelled ``interval_label``.

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
    >>> fig = plots.plot_calibration(y, proba, n_bins=5)
    >>> len(fig.axes) >= 1
    True
    """
    from logitfit.metrics import calibration_table

    Y, P, labels = _binary_score(y, proba, classes)
    if P.shape[1] == 2:
        event, p, what = Y[:, 1] == 1, P[:, 1], f"P({labels[1]})"
    else:
        pred = P.argmax(axis=1)
        event, p, what = Y[np.arange(len(Y)), pred] == 1, P.max(axis=1), "top-class P"
    rows = [r for r in calibration_table(event, p, n_bins) if r["count"]]
    fig, ax = _axes(ax)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect")
    ax.plot([r["mean_predicted"] for r in rows], [r["observed_rate"] for r in rows],
            marker="o", label="model")
    if intervals:
        m = np.array([r["mean_predicted"] for r in intervals])
        xerr = np.array([[r["mean_predicted"] - r["lower"], r["upper"] - r["mean_predicted"]]
                         for r in intervals]).T
        ax.errorbar(m, [r["observed_rate"] for r in intervals], xerr=np.clip(xerr, 0.0, None),
                    fmt="none", ecolor="C3", capsize=3, lw=1.2, label=interval_label)
    ax.set(xlabel=f"mean predicted {what}", ylabel="observed rate", title="calibration",
           xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left", fontsize="small")
    return fig


def plot_coefficients(coef: np.ndarray, names: list[str], se: np.ndarray | None = None, *,
                      intercept: float | None = None, ax: Axes | None = None) -> Figure:
    """Coefficients (one class's row) as points, with 95% intervals when ``se`` is given.

    Parameters
    ----------
    coef : ndarray, shape (p,)
    names : list of str, length p
    se : ndarray, shape (p,), optional
        Standard errors; intervals are ``coef +- 1.96 se``.
    intercept : float, optional
        Shown in the title (not plotted: its scale differs).

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
    >>> fig = plots.plot_coefficients(model.coef_[0], ["a", "b"], intercept=model.intercept_[0])
    >>> len(fig.axes) >= 1
    True
    """
    coef = np.asarray(coef, dtype=float).ravel()
    fig, ax = _axes(ax, (6.0, max(2.5, 0.35 * len(coef) + 1.2)))
    pos = np.arange(len(coef))[::-1]
    if se is not None:
        se = np.asarray(se, dtype=float).ravel()
        ax.errorbar(coef, pos, xerr=Z95 * se, fmt="o", capsize=3, label="coef, 95% CI")
    else:
        ax.plot(coef, pos, "o", label="coef")
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(pos, labels=list(names))
    title = "coefficients (log-odds)"
    if intercept is not None:
        title += f", intercept {intercept:.3g}"
    ax.set(xlabel="coefficient", title=title)
    return fig


def plot_confusion(matrix: np.ndarray | list, labels: list[Any], *,
                   ax: Axes | None = None) -> Figure:
    """Confusion matrix as a heat map with counts (rows: true class, columns: predicted).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from logitfit import plots
    >>> fig = plots.plot_confusion([[50, 10], [5, 35]], labels=[0, 1])
    >>> fig.axes[0].get_title()
    'confusion matrix'
    """
    cm = np.asarray(matrix, dtype=float)
    fig, ax = _axes(ax, (4.5, 4.0))
    im = ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels=[str(v) for v in labels])
    ax.set_yticks(range(len(labels)), labels=[str(v) for v in labels])
    top = cm.max() if cm.size else 0
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, f"{cm[i, j]:g}", ha="center", va="center",
                    color="white" if cm[i, j] > top / 2 else "black")
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix")
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def plot_decision_boundary(model: Any, X: np.ndarray, y: np.ndarray | None = None, *,
                           feature_names: list[str] | None = None, resolution: int = 200,
                           ax: Axes | None = None) -> Figure:
    """Probability surface and the p = 0.5 boundary of a two-feature model, over the data.

    Parameters
    ----------
    model : fitted estimator with ``predict_proba`` and exactly two features
    X : ndarray, shape (n, 2)
    y : ndarray, optional
        Labels, to colour the points.
    feature_names : list of str, optional
    resolution : int
        Grid points per axis.

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
    >>> fig = plots.plot_decision_boundary(model, X, y, feature_names=["a", "b"])
    >>> fig.axes[0].get_xlabel()
    'a'
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs exactly two features; X has shape {X.shape}")
    fig, ax = _axes(ax, (5.5, 4.5))
    pad = 0.05 * (X.max(axis=0) - X.min(axis=0) + 1e-12)
    g0 = np.linspace(X[:, 0].min() - pad[0], X[:, 0].max() + pad[0], resolution)
    g1 = np.linspace(X[:, 1].min() - pad[1], X[:, 1].max() + pad[1], resolution)
    G0, G1 = np.meshgrid(g0, g1)
    grid = np.column_stack([G0.ravel(), G1.ravel()])
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        import pandas as pd

        grid = pd.DataFrame(grid, columns=list(names))
    P = model.predict_proba(grid)
    classes = list(getattr(model, "classes_", range(P.shape[1])))
    if P.shape[1] == 2:
        Z = P[:, 1].reshape(G0.shape)
        cs = ax.contourf(G0, G1, Z, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(G0, G1, Z, levels=[0.5], colors="k", linewidths=1.5)
        fig.colorbar(cs, ax=ax, label=f"P({classes[1]})")
    else:
        Z = P.argmax(axis=1).reshape(G0.shape)
        ax.contourf(G0, G1, Z, levels=np.arange(P.shape[1] + 1) - 0.5, cmap="tab10", alpha=0.3)
    if y is not None:
        y = np.asarray(y)
        for k, c in enumerate(classes):
            m = y == c
            ax.scatter(X[m, 0], X[m, 1], s=8, color=f"C{k}", edgecolor="none", label=str(c))
        ax.legend(title="class", fontsize="small")
    fn = feature_names or [str(n) for n in (names if names is not None else ["x0", "x1"])]
    ax.set(xlabel=fn[0], ylabel=fn[1], title="decision boundary (p = 0.5)")
    return fig
