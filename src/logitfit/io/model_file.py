"""Model files: a :class:`~logitfit.model.fitted.FittedModel` as versioned JSON, never executed.

A model file is one JSON object (format ``logitfit.model``, version
:data:`FORMAT_VERSION`) holding everything a fitted model needs to predict and
to be described:

* ``classes`` with their numpy dtype, ``features`` (design column names),
  ``encoding`` (how data-file columns become design columns: plain columns,
  LIBSVM, or a formula with the types and training levels of its variables and
  the state of its stateful transforms) and ``formula`` when one was used;
* ``coef`` (shape ``(1, p)`` binary or ``(K, p)``) and ``intercept``; floats
  are written with Python's ``repr`` (the shortest string that reads back to
  the same double), so a loaded model's predictions are bit-identical;
* ``params``: every constructor parameter of the estimator (``get_params``),
  as tagged JSON (arrays, typed dict keys and non-finite numbers kept; a
  callable is code and is stored as null);
* the ``fit`` record (iterations, converged, solver, objective, history),
  ``covariance`` (nonrobust, of ``theta``, see
  :meth:`FittedModel.contrasts`) and ``statistics`` (observations,
  log-likelihoods) when computed, so ``summary()`` works after loading; ``grouped``
  for grouped binomial fits (:mod:`logitfit.io.model_extras`); ``offset`` for fits
  with an offset (:mod:`logitfit.io.model_offset`);
* ``training`` metadata (data file, target, rows, held-out metrics);
* ``signature`` (optional): HMAC-SHA256 with a secret key over the canonical
  JSON of every other field but ``checksum``;
* ``checksum``: SHA-256 of the canonical JSON of everything else.

The checksum catches accidents (truncation, a flipped byte, a careless edit);
anyone can recompute it, so it does not stop tampering. A signature does:
only a holder of the key can make one that :func:`load_model` with ``key=``
accepts. Loading parses JSON and checks every field's type, shape and range;
no pickle, no code (a stored formula passes :mod:`logitfit.data.formula_reader`).
Versions 1 and 2 still load.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from logitfit._version import __version__
from logitfit.io.atomic import atomic_path, atomic_write
from logitfit.io.model_extras import grouped_field, load_grouped, load_statistics, statistics_field
from logitfit.io.model_offset import load_offset, offset_field
from logitfit.model.fitted import FieldError, FitRecord, FittedModel

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "SIGNATURE_ALGORITHM", "atomic_path",
           "atomic_write", "load_model", "read_document", "save_model", "to_document"]

FORMAT = "logitfit.model"
FORMAT_VERSION = 4
#: The version a plain model is written as; files a version-3 reader would
#: misread (an offset it would drop, grouped constants it would ignore) say 4.
PLAIN_FORMAT_VERSION = 3
SIGNATURE_ALGORITHM = "HMAC-SHA256"
#: Bounds on what a file may declare, checked before anything is allocated.
MAX_FILE_BYTES = 1 << 30
MAX_CLASSES = 100_000
MAX_TEXT = 100_000
MAX_HISTORY = 10_000_000
#: Class dtypes a file may name: bool, integers, floats, bounded unicode, object (strings).
_CLASS_DTYPE = re.compile(r"[<>|=]?(b1|[iu][1248]|f[248]|U\d{1,5}|O)")


class ModelFileError(ValueError):
    """A model file that cannot be used: missing, truncated, corrupted, edited, unsigned or too new.

    Examples
    --------
    >>> import logitfit
    >>> from logitfit import ModelFileError
    >>> with open("broken.json", "w") as f:
    ...     _ = f.write("{not json")
    >>> try:
    ...     logitfit.load("broken.json")
    ... except ModelFileError as error:
    ...     print(type(error).__name__)
    ModelFileError
    """

    def __init__(self, path: str | os.PathLike, message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


# --------------------------------------------------------------------------
# values to JSON
# --------------------------------------------------------------------------


def _float(x: float) -> float | str:
    """A double as JSON: a number (exact via repr) or a string for non-finite values."""
    x = float(x)
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _matrix(a: np.ndarray) -> list:
    return [[_float(v) for v in row] for row in np.atleast_2d(np.asarray(a, dtype=np.float64))]


def _classes(classes: np.ndarray) -> dict[str, Any]:
    classes = np.asarray(classes)
    kind = classes.dtype.kind
    if kind == "b":
        values: list = [bool(v) for v in classes]
    elif kind in "iu":
        values = [int(v) for v in classes]
    elif kind == "f":
        values = [_float(v) for v in classes]
    elif kind in "UO":
        values = [str(v) for v in classes]
        if kind == "O" and not all(isinstance(v, str) for v in classes):
            raise TypeError("classes of mixed/object type cannot be saved; use strings or numbers")
    else:
        raise TypeError(f"classes of dtype {classes.dtype} cannot be saved")
    return {"dtype": classes.dtype.str if kind != "O" else "object", "values": values}


def _jsonable(v: Any) -> Any:
    """Metadata to JSON: numpy scalars/arrays to Python, floats kept exact."""
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return _float(v)
    if v is None or isinstance(v, str):
        return v
    return str(v)


def _param(name: str, v: Any) -> Any:
    """One constructor parameter as tagged JSON (:func:`logitfit.data.formula_file.encode_state`)."""
    from logitfit.data.formula_file import encode_state

    if isinstance(v, (np.dtype, type)):
        return {"numpy_dtype": np.dtype(v).name}
    if callable(v):
        return None  # a callable is code: not stored
    try:
        return encode_state(v)
    except TypeError:
        raise TypeError(f"parameter {name}={v!r} cannot be stored in a model file") from None


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False,
                      ensure_ascii=True).encode("ascii")


def _pretty(v: Any, depth: int = 0) -> str:
    """Indented JSON with lists of scalars on one line (a coefficient row per line)."""
    pad = "  " * (depth + 1)
    if isinstance(v, dict):
        if not v:
            return "{}"
        items = [f"{pad}{json.dumps(k)}: {_pretty(x, depth + 1)}" for k, x in v.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
    if isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v):
        items = [pad + _pretty(x, depth + 1) for x in v]
        return "[\n" + ",\n".join(items) + "\n" + "  " * depth + "]"
    return json.dumps(v, allow_nan=False, ensure_ascii=False)


def _checksum(doc: dict[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "checksum"}
    return hashlib.sha256(_canonical(body)).hexdigest()


def _key_bytes(key: bytes | str) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray, memoryview)) or not bytes(key):
        raise ValueError("a signing key must be non-empty bytes (or text)")
    return bytes(key)


def _signature(doc: dict[str, Any], key: bytes | str) -> str:
    """HMAC-SHA256 of the canonical JSON of every field but ``checksum`` and ``signature``."""
    body = {k: v for k, v in doc.items() if k not in ("checksum", "signature")}
    return hmac.new(_key_bytes(key), _canonical(body), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------
# save
# --------------------------------------------------------------------------


def to_document(model: FittedModel, *, key: bytes | str | None = None,
                estimator: str = "LogisticRegression") -> dict[str, Any]:
    """The model-file document of a fitted model (see :func:`save_model`)."""
    enc = model.encoder
    fit = model.fit
    stats = model.statistics
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if offset_field(model) or grouped_field(model) else PLAIN_FORMAT_VERSION,
        "logitfit_version": __version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "estimator": estimator,
        "params": {str(k): _param(k, v) for k, v in model.params.items()},
        "classes": _classes(model.classes),
        "features": {
            "names": model.feature_names,
            "n_features": model.n_features,
            "names_from_fit": model.names_from_fit,
        },
        "encoding": enc.to_dict() if enc is not None else None,
        "formula": model.formula,
        "coef": _matrix(model.coef),
        "intercept": [_float(v) for v in model.intercept],
        "fit": {
            "n_iter": _jsonable(fit.n_iter),
            "converged": _jsonable(fit.converged),
            "history": {k: _jsonable(list(v)) for k, v in fit.history.items()},
            "solver": fit.solver,
            "objective": _jsonable(fit.objective),
        },
        "covariance": _matrix(model.covariance) if model.covariance is not None else None,
        "statistics": None if stats is None else statistics_field(stats),
        "training": _jsonable(model.metadata), **grouped_field(model), **offset_field(model),
    }
    if key is not None:
        doc["signature"] = {"algorithm": SIGNATURE_ALGORITHM, "value": _signature(doc, key)}
    doc["checksum"] = _checksum(doc)
    return doc


def save_model(model: FittedModel, path: str | os.PathLike, *, key: bytes | str | None = None,
               estimator: str = "LogisticRegression") -> None:
    """Write ``model`` to ``path`` as a model file, atomically (temp file, fsync, ``os.replace``).

    Parameters
    ----------
    model : FittedModel
    path : str or path-like
    key : bytes or str, optional
        Sign the file with HMAC-SHA256 under this secret key; :func:`load_model`
        with the same key then refuses an unsigned or changed file.
    estimator : str
        The estimator class the file rebuilds on ``logitfit.load``.
    """
    text = _pretty(to_document(model, key=key, estimator=estimator)) + "\n"
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(text)


# --------------------------------------------------------------------------
# load
# --------------------------------------------------------------------------


class _Check:
    """Field checks that raise ModelFileError naming the field."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, field: str, what: str) -> ModelFileError:
        return ModelFileError(self.path, f"field {field!r} {what} (hand-edited or corrupted file?)")

    def get(self, d: dict, key: str, types: tuple[type, ...], where: str = "") -> Any:
        field = f"{where}{key}"
        if key not in d:
            raise ModelFileError(self.path, f"field {field!r} is missing (truncated or "
                                 "hand-edited file?)")
        v = d[key]
        if isinstance(v, bool) and bool not in types:
            raise self.fail(field, f"must be {_names(types)}, not a boolean")
        if not isinstance(v, types):
            raise self.fail(field, f"must be {_names(types)}, not {type(v).__name__}")
        if isinstance(v, str) and len(v) > MAX_TEXT:
            raise self.fail(field, f"is longer than {MAX_TEXT} characters")
        return v

    def number(self, v: Any, field: str) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise self.fail(field, "must hold numbers")
        if isinstance(v, str):
            if v not in ("NaN", "Infinity", "-Infinity"):
                raise self.fail(field, f"holds a string {v[:40]!r} where a number belongs")
            return float(v.replace("Infinity", "inf"))
        try:
            return float(v)
        except OverflowError:
            raise self.fail(field, "holds a number too large for a double") from None

    def optional_number(self, d: dict, key: str, where: str) -> float | None:
        v = d.get(key)
        return None if v is None else self.number(v, where + key)

    def numbers(self, v: Any, field: str, length: int | None = None) -> np.ndarray:
        if not isinstance(v, list):
            raise self.fail(field, "must be a list of numbers")
        if length is not None and len(v) != length:
            raise self.fail(field, f"must have {length} entries, has {len(v)}")
        return np.array([self.number(x, field) for x in v], dtype=np.float64)

    def matrix(self, v: Any, field: str, shape: tuple[int, int]) -> np.ndarray:
        rows, cols = shape
        if not isinstance(v, list) or not all(isinstance(r, list) for r in v):
            raise self.fail(field, "must be a list of rows")
        if len(v) != rows:
            raise self.fail(field, f"must have {rows} rows, has {len(v)}")
        for r in v:
            if len(r) != cols:
                raise self.fail(field, f"rows must have {cols} entries, one has {len(r)}")
        return np.array([[self.number(x, field) for x in r] for r in v],
                        dtype=np.float64).reshape(rows, cols)


def _names(types: tuple[type, ...]) -> str:
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "an object", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _parse(spath: str) -> Any:
    try:
        if os.path.getsize(spath) > MAX_FILE_BYTES:
            raise ModelFileError(spath, f"is larger than {MAX_FILE_BYTES >> 20} MiB: not a "
                                 "model file logitfit wrote")
        raw = Path(spath).read_bytes()
    except FileNotFoundError:
        raise ModelFileError(spath, "no such model file") from None
    except IsADirectoryError:
        raise ModelFileError(spath, "is a directory, not a model file") from None
    except OSError as err:
        raise ModelFileError(spath, f"cannot be read: {err.strerror or err}") from None
    if not raw.strip():
        raise ModelFileError(spath, "the model file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ModelFileError(spath, f"not a logitfit model file: not UTF-8 text (byte "
                             f"{err.start}); corrupted?") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        hint = " (the file looks truncated)" if not text.rstrip().endswith("}") else \
            " (corrupted or hand-edited?)"
        raise ModelFileError(spath, f"not valid JSON at line {err.lineno}, column {err.colno}: "
                             f"{err.msg}{hint}") from None
    except ValueError as err:
        raise ModelFileError(spath, f"not valid JSON: {err}") from None
    except RecursionError:
        raise ModelFileError(spath, "not a logitfit model file: JSON nested too deeply") from None


def read_document(path: str | os.PathLike, *, verify: bool = True,
                  key: bytes | str | None = None) -> dict[str, Any]:
    """Parse a model file, check its outer structure, checksum and signature; return the JSON.

    Raises
    ------
    ModelFileError
        Missing file, invalid JSON (truncated?), not a logitfit model file, a
        newer format version, (when ``verify``) a checksum mismatch, or (with
        ``key``) an unsigned file or a signature that does not match.
    """
    spath = str(path)
    doc = _parse(spath)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(spath, f"not a logitfit model file (no \"format\": \"{FORMAT}\")")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(spath, "field 'format_version' must be a positive integer")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            spath,
            f"written by a newer logitfit ({str(doc.get('logitfit_version', '?'))[:40]}, model "
            f"format version {version}); this logitfit {__version__} reads format version "
            f"{FORMAT_VERSION} and older: upgrade logitfit to load it",
        )
    if verify:
        stored = doc.get("checksum")
        if not isinstance(stored, str):
            raise ModelFileError(spath, "field 'checksum' is missing (hand-edited file?)")
        if not hmac.compare_digest(stored, _checksum(doc)):
            raise ModelFileError(
                spath,
                "checksum mismatch: the file changed after logitfit wrote it (hand-edited or "
                "corrupted). Refit and save again, or pass verify=False to load it anyway",
            )
    if key is not None:
        _verify_signature(spath, doc, key)
    return doc


def _verify_signature(spath: str, doc: dict[str, Any], key: bytes | str) -> None:
    sig = doc.get("signature")
    if sig is None:
        raise ModelFileError(spath, "is not signed, and a key was given to verify it: refusing "
                             "an unsigned model file (save it again with the key to sign it)")
    if (not isinstance(sig, dict) or sig.get("algorithm") != SIGNATURE_ALGORITHM
            or not isinstance(sig.get("value"), str)):
        raise ModelFileError(spath, f"field 'signature' must be an {SIGNATURE_ALGORITHM} "
                             "signature (algorithm and value)")
    if not hmac.compare_digest(sig["value"], _signature(doc, key)):
        raise ModelFileError(spath, "signature does not match: the file was changed after it "
                             "was signed, or it was signed with another key; refusing it")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a model file")


def load_model(path: str | os.PathLike, *, verify: bool = True,
               key: bytes | str | None = None) -> FittedModel:
    """Read a model file and return its :class:`~logitfit.model.fitted.FittedModel`.

    Parameters
    ----------
    path : str or path-like
    verify : bool, default True
        Check the SHA-256 checksum; ``False`` accepts a deliberately edited
        file (every field is still validated; a signature is still checked).
    key : bytes or str, optional
        Require an HMAC-SHA256 signature made with this key.

    Returns
    -------
    FittedModel
        With ``source`` set to ``{"path", "format_version", "logitfit_version",
        "created_utc", "signed"}``. Its predictions are bit-identical to the
        saved model's. Needs neither scikit-learn nor pandas.

    Raises
    ------
    ModelFileError
        A missing, truncated, corrupted, hand-edited, unsigned (with ``key``)
        or newer-version file, naming the field at fault.
    """
    spath = str(path)
    doc = read_document(spath, verify=verify, key=key)
    c = _Check(spath)
    est_name = c.get(doc, "estimator", (str,))
    if est_name != "LogisticRegression":
        raise c.fail("estimator", f"names an unknown estimator {est_name[:40]!r}")
    version = doc["format_version"]
    params = _load_params(c, c.get(doc, "params", (dict,)), version)
    classes = _load_classes(c, c.get(doc, "classes", (dict,)))
    features = c.get(doc, "features", (dict,))
    n_features = c.get(features, "n_features", (int,), "features.")
    if n_features < 0:
        raise c.fail("features.n_features", "must not be negative")
    names = c.get(features, "names", (list, type(None)), "features.")
    rows = 1 if len(classes) == 2 else len(classes)
    coef = c.matrix(c.get(doc, "coef", (list,)), "coef", (rows, n_features))
    intercept = c.numbers(c.get(doc, "intercept", (list,)), "intercept", rows)
    encoder = _load_encoding(c, c.get(doc, "encoding", (dict, type(None))))
    fit = c.get(doc, "fit", (dict,))
    cov = c.get(doc, "covariance", (list, type(None)))
    stats = c.get(doc, "statistics", (dict, type(None))) if version >= 3 else None
    try:
        model = FittedModel(coef, intercept, classes, feature_names=names, encoder=encoder,
                            params=params, fit=_load_fit(c, fit), formula=c.get(
                                doc, "formula", (str, type(None))),
                            metadata=c.get(doc, "training", (dict,)),
                            names_from_fit=features.get("names_from_fit") is True,
                            statistics=load_statistics(c, stats), grouped=load_grouped(c, doc),
                            offset=load_offset(c, doc))
        if cov is not None:  # sized against the model before a number is parsed
            model.covariance = model._check_covariance(
                c.matrix(cov, "covariance", (model.n_params, model.n_params)))
    except FieldError as err:
        raise c.fail(err.field, err.what) from None
    model.source = {
        "path": spath,
        "format_version": version,
        "logitfit_version": str(doc.get("logitfit_version"))[:40],
        "created_utc": str(doc.get("created_utc"))[:40],
        "signed": "signature" in doc,
    }
    return model


def _load_params(c: _Check, params: dict, version: int) -> dict[str, Any]:
    """Constructor parameters: tagged JSON (version 3) or plain scalars and dicts (1 and 2)."""
    from logitfit.data.formula_file import decode_state

    out: dict[str, Any] = {}
    for k, v in params.items():
        field = f"params.{k}"
        if len(k) > 100 or not k.isidentifier():
            raise c.fail(field, "is not a parameter name")
        if isinstance(v, dict) and version >= 3 and set(v) == {"numpy_dtype"}:
            if v["numpy_dtype"] not in ("float32", "float64"):
                raise c.fail(field, "must name float32 or float64")
            out[k] = np.dtype(v["numpy_dtype"])
        elif version >= 3:
            try:
                out[k] = decode_state(v)
            except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError,
                    AttributeError):
                raise c.fail(field, "is not a value logitfit writes (tagged JSON)") from None
        elif isinstance(v, dict):
            if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v.values()):
                raise c.fail(field, "must map labels to numbers")
            out[k] = dict(v)
        elif v is None or isinstance(v, (bool, int, float, str)):
            out[k] = v
        else:
            raise c.fail(field, "must be a number, a string, true/false or null")
    return out


def _load_classes(c: _Check, d: dict) -> np.ndarray:
    dtype = c.get(d, "dtype", (str,), "classes.")
    values = c.get(d, "values", (list,), "classes.")
    if not 2 <= len(values) <= MAX_CLASSES:
        raise c.fail("classes.values", f"must list at least two classes (at most {MAX_CLASSES})")
    if dtype != "object" and not _CLASS_DTYPE.fullmatch(dtype):
        raise c.fail("classes.dtype", f"is not a class dtype logitfit writes: {dtype[:40]!r}")
    dt = np.dtype(dtype if dtype != "object" else "O")
    kind = dt.kind
    ok = {
        "b": lambda v: isinstance(v, bool),
        "i": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "u": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "f": lambda v: isinstance(v, (int, float, str)) and not isinstance(v, bool),
        "U": lambda v: isinstance(v, str) and len(v) <= dt.itemsize // 4,
        "O": lambda v: isinstance(v, str) and len(v) <= MAX_TEXT,
    }[kind]
    if not all(ok(v) for v in values):
        raise c.fail("classes.values", f"do not match dtype {dtype!r}")
    if kind == "f":
        values = [c.number(v, "classes.values") for v in values]
    try:
        arr = np.array(values, dtype=dt)
    except (OverflowError, ValueError):
        raise c.fail("classes.values", f"do not fit dtype {dtype!r}") from None
    if kind in "iu" and arr.tolist() != values:
        raise c.fail("classes.values", f"do not fit dtype {dtype!r}")
    if len(set(arr.tolist())) != len(arr):
        raise c.fail("classes.values", "must be distinct")
    return arr


def _load_encoding(c: _Check, encoding: dict | None) -> Any:
    if encoding is None:
        return None
    try:
        if encoding.get("kind") == "formula":
            from logitfit.data.formula import FormulaEncoder

            return FormulaEncoder.from_dict(encoding)
        from logitfit.data.columns import ColumnEncoder

        return ColumnEncoder.from_dict(encoding)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as err:
        raise ModelFileError(c.path, f"field 'encoding' is malformed: {str(err)[:300]}") from None
    except RecursionError:
        raise ModelFileError(c.path, "field 'encoding' is nested too deeply") from None


def _load_fit(c: _Check, fit: dict) -> FitRecord:
    history = fit.get("history") or {}
    if not isinstance(history, dict) or len(history) > 64:
        raise c.fail("fit.history", "must map at most 64 names to lists")
    total = sum(len(v) for v in history.values() if isinstance(v, list))
    if total > MAX_HISTORY:
        raise c.fail("fit.history", f"holds more than {MAX_HISTORY} entries")
    hist = {str(k): c.numbers(v, f"fit.history.{k}").tolist() for k, v in history.items()}
    n_iter = fit.get("n_iter")
    if n_iter is not None and (not isinstance(n_iter, int) or isinstance(n_iter, bool) or n_iter < 0):
        raise c.fail("fit.n_iter", "must be a non-negative integer or null")
    converged = fit.get("converged")
    if converged is not None and not isinstance(converged, bool):
        raise c.fail("fit.converged", "must be true, false or null")
    solver = fit.get("solver")
    if solver is not None and (not isinstance(solver, str) or len(solver) > 40):
        raise c.fail("fit.solver", "must be a solver name or null")
    return FitRecord(n_iter=n_iter, converged=converged, solver=solver,
                     objective=c.optional_number(fit, "objective", "fit."), history=hist)
