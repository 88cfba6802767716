"""A self-contained HTML report of a fitted model on labelled data.

One HTML file, no network requests: styles inline, every figure an embedded
base64 PNG (matplotlib, Agg). Sections: summary (model, data, metrics),
coefficients (table, and a plot with 95% intervals when the covariance is
known), cost per iteration, ROC and PR curves, calibration (with each bin's
interval of the mean predicted probability when the covariance is known, from
:mod:`logitfit.inference.calibration`), confusion matrix, and the decision
boundary when the model has two features.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np

from logitfit.inference.table import INTERCEPT, model_coefficient_table

__all__ = ["build_report", "coefficient_rows", "figure_to_data_uri"]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:1em}.fig{margin:.5em 0}.fig img{max-width:100%}
.note{color:#666;font-size:.9em}
"""


def coefficient_rows(model: Any, names: list[str], cov: np.ndarray | None) -> list[dict]:
    """The command line's key names (se, p, ci_low, ci_high) for :func:`model_coefficient_table`'s rows."""
    keys = {"std_err": "se", "p_value": "p", "ci_lower": "ci_low", "ci_upper": "ci_high"}
    return [{keys.get(k, k): v for k, v in row.items()} for row in model_coefficient_table(model, names, cov)]


def figure_to_data_uri(fig: Any, dpi: int = 100) -> str:
    """A matplotlib Figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _e(v: Any) -> str:
    if isinstance(v, float):
        return html.escape(f"{v:.6g}")
    return html.escape("-" if v is None else str(v))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fig(fig: Any, alt: str) -> str:
    return f'<div class="fig"><img alt="{html.escape(alt)}" src="{figure_to_data_uri(fig)}"></div>'


def build_report(
    model: Any,
    y: np.ndarray,
    proba: np.ndarray,
    *,
    metrics: dict[str, Any],
    X: np.ndarray | None = None,
    feature_names: list[str] | None = None,
    covariance: np.ndarray | None = None,
    title: str = "logitfit report",
    diagnostics: Any = None,
    goodness_of_fit: Any = None,
    calibration_sums: dict[str, np.ndarray] | None = None,
) -> str:
    """Render the report as one HTML string.

    Parameters
    ----------
    model : logitfit.model.fitted.FittedModel
        The fit (``LogisticRegression.to_fitted()`` or a loaded model file).
    y : ndarray, shape (n,)
        True labels of the evaluation data.
    proba : ndarray, shape (n, K)
        ``model.predict_proba`` of that data.
    metrics : dict
        :func:`logitfit.metrics.classification_report` of ``y`` and ``proba``.
    X : ndarray, shape (m, 2), optional
        Design rows (a sample) for the decision-boundary plot of a two-feature model.
    feature_names : list of str, optional
        Design column names (default ``feature_names_in_`` or ``x0..``).
    covariance : ndarray, optional
        Parameter covariance, for standard errors and intervals.
    title : str
    diagnostics : DataFrame or dict, optional
        ``model.diagnostics(X, y)`` of the rows: adds the influence plot (leverage,
        Cook's distance) to the "Model checking" section.
    goodness_of_fit : GoodnessOfFit, optional
        ``model.goodness_of_fit(X, y)``: all its tests; without it the section shows
        Hosmer-Lemeshow from ``y`` and ``proba`` (two classes).
    calibration_sums : dict, optional
        :func:`logitfit.inference.calibration.calibration_sums` of the evaluated rows
        (added over batches by a streaming caller); computed here when ``X`` holds
        every evaluated row. With ``covariance`` the calibration plot shows the 95%
        interval of each bin's mean predicted probability (two classes; none for
        L1-penalised fits; L2-penalised ones are labelled).

    Returns
    -------
    str
        A complete HTML document with every image embedded.
    """
    from logitfit import plots

    coef = np.atleast_2d(model.coef)
    p = coef.shape[1]
    names = feature_names or model.feature_names or [f"x{j}" for j in range(p)]
    classes = np.asarray(model.classes)
    parts = [f"<h1>{html.escape(title)}</h1>"]

    # summary
    penalty = model.params.get("penalty")
    info = [
        ["classes", ", ".join(map(str, classes.tolist()))],
        ["features", p],
        ["penalty", f"{penalty or 'none'}" + (f" (alpha={model.params.get('alpha')})"
                                             if penalty else "")],
        ["solver", model.fit.solver or model.params.get("solver")],
        ["iterations", model.fit.n_iter],
        ["converged", model.fit.converged],
        ["evaluation rows", metrics.get("n")],
    ]
    keys = ["accuracy", "precision", "recall", "f1", "log_loss", "brier", "roc_auc", "pr_auc"]
    parts.append("<h2>Summary</h2><div class='grid'>" + _table(["model", ""], info)
                 + _table(["metric", "value"], [[k, metrics.get(k)] for k in keys]) + "</div>")

    # coefficients
    rows = model_coefficient_table(model, names, covariance)
    has_se = bool(rows) and "std_err" in rows[0]
    header = ["class", "term", "coef"] + (["std err", "z", "P>|z|", "[0.025", "0.975]"]
                                          if has_se else [])
    body = [[f"{r['class']} vs {r['reference']}" if "reference" in r else r["class"], r["term"],
             r["coef"]]
            + ([r["std_err"], r["z"], r["p_value"], r["ci_lower"], r["ci_upper"]] if has_se else [])
            for r in rows]
    parts.append("<h2>Coefficients</h2>" + _table(header, body))
    figs = []
    groups: dict[str, list[dict]] = {}  # one plot per class (or per contrast with the reference)
    for r in rows:
        label = f"{r['class']} vs {r['reference']}" if "reference" in r else str(r["class"])
        groups.setdefault(label, []).append(r)
    for label, grp in groups.items():
        sel = [r for r in grp if r["term"] != INTERCEPT]
        icpt = [r["coef"] for r in grp if r["term"] == INTERCEPT]
        se = np.array([r["std_err"] for r in sel]) if has_se else None
        fig = plots.plot_coefficients(np.array([r["coef"] for r in sel]), names, se,
                                      intercept=icpt[0] if icpt else None)
        fig.axes[0].set_title(f"{fig.axes[0].get_title()} - class {label}")
        figs.append(_fig(fig, f"coefficients, class {label}"))
    if not has_se:
        parts.append("<p class='note'>No covariance stored in the model file: intervals are "
                     "not shown.</p>")
    parts.append("<div class='grid'>" + "".join(figs) + "</div>")

    # convergence
    hist = model.fit.history or {}
    if hist.get("objective"):
        parts.append("<h2>Cost per iteration</h2>" + _fig(plots.plot_history(hist),
                                                           "cost per iteration"))

    # curves
    parts.append("<h2>Discrimination</h2><div class='grid'>"
                 + _fig(plots.plot_roc(y, proba, classes), "ROC curve")
                 + _fig(plots.plot_pr(y, proba, classes), "precision-recall curve") + "</div>")
    cal = [[f"{b['lower']:.1f}-{b['upper']:.1f}", b["count"], b["mean_predicted"],
            b["observed_rate"]] for b in metrics["calibration"]]
    intervals, label, note = _calibration_intervals(model, y, proba, X, covariance, calibration_sums)
    parts.append("<h2>Calibration</h2><div class='grid'>"
                 + _fig(plots.plot_calibration(y, proba, classes, intervals=intervals,
                                               interval_label=label), "calibration plot")
                 + _table(["bin", "rows", "mean predicted", "observed"], cal) + "</div>"
                 + (f"<p class='note'>{html.escape(note)}</p>" if note else ""))
    thr = f" at threshold {metrics['threshold']}" if "threshold" in metrics else ""
    parts.append(f"<h2>Confusion matrix{html.escape(thr)}</h2>"
                 + _fig(plots.plot_confusion(metrics["confusion_matrix"], metrics["labels"]),
                        "confusion matrix"))
    if p == 2 and X is not None and len(X):
        n = len(X)
        parts.append("<h2>Decision boundary</h2>" + _fig(
            plots.plot_decision_boundary(model, X, np.asarray(y)[:n], feature_names=names),
            "decision boundary"))
    if len(classes) == 2:
        parts.append(_checking_section(classes, y, proba, diagnostics, goodness_of_fit))
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")


def _calibration_intervals(model: Any, y: np.ndarray, proba: np.ndarray, X: Any, cov: Any,
                           sums: dict | None) -> tuple[list[dict] | None, str, str]:
    """(per-bin intervals or None, their legend label, a note): the summary's honesty rule."""
    penalty = model.params.get("penalty")
    label = "95% interval of the mean predicted"
    if len(model.classes) != 2:
        return None, label, ""
    if penalty in ("l1", "elasticnet"):
        return None, label, ("L1-penalised fit: no intervals are shown (the selection step "
                             "invalidates the usual standard errors).")
    if cov is None:
        return None, label, "No covariance stored in the model file: intervals are not shown."
    if sums is None and X is not None and len(X) == len(y):
        from logitfit.inference.calibration import calibration_sums as bin_sums

        sums = bin_sums(X, np.asarray(proba)[:, 1], np.asarray(y) == model.classes[1],
                        model.fit_intercept)
    if sums is None:
        return None, label, ""
    from logitfit.inference.calibration import calibration_intervals

    stats = getattr(model, "statistics", None)
    kind = getattr(stats, "cov_type", "nonrobust")
    if penalty == "l2":
        label += " (L2-PENALISED fit: centred on the penalised estimates)"
    elif kind != "nonrobust":
        label += f" ({kind})"
    return calibration_intervals(sums, cov), label, (
        "Horizontal bars: delta-method 95% interval of each bin's mean predicted probability "
        "(from the model's covariance).")


def _checking_section(classes: np.ndarray, y: np.ndarray, proba: np.ndarray, table: Any,
                      gof: Any) -> str:
    """"Model checking": residuals against fitted values, influence, goodness-of-fit tests."""
    from logitfit import plots
    from logitfit.inference.diagnostics import residuals_from_probabilities
    from logitfit.inference.goodness_of_fit import hosmer_lemeshow

    y01 = (np.asarray(y) == classes[1]).astype(np.float64)
    p = np.asarray(proba, dtype=np.float64)[:, 1]
    resid = table if table is not None else residuals_from_probabilities(y01, p)
    figs = [_fig(plots.plot_residuals(resid), "residuals against fitted values")]
    if table is not None:
        figs.append(_fig(plots.plot_influence(table), "leverage against studentised residuals"))
    out = "<h2>Model checking</h2><div class='grid'>" + "".join(figs) + "</div>"
    if gof is not None:
        return out + gof.to_html()
    try:
        hl = hosmer_lemeshow(p, y01)
    except ValueError as err:
        return out + f"<p class='note'>Hosmer-Lemeshow: {html.escape(str(err))}</p>"
    rows = [[hl.name, hl.statistic, hl.reference, hl.p_value]]
    note = ("The influence plot, the le Cessie-van Houwelingen test and the covariate-pattern "
            "tests need the design rows: pass diagnostics= and goodness_of_fit= (or run "
            "logitfit diagnose).")
    return (out + _table(["test", "statistic", "reference", "p-value"], rows)
            + f"<p class='note'>{html.escape(note)}</p>")
