"""logitfit: logistic regression done exactly, fast and at any scale.

The textbook model::

    h(x)   = sigmoid(theta^T x)
    J      = -(1/m) sum_i [y_i log h(x_i) + (1 - y_i) log(1 - h(x_i))]
    grad J = (1/m) X^T (h - y)

Heavy parts (the scikit-learn estimator, plots, Dask, ONNX) are imported on
first use, so ``import logitfit`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from logitfit._version import __version__
from logitfit.model.textbook import cost, gradient, sigmoid

# public name -> module that defines it (imported on first attribute access)
_LAZY = {
    "LogisticRegression": "logitfit.estimators.logistic",
    "ConditionalLogisticRegression": "logitfit.estimators.conditional",
    "ConvergenceWarning": "logitfit.exceptions",
    "SeparationWarning": "logitfit.exceptions",
    "LogisticObjective": "logitfit.model.objective",
    "SolverResult": "logitfit.solvers",
    "solvers": "logitfit.solvers",
    "regularization_path": "logitfit.estimators.regularization",
    "LogisticRegressionCV": "logitfit.estimators.cv",
    "OrdinalLogisticRegression": "logitfit.estimators.ordinal",
    "check_separation": "logitfit.inference.separation",
    "lr_test": "logitfit.inference.hypothesis_tests",
    "Summary": "logitfit.inference.summary",
    "scan": "logitfit.io.scan",
    "ScanDataset": "logitfit.io.scan",
    "dask": "logitfit.estimators.distributed",  # a module, named by its public alias
    "load": "logitfit.estimators.loading",
    "FittedModel": "logitfit.model.fitted",
    "ModelFileError": "logitfit.io.model_file",
    "plots": "logitfit.plots",
    "explain": "logitfit.explain",
}

_MODULES = {"solvers", "dask", "plots", "explain"}

__all__ = ["__version__", "cost", "gradient", "sigmoid", *_LAZY]

if TYPE_CHECKING:  # pragma: no cover
    from logitfit.estimators.logistic import LogisticRegression as LogisticRegression
    from logitfit.exceptions import ConvergenceWarning as ConvergenceWarning
    from logitfit.exceptions import SeparationWarning as SeparationWarning
    from logitfit.model.objective import LogisticObjective as LogisticObjective
    from logitfit.solvers import SolverResult as SolverResult


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'logitfit' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if name in _MODULES else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
