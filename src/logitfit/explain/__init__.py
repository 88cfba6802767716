"""Why the gradient is what it is: derivations, checks and pictures on the user's own data.

Every name of :mod:`logitfit.explain.steps`, :mod:`logitfit.explain.identities`,
:mod:`logitfit.explain.landscape` and :mod:`logitfit.explain.explorable` is available here (``logitfit.explain.derivation(X, y)``, ``logitfit.explain.descent(...)``).
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {name: module for module, names in (
    ("landscape", ("ConvexityCheck", "DescentResult", "convexity", "descent", "squared_error")),
    ("identities", ("LikelihoodCheck", "SigmoidCheck", "likelihood", "sigmoid_check")),
    ("explorable", ("ExplainPage", "FeatureChoice", "choose_features", "page")),
) for name in names}


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    module = _HOMES.get(name, "steps")
    mod = importlib.import_module(f"logitfit.explain.{module}")
    try:
        return getattr(mod, name)
    except AttributeError:
        raise AttributeError(f"module 'logitfit.explain' has no attribute {name!r}") from None
