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

import numpy as np

from logitfit.cli.errors import CLIError
from logitfit.cli.fit_setup import (
    FitOptions,
    FitResult,
    fit_recording_warnings,
    model_covariance,
    new_model,
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
    from logitfit.data.columns import ColumnEncoder
    from logitfit.io.tables import detect_format

    model = new_model(opts, callback)
    fmt = detect_format(opts.data, opts.fmt) if opts.data != "-" else "csv"
    if fmt not in _SCAN_FORMATS:
        raise CLIError(f"{opts.data}: a {fmt} file cannot be fitted with --scheduler; use CSV, "
                       "TSV, Parquet or Feather")
    if kind == "stream":
        features, n, seconds, msgs, cov = _fit_stream(model, opts, fmt)
    else:
        features, n, seconds, msgs, cov = _fit_dask(model, opts, fmt)
    encoder = ColumnEncoder.numeric(features)
    return FitResult(model, encoder, opts, n, 0, seconds, None, cov, msgs, fmt, fitted_by=kind)


def _fit_stream(model: Any, opts: FitOptions, fmt: str) -> tuple:
    from logitfit.blocks.stream import DEFAULT_MEMORY_LIMIT
    from logitfit.io.scan import scan

    sfmt, delimiter = _SCAN_FORMATS[fmt]
    ds = scan(opts.data, target=opts.target, features=opts.features, weight=opts.weight_col,
              memory_limit=opts.memory_limit or DEFAULT_MEMORY_LIMIT, format=sfmt,
              delimiter=delimiter)
    if len(ds.classes) < 2:
        raise DataError(opts.data, f"target column {opts.target!r} has one class only")
    seconds, msgs = fit_recording_warnings(model, lambda: model.fit(ds))
    return list(ds.feature_names), ds.n_samples, seconds, msgs, model_covariance(model)


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
        for col in [opts.target, opts.weight_col, *(opts.features or [])]:
            if col is not None and col not in names:
                raise DataError(opts.data, f"missing column; the file has: {', '.join(names[:20])}",
                                column=col)
        features = opts.features or [c for c in names if c not in (opts.target, opts.weight_col)]
        bad = [c for c in features if getattr(ddf.dtypes[c], "kind", "O") not in "biuf"]
        if bad:
            raise DataError(opts.data, "a fit with --scheduler takes numeric feature columns; "
                            "leave this one out (--features) or fit in memory", column=bad[0])
        X = ddf[features].to_dask_array(lengths=True).astype(np.float64)
        lengths = list(X.chunks[0])
        y = ddf[opts.target].to_dask_array(lengths=lengths)
        sw = ddf[opts.weight_col].to_dask_array(lengths=lengths) if opts.weight_col else None
        seconds, msgs = fit_recording_warnings(model, lambda: model.fit(X, y, sample_weight=sw))
        model.feature_names_in_ = np.asarray(features, dtype=object)
        cov = model_covariance(model)
        return features, int(X.shape[0]), seconds, msgs, cov
    finally:
        client.close()
