"""A fitted ordinal model as its model file holds it, without scikit-learn: checked state, prediction, summary.

:meth:`OrdinalLogisticRegression.from_state <logitfit.estimators.ordinal.OrdinalLogisticRegression.from_state>`
reads a state through :meth:`OrdinalState.from_state` (every field checked: a
file is untrusted); the command line predicts and summarises with an
:class:`OrdinalState` directly, so ``logitfit predict`` on an ordinal model file
imports no scikit-learn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit.data.encoding import encoder_from_dict, is_table
from logitfit.data.offsets import check_offset
from logitfit.model.ordinal import LINKS, ordinal_proba, params_from_thresholds

__all__ = ["PENALTIES", "SOLVERS", "STATE_FORMAT", "OrdinalState", "check_ordinal_params", "ordered_categories"]

PENALTIES = (None, "l2", "l1", "elasticnet")
#: Solvers that fit the ordinal objective (``cd`` and ``sgd`` need the binary/multinomial objective).
SOLVERS = ("auto", "newton", "newton-cg", "lbfgs", "gd", "prox")
STATE_FORMAT = 1


def _number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def check_ordinal_params(p: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the first of ``link``, ``penalty``, ``solver``, ``alpha``,
    ``l1_ratio``, ``tol``, ``max_iter`` out of its range (missing keys take the defaults).

    Examples
    --------
    >>> from logitfit.estimators.ordinal_state import check_ordinal_params
    >>> check_ordinal_params({"link": "probit", "penalty": "l1", "solver": "prox"})
    >>> try:
    ...     check_ordinal_params({"solver": "cd"})
    ... except ValueError as err:
    ...     print(str(err).split(" for ")[0])
    solver must be one of auto, newton, newton-cg, lbfgs, gd, prox
    """
    p = {"link": "logit", "penalty": None, "solver": "auto", "alpha": 1e-4, "l1_ratio": 1.0, "tol": 1e-8,
         "max_iter": None, **p}
    if p["link"] not in LINKS:
        raise ValueError(f"link must be one of {', '.join(LINKS)}, got {p['link']!r}")
    if p["penalty"] not in PENALTIES:
        raise ValueError(f"penalty must be None, 'l2', 'l1' or 'elasticnet', got {p['penalty']!r}")
    if p["solver"] not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)} for the ordinal model "
                         f"(cd and sgd need the binary/multinomial objective), got {p['solver']!r}")
    if not (_number(p["alpha"]) and np.isfinite(p["alpha"]) and p["alpha"] >= 0):
        raise ValueError(f"alpha must be a finite number >= 0, got {p['alpha']!r}")
    if p["penalty"] == "elasticnet" and not (_number(p["l1_ratio"]) and 0.0 <= p["l1_ratio"] <= 1.0):
        raise ValueError(f"l1_ratio must be in [0, 1], got {p['l1_ratio']!r}")
    if not (_number(p["tol"]) and p["tol"] > 0):
        raise ValueError(f"tol must be > 0, got {p['tol']!r}")
    if p["max_iter"] is not None and not (isinstance(p["max_iter"], int) and not isinstance(p["max_iter"], bool)
                                          and p["max_iter"] >= 0):
        raise ValueError(f"max_iter must be an integer >= 0 or None, got {p['max_iter']!r}")
    l1 = p["penalty"] == "l1" or (p["penalty"] == "elasticnet" and p["l1_ratio"] > 0)
    if l1 and p["alpha"] > 0 and p["solver"] not in ("auto", "prox"):
        raise ValueError(f"an L1 or elastic-net penalty needs solver 'prox' (or 'auto'), got {p['solver']!r}")


def ordered_categories(y: Any, categories: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """(categories in order, category index of every row).

    The order is ``categories`` when given, else that of a pandas categorical
    ``y``, else the sorted distinct values. Every category needs at least one
    row (its threshold is not identified otherwise); a label outside
    ``categories`` is an error naming its row.

    Examples
    --------
    >>> from logitfit.estimators.ordinal_state import ordered_categories
    >>> ordered_categories(["low", "high", "mid"], ["low", "mid", "high"])
    (array(['low', 'mid', 'high'], dtype='<U4'), array([0, 2, 1]))
    """
    cat_dtype = getattr(getattr(y, "dtype", None), "categories", None)
    if categories is None and cat_dtype is not None:
        categories = list(cat_dtype)
    values = np.asarray(y.astype(object) if cat_dtype is not None else y)
    if values.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {values.shape} instead")
    missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool) \
        if values.dtype.kind in "Of" else np.zeros(values.shape, dtype=bool)
    if missing.any():
        raise ValueError(f"y contains missing labels, first at row {int(np.flatnonzero(missing)[0])}")
    if categories is None:
        cats, idx = np.unique(values, return_inverse=True)
    else:
        cats = np.asarray(list(categories))
        if len(set(cats.tolist())) != cats.size:
            raise ValueError("categories contains a label twice")
        lookup = {v: k for k, v in enumerate(cats.tolist())}
        idx = np.empty(values.size, dtype=np.intp)
        for i, v in enumerate(values.tolist()):
            k = lookup.get(v)
            if k is None:
                raise ValueError(f"y has the label {v!r} at row {i}, which is not one of the categories "
                                 f"{cats.tolist()}")
            idx[i] = k
    if cats.size < 2:
        raise ValueError("an ordinal model needs at least two categories; y has one")
    return cats, idx.astype(np.intp)


class OrdinalState:
    """A fitted ordinal model read from a checked state dict: the attributes of the estimator's fit.

    Attributes
    ----------
    link, classes_, coef_, thresholds_, n_features_in_, feature_names_in_ (or None), encoder_
    (or None), offset_fitted_, params (the constructor parameters), n_iter_, converged_,
    solver_, objective_, stored_inference_ (a
    :class:`~logitfit.inference.ordinal.StoredOrdinalInference`, or None).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit import OrdinalLogisticRegression
    >>> from logitfit.estimators.ordinal_state import OrdinalState
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 1))
    >>> y = np.digitize(X[:, 0] + rng.logistic(size=100), [-1.0, 1.0])
    >>> model = OrdinalLogisticRegression().fit(X, y)
    >>> state = OrdinalState.from_state(model.to_state())
    >>> bool(np.array_equal(state.predict_proba(X), model.predict_proba(X)))
    True
    """

    feature_names_in_: np.ndarray | None = None
    encoder_: Any = None
    stored_inference_: Any = None

    @classmethod
    def from_state(cls, state: Any) -> OrdinalState:
        """Every field checked (types, shapes, ranges, ordered thresholds): ``ValueError`` naming it."""
        from logitfit.inference.ordinal import StoredOrdinalInference
        from logitfit.io.family_file import check_state, labels_from_json

        chk = check_state(state, "ordinal model")
        if chk.get("state_format", int) != STATE_FORMAT:
            raise ValueError(f"ordinal model: state_format {state.get('state_format')!r} is not {STATE_FORMAT}")
        out = cls()
        link = chk.get("link", str)
        if link not in LINKS:
            raise ValueError(f"ordinal model: link {link!r} is not one of {', '.join(LINKS)}")
        classes = labels_from_json(chk.get("classes", dict), "ordinal model: classes")
        coef = chk.floats("coef")
        theta = chk.floats("thresholds", classes.size - 1)
        params_from_thresholds(theta)  # ordered and finite, or an error
        names = chk.strings("feature_names", coef.size)
        params = dict(chk.get("params", dict))
        unknown = sorted(set(params) - {"link", "penalty", "alpha", "l1_ratio", "solver", "tol", "max_iter"})
        if unknown:
            raise ValueError(f"ordinal model: params.{unknown[0][:40]} is not a parameter")
        try:
            check_ordinal_params({**params, "link": link})
        except ValueError as err:
            raise ValueError(f"ordinal model: {err}") from None
        encoder_dict = state.get("encoder")
        if encoder_dict is not None:
            out.encoder_ = encoder_from_dict(encoder_dict)
            if list(out.encoder_.feature_names) != names:
                raise ValueError("ordinal model: the encoder's feature names differ from feature_names")
            out.feature_names_in_ = np.asarray(names, dtype=object)
        elif chk.get("names_from_fit", bool):
            out.feature_names_in_ = np.asarray(names, dtype=object)
        record = check_state(chk.get("fit", dict), "ordinal model: fit")
        n_iter, converged = record.get("n_iter", int), record.get("converged", bool)
        solver, objective = record.get("solver", str), record.get("objective", (int, float))
        if n_iter < 0 or solver not in SOLVERS[1:] or not np.isfinite(objective):
            raise ValueError("ordinal model: the fit record needs n_iter >= 0, a known solver and a finite objective")
        out.link, out.params, out.feature_names = link, {**params, "link": link}, names
        out.classes_, out.coef_, out.thresholds_ = classes, coef, theta
        out.offset_fitted_ = chk.get("offset", bool)
        out.n_features_in_ = coef.size
        out.n_iter_, out.converged_, out.solver_, out.objective_ = n_iter, converged, solver, float(objective)
        inf = state.get("inference")
        if inf is not None:
            out.stored_inference_ = StoredOrdinalInference.from_dict(
                inf, np.concatenate([coef, theta]), names, classes, link)
        return out

    # -------------------------------------------------------------- predict

    def design(self, X: Any) -> np.ndarray:
        """The design matrix of ``X``: a table through the encoder (or by column name), an array as it is."""
        if is_table(X):
            if self.encoder_ is not None:
                return self.encoder_.transform(X)
            missing = [c for c in self.feature_names if c not in [str(k) for k in X.columns]]
            if missing:
                raise ValueError(f"the data lack the model's feature column {missing[0]!r}")
            X = X[self.feature_names]
        A = np.asarray(X, dtype=np.float64)
        if A.ndim != 2 or A.shape[1] != self.coef_.size:
            raise ValueError(f"X must have {self.coef_.size} feature columns, got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            i, j = (int(k[0]) for k in np.nonzero(~np.isfinite(A)))
            raise ValueError(f"X has a missing or infinite value at row {i}, column {self.feature_names[j]!r}")
        return A

    def predict_proba(self, X: Any, offset: Any = None) -> np.ndarray:
        """``P(y = k | x)`` for the categories in order, shape (n, n_classes)."""
        eta = self.design(X) @ self.coef_
        if offset is None and self.offset_fitted_:
            raise ValueError("this model was fitted with an offset: pass offset= (one number per row) to predict")
        if offset is not None:
            eta = eta + check_offset(offset, eta.size)
        return ordinal_proba(eta, self.thresholds_, self.link)

    def predict(self, X: Any, offset: Any = None) -> np.ndarray:
        """The most probable category of each row."""
        return self.classes_[np.argmax(self.predict_proba(X, offset), axis=1)]

    def summary(self, cov_type: str = "nonrobust", groups: Any = None, alpha: float = 0.05) -> Any:
        """The coefficient table from the stored covariance (``ValueError`` when the file holds none)."""
        if self.stored_inference_ is None:
            raise ValueError("the model file stores no covariance (an L1 fit): no standard errors")
        return self.stored_inference_.summary(cov_type, groups, alpha, converged=bool(self.converged_))
