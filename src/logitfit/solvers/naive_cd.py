"""Coordinate descent on the proximal Newton model through X's columns (glmnet's "naive" updates).

For sparse X the model's Hessian ``X~_A^T diag(d) X~_A / S`` is neither
needed nor cheap: a working set of ``m`` features costs ``O(m^2)`` memory and
each sweep over a formed matrix ``O(m |active|)``. glmnet (Friedman, Hastie &
Tibshirani 2010, sec. 2.1) instead keeps ``v = X~_A (u - u0)`` (one entry per
row) and reads coordinate ``k``'s model gradient as::

    g_k + x_k^T (d v) / S + l2_k (u_k - u0_k)

which costs two passes over the column's non-zeros per update: a sweep
costs ``O(nnz(X_A))``, and the weights ``d`` are the exact ones at ``x``
(the gradient pass gives them), so the outer iteration keeps proximal
Newton's fast convergence. The update and the sweep schedule are those of
:func:`logitfit.solvers.cd_inner.inner_cd_separable` (a full sweep, then sweeps
over the non-zero coordinates until they settle, then a full sweep again).

Applies to the binary model on in-memory CSR rows with the compiled kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit._numerics import issparse

try:
    from logitfit.solvers._cd_kernels import naive_sweeps as _naive_sweeps
except ImportError:  # built without a C compiler: the cd solver forms the Hessian instead
    _naive_sweeps = None

__all__ = ["NaiveModel", "naive_model_for"]

MAX_SWEEPS = 2000
# Sweeps over the non-zero coordinates between two polishing Newton steps
# (each CG iteration of a polish costs about one such sweep).
SWEEPS_PER_POLISH = 20
# The polish's CG: relative residual and most iterations.
CG_RTOL = 1e-3
CG_MAX_ITER = 100
# Sign-fixed steps per polish; each cut one drops a coordinate from the face.
POLISH_MAX_CUTS = 10


def naive_model_for(objective: Any) -> NaiveModel | None:
    """A :class:`NaiveModel` for ``objective`` (binary, CSR rows in memory, kernels built), else None."""
    design_rows = getattr(objective, "design_rows", None)
    if _naive_sweeps is None or design_rows is None or getattr(objective, "multinomial", True):
        return None
    if not issparse(design_rows()):
        return None
    return NaiveModel(objective)


class NaiveModel:
    """X by columns (``objective.design_columns()``, a float64 CSC copy) and the inner solve that reads it."""

    def __init__(self, objective: Any) -> None:
        csc = objective.design_columns()
        self.csc = csc
        sq = csc.copy()
        sq.data **= 2
        self.csc_sq = sq
        self.S = float(objective.weight_sum)
        self.n, self.p = csc.shape
        self.fit_intercept = bool(objective.fit_intercept)

    def solve(
        self,
        objective: Any,
        d: np.ndarray,
        cols: np.ndarray,
        g: np.ndarray,
        u0: np.ndarray,
        lam: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        tol: float,
    ) -> np.ndarray:
        """Minimise the model ``g^T (u - u0) + (u - u0)^T H (u - u0) / 2 + sum lam |u|`` over the box.

        ``H = X~_A^T diag(d / S) X~_A + diag(l2)`` for the features ``cols``
        (then the intercept); ``g, u0, lam, lo, hi`` are indexed like ``H``.
        Returns the new ``u``.
        """
        cols = np.ascontiguousarray(cols, dtype=np.intp)
        feats = np.append(cols, self.p) if self.fit_intercept else cols
        l2 = np.ascontiguousarray(objective.l2[feats], dtype=np.float64)
        dw = np.ascontiguousarray(d, dtype=np.float64) / self.S
        diag = np.empty(feats.size)
        diag[: cols.size] = self.csc_sq[:, cols].T @ dw if cols.size else 0.0
        if self.fit_intercept:
            diag[-1] = dw.sum()
        diag = np.maximum(diag + l2, np.finfo(float).tiny)
        g, lam, lo, hi = (np.ascontiguousarray(a, dtype=np.float64) for a in (g, lam, lo, hi))
        u0 = np.ascontiguousarray(u0, dtype=np.float64)
        u = u0.copy()
        v = np.zeros(self.n)
        X = self.csc
        everything = np.arange(feats.size, dtype=np.intp)
        last = feats.size - 1

        def run(idx, sweeps):
            return _naive_sweeps(
                X.data, X.indices, X.indptr, cols, dw, g, u, u0, diag, l2, lam, lo, hi, v, idx,
                self.fit_intercept, tol, sweeps,
            )

        model = _Model(self, cols, dw, g, u0, l2, lam, lo, hi)
        done = 0
        while done < MAX_SWEEPS:
            n, change = run(everything, 1)
            done += n
            if change <= tol:
                break
            active = np.flatnonzero(u)
            if self.fit_intercept and (active.size == 0 or active[-1] != last):
                active = np.append(active, last)
            active = active.astype(np.intp)
            while done < MAX_SWEEPS:
                n, change = run(active, min(SWEEPS_PER_POLISH, MAX_SWEEPS - done))
                done += n
                if change <= tol:
                    break
                # cyclic CD crawls on an ill-conditioned face: Newton steps on it,
                # re-solved after each cut (an active-set method)
                moved = False
                for _ in range(POLISH_MAX_CUTS):
                    nz = u != 0
                    if not model.polish(u, tol):
                        break
                    moved = True
                    if np.array_equal(nz, u != 0):
                        break
                if moved:
                    v[:] = model.times(u - u0)
        return u


class _Model:
    """The inner model of :meth:`NaiveModel.solve`, for the sign-fixed Newton polish."""

    def __init__(self, owner: NaiveModel, cols, dw, g, u0, l2, lam, lo, hi) -> None:
        import scipy.sparse as sp  # on use: only sparse input gets here
        self.X = owner.csc[:, cols] if cols.size else sp.csc_matrix((owner.n, 0))
        self.fit_intercept = owner.fit_intercept
        self.nf = cols.size
        self.dw, self.g, self.u0, self.l2, self.lam, self.lo, self.hi = dw, g, u0, l2, lam, lo, hi

    def times(self, w: np.ndarray) -> np.ndarray:
        """``X~_A w`` (one entry per row)."""
        out = self.X @ w[: self.nf]
        if self.fit_intercept:
            out += w[-1]
        return out

    def rtimes(self, r: np.ndarray) -> np.ndarray:
        """``X~_A^T r``."""
        out = self.X.T @ r
        return np.append(out, r.sum()) if self.fit_intercept else out

    def value(self, u: np.ndarray) -> float:
        """The model ``g^T e + e^T H e / 2 + sum lam |u|`` with ``e = u - u0``."""
        e = u - self.u0
        z = self.times(e)
        return float(self.g @ e + 0.5 * (self.dw @ (z * z) + self.l2 @ (e * e)) + self.lam @ np.abs(u))

    def polish(self, u: np.ndarray, tol: float) -> bool:
        """A sign-fixed Newton step on the face (see :func:`logitfit.solvers.cd_inner._polish`), by CG.

        On the free coordinates ``F`` (non-zero inside the box, or unpenalised)
        solve ``H_FF s = -(model gradient + lam_F sign(u_F))`` by Jacobi-
        preconditioned conjugate gradients with products through X (each
        ``O(nnz(X_F))``). The projected step (crossing coordinates stop at 0)
        is taken if it lowers the model, else the step cut where a coordinate
        first reaches 0 or a bound. Updates ``u`` in place; False if nothing moved.
        """
        unpen = (self.lam == 0) & np.isinf(self.lo) & np.isinf(self.hi)
        free = np.flatnonzero(((u != 0) & (u > self.lo) & (u < self.hi)) | unpen)
        if free.size == 0:
            return False
        sgn = np.sign(u[free])
        grad = self.g + self.rtimes(self.dw * self.times(u - self.u0)) + self.l2 * (u - self.u0)
        rhs = -(grad[free] + self.lam[free] * sgn)
        # no early exit on a small rhs: after a sweep every coordinate's own
        # gradient is small, yet on an ill-conditioned face the sweeps still
        # crawl along a flat direction, which is what this step takes at once
        if not np.any(rhs):
            return False
        mask = np.zeros(u.size)

        def H_free(w):
            mask[:] = 0.0
            mask[free] = w
            return (self.rtimes(self.dw * self.times(mask)) + self.l2 * mask)[free]

        Xf = self.X[:, free[free < self.nf]]
        diag = np.empty(free.size)
        nfree = int(np.count_nonzero(free < self.nf))
        diag[:nfree] = Xf.multiply(Xf).T @ self.dw if nfree else 0.0
        if free.size > nfree:
            diag[nfree:] = self.dw.sum()
        diag = np.maximum(diag + self.l2[free], np.finfo(float).tiny)
        step = _pcg(H_free, rhs, diag, CG_RTOL * float(np.linalg.norm(rhs)), CG_MAX_ITER)
        if not np.all(np.isfinite(step)) or float(step @ rhs) <= 0.0:
            return False
        uf = u[free]
        # First the projected step (coordinates that cross 0 stop at 0, bounds
        # clip): it can change many signs at once; kept if it lowers the model.
        q0 = self.value(u)
        for t in (1.0, 0.5, 0.25):
            trial = u.copy()
            new = uf + t * step
            new[(sgn != 0) & (np.sign(new) != sgn)] = 0.0
            trial[free] = np.clip(new, self.lo[free], self.hi[free])
            if self.value(trial) < q0:
                u[:] = trial
                return True
        with np.errstate(divide="ignore", invalid="ignore"):
            to_zero = np.where((step * sgn < 0) & (sgn != 0), -uf / step, np.inf)
            to_lo = np.where(step < 0, (self.lo[free] - uf) / step, np.inf)
            to_hi = np.where(step > 0, (self.hi[free] - uf) / step, np.inf)
        reach = np.minimum(np.minimum(to_zero, to_lo), to_hi)
        t = min(1.0, float(np.min(reach)))
        if t <= 0.0:
            return False
        u[free] = uf + t * step
        if t < 1.0:  # the coordinate that reached 0 or a bound: put it there exactly
            hit = int(np.argmin(reach))
            k = free[hit]
            u[k] = 0.0 if to_zero[hit] <= min(to_lo[hit], to_hi[hit]) else (
                self.lo[k] if to_lo[hit] < to_hi[hit] else self.hi[k])
        return True


def _pcg(matvec, b: np.ndarray, diag: np.ndarray, atol: float, max_iter: int) -> np.ndarray:
    """Conjugate gradients for ``A s = b`` (``A`` SPD via ``matvec``), Jacobi preconditioner ``diag``."""
    s = np.zeros_like(b)
    r = b.copy()
    z = r / diag
    d = z.copy()
    rz = float(r @ z)
    for _ in range(max_iter):
        if float(np.linalg.norm(r)) <= atol:
            break
        Ad = matvec(d)
        dAd = float(d @ Ad)
        if dAd <= 0.0:
            break
        a = rz / dAd
        s += a * d
        r -= a * Ad
        z = r / diag
        rz_new = float(r @ z)
        d = z + (rz_new / rz) * d
        rz = rz_new
    return s
