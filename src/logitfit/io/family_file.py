"""Model files of the other logistic models (ordinal, conditional): an estimator's state in the model-file envelope.

A family model file is the JSON document of :mod:`logitfit.io.model_file`
(format ``logitfit.model``, the same checksum and optional HMAC signature,
read by the same :func:`~logitfit.io.model_file.read_document`) with::

    "model": "ordinal" | "conditional",
    "estimator": the class name,
    "state": the estimator's ``to_state()`` (plain JSON: lists, numbers, strings),
    "training": metadata (data file, target, rows)

The state is untrusted: the estimator's ``from_state`` checks every field (with
the helpers here: :func:`check_state`, :func:`labels_from_json`) and a failure
is a :class:`~logitfit.io.model_file.ModelFileError` naming the file.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import numpy as np

from logitfit._version import __version__
from logitfit.io.atomic import atomic_write
from logitfit.io.model_file import (
    FORMAT,
    FORMAT_VERSION,
    MAX_TEXT,
    SIGNATURE_ALGORITHM,
    ModelFileError,
    _checksum,
    _classes,
    _jsonable,
    _pretty,
    _signature,
    read_document,
)

__all__ = ["FAMILY_MODELS", "StateCheck", "check_state", "family_state", "file_record", "is_family_document",
           "labels_from_json", "labels_to_json", "read_family", "save_family"]

#: model kind -> (estimator module, class name)
FAMILY_MODELS: dict[str, tuple[str, str]] = {
    "ordinal": ("logitfit.estimators.ordinal", "OrdinalLogisticRegression"),
    "conditional": ("logitfit.estimators.conditional", "ConditionalLogisticRegression"),
}
MAX_LABELS = 100_000
MAX_ITEMS = 10_000_000


def labels_to_json(labels: Any) -> dict[str, Any]:
    """Class labels with their dtype as JSON (the model file's ``classes`` field).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.io.family_file import labels_from_json, labels_to_json
    >>> labels_to_json(np.array(["low", "high"]))
    {'dtype': '<U4', 'values': ['low', 'high']}
    >>> labels_from_json(labels_to_json(np.array([1, 2, 3])), "classes")
    array([1, 2, 3])
    """
    return _classes(np.asarray(labels))


def labels_from_json(d: Any, field: str) -> np.ndarray:
    """Checked labels of :func:`labels_to_json` (a known dtype, distinct values); ``ValueError`` naming ``field``."""
    from logitfit.io.model_file import _Check, _load_classes

    if not isinstance(d, dict):
        raise ValueError(f"{field} must be an object with dtype and values")
    try:
        return _load_classes(_Check("<state>"), d)
    except ModelFileError as err:
        raise ValueError(f"{field}: {err}") from None


class StateCheck:
    """Typed reads of a state dict; each failure is a ``ValueError`` naming the field.

    Examples
    --------
    >>> from logitfit.io.family_file import check_state
    >>> chk = check_state({"coef": [1.0, 2.5], "names": ["a", "b"]}, "model")
    >>> chk.floats("coef", 2)
    array([1. , 2.5])
    >>> chk.strings("names", 2)
    ['a', 'b']
    """

    def __init__(self, state: dict[str, Any], what: str) -> None:
        self.state, self.what = state, what

    def fail(self, key: str, why: str) -> ValueError:
        return ValueError(f"{self.what}: field {key!r} {why}")

    def get(self, key: str, typ: type | tuple[type, ...]) -> Any:
        if key not in self.state:
            raise self.fail(key, "is missing")
        v = self.state[key]
        types = typ if isinstance(typ, tuple) else (typ,)
        if (isinstance(v, bool) and bool not in types) or not isinstance(v, types):
            raise self.fail(key, f"must be {' or '.join(t.__name__ for t in types)}, not {type(v).__name__}")
        if isinstance(v, str) and len(v) > MAX_TEXT:
            raise self.fail(key, f"is longer than {MAX_TEXT} characters")
        return v

    def floats(self, key: str, length: int | None = None, *, finite: bool = True) -> np.ndarray:
        v = self.get(key, list)
        if length is not None and len(v) != length:
            raise self.fail(key, f"must have {length} entries, has {len(v)}")
        if len(v) > MAX_ITEMS or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            raise self.fail(key, "must be a list of numbers")
        arr = np.array(v, dtype=np.float64)
        if finite and not np.all(np.isfinite(arr)):
            raise self.fail(key, "must hold finite numbers")
        return arr

    def strings(self, key: str, length: int | None = None) -> list[str]:
        v = self.get(key, list)
        if length is not None and len(v) != length:
            raise self.fail(key, f"must have {length} entries, has {len(v)}")
        if len(v) > MAX_ITEMS or not all(isinstance(x, str) and len(x) <= MAX_TEXT for x in v):
            raise self.fail(key, "must be a list of strings")
        return list(v)

    def matrix(self, key: str, shape: tuple[int, int]) -> np.ndarray:
        v = self.get(key, list)
        rows, cols = shape
        if len(v) != rows or not all(isinstance(r, list) and len(r) == cols for r in v):
            raise self.fail(key, f"must be a {rows} x {cols} list of rows")
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for r in v for x in r):
            raise self.fail(key, "must hold numbers")
        arr = np.array(v, dtype=np.float64).reshape(rows, cols)
        if not np.all(np.isfinite(arr)):
            raise self.fail(key, "must hold finite numbers")
        return arr


def check_state(state: Any, what: str) -> StateCheck:
    """A :class:`StateCheck` of ``state``, which must be a JSON object."""
    if not isinstance(state, dict):
        raise ValueError(f"{what}: the state must be an object")
    return StateCheck(state, what)


# ----------------------------------------------------------------- documents


def is_family_document(doc: Any) -> bool:
    """True for a model-file document holding an ordinal or conditional model."""
    return isinstance(doc, dict) and "model" in doc


def save_family(estimator: Any, kind: str, path: str | os.PathLike, *, key: bytes | str | None = None,
                metadata: dict[str, Any] | None = None) -> None:
    """Write ``estimator.to_state()`` as a model file of ``kind``, atomically (optionally signed).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import OrdinalLogisticRegression
    >>> from logitfit.estimators.family import load_family
    >>> from logitfit.io.family_file import save_family
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 1))
    >>> y = np.digitize(X[:, 0] + rng.logistic(size=100), [-1.0, 1.0])
    >>> model = OrdinalLogisticRegression().fit(X, y)
    >>> save_family(model, "ordinal", "ordinal.json")
    >>> again = load_family("ordinal.json")
    >>> bool(np.array_equal(again.predict_proba(X), model.predict_proba(X)))
    True
    """
    if kind not in FAMILY_MODELS:
        raise ValueError(f"unknown model kind {kind!r}; one of {', '.join(FAMILY_MODELS)}")
    doc: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "logitfit_version": __version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": kind,
        "estimator": FAMILY_MODELS[kind][1],
        "state": _jsonable(estimator.to_state()),
        "training": _jsonable(metadata or {}),
    }
    if key is not None:
        doc["signature"] = {"algorithm": SIGNATURE_ALGORITHM, "value": _signature(doc, key)}
    doc["checksum"] = _checksum(doc)
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(_pretty(doc) + "\n")


def read_family(path: str | os.PathLike, *, verify: bool = True,
                key: bytes | str | None = None) -> dict[str, Any] | None:
    """The checked document of a family model file, or None for a (binary/multinomial) model file."""
    doc = read_document(path, verify=verify, key=key)
    return doc if is_family_document(doc) else None


def family_state(doc: dict[str, Any], path: str | os.PathLike) -> tuple[str, dict[str, Any]]:
    """``(model kind, state)`` of a family document, its envelope checked (``ModelFileError`` naming the file).

    The estimator layer turns the state into an estimator (its ``from_state``
    checks every field): :func:`logitfit.estimators.family.load_family`.
    """
    spath = str(path)
    kind = doc.get("model")
    if kind not in FAMILY_MODELS:
        raise ModelFileError(spath, f"field 'model' names an unknown model {str(kind)[:40]!r}; "
                             f"this logitfit reads {', '.join(FAMILY_MODELS)}")
    name = FAMILY_MODELS[kind][1]
    if doc.get("estimator") != name:
        raise ModelFileError(spath, f"field 'estimator' must be {name!r} for a {kind} model")
    if not isinstance(doc.get("training", {}), dict):
        raise ModelFileError(spath, "field 'training' must be an object")
    state = doc.get("state")
    if not isinstance(state, dict):
        raise ModelFileError(spath, "field 'state' must be an object (hand-edited or corrupted file?)")
    return kind, state


def file_record(doc: dict[str, Any], path: str | os.PathLike) -> dict[str, Any]:
    """Where a loaded model came from (``model_file_``)."""
    return {"path": str(path), "model": doc.get("model"), "format_version": doc["format_version"],
            "logitfit_version": str(doc.get("logitfit_version"))[:40],
            "created_utc": str(doc.get("created_utc"))[:40], "signed": "signature" in doc}
