"""logitfit.plots.marginal: the marginal-means and contrasts plots draw the tables they are given.

Oracle: the numbers read back from the matplotlib artists (error-bar segments,
line data, the band's polygon, the reference line, tick labels) equal the
columns of ``model.marginal_means`` / ``model.contrasts`` computed in the test,
to 1e-12 relative (error-bar ends are ``proba -+ length``, one rounding away
from the bounds). Data: the Spector-Mazzeo set shipped with the package (TUCE
cut into three bands) and a generated three-class set.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from logitfit import LogisticRegression, plots  # noqa: E402
from logitfit.datasets import load_spector  # noqa: E402

RTOL = 1e-12
BANDS = ["low", "mid", "high"]


@pytest.fixture(scope="module")
def spector():
    d = load_spector()
    d["tuce"] = pd.cut(d["TUCE"], [0, 20, 24, 30], labels=BANDS).astype(str)
    d["band"] = d["tuce"].map({"low": 1, "mid": 2, "high": 3}).astype(int)
    return d


@pytest.fixture(scope="module")
def model(spector):
    return LogisticRegression.from_formula("GRADE ~ GPA + C(PSI) + tuce", spector)


def _bars(ax, vertical: bool = True) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(x, y of the points, lower end, upper end) of each error-bar container of ``ax``."""
    out = []
    for c in ax.containers:
        assert isinstance(c, ErrorbarContainer)
        line, _, (bars,) = c.lines
        x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        k = 1 if vertical else 0
        # a bar left undrawn (a bound not finite) has no segment: match segments to points
        ends = {float(s[0, 1 - k]): (s[:, k].min(), s[:, k].max())
                for s in map(np.asarray, bars.get_segments()) if len(s)}
        lo, hi = np.array([ends.get(float(v), (np.nan, np.nan)) for v in (x if vertical else y)]).T
        out.append((x, y, lo, hi))
    return out


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_one_point_per_level_with_bars_ending_at_the_interval_bounds(model, spector):
    at = {"tuce": BANDS}
    table = model.marginal_means(spector, at)
    for fig in (plots.plot_marginal_means(table), plots.plot_marginal_means(model, spector, at)):
        ax = fig.axes[0]
        ((x, y, lo, hi),) = _bars(ax)
        assert len(y) == len(BANDS) == len(ax.get_xticks())
        assert [t.get_text() for t in ax.get_xticklabels()] == BANDS
        np.testing.assert_array_equal(x, np.arange(3))
        np.testing.assert_allclose(y, table["proba"], rtol=RTOL)
        np.testing.assert_allclose(lo, table["lower"], rtol=RTOL)
        np.testing.assert_allclose(hi, table["upper"], rtol=RTOL)
        assert ax.get_xlabel() == "tuce"
        assert _png(fig)[:4] == b"\x89PNG"
    assert plots.plot_marginal_means(model, spector, at).axes[0].get_title().endswith("95% intervals")
    assert plots.plot_marginal_means(model, spector, at, level=0.9).axes[0].get_title().endswith(
        "90% intervals")


def test_a_second_grid_variable_makes_dodged_series(model, spector):
    at = {"tuce": BANDS, "PSI": [0, 1]}
    table = model.marginal_means(spector, at)
    ax = plots.plot_marginal_means(table).axes[0]
    series = _bars(ax)
    assert len(series) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["PSI=0", "PSI=1"]
    for psi, (x, y, lo, hi) in zip((0, 1), series, strict=True):
        rows = table[table["PSI"] == psi]
        np.testing.assert_allclose(np.round(x), np.arange(3))
        np.testing.assert_allclose(y, rows["proba"], rtol=RTOL)
        np.testing.assert_allclose(lo, rows["lower"], rtol=RTOL)
        np.testing.assert_allclose(hi, rows["upper"], rtol=RTOL)
    assert np.all(series[0][0] < series[1][0])  # shifted apart, one level at a time
    # with x= the other variable goes on the axis
    ax = plots.plot_marginal_means(table, x="PSI").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1"] and len(ax.containers) == 3


def test_numeric_grid_draws_a_line_with_the_interval_as_a_band(model, spector):
    gpa = np.linspace(2.0, 4.0, 21)
    table = model.marginal_means(spector, {"GPA": gpa, "PSI": [0, 1]})
    ax = plots.plot_marginal_means(table).axes[0]
    assert not ax.containers and len(ax.lines) == 2
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    for psi, line, band in zip((0, 1), ax.lines, bands, strict=True):
        rows = table[table["PSI"] == psi]
        np.testing.assert_allclose(line.get_xdata(), gpa, rtol=RTOL)
        np.testing.assert_allclose(line.get_ydata(), rows["proba"], rtol=RTOL)
        v = band.get_paths()[0].vertices
        for g, lo, hi in zip(gpa, rows["lower"], rows["upper"], strict=True):
            ys = v[np.isclose(v[:, 0], g, rtol=0, atol=1e-12), 1]
            np.testing.assert_allclose([ys.min(), ys.max()], [lo, hi], rtol=RTOL)
        np.testing.assert_array_equal(band.get_facecolor()[0][:3], matplotlib.colors.to_rgb(line.get_color()))
    # rows out of order are drawn sorted along x
    shuffled = table.iloc[np.random.default_rng(0).permutation(len(table))]
    line = plots.plot_marginal_means(shuffled).axes[0].lines[0]
    assert np.all(np.diff(line.get_xdata()) > 0)


def test_auto_kind_points_for_factors_named_and_few_values_line_for_numeric_grids(spector):
    m = LogisticRegression.from_formula("GRADE ~ GPA + C(band)", spector)
    by_name = plots.plot_marginal_means(m, spector, "band").axes[0]
    assert len(by_name.containers) == 1
    assert not [c for c in by_name.collections if isinstance(c, PolyCollection)]
    as_numbers = plots.plot_marginal_means(m.marginal_means(spector, {"band": [1, 2, 3]})).axes[0]
    assert not as_numbers.containers and len(as_numbers.lines) == 1
    two = plots.plot_marginal_means(m.marginal_means(spector, {"GPA": [3.0, 3.5]})).axes[0]
    assert len(two.containers) == 1
    forced = plots.plot_marginal_means(m.marginal_means(spector, {"band": [1, 2, 3]}), kind="points")
    assert len(forced.axes[0].containers) == 1


def test_contrasts_forest_plot_differences(model, spector):
    table = model.contrasts(spector, {"tuce": BANDS}, adjust="bonferroni")
    fig = plots.plot_contrasts(table)
    ax = fig.axes[0]
    ((x, y, lo, hi),) = _bars(ax, vertical=False)
    np.testing.assert_allclose(x, table["estimate"], rtol=RTOL)
    np.testing.assert_allclose(lo, table["lower"], rtol=RTOL)
    np.testing.assert_allclose(hi, table["upper"], rtol=RTOL)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(table["contrast"]) == ["low - mid", "low - high", "mid - high"]
    np.testing.assert_array_equal(y, ax.get_yticks())
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # first pair on top
    (ref,) = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert list(ref.get_xdata()) == [0.0, 0.0] and ax.get_xscale() == "linear"
    assert "difference" in ax.get_xlabel() and "bonferroni" in ax.get_title()
    (right,) = ax.child_axes
    shown = [t.get_text() for t in right.get_yticklabels()]
    assert shown == [f"{p:.3g}" for p in table["p_adjusted"]]
    assert right.get_ylabel() == "adjusted p-value"
    assert _png(fig)[:4] == b"\x89PNG"
    assert not plots.plot_contrasts(table, pvalues=False).axes[0].child_axes


def test_contrasts_forest_plot_odds_ratios_on_a_log_axis(model, spector):
    at = {"PSI": [1, 0]}
    table = model.contrasts(spector, at, scale="odds_ratio", adjust="none")
    for fig in (plots.plot_contrasts(table), plots.plot_contrasts(model, spector, at, scale="odds_ratio",
                                                                  adjust="none")):
        ax = fig.axes[0]
        ((x, _, lo, hi),) = _bars(ax, vertical=False)
        np.testing.assert_allclose(x, table["estimate"], rtol=RTOL)
        np.testing.assert_allclose(lo, table["lower"], rtol=RTOL)
        np.testing.assert_allclose(hi, table["upper"], rtol=RTOL)
        (ref,) = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
        assert list(ref.get_xdata()) == [1.0, 1.0]
        assert ax.get_xscale() == "log" and "odds ratio" in ax.get_xlabel()
        assert [t.get_text() for t in ax.get_yticklabels()] == ["1 / 0"]
    # without a title the scale is read from the labels
    plain = {k: list(table[k]) for k in table.columns}
    assert plots.plot_contrasts(plain).axes[0].get_xscale() == "log"


def test_multinomial_classes_are_series(spector):
    rng = np.random.default_rng(5)
    n = 300
    df = pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n)})
    eta = np.column_stack([np.zeros(n), 0.8 * df.x + (df.g == "b"), -0.5 * df.x + (df.g == "c")])
    p = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    df["y"] = np.array(["lo", "mid", "hi"])[[rng.choice(3, p=row) for row in p]]
    m = LogisticRegression.from_formula("y ~ x + g", df)
    table = m.marginal_means(df, "g")
    ax = plots.plot_marginal_means(table).axes[0]
    series = _bars(ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"class={c}" for c in m.classes_]
    for c, (_, y, lo, hi) in zip(m.classes_, series, strict=True):
        rows = table[table["class"] == c]
        np.testing.assert_allclose(y, rows["proba"], rtol=RTOL)
        np.testing.assert_allclose(lo, rows["lower"], rtol=RTOL)
        np.testing.assert_allclose(hi, rows["upper"], rtol=RTOL)
    out = m.contrasts(df, "g")
    ax = plots.plot_contrasts(out).axes[0]
    assert len(ax.containers) == 3
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"{k}: {c}" for k, c in zip(out["class"], out["contrast"], strict=True)]


def test_draws_into_a_given_axes(model, spector):
    fig = Figure()
    ax1, ax2 = fig.subplots(1, 2)
    assert plots.plot_marginal_means(model, spector, "tuce", ax=ax1) is fig
    assert plots.plot_contrasts(model, spector, "tuce", ax=ax2) is fig
    assert len(ax1.containers) == 1 and len(ax2.containers) == 1


def test_bad_input(model, spector):
    table = model.marginal_means(spector, {"tuce": BANDS})
    with pytest.raises(ValueError, match="kind must be"):
        plots.plot_marginal_means(table, kind="bars")
    with pytest.raises(ValueError, match="x must be a grid column"):
        plots.plot_marginal_means(table, x="GPA")
    with pytest.raises(ValueError, match="needs numeric values of 'tuce'"):
        plots.plot_marginal_means(table, kind="line")
    with pytest.raises(ValueError, match="come with a fitted model"):
        plots.plot_marginal_means(table, spector, "tuce")
    with pytest.raises(ValueError, match="come with a fitted model"):
        plots.plot_marginal_means(table, level=0.9)
    with pytest.raises(ValueError, match="needs the rows to average over"):
        plots.plot_marginal_means(model, spector)
    with pytest.raises(ValueError, match="give the table of model.contrasts"):
        plots.plot_contrasts(np.zeros(3))
    with pytest.raises(ValueError, match="no column 'proba'"):
        plots.plot_marginal_means(table.drop(columns="proba"))
    with pytest.raises(ValueError, match="no grid column"):
        plots.plot_marginal_means(table.drop(columns="tuce"))
    with pytest.raises(ValueError, match="no column 'contrast'"):
        plots.plot_contrasts(table)
    with pytest.raises(ValueError, match="scale must be"):
        plots.plot_contrasts(model, spector, "tuce", scale="ratio")
    odd = {"contrast": ["a - b", "c / d"], "estimate": [0.1, 1.2], "lower": [0.0, 1.0],
           "upper": [0.2, 1.4]}
    with pytest.raises(ValueError, match="cannot tell the scale"):
        plots.plot_contrasts(odd)
    assert plots.plot_contrasts(odd, scale="difference").axes[0].get_xscale() == "linear"


def test_a_bar_with_a_bound_not_finite_is_left_undrawn():
    table = {"g": ["a", "b"], "proba": [0.2, 0.5], "lower": [0.1, np.nan], "upper": [0.3, np.nan]}
    ax = plots.plot_marginal_means(table).axes[0]
    ((_, y, lo, hi),) = _bars(ax)
    np.testing.assert_allclose(y, [0.2, 0.5])
    assert lo[0] == pytest.approx(0.1) and hi[0] == pytest.approx(0.3)
    assert np.isnan(lo[1]) and np.isnan(hi[1])
    odds = {"contrast": ["a / b"], "estimate": [3.0], "lower": [0.5], "upper": [np.inf]}
    ax = plots.plot_contrasts(odds).axes[0]
    ((x, _, lo, hi),) = _bars(ax, vertical=False)
    assert x[0] == 3.0 and np.isnan(lo[0]) and np.isnan(hi[0])
