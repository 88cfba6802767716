r"""The cost landscape and how gradient descent moves on it (used through :mod:`logitfit.explain`).

Convexity: the log loss has Hessian ``(1/m) X^T diag(h(1-h)) X``, positive
semi-definite at every theta; the squared error of the sigmoid,

    E(theta) = (1/(2m)) sum_i (h_i - y_i)^2,
    grad E   = (1/m) sum_i (h_i - y_i) h_i (1-h_i) x_i,
    hess E   = (1/m) sum_i h_i(1-h_i) [h_i(1-h_i) + (h_i - y_i)(1 - 2 h_i)] x_i x_i^T,

has row weights that turn negative where a row is confidently misclassified,
so E is not convex. Descent: fixed-step gradient descent (the library's ``gd``
solver), heavy-ball momentum and Adam (Kingma & Ba 2015, Algorithm 1).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from logitfit._numerics import sigmoid
from logitfit.explain.steps import EIG_ROUNDING, EPS, _check, _col_scale, _objective, fit_theta

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["ConvexityCheck", "convexity", "squared_error", "DescentResult", "descent"]


# --------------------------------------------------------------------------
# convexity
# --------------------------------------------------------------------------


def squared_error(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Value, gradient and Hessian of ``E = (1/(2m)) sum (sigmoid(X theta) - y)^2`` (module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> value, grad, hess = explain.squared_error(np.zeros(2), X, y)
    >>> value, grad.shape, hess.shape
    (0.125, (2,), (2, 2))
    """
    z = X @ theta
    h, q = sigmoid(z), sigmoid(-z)
    r = h - y
    s = h * q
    w = s * (s + r * (q - h))  # 1 - 2h = q - h without cancellation
    m = X.shape[0]
    return 0.5 * float(r @ r) / m, X.T @ (r * s) / m, (X.T * w) @ X / m


def _smallest_eig(H: np.ndarray) -> tuple[float, float]:
    """(smallest eigenvalue, its rounding tolerance ``EIG_ROUNDING eps max|lambda|``)."""
    lam = np.linalg.eigvalsh(H)
    return float(lam[0]), EIG_ROUNDING * EPS * float(np.max(np.abs(lam)))


@dataclass(frozen=True)
class ConvexityCheck:
    """Smallest Hessian eigenvalues of the log loss and of the squared error at sampled thetas.

    ``points`` (k, n) are the sampled thetas; ``min_eig_*`` the smallest
    eigenvalue there, ``tol_*`` its rounding tolerance; a point counts as
    non-convex when ``min_eig < -tol``. ``lines`` (n_lines, n) are directions
    through ``theta_opt``, ``t`` the grid along them and ``log_loss``,
    ``sq_error`` (n_lines, len(t)) the costs; ``*_curv`` the second derivative
    along each line, ``d^T H d``.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> check = explain.convexity(X, y, n_points=20, n_lines=1)
    >>> check.points.shape[0], check.min_eig_log.shape
    (20, (20,))
    """

    theta_opt: np.ndarray
    points: np.ndarray
    min_eig_log: np.ndarray
    tol_log: np.ndarray
    min_eig_sq: np.ndarray
    tol_sq: np.ndarray
    lines: np.ndarray
    t: np.ndarray
    log_loss: np.ndarray
    sq_error: np.ndarray
    log_curv: np.ndarray
    sq_curv: np.ndarray

    @property
    def n_negative_log(self) -> int:
        return int(np.sum(self.min_eig_log < -self.tol_log))

    @property
    def n_negative_sq(self) -> int:
        return int(np.sum(self.min_eig_sq < -self.tol_sq))

    def summary(self) -> dict[str, float | int]:
        return {
            "points": len(self.points),
            "log_loss_min_eig": float(np.min(self.min_eig_log)),
            "log_loss_negative": self.n_negative_log,
            "squared_error_min_eig": float(np.min(self.min_eig_sq)),
            "squared_error_negative": self.n_negative_sq,
        }

    def figure(self) -> Figure:
        """Log loss and squared error along lines through the optimum; concave stretches in red."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 3.6), layout="constrained")
        axes = fig.subplots(1, 2)
        panels = ((self.log_loss, self.log_curv, "log loss J", self.min_eig_log, self.n_negative_log),
                  (self.sq_error, self.sq_curv, "squared error E", self.min_eig_sq, self.n_negative_sq))
        for ax, (vals, curv, title, eig, neg) in zip(axes, panels, strict=True):
            for k in range(len(vals)):
                ax.plot(self.t, vals[k], color=f"C{k}", lw=1.2)
                concave = np.where(curv[k] < 0, vals[k], np.nan)
                ax.plot(self.t, concave, color="red", lw=3, alpha=0.6)
            ax.axvline(0, color="k", lw=0.6, ls="--")
            ax.set_xlabel("t  (theta = theta* + t d)")
            ax.set_title(f"{title}: min eigenvalue {np.min(eig):.2e}\n"
                         f"negative at {neg} of {len(eig)} sampled points", fontsize=9)
        axes[1].plot([], [], color="red", lw=3, alpha=0.6, label="concave along the line")
        axes[1].legend(fontsize=8)
        return fig


def _directions(rng: np.random.Generator, k: int, scale: np.ndarray) -> np.ndarray:
    """k random unit directions in units of 1/rms(x_j) (so each coordinate moves theta^T x alike)."""
    u = rng.normal(size=(k, scale.size))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    return u / scale


def convexity(
    X: ArrayLike,
    y: ArrayLike,
    theta_opt: ArrayLike | None = None,
    *,
    n_points: int = 200,
    n_lines: int = 3,
    radius: float = 10.0,
    seed: int = 0,
) -> ConvexityCheck:
    """Sample thetas around the optimum and compare the Hessians of the log loss and the squared error.

    Points are ``theta* + r D u`` with u uniform on the unit sphere, r uniform
    on [0, radius] and ``D = diag(1/rms(x_j))``; the log-loss Hessian comes from
    :class:`logitfit.model.objective.LogisticObjective`, the squared error's from
    :func:`squared_error`. Lines: ``theta* + t d`` for ``n_lines`` such
    directions d, t in [-radius, radius].

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> check = explain.convexity(X, y, n_points=50)
    >>> bool((check.min_eig_log >= -check.tol_log).all())
    True
    >>> bool((check.min_eig_sq < -check.tol_sq).any())
    True
    """
    X, y = _check(X, y)
    theta_opt = fit_theta(X, y) if theta_opt is None else np.asarray(theta_opt, float).ravel()
    rng = np.random.default_rng(seed)
    scale = _col_scale(X)
    pts = theta_opt + rng.uniform(0, radius, size=(n_points, 1)) * _directions(rng, n_points, scale)
    obj = _objective(X, y)
    log_eigs = np.array([_smallest_eig(obj.hess(p)) for p in pts])
    sq_eigs = np.array([_smallest_eig(squared_error(p, X, y)[2]) for p in pts])
    lines = _directions(rng, n_lines, scale)
    t = np.linspace(-radius, radius, 161)
    shape = (n_lines, t.size)
    log_loss, sq_err, log_curv, sq_curv = (np.empty(shape) for _ in range(4))
    for k, d in enumerate(lines):
        for i, ti in enumerate(t):
            th = theta_opt + ti * d
            log_loss[k, i] = obj.value(th)
            log_curv[k, i] = d @ obj.hessp(th)(d)
            e, _, H = squared_error(th, X, y)
            sq_err[k, i], sq_curv[k, i] = e, d @ H @ d
    return ConvexityCheck(theta_opt, pts, log_eigs[:, 0], log_eigs[:, 1], sq_eigs[:, 0],
                          sq_eigs[:, 1], lines, t, log_loss, sq_err, log_curv, sq_curv)


# --------------------------------------------------------------------------
# descent
# --------------------------------------------------------------------------

OPTIMIZERS = ("gd", "momentum", "adam")
MOMENTUM = 0.9
ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8  # Kingma & Ba's defaults


@dataclass(frozen=True)
class DescentRun:
    """One learning rate: ``thetas`` (n_iter + 1, n) and ``costs`` (n_iter + 1,), entry 0 the start."""

    learning_rate: float
    thetas: np.ndarray
    costs: np.ndarray

    @property
    def diverged(self) -> bool:
        """The cost ended above where it started (or overflowed)."""
        return bool(not np.isfinite(self.costs[-1]) or self.costs[-1] > self.costs[0])


def _run_gd(obj, x0: np.ndarray, lr: float, n_iter: int) -> list[np.ndarray]:
    """The library's ``gd`` solver with a fixed step; the callback records every iterate."""
    from logitfit.solvers import SolverOptions, minimize

    path = [x0.copy()]

    def record(it, x, f, gn):
        path.append(np.array(x, copy=True))

    minimize(obj, x0, "gd", SolverOptions(tol=0.0, max_iter=n_iter, learning_rate=lr, callback=record))
    return path


def _run_explicit(obj, x0: np.ndarray, lr: float, n_iter: int, method: str) -> list[np.ndarray]:
    """Heavy-ball momentum ``v <- b v + g, x <- x - lr v`` or Adam, written out."""
    x = x0.copy()
    v = np.zeros_like(x)
    s = np.zeros_like(x)
    path = [x.copy()]
    for k in range(1, n_iter + 1):
        g = obj.grad(x)
        if method == "momentum":
            v = MOMENTUM * v + g
            x = x - lr * v
        else:
            v = ADAM_BETA1 * v + (1 - ADAM_BETA1) * g
            s = ADAM_BETA2 * s + (1 - ADAM_BETA2) * g * g
            vhat, shat = v / (1 - ADAM_BETA1**k), s / (1 - ADAM_BETA2**k)
            x = x - lr * vhat / (np.sqrt(shat) + ADAM_EPS)
        path.append(x.copy())
        if not np.all(np.isfinite(x)):
            break
    return path


@dataclass(frozen=True)
class DescentResult:
    """Gradient-descent paths for several learning rates, with figures and animations.

    ``frames`` are the iterations shown, one per animation frame. The decision
    boundary panel needs X = [1, x1, x2] (two features after the ones).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> result = explain.descent(X, y, [0.1, 1.0], n_iter=50, n_frames=5)
    >>> result.optimizer, len(result.runs), result.frames.shape
    ('gd', 2, (5,))
    """

    X: np.ndarray
    y: np.ndarray
    optimizer: str
    runs: tuple[DescentRun, ...]
    frames: np.ndarray

    @property
    def two_features(self) -> bool:
        return self.X.shape[1] == 3 and bool(np.all(self.X[:, 0] == 1.0))

    def _figure(self) -> Figure:
        """A figure with fixed margins: a constrained layout would be recomputed for every frame."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9, 3.6) if self.two_features else (5, 3.6))
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.88, wspace=0.25)
        return fig

    def _draw(self, fig: Figure):
        """Lay out the panels once; return ``update(iteration)`` that moves the artists."""
        n_panels = 2 if self.two_features else 1
        axes = np.atleast_1d(fig.subplots(1, n_panels))
        ax_cost = axes[-1]
        n_iter = max(len(r.costs) for r in self.runs) - 1
        curves, lines = [], []
        for k, run in enumerate(self.runs):
            (c,) = ax_cost.plot([], [], color=f"C{k}",
                                label=f"lr {run.learning_rate:g}" + (" (diverges)" if run.diverged else ""))
            curves.append(c)
        finite = np.concatenate([r.costs[np.isfinite(r.costs)] for r in self.runs])
        ax_cost.set_xlim(0, max(n_iter, 1))
        ax_cost.set_ylim(max(float(np.min(finite)) * 0.8, 1e-3), float(np.max(finite)) * 1.5)
        ax_cost.set_yscale("log")
        ax_cost.set_xlabel("iteration")
        ax_cost.set_ylabel("cost J")
        ax_cost.legend(fontsize=8)
        title = fig.suptitle("", fontsize=10)
        if self.two_features:
            ax = axes[0]
            x1, x2 = self.X[:, 1], self.X[:, 2]
            ax.scatter(x1[self.y == 0], x2[self.y == 0], s=10, marker="o", c="0.6", label="y = 0")
            ax.scatter(x1[self.y == 1], x2[self.y == 1], s=14, marker="+", c="k", label="y = 1")
            pad1, pad2 = 0.05 * np.ptp(x1), 0.05 * np.ptp(x2)
            ax.set_xlim(x1.min() - pad1, x1.max() + pad1)
            ax.set_ylim(x2.min() - pad2, x2.max() + pad2)
            ax.set_xlabel("x1")
            ax.set_ylabel("x2")
            lines = [ax.plot([], [], color=f"C{k}")[0] for k in range(len(self.runs))]
            grid = np.linspace(*ax.get_xlim(), 2)

        def update(it: int):
            for k, run in enumerate(self.runs):
                i = min(it, len(run.costs) - 1)
                curves[k].set_data(np.arange(i + 1), run.costs[: i + 1])
                if lines:
                    th = run.thetas[i]
                    # theta0 + theta1 x1 + theta2 x2 = 0; nothing to draw while theta2 = 0
                    yb = -(th[0] + th[1] * grid) / th[2] if th[2] != 0 else np.full(2, np.nan)
                    lines[k].set_data(grid, yb)
            title.set_text(f"{self.optimizer}: iteration {it}")

        return update

    def figure(self, iteration: int | None = None) -> Figure:
        """Decision boundaries (two features) and the cost curves up to ``iteration`` (default: last)."""

        fig = self._figure()
        self._draw(fig)(int(self.frames[-1]) if iteration is None else iteration)
        return fig

    def save_gif(self, path: str | Path, *, fps: int = 5, dpi: int = 72) -> Path:
        """Write the animation as a GIF with matplotlib's PillowWriter (one frame per ``frames``)."""
        from matplotlib.animation import PillowWriter

        fig = self._figure()
        update = self._draw(fig)
        writer = PillowWriter(fps=fps)
        with writer.saving(fig, str(path), dpi):
            for it in self.frames:
                update(int(it))
                writer.grab_frame()
        return Path(path)

    def to_html(self, *, dpi: int = 72, interval_ms: int = 200) -> str:
        """A self-contained HTML page: every frame as an inline PNG, a slider and a play button."""

        fig = self._figure()
        update = self._draw(fig)
        images = []
        for it in self.frames:
            update(int(it))
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=dpi)
            images.append("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"))
        srcs = ",\n".join(f'"{s}"' for s in images)
        return _HTML_PAGE.format(n=len(images) - 1, srcs=srcs, interval=interval_ms,
                                 first=images[0], its=",".join(str(int(i)) for i in self.frames))

    def save_html(self, path: str | Path, **kwargs) -> Path:
        Path(path).write_text(self.to_html(**kwargs), encoding="utf-8")
        return Path(path)


_HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>logitfit: gradient descent</title></head>
<body style="font-family:sans-serif">
<img id="frame" src="{first}" alt="gradient descent frame"><br>
<input id="slider" type="range" min="0" max="{n}" value="0" style="width:60%">
<button id="play">play</button> <span id="label">iteration 0</span>
<script>
const frames = [{srcs}];
const its = [{its}];
const img = document.getElementById("frame"), slider = document.getElementById("slider");
const label = document.getElementById("label");
function show(k) {{ img.src = frames[k]; slider.value = k; label.textContent = "iteration " + its[k]; }}
slider.oninput = () => show(+slider.value);
let timer = null;
document.getElementById("play").onclick = () => {{
  if (timer) {{ clearInterval(timer); timer = null; return; }}
  timer = setInterval(() => show((+slider.value + 1) % frames.length), {interval});
}};
</script></body></html>
"""


def descent(
    X: ArrayLike,
    y: ArrayLike,
    learning_rates: tuple[float, ...] | list[float] = (0.001, 0.01, 0.1),
    *,
    optimizer: str = "gd",
    n_iter: int = 200,
    n_frames: int = 20,
    theta0: ArrayLike | None = None,
) -> DescentResult:
    """Run gradient descent from ``theta0`` (zeros) for each learning rate.

    ``gd`` is the library's solver (:mod:`logitfit.solvers.gd`) with a fixed
    step ``theta <- theta - lr grad J``; ``momentum`` and ``adam`` are written
    out here. X is used as given (prepend the ones column for an intercept).
    On the course data set 1 (unscaled exam scores, largest Hessian eigenvalue
    about 2.3e3 at theta = 0), lr 0.001 descends and 0.01 and 0.1 bounce and diverge.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import explain
    >>> X = explain.with_intercept([[0.5], [-1.0], [2.0], [1.0]])
    >>> y = np.array([1, 0, 1, 0])
    >>> result = explain.descent(X, y, [0.1, 1.0], n_iter=200)
    >>> costs = [run.costs[-1] for run in result.runs]
    >>> bool(costs[1] < costs[0])
    True
    """
    X, y = _check(X, y)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer {optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
    lrs = [float(v) for v in learning_rates]
    if not lrs or any(not (v > 0 and np.isfinite(v)) for v in lrs):
        raise ValueError(f"learning rates must be positive numbers; got {learning_rates}")
    if n_iter < 1 or n_frames < 2:
        raise ValueError("n_iter must be at least 1 and n_frames at least 2")
    x0 = np.zeros(X.shape[1]) if theta0 is None else np.asarray(theta0, float).ravel()
    obj = _objective(X, y)
    runs = []
    for lr in lrs:
        if optimizer == "gd":
            path = _run_gd(obj, x0, lr, n_iter)
        else:
            path = _run_explicit(obj, x0, lr, n_iter, optimizer)
        thetas = np.array(path)
        costs = np.array([obj.value(t) if np.all(np.isfinite(t)) else np.inf for t in thetas])
        runs.append(DescentRun(lr, thetas, costs))
    frames = np.unique(np.linspace(0, n_iter, min(n_frames, n_iter + 1)).round().astype(int))
    return DescentResult(X, y, optimizer, tuple(runs), frames)
