r"""The derivation of the gradient, evaluated step by step on real data.

The course derives the partial derivative of the log-loss cost

    J(theta) = -(1/m) sum_i [ y_i log h_i + (1 - y_i) log(1 - h_i) ],   h_i = sigma(theta^T x_i)

by linearity, the chain rule, ``sigma'(z) = sigma(z) (1 - sigma(z))``,
``d(theta^T x)/d theta_j = x_j``, distribution and cancellation, down to

    dJ/d theta_j = (1/m) sum_i (h_i - y_i) x_ij.

:func:`derivation` evaluates every step on the caller's data as a genuinely
different floating-point computation of the same number, so the table shows
that each step holds to rounding; it ends with the closed form against a
central finite difference of the cost and against the library's gradients.
:func:`sigmoid_check`, :func:`likelihood` and :func:`convexity` show why the
log loss (and not the squared error of the sigmoid) is the cost to use, and
:func:`descent` (in :mod:`logitfit._explain_descent`) animates gradient descent.

Design matrices are used as given, as in :mod:`logitfit.model.textbook`: the caller
prepends a column of ones for an intercept (``with_intercept`` does that).
Everything returns data; figures are built on request (matplotlib is imported
only then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from logitfit._numerics import sigmoid
from logitfit.model.textbook import cost, gradient

if TYPE_CHECKING:  # pragma: no cover
    pass


__all__ = [
    "DerivationStep",
    "DerivationTable",
    "derivation",
    "with_intercept",
    "resolve_theta",
    "fit_theta",
    "fd_step",
]

EPS = float(np.finfo(np.float64).eps)
#: Central differences balance truncation (step^2) against rounding (eps/step):
#: the error is smallest for a step of eps^(1/3) on the variable's own scale.
FD_STEP_FACTOR = EPS ** (1.0 / 3.0)
#: Gradient tolerance for :func:`fit_theta`: Newton reaches it in a few
#: iterations, far below what any row of the derivation table can resolve.
FIT_TOL = 1e-11
#: A Hessian eigenvalue counts as negative only beyond its rounding error,
#: ``EIG_ROUNDING * eps * max|lambda|`` (Golub & Van Loan, Thm 8.1.4 gives a
#: backward error of a small multiple of eps ||H|| for symmetric QR).
EIG_ROUNDING = 64.0


# --------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------


def with_intercept(X: ArrayLike) -> np.ndarray:
    """``[1, X]``: the course's design matrix, a column of ones prepended.

    Examples
    --------
    >>> from logitfit import explain
    >>> explain.with_intercept([[2.0], [3.0]])
    array([[1., 2.],
           [1., 3.]])
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    return np.column_stack([np.ones(X.shape[0]), X])


def _check(X: ArrayLike, y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2 or X.shape[0] != y.size or X.shape[0] == 0:
        raise ValueError(f"X must be 2-D with one row per label; got X {X.shape}, y {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isin(y, (0.0, 1.0)))):
        raise ValueError("X must be finite and y must hold only 0 and 1")
    return X, y


def _col_scale(X: np.ndarray) -> np.ndarray:
    """Root mean square of each column (1 for an all-zero column): theta_j's natural unit is 1/scale_j."""
    s = np.sqrt(np.mean(X * X, axis=0))
    return np.where(s > 0, s, 1.0)


def fit_theta(X: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Minimum-cost theta, from the library's Newton solver on the block objective.

    X is used as given (no intercept is added): the objective is built with
    ``fit_intercept=False`` so its parameter vector is the course's theta.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> theta = explain.fit_theta(X, y)
    >>> from logitfit import gradient
    >>> bool(np.abs(gradient(theta, X, y)).max() < 1e-10)
    True
    """
    from logitfit.solvers import SolverOptions, minimize

    X, y = _check(X, y)
    result = minimize(_objective(X, y), np.zeros(X.shape[1]), "newton", SolverOptions(tol=FIT_TOL))
    return result.x


def _objective(X: np.ndarray, y: np.ndarray):
    from logitfit.blocks.memory import InMemoryBlocks
    from logitfit.model.objective import LogisticObjective

    blocks = InMemoryBlocks(X, y, np.ones(y.size), n_threads=1)
    return LogisticObjective(blocks, 2, fit_intercept=False)


def resolve_theta(spec: str | ArrayLike, X: ArrayLike, y: ArrayLike, seed: int = 0) -> np.ndarray:
    """Turn ``zeros``, ``fitted``, ``random`` or ``"v1,v2,..."`` (or an array) into theta.

    ``random`` draws ``theta_j ~ N(0, 1) / (scale_j sqrt(n))`` with ``scale_j``
    the root mean square of column j, so ``theta^T x`` is of order one
    whatever the units of the features.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> explain.resolve_theta("zeros", X, y)
    array([0., 0.])
    >>> explain.resolve_theta("0.5,-1", X, y)
    array([ 0.5, -1. ])
    """
    X, y = _check(X, y)
    n = X.shape[1]
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key == "zeros":
            return np.zeros(n)
        if key == "fitted":
            return fit_theta(X, y)
        if key == "random":
            return np.random.default_rng(seed).normal(size=n) / (_col_scale(X) * np.sqrt(n))
        try:
            theta = np.array([float(v) for v in key.split(",") if v.strip()])
        except ValueError:
            raise ValueError(f"theta {spec!r} is not zeros, fitted, random or a list of numbers") from None
    else:
        theta = np.asarray(spec, dtype=np.float64).ravel()
    if theta.size != n:
        raise ValueError(f"theta has {theta.size} entries but the design matrix has {n} columns "
                         "(the first is the column of ones)")
    return theta


def fd_step(theta_j: float, x_j: np.ndarray) -> float:
    """Central-difference step ``eps^(1/3) * max(|theta_j|, 1/rms(x_j))``.

    J depends on theta_j only through ``theta_j x_ij``, so the step is taken on
    the scale ``1/rms(x_j)`` (or on theta_j itself when that is larger).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> step = explain.fd_step(0.0, np.array([1.0, -1.0]))
    >>> bool(step == np.finfo(float).eps ** (1 / 3))
    True
    """
    rms = float(np.sqrt(np.mean(x_j * x_j)))
    unit = 1.0 / rms if rms > 0 else 1.0
    return FD_STEP_FACTOR * max(abs(theta_j), unit)


# --------------------------------------------------------------------------
# 1. the derivation table
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class DerivationStep:
    """One row: a way of computing dJ/d theta_j, its value and its distance to a reference row.

    ``against`` is the index of the row compared with (``None`` for the first);
    ``diff = value - rows[against].value``; ``rel_diff = |diff| / scale`` where
    ``scale = (1/m) sum_i |(h_i - y_i) x_ij|`` bounds the rounding error of
    every row (it is the size of the summands, not of their possibly
    cancelling sum, so the measure stays meaningful near the optimum).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> step = explain.derivation(X, y, j=1).steps[-1]
    >>> type(step).__name__, isinstance(step.value, float)
    ('DerivationStep', True)
    """

    name: str
    text: str
    latex: str
    value: float
    against: int | None = None
    diff: float = float("nan")
    rel_diff: float = float("nan")


@dataclass(frozen=True)
class DerivationTable:
    """The derivation of dJ/d theta_j evaluated on data, with text/markdown/LaTeX/HTML renderings.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> table = explain.derivation(X, y, j=1)
    >>> table.j, table.m
    (1, 4)
    >>> "|" in table.to_markdown()
    True
    """

    steps: tuple[DerivationStep, ...]
    j: int
    theta: np.ndarray
    cost: float
    scale: float
    m: int
    fd_step: float

    @property
    def values(self) -> np.ndarray:
        return np.array([s.value for s in self.steps])

    @property
    def max_rel_diff(self) -> float:
        """Largest ``rel_diff`` among the algebraic steps (rows 2..4)."""
        return max(s.rel_diff for s in self.steps[1:4])

    def caption(self) -> str:
        th = ", ".join(f"{t:.6g}" for t in self.theta)
        return (f"dJ/dtheta_{self.j} on m = {self.m} rows at theta = [{th}], J(theta) = "
                f"{self.cost:.12g}; relative differences are |diff| / {self.scale:.6g} "
                "(the mean |(h - y) x_j|)")

    def to_text(self) -> str:
        return render_text(self)

    def to_markdown(self) -> str:
        return render_markdown(self)

    def to_latex(self) -> str:
        return render_latex(self)

    def to_html(self) -> str:
        return render_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()


# (name, plain text, LaTeX) of each step, in order.
_STEP_FORMULAS = (
    ("linearity and chain rule",
     "-(1/m) sum_i [ y (1/h) sigma'(z) x_j + (1-y) (1/(1-h)) (-sigma'(z)) x_j ],"
     "  sigma'(z) = e^-z / (1 + e^-z)^2",
     r"-\frac{1}{m}\sum_{i}\Big[y\,\frac{\sigma'(z)}{h}\,x_j-(1-y)\,\frac{\sigma'(z)}{1-h}\,x_j\Big],"
     r"\ \sigma'(z)=\frac{e^{-z}}{(1+e^{-z})^2}"),
    ("sigma' = sigma (1 - sigma)",
     "-(1/m) sum_i [ y/h - (1-y)/(1-h) ] h (1-h) x_j",
     r"-\frac{1}{m}\sum_{i}\Big[\frac{y}{h}-\frac{1-y}{1-h}\Big]\,h(1-h)\,x_j"),
    ("distribute",
     "-(1/m) sum_i [ y (1-h) - (1-y) h ] x_j",
     r"-\frac{1}{m}\sum_{i}\big[y(1-h)-(1-y)h\big]\,x_j"),
    ("cancel: closed form",
     "(1/m) sum_i (h - y) x_j",
     r"\frac{1}{m}\sum_{i}(h-y)\,x_j"),
    ("central finite difference of J",
     "[J(theta + d e_j) - J(theta - d e_j)] / (2 d)",
     r"\frac{J(\theta+\delta e_j)-J(\theta-\delta e_j)}{2\delta}"),
    ("logitfit.gradient",
     "gradient(theta, X, y)[j] = ((1/m) X^T (h - y))_j",
     r"\big(\tfrac{1}{m}X^{\top}(h-y)\big)_j"),
    ("LogisticObjective.grad (block map-reduce)",
     "(1/S) sum_blocks X_b^T (s_b (h_b - y_b)), S = m",
     r"\frac{1}{S}\sum_{b}X_b^{\top}\big(s_b\,(h_b-y_b)\big)"),
)
# Rows 2-4 are compared with the row before; the checks with the closed form.
_CLOSED_FORM = 3


def _step_values(X: np.ndarray, y: np.ndarray, theta: np.ndarray, j: int) -> tuple[list[float], float]:
    z = X @ theta
    x = X[:, j]
    h = sigmoid(z)
    q = sigmoid(-z)  # 1 - h without cancellation
    if np.any(h == 0) or np.any(q == 0):
        i = int(np.argmax((h == 0) | (q == 0)))
        raise ValueError(f"|theta^T x| = {abs(z[i]):.4g} on row {i}: h rounds to 0 or 1 in float64, "
                         "so the steps before the cancellation divide by zero; only the closed "
                         "form is defined there (choose a theta nearer the data's scale)")
    e = np.exp(-np.abs(z))
    dsigma = e / (1.0 + e) ** 2  # quotient rule; sigma' is even, so |z| keeps exp bounded
    v = [
        -np.mean(y * (dsigma / h) * x + (1.0 - y) * (-dsigma / q) * x),
        -np.mean((y / h - (1.0 - y) / q) * (h * q) * x),
        -np.mean((y * q - (1.0 - y) * h) * x),
        np.mean((h - y) * x),
    ]
    d = fd_step(float(theta[j]), x)
    tp, tm = theta.copy(), theta.copy()
    tp[j] += d
    tm[j] -= d
    v.append((cost(tp, X, y) - cost(tm, X, y)) / ((tp[j] - theta[j]) + (theta[j] - tm[j])))
    v.append(gradient(theta, X, y)[j])
    v.append(_objective(X, y).grad(theta)[j])
    return [float(t) for t in v], d


def derivation(X: ArrayLike, y: ArrayLike, theta: ArrayLike | None = None, j: int = 0) -> DerivationTable:
    r"""Evaluate each step of the derivation of ``dJ/d theta_j`` at ``theta``.

    Parameters
    ----------
    X : array of shape (m, n)
        Design matrix used as given (prepend ones with :func:`with_intercept`).
    y : array of shape (m,), labels 0/1.
    theta : array of shape (n,), default zeros.
    j : int
        Which partial derivative (0 is the first column, the intercept in the course).

    Returns
    -------
    DerivationTable
        Rows, each a different float64 computation of the same quantity:

        1. linearity and the chain rule, with ``sigma'(z) = e^{-z}/(1+e^{-z})^2``
           from the quotient rule: ``-(1/m) sum [y sigma'/h - (1-y) sigma'/(1-h)] x_j``;
        2. ``sigma' = h (1-h)`` substituted: ``-(1/m) sum [y/h - (1-y)/(1-h)] h(1-h) x_j``;
        3. distributed: ``-(1/m) sum [y (1-h) - (1-y) h] x_j``;
        4. cancelled: ``(1/m) sum (h - y) x_j``;
        5. central finite difference of :func:`logitfit.cost` (step :func:`fd_step`);
        6. :func:`logitfit.gradient`; 7. :class:`logitfit.model.objective.LogisticObjective`.

        Rows 2-4 are compared with the row before; rows 5-7 with the closed form (row 4).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> table = explain.derivation(X, y, j=1)
    >>> len(table.steps)
    7
    >>> steps = [step.value for step in table.steps]
    >>> np.allclose(steps, steps[0])
    True
    """
    X, y = _check(X, y)
    theta = np.zeros(X.shape[1]) if theta is None else resolve_theta(theta, X, y)
    if not 0 <= j < X.shape[1]:
        raise ValueError(f"feature j = {j} is out of range: X has columns 0..{X.shape[1] - 1}")
    values, d = _step_values(X, y, theta, j)
    scale = float(np.mean(np.abs((sigmoid(X @ theta) - y) * X[:, j])))
    scale = scale if scale > 0 else 1.0
    steps = []
    for k, ((name, text, latex), v) in enumerate(zip(_STEP_FORMULAS, values, strict=True)):
        ref = None if k == 0 else (k - 1 if k <= _CLOSED_FORM else _CLOSED_FORM)
        diff = float("nan") if ref is None else v - values[ref]
        steps.append(DerivationStep(name, text, latex, v, ref, diff, abs(diff) / scale))
    return DerivationTable(tuple(steps), j, theta, cost(theta, X, y), scale, X.shape[0], d)


# --------------------------------------------------------------------------
# renderings of the derivation table
# --------------------------------------------------------------------------


def _cells(table: DerivationTable) -> list[tuple[str, str, str, str]]:
    """(value, compared with, difference, relative difference) of each row, as text."""
    out = []
    for s in table.steps:
        if s.against is None:
            out.append((f"{s.value:.17g}", "", "", ""))
        else:
            out.append((f"{s.value:.17g}", f"row {s.against + 1}", f"{s.diff:.2e}", f"{s.rel_diff:.2e}"))
    return out


_HEAD = ("#", "step", "formula", "value", "compared with", "difference", "relative")


def render_text(table: DerivationTable) -> str:
    """Plain text: one block per row (formulas are too wide for a grid)."""
    lines = [table.caption(), ""]
    for k, (s, (v, ref, d, r)) in enumerate(zip(table.steps, _cells(table), strict=True), 1):
        lines.append(f"{k}. {s.name}: {v}" + (f"   ({ref}: diff {d}, relative {r})" if ref else ""))
        lines.append(f"   {s.text}")
    return "\n".join(lines)


def render_markdown(table: DerivationTable) -> str:
    """A GitHub-flavoured Markdown table; formulas in ``$...$`` math."""
    rows = ["| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
    for k, (s, c) in enumerate(zip(table.steps, _cells(table), strict=True), 1):
        rows.append(f"| {k} | {s.name} | ${s.latex}$ | " + " | ".join(c) + " |")
    return table.caption() + "\n\n" + "\n".join(rows) + "\n"


def render_latex(table: DerivationTable) -> str:
    """A LaTeX ``tabular`` (booktabs) with the formulas in display math."""
    rows = [r"\begin{tabular}{rllrlrr}", r"\toprule",
            " & ".join(_HEAD).replace("#", r"\#") + r" \\", r"\midrule"]
    for k, (s, c) in enumerate(zip(table.steps, _cells(table), strict=True), 1):
        rows.append(f"{k} & {s.name} & ${s.latex}$ & " + " & ".join(c) + r" \\")
    rows += [r"\bottomrule", r"\end{tabular}"]
    return f"% {table.caption()}\n" + "\n".join(rows) + "\n"


def render_html(table: DerivationTable) -> str:
    """An HTML table: LaTeX in ``\\( \\)`` (typeset by MathJax in notebooks), plain text below it."""
    from html import escape

    body = []
    for k, (s, c) in enumerate(zip(table.steps, _cells(table), strict=True), 1):
        formula = f"\\({escape(s.latex)}\\)<br><code>{escape(s.text)}</code>"
        cells = "".join(f"<td style='text-align:right'>{escape(x)}</td>" for x in c)
        body.append(f"<tr><td>{k}</td><td>{escape(s.name)}</td><td>{formula}</td>{cells}</tr>")
    head = "".join(f"<th>{escape(h)}</th>" for h in _HEAD)
    return (f"<table class='logitfit-derivation'><caption>{escape(table.caption())}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")

