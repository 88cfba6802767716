"""Residuals and influence of a binary fit, row by row (R's ``residuals``, ``hatvalues``,
``rstandard``, ``cooks.distance``; statsmodels' ``GLMInfluence``).

With ``x~_i = [x_i, 1]`` (the intercept column only when fitted), the fit's
parameters ``theta`` and covariance ``V = (X~^T W X~)^{-1}`` (nonrobust,
unpenalised: the inverse information of the training rows), a row's sample
weight ``s_i`` and label ``y_i`` in {0, 1}::

    eta_i = x~_i^T theta (+ offset_i),    p_i = sigmoid(eta_i),    v_i = p_i (1 - p_i)
    response          y_i - p_i
    pearson           sqrt(s_i) (y_i - p_i) / sqrt(v_i)  = sqrt(s_i) (2y_i - 1) exp(-(2y_i - 1) eta_i / 2)
    deviance          sign(y_i - p_i) sqrt(-2 s_i log sigmoid((2y_i - 1) eta_i))
    leverage          h_i = s_i v_i x~_i^T V x~_i        (diagonal of W^1/2 X~ V X~^T W^1/2)
    student_pearson   pearson_i / sqrt(1 - h_i)          (statsmodels resid_studentized; R rstandard(type="pearson"))
    student_deviance  deviance_i / sqrt(1 - h_i)         (R rstandard(), its default type)
    cooks_distance    pearson_i^2 h_i / (q (1 - h_i)^2)  (q parameters; statsmodels GLMInfluence, R cooks.distance)
    dfbetas[j]        [V x~_i s_i (y_i - p_i) / (1 - h_i)]_j / sqrt(V_jj)

DFBETAS is the one-step approximation of ``theta - theta_(i)`` (the fit without
row i) over the full fit's standard errors, as statsmodels' ``GLMInfluence.dfbetas``.
A weight scales a row as R's prior weights and statsmodels' ``var_weights``:
the row is one observation of weight ``s_i`` (zero weight: zero residuals and
leverage). A fit with ``weight_type="frequency"`` (:mod:`logitfit.inference.weights`)
instead reads row i as ``s_i`` identical observations and gives the diagnostics
of one of them (the formulas with ``s_i = 1``; the fit's ``V`` has all of them), so
integer weights give the rows of the expanded data. Every quantity is a function of its own row, ``theta`` and ``V``
only, so any block of rows is computed on its own: in memory, streamed from
files or on Dask partitions, with the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from logitfit._numerics import issparse, log_sigmoid, sigmoid

__all__ = ["COLUMNS", "InfluenceBasis", "block_diagnostics", "chunk_rows_for", "diagnostics_in_memory",
           "iter_diagnostics", "residuals_from_probabilities"]

#: The per-row columns before the DFBETAS (one ``dfbetas[<term>]`` per parameter after them).
COLUMNS = ("fitted", "response", "pearson", "deviance", "student_pearson", "student_deviance",
           "leverage", "cooks_distance")

#: Rows per chunk of an in-memory table (bounds the temporaries ``X~ V``: chunk x q floats).
CHUNK_ROWS = 65_536
#: Bytes of one chunk's dense ``X~`` at most (wide or sparse designs get fewer rows per chunk).
CHUNK_BYTES = 64 << 20


def chunk_rows_for(n_columns: int) -> int:
    """Rows per chunk: :data:`CHUNK_ROWS`, fewer when a dense chunk would pass :data:`CHUNK_BYTES`."""
    return int(max(64, min(CHUNK_ROWS, CHUNK_BYTES // (8 * max(1, n_columns + 1)))))


@dataclass(frozen=True)
class InfluenceBasis:
    """What every row's diagnostics need: ``theta``, its covariance ``V`` and the term names.

    Build it with :meth:`from_inference` from a fit's inference (binary,
    unpenalised or Firth): ``V`` is its nonrobust covariance.
    """

    theta: np.ndarray
    cov: np.ndarray
    fit_intercept: bool
    names: tuple[str, ...]
    frequency: bool = False

    @classmethod
    def from_inference(cls, inference: Any) -> InfluenceBasis:
        """The basis of a fit's :class:`~logitfit.inference.results.Inference` (or a stored one).

        Raises ``ValueError`` for a multinomial model (residuals and influence are
        defined here for the binary model) and for an L2-penalised fit (its hat
        matrix is not the information's).
        """
        if inference.obj.multinomial:
            raise ValueError(
                "diagnostics are defined for the binary model only; for K classes fit one "
                "binary model per class against the rest (or per pair) and check each")
        if inference.penalised:
            raise ValueError(
                "diagnostics need the unpenalised fit's information matrix; this fit is "
                f"L2-penalised (alpha={inference.obj.alpha:g}): refit with penalty=None "
                "(or penalty='firth')")
        weight_type = getattr(inference, "weight_type", None)
        if weight_type == "probability":
            raise ValueError(
                "diagnostics need the information matrix of a likelihood; survey "
                "(weight_type='probability') weights give a pseudo-likelihood without one")
        V = np.asarray(inference.cov_params("nonrobust"), dtype=np.float64)
        return cls(np.asarray(inference.params, dtype=np.float64), V,
                   bool(inference.obj.fit_intercept), tuple(inference.names),
                   weight_type == "frequency")

    @property
    def columns(self) -> list[str]:
        """Column names of a table: :data:`COLUMNS`, then ``dfbetas[<term>]`` in parameter order."""
        return [*COLUMNS, *(f"dfbetas[{n}]" for n in self.names)]


def _augmented(X: Any, fit_intercept: bool) -> np.ndarray:
    Xd = X.toarray() if issparse(X) else np.asarray(X, dtype=np.float64)
    if not fit_intercept:
        return Xd
    return np.hstack([Xd, np.ones((Xd.shape[0], 1))])


def block_diagnostics(basis: InfluenceBasis, X: Any, y: np.ndarray, sw: np.ndarray,
                      offset: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every column of :attr:`InfluenceBasis.columns` for one block of rows (module formulas).

    ``y`` holds 0/1 class indices (1 = the second class), ``sw`` the sample weights.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.inference.diagnostics import InfluenceBasis, block_diagnostics
    >>> basis = InfluenceBasis(np.array([1.0, 0.0]), np.eye(2), True, ("x0", "Intercept"))
    >>> X, y = np.array([[0.0], [1.0]]), np.array([1.0, 0.0])
    >>> out = block_diagnostics(basis, X, y, np.ones(2))
    >>> out["fitted"].round(4), out["pearson"].round(4), out["leverage"].round(4)
    (array([0.5   , 0.7311]), array([ 1.    , -1.6487]), array([0.25  , 0.3932]))
    >>> list(out)[-2:]
    ['dfbetas[x0]', 'dfbetas[Intercept]']
    """
    Xt = _augmented(X, basis.fit_intercept)
    y = np.asarray(y, dtype=np.float64)
    # frequency weights: one of the row's identical observations
    sw = np.ones(len(y)) if basis.frequency else np.asarray(sw, dtype=np.float64)
    eta = Xt @ basis.theta
    if offset is not None:
        eta = eta + np.asarray(offset, dtype=np.float64)
    p = sigmoid(eta)
    sign = 2.0 * y - 1.0
    v = p * sigmoid(-eta)  # not p (1 - p): 1 - p loses the digits of a p near 1
    root_s = np.sqrt(sw)
    # exp(-sign eta / 2): (y - p) / sqrt(p (1 - p)) without cancelling or dividing by an underflowed v
    pearson = root_s * sign * np.exp(-0.5 * sign * eta)
    deviance = sign * np.sqrt(np.maximum(-2.0 * sw * log_sigmoid(sign * eta), 0.0))
    XV = Xt @ basis.cov
    h = sw * v * np.einsum("ij,ij->i", XV, Xt)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / (1.0 - h)
        root = np.sqrt(inv)
        out = {"fitted": p, "response": y - p, "pearson": pearson, "deviance": deviance,
               "student_pearson": pearson * root, "student_deviance": deviance * root,
               "leverage": h, "cooks_distance": pearson**2 * h * inv**2 / len(basis.theta)}
        step = XV * (sw * (y - p) * inv)[:, None]
    se = np.sqrt(np.diag(basis.cov))
    for j, name in enumerate(basis.names):
        out[f"dfbetas[{name}]"] = step[:, j] / se[j]
    return out


def diagnostics_in_memory(basis: InfluenceBasis, X: Any, y: np.ndarray, sw: np.ndarray,
                          offset: np.ndarray | None = None, chunk_rows: int | None = None,
                          n_threads: int | None = None) -> dict[str, np.ndarray]:
    """:func:`block_diagnostics` of all rows, ``chunk_rows`` rows at a time on a thread pool, into one table.

    Each chunk writes its own rows, so the table does not depend on the number of threads.
    """
    from concurrent.futures import ThreadPoolExecutor

    from logitfit.blocks.threads import default_threads, single_threaded_blas

    n = X.shape[0]
    chunk_rows = chunk_rows or chunk_rows_for(X.shape[1])
    out = {c: np.empty(n) for c in basis.columns}

    def run(a: int) -> None:
        b = min(a + chunk_rows, n)
        part = block_diagnostics(basis, X[a:b], y[a:b], sw[a:b],
                                 None if offset is None else offset[a:b])
        for c, v in part.items():
            out[c][a:b] = v

    starts = range(0, n, chunk_rows)
    threads = min(n_threads or default_threads(), len(starts))
    with single_threaded_blas():
        if threads <= 1:
            for a in starts:
                run(a)
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(run, starts))
    return out


def iter_diagnostics(basis: InfluenceBasis, blocks: Iterable[Any]) -> Iterator[dict[str, np.ndarray]]:
    """The table of each :class:`~logitfit.blocks.Block` of ``blocks`` in turn (a streamed pass).

    A block's ``offset`` (when the source carries one) enters the linear predictor.
    """
    for block in blocks:
        yield block_diagnostics(basis, block.X, block.y, block.sw, getattr(block, "offset", None))


def residuals_from_probabilities(y: Any, p: Any) -> dict[str, np.ndarray]:
    """``fitted``, ``response``, ``pearson`` and ``deviance`` residuals from probabilities alone.

    For reports that hold ``p`` but not the design rows (no leverage): the module's
    formulas with unit weights, the logs taken of ``p`` and ``1 - p`` as given.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    sign = 2.0 * y - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = (y - p) / np.sqrt(p * (1.0 - p))
        deviance = sign * np.sqrt(-2.0 * np.log(np.where(y > 0.5, p, 1.0 - p)))
    return {"fitted": p, "response": y - p, "pearson": pearson, "deviance": deviance}
