"""Formula models in a model file: plain data in, the same design matrix out.

A model fitted from a formula (``logitfit fit --formula "y ~ a + C(b)"`` or
:meth:`LogisticRegression.from_formula`) encodes new data with a
:class:`logitfit.data.formula.FormulaEncoder`, which wraps a formulaic
``ModelSpec``. A model file holds no code and no pickle, so
:class:`FormulaEncoding` stores only what rebuilds that encoder:

* the right-hand side of the formula (and the target name);
* for every variable the formula reads: its type (``string``, ``bool``,
  ``int``, ``float``) and, for a categorical variable, its training levels;
* the state of stateful transforms (``center``, ``scale``, ``poly``, ...),
  as tagged JSON (numbers exact, integer dict keys and arrays kept).

Loading builds a small synthetic frame holding every training level, lets
formulaic parse the formula on it (same terms, same treatment coding, same
column names, since categories are sorted levels), then replaces the
transform state with the stored one. The rebuilt design columns are checked
against the model's feature names; the design matrix they give on any data
is then bit-identical to the training encoder's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from logitfit.data.formula_reader import FormulaRefused, check_formula
from logitfit.exceptions import DataError

__all__ = ["FormulaEncoding"]

#: Rows of the synthetic frame formulaic parses the formula on at load time
#: (at least the largest number of levels); enough distinct numbers that
#: data-dependent transforms (poly, splines) can be set up before their
#: stored state replaces what they computed.
SYNTHETIC_ROWS = 16

_TYPES = ("string", "bool", "int", "float")


class FormulaEncoding:
    """A :class:`~logitfit.data.formula.FormulaEncoder` as JSON-able data, and back.

    Plays the part of :class:`logitfit.data.columns.Encoder` for formula models
    (``kind == "formula"``): ``input_columns``, ``column_types``,
    ``feature_names``, ``n_features``, ``transform`` (a pyarrow batch to the
    float64 design matrix) and ``to_dict`` / ``from_dict``.

    Parameters
    ----------
    encoder : logitfit.data.formula.FormulaEncoder
        The fitted encoder.
    types : dict, optional
        Variable name to one of ``string``, ``bool``, ``int``, ``float``
        (the training column types). Missing entries are taken from the
        levels' Python type, or ``float`` for numeric variables.
    """

    kind = "formula"

    def __init__(self, encoder: Any, types: dict[str, str] | None = None) -> None:
        self.encoder = encoder
        types = dict(types or {})
        self.variables: dict[str, dict[str, Any]] = {}
        for var in sorted(encoder.spec.required_variables):
            levels = encoder.levels.get(var)
            lev = sorted(levels, key=_sort_key) if levels is not None else None
            typ = types.get(var) or _type_of(lev)
            if typ not in _TYPES:
                raise ValueError(f"variable {var!r}: unknown type {typ!r}")
            self.variables[var] = {"type": typ, "levels": lev}

    # -- Encoder-like description ---------------------------------------------

    @property
    def feature_names(self) -> list[str]:
        return list(self.encoder.feature_names)

    @property
    def n_features(self) -> int:
        return len(self.encoder.feature_names)

    @property
    def input_columns(self) -> list[str]:
        return list(self.variables)

    @property
    def formula(self) -> str:
        target = self.encoder.target
        return f"{target} ~ {self.encoder.formula}" if target else self.encoder.formula

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
        """Encode a pyarrow Table/RecordBatch (or a pandas DataFrame) to the design matrix.

        Raises
        ------
        DataError
            A missing column, a missing value, or a level not seen in training
            (naming the file row and the column).
        """
        if hasattr(data, "schema"):
            self._check_arrow(data, path, row_offset)
            frame = data.select(self.input_columns).to_pandas()
        else:
            frame = data
        try:
            design = self.encoder.transform(frame)
        except ValueError as err:
            raise DataError(path, str(err)) from None
        # the layout the estimator sees for a frame (BLAS rounding depends on it): the
        # command's predictions equal ``predict_proba`` on the raw frame bit for bit
        return np.asarray(design, dtype=np.float64)

    def _check_arrow(self, data: Any, path: str, row_offset: int) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        for var, v in self.variables.items():
            if var not in data.schema.names:
                raise DataError(path, "missing column (the model's formula uses it)", column=var)
            col = data.column(var)
            if col.null_count:
                i = pc.index(pc.is_null(col), True).as_py()
                raise DataError(path, "missing value in a column the formula uses",
                                row=row_offset + i + 1, column=var)
            if v["levels"] is None:
                continue
            known = pa.array(v["levels"], type=col.type) if v["type"] != "string" else \
                pa.array(v["levels"], pa.string())
            inside = pc.is_in(col, value_set=known)
            if not pc.all(inside).as_py():
                i = pc.index(inside, False).as_py()
                shown = ", ".join(map(repr, v["levels"][:10]))
                raise DataError(path, f"level {col[i].as_py()!r} was not seen in training; "
                                f"known levels: {shown}{' ...' if len(v['levels']) > 10 else ''}",
                                row=row_offset + i + 1, column=var)

    # -- serialisation ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (see the module docstring).

        Raises ``ValueError`` for a formula that a model file could not load
        back (see :mod:`logitfit.data.formula_reader`).
        """
        spec = self.encoder.spec
        try:
            check_formula(self.encoder.formula, frozenset(self.variables))
        except FormulaRefused as err:
            raise ValueError(f"this formula cannot be saved in a model file: {err}") from None
        return {
            "kind": "formula",
            "rhs": self.encoder.formula,
            "target": self.encoder.target,
            "has_intercept": bool(self.encoder.has_intercept),
            "n_features": self.n_features,
            "feature_names": self.feature_names,
            "variables": {k: {"type": v["type"], "levels": [_scalar(x) for x in v["levels"]]
                              if v["levels"] is not None else None}
                          for k, v in self.variables.items()},
            "transform_state": _encode(dict(spec.transform_state)),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FormulaEncoding:
        """Rebuild the encoder from :meth:`to_dict`; ``ValueError`` when it cannot be."""
        from logitfit.data.formula import FormulaEncoder

        if not isinstance(d, dict) or d.get("kind") != "formula":
            raise ValueError("encoding.kind must be 'formula'")
        rhs, target = d.get("rhs"), d.get("target")
        variables, names = d.get("variables"), d.get("feature_names")
        if not isinstance(rhs, str) or not isinstance(target, (str, type(None))):
            raise ValueError("encoding.rhs must be a string, encoding.target a string or null")
        if not isinstance(variables, dict) or not isinstance(names, list):
            raise ValueError("encoding.variables must be an object, feature_names a list")
        types = {}
        for var, v in variables.items():
            if (not isinstance(v, dict) or v.get("type") not in _TYPES
                    or not isinstance(v.get("levels"), (list, type(None)))):
                raise ValueError(f"encoding.variables[{var!r}] is malformed")
            if v["levels"] is not None and len(v["levels"]) > len(names) + 1:
                # treatment coding gives every level but one a column of its own
                raise ValueError(f"encoding.variables[{var!r}] lists {len(v['levels'])} levels "
                                 f"for a model of {len(names)} columns")
            if v["levels"] is not None and not all(
                    isinstance(x, (str, int, float, bool)) for x in v["levels"]):
                raise ValueError(f"encoding.variables[{var!r}].levels must hold plain values")
            types[var] = v["type"]
        # the text comes from a file: only the restricted grammar reaches formulaic
        try:
            check_formula(rhs, frozenset(variables))
        except FormulaRefused as err:
            raise ValueError(f"encoding.rhs refused: {err}") from None
        frame = _synthetic_frame(variables)
        enc = FormulaEncoder(rhs, frame, target=target)
        state = _decode(d.get("transform_state", {}))
        if state:
            enc.spec = enc.spec.update(transform_state=state)
        if list(enc.feature_names) != names or bool(enc.has_intercept) != d.get("has_intercept"):
            raise ValueError(f"the formula {rhs!r} rebuilds the columns {enc.feature_names}, "
                             f"the file lists {names}")
        if sorted(enc.spec.required_variables) != sorted(variables):
            raise ValueError("encoding.variables do not match the formula's variables")
        return cls(enc, types)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _sort_key(v: Any) -> tuple[str, Any]:
    return (type(v).__name__, v)


def _type_of(levels: list | None) -> str:
    if not levels:
        return "float"
    v = levels[0]
    if isinstance(v, (bool, np.bool_)):
        return "bool"
    if isinstance(v, (int, np.integer)):
        return "int"
    if isinstance(v, (float, np.floating)):
        return "float"
    return "string"


def _scalar(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError("a non-finite categorical level cannot be saved")
    return v


def _synthetic_frame(variables: dict[str, dict[str, Any]]) -> Any:
    """Every training level of every variable, numbers elsewhere: what formulaic parses on."""
    import pandas as pd

    n = max([SYNTHETIC_ROWS] + [len(v["levels"] or ()) for v in variables.values()])
    cols = {}
    for var, v in variables.items():
        levels, typ = v["levels"], v["type"]
        if levels:
            vals = [levels[i % len(levels)] for i in range(n)]
            dtype = {"string": object, "bool": bool, "int": np.int64, "float": np.float64}[typ]
            cols[var] = pd.Series(vals, dtype=dtype) if typ != "string" else \
                pd.Series([str(x) for x in vals])
        elif typ == "bool":
            cols[var] = pd.Series(np.arange(n) % 2 == 0)
        elif typ == "string":
            raise ValueError(f"encoding.variables[{var!r}]: a string variable needs its levels")
        else:
            cols[var] = pd.Series(np.linspace(1.0, 2.0, n))
    return pd.DataFrame(cols)


def _encode(v: Any) -> Any:
    """Transform state to tagged JSON: exact floats, typed dict keys, arrays with dtype."""
    if isinstance(v, dict):
        return {"dict": [[_encode(k), _encode(x)] for k, x in v.items()]}
    if isinstance(v, (list, tuple)):
        return {"list" if isinstance(v, list) else "tuple": [_encode(x) for x in v]}
    if isinstance(v, np.ndarray):
        if v.dtype.kind not in "biuf":
            raise TypeError(f"a transform state array of dtype {v.dtype} cannot be saved")
        return {"ndarray": [_encode(x) for x in v.ravel().tolist()], "dtype": v.dtype.str,
                "shape": list(v.shape)}
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return v if math.isfinite(v) else {"float": repr(v)}
    if v is None or isinstance(v, (bool, int, str)):
        return v
    raise TypeError(f"a formula transform state holds a {type(v).__name__}, which a model file "
                    "cannot store; use plain terms, C(), center/scale/poly or numpy functions")


def _decode(v: Any) -> Any:
    if isinstance(v, dict):
        if "dict" in v:
            return {_decode(k): _decode(x) for k, x in v["dict"]}
        if "list" in v:
            return [_decode(x) for x in v["list"]]
        if "tuple" in v:
            return tuple(_decode(x) for x in v["tuple"])
        if "ndarray" in v:
            dtype = np.dtype(v["dtype"]) if isinstance(v["dtype"], str) else None
            if dtype is None or dtype.kind not in "biuf":
                raise ValueError("encoding.transform_state holds an array of a refused dtype")
            return np.array([_decode(x) for x in v["ndarray"]], dtype=dtype).reshape(v["shape"])
        if "float" in v:
            return float(v["float"])
        raise ValueError(f"encoding.transform_state holds an unknown entry {v!r}")
    if isinstance(v, list):
        raise ValueError("encoding.transform_state holds an untagged list")
    return v
