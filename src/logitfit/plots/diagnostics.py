"""Plots of model checking: residuals against fitted values, influence (leverage, Cook's distance).

Both draw a table of :meth:`LogisticRegression.diagnostics
<logitfit.estimators.checking.CheckingMixin.diagnostics>` (a DataFrame, a dict
of arrays, or a streamed file read back with pandas); nothing is computed here
but where to draw. matplotlib is imported on first use (Agg backend unless one
is chosen), each function returns the Figure and accepts ``ax=``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from logitfit.plots.fit import _axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_influence", "plot_residuals"]

#: Most points drawn; larger tables are thinned evenly (the most influential rows are always kept).
MAX_POINTS = 20_000
#: Rows labelled by their index in the influence plot.
LABELLED = 3


def _column(table: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(table[name], dtype=np.float64)
    except KeyError:
        raise ValueError(f"the table has no column {name!r}: give the output of "
                         "model.diagnostics(X, y)") from None


def _labels(table: Any, n: int) -> np.ndarray:
    if "row" in getattr(table, "keys", lambda: [])():
        return np.asarray(table["row"])
    index = getattr(table, "index", None)
    return np.asarray(index) if index is not None and len(index) == n else np.arange(n)


def _shown(cooks: np.ndarray, max_points: int) -> np.ndarray:
    """Indices drawn: every k-th row plus the most influential ones."""
    n = len(cooks)
    if n <= max_points:
        return np.arange(n)
    step = -(-n // max_points)
    top = np.argsort(-np.nan_to_num(cooks, nan=-np.inf))[:100]
    return np.union1d(np.arange(0, n, step), top)


def plot_residuals(table: Any, kind: str = "deviance", *, bins: int = 20,
                   max_points: int = MAX_POINTS, ax: Axes | None = None) -> Figure:
    """Residuals against fitted probabilities, with the mean residual in quantile bins.

    For 0/1 data each label draws its own band; the binned means (line) should
    stay near 0 when the model is right.

    Parameters
    ----------
    table : DataFrame or dict
        ``model.diagnostics(X, y)`` (columns ``fitted`` and the residual ``kind``).
    kind : {"deviance", "pearson", "response", "student_pearson", "student_deviance"}
    bins : int, quantile bins of the fitted probability for the mean line.
    max_points : int, rows drawn at most (thinned evenly beyond).
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from logitfit import LogisticRegression, plots
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> table = LogisticRegression().fit(X, y).diagnostics(X, y)
    >>> fig = plots.plot_residuals(table)
    >>> fig.axes[0].get_ylabel()
    'deviance residual'
    """
    if kind not in ("deviance", "pearson", "response", "student_pearson", "student_deviance"):
        raise ValueError(f"kind must be a residual column of the diagnostics table, got {kind!r}")
    p, r = _column(table, "fitted"), _column(table, kind)
    fig, ax = _axes(ax)
    cooks = _column(table, "cooks_distance") if "cooks_distance" in table else np.zeros(len(p))
    idx = _shown(cooks, max_points)
    ax.scatter(p[idx], r[idx], s=8, alpha=0.5, color="C0", linewidths=0, label="rows")
    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, min(bins, max(1, len(p))))
    centres = [p[g].mean() for g in groups if len(g)]
    means = [r[g].mean() for g in groups if len(g)]
    ax.plot(centres, means, color="C1", marker="o", ms=3, label=f"mean in {len(means)} bins")
    ax.axhline(0.0, color="grey", lw=1, ls="--")
    ax.set(xlabel="fitted probability", ylabel=f"{kind.replace('_', ' ')} residual",
           title="residuals against fitted values", xlim=(0, 1))
    ax.legend(loc="best", fontsize="small")
    return fig


def plot_influence(table: Any, n_params: int | None = None, *, contours: tuple[float, ...] = (0.5, 1.0),
                   max_points: int = MAX_POINTS, ax: Axes | None = None) -> Figure:
    """Leverage against studentised Pearson residuals, with Cook's distance contours.

    Cook's distance ``D = r^2 h / (q (1 - h))`` (``r`` the studentised residual,
    ``h`` the leverage), so each contour ``D = c`` is ``r = +-sqrt(c q (1 - h) / h)``;
    points are sized by ``D`` and the :data:`LABELLED` largest are labelled with their row.

    Parameters
    ----------
    table : DataFrame or dict, ``model.diagnostics(X, y)``.
    n_params : int, optional
        ``q``; default: the number of ``dfbetas[...]`` columns.
    contours : Cook's distances drawn as dashed curves.
    max_points : int, rows drawn at most (thinned evenly beyond; the most influential kept).
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from logitfit import LogisticRegression, plots
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> table = LogisticRegression().fit(X, y).diagnostics(X, y)
    >>> fig = plots.plot_influence(table)
    >>> fig.axes[0].get_xlabel()
    'leverage'
    """
    h, r = _column(table, "leverage"), _column(table, "student_pearson")
    cooks = _column(table, "cooks_distance")
    if n_params is None:
        n_params = sum(str(c).startswith("dfbetas[") for c in table.keys())
    if n_params < 1:
        raise ValueError("give n_params (the table has no dfbetas columns to count)")
    fig, ax = _axes(ax)
    idx = _shown(cooks, max_points)
    size = 8 + 200 * np.clip(np.nan_to_num(cooks[idx]) / max(1.0, float(np.nanmax(cooks))), 0, 1)
    ax.scatter(h[idx], r[idx], s=size, alpha=0.5, color="C0", linewidths=0)
    hmax = max(float(np.nanmax(h)) * 1.1, 0.05)
    grid = np.linspace(hmax / 200, min(hmax, 0.999), 200)
    for k, c in enumerate(contours):
        bound = np.sqrt(c * n_params * (1 - grid) / grid)
        kw = {"color": "C3", "ls": "--" if k == 0 else ":", "lw": 1}
        ax.plot(grid, bound, label=f"Cook's distance {c:g}", **kw)
        ax.plot(grid, -bound, **kw)
    rows = _labels(table, len(h))
    for i in np.argsort(-np.nan_to_num(cooks, nan=-np.inf))[:LABELLED]:
        ax.annotate(str(rows[i]), (h[i], r[i]), xytext=(4, 4), textcoords="offset points",
                    fontsize="x-small")
    span = float(np.nanmax(np.abs(r))) * 1.2 if len(r) else 1.0
    ax.axhline(0.0, color="grey", lw=1)
    ax.set(xlabel="leverage", ylabel="studentised Pearson residual", xlim=(0, hmax),
           ylim=(-max(span, 1.0), max(span, 1.0)), title="influence")
    ax.legend(loc="best", fontsize="small")
    return fig
