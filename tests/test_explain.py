"""Tests of logitfit.explain and the ``logitfit explain`` commands.

Oracles: the algebra itself (every derivation step is a different float64
computation of one number, so consecutive steps must agree to rounding);
central finite differences; the published values of the Coursera Machine
Learning exercise 2 (REFERENCE.md section 1); statsmodels' Logit for the
maximum-likelihood optimum; the descent lemma for monotone gradient descent.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logitfit import explain as ex
from logitfit.model.textbook import cost, gradient

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "ng-ex2"

# Consecutive derivation steps, relative to the size of the summands (see DerivationStep).
STEP_RTOL = 1e-12
# The closed form against a central finite difference of the cost.
FD_RTOL = 1e-6
# Published course numbers are printed to 4 decimals (gradient) or 3 (theta, cost).
PUBLISHED_4DP = 5e-5
PUBLISHED_3DP = 5e-4
# sigma' against central differences with step eps^(1/3): error ~ eps^(2/3) ~ 4e-11.
SIGMOID_FD_ATOL = 1e-9
# cost = -loglike/m: two summations of the same 100 terms.
LIKELIHOOD_RTOL = 1e-14
# Newton on J vs Fisher scoring on log L vs statsmodels' Newton, all run to convergence.
OPTIMUM_RTOL = 1e-8
STATSMODELS_RTOL = 1e-6
# Momentum / Adam after 60 steps: the optimality gap shrinks by this factor at least
# (measured about 4e-4 on the standardised data of the test).
DESCENT_GAP = 1e-2
# Analytic derivatives of the squared error against central differences.
SQ_FD_RTOL = 1e-6


def _course(name: str) -> tuple[np.ndarray, np.ndarray]:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"course data {path} absent (../shared/data is not checked out)")
    d = np.loadtxt(path, delimiter=",")
    return ex.with_intercept(d[:, :2]), d[:, 2]


def _map_feature(x1: np.ndarray, x2: np.ndarray, degree: int = 6) -> np.ndarray:
    """The course's 28 monomials x1^(i-j) x2^j, i = 0..6, j = 0..i."""
    return np.column_stack([x1 ** (i - j) * x2**j for i in range(degree + 1) for j in range(i + 1)])


def _generated(m: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = ex.with_intercept(rng.normal(size=(m, n)) * rng.uniform(0.1, 50, size=n))
    theta = rng.normal(size=n + 1) / (np.sqrt(np.mean(X**2, axis=0)) * np.sqrt(n + 1))
    y = (rng.uniform(size=m) < ex.sigmoid(X @ theta)).astype(float)
    return X, y


def _assert_table_holds(table: ex.DerivationTable) -> None:
    for s in table.steps[1:4]:
        assert s.rel_diff <= STEP_RTOL, (s.name, s.rel_diff)
    fd = table.steps[4]
    assert fd.name.startswith("central finite difference")
    assert fd.rel_diff <= FD_RTOL, fd.rel_diff
    for s in table.steps[5:]:
        assert s.rel_diff <= STEP_RTOL, (s.name, s.rel_diff)


# --------------------------------------------------------------------------
# derivation
# --------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(m=st.integers(3, 120), n=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       theta_kind=st.sampled_from(["zeros", "random"]))
def test_derivation_steps_agree_on_generated_data(m, n, seed, theta_kind):
    X, y = _generated(m, n, seed)
    theta = ex.resolve_theta(theta_kind, X, y, seed=seed % 1000)
    for j in range(X.shape[1]):
        _assert_table_holds(ex.derivation(X, y, theta, j))


def test_derivation_course_data_1_at_zero_matches_published_gradient():
    X, y = _course("ex2data1.txt")
    published = [-0.1000, -12.0092, -11.2628]
    for j in range(3):
        t = ex.derivation(X, y, np.zeros(3), j)
        _assert_table_holds(t)
        # the gradient is far from zero here, so the plain relative difference applies too
        v = t.values
        assert np.max(np.abs(np.diff(v[:4])) / np.abs(v[1:4])) <= STEP_RTOL
        assert abs(t.steps[3].value - published[j]) <= PUBLISHED_4DP
        assert t.cost == pytest.approx(np.log(2), rel=LIKELIHOOD_RTOL)


@pytest.mark.parametrize("theta", ["fitted", "random", "-24,0.2,0.2"])
def test_derivation_course_data_1_other_thetas(theta):
    X, y = _course("ex2data1.txt")
    th = ex.resolve_theta(theta, X, y, seed=3)
    tables = [ex.derivation(X, y, th, j) for j in range(3)]
    for t in tables:
        _assert_table_holds(t)
    if theta == "-24,0.2,0.2":
        got = [t.steps[3].value for t in tables]
        np.testing.assert_allclose(got, [0.043, 2.566, 2.647], atol=PUBLISHED_3DP)
        assert tables[0].cost == pytest.approx(0.218, abs=PUBLISHED_3DP)


def test_derivation_course_data_2_polynomial_features():
    X2, y = _course("ex2data2.txt")
    X = _map_feature(X2[:, 1], X2[:, 2])
    assert X.shape == (118, 28)
    # At theta = 0 the L2 term of the course (lam = 1) has zero gradient.
    published = [0.0085, 0.0188, 0.0001, 0.0503, 0.0115]
    for j in range(28):
        t = ex.derivation(X, y, np.zeros(28), j)
        _assert_table_holds(t)
        if j < 5:
            assert abs(t.steps[3].value - published[j]) <= PUBLISHED_4DP
    _assert_table_holds(ex.derivation(X, y, np.ones(28), 7))


def test_derivation_steps_are_different_computations():
    # Not the same expression evaluated seven times: at a theta where the
    # summands cancel the rows differ in their last bits.
    X, y = _generated(200, 3, seed=11)
    values = ex.derivation(X, y, ex.fit_theta(X, y), 1).values
    assert len(set(values.tolist())) > 1


def test_derivation_refuses_saturated_rows_and_bad_input():
    X, y = _generated(20, 2, seed=1)
    with pytest.raises(ValueError, match="h rounds to 0 or 1"):
        ex.derivation(X, y, np.full(3, 1e4), 1)
    with pytest.raises(ValueError, match="out of range"):
        ex.derivation(X, y, None, 3)
    with pytest.raises(ValueError, match="3 columns"):
        ex.derivation(X, y, [0.0, 1.0], 0)
    with pytest.raises(ValueError, match="only 0 and 1"):
        ex.derivation(X, y + 2, None, 0)
    with pytest.raises(ValueError, match="zeros, fitted"):
        ex.resolve_theta("nonsense", X, y)


def test_renderings_round_trip_the_values():
    X, y = _generated(50, 2, seed=5)
    t = ex.derivation(X, y, "random", 2)
    md = t.to_markdown()
    rows = [r for r in md.splitlines() if re.match(r"^\| \d+ \|", r)]
    assert len(rows) == len(t.steps) == 7
    for row, step in zip(rows, t.steps, strict=True):
        assert float(row.split(" | ")[3]) == step.value  # .17g round-trips a double
    latex = t.to_latex()
    assert r"\begin{tabular}" in latex and latex.count(r" \\") == 8
    html = t.to_html()
    assert t._repr_html_() == html and html.count("<tr>") == 8 and r"\(" in html
    text = str(t)
    assert all(s.name in text for s in t.steps)


# --------------------------------------------------------------------------
# sigmoid, likelihood
# --------------------------------------------------------------------------


def test_sigmoid_derivative_matches_finite_differences():
    chk = ex.sigmoid_check()
    assert chk.z.size == 401 and chk.max_abs_err <= SIGMOID_FD_ATOL
    # the identity itself against the quotient rule e^-z / (1 + e^-z)^2
    e = np.exp(-chk.z)
    np.testing.assert_allclose(chk.analytic, e / (1 + e) ** 2, rtol=16 * ex.EPS)
    fig = chk.figure()
    assert len(fig.axes) == 2


def test_likelihood_course_data_1():
    X, y = _course("ex2data1.txt")
    L = ex.likelihood(X, y)
    assert L.cost == pytest.approx(-L.loglike / L.m, rel=LIKELIHOOD_RTOL)
    np.testing.assert_allclose(L.terms, -np.log(2) * np.ones(100), rtol=LIKELIHOOD_RTOL)
    assert L.optimum_gap <= OPTIMUM_RTOL
    np.testing.assert_allclose(L.theta_min_cost, [-25.161, 0.206, 0.201], atol=PUBLISHED_3DP)
    sm = pytest.importorskip("statsmodels.api")
    params = sm.Logit(y, X).fit(disp=0, tol=1e-12, maxiter=100).params
    np.testing.assert_allclose(L.theta_max_likelihood, params, rtol=STATSMODELS_RTOL)
    at_opt = ex.likelihood(X, y, L.theta_min_cost)
    assert at_opt.cost == pytest.approx(0.203, abs=PUBLISHED_3DP)
    assert at_opt.cost == pytest.approx(-at_opt.loglike / at_opt.m, rel=LIKELIHOOD_RTOL)
    assert len(L.figure().axes) >= 3


# --------------------------------------------------------------------------
# convexity
# --------------------------------------------------------------------------


def test_squared_error_derivatives_match_finite_differences():
    X, y = _generated(40, 2, seed=2)
    theta = np.array([0.3, -1.0, 2.0]) / np.sqrt(np.mean(X**2, axis=0))
    _, g, H = ex.squared_error(theta, X, y)
    for j in range(3):
        d = ex.fd_step(theta[j], X[:, j])
        tp, tm = theta.copy(), theta.copy()
        tp[j] += d
        tm[j] -= d
        fp, gp, _ = ex.squared_error(tp, X, y)
        fm, gm, _ = ex.squared_error(tm, X, y)
        scale = np.max(np.abs(H)) + np.max(np.abs(g))
        assert abs((fp - fm) / (2 * d) - g[j]) <= SQ_FD_RTOL * scale
        np.testing.assert_allclose((gp - gm) / (2 * d), H[:, j], atol=SQ_FD_RTOL * scale)


def test_convexity_course_data_1():
    X, y = _course("ex2data1.txt")
    chk = ex.convexity(X, y, n_points=120, n_lines=2)
    assert chk.n_negative_log == 0
    assert chk.n_negative_sq > 0
    assert np.min(chk.min_eig_sq) < -1e3 * np.max(chk.tol_sq)  # far beyond rounding
    assert np.all(chk.log_curv >= 0)
    assert np.any(chk.sq_curv < 0)
    # the log loss along the lines is the library's cost
    th = chk.theta_opt + chk.t[5] * chk.lines[0]
    assert chk.log_loss[0, 5] == pytest.approx(cost(th, X, y), rel=LIKELIHOOD_RTOL)
    assert len(chk.figure().axes) == 2


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_log_loss_hessian_never_negative_on_generated_data(seed):
    X, y = _generated(60, 3, seed)
    chk = ex.convexity(X, y, np.zeros(4), n_points=30, n_lines=1, seed=seed % 100)
    assert chk.n_negative_log == 0


# --------------------------------------------------------------------------
# descent
# --------------------------------------------------------------------------


def test_descent_gd_is_the_textbook_loop_and_small_steps_descend():
    X, y = _generated(80, 2, seed=4)
    # descent lemma: with lr <= 1/L, L = lambda_max(X^T X)/(4m), J decreases every step
    lr = 4 * X.shape[0] / np.linalg.eigvalsh(X.T @ X)[-1]
    res = ex.descent(X, y, [lr], n_iter=30, n_frames=4)
    run = res.runs[0]
    assert np.all(np.diff(run.costs) < 0) and not run.diverged
    theta = np.zeros(3)
    for _ in range(30):
        theta = theta - lr * gradient(theta, X, y)
    np.testing.assert_allclose(run.thetas[-1], theta, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_descent_momentum_and_adam_reduce_the_cost(optimizer):
    X, y = _generated(80, 2, seed=6)
    Xs = ex.with_intercept((X[:, 1:] - X[:, 1:].mean(0)) / X[:, 1:].std(0))
    run = ex.descent(Xs, y, [0.05], optimizer=optimizer, n_iter=60, n_frames=3).runs[0]
    best = cost(ex.fit_theta(Xs, y), Xs, y)  # oracle: the minimum from Newton
    assert run.costs[-1] - best <= DESCENT_GAP * (run.costs[0] - best)


def test_descent_animation_course_data_1(tmp_path):
    from PIL import Image

    X, y = _course("ex2data1.txt")
    res = ex.descent(X, y, [0.0001, 0.1], n_iter=24, n_frames=5)
    assert res.frames.tolist() == [0, 6, 12, 18, 24]
    small, large = res.runs
    assert np.all(np.diff(small.costs) < 0) and not small.diverged
    assert large.diverged
    gif = res.save_gif(tmp_path / "d.gif", dpi=30)
    with Image.open(gif) as im:
        assert im.n_frames == 5
    html = res.to_html(dpi=30)
    assert html.count("data:image/png;base64,") == 5 + 1  # every frame, and the first shown
    assert 'type="range"' in html and "http" not in html.replace("http-equiv", "")
    assert len(res.figure(3).axes) == 2


def test_descent_rejects_bad_options():
    X, y = _generated(20, 2, seed=0)
    with pytest.raises(ValueError, match="optimizer"):
        ex.descent(X, y, optimizer="newton")
    with pytest.raises(ValueError, match="positive"):
        ex.descent(X, y, [0.1, -1])


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------


@pytest.fixture
def csv_file(tmp_path):
    X, y = _generated(60, 2, seed=9)
    path = tmp_path / "d.csv"
    lines = ["a,b,label"] + [f"{float(r[1])!r},{float(r[2])!r},{'yes' if t else 'no'}" for r, t in zip(X, y, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path, X, y


def test_cli_gradient_markdown_matches_library(csv_file):
    from typer.testing import CliRunner

    from logitfit.cli.explain import explain_app

    path, X, y = csv_file
    out = CliRunner().invoke(explain_app, ["gradient", str(path), "--target", "label",
                                           "--feature", "b", "--format", "markdown"])
    assert out.exit_code == 0, out.output
    row4 = next(r for r in out.output.splitlines() if r.startswith("| 4 |"))
    assert float(row4.split(" | ")[3]) == ex.derivation(X, y, None, 2).steps[3].value


@pytest.mark.parametrize("args", [
    ["gradient", "{p}", "-t", "label", "--theta", "fitted"],
    ["gradient", "{p}", "-t", "-1", "--feature", "0", "--format", "latex"],
    ["sigmoid", "--points", "21", "--format", "html"],
    ["likelihood", "{p}", "-t", "label", "--rows", "2"],
    ["convexity", "{p}", "-t", "label", "--points", "20", "--plot", "{d}/c.png"],
    ["descent", "{p}", "-t", "label", "--iters", "6", "--frames", "3", "--dpi", "20",
     "--gif", "{d}/a.gif", "--html", "{d}/a.html"],
])
def test_cli_commands_run(csv_file, tmp_path, args):
    from typer.testing import CliRunner

    from logitfit.cli.explain import explain_app

    path, _, _ = csv_file
    argv = [a.format(p=path, d=tmp_path) for a in args]
    out = CliRunner().invoke(explain_app, argv)
    assert out.exit_code == 0, out.output
    for a in argv:
        if a.startswith(str(tmp_path)):
            assert Path(a).stat().st_size > 0


@pytest.mark.parametrize("args,message", [
    (["gradient", "{p}", "-t", "nope"], "no column 'nope'"),
    (["gradient", "{p}", "-t", "a"], "exactly two values"),
    (["gradient", "{p}", "-t", "label", "--theta", "1,2"], "3 columns"),
    (["descent", "{p}", "-t", "label", "--lr", "x"], "comma-separated"),
    (["gradient", "{d}/missing.csv", "-t", "label"], "no such file"),
])
def test_cli_errors_exit_2_with_a_message(csv_file, tmp_path, args, message):
    from typer.testing import CliRunner

    from logitfit.cli.explain import explain_app

    path, _, _ = csv_file
    out = CliRunner().invoke(explain_app, [a.format(p=path, d=tmp_path) for a in args])
    assert out.exit_code == 2
    assert message in " ".join(out.output.split())


def test_cli_help_has_examples():
    from typer.testing import CliRunner

    from logitfit.cli.explain import explain_app

    for cmd in ["gradient", "sigmoid", "likelihood", "convexity", "descent"]:
        out = CliRunner().invoke(explain_app, [cmd, "--help"], env={"COLUMNS": "200"})
        assert out.exit_code == 0 and f"Example: logitfit explain {cmd}" in out.output


def test_python_m_logitfit_explain(csv_file):
    path, X, y = csv_file
    proc = subprocess.run([sys.executable, "-m", "logitfit", "explain", "gradient", str(path),
                           "--target", "label", "--feature", "1", "--format", "text"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    expected = ex.derivation(X, y, None, 1).steps[3].value
    assert f"4. cancel: closed form: {expected:.17g}" in proc.stdout
