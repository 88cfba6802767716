"""Warnings and errors logitfit raises (no imports beyond scikit-learn's base warning)."""

from __future__ import annotations


def _sklearn_convergence_warning() -> type[Warning]:
    try:  # subclass scikit-learn's so its filters and test utilities see ours
        from sklearn.exceptions import ConvergenceWarning as base
    except ImportError:  # pragma: no cover - sklearn is a core dependency
        base = UserWarning
    return base


class ConvergenceWarning(_sklearn_convergence_warning()):
    """A solver stopped before its gradient criterion was met; the message says why."""


class SeparationWarning(ConvergenceWarning):
    """The data are (quasi-)completely separated: the maximum-likelihood estimate does not exist.

    ``details`` holds whatever the detector found (variables and directions).
    """

    def __init__(self, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


__all__ = ["ConvergenceWarning", "SeparationWarning"]
