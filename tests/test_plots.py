"""logitfit.plots.fit: every function returns a Figure, draws into a given ax, and renders.

Oracle: the figure renders to a non-empty PNG; drawing into an existing axes
returns that axes' figure; curves use the data given (ROC ends at (1, 1)).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from logitfit import plots  # noqa: E402
from logitfit.estimators.logistic import LogisticRegression  # noqa: E402


@pytest.fixture(scope="module")
def fit2():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X @ [1.5, -1.0] + rng.logistic(size=300) > 0).astype(int)
    m = LogisticRegression().fit(X, y)
    return m, X, y, m.predict_proba(X)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _all(m, X, y, P, ax=None):
    return [
        plots.plot_history(m.history_, ax=ax),
        plots.plot_roc(y, P, m.classes_, ax=ax),
        plots.plot_pr(y, P, m.classes_, ax=ax),
        plots.plot_calibration(y, P, m.classes_, ax=ax),
        plots.plot_coefficients(m.coef_[0], ["a", "b"], np.array([0.1, 0.2]), ax=ax),
        plots.plot_confusion([[100, 20], [30, 150]], [0, 1], ax=ax),
        plots.plot_decision_boundary(m, X, y, resolution=40, ax=ax),
    ]


def test_every_plot_returns_a_figure_that_renders(fit2):
    for fig in _all(*fit2):
        assert isinstance(fig, Figure)
        assert _png(fig)[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_draw_into_given_axes(fit2):
    fig = Figure()
    ax = fig.add_subplot()
    for out in _all(*fit2, ax=ax):
        assert out is fig


def test_roc_curve_uses_the_data(fit2):
    m, X, y, P = fit2
    fig = plots.plot_roc(y, P, m.classes_)
    line = fig.axes[0].lines[0]
    assert line.get_xdata()[-1] == 1.0 and line.get_ydata()[-1] == 1.0
    assert "AUC" in line.get_label()


def test_multiclass_curves_and_boundary_check():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = np.argmax(X + rng.gumbel(size=(300, 3)), axis=1)
    m = LogisticRegression().fit(X, y)
    P = m.predict_proba(X)
    assert len(plots.plot_roc(y, P, m.classes_).axes[0].lines) == 4  # 3 classes + chance line
    plots.plot_calibration(y, P, m.classes_)
    with pytest.raises(ValueError, match="exactly two features"):
        plots.plot_decision_boundary(m, X)
