"""The model-file field of a fit with an offset: ``"offset": {"name": ...}``.

A model fitted with an offset (``z = X w + b + offset``) records what the offset
was: the data column (``--offset COLUMN``, ``scan(offset=...)``), the formula's
``offset(...)`` term, or ``"offset"`` for an array given to ``fit``. Its
predictions then need one (:attr:`logitfit.model.fitted.FittedModel.offset`).
Files without the key (every fit without an offset) load as before.
"""

from __future__ import annotations

from typing import Any

from logitfit.model.fitted import FittedModel

__all__ = ["load_offset", "offset_field"]

#: Longest offset name a file may hold.
MAX_NAME = 1000


def offset_field(model: FittedModel) -> dict[str, Any]:
    """``{"offset": {"name": ...}}`` for a model fitted with an offset, else ``{}``.

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import FittedModel
    >>> from logitfit.io.model_offset import offset_field
    >>> model = FittedModel([[1.0]], [0.0], [0, 1], offset="log_exposure")
    >>> offset_field(model)
    {'offset': {'name': 'log_exposure'}}
    """
    name = getattr(model, "offset", None)
    return {} if name is None else {"offset": {"name": str(name)}}


def load_offset(c: Any, doc: dict[str, Any]) -> str | None:
    """The offset name a model file records (None without the key); ``c`` names a bad field."""
    field = doc.get("offset")
    if field is None:
        return None
    if not isinstance(field, dict):
        raise c.fail("offset", "must be an object with a name, or absent")
    name = field.get("name")
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise c.fail("offset.name", f"must be a non-empty string of at most {MAX_NAME} characters")
    return name
