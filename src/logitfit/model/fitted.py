"""The fitted model: coefficients, classes, encoder, covariance and fit record; it owns prediction.

With ``W`` the coefficients (shape ``(1, p)`` for two classes, ``(K, p)`` for
K >= 3) and ``b`` the intercepts::

    Z = X W^T + b                                  linear predictor
    P = [sigmoid(-z), sigmoid(z)]  or  softmax(Z)  probabilities (logitfit._numerics)
    label = classes[p_1 > threshold]  or  classes[argmax P]   (logitfit.metrics.label_indices)

:class:`FittedModel` needs neither scikit-learn nor pandas: the estimators wrap
it, model files hold it (:mod:`logitfit.io.model_file`) and the command line
predicts with it. It takes design matrices; ``encode`` turns data into one with
the model's encoder (any object with ``transform``, ``feature_names``,
``n_features`` and ``to_dict``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from logitfit._numerics import class_probabilities, linear_predictor, log_sigmoid, logsumexp
from logitfit.metrics import label_indices

__all__ = ["FieldError", "FitRecord", "FitStatistics", "FittedModel"]


class FieldError(ValueError):
    """A field of a fitted model with the wrong type, shape or range; ``field`` names it."""

    def __init__(self, field: str, what: str) -> None:
        self.field = field
        self.what = what
        super().__init__(f"{field} {what}")


@dataclass(frozen=True)
class FitRecord:
    """How the fit went: iterations, convergence, the solver that ran, J at the end, history."""

    n_iter: int | None = None
    converged: bool | None = None
    solver: str | None = None
    objective: float | None = None
    history: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class FitStatistics:
    """What a summary needs besides coefficients and covariance.

    ``nobs`` (``S``, the sum of sample weights, unless the weights' meaning says
    otherwise: :mod:`logitfit.model.weighting`), ``llf = -S * mean loss`` at the
    fit, ``llnull`` the intercept-only log-likelihood; ``cov_type``: the kind of
    the covariance stored with them ("HC0" for probability weights).
    """

    nobs: float
    llf: float
    llnull: float
    cov_type: str = "nonrobust"


class FittedModel:
    """A fitted binary or multinomial logistic regression, ready to predict.

    Parameters
    ----------
    coef : array of shape (1, p) (two classes) or (K, p)
    intercept : array of shape (1,) or (K,)
    classes : array of shape (K,), K >= 2 distinct labels
    feature_names : list of p str, optional (design column names)
    encoder : object with the encoder protocol, optional
    covariance : array of shape (q, q), optional
        Nonrobust covariance of ``theta`` (:meth:`contrasts`), q = :attr:`n_params`.
    fit : FitRecord, optional
    params : dict, optional
        The estimator's constructor parameters.
    statistics : FitStatistics, optional
    formula, metadata : the model formula and training record, optional
    names_from_fit : bool, whether ``feature_names`` were the column names given to fit
    grouped : GroupedRecord, optional
        The constants of a fit to grouped binomial data (:mod:`logitfit.model.weighting`).
    offset : str, optional
        Set when the model was fitted with an offset (``z = X W^T + b + offset``): what
        the offset was (a column name, a formula's ``offset(...)`` term or ``"offset"``).
        Predictions then need one (``offset=``); see :mod:`logitfit.data.offsets`.

    Raises
    ------
    FieldError
        A field with the wrong shape, type or a non-finite coefficient.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> from logitfit import FittedModel
    >>> fitted = FittedModel(np.array([[1.0, -2.0]]), np.array([0.5]), np.array([0, 1]))
    >>> fitted.predict_proba(X[:2]).round(3)
    array([[0.291, 0.709],
           [0.283, 0.717]])
    >>> fitted.predict(X[:2])
    array([1, 1])
    """

    def __init__(
        self,
        coef: Any,
        intercept: Any,
        classes: Any,
        *,
        feature_names: list[str] | None = None,
        encoder: Any = None,
        covariance: Any = None,
        fit: FitRecord | None = None,
        params: dict[str, Any] | None = None,
        statistics: FitStatistics | None = None,
        formula: str | None = None,
        metadata: dict[str, Any] | None = None,
        names_from_fit: bool = False,
        grouped: Any = None,
        offset: str | None = None,
    ) -> None:
        self.classes = np.asarray(classes)
        if self.classes.ndim != 1 or len(self.classes) < 2:
            raise FieldError("classes", "must list at least two classes")
        rows = 1 if len(self.classes) == 2 else len(self.classes)
        self.coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
        if self.coef.ndim != 2 or self.coef.shape[0] != rows:
            raise FieldError("coef", f"must have {rows} rows for {len(self.classes)} classes, "
                             f"has shape {self.coef.shape}")
        self.intercept = np.atleast_1d(np.asarray(intercept, dtype=np.float64))
        if self.intercept.shape != (rows,):
            raise FieldError("intercept", f"must have {rows} entries, has {self.intercept.size}")
        if not (np.all(np.isfinite(self.coef)) and np.all(np.isfinite(self.intercept))):
            raise FieldError("coef", "must hold finite numbers (coefficients and intercepts)")
        p = self.coef.shape[1]
        if feature_names is not None:
            feature_names = list(feature_names)
            if len(feature_names) != p or not all(isinstance(n, str) for n in feature_names):
                raise FieldError("features.names", f"must be {p} strings")
        self.feature_names = feature_names
        self.names_from_fit = bool(names_from_fit and feature_names is not None)
        self.encoder = encoder
        if encoder is not None and getattr(encoder, "n_features", p) != p:
            raise FieldError("encoding", f"describes {encoder.n_features} features, the model "
                             f"has {p}")
        self.params = dict(params or {})
        if not isinstance(self.params.get("fit_intercept", True), (bool, np.bool_)):
            raise FieldError("params.fit_intercept", "must be true or false")
        self.covariance = None if covariance is None else self._check_covariance(covariance)
        self.fit = fit if fit is not None else FitRecord()
        self.statistics = statistics
        self.formula = formula
        self.metadata = dict(metadata or {})
        self.grouped = grouped
        if offset is not None and not (isinstance(offset, str) and offset):
            raise FieldError("offset", "must name the offset (a non-empty string) or be null")
        self.offset = offset
        #: Where a loaded model came from (path, format version, ...); None when fitted here.
        self.source: dict[str, Any] | None = None

    def replace(self, **changes: Any) -> FittedModel:
        """A copy with some constructor fields changed (checked as in the constructor)."""
        fields = dict(feature_names=self.feature_names, encoder=self.encoder,
                      covariance=self.covariance, fit=self.fit, params=self.params,
                      statistics=self.statistics, formula=self.formula, metadata=self.metadata,
                      names_from_fit=self.names_from_fit, grouped=self.grouped,
                      offset=self.offset)
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            raise TypeError(f"FittedModel has no field {unknown[0]!r}")
        fields.update(changes)
        out = FittedModel(self.coef, self.intercept, self.classes, **fields)
        out.source = self.source
        return out

    def _check_covariance(self, covariance: Any) -> np.ndarray:
        cov = np.asarray(covariance, dtype=np.float64)
        q = self.n_params
        if cov.shape != (q, q):
            raise FieldError("covariance", f"must be a square matrix of {q} x {q} (one row per "
                             f"parameter), is {'x'.join(map(str, cov.shape)) or 'a scalar'}")
        if not np.all(np.isfinite(cov)):
            raise FieldError("covariance", "must hold finite numbers")
        return cov

    # ------------------------------------------------------------- shapes

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def fit_intercept(self) -> bool:
        return bool(self.params.get("fit_intercept", True))

    @property
    def n_params(self) -> int:
        """Length of ``theta``: ``(p + intercept)`` per class against the reference (1 for binary)."""
        per = self.n_features + int(self.fit_intercept)
        return per if self.n_classes == 2 else per * (self.n_classes - 1)

    def contrasts(self, ref: int = 0) -> np.ndarray:
        """``theta``: ``[w_1..w_p, b]`` (binary); for K classes ``B_k - B_ref`` for each k != ref."""
        B = np.vstack([self.coef.T, self.intercept[None, :]]) if self.fit_intercept else self.coef.T
        if self.n_classes == 2:
            return B[:, 0].copy()
        return np.concatenate([B[:, k] - B[:, ref] for k in range(self.n_classes) if k != ref])

    # ---------------------------------------------------------- prediction

    def check_design(self, X: Any) -> Any:
        """X as a 2-D float array (or sparse matrix) with :attr:`n_features` columns."""
        if not hasattr(X, "shape") or not hasattr(X, "dtype"):
            X = np.asarray(X)
        if len(X.shape) != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X has shape {tuple(X.shape)}; the model expects "
                             f"{self.n_features} columns")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        return X

    def decision_function(self, X: Any, offset: Any = None) -> np.ndarray:
        """``Z = X W^T + b (+ offset)`` in float64: shape (n,) for two classes, (n, K) otherwise.

        A model fitted with an offset (:attr:`offset` set) needs one here.
        """
        Z = linear_predictor(self.check_design(X), self.coef, self.intercept)
        return self.add_offset(Z, offset)

    def add_offset(self, Z: np.ndarray, offset: Any) -> np.ndarray:
        """``Z + offset`` (checked: one finite number per row, (n, K) for K >= 3 classes);
        ``Z`` unchanged without one, which is an error for a model fitted with an offset."""
        from logitfit.data.offsets import check_offset, missing_offset_error

        if offset is None:
            if self.offset is not None:
                raise missing_offset_error(self.offset)
            return Z
        return Z + check_offset(offset, Z.shape[0], self.n_classes)

    def predict_proba(self, X: Any, offset: Any = None) -> np.ndarray:
        """Class probabilities, shape (n, K)."""
        return class_probabilities(self.decision_function(X, offset))

    def predict_log_proba(self, X: Any, offset: Any = None) -> np.ndarray:
        """Log probabilities computed stably (no log of a rounded probability)."""
        return log_proba_from_scores(self.decision_function(X, offset))

    def labels(self, proba: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """Labels from probabilities: ``p_1 > threshold`` (two classes) or the most probable class."""
        return self.classes[label_indices(proba, threshold)]

    def predict(self, X: Any, threshold: float = 0.5, offset: Any = None) -> np.ndarray:
        """Most probable class (two classes: ``p_1 > threshold``) for each row."""
        return self.labels(self.predict_proba(X, offset), threshold)

    def encode(self, data: Any, **kwargs: Any) -> Any:
        """The design matrix of ``data`` through the model's encoder (``data`` when it has none)."""
        if self.encoder is None:
            return data
        return self.encoder.transform(data, **kwargs)

    def __repr__(self) -> str:
        return (f"FittedModel({self.n_classes} classes, {self.n_features} features, "
                f"covariance={'yes' if self.covariance is not None else 'no'})")


def log_proba_from_scores(Z: np.ndarray) -> np.ndarray:
    """``log P`` from the linear predictor: log-sigmoids (binary) or ``Z - logsumexp(Z)``."""
    if Z.ndim == 1:
        return np.column_stack([log_sigmoid(-Z), log_sigmoid(Z)])
    return Z - logsumexp(Z)[:, None]
