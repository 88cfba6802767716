"""The table of a fit: text like statsmodels', a pandas DataFrame, Markdown and HTML.

:class:`Summary` only formats: the estimates, standard errors and statistics come
from :class:`logitfit.inference.results.Inference` (itself computed from the fit's
objective), the table's columns from :func:`logitfit.inference.table.coefficient_table`.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from logitfit.inference.table import coefficient_table

__all__ = ["Summary"]

COLUMNS = ["coef", "std_err", "z", "p_value", "ci_lower", "ci_upper",
           "odds_ratio", "odds_ratio_ci_lower", "odds_ratio_ci_upper"]


class Summary:
    """Coefficient table and fit statistics of a fitted model.

    Parameters
    ----------
    inference : logitfit.inference.results.Inference
    cov_type : str, "nonrobust", "HC0".."HC3" or "cluster"
    groups : array-like, cluster labels (``cov_type="cluster"``)
    alpha : float, the intervals have coverage ``1 - alpha``.
    gof : logitfit.inference.goodness_of_fit.GoodnessOfFit, optional
        Goodness-of-fit tests shown after the coefficients (``model.summary(gof=(X, y))``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> from logitfit import LogisticRegression
    >>> summary = LogisticRegression().fit(X, y).summary()
    >>> type(summary).__name__
    'Summary'
    >>> summary.names
    ['x0', 'x1', 'Intercept']
    >>> summary.coef.round(3)
    array([ 1.174, -2.406,  0.32 ])
    >>> summary.std_err.round(3)
    array([0.239, 0.339, 0.2  ])
    """

    def __init__(self, inference: Any, cov_type: str = "nonrobust", groups: Any = None, alpha: float = 0.05,
                 gof: Any = None) -> None:
        inf = inference
        self.gof = gof
        self.inference = inf
        self.cov_type = cov_type
        self.alpha = alpha
        self.names = list(inf.names)
        m = inf.model
        labels = np.asarray(m.classes)
        n_rows = len(inf.others)
        rows = coefficient_table(inf.params.reshape(n_rows, -1), inf.bse(cov_type, groups).reshape(n_rows, -1),
                                 inf.term_names, [labels[k] for k in inf.others],
                                 reference=labels[inf.ref] if inf.obj.multinomial else None, alpha=alpha)
        self.coef = inf.params
        self.std_err, self.z, self.p_value, self.ci_lower, self.ci_upper = (
            np.array([r[c] for r in rows]) for c in ("std_err", "z", "p_value", "ci_lower", "ci_upper"))
        self.info = {
            "Dep. classes": ", ".join(map(str, m.classes)),
            "No. Observations": _num(inf.nobs),
            "Df Model": str(inf.df_model),
            "Df Residuals": _num(inf.df_resid),
            "Log-Likelihood": f"{inf.llf:.6g}",
            "LL-Null": f"{inf.llnull:.6g}",
            "LR chi2": _given(lambda: f"{inf.llr:.6g}"),
            "LLR p-value": _given(lambda: f"{inf.llr_pvalue:.4g}"),
            "Pseudo R-squ.": f"{inf.prsquared:.4f}",
            "AIC": _given(lambda: f"{inf.aic:.6g}"),
            "BIC": _given(lambda: f"{inf.bic:.6g}"),
            "Deviance": f"{inf.deviance:.6g}",
            "Null deviance": f"{inf.null_deviance:.6g}",
            "Solver": str(m.fit.solver),
            "Iterations": str(m.fit.n_iter),
            "Converged": str(bool(m.fit.converged)),
            "Covariance Type": cov_type,
        }
        if getattr(m, "offset", None) is not None:  # z = X w + b + offset: predictions need it too
            self.info["Offset"] = str(m.offset)
        self.notes = []
        if inf.penalised:
            self.notes.append(
                f"Estimates are L2-PENALISED (alpha={inf.obj.alpha:g}) and biased towards 0; the "
                "covariance is the sandwich H_pen^-1 I H_pen^-1 (le Cessie & van Houwelingen 1992), "
                "so intervals are centred on the penalised estimates.")
        if inf.firth:
            self.notes.append("Firth's bias-reduced (penalised) estimates; covariance I(beta*)^-1. "
                              "Penalised profile intervals: conf_int(method='profile').")
        weight_type = getattr(inf, "weight_type", None)
        if weight_type is not None or getattr(m, "grouped", None) is not None:
            self.notes.append(_weights_note(weight_type, getattr(m, "grouped", None) is not None))
        if inf.obj.multinomial:
            self.notes.append(f"Coefficients of each class against the reference class {str(m.classes[inf.ref])!r}.")
        if not m.fit.converged:
            self.notes.append("The fit did NOT converge: these numbers are not maximum-likelihood estimates.")

    def to_frame(self) -> Any:
        """pandas DataFrame, one row per term, columns as ``COLUMNS``."""
        import pandas as pd

        data = {
            "coef": self.coef, "std_err": self.std_err, "z": self.z, "p_value": self.p_value,
            "ci_lower": self.ci_lower, "ci_upper": self.ci_upper,
            "odds_ratio": np.exp(self.coef), "odds_ratio_ci_lower": np.exp(self.ci_lower),
            "odds_ratio_ci_upper": np.exp(self.ci_upper),
        }
        return pd.DataFrame(data, index=pd.Index(self.names, name="term"), columns=COLUMNS)

    def _rows(self) -> list[list[str]]:
        return [[n, f"{c:.4f}", f"{s:.3f}", f"{z:.3f}", f"{p:.3f}", f"{lo:.3f}", f"{hi:.3f}"]
                for n, c, s, z, p, lo, hi in zip(self.names, self.coef, self.std_err, self.z,
                                                 self.p_value, self.ci_lower, self.ci_upper, strict=True)]

    def _header(self) -> list[str]:
        lo, hi = self.alpha / 2, 1 - self.alpha / 2
        return ["", "coef", "std err", "z", "P>|z|", f"[{lo:.3g}", f"{hi:.3g}]"]

    def __str__(self) -> str:
        title = "Logistic Regression Results (logitfit)"
        items = list(self.info.items())
        half = (len(items) + 1) // 2
        left, right = items[:half], items[half:]
        body = self._rows()
        head = self._header()
        widths = [max(len(r[i]) for r in [*body, head]) for i in range(7)]
        table_w = sum(widths) + 2 * 6
        kw = max(len(k) for k, _ in items) + 1
        vw = max(len(v) for _, v in items)
        lines = []
        for i in range(half):
            a = f"{left[i][0] + ':':<{kw}}{left[i][1]:>{vw}}"
            b = f"{right[i][0] + ':':<{kw}}{right[i][1]:>{vw}}" if i < len(right) else ""
            lines.append(f"{a}   {b}")
        width = max(table_w, max(len(s) for s in lines))
        out = ["=" * width, title.center(width), "=" * width, *lines, "=" * width]
        fmt = lambda r: "  ".join(  # noqa: E731
            r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i]) for i in range(7))
        out += [fmt(head), "-" * width, *(fmt(r) for r in body), "=" * width]
        out += [f"Note: {n}" for n in self.notes]
        if self.gof is not None:
            out += ["", str(self.gof)]
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown: a statistics table then the coefficient table."""
        lines = ["| statistic | value |", "| --- | --- |"]
        lines += [f"| {k} | {v} |" for k, v in self.info.items()]
        head = ["term", *self._header()[1:]]
        lines += ["", "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in self._rows()]
        lines += [f"\n*Note:* {n}" for n in self.notes]
        if self.gof is not None:
            lines += ["", self.gof.to_markdown()]
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML fragment (two tables and the notes), escaped."""
        e = html.escape
        stat = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in self.info.items())
        head = "".join(f"<th>{e(h)}</th>" for h in ["term", *self._header()[1:]])
        rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in self._rows())
        notes = "".join(f"<p><em>Note:</em> {e(n)}</p>" for n in self.notes)
        if self.gof is not None:
            notes += self.gof.to_html()
        return (f'<div class="logitfit-summary"><table class="stats">{stat}</table>'
                f'<table class="coef"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{notes}</div>')

    def _repr_html_(self) -> str:
        return self.to_html()


def _given(figure: Any) -> str:
    """``figure()``, or "n/a" when the fit's weights give no such figure (probability weights)."""
    try:
        return figure()
    except ValueError:
        return "n/a"


def _weights_note(weight_type: str | None, grouped: bool) -> str:
    """What the observations are (:mod:`logitfit.inference.weights`)."""
    if grouped:
        return ("Grouped binomial data: observations are groups; log-likelihood, AIC and deviance of "
                "the grouped model (R's glm(cbind(s, n - s) ~ ...)).")
    return {"frequency": "Frequency weights: each row counts as w rows (n = sum of weights).",
            "analytic": "Analytic (variance) weights: n = number of rows.",
            "probability": "Probability (survey) weights: the log-likelihood is a pseudo-likelihood; "
                           "no LR test, AIC or BIC; sandwich standard errors."}[str(weight_type)]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"
