"""``logitfit fit``: read the data, fit in memory (or hand over to :mod:`.scale`), save.

Each function takes plain values, calls the library and returns data; errors a
person can fix are raised as ``ValueError`` subclasses (``DataError``,
``CLIError``) that the command turns into exit status 2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from logitfit.cli.errors import CLIError
from logitfit.cli.fit_setup import (
    FitOptions,
    FitResult,
    fit_params,
    recording_warnings,
    with_inference,
)
from logitfit.exceptions import DataError


def _formula_design(table: Any, opts: FitOptions) -> tuple[Any, np.ndarray]:
    """``--formula "y ~ a + C(b)"``: the design matrix and the encoding a model file stores.

    Sets ``opts.target`` from the left-hand side. Variables must be columns
    without missing values (the first missing one is reported by row).
    """
    import formulaic
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
    from logitfit.data.formula_reader import split_offset

    try:  # the plain variables (names inside transforms such as center(x) are not listed)
        plain = formulaic.Formula(split_offset(rhs)[0]).required_variables
    except Exception as err:  # noqa: BLE001 - formulaic's parser raises many types
        raise CLIError(f"--formula {opts.formula!r} cannot be parsed: {err}") from None
    for var in sorted({lhs, *plain}):
        if var not in names:
            raise DataError(opts.data, f"missing column (the formula uses it); the file has: "
                            f"{', '.join(names[:20])}", column=var)
    # every column whose name appears in the formula: a superset of what it reads
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*|`[^`]+`", rhs))
    variables = [n for n in names if (n in words or f"`{n}`" in words) and n != lhs]
    for var in [lhs, *variables]:
        col = table.column(var)
        if col.null_count:
            i = pc.index(pc.is_null(col), True).as_py()
            raise DataError(opts.data, "missing value in a column the formula uses",
                            row=i + 1, column=var)
    frame = table.select([v for v in variables if v != lhs]).to_pandas()
    encoder = FormulaEncoder(rhs, frame, target=lhs)
    return encoder, encoder.transform(frame, path=opts.data)


def _load_training_data(opts: FitOptions) -> tuple[Any, np.ndarray, np.ndarray | None, Any,
                                                    str, list[str] | None, np.ndarray | None,
                                                    np.ndarray | None]:
    from logitfit.data.columns import ColumnEncoder, target_values
    from logitfit.io.libsvm import read_libsvm
    from logitfit.io.tables import detect_format, read_table

    fmt = detect_format(opts.data, opts.fmt)
    if fmt == "libsvm":
        if opts.weight_col or opts.features or opts.formula or opts.offset_col:
            raise CLIError("--features, --formula, --weight-col and --offset do not apply to "
                           "LIBSVM data")
        X, y, zero_based = read_libsvm(opts.data)
        y = y.astype(np.int64) if np.all(y == np.round(y)) else y
        if opts.trials_col:
            raise CLIError("--trials does not apply to LIBSVM data")
        return X, y, None, ColumnEncoder.libsvm(X.shape[1], zero_based), fmt, None, None, None
    table = read_table(opts.data, fmt=fmt)
    names = table.schema.names
    if opts.target is None and not opts.formula:
        raise CLIError(f"--target is required: name the target column (one of: "
                       f"{', '.join(names[:20])})")
    for col in [opts.target, opts.weight_col, opts.offset_col, opts.trials_col,
                *(opts.features or []), *opts.categorical]:
        if col is not None and col not in names:
            raise DataError(opts.data, f"missing column; the file has: {', '.join(names[:20])}"
                            f"{' ...' if len(names) > 20 else ''}", column=col)
    if opts.formula:
        encoder, X = _formula_design(table, opts)
    else:
        feats = opts.features or [n for n in names if n not in (
            opts.target, opts.weight_col, opts.offset_col, opts.trials_col)]
        if opts.target in feats:
            raise CLIError(f"the target {opts.target!r} is also listed as a feature")
        if opts.offset_col is not None and opts.offset_col in feats:
            raise CLIError(f"the offset column {opts.offset_col!r} is also listed as a feature")
        if not feats:
            raise CLIError("no feature columns: the file holds only the target")
        encoder = ColumnEncoder.fit(table, feats, path=opts.data, categorical=opts.categorical)
        X = encoder.transform(table, path=opts.data)
    trials = None
    if opts.trials_col is None:
        y = target_values(table, opts.target, path=opts.data, max_classes=opts.max_classes)
    else:
        y, trials = grouped_columns(table, opts)
    sw = None
    if opts.weight_col is not None:
        sw = weight_column(table, opts.weight_col, opts.data, opts.weight_type)
    return (X, y, sw, encoder, fmt, encoder.feature_names, offset_column(table, opts, encoder),
            trials)


def grouped_columns(table: Any, opts: FitOptions) -> tuple[np.ndarray, np.ndarray]:
    """``--trials``: (successes of the target column, trials), whole numbers with 0 <= s <= n and
    n >= 1; errors name the file, row and column (:mod:`logitfit.data.grouped`)."""
    from logitfit.data.columns import ColumnEncoder
    from logitfit.data.grouped import check_counts

    s, n = ColumnEncoder.numeric([opts.target, opts.trials_col]).transform(table, path=opts.data).T
    return check_counts(s, n, successes_column=opts.target, trials_column=opts.trials_col,
                        path=opts.data)


def offset_column(table: Any, opts: FitOptions, encoder: Any) -> np.ndarray | None:
    """The offsets of ``--offset COLUMN`` (numeric, complete, finite: errors name the row), else
    those of the formula's ``offset(...)`` term, else None."""
    from logitfit.cli.scoring import offset_values

    if opts.offset_col is not None:
        return offset_values(table, opts.offset_col, opts.data)
    if getattr(encoder, "offset_name", None) is not None:
        return encoder.offset(table, path=opts.data)
    return None


def weight_column(table: Any, col: str, path: str, weight_type: str | None = None) -> np.ndarray:
    """Row weights from column ``col``: numeric, complete, finite (the encoder checks) and >= 0;
    whole numbers for ``weight_type="frequency"``."""
    from logitfit.data.columns import ColumnEncoder
    from logitfit.data.grouped import check_weights

    w = ColumnEncoder.numeric([col]).transform(table, path=path)[:, 0]
    w = check_weights(w, len(w), weight_type, column=col, path=path)
    bad = np.flatnonzero(w < 0)
    if bad.size:
        raise DataError(path, f"weight {w[bad[0]]!r} is negative; weights must be >= 0",
                        row=int(bad[0]) + 1, column=col)
    return w


def split_rows(y: np.ndarray, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) row indices: ``ceil(holdout * n)`` test rows, stratified by class.

    Each class gives ``floor(n_test * n_c / n)`` rows, the remainder going to
    the classes with the largest fractional shares; a class of one row is
    never held out whole.
    """
    n = len(y)
    idx = np.arange(n)
    if holdout <= 0:
        return idx, idx[:0]
    rng = np.random.default_rng(seed)
    n_test = min(n - 1, int(np.ceil(holdout * n)))
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    share = n_test * counts / n
    take = np.floor(share).astype(np.int64)
    for k in np.argsort(-(share - take), kind="stable")[: n_test - int(take.sum())]:
        take[k] += 1
    take = np.minimum(take, np.maximum(counts - 1, 0))
    test = np.concatenate([rng.permutation(np.flatnonzero(inverse == k))[:t]
                           for k, t in enumerate(take)])
    mask = np.zeros(n, dtype=bool)
    mask[test] = True
    return idx[~mask], idx[mask]


def fit_file(opts: FitOptions, callback: Any = None) -> FitResult:
    """Read ``opts.data``, fit, score the holdout: everything ``logitfit fit`` does but print.

    With ``opts.scheduler`` the fit runs on that Dask cluster; when the data
    exceed ``opts.memory_limit`` it streams from disk (:mod:`logitfit.cli.scale`).
    """
    from logitfit.cli import scale
    from logitfit.estimators.fitting import fit_design

    mode = scale.mode(opts)
    if opts.trials_col is not None and (mode is not None or opts.holdout > 0):
        raise CLIError("--trials fits grouped data in memory, without --holdout, --scheduler or "
                       "streaming (a held-out group is not a held-out row)")
    if mode is not None:
        return scale.fit_scaled(mode, opts, callback)
    X, y, sw, encoder, fmt, names, off, trials = _load_training_data(opts)
    classes = np.unique(y)
    if len(classes) < 2 and trials is None:
        where = f"target column {opts.target!r}" if opts.target else "the labels"
        raise DataError(opts.data, f"{where} has one class only ({classes[0]!r}); logistic "
                        "regression needs at least two")
    train, test = split_rows(y, opts.holdout, opts.seed)
    if len(np.unique(y[train])) < 2:
        raise DataError(opts.data, "the training part has one class only; lower --holdout")
    params = fit_params(opts, callback)
    if encoder.kind == "formula":  # "- 1" / "0 +" in the formula: no intercept
        params["fit_intercept"] = encoder.has_intercept
    rows = train if len(test) else slice(None)
    if off is not None:
        params["offset"] = off[rows]
        params["offset_name"] = opts.offset_col or encoder.offset_name
    if trials is not None:  # grouped binomial rows: the target counts successes of --trials
        params.update(trials=trials, path=opts.data, columns={
            "y": opts.target, "trials": opts.trials_col, "sample_weight": opts.weight_col})
    (fitted, objective), seconds, msgs = recording_warnings(lambda: fit_design(
        X[rows], y[rows], sample_weight=None if sw is None else sw[rows],
        feature_names=names, encoder=encoder, **params))
    if names is None:  # LIBSVM: the encoder names the columns x1, x2, ...
        fitted = fitted.replace(feature_names=list(encoder.feature_names))
    metrics = None
    if len(test):
        from logitfit.metrics import classification_report

        metrics = classification_report(y[test], fitted.predict_proba(
            X[test], None if off is None else off[test]), fitted.classes,
                                        sample_weight=None if sw is None else sw[test])
    fitted, inference = with_inference(fitted, objective)
    return FitResult(fitted, inference, opts, len(train), len(test), seconds, metrics, msgs, fmt)


def save_model(result: FitResult, path: Path, key: str | None = None) -> None:
    """Save a fit with its encoding, covariance and training metadata; ``key`` signs the file."""
    from logitfit.io.model_file import save_model as write

    o = result.options
    meta = {
        "data": o.data,
        "format": result.fmt,
        "target": o.target,
        "features": o.features,
        "weight_col": o.weight_col,
        "weight_type": o.weight_type,
        "trials_col": o.trials_col,
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
    params = {k: v for k, v in result.fitted.params.items() if k != "callback"}
    write(result.fitted.replace(metadata=meta, formula=o.formula, params=params), path, key=key)


def fit_json(result: FitResult, output: Path | None) -> dict[str, Any]:
    """The ``--json`` output of ``logitfit fit``."""
    from logitfit.report import coefficient_rows

    m = result.fitted
    return {
        "model_file": str(output) if output is not None else None,
        "classes": np.asarray(m.classes).tolist(),
        "coefficients": coefficient_rows(m, result.encoder.feature_names, result.covariance),
        "converged": bool(m.fit.converged),
        "n_iter": int(m.fit.n_iter),
        "solver": m.fit.solver,
        "objective": float(m.fit.objective) if m.fit.objective is not None else None,
        "n_train": result.n_train,
        "n_holdout": result.n_holdout,
        "fit_seconds": result.seconds,
        "holdout_metrics": result.holdout_metrics,
        "warnings": result.warnings,
    }
