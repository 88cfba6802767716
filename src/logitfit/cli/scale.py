"""``logitfit fit`` beyond one machine's memory: streaming from disk, or a Dask cluster.

* ``--scheduler tcp://host:8786``: the file is read with ``dask.dataframe``
  (its path must be readable by the workers), and
  ``LogisticRegression().fit`` runs on the Dask collections: one task per
  partition per objective evaluation (:mod:`logitfit.estimators.distributed`).
* Otherwise, when the data would not fit the memory budget
  (``--memory-limit``, default :data:`logitfit.blocks.stream.DEFAULT_MEMORY_LIMIT`;
  decided by :func:`logitfit.io.scan.should_stream`), the fit streams the file
  in blocks sized to the budget: ``LogisticRegression().fit(logitfit.scan(...))``.

Both fits minimise the same objective as the in-memory fit (to rounding).
They take numeric feature columns (string columns need the in-memory fit or
an encoded file) and no ``--holdout`` (that would need the rows in memory).
"""

from __future__ import annotations

from typing import Any

from logitfit.cli.errors import CLIError
from logitfit.cli.fit_setup import (
    FitOptions,
    FitResult,
    fit_params,
    recording_warnings,
)
from logitfit.exceptions import DataError

#: io's format names to :func:`logitfit.scan` formats and CSV delimiters.
_SCAN_FORMATS = {"csv": ("csv", ","), "tsv": ("csv", "\t"), "parquet": ("parquet", ","),
                 "feather": ("ipc", ",")}


def mode(opts: FitOptions) -> str | None:
    """``"dask"``, ``"stream"`` or None (fit in memory) for these options."""
    if opts.scheduler is not None:
        _check_supported(opts, "--scheduler")
        return "dask"
    if opts.data == "-":
        return None
    from logitfit.io.tables import detect_format

    fmt = detect_format(opts.data, opts.fmt)
    if fmt not in _SCAN_FORMATS or _compressed(opts.data):
        return None  # LIBSVM and compressed text are read whole
    from logitfit.blocks.stream import DEFAULT_MEMORY_LIMIT
    from logitfit.io.scan import parse_bytes, should_stream

    limit = parse_bytes(opts.memory_limit) if opts.memory_limit else DEFAULT_MEMORY_LIMIT
    if not should_stream(opts.data, limit):
        return None
    _check_supported(opts, f"data larger than the memory budget ({limit:,} bytes)",
                     hint="; or raise --memory-limit to fit in memory")
    return "stream"


def _compressed(path: str) -> bool:
    return path.lower().endswith((".gz", ".gzip", ".zst", ".zstd", ".bz2", ".xz"))


def _check_supported(opts: FitOptions, why: str, hint: str = "") -> None:
    bad = [name for name, used in (("--formula", opts.formula), ("--categorical", opts.categorical),
                                   ("--holdout", opts.holdout > 0)) if used]
    if bad:
        raise CLIError(f"{why}: the fit runs on numeric columns without holding rows out; "
                       f"{', '.join(bad)} need the in-memory fit{hint}")
    if opts.target is None:
        raise CLIError("--target is required: name the target column")


def fit_scaled(kind: str, opts: FitOptions, callback: Any = None) -> FitResult:
    """Fit by streaming (``kind="stream"``) or on a Dask cluster (``"dask"``)."""
    from logitfit.estimators.logistic import LogisticRegression
    from logitfit.io.tables import detect_format

    model = LogisticRegression(**fit_params(opts, callback))
    fmt = detect_format(opts.data, opts.fmt) if opts.data != "-" else "csv"
    if fmt not in _SCAN_FORMATS:
        raise CLIError(f"{opts.data}: a {fmt} file cannot be fitted with --scheduler; use CSV, "
                       "TSV, Parquet or Feather")
    fit = _fit_stream if kind == "stream" else _fit_dask
    (fitted, inference), n, seconds, msgs = fit(model, opts, fmt)
    return FitResult(fitted, inference, opts, n, 0, seconds, None, msgs, fmt, fitted_by=kind)


def _finish(model: Any, features: list[str]) -> tuple[Any, Any]:
    """(FittedModel with its covariance, Inference or None), while the rows are still reachable."""
    from logitfit.data.columns import ColumnEncoder

    model.callback = None
    fitted = model.to_fitted(encoder=ColumnEncoder.numeric(features))
    return fitted, (model._inference(0) if fitted.covariance is not None else None)


def _fit_stream(model: Any, opts: FitOptions, fmt: str) -> tuple:
    from logitfit.blocks.stream import DEFAULT_MEMORY_LIMIT
    from logitfit.io.scan import scan

    sfmt, delimiter = _SCAN_FORMATS[fmt]
    ds = scan(opts.data, target=opts.target, features=opts.features, weight=opts.weight_col,
              max_classes=opts.max_classes, offset=opts.offset_col,
              memory_limit=opts.memory_limit or DEFAULT_MEMORY_LIMIT, format=sfmt,
              delimiter=delimiter)
    if opts.features is None:  # scan leaves text columns out: say so rather than drop them
        from logitfit.io.scan import file_schema

        names = file_schema(ds.paths[0], ds.format, delimiter).names
        text = [c for c in names
                if c not in (opts.target, opts.weight_col, opts.offset_col, *ds.feature_names)]
        if text:
            raise DataError(opts.data, "the column holds text; a fit streamed from disk "
                            "(--memory-limit) takes numeric feature columns: leave it out "
                            "with --features, or fit in memory", column=text[0])
    if len(ds.classes) < 2:
        raise DataError(opts.data, f"target column {opts.target!r} has one class only")
    _, seconds, msgs = recording_warnings(lambda: model.fit(ds))
    return _finish(model, list(ds.feature_names)), ds.n_samples, seconds, msgs


def _fit_dask(model: Any, opts: FitOptions, fmt: str) -> tuple:
    import dask.dataframe as dd

    from logitfit.estimators.distributed import connect

    try:
        client = connect(opts.scheduler, timeout="20s")
    except (OSError, TimeoutError) as err:
        raise CLIError(f"cannot reach the Dask scheduler at {opts.scheduler}: {err}") from None
    try:
        if fmt in ("csv", "tsv"):
            ddf = dd.read_csv(opts.data, sep="\t" if fmt == "tsv" else ",")
        elif fmt == "parquet":
            ddf = dd.read_parquet(opts.data)
        else:
            import pyarrow.feather as feather

            ddf = dd.from_pandas(feather.read_table(opts.data).to_pandas(), npartitions=4)
        names = list(ddf.columns)
        for col in [opts.target, opts.weight_col, opts.offset_col, *(opts.features or [])]:
            if col is not None and col not in names:
                raise DataError(opts.data, f"missing column; the file has: {', '.join(names[:20])}",
                                column=col)
        features = opts.features or [c for c in names
                                     if c not in (opts.target, opts.weight_col, opts.offset_col)]
        bad = [c for c in features if getattr(ddf.dtypes[c], "kind", "O") not in "biuf"]
        if bad:
            raise DataError(opts.data, "a fit with --scheduler takes numeric feature columns; "
                            "leave this one out (--features) or fit in memory", column=bad[0])
        sw = ddf[opts.weight_col] if opts.weight_col else None
        off = ddf[opts.offset_col] if opts.offset_col else None
        _, seconds, msgs = recording_warnings(
            lambda: model.fit(ddf[features], ddf[opts.target], sample_weight=sw, offset=off))
        if off is not None:  # the model records the column its offsets came from
            model.offset_ = opts.offset_col
        return _finish(model, features), int(len(ddf)), seconds, msgs
    finally:
        client.close()
