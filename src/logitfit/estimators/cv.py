"""``LogisticRegressionCV``: k-fold cross-validation over a regularisation path.

The alpha grid is computed once on all rows (:func:`logitfit.estimators.regularization.alpha_grid`),
every fold fits the whole path on its training rows (warm starts, strong
rules) in a thread, and scores each alpha on its held-out rows. With fold
scores ``s_{f,a}``: ``cv_mean_[a]`` is their mean, ``cv_se_[a] = sd_f(s) /
sqrt(k)``; ``alpha_min_`` optimises the mean and ``alpha_1se_`` is the largest
alpha whose mean is within one standard error of that optimum (Hastie,
Tibshirani & Friedman 2009, sec. 7.10; glmnet's ``lambda.1se``). The final
model is the all-rows path fit at the selected alpha.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from logitfit._numerics import class_probabilities
from logitfit.blocks import InMemoryBlocks, default_threads
from logitfit.estimators.regularization import PathSpec, alpha_grid, fit_path
from logitfit.metrics import label_indices
from logitfit.model.fitted import FittedModel, log_proba_from_scores

__all__ = ["LogisticRegressionCV", "SCORINGS"]

SCORINGS = ("deviance", "auc", "accuracy")


def _scores(X, y, sw, path, scoring: str, offset=None) -> np.ndarray:
    """Held-out score for every alpha of ``path``: mean deviance (lower is better), AUC or accuracy
    (the held-out rows' offsets in their linear predictors)."""
    out = np.empty(path.alphas.size)
    for a in range(path.alphas.size):
        Z = path.model(a).decision_function(X, offset)
        logp = log_proba_from_scores(Z)
        if scoring == "deviance":
            out[a] = -2.0 * np.sum(sw * logp[np.arange(len(y)), y]) / np.sum(sw)
        elif scoring == "accuracy":
            out[a] = np.sum(sw * (label_indices(class_probabilities(Z)) == y)) / np.sum(sw)
        else:
            from sklearn.metrics import roc_auc_score

            P = np.exp(logp)
            if P.shape[1] == 2:
                out[a] = roc_auc_score(y, P[:, 1], sample_weight=sw)
            else:
                out[a] = roc_auc_score(y, P, sample_weight=sw, multi_class="ovr", labels=np.arange(P.shape[1]))
    return out


class LogisticRegressionCV(ClassifierMixin, BaseEstimator):
    """L1 / elastic-net logistic regression with alpha chosen by stratified k-fold CV.

    Parameters
    ----------
    n_alphas, alpha_min_ratio, alphas, l1_ratio : the grid (see :func:`logitfit.regularization_path`)
    cv : int, number of stratified folds
    scoring : {"deviance", "auc", "accuracy"}
    select : {"min", "1se"}, which alpha the final model uses
    n_jobs : int or None, folds run in this many threads (None: all CPUs)
    random_state : int, shuffling of the folds
    fit_intercept, penalty_factor, grouped, lower_bounds, upper_bounds, tol, max_iter :
        as in :class:`logitfit.LogisticRegression`

    Attributes
    ----------
    alphas_ : (n_alphas,) ; cv_scores_ : (cv, n_alphas) ; cv_mean_, cv_se_ : (n_alphas,)
    cv_n_nonzero_ : (n_alphas,), non-zero features per alpha, mean over the folds
    alpha_min_, alpha_1se_, alpha_ : float ; path_ : PathResult on all rows
    coef_, intercept_, classes_ : the final model

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> from logitfit import LogisticRegressionCV
    >>> model = LogisticRegressionCV(n_alphas=10, cv=5, random_state=0).fit(X, y)
    >>> model.alpha_ > 0
    True
    >>> model.coef_.shape
    (1, 2)
    """

    def __init__(
        self,
        n_alphas: int = 100,
        alpha_min_ratio: float | None = None,
        alphas: Any = None,
        l1_ratio: float = 1.0,
        cv: int = 10,
        scoring: str = "deviance",
        select: str = "min",
        n_jobs: int | None = None,
        random_state: int | None = 0,
        fit_intercept: bool = True,
        penalty_factor: Any = None,
        grouped: bool = False,
        lower_bounds: Any = None,
        upper_bounds: Any = None,
        tol: float = 1e-7,
        max_iter: int | None = None,
    ) -> None:
        self.n_alphas = n_alphas
        self.alpha_min_ratio = alpha_min_ratio
        self.alphas = alphas
        self.l1_ratio = l1_ratio
        self.cv = cv
        self.scoring = scoring
        self.select = select
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.penalty_factor = penalty_factor
        self.grouped = grouped
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any, sample_weight: Any = None, offset: Any = None) -> LogisticRegressionCV:
        """Cross-validate the path on ``(X, y)``; ``offset`` (one per row) follows its rows into
        every fold's fit and held-out scores, and the final model needs it to predict."""
        from sklearn.model_selection import StratifiedKFold

        from logitfit.data.encoding import encode_for_fit, set_encoder
        from logitfit.data.offsets import check_offset
        from logitfit.data.validation import validate_fit

        if self.scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {SCORINGS}, got {self.scoring!r}")
        if self.select not in ("min", "1se"):
            raise ValueError(f"select must be 'min' or '1se', got {self.select!r}")
        X, encoder = encode_for_fit(X)  # string columns treatment coded, as LogisticRegression does
        d = validate_fit(self, X, y, sample_weight)
        set_encoder(self, encoder)
        K = len(d.classes)
        off = None if offset is None else check_offset(offset, d.y.shape[0], K)
        self.offset_ = None if off is None else "offset"
        spec = PathSpec(
            self.l1_ratio, self.fit_intercept, self.penalty_factor, self.grouped,
            self.lower_bounds, self.upper_bounds, self.tol, self.max_iter,
        )
        n_jobs = self.n_jobs or default_threads()
        blocks = InMemoryBlocks(d.X, d.y, d.sample_weight, n_threads=n_jobs, offset=off)
        if self.alphas is None:
            alphas = alpha_grid(blocks, K, spec, self.n_alphas, self.alpha_min_ratio)
        else:
            alphas = np.sort(np.asarray(self.alphas, dtype=np.float64))[::-1]
        yi = np.asarray(d.y, dtype=np.intp)
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state).split(d.X, yi)

        def run(split):
            train, test = split
            fold_blocks = InMemoryBlocks(d.X[train], d.y[train], d.sample_weight[train], n_threads=1,
                                         offset=None if off is None else off[train])
            r = fit_path(fold_blocks, K, alphas, spec)
            s = _scores(d.X[test], yi[test], d.sample_weight[test], r, self.scoring,
                        None if off is None else off[test])
            return s, r.n_nonzero

        # Parallelism is across folds: BLAS inside each fold runs on one
        # thread, or n_jobs x BLAS threads oversubscribe the cores (measured:
        # a 500 x 500 solve 30x slower on a loaded 2-core machine).
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1 if n_jobs > 1 else None), ThreadPoolExecutor(max_workers=n_jobs) as pool:
            results = list(pool.map(run, list(folds)))
        scores = np.array([s for s, _ in results])
        self.alphas_ = alphas
        self.cv_scores_ = scores
        self.cv_n_nonzero_ = np.mean([nz for _, nz in results], axis=0)
        self.cv_mean_ = scores.mean(axis=0)
        self.cv_se_ = scores.std(axis=0, ddof=1) / np.sqrt(scores.shape[0])
        sign = 1.0 if self.scoring == "deviance" else -1.0  # minimise sign * score
        best = int(np.argmin(sign * self.cv_mean_))
        within = sign * self.cv_mean_ <= sign * self.cv_mean_[best] + self.cv_se_[best]
        one_se = int(np.flatnonzero(within)[0])  # alphas decrease: first is the largest
        self.alpha_min_ = float(alphas[best])
        self.alpha_1se_ = float(alphas[one_se])
        chosen = best if self.select == "min" else one_se
        self.alpha_ = float(alphas[chosen])
        self.path_ = fit_path(blocks, K, alphas[: chosen + 1], spec, d.classes)
        self.coef_ = self.path_.coef[-1].copy()
        self.intercept_ = self.path_.intercept[-1].copy()
        self.classes_ = d.classes
        return self

    def _model(self) -> FittedModel:
        """The selected fit as the fitted model that predicts."""
        return FittedModel(self.coef_, self.intercept_, self.classes_,
                           params={"fit_intercept": bool(self.fit_intercept)},
                           offset=getattr(self, "offset_", None))

    def _design(self, X: Any) -> Any:
        from logitfit.data.encoding import encode_for_predict
        from logitfit.data.validation import validate_predict

        check_is_fitted(self)
        design = encode_for_predict(self, X)
        return validate_predict(self, X) if design is None else design

    def decision_function(self, X: Any, offset: Any = None) -> np.ndarray:
        """Linear predictor ``X w + b (+ offset)`` at the selected alpha: (n,) for two classes, else (n, K)."""
        return self._model().decision_function(self._design(X), offset)

    def predict_proba(self, X: Any, offset: Any = None) -> np.ndarray:
        """Class probabilities at the selected alpha, columns in ``classes_`` order."""
        return self._model().predict_proba(self._design(X), offset)

    def predict(self, X: Any, offset: Any = None) -> np.ndarray:
        """Most probable class (two classes: ``p_1 > 0.5``) at the selected alpha."""
        return self._model().predict(self._design(X), offset=offset)

    def score(self, X: Any, y: Any, sample_weight: Any = None, offset: Any = None) -> float:
        """Accuracy of :meth:`predict` on ``(X, y)`` (weighted by ``sample_weight``)."""
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X, offset), sample_weight=sample_weight))
