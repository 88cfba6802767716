"""Save and load the other logistic models (ordinal, conditional) as model files.

The file format is :mod:`logitfit.io.family_file`; here the state it holds
becomes an estimator again through that estimator's ``from_state``, which
checks every field.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from logitfit.io.family_file import (
    FAMILY_MODELS,
    family_state,
    file_record,
    read_family,
    save_family,
)
from logitfit.io.model_file import ModelFileError

__all__ = ["estimator_from_document", "fitted_from_document", "load_family", "save_family"]


def estimator_from_document(doc: dict[str, Any], path: str | os.PathLike) -> Any:
    """The fitted estimator of a family document (``ModelFileError`` naming the file and field)."""
    kind, state = family_state(doc, path)
    module, name = FAMILY_MODELS[kind]
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise ModelFileError(str(path), f"holds a {kind} model, which this logitfit cannot load "
                             f"({module}.{name} is not available)") from None
    return _restored(cls, state, doc, path)


def _restored(cls: Any, state: dict[str, Any], doc: dict[str, Any], path: str | os.PathLike) -> Any:
    """``cls.from_state(state)`` with the file's training metadata and record; a bad state names the file."""
    try:
        fitted = cls.from_state(state)
    except (ValueError, TypeError, KeyError) as err:
        raise ModelFileError(str(path), f"{err} (hand-edited or corrupted file?)") from None
    fitted.metadata_ = dict(doc.get("training") or {})
    fitted.model_file_ = file_record(doc, path)
    return fitted


def fitted_from_document(doc: dict[str, Any], path: str | os.PathLike) -> Any:
    """What predicts and summarises: an :class:`~logitfit.estimators.ordinal_state.OrdinalState` for an
    ordinal file (no scikit-learn import: the command line's predict and summary), else the estimator."""
    kind, state = family_state(doc, path)
    if kind != "ordinal":
        return estimator_from_document(doc, path)
    from logitfit.estimators.ordinal_state import OrdinalState

    return _restored(OrdinalState, state, doc, path)


def load_family(path: str | os.PathLike, *, verify: bool = True, key: bytes | str | None = None) -> Any:
    """Read an ordinal or conditional model file and return its fitted estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import OrdinalLogisticRegression
    >>> from logitfit.estimators.family import load_family, save_family
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 1))
    >>> y = np.digitize(X[:, 0] + rng.logistic(size=100), [-1.0, 1.0])
    >>> model = OrdinalLogisticRegression().fit(X, y)
    >>> save_family(model, "ordinal", "ordinal.json")
    >>> again = load_family("ordinal.json")
    >>> bool(np.array_equal(again.predict_proba(X), model.predict_proba(X)))
    True
    """
    doc = read_family(path, verify=verify, key=key)
    if doc is None:
        raise ModelFileError(str(path), "holds a binary/multinomial model: load it with logitfit.load")
    return estimator_from_document(doc, path)
