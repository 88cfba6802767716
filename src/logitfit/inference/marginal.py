"""Average marginal effects ``mean_i dP(y_i)/dx_ij`` with delta-method standard errors.

Binary: ``AME_j = beta_j * mean_i p_i (1 - p_i)``; Jacobian
``dAME_j/dtheta_l = delta_jl mean(f) + beta_j mean(f' x~_l)`` with
``f' = f (1 - 2p)`` (statsmodels' ``get_margeff(at="overall")``).
Multinomial: ``AME_jk = mean_i P_ik (beta_jk - sum_c P_ic beta_jc)`` for
every class, Jacobian by central differences.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit._numerics import sigmoid
from logitfit.inference.distributions import normal_two_sided_p
from logitfit.model.binary import binary_weights as _binary_weights
from logitfit.model.binary import binary_z as _binary_z
from logitfit.model.softmax import multi_terms as _multi_terms
from logitfit.model.softmax import multi_Z as _multi_Z

__all__ = ["marginal_effects"]

#: Relative central-difference step: truncation ~ step^2 = 1e-10, rounding ~ 1e-16 / step.
FD_STEP = 1e-5


def _binary_me(block, w, b):
    z = _binary_z(block, w, b)
    f = _binary_weights(z)
    fp = block.sw * f * (1.0 - 2.0 * sigmoid(z))
    return block.sw @ f, np.asarray(block.X.T @ fp, dtype=np.float64).ravel(), fp.sum()


def _multi_me(block, W, b):
    _, P, _ = _multi_terms(_multi_Z(block, W, b), block.y)
    sP = P * block.sw[:, None]
    return sP.sum(axis=0), sP.T @ P


def marginal_effects(inf: Any) -> dict[str, np.ndarray]:
    """AMEs of an :class:`~logitfit.inference.results.Inference`: "effect", "std_err", "z", "p_value" and "names"."""
    obj, k = inf.obj, inf.k_params
    p = obj.n_features
    V = inf.cov_params()
    if not obj.multinomial:
        w, b = obj.unpack(inf.x)
        sf, fx, f1 = obj.blocks.map_reduce(_binary_me, w, b)
        mf = sf / inf.S
        mfx = np.append(fx, f1)[:k] / inf.S
        eff = w * mf
        J = mf * np.eye(k)[:p] + np.outer(w, mfx)
    else:
        eff = _multi_ame(inf, inf.params)
        J = np.empty((eff.size, k))
        for ell in range(k):
            h = FD_STEP * max(1.0, abs(inf.params[ell]))
            tp, tm = inf.params.copy(), inf.params.copy()
            tp[ell] += h
            tm[ell] -= h
            J[:, ell] = (_multi_ame(inf, tp) - _multi_ame(inf, tm)).ravel() / (2 * h)
    se = np.sqrt(np.einsum("ij,jk,ik->i", J, V, J)).reshape(eff.shape)
    z = eff / se
    return {"effect": eff, "std_err": se, "z": z, "p_value": normal_two_sided_p(z),
            "names": np.array(inf.term_names[:p])}


def _multi_ame(inf: Any, theta: np.ndarray) -> np.ndarray:
    """Multinomial AMEs, shape (p, K), at contrasts ``theta`` (the reference class at 0)."""
    obj = inf.obj
    K, q, p = obj.n_classes, obj.n_dof, obj.n_features
    B = np.zeros((q, K))
    for m, k in enumerate(inf.others):
        B[:, k] = theta[m * q:(m + 1) * q]
    W = B[:p]
    b = B[p] if obj.fit_intercept else np.zeros(K)
    sP, sPP = obj.blocks.map_reduce(_multi_me, W, b)
    return (W * sP - W @ sPP) / inf.S
