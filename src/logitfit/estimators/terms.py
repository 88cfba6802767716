"""The estimator's term-wise tests and marginal means (a mixin of :class:`~logitfit.LogisticRegression`).

The math lives in :mod:`logitfit.inference.anova` (type II/III Wald and
likelihood-ratio tests per term) and :mod:`logitfit.inference.marginal_means`
(averaged predictions, delta-method errors, pairwise contrasts); this module
finds the data, the encoder and the fit's inference and shapes the tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["TermsMixin"]


class TermsMixin:
    """``anova``, ``marginal_means`` and ``contrasts`` of a fitted :class:`LogisticRegression`."""

    def anova(self, X: Any = None, y: Any = None, *, type: int = 2, test: str = "LR",
              cov_type: str = "nonrobust", groups: Any = None, sample_weight: Any = None,
              offset: Any = None) -> Any:
        """One test per term (a factor's levels together), as R's ``car::Anova`` and ``drop1``.

        Type III tests each term against the full model; type II tests a term
        against the model of all terms that do not contain it (a main effect
        ignoring its interactions). ``test="LR"`` refits the reduced models on the
        training rows the fit keeps; ``test="Wald"`` needs only the covariance
        (``cov_type``/``groups`` as in :meth:`summary`). Containment, the rules and
        the formulas: :mod:`logitfit.inference.anova`.

        Parameters
        ----------
        X, y : the training data, optional
            Needed only when the model no longer holds its rows (loaded from a
            file or pickled): the model is refitted on them (with its formula or
            column encoding; ``y`` defaults to a formula's target column of ``X``).
        type : {2, 3}
        test : {"LR", "Wald"}
        cov_type, groups : the Wald test's covariance.
        sample_weight, offset : weights and offsets of the rows of ``X`` (a formula's
            ``offset(...)`` term is evaluated on ``X``).

        Returns
        -------
        pandas.DataFrame (or a plain-text table without pandas)
            Indexed by term, columns ``df``, ``statistic`` (chi-square), ``p_value``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from logitfit import LogisticRegression
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"x": rng.normal(size=300), "g": rng.choice(["a", "b", "c"], 300)})
        >>> df["y"] = (df.x + (df.g == "c") + rng.logistic(size=300) > 0).astype(int)
        >>> model = LogisticRegression.from_formula("y ~ x + g", df)
        >>> table = model.anova(type=2, test="LR")
        >>> list(table.index), list(table["df"])
        (['x', 'g'], [1, 2])
        """
        from logitfit.inference.anova import anova, as_table

        est = self._with_data(X, y, sample_weight, offset, test)
        rows = anova(est._inference(), type=type, test=test, cov_type=cov_type, groups=groups)
        kind = "likelihood-ratio" if test == "LR" else "Wald"
        return as_table(rows, f"Type {'II' if type == 2 else 'III'} {kind} chi-square tests",
                        index="term")

    def marginal_means(self, data: Any, at: Any, *, weights: Any = None,
                       level: float = 0.95, cov_type: str = "nonrobust", groups: Any = None,
                       offset: Any = None) -> Any:
        """Predicted probabilities averaged over the rows of ``data`` with ``at``'s variables set.

        For each combination of the values in ``at`` (``{"rank": [1, 2, 3, 4]}``, or
        numbers such as ``{"gre": [400, 600]}``; a factor's name, or a list of names, stands
        for all its training levels) every row gets those values and the
        predicted probabilities are averaged (the counterfactual average, not
        emmeans' reference grid: see :mod:`logitfit.inference.marginal_means`).
        Standard errors by the delta method with the covariance ``cov_type``;
        intervals on the logit scale. A one-row ``data`` gives predictions at points.
        ``offset``: the rows' offsets for a model fitted with one (a formula's
        ``offset(...)`` term is evaluated on each counterfactual table).

        Returns
        -------
        pandas.DataFrame
            The grid columns, ``class`` (multinomial), ``proba``, ``se``, ``lower``, ``upper``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from logitfit import LogisticRegression
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"x": rng.normal(size=300), "g": rng.choice(["a", "b", "c"], 300)})
        >>> df["y"] = (df.x + (df.g == "c") + rng.logistic(size=300) > 0).astype(int)
        >>> model = LogisticRegression.from_formula("y ~ x + g", df)
        >>> means = model.marginal_means(df, {"g": ["a", "b", "c"]})
        >>> list(means.columns)
        ['g', 'proba', 'se', 'lower', 'upper']
        """
        from logitfit.inference.anova import as_table
        from logitfit.inference.marginal_means import marginal_means

        data, at = self._frame(data), self._grid(at)
        rows, _, _ = marginal_means(self._inference(), self._transform, data, at, weights, level,
                                    cov_type, groups, self._offsets(offset))
        return as_table(rows, "Marginal means (predicted probabilities averaged over the data)")

    def contrasts(self, data: Any, at: Any, *, scale: str = "difference",
                  adjust: str = "holm", weights: Any = None, level: float = 0.95,
                  cov_type: str = "nonrobust", groups: Any = None, offset: Any = None) -> Any:
        """Pairwise contrasts of :meth:`marginal_means`: differences or odds ratios, adjusted.

        ``scale="difference"``: ``m_a - m_b``; ``"odds_ratio"``: the odds ratio of the
        averaged probabilities (tested on the log scale). ``adjust``: "holm",
        "bonferroni" or "none" over all pairs (per class); intervals are Bonferroni's
        under either adjustment. Definitions: :mod:`logitfit.inference.marginal_means`.

        Returns
        -------
        pandas.DataFrame
            ``contrast``, ``class`` (multinomial), ``estimate``, ``se``, ``z``,
            ``p_value``, ``p_adjusted``, ``lower``, ``upper``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from logitfit import LogisticRegression
        >>> rng = np.random.default_rng(0)
        >>> df = pd.DataFrame({"x": rng.normal(size=300), "g": rng.choice(["a", "b", "c"], 300)})
        >>> df["y"] = (df.x + (df.g == "c") + rng.logistic(size=300) > 0).astype(int)
        >>> model = LogisticRegression.from_formula("y ~ x + g", df)
        >>> list(model.contrasts(df, {"g": ["a", "b", "c"]})["contrast"])
        ['a - b', 'a - c', 'b - c']
        """
        from logitfit.inference.anova import as_table
        from logitfit.inference.marginal_means import (
            grid_points,
            marginal_means,
            pairwise_contrasts,
        )

        data, at = self._frame(data), self._grid(at)
        inf = self._inference()
        _, m, G = marginal_means(inf, self._transform, data, at, weights, level, cov_type, groups,
                                 self._offsets(offset))
        rows = pairwise_contrasts(inf, grid_points(at), m, G, scale, adjust, level, cov_type, groups)
        what = "differences of" if scale == "difference" else "odds ratios of"
        return as_table(rows, f"Pairwise {what} marginal means, {adjust} adjustment")

    # -------------------------------------------------------------- helpers

    def _term_hypothesis(self, R: Any) -> Any:
        """``R`` of :meth:`wald_test`: term names (a string without '=', or a list) become rows."""
        named = isinstance(R, str) and "=" not in R
        names = [s.strip() for s in R.split(",")] if named else R
        if named or (isinstance(R, (list, tuple)) and R and all(isinstance(v, str) for v in R)):
            from logitfit.inference.anova import term_hypothesis

            return term_hypothesis(self._inference(), names)
        return R

    def _term_lr_test(self, names: Any) -> Any:
        """LR test of dropping the named terms (:func:`logitfit.lr_test` with term names)."""
        from logitfit.inference.anova import lr_test_terms

        return lr_test_terms(self._inference(), names)

    def _transform(self, frame: Any) -> np.ndarray:
        """The design matrix of a DataFrame, as the fit encoded its training data."""
        encoder = getattr(self, "encoder_", None)
        if encoder is not None and getattr(encoder, "kind", None) != "libsvm":
            return encoder.transform(frame)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            raise ValueError("marginal means need a model fitted on a table (named columns)")
        return frame[list(names)].to_numpy(dtype=np.float64)

    def _grid(self, at: Any) -> dict[str, Any]:
        """``at`` as a dict; a factor's name (or a list of names) becomes its training levels."""
        if isinstance(at, dict):
            return at
        names = [at] if isinstance(at, str) else list(at)
        encoder = getattr(self, "encoder_", None)
        kind = getattr(encoder, "kind", None)
        out = {}
        for name in names:
            levels = None
            if kind == "formula":
                levels = encoder.variables.get(name, {}).get("levels")
            elif kind == "table":
                column = next((c for c in encoder.columns if c.name == name), None)
                levels = list(column.levels) if column is not None and column.levels else None
            if levels is None:
                raise ValueError(f"{name!r} is not a categorical variable of the model: give its "
                                 f"values, at={{{name!r}: [...]}}")
            out[name] = list(levels)
        return out

    def _offsets(self, offset: Any) -> Any:
        """The offsets of a counterfactual table: ``offset``, else the formula's offset term."""
        from logitfit.estimators.fitting import predict_offset

        model = self._model()
        return lambda frame: predict_offset(model, frame, offset)

    @staticmethod
    def _frame(data: Any) -> Any:
        """``data`` as a pandas DataFrame (pyarrow and polars tables are converted)."""
        if hasattr(data, "iloc"):
            return data
        if hasattr(data, "to_pandas"):
            return data.to_pandas()
        raise ValueError("marginal means average over the rows of a table: pass a pandas, "
                         "polars or pyarrow table")

    def _with_data(self, X: Any, y: Any, sample_weight: Any, offset: Any, test: str) -> Any:
        """This fit, or (with ``X``) the same model refitted on ``X``, ``y`` with its encoding."""
        if X is None:
            if y is not None or sample_weight is not None or offset is not None:
                raise ValueError("y, sample_weight and offset come with X")
            retained = getattr(self, "_retained", None)
            if getattr(retained, "objective", None) is None and (
                    test == "LR" or getattr(self, "fit_statistics_", None) is None):
                raise ValueError("this model no longer holds its training rows (loaded from a file "
                                 "or pickled): pass them, model.anova(X, y), to refit it")
            return self
        encoder = getattr(self, "encoder_", None)
        if y is None and getattr(encoder, "target", None) is not None:
            y = self._frame(X)[encoder.target].to_numpy()
        if y is None:
            raise ValueError("pass y with X (the labels of the rows the model is refitted on)")
        est = type(self)(**self.get_params(deep=False))
        if encoder is None or getattr(encoder, "kind", None) == "libsvm":
            return est.fit(X, y, sample_weight=sample_weight, offset=offset)
        return est._fit_encoded(encoder.transform(X), y, sample_weight, encoder, offset, data=X)
