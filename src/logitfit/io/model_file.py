"""Model files: versioned JSON, written atomically, read back bit-identical, never executed.

A model file is one JSON object (format ``logitfit.model``, version
:data:`FORMAT_VERSION`) holding everything a fitted
:class:`~logitfit.LogisticRegression` needs to predict and to be described:

* ``classes`` with their numpy dtype, ``features`` (design column names),
  ``encoding`` (how data-file columns become design columns, see
  :class:`logitfit.data.columns.Encoder`; for a formula model the formula, the
  types and training levels of its variables and the state of its stateful
  transforms, see :class:`logitfit.data.formula_file.FormulaEncoding`) and
  ``formula`` when one was used;
* ``coef`` (shape ``(1, p)`` binary or ``(K, p)``) and ``intercept``;
  floats are written with Python's ``repr`` (the shortest string that reads
  back to the same double, at most 17 significant digits), so a loaded
  model's coefficients, and therefore its predictions, are bit-identical;
* ``params`` (penalty, alpha, solver, ...), the ``fit`` record
  (iterations, converged, history) and ``covariance`` when it was computed;
* ``training`` metadata (data file, target, rows, held-out metrics);
* ``checksum``: SHA-256 of the canonical JSON of everything else, so a
  truncated, corrupted or hand-edited file is refused with a clear
  :class:`ModelFileError` instead of silently predicting something else.

Files are written to a temporary file in the destination directory, flushed,
fsync'ed and moved into place with :func:`os.replace`: a reader never sees a
half-written model, and a failed write leaves the old file untouched. No
pickle, no code: loading only parses JSON and checks every field.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["FORMAT", "FORMAT_VERSION", "ModelFileError", "SavedModel", "atomic_write", "load",
           "load_predictor", "save"]

FORMAT = "logitfit.model"
FORMAT_VERSION = 2
#: Files without a formula encoding are written as version 1, which older
#: readers load; version 2 added ``encoding.kind == "formula"``.
_PLAIN_VERSION = 1

#: Constructor parameters that a model file may store (JSON scalars only).
_PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "penalty": (str, type(None)),
    "alpha": (int, float),
    "l1_ratio": (int, float, type(None)),
    "fit_intercept": (bool,),
    "solver": (str,),
    "tol": (int, float),
    "max_iter": (int, type(None)),
    "class_weight": (str, dict, type(None)),
    "warm_start": (bool,),
    "random_state": (int, type(None)),
    "verbose": (int, bool),
    "learning_rate": (int, float, type(None)),
    "batch_size": (int,),
    "sgd_method": (str,),
    "n_threads": (int, type(None)),
}


class ModelFileError(ValueError):
    """A model file that cannot be used: missing, truncated, corrupted, edited or too new."""

    def __init__(self, path: str | os.PathLike, message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


# --------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success fsync and ``os.replace`` it.

    If the block raises, the temporary file is removed and ``path`` is left as
    it was (absent, or the previous version): never a partial file.

    Parameters
    ----------
    path : str or path-like
        Destination.
    mode : {"w", "wb"}
    **kwargs
        Passed to :func:`open` (e.g. ``encoding``, ``newline``).

    Yields
    ------
    file object
        Also has ``.tmp_path`` (str), for writers that need a file name.
    """
    dest = Path(path)
    directory = dest.parent if str(dest.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, _default_mode())
        with os.fdopen(fd, mode, **kwargs) as f:
            try:
                f.tmp_path = tmp  # type: ignore[attr-defined]
            except AttributeError:  # pragma: no cover - some file types refuse attributes
                pass
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Like :func:`atomic_write` for writers that open the file themselves.

    Yields a temporary path in the destination directory; after the block the
    file there is fsync'ed and moved to ``path`` (or removed on error).
    """
    dest = Path(path)
    directory = dest.parent if str(dest.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        os.chmod(tmp, _default_mode())
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _default_mode() -> int:
    """Permissions of a new file under the current umask (mkstemp would give 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every OS/file system allows it
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


# --------------------------------------------------------------------------
# encoding values
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


# --------------------------------------------------------------------------
# save
# --------------------------------------------------------------------------


def to_dict(
    model: Any,
    *,
    encoder: Any = None,
    covariance: np.ndarray | None = None,
    metadata: dict[str, Any] | None = None,
    formula: str | None = None,
) -> dict[str, Any]:
    """The model-file document of a fitted estimator (see :func:`save`)."""
    import logitfit

    if not hasattr(model, "coef_"):
        raise ValueError("the model is not fitted: call fit() before saving")
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        raise ValueError("the model has non-finite coefficients; refusing to save it")
    encoder = encoder if encoder is not None else getattr(model, "encoder_", None)
    if encoder is None and getattr(model, "formula_encoder_", None) is not None:
        from logitfit.data.formula_file import FormulaEncoding

        encoder = FormulaEncoding(model.formula_encoder_)
    is_formula = getattr(encoder, "kind", None) == "formula"
    if formula is None and is_formula:
        formula = encoder.formula
    names = getattr(model, "feature_names_in_", None)
    if names is None and encoder is not None:
        names = encoder.feature_names
    if covariance is None:
        covariance = getattr(model, "covariance_", None)
    params = {k: _jsonable(v) for k, v in model.get_params(deep=False).items()
              if k in _PARAM_TYPES}
    history = getattr(model, "history_", None) or {}
    prior = dict(getattr(model, "metadata_", None) or {})
    prior.update(metadata or {})
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION if is_formula else _PLAIN_VERSION,
        "logitfit_version": logitfit.__version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "estimator": type(model).__name__,
        "params": params,
        "classes": _classes(model.classes_),
        "features": {
            "names": [str(n) for n in names] if names is not None else None,
            "n_features": int(coef.shape[1]),
            "names_from_fit": getattr(model, "feature_names_in_", None) is not None,
        },
        "encoding": encoder.to_dict() if encoder is not None else None,
        "formula": formula if formula is not None else getattr(model, "formula_", None),
        "coef": _matrix(coef),
        "intercept": [_float(v) for v in intercept],
        "fit": {
            "n_iter": _jsonable(getattr(model, "n_iter_", None)),
            "converged": _jsonable(getattr(model, "converged_", None)),
            "history": {k: _jsonable(list(v)) for k, v in history.items()},
            "solver": _jsonable(getattr(model, "solver_", None)),
            "objective": _jsonable(getattr(model, "objective_", None)),
        },
        "covariance": _matrix(covariance) if covariance is not None else None,
        "training": _jsonable(prior),
    }
    doc["checksum"] = _checksum(doc)
    return doc


def save(
    model: Any,
    path: str | os.PathLike,
    *,
    encoder: Any = None,
    covariance: np.ndarray | None = None,
    metadata: dict[str, Any] | None = None,
    formula: str | None = None,
) -> None:
    """Write a fitted model to ``path`` as a versioned JSON model file, atomically.

    Parameters
    ----------
    model : LogisticRegression
        Fitted (has ``coef_``, ``intercept_``, ``classes_``).
    path : str or path-like
        Destination; replaced atomically (temp file, fsync, ``os.replace``).
    encoder : logitfit.data.columns.Encoder, optional
        How data-file columns become design columns; default ``model.encoder_``.
    covariance : ndarray, shape (q, q), optional
        Covariance of the parameters (coefficients then intercepts, in the
        estimator's order); default ``model.covariance_`` when present.
    metadata : dict, optional
        Training metadata (JSON-able): data file, target, metrics, ...
    formula : str, optional
        The model formula, when one was used.

    Examples
    --------
    >>> save(model, "model.json")            # doctest: +SKIP
    >>> load("model.json").predict_proba(X)  # doctest: +SKIP
    """
    doc = to_dict(model, encoder=encoder, covariance=covariance, metadata=metadata,
                  formula=formula)
    text = _pretty(doc) + "\n"
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
        return v

    def number(self, v: Any, field: str) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise self.fail(field, "must hold numbers")
        if isinstance(v, str):
            if v not in ("NaN", "Infinity", "-Infinity"):
                raise self.fail(field, f"holds a string {v!r} where a number belongs")
            return float(v.replace("Infinity", "inf"))
        return float(v)

    def matrix(self, v: Any, field: str, shape: tuple[int | None, int | None]) -> np.ndarray:
        if not isinstance(v, list) or not all(isinstance(r, list) for r in v):
            raise self.fail(field, "must be a list of rows")
        rows, cols = shape
        if rows is not None and len(v) != rows:
            raise self.fail(field, f"must have {rows} rows, has {len(v)}")
        for r in v:
            if cols is not None and len(r) != cols:
                raise self.fail(field, f"rows must have {cols} entries, one has {len(r)}")
        out = np.array([[self.number(x, field) for x in r] for r in v], dtype=np.float64)
        return out.reshape(len(v), cols if cols is not None else (len(v[0]) if v else 0))


def _names(types: tuple[type, ...]) -> str:
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "an object", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def read_document(path: str | os.PathLike, *, verify: bool = True) -> dict[str, Any]:
    """Parse and check the outer structure of a model file; return the JSON object.

    Raises
    ------
    ModelFileError
        Missing file, invalid JSON (truncated?), not a logitfit model file, a
        newer format version, or (when ``verify``) a checksum mismatch.
    """
    spath = str(path)
    try:
        raw = Path(spath).read_bytes()
    except FileNotFoundError:
        raise ModelFileError(spath, "no such model file") from None
    except IsADirectoryError:
        raise ModelFileError(spath, "is a directory, not a model file") from None
    if not raw.strip():
        raise ModelFileError(spath, "the model file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ModelFileError(spath, f"not a logitfit model file: not UTF-8 text (byte "
                             f"{err.start}); corrupted?") from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        hint = " (the file looks truncated)" if not text.rstrip().endswith("}") else \
            " (corrupted or hand-edited?)"
        raise ModelFileError(spath, f"not valid JSON at line {err.lineno}, column {err.colno}: "
                             f"{err.msg}{hint}") from None
    except ValueError as err:
        raise ModelFileError(spath, f"not valid JSON: {err}") from None
    except RecursionError:
        raise ModelFileError(spath, "not a logitfit model file: JSON nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(spath, f"not a logitfit model file (no \"format\": \"{FORMAT}\")")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(spath, "field 'format_version' must be a positive integer")
    if version > FORMAT_VERSION:
        import logitfit

        raise ModelFileError(
            spath,
            f"written by a newer logitfit ({doc.get('logitfit_version', '?')}, model format "
            f"version {version}); this logitfit {logitfit.__version__} reads format version "
            f"{FORMAT_VERSION} and older: upgrade logitfit to load it",
        )
    if verify:
        stored = doc.get("checksum")
        if not isinstance(stored, str):
            raise ModelFileError(spath, "field 'checksum' is missing (hand-edited file?)")
        if stored != _checksum(doc):
            raise ModelFileError(
                spath,
                "checksum mismatch: the file changed after logitfit wrote it (hand-edited or "
                "corrupted). Refit and save again, or pass verify=False to load it anyway",
            )
    return doc


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a model file")


def load(path: str | os.PathLike, *, verify: bool = True) -> Any:
    """Read a model file written by :func:`save` and return the fitted estimator.

    Parameters
    ----------
    path : str or path-like
    verify : bool, default True
        Check the SHA-256 checksum; ``False`` accepts a deliberately edited file
        (every field is still validated).

    Returns
    -------
    LogisticRegression
        Fitted: ``coef_``, ``intercept_``, ``classes_``, ``n_features_in_``,
        ``feature_names_in_`` (when fitted with names), ``n_iter_``,
        ``converged_``, ``history_``; plus ``encoder_`` (a
        :class:`~logitfit.data.columns.Encoder`, a
        :class:`~logitfit.data.formula_file.FormulaEncoding` or None),
        ``formula_encoder_`` for a formula model (so it predicts from raw data
        frames), ``covariance_`` (or None), ``feature_names_`` (design column
        names), ``formula_`` and ``metadata_`` (the ``training`` record). Its
        predictions are bit-identical to the saved model's.

    Raises
    ------
    ModelFileError
        A missing, truncated, corrupted, hand-edited or newer-version file.
    """
    return _load(str(path), verify, estimator=True)


class SavedModel:
    """The fitted state of a model file without the estimator (what :func:`load_predictor` gives).

    Attributes as :func:`load` sets them (``coef_``, ``intercept_``,
    ``classes_``, ``encoder_``, ``feature_names_``, ``metadata_``,
    ``model_file_``, ...) plus ``params`` (the stored constructor parameters).
    Reading it needs neither scikit-learn nor pandas: ``logitfit predict``
    uses it to keep its memory small.
    """

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = dict(params)

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return dict(self.params)


def load_predictor(path: str | os.PathLike, *, verify: bool = True) -> SavedModel:
    """Like :func:`load`, but a :class:`SavedModel` (same checks, no estimator import).

    Probabilities follow from ``coef_`` and ``intercept_`` as
    :meth:`LogisticRegression.predict_proba` computes them; a formula model's
    ``encoder_.transform`` gives its design matrix.
    """
    return _load(str(path), verify, estimator=False)


def _load(spath: str, verify: bool, *, estimator: bool) -> Any:
    doc = read_document(spath, verify=verify)
    c = _Check(spath)
    est_name = c.get(doc, "estimator", (str,))
    if est_name != "LogisticRegression":
        raise c.fail("estimator", f"names an unknown estimator {est_name!r}")
    params = c.get(doc, "params", (dict,))
    for k, v in params.items():
        if k not in _PARAM_TYPES:
            raise c.fail(f"params.{k}", "is not a parameter logitfit knows")
        if isinstance(v, bool) and bool not in _PARAM_TYPES[k] and int in _PARAM_TYPES[k]:
            raise c.fail(f"params.{k}", "must not be a boolean")
        if not isinstance(v, _PARAM_TYPES[k]):
            raise c.fail(f"params.{k}", f"must be {_names(_PARAM_TYPES[k])}")
    if estimator:
        from logitfit.estimators.logistic import LogisticRegression

        known = LogisticRegression().get_params(deep=False)
        model = LogisticRegression(**{k: v for k, v in params.items() if k in known})
    else:
        model = SavedModel(params)

    classes_doc = c.get(doc, "classes", (dict,))
    classes = _load_classes(c, classes_doc)
    features = c.get(doc, "features", (dict,))
    n_features = c.get(features, "n_features", (int,), "features.")
    names = c.get(features, "names", (list, type(None)), "features.")
    if names is not None and (len(names) != n_features or not all(isinstance(n, str) for n in names)):
        raise c.fail("features.names", f"must be {n_features} strings")
    n_rows = 1 if len(classes) == 2 else len(classes)
    coef = c.matrix(c.get(doc, "coef", (list,)), "coef", (n_rows, n_features))
    if not np.all(np.isfinite(coef)):
        raise c.fail("coef", "must hold finite numbers")
    icpt = c.get(doc, "intercept", (list,))
    if len(icpt) != n_rows:
        raise c.fail("intercept", f"must have {n_rows} entries, has {len(icpt)}")
    intercept = np.array([c.number(v, "intercept") for v in icpt], dtype=np.float64)
    if not np.all(np.isfinite(intercept)):
        raise c.fail("intercept", "must hold finite numbers")

    encoding = c.get(doc, "encoding", (dict, type(None)))
    encoder = None
    if encoding is not None:
        from logitfit.data.columns import Encoder

        try:
            if encoding.get("kind") == "formula":
                from logitfit.data.formula_file import FormulaEncoding

                encoder = FormulaEncoding.from_dict(encoding)
            else:
                encoder = Encoder.from_dict(encoding)
        except (ValueError, TypeError, KeyError, IndexError) as err:
            raise ModelFileError(spath, f"field 'encoding' is malformed: {err}") from None
        except RecursionError:
            raise ModelFileError(spath, "field 'encoding' is nested too deeply") from None
        if encoder.n_features != n_features:
            raise c.fail("encoding", f"describes {encoder.n_features} features, the model has "
                         f"{n_features}")
    formula = c.get(doc, "formula", (str, type(None)))
    fit = c.get(doc, "fit", (dict,))
    cov = c.get(doc, "covariance", (list, type(None)))
    covariance = c.matrix(cov, "covariance", (len(cov), len(cov))) if cov is not None else None
    training = c.get(doc, "training", (dict,))

    model.coef_ = coef
    model.intercept_ = intercept
    model.classes_ = classes
    model.n_features_in_ = n_features
    if names is not None and features.get("names_from_fit") is True:
        model.feature_names_in_ = np.asarray(names, dtype=object)
    model.n_iter_ = fit.get("n_iter")
    model.converged_ = fit.get("converged")
    history = fit.get("history") or {}
    if not isinstance(history, dict) or not all(isinstance(v, list) for v in history.values()):
        raise c.fail("fit.history", "must map names to lists")
    model.history_ = {k: list(v) for k, v in history.items()}
    if isinstance(fit.get("solver"), str):
        model.solver_ = fit["solver"]
    if isinstance(fit.get("objective"), (int, float)) and not isinstance(fit.get("objective"), bool):
        model.objective_ = float(fit["objective"])
    model.encoder_ = encoder
    if estimator and getattr(encoder, "kind", None) == "formula":  # predicts from raw frames
        model.formula_encoder_ = encoder.encoder
    model.covariance_ = covariance
    model.feature_names_ = list(names) if names is not None else [
        f"x{j}" for j in range(n_features)]
    model.formula_ = formula
    model.metadata_ = training
    model.model_file_ = {
        "path": spath,
        "format_version": doc["format_version"],
        "logitfit_version": doc.get("logitfit_version"),
        "created_utc": doc.get("created_utc"),
    }
    return model


def _load_classes(c: _Check, d: dict) -> np.ndarray:
    dtype = c.get(d, "dtype", (str,), "classes.")
    values = c.get(d, "values", (list,), "classes.")
    if len(values) < 2:
        raise c.fail("classes.values", "must list at least two classes")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise c.fail("classes.dtype", f"is not a numpy dtype: {dtype!r}") from None
    kind = dt.kind
    ok = {
        "b": lambda v: isinstance(v, bool),
        "i": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "u": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "f": lambda v: isinstance(v, (int, float, str)) and not isinstance(v, bool),
        "U": lambda v: isinstance(v, str),
        "O": lambda v: isinstance(v, str),
    }.get(kind)
    if ok is None or not all(ok(v) for v in values):
        raise c.fail("classes.values", f"do not match dtype {dtype!r}")
    if kind == "f":
        values = [c.number(v, "classes.values") for v in values]
    arr = np.array(values, dtype=dt)
    if len(set(arr.tolist())) != len(arr):
        raise c.fail("classes.values", "must be distinct")
    return arr
