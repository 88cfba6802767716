"""Path and CV plots. Oracle: the drawn artists carry exactly the fitted numbers
(each line is one feature's coefficients, the error bars are cv_mean_ +- cv_se_,
the vertical lines sit at alpha_min_ and alpha_1se_)."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402

from logitfit.estimators.cv import LogisticRegressionCV  # noqa: E402
from logitfit.estimators.regularization import regularization_path  # noqa: E402
from logitfit.plots.paths import plot_cv, plot_path  # noqa: E402

N_ALPHAS = 10
EXACT = 0.0  # drawn data are the fitted arrays themselves


@pytest.fixture(scope="module")
def binary_path():
    X, y = make_classification(150, 6, n_informative=3, random_state=0)
    return regularization_path(X, y, n_alphas=N_ALPHAS, alpha_min_ratio=1e-2)


@pytest.fixture(scope="module")
def fitted_cv():
    X, y = make_classification(150, 6, n_informative=3, random_state=1)
    return LogisticRegressionCV(n_alphas=N_ALPHAS, cv=3, alpha_min_ratio=1e-2, n_jobs=1).fit(X, y)


def _data_lines(ax):
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]


def test_path_lines_are_the_coefficients(binary_path):
    r = binary_path
    fig = plot_path(r)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    lines = _data_lines(ax)
    assert len(lines) == r.coef.shape[2]
    for j, ln in enumerate(lines):
        np.testing.assert_allclose(ln.get_xdata(), r.alphas, atol=EXACT)
        np.testing.assert_allclose(ln.get_ydata(), r.coef[:, 0, j], atol=EXACT)
    assert ax.get_xscale() == "log"
    lo, hi = ax.get_xlim()
    assert lo > hi  # alpha decreases to the right
    fig.canvas.draw()  # renders without error (Agg)


def test_path_into_given_axes_and_labels(binary_path):
    fig = Figure()
    ax = fig.add_subplot()
    out = plot_path(binary_path, ax=ax, feature_names=list("abcdef"), n_labels=2)
    assert out is fig
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 2 and set(texts) <= set("abcdef")


def test_multinomial_path_norms_and_one_class():
    X, y = make_classification(150, 5, n_informative=3, n_classes=3, random_state=2)
    r = regularization_path(X, y, n_alphas=6, alpha_min_ratio=0.05, grouped=True)
    lines = _data_lines(plot_path(r).axes[0])
    np.testing.assert_allclose(lines[0].get_ydata(), np.linalg.norm(r.coef[:, :, 0], axis=1), atol=EXACT)
    lines = _data_lines(plot_path(r, class_index=2).axes[0])
    np.testing.assert_allclose(lines[1].get_ydata(), r.coef[:, 2, 1], atol=EXACT)


def test_cv_curve_error_bars_and_selected_alphas(fitted_cv):
    cv = fitted_cv
    fig = plot_cv(cv)
    ax = fig.axes[0]
    (points,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    np.testing.assert_allclose(points.get_xdata(), cv.alphas_, atol=EXACT)
    np.testing.assert_allclose(points.get_ydata(), cv.cv_mean_, atol=EXACT)
    (bars,) = ax.collections  # the error bar segments
    segs = np.array([s[:, 1] for s in bars.get_segments()])
    np.testing.assert_allclose(segs[:, 0], cv.cv_mean_ - cv.cv_se_, rtol=1e-12)
    np.testing.assert_allclose(segs[:, 1], cv.cv_mean_ + cv.cv_se_, rtol=1e-12)
    vlines = sorted(ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() in ("--", ":"))
    assert vlines == sorted([cv.alpha_min_, cv.alpha_1se_])
    assert cv.cv_n_nonzero_.shape == cv.alphas_.shape
    fig.canvas.draw()


def test_path_of_cv_marks_the_selection(fitted_cv):
    ax = plot_path(fitted_cv).axes[0]
    xs = {ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() in ("--", ":")}
    assert xs == {fitted_cv.alpha_min_, fitted_cv.alpha_1se_}


def test_wrong_inputs():
    with pytest.raises(TypeError, match="LogisticRegressionCV"):
        plot_cv(object())
    with pytest.raises(TypeError, match="PathResult"):
        plot_path(object())


def test_import_does_not_load_matplotlib():
    code = "import logitfit.plots.paths, sys; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_full_path_marked_with_a_cv_fit(binary_path, fitted_cv):
    ax = plot_path(binary_path, cv=fitted_cv).axes[0]
    xs = {ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() in ("--", ":")}
    assert xs == {fitted_cv.alpha_min_, fitted_cv.alpha_1se_}
    assert len(_data_lines(ax)) == binary_path.coef.shape[2]
