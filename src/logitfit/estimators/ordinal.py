"""``OrdinalLogisticRegression``: the proportional-odds (cumulative-link) model as a scikit-learn estimator.

The math lives in :mod:`logitfit.model.ordinal` (objective) and
:mod:`logitfit.inference.ordinal` / :mod:`logitfit.inference.brant` (inference);
this module validates input, runs the solver and keeps the fit.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from logitfit.blocks import InMemoryBlocks
from logitfit.data.encoding import encode_for_fit, encode_for_predict, set_encoder
from logitfit.data.offsets import check_offset
from logitfit.data.validation import check_finite, check_non_numeric_columns, check_sample_weight
from logitfit.estimators.ordinal_state import (
    STATE_FORMAT,
    OrdinalState,
    check_ordinal_params,
    ordered_categories,
)
from logitfit.exceptions import ConvergenceWarning
from logitfit.model.ordinal import OrdinalObjective, category_counts, ordinal_proba
from logitfit.model.penalties import L1Penalty, split_alpha
from logitfit.solvers import SolverOptions, minimize

__all__ = ["OrdinalLogisticRegression", "ordered_categories"]


class OrdinalLogisticRegression(ClassifierMixin, BaseEstimator):
    """Ordinal (cumulative-link) regression: ``P(y <= k | x) = F(theta_k - x^T beta)``.

    With the logit link this is the proportional-odds model of R's
    ``MASS::polr`` with its sign convention, ``logit P(y <= k) = theta_k - x^T beta``:
    a positive ``beta_j`` moves mass towards the higher categories. There is no
    intercept (the K-1 thresholds take its place). The fit minimises::

        J = -(1/S) sum_i s_i log P(y_i | x_i) + alpha [r ||f * beta||_1 + (1 - r)/2 ||f * beta||^2]

    over ``beta`` and the thresholds, parameterised as ``theta_0`` and the logs
    of the increments ``theta_k - theta_{k-1}`` so they stay ordered (as
    statsmodels' ``OrderedModel``); the penalty never touches the thresholds.

    Parameters
    ----------
    link : {"logit", "probit", "cloglog"}, default="logit"
        ``F``: logistic, standard normal, or ``1 - exp(-exp(t))``.
    categories : sequence or None
        The categories from lowest to highest (default: the order of a pandas
        categorical ``y``, else the sorted labels).
    penalty : {None, "l2", "l1", "elasticnet"}, default=None
    alpha : float, default=1e-4
    l1_ratio : float in [0, 1], default=1.0 (``penalty="elasticnet"``)
    penalty_factor : array of shape (n_features,) or None
    solver : {"auto", "newton", "newton-cg", "lbfgs", "gd", "prox"}, default="auto"
        "auto" is Newton (exact Hessian), or "prox" with an L1 part.
    tol : float, default=1e-8
        Stop when the largest gradient entry (KKT violation with L1) is below ``tol``.
    max_iter : int or None
    n_threads : int or None

    Attributes
    ----------
    coef_ : ndarray (n_features,), beta
    thresholds_ : ndarray (n_classes - 1,), theta
    classes_ : ndarray, the categories in order
    n_iter_, converged_, solver_, objective_

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import OrdinalLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 1))
    >>> y = np.digitize(X[:, 0] + rng.logistic(size=300), [-1.0, 1.0])
    >>> model = OrdinalLogisticRegression().fit(X, y)
    >>> model.coef_.round(3), model.thresholds_.round(3)
    (array([1.156]), array([-1.218,  0.991]))
    >>> model.predict_proba([[0.0]]).round(3)
    array([[0.228, 0.501, 0.271]])
    >>> model.predict([[-2.0], [2.0]])
    array([0, 2])
    """

    def __init__(self, link: str = "logit", categories: Any = None, penalty: str | None = None,
                 alpha: float = 1e-4, l1_ratio: float = 1.0, penalty_factor: Any = None,
                 solver: str = "auto", tol: float = 1e-8, max_iter: int | None = None,
                 n_threads: int | None = None) -> None:
        self.link = link
        self.categories = categories
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_threads = n_threads

    # -------------------------------------------------------------- fitting

    def _check_params(self) -> None:
        check_ordinal_params({k: getattr(self, k) for k in ("link", "penalty", "solver", "alpha", "l1_ratio",
                                                             "tol", "max_iter")})

    def _l1_strength(self) -> float:
        if self.penalty == "l1":
            return float(self.alpha)
        if self.penalty == "elasticnet":
            return split_alpha(float(self.alpha), float(self.l1_ratio))[0]
        return 0.0

    def _ridge_strength(self) -> float:
        if self.penalty == "l2":
            return float(self.alpha)
        if self.penalty == "elasticnet":
            return split_alpha(float(self.alpha), float(self.l1_ratio))[1]
        return 0.0

    def fit(self, X: Any, y: Any, sample_weight: Any = None, offset: Any = None) -> OrdinalLogisticRegression:
        """Fit to X (n_samples, n_features; array or DataFrame) and ordered labels y.

        ``offset`` (n_samples,) is added to ``x^T beta`` (a known part of the linear predictor).
        """
        self._check_params()
        X, encoder = encode_for_fit(X)
        return self._fit_encoded(X, y, sample_weight, offset, encoder)

    def _fit_encoded(self, X: Any, y: Any, sample_weight: Any, offset: Any, encoder: Any) -> OrdinalLogisticRegression:
        from sklearn.utils.validation import validate_data

        check_non_numeric_columns(X)
        X = validate_data(self, X, accept_sparse=["csr"], dtype=[np.float64, np.float32],
                          ensure_all_finite=False, ensure_min_samples=1, ensure_min_features=0, reset=True)
        check_finite(X, getattr(self, "feature_names_in_", None))
        set_encoder(self, encoder)
        classes, y_idx = ordered_categories(y, self.categories)
        if y_idx.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y_idx.shape[0]} entries")
        sw = check_sample_weight(sample_weight, X.shape[0])
        off = None if offset is None else check_offset(offset, X.shape[0])
        blocks = InMemoryBlocks(X, y_idx, sw, n_threads=self.n_threads, offset=off)
        K = classes.size
        counts = category_counts(blocks, K)
        if np.any(counts <= 0):
            empty = [str(classes[k]) for k in np.flatnonzero(counts <= 0)]
            raise ValueError(f"category {empty[0]!r} has no rows (or zero weight): its threshold is not "
                             "identified; drop it from categories")
        factor = None if self.penalty_factor is None else np.asarray(self.penalty_factor, dtype=np.float64)
        if factor is not None and (factor.shape != (X.shape[1],) or np.any(factor < 0)):
            raise ValueError(f"penalty_factor must be {X.shape[1]} numbers >= 0, got shape {factor.shape}")
        objective = OrdinalObjective(blocks, K, link=self.link, alpha=self._ridge_strength(),
                                     penalty_factor=factor)
        l1 = self._l1_strength()
        solver = self.solver
        options = SolverOptions(tol=float(self.tol), max_iter=self.max_iter)
        if l1 > 0:
            n = objective.n_params
            lam = np.zeros(n)
            lam[: X.shape[1]] = l1 * (np.ones(X.shape[1]) if factor is None else factor)
            options = SolverOptions(tol=float(self.tol), max_iter=self.max_iter,
                                    penalty=L1Penalty(lam, np.full(n, -np.inf), np.full(n, np.inf)))
            solver = "prox"
        elif solver == "auto":
            solver = "newton"
        result = minimize(objective, objective.zero(counts), solver, options)
        if not result.converged:
            warnings.warn(f"the ordinal fit did not converge: {result.message} (max |grad| {result.grad_norm:.3g}); "
                          "a feature may separate the categories (estimates then drift to infinity)",
                          ConvergenceWarning, stacklevel=2)
        self.classes_ = classes
        self.offset_fitted_ = off is not None
        self.coef_, self.thresholds_ = objective.unpack(result.x)
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.solver_ = result.solver or solver
        self.objective_ = result.fun
        self.history_ = result.history.as_dict()
        self._retained = (objective, result.x)  # for lazy inference; not pickled
        for stale in ("stored_inference_", "_inference_obj"):
            self.__dict__.pop(stale, None)
        return self

    @classmethod
    def from_formula(cls, formula: str, data: Any, sample_weight: Any = None, offset: Any = None,
                     **params: Any) -> OrdinalLogisticRegression:
        """Fit ``"y ~ x1 + C(g)"`` on a DataFrame; the formula's intercept is absorbed by the thresholds.

        A pandas categorical target keeps its category order.
        """
        from logitfit.data.formula import FormulaEncoder

        encoder, X, y = FormulaEncoder.from_formula(formula, data)
        target = data[encoder.target]
        if getattr(target.dtype, "categories", None) is not None:
            y = target
        model = cls(**params)
        model._check_params()
        return model._fit_encoded(X, y, sample_weight, offset, encoder)

    # -------------------------------------------------------------- predict

    def _design(self, X: Any) -> Any:
        from sklearn.utils.validation import validate_data

        check_is_fitted(self)
        design = encode_for_predict(self, X)
        if design is not None:
            return design
        check_non_numeric_columns(X)
        X = validate_data(self, X, accept_sparse=["csr"], dtype=[np.float64, np.float32],
                          ensure_all_finite=False, ensure_min_features=0, reset=False)
        check_finite(X, getattr(self, "feature_names_in_", None))
        return X

    def decision_function(self, X: Any, offset: Any = None) -> np.ndarray:
        """The linear predictor ``eta = X beta (+ offset)``, shape (n,)."""
        eta = np.asarray(self._design(X) @ self.coef_, dtype=np.float64).ravel()
        if offset is None and getattr(self, "offset_fitted_", False):
            raise ValueError("this model was fitted with an offset: pass offset= (one number per row) "
                             "to predict")
        return eta if offset is None else eta + check_offset(offset, eta.size)

    def predict_proba(self, X: Any, offset: Any = None) -> np.ndarray:
        """``P(y = k | x)`` for the categories in order, shape (n, n_classes)."""
        return ordinal_proba(self.decision_function(X, offset), self.thresholds_, self.link)

    def predict_cumulative(self, X: Any, offset: Any = None) -> np.ndarray:
        """``P(y <= k | x)`` for k = 0..K-2, shape (n, n_classes - 1)."""
        return np.cumsum(self.predict_proba(X, offset), axis=1)[:, :-1]

    def predict(self, X: Any, offset: Any = None) -> np.ndarray:
        """The most probable category of each row."""
        return self.classes_[np.argmax(self.predict_proba(X, offset), axis=1)]

    # ------------------------------------------------------------- inference

    def _inference(self) -> Any:
        """The inference of this fit (on the retained training rows, or what a model file stored)."""
        check_is_fitted(self)
        inf = self.__dict__.get("_inference_obj")
        if inf is not None:
            return inf
        retained = self.__dict__.get("_retained")
        if retained is None:
            stored = getattr(self, "stored_inference_", None)
            if stored is None:
                raise ValueError("this model keeps no training rows and its file stored no covariance: "
                                 "refit it for inference")
            return stored
        from logitfit.inference.ordinal import OrdinalInference

        inf = OrdinalInference(retained[0], retained[1], self._feature_names(), self.classes_,
                               l1=self._l1_strength() > 0)
        self._inference_obj = inf
        return inf

    def _feature_names(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        return [str(n) for n in names] if names is not None else [f"x{j}" for j in range(self.n_features_in_)]

    def summary(self, cov_type: str = "nonrobust", groups: Any = None, alpha: float = 0.05) -> Any:
        """Slopes and thresholds with standard errors, z tests and Wald intervals; LR test of the slopes.

        ``cov_type`` is "nonrobust", "HC0" or "cluster" (with ``groups``, one label per row).
        """
        return self._inference().summary(cov_type, groups, alpha, converged=bool(self.converged_))

    def cov_params(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        """Covariance of ``(beta, theta)``, shape (p + K - 1, p + K - 1)."""
        return self._inference().cov(cov_type, groups)

    def conf_int(self, alpha: float = 0.05, method: str = "wald") -> np.ndarray:
        """Intervals of ``(beta, theta)``; ``method="profile"`` gives profile-likelihood ones for beta."""
        return self._inference().conf_int(alpha, method)

    def lr_test(self) -> Any:
        """LR test of all slopes against the thresholds-only model."""
        return self._inference().lr_test()

    def marginal_effects(self, cov_type: str = "nonrobust", groups: Any = None) -> dict[str, Any]:
        """Average marginal effects ``d P(y = k) / d x_j`` over the training rows with delta-method
        standard errors: ``{"effect", "std_err", "z", "p_value"}`` of shape (p, K), ``"names"``, ``"categories"``."""
        return self._inference().marginal_effects(cov_type, groups)

    def brant_test(self) -> Any:
        """Brant's (1990) Wald test of proportional odds, overall and per feature (logit link)."""
        from logitfit.inference.brant import brant_test

        inf = self._inference()
        if not hasattr(inf, "obj"):
            raise ValueError("the Brant test needs the training rows: refit the model")
        return brant_test(inf.obj, inf.feature_names)

    @property
    def bse_(self) -> np.ndarray:
        return self._inference().bse()

    @property
    def llf_(self) -> float:
        return self._inference().llf

    @property
    def llnull_(self) -> float:
        return self._inference().llnull

    @property
    def aic_(self) -> float:
        return self._inference().aic

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_retained", None)  # the training rows are not pickled
        state.pop("_inference_obj", None)
        return state

    # ------------------------------------------------------------ model files

    def to_state(self) -> dict[str, Any]:
        """The fit as plain JSON-able values (what a model file stores); see :meth:`from_state`."""
        from logitfit.io.family_file import labels_to_json

        check_is_fitted(self)
        encoder = getattr(self, "encoder_", None)
        state: dict[str, Any] = {
            "state_format": STATE_FORMAT,
            "link": self.link,
            "classes": labels_to_json(self.classes_),
            "coef": [float(v) for v in self.coef_],
            "thresholds": [float(v) for v in self.thresholds_],
            "feature_names": self._feature_names(),
            "offset": bool(getattr(self, "offset_fitted_", False)),
            "names_from_fit": getattr(self, "feature_names_in_", None) is not None and encoder is None,
            "encoder": encoder.to_dict() if encoder is not None else None,
            "params": {"link": self.link, "penalty": self.penalty, "alpha": float(self.alpha),
                       "l1_ratio": float(self.l1_ratio), "solver": self.solver, "tol": float(self.tol),
                       "max_iter": self.max_iter},
            "fit": {"n_iter": int(self.n_iter_), "converged": bool(self.converged_),
                    "solver": str(self.solver_), "objective": float(self.objective_)},
            "inference": None,
        }
        try:
            inf = self._inference()
            V = inf.cov("nonrobust")
            state["inference"] = {"covariance": V.tolist(), "llf": float(inf.llf),
                                  "llnull": float(inf.llnull), "nobs": int(inf.nobs),
                                  "weight_sum": float(inf.S), "penalised": bool(inf.penalised)}
        except ValueError:  # L1 fits and singular information have no covariance to store
            pass
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> OrdinalLogisticRegression:
        """The fitted estimator of a :meth:`to_state` dict, every field checked (a file is untrusted;
        :meth:`OrdinalState.from_state <logitfit.estimators.ordinal_state.OrdinalState.from_state>`)."""
        fitted = OrdinalState.from_state(state)
        model = cls(categories=list(fitted.classes_.tolist()), **fitted.params)
        for name in ("classes_", "coef_", "thresholds_", "offset_fitted_", "n_features_in_", "n_iter_",
                     "converged_", "solver_", "objective_"):
            setattr(model, name, getattr(fitted, name))
        for name in ("encoder_", "feature_names_in_", "stored_inference_"):
            if getattr(fitted, name) is not None:
                setattr(model, name, getattr(fitted, name))
        return model
