"""The inner problem of :mod:`logitfit.solvers.cd`: minimise the proximal Newton model over a working set.

The model is ``q(u) = g^T (u - u0) + (u - u0)^T H (u - u0) / 2 + P(u)`` with
``P`` the L1 (or grouped) penalty and box bounds. Three solvers, chosen by
:func:`logitfit.solvers.cd._inner_cd`: cyclic coordinate sweeps (compiled
when built, :func:`inner_cd_separable`), block sweeps for the grouped penalty
(:func:`inner_cd_grouped`) and vectorised FISTA (:func:`inner_prox_grad`).
Each finishes the face exactly by sign-fixed Newton steps (polishing) once
the sweeps since the last polish cost as much as a factorisation of the face.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from logitfit.model.penalties import L1Penalty
from logitfit.solvers._common import ARMIJO_C, MAX_HALVINGS

__all__ = ["inner_cd_grouped", "inner_cd_separable", "inner_prox_grad"]

# Inner sweeps per outer step; CD on a well-scaled quadratic needs tens.
MAX_SWEEPS = 2000
# Newton iterations on the secular equation of one group (monotone from the
# right; converges to rounding in fewer than ten on well-scaled blocks).
GROUP_NEWTON_ITER = 50
GROUP_NEWTON_RTOL = 1e-13
# Below this face size a polish (LU of a tiny matrix) costs about three
# sweeps of Python overhead, so small problems polish every few sweeps.
POLISH_MIN_SIZE = 12
# One grouped block update's interpreter overhead (~10 us) in flops (~2 GFlop/s):
# the grouped sweeps are bound by it until the active set has thousands of entries.
GROUPED_UPDATE_OVERHEAD_FLOPS = 2e4
# Fixed costs of an update, a sweeps call and a polish, in multiply-adds of the update's axpy (docs/kernels.md).
UPDATE_OVERHEAD_FLOPS = 30.0
SWEEP_CALL_OVERHEAD_FLOPS = 2e4
POLISH_OVERHEAD_FLOPS = 1e6
# Cost of a flop of the polish's Cholesky against one of the sweeps' axpy (LAPACK runs faster; docs/kernels.md).
FACTOR_FLOP_COST = 0.3
# Power iterations for the step of the vectorised inner solver, and the
# inflation of their (from-below) estimate; a too-small L is caught and doubled.
POWER_ITER = 20
POWER_INFLATE = 1.05
POLISH_RIDGE = 1e-12
# Sign-fixed steps per polish; each cut one drops a coordinate from the face.
POLISH_MAX_CUTS = 10
# Grouped Newton polishing stops once a step moves no coefficient by more than this.
POLISH_STEP_TOL = 1e-12


try:
    from logitfit.solvers._cd_kernels import sweeps as _compiled_sweeps
except ImportError:  # built without a C compiler (setup.py): the Python sweeps below
    _compiled_sweeps = None


def _python_sweeps(H, g, u, v, diag, lam, lo, hi, idx, tol, max_sweeps):
    """The sweeps of ``_cd_kernels.sweeps`` in Python (the fallback; same arithmetic)."""
    change = 0.0
    for s in range(1, max_sweeps + 1):
        change = 0.0
        for i in idx:
            z = diag[i] * u[i] - (g[i] + v[i])
            new = np.sign(z) * max(abs(z) - lam[i], 0.0) / diag[i]
            new = min(max(new, lo[i]), hi[i])
            delta = new - u[i]
            if delta != 0.0:
                u[i] = new
                v += delta * H[i]
                change = max(change, abs(delta) * diag[i])
        if change <= tol:
            return s, change
    return max_sweeps, change


def _sweeps(H, g, u, v, diag, lam, lo, hi, idx, tol, max_sweeps):
    """Cyclic coordinate sweeps over ``idx`` (compiled when built); see ``_cd_kernels.sweeps``."""
    run = _compiled_sweeps if _compiled_sweeps is not None else _python_sweeps
    return run(H, g, u, v, diag, lam, lo, hi, idx, tol, max_sweeps)


def _group_solve(c_hat: np.ndarray, e: np.ndarray, lam: float) -> np.ndarray:
    """Exact minimiser of ``w^T B w / 2 - c^T w + lam ||w||`` in B's eigenbasis (``||c|| > lam``).

    With ``B = Q diag(e) Q^T`` and ``c_hat = Q^T c`` the solution is ``w =
    (B + mu I)^{-1} c`` where ``mu = lam / ||w|| > 0`` solves the secular
    equation ``h(mu) = 1 / ||w(mu)|| - mu / lam = 0``. ``h`` is concave
    (Moré & Sorensen 1983, sec. 3), so Newton's method started right of the
    root (``h < 0``) decreases monotonically to it. Returns ``Q^T w``.
    """
    norm_c = float(np.linalg.norm(c_hat))
    # h(mu) <= (e_max + mu)/||c|| - mu/lam < 0 beyond this mu
    mu = max(float(e.max()) * lam / (norm_c - lam), 0.0) * (1.0 + 1e-8) + np.finfo(float).tiny
    mu = max(mu, lam * lam / norm_c * 1e-3)
    for _ in range(GROUP_NEWTON_ITER):
        q = c_hat / (e + mu)
        n2 = float(q @ q)
        n = np.sqrt(n2)
        h = 1.0 / n - mu / lam
        dh = float(q @ (q / (e + mu))) / (n2 * n) - 1.0 / lam
        step = h / dh
        mu_new = mu - step
        if mu_new <= 0.0:
            mu_new = 0.5 * mu
        if abs(mu_new - mu) <= GROUP_NEWTON_RTOL * mu:
            mu = mu_new
            break
        mu = mu_new
    return c_hat / (e + mu)


def _polish(H, g, u0, u, lam, lo, hi) -> np.ndarray | None:
    """One Newton step on the non-zero coordinates with their signs fixed (an active-set step).

    On the face ``F`` of free coordinates (non-zero, strictly inside the box)
    the model ``g^T d + d^T H d / 2 + sum lam |u|`` is the smooth quadratic
    with linear term ``lam_F sign(u_F)``; its minimiser solves ``H_FF u_F =
    H_F: u0 - g_F - lam_F sign(u_F) - H_FT u_T``. The step is cut where a
    coordinate first reaches 0 or a bound, so it stays on the face and cannot
    increase the model. It gives CD the exact solution on ill-conditioned
    (near-separable) problems, where cyclic sweeps crawl. ``None`` if nothing moves.
    """
    free = np.flatnonzero((u != 0) & (u > lo) & (u < hi))
    if free.size == 0:
        return None
    s = np.sign(u[free])
    d = u - u0
    rhs = -(g[free] + H[free] @ d + lam[free] * s)  # minus the model gradient on F
    Hf = H[np.ix_(free, free)]
    # A relative ridge of rounding size keeps the solve defined when H_FF is
    # singular (multinomial: every class of a feature free, no L2); with H_FF
    # + eps I above H_FF the step still decreases the model (by rhs.step/2).
    Hf[np.diag_indices_from(Hf)] += POLISH_RIDGE * max(float(np.max(np.diag(Hf))), np.finfo(float).tiny)
    # H_FF + ridge is SPD: Cholesky, half an LU's flops; LU only if rounding makes it fail.
    try:
        step = linalg.cho_solve(linalg.cho_factor(Hf, lower=True, check_finite=False), rhs)
    except linalg.LinAlgError:
        try:
            step = np.linalg.solve(Hf, rhs)
        except np.linalg.LinAlgError:
            return None
    if not np.all(np.isfinite(step)) or float(step @ rhs) <= 0.0:
        return None
    uf = u[free]
    t = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        to_zero = np.where(step * s < 0, -uf / step, np.inf)
        to_lo = np.where(step < 0, (lo[free] - uf) / step, np.inf)
        to_hi = np.where(step > 0, (hi[free] - uf) / step, np.inf)
    t = min(1.0, float(np.min(to_zero)), float(np.min(to_lo)), float(np.min(to_hi)))
    if t <= 0.0:
        return None
    out = u.copy()
    out[free] = uf + t * step
    if t < 1.0:  # the coordinate that reached 0 or a bound: put it there exactly
        hit = np.argmin(np.minimum(np.minimum(to_zero, to_lo), to_hi))
        out[free[hit]] = 0.0 if to_zero[hit] <= min(to_lo[hit], to_hi[hit]) else (
            lo[free[hit]] if to_lo[hit] < to_hi[hit] else hi[free[hit]])
    return out


def _model(H, g, u0, u, lam, K) -> float:
    """``g^T d + d^T H d / 2 + sum_g lam_g ||u_g||`` with ``d = u - u0`` (the grouped model)."""
    d = u - u0
    return float(g @ d + 0.5 * d @ (H @ d) + lam[::K] @ np.linalg.norm(u.reshape(-1, K), axis=1))


def _polish_grouped(H, g, u0, u, lam, K) -> np.ndarray | None:
    """Damped Newton step on the non-zero groups of the grouped model (zero groups stay at 0).

    Where ``u_g != 0`` the model is smooth: gradient ``g + H d + lam_g u_g /
    ||u_g||``, Hessian ``H + blockdiag(lam_g / ||u_g|| (I - u_g u_g^T /
    ||u_g||^2))``. Backtracking on the model keeps every step a decrease; the
    block coordinate sweeps then decide which groups leave or enter.
    """
    U = u.reshape(-1, K)
    norms = np.linalg.norm(U, axis=1)
    on = np.flatnonzero(norms > 0)
    if on.size == 0:
        return None
    idx = (on[:, None] * K + np.arange(K)).ravel()
    glam = lam[::K][on]
    unit = U[on] / norms[on, None]
    grad = g[idx] + H[idx] @ (u - u0) + (glam[:, None] * unit).ravel()
    Hf = H[np.ix_(idx, idx)]
    for k, i in enumerate(on):
        s = slice(k * K, (k + 1) * K)
        Hf[s, s] += glam[k] / norms[i] * (np.eye(K) - np.outer(unit[k], unit[k]))
    Hf[np.diag_indices_from(Hf)] += POLISH_RIDGE * max(float(np.max(np.diag(Hf))), np.finfo(float).tiny)
    try:
        step = -np.linalg.solve(Hf, grad)
    except np.linalg.LinAlgError:
        return None
    slope = float(grad @ step)
    if not np.isfinite(slope) or slope >= 0.0:
        return None
    q0 = _model(H, g, u0, u, lam, K)
    t = 1.0
    for _ in range(MAX_HALVINGS):
        new = u.copy()
        new[idx] += t * step
        if _model(H, g, u0, new, lam, K) <= q0 + ARMIJO_C * t * slope:
            return new
        t *= 0.5
    return None


def _top_eigenvalue(H: np.ndarray) -> float:
    """Power-iteration estimate of ``H``'s largest eigenvalue (from below; callers inflate it)."""
    v = np.ones(H.shape[0]) / np.sqrt(H.shape[0])
    lam = 0.0
    for _ in range(POWER_ITER):
        w = H @ v
        lam = float(np.linalg.norm(w))
        if lam == 0.0:
            return float(np.finfo(float).tiny)
        v = w / lam
    return lam


def inner_prox_grad(H, g, u0, lam, lo, hi, tol) -> np.ndarray:
    """Large faces: FISTA on the model plus sign-fixed Newton polishing, all vectorised.

    The same model as :func:`_inner_cd` (separable penalty), minimised by
    accelerated proximal gradient (Beck & Teboulle 2009) with step ``1/L``:
    each iteration is one ``H @ delta`` (BLAS) instead of a Python loop over
    the coordinates. ``L`` starts from a power-iteration estimate and doubles
    whenever ``delta^T H delta > L ||delta||^2`` (the step would not be a
    majorisation). Momentum restarts when it points uphill (O'Donoghue &
    Candes 2015, gradient restart). Polishing (:func:`_polish_loop`) finishes
    the face exactly; the loop ends when the model's KKT violation is ``<= tol``.
    """
    model_pen = L1Penalty(lam, lo, hi)
    m = u0.size
    L = POWER_INFLATE * _top_eigenvalue(H)
    u, Hu = u0.copy(), np.zeros(m)  # Hu = H (u - u0)
    y, Hy = u, Hu
    s = 1.0
    spent = 0.0
    for _ in range(MAX_SWEEPS):
        r = g + Hu
        if model_pen.max_kkt_violation(u, r) <= tol:
            break
        gy = g + Hy
        un = model_pen.prox(y - gy / L, 1.0 / L)
        delta = un - y
        Hdelta = H @ delta
        if float(delta @ Hdelta) > L * float(delta @ delta) * (1.0 + 1e-12):
            L *= 2.0
            y, Hy, s = u, Hu, 1.0
            continue
        Hun = Hy + Hdelta
        if float(gy @ (un - u)) > 0.0:  # momentum points uphill: restart
            s = 1.0
        s_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * s * s))
        beta = (s - 1.0) / s_next
        y, Hy = un + beta * (un - u), Hun + beta * (Hun - Hu)
        u, Hu, s = un, Hun, s_next
        spent += 2.0 * m * m
        free = int(np.count_nonzero(u))
        if spent >= max(free, POLISH_MIN_SIZE) ** 3 / 3.0:
            _polish_loop(H, g, u0, u, lam, lo, hi, 1)
            Hu = H @ (u - u0)
            y, Hy, s, spent = u, Hu, 1.0, 0.0
    return u


def inner_cd_separable(H, g, u0, lam, lo, hi, tol) -> np.ndarray:
    """Cyclic CD for the separable penalty; the sweeps run in C (:func:`_cd_kernels.sweeps`).

    Coordinate i moves to ``clip(S(H_ii u_i - (g_i + v_i), lam_i) / H_ii,
    lo_i, hi_i)`` with ``v = H (u - u0)`` updated after each move. Schedule: a
    sweep over every coordinate, then sweeps over the non-zero ones until no
    move changes the model gradient by more than ``tol`` (``|delta_i| H_ii <=
    tol``), then a full sweep again. A polish (:func:`_polish_loop`) runs
    whenever the sweeps since the last one cost as much as an LU of the face;
    the kernel runs all the sweeps of that budget in one call.
    """
    m = u0.size
    H = np.ascontiguousarray(H, dtype=np.float64)
    g, lam, lo, hi = (np.ascontiguousarray(a, dtype=np.float64) for a in (g, lam, lo, hi))
    u = np.array(u0, dtype=np.float64)
    v = np.zeros(m)  # H (u - u0)
    diag = np.maximum(np.diag(H), np.finfo(float).tiny)
    everything = np.arange(m, dtype=np.intp)
    for _ in range(MAX_SWEEPS):
        _, change = _sweeps(H, g, u, v, diag, lam, lo, hi, everything, tol, 1)
        if change <= tol:
            break
        active = np.flatnonzero(u)
        # A sweep: |active| updates of m flops plus a fixed cost each; a polish:
        # an LU of the face plus its fixed cost. Polishing at most doubles the work.
        polish_cost = FACTOR_FLOP_COST * active.size**3 / 3.0 + POLISH_OVERHEAD_FLOPS
        per_sweep = active.size * (m + UPDATE_OVERHEAD_FLOPS) + SWEEP_CALL_OVERHEAD_FLOPS
        spent = 0.0
        done = 0
        while done < MAX_SWEEPS:
            budget = min(max(1, int(np.ceil((polish_cost - spent) / per_sweep))), MAX_SWEEPS - done)
            n, change = _sweeps(H, g, u, v, diag, lam, lo, hi, active, tol, budget)
            done += n
            if change <= tol:
                break
            spent += n * per_sweep
            if spent >= polish_cost:
                _polish_loop(H, g, u0, u, lam, lo, hi, 1)
                v[:] = H @ (u - u0)
                spent = 0.0
    return u


def inner_cd_grouped(H, g, u0, lam, K, tol) -> np.ndarray:
    """Block CD for the grouped penalty: the K entries of a feature move to the block minimiser.

    With ``v = H (u - u0)``, ``r = g_s + v_s`` and ``c = B u_s - r`` (``B`` the
    feature's K x K diagonal block): ``u_s = 0`` if ``||c|| <= lam``, else the
    exact minimiser :func:`_group_solve`; unpenalised features take the
    pseudo-inverse Newton step. Left in Python: an update is a handful of
    K-sized numpy calls around a secular-equation solve.
    """
    u = u0.copy()
    v = np.zeros_like(u)  # H (u - u0)
    m = u.size
    n_g = m // K
    glam = lam[::K]
    starts = np.arange(n_g) * K
    blocks = np.stack([H[i : i + K, i : i + K] for i in starts]) if n_g else np.zeros((0, K, K))
    evals, evecs = np.linalg.eigh(blocks)
    evals = np.maximum(evals, 0.0)
    pinvs = {i: np.linalg.pinv(blocks[i], rcond=1e-12, hermitian=True) for i in np.flatnonzero(glam == 0)}

    def update(i: int) -> float:
        s = slice(i * K, (i + 1) * K)
        r = g[s] + v[s]
        if glam[i] == 0:
            new = u[s] - pinvs[i] @ r
        else:
            c = blocks[i] @ u[s] - r
            if np.linalg.norm(c) <= glam[i]:
                new = np.zeros(K)
            else:
                new = evecs[i] @ _group_solve(evecs[i].T @ c, evals[i], glam[i])
        delta = new - u[s]
        if not np.any(delta):
            return 0.0
        u[s] = new
        v[:] += H[:, s] @ delta
        return float(np.max(np.abs(blocks[i] @ delta)))

    everything = range(n_g)
    for _ in range(MAX_SWEEPS):
        change = max((update(i) for i in everything), default=0.0)
        if change <= tol:
            break
        active = [i for i in range(n_g) if np.any(u[i * K : (i + 1) * K])]
        # Polish once the sweeps since the last polish cost as much as one
        # (a sweep: |active| (K m + the Python cost of an update) flops; a
        # polish: an LU of (|active| K)^2), so polishing at most doubles the
        # work of plain CD.
        polish_cost = max(len(active) * K, POLISH_MIN_SIZE) ** 3 / 3.0
        spent = 0.0
        for _ in range(MAX_SWEEPS):
            if max((update(i) for i in active), default=0.0) <= tol:
                break
            spent += len(active) * (K * m + GROUPED_UPDATE_OVERHEAD_FLOPS)
            if spent >= polish_cost:
                _polish_grouped_loop(H, g, u0, u, lam, K)
                v[:] = H @ (u - u0)
                spent = 0.0
    return u


def _polish_grouped_loop(H, g, u0, u, lam, K) -> None:
    """Newton steps on the grouped model until they stop moving (updates ``u`` in place)."""
    for _ in range(POLISH_MAX_CUTS):
        polished = _polish_grouped(H, g, u0, u, lam, K)
        if polished is None:
            return
        moved = float(np.max(np.abs(polished - u)))
        u[:] = polished
        if moved <= POLISH_STEP_TOL:
            return


def _polish_loop(H, g, u0, u, lam, lo, hi, K) -> None:
    """Sign-fixed Newton steps, re-solved after each cut (an active-set method; in place)."""
    for _ in range(POLISH_MAX_CUTS):
        polished = _polish(H, g, u0, u, lam, lo, hi)
        if polished is None:
            return
        cut = np.any((polished == 0) != (u == 0))
        u[:] = polished
        if not cut:
            return
