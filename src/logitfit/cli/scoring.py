"""``logitfit predict``, ``evaluate`` and ``report``: a model file applied to a data file, streamed.

Data files are read in batches, so memory stays flat however large they are;
outputs are written to a temporary file and renamed, so a failure part way
leaves no output behind.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from logitfit.cli.errors import CLIError
from logitfit.data.arrow_input import from_numpy
from logitfit.exceptions import DataError

#: Rows kept (a deterministic sample) for the decision-boundary plot.
BOUNDARY_SAMPLE = 5000
# rows of the report's residual and influence plots (the goodness-of-fit tests use every row)
CHECKING_SAMPLE = 20_000

_OUTPUT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet",
                   ".feather": "feather", ".arrow": "feather"}


def _numeric_encoder(names: list[str]) -> Any:
    from logitfit.data.columns import ColumnEncoder

    return ColumnEncoder.numeric(names)


def load_fitted(path: Path, key: str | None = None) -> Any:
    """The model file's :class:`~logitfit.model.fitted.FittedModel` (no scikit-learn, no pandas).

    A model fitted on bare arrays gets an encoder of numeric columns named as
    its features, so it reads data files too. ``key`` requires a valid signature.
    """
    from logitfit.io.model_file import load_model

    m = load_model(path, key=key)
    if m.encoder is None:
        m.encoder = _numeric_encoder(m.feature_names or [f"x{j}" for j in range(m.n_features)])
    return m


def _batches_X(m: Any, data: str, *, fmt: str | None, extra: list[str],
               extra_types: dict[str, Any] | None = None, batch_rows: int = 65_536):
    """Yield (X, batch, rows_before) for a data file, streamed; batch holds ``extra`` columns."""
    from logitfit.io.tables import detect_format, iter_batches

    enc = m.encoder
    dfmt = detect_format(data, fmt)
    if enc.kind == "libsvm":
        from logitfit.io.libsvm import iter_libsvm

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


def _offset_columns(m: Any, offset_col: str | None) -> tuple[list[str], dict[str, Any]]:
    """The extra column ``--offset COLUMN`` reads, and its type (float64)."""
    if offset_col is None:
        return [], {}
    import pyarrow as pa

    if m.encoder.kind == "libsvm":
        raise CLIError("--offset does not apply to LIBSVM data (no named columns)")
    return [offset_col], {offset_col: pa.float64()}


def offset_values(table: Any, col: str, path: str, row_offset: int = 0) -> np.ndarray:
    """The offsets in column ``col`` of a table: numbers, complete and finite (errors name the row)."""
    if col not in table.schema.names:
        raise DataError(path, "missing column (--offset names it)", column=col)
    try:
        return _numeric_encoder([col]).transform(table, path=path, row_offset=row_offset)[:, 0]
    except DataError as err:  # the encoder speaks of features: this one is the offset
        what = str(err).split(": ", 1)[-1].replace("a feature column", "the offset column")
        raise DataError(path, what, row=err.row, column=col) from None


def _batch_offset(m: Any, batch: Any, offset_col: str | None, data: str, rows: int) -> np.ndarray | None:
    """The offsets of a batch: ``--offset COLUMN``, else the formula's ``offset(...)`` term; an
    error naming the model's offset when it needs one and none is given."""
    enc = m.encoder
    if offset_col is not None:
        return offset_values(batch, offset_col, data, rows)
    if getattr(enc, "offset_name", None) is not None:
        return enc.offset(batch, path=data, row_offset=rows)
    if m.offset is not None:
        model_file = (m.source or {}).get("path", "the model")
        raise CLIError(f"{model_file} was fitted with an offset ({m.offset}): give its values "
                       "with --offset COLUMN")
    return None


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
    fmt = _OUTPUT_FORMATS.get(suffix)
    if fmt is None:
        raise CLIError(f"{path}: unknown output format {suffix or '(no extension)'!r}; use .csv, "
                       ".tsv, .parquet or .feather")
    return fmt


def predict_file(m: Any, data: str, output: str, *, proba: bool, threshold: float | None,
                 keep: list[str], fmt: str | None, batch_rows: int = 65_536,
                 interval: float | None = None, offset_col: str | None = None) -> int:
    """Stream ``data`` through the model into ``output``; returns the number of rows.

    ``offset_col``: the column of the rows' offsets (needed by a model fitted with one).

    ``interval``: also write ``<proba column>_se``, ``_lower`` and ``_upper`` of each
    probability (of the positive class for two classes), from the stored covariance
    (:func:`logitfit.inference.prediction.prediction_intervals`).
    """
    import pyarrow as pa

    from logitfit.io.atomic import atomic_path
    from logitfit.io.tables import detect_format
    out_fmt = _output_format(output)
    classes = m.classes
    if threshold is not None and len(classes) != 2:
        raise CLIError("--threshold applies to two-class models; this one has "
                       f"{len(classes)} classes (labels are the most probable class)")
    uncertainty = _interval_source(m, interval)
    proba = proba or uncertainty is not None
    labels = threshold is not None or not proba
    thr = 0.5 if threshold is None else threshold
    names = [f"proba_{c}" for c in np.asarray(classes).tolist()]
    clash = [k for k in keep if k in names or k == "prediction"]
    if clash:
        raise CLIError(f"--keep column {clash[0]!r} clashes with an output column")
    if keep and m.encoder.kind == "libsvm":
        raise CLIError("--keep does not apply to LIBSVM data (no named columns)")
    keep_types = {}
    if detect_format(data, fmt) in ("csv", "tsv"):
        # pass-through columns keep their text: no type guessing per streamed block
        keep_types = {k: pa.string() for k in keep if k not in m.encoder.input_columns}
    off_cols, off_types = _offset_columns(m, offset_col)
    keep_types = {**keep_types, **off_types}

    def run(sink: str) -> int:
        writer = None
        n = 0
        try:
            for X, batch, before in _batches_X(m, data, fmt=fmt, extra=keep + off_cols,
                                               extra_types=keep_types, batch_rows=batch_rows):
                off = _batch_offset(m, batch, offset_col, data, before)
                P = m.predict_proba(X, off)
                arrays, cols = [], []
                for k in keep:
                    arrays.append(batch.column(k))
                    cols.append(k)
                if labels:
                    arrays.append(from_numpy(np.asarray(m.labels(P, thr))))
                    cols.append("prediction")
                if proba:
                    for j, name in enumerate(names):
                        arrays.append(from_numpy(P[:, j]))
                        cols.append(name)
                if uncertainty is not None:
                    arrays, cols = _with_intervals(uncertainty, X, interval, names, arrays, cols, off)
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


def _interval_source(m: Any, level: float | None) -> Any:
    """The stored inference that ``--interval`` needs, or None without the option."""
    if level is None:
        return None
    if not 0.0 < level < 1.0:
        raise CLIError(f"--interval takes a level in (0, 1), e.g. 0.95; got {level!r}")
    from logitfit.estimators.stored import StoredInference

    try:
        return StoredInference(m)
    except ValueError:
        raise CLIError(f"{(m.source or {}).get('path', 'the model')} stores no covariance (an L1 "
                       "fit, or over 2,000 parameters): no intervals can be given") from None


def _with_intervals(inf: Any, X: Any, level: float, names: list[str], arrays: list,
                    cols: list, offset: np.ndarray | None = None) -> tuple[list, list]:
    from logitfit._numerics import issparse
    from logitfit.inference.prediction import prediction_intervals

    D = X.toarray() if issparse(X) else np.asarray(X, dtype=np.float64)
    r = prediction_intervals(inf, D, level, offset=offset)
    binary = r["proba"].ndim == 1
    for j, name in enumerate(names[1:] if binary else names):
        for stat in ("se", "lower", "upper"):
            arrays.append(from_numpy(r[stat] if binary else r[stat][:, j]))
            cols.append(f"{name}_{stat}")
    return arrays, cols


@dataclass
class Scored:
    """Labels and probabilities of a labelled data file under a model."""

    y: np.ndarray
    proba: np.ndarray
    data: str
    target: str | None
    X_sample: np.ndarray | None = None
    calibration: dict | None = None  # the report's per-bin sums (logitfit.inference.calibration)
    diagnostics: dict | None = None  # per-row diagnostics of the first CHECKING_SAMPLE rows
    goodness_of_fit: Any = None  # GoodnessOfFit over every row


def score_file(m: Any, data: str, *, target: str | None, fmt: str | None,
               keep_X: bool = False, offset_col: str | None = None) -> Scored:
    """Stream ``data`` and collect true labels and predicted probabilities (with the rows'
    offsets from ``offset_col`` when the model needs them)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    enc = m.encoder
    classes = m.classes
    if enc.kind != "libsvm":
        target = target or (m.metadata or {}).get("target")
        if target is None:
            raise CLIError("--target is required: the model file does not name its target")
        kind = classes.dtype.kind
        ttype = {"b": pa.bool_(), "i": pa.int64(), "u": pa.int64(), "f": pa.float64()}.get(
            kind, pa.string())
        extra, extra_types = [target], {target: ttype}
    else:
        extra, extra_types = [], {}
    off_cols, off_types = _offset_columns(m, offset_col)
    extra, extra_types = extra + off_cols, {**extra_types, **off_types}
    ys, ps, xs = [], [], []
    sums = None
    checking = _checking(m) if keep_X else None
    tables: list[dict] = []
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
        off = _batch_offset(m, batch, offset_col, data, rows)
        ps.append(m.predict_proba(X, off))
        if checking is not None:
            basis, acc = checking
            y01 = (y == classes[1]).astype(np.float64)
            acc.add(X, y01, np.ones(len(y01)), off)
            kept = sum(len(t["fitted"]) for t in tables)
            if kept < CHECKING_SAMPLE:
                from logitfit.inference.diagnostics import block_diagnostics

                n = min(len(y01), CHECKING_SAMPLE - kept)
                tables.append(block_diagnostics(basis, X[:n], y01[:n], np.ones(n),
                                                None if off is None else off[:n]))
        if keep_X and m.covariance is not None and m.n_classes == 2:  # calibration intervals
            from logitfit.inference.calibration import add_sums, calibration_sums

            sums = add_sums(sums, calibration_sums(X, ps[-1][:, 1], y == classes[1],
                                                   m.fit_intercept))
        if keep_X and m.n_features == 2 and sum(len(x) for x in xs) < BOUNDARY_SAMPLE:
            xs.append(np.asarray(X.todense() if hasattr(X, "todense") else X))
    y = np.concatenate(ys)
    known = set(np.asarray(classes).tolist())
    unknown = [v for v in np.unique(y).tolist() if v not in known]
    if unknown:
        model_file = (m.source or {}).get("path", "the model")
        raise DataError(data, f"label {unknown[0]!r} is not one of the classes of {model_file} "
                        f"{np.asarray(classes).tolist()}", column=target)
    Xs = np.concatenate(xs)[:BOUNDARY_SAMPLE] if xs else None
    table = {c: np.concatenate([t[c] for t in tables]) for c in tables[0]} if tables else None
    gof = checking[1].result() if checking is not None else None
    return Scored(y, np.concatenate(ps), data, target, Xs, sums, table, gof)


def influence_basis(m: Any) -> Any:
    """The :class:`~logitfit.inference.diagnostics.InfluenceBasis` of a loaded binary model;
    :class:`CLIError` saying why there is none (multinomial, no or penalised covariance)."""
    from logitfit.estimators.stored import StoredInference
    from logitfit.inference.diagnostics import InfluenceBasis

    source = (m.source or {}).get("path", "the model")
    if m.n_classes != 2:
        raise CLIError(f"{source} has {m.n_classes} classes; diagnostics are defined for binary "
                       "models (fit one class against the rest)")
    try:
        return InfluenceBasis.from_inference(StoredInference(m))
    except ValueError as err:
        raise CLIError(f"{source}: {err}") from None


def _checking(m: Any) -> tuple[Any, Any] | None:
    """The influence basis and goodness-of-fit sums for the report, or None where diagnostics
    do not apply (the report then says why the plots are missing)."""
    from logitfit.inference.goodness_of_fit import GofAccumulator

    try:
        basis = influence_basis(m)
    except CLIError:
        return None
    return basis, GofAccumulator(basis.theta, basis.fit_intercept)


def evaluate_scores(m: Any, s: Scored, *, threshold: float, bins: int) -> dict[str, Any]:
    """All metrics of ``logitfit evaluate``."""
    from logitfit.metrics import classification_report

    out = classification_report(s.y, s.proba, m.classes, threshold=threshold, n_bins=bins)
    out["data"] = s.data
    out["model"] = m.source["path"]
    return out


def write_report(m: Any, s: Scored, output: Path, *, threshold: float) -> None:
    """Render the HTML report of the fitted model ``m`` on scored data to ``output`` (atomically)."""
    from logitfit.io.atomic import atomic_write
    from logitfit.report import build_report

    metrics = evaluate_scores(m, s, threshold=threshold, bins=10)
    names = m.feature_names or [f"x{j}" for j in range(m.n_features)]
    html = build_report(m, s.y, s.proba, metrics=metrics, X=s.X_sample,
                        feature_names=names, covariance=m.covariance,
                        calibration_sums=s.calibration, diagnostics=s.diagnostics,
                        goodness_of_fit=s.goodness_of_fit,
                        title=f"logitfit report: {Path(m.source['path']).name} on "
                        f"{Path(s.data).name}")
    with atomic_write(output, "w", encoding="utf-8") as f:
        f.write(html)
