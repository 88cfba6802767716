"""``LogisticRegression``: the estimator a user holds (scikit-learn compatible).

It validates the input (:mod:`logitfit.data.validation`), fits through
:mod:`logitfit.estimators.fitting` (objective, solver) and predicts through its
:class:`~logitfit.model.fitted.FittedModel`. No math here.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from logitfit._numerics import class_probabilities
from logitfit.blocks import Blocks, InMemoryBlocks
from logitfit.data.encoding import encode_for_fit, encode_for_predict, set_encoder
from logitfit.data.validation import validate_fit, validate_predict
from logitfit.estimators import fitting
from logitfit.estimators.checking import CheckingMixin
from logitfit.estimators.terms import TermsMixin
from logitfit.exceptions import ConvergenceWarning, SeparationWarning
from logitfit.model.fitted import FitRecord, FitStatistics, FittedModel, log_proba_from_scores

__all__ = ["LogisticRegression", "ConvergenceWarning", "SeparationWarning"]

PENALTIES = fitting.PENALTIES
_PARAM_NAMES: dict[type, list[str]] = {}


class LogisticRegression(TermsMixin, CheckingMixin, ClassifierMixin, BaseEstimator):
    """Logistic regression, binary (sigmoid) and multinomial (softmax), fitted exactly.

    Minimises the weighted mean log loss plus an optional L2 term::

        J(w, b) = (1/S) sum_i s_i [log(1 + exp(z_i)) - y_i z_i] + (alpha/2) ||w||^2,
        z_i = x_i^T w + b,  S = sum_i s_i

    (softmax log loss for three or more classes). **The default is the
    textbook J with no penalty** (``penalty=None``), the course's cost. The
    intercept is never penalised. scikit-learn's ``C`` corresponds to
    ``alpha = 1 / (C * S)``.

    Parameters
    ----------
    penalty : {None, "l2", "l1", "elasticnet"}, default=None
        None fits the plain maximum-likelihood model; "l2" adds (alpha/2)||w||^2;
        "l1" adds alpha ||w||_1; "elasticnet" adds
        alpha [l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2] (glmnet's form; see
        :mod:`logitfit.model.penalties`). L1 and elastic net use solver "cd" (auto) or "prox".
    alpha : float, default=1e-4
        Penalty strength (unused with ``penalty=None``).
    fit_intercept : bool, default=True
    solver : {"auto", "newton", "newton-cg", "lbfgs", "gd", "sgd"}, default="auto"
        "auto" takes Newton-Cholesky for a binary model with up to ``NEWTON_MAX_PARAMS``
        (150) parameters, else Newton-CG (never L-BFGS); see docs/solvers.md.
    tol : float, default=1e-6
        Stop when ``max_j |grad_j J| <= tol`` (J is a mean, so tol is scale-free in n).
    max_iter : int or None, default=None
        Iteration limit; None uses the solver's default (newton 100, newton-cg
        200, lbfgs 1000, gd 10000, sgd 1000 epochs).
    class_weight : dict, "balanced" or None
        Multiplies each row's weight by the weight of its class.
    warm_start : bool, default=False
        Start from the previous fit's coefficients when shapes agree.
    random_state : int or None
        Seeds sgd's shuffling.
    verbose : int, default=0
        Print one line per iteration when positive.
    learning_rate : float or None
        gd: a fixed step (None: Armijo line search). sgd: the base step.
    batch_size : int, default=256
        sgd's first mini-batch size (batches grow each epoch).
    sgd_method : {"adam", "momentum"}, default="adam"
    n_threads : int or None
        Threads for the block map (None: all available CPUs).
    dtype : numpy dtype or None
        ``np.float32`` reads X as float32 (half the bytes; sums in float64).
        None keeps float32 input as float32 and converts the rest to float64.
    callback : callable or None
        ``callback(iteration, x, objective, grad_norm)`` after each iteration;
        returning True stops the fit.
    l1_ratio : float in [0, 1], default=1.0
        Elastic-net mixing (``penalty="elasticnet"`` only).
    penalty_factor : array of shape (n_features,) or None
        Per-feature multipliers of alpha (0 leaves a feature unpenalised).
    grouped : bool, default=False
        Multinomial L1/elastic net: penalise each feature's K coefficients by
        their Euclidean norm, so a feature is kept or dropped for all classes.
    lower_bounds, upper_bounds : float, array of shape (n_features,) or None
        Box bounds on the coefficients (must contain 0; the intercept is never
        bounded). Need solver "cd" or "prox" (auto picks "cd").
    weight_type : {None, "frequency", "analytic", "probability"}, default=None
        What ``sample_weight`` means for inference (the fit is the same):
        "frequency" (row i stands for w_i rows, whole numbers: every figure equals
        the expanded data's), "analytic" (variances 1/w_i, n = rows, as statsmodels'
        ``var_weights``), "probability" (survey weights: sandwich standard errors
        only). None keeps the earlier rule: n = sum w, with the analytic sandwich;
        see :mod:`logitfit.inference.weights`.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
    converged_ : bool
    history_ : dict of lists "objective", "grad_norm", "step_size" (entry 0 is the start)
    solver_ : str, the solver that ran (after resolving "auto")
    objective_ : float, J at the solution
    n_features_in_, feature_names_in_ : as in scikit-learn

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> from logitfit import LogisticRegression
    >>> model = LogisticRegression().fit(X, y)
    >>> model.coef_.round(2), model.intercept_.round(2)
    (array([[ 1.17, -2.41]]), array([0.32]))
    >>> model.predict_proba(X[:2]).round(3)
    array([[0.313, 0.687],
           [0.306, 0.694]])
    >>> model.score(X, y)
    0.815
    >>> LogisticRegression(penalty="l2", alpha=0.1).fit(X, y).coef_.round(2)
    array([[ 0.46, -1.  ]])
    """

    def __init__(
        self,
        penalty: str | None = None,
        alpha: float = 1e-4,
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-6,
        max_iter: int | None = None,
        class_weight: dict | str | None = None,
        warm_start: bool = False,
        random_state: int | None = None,
        verbose: int = 0,
        learning_rate: float | None = None,
        batch_size: int = 256,
        sgd_method: str = "adam",
        n_threads: int | None = None,
        dtype: Any = None,
        callback: Any = None,
        l1_ratio: float = 1.0,
        penalty_factor: Any = None,
        grouped: bool = False,
        lower_bounds: Any = None,
        upper_bounds: Any = None,
        weight_type: str | None = None,
    ) -> None:
        self.penalty = penalty
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.sgd_method = sgd_method
        self.n_threads = n_threads
        self.dtype = dtype
        self.callback = callback
        self.l1_ratio = l1_ratio
        self.penalty_factor = penalty_factor
        self.grouped = grouped
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds
        self.weight_type = weight_type

    @classmethod
    def _get_param_names(cls) -> list[str]:
        # scikit-learn inspects __init__'s signature on every get_params call; it is fixed per class
        names = _PARAM_NAMES.get(cls)
        if names is None:
            names = _PARAM_NAMES[cls] = super()._get_param_names()
        return list(names)

    # ------------------------------------------------------------------ fit

    def _check_params(self) -> None:
        fitting.check_params(self.get_params(deep=False))

    @property
    def _alpha(self) -> float:
        """The smooth (ridge) strength held by the objective; L1 parts go to the solver."""
        return fitting.ridge_alpha(self.get_params(deep=False))

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None, trials: Any = None,
            offset: Any = None) -> LogisticRegression:
        """Fit the model to X (n_samples, n_features) and labels y (any type).

        X may also be a :func:`logitfit.scan` data set (streamed from files; no
        y) or a Dask array / DataFrame with y a Dask array / Series (fitted on
        the workers, see :mod:`logitfit.estimators.distributed`).

        ``trials``: grouped binomial data, ``y`` the successes of ``trials``
        (R's ``cbind(s, n - s)``); classes 0 and 1 (:mod:`logitfit.data.grouped`).
        ``offset``: known terms added to the linear predictor, ``z = X w + b + offset``
        (:mod:`logitfit.data.offsets`); predictions then need one too.
        """
        self._check_params()
        if trials is not None:
            return self._fit_grouped(X, y, trials, sample_weight, offset)
        if self.weight_type == "frequency" and sample_weight is not None:
            from logitfit.data.grouped import check_frequency_weights

            sample_weight = check_frequency_weights(sample_weight, getattr(X, "shape", (None,))[0])
        external = _external_blocks(self, X, y, sample_weight, offset)
        if external is not None:
            set_encoder(self, None)
            return self._fit_blocks(*external)
        X, encoder = encode_for_fit(X)
        return self._fit_encoded(X, y, sample_weight, encoder, offset)

    def _fit_encoded(self, X: Any, y: Any, sample_weight: Any, encoder: Any, offset: Any = None,
                     data: Any = None) -> LogisticRegression:
        """Fit a design matrix that ``encoder`` (None: no table encoding) made from ``data``."""
        design = validate_fit(self, X, y, sample_weight, dtype=self.dtype)
        set_encoder(self, encoder)
        off, name = fitting.fit_offset(offset, design.y.shape[0], len(design.classes), encoder, data)
        blocks = InMemoryBlocks(design.X, design.y, design.sample_weight, n_threads=self.n_threads,
                                offset=off)
        blocks.offset_name = name
        return self._fit_blocks(blocks, design.classes)

    def _fit_grouped(self, X: Any, successes: Any, trials: Any, sample_weight: Any,
                     offset: Any = None) -> LogisticRegression:
        """Fit grouped binomial rows as their success and failure rows (weights s and n - s)."""
        from logitfit.data.grouped import check_counts, check_weights, expand_grouped
        from logitfit.model.weighting import grouped_record

        X, encoder = encode_for_fit(X)
        n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
        w = check_weights(sample_weight, n_rows, self.weight_type)
        s, n = check_counts(successes, trials, n_rows)
        off = None if offset is None else np.tile(fitting.fit_offset(offset, n_rows, 2)[0], 2)
        self._fit_encoded(*expand_grouped(X, s, n, w), encoder, off)
        self.grouped_ = grouped_record(s, n, w, self.weight_type)
        return self

    def _fit_blocks(self, blocks: Blocks, classes: np.ndarray) -> LogisticRegression:
        """Fit on any row source that follows the Blocks protocol (memory, files, Dask)."""
        params = self.get_params(deep=False)
        warm = (self.coef_, self.intercept_) if self.warm_start and hasattr(self, "coef_") else None
        solution = fitting.fit_blocks(blocks, classes, params, warm)
        for stale in ("covariance_", "fit_statistics_", "feature_names_", "formula_", "metadata_",
                      "model_file_", "grouped_"):
            self.__dict__.pop(stale, None)  # a loaded model's stored record describes the old fit
        self.classes_ = solution.classes
        self.coef_, self.intercept_ = solution.coef, solution.intercept
        self.offset_ = fitting.offset_name(blocks)
        result = solution.result
        self.l1_penalty_ = solution.penalty
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.history_ = result.history.as_dict()
        self.solver_ = result.solver
        self.objective_ = result.fun
        self.solver_result_ = result
        from logitfit.inference.results import Retained

        self._retained = Retained(solution.objective)  # for lazy inference; dropped by pickle
        found, separated = fitting.fit_warning(solution, params,
                                               getattr(self, "feature_names_in_", None))
        if separated:
            self.converged_ = False
        if found is not None:
            warnings.warn(found, stacklevel=3)
        return self

    # -------------------------------------------------------------- predict

    def _model(self) -> FittedModel:
        """The fitted model that predicts (built from ``coef_``, ``intercept_``, ``classes_``)."""
        return FittedModel(self.coef_, self.intercept_, self.classes_, encoder=getattr(self, "encoder_", None),
                           params={"fit_intercept": bool(self.fit_intercept)},
                           offset=getattr(self, "offset_", None))

    def decision_function(self, X: Any, offset: Any = None) -> np.ndarray:
        """Linear predictor: ``X w + b (+ offset)`` of shape (n,) for two classes, (n, K) otherwise."""
        if _is_dask(X):  # lazy: one task per partition (logitfit.estimators.distributed)
            return _dask_predict(self, X, "decision_function", offset)
        check_is_fitted(self)
        design = encode_for_predict(self, X)  # a table through the fit's encoder
        model = self._model()
        return model.decision_function(validate_predict(self, X) if design is None else design,
                                       fitting.predict_offset(model, X, offset))

    def predict_proba(self, X: Any, offset: Any = None) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns in ``classes_`` order."""
        if _is_dask(X):  # lazy: one task per partition (logitfit.estimators.distributed)
            return _dask_predict(self, X, "predict_proba", offset)
        return class_probabilities(self.decision_function(X, offset))

    def predict_log_proba(self, X: Any, offset: Any = None) -> np.ndarray:
        """Log class probabilities, computed stably (no log of a rounded probability)."""
        if _is_dask(X):  # lazy: one task per partition (logitfit.estimators.distributed)
            return _dask_predict(self, X, "predict_log_proba", offset)
        return log_proba_from_scores(self.decision_function(X, offset))

    def predict(self, X: Any, offset: Any = None) -> np.ndarray:
        """Most probable class label for each row (two classes: ``p_1 > 0.5``)."""
        if _is_dask(X):  # lazy: one task per partition (logitfit.estimators.distributed)
            return _dask_predict(self, X, "predict", offset)
        check_is_fitted(self)
        return self._model().labels(self.predict_proba(X, offset))

    def score(self, X: Any, y: Any, sample_weight: Any = None, offset: Any = None) -> float:
        """Accuracy of :meth:`predict` on ``(X, y)`` (weighted by ``sample_weight``)."""
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X, offset), sample_weight=sample_weight))

    # ------------------------------------------------------------ model files

    def to_fitted(self, *, encoder: Any = None, covariance: Any = None, metadata: Any = None,
                  formula: str | None = None, inference: bool = True) -> FittedModel:
        """This fit as a :class:`~logitfit.model.fitted.FittedModel` (what model files hold).

        ``inference``: compute the nonrobust covariance and the log-likelihoods
        (one Hessian on the training rows) unless given, so that ``summary()``
        works after :func:`~logitfit.estimators.loading.load`. Skipped for L1
        fits, when the information is singular, and over
        :data:`~logitfit.inference.results.COVARIANCE_MAX_PARAMS` parameters.
        """
        check_is_fitted(self)
        encoder = encoder if encoder is not None else getattr(self, "encoder_", None)
        names = getattr(self, "feature_names_in_", None)
        record = FitRecord(n_iter=getattr(self, "n_iter_", None),
                           converged=getattr(self, "converged_", None),
                           solver=getattr(self, "solver_", None),
                           objective=getattr(self, "objective_", None),
                           history=dict(getattr(self, "history_", None) or {}))
        stats = getattr(self, "fit_statistics_", None)
        if covariance is None:
            covariance = getattr(self, "covariance_", None)
            if covariance is None and inference:
                covariance, stats = self._inference_record()
        if formula is None:
            formula = getattr(self, "formula_", None) or (
                encoder.formula if getattr(encoder, "kind", None) == "formula" else None)
        meta = {**(getattr(self, "metadata_", None) or {}), **(metadata or {})}
        return FittedModel(
            self.coef_, self.intercept_, self.classes_,
            feature_names=[str(n) for n in names] if names is not None else (
                list(encoder.feature_names) if encoder is not None else None),
            encoder=encoder, covariance=covariance, fit=record,
            params=self.get_params(deep=False), statistics=stats, formula=formula,
            metadata=meta, names_from_fit=names is not None, grouped=getattr(self, "grouped_", None),
            offset=getattr(self, "offset_", None))

    def _inference_record(self) -> tuple[np.ndarray | None, FitStatistics | None]:
        """(nonrobust covariance of theta, fit statistics), or (None, None) when unavailable."""
        retained = getattr(self, "_retained", None)
        if retained is None or retained.objective is None or self.penalty in ("l1", "elasticnet"):
            return None, None
        inf = self._inference(0)
        if inf.obj.fit_intercept != bool(self.fit_intercept):
            return None, None  # set_params changed the model after the fit
        return inf.record()

    def save(self, path: Any, *, key: bytes | str | None = None, **kwargs: Any) -> None:
        """Write a model file atomically (:func:`logitfit.io.model_file.save_model`); no pickle.

        ``key`` signs it (HMAC-SHA256); ``kwargs`` go to :meth:`to_fitted`.
        """
        from logitfit.io.model_file import save_model

        save_model(self.to_fitted(**kwargs), path, key=key)

    @classmethod
    def from_fitted(cls, model: FittedModel) -> LogisticRegression:
        """The estimator of a :class:`FittedModel` (its params, coefficients and records).

        Raises ``ValueError`` naming a parameter this estimator does not have or
        one out of its range.
        """
        known = cls().get_params(deep=False)
        unknown = sorted(set(model.params) - set(known))
        if unknown:
            raise fitting.ParamError(unknown[0], f"{unknown[0]} is not a parameter of {cls.__name__}")
        fitting.check_params(model.params, model.n_features)
        est = cls(**model.params)
        est.__dict__.update(fitting.fitted_attributes(model))
        return est

    # ------------------------------------------- formulas and categoricals

    @classmethod
    def from_formula(cls, formula: str, data: Any, sample_weight: Any = None, **params: Any) -> LogisticRegression:
        """Fit ``"y ~ x1 + x2 + C(g)"`` on a DataFrame (formulaic); predict from raw frames.

        The formula's intercept sets ``fit_intercept``; categorical terms are
        treatment coded with named levels (``g[T.b]``, ``C(g)[T.b]`` for ``C(g)``); new
        data are encoded by the same rules and an unseen level is an error naming the row
        and column (see :mod:`logitfit.data.formula`).
        """
        from logitfit.data.formula import FormulaEncoder

        encoder, X, y = FormulaEncoder.from_formula(formula, data)
        model = cls(fit_intercept=encoder.has_intercept, **params)
        model._check_params()
        return model._fit_encoded(X, y, sample_weight, encoder, data=data)

    # ------------------------------------------------------------ inference

    def _inference(self, ref_class: int = 0) -> Any:
        """The lazily built, cached :class:`logitfit.inference.results.Inference` of this fit."""
        check_is_fitted(self)
        from logitfit.inference.results import Inference

        retained = getattr(self, "_retained", None)
        if retained is None and getattr(self, "fit_statistics_", None) is not None:
            from logitfit.estimators.stored import StoredInference

            return StoredInference(self.to_fitted(inference=False), ref_class)
        cache = retained.__dict__.setdefault("cache", {}) if retained is not None else {}
        if ref_class not in cache:
            objective = retained.objective if retained is not None else None
            cache[ref_class] = Inference(self.to_fitted(inference=False), objective, ref_class)
        return cache[ref_class]

    def summary(self, cov_type: str = "nonrobust", groups: Any = None, alpha: float = 0.05, ref_class: int = 0,
                gof: Any = None) -> Any:
        """A :class:`logitfit.inference.summary.Summary`: coefficient table and fit statistics.

        ``cov_type``: "nonrobust" (inverse observed information), "HC0".."HC3"
        (sandwich) or "cluster" (with ``groups``); see :mod:`logitfit.inference.covariance`.
        ``gof=(X, y)`` (or ``(X, y, sample_weight)``) adds the goodness-of-fit tests of those rows
        (:meth:`goodness_of_fit`).
        """
        from logitfit.inference.summary import Summary

        tests = self.goodness_of_fit(*gof) if isinstance(gof, (tuple, list)) else gof
        return Summary(self._inference(ref_class), cov_type, groups, alpha, gof=tests)

    def predict_interval(self, X: Any, level: float = 0.95, cov_type: str = "nonrobust",
                         groups: Any = None, offset: Any = None) -> Any:
        """Predicted probabilities with delta-method standard errors and intervals.

        The interval is computed on the link scale and mapped through the sigmoid, so it
        stays inside [0, 1] (R's ``predict(type="response", se.fit=TRUE)``); see
        :mod:`logitfit.inference.prediction`. ``cov_type``/``groups`` choose the
        covariance as in :meth:`summary`. ``offset``: the rows' offsets, needed when
        the model was fitted with one (it adds to ``eta``; its standard error is unchanged).

        Returns
        -------
        pandas.DataFrame or dict of ndarray
            A DataFrame (indexed as ``X``) when ``X`` is one, else a dict. Binary:
            ``proba``, ``se``, ``lower``, ``upper`` of the positive class and ``eta``,
            ``se_eta`` of the linear predictor. Multinomial: ``proba``, ``se``,
            ``lower``, ``upper`` of shape (n, K) (DataFrame columns ``proba[<class>]`` ...).

        Examples
        --------
        >>> import numpy as np
        >>> from logitfit import LogisticRegression
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 2))
        >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
        >>> out = LogisticRegression().fit(X, y).predict_interval(X[:3], level=0.9)
        >>> sorted(out)
        ['eta', 'lower', 'proba', 'se', 'se_eta', 'upper']
        """
        from logitfit._numerics import issparse
        from logitfit.inference.prediction import prediction_intervals

        check_is_fitted(self)
        design = encode_for_predict(self, X)
        D = validate_predict(self, X) if design is None else design
        D = D.toarray() if issparse(D) else np.asarray(D, dtype=np.float64)
        out = prediction_intervals(self._inference(0), D, level, cov_type, groups,
                                   offset=fitting.predict_offset(self._model(), X, offset))
        if not (hasattr(X, "iloc") and hasattr(X, "columns")):
            return out
        import pandas as pd

        if out["proba"].ndim == 1:
            return pd.DataFrame(out, index=X.index)
        cols = {f"{stat}[{c}]": out[stat][:, k] for stat in ("proba", "se", "lower", "upper")
                for k, c in enumerate(self.classes_)}
        return pd.DataFrame(cols, index=X.index)

    def cov_params(self, cov_type: str = "nonrobust", groups: Any = None) -> np.ndarray:
        """Covariance of the coefficients (intercept last; per class against the reference)."""
        return self._inference().cov_params(cov_type, groups)

    def conf_int(self, alpha: float = 0.05, method: str = "wald") -> np.ndarray:
        """Intervals, shape (k, 2): "wald" or "profile" (profile likelihood, as R's confint)."""
        return self._inference().conf_int(alpha, method)

    def marginal_effects(self) -> dict:
        """Average marginal effects with delta-method standard errors (see Inference.marginal_effects)."""
        return self._inference().marginal_effects()

    def wald_test(self, R: Any, r: Any = None, cov_type: str = "nonrobust", groups: Any = None) -> Any:
        """Wald test of ``R beta = r``, of equations such as ``"GPA = PSI, TUCE = 0"``, or of terms
        (``"C(rank)"``, ``["gpa", "C(rank)"]``: all their coefficients 0).

        ``W = (R b - r)^T (R V R^T)^{-1} (R b - r) ~ chi2(rank R)`` with V from ``cov_type``.
        """
        return self._inference().wald_test(self._term_hypothesis(R), r, cov_type=cov_type, groups=groups)

    @property
    def bse_(self) -> np.ndarray:
        """Standard errors (nonrobust), computed on first access."""
        return self._inference().bse()

    @property
    def pvalues_(self) -> np.ndarray:
        return self._inference().pvalues()

    @property
    def llf_(self) -> float:
        return self._inference().llf

    @property
    def llnull_(self) -> float:
        return self._inference().llnull

    @property
    def aic_(self) -> float:
        return self._inference().aic

    @property
    def bic_(self) -> float:
        return self._inference().bic

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _is_dask(X: Any) -> bool:
    return type(X).__module__.split(".")[0] == "dask"


def _dask_predict(estimator: LogisticRegression, X: Any, method: str, offset: Any = None) -> Any:
    from logitfit.estimators.distributed import predict_lazy

    check_is_fitted(estimator)
    return predict_lazy(estimator, X, method, offset)


def _external_blocks(estimator: LogisticRegression, X: Any, y: Any, sample_weight: Any,
                     offset: Any = None) -> tuple | None:
    """(blocks, classes) for rows that do not live in this process: a scanned file set or Dask."""
    hook = getattr(X, "_logitfit_blocks", None)
    if hook is not None:
        if offset is not None:
            raise ValueError("a scanned data set takes its offsets from a column: "
                             "scan(..., offset='column'), not fit(offset=...)")
        return hook(estimator, y, sample_weight)
    if _is_dask(X):
        from logitfit.estimators.distributed import fit_blocks

        return fit_blocks(estimator, X, y, sample_weight, offset)
    return None
