"""What the ``logitfit`` commands do, apart from parsing and printing (see :mod:`logitfit.cli.app`).

Each function takes plain values, calls the library and returns data; errors a
person can fix are raised as ``ValueError`` subclasses (:class:`DataError`,
:class:`ModelFileError`, :class:`CLIError`) that the command turns into exit
status 2.
"""

from __future__ import annotations

import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from logitfit.data.columns import Column, Encoder, target_values
from logitfit.exceptions import DataError
from logitfit.io.libsvm import iter_libsvm, read_libsvm
from logitfit.io.model_file import SavedModel, atomic_path, load, load_predictor, save
from logitfit.io.tables import detect_format, iter_batches, read_table
from logitfit.report import coefficient_rows

#: Rows kept (a deterministic sample) for the decision-boundary plot.
BOUNDARY_SAMPLE = 5000


class CLIError(ValueError):
    """A command-line usage problem the person can fix (bad option combination)."""


# --------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------


@dataclass
class FitOptions:
    """The options of ``logitfit fit``."""

    data: str
    target: str | None = None
    features: list[str] | None = None
    formula: str | None = None
    categorical: list[str] = field(default_factory=list)
    penalty: str | None = None
    alpha: float = 1e-4
    solver: str = "auto"
    tol: float = 1e-6
    max_iter: int | None = None
    class_weight: str | None = None
    weight_col: str | None = None
    holdout: float = 0.0
    seed: int = 0
    fmt: str | None = None
    scheduler: str | None = None
    memory_limit: str | None = None


@dataclass
class FitResult:
    """A fitted model with what the command prints and saves."""

    model: Any
    encoder: Encoder
    options: FitOptions
    n_train: int
    n_holdout: int
    seconds: float
    holdout_metrics: dict[str, Any] | None
    covariance: np.ndarray | None
    warnings: list[str]
    fmt: str
    fitted_by: str = "memory"  # or "stream" (from disk, bounded memory) or "dask"


def _formula_design(table: Any, opts: FitOptions) -> tuple[Any, np.ndarray]:
    """``--formula "y ~ a + C(b)"``: the design matrix and the encoding a model file stores.

    Sets ``opts.target`` from the left-hand side. Variables must be columns
    without missing values (the first missing one is reported by row).
    """
    import formulaic
    import pyarrow as pa
    import pyarrow.compute as pc

    from logitfit.data.formula import FormulaEncoder

    if opts.features or opts.categorical:
        raise CLIError("--features and --categorical do not apply with --formula: the formula "
                       "names the columns (write C(x) for a categorical number column)")
    if "~" not in opts.formula:
        raise CLIError(f"--formula needs '~' (target ~ terms); got {opts.formula!r}")
    lhs, rhs = (part.strip() for part in opts.formula.split("~", 1))
    lhs = lhs.strip("` ")
    if opts.target is not None and opts.target != lhs:
        raise CLIError(f"--target {opts.target!r} differs from the formula's target {lhs!r}")
    opts.target = lhs
    names = table.schema.names
    try:  # the plain variables (names inside transforms such as center(x) are not listed)
        plain = formulaic.Formula(rhs).required_variables
    except Exception as err:  # noqa: BLE001 - formulaic's parser raises many types
        raise CLIError(f"--formula {opts.formula!r} cannot be parsed: {err}") from None
    for var in sorted({lhs, *plain}):
        if var not in names:
            raise DataError(opts.data, f"missing column (the formula uses it); the file has: "
                            f"{', '.join(names[:20])}", column=var)
    # every column whose name appears in the formula: a superset of what it reads
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*|`[^`]+`", rhs))
    variables = [n for n in names if (n in words or f"`{n}`" in words) and n != lhs]
    types: dict[str, str] = {}
    for var in [lhs, *variables]:
        col = table.column(var)
        if col.null_count:
            i = pc.index(pc.is_null(col), True).as_py()
            raise DataError(opts.data, "missing value in a column the formula uses",
                            row=i + 1, column=var)
        typ = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        types[var] = ("bool" if pa.types.is_boolean(typ) else "int" if pa.types.is_integer(typ)
                      else "float" if pa.types.is_floating(typ) else "string")
    frame = table.select([v for v in variables if v != lhs]).to_pandas()
    encoder = FormulaEncoder(rhs, frame, target=lhs)
    return encoder, encoder.transform(frame, path=opts.data)


def _load_training_data(opts: FitOptions) -> tuple[Any, np.ndarray, np.ndarray | None, Any,
                                                    str, list[str] | None]:
    fmt = detect_format(opts.data, opts.fmt)
    if fmt == "libsvm":
        if opts.weight_col or opts.features or opts.formula:
            raise CLIError("--features, --formula and --weight-col do not apply to LIBSVM data")
        X, y, zero_based = read_libsvm(opts.data)
        y = y.astype(np.int64) if np.all(y == np.round(y)) else y
        return X, y, None, Encoder.libsvm(X.shape[1], zero_based), fmt, None
    table = read_table(opts.data, fmt=fmt)
    names = table.schema.names
    if opts.target is None and not opts.formula:
        raise CLIError(f"--target is required: name the target column (one of: "
                       f"{', '.join(names[:20])})")
    for col in [opts.target, opts.weight_col, *(opts.features or []), *opts.categorical]:
        if col is not None and col not in names:
            raise DataError(opts.data, f"missing column; the file has: {', '.join(names[:20])}"
                            f"{' ...' if len(names) > 20 else ''}", column=col)
    if opts.formula:
        encoder, X = _formula_design(table, opts)
    else:
        feats = opts.features or [n for n in names if n not in (opts.target, opts.weight_col)]
        if opts.target in feats:
            raise CLIError(f"the target {opts.target!r} is also listed as a feature")
        if not feats:
            raise CLIError("no feature columns: the file holds only the target")
        encoder = Encoder.fit(table, feats, path=opts.data, categorical=opts.categorical)
        X = encoder.transform(table, path=opts.data)
    y = target_values(table, opts.target, path=opts.data)
    sw = None
    if opts.weight_col is not None:
        sw = encoder_weights(table, opts.weight_col, opts.data)
    return X, y, sw, encoder, fmt, encoder.feature_names


def encoder_weights(table: Any, col: str, path: str) -> np.ndarray:
    """A numeric, non-negative, complete weight column as float64."""
    enc = Encoder("table", (Column(col, "numeric"),), 1)
    w = enc.transform(table, path=path)[:, 0]
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise DataError(path, f"weight {w[bad[0]]!r} is not a finite non-negative number",
                        row=int(bad[0]) + 1, column=col)
    return w


def _split_rows(y: np.ndarray, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(y)
    idx = np.arange(n)
    if holdout <= 0:
        return idx, idx[:0]
    from sklearn.model_selection import train_test_split

    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    tr, te = train_test_split(idx, test_size=holdout, random_state=seed, stratify=stratify)
    return np.sort(tr), np.sort(te)


def _frame(model_or_names: Any, X: Any) -> Any:
    """X as the estimator expects it: a DataFrame with design names when fitted with them."""
    names = model_or_names if isinstance(model_or_names, list) else \
        getattr(model_or_names, "feature_names_in_", None)
    if names is None or not isinstance(X, np.ndarray):
        return X
    import pandas as pd

    return pd.DataFrame(X, columns=list(names), copy=False)


def new_model(opts: FitOptions, callback: Any = None) -> Any:
    """The unfitted estimator ``opts`` describe."""
    from logitfit.estimators.logistic import LogisticRegression

    penalty = None if opts.penalty in (None, "none", "None") else opts.penalty
    return LogisticRegression(
        penalty=penalty, alpha=opts.alpha, solver=opts.solver, tol=opts.tol,
        max_iter=opts.max_iter, class_weight=opts.class_weight, callback=callback,
    )


def fit_recording_warnings(model: Any, fit: Any) -> tuple[float, list[str]]:
    """Run ``fit()``; return its seconds and logitfit's warnings (also printed to stderr)."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    seconds = time.perf_counter() - t0
    model.callback = None
    msgs = [str(w.message) for w in caught if issubclass(w.category, Warning)
            and "logitfit" in type(w.message).__module__]
    for m in msgs:
        print(f"logitfit: warning: {m}", file=sys.stderr)
    return seconds, msgs


def fit_file(opts: FitOptions, callback: Any = None) -> FitResult:
    """Read ``opts.data``, fit, score the holdout: everything ``logitfit fit`` does but print.

    With ``opts.scheduler`` the fit runs on that Dask cluster; when the data
    exceed ``opts.memory_limit`` it streams from disk (:mod:`logitfit.cli.scale`).
    """
    from logitfit.cli import scale as _cli_scale

    mode = _cli_scale.mode(opts)
    if mode is not None:
        return _cli_scale.fit_scaled(mode, opts, callback)
    X, y, sw, encoder, fmt, names = _load_training_data(opts)
    classes = np.unique(y)
    if len(classes) < 2:
        where = f"target column {opts.target!r}" if opts.target else "the labels"
        raise DataError(opts.data, f"{where} has one class only ({classes[0]!r}); logistic "
                        "regression needs at least two")
    train, test = _split_rows(y, opts.holdout, opts.seed)
    if len(np.unique(y[train])) < 2:
        raise DataError(opts.data, "the training part has one class only; lower --holdout")
    model = new_model(opts, callback)
    if encoder.kind == "formula":  # "- 1" / "0 +" in the formula: no intercept
        model.set_params(fit_intercept=encoder.has_intercept)
    Xtr = X[train] if len(test) else X
    seconds, msgs = fit_recording_warnings(model, lambda: model.fit(
        _frame(names, Xtr), y[train] if len(test) else y,
        sample_weight=None if sw is None else sw[train]))
    metrics = None
    if len(test):
        from logitfit.metrics import classification_report

        proba = model.predict_proba(_frame(model, X[test]))
        metrics = classification_report(y[test], proba, model.classes_,
                                        sample_weight=None if sw is None else sw[test])
    covariance = model_covariance(model)
    return FitResult(model, encoder, opts, len(train), len(test), seconds, metrics, covariance,
                     msgs, fmt)


def model_covariance(model: Any) -> np.ndarray | None:
    """The (nonrobust) parameter covariance from :mod:`logitfit.inference.covariance`, or None.

    Binary: of ``[w_1..w_p, b]``, the model file's coefficients. Multinomial
    (K classes): of the contrasts with the first class, ``B_k - B_0`` for
    k = 1..K-1, each ``[w_1..w_p, b]`` (the softmax coefficients themselves
    are identified only up to a common shift);
    :func:`logitfit.report.coefficient_rows` recognises it by its shape.
    """
    if getattr(model, "penalty", None) == "l1":
        return None
    try:
        from logitfit.inference.results import Inference

        cov = np.asarray(Inference(model, ref_class=0).cov_params(), dtype=np.float64)
    except Exception:  # noqa: BLE001 - inference is optional (e.g. singular information)
        return None
    K = np.atleast_2d(model.coef_).shape[0]
    q = (model.coef_.shape[1] + int(model.fit_intercept)) * (1 if K == 1 else K - 1)
    if cov.shape != (q, q) or not np.all(np.isfinite(cov)):
        return None
    return cov


def save_model(result: FitResult, path: Path) -> None:
    """Save a fit with its encoding, covariance and training metadata."""
    o = result.options
    meta = {
        "data": o.data,
        "format": result.fmt,
        "target": o.target,
        "features": o.features,
        "weight_col": o.weight_col,
        "class_weight": o.class_weight,
        "holdout": o.holdout,
        "seed": o.seed,
        "fitted_by": result.fitted_by,
        "n_train": result.n_train,
        "n_holdout": result.n_holdout,
        "fit_seconds": round(result.seconds, 6),
        "holdout_metrics": result.holdout_metrics,
        "warnings": result.warnings,
    }
    save(result.model, path, encoder=result.encoder, covariance=result.covariance, metadata=meta,
         formula=o.formula)


def fit_json(result: FitResult, output: Path | None) -> dict[str, Any]:
    """The ``--json`` output of ``logitfit fit``."""
    m = result.model
    return {
        "model_file": str(output) if output is not None else None,
        "classes": _py(m.classes_),
        "coefficients": coefficient_rows(m, result.encoder.feature_names, result.covariance),
        "converged": bool(m.converged_),
        "n_iter": int(m.n_iter_),
        "solver": getattr(m, "solver_", m.solver),
        "objective": float(getattr(m, "objective_", np.nan)),
        "n_train": result.n_train,
        "n_holdout": result.n_holdout,
        "fit_seconds": result.seconds,
        "holdout_metrics": result.holdout_metrics,
        "warnings": result.warnings,
    }


# --------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------


def _table(title: str, columns: list[str], rows: list[list[str]]) -> Any:
    from rich.table import Table

    t = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for i, c in enumerate(columns):
        t.add_column(c, justify="left" if i == 0 else "right")
    for r in rows:
        t.add_row(*r)
    return t


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}" if np.isfinite(v) else str(v)
    return str(v)


def coefficient_text(result: FitResult) -> Any:
    """The coefficient table: the estimator's own summary() when it has one, else ours."""
    model = result.model
    if hasattr(model, "summary"):
        try:
            return str(model.summary())
        except Exception:  # noqa: BLE001 - fall back to the plain table
            pass
    return coefficient_table(model, result.encoder.feature_names, result.covariance)


def coefficient_table(model: Any, names: list[str], cov: np.ndarray | None) -> Any:
    """A rich table of :func:`coefficient_rows`."""
    rows = coefficient_rows(model, names, cov)
    multi = np.atleast_2d(model.coef_).shape[0] > 1
    cols = (["class"] if multi else []) + ["term", "coef"]
    if rows and "se" in rows[0]:
        cols += ["std err", "z", "P>|z|", "[0.025", "0.975]"]
    body = []
    for r in rows:
        line = ([str(r["class"])] if multi else []) + [r["term"], _fmt(r["coef"])]
        if "se" in r:
            line += [_fmt(r[k]) for k in ("se", "z", "p", "ci_low", "ci_high")]
        body.append(line)
    title = "coefficients" if multi else f"coefficients (log-odds of class {rows[0]['class']!r})"
    if rows and "reference" in rows[0]:
        title = f"coefficients (log-odds of each class vs class {rows[0]['reference']!r})"
    return _table(title, cols, body)


def metrics_text(m: dict[str, Any], brief: bool) -> Any:
    """Metrics as rich renderables (a Group of tables)."""
    from rich.console import Group

    keys = ["accuracy", "precision", "recall", "f1", "log_loss", "brier", "roc_auc", "pr_auc"]
    parts = [_table("", ["metric", "value"], [[k, _fmt(m.get(k))] for k in keys])]
    if brief:
        return Group(*parts)
    labels = [str(v) for v in m["labels"]]
    cm = [[labels[i]] + [_fmt(v) for v in row] for i, row in enumerate(m["confusion_matrix"])]
    parts.append(_table("\nconfusion matrix (rows: true, columns: predicted)",
                        ["true \\ pred", *labels], cm))
    cal = [[f"{b['lower']:.1f}-{b['upper']:.1f}", str(b["count"]), _fmt(b["mean_predicted"]),
            _fmt(b["observed_rate"])] for b in m["calibration"]]
    parts.append(_table(f"\ncalibration (event: {m['calibration_event']})",
                        ["bin", "rows", "mean predicted", "observed"], cal))
    return Group(*parts)


def _py(a: Any) -> list:
    return [v.item() if hasattr(v, "item") else v for v in np.asarray(a)]


# --------------------------------------------------------------------------
# model files
# --------------------------------------------------------------------------


def load_model(path: Path) -> Any:
    """:func:`logitfit.io.model_file.load`, with an encoder always set."""
    m = load(path)
    if m.encoder_ is None:
        m.encoder_ = Encoder("table", tuple(Column(n, "numeric") for n in m.feature_names_),
                             len(m.feature_names_))
    return m


def load_scorer(path: Path) -> SavedModel:
    """The model file's coefficients and encoding, without the estimator.

    ``predict`` and ``evaluate`` need no scikit-learn or pandas (about 110 MB
    of the process's memory); :func:`_proba` scores design rows from it.
    """
    m = load_predictor(path)
    if m.encoder_ is None:
        m.encoder_ = Encoder("table", tuple(Column(n, "numeric") for n in m.feature_names_),
                             len(m.feature_names_))
    return m


def model_summary(m: Any) -> dict[str, Any]:
    """What a model file holds, JSON-ready (``logitfit summary --json``)."""
    enc = m.encoder_
    return {
        "model_file": m.model_file_,
        "estimator": type(m).__name__,
        "params": {k: v for k, v in m.get_params(deep=False).items()
                   if isinstance(v, (str, int, float, bool, type(None)))},
        "classes": _py(m.classes_),
        "features": m.feature_names_,
        "encoding": enc.to_dict() if enc is not None else None,
        "formula": m.formula_,
        "coefficients": coefficient_rows(m, m.feature_names_, m.covariance_),
        "has_covariance": m.covariance_ is not None,
        "fit": {"n_iter": m.n_iter_, "converged": m.converged_,
                "solver": getattr(m, "solver_", None),
                "objective": getattr(m, "objective_", None)},
        "training": m.metadata_,
    }


def summary_text(m: Any, info: dict[str, Any]) -> Any:
    from rich.console import Group

    mf = info["model_file"]
    lines = [
        f"model file   {mf['path']} (format {mf['format_version']}, logitfit "
        f"{mf['logitfit_version']}, written {mf['created_utc']})",
        f"classes      {info['classes']}",
        f"penalty      {m.penalty or 'none'}" + (f" (alpha={m.alpha})" if m.penalty else ""),
        f"solver       {info['fit']['solver'] or m.solver}: "
        f"{'converged' if m.converged_ else 'not converged'} in {m.n_iter_} iterations",
    ]
    enc = m.encoder_
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
    parts: list[Any] = ["\n".join(lines), ""]
    parts.append(coefficient_table(m, m.feature_names_, m.covariance_))
    if m.covariance_ is None:
        parts.append("(no covariance stored: standard errors unavailable)")
    hm = t.get("holdout_metrics") if t else None
    if hm:
        parts += ["", "held-out metrics:", metrics_text(hm, brief=True)]
    return Group(*parts)


# --------------------------------------------------------------------------
# streaming prediction / scoring
# --------------------------------------------------------------------------


def _batches_X(m: Any, data: str, *, fmt: str | None, extra: list[str],
               extra_types: dict[str, Any] | None = None, batch_rows: int = 65_536):
    """Yield (X, batch, rows_before) for a data file, streamed; batch holds ``extra`` columns."""
    enc: Encoder = m.encoder_
    dfmt = detect_format(data, fmt)
    if enc.kind == "libsvm":
        if dfmt != "libsvm":
            raise DataError(data, "this model was fitted on LIBSVM data; give a LIBSVM file")
        rows = 0
        for X, y in iter_libsvm(data, n_features=enc.n_features, zero_based=enc.zero_based,
                                batch_rows=batch_rows):
            yield X, {"__label__": y}, rows
            rows += X.shape[0]
        return
    if dfmt == "libsvm":
        raise DataError(data, "this model was fitted on a table; a LIBSVM file has no column names")
    cols = list(dict.fromkeys(enc.input_columns + extra))
    types = enc.column_types()
    for k, v in (extra_types or {}).items():
        types.setdefault(k, v)
    rows = 0
    for batch in iter_batches(data, fmt=dfmt, columns=cols, column_types=types,
                              batch_rows=batch_rows):
        yield enc.transform(batch, path=data, row_offset=rows), batch, rows
        rows += batch.num_rows
    if rows == 0:
        raise DataError(data, "the file has no data rows")


def _proba(m: Any, X: Any) -> np.ndarray:
    """Probabilities from design rows (a formula model's design, too: it is already encoded)."""
    if isinstance(m, SavedModel):  # the estimator's own functions, without importing sklearn
        from logitfit import _numerics

        return _numerics.class_probabilities(_numerics.linear_predictor(X, m.coef_, m.intercept_))
    if getattr(m, "formula_encoder_", None) is not None:
        view = m.__dict__.get("design_view_")
        if view is None:  # the same coefficients, without the formula step
            import copy

            view = copy.copy(m)
            del view.formula_encoder_
            m.design_view_ = view
        m = view
    return m.predict_proba(_frame(m, X))


def _writer(path: str, schema: Any, fmt: str) -> Any:
    import pyarrow as pa

    if fmt in ("csv", "tsv"):
        import pyarrow.csv as pc

        sink = sys.stdout.buffer if path == "-" else path
        return pc.CSVWriter(sink, schema,
                            write_options=pc.WriteOptions(delimiter="\t" if fmt == "tsv" else ","))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(path, schema)
    return pa.ipc.new_file(path, schema)


def _output_format(path: str) -> str:
    if path == "-":
        return "csv"
    suffix = Path(path).suffix.lower()
    fmt = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet",
           ".feather": "feather", ".arrow": "feather"}.get(suffix)
    if fmt is None:
        raise CLIError(f"{path}: unknown output format {suffix or '(no extension)'!r}; use .csv, "
                       ".tsv, .parquet or .feather")
    return fmt


def predict_file(m: Any, data: str, output: str, *, proba: bool, threshold: float | None,
                 keep: list[str], fmt: str | None, batch_rows: int = 65_536) -> int:
    """Stream ``data`` through the model into ``output``; returns the number of rows."""
    import pyarrow as pa

    out_fmt = _output_format(output)
    classes = m.classes_
    if threshold is not None and len(classes) != 2:
        raise CLIError("--threshold applies to two-class models; this one has "
                       f"{len(classes)} classes (labels are the most probable class)")
    labels = threshold is not None or not proba
    thr = 0.5 if threshold is None else threshold
    names = [f"proba_{c}" for c in _py(classes)]
    clash = [k for k in keep if k in names or k == "prediction"]
    if clash:
        raise CLIError(f"--keep column {clash[0]!r} clashes with an output column")
    if keep and m.encoder_.kind == "libsvm":
        raise CLIError("--keep does not apply to LIBSVM data (no named columns)")
    keep_types = {}
    if detect_format(data, fmt) in ("csv", "tsv"):
        # pass-through columns keep their text: no type guessing per streamed block
        keep_types = {k: pa.string() for k in keep if k not in m.encoder_.input_columns}
    from logitfit.metrics import predict_labels

    def run(sink: str) -> int:
        writer = None
        n = 0
        try:
            for X, batch, _ in _batches_X(m, data, fmt=fmt, extra=keep, extra_types=keep_types,
                                          batch_rows=batch_rows):
                P = _proba(m, X)
                arrays, cols = [], []
                for k in keep:
                    arrays.append(batch.column(k))
                    cols.append(k)
                if labels:
                    arrays.append(pa.array(_py(predict_labels(P, classes, thr))))
                    cols.append("prediction")
                if proba:
                    for j, name in enumerate(names):
                        arrays.append(pa.array(P[:, j]))
                        cols.append(name)
                out = pa.record_batch(arrays, names=cols)
                if writer is None:
                    writer = _writer(sink, out.schema, out_fmt)
                writer.write_batch(out)
                n += out.num_rows
        finally:
            if writer is not None:
                writer.close()
        return n

    if output == "-":
        return run("-")
    with atomic_path(output) as tmp:
        return run(tmp)


@dataclass
class Scored:
    """Labels and probabilities of a labelled data file under a model."""

    y: np.ndarray
    proba: np.ndarray
    data: str
    target: str | None
    X_sample: np.ndarray | None = None


def score_file(m: Any, data: str, *, target: str | None, fmt: str | None,
               keep_X: bool = False) -> Scored:
    """Stream ``data`` and collect true labels and predicted probabilities."""
    import pyarrow as pa
    import pyarrow.compute as pc

    enc: Encoder = m.encoder_
    classes = m.classes_
    if enc.kind != "libsvm":
        target = target or (m.metadata_ or {}).get("target")
        if target is None:
            raise CLIError("--target is required: the model file does not name its target")
        kind = classes.dtype.kind
        ttype = {"b": pa.bool_(), "i": pa.int64(), "u": pa.int64(), "f": pa.float64()}.get(
            kind, pa.string())
        extra, extra_types = [target], {target: ttype}
    else:
        extra, extra_types = [], {}
    ys, ps, xs = [], [], []
    for X, batch, rows in _batches_X(m, data, fmt=fmt, extra=extra, extra_types=extra_types):
        if enc.kind == "libsvm":
            y = batch["__label__"]
            y = y.astype(classes.dtype) if classes.dtype.kind in "iuf" else y
        else:
            col = batch.column(target)
            if col.null_count:
                i = pc.index(pc.is_null(col), True).as_py()
                raise DataError(data, "missing value in the target column",
                                row=rows + i + 1, column=target)
            y = np.asarray(col.to_pylist(), dtype=classes.dtype if classes.dtype.kind != "U"
                           else str)
        ys.append(y)
        ps.append(_proba(m, X))
        if keep_X and m.coef_.shape[1] == 2 and sum(len(x) for x in xs) < BOUNDARY_SAMPLE:
            xs.append(np.asarray(X.todense() if hasattr(X, "todense") else X))
    y = np.concatenate(ys)
    known = set(_py(classes))
    unknown = [v for v in np.unique(y).tolist() if v not in known]
    if unknown:
        raise DataError(data, f"label {unknown[0]!r} is not one of the model's classes "
                        f"{_py(classes)}", column=target)
    Xs = np.concatenate(xs)[:BOUNDARY_SAMPLE] if xs else None
    return Scored(y, np.concatenate(ps), data, target, Xs)


def evaluate_scores(m: Any, s: Scored, *, threshold: float, bins: int) -> dict[str, Any]:
    """All metrics of ``logitfit evaluate``."""
    from logitfit.metrics import classification_report

    out = classification_report(s.y, s.proba, m.classes_, threshold=threshold, n_bins=bins)
    out["data"] = s.data
    out["model"] = m.model_file_["path"]
    return out


def write_report(m: Any, s: Scored, output: Path, *, threshold: float) -> None:
    """Render the HTML report of ``m`` on scored data to ``output`` (atomically)."""
    from logitfit.io.model_file import atomic_write
    from logitfit.report import build_report

    metrics = evaluate_scores(m, s, threshold=threshold, bins=10)
    html = build_report(m, s.y, s.proba, metrics=metrics, X=s.X_sample,
                        feature_names=m.feature_names_, covariance=m.covariance_,
                        title=f"logitfit report: {Path(m.model_file_['path']).name} on "
                        f"{Path(s.data).name}")
    with atomic_write(output, "w", encoding="utf-8") as f:
        f.write(html)


# --------------------------------------------------------------------------
# example data
# --------------------------------------------------------------------------


def example_table(rows: int, n_classes: int = 2, seed: int = 0) -> Any:
    """An example data set: income, age, region (categorical), score, and target y."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    income = np.round(rng.lognormal(10.5, 0.5, rows), 2)
    age = rng.integers(18, 80, rows)
    regions = np.array(["east", "north", "south", "west"])
    region = regions[rng.integers(0, 4, rows)]
    score = np.round(rng.normal(0, 1, rows), 4)
    effect = {"east": 0.0, "north": 0.4, "south": -0.5, "west": 0.8}
    z = (-1.0 + 0.8 * (np.log(income) - 10.5) / 0.5 - 0.03 * (age - 45)
         + np.array([effect[r] for r in region]) + 1.2 * score)
    if n_classes == 2:
        y = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(np.int64)
    else:
        cuts = np.quantile(z + rng.logistic(size=rows), np.linspace(0, 1, n_classes + 1)[1:-1])
        y = np.searchsorted(cuts, z + rng.logistic(size=rows)).astype(np.int64)
    return pa.table({"income": income, "age": age, "region": region, "score": score, "y": y})


def generate_file(output: str, *, rows: int, n_classes: int, seed: int) -> None:
    """Write :func:`example_table` to ``output`` in the format its extension names."""
    import pyarrow as pa

    table = example_table(rows, n_classes, seed)
    base = output[:-3] if output.endswith(".gz") else output
    base = base[:-4] if base.endswith(".zst") else base
    fmt = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".feather": "feather",
           ".arrow": "feather", ".libsvm": "libsvm", ".svm": "libsvm"}.get(Path(base).suffix)
    if fmt is None:
        raise CLIError(f"{output}: unknown output format; use .csv, .tsv, .parquet, .feather, "
                       ".libsvm (text formats may end in .gz or .zst)")
    codec = "gzip" if output.endswith(".gz") else "zstd" if output.endswith(".zst") else None
    with atomic_path(output) as tmp:
        if fmt in ("csv", "tsv", "libsvm"):
            with pa.output_stream(tmp, compression=codec) as f:
                if fmt == "libsvm":
                    from sklearn.datasets import dump_svmlight_file

                    X = np.column_stack([table.column(c).to_numpy() for c in
                                         ("income", "age", "score")]).astype(float)
                    import io as _io

                    buf = _io.BytesIO()
                    dump_svmlight_file(X, table.column("y").to_numpy(), buf, zero_based=False)
                    f.write(buf.getvalue())
                else:
                    import pyarrow.csv as pc

                    pc.write_csv(table, f, write_options=pc.WriteOptions(
                        delimiter="\t" if fmt == "tsv" else ","))
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        else:
            import pyarrow.feather as feather

            feather.write_feather(table, tmp)
