"""Term-wise tests: one Wald or likelihood-ratio chi-square per term, type II or III (``car::Anova``).

A *term* is a group of design columns that enter together: a numeric
variable (one column), a factor (its treatment-coded levels), an
interaction (``gpa:C(rank)``, the products of its parts). The encoders say
which columns belong to which term and of which factors a term is made
(``terms()`` of :class:`~logitfit.data.formula.FormulaEncoder` and
:class:`~logitfit.data.columns.ColumnEncoder`); a fit on a bare array has one
term per column. The intercept is never tested. For a multinomial model a
term's parameters are its columns' contrasts in every class against the
reference class, so it has ``(K - 1) x columns`` degrees of freedom.

Containment (the marginality rule): term ``A`` is contained in term ``B``
when ``B``'s factors include all of ``A``'s and more (``C(rank)`` and ``gpa``
are contained in ``gpa:C(rank)``; ``np.log(gpa)`` is a factor of its own,
not ``gpa``). ``relatives(T)`` are the terms that contain ``T``.

* Type III: every term against the full model. Wald: the joint test
  ``W_T = b_T^T V_TT^{-1} b_T`` of its coefficients. LR: ``2 (l_full -
  l_{full without T})``, the reduced model refitted.
* Type II: ``T`` against the model of all terms that do not contain it. LR:
  ``2 (l_{-rel(T)} - l_{-rel(T)-T})`` (both models without ``T``'s relatives).
  Wald, as ``car::Anova``: the test of ``T``'s coefficients in the directions
  V-orthogonal to its relatives', which equals ``W_{T+rel(T)} - W_{rel(T)}``
  (the Wald statistic of a set of rows splits additively over V-orthogonal
  parts). A term no other term contains gets the same test in both types, so
  a main-effects-only model has type II = type III.

With treatment coding, a type III test of a main effect in a model with its
interaction tests that effect at the reference level of the other factor (as
in R with ``contr.treatment``); type II is usually the test meant.

Reduced models are fitted by damped Newton on the fit's own objective with the
dropped coefficients held at zero (the same rows, weights and class weights,
wherever the rows live: memory, files or Dask), to a gradient of
``1e-10 max(1, |l|)``. LR tests need an unpenalised maximum-likelihood fit;
Wald tests take any covariance the fit gives (``cov_type``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from logitfit.inference.hypothesis_tests import ChiSquareTest
from logitfit.inference.profile import profile_tol
from logitfit.solvers.base import SolverOptions
from logitfit.solvers.newton import NewtonStep, damped_newton

__all__ = ["Term", "anova", "as_table", "lr_test_terms", "model_terms", "relatives",
           "term_hypothesis"]

#: Newton iterations allowed for one reduced fit (started from the full fit, it needs a few).
REDUCED_STEP = NewtonStep(name="reduced", max_iter=200, max_step=5.0)


@dataclass(frozen=True)
class Term:
    """A model term: its name, its design columns and the factors it is made of."""

    name: str
    columns: tuple[int, ...]
    factors: frozenset[str]


def model_terms(inf: Any) -> list[Term]:
    """The terms of a fit (intercept excluded), from its encoder, else one per design column."""
    encoder = inf.model.encoder
    if encoder is not None and hasattr(encoder, "terms") and getattr(encoder, "kind", "") != "libsvm":
        return [Term(name, tuple(cols), frozenset(f)) for name, cols, f in encoder.terms()]
    p = inf.model.n_features
    return [Term(name, (j,), frozenset([name])) for j, name in enumerate(inf.term_names[:p])]


def relatives(term: Term, terms: list[Term]) -> list[Term]:
    """The terms that contain ``term``: their factors are a proper superset of its factors."""
    return [t for t in terms if term.factors < t.factors]


def find_terms(terms: list[Term], names: Any) -> list[Term]:
    """The terms named by a string or a list of strings; ``ValueError`` listing the known ones."""
    names = [names] if isinstance(names, str) else list(names)
    by_name = {t.name: t for t in terms}
    unknown = [n for n in names if n not in by_name]
    if unknown or not names:
        raise ValueError(f"unknown term {unknown[0]!r}; the model's terms are "
                         f"{', '.join(by_name)}" if unknown else "name at least one term")
    return [by_name[n] for n in names]


def _theta_index(inf: Any, columns: Any) -> np.ndarray:
    """Indices in ``theta`` of design columns ``columns`` (every contrast of a multinomial fit)."""
    cols = np.asarray(sorted(set(columns)), dtype=np.intp)
    q = len(inf.term_names)
    return np.concatenate([m * q + cols for m in range(len(inf.others))]) if cols.size else cols


def term_hypothesis(inf: Any, names: Any) -> np.ndarray:
    """``R`` of the hypothesis "every coefficient of the named terms is 0" (rows of the identity)."""
    chosen = find_terms(model_terms(inf), names)
    idx = _theta_index(inf, [j for t in chosen for j in t.columns])
    return np.eye(inf.k_params)[idx]


def _wald(params: np.ndarray, V: np.ndarray, idx: np.ndarray) -> float:
    """``b_I^T V_II^{-1} b_I`` (0 for an empty set)."""
    if idx.size == 0:
        return 0.0
    b = params[idx]
    return float(b @ np.linalg.solve(V[np.ix_(idx, idx)], b))


class _Reduced:
    """Log-likelihoods of the fit with sets of design columns dropped, each fitted once."""

    def __init__(self, inf: Any) -> None:
        obj = getattr(inf, "obj", None)
        if getattr(obj, "blocks", None) is None:
            raise ValueError("likelihood-ratio tests refit the model without each term and need "
                             "its training rows: pass the data (X, y), or use test='Wald'")
        if inf.firth or inf.penalised:
            raise ValueError("likelihood-ratio term tests are given for unpenalised maximum-"
                             "likelihood fits only (refit with penalty=None), or use test='Wald'")
        self.inf, self.obj = inf, obj
        x = np.array(inf.x, dtype=np.float64)
        if obj.multinomial:  # reference parameterisation: the reference class's column held at 0
            B = x.reshape(obj.n_dof, obj.n_classes)
            x = (B - B[:, [inf.ref]]).ravel()
        self.x0 = x
        self.tol = profile_tol(inf.llf)
        self.fits: dict[frozenset[int], float] = {}

    def llf(self, dropped: frozenset[int]) -> float:
        if dropped not in self.fits:
            self.fits[dropped] = self._fit(dropped)
        return self.fits[dropped]

    def _fit(self, dropped: frozenset[int]) -> float:
        obj, S = self.obj, self.inf.S
        fixed = np.zeros(obj.n_params, dtype=bool)
        if obj.multinomial:
            K = obj.n_classes
            fixed.reshape(obj.n_dof, K)[:, self.inf.ref] = True
            fixed.reshape(obj.n_dof, K)[sorted(dropped), :] = True
        else:
            fixed[sorted(dropped)] = True
        free = ~fixed
        x = np.where(fixed, 0.0, self.x0)
        if not free.any():  # nothing left to fit (no intercept, every term dropped)
            return -S * float(obj.value(x))

        def embed(v: np.ndarray) -> np.ndarray:
            out = x.copy()
            out[free] = v
            return out

        def fgh(v: np.ndarray):
            f, g, H = obj.value_grad_hess(embed(v))
            return S * f, S * g[free], S * H[np.ix_(free, free)]

        res = damped_newton(fgh, x[free], SolverOptions(tol=self.tol), REDUCED_STEP)
        if not res.converged:
            raise ValueError(f"the model without design columns {sorted(dropped)} did not converge "
                             f"({res.message}); its likelihood-ratio test is not available")
        return -float(res.fun)


def anova(inf: Any, type: int = 2, test: str = "LR", cov_type: str = "nonrobust",
          groups: Any = None) -> list[dict[str, Any]]:
    """One row per term: ``{"term", "df", "statistic", "p_value"}`` (see the module docstring).

    Parameters
    ----------
    inf : logitfit.inference.results.Inference
    type : {2, 3}
    test : {"LR", "Wald"}
    cov_type, groups : the Wald test's covariance, as ``Inference.cov_params``.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, 0.0] + rng.logistic(size=200) > 0).astype(int)
    >>> rows = anova(LogisticRegression().fit(X, y)._inference(), type=3, test="Wald")
    >>> [(r["term"], r["df"], r["p_value"] < 0.05) for r in rows]
    [('x0', 1, True), ('x1', 1, False)]
    """
    if type not in (2, 3):
        raise ValueError(f"type must be 2 or 3, got {type!r}")
    if test not in ("LR", "Wald"):
        raise ValueError(f"test must be 'LR' or 'Wald', got {test!r}")
    if test == "LR" and (cov_type != "nonrobust" or groups is not None):
        raise ValueError("cov_type and groups choose the Wald test's covariance; the LR test has none")
    terms = model_terms(inf)
    rows = []
    if test == "Wald":
        V = np.asarray(inf.cov_params(cov_type, groups), dtype=np.float64)
        params = np.asarray(inf.params, dtype=np.float64)
    else:
        reduced = _Reduced(inf)
    for term in terms:
        rel = [j for t in relatives(term, terms) for j in t.columns] if type == 2 else []
        df = len(_theta_index(inf, term.columns))
        if test == "Wald":
            stat = _wald(params, V, _theta_index(inf, [*rel, *term.columns])) \
                - _wald(params, V, _theta_index(inf, rel))
        else:
            stat = 2.0 * (reduced.llf(frozenset(rel)) - reduced.llf(frozenset([*rel, *term.columns])))
        t = ChiSquareTest.of(test, max(0.0, stat), df)
        rows.append({"term": term.name, "df": t.df, "statistic": t.statistic, "p_value": t.pvalue})
    return rows


def lr_test_terms(inf: Any, names: Any) -> ChiSquareTest:
    """LR test of dropping the named terms together from the full model (refitted without them)."""
    chosen = find_terms(model_terms(inf), names)
    cols = frozenset(j for t in chosen for j in t.columns)
    reduced = _Reduced(inf)
    stat = 2.0 * (reduced.llf(frozenset()) - reduced.llf(cols))
    return ChiSquareTest.of("LR", max(0.0, stat), len(_theta_index(inf, cols)))


class TermTable:
    """Rows of a term or contrast table with a plain-text layout (when pandas is not installed).

    Examples
    --------
    >>> print(TermTable([{"term": "x0", "df": 1}], "Tests"))
    Tests
    term  df
      x0   1
    """

    def __init__(self, rows: list[dict[str, Any]], title: str = "") -> None:
        self.rows = rows
        self.title = title

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        if not self.rows:
            return self.title
        cols = list(self.rows[0])
        cells = [[_cell(r[c]) for c in cols] for r in self.rows]
        width = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
        lines = ["  ".join(c.rjust(w) for c, w in zip(cols, width, strict=True))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(row, width, strict=True)) for row in cells]
        return "\n".join(([self.title] if self.title else []) + lines)

    __repr__ = __str__


def _cell(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, (float, np.floating)) else str(v)


def as_table(rows: list[dict[str, Any]], title: str, index: str | None = None) -> Any:
    """A pandas DataFrame of ``rows`` (``attrs["title"]`` = ``title``), or a :class:`TermTable`.

    Examples
    --------
    >>> table = as_table([{"term": "x0", "df": 1}], "Tests", index="term")
    >>> list(table.columns), table.attrs["title"]
    (['df'], 'Tests')
    """
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is present wherever the tests run
        return TermTable(rows, title)
    frame = pd.DataFrame(rows)
    if index is not None:
        frame = frame.set_index(index)
    frame.attrs["title"] = title
    return frame
