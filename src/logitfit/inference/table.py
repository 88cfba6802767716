"""The coefficient table: one row per parameter with its z test and Wald interval.

Every table of coefficients (:class:`~logitfit.inference.summary.Summary`,
the HTML report, the command line) is built here, with one naming rule: the
features in design order, then ``INTERCEPT``. For a coefficient ``b`` with
standard error ``s``::

    z = b / s,    p = 2 Phi(-|z|) = erfc(|z| / sqrt 2),    [b - z_{1-alpha/2} s, b + z_{1-alpha/2} s]

The normal tail and quantile come from :mod:`logitfit.inference.distributions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from logitfit.inference.distributions import normal_ppf, normal_two_sided_p
from logitfit.model.fitted import FittedModel

__all__ = ["INTERCEPT", "coefficient_table", "model_coefficient_table", "term_names"]

#: Name of the intercept term everywhere (as formulaic and statsmodels name it).
INTERCEPT = "Intercept"


def term_names(feature_names: Sequence[Any] | None, n_features: int, fit_intercept: bool) -> list[str]:
    """The terms in parameter order: the features (``x0``, ``x1``, ... when unnamed), then the intercept."""
    names = [str(v) for v in feature_names] if feature_names is not None else [f"x{j}" for j in range(n_features)]
    return [*names, INTERCEPT] if fit_intercept else names


def coefficient_table(coef: np.ndarray, std_err: np.ndarray | None, terms: Sequence[str],
                      classes: Sequence[Any], *, reference: Any = None, alpha: float = 0.05) -> list[dict]:
    """Rows ``{"class", "term", "coef"[, "std_err", "z", "p_value", "ci_lower", "ci_upper"][, "reference"]}``.

    Parameters
    ----------
    coef : ndarray, shape (m, q), one row per class (m = 1 for a binary model), columns as ``terms``.
    std_err : ndarray of shape (m, q), or None (then the rows carry the coefficients only).
    terms : the q term names (see :func:`term_names`).
    classes : the m class labels of the rows of ``coef``.
    reference : label of the reference class when the rows are contrasts with it.
    alpha : the intervals have coverage ``1 - alpha``.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    q = normal_ppf(1.0 - alpha / 2.0)
    if std_err is not None:
        se = np.atleast_2d(np.asarray(std_err, dtype=np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, coef / se, np.nan)
    rows = []
    for k, label in enumerate(classes):
        for j, term in enumerate(terms):
            row: dict[str, Any] = {"class": label, "term": term, "coef": float(coef[k, j])}
            if std_err is not None:
                b, s = coef[k, j], se[k, j]
                row.update(std_err=float(s), z=float(z[k, j]), p_value=normal_two_sided_p(z[k, j]),
                           ci_lower=float(b - q * s), ci_upper=float(b + q * s))
            if reference is not None:
                row["reference"] = reference
            rows.append(row)
    return rows


def model_coefficient_table(model: FittedModel, names: Sequence[str], cov: np.ndarray | None,
                            alpha: float = 0.05) -> list[dict]:
    """:func:`coefficient_table` of a :class:`~logitfit.model.fitted.FittedModel` and a parameter covariance.

    ``cov`` orders the parameters class by class (one class for a binary
    model), each ``[w_1..w_p, b]``. For K > 2 classes a ``cov`` of K-1
    classes' parameters is that of the contrasts ``B_k - B_0`` with the first
    class (:class:`~logitfit.inference.results.Inference` with ``ref_class=0``):
    the rows are then those contrasts, each with ``"reference"``. A ``cov`` of
    any other shape, or None, gives coefficients without standard errors.
    """
    fit_icpt = model.fit_intercept
    coef = np.atleast_2d(model.coef)
    if fit_icpt:
        coef = np.column_stack([coef, np.atleast_1d(model.intercept)])
    classes = [v.item() if hasattr(v, "item") else v for v in np.asarray(model.classes)]
    K, q = coef.shape
    terms = term_names(names, q - int(fit_icpt), fit_icpt)
    se, reference = None, None
    if cov is not None and np.shape(cov) == (K * q, K * q):
        se = np.sqrt(np.clip(np.diag(cov), 0, None)).reshape(K, q)
    elif K > 1 and cov is not None and np.shape(cov) == ((K - 1) * q, (K - 1) * q):
        se = np.sqrt(np.clip(np.diag(cov), 0, None)).reshape(K - 1, q)
        coef, reference, classes = coef[1:] - coef[0], classes[0], classes[1:]
    labels = classes[1:] if K == 1 else classes
    return coefficient_table(coef, se, terms, labels, reference=reference, alpha=alpha)
