"""``LogisticRegression``: the estimator a user holds (scikit-learn compatible).

It validates the input (:mod:`logitfit.data.validation`), builds the objective
(:mod:`logitfit.model.objective`) over blocks of rows (:mod:`logitfit.blocks`), looks the
solver up (:mod:`logitfit.solvers`) and keeps the result. No math here.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from logitfit import _numerics
from logitfit.blocks import Blocks, InMemoryBlocks
from logitfit.data.validation import validate_fit, validate_predict
from logitfit.exceptions import ConvergenceWarning, SeparationWarning
from logitfit.model.objective import LogisticObjective
from logitfit.solvers import SOLVERS, SolverOptions, SolverResult, choose_solver, minimize

__all__ = ["LogisticRegression", "ConvergenceWarning", "SeparationWarning"]

PENALTIES = (None, "none", "l2", "l1", "elasticnet", "firth")


class LogisticRegression(ClassifierMixin, BaseEstimator):
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
        "auto" takes Newton-Cholesky for up to ``NEWTON_MAX_PARAMS`` parameters
        (dense), else L-BFGS (dense) or Newton-CG (sparse); see docs/solvers.md.
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

    # ------------------------------------------------------------------ fit

    def _check_params(self) -> None:
        if self.penalty not in PENALTIES:
            raise ValueError(
                f"penalty must be None, 'l2', 'l1', 'elasticnet' or 'firth', got {self.penalty!r}"
            )
        if self.penalty == "elasticnet" and not (0.0 <= self.l1_ratio <= 1.0):
            raise ValueError(f"l1_ratio must be in [0, 1], got {self.l1_ratio!r}")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(SOLVERS)}; got {self.solver!r}")
        if not (np.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be a finite number >= 0, got {self.alpha!r}")
        if not (self.tol > 0):
            raise ValueError(f"tol must be > 0, got {self.tol!r}")
        if self.max_iter is not None and self.max_iter < 0:
            raise ValueError(f"max_iter must be >= 0 or None, got {self.max_iter!r}")

    @property
    def _alpha(self) -> float:
        """The smooth (ridge) strength held by the objective; L1 parts go to the solver."""
        if self.penalty == "l2":
            return float(self.alpha)
        if self.penalty == "l1":
            return 0.0
        if self.penalty == "elasticnet":
            return float(self.alpha) * (1.0 - float(self.l1_ratio))
        return 0.0

    def _l1_penalty(self, objective: LogisticObjective):
        """The non-smooth part for the cd/prox solvers (None for None/"l2" without bounds)."""
        sparse_penalty = self.penalty in ("l1", "elasticnet")
        bounded = self.lower_bounds is not None or self.upper_bounds is not None
        if not (sparse_penalty or bounded):
            return None
        from logitfit.model.penalties import make_penalty

        ratio = 1.0 if self.penalty == "l1" else float(self.l1_ratio)
        return make_penalty(
            objective.n_features,
            objective.n_outputs,
            self.fit_intercept,
            l1=float(self.alpha) * ratio if sparse_penalty else 0.0,
            penalty_factor=self.penalty_factor,
            grouped=bool(self.grouped) and sparse_penalty,
            lower_bounds=self.lower_bounds,
            upper_bounds=self.upper_bounds,
        )

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> LogisticRegression:
        """Fit the model to X (n_samples, n_features) and labels y (any type).

        X may also be a :func:`logitfit.scan` data set (streamed from files; no
        y) or a Dask array / DataFrame with y a Dask array / Series (fitted on
        the workers, see :mod:`logitfit.estimators.distributed`).
        """
        self._check_params()
        external = _external_blocks(self, X, y, sample_weight)
        if external is not None:
            return self._fit_blocks(*external)
        X = self._encode_categoricals(X)
        design = validate_fit(self, X, y, sample_weight, dtype=self.dtype)
        blocks = InMemoryBlocks(design.X, design.y, design.sample_weight, n_threads=self.n_threads)
        return self._fit_blocks(blocks, design.classes)

    def _fit_blocks(self, blocks: Blocks, classes: np.ndarray) -> LogisticRegression:
        """Fit on any row source that follows the Blocks protocol (memory, files, Dask)."""
        self.classes_ = classes
        objective = LogisticObjective(
            blocks,
            len(classes),
            fit_intercept=self.fit_intercept,
            alpha=self._alpha,
            penalty_factor=self.penalty_factor,
        )
        l1_penalty = self._l1_penalty(objective)
        solver = self.solver
        if solver == "auto":
            solver = choose_solver(
                blocks.n_samples,
                objective.n_params,
                sparse=blocks.is_sparse,
                multinomial=objective.multinomial,
            )
            if l1_penalty is not None:
                solver = "cd"
        elif l1_penalty is not None and solver not in ("cd", "prox"):
            raise ValueError(
                f"penalty={self.penalty!r} and box bounds need solver 'cd' or 'prox' (or 'auto'), "
                f"got {solver!r}"
            )
        options = SolverOptions(
            tol=self.tol,
            max_iter=self.max_iter,
            verbose=self.verbose,
            callback=self.callback,
            learning_rate=self.learning_rate,
            random_state=self.random_state,
            batch_size=self.batch_size,
            sgd_method=self.sgd_method,
            penalty=l1_penalty,
        )
        if self.penalty == "firth":  # bias-reduced ML: its own Newton iteration (logitfit.inference.firth)
            from logitfit.inference.firth import fit_firth

            result = fit_firth(objective, self._start(objective), options)
        else:
            result = minimize(objective, self._start(objective), solver, options)
        self.l1_penalty_ = l1_penalty
        self._store(objective, result)
        self._check_convergence(objective, result)
        return self

    def _start(self, objective: LogisticObjective) -> np.ndarray:
        if self.warm_start and hasattr(self, "coef_"):
            x = self._pack_coef(objective)
            if x is not None:
                return x
        return objective.zero()

    def _pack_coef(self, objective: LogisticObjective) -> np.ndarray | None:
        coef, intercept = self.coef_, self.intercept_
        if coef.shape != (objective.n_outputs, objective.n_features):
            return None
        B = coef.T
        if self.fit_intercept:
            B = np.vstack([B, intercept[None, :]])
        return np.array(B.ravel() if objective.multinomial else B[:, 0], dtype=np.float64)

    def _store(self, objective: LogisticObjective, result: SolverResult) -> None:
        x = result.x
        if objective.multinomial:
            # The softmax is unchanged by adding one constant to every class of a
            # row of B; rows the penalty does not reach are centred over the
            # classes so that every solver reports the same (symmetric) answer.
            B = x.reshape(objective.n_dof, objective.n_classes).copy()
            free = objective.l2.reshape(objective.n_dof, objective.n_classes)[:, 0] == 0
            pen = getattr(self, "l1_penalty_", None)
            if pen is not None:  # L1 rows are identified by the penalty: leave them alone
                free &= pen.lam.reshape(objective.n_dof, objective.n_classes)[:, 0] == 0
                free &= ~np.isfinite(pen.lower.reshape(objective.n_dof, -1)[:, 0])
                free &= ~np.isfinite(pen.upper.reshape(objective.n_dof, -1)[:, 0])
            B[free] -= B[free].mean(axis=1, keepdims=True)
            x = B.ravel()
        W, b = objective.unpack(x)
        if objective.multinomial:
            self.coef_ = np.ascontiguousarray(W.T)
            self.intercept_ = np.array(b, dtype=np.float64)
        else:
            self.coef_ = np.asarray(W, dtype=np.float64).reshape(1, -1).copy()
            self.intercept_ = np.array([b], dtype=np.float64)
        self.n_iter_ = result.n_iter
        self.converged_ = result.converged
        self.history_ = result.history.as_dict()
        self.solver_ = result.solver
        self.objective_ = result.fun
        self.solver_result_ = result
        from logitfit.inference.results import Retained

        self._retained = Retained(objective)  # for lazy inference; dropped by pickle

    def _check_convergence(self, objective: LogisticObjective, result: SolverResult) -> None:
        penalised = objective.alpha > 0 or (
            self.penalty in ("l1", "elasticnet") and float(self.alpha) > 0
        )
        if not penalised and self.penalty != "firth":
            from logitfit.inference.separation import separation_warning

            # Complete separation by the fitted predictor (any row source held
            # in memory), then the LP check that names variables (logitfit.inference.separation).
            found = separation_warning(self, objective.blocks, result)
            if found is not None:
                self.converged_ = False
                warnings.warn(found, stacklevel=3)
                return
        if not result.converged:
            warnings.warn(
                ConvergenceWarning(
                    f"solver {result.solver!r} stopped before convergence: max|grad J| = "
                    f"{result.grad_norm:.3g} > tol = {self.tol:.3g} after {result.n_iter} "
                    f"iterations ({result.message}). Try, in this order: standardise the "
                    "features; solver='newton' (few features) or 'lbfgs'; add a penalty "
                    "(penalty='l2'); raise max_iter; or loosen tol if this precision is enough."
                ),
                stacklevel=3,
            )

    def _separates_training_data(self, blocks: Blocks, Z: np.ndarray | None = None) -> bool:
        """True when the fitted predictor classifies every weighted row correctly with margin.

        Then scaling the coefficients up lowers the loss without end, so no
        finite maximum-likelihood estimate exists (complete separation).
        ``Z``: the fitted linear predictor on ``blocks.X`` when already computed.
        """
        if not isinstance(blocks, InMemoryBlocks):
            return False
        if Z is None:
            Z = self._decision(blocks.X)
        keep = blocks.sw > 0
        if Z.ndim == 1:
            sign = np.where(blocks.y[keep] > 0.5, 1.0, -1.0)
            return bool(np.all(sign * Z[keep] > 0))
        Zk = Z[keep]
        yk = blocks.y[keep]
        rows = np.arange(len(yk))
        true = Zk[rows, yk].copy()
        Zk[rows, yk] = -np.inf
        return bool(np.all(true > Zk.max(axis=1)))

    # -------------------------------------------------------------- predict

    def _decision(self, X: Any) -> np.ndarray:
        return _numerics.linear_predictor(X, self.coef_, self.intercept_)

    def decision_function(self, X: Any) -> np.ndarray:
        """Linear predictor: ``X w + b`` of shape (n,) for two classes, (n, K) otherwise."""
        if _is_dask(X):  # lazy: one task per partition (logitfit.estimators.distributed)
            return _dask_predict(self, X, "decision_function")
        check_is_fitted(self)
        encoder = getattr(self, "formula_encoder_", None)
        if encoder is not None:  # fitted from a formula / categorical columns: encode the same way
            X = encoder.transform(X)
        return self._decision(validate_predict(self, X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns in ``classes_`` order."""
        if _is_dask(X):  # lazy: one task per partition (logitfit.estimators.distributed)
            return _dask_predict(self, X, "predict_proba")
        return _numerics.class_probabilities(self.decision_function(X))

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log class probabilities, computed stably (no log of a rounded probability)."""
        if _is_dask(X):  # lazy: one task per partition (logitfit.estimators.distributed)
            return _dask_predict(self, X, "predict_log_proba")
        Z = self.decision_function(X)
        if Z.ndim == 1:
            return np.column_stack([_numerics.log_sigmoid(-Z), _numerics.log_sigmoid(Z)])
        return Z - _numerics.logsumexp(Z)[:, None]

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class label for each row."""
        if _is_dask(X):  # lazy: one task per partition (logitfit.estimators.distributed)
            return _dask_predict(self, X, "predict")
        Z = self.decision_function(X)
        idx = (Z > 0).astype(np.intp) if Z.ndim == 1 else Z.argmax(axis=1)
        return self.classes_[idx]

    def save(self, path: Any, **kwargs: Any) -> None:
        """Write a versioned JSON model file atomically (:func:`logitfit.io.model_file.save`); no pickle."""
        from logitfit.io.model_file import save

        save(self, path, **kwargs)

    # ------------------------------------------- formulas and categoricals

    def _encode_categoricals(self, X: Any) -> Any:
        """Treatment-code string/categorical DataFrame columns (logitfit.data.formula); else X as is."""
        self.__dict__.pop("formula_encoder_", None)
        if not hasattr(X, "iloc"):
            return X
        from logitfit.data.formula import FormulaEncoder, has_non_numeric_columns

        if not has_non_numeric_columns(X):
            return X
        encoder = FormulaEncoder.for_frame(X)
        self.formula_encoder_ = encoder
        return encoder.transform(X)

    @classmethod
    def from_formula(cls, formula: str, data: Any, sample_weight: Any = None, **params: Any) -> LogisticRegression:
        """Fit ``"y ~ x1 + x2 + C(g)"`` on a DataFrame (formulaic); predict from raw frames.

        The formula's intercept sets ``fit_intercept``; categorical terms are
        treatment coded with named levels (``g[T.b]``); new data are encoded by
        the same rules and an unseen level is an error (see :mod:`logitfit.data.formula`).
        """
        from logitfit.data.formula import FormulaEncoder

        encoder, X, y = FormulaEncoder.from_formula(formula, data)
        model = cls(fit_intercept=encoder.has_intercept, **params)
        model.fit(X, y, sample_weight=sample_weight)
        model.formula_encoder_ = encoder
        return model

    # ------------------------------------------------------------ inference

    def _inference(self, ref_class: int = 0) -> Any:
        """The lazily built, cached :class:`logitfit.inference.results.Inference` of this fit."""
        check_is_fitted(self)
        from logitfit.inference.results import Inference

        retained = getattr(self, "_retained", None)
        cache = retained.__dict__.setdefault("cache", {}) if retained is not None else {}
        if ref_class not in cache:
            cache[ref_class] = Inference(self, ref_class)
        return cache[ref_class]

    def summary(self, cov_type: str = "nonrobust", groups: Any = None, alpha: float = 0.05, ref_class: int = 0) -> Any:
        """A :class:`logitfit.inference.summary.Summary`: coefficient table and fit statistics.

        ``cov_type``: "nonrobust" (inverse observed information), "HC0".."HC3"
        (sandwich) or "cluster" (with ``groups``); see :mod:`logitfit.inference.covariance`.
        """
        from logitfit.inference.summary import Summary

        return Summary(self._inference(ref_class), cov_type, groups, alpha)

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
        """Wald test of ``R beta = r``, or of equations in the term names such as ``"GPA = PSI, TUCE = 0"``.

        ``W = (R b - r)^T (R V R^T)^{-1} (R b - r) ~ chi2(rank R)`` with V from ``cov_type``.
        """
        return self._inference().wald_test(R, r, cov_type=cov_type, groups=groups)

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


def _dask_predict(estimator: LogisticRegression, X: Any, method: str) -> Any:
    from logitfit.estimators.distributed import predict_lazy

    check_is_fitted(estimator)
    return predict_lazy(estimator, X, method)


def _external_blocks(estimator: LogisticRegression, X: Any, y: Any, sample_weight: Any) -> tuple | None:
    """(blocks, classes) for rows that do not live in this process: a scanned file set or Dask."""
    hook = getattr(X, "_logitfit_blocks", None)
    if hook is not None:
        return hook(estimator, y, sample_weight)
    if _is_dask(X):
        from logitfit.estimators.distributed import fit_blocks

        return fit_blocks(estimator, X, y, sample_weight)
    return None
