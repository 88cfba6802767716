"""``logitfit.load``: a model file back as a fitted :class:`~logitfit.LogisticRegression`.

The file is read and checked by :func:`logitfit.io.model_file.load_model` (a
:class:`~logitfit.model.fitted.FittedModel`, no scikit-learn); the estimator is
built from it, its stored parameters checked by the estimator's own rules.
Importing this module imports no scikit-learn: the estimator is imported
when :func:`load` runs.
"""

from __future__ import annotations

import os
from typing import Any

from logitfit.estimators.fitting import ParamError
from logitfit.io.model_file import ModelFileError, load_model, save_model

__all__ = ["ModelFileError", "load", "save"]


def load(path: str | os.PathLike, *, verify: bool = True, key: bytes | str | None = None) -> Any:
    """Read a model file written by :meth:`LogisticRegression.save` and return the fitted estimator.

    Parameters
    ----------
    path : str or path-like
    verify : bool, default True
        Check the SHA-256 checksum; ``False`` accepts a deliberately edited
        file (every field is still validated).
    key : bytes or str, optional
        Require a valid HMAC-SHA256 signature made with this key: an unsigned,
        changed or differently signed file is refused.

    Returns
    -------
    LogisticRegression
        Fitted: ``coef_``, ``intercept_``, ``classes_``, ``n_features_in_``,
        ``feature_names_in_`` (when fitted with names), ``n_iter_``,
        ``converged_``, ``history_``, ``solver_``, ``objective_``; ``encoder_``
        (or None), ``covariance_`` (or None), ``fit_statistics_``,
        ``feature_names_``, ``formula_``, ``metadata_`` (the ``training``
        record) and ``model_file_``. ``summary()`` works when the file holds a
        covariance. Predictions are bit-identical to the saved model's.
        A file of an ordinal or conditional model gives that estimator
        (:class:`~logitfit.OrdinalLogisticRegression`,
        :class:`~logitfit.ConditionalLogisticRegression`).

    Raises
    ------
    ModelFileError
        A missing, truncated, corrupted, hand-edited, unsigned (with ``key``)
        or newer-version file, or a stored parameter out of its range.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> import logitfit
    >>> model = logitfit.LogisticRegression().fit(X, y)
    >>> model.save("model.json")
    >>> again = logitfit.load("model.json")
    >>> np.array_equal(again.predict_proba(X), model.predict_proba(X))
    True
    """
    from logitfit.estimators.family import estimator_from_document
    from logitfit.estimators.logistic import LogisticRegression
    from logitfit.io.family_file import read_family

    doc = read_family(path, verify=verify, key=key)
    if doc is not None:  # an ordinal or conditional model (its estimator's from_state checks it)
        return estimator_from_document(doc, path)
    model = load_model(path, verify=verify, key=key)
    try:
        return LogisticRegression.from_fitted(model)
    except ParamError as err:
        raise ModelFileError(path, f"field 'params.{err.name}' is not valid: {err} (hand-edited "
                             "or corrupted file?)") from None
    except (ValueError, TypeError) as err:
        raise ModelFileError(path, f"field 'params' is not valid: {err} (hand-edited or "
                             "corrupted file?)") from None


def save(model: Any, path: str | os.PathLike, *, key: bytes | str | None = None,
         **kwargs: Any) -> None:
    """Save a fitted estimator (``kwargs`` go to its ``to_fitted``) or a FittedModel."""
    fitted = model.to_fitted(**kwargs) if hasattr(model, "to_fitted") else model
    save_model(fitted, path, key=key)
