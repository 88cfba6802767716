"""Why the gradient is what it is: derivations, checks and pictures on the user's own data.

Every name of :mod:`logitfit.explain.steps` and :mod:`logitfit.explain.landscape`
is available here (``logitfit.explain.derivation(X, y)``, ``logitfit.explain.descent(...)``).
"""

from __future__ import annotations

import importlib
from typing import Any

_LANDSCAPE = {"ConvexityCheck", "DescentResult", "convexity", "descent", "squared_error"}


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    module = "landscape" if name in _LANDSCAPE else "steps"
    mod = importlib.import_module(f"logitfit.explain.{module}")
    try:
        return getattr(mod, name)
    except AttributeError:
        raise AttributeError(f"module 'logitfit.explain' has no attribute {name!r}") from None
