# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled cyclic coordinate-descent sweeps for :func:`logitfit.solvers.cd._inner_cd`.

The quadratic model of the separable penalty (``H`` symmetric, ``v = H (u -
u0)`` kept up to date by the caller's convention)::

    q(u) = g^T (u - u0) + (u - u0)^T H (u - u0) / 2 + sum_i lam_i |u_i|,  lo <= u <= hi

Coordinate ``i`` moves to its exact minimiser with the others fixed::

    r     = g_i + v_i
    z     = H_ii u_i - r
    new   = clip(sign(z) max(|z| - lam_i, 0) / H_ii, lo_i, hi_i)
    delta = new - u_i;   u_i = new;   v += delta H[i, :]

the arithmetic of the Python update it replaces, operation for operation.
The loops run without the GIL (the CV folds fit in threads).
"""

from libc.math cimport fabs
from libc.stdint cimport int32_t, int64_t


cdef inline double _minimiser(double hii, double ui, double r, double lam, double lo,
                              double hi) noexcept nogil:
    """The coordinate's new value ``clip(S(H_ii u_i - r, lam) / H_ii, lo, hi)`` (``r``: its model gradient)."""
    cdef double z = hii * ui - r
    cdef double mag = fabs(z) - lam
    cdef double new
    if mag < 0.0:
        mag = 0.0
    # np.sign(z) * mag: +mag, -mag, or 0 * mag (z == 0; NaN propagates as NaN)
    if z > 0.0:
        new = mag / hii
    elif z < 0.0:
        new = -mag / hii
    elif z == 0.0:
        new = (0.0 * mag) / hii
    else:
        new = z
    # Python's max(new, lo) / min(new, hi): the bound only when strictly beyond it
    if lo > new:
        new = lo
    if hi < new:
        new = hi
    return new


cdef inline double _update(
    const double[:, ::1] H, const double[::1] g, double[::1] u, double[::1] v,
    const double[::1] diag, const double[::1] lam, const double[::1] lo, const double[::1] hi,
    Py_ssize_t i, Py_ssize_t m,
) noexcept nogil:
    """One coordinate update; returns ``|delta| H_ii`` (0 when the coordinate stays)."""
    cdef double new = _minimiser(diag[i], u[i], g[i] + v[i], lam[i], lo[i], hi[i])
    cdef double delta = new - u[i]
    cdef Py_ssize_t j
    if delta == 0.0:
        return 0.0
    u[i] = new
    for j in range(m):
        v[j] += delta * H[i, j]
    return fabs(delta) * diag[i]


def sweeps(
    const double[:, ::1] H,
    const double[::1] g,
    double[::1] u,
    double[::1] v,
    const double[::1] diag,
    const double[::1] lam,
    const double[::1] lo,
    const double[::1] hi,
    const Py_ssize_t[::1] idx,
    double tol,
    Py_ssize_t max_sweeps,
):
    """Cyclic sweeps over the coordinates ``idx`` (in order), updating ``u`` and ``v`` in place.

    Stops after the first sweep whose largest ``|delta_i| H_ii`` is ``<= tol``
    or after ``max_sweeps`` sweeps. Returns ``(sweeps_done, change)``, change
    being that largest ``|delta_i| H_ii`` of the last sweep (0.0 for an empty
    ``idx``). ``H`` must be C-contiguous, ``m x m``; ``diag`` is ``H_ii``
    floored at the smallest positive double.
    """
    cdef Py_ssize_t m = H.shape[0]
    cdef Py_ssize_t n = idx.shape[0]
    cdef Py_ssize_t s = 0, k, i
    cdef double change = 0.0, c
    if H.shape[1] != m or g.shape[0] != m or u.shape[0] != m or v.shape[0] != m:
        raise ValueError("H must be m x m and g, u, v of length m")
    if diag.shape[0] != m or lam.shape[0] != m or lo.shape[0] != m or hi.shape[0] != m:
        raise ValueError("diag, lam, lo, hi must have length m")
    for k in range(n):
        if idx[k] < 0 or idx[k] >= m:
            raise IndexError("coordinate index out of range")
    with nogil:
        while s < max_sweeps:
            change = 0.0
            for k in range(n):
                i = idx[k]
                c = _update(H, g, u, v, diag, lam, lo, hi, i, m)
                if c > change:
                    change = c
            s += 1
            if change <= tol:
                break
    return s, change


ctypedef fused index:
    int32_t
    int64_t


def naive_sweeps(
    const double[::1] data,
    const index[::1] indices,
    const index[::1] indptr,
    const Py_ssize_t[::1] cols,
    const double[::1] dw,
    const double[::1] g,
    double[::1] u,
    const double[::1] u0,
    const double[::1] diag,
    const double[::1] l2,
    const double[::1] lam,
    const double[::1] lo,
    const double[::1] hi,
    double[::1] v,
    const Py_ssize_t[::1] idx,
    bint intercept,
    double tol,
    Py_ssize_t max_sweeps,
):
    """Sweeps of :func:`sweeps` on the model whose Hessian is ``X~_A^T diag(dw) X~_A + diag(l2)``,
    read through X's columns (glmnet's "naive" updates) instead of a formed matrix.

    ``X`` is CSC (``data, indices, indptr``); model coordinate ``k < len(cols)``
    is column ``cols[k]``, and with ``intercept`` the last one is the column of
    ones. ``v = X~_A (u - u0)`` (one entry per row) is kept up to date, so
    coordinate ``k``'s model gradient is ``g_k + x_k^T (dw * v) + l2_k (u_k -
    u0_k)`` and an update costs two passes over the column's non-zeros.
    ``diag`` holds the model's ``H_kk``. Returns ``(sweeps_done, change)``.
    """
    cdef Py_ssize_t m = g.shape[0]
    cdef Py_ssize_t nf = cols.shape[0]
    cdef Py_ssize_t n = v.shape[0]
    cdef Py_ssize_t nidx = idx.shape[0]
    cdef Py_ssize_t s = 0, t, k, j, a
    cdef double change = 0.0, r, new, delta, c
    if nf + (1 if intercept else 0) != m or u.shape[0] != m or u0.shape[0] != m or diag.shape[0] != m:
        raise ValueError("g, u, u0, diag must have one entry per column of the working set")
    if l2.shape[0] != m or lam.shape[0] != m or lo.shape[0] != m or hi.shape[0] != m or dw.shape[0] != n:
        raise ValueError("l2, lam, lo, hi must have length m and dw one entry per row")
    for t in range(nidx):
        if idx[t] < 0 or idx[t] >= m:
            raise IndexError("coordinate index out of range")
    for t in range(nf):
        if cols[t] < 0 or cols[t] + 1 >= indptr.shape[0]:
            raise IndexError("column index out of range")
    with nogil:
        while s < max_sweeps:
            change = 0.0
            for t in range(nidx):
                k = idx[t]
                r = 0.0
                if k < nf:
                    j = cols[k]
                    for a in range(indptr[j], indptr[j + 1]):
                        r += data[a] * dw[indices[a]] * v[indices[a]]
                else:
                    for a in range(n):
                        r += dw[a] * v[a]
                r += g[k] + l2[k] * (u[k] - u0[k])
                new = _minimiser(diag[k], u[k], r, lam[k], lo[k], hi[k])
                delta = new - u[k]
                if delta == 0.0:
                    continue
                u[k] = new
                if k < nf:
                    for a in range(indptr[j], indptr[j + 1]):
                        v[indices[a]] += delta * data[a]
                else:
                    for a in range(n):
                        v[a] += delta
                c = fabs(delta) * diag[k]
                if c > change:
                    change = c
            s += 1
            if change <= tol:
                break
    return s, change
