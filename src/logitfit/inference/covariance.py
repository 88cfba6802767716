"""Covariance of the parameters ``theta`` of a fit: model-based, sandwich (HC0-HC3) and cluster-robust.

With ``S = sum_i s_i`` and ``H_mean`` the Hessian of the mean loss
(``objective.hess`` without the L2 term), the observed information is
``I = S * H_mean`` and:

* ``"nonrobust"``: ``V = I^{-1}`` (the inverse observed information);
* ``"HC0"``..``"HC3"``: the sandwich ``V = A^{-1} M A^{-1}`` with bread
  ``A = I`` and meat ``M = sum_i s_i^2 r_i^2 x~_i x~_i^T / (1 - h_i)^k``
  (``k = 0`` for HC0/HC1, 1 for HC2, 2 for HC3; ``r = sigmoid(z) - y``;
  ``h_i`` the leverages of :mod:`logitfit.inference.leverage`, as R's
  ``sandwich::vcovHC``); HC1 = HC0 * n / (n - k);
* ``"cluster"``: meat ``sum_g u_g u_g^T`` with ``u_g`` the score summed over
  cluster ``g``, times ``G/(G-1) * (n-1)/(n-k)`` (Stata's and statsmodels'
  default correction).

With ``weight_type="frequency"`` the meat is the expanded data's,
``sum_i s_i r_i^2 x~_i x~_i^T`` with each copy's leverage ``h_i / s_i``
(:mod:`logitfit.inference.weights`).

L2-penalised fits: the bread is the penalised Hessian ``A = I + S * diag(a)``
and the nonrobust covariance is the sandwich ``A^{-1} I A^{-1}`` (le Cessie &
van Houwelingen, 1992, Appl. Statist. 41:191, eq. 9); robust types use the
same bread. Multinomial models without a penalty invert the submatrix of the
contrasts' parameters (the loss is invariant under a common shift of the classes).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import linalg

from logitfit._numerics import binary_residual
from logitfit.inference.leverage import augmented_design, leverages
from logitfit.model.binary import binary_weights as _binary_weights
from logitfit.model.binary import binary_z as _binary_z
from logitfit.model.gram import gram as _gram
from logitfit.model.softmax import multi_terms as _multi_terms
from logitfit.model.softmax import multi_Z as _multi_Z

__all__ = ["COV_TYPES", "cluster_covariance", "inverse_information", "robust_covariance"]

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")


# --------------------------------------------------------------- block kernels


def _binary_meat(block, w, b, fit_intercept, Ainv, power, frequency=False):
    z = _binary_z(block, w, b)
    r = binary_residual(z, block.y)
    e = block.sw * r
    d = e * r if frequency else e * e  # w r^2: w copies of the row
    if power:
        h = leverages(augmented_design(block.X, fit_intercept), block.sw * _binary_weights(z), Ainv)
        if frequency:  # each copy's leverage
            h = np.divide(h, block.sw, out=np.zeros_like(h), where=block.sw > 0)
        d = d / (1.0 - h) ** power
    return (_gram(block.X, d, fit_intercept),)


def _multi_meat(block, W, b, fit_intercept, frequency=False):
    _, _, R = _multi_terms(_multi_Z(block, W, b), block.y)
    K = R.shape[1]
    q = block.X.shape[1] + int(fit_intercept)
    M = np.zeros((q, K, q, K))
    s2 = block.sw if frequency else block.sw**2
    for k in range(K):
        for c in range(k, K):
            G = _gram(block.X, s2 * R[:, k] * R[:, c], fit_intercept)
            G = np.triu(G) + np.triu(G, 1).T  # gram may fill only the upper triangle
            M[:, k, :, c] = G
            M[:, c, :, k] = G
    return (M.reshape(q * K, q * K),)


def _cluster_scores(block, w, b, fit_intercept, n_groups, multinomial, codes):
    if multinomial:
        _, _, R = _multi_terms(_multi_Z(block, w, b), block.y)
        E = R * block.sw[:, None]
    else:
        E = (block.sw * binary_residual(_binary_z(block, w, b), block.y))[:, None]
    Xt = augmented_design(block.X, fit_intercept)
    n = len(codes)
    import scipy.sparse as sp  # on use: only sparse input gets here
    G = sp.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_groups, n))
    U = np.einsum("ij,ik->ijk", Xt, E).reshape(n, -1)  # score rows in ravel order j*K + k
    return (np.asarray(G @ U),)


def _n_rows(block):
    return len(block.y)


# ------------------------------------------------------------------- algebra


def inverse_information(H: np.ndarray) -> np.ndarray:
    """``H^{-1}`` by Cholesky; a singular ``H`` means no standard errors exist (plain-text error)."""
    try:
        c = linalg.cho_factor(H)
        return linalg.cho_solve(c, np.eye(H.shape[0]))
    except linalg.LinAlgError as err:
        raise ValueError(
            "the information matrix is singular at the fit (collinear features or "
            "separated classes): standard errors do not exist. Drop redundant columns, "
            "check logitfit.check_separation(X, y), or use penalty='firth'."
        ) from err


def symmetrise(V: np.ndarray) -> np.ndarray:
    return 0.5 * (V + V.T)


def information(inf: Any) -> tuple[np.ndarray, np.ndarray]:
    """(observed information of the log-likelihood, penalised Hessian), both total (times S)."""

    def compute():
        H = inf.S * inf.obj.hess(inf.x)
        return H - inf.S * np.diag(inf.obj.l2), H

    return inf.cached("info", compute)


def bread(inf: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Inverse of the (penalised) Hessian in theta coordinates, and the kept full indices (or None)."""

    def compute():
        _, H = information(inf)
        obj = inf.obj
        if obj.multinomial and not inf.penalised:
            K, q = obj.n_classes, obj.n_dof
            keep = np.array([j * K + k for k in inf.others for j in range(q)])
            return inverse_information(H[np.ix_(keep, keep)]), keep
        if obj.multinomial:
            return inf.A @ np.linalg.pinv(H, hermitian=True), None
        return inverse_information(H), None

    return inf.cached("bread", compute)


def sandwich(inf: Any, M_full: np.ndarray) -> np.ndarray:
    """``B M B^T`` with ``B`` the bread in theta coordinates and ``M`` a meat in full coordinates."""
    Binv, keep = bread(inf)
    if keep is not None:
        return Binv @ M_full[np.ix_(keep, keep)] @ Binv
    if inf.obj.multinomial:
        return Binv @ M_full @ Binv.T
    return Binv @ M_full @ Binv


def robust_covariance(inf: Any, cov_type: str) -> np.ndarray:
    """Covariance of ``theta`` for ``cov_type`` in "nonrobust", "HC0".."HC3"."""
    I_, H = information(inf)
    if cov_type == "nonrobust":
        return symmetrise(sandwich(inf, I_) if inf.penalised else bread(inf)[0])
    obj = inf.obj
    W, b = obj.unpack(inf.x)
    frequency = getattr(inf, "weight_type", None) == "frequency"  # logitfit.inference.weights
    if obj.multinomial:
        if cov_type in ("HC2", "HC3"):
            raise ValueError(f"{cov_type} is defined here for the binary model only; use HC0, HC1 or cluster")
        (M,) = obj.blocks.map_reduce(_multi_meat, W, b, obj.fit_intercept, frequency)
    else:
        power = {"HC0": 0, "HC1": 0, "HC2": 1, "HC3": 2}[cov_type]
        (M,) = obj.blocks.map_reduce(_binary_meat, W, b, obj.fit_intercept, inverse_information(H), power,
                                     frequency)
        M = np.triu(M) + np.triu(M, 1).T
    V = sandwich(inf, M)
    if cov_type == "HC1":
        V = V * inf.nobs / (inf.nobs - inf.k_params)
    return symmetrise(V)


def cluster_covariance(inf: Any, groups: Any) -> np.ndarray:
    """Cluster-robust covariance of ``theta`` with one cluster label per row."""
    obj = inf.obj
    g = np.asarray(groups)
    if g.ndim != 1 or g.shape[0] != obj.blocks.n_samples:
        raise ValueError(f"groups has shape {g.shape}; give one label per row ({obj.blocks.n_samples} rows)")
    labels, codes = np.unique(g, return_inverse=True)
    G = len(labels)
    if G < 2:
        raise ValueError("cov_type='cluster' needs at least two clusters")
    sizes = obj.blocks.map_blocks(_n_rows)
    state = np.split(codes, np.cumsum(sizes)[:-1])
    W, b = obj.unpack(inf.x)
    (U,) = obj.blocks.map_reduce(_cluster_scores, W, b, obj.fit_intercept, G, obj.multinomial, state=state)
    V = sandwich(inf, U.T @ U)
    n, k = inf.nobs, inf.k_params
    return symmetrise(V * G / (G - 1) * (n - 1) / (n - k))
