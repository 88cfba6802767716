"""The ordinal model's category probabilities against one covariate, the others held at typical values.

Nothing is computed here but the grid: the probabilities come from the fitted
model's ``predict_proba`` on a table where ``feature`` runs over its observed
range and every other input column is held at its mean (numbers) or its most
frequent value (anything else). matplotlib is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from logitfit.plots.fit import _axes

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["category_grid", "choose_covariate", "plot_category_probabilities"]

GRID_POINTS = 101


def choose_covariate(data: Any, columns: list[str]) -> str:
    """The numeric column with the most distinct values (the first column when none is numeric)."""
    best, best_n = columns[0], -1
    for c in columns:
        values = np.asarray(data[c])
        if values.dtype.kind in "iuf":
            n = np.unique(values).size
            if n > best_n:
                best, best_n = c, n
    return best


def category_grid(data: Any, columns: list[str], feature: str, n: int = GRID_POINTS) -> Any:
    """A pandas DataFrame of ``n`` rows: ``feature`` from its minimum to its maximum, the rest typical."""
    import pandas as pd

    values = np.asarray(data[feature])
    if values.dtype.kind in "iuf":
        grid = np.linspace(float(np.min(values)), float(np.max(values)), n)
    else:
        grid = np.unique(values)
    out = {}
    for c in columns:
        if c == feature:
            out[c] = grid
            continue
        col = pd.Series(np.asarray(data[c]))
        if col.dtype.kind in "iuf" and col.nunique() > 2:
            out[c] = np.full(grid.size, float(col.mean()))
        else:
            out[c] = np.repeat(col.mode().iloc[0], grid.size)
    return pd.DataFrame(out, columns=columns)


def plot_category_probabilities(model: Any, data: Any, feature: str | None = None, columns: list[str] | None = None,
                                ax: Axes | None = None) -> Figure:
    """``P(y = k)`` of every category (and the expected category index) against ``feature``.

    Parameters
    ----------
    model : a fitted :class:`~logitfit.OrdinalLogisticRegression`
    data : DataFrame holding the model's input columns (the grid's ranges and typical values)
    feature : the covariate to vary (default: :func:`choose_covariate`)
    columns : the model's input columns (default: its ``feature_names_in_``)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from logitfit import OrdinalLogisticRegression
    >>> from logitfit.plots.ordinal import plot_category_probabilities
    >>> rng = np.random.default_rng(0)
    >>> data = pd.DataFrame({"x": rng.normal(size=200), "z": rng.integers(0, 2, 200)})
    >>> y = np.digitize(data["x"] + rng.logistic(size=200), [-1.0, 1.0])
    >>> model = OrdinalLogisticRegression().fit(data, y)
    >>> fig = plot_category_probabilities(model, data)
    >>> fig.axes[0].get_xlabel()
    'x'
    >>> len(fig.axes[0].get_lines())
    3
    """
    if columns is None:
        encoder = getattr(model, "encoder_", None)
        columns = list(encoder.input_columns) if encoder is not None else [str(c) for c in model.feature_names_in_]
    feature = feature or choose_covariate(data, columns)
    if feature not in columns:
        raise ValueError(f"{feature!r} is not an input column of the model ({', '.join(columns)})")
    grid = category_grid(data, columns, feature)
    proba = model.predict_proba(grid)
    fig, ax = _axes(ax)
    x = np.asarray(grid[feature])
    numeric = x.dtype.kind in "iuf"
    for k, label in enumerate(model.classes_):
        if numeric:
            ax.plot(x, proba[:, k], label=str(label))
        else:
            ax.plot(np.arange(x.size), proba[:, k], marker="o", label=str(label))
    if not numeric:
        ax.set_xticks(np.arange(x.size), [str(v) for v in x])
    ax.set_xlabel(feature)
    ax.set_ylabel("probability (other inputs at mean / mode)")
    ax.set_ylim(0.0, 1.0)
    ax.set_title(f"P(category) against {feature}")
    ax.legend(title="category", fontsize="small")
    return fig
