"""``logitfit fit --model ordinal|conditional`` and the predict, summary and report of their model files.

The data file is read whole (these models fit in memory from the command line),
the estimator (:class:`~logitfit.OrdinalLogisticRegression` or
:class:`~logitfit.ConditionalLogisticRegression`) fitted, and its state saved
in a model file (:mod:`logitfit.io.family_file`). No math here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from logitfit.cli.errors import CLIError
from logitfit.exceptions import DataError

__all__ = ["FamilyFit", "family_model", "fit_family", "predict_family", "report_family", "summary_family"]

MODELS = ("logistic", "ordinal", "conditional")


@dataclass
class FamilyFit:
    """A fitted ordinal or conditional model and what the model file records of its training."""

    kind: str
    estimator: Any
    metadata: dict[str, Any] = field(default_factory=dict)


def _frame(data: str, fmt: str | None, categorical: list[str]) -> Any:
    from logitfit.io.tables import read_table

    frame = read_table(data, fmt=fmt).to_pandas()
    for c in categorical:
        if c not in frame.columns:
            raise DataError(data, "missing column (named by --categorical)", column=c)
        frame[c] = frame[c].astype(str)
    return frame


def _column(frame: Any, data: str, name: str, what: str) -> Any:
    if name not in frame.columns:
        raise DataError(data, f"missing column ({what}); the file has: {', '.join(map(str, frame.columns[:20]))}",
                        column=name)
    col = frame[name]
    if col.isna().any():
        raise DataError(data, f"missing value in the {what} column", row=int(np.flatnonzero(col.isna())[0]) + 1,
                        column=name)
    return col


def fit_family(opts: Any, kind: str, *, strata: str | None = None, link: str = "logit",
               categories: list[str] | None = None) -> FamilyFit:
    """Fit the ``kind`` model ("ordinal" or "conditional") on ``opts.data`` (a :class:`FitOptions`)."""
    if kind == "logistic":
        raise CLIError("--strata applies to --model conditional (matched strata)")
    if kind not in ("ordinal", "conditional"):
        raise CLIError(f"--model must be one of {', '.join(MODELS)}, got {kind!r}")
    if kind == "conditional" and strata is None and not (opts.formula and "strata(" in opts.formula):
        raise CLIError("--model conditional needs --strata COLUMN (or a strata(column) term in --formula)")
    if kind == "ordinal" and strata is not None:
        raise CLIError("--strata applies to --model conditional")
    unsupported = [name for name, value in (("--holdout", opts.holdout), ("--class-weight", opts.class_weight),
                                            ("--scheduler", opts.scheduler), ("--trials", opts.trials_col))
                   if value]
    if unsupported:
        raise CLIError(f"{unsupported[0]} is not available with --model {kind}")
    frame = _frame(opts.data, opts.fmt, opts.categorical)
    sw = None if opts.weight_col is None else _column(frame, opts.data, opts.weight_col, "--weight-col").to_numpy(float)
    offset = None if opts.offset_col is None else _column(frame, opts.data, opts.offset_col, "--offset").to_numpy(float)
    groups = None if strata is None else _column(frame, opts.data, strata, "--strata").to_numpy()
    if kind == "conditional" and offset is not None:
        raise CLIError("--offset is not available with --model conditional")
    if kind == "ordinal":
        from logitfit.estimators.ordinal import OrdinalLogisticRegression

        params = {"link": link, "categories": categories, "penalty": opts.penalty, "alpha": opts.alpha,
                  "solver": opts.solver, "tol": min(opts.tol, 1e-8), "max_iter": opts.max_iter}
        if opts.formula:
            est = OrdinalLogisticRegression.from_formula(opts.formula, frame, sample_weight=sw, offset=offset,
                                                         **params)
            target = opts.formula.split("~", 1)[0].strip()
        else:
            target, X = _design_columns(frame, opts, strata)
            est = OrdinalLogisticRegression(**params).fit(X, _column(frame, opts.data, target, "target"),
                                                          sample_weight=sw, offset=offset)
    else:
        from logitfit.estimators.conditional import ConditionalLogisticRegression

        params = {"alpha": opts.alpha if opts.penalty == "l2" else 0.0, "tol": min(opts.tol, 1e-8),
                  "max_iter": opts.max_iter}
        if opts.penalty not in (None, "none", "l2"):
            raise CLIError(f"--penalty {opts.penalty} is not available with --model conditional (None or l2)")
        if opts.formula:
            extra = {} if groups is None else {"groups": groups}
            est = ConditionalLogisticRegression.from_formula(opts.formula, frame, sample_weight=sw, **params, **extra)
            target = opts.formula.split("~", 1)[0].strip()
        else:
            target, X = _design_columns(frame, opts, strata)
            est = ConditionalLogisticRegression(**params).fit(
                X, _column(frame, opts.data, target, "target").to_numpy(), groups=groups, sample_weight=sw)
        if strata is not None:
            est.strata_column_ = strata
    meta = {"data": str(opts.data), "target": target, "rows": int(len(frame)), "model": kind}
    if strata is not None or getattr(est, "strata_column_", None):
        meta["strata"] = strata or est.strata_column_
    if opts.offset_col:
        meta["offset"] = opts.offset_col
    return FamilyFit(kind, est, meta)


def _design_columns(frame: Any, opts: Any, strata: str | None) -> tuple[str, Any]:
    if opts.target is None:
        raise CLIError("--target is required (or give --formula)")
    if opts.target not in frame.columns:
        raise DataError(opts.data, "missing column (named by --target)", column=opts.target)
    skip = {opts.target, opts.weight_col, opts.offset_col, strata}
    features = opts.features or [str(c) for c in frame.columns if c not in skip]
    for c in features:
        if c not in frame.columns:
            raise DataError(opts.data, "missing column (named by --features)", column=c)
    if not features:
        raise CLIError("no feature columns: the file holds only the target (and weight/offset/strata) columns")
    return opts.target, frame[features]


# ----------------------------------------------------------------- model files


def save_family_model(fit: FamilyFit, path: Path, key: str | None = None) -> None:
    from logitfit.io.family_file import save_family

    save_family(fit.estimator, fit.kind, path, key=key, metadata=fit.metadata)


def family_model(path: Path, key: str | None = None) -> FamilyFit | None:
    """The fitted ordinal/conditional model a model file holds, or None for a logistic model file."""
    from logitfit.io.family_file import read_family

    doc = read_family(path, key=key)
    if doc is None:
        return None
    from logitfit.estimators.family import fitted_from_document

    est = fitted_from_document(doc, path)
    return FamilyFit(str(doc["model"]), est, dict(est.metadata_))


def fit_text(fit: FamilyFit, output: Path | None) -> str:
    text = summary_family(fit)[0]
    if fit.kind == "ordinal" and _brant_applies(fit.estimator):
        text += "\n\nBrant test of proportional odds\n" + str(fit.estimator.brant_test())
    if output is not None:
        text += f"\n\nmodel written to {output}"
    return text


def _brant_applies(est: Any) -> bool:
    return len(est.classes_) >= 3 and est.link == "logit" and est.coef_.size > 0 and "_retained" in est.__dict__


def fit_json(fit: FamilyFit, output: Path | None) -> dict[str, Any]:
    info = summary_family(fit)[1]
    info["model_file"] = None if output is None else str(output)
    return info


def summary_family(fit: FamilyFit) -> tuple[str, dict[str, Any]]:
    """(text, JSON-able dict) of a family model: its coefficient table and statistics."""
    est = fit.estimator
    try:
        s = est.summary()
    except ValueError as err:  # e.g. an L1 fit: coefficients without standard errors
        names = _feature_names(est)
        coef = dict(zip(names, map(float, est.coef_), strict=True))
        text = f"{fit.kind} model; no standard errors ({err})\n" + "\n".join(f"{k}: {v:.6g}" for k, v in coef.items())
        return text, {"model": fit.kind, "coef": coef, "training": fit.metadata}
    info: dict[str, Any] = {"model": fit.kind, "training": fit.metadata, "statistics": dict(s.info), "coefficients": [
        {"term": n, "coef": float(c), "std_err": float(se), "z": float(z), "p_value": float(p),
         "ci_lower": float(lo), "ci_upper": float(hi)}
        for n, c, se, z, p, lo, hi in zip(s.names, s.coef, s.std_err, s.z, s.p_value, s.ci_lower, s.ci_upper,
                                          strict=True)]}
    if fit.kind == "ordinal":
        info["categories"] = [str(c) for c in est.classes_]
        info["link"] = est.link
    return str(s), info


# ----------------------------------------------------------------- predict


def predict_family(fit: FamilyFit, data: str, output: str, *, proba: bool, keep: list[str], fmt: str | None,
                   offset_col: str | None = None) -> int:
    """Write predictions of ``fit`` on ``data`` to ``output`` (atomically); returns the number of rows.

    Ordinal: the most probable category (``prediction``) or, with ``proba``,
    ``proba_<category>`` for every category. Conditional: ``proba_case``, the
    within-stratum probability that each row is the case (the strata column the
    model was fitted with must be in ``data``).
    """
    import pyarrow as pa

    from logitfit.cli.scoring import _output_format, _writer
    from logitfit.data.arrow_input import from_numpy
    from logitfit.io.atomic import atomic_path

    out_fmt = _output_format(output)
    frame = _frame(data, fmt, [])
    est = fit.estimator
    for k in keep:
        _column(frame, data, k, "--keep")
    arrays = [pa.array(frame[k]) for k in keep]
    cols = list(keep)
    if fit.kind == "ordinal":
        off_name = offset_col or fit.metadata.get("offset")
        offset = None
        if getattr(est, "offset_fitted_", False):
            if off_name is None:
                raise CLIError("this model was fitted with an offset: name its column with --offset")
            offset = _column(frame, data, off_name, "--offset").to_numpy(float)
        P = est.predict_proba(_inputs(est, frame, data), offset=offset)
        names = [f"proba_{c}" for c in np.asarray(est.classes_).tolist()]
        if not proba:
            arrays.append(from_numpy(np.asarray(est.classes_)[P.argmax(axis=1)]))
            cols.append("prediction")
        else:
            arrays += [from_numpy(P[:, j]) for j in range(P.shape[1])]
            cols += names
    else:
        strata = fit.metadata.get("strata") or getattr(est, "strata_column_", None)
        if strata is None:
            raise CLIError("this conditional model does not record its strata column")
        groups = _column(frame, data, strata, "strata").to_numpy()
        arrays.append(from_numpy(est.predict_proba(_inputs(est, frame, data), groups=groups)))
        cols.append("proba_case")
    clash = [c for c in keep if cols.count(c) > 1]
    if clash:
        raise CLIError(f"--keep column {clash[0]!r} clashes with an output column")
    batch = pa.record_batch(arrays, names=cols)

    def run(sink: str) -> None:
        writer = _writer(sink, batch.schema, out_fmt)
        try:
            writer.write_batch(batch)
        finally:
            writer.close()

    if output == "-":
        run("-")
    else:
        with atomic_path(output) as tmp:
            run(tmp)
    return batch.num_rows


def _feature_names(est: Any) -> list[str]:
    names = getattr(est, "feature_names_in_", None)
    if names is None:
        names = getattr(est, "feature_names", None) or [f"x{j}" for j in range(est.coef_.size)]
    return [str(c) for c in names]


def _input_columns(est: Any) -> list[str]:
    encoder = getattr(est, "encoder_", None) or getattr(est, "_encoder", None)
    if encoder is not None:
        return list(encoder.input_columns)
    return _feature_names(est)


def _inputs(est: Any, frame: Any, data: str) -> Any:
    """The columns of ``frame`` the model reads (a DataFrame; its encoder, if any, encodes them)."""
    columns = _input_columns(est)
    for c in columns:
        if c not in frame.columns:
            raise DataError(data, "missing column (the model uses it)", column=c)
    return frame[columns]


# ----------------------------------------------------------------- report


def report_family(fit: FamilyFit, data: str, output: Path, *, target: str | None, fmt: str | None) -> None:
    """A self-contained HTML report: summary, fit on ``data`` and (ordinal) category probabilities."""
    from logitfit.io.atomic import atomic_write
    from logitfit.report import figure_to_data_uri

    frame = _frame(data, fmt, [])
    est = fit.estimator
    text, _ = summary_family(fit)
    target = target or fit.metadata.get("target")
    parts = [f"<h1>logitfit report: {html.escape(Path(str(output)).name)}</h1>",
             f"<p>{html.escape(fit.kind)} model from {html.escape(str(fit.metadata.get('data', '?')))}, "
             f"applied to {html.escape(str(data))} ({len(frame)} rows).</p>",
             "<h2>Summary</h2>", f"<pre>{html.escape(text)}</pre>"]
    if fit.kind == "ordinal":
        from logitfit.plots.ordinal import choose_covariate, plot_category_probabilities

        X = _inputs(est, frame, data)
        offset = None
        if getattr(est, "offset_fitted_", False):
            offset = _column(frame, data, str(fit.metadata.get("offset")), "offset").to_numpy(float)
        if target is not None and target in frame.columns:
            from logitfit.estimators.ordinal_state import ordered_categories

            P = est.predict_proba(X, offset=offset)
            _, y = ordered_categories(frame[target].to_numpy(), list(est.classes_))
            pred = P.argmax(axis=1)
            K = len(est.classes_)
            confusion = np.zeros((K, K), dtype=int)
            np.add.at(confusion, (y, pred), 1)
            logloss = float(-np.mean(np.log(np.clip(P[np.arange(y.size), y], 1e-300, None))))
            rows = "".join(f"<tr><th>{html.escape(str(c))}</th>" + "".join(f"<td>{v}</td>" for v in confusion[k])
                           + "</tr>" for k, c in enumerate(est.classes_))
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in est.classes_)
            parts += ["<h2>Fit on these data</h2>",
                      f"<p>accuracy {np.mean(pred == y):.4f}; log loss {logloss:.4f}; mean absolute category "
                      f"error {np.mean(np.abs(pred - y)):.4f}</p>",
                      f"<table><tr><th>true \\ predicted</th>{head}</tr>{rows}</table>"]
        columns = _input_columns(est)
        feature = choose_covariate(frame, columns)
        fig = plot_category_probabilities(est, frame, feature, columns)
        parts += ["<h2>Category probabilities</h2>",
                  f'<img alt="category probabilities against {html.escape(feature)}" '
                  f'src="{figure_to_data_uri(fig)}">']
    else:
        strata = fit.metadata.get("strata") or getattr(est, "strata_column_", None)
        if strata is not None and strata in frame.columns and target is not None and target in frame.columns:
            groups = frame[strata].to_numpy()
            p = est.predict_proba(_inputs(est, frame, data), groups=groups)
            case = frame[target].to_numpy().astype(bool)
            labels, codes = np.unique(groups, return_inverse=True)
            top = np.zeros(labels.size)
            np.maximum.at(top, codes, p)
            with_case = np.zeros(labels.size, dtype=bool)
            with_case[codes[case]] = True
            first = np.zeros(labels.size, dtype=bool)
            first[codes[case & (p >= top[codes])]] = True
            parts += ["<h2>Fit on these data</h2>",
                      f"<p>{int(first.sum())} of {int(with_case.sum())} strata with a case rank a case first "
                      "(within-stratum probability).</p>"]
    body = "\n".join(parts)
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>logitfit report</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:auto}td,th{padding:2px 8px}"
            "pre{background:#f6f6f6;padding:8px;overflow:auto}</style></head><body>"
            f"{body}</body></html>\n")
    with atomic_write(output, "w", encoding="utf-8") as f:
        f.write(page)
