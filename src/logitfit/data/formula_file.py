"""A formula encoder's state as plain JSON data, and the frame that rebuilds it.

A model fitted from a formula encodes new data with a
:class:`logitfit.data.formula.FormulaEncoder`, which wraps a formulaic
``ModelSpec``. A model file holds no code and no pickle, so it stores only
what rebuilds that encoder:

* the right-hand side of the formula (and the target name);
* for every variable the formula reads: its type (``string``, ``bool``,
  ``int``, ``float``) and, for a categorical variable, its training levels in
  coding order;
* the state of stateful transforms (``center``, ``scale``, ``poly``, ...),
  as tagged JSON (numbers exact, integer dict keys and arrays kept).

Loading checks the formula with :mod:`logitfit.data.formula_reader`, builds a
small synthetic frame holding every training level (:func:`synthetic_frame`),
lets formulaic parse the formula on it (same terms, same treatment coding,
same column names), then replaces the transform state with the stored one.
The rebuilt design columns are checked against the stored feature names; the
design matrix they give on any data is then bit-identical to the training
encoder's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["SYNTHETIC_ROWS", "TYPES", "decode_state", "encode_state", "level_sort_key",
           "plain_value", "synthetic_frame", "variable_types"]

#: Rows of the synthetic frame formulaic parses the formula on at load time
#: (at least the largest number of levels); enough distinct numbers that
#: data-dependent transforms (poly, splines) can be set up before their
#: stored state replaces what they computed.
SYNTHETIC_ROWS = 16

#: Variable types a model file may declare.
TYPES = ("string", "bool", "int", "float")


def level_sort_key(v: Any) -> tuple[str, Any]:
    """Sort key for levels of any plain type (by type name, then value)."""
    return (type(v).__name__, v)


def plain_value(v: Any) -> Any:
    """A level as a plain JSON value (numpy scalars unwrapped; non-finite floats refused)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError("a non-finite categorical level cannot be saved")
    return v


def synthetic_frame(variables: dict[str, dict[str, Any]]) -> Any:
    """Every training level of every variable, numbers elsewhere: what formulaic parses on at load."""
    import pandas as pd

    n = max([SYNTHETIC_ROWS] + [len(v["levels"] or ()) for v in variables.values()])
    cols = {}
    for var, v in variables.items():
        levels, typ = v["levels"], v["type"]
        if levels:
            vals = [levels[i % len(levels)] for i in range(n)]
            dtype = {"string": object, "bool": bool, "int": np.int64, "float": np.float64}[typ]
            # strings as a categorical in the stored (coding) order: formulaic codes them so
            cols[var] = pd.Series(vals, dtype=dtype) if typ != "string" else \
                pd.Series(pd.Categorical([str(x) for x in vals], categories=[str(x) for x in levels]))
        elif typ == "bool":
            cols[var] = pd.Series(np.arange(n) % 2 == 0)
        elif typ == "string":
            raise ValueError(f"encoding.variables[{var!r}]: a string variable needs its levels")
        else:
            cols[var] = pd.Series(np.linspace(1.0, 2.0, n))
    return pd.DataFrame(cols)


def encode_state(v: Any) -> Any:
    """Transform state to tagged JSON: exact floats, typed dict keys, arrays with dtype."""
    if isinstance(v, dict):
        return {"dict": [[encode_state(k), encode_state(x)] for k, x in v.items()]}
    if isinstance(v, (list, tuple)):
        return {"list" if isinstance(v, list) else "tuple": [encode_state(x) for x in v]}
    if isinstance(v, np.ndarray):
        if v.dtype.kind not in "biuf":
            raise TypeError(f"a transform state array of dtype {v.dtype} cannot be saved")
        return {"ndarray": [encode_state(x) for x in v.ravel().tolist()], "dtype": v.dtype.str,
                "shape": list(v.shape)}
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return v if math.isfinite(v) else {"float": repr(v)}
    if v is None or isinstance(v, (bool, int, str)):
        return v
    raise TypeError(f"a formula transform state holds a {type(v).__name__}, which a model file "
                    "cannot store; use plain terms, C(), center/scale/poly or numpy functions")


def decode_state(v: Any) -> Any:
    if isinstance(v, dict):
        if "dict" in v:
            return {decode_state(k): decode_state(x) for k, x in v["dict"]}
        if "list" in v:
            return [decode_state(x) for x in v["list"]]
        if "tuple" in v:
            return tuple(decode_state(x) for x in v["tuple"])
        if "ndarray" in v:
            dtype = np.dtype(v["dtype"]) if isinstance(v["dtype"], str) else None
            if dtype is None or dtype.kind not in "biuf":
                raise ValueError("encoding.transform_state holds an array of a refused dtype")
            return np.array([decode_state(x) for x in v["ndarray"]], dtype=dtype).reshape(v["shape"])
        if "float" in v:
            return float(v["float"])
        raise ValueError(f"encoding.transform_state holds an unknown entry {v!r}")
    if isinstance(v, list):
        raise ValueError("encoding.transform_state holds an untagged list")
    return v


def variable_types(frame: Any, names: list[str]) -> dict[str, str]:
    """The type (one of :data:`TYPES`) of each column ``names`` of a pandas frame."""
    import pandas as pd

    out = {}
    for var in names:
        dtype = frame[var].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            dtype = dtype.categories.dtype
        kind = getattr(dtype, "kind", "O")
        out[var] = "bool" if kind == "b" else "int" if kind in "iu" else \
            "float" if kind == "f" else "string"
    return out
