/* Branch-free exp and log1p for the binary loss terms, so that the compiler
 * vectorises the elementwise loop (glibc's scalar ones cost more than reading
 * the rows; figures in docs/kernels.md).
 *
 * lf_exp_nonpos(t) = exp(t) for t <= 0: t = k ln2 + r with |r| <= ln2/2
 *   (Cody-Waite split of ln2, fdlibm's constants), exp(r) by its Taylor
 *   polynomial to degree 13 (remainder < 5e-18), times 2^k built from the
 *   exponent bits as 2^k1 * 2^k2 (k1 ~ k/2) so that k down to -1076 stays exact.
 * lf_log1p_unit(e) = log1p(e) for 0 <= e <= 1: with s = e / (2 + e) in
 *   [0, 1/3], log1p(e) = 2 atanh(s) = 2 s sum_n s^(2n) / (2n + 1), 18 terms
 *   (remainder < 1e-18 relative), s in double-double. No cancellation for tiny e.
 * Both are within a few ulp of the correctly rounded values (tested against
 * numpy in tests/test_fused.py).
 */
#ifndef LOGITFIT_FUSED_MATH_H
#define LOGITFIT_FUSED_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The elementwise loop is compiled for the baseline x86-64 (SSE2) and for
 * x86-64-v3 (AVX2, FMA) and v4 (AVX-512); the loader picks the one the CPU
 * runs (GCC function multi-versioning, glibc ifunc). Built with
 * -fno-trapping-math so that the selects below are vectorised. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define LF_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define LF_CLONES
#endif

static inline double lf_exp_nonpos(double t)
{
    const double shift = 6755399441055744.0; /* 0x1.8p52: adding it rounds to an integer */
    const int64_t shift_bits = 0x4338000000000000LL;
    double kd, r, p, s1, s2, half;
    int64_t ki, k1, k2, b1, b2;
    t = t < -746.0 ? -746.0 : t; /* exp(t) < 2^-1075 rounds to 0 below -745.14 */
    kd = t * 1.4426950408889634 + shift;
    memcpy(&ki, &kd, sizeof ki);
    ki -= shift_bits; /* k = round(t / ln 2) */
    kd -= shift;
    r = t - kd * 6.93147180369123816490e-01; /* ln2_hi: k * ln2_hi is exact */
    r = r - kd * 1.90821492927058770002e-10; /* ln2_lo */
    p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = 1.0 + (r + (r * r) * p); /* 1 + (r + r^2 P): one rounding after the small terms */
    half = kd * 0.5 + shift; /* k1 = round(k / 2) by the same trick (SSE2 has no 64-bit >>) */
    memcpy(&k1, &half, sizeof k1);
    k1 -= shift_bits;
    k2 = ki - k1;
    b1 = (k1 + 1023) << 52;
    b2 = (k2 + 1023) << 52;
    memcpy(&s1, &b1, sizeof s1);
    memcpy(&s2, &b2, sizeof s2);
    return (p * s1) * s2;
}

static inline double lf_log1p_unit(double e)
{
    /* s = e / (2 + e) carried as s + slo (Dekker's exact product, Veltkamp's
       split), so that the leading term 2 s is exact to the last bit and the
       result is within an ulp (a single-double s gave 2.8 ulp). Needs
       -ffp-contract=off: a fused multiply-add would break the split. */
    const double split = 134217729.0; /* 2^27 + 1 */
    double D = 2.0 + e;
    double Dlo = e - (D - 2.0); /* 2 + e = D + Dlo exactly */
    double s = e / D;
    double p = s * D;
    double ts = split * s, sh = ts - (ts - s), sl = s - sh;
    double tD = split * D, Dh = tD - (tD - D), Dl = D - Dh;
    double perr = ((sh * Dh - p) + sh * Dl + sl * Dh) + sl * Dl; /* s D = p + perr */
    double slo = (((e - p) - perr) - s * Dlo) / D;
    double s2 = s * s;
    double q = 1.0 / 35.0;
    q = q * s2 + 1.0 / 33.0;
    q = q * s2 + 1.0 / 31.0;
    q = q * s2 + 1.0 / 29.0;
    q = q * s2 + 1.0 / 27.0;
    q = q * s2 + 1.0 / 25.0;
    q = q * s2 + 1.0 / 23.0;
    q = q * s2 + 1.0 / 21.0;
    q = q * s2 + 1.0 / 19.0;
    q = q * s2 + 1.0 / 17.0;
    q = q * s2 + 1.0 / 15.0;
    q = q * s2 + 1.0 / 13.0;
    q = q * s2 + 1.0 / 11.0;
    q = q * s2 + 1.0 / 9.0;
    q = q * s2 + 1.0 / 7.0;
    q = q * s2 + 1.0 / 5.0;
    q = q * s2 + 1.0 / 3.0;
    return 2.0 * s + (2.0 * slo + 2.0 * s * (s2 * q));
}

/* sum_i a[i] by pairwise summation over halves down to 32 terms, which are
 * added with eight accumulators: error O(log n) ulps, as numpy's sum. */
static double lf_pairwise_sum(const double *a, int64_t n)
{
    if (n <= 32) {
        double acc[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
        int64_t i = 0;
        int k;
        for (; i + 8 <= n; i += 8)
            for (k = 0; k < 8; k++)
                acc[k] += a[i + k];
        for (; i < n; i++)
            acc[0] += a[i];
        return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
    int64_t half = (n / 2 + 7) & ~(int64_t)7;
    return lf_pairwise_sum(a, half) + lf_pairwise_sum(a + half, n - half);
}

/* The binary terms of rows 0..n-1 (the formulas of logitfit.loss._binary_parts):
 *   loss[i] = s_i ((max(z,0) - y z) + log1p(e))  with e = exp(-|z|),
 *   res[i]  = s_i (sigmoid(z) - y) = s_i ((1 - y) - q) for z > 0, s_i (q - y) otherwise,
 *   wt[i]   = s_i h (1 - h) = s_i q / (1 + e),          with q = e / (1 + e).
 * Returns sum_i loss[i] (pairwise, fixed order). */
LF_CLONES static double lf_binary_terms(int64_t n, const double *restrict z, const double *restrict y,
                              const double *restrict sw, double *restrict loss,
                              double *restrict res, double *restrict wt)
{
    int64_t i;
    for (i = 0; i < n; i++) {
        /* both arms of every choice are computed first: the choices are then
           plain selects, which the compiler vectorises */
        double zi = z[i], yi = y[i];
        double pos = zi > 0.0 ? zi : 0.0;
        double e = lf_exp_nonpos(-fabs(zi));
        double onepe = 1.0 + e;
        double q = e / onepe;
        double above = (1.0 - yi) - q, below = q - yi;
        loss[i] = sw[i] * ((pos - yi * zi) + lf_log1p_unit(e));
        res[i] = sw[i] * (zi > 0.0 ? above : below);
        wt[i] = sw[i] * (q / onepe);
    }
    return lf_pairwise_sum(loss, n);
}


/* exp of every entry of a (n, K) block, entries <= 0 (vectorised; the shifted
 * softmax logits Z - max_k Z). */
LF_CLONES static void lf_exp_block(int64_t m, double *restrict a)
{
    int64_t j;
    for (j = 0; j < m; j++)
        a[j] = lf_exp_nonpos(a[j]);
}


/* Mixed precision for float32 X: z[i] = sum_j X[i, j] w[j] and g[j] += sum_i
 * r[i] X[i, j], each float32 entry widened to float64 as it is read (eight
 * partial sums per row for the dot, so the loop vectorises). */
LF_CLONES static void lf_rows_dot_f32(int64_t n, int64_t p, const float *restrict X,
                                      const double *restrict w, double *restrict z)
{
    int64_t i, j;
    int k;
    for (i = 0; i < n; i++) {
        const float *restrict x = X + i * p;
        double acc[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
        for (j = 0; j + 8 <= p; j += 8)
            for (k = 0; k < 8; k++)
                acc[k] += (double)x[j + k] * w[j + k];
        for (; j < p; j++)
            acc[0] += (double)x[j] * w[j];
        z[i] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    }
}

LF_CLONES static void lf_rows_axpy_f32(int64_t n, int64_t p, const float *restrict X,
                                       const double *restrict r, double *restrict g)
{
    int64_t i, j;
    for (i = 0; i < n; i++) {
        const float *restrict x = X + i * p;
        double ri = r[i];
        for (j = 0; j < p; j++)
            g[j] += ri * (double)x[j];
    }
}

#endif
