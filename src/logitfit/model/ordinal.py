"""The ordinal (cumulative-link, proportional-odds) model: log-likelihood, gradient, Hessian over blocks.

Model (K ordered categories ``0 < 1 < ... < K-1``, thresholds
``theta_0 < ... < theta_{K-2}``, ``theta_{-1} = -inf``, ``theta_{K-1} = +inf``)::

    P(y <= k | x) = F(theta_k - eta),    eta = x^T beta + offset
    P(y  = k | x) = F(theta_k - eta) - F(theta_{k-1} - eta)

with ``F`` the logistic cdf (``link="logit"``: proportional odds), the normal
cdf (``"probit"``) or ``1 - exp(-exp(t))`` (``"cloglog"``). This is the sign
convention of R's ``MASS::polr`` (``logit P(Y <= k) = zeta_k - eta``) and of
statsmodels' ``OrderedModel``: a positive ``beta_j`` moves mass to the higher
categories. There is no intercept; the thresholds take its place.

Parameterisation (what solvers see): ``x = [beta_1..beta_p, a_0, a_1..a_{K-2}]``
with ``theta_0 = a_0`` and ``theta_k = theta_{k-1} + exp(a_k)``, so every
parameter vector gives ordered thresholds (statsmodels' ``OrderedModel`` uses the
same one). Objective, as for the binary model, the weighted mean negative
log-likelihood plus an L2 term on beta only::

    J(x) = -(1/S) sum_i s_i log P(y_i | x_i) + (1/2) sum_j a_j beta_j^2

With ``p = F(b) - F(a)``, ``a = theta_{y-1} - eta``, ``b = theta_y - eta``,
``r_a = f(a)/p``, ``r_b = f(b)/p`` and ``g = (log f)'``, the per-row loss
``l = -log p`` has ``l_a = r_a``, ``l_b = -r_b``, ``l_aa = r_a^2 + r_a g(a)``,
``l_bb = r_b^2 - r_b g(b)``, ``l_ab = -r_a r_b``; ``dl/deta = r_b - r_a`` and
``d2l/deta2 = l_aa + 2 l_ab + l_bb`` (>= 0: all three cdfs are log-concave).
The block kernels return these sums in the natural coordinates ``(beta, theta)``;
:class:`OrdinalObjective` maps them to ``x`` by the chain rule.

``log p`` is never formed as the log of a rounded difference: for the logit
link ``sigmoid(b) - sigmoid(a) = sigmoid(b) sigmoid(-a) (1 - exp(a - b))``, so
``log p = log_sigmoid(b) + log_sigmoid(-a) + log1mexp(b - a)``; for the others
``log p = log F(b) + log1mexp(log F(b) - log F(a))`` or, in the upper tail,
the same with survival functions ``1 - F``; the derivatives are written with the
hazards ``f/F`` and ``f/(1 - F)`` so that no two large terms cancel
(:func:`_row_terms`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.special import log_ndtr, ndtri

from logitfit._numerics import log_sigmoid, sigmoid
from logitfit.blocks.protocol import Block, Blocks, has_offset
from logitfit.model.gram import gram, matvec, rmatvec

__all__ = [
    "LINKS", "OrdinalObjective", "log1mexp", "ordinal_log_proba", "ordinal_proba",
    "thresholds_from_params", "params_from_thresholds", "threshold_jacobian", "initial_thresholds",
]

LINKS = ("logit", "probit", "cloglog")
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def log1mexp(u: np.ndarray) -> np.ndarray:
    """``log(1 - exp(-u))`` for ``u >= 0`` (Maechler 2012: expm1 below log 2, log1p above)."""
    u = np.asarray(u, dtype=np.float64)
    with np.errstate(divide="ignore"):
        small = u <= np.log(2.0)
        return np.where(small, np.log(-np.expm1(-np.where(small, u, 1.0))),
                        np.log1p(-np.exp(-np.where(small, 1.0, u))))


# ------------------------------------------------------------------ the links
# Each link gives, at finite t: log F, log(1 - F), log f, the hazard h = f/(1 - F), the
# reverse hazard r = f/F, and s_up = h + g, s_lo = g - r with g = (log f)' (each in a form
# without cancellation where one exists).


def _logit(t):
    st, smt = sigmoid(t), sigmoid(-t)
    return log_sigmoid(t), log_sigmoid(-t), log_sigmoid(t) + log_sigmoid(-t), st, smt, smt, -st


def _probit(t):
    lF, lS, lf = log_ndtr(t), log_ndtr(-t), -0.5 * t * t - _LOG_SQRT_2PI
    h, r = np.exp(lf - lS), np.exp(lf - lF)
    return lF, lS, lf, h, r, h - t, -t - r


def _cloglog(t):
    with np.errstate(over="ignore", invalid="ignore"):
        et = np.exp(t)
        r = np.where(et > 0, et / np.expm1(et), 1.0)
        r = np.where(np.isnan(r), 0.0, r)  # inf / inf past t ~ 6.6: r = 0 to double precision
    return log1mexp(et), -et, t - et, et, r, np.ones_like(t), 1.0 - et - r


_LINK_FUNCS: dict[str, Callable] = {"logit": _logit, "probit": _probit, "cloglog": _cloglog}


def check_link(link: str) -> str:
    if link not in _LINK_FUNCS:
        raise ValueError(f"unknown link {link!r}; choose one of {', '.join(LINKS)}")
    return link


def link_quantile(link: str, q: np.ndarray) -> np.ndarray:
    """``F^{-1}(q)`` for q in (0, 1)."""
    q = np.asarray(q, dtype=np.float64)
    if link == "logit":
        return np.log(q) - np.log1p(-q)
    if link == "probit":
        return ndtri(q)
    return np.log(-np.log1p(-q))


def _row_terms(a: np.ndarray, b: np.ndarray, link: str):
    """``(log p, r_a, r_b, A, B, d)`` per row for cut points ``a < b`` (a may be -inf, b +inf).

    ``p = F(b) - F(a)``, ``r_a = f(a)/p``, ``r_b = f(b)/p``, ``A = r_a + g(a)``,
    ``B = r_b - g(b)`` (so ``l_aa = r_a A``, ``l_bb = r_b B``, ``l_ab = -r_a r_b``)
    and ``d = l_aa + 2 l_ab + l_bb``, the curvature in eta. ``p`` is taken from the
    side where it is not a difference of two numbers near 1: with ``F(a) > 1/2``
    as ``S(a) (1 - e^D)``, ``D = log S(b) - log S(a)``, else as ``F(b) (1 - e^E)``,
    ``E = log F(a) - log F(b)``; with ``q = 1/(1 - e^D)``::

        upper: r_a = h(a) q,      r_b = h(b) e^D q,  d = e^D q^2 (h(a) - h(b))^2 + r_a s_up(a) - r_b s_up(b)
        lower: r_a = r(a) e^E q,  r_b = r(b) q,      d = e^E q^2 (r(a) - r(b))^2 + r_a s_lo(a) - r_b s_lo(b)

    (no cancellation of large terms; for the logit link ``1 - e^D`` and
    ``1 - e^E`` come from ``1 - exp(a - b)`` exactly, for cloglog ``D = -e^a
    (e^{b-a} - 1)``).
    """
    fa, fb = np.isfinite(a), np.isfinite(b)
    a0, b0 = np.where(fa, a, 0.0), np.where(fb, b, 0.0)
    lFa, lSa, _, ha, rra, sua, sla = _LINK_FUNCS[link](a0)
    lFb, lSb, _, hb, rrb, sub, slb = _LINK_FUNCS[link](b0)
    # the missing ends: F(-inf) = 0, F(+inf) = 1
    lFa, lSa = np.where(fa, lFa, -np.inf), np.where(fa, lSa, 0.0)
    lFb, lSb = np.where(fb, lFb, 0.0), np.where(fb, lSb, -np.inf)
    upper = fa & (lFa > lSa)
    # Past the range of doubles (cloglog beyond |t| ~ 700) p underflows to 0: log p is -inf there.
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if link == "logit":
            m = -np.expm1(np.where(fa & fb, a0 - b0, -np.inf))  # 1 - exp(a - b)
            # upper: 1 - e^D = sigmoid(b) m; lower: 1 - e^E = sigmoid(-a) m (sigmoid(-inf) = 1)
            one_minus = np.where(upper, np.where(fb, sigmoid(b0), 1.0), np.where(fa, sigmoid(-a0), 1.0)) * m
            ratio = np.where(upper, np.where(fb, np.exp(lSb - lSa), 0.0), np.where(fa, np.exp(lFa - lFb), 0.0))
            q = 1.0 / one_minus
            eq = ratio * q  # e^D q (upper) or e^E q (lower)
        else:
            if link == "cloglog":
                D = np.where(fb, -np.exp(a0) * np.expm1(b0 - a0), -np.inf)
            else:
                D = np.where(fb, lSb - lSa, -np.inf)
            E = np.where(fa, lFa - lFb, -np.inf)
            X = np.where(upper, D, E)
            q = -1.0 / np.expm1(X)
            eq = np.exp(X) * q
        logp = np.where(upper, lSa, np.where(fb, lFb, 0.0)) - np.log(q)
        logp = np.where(np.isnan(logp), -np.inf, logp)
        ra = np.where(fa, np.where(upper, ha * q, rra * eq), 0.0)
        rb = np.where(fb, np.where(upper, hb * eq, rrb * q), 0.0)
        A = np.where(fa, np.where(upper, ha * eq + sua, rra * q + sla), 0.0)
        B = np.where(fb, np.where(upper, hb * q - sub, rrb * eq - slb), 0.0)
        # upper rows have a finite a (the term vanishes as b -> inf); lower rows: r(+inf) = 0
        spread = np.where(upper, ha - hb, rra - np.where(fb, rrb, 0.0))
        d = (np.where(np.where(upper, fb, fa), eq * q * spread * spread, 0.0)
             + np.where(fa, ra * np.where(upper, sua, sla), 0.0)
             - np.where(fb, rb * np.where(upper, sub, slb), 0.0))
    return logp, ra, rb, A, B, d


def _cuts(theta: np.ndarray, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ext = np.concatenate([[-np.inf], theta, [np.inf]])
    return ext[y] - eta, ext[y + 1] - eta


def ordinal_log_proba(eta: np.ndarray, theta: np.ndarray, link: str = "logit") -> np.ndarray:
    """``log P(y = k | eta)`` for every row and category, shape (n, K), computed stably.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.model.ordinal import ordinal_log_proba
    >>> np.exp(ordinal_log_proba(np.array([0.0]), np.array([-1.0, 1.0]))).round(4)
    array([[0.2689, 0.4621, 0.2689]])
    """
    eta = np.asarray(eta, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    K = theta.size + 1
    out = np.empty((eta.size, K))
    for k in range(K):
        a, b = _cuts(theta, np.full(eta.size, k, dtype=np.intp), eta)
        out[:, k] = _row_terms(a, b, link)[0]
    return out


def ordinal_proba(eta: np.ndarray, theta: np.ndarray, link: str = "logit") -> np.ndarray:
    """``P(y = k | eta) = F(theta_k - eta) - F(theta_{k-1} - eta)``, shape (n, K); rows sum to one.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.model.ordinal import ordinal_proba
    >>> ordinal_proba(np.array([0.0, 2.0]), np.array([-1.0, 1.0]), "probit").round(4)
    array([[0.1587, 0.6827, 0.1587],
           [0.0013, 0.1573, 0.8413]])
    """
    return np.exp(ordinal_log_proba(eta, theta, link))


# ------------------------------------------------------ threshold parameters


def thresholds_from_params(raw: np.ndarray) -> np.ndarray:
    """``theta_0 = a_0``, ``theta_k = theta_{k-1} + exp(a_k)``: ordered for every ``a``."""
    raw = np.asarray(raw, dtype=np.float64)
    return raw[0] + np.concatenate([[0.0], np.cumsum(np.exp(raw[1:]))])


def params_from_thresholds(theta: np.ndarray) -> np.ndarray:
    """Inverse of :func:`thresholds_from_params`; ``theta`` must be strictly increasing."""
    theta = np.asarray(theta, dtype=np.float64)
    gaps = np.diff(theta)
    if np.any(gaps <= 0) or not np.all(np.isfinite(theta)):
        raise ValueError(f"thresholds must be finite and strictly increasing, got {theta.tolist()}")
    return np.concatenate([[theta[0]], np.log(gaps)])


def threshold_jacobian(raw: np.ndarray) -> np.ndarray:
    """``d theta_j / d a_m``: 1 for m = 0, ``exp(a_m)`` for 1 <= m <= j, else 0."""
    m = raw.size
    J = np.tril(np.ones((m, m))) * np.concatenate([[1.0], np.exp(raw[1:])])[None, :]
    return J


def initial_thresholds(counts: np.ndarray, link: str) -> np.ndarray:
    """Thresholds of the model with beta = 0: ``F^{-1}`` of the cumulative (weighted) proportions."""
    cum = np.cumsum(counts)[:-1] / counts.sum()
    return link_quantile(link, cum)


# -------------------------------------------------------------- block kernels


def _eta(block: Block, beta: np.ndarray) -> np.ndarray:
    """``X beta + offset`` (``Block.offset``, when the rows carry one)."""
    eta = matvec(block.X, beta) if beta.size else np.zeros(block.X.shape[0])
    offset = getattr(block, "offset", None)
    if offset is not None:
        eta = eta + offset
    return eta


def ordinal_kernel(block: Block, beta: np.ndarray, theta: np.ndarray, link: str, level: int) -> tuple:
    """One block's sums in natural coordinates: ``level`` 0 the loss, 1 with the gradient, 2 with the Hessian.

    Returns ``(sum s l, g_beta, g_theta[, H_bb, H_bt, H_tt])`` with ``H_bb``
    upper-triangular for dense blocks (symmetrised after the sum).
    """
    y = block.y.astype(np.intp, copy=False)
    sw = block.sw
    K = theta.size + 1
    a, b = _cuts(theta, y, _eta(block, beta))
    logp, ra, rb, A, B, d = _row_terms(a, b, link)
    total = -float(sw @ logp)
    if level == 0:
        return (total,)
    g_beta = rmatvec(block.X, sw * (rb - ra)) if beta.size else np.zeros(0)
    g_theta = (np.bincount(y, weights=-sw * rb, minlength=K)[: K - 1]
               + np.bincount(y, weights=sw * ra, minlength=K)[1:])
    if level == 1:
        return total, g_beta, g_theta
    l_aa = ra * A
    l_bb = rb * B
    l_ab = -ra * rb
    # >= 0 in exact arithmetic (log-concave F); clipping keeps rounding from breaking dsyrk's sqrt
    d = np.maximum(d, 0.0) * sw
    p = beta.size
    H_bb = gram(block.X, d, False) if p else np.zeros((0, 0))
    M = np.zeros((y.size, K))
    rows = np.arange(y.size)
    M[rows, y] = -(l_ab + l_bb) * sw  # theta_y is the upper cut b
    M[rows, y - 1] = -(l_aa + l_ab) * sw  # theta_{y-1} is the lower cut a (column K-1 dropped when y = 0)
    H_bt = np.asarray(block.X.T @ M[:, : K - 1], dtype=np.float64) if p else np.zeros((0, K - 1))
    H_tt = np.diag(np.bincount(y, weights=sw * l_bb, minlength=K)[: K - 1]
                   + np.bincount(y, weights=sw * l_aa, minlength=K)[1:])
    off = np.bincount(y, weights=sw * l_ab, minlength=K)[1 : K - 1]
    idx = np.arange(K - 2)
    H_tt[idx, idx + 1] = off
    H_tt[idx + 1, idx] = off
    return total, g_beta, g_theta, H_bb, H_bt, H_tt


def ordinal_score_kernel(block: Block, beta: np.ndarray, theta: np.ndarray, link: str) -> np.ndarray:
    """Per-row weighted scores ``s_i d log P(y_i)/d(beta, theta)``, shape (rows, p + K - 1).

    The row of ``log P`` has ``d/d eta = r_a - r_b``, ``d/d theta_y = r_b``,
    ``d/d theta_{y-1} = -r_a``.
    """
    y = block.y.astype(np.intp, copy=False)
    K = theta.size + 1
    a, b = _cuts(theta, y, _eta(block, beta))
    _, ra, rb, _, _, _ = _row_terms(a, b, link)
    X = block.X.toarray() if hasattr(block.X, "toarray") else np.asarray(block.X, dtype=np.float64)
    T = np.zeros((y.size, K + 1))
    rows = np.arange(y.size)
    T[rows, y + 1] = rb
    T[rows, y] -= ra
    return np.hstack([X * (ra - rb)[:, None], T[:, 1:K]]) * block.sw[:, None]


# ------------------------------------------------------------------ objective


class OrdinalObjective:
    """Weighted mean negative log-likelihood of the cumulative-link model plus L2 on beta.

    Parameters
    ----------
    blocks : Blocks
        The rows; ``y`` holds category indices 0..K-1; offsets, when the rows
        carry them (``Block.offset``), are added to ``eta``.
    n_classes : int
        K >= 2 ordered categories.
    link : {"logit", "probit", "cloglog"}
    alpha : float
        L2 strength on beta: the term is ``alpha/2 * sum_j f_j beta_j^2``.
    penalty_factor : array of shape (n_features,), optional

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.blocks.memory import InMemoryBlocks
    >>> from logitfit.model.ordinal import OrdinalObjective
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> y = np.array([0, 1, 1, 2])
    >>> objective = OrdinalObjective(InMemoryBlocks(X, y, np.ones(4)), 3)
    >>> x = np.array([0.5, -0.5, 0.0])  # beta, theta_0, log(theta_1 - theta_0)
    >>> round(objective.value(x), 6)
    1.096647
    >>> objective.thresholds(x)
    array([-0.5,  0.5])
    """

    def __init__(self, blocks: Blocks, n_classes: int, *, link: str = "logit", alpha: float = 0.0,
                 penalty_factor: np.ndarray | None = None) -> None:
        if n_classes < 2:
            raise ValueError("an ordinal model needs at least two categories")
        self.blocks = blocks
        self.link = check_link(link)
        self.n_classes = int(n_classes)
        self.n_features = blocks.n_features
        self.n_params = self.n_features + self.n_classes - 1
        factor = np.ones(self.n_features) if penalty_factor is None else np.asarray(penalty_factor, float)
        self.alpha = float(alpha)
        self.l2 = np.concatenate([alpha * factor, np.zeros(self.n_classes - 1)])
        self.multinomial = False  # the solvers' auto rule: Newton for few parameters
        self.has_offset = has_offset(blocks)

    @property
    def n_samples(self) -> int:
        return self.blocks.n_samples

    @property
    def weight_sum(self) -> float:
        return self.blocks.sw_sum

    def unpack(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(beta, theta)`` of a parameter vector."""
        p = self.n_features
        return np.asarray(x[:p], dtype=np.float64), thresholds_from_params(x[p:])

    def pack(self, beta: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return np.concatenate([np.asarray(beta, dtype=np.float64), params_from_thresholds(theta)])

    def thresholds(self, x: np.ndarray) -> np.ndarray:
        return self.unpack(x)[1]

    def _map(self, beta: np.ndarray, theta: np.ndarray, level: int) -> tuple:
        return self.blocks.map_reduce(ordinal_kernel, beta, theta, self.link, level)

    def _penalty(self, x: np.ndarray) -> float:
        return 0.5 * float(self.l2 @ (x * x)) if self.alpha else 0.0

    def loss(self, x: np.ndarray) -> float:
        """Weighted mean negative log-likelihood (no penalty); ``llf = -S * loss``."""
        (total,) = self._map(*self.unpack(x), 0)
        return float(total) / self.blocks.sw_sum

    def value(self, x: np.ndarray) -> float:
        return self.loss(x) + self._penalty(x)

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        beta, theta = self.unpack(x)
        total, gb, gt = self._map(beta, theta, 1)
        S = self.blocks.sw_sum
        J = threshold_jacobian(x[self.n_features:])
        g = np.concatenate([gb / S, J.T @ (gt / S)]) + self.l2 * x
        return float(total) / S + self._penalty(x), g

    def grad(self, x: np.ndarray) -> np.ndarray:
        return self.value_and_grad(x)[1]

    def natural_hessian(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """``(mean loss, gradient, Hessian)`` of the mean loss in ``(beta, theta)``, no penalty."""
        total, gb, gt, Hbb, Hbt, Htt = self._map(*self.unpack(x), 2)
        S = self.blocks.sw_sum
        if Hbb.size:
            Hbb = np.triu(Hbb) + np.triu(Hbb, 1).T  # dense grams fill the upper triangle only
        H = np.block([[Hbb, Hbt], [Hbt.T, Htt]]) / S
        return float(total) / S, np.concatenate([gb, gt]) / S, H

    def value_grad_hess(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        p = self.n_features
        f, g_nat, H_nat = self.natural_hessian(x)
        raw = x[p:]
        J = threshold_jacobian(raw)
        T = np.eye(self.n_params)
        T[p:, p:] = J
        g = T.T @ g_nat
        H = T.T @ H_nat @ T
        # second derivatives of theta(a): d2 theta_j / d a_m^2 = exp(a_m) for 1 <= m <= j
        gt = g_nat[p:]
        tail = np.cumsum(gt[::-1])[::-1]
        curv = np.concatenate([[0.0], np.exp(raw[1:]) * tail[1:]])
        H[p:, p:] += np.diag(curv)
        H[np.diag_indices_from(H)] += self.l2
        return f + self._penalty(x), g + self.l2 * x, H

    def hess(self, x: np.ndarray) -> np.ndarray:
        return self.value_grad_hess(x)[2]

    def hessp(self, x: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        """``v -> H(x) v`` from the full Hessian (few parameters: p + K - 1)."""
        H = self.hess(x)
        return lambda v: H @ v

    def scores(self, x: np.ndarray) -> Sequence[np.ndarray]:
        """Per-row weighted log-likelihood scores in ``(beta, theta)``, one array per block."""
        return self.blocks.map_blocks(ordinal_score_kernel, *self.unpack(x), self.link)

    def zero(self, counts: np.ndarray) -> np.ndarray:
        """Start: beta = 0 and the thresholds of the no-covariate fit."""
        return self.pack(np.zeros(self.n_features), initial_thresholds(counts, self.link))


def category_counts(blocks: Any, n_classes: int) -> np.ndarray:
    """Weighted count of each category over the blocks."""

    def kernel(block: Block) -> tuple:
        return (np.bincount(block.y.astype(np.intp), weights=block.sw, minlength=n_classes),)

    (counts,) = blocks.map_reduce(kernel)
    return counts
