"""Formulas and categorical columns: ``"admit ~ gre + gpa + C(rank)"`` to a design matrix.

:class:`FormulaEncoder` wraps a formulaic ``ModelSpec``: it is built once on
the training data and replays the same encoding on new data, so a model fitted
with :meth:`LogisticRegression.from_formula` (or on a pandas DataFrame with
categorical / string columns) predicts from raw data frames.

* String, categorical and boolean columns (and ``C(x)`` terms) are treatment
  coded: one 0/1 column per level except the first (sorted) level, named
  ``column[T.level]`` as patsy, formulaic and statsmodels name them.
* The intercept of the formula (present unless ``- 1`` or ``0 +``) becomes
  the model's ``fit_intercept``; the design matrix never holds a column of ones.
* A level not seen in training is an error naming the column and the level
  (formulaic by itself would encode it as all zeros, with a warning).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["FormulaEncoder", "has_non_numeric_columns"]


def has_non_numeric_columns(X: Any) -> bool:
    """True for a pandas DataFrame with a string, object or categorical column (bools are numbers)."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(X, "iloc") or getattr(X, "ndim", 2) != 2:
        return False
    return any(getattr(dt, "kind", "O") not in "biuf" for dt in dtypes)


def _quote(name: str) -> str:
    return f"`{name}`" if not str(name).isidentifier() else str(name)


class FormulaEncoder:
    """The right-hand side of a formula, fitted on training data and replayed on new data.

    Attributes
    ----------
    formula : str
        The right-hand side as given (or generated for a DataFrame).
    target : str or None
        The left-hand-side column, when a full formula was given.
    has_intercept : bool
    feature_names : list of str
        Design column names (no intercept column).
    levels : dict
        Training levels of every categorical input column (for the unseen-level check).
    """

    def __init__(self, rhs: str, data: Any, target: str | None = None) -> None:
        import formulaic

        self.formula = rhs
        self.target = target
        mm = _quiet(lambda: formulaic.model_matrix(rhs, data, na_action="raise"))
        self.spec = mm.model_spec
        names = list(mm.columns)
        self.has_intercept = "Intercept" in names
        self.feature_names = [n for n in names if n != "Intercept"]
        self.levels: dict[str, set] = {}
        for var in sorted(self.spec.required_variables):
            if var in data.columns:
                col = data[var]
                if getattr(col.dtype, "kind", "O") not in "iuf" or self._is_c_term(var):
                    self.levels[var] = set(col.dropna().unique().tolist())

    def _is_c_term(self, var: str) -> bool:
        return any(f"C({var}" in str(key) for key in self.spec.encoder_state)

    @classmethod
    def from_formula(cls, formula: str, data: Any) -> tuple[FormulaEncoder, Any, Any]:
        """Parse ``"y ~ terms"``; return (encoder, design DataFrame, y)."""
        if "~" not in formula:
            raise ValueError(f"a model formula needs '~' (target ~ terms); got {formula!r}")
        lhs, rhs = (s.strip() for s in formula.split("~", 1))
        name = lhs.strip("` ")
        if name not in data.columns:
            raise ValueError(f"the target {lhs!r} of the formula is not a column of the data")
        if data[name].isna().any():
            raise ValueError(f"the target column {name!r} has missing values, first at row {int(np.flatnonzero(data[name].isna().to_numpy())[0])}")
        enc = cls(rhs, data, target=name)
        return enc, enc.transform(data), data[name].to_numpy()

    @classmethod
    def for_frame(cls, X: Any) -> FormulaEncoder:
        """Encoder for every column of a DataFrame: numbers as they are, other columns treatment coded."""
        terms = []
        for name, dt in X.dtypes.items():
            q = _quote(str(name))
            terms.append(q if getattr(dt, "kind", "O") in "biuf" else f"C({q})")
        return cls("1 + " + " + ".join(terms), X)

    def transform(self, data: Any) -> Any:
        """The design DataFrame (float64, named columns, no intercept) for ``data``."""
        import pandas as pd

        if not hasattr(data, "columns"):
            raise ValueError(
                "this model was fitted from a formula or a DataFrame with categorical columns: "
                f"predict from a pandas DataFrame with the columns {sorted(self.spec.required_variables)}"
            )
        missing = sorted(v for v in self.spec.required_variables if v not in data.columns)
        if missing:
            raise ValueError(f"the data lack the column(s) {missing} that the model uses")
        for var, known in self.levels.items():
            new = set(data[var].dropna().unique().tolist()) - known
            if new:
                raise ValueError(
                    f"column {var!r} has level(s) {sorted(map(str, new))} not seen in training "
                    f"(known levels: {sorted(map(str, known))}); the model has no coefficient for them"
                )
        mm = _quiet(lambda: self.spec.get_model_matrix(data, na_action="raise"))
        out = pd.DataFrame(np.asarray(mm, dtype=np.float64), columns=list(mm.columns), index=data.index)
        return out[self.feature_names]


def _quiet(fn):
    """Run formulaic, turning its data-mismatch warning (unseen levels become zeros) into an error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn()
        except Exception as err:
            raise ValueError(f"could not build the design matrix: {err}") from err
    for w in caught:
        if "DataMismatch" in type(w.message).__name__ or "outside of the nominated levels" in str(w.message):
            raise ValueError(f"unseen categorical level: {w.message}")
    return out
