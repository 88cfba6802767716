"""Coordinate descent inside proximal Newton (glmnet's method), with active sets and strong rules.

Minimises ``F(x) = J(x) + P(x)``: ``J`` the smooth objective (log loss plus
its L2 part), ``P`` the non-smooth :class:`logitfit.model.penalties.L1Penalty` in
``options.penalty`` (L1, elastic net's L1 half, grouped multinomial, box
bounds). The method (Friedman, Hastie & Tibshirani 2010, J. Stat. Softw.
33(1), secs. 2-3; Lee, Sun & Saunders 2014 for proximal Newton):

1. **Outer (IRLS / proximal Newton).** At ``x`` form the quadratic model of
   ``J`` restricted to the working set ``A`` of features::

       q(d) = g_A^T d + 1/2 d^T H_AA d + P(x_A + d),
       H_AA = (1/S) X~_A^T diag(s h (1 - h)) X~_A + diag(a)  (one pass over X)

2. **Inner (coordinate descent).** Cyclic coordinate minimisation of ``q``:
   with ``v = H d`` kept up to date, coordinate i moves to
   ``clip(S(H_ii u_i - (g_i + v_i), lam_i) / H_ii, lower_i, upper_i)``; for
   the grouped penalty the K entries of a feature move together to the exact
   minimiser of the block (a secular equation solved by monotone Newton). After a full sweep it iterates on the non-zero
   coordinates only until they settle, then sweeps all again (glmnet's inner
   active set). On ill-conditioned (near-separable) models cyclic CD crawls,
   so once the sweeps since the last one have cost as much as an LU of the
   face, a Newton step on the non-zero coordinates with their signs fixed
   (polishing, :mod:`logitfit.solvers.cd_inner`; damped Newton on the non-zero
   groups for the grouped penalty) solves the model exactly on that face.
3. **Line search.** Backtrack on ``F`` along ``d`` until ``F(x + t d) <=
   F(x) + c t Delta`` with ``Delta = g^T d + P(x + d) - P(x)`` (Tseng & Yun
   2009, eq. 9).
4. **Working set.** Starts from the sequential strong rule (Tibshirani et al.
   2012, eq. 5): keep feature j when ``|g_j(x_prev)| >= 2 lam_j - lam_prev_j``
   (plus every non-zero and unpenalised feature). When the KKT conditions
   hold on ``A``, they are checked on all features; violators join ``A``
   and the loop continues. The result is exact: strong rules only order the
   work.

Where the Hessian comes from (binary model): for in-memory dense X a
:class:`~logitfit.solvers.gram_cache.GramCache` refreshes only the rows whose
weight moved by more than 10 % (a path shares one cache across its fits);
for CSR X the model is minimised through X's columns
(:mod:`logitfit.solvers.naive_cd`) and no Hessian is formed. Otherwise
(multinomial, streamed or Dask rows) each step forms it in one pass.

A working set of more than ``MAX_HESSIAN_PARAMS`` parameters that needs a
formed Hessian is handed to FISTA (:mod:`logitfit.solvers.prox`).

Convergence: the maximum KKT violation (:meth:`L1Penalty.kkt_violation`)
``<= tol``; it is reported in ``SolverResult.kkt_violation``.
"""

from __future__ import annotations

import numpy as np

from logitfit.model.objective import Objective
from logitfit.model.penalties import L1Penalty
from logitfit.solvers._common import ARMIJO_C, MAX_HALVINGS, Recorder, armijo_slack
from logitfit.solvers.base import SolverOptions, SolverResult
from logitfit.solvers.cd_inner import inner_cd_grouped, inner_cd_separable, inner_prox_grad
from logitfit.solvers.gram_cache import GramCache, gram_cache_for
from logitfit.solvers.naive_cd import NaiveModel, naive_model_for

DEFAULT_MAX_ITER = 200
# Sparse X: solve the inner problem through X's columns (naive_cd) instead of a formed Hessian.
USE_NAIVE = True
# Largest working set (parameters) whose dense Hessian cd forms: 4000^2
# doubles are 128 MB and an LU of it ~2e10 flops; beyond it the fit goes on
# with FISTA (value and gradient only), as for very large sparse X.
MAX_HESSIAN_PARAMS = 4000
# The inner solve stops when no coordinate moves the model gradient by more
# than this fraction of the current KKT violation (a forcing sequence:
# inexact early, exact late, as proximal Newton needs for fast convergence).
INNER_FRACTION = 0.05
# Inner problems this large use vectorised FISTA; compiled sweeps win below (never reached from cd).
VECTORISED_MIN_SIZE = MAX_HESSIAN_PARAMS + 1


def _zero_penalty(n: int) -> L1Penalty:
    return L1Penalty(np.zeros(n), np.full(n, -np.inf), np.full(n, np.inf))


def _feature_score(v: np.ndarray, K: int, grouped: bool) -> np.ndarray:
    V = v.reshape(-1, K)
    return np.linalg.norm(V, axis=1) if grouped else np.abs(V).max(axis=1)


def strong_set(
    x: np.ndarray, g: np.ndarray, pen: L1Penalty, K: int, lam_prev: np.ndarray | None
) -> np.ndarray:
    """Per-parameter-row mask of the sequential strong rule (plus non-zero and unpenalised rows)."""
    lam = pen.lam.reshape(-1, K)[:, 0]
    prev = lam if lam_prev is None else lam_prev.reshape(-1, K)[:, 0]
    score = _feature_score(g, K, pen.grouped)
    with np.errstate(invalid="ignore"):
        keep = score >= 2 * lam - prev
    keep |= lam == 0
    keep |= np.any(x.reshape(-1, K) != 0, axis=1)
    keep &= np.isfinite(lam)
    return keep


def _inner_cd(H, g, u0, lam, lo, hi, K, grouped, tol) -> np.ndarray:
    """Minimise ``g^T d + d^T H d / 2 + sum lam |u0 + d|`` over the box by coordinate descent.

    Returns the new values ``u = u0 + d``. Separable penalty: compiled sweeps
    (:func:`inner_cd_separable`), or vectorised FISTA from
    ``VECTORISED_MIN_SIZE`` parameters on; grouped: block updates in Python
    (:func:`inner_cd_grouped`).
    """
    if grouped:
        return inner_cd_grouped(H, g, u0, lam, K, tol)
    if u0.size >= VECTORISED_MIN_SIZE:
        return inner_prox_grad(H, g, u0, lam, lo, hi, tol)
    return inner_cd_separable(H, g, u0, lam, lo, hi, tol)


def hessian_source(objective: Objective, grouped: bool) -> GramCache | NaiveModel | None:
    """What supplies the inner model of ``objective``'s fits: column updates (CSR X,
    separable penalty), a Hessian cache (in-memory binary), or None (a Hessian pass per step)."""
    if USE_NAIVE and not grouped:
        naive = naive_model_for(objective)
        if naive is not None:
            return naive
    return gram_cache_for(objective)


def solve(objective: Objective, x0: np.ndarray, options: SolverOptions) -> SolverResult:
    """Proximal Newton with coordinate descent (see the module docstring)."""
    return solve_warm(objective, x0, options)


def solve_warm(
    objective: Objective,
    x0: np.ndarray,
    options: SolverOptions,
    *,
    lam_prev: np.ndarray | None = None,
    source: GramCache | NaiveModel | None = None,
    carry: dict | None = None,
) -> SolverResult:
    """As :func:`solve`; ``lam_prev`` (the previous path point's L1 weights) enables the
    sequential strong rule, which starts the working set from the features the
    rule keeps instead of every feature whose KKT condition fails at ``x0``.
    ``source`` supplies the inner model (:func:`hessian_source`; a path shares
    one across its fits); by default the fit makes its own. ``carry`` (a dict
    a path passes from fit to fit) receives the final point's loss (without
    the ridge term), its gradient and Hessian weights; a next fit that starts
    there (same data, another penalty) reuses them instead of a pass over X."""
    pen = options.penalty if options.penalty is not None else _zero_penalty(objective.n_params)
    K = getattr(objective, "n_outputs", 1)
    n_rows = objective.n_params // K
    p = getattr(objective, "n_features", n_rows)
    max_iter = DEFAULT_MAX_ITER if options.max_iter is None else options.max_iter
    tol = options.tol
    source = source if source is not None else hessian_source(objective, pen.grouped)
    cache = source if isinstance(source, GramCache) else None
    naive = source if isinstance(source, NaiveModel) else None

    def value_grad(z):  # with the Hessian weights when the source uses them
        if source is not None:
            return objective.value_grad_weights(z)
        return (*objective.value_and_grad(z), None)

    x = pen.project(np.asarray(x0, dtype=np.float64))
    l2 = getattr(objective, "l2", None)
    if carry and l2 is not None and np.array_equal(carry["x"], x):
        f = carry["loss"] + 0.5 * float(l2 @ (x * x))
        g = carry["grad_loss"] + l2 * x
        d_x = carry["weights"]
    else:
        f, g, d_x = value_grad(x)
    F = f + pen.value(x)
    row_kkt = _feature_score(pen.kkt_violation(x, g), K, False) if not pen.grouped else pen.kkt_violation(x, g)
    kkt = float(row_kkt.max()) if row_kkt.size else 0.0
    rec = Recorder("cd", options, F, kkt)
    work = strong_set(x, g, pen, K, lam_prev)
    work |= row_kkt > tol if lam_prev is None else False
    message = f"reached max_iter={max_iter}"
    it = 0
    # Invariant: (f, g) are J and its gradient at x. The Hessian is formed
    # only when a step is needed, so the last fit of each path point (and a
    # warm start that is already optimal) costs a gradient pass, not a
    # Hessian pass.
    while it < max_iter and not rec.stop_requested:
        viol = pen.kkt_violation(x, g)
        row_kkt = viol if pen.grouped else _feature_score(viol, K, False)
        kkt = float(row_kkt.max()) if row_kkt.size else 0.0
        kkt_work = float(row_kkt[work].max()) if np.any(work) else 0.0
        if kkt <= tol:
            message = "converged: max KKT violation <= tol"
            break
        if kkt_work <= tol:
            # Optimal on the working set: add every violator outside it.
            work |= row_kkt > tol
            continue
        cols = np.flatnonzero(work[:p])
        if cols.size * K > MAX_HESSIAN_PARAMS and naive is None:
            return _prox_from(objective, x, options, pen, cols.size * K)
        inner_tol = max(INNER_FRACTION * kkt_work, 0.1 * tol)
        it += 1
        if naive is not None:
            idx = np.append(cols, p) if objective.fit_intercept else cols
            u = naive.solve(objective, d_x, cols, g[idx], x[idx], pen.lam[idx], pen.lower[idx], pen.upper[idx],
                            inner_tol)
        else:
            if cache is not None:
                H, idx = cache.hessian(objective, cols, d_x)
            else:
                f, g, H, idx = objective.value_grad_hess_sub(x, cols)
                F = f + pen.value(x)
            u = _inner_cd(
                H, g[idx], x[idx], pen.lam[idx], pen.lower[idx], pen.upper[idx], K, pen.grouped, inner_tol
            )
        d = np.zeros_like(x)
        d[idx] = u - x[idx]
        if not np.any(d):
            message = "coordinate descent made no progress: the objective is flat to rounding"
            break
        decrease = float(g @ d) + pen.value(x + d) - pen.value(x)
        slack = armijo_slack(F)
        t = 1.0
        for _ in range(MAX_HALVINGS):
            xt = x + t * d
            if t == 1.0:
                ft, gt, dt = value_grad(xt)
            else:
                ft, gt = objective.value(xt), None
            Ft = ft + pen.value(xt)
            if np.isfinite(Ft) and Ft <= F + ARMIJO_C * t * min(decrease, 0.0) + slack:
                break
            t *= 0.5
        else:
            message = "line search found no decrease: the objective is flat to rounding"
            break
        x, F = xt, Ft
        f, g, d_x = (ft, gt, dt) if gt is not None else value_grad(x)
        work |= np.any(x.reshape(-1, K) != 0, axis=1)
        rec.record(it, x, Ft, kkt, t * float(np.linalg.norm(d)))
    else:
        if rec.stop_requested:
            message = "stopped by callback"
    kkt = pen.max_kkt_violation(x, g)
    F = f + pen.value(x)
    if carry is not None and l2 is not None:
        carry.update(x=x.copy(), loss=f - 0.5 * float(l2 @ (x * x)), grad_loss=g - l2 * x, weights=d_x)
    result = rec.result(x, F, kkt, it, message)
    return _with_kkt(result, kkt)


def _prox_from(objective: Objective, x: np.ndarray, options: SolverOptions, pen: L1Penalty, m: int):
    """Finish with FISTA (:mod:`logitfit.solvers.prox`) when the working set is too large for H."""
    from dataclasses import replace

    from logitfit.solvers.prox import solve as prox_solve

    res = prox_solve(objective, x, replace(options, penalty=pen))
    note = f"working set of {m} parameters exceeds the dense-Hessian limit {MAX_HESSIAN_PARAMS}: FISTA; "
    return replace(res, message=note + res.message)


def _with_kkt(result: SolverResult, kkt: float) -> SolverResult:
    from dataclasses import replace

    msg = result.message
    if "KKT" not in msg:
        msg = f"{msg} (max KKT violation {kkt:.3g})"
    return replace(result, kkt_violation=float(kkt), message=msg)
