"""Plots of marginal means and their contrasts: points with intervals, a line with a band, a forest.

Both draw a table of :meth:`LogisticRegression.marginal_means
<logitfit.estimators.terms.TermsMixin.marginal_means>` or :meth:`contrasts
<logitfit.estimators.terms.TermsMixin.contrasts>` (a DataFrame or a dict of
columns), or ask a fitted model for it given ``data`` and ``at``; nothing is
computed here but where to draw. matplotlib is imported on first use (Agg
backend unless one is chosen); each function returns the Figure and accepts ``ax=``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from logitfit.plots.fit import _axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_contrasts", "plot_marginal_means"]

#: Columns of a marginal-means table that are not grid variables.
_STAT_COLUMNS = ("class", "proba", "se", "lower", "upper")
#: Least number of distinct numeric grid values drawn as a line (fewer: points).
LINE_MIN_VALUES = 3


def _table(result: Any, data: Any, at: Any, method: str, options: dict[str, Any]) -> Any:
    """The table to draw: ``result`` itself, or ``result.<method>(data, at, **options)`` of a model."""
    if hasattr(result, "keys"):
        if data is not None or at is not None or options:
            raise ValueError(f"data, at and {', '.join(options) or 'options'} come with a fitted "
                             f"model; a table from model.{method}(...) is drawn as it is")
        return result
    compute = getattr(result, method, None)
    if not callable(compute):
        raise ValueError(f"give the table of model.{method}(data, at), or a fitted model with "
                         f"data and at; got {type(result).__name__}")
    if data is None or at is None:
        raise ValueError(f"a fitted model needs the rows to average over and the grid: "
                         f"(model, data, at), as model.{method}(data, at)")
    return compute(data, at, **options)


def _column(table: Any, name: str, method: str, numeric: bool = True) -> np.ndarray:
    try:
        values = table[name]
    except KeyError:
        raise ValueError(f"the table has no column {name!r}: give the output of "
                         f"model.{method}(data, at)") from None
    return np.asarray(values, dtype=np.float64) if numeric else np.asarray(values, dtype=object)


def _keys(table: Any) -> list[str]:
    return [str(k) for k in table.keys()]


def _series(table: Any, names: list[str], n: int) -> list[tuple[str | None, np.ndarray]]:
    """Rows grouped by the values of ``names``, in order of first appearance: (label, row indices)."""
    if not names:
        return [(None, np.arange(n))]
    cols = [list(np.asarray(table[c], dtype=object)) for c in names]
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i in range(n):
        groups.setdefault(tuple(c[i] for c in cols), []).append(i)
    return [(", ".join(f"{k}={_text(v)}" for k, v in zip(names, key, strict=True)), np.array(rows))
            for key, rows in groups.items()]


def _text(value: Any) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def _is_numeric(values: np.ndarray) -> bool:
    try:
        as_float = np.asarray(values.tolist(), dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return not any(isinstance(v, (bool, np.bool_, str)) for v in values.tolist()) and bool(
        np.all(np.isfinite(as_float)))


def _bar(centre: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Error-bar lengths ``[centre - lower, upper - centre]``; NaN (no bar) where a bound is not finite."""
    drawn = np.isfinite(lower) & np.isfinite(upper)
    below = np.where(drawn, centre - lower, np.nan)
    above = np.where(drawn, upper - centre, np.nan)
    # the bounds come back through sigmoid(logit(m)): a zero-width interval may sit an ulp off m
    return np.clip(np.vstack([below, above]), 0.0, None)


def plot_marginal_means(result: Any, data: Any = None, at: Any = None, *, x: str | None = None,
                        kind: str = "auto", ax: Axes | None = None, **options: Any) -> Figure:
    """Marginal means with their intervals: a point per level, or a line with a band along a number.

    The horizontal axis is the grid variable ``x``; every other grid variable (and
    ``class`` of a multinomial model) makes its own series, in its own colour, the
    points of a series shifted apart so that bars do not overlap. Each point is the
    averaged probability ``proba``; its bar, or the band, runs from ``lower`` to
    ``upper`` as the table gives them (the logit-scale interval of
    :mod:`logitfit.inference.marginal_means`); a point whose bounds are not both
    finite is drawn without its bar (the band has a gap there).

    Parameters
    ----------
    result : DataFrame, dict of columns, or a fitted LogisticRegression
        ``model.marginal_means(data, at)``; or the model, which is then asked for it.
    data, at : the rows averaged over and the grid, with a model (as ``model.marginal_means``).
    x : str, optional
        The grid column on the horizontal axis; default the first.
    kind : {"auto", "points", "line"}
        "points": one point per level with an error bar; "line": the means joined
        along numeric ``x`` with the interval as a shaded band. "auto": "line" when
        ``x`` is numeric with at least :data:`LINE_MIN_VALUES` distinct values (and
        was not given to the model by a factor's name), else "points".
    ax : matplotlib Axes, optional
    **options
        Passed to ``model.marginal_means`` with a model: ``weights``, ``level``,
        ``cov_type``, ``groups``, ``offset``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from logitfit import LogisticRegression, plots
    >>> from logitfit.datasets import load_spector
    >>> d = load_spector()
    >>> model = LogisticRegression.from_formula("GRADE ~ GPA + TUCE + C(PSI)", d)
    >>> fig = plots.plot_marginal_means(model, d, "PSI")
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['0', '1']
    >>> fig = plots.plot_marginal_means(model.marginal_means(d, {"GPA": [2.5, 3.0, 3.5, 4.0]}))
    >>> fig.axes[0].get_xlabel()
    'GPA'
    """
    if kind not in ("auto", "points", "line"):
        raise ValueError(f"kind must be 'auto', 'points' or 'line', got {kind!r}")
    table = _table(result, data, at, "marginal_means", options)
    method = "marginal_means"
    grid = [c for c in _keys(table) if c not in _STAT_COLUMNS]
    if not grid:
        raise ValueError("the table has no grid column: give the output of model.marginal_means(data, at)")
    x = grid[0] if x is None else x
    if x not in grid:
        raise ValueError(f"x must be a grid column of the table ({', '.join(grid)}), got {x!r}")
    proba = _column(table, "proba", method)
    lower, upper = _column(table, "lower", method), _column(table, "upper", method)
    xs = _column(table, x, method, numeric=False)
    numeric = _is_numeric(xs)
    by_name = isinstance(at, str) or (isinstance(at, (list, tuple)) and all(isinstance(a, str) for a in at))
    if kind == "auto":
        line = numeric and not by_name and len(set(xs.tolist())) >= LINE_MIN_VALUES
        kind = "line" if line else "points"
    if kind == "line" and not numeric:
        raise ValueError(f"kind='line' needs numeric values of {x!r}; draw its levels with kind='points'")
    others = [c for c in grid if c != x] + (["class"] if "class" in _keys(table) else [])
    series = _series(table, others, len(proba))
    fig, ax = _axes(ax, (5.5, 4.0))
    if kind == "line":
        xv = xs.astype(np.float64)
        for s, (label, rows) in enumerate(series):
            rows = rows[np.argsort(xv[rows], kind="stable")]
            color = f"C{s % 10}"
            ax.fill_between(xv[rows], lower[rows], upper[rows], color=color, alpha=0.2, lw=0)
            ax.plot(xv[rows], proba[rows], color=color, label=label)
    else:
        levels = list(dict.fromkeys(xs.tolist()))
        position = {v: i for i, v in enumerate(levels)}
        width = min(0.15, 0.6 / len(series))
        for s, (label, rows) in enumerate(series):
            shift = (s - (len(series) - 1) / 2.0) * width
            at_x = np.array([position[v] for v in xs[rows].tolist()], dtype=np.float64) + shift
            ax.errorbar(at_x, proba[rows], yerr=_bar(proba[rows], lower[rows], upper[rows]), fmt="o",
                        capsize=3, color=f"C{s % 10}", label=label)
        ax.set_xticks(np.arange(len(levels)), labels=[_text(v) for v in levels])
        ax.set_xlim(-0.5, len(levels) - 0.5)
    level = options.get("level", 0.95) if not hasattr(result, "keys") else None
    what = f"{level:.0%} intervals" if level is not None else "intervals"
    ax.set(xlabel=x, ylabel="probability averaged over the data", title=f"marginal means with {what}")
    if len(series) > 1:
        ax.legend(loc="best", fontsize="small")
    return fig


def _scale(table: Any, labels: list[str]) -> str:
    """"difference" or "odds_ratio", from the table's title or its contrast labels."""
    title = str(getattr(table, "attrs", {}).get("title", ""))
    if "odds ratio" in title:
        return "odds_ratio"
    if "difference" in title:
        return "difference"
    if labels and all(" / " in c and " - " not in c for c in labels):
        return "odds_ratio"
    if labels and all(" - " in c and " / " not in c for c in labels):
        return "difference"
    raise ValueError("cannot tell the scale of the contrasts from the table: pass "
                     "scale='difference' or scale='odds_ratio'")


def plot_contrasts(result: Any, data: Any = None, at: Any = None, *, scale: str | None = None,
                   pvalues: bool = True, ax: Axes | None = None, **options: Any) -> Figure:
    """Forest plot of pairwise contrasts: one row per pair, its estimate and (adjusted) interval.

    Each row is a pair ``a - b`` (or ``a / b``), first pair on top: a point at the
    estimate and a bar from ``lower`` to ``upper`` as the table gives them
    (Bonferroni's intervals under a Holm or Bonferroni adjustment). The dashed
    reference line is no difference: 0 for differences of probabilities, 1 for odds
    ratios (drawn on a log axis, where the interval is symmetric). With
    ``pvalues`` the adjusted p-value of each pair is written at the right. A pair
    whose bounds are not both finite is drawn without its bar.
    A multinomial table's classes get their own colours and row labels.

    Parameters
    ----------
    result : DataFrame, dict of columns, or a fitted LogisticRegression
        ``model.contrasts(data, at, ...)``; or the model, which is then asked for it.
    data, at : the rows averaged over and the grid, with a model (as ``model.contrasts``).
    scale : {"difference", "odds_ratio"}, optional
        Default: read from the table's ``attrs["title"]`` or its labels; with a
        model, passed on (default "difference").
    pvalues : bool, write the ``p_adjusted`` column beside the rows.
    ax : matplotlib Axes, optional
    **options
        Passed to ``model.contrasts`` with a model: ``adjust``, ``weights``, ``level``,
        ``cov_type``, ``groups``, ``offset``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from logitfit import LogisticRegression, plots
    >>> from logitfit.datasets import load_spector
    >>> d = load_spector()
    >>> model = LogisticRegression.from_formula("GRADE ~ GPA + TUCE + C(PSI)", d)
    >>> fig = plots.plot_contrasts(model, d, {"PSI": [1, 0]}, scale="odds_ratio")
    >>> fig.axes[0].get_xscale(), [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ('log', ['1 / 0'])
    """
    method = "contrasts"
    if scale is not None and scale not in ("difference", "odds_ratio"):
        raise ValueError(f"scale must be 'difference' or 'odds_ratio', got {scale!r}")
    if not hasattr(result, "keys"):
        options = {**options, "scale": scale or "difference"}
    table = _table(result, data, at, method, options)
    names = [_text(c) for c in _column(table, "contrast", method, numeric=False).tolist()]
    scale = scale or _scale(table, names)
    est = _column(table, "estimate", method)
    lower, upper = _column(table, "lower", method), _column(table, "upper", method)
    n = len(est)
    classes = ["class"] if "class" in _keys(table) else []
    series = _series(table, classes, n)
    if classes:
        names = [f"{_text(k)}: {c}" for k, c in zip(table["class"], names, strict=True)]
    widest = max((len(c) for c in names), default=0)
    fig, ax = _axes(ax, (min(12.0, 4.5 + 0.07 * widest), max(2.5, 0.4 * n + 1.4)))
    pos = np.arange(n, dtype=np.float64)
    for s, (label, rows) in enumerate(series):
        ax.errorbar(est[rows], pos[rows], xerr=_bar(est[rows], lower[rows], upper[rows]), fmt="o",
                    capsize=3, color=f"C{s % 10}", label=label)
    odds = scale == "odds_ratio"
    ax.axvline(1.0 if odds else 0.0, color="grey", lw=1, ls="--")
    if odds:
        ax.set_xscale("log")
    ax.set_yticks(pos, labels=names)
    ax.set_ylim(n - 0.5, -0.5)  # first pair on top
    title = str(getattr(table, "attrs", {}).get("title", "pairwise contrasts of marginal means"))
    ax.set_title(title.replace(", ", "\n", 1), fontsize="medium")
    ax.set_xlabel("odds ratio of the averaged probabilities (log scale)" if odds
                  else "difference of the averaged probabilities")
    if pvalues and "p_adjusted" in _keys(table):
        # a secondary axis, so that the layout makes room for the p-values as for tick labels
        right = ax.secondary_yaxis("right")
        right.set_yticks(pos, labels=[f"{p:.3g}" for p in _column(table, "p_adjusted", method)])
        right.tick_params(length=0, labelsize="small")
        right.set_ylabel("adjusted p-value")
    if len(series) > 1:
        ax.legend(loc="best", fontsize="small")
    return fig
