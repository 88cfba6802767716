"""Text the commands print: aligned plain-text tables of coefficients, metrics and model files.

Every cell is plain text: a value, column name or class label that looks like
markup (``[/]``, ``[bold]``) is printed as it is, never interpreted.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

METRIC_KEYS = ("accuracy", "precision", "recall", "f1", "log_loss", "brier", "roc_auc", "pr_auc")


def echo(text: str = "") -> None:
    """Print ``text`` to stdout."""
    sys.stdout.write(text + "\n")


def fmt_value(v: Any) -> str:
    """A table cell: six significant digits for floats, ``-`` for missing values."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}" if np.isfinite(v) else str(v)
    return str(v)


def text_table(title: str, columns: list[str], rows: list[list[str]]) -> str:
    """An aligned table: first column left-justified, the others right-justified."""
    cells = [[str(c) for c in columns], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[j]) for r in cells) for j in range(len(columns))]

    def line(r: list[str]) -> str:
        return "  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                         for j, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

    out = [title] if title else []
    out += [line(cells[0]), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def coefficient_table(model: Any, names: list[str], cov: np.ndarray | None) -> str:
    """The coefficients, with standard errors, z, p and 95 % intervals when ``cov`` is given."""
    from logitfit.report import coefficient_rows

    rows = coefficient_rows(model, names, cov)
    multi = np.atleast_2d(model.coef).shape[0] > 1
    cols = (["class"] if multi else []) + ["term", "coef"]
    if rows and "se" in rows[0]:
        cols += ["std err", "z", "P>|z|", "[0.025", "0.975]"]
    body = []
    for r in rows:
        line = ([str(r["class"])] if multi else []) + [r["term"], fmt_value(r["coef"])]
        if "se" in r:
            line += [fmt_value(r[k]) for k in ("se", "z", "p", "ci_low", "ci_high")]
        body.append(line)
    title = "coefficients" if multi else f"coefficients (log-odds of class {rows[0]['class']!r})"
    if rows and "reference" in rows[0]:
        title = f"coefficients (log-odds of each class vs class {rows[0]['reference']!r})"
    return text_table(title, cols, body)


def coefficient_text(result: Any) -> str:
    """The fit's coefficient table: the statsmodels-style summary when inference is available."""
    if result.inference is not None:
        from logitfit.inference.summary import Summary

        try:
            return str(Summary(result.inference))
        except (ValueError, ArithmeticError):  # e.g. a singular information matrix
            pass
    return coefficient_table(result.fitted, result.encoder.feature_names, result.covariance)


def metrics_text(m: dict[str, Any], brief: bool) -> str:
    """The metrics table; unless ``brief``, the confusion matrix and calibration table too."""
    parts = [text_table("", ["metric", "value"], [[k, fmt_value(m.get(k))] for k in METRIC_KEYS])]
    if brief:
        return "\n".join(parts)
    labels = [str(v) for v in m["labels"]]
    cm = [[labels[i]] + [fmt_value(v) for v in row] for i, row in enumerate(m["confusion_matrix"])]
    parts.append(text_table("\nconfusion matrix (rows: true, columns: predicted)",
                            ["true \\ pred", *labels], cm))
    cal = [[f"{b['lower']:.1f}-{b['upper']:.1f}", str(b["count"]), fmt_value(b["mean_predicted"]),
            fmt_value(b["observed_rate"])] for b in m["calibration"]]
    parts.append(text_table(f"\ncalibration (event: {m['calibration_event']})",
                            ["bin", "rows", "mean predicted", "observed"], cal))
    return "\n".join(parts)


def fit_text(result: Any, output: Any) -> str:
    """What ``logitfit fit`` prints: coefficients, solver record, held-out metrics, the file."""
    fit = result.fitted.fit
    status = "converged" if fit.converged else "did NOT converge"
    where = {"stream": " (streamed from disk)", "dask": " (on the Dask cluster)"}.get(
        result.fitted_by, "")
    parts = [coefficient_text(result),
             f"\nsolver {fit.solver}: {status} in "
             f"{fit.n_iter} iterations ({result.seconds:.2f} s); "
             f"{result.n_train} training rows{where}"]
    if result.holdout_metrics is not None:
        parts += [f"\nheld-out metrics ({result.n_holdout} rows):",
                  metrics_text(result.holdout_metrics, brief=True)]
    if output is not None:
        parts.append(f"\nmodel written to {output}")
    return "\n".join(parts)


def model_summary(m: Any) -> dict[str, Any]:
    """What a model file holds, JSON-ready (``logitfit summary --json``); ``m`` is its FittedModel."""
    from logitfit.report import coefficient_rows

    enc = m.encoder
    names = m.feature_names or [f"x{j}" for j in range(m.n_features)]
    return {
        "model_file": m.source,
        "estimator": "LogisticRegression",
        "params": {k: v for k, v in m.params.items()
                   if isinstance(v, (str, int, float, bool, type(None)))},
        "classes": np.asarray(m.classes).tolist(),
        "features": names,
        "encoding": enc.to_dict() if enc is not None else None,
        "formula": m.formula,
        "coefficients": coefficient_rows(m, names, m.covariance),
        "has_covariance": m.covariance is not None,
        "fit": {"n_iter": m.fit.n_iter, "converged": m.fit.converged,
                "solver": m.fit.solver, "objective": m.fit.objective},
        "training": m.metadata,
    }


def summary_text(m: Any, info: dict[str, Any]) -> str:
    """What ``logitfit summary`` prints."""
    mf = info["model_file"]
    penalty = m.params.get("penalty")
    lines = [
        f"model file   {mf['path']} (format {mf['format_version']}, logitfit "
        f"{mf['logitfit_version']}, written {mf['created_utc']})",
        f"classes      {info['classes']}",
        f"penalty      {penalty or 'none'}" + (f" (alpha={m.params.get('alpha')})"
                                                if penalty else ""),
        f"solver       {info['fit']['solver'] or m.params.get('solver')}: "
        f"{'converged' if m.fit.converged else 'not converged'} in {m.fit.n_iter} iterations",
    ]
    enc = m.encoder
    cats = [c for c in enc.columns if c.kind == "categorical"] if enc.kind == "table" else []
    for c in cats:
        lines.append(f"categorical  {c.name}: levels {list(c.levels)} (reference {c.levels[0]!r})")
    if enc.kind == "formula":
        lines.append(f"formula      {enc.formula}")
        for var, v in enc.variables.items():
            if v["levels"] is not None:
                lines.append(f"levels       {var}: {v['levels']}")
    if enc.kind == "libsvm":
        lines.append(f"input        LIBSVM, {enc.n_features} features, "
                     f"{'0' if enc.zero_based else '1'}-based indices")
    t = info["training"]
    if t:
        lines.append(f"trained on   {t.get('data')} (target {t.get('target')!r}, "
                     f"{t.get('n_train')} rows, {t.get('n_holdout') or 0} held out)")
    lines += ["", coefficient_table(m, info["features"], m.covariance)]
    if m.covariance is None:
        lines.append("(no covariance stored: standard errors unavailable)")
    hm = t.get("holdout_metrics") if t else None
    if hm:
        lines += ["", "held-out metrics:", metrics_text(hm, brief=True)]
    return "\n".join(lines)
