# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled weighted Gram updates for :mod:`logitfit.solvers.gram_cache`.

With ``X~ = [X, 1]`` (the column of ones only when ``intercept``):

* :func:`gram_rows_dense` adds ``sign * X~_{R,C}^T diag(a^2) X~_{R,C}`` to
  the lower triangle (C order) of ``G``, for rows ``R`` and columns ``C``:
  chunks of rows are gathered, scaled by ``a`` and added by ``dsyrk``.
* :func:`gram_cross_dense` adds ``X_{:,A}^T diag(d) X~_{:,B}`` to ``out``
  (``dgemm`` on gathered chunks).
* :func:`gram_rows_csr` / :func:`gram_cross_csr`: the same for CSR rows, by
  sparse outer products (``O(sum_i k_i^2)`` for ``k_i`` entries of row ``i``
  in the set), which beats dense chunks by the inverse density.

Every product and sum is float64 (float32 X is widened as it is read). The
loops run without the GIL (the CV folds fit in threads).
"""

from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport free, malloc
from scipy.linalg.cython_blas cimport dgemm, dsyrk

ctypedef fused real:
    float
    double

ctypedef fused index:
    int32_t
    int64_t

cdef enum:
    CHUNK_BYTES = 1048576  # a gathered chunk: about 1 MB (BLAS-3 needs k of 64+ rows)
    MIN_ROWS = 64
    MAX_ROWS = 4096


cdef inline Py_ssize_t _rows_for(Py_ssize_t q) noexcept nogil:
    cdef Py_ssize_t r = CHUNK_BYTES // (8 * q + 1)
    return MIN_ROWS if r < MIN_ROWS else (MAX_ROWS if r > MAX_ROWS else r)


def gram_rows_dense(const real[:, ::1] X, const Py_ssize_t[::1] rows, const Py_ssize_t[::1] cols,
                    const double[::1] a, bint intercept, double sign, double[:, ::1] G):
    """``G += sign * A^T A`` (lower triangle, C order) with ``A[k] = a_k X~[rows[k], cols]``."""
    cdef Py_ssize_t m = cols.shape[0]
    cdef Py_ssize_t q = m + (1 if intercept else 0)
    cdef Py_ssize_t nr = rows.shape[0]
    cdef Py_ssize_t chunk = _rows_for(q)
    cdef Py_ssize_t r0, k, j, i, nk
    cdef double s
    cdef double beta = 1.0
    cdef char uplo = b'U'  # Fortran's upper triangle of G^T: C order's lower
    cdef char trans = b'N'
    cdef int iq = <int> q, ik
    cdef double* A
    if q == 0 or nr == 0:
        return
    if G.shape[0] != q or G.shape[1] != q or a.shape[0] != nr:
        raise ValueError("shapes of G, rows and a do not match")
    A = <double*> malloc(chunk * q * sizeof(double))
    if A == NULL:
        raise MemoryError()
    with nogil:
        r0 = 0
        while r0 < nr:
            nk = nr - r0 if nr - r0 < chunk else chunk
            for k in range(nk):
                i = rows[r0 + k]
                s = a[r0 + k]
                for j in range(m):
                    A[k * q + j] = s * X[i, cols[j]]
                if intercept:
                    A[k * q + m] = s
            ik = <int> nk
            dsyrk(&uplo, &trans, &iq, &ik, &sign, A, &iq, &beta, &G[0, 0], &iq)
            r0 += nk
    free(A)


def gram_cross_dense(const real[:, ::1] X, const Py_ssize_t[::1] cols_a, const Py_ssize_t[::1] cols_b,
                     const double[::1] d, bint intercept, double[:, ::1] out):
    """``out += X_{:,A}^T diag(d) X~_{:,B}``; ``out`` has shape (|A|, |B| + intercept)."""
    cdef Py_ssize_t n = X.shape[0]
    cdef Py_ssize_t ma = cols_a.shape[0]
    cdef Py_ssize_t mb = cols_b.shape[0]
    cdef Py_ssize_t qb = mb + (1 if intercept else 0)
    cdef Py_ssize_t chunk = _rows_for(ma + qb)
    cdef Py_ssize_t r0, k, j, i, nk
    cdef double one = 1.0
    cdef char tn = b'N'
    cdef char tt = b'T'
    cdef int iqb = <int> qb, ima = <int> ma, ik
    cdef double* A
    cdef double* B
    if ma == 0 or qb == 0 or n == 0:
        return
    if out.shape[0] != ma or out.shape[1] != qb or d.shape[0] != n:
        raise ValueError("shapes of out, cols and d do not match")
    A = <double*> malloc(chunk * ma * sizeof(double))
    B = <double*> malloc(chunk * qb * sizeof(double))
    if A == NULL or B == NULL:
        free(A)
        free(B)
        raise MemoryError()
    with nogil:
        r0 = 0
        while r0 < n:
            nk = n - r0 if n - r0 < chunk else chunk
            for k in range(nk):
                i = r0 + k
                for j in range(ma):
                    A[k * ma + j] = d[i] * X[i, cols_a[j]]
                for j in range(mb):
                    B[k * qb + j] = X[i, cols_b[j]]
                if intercept:
                    B[k * qb + mb] = 1.0
            ik = <int> nk
            # Fortran: out^T (qb x ma) += B^T-as-(qb x nk) times A-as-(nk x ma)
            dgemm(&tn, &tt, &iqb, &ima, &ik, &one, B, &iqb, A, &ima, &one, &out[0, 0], &iqb)
            r0 += nk
    free(A)
    free(B)


def gram_rows_csr(const real[::1] data, const index[::1] indices, const index[::1] indptr,
                  const Py_ssize_t[::1] rows, const Py_ssize_t[::1] pos, const double[::1] dr,
                  bint intercept, double[:, ::1] G):
    """``G += X~_{R,C}^T diag(dr) X~_{R,C}`` (full matrix) for CSR rows; ``pos[j]`` is column j's
    place in G or -1 (not in C); the intercept is G's last row and column."""
    cdef Py_ssize_t nr = rows.shape[0]
    cdef Py_ssize_t q = G.shape[0]
    cdef Py_ssize_t ic = q - 1
    cdef Py_ssize_t r, i, k, t, u, nk, width = 0
    cdef double di, va
    cdef Py_ssize_t* P
    cdef double* V
    if nr == 0 or q == 0:
        return
    if dr.shape[0] != nr or G.shape[1] != q:
        raise ValueError("shapes of G, rows and dr do not match")
    for r in range(nr):
        i = rows[r]
        if indptr[i + 1] - indptr[i] > width:
            width = indptr[i + 1] - indptr[i]
    P = <Py_ssize_t*> malloc((width + 1) * sizeof(Py_ssize_t))
    V = <double*> malloc((width + 1) * sizeof(double))
    if P == NULL or V == NULL:
        free(P)
        free(V)
        raise MemoryError()
    with nogil:
        for r in range(nr):
            i = rows[r]
            di = dr[r]
            nk = 0
            for k in range(indptr[i], indptr[i + 1]):
                t = pos[indices[k]]
                if t >= 0:
                    P[nk] = t
                    V[nk] = data[k]
                    nk += 1
            for t in range(nk):
                va = di * V[t]
                for u in range(nk):
                    G[P[t], P[u]] += va * V[u]
                if intercept:
                    G[P[t], ic] += va
                    G[ic, P[t]] += va
            if intercept:
                G[ic, ic] += di
    free(P)
    free(V)


def gram_cross_csr(const real[::1] data, const index[::1] indices, const index[::1] indptr,
                   const Py_ssize_t[::1] pos_a, const Py_ssize_t[::1] pos_b, const double[::1] d,
                   bint intercept, double[:, ::1] out):
    """``out += X_{:,A}^T diag(d) X~_{:,B}`` for CSR rows; ``pos_a`` / ``pos_b`` map columns to
    rows / columns of ``out`` (-1: not in the set); the intercept is out's last column."""
    cdef Py_ssize_t n = indptr.shape[0] - 1
    cdef Py_ssize_t ic = out.shape[1] - 1
    cdef Py_ssize_t i, k, t, u, na, nb, width = 0
    cdef double di, va
    cdef Py_ssize_t* PA
    cdef Py_ssize_t* PB
    cdef double* VA
    cdef double* VB
    if d.shape[0] != n:
        raise ValueError("d must have one weight per row")
    for i in range(n):
        if indptr[i + 1] - indptr[i] > width:
            width = indptr[i + 1] - indptr[i]
    PA = <Py_ssize_t*> malloc((width + 1) * sizeof(Py_ssize_t))
    PB = <Py_ssize_t*> malloc((width + 1) * sizeof(Py_ssize_t))
    VA = <double*> malloc((width + 1) * sizeof(double))
    VB = <double*> malloc((width + 1) * sizeof(double))
    if PA == NULL or PB == NULL or VA == NULL or VB == NULL:
        free(PA)
        free(PB)
        free(VA)
        free(VB)
        raise MemoryError()
    with nogil:
        for i in range(n):
            di = d[i]
            na = 0
            nb = 0
            for k in range(indptr[i], indptr[i + 1]):
                t = pos_a[indices[k]]
                if t >= 0:
                    PA[na] = t
                    VA[na] = di * data[k]
                    na += 1
                t = pos_b[indices[k]]
                if t >= 0:
                    PB[nb] = t
                    VB[nb] = data[k]
                    nb += 1
            for t in range(na):
                va = VA[t]
                for u in range(nb):
                    out[PA[t], PB[u]] += va * VB[u]
                if intercept:
                    out[PA[t], ic] += va
    free(PA)
    free(PB)
    free(VA)
    free(VB)
