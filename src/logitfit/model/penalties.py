"""Non-smooth penalties and box bounds: value, proximal step, KKT violation.

The penalised objective of logitfit is::

    F(x) = J(x) + P(x)

where ``J`` is the smooth :class:`logitfit.model.objective.LogisticObjective` (weighted
mean log loss plus its L2 term) and ``P`` the non-smooth part held here. For
the elastic net with strength ``alpha``, mixing ``l1_ratio = r`` and
per-feature penalty factors ``f_j`` (glmnet's and scikit-learn's
parameterisation)::

    alpha * sum_j f_j [ r |w_j| + (1 - r)/2 w_j^2 ]

the ridge half ``alpha (1 - r) f_j`` goes into ``LogisticObjective`` (it is
smooth, so every solver and the Hessian see it) and the L1 half
``lam_j = alpha r f_j`` into :class:`L1Penalty`. scikit-learn's ``C`` maps to
``alpha = 1 / (C S)`` (``S`` the sum of sample weights).

Grouped (multinomial) penalty: the K coefficients of feature j form one group,
``lam_j ||B_j||_2`` (glmnet's ``type.multinomial="grouped"``, Friedman, Hastie
& Tibshirani 2010, sec. 4), so a feature is kept or dropped for all classes
together. Intercepts are never penalised (``lam = 0`` and no bounds).

Box bounds ``lower_j <= w_j <= upper_j`` apply per coefficient (for every
class of feature j in the multinomial model).

Everything works on the flat parameter vector of the objective (``x``: the
binary ``[w, b]`` or the multinomial ``B.ravel()`` with ``B`` of shape
(p + intercept, K)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["L1Penalty", "make_penalty", "soft_threshold", "split_alpha"]


def soft_threshold(v: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """``S(v, t) = sign(v) max(|v| - t, 0)``: the proximal map of ``t |.|``."""
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


def split_alpha(alpha: float, l1_ratio: float) -> tuple[float, float]:
    """``(l1 strength, ridge strength) = (alpha r, alpha (1 - r))``."""
    return alpha * l1_ratio, alpha * (1.0 - l1_ratio)


@dataclass(frozen=True)
class L1Penalty:
    """``P(x) = sum_j lam_j |x_j|`` (or ``sum_g lam_g ||x_g||_2``) plus the indicator of a box.

    Parameters (flat parameter layout, length ``n_params``)
    ----------
    lam : ndarray
        Per-parameter L1 weight (0 for intercepts and unpenalised features;
        ``inf`` freezes a parameter at 0). For a grouped penalty all K entries
        of a group carry the group's weight.
    lower, upper : ndarray
        Box bounds (``-inf``/``inf`` when absent).
    group_size : int
        1 for the ordinary (separable) L1; K for the grouped multinomial
        penalty, whose groups are consecutive runs of K parameters.
    """

    lam: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    group_size: int = 1

    @property
    def n_params(self) -> int:
        return self.lam.shape[0]

    @property
    def has_bounds(self) -> bool:
        return bool(np.any(np.isfinite(self.lower)) or np.any(np.isfinite(self.upper)))

    @property
    def grouped(self) -> bool:
        return self.group_size > 1

    def _groups(self, v: np.ndarray) -> np.ndarray:
        return v.reshape(-1, self.group_size)

    def value(self, x: np.ndarray) -> float:
        """``P(x)`` (``inf`` outside the box); frozen (``lam = inf``) zeros cost nothing."""
        if np.any(x < self.lower) or np.any(x > self.upper):
            return float("inf")
        if self.grouped:
            lam = self._groups(self.lam)[:, 0]
            norms = np.linalg.norm(self._groups(x), axis=1)
            on = norms > 0
            return float(lam[on] @ norms[on])
        on = x != 0
        return float(self.lam[on] @ np.abs(x[on]))

    def prox(self, v: np.ndarray, step: float) -> np.ndarray:
        """``argmin_x P(x) + ||x - v||^2 / (2 step)``.

        Separable case: ``clip(S(v, step lam), lower, upper)`` (the prox of a
        one-dimensional convex function plus an interval's indicator is the
        projection of the unconstrained prox). Grouped case (no bounds):
        ``v_g max(0, 1 - step lam_g / ||v_g||)`` (block soft-thresholding).
        """
        if self.grouped:
            V = self._groups(v)
            lam = self._groups(self.lam)[:, 0]
            norms = np.linalg.norm(V, axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(norms > 0, np.maximum(0.0, 1.0 - step * lam / norms), 0.0)
            return (V * scale[:, None]).ravel()
        return np.clip(soft_threshold(v, step * self.lam), self.lower, self.upper)

    def kkt_violation(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Per-parameter (or per-group) distance from 0 to ``g + dP(x) + N_box(x)``.

        ``g`` is the gradient of the smooth part. At a minimiser of ``J + P``
        every entry is 0: this is the first-order optimality (KKT) condition,
        and its maximum is the convergence measure of the L1 solvers. For a
        coordinate with ``x_j != 0`` inside the box it is ``|g_j + lam_j
        sign(x_j)|``; at ``x_j = 0`` it is ``max(0, |g_j| - lam_j)``; at a bound
        the side the normal cone covers counts as satisfied. Grouped: ``||g_g +
        lam_g x_g/||x_g||||`` when ``x_g != 0``, else ``max(0, ||g_g|| - lam_g)``.
        """
        if self.grouped:
            G = self._groups(g)
            Xg = self._groups(x)
            lam = self._groups(self.lam)[:, 0]
            norms = np.linalg.norm(Xg, axis=1)
            on = norms > 0
            out = np.maximum(0.0, np.linalg.norm(G, axis=1) - np.where(np.isinf(lam), np.inf, lam))
            if np.any(on):
                out[on] = np.linalg.norm(G[on] + (lam[on] / norms[on])[:, None] * Xg[on], axis=1)
            return out
        lam = self.lam
        s = np.sign(x)
        finite = np.isfinite(lam)
        lam_f = np.where(finite, lam, 0.0)
        lo = np.where(x != 0, g + lam_f * s, g - lam_f)
        hi = np.where(x != 0, g + lam_f * s, g + lam_f)
        lo = np.where((x == 0) & ~finite, -np.inf, lo)
        hi = np.where((x == 0) & ~finite, np.inf, hi)
        lo = np.where(x <= self.lower, -np.inf, lo)
        hi = np.where(x >= self.upper, np.inf, hi)
        return np.maximum(0.0, np.maximum(lo, -hi))

    def max_kkt_violation(self, x: np.ndarray, g: np.ndarray) -> float:
        v = self.kkt_violation(x, g)
        return float(v.max()) if v.size else 0.0

    def project(self, x: np.ndarray) -> np.ndarray:
        """Clip into the box (a feasible start for the solvers)."""
        return np.clip(x, self.lower, self.upper)


def make_penalty(
    n_features: int,
    n_outputs: int,
    fit_intercept: bool,
    *,
    l1: float,
    penalty_factor: np.ndarray | None = None,
    grouped: bool = False,
    lower_bounds: np.ndarray | float | None = None,
    upper_bounds: np.ndarray | float | None = None,
) -> L1Penalty:
    """Build the penalty in the objective's flat layout ``(p + intercept) x n_outputs``.

    ``l1`` is the L1 strength ``alpha * l1_ratio``; ``penalty_factor`` (length
    p, >= 0) multiplies it per feature; bounds are scalars or length-p arrays
    applied to every class of a feature. Intercepts get ``lam = 0`` and no
    bounds. ``grouped`` needs ``n_outputs > 1`` and no bounds.
    """
    p, K = n_features, n_outputs
    q = p + int(fit_intercept)
    factor = np.ones(p) if penalty_factor is None else np.asarray(penalty_factor, dtype=np.float64)
    if factor.shape != (p,) or np.any(factor < 0) or not np.all(np.isfinite(factor)):
        raise ValueError(f"penalty_factor must be {p} finite numbers >= 0, got shape {factor.shape}")

    def per_feature(v, fill):
        a = np.full(p, fill) if v is None else np.broadcast_to(np.asarray(v, dtype=np.float64), (p,))
        out = np.full(q, fill)
        out[:p] = a
        return np.repeat(out, K)

    lam = np.zeros(q)
    lam[:p] = l1 * factor
    lam = np.repeat(lam, K)
    lower = per_feature(lower_bounds, -np.inf)
    upper = per_feature(upper_bounds, np.inf)
    if np.any(lower > 0) or np.any(upper < 0):
        raise ValueError("bounds must contain 0 (lower_bounds <= 0 <= upper_bounds)")
    if np.any(np.isnan(lower)) or np.any(np.isnan(upper)):
        raise ValueError("bounds must not be NaN")
    if grouped:
        if K == 1:
            raise ValueError("the grouped penalty needs a multinomial model (3 or more classes)")
        if np.any(np.isfinite(lower)) or np.any(np.isfinite(upper)):
            raise ValueError("box bounds are not supported with the grouped penalty")
    return L1Penalty(lam=lam, lower=lower, upper=upper, group_size=K if grouped else 1)
