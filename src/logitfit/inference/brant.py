"""The Brant test of the proportional-odds assumption (Brant 1990, Biometrics 46:1171).

For K ordered categories, fit the K-1 binary logistic regressions of
``y_k = 1[y > k]`` on ``x`` (k = 0..K-2), each with its own intercept, giving
slopes ``b_k`` and fitted ``pi_k = P(y > k)``. Under proportional odds every
``b_k`` estimates the same ``beta``. With ``X~ = [X, 1]``, weights ``s`` and
``W_kl = diag(s pi_l (1 - pi_k))`` for ``k <= l`` (``pi_l <= pi_k``: ``y_l = 1``
implies ``y_k = 1``), the joint covariance of the stacked estimates is::

    Cov(b~_k, b~_l) = (X~^T W_kk X~)^{-1} (X~^T W_kl X~) (X~^T W_ll X~)^{-1}

(the sandwich of the binary fits' score covariance; intercept rows dropped
after). With ``D`` the contrasts ``b_0 - b_k`` (k = 1..K-2)::

    X^2 = (D b)^T (D V D^T)^{-1} (D b),   df = (K - 2) p     (overall)

and per feature j the same with its K-1 slopes only (df = K - 2). A small
p-value says the slopes differ across the cut points. This is the statistic of
R's ``brant`` package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from logitfit._numerics import sigmoid
from logitfit.blocks.memory import InMemoryBlocks
from logitfit.inference.covariance import inverse_information
from logitfit.inference.hypothesis_tests import ChiSquareTest
from logitfit.model.gram import gram
from logitfit.model.objective import LogisticObjective
from logitfit.solvers.base import SolverOptions
from logitfit.solvers.registry import minimize

__all__ = ["BrantTest", "brant_test", "brant_statistic"]


@dataclass(frozen=True)
class BrantTest:
    """The overall test, one test per feature, and the K-1 binary fits' slopes (shape (K-1, p)).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import OrdinalLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2))
    >>> y = np.digitize(X @ [1.0, -0.5] + rng.logistic(size=500), [-1.0, 0.0, 1.0])
    >>> brant = OrdinalLogisticRegression().fit(X, y).brant_test()
    >>> brant.overall.df, [t.df for t in brant.per_feature.values()]
    (4, [2, 2])
    >>> brant.overall.pvalue > 0.05
    True
    """

    overall: ChiSquareTest
    per_feature: dict[str, ChiSquareTest]
    slopes: np.ndarray

    def __str__(self) -> str:
        width = max(len("Omnibus"), *(len(n) for n in self.per_feature))
        lines = [f"{'Test for':<{width}}  {'X2':>10}  {'df':>3}  {'probability':>11}"]
        for name, t in [("Omnibus", self.overall), *self.per_feature.items()]:
            lines.append(f"{name:<{width}}  {t.statistic:>10.4f}  {t.df:>3d}  {t.pvalue:>11.4g}")
        lines.append("H0: parallel regression (proportional odds) holds")
        return "\n".join(lines)


def brant_statistic(slopes: np.ndarray, cov: np.ndarray, feature: int | None = None) -> tuple[float, int]:
    """``(X^2, df)`` of the equality of the rows of ``slopes`` (K-1, p) given their joint covariance.

    ``cov`` orders the stacked slopes fit by fit, ``[b_0, b_1, ...]``; ``feature``
    restricts the test to one column.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.inference.brant import brant_statistic
    >>> brant_statistic(np.array([[1.0], [1.5]]), 0.25 * np.eye(2))
    (0.5, 1)
    """
    m, p = slopes.shape
    cols = range(p) if feature is None else [feature]
    idx = np.array([k * p + j for k in range(m) for j in cols])
    b = slopes[:, list(cols)].ravel()
    V = cov[np.ix_(idx, idx)]
    q = len(cols)
    D = np.zeros(((m - 1) * q, m * q))
    for k in range(1, m):
        D[(k - 1) * q : k * q, :q] = np.eye(q)
        D[(k - 1) * q : k * q, k * q : (k + 1) * q] = -np.eye(q)
    d = D @ b
    return float(d @ np.linalg.solve(D @ V @ D.T, d)), (m - 1) * q


def brant_test(objective: Any, feature_names: list[str], tol: float = 1e-10) -> BrantTest:
    """Brant's test for the rows of an :class:`~logitfit.model.ordinal.OrdinalObjective` (held in memory).

    Raises ``ValueError`` for fewer than three categories (nothing to compare),
    a link other than logit, or rows not in memory. Offsets carried by the rows
    enter every binary fit.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.blocks.memory import InMemoryBlocks
    >>> from logitfit.inference.brant import brant_test
    >>> from logitfit.model.ordinal import OrdinalObjective
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(400, 1))
    >>> y = np.digitize(X[:, 0] + rng.logistic(size=400), [-1.0, 0.0, 1.0])
    >>> test = brant_test(OrdinalObjective(InMemoryBlocks(X, y, np.ones(400)), 4), ["x"])
    >>> test.overall.df, test.slopes.shape
    (2, (3, 1))
    """
    K, p = objective.n_classes, objective.n_features
    if K < 3:
        raise ValueError("the Brant test needs at least three categories (two give one binary fit)")
    if objective.link != "logit":
        raise ValueError("the Brant test is defined for the logit link (proportional odds)")
    if p == 0:
        raise ValueError("the Brant test needs at least one feature")
    blocks = objective.blocks
    X, y, sw = getattr(blocks, "X", None), getattr(blocks, "y", None), getattr(blocks, "sw", None)
    offset = getattr(blocks, "offset", None)
    if X is None or y is None or sw is None:
        raise ValueError("the Brant test needs the rows in memory")
    y = np.asarray(y, dtype=np.intp)
    fits = []
    for k in range(K - 1):
        yk = (y > k).astype(np.float64)
        if not (np.any(sw[yk == 1] > 0) and np.any(sw[yk == 0] > 0)):
            raise ValueError(f"the binary fit of y > {k} has one class only")
        obj = LogisticObjective(InMemoryBlocks(X, yk, sw, offset=offset), 2, fit_intercept=True)
        res = minimize(obj, np.zeros(p + 1), "newton", SolverOptions(tol=tol))
        if not res.converged:
            raise ValueError(f"the binary fit of y > {k} did not converge (separated classes?): "
                             "the Brant test needs every cumulative split to have a finite fit")
        fits.append(res.x)
    B = np.array(fits)  # (K-1, p+1): slopes then intercept
    Z = np.column_stack([np.asarray(X @ B[k, :p], dtype=np.float64).ravel() + B[k, p] for k in range(K - 1)])
    if offset is not None:
        Z += np.asarray(offset, dtype=np.float64)[:, None]
    pi = sigmoid(Z)  # P(y > k)
    q = p + 1
    inv = []
    for k in range(K - 1):
        G = gram(X, sw * pi[:, k] * (1.0 - pi[:, k]), True)
        inv.append(inverse_information(np.triu(G) + np.triu(G, 1).T))
    V = np.zeros(((K - 1) * q, (K - 1) * q))
    for k in range(K - 1):
        for m in range(k, K - 1):
            G = gram(X, sw * pi[:, m] * (1.0 - pi[:, k]), True)
            C = inv[k] @ (np.triu(G) + np.triu(G, 1).T) @ inv[m]
            V[k * q : (k + 1) * q, m * q : (m + 1) * q] = C
            V[m * q : (m + 1) * q, k * q : (k + 1) * q] = C.T
    keep = np.array([k * q + j for k in range(K - 1) for j in range(p)])
    Vs = V[np.ix_(keep, keep)]
    slopes = B[:, :p]
    overall = ChiSquareTest.of("Brant", *brant_statistic(slopes, Vs))
    per = {str(name): ChiSquareTest.of("Brant", *brant_statistic(slopes, Vs, j))
           for j, name in enumerate(feature_names)}
    return BrantTest(overall, per, slopes)
