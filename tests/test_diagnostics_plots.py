"""logitfit.plots.diagnostics: the residual and influence plots render and draw the table given.

Oracle: each figure renders to a non-empty PNG; the scatter holds the table's
points; the Cook's distance contours satisfy D = r^2 h / (q (1 - h)) at their level;
the most influential rows are labelled; drawing into a given axes returns its figure.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from logitfit import LogisticRegression, plots  # noqa: E402
from logitfit.datasets import load_spector  # noqa: E402


@pytest.fixture(scope="module")
def table():
    d = load_spector()
    X = d[["GPA", "TUCE", "PSI"]]
    return LogisticRegression().fit(X, d["GRADE"]).diagnostics(X, d["GRADE"])


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_residual_plot_draws_every_row_and_the_binned_means(table):
    fig = plots.plot_residuals(table, kind="pearson", bins=4)
    ax = fig.axes[0]
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 0], table["fitted"])
    np.testing.assert_allclose(offsets[:, 1], table["pearson"])
    assert len(ax.lines[0].get_xdata()) == 4
    assert _png(fig)[:4] == b"\x89PNG"


def test_influence_plot_contours_are_cooks_distance_levels(table):
    fig = plots.plot_influence(table)
    ax = fig.axes[0]
    q = 4
    for line, level in ((ax.lines[0], 0.5), (ax.lines[2], 1.0)):
        h, r = line.get_xdata(), line.get_ydata()
        np.testing.assert_allclose(r**2 * h / (q * (1 - h)), level, rtol=1e-12)
    labels = sorted(t.get_text() for t in ax.texts)
    top = sorted(str(i) for i in table["cooks_distance"].nlargest(3).index)
    assert labels == top
    assert _png(fig)[:4] == b"\x89PNG"


def test_plots_draw_into_a_given_axes_and_accept_dicts_and_thin_large_tables():
    fig = Figure()
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 2))
    y = (X @ [1.0, -2.0] + rng.logistic(size=3000) > 0).astype(int)
    out = LogisticRegression().fit(X, y).diagnostics(X, y)
    assert isinstance(out, dict)
    assert plots.plot_influence(out, ax=ax) is fig
    thin = plots.plot_residuals(out, max_points=500)
    assert 500 <= len(thin.axes[0].collections[0].get_offsets()) <= 600
    with pytest.raises(ValueError, match="kind"):
        plots.plot_residuals(out, kind="raw")
    with pytest.raises(ValueError, match="no column 'leverage'"):
        plots.plot_influence({"fitted": np.ones(3)})


def test_report_has_a_model_checking_section(table):
    from logitfit.metrics import classification_report
    from logitfit.report import _checking_section, build_report

    d = load_spector()
    X, y = d[["GPA", "TUCE", "PSI"]], d["GRADE"].to_numpy()
    model = LogisticRegression().fit(X, y)
    proba = model.predict_proba(X)
    metrics = classification_report(y, proba, model.classes_)
    plain = build_report(model.to_fitted(), y, proba, metrics=metrics)  # what `logitfit report` gives
    section = plain.split("<h2>Model checking</h2>")[1]
    assert section.count("<img") == 1 and "Hosmer-Lemeshow" in section and "diagnostics=" in section
    full = _checking_section(model.classes_, y, proba, table, model.goodness_of_fit(X, y))
    assert full.count("<img") == 2 and "le Cessie-van Houwelingen" in full
