"""Warnings and errors logitfit raises (standard library only at import time).

The warnings subclass scikit-learn's ``ConvergenceWarning`` so its filters and
test utilities see them; they are built on first access (module
``__getattr__``) so that importing :class:`DataError`, which every reader and
the command line need, does not import scikit-learn.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["ConvergenceWarning", "DataError", "DataFileNotFound", "SeparationWarning"]  # noqa: F822 - two built on access


class DataError(ValueError):
    """A problem with an input file that a person can fix.

    The message is one paragraph: ``"<path>, line L, row R, column 'c': <what>"``.

    Attributes
    ----------
    path : str
        The file (``"-"`` for standard input).
    row : int or None
        1-based data row (the header is not counted), when known.
    column : str or None
        Column name, when the problem is in one column.
    line : int or None
        1-based line of a text file (the header is line 1), when known.
    """

    def __init__(
        self, path: str | os.PathLike, message: str, *, row: int | None = None,
        column: str | None = None, line: int | None = None,
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        self.line = line
        where = [self.path]
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        text = " ".join(str(message).split())  # one paragraph, whatever the reader said
        super().__init__(f"{', '.join(where)}: {text}")


class DataFileNotFound(DataError, FileNotFoundError):
    """No file at a path, or none matching a pattern (a :class:`DataError` and a ``FileNotFoundError``)."""


def _make_warnings() -> dict[str, type]:
    try:  # subclass scikit-learn's so its filters and test utilities see ours
        from sklearn.exceptions import ConvergenceWarning as base
    except ImportError:  # pragma: no cover - sklearn is a core dependency
        base = UserWarning

    class ConvergenceWarning(base):
        """A solver stopped before its gradient criterion was met; the message says why.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 2))
        >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
        >>> import warnings
        >>> from logitfit import ConvergenceWarning, LogisticRegression
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     model = LogisticRegression(solver="gd", max_iter=2).fit(X, y)
        >>> [w.category.__name__ for w in caught]
        ['ConvergenceWarning']
        >>> model.converged_
        False
        """

    class SeparationWarning(ConvergenceWarning):
        """The data are (quasi-)completely separated: the maximum-likelihood estimate does not exist.

        ``details`` holds whatever the detector found (variables and directions).

        Examples
        --------
        >>> import warnings
        >>> import numpy as np
        >>> from logitfit import LogisticRegression, SeparationWarning
        >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
        >>> y = np.array([0, 0, 1, 1])
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _ = LogisticRegression().fit(X, y).summary()
        >>> any(issubclass(w.category, SeparationWarning) for w in caught)
        True
        """

        def __init__(self, message: str, details: dict | None = None) -> None:
            super().__init__(message)
            self.details = details or {}

    for cls in (ConvergenceWarning, SeparationWarning):  # importable names, so they pickle
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return {"ConvergenceWarning": ConvergenceWarning, "SeparationWarning": SeparationWarning}


def __getattr__(name: str) -> Any:
    if name in ("ConvergenceWarning", "SeparationWarning"):
        globals().update(_make_warnings())
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
