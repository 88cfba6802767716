r"""An explorable page: the cost, its gradient and gradient descent, live on the user's own data.

:func:`page` writes one self-contained HTML file (no network request; it works opened from
disk and inline in a notebook) for the model ``h = sigmoid(theta_0 + theta_1 x_1 + theta_2 x_2)``
on one or two of the user's features. The reader moves theta with sliders or by dragging on the
contour plot of J, and every view follows: the data with the decision boundary, the sigmoid along
the boundary's normal, J over two parameters with the gradient arrow, the derivation table of
:func:`logitfit.explain.derivation` for every j, and the log loss beside the squared error of the
sigmoid on a 1-D slice (non-convex stretches shaded). Gradient descent (plain, momentum, Adam)
plays on the contour plot; the exact optimum (the library's Newton solver) is marked.

The page's arithmetic lives once, in ``page_assets/math.js``: the formulas of
:mod:`logitfit._numerics`, :mod:`logitfit.model.textbook` and :mod:`logitfit.explain`
(means by NumPy's pairwise summation); ``tests/test_explain_page.py`` checks it against the
library in headless Chromium.
"""

from __future__ import annotations

import html as _html
import json
import re
from dataclasses import dataclass
from importlib import resources
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from logitfit.explain.steps import (
    _STEP_FORMULAS,
    FD_STEP_FACTOR,
    _col_scale,
    _objective,
    with_intercept,
)
from logitfit.model.textbook import cost

__all__ = ["ExplainPage", "FeatureChoice", "choose_features", "page"]

#: Rows embedded in the page; larger data are sampled (stratified by class) to this many.
MAX_ROWS = 2000
#: At most this many rows are drawn as points (a class-stratified sample of the embedded rows);
#: every embedded row still enters J, its gradient and the derivation.
MAX_DRAWN = 500
#: With more candidate features than this, pairs are searched among the SCREEN best single features.
SCREEN = 12
#: The "too large" learning rate offered, in units of 1/L (L = lambda_max(X^T X) / (4m)).
DIVERGING_LR = 20.0


@dataclass(frozen=True)
class FeatureChoice:
    """Which features the page shows, and why: the pair with the smallest minimum cost.

    ``ranking`` lists ``(feature names, minimum cost J*)`` of the pairs tried, best first;
    ``screened`` is True when the pairs were searched among the :data:`SCREEN` features
    with the best one-feature fits only.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = (X[:, 1] - 2 * X[:, 3] + rng.logistic(size=200) > 0).astype(int)
    >>> explain.choose_features(X, y, ["a", "b", "c", "d"]).names
    ('b', 'd')
    """

    indices: tuple[int, ...]
    names: tuple[str, ...]
    ranking: tuple[tuple[tuple[str, ...], float], ...]
    screened: bool = False


def _min_cost(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """(theta*, J(theta*), converged) from the library's Newton solver on [1, X]."""
    from logitfit.explain.steps import FIT_TOL
    from logitfit.solvers import SolverOptions, minimize

    A = with_intercept(X)
    res = minimize(_objective(A, y), np.zeros(A.shape[1]), "newton", SolverOptions(tol=FIT_TOL))
    return res.x, float(cost(res.x, A, y)), bool(res.converged)


def choose_features(X: ArrayLike, y: ArrayLike, names: list[str] | None = None, k: int = 2) -> FeatureChoice:
    """The ``k`` (1 or 2) most useful features: those whose model ``[1, x_a, x_b]`` fits best.

    ``X`` holds the candidate features (no column of ones), ``y`` is 0/1; a DataFrame's columns
    name them (else ``names``, else x1, x2, ...).

    "Most useful" is the smallest minimum cost ``J* = min_theta J(theta)`` (the largest
    log-likelihood) of the two-feature model with an intercept, found by the library's Newton
    solver for every pair (for every single feature when ``k = 1``). With more than
    :data:`SCREEN` features, the pairs are searched among the ``SCREEN`` features with the
    smallest one-feature J*. Unlike the largest standardized coefficient of the full model, this
    judges each pair as the page shows it, alone. Ties keep the earlier columns.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = (2 * X[:, 2] + rng.logistic(size=200) > 0).astype(int)
    >>> choice = explain.choose_features(X, y, ["u", "v", "w"], k=1)
    >>> choice.names, len(choice.ranking)
    (('w',), 3)
    """
    X, names = _columns(X, names)
    y = np.asarray(y, dtype=np.float64).ravel()
    p = X.shape[1]
    if k not in (1, 2) or p < k:
        raise ValueError(f"cannot choose {k} of {p} features (k must be 1 or 2, at most the number of features)")
    singles = sorted(((_min_cost(X[:, [j]], y)[1], j) for j in range(p)), key=lambda t: (t[0], t[1]))
    if k == 1:
        ranking = [((names[j],), c) for c, j in singles]
        return FeatureChoice((singles[0][1],), (names[singles[0][1]],), tuple(ranking))
    screened = p > SCREEN
    pool = sorted(j for _, j in singles[:SCREEN])
    fits = sorted(((_min_cost(X[:, [a, b]], y)[1], (a, b)) for a, b in combinations(pool, 2)),
                  key=lambda t: (t[0], t[1]))
    best = fits[0][1]
    ranking = [((names[a], names[b]), c) for c, (a, b) in fits]
    return FeatureChoice(best, (names[best[0]], names[best[1]]), tuple(ranking), screened)


@dataclass(frozen=True)
class ExplainPage:
    """The explorable page: ``html`` (one self-contained document), ``save(path)``, inline display.

    ``features`` are the features shown, ``rows`` the rows embedded of ``rows_total``,
    ``optimum`` the minimum-cost theta (``None`` when the data are separated and no finite
    one exists), ``choice`` how the features were chosen (``None`` when given).

    Examples
    --------
    >>> from logitfit import explain
    >>> from logitfit.datasets import load_exams
    >>> d = load_exams()
    >>> p = explain.page(d[["exam1", "exam2"]], d["admitted"], target="admitted")
    >>> p.features, p.rows, p.html.startswith("<!DOCTYPE html>")
    (('exam1', 'exam2'), 100, True)
    """

    html: str
    features: tuple[str, ...]
    rows: int
    rows_total: int
    optimum: np.ndarray | None
    choice: FeatureChoice | None

    @property
    def size(self) -> int:
        """Size of the page in bytes (UTF-8)."""
        return len(self.html.encode("utf-8"))

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (atomically: a reader never sees half a file)."""
        from logitfit.io.atomic import atomic_write

        with atomic_write(path, "w", encoding="utf-8") as f:
            f.write(self.html)
        return Path(path)

    def _repr_html_(self) -> str:
        # An iframe keeps the page's ids, styles and scripts apart from the notebook's.
        doc = _html.escape(self.html, quote=True)
        return (f'<iframe srcdoc="{doc}" style="width:100%;height:1500px;border:0" '
                'title="logitfit explain page"></iframe>')


def _labels(y: ArrayLike) -> tuple[np.ndarray, Any]:
    """``(y in {0, 1}, the value coded 1)``: the larger of exactly two values becomes 1."""
    arr = np.asarray(y).ravel()
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError("y has missing values")
    values = np.unique(arr)
    if values.size != 2:
        raise ValueError(f"y must have exactly two distinct values; found {values.size}")
    top = values[1].item() if hasattr(values[1], "item") else values[1]
    if isinstance(top, float) and top.is_integer():
        top = int(top)  # 1.0 from a float column reads as 1
    return (arr == values[1]).astype(np.float64), top


def _sample(y: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """Row indices: all rows, or a class-stratified sample of ``max_rows`` (each class kept in
    proportion, at least one row each), drawn with ``default_rng(seed)`` and kept in file order."""
    m = y.size
    if m <= max_rows:
        return np.arange(m)
    rng = np.random.default_rng(seed)
    idx = []
    n1 = int(round(max_rows * y.sum() / m))
    n1 = min(max(n1, 1), max_rows - 1)
    for cls, k in ((0.0, max_rows - n1), (1.0, n1)):
        rows = np.flatnonzero(y == cls)
        idx.append(rng.choice(rows, size=min(k, rows.size), replace=False))
    return np.sort(np.concatenate(idx))


def _ranges(theta_opt: np.ndarray | None, A: np.ndarray) -> list[list[float]]:
    """Slider range of each theta_j: 0 and theta*_j with a margin of max(|theta*_j| / 2, 4 / rms(x_j))
    (theta_j's natural unit is 1/rms(x_j)); +-8/rms(x_j) when there is no finite optimum."""
    unit = 1.0 / _col_scale(A)
    if theta_opt is None:
        return [[-8.0 * u, 8.0 * u] for u in unit]
    out = []
    for t, u in zip(theta_opt, unit, strict=True):
        pad = max(0.5 * abs(t), 4.0 * u)
        out.append([min(0.0, t) - pad, max(0.0, t) + pad])
    return out


def _script_json(data: dict) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>`` and ``&`` escaped, so no ``</script>`` or
    ``<!--`` in a column name can end the element; non-ASCII (U+2028 included) as \\u escapes."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset(name: str) -> str:
    return resources.files("logitfit.explain").joinpath("page_assets", name).read_text(encoding="utf-8")


def _columns(X: Any, names: list[str] | None) -> tuple[np.ndarray, list[str]]:
    if names is None and hasattr(X, "columns"):
        names = [str(c) for c in X.columns]
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        cols = [X[c] for c in X.columns] if hasattr(X, "columns") else np.asarray(X, dtype=object).T
        for j, col in enumerate(cols):
            try:
                np.asarray(col, dtype=np.float64)
            except (TypeError, ValueError):
                label = names[j] if names is not None and j < len(names) else f"x{j + 1}"
                raise ValueError(f"feature column {label!r} is not numeric") from None
        raise
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"X must be 2-D with at least one feature column; got shape {X.shape}")
    names = [f"x{j + 1}" for j in range(X.shape[1])] if names is None else [str(v) for v in names]
    if len(names) != X.shape[1]:
        raise ValueError(f"{len(names)} names for {X.shape[1]} feature columns")
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"column {names[j]!r} is missing or not finite on row {i}")
    return X, names


def page(
    X: ArrayLike,
    y: ArrayLike,
    *,
    names: list[str] | None = None,
    features: list[str | int] | None = None,
    target: str = "y",
    max_rows: int = MAX_ROWS,
    seed: int = 0,
    title: str | None = None,
) -> ExplainPage:
    """Build the explorable page for ``h = sigmoid(theta_0 + theta_1 x_a + theta_2 x_b)``.

    Parameters
    ----------
    X : array-like or DataFrame, shape (m, p)
        The features, without a column of ones (the page's model always has the intercept
        theta_0). A DataFrame's columns name them.
    y : array-like, shape (m,)
        Exactly two distinct values; the larger (in sorted order) is coded 1.
    names : list of str, optional
        Feature names (default: the DataFrame's columns, or x1, x2, ...).
    features : list of names or positions, optional
        The page's features: one or two. With more than two (or none given while p > 2), the
        two most useful among them are chosen by :func:`choose_features`.
    target : str
        The target's name, shown on the page.
    max_rows : int
        At most this many rows are embedded; larger data are sampled, stratified by class
        (:data:`MAX_ROWS` = 2000 keeps a two-feature page under about 130 KiB). J, its gradient,
        the derivation and the optimum are then those of the sample, and the page says so. At
        most :data:`MAX_DRAWN` = 500 of the embedded rows (a class-stratified sample) are drawn
        as points; all of them enter the arithmetic.
    seed : int
        Seed of that sample.
    title : str, optional

    Returns
    -------
    ExplainPage

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(50, 2))
    >>> y = (X @ [1.0, -1.0] + rng.logistic(size=50) > 0).astype(int)
    >>> p = explain.page(X, y)
    >>> p.features, p.rows, p.optimum.shape
    (('x1', 'x2'), 50, (3,))
    """
    from logitfit.inference.separation import check_separation

    X, names = _columns(X, names)
    y01, positive = _labels(y)
    if y01.size != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y01.size}")
    if max_rows < 2:
        raise ValueError(f"max_rows must be at least 2; got {max_rows}")
    rows = _sample(y01, max_rows, seed)
    Xs, ys = X[rows], y01[rows]
    if features is not None:
        cols = []
        for f in features:
            if isinstance(f, str) and f in names:
                cols.append(names.index(f))
            elif isinstance(f, int | np.integer) and 0 <= int(f) < len(names):
                cols.append(int(f))
            else:
                raise ValueError(f"no feature {f!r}; the features are {', '.join(names)}")
        if not cols or len(set(cols)) != len(cols):
            raise ValueError("features must name one or two distinct features")
    else:
        cols = list(range(len(names)))
    choice = None
    if len(cols) > 2:
        choice = choose_features(Xs[:, cols], ys, [names[c] for c in cols])
        cols = [cols[i] for i in choice.indices]
    feats = [names[c] for c in cols]
    A = with_intercept(Xs[:, cols])
    theta_opt, j_opt, converged = _min_cost(Xs[:, cols], ys)
    separated = check_separation(Xs[:, cols], ys, feature_names=feats)
    optimum = None if (separated or not converged) else theta_opt
    lam = float(np.linalg.eigvalsh(A.T @ A)[-1]) / (4 * ys.size)  # sup of lambda_max(Hessian)
    sample_note = (f"{rows.size} of {y01.size} rows, a class-stratified sample (seed {seed})"
                   if rows.size < y01.size else f"{rows.size} rows")
    if rows.size > MAX_DRAWN:
        sample_note += f"; {MAX_DRAWN} of them drawn as points"
    why = ""
    if choice is not None:
        runner = (f"; next best {', '.join(choice.ranking[1][0])} (J* = {choice.ranking[1][1]:.6g})"
                  if len(choice.ranking) > 1 else "")
        why = (f" Features chosen among {len(names) if features is None else len(features)}: the "
               f"pair with the smallest minimum cost J* = {choice.ranking[0][1]:.6g}{runner}"
               + (f" (pairs searched among the {SCREEN} best single features)" if choice.screened else "")
               + ".")
    summary = (f"Model h = sigmoid(θ0 + {' + '.join(f'θ{k + 1}·{f}' for k, f in enumerate(feats))}) "
               f"for P({target} = {positive}) on {sample_note}.{why}"
               + (f" No finite optimum: {separated}." if optimum is None else ""))
    data = {
        "names": ["(intercept)", *feats],
        "target": str(target),
        "positive": str(positive),
        "x": [Xs[:, c].tolist() for c in cols],
        "y": ys.astype(int).tolist(),
        "drawn": _sample(ys, MAX_DRAWN, seed).tolist(),
        "summary": summary,
        "optimum": None if optimum is None else {"theta": optimum.tolist(), "cost": j_opt},
        "ranges": _ranges(optimum, A),
        "start": [0.0] * A.shape[1],
        "steps": [[name, text] for name, text, _ in _STEP_FORMULAS[:6]],
        "fd_step_factor": FD_STEP_FACTOR,
        "descent": _descent_constants(),
        "lr": {"small": 1.0 / lam, "diverging": DIVERGING_LR / lam},
    }
    parts = {"TITLE": _html.escape(title or f"logitfit: explore J(θ) for {target}"),
             "CSS": _asset("page.css"), "JS": _asset("math.js") + "\n" + _asset("page.js"),
             "DATA": _script_json(data)}
    # one pass: text substituted (a title, a column name) is never searched for markers again
    doc = re.sub(r"@(TITLE|CSS|JS|DATA)@", lambda mt: parts[mt.group(1)], _TEMPLATE)
    return ExplainPage(doc, tuple(feats), int(rows.size), int(y01.size), optimum, choice)


def _descent_constants() -> dict[str, Any]:
    from logitfit.explain.landscape import ADAM_BETA1, ADAM_BETA2, ADAM_EPS, MOMENTUM

    return {"momentum": MOMENTUM, "adam": [ADAM_BETA1, ADAM_BETA2, ADAM_EPS]}


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>@TITLE@</title>
<style>@CSS@</style></head>
<body>
<h1>@TITLE@</h1>
<p id="summary" class="note"></p>
<div class="grid">
 <div class="panel" id="theta-panel">
  <h2>θ under your hands</h2>
  <div id="sliders"></div>
  <table class="status">
   <tr><td>J(θ)</td><td id="cost"></td></tr>
   <tr><td>optimum θ*</td><td id="opt-theta"></td></tr>
   <tr><td>J(θ*)</td><td id="opt-cost"></td></tr>
   <tr><td>gap J(θ) − J(θ*)</td><td id="gap"></td></tr>
   <tr><td>∇J(θ)</td><td id="grad"></td></tr>
  </table>
  <button id="to-opt">go to the optimum θ*</button>
  <p>θ* comes from logitfit's Newton solver (dashed orange boundary, star on the contour plot).
  Drag on the contour plot to move the two parameters it shows.</p>
 </div>
 <div class="panel"><h2>The data and the decision boundary</h2>
  <svg id="data-plot" width="340" height="270" role="img" aria-label="data and decision boundary"></svg>
  <p id="data-note">Filled: y = 1; open: y = 0. Black: θᵀx = 0; green arrow: its normal, toward
  h &gt; 1/2; dashed orange: the boundary at θ*.</p></div>
 <div class="panel"><h2>The sigmoid along the boundary's normal</h2>
  <svg id="normal-plot" width="340" height="270" role="img" aria-label="sigmoid along the normal"></svg>
  <p>Each row at its signed distance θᵀx/|w| from the boundary (w: the feature weights), at its label.</p></div>
</div>
<div class="grid">
 <div class="panel"><h2>The cost J over two parameters</h2>
  <label>parameters <select id="pair"></select></label><br>
  <canvas id="contour" width="340" height="340"></canvas>
  <p id="contour-note" class="note"></p></div>
 <div class="panel" id="descent-panel"><h2>Gradient descent, played</h2>
  <div class="controls">
   <label for="start">start</label>
   <select id="start"><option value="zeros">θ = 0</option><option value="current">the current θ</option></select>
   <label for="optimizer">optimizer</label>
   <select id="optimizer"><option value="gd">plain (θ ← θ − lr ∇J)</option>
    <option value="momentum">momentum (β = 0.9)</option><option value="adam">Adam</option></select>
   <label for="lr">learning rate</label>
   <span><input id="lr" type="number" step="any"> <button id="lr-small"></button> <button id="lr-big"></button></span>
   <label for="iters">iterations</label><input id="iters" type="number" value="200" min="1">
   <label for="speed">ms per step</label><input id="speed" type="number" value="40" min="1">
  </div>
  <button id="play">play</button> <button id="pause" disabled>pause</button>
  <button id="step">step</button> <button id="reset">reset</button>
  <p id="descent-status"></p>
  <svg id="cost-plot" width="340" height="270" role="img" aria-label="cost per iteration"></svg>
  <p>Safe rate: 1/L with L = λmax(XᵀX)/(4m), the largest curvature J can have, so every plain
  step lowers J. The path is drawn on the contour plot; orange line: J(θ*).</p></div>
</div>
<h2>The log loss beside the squared error, on one slice</h2>
<label>vary <select id="slice-param"></select></label>
<div class="grid">
 <svg id="slice-log" width="340" height="270" role="img" aria-label="log loss on a slice"></svg>
 <svg id="slice-sq" width="340" height="270" role="img" aria-label="squared error on a slice"></svg>
</div>
<p id="slice-note" class="note"></p>
<h2>The derivation of dJ/dθj, at the current θ</h2>
<p class="note">The steps of <code>logitfit explain gradient</code>, recomputed as θ moves: rows 1-4
are different float64 computations of the same number, each compared with the row before; row 5
(central finite difference) and row 6 (the library's gradient formula) are compared with row 4.
(Row 7 of the command, the block objective, runs only in the library.)</p>
<div id="derivations"></div>
<script type="application/json" id="logitfit-data">@DATA@</script>
<script>@JS@</script>
</body></html>
"""
