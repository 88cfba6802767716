"""Wald and likelihood-ratio tests of a fit, and the parser of constraints written in term names.

* Wald test of ``R theta = r``: ``W = (R t - r)^T (R V R^T)^{-1} (R t - r) ~ chi2(rank R)``;
* likelihood-ratio test of nested models: ``LR = 2 (llf_full - llf_restricted)
  ~ chi2(k_full - k_restricted)``; Firth fits compare penalised log-likelihoods
  (Heinze & Schemper 2002, Stat. Med. 21:2409, sec. 2.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from logitfit.inference.distributions import chi2_sf
from logitfit.inference.firth import penalised_llf

__all__ = ["ChiSquareTest", "lr_test", "parse_constraints", "wald_test"]

#: An unsigned number with an optional exponent (signs are read as separate tokens).
_NUMBER = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*")


@dataclass(frozen=True)
class ChiSquareTest:
    """A chi-square test (``name`` "Wald" or "LR"): statistic, degrees of freedom, p-value."""

    name: str
    statistic: float
    df: int
    pvalue: float

    @classmethod
    def of(cls, name: str, statistic: float, df: int) -> ChiSquareTest:
        """The test with its p-value ``P(chi2(df) > statistic)``."""
        return cls(name, statistic, df, float(chi2_sf(statistic, df)))

    def __str__(self) -> str:
        return f"{self.name} chi2({self.df}) = {self.statistic:.6g}, p = {self.pvalue:.4g}"


def wald_test(params: np.ndarray, cov: np.ndarray, names: list[str], R: Any, r: Any = None) -> ChiSquareTest:
    """Wald test of ``R theta = r`` given ``theta`` and its covariance.

    ``R`` may be a matrix, or a string of comma-separated equations in the
    term names, e.g. ``"gre = gpa"`` or ``"x1 + 2*x2 = 1, x3 = 0"``.
    """
    if isinstance(R, str):
        R, r = parse_constraints(R, names)
    R = np.atleast_2d(np.asarray(R, dtype=np.float64))
    r = np.zeros(R.shape[0]) if r is None else np.atleast_1d(np.asarray(r, dtype=np.float64))
    k = len(params)
    if R.shape[1] != k or r.shape[0] != R.shape[0]:
        raise ValueError(f"R must have shape (m, {k}) and r shape (m,); got {R.shape}, {r.shape}")
    d = R @ params - r
    stat = float(d @ np.linalg.solve(R @ cov @ R.T, d))
    df = int(np.linalg.matrix_rank(R))
    return ChiSquareTest.of("Wald", stat, df)


def parse_constraints(text: str, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse ``"a = b, 2*c - d = 1"`` into ``(R, r)`` over the named parameters."""
    order = sorted(range(len(names)), key=lambda i: -len(names[i]))  # longest name first
    rows, rhs = [], []
    for eq in text.split(","):
        sides = eq.split("=")
        if len(sides) != 2:
            raise ValueError(f"each constraint needs exactly one '=': {eq.strip()!r}")
        row, const = np.zeros(len(names)), 0.0
        for side, sign in ((sides[0], 1.0), (sides[1], -1.0)):
            for coef, term in _terms(side, names, order):
                if term is None:
                    const -= sign * coef
                else:
                    row[term] += sign * coef
        rows.append(row)
        rhs.append(const)
    return np.array(rows), np.array(rhs)


def _terms(side: str, names: list[str], order: list[int]) -> list[tuple[float, int | None]]:
    """``[(coefficient, term index or None for a constant), ...]`` of one side of an equation."""
    s = side.strip()
    pos, sign, out = 0, 1.0, []
    while pos < len(s):
        ch = s[pos]
        if ch.isspace():
            pos += 1
            continue
        if ch in "+-":
            sign = -1.0 if ch == "-" else 1.0
            pos += 1
            continue
        coef = 1.0
        m = _NUMBER.match(s, pos)
        if m:
            coef = float(m.group(1))
            pos = m.end()
            if pos < len(s) and s[pos] == "*":
                pos += 1
            else:
                out.append((sign * coef, None))
                sign = 1.0
                continue
        while pos < len(s) and s[pos].isspace():
            pos += 1
        for i in order:
            if s.startswith(names[i], pos):
                out.append((sign * coef, i))
                pos += len(names[i])
                break
        else:
            raise ValueError(f"unknown term at {s[pos:]!r}; known terms: {', '.join(names)}")
        sign = 1.0
    return out


def lr_test(restricted: Any, full: Any) -> ChiSquareTest:
    """Likelihood-ratio test of a restricted model nested in a full one (both fitted on the same rows).

    ``restricted`` may instead name terms of ``full`` (``"C(rank)"`` or a list of
    names): the restricted model is ``full`` refitted without them
    (:func:`logitfit.inference.anova.lr_test_terms`).

    ``LR = 2 (llf_full - llf_restricted)`` on ``k_full - k_restricted`` degrees
    of freedom. For Firth fits the penalised log-likelihoods are compared.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> from logitfit import LogisticRegression, lr_test
    >>> full = LogisticRegression().fit(X, y)
    >>> restricted = LogisticRegression().fit(X[:, :1], y)
    >>> test = lr_test(restricted, full)
    >>> test.df, round(test.statistic, 2), test.pvalue < 1e-10
    (1, 103.58, True)
    """
    if isinstance(restricted, (str, list, tuple)):
        return full._term_lr_test(restricted)
    a, b = restricted._inference(), full._inference()
    from logitfit.inference.weights import likelihood_figure

    likelihood_figure(b, "a likelihood-ratio test")  # probability weights: a pseudo-likelihood
    if abs(a.nobs - b.nobs) > 1e-9 * max(1.0, b.nobs):
        raise ValueError(f"the models were fitted on different data ({a.nobs} vs {b.nobs} observations)")
    df = b.k_params - a.k_params
    if df <= 0:
        raise ValueError(f"the full model must have more parameters than the restricted one ({b.k_params} <= {a.k_params})")
    if a.firth != b.firth:
        raise ValueError("compare two Firth fits or two maximum-likelihood fits, not one of each")
    if a.firth:
        la, lb = penalised_llf(a.obj, a.x), penalised_llf(b.obj, b.x)
    else:
        la, lb = a.llf, b.llf
    stat = max(0.0, 2.0 * (lb - la))
    return ChiSquareTest.of("LR", stat, df)
