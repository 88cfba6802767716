"""Firth's bias-reduced logistic regression (``penalty="firth"``), its profile intervals, LR tests and FLIC.

Firth (1993, Biometrika 80:27) maximises the log-likelihood penalised by
Jeffreys' prior::

    l*(beta) = l(beta) + (1/2) log det I(beta),    I = X~^T W X~,  W = diag(s p (1 - p))

Its score is the modified score of Heinze & Schemper (2002, Stat. Med.
21:2409, eq. 2)::

    U*_j = sum_i [s_i (y_i - p_i) + h_i (1/2 - p_i)] x~_ij,
    h_i  = s_i p_i (1 - p_i) x~_i^T I^{-1} x~_i        (leverages)

and the iteration is ``beta += I^{-1} U*`` (the solver package's damped
Newton on ``-l*`` with Fisher scoring's curvature ``I``), each step's largest
component capped at 5 (logistf's ``maxstep``).
The estimates are finite even when the data are separated.

All pieces come from the same :class:`logitfit.model.objective.LogisticObjective` (its
loss and Hessian); the leverages come from :mod:`logitfit.inference.leverage`. The solver
minimises the mean-scaled ``J*(beta) = -l*(beta) / S``, so ``tol`` means what
it means for the other solvers. The covariance reported is ``I(beta*)^{-1}``
as logistf reports it. Penalised profile-likelihood intervals and penalised
likelihood-ratio tests replace ``l`` by ``l*`` (Heinze & Schemper, sec. 2.2).

FLIC (Puhr et al. 2017, Stat. Med. 36:2302): keep Firth's slopes, re-estimate
the intercept by maximum likelihood with the linear predictor as an offset, so
that the average predicted probability equals the observed event rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit._numerics import sigmoid
from logitfit.inference.distributions import chi2_sf
from logitfit.inference.leverage import augmented_design, leverages
from logitfit.inference.profile import constrained_minimum, profile_ci, profile_tol
from logitfit.model.binary import binary_weights as _binary_weights
from logitfit.model.binary import binary_z as _binary_z
from logitfit.solvers.newton import NewtonStep, damped_newton

__all__ = ["fit_firth", "penalised_llf", "firth_profile_ci", "penalised_lr_tests", "flic_intercept"]

#: Step cap 5 as logistf's maxstep; 100 iterations (logistf's maxit is 25, Newton needs few).
FIRTH_STEP = NewtonStep(name="firth", max_iter=100, max_step=5.0)


def _firth_kernel(block, w, b, fit_intercept, Iinv):
    z = _binary_z(block, w, b)
    Xt = augmented_design(block.X, fit_intercept)
    a = leverages(Xt, block.sw * _binary_weights(z), Iinv) * (0.5 - sigmoid(z))
    return (Xt.T @ a,)


def _pieces(objective, x):
    """(l*, U*, I): penalised log-likelihood, modified score and information, total scale."""
    S = objective.blocks.sw_sum
    f, g, H = objective.value_grad_hess(x)
    info = S * H
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0:
        return -np.inf, np.full_like(x, np.nan), info
    Iinv = np.linalg.inv(info)
    (corr,) = objective.blocks.map_reduce(_firth_kernel, *objective.unpack(x), objective.fit_intercept, Iinv)
    return -S * f + 0.5 * logdet, -S * g + corr, info


def penalised_llf(objective, x: np.ndarray) -> float:
    """``l*(x) = l(x) + (1/2) log det I(x)``."""
    return _pieces(objective, x)[0]


def _fgh(objective, scale: float = 1.0):
    """``x -> (-l*, -U*, I) / scale``: the negative penalised log-likelihood with Fisher scoring's curvature."""

    def fgh(x):
        lp, U, info = _pieces(objective, x)
        return -lp / scale, -U / scale, info / scale

    return fgh


def fit_firth(objective, x0: np.ndarray, options) -> Any:
    """Maximise the Firth-penalised likelihood; returns a :class:`SolverResult` (solver "firth").

    The damped Newton iteration of the solver package minimises the mean-scaled
    ``J*(x) = -l*(x) / S`` with the Fisher information as its curvature.
    """
    if objective.multinomial:
        raise ValueError("penalty='firth' is implemented for two classes only")
    if objective.alpha:
        raise ValueError("penalty='firth' is not combined with an L2 penalty")
    return damped_newton(_fgh(objective, objective.blocks.sw_sum), x0, options, FIRTH_STEP)


def firth_profile_ci(objective, x: np.ndarray, alpha: float) -> np.ndarray:
    """Penalised profile-likelihood intervals (logistf's default ``pl = TRUE`` intervals)."""
    info = _pieces(objective, x)[2]
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    return profile_ci(_fgh(objective), x, se, alpha)


def penalised_lr_tests(model: Any) -> dict[str, np.ndarray]:
    """Penalised LR test of ``beta_j = 0`` for every term of a Firth fit.

    ``LR_j = 2 (l*(beta*) - max_{beta_j = 0} l*(beta)) ~ chi2(1)``, as logistf's
    p-values. Returns {"names", "statistic", "p_value"}.
    """
    inf = model._inference()
    if not inf.firth:
        raise ValueError("penalised LR tests are for penalty='firth' fits")
    fgh = _fgh(inf.obj)
    f_hat = fgh(inf.x)[0]
    tol = profile_tol(f_hat)
    stat = np.array([max(0.0, 2.0 * (constrained_minimum(fgh, inf.x, j, 0.0, tol)[0] - f_hat))
                     for j in range(inf.x.size)])
    return {"names": np.array(inf.names), "statistic": stat, "p_value": chi2_sf(stat, 1)}


def _offset_kernel(block, w, b):
    z = _binary_z(block, w, b)
    r = block.sw * (block.y - sigmoid(z))
    return r.sum(), (block.sw * _binary_weights(z)).sum()


def flic_intercept(model: Any, tol: float = 1e-12, max_iter: int = 100) -> float:
    """FLIC: the maximum-likelihood intercept given Firth's slopes as an offset.

    Solves ``sum_i s_i (y_i - sigmoid(b + x_i^T beta*)) = 0`` for ``b`` by Newton's method.
    """
    inf = model._inference()
    if not inf.firth or not inf.obj.fit_intercept:
        raise ValueError("FLIC needs a penalty='firth' fit with an intercept")
    w, b = inf.obj.unpack(inf.x)
    for _ in range(max_iter):
        r, d = inf.obj.blocks.map_reduce(_offset_kernel, w, b)
        b += r / d
        if abs(r) <= tol * inf.S:
            break
    return float(b)
