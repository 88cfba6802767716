"""A Hessian that is refreshed, not recomputed: the weighted Gram of proximal Newton, kept up to date.

The binary model's Hessian on the features ``C`` (and the intercept) is

    H_C(x) = (1/S) X~_C^T diag(d(x)) X~_C + diag(l2),    d_i = s_i h_i (1 - h_i)

and forming it costs ``O(n |C|^2)``, which is most of a coordinate-descent
path fit (glmnet's method forms it at every proximal Newton step). Along a
path, and late in each fit, most rows' weights hardly move. So this cache
keeps ``G = X~_C^T diag(d_ref) X~_C`` for reference weights ``d_ref`` and,
at each request with the current weights ``d``,

1. refreshes only the rows whose weight moved by more than ``rho`` of its
   reference, ``|d_i - d_ref_i| > rho d_ref_i``, by the rank-k update
   ``G += X~_R^T diag(d_R - d_ref_R) X~_R`` (``d_ref_R = d_R``);
2. adds requested features not yet cached, their rows and columns of
   ``X~^T diag(d_ref) X~`` (``O(n |new| |C|)``).

Every row then satisfies ``|d_i - d_ref_i| <= rho d_ref_i``, hence in the
Loewner order ``(1 - rho) H <= B <= (1 + rho) H`` for the returned ``B``: a
proximal Newton step with ``B`` converges linearly at a rate of about
``rho`` (Lee, Sun & Saunders 2014, sec. 3.2), and the line search and the
KKT test, which use the exact value and gradient, keep the result exact.
glum refreshes its Hessian row-wise too (``hessian_approx``, absolute
threshold); the relative threshold here is what gives the Loewner bound.

Applies to the binary model on in-memory dense or CSR rows; the solver
falls back to forming the Hessian (:meth:`LogisticObjective.value_grad_hess_sub`)
elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit._numerics import issparse

try:
    import logitfit.solvers._gram_kernels as _gram_kernels
except ImportError:  # built without a C compiler (setup.py): numpy products below
    _gram_kernels = None

__all__ = ["GramCache", "gram_cache_for"]

# Relative change of a row's weight that triggers its refresh (the Loewner
# factor of the approximation; see the module docstring).
REFRESH_RHO = 0.1
# Refreshing more than this share of the rows: recompute G from scratch (the
# same flops as the rank-k update, one gather less, and no rounding drift).
FULL_REFRESH_SHARE = 0.5
# Requested features fewer than this share of the cached ones: rebuild the
# cache on the request alone (every refresh pays for every cached feature).
PRUNE_SHARE = 0.5
# Rows per gathered chunk of the numpy fallback (bytes of the dense chunk).
CHUNK_BYTES = 8 << 20


def gram_cache_for(objective: Any, rho: float | None = None) -> GramCache | None:
    """A :class:`GramCache` for ``objective`` (binary, rows in memory), or None where it does not apply."""
    design_rows = getattr(objective, "design_rows", None)
    if design_rows is None or getattr(objective, "multinomial", True) or design_rows() is None:
        return None
    return GramCache(objective, rho)


class GramCache:
    """``X~_C^T diag(d_ref) X~_C`` over a growing feature set ``C``, refreshed row-wise.

    Parameters
    ----------
    objective : LinearModelObjective, whose ``design_rows()`` (dense or CSR X),
        ``weight_sum`` and ``fit_intercept`` the cache reads
    rho : float, relative weight change that refreshes a row (default ``REFRESH_RHO``)
    """

    def __init__(self, objective: Any, rho: float | None = None) -> None:
        self.X = objective.design_rows()
        self.S = float(objective.weight_sum)
        self.n, self.p = self.X.shape
        self.fit_intercept = bool(objective.fit_intercept)
        self.rho = REFRESH_RHO if rho is None else float(rho)
        self.d_ref: np.ndarray | None = None
        self.cols = np.zeros(0, dtype=np.intp)  # cached features, in G's order
        self.G = np.zeros((int(self.fit_intercept), int(self.fit_intercept)))  # intercept last
        self.rows_refreshed = 0  # statistics (rows refreshed, full builds)
        self.full_builds = 0

    # -- public ---------------------------------------------------------------------

    def hessian(self, objective: Any, cols: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``B`` (within ``1 +- rho`` of the Hessian at the point whose weights are ``d``) on
        ``cols`` and the intercept, and its ``idx``.

        ``d`` are the weights :meth:`LogisticObjective.value_grad_weights`
        returns; ``objective`` supplies the ridge term. ``idx`` are the flat
        parameter indices (features of ``cols``, then the intercept), as
        :meth:`LogisticObjective.value_grad_hess_sub` returns them.
        """
        cols = np.asarray(cols, dtype=np.intp)
        if self.d_ref is None or cols.size < PRUNE_SHARE * self.cols.size:
            self._build(cols, d)
        else:
            moved = np.flatnonzero(np.abs(d - self.d_ref) > self.rho * self.d_ref)
            if moved.size > FULL_REFRESH_SHARE * self.n:
                self._build(np.union1d(self.cols, cols) if self.cols.size else cols, d)
            elif moved.size:
                self.G += self._gram(moved, self.cols, d[moved] - self.d_ref[moved])
                self.d_ref[moved] = d[moved]
                self.rows_refreshed += moved.size
            new = np.setdiff1d(cols, self.cols, assume_unique=False)
            if new.size:
                self._extend(new)
        pos = np.full(self.p, -1, dtype=np.intp)
        pos[self.cols] = np.arange(self.cols.size)
        order = pos[cols]
        if self.fit_intercept:
            order = np.append(order, self.cols.size)
        H = self.G[np.ix_(order, order)] / self.S
        feats = np.append(cols, self.p) if self.fit_intercept else cols
        H[np.diag_indices_from(H)] += objective.l2[feats]
        return H, feats

    # -- internals ------------------------------------------------------------------

    def _build(self, cols: np.ndarray, d: np.ndarray) -> None:
        self.cols = np.array(cols, dtype=np.intp)
        self.d_ref = d.copy()
        self.G = self._gram(None, self.cols, d)
        self.full_builds += 1

    def _extend(self, new: np.ndarray) -> None:
        """Append features ``new``: their rows/columns of ``X~^T diag(d_ref) X~``."""
        old = self.cols
        allc = np.concatenate([old, new])
        cross = self._cross(new, allc, self.d_ref)  # (|new|, |all| (+1))
        m_old, m_new = old.size, new.size
        q = m_old + m_new + int(self.fit_intercept)
        G = np.zeros((q, q))
        G[:m_old, :m_old] = self.G[:m_old, :m_old]
        G[m_old : m_old + m_new, :] = cross
        G[:, m_old : m_old + m_new] = cross.T
        if self.fit_intercept:
            G[:m_old, -1] = self.G[:m_old, -1]
            G[-1, :m_old] = self.G[-1, :m_old]
            G[-1, -1] = self.G[-1, -1]
        self.G = G
        self.cols = allc

    def _compiled(self) -> bool:
        if _gram_kernels is None:
            return False
        X = self.X
        if issparse(X):
            return X.dtype in (np.float32, np.float64) and X.indices.dtype in (np.int32, np.int64)
        return X.dtype in (np.float32, np.float64) and X.flags.c_contiguous

    def _gram(self, rows: np.ndarray | None, cols: np.ndarray, dr: np.ndarray) -> np.ndarray:
        """``X~_{rows,cols}^T diag(dr) X~_{rows,cols}`` (``dr`` indexed like ``rows``; all rows if None)."""
        m = cols.size
        q = m + int(self.fit_intercept)
        if not self._compiled():
            return self._gram_numpy(rows, cols, dr)
        rows = np.arange(self.n, dtype=np.intp) if rows is None else np.asarray(rows, dtype=np.intp)
        cols = np.ascontiguousarray(cols, dtype=np.intp)
        G = np.zeros((q, q))
        X = self.X
        if issparse(X):
            pos = np.full(self.p, -1, dtype=np.intp)
            pos[cols] = np.arange(m)
            _gram_kernels.gram_rows_csr(X.data, X.indices, X.indptr, rows, pos, dr, self.fit_intercept, G)
            return G
        # dsyrk needs a square-root weight: positive and negative weights go separately
        for sign, sel in ((1.0, dr > 0), (-1.0, dr < 0)):
            if np.any(sel):
                a = np.sqrt(np.abs(dr[sel]))
                _gram_kernels.gram_rows_dense(X, rows[sel], cols, a, self.fit_intercept, sign, G)
        return np.tril(G) + np.tril(G, -1).T

    def _cross(self, new: np.ndarray, allc: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``X_new^T diag(d) X~_all``, shape (|new|, |all| + intercept)."""
        if not self._compiled():
            return self._cross_numpy(new, allc, d)
        new = np.ascontiguousarray(new, dtype=np.intp)
        allc = np.ascontiguousarray(allc, dtype=np.intp)
        out = np.zeros((new.size, allc.size + int(self.fit_intercept)))
        X = self.X
        if issparse(X):
            pos_a = np.full(self.p, -1, dtype=np.intp)
            pos_a[new] = np.arange(new.size)
            pos_b = np.full(self.p, -1, dtype=np.intp)
            pos_b[allc] = np.arange(allc.size)
            _gram_kernels.gram_cross_csr(X.data, X.indices, X.indptr, pos_a, pos_b, d, self.fit_intercept, out)
        else:
            _gram_kernels.gram_cross_dense(X, new, allc, d, self.fit_intercept, out)
        return out

    # numpy fallbacks (no compiled kernels, or X in Fortran order) --------------------

    def _rows(self, rows: np.ndarray | None, cols: np.ndarray, a: int, b: int) -> np.ndarray:
        """Dense float64 chunk ``X[rows[a:b]][:, cols]`` (or rows a..b when ``rows`` is None)."""
        sel = slice(a, b) if rows is None else rows[a:b]
        if issparse(self.X):
            return self.X[sel][:, cols].toarray().astype(np.float64, copy=False)
        return np.asarray(self.X[sel][:, cols], dtype=np.float64)

    def _chunks(self, rows: np.ndarray | None, width: int):
        total = self.n if rows is None else rows.size
        step = max(1, CHUNK_BYTES // (8 * max(width, 1)))
        for a in range(0, total, step):
            yield a, min(a + step, total)

    def _gram_numpy(self, rows: np.ndarray | None, cols: np.ndarray, dr: np.ndarray) -> np.ndarray:
        m = cols.size
        q = m + int(self.fit_intercept)
        G = np.zeros((q, q))
        for a, b in self._chunks(rows, m):
            A = self._rows(rows, cols, a, b)
            DA = A * dr[a:b, None]
            G[:m, :m] += A.T @ DA
            if self.fit_intercept:
                G[:m, m] += DA.sum(axis=0)
        if self.fit_intercept:
            G[m, :m] = G[:m, m]
            G[m, m] = dr.sum()
        return G

    def _cross_numpy(self, new: np.ndarray, allc: np.ndarray, d: np.ndarray) -> np.ndarray:
        m = allc.size
        out = np.zeros((new.size, m + int(self.fit_intercept)))
        for a, b in self._chunks(None, m + new.size):
            A = self._rows(None, allc, a, b)
            DN = self._rows(None, new, a, b) * d[a:b, None]
            out[:, :m] += DN.T @ A
            if self.fit_intercept:
                out[:, m] += DN.sum(axis=0)
        return out
