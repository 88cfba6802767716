"""Formulas: ``"admit ~ gre + gpa + C(rank)"`` to a design matrix, and back from a model file.

:class:`FormulaEncoder` wraps a formulaic ``ModelSpec``: it is built once on
the training data and replays the same encoding on new data (pandas, polars
or pyarrow tables), so a model fitted with
:meth:`LogisticRegression.from_formula` or ``logitfit fit --formula``
predicts from raw tables. It is one of the two implementations of
:class:`logitfit.data.encoding.TableEncoder`.

* String, categorical and boolean columns are treatment coded: one 0/1 column
  per level except the first (sorted, or the categorical's declared order),
  named ``column[T.level]`` for a bare ``column`` and ``C(column)[T.level]``
  for ``C(column)``, as patsy, formulaic and statsmodels name them.
* The intercept of the formula (present unless ``- 1`` or ``0 +``) becomes
  the model's ``fit_intercept``; the design matrix never holds a column of ones.
* A missing value, a level not seen in training, or a non-finite design value
  is a :class:`~logitfit.exceptions.DataError` naming the row and column.
* ``offset(expr)`` (``y ~ x + offset(log(n))``) is a known term of the linear
  predictor, not a design column: formulaic never sees it; :meth:`FormulaEncoder.offset`
  computes it from a table through the restricted reader
  (:func:`~logitfit.data.formula_reader.evaluate_offset`).
* ``to_dict`` / ``from_dict`` store and rebuild the encoder as plain data
  (:mod:`logitfit.data.formula_file`); a stored formula passes the restricted
  reader (:mod:`logitfit.data.formula_reader`) before formulaic sees it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from logitfit._memory import check_memory, dense_bytes
from logitfit.data.formula_file import (
    TYPES,
    decode_state,
    encode_state,
    level_sort_key,
    plain_value,
    synthetic_frame,
    variable_types,
)
from logitfit.data.formula_reader import (
    FormulaRefused,
    check_formula,
    check_offset_expression,
    evaluate_offset,
    split_offset,
)
from logitfit.data.validation import as_arrow, check_no_missing, level_codes
from logitfit.exceptions import DataError

__all__ = ["FormulaEncoder"]


class FormulaEncoder:
    """The right-hand side of a formula, fitted on training data and replayed on new data.

    Parameters
    ----------
    rhs : str
        The right-hand side, e.g. ``"gre + gpa + C(rank)"``.
    data : pandas.DataFrame (or a pyarrow / polars table)
        Training data: the formula's variables, no missing values.
    target : str, optional
        The left-hand-side column, when a full formula was given.

    Attributes
    ----------
    kind : "formula"
    rhs, target : str, str or None
    has_intercept : bool
    feature_names : list of str
        Design column names (no intercept column).
    variables : dict
        Variable name -> {"type": one of string/bool/int/float, "levels": training
        levels in coding order, or None for a numeric variable}.
    """

    kind = "formula"

    def __init__(self, rhs: str, data: Any, target: str | None = None) -> None:
        import formulaic

        frame = data if hasattr(data, "iloc") else as_arrow(data).to_pandas()
        try:
            design_rhs, self.offset_expr = split_offset(rhs)
            offset_vars = set() if self.offset_expr is None else \
                check_offset_expression(self.offset_expr, frozenset(map(str, frame.columns)))
        except FormulaRefused as err:
            raise ValueError(str(err)) from None
        self._offset_vars = offset_vars
        mm = _quiet(lambda: formulaic.model_matrix(design_rhs, frame, na_action="raise"))
        self.rhs = rhs
        self.target = target
        self.spec = mm.model_spec
        names = list(mm.columns)
        self.has_intercept = "Intercept" in names
        self.feature_names = [n for n in names if n != "Intercept"]
        used = sorted(v for v in set(self.spec.required_variables) | offset_vars if v in frame.columns)
        types = variable_types(frame, used)
        self.variables: dict[str, dict[str, Any]] = {}
        for var in used:
            col = frame[var]
            levels = None
            if getattr(col.dtype, "kind", "O") not in "iuf" or self._is_c_term(var):
                categories = getattr(col.dtype, "categories", None)
                levels = list(categories) if categories is not None else \
                    sorted(col.dropna().unique().tolist(), key=level_sort_key)
            self.variables[var] = {"type": types[var], "levels": levels}

    def _is_c_term(self, var: str) -> bool:
        return any(f"C({var}" in str(key) for key in self.spec.encoder_state)

    @classmethod
    def from_formula(cls, formula: str, data: Any) -> tuple[FormulaEncoder, np.ndarray, np.ndarray]:
        """Parse ``"y ~ terms"`` on a DataFrame; return (encoder, design matrix, y)."""
        if "~" not in formula:
            raise ValueError(f"a model formula needs '~' (target ~ terms); got {formula!r}")
        lhs, rhs = (s.strip() for s in formula.split("~", 1))
        name = lhs.strip("` ")
        if name not in data.columns:
            raise ValueError(f"the target {lhs!r} of the formula is not a column of the data")
        missing = data[name].isna().to_numpy()
        if missing.any():
            raise ValueError(f"the target column {name!r} has missing values, first at row "
                             f"{int(np.flatnonzero(missing)[0])}")
        enc = cls(rhs, data, target=name)
        return enc, enc.transform(data), data[name].to_numpy()

    # -- the encoder protocol ---------------------------------------------------

    @property
    def formula(self) -> str:
        """The whole formula, ``target ~ rhs`` (or the right-hand side alone)."""
        return f"{self.target} ~ {self.rhs}" if self.target else self.rhs

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @property
    def offset_name(self) -> str | None:
        """The formula's offset term, ``"offset(log(n))"``, or None without one."""
        return None if self.offset_expr is None else f"offset({self.offset_expr})"

    def offset(self, data: Any, *, path: str = "<data>", row_offset: int = 0) -> np.ndarray | None:
        """The offset term's values on a table, float64 of shape (n,); None without one.

        A missing or non-numeric column, or a non-finite value (``log(0)``), is a
        :class:`DataError` naming the row and the term.
        """
        if self.offset_expr is None:
            return None
        if not (hasattr(data, "schema") or hasattr(data, "columns")):
            raise ValueError(f"this model's formula has {self.offset_name}: predict from a table "
                             f"with the columns {sorted(self._offset_vars)}")
        arrow = as_arrow(data, sorted(self._offset_vars))
        name = self.offset_name

        def column(var: str) -> np.ndarray:
            if var not in arrow.schema.names:
                raise DataError(path, f"missing column (the formula's {name} uses it)", column=var)
            col = arrow.column(var)
            check_no_missing(col, path, var, row_offset, f"a column {name} uses")
            try:
                return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
            except (TypeError, ValueError):
                raise DataError(path, f"{name} needs numbers here", column=var) from None

        out = np.broadcast_to(np.asarray(evaluate_offset(self.offset_expr, column), dtype=np.float64),
                              (arrow.num_rows,))
        bad = np.flatnonzero(~np.isfinite(out))
        if bad.size:
            raise DataError(path, f"the offset term gives {float(out[bad[0]])!r} here; an offset must be a "
                            "finite number", row=row_offset + int(bad[0]) + 1, column=name)
        return np.ascontiguousarray(out)

    @property
    def input_columns(self) -> list[str]:
        return list(self.variables)

    def terms(self) -> list[tuple[str, list[int], frozenset[str]]]:
        """``(term, design column indices, its factors)`` for each term but the intercept, in
        formula order: ``C(g):x`` has the factors ``{"C(g)", "x"}`` (term-wise tests use them)."""
        index = {name: j for j, name in enumerate(self.feature_names)}
        out = []
        for part in self.spec.structure:
            cols = [index[c] for c in part.columns if c in index]
            if cols:
                out.append((str(part.term), cols, frozenset(str(f) for f in part.term.factors)))
        return out

    def column_types(self) -> dict[str, Any]:
        """pyarrow types to read the variables with: categorical ones exactly as trained."""
        import pyarrow as pa

        out = {}
        for var, v in self.variables.items():
            typ = v["type"]
            if typ == "int" and v["levels"] is None:
                typ = "float"  # a numeric variable: any number will do
            out[var] = {"string": pa.string(), "bool": pa.bool_(), "int": pa.int64(),
                        "float": pa.float64()}[typ]
        return out

    def transform(self, data: Any, *, path: str = "<data>", row_offset: int = 0) -> np.ndarray:
        """The float64 design matrix of a table (see ``TableEncoder.transform``).

        Besides a missing column or value and an unseen level, a non-finite
        design value (``np.log(0)``, an infinite input) is a :class:`DataError`
        naming the row and the design column.
        """
        if not (hasattr(data, "schema") or hasattr(data, "columns")):
            raise ValueError("this model was fitted from a formula or a table: predict from a "
                             f"table (pandas, polars, pyarrow) with the columns {self.input_columns}")
        arrow = as_arrow(data, self.input_columns)
        check_memory(dense_bytes(arrow.num_rows, self.n_features), "the design matrix", path=path)
        for var, v in self.variables.items():
            if var not in arrow.schema.names:
                raise DataError(path, "missing column (the model's formula uses it)", column=var)
            col = arrow.column(var)
            check_no_missing(col, path, var, row_offset, "a column the formula uses")
            if v["levels"] is not None:
                level_codes(col, v["levels"], path, var, row_offset)
        frame = data[self.input_columns] if hasattr(data, "iloc") else \
            arrow.select(self.input_columns).to_pandas()
        mm = _quiet(lambda: self.spec.get_model_matrix(frame, na_action="raise"), path)
        design = np.ascontiguousarray(mm[self.feature_names].to_numpy(dtype=np.float64))
        with np.errstate(invalid="ignore", over="ignore"):
            finite = np.isfinite(design.sum())
        if not finite and not np.isfinite(design).all():
            i, j = (int(k[0]) for k in np.nonzero(~np.isfinite(design)))
            raise DataError(path, f"the formula term gives {design[i, j]!r} here; logistic "
                            "regression needs finite numbers", row=row_offset + i + 1,
                            column=self.feature_names[j])
        return design

    # -- model files ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (see :mod:`logitfit.data.formula_file`).

        Raises ``ValueError`` for a formula that a model file could not load
        back (see :mod:`logitfit.data.formula_reader`).
        """
        try:
            check_formula(self.rhs, frozenset(self.variables))
        except FormulaRefused as err:
            raise ValueError(f"this formula cannot be saved in a model file: {err}") from None
        return {
            "kind": "formula",
            "rhs": self.rhs,
            "target": self.target,
            "has_intercept": bool(self.has_intercept),
            "n_features": self.n_features,
            "feature_names": list(self.feature_names),
            "variables": {k: {"type": v["type"], "levels": [plain_value(x) for x in v["levels"]]
                              if v["levels"] is not None else None}
                          for k, v in self.variables.items()},
            "transform_state": encode_state(dict(self.spec.transform_state)),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FormulaEncoder:
        """Rebuild the encoder from :meth:`to_dict`; ``ValueError`` when it cannot be.

        The stored formula passes :func:`~logitfit.data.formula_reader.check_formula`
        before formulaic sees it: loading never evaluates text from the file.
        """
        if not isinstance(d, dict) or d.get("kind") != "formula":
            raise ValueError("encoding.kind must be 'formula'")
        rhs, target = d.get("rhs"), d.get("target")
        variables, names = d.get("variables"), d.get("feature_names")
        if not isinstance(rhs, str) or not isinstance(target, (str, type(None))):
            raise ValueError("encoding.rhs must be a string, encoding.target a string or null")
        if not isinstance(variables, dict) or not isinstance(names, list):
            raise ValueError("encoding.variables must be an object, feature_names a list")
        for var, v in variables.items():
            if (not isinstance(v, dict) or v.get("type") not in TYPES
                    or not isinstance(v.get("levels"), (list, type(None)))):
                raise ValueError(f"encoding.variables[{var!r}] is malformed")
            if v["levels"] is not None and len(v["levels"]) > len(names) + 1:
                # treatment coding gives every level but one a column of its own
                raise ValueError(f"encoding.variables[{var!r}] lists {len(v['levels'])} levels "
                                 f"for a model of {len(names)} columns")
            if v["levels"] is not None and not all(
                    isinstance(x, (str, int, float, bool)) for x in v["levels"]):
                raise ValueError(f"encoding.variables[{var!r}].levels must hold plain values")
        # the text comes from a file: only the restricted grammar reaches formulaic
        try:
            check_formula(rhs, frozenset(variables))
        except FormulaRefused as err:
            raise ValueError(f"encoding.rhs refused: {err}") from None
        frame = synthetic_frame(variables)
        enc = cls(rhs, frame, target=target)
        state = decode_state(d.get("transform_state", {}))
        built = dict(enc.spec.transform_state)
        if not isinstance(state, dict) or set(state) != set(built) or not all(
                isinstance(v, dict) and set(v) == set(built[k]) for k, v in state.items()):
            raise ValueError("encoding.transform_state does not match the formula's transforms")
        if state:
            enc.spec = enc.spec.update(transform_state=state)
            try:  # a state of the right shape with wrong contents fails here, not at predict
                enc.transform(frame)
            except (ValueError, TypeError, KeyError, IndexError, DataError) as err:
                raise ValueError(f"encoding.transform_state cannot be used: {err}") from None
        if list(enc.feature_names) != names or bool(enc.has_intercept) != d.get("has_intercept"):
            raise ValueError(f"the formula {rhs!r} rebuilds the columns {enc.feature_names}, "
                             f"the file lists {names}")
        if sorted(set(enc.spec.required_variables) | enc._offset_vars) != sorted(variables):
            raise ValueError("encoding.variables do not match the formula's variables")
        enc.variables = {k: {"type": v["type"], "levels": v["levels"]} for k, v in variables.items()}
        return enc


def _quiet(fn, path: str = "<data>"):
    """Run formulaic, turning its data-mismatch warning (unseen levels become zeros) into an error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn()
        except DataError:
            raise
        except Exception as err:  # noqa: BLE001 - formulaic and the transforms raise many types
            raise DataError(path, f"could not build the design matrix: {err}") from None
    for w in caught:
        if "DataMismatch" in type(w.message).__name__ or "outside of the nominated levels" in str(w.message):
            raise DataError(path, f"unseen categorical level: {w.message}")
    return out
