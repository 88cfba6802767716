# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled one-pass row kernels for the binary objective (dense C-ordered and CSR rows).

Each function walks the blocks ``k0 <= k < k1`` whose rows are
``bounds[k] <= i < bounds[k + 1]`` and writes block ``k``'s partial sums to
``out[k]``, with the GIL released, so Python threads can run disjoint block
ranges at once. The caller adds the partials in block order, so a result does
not depend on how the blocks were split between threads.

Within a block, rows go in chunks of ``CHUNK``: first ``z = X_c w + b (+ offset)`` for
the chunk (BLAS ``gemv``, each row read once from memory), then the
elementwise part, then ``g += X_c^T r`` (``gemv`` again) while the chunk is
still in cache. CSR rows use plain loops. The elementwise part is the one
:func:`logitfit.loss._binary_parts` computes, with ``e = exp(-|z|)`` and
``s = e / (1 + e)``, in a vectorisable loop (``_fused_math.h``):

* loss ``(max(z, 0) - y z) + log1p(e)``,
* residual ``sigmoid(z) - y`` = ``(1 - y) - s`` for z > 0, ``s - y`` otherwise,
* Hessian weight ``h (1 - h) = s / (1 + e)``.

X may be float32 or float64 (read as stored: a float32 X is half the bytes
per pass). Every product and sum is float64: float32 entries are widened as
they are read (``lf_rows_dot_f32`` / ``lf_rows_axpy_f32``, not ``sgemv``,
which would round every sum to float32).
"""

from libc.math cimport log1p, sqrt
from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport free, malloc
from scipy.linalg.cython_blas cimport dgemm, dgemv, dsyrk, sgemv

cdef extern from "_fused_math.h" nogil:
    double lf_binary_terms(int64_t n, const double* z, const double* y, const double* sw,
                           double* loss, double* res, double* wt)
    void lf_exp_block(int64_t m, double* a)
    void lf_rows_dot_f32(int64_t n, int64_t p, const float* X, const double* w, double* z)
    void lf_rows_axpy_f32(int64_t n, int64_t p, const float* X, const double* r, double* g)
    double lf_pairwise_sum(const double* a, int64_t n)

ctypedef fused real:
    float
    double

ctypedef fused index:
    int32_t
    int64_t

cdef enum:
    CHUNK = 2048  # most rows per chunk (the stack buffers' length): narrow X needs long chunks, BLAS calls cost ~us
    CHUNK_BYTES = 262144  # a chunk of X stays in L2 between its two gemv (256 KB)


cdef inline Py_ssize_t _chunk_rows(Py_ssize_t p, Py_ssize_t itemsize) noexcept nogil:
    """Rows per chunk: about CHUNK_BYTES of X, between 16 and CHUNK."""
    cdef Py_ssize_t rows = CHUNK_BYTES // (p * itemsize + 1)
    return 16 if rows < 16 else (CHUNK if rows > CHUNK else rows)

# What a binary pass computes (``mode``).
cdef enum:
    MODE_VALUE = 0     # out[k, 0] = sum_i s_i l_i
    MODE_GRADIENT = 1  # out[k] = [sum s_i l_i, sum_i s_i r_i x_i (p entries), sum_i s_i r_i];
                       # binary, with a non-empty d: also d[i] = s_i h_i (1 - h_i)
    MODE_WEIGHTS = 2   # d[i] = s_i h_i (1 - h_i); out untouched

VALUE = MODE_VALUE
GRADIENT = MODE_GRADIENT
WEIGHTS = MODE_WEIGHTS


cdef inline void _rows_times(const real* X, int p, int n, const double* v, double* out) noexcept nogil:
    """``out = X_c v`` for ``n`` C-ordered rows of length ``p``: BLAS ``dgemv`` (``T`` in
    column-major) for float64 X; for float32 X a loop that widens each entry to
    float64 and accumulates in float64 (sgemv would round every sum to float32)."""
    cdef int one = 1
    cdef double alpha = 1.0, beta = 0.0
    if real is double:
        dgemv("T", &p, &n, &alpha, <double*> X, &p, <double*> v, &one, &beta, out, &one)
    else:
        lf_rows_dot_f32(n, p, <const float*> X, v, out)


cdef inline void _add_rows_t_times(const real* X, int p, int n, const double* r, double* g) noexcept nogil:
    """``g += X_c^T r`` for ``n`` C-ordered rows of length ``p`` (``dgemv``, or the float32 loop)."""
    cdef int one = 1
    cdef double alpha = 1.0, beta = 1.0
    if real is double:
        dgemv("N", &p, &n, &alpha, <double*> X, &p, <double*> r, &one, &beta, g, &one)
    else:
        lf_rows_axpy_f32(n, p, <const float*> X, r, g)


cdef inline double _chunk_terms(const real* X, int p, int n, const double* w, double b,
                                const double* off, const double* y, const double* sw, double* z,
                                double* loss, double* res, double* wt) noexcept nogil:
    """``z = X_c w + b (+ off)`` for ``n`` rows, then their binary terms; returns ``sum s l``.

    ``off`` (the chunk's offsets) is NULL for a fit without offsets."""
    cdef int i
    if p > 0:
        _rows_times(X, p, n, w, z)
    else:
        for i in range(n):
            z[i] = 0.0
    for i in range(n):
        z[i] += b
    if off != NULL:
        for i in range(n):
            z[i] += off[i]
    return lf_binary_terms(n, z, y, sw, loss, res, wt)


cdef void _binary_block(const real* X, int p, const double* y, const double* sw,
                        const double* w, double b, const double* off, Py_ssize_t a, Py_ssize_t e,
                        int mode, double* out, double* d) noexcept nogil:
    cdef double z[CHUNK]
    cdef double loss[CHUNK]
    cdef double res[CHUNK]
    cdef double wt[CHUNK]
    cdef double total = 0.0, gb = 0.0
    cdef Py_ssize_t c, i, j
    cdef int n
    cdef double* g = out + 1
    cdef Py_ssize_t rows = _chunk_rows(p, sizeof(real))
    if mode == MODE_GRADIENT:
        for j in range(p):
            g[j] = 0.0
    c = a
    while c < e:
        n = <int> (rows if c + rows < e else e - c)
        total += _chunk_terms(X + c * p, p, n, w, b, off + c if off != NULL else NULL,
                              y + c, sw + c, z, loss, res, wt)
        if mode == MODE_WEIGHTS:
            for i in range(n):
                d[c + i] = wt[i]
        elif mode == MODE_GRADIENT:
            for i in range(n):
                gb += res[i]
            if p > 0:
                _add_rows_t_times(X + c * p, p, n, res, g)
            if d != NULL:  # the Hessian weights too (GRADIENT with a state array)
                for i in range(n):
                    d[c + i] = wt[i]
        c += n
    if mode == MODE_VALUE:
        out[0] = total
    elif mode == MODE_GRADIENT:
        out[0] = total
        out[p + 1] = gb


cdef inline double _dot_sparse(const real* data, const index* ind, Py_ssize_t lo, Py_ssize_t hi,
                               const double* w) noexcept nogil:
    cdef double s0 = 0.0, s1 = 0.0
    cdef Py_ssize_t k = lo
    while k + 2 <= hi:
        s0 += data[k] * w[ind[k]]
        s1 += data[k + 1] * w[ind[k + 1]]
        k += 2
    if k < hi:
        s0 += data[k] * w[ind[k]]
    return s0 + s1


cdef void _binary_block_csr(const real* data, const index* ind, const index* ptr, Py_ssize_t p,
                            const double* y, const double* sw, const double* w, double b,
                            const double* off, Py_ssize_t a, Py_ssize_t e, int mode, double* out,
                            double* d) noexcept nogil:
    cdef double z[CHUNK]
    cdef double loss[CHUNK]
    cdef double res[CHUNK]
    cdef double wt[CHUNK]
    cdef double total = 0.0, gb = 0.0, r
    cdef Py_ssize_t c, i, j, k, n
    cdef double* g = out + 1
    if mode == MODE_GRADIENT:
        for j in range(p):
            g[j] = 0.0
    c = a
    while c < e:
        n = CHUNK if c + CHUNK < e else e - c
        for i in range(n):
            z[i] = _dot_sparse(data, ind, ptr[c + i], ptr[c + i + 1], w) + b
        if off != NULL:
            for i in range(n):
                z[i] += off[c + i]
        total += lf_binary_terms(n, z, y + c, sw + c, loss, res, wt)
        if mode == MODE_WEIGHTS:
            for i in range(n):
                d[c + i] = wt[i]
        elif mode == MODE_GRADIENT:
            for i in range(n):
                r = res[i]
                gb += r
                for k in range(ptr[c + i], ptr[c + i + 1]):
                    g[ind[k]] += r * data[k]
            if d != NULL:  # the Hessian weights too (GRADIENT with a state array)
                for i in range(n):
                    d[c + i] = wt[i]
        c += n
    if mode == MODE_VALUE:
        out[0] = total
    elif mode == MODE_GRADIENT:
        out[0] = total
        out[p + 1] = gb


def binary_dense(const real[:, ::1] X, const double[::1] y, const double[::1] sw,
                 const double[::1] w, double b, const int64_t[::1] bounds,
                 Py_ssize_t k0, Py_ssize_t k1, int mode, double[:, ::1] out,
                 double[::1] d, const double[::1] off):
    """Binary pass over dense blocks ``k0..k1-1`` (see the module docstring and ``mode``);
    ``off`` holds one offset per row, or nothing (length 0) for a fit without offsets."""
    cdef int p = <int> X.shape[1]
    cdef Py_ssize_t k
    cdef double* dp = &d[0] if d.shape[0] > 0 else NULL
    cdef const double* op = &off[0] if off.shape[0] > 0 else NULL
    cdef const double* wp = &w[0] if w.shape[0] > 0 else NULL
    if X.shape[0] == 0:
        return
    with nogil:
        for k in range(k0, k1):
            _binary_block(&X[0, 0], p, &y[0], &sw[0], wp, b, op, bounds[k], bounds[k + 1],
                          mode, &out[k, 0], dp)


def binary_csr(const real[::1] data, const index[::1] indices, const index[::1] indptr,
               const double[::1] y, const double[::1] sw, const double[::1] w, double b,
               const int64_t[::1] bounds, Py_ssize_t k0, Py_ssize_t k1, int mode,
               double[:, ::1] out, double[::1] d, const double[::1] off):
    """Binary pass over CSR blocks ``k0..k1-1``; ``w`` has one entry per column, ``off``
    one offset per row or none."""
    cdef Py_ssize_t p = w.shape[0], k
    cdef double* dp = &d[0] if d.shape[0] > 0 else NULL
    cdef const double* op = &off[0] if off.shape[0] > 0 else NULL
    cdef const real* dat = &data[0] if data.shape[0] > 0 else NULL
    cdef const index* ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef const double* wp = &w[0] if w.shape[0] > 0 else NULL
    if y.shape[0] == 0:
        return
    with nogil:
        for k in range(k0, k1):
            _binary_block_csr(dat, ind, &indptr[0], p, &y[0], &sw[0], wp, b, op,
                              bounds[k], bounds[k + 1], mode, &out[k, 0], dp)


cdef void _hessp_block(const real* X, int p, const double* d, const double* v, double vb,
                       Py_ssize_t a, Py_ssize_t e, double* out) noexcept nogil:
    """``out = [sum_i u_i x_i, sum_i u_i]`` with ``u_i = d_i (x_i . v + vb)``."""
    cdef double u[CHUNK]
    cdef double ub = 0.0
    cdef Py_ssize_t c, i, j
    cdef int n
    cdef Py_ssize_t rows = _chunk_rows(p, sizeof(real))
    for j in range(p):
        out[j] = 0.0
    c = a
    while c < e:
        n = <int> (rows if c + rows < e else e - c)
        if p > 0:
            _rows_times(X + c * p, p, n, v, u)
        else:
            for i in range(n):
                u[i] = 0.0
        for i in range(n):
            u[i] = d[c + i] * (u[i] + vb)
            ub += u[i]
        if p > 0:
            _add_rows_t_times(X + c * p, p, n, u, out)
        c += n
    out[p] = ub


cdef void _hessp_block_csr(const real* data, const index* ind, const index* ptr, Py_ssize_t p,
                           const double* d, const double* v, double vb, Py_ssize_t a,
                           Py_ssize_t e, double* out) noexcept nogil:
    cdef double u, ub = 0.0
    cdef Py_ssize_t i, j, k
    for j in range(p + 1):
        out[j] = 0.0
    for i in range(a, e):
        u = d[i] * (_dot_sparse(data, ind, ptr[i], ptr[i + 1], v) + vb)
        ub += u
        for k in range(ptr[i], ptr[i + 1]):
            out[ind[k]] += u * data[k]
    out[p] = ub


def hessp_dense(const real[:, ::1] X, const double[::1] d, const double[::1] v, double vb,
                const int64_t[::1] bounds, Py_ssize_t k0, Py_ssize_t k1, double[:, ::1] out):
    """Hessian-vector partials ``[X_k^T (d_k * (X_k v + vb)), sum d_k * (X_k v + vb)]`` per block."""
    cdef int p = <int> X.shape[1]
    cdef Py_ssize_t k
    cdef const double* vp = &v[0] if v.shape[0] > 0 else NULL
    if X.shape[0] == 0:
        return
    with nogil:
        for k in range(k0, k1):
            _hessp_block(&X[0, 0], p, &d[0], vp, vb, bounds[k], bounds[k + 1], &out[k, 0])


def hessp_csr(const real[::1] data, const index[::1] indices, const index[::1] indptr,
              const double[::1] d, const double[::1] v, double vb, const int64_t[::1] bounds,
              Py_ssize_t k0, Py_ssize_t k1, double[:, ::1] out):
    """CSR version of :func:`hessp_dense` (``v`` float64, one entry per column)."""
    cdef Py_ssize_t p = v.shape[0], k
    cdef const real* dat = &data[0] if data.shape[0] > 0 else NULL
    cdef const index* ind = &indices[0] if indices.shape[0] > 0 else NULL
    cdef const double* vp = &v[0] if v.shape[0] > 0 else NULL
    if d.shape[0] == 0:
        return
    with nogil:
        for k in range(k0, k1):
            _hessp_block_csr(dat, ind, &indptr[0], p, &d[0], vp, vb, bounds[k],
                             bounds[k + 1], &out[k, 0])


def binary_terms(const double[::1] z, const double[::1] y, const double[::1] sw,
                 double[::1] loss, double[::1] res, double[::1] wt):
    """The elementwise part alone, for tests: fills ``loss``, ``res``, ``wt``; returns the loss sum."""
    cdef int64_t n = z.shape[0]
    if n == 0:
        return 0.0
    with nogil:
        total = lf_binary_terms(n, &z[0], &y[0], &sw[0], &loss[0], &res[0], &wt[0])
    return total



# --------------------------------------------------------------------------
# Multinomial (softmax) model, dense float64 C-ordered X. Coefficients B are
# (p, K) C-ordered, intercepts b (K,). Per chunk: Z = X_c B + b (dgemm), the
# row terms of logitfit.loss._multi_terms, then G += X_c^T (s * R) (dgemm).
# --------------------------------------------------------------------------


cdef inline void _chunk_times_B(const double* X, int p, int n, const double* B, int K,
                                double* Z) noexcept nogil:
    """``Z = X_c B`` (n x K, C order): column-major ``Z^T = B^T X_c^T``."""
    cdef double one = 1.0, zero = 0.0
    dgemm("N", "N", &K, &n, &p, &one, <double*> B, &K, <double*> X, &p, &zero, Z, &K)


cdef inline void _add_chunk_t_times(const double* X, int p, int n, const double* R, int K,
                                    double* G) noexcept nogil:
    """``G += X_c^T R`` (p x K, C order): column-major ``G^T += R^T X_c``."""
    cdef double one = 1.0
    dgemm("N", "T", &K, &p, &n, &one, <double*> R, &K, <double*> X, &p, &one, G, &K)


cdef inline void _chunk_logits(const double* X, int p, int n, const double* B, const double* b,
                               int K, double* Z) noexcept nogil:
    """``Z = X_c B + b`` (n x K, C order) for ``n`` rows."""
    cdef int i, k
    if p > 0:
        _chunk_times_B(X, p, n, B, K, Z)
    else:
        for i in range(n * K):
            Z[i] = 0.0
    for i in range(n):
        for k in range(K):
            Z[i * K + k] += b[k]


cdef double _softmax_rows(Py_ssize_t n, int K, double* Z, const int64_t* y, const double* sw,
                          double* P, double* rowbuf, int* kbuf) noexcept nogil:
    """Row terms of the softmax loss; returns ``sum_i s_i l_i``.

    With ``k*`` the row's argmax and ``t = sum_{k != k*} exp(Z_k - Z_k*)``:
    ``l = (Z_k* - Z_y) + log1p(t)``, ``P_k = exp(Z_k - Z_k*) / (1 + t)``
    (``P_k* = 1 / (1 + t)``), and the residual ``R = P - onehot(y)`` with
    ``R_y = -t / (1 + t)`` when ``y = k*`` (no ``1 - P`` cancellation); the
    largest term is left out of ``t``, so no ``1 + tiny`` is ever formed.
    Overwrites ``Z`` with ``s * R``; writes ``P`` when it is not NULL.
    ``rowbuf`` and ``kbuf`` are scratch of n entries. The exponentials are
    taken in one vectorised sweep over the block (``lf_exp_block``); the
    losses are added pairwise.
    """
    cdef Py_ssize_t i
    cdef int k, kmax, yi
    cdef double zmax, t, inv
    cdef double* z
    for i in range(n):
        z = Z + i * K
        kmax = 0
        zmax = z[0]
        for k in range(1, K):
            if z[k] > zmax:
                zmax = z[k]
                kmax = k
        for k in range(K):
            z[k] -= zmax
        kbuf[i] = kmax
        rowbuf[i] = -z[<int> y[i]]  # Z_k* - Z_y
    lf_exp_block(n * K, Z)
    for i in range(n):
        z = Z + i * K
        kmax = kbuf[i]
        yi = <int> y[i]
        z[kmax] = 0.0
        t = 0.0
        for k in range(K):
            t += z[k]
        rowbuf[i] = sw[i] * (rowbuf[i] + log1p(t))
        inv = 1.0 / (1.0 + t)
        z[kmax] = 1.0
        for k in range(K):
            z[k] *= inv
        if P != NULL:
            for k in range(K):
                P[i * K + k] = z[k]
        if yi == kmax:
            z[yi] = -t * inv
        else:
            z[yi] -= 1.0
        for k in range(K):
            z[k] *= sw[i]
    return lf_pairwise_sum(rowbuf, n)


cdef void _multi_block(const double* X, int p, int K, const int64_t* y, const double* sw,
                       const double* B, const double* b, Py_ssize_t a, Py_ssize_t e, int mode,
                       double* out, double* P, double* Z) noexcept nogil:
    """out = [sum s l, G (p K), sum_i s_i R_i (K)]; ``Z`` is scratch of CHUNK (K + 2) doubles."""
    cdef double* rowbuf = Z + CHUNK * K
    cdef int* kbuf = <int*> (Z + CHUNK * (K + 1))
    cdef double total = 0.0
    cdef Py_ssize_t c, i, j
    cdef int n, k
    cdef Py_ssize_t rows = _chunk_rows(p, 8)
    cdef double* G = out + 1
    cdef double* gb = out + 1 + p * K
    if mode == MODE_GRADIENT:
        for j in range(p * K + K):
            G[j] = 0.0
    c = a
    while c < e:
        n = <int> (rows if c + rows < e else e - c)
        _chunk_logits(X + c * p, p, n, B, b, K, Z)
        total += _softmax_rows(n, K, Z, y + c, sw + c, P + c * K if mode == MODE_WEIGHTS else NULL,
                               rowbuf, kbuf)
        if mode == MODE_GRADIENT:
            for i in range(n):
                for k in range(K):
                    gb[k] += Z[i * K + k]
            if p > 0:
                _add_chunk_t_times(X + c * p, p, n, Z, K, G)
        c += n
    out[0] = total


def multinomial_dense(const double[:, ::1] X, const int64_t[::1] y, const double[::1] sw,
                      const double[:, ::1] B, const double[::1] b, const int64_t[::1] bounds,
                      Py_ssize_t k0, Py_ssize_t k1, int mode, double[:, ::1] out,
                      double[:, ::1] P):
    """Softmax pass over dense blocks ``k0..k1-1``: ``mode`` VALUE (out[k, 0]), GRADIENT
    (out[k] = [sum s l, G.ravel(), sum s R]) or WEIGHTS (the probabilities into ``P``, n x K)."""
    cdef int p = <int> X.shape[1]
    cdef int K = <int> B.shape[1]
    cdef Py_ssize_t k
    cdef double* Z
    cdef double* Pp = &P[0, 0] if P.shape[0] > 0 else NULL
    cdef const double* Bp = &B[0, 0] if B.shape[0] > 0 else NULL
    if X.shape[0] == 0:
        return
    Z = <double*> malloc(CHUNK * (K + 2) * sizeof(double))
    if Z == NULL:
        raise MemoryError()
    try:
        with nogil:
            for k in range(k0, k1):
                _multi_block(&X[0, 0], p, K, &y[0], &sw[0], Bp, &b[0], bounds[k], bounds[k + 1],
                             mode, &out[k, 0], Pp, Z)
    finally:
        free(Z)


cdef void _multi_hessp_block(const double* X, int p, int K, const double* sw, const double* P,
                             const double* V, const double* vb, Py_ssize_t a, Py_ssize_t e,
                             double* out, double* Z) noexcept nogil:
    """out = [X^T U (p K), sum_i U_i (K)] with ``T = P * (X V + vb)``, ``U = s (T - P rowsum(T))``."""
    cdef Py_ssize_t c, i, j
    cdef int n, k
    cdef double rs
    cdef Py_ssize_t rows = _chunk_rows(p, 8)
    cdef double* ub = out + p * K
    cdef const double* pr
    cdef double* z
    for j in range(p * K + K):
        out[j] = 0.0
    c = a
    while c < e:
        n = <int> (rows if c + rows < e else e - c)
        _chunk_logits(X + c * p, p, n, V, vb, K, Z)
        for i in range(n):
            z = Z + i * K
            pr = P + (c + i) * K
            rs = 0.0
            for k in range(K):
                z[k] = pr[k] * z[k]
                rs += z[k]
            for k in range(K):
                z[k] = sw[c + i] * (z[k] - pr[k] * rs)
                ub[k] += z[k]
        if p > 0:
            _add_chunk_t_times(X + c * p, p, n, Z, K, out)
        c += n


def multinomial_hessp_dense(const double[:, ::1] X, const double[::1] sw, const double[:, ::1] P,
                            const double[:, ::1] V, const double[::1] vb,
                            const int64_t[::1] bounds, Py_ssize_t k0, Py_ssize_t k1,
                            double[:, ::1] out):
    """Softmax Hessian-vector partials per block (the probabilities ``P`` from WEIGHTS)."""
    cdef int p = <int> X.shape[1]
    cdef int K = <int> P.shape[1]
    cdef Py_ssize_t k
    cdef double* Z
    cdef const double* Vp = &V[0, 0] if V.shape[0] > 0 else NULL
    if X.shape[0] == 0:
        return
    Z = <double*> malloc(CHUNK * K * sizeof(double))
    if Z == NULL:
        raise MemoryError()
    try:
        with nogil:
            for k in range(k0, k1):
                _multi_hessp_block(&X[0, 0], p, K, &sw[0], &P[0, 0], Vp, &vb[0], bounds[k],
                                   bounds[k + 1], &out[k, 0], Z)
    finally:
        free(Z)



# --------------------------------------------------------------------------
# Binary value, gradient and Hessian in one pass (Newton), dense X.
# --------------------------------------------------------------------------


cdef void _binary_hess_range(const real* X, int p, int q, const double* y, const double* sw,
                             const double* w, double b, const double* off, Py_ssize_t a,
                             Py_ssize_t e, double* H, double* A, double* hb) noexcept nogil:
    """Rows ``a..e-1`` into ``H = X~^T diag(s h (1 - h)) X~`` (q x q, C order).

    ``X~ = [X, 1]`` when ``q = p + 1``. Per chunk the rows scaled by
    ``sqrt(s h (1 - h))`` are copied to ``A`` (float64) and added by one
    symmetric rank-k update (BLAS ``dsyrk``), which fills the upper triangle
    of the C-ordered H (the caller mirrors it). ``hb`` (p entries) collects
    ``X^T d`` for the intercept column. The value and gradient are not formed
    here: callers take them from the GRADIENT pass.
    """
    cdef double z[CHUNK]
    cdef double loss[CHUNK]
    cdef double res[CHUNK]
    cdef double wt[CHUNK]
    cdef double dsum = 0.0, sd
    cdef Py_ssize_t c, i, j
    cdef int n
    cdef double done = 1.0
    cdef Py_ssize_t rows = _chunk_rows(p, sizeof(real))
    for j in range(p):
        hb[j] = 0.0
    for j in range(q * q):
        H[j] = 0.0
    c = a
    while c < e:
        n = <int> (rows if c + rows < e else e - c)
        _chunk_terms(X + c * p, p, n, w, b, off + c if off != NULL else NULL, y + c, sw + c,
                     z, loss, res, wt)
        for i in range(n):
            dsum += wt[i]
        if p > 0:
            _add_rows_t_times(X + c * p, p, n, wt, hb)
            for i in range(n):
                sd = sqrt(wt[i])
                for j in range(p):
                    A[i * p + j] = sd * X[(c + i) * p + j]
            # column-major: C (p x p, ld q) += A^T-view (p x n) times its transpose;
            # "L" in column-major is the upper triangle of the C-ordered H
            dsyrk("L", "N", &p, &n, &done, A, &p, &done, H, &q)
        c += n
    if q > p:
        for j in range(p):
            H[j * q + p] = hb[j]
        H[p * q + p] = dsum


def binary_dense_hess(const real[:, ::1] X, const double[::1] y, const double[::1] sw,
                      const double[::1] w, double b, const int64_t[::1] starts,
                      const int64_t[::1] ends, Py_ssize_t r0, Py_ssize_t r1, bint fit_intercept,
                      double[:, ::1] out, const double[::1] off):
    """Hessian partials of the row ranges ``r0..r1-1`` (``starts[r]..ends[r]-1``):
    ``out[r] = H.ravel()`` (q*q, ``q = p + fit_intercept``), upper triangle filled."""
    cdef int p = <int> X.shape[1]
    cdef int q = p + (1 if fit_intercept else 0)
    cdef Py_ssize_t r
    cdef double* A
    cdef double* hb
    cdef const double* wp = &w[0] if w.shape[0] > 0 else NULL
    cdef const real* Xp = &X[0, 0] if X.shape[0] > 0 else NULL
    cdef const double* op = &off[0] if off.shape[0] > 0 else NULL
    A = <double*> malloc((CHUNK * p + p + 1) * sizeof(double))
    if A == NULL:
        raise MemoryError()
    hb = A + CHUNK * p
    try:
        with nogil:
            for r in range(r0, r1):
                _binary_hess_range(Xp, p, q, &y[0], &sw[0], wp, b, op, starts[r], ends[r],
                                   &out[r, 0], A, hb)
    finally:
        free(A)


cdef void _diag_block(const real* X, int p, const double* D, int m, Py_ssize_t a, Py_ssize_t e,
                      double* out) noexcept nogil:
    """``out[j m + c] = sum_i x_ij^2 D_ic`` (j < p) and ``out[p m + c] = sum_i D_ic`` over rows a..e-1."""
    cdef Py_ssize_t i, j, c
    cdef double di, x2
    cdef const real* row
    for j in range((p + 1) * m):
        out[j] = 0.0
    for i in range(a, e):
        row = X + i * p
        if m == 1:
            di = D[i]
            for j in range(p):
                out[j] += di * (<double> row[j]) * (<double> row[j])
            out[p] += di
        else:
            for j in range(p):
                x2 = (<double> row[j]) * (<double> row[j])
                for c in range(m):
                    out[j * m + c] += x2 * D[i * m + c]
            for c in range(m):
                out[p * m + c] += D[i * m + c]


def hess_diag_dense(const real[:, ::1] X, const double[:, ::1] D, const int64_t[::1] bounds,
                    Py_ssize_t k0, Py_ssize_t k1, double[:, ::1] out):
    """Hessian-diagonal partials per block: ``[sum_i x_ij^2 D_ic (j < p), sum_i D_ic]``, each
    (p + 1) x m, flattened row-major; ``D`` holds the Hessian weights (m = 1 binary, K softmax)."""
    cdef int p = <int> X.shape[1]
    cdef int m = <int> D.shape[1]
    cdef Py_ssize_t k
    if X.shape[0] == 0:
        return
    with nogil:
        for k in range(k0, k1):
            _diag_block(&X[0, 0], p, &D[0, 0], m, bounds[k], bounds[k + 1], &out[k, 0])


def hess_diag_csr(const real[::1] data, const index[::1] indices, const index[::1] indptr,
                  const double[::1] d, Py_ssize_t p, const int64_t[::1] bounds,
                  Py_ssize_t k0, Py_ssize_t k1, double[:, ::1] out):
    """CSR version of :func:`hess_diag_dense` for the binary model (one weight per row)."""
    cdef Py_ssize_t k, i, t, j
    cdef double di
    cdef double* o
    if d.shape[0] == 0:
        return
    with nogil:
        for k in range(k0, k1):
            o = &out[k, 0]
            for j in range(p + 1):
                o[j] = 0.0
            for i in range(bounds[k], bounds[k + 1]):
                di = d[i]
                for t in range(indptr[i], indptr[i + 1]):
                    o[indices[t]] += di * (<double> data[t]) * (<double> data[t])
                o[p] += di
