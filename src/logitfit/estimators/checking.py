"""Model checking on the estimator: ``diagnostics`` (residuals, influence) and ``goodness_of_fit``.

:class:`CheckingMixin` is a base of :class:`~logitfit.estimators.logistic.LogisticRegression`.
The math lives in :mod:`logitfit.inference.diagnostics` and
:mod:`logitfit.inference.goodness_of_fit`; this module only routes the rows to
it: arrays and tables in memory, files streamed (a path or a
:func:`logitfit.scan` data set, written to a Parquet or CSV file with flat
memory, atomically) and Dask collections (a lazy Dask DataFrame, one task per
partition). Every route computes each row from the fit's ``theta`` and
covariance alone, so the three give the same numbers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from logitfit.inference.diagnostics import (
    InfluenceBasis,
    block_diagnostics,
    chunk_rows_for,
    diagnostics_in_memory,
)
from logitfit.inference.goodness_of_fit import GofAccumulator, GoodnessOfFit

__all__ = ["CheckingMixin", "write_columns"]

#: Output formats of a streamed table, by file suffix.
OUTPUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv"}


class CheckingMixin:
    """``diagnostics`` and ``goodness_of_fit`` of a fitted binary model (see the module docstring)."""

    def diagnostics(self, X: Any, y: Any = None, sample_weight: Any = None, offset: Any = None, *,
                    output: str | os.PathLike | None = None) -> Any:
        """Residuals, leverage, Cook's distance and DFBETAS of every row (binary models).

        Columns (formulas in :mod:`logitfit.inference.diagnostics`): ``fitted``
        (p), ``response`` (y - p), ``pearson``, ``deviance``, ``student_pearson``
        (statsmodels' ``resid_studentized``, R's ``rstandard(type="pearson")``),
        ``student_deviance`` (R's ``rstandard``), ``leverage`` (diagonal of the
        weighted hat matrix), ``cooks_distance`` and one ``dfbetas[<term>]`` per
        parameter (one-step approximations, as statsmodels' ``GLMInfluence``).
        All use the fit's nonrobust covariance (an L2-penalised or multinomial fit
        is refused). A sample weight scales its row as R's prior weights
        (statsmodels' ``var_weights``); with ``weight_type="frequency"`` a row is that
        many identical observations and the table gives one of them.

        Parameters
        ----------
        X : array, sparse matrix, table, Dask collection, :func:`logitfit.scan` data set or path
            The rows. A path is scanned with ``y`` naming its target column (and
            ``sample_weight`` its weight column, if any).
        y : labels (or the target column name for a path; None for a scan data set)
        sample_weight : array of weights, optional
        offset : array, optional
            Known terms added to the linear predictor of each row (the column name for a
            path); needed when the model was fitted with one (a formula's ``offset(...)``
            term is read from a table by itself).
        output : path, optional
            Where a streamed table is written (``.parquet`` or ``.csv``/``.tsv``); needed
            for a path or scan data set, and only then.

        Returns
        -------
        pandas.DataFrame, dict of ndarray, dask DataFrame or Path
            A DataFrame indexed as ``X`` when ``X`` is one; a dict of 1-D arrays
            (the same column names) for arrays; a lazy Dask DataFrame for Dask
            input; for streamed input the written file's path, whose table also
            has ``row`` (1-based row number in the data).

        Examples
        --------
        >>> import numpy as np
        >>> from logitfit import LogisticRegression
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(200, 2))
        >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
        >>> table = LogisticRegression().fit(X, y).diagnostics(X, y)
        >>> list(table)[:4], round(float(table["leverage"].sum()), 6)
        (['fitted', 'response', 'pearson', 'deviance'], 3.0)
        """
        basis = self._influence_basis()
        stream = _streamed(self, X, y, sample_weight, offset)
        if stream is not None:
            if output is None:
                raise ValueError("streamed diagnostics are written to a file: give output= "
                                 "(a .parquet or .csv path)")
            return write_columns(_stream_tables(basis, *stream), output)
        if output is not None:
            raise ValueError("output= is for streamed input (a path or logitfit.scan data set); "
                             "in-memory rows return a table")
        if _is_dask(X):
            return _dask_diagnostics(self, basis, X, y, sample_weight, offset)
        D, y01, sw, off = self._checked_rows(X, y, sample_weight, offset)
        out = diagnostics_in_memory(basis, D, y01, sw, off)
        if hasattr(X, "iloc") and hasattr(X, "columns"):
            import pandas as pd

            return pd.DataFrame(out, index=X.index)
        return out

    def goodness_of_fit(self, X: Any, y: Any = None, sample_weight: Any = None, offset: Any = None,
                        *, groups: int = 10) -> GoodnessOfFit:
        """Hosmer-Lemeshow, le Cessie-van Houwelingen and (grouped data) covariate-pattern tests.

        Definitions, the Hosmer-Lemeshow grouping and tie rule, and the weights'
        meaning (frequency weights) are in :mod:`logitfit.inference.goodness_of_fit`.
        ``X``, ``y``, ``sample_weight``, ``offset`` as :meth:`diagnostics` (streamed
        and Dask rows too; Hosmer-Lemeshow keeps 24 bytes a row for its quantiles).

        Examples
        --------
        >>> import numpy as np
        >>> from logitfit import LogisticRegression
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(500, 2))
        >>> y = (X @ [1.0, -2.0] + rng.logistic(size=500) > 0).astype(int)
        >>> gof = LogisticRegression().fit(X, y).goodness_of_fit(X, y)
        >>> gof["Hosmer-Lemeshow"].df
        8
        """
        basis = self._influence_basis()
        acc = GofAccumulator(basis.theta, basis.fit_intercept)
        stream = _streamed(self, X, y, sample_weight, offset)
        if stream is not None:
            blocks, remap = stream
            for block in blocks.iter_blocks():
                acc.add(block.X, remap[block.y.astype(np.intp)], block.sw, getattr(block, "offset", None))
        elif _is_dask(X):
            acc = _dask_gof(self, basis, X, y, sample_weight, offset)
        else:
            D, y01, sw, off = self._checked_rows(X, y, sample_weight, offset)
            step = chunk_rows_for(D.shape[1])  # a dense chunk at a time (sparse or wide designs)
            for a in range(0, D.shape[0], step):
                acc.add(D[a:a + step], y01[a:a + step], sw[a:a + step],
                        None if off is None else off[a:a + step])
        return acc.result(groups)

    # ----------------------------------------------------------- helpers

    def _influence_basis(self) -> InfluenceBasis:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        if len(self.classes_) != 2:
            raise ValueError(
                f"diagnostics and goodness-of-fit tests are defined for the binary model; this "
                f"one has {len(self.classes_)} classes: fit one binary model per class against "
                "the rest and check each")
        return InfluenceBasis.from_inference(self._inference(0))

    def _checked_rows(self, X: Any, y: Any, sample_weight: Any, offset: Any) -> tuple:
        """(dense or sparse design, 0/1 labels, weights, offsets or None) of in-memory rows."""
        from logitfit.data.encoding import encode_for_predict
        from logitfit.data.validation import (
            apply_class_weight,
            check_sample_weight,
            validate_predict,
        )

        if y is None:
            raise ValueError("diagnostics need the labels y of the rows")
        design = encode_for_predict(self, X)
        D = validate_predict(self, X) if design is None else design
        n = D.shape[0]
        y01 = label_indices(self.classes_, y, n)
        sw = check_sample_weight(sample_weight, n)
        sw = apply_class_weight(getattr(self, "class_weight", None), self.classes_, y01, sw)
        from logitfit.data.offsets import check_offset, missing_offset_error
        from logitfit.estimators.fitting import predict_offset

        off = predict_offset(self._model(), X, offset)  # offset=, else a formula's offset(...) term
        if off is None and getattr(self, "offset_", None) is not None:
            raise missing_offset_error(self.offset_)
        off = None if off is None else check_offset(off, n)
        return D, y01.astype(np.float64), sw, off


def _is_dask(X: Any) -> bool:
    return type(X).__module__.split(".")[0] == "dask"


def label_indices(classes: np.ndarray, y: Any, n: int) -> np.ndarray:
    """Index of each label in ``classes`` (sorted); a label the model does not know is an error."""
    y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y).reshape(-1)
    if y.shape[0] != n:
        raise ValueError(f"X has {n} rows but y has {y.shape[0]} labels")
    try:
        idx = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
        bad = np.asarray(classes[idx] != y, dtype=bool)
    except TypeError:
        bad, idx = np.ones(n, dtype=bool), np.zeros(n, dtype=np.intp)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"label {y[i:i + 1].tolist()[0]!r} at row {i} is not one of the model's classes "
                         f"{np.asarray(classes).tolist()}")
    return idx


def _streamed(est: Any, X: Any, y: Any, sample_weight: Any, offset: Any = None) -> tuple | None:
    """(stream blocks, data class index -> model class index) for a path or scan data set."""
    from logitfit.io.scan import ScanDataset, scan

    if isinstance(X, (str, os.PathLike)):
        named = {"y": y, "sample_weight": sample_weight, "offset": offset}
        bad = [k for k, v in named.items() if not (isinstance(v, str) or (v is None and k != "y"))]
        if bad:
            raise ValueError(f"for a data file, {bad[0]} names a column of it (a string)")
        names = getattr(est, "feature_names_in_", None)
        X = scan(X, target=y, features=None if names is None else [str(n) for n in names],
                 weight=sample_weight, offset=offset)
    elif isinstance(X, ScanDataset):
        if y is not None or sample_weight is not None or offset is not None:
            raise ValueError("a scanned data set carries its own labels, weights and offsets "
                             "(target=, weight=, offset=); call without y, sample_weight or offset")
    else:
        return None
    if getattr(est, "offset_", None) is not None and getattr(X.spec, "offset", None) is None:
        from logitfit.data.offsets import missing_offset_error

        raise missing_offset_error(est.offset_)
    if X.n_features != est.n_features_in_:
        raise ValueError(f"the data have {X.n_features} feature columns; the model expects "
                         f"{est.n_features_in_}")
    blocks = X.blocks(n_params=est.n_features_in_ + 1, class_weight=getattr(est, "class_weight", None))
    remap = label_indices(est.classes_, X.classes, len(X.classes)).astype(np.float64)
    return blocks, remap


def _stream_tables(basis: InfluenceBasis, blocks: Any, remap: np.ndarray) -> Iterable[dict]:
    row = 0
    for block in blocks.iter_blocks():
        n = len(block.sw)
        table = block_diagnostics(basis, block.X, remap[block.y.astype(np.intp)], block.sw,
                                  getattr(block, "offset", None))
        yield {"row": np.arange(row + 1, row + n + 1, dtype=np.int64), **table}
        row += n


def write_columns(chunks: Iterable[dict[str, np.ndarray]], path: str | os.PathLike) -> Path:
    """Write tables of 1-D columns, chunk after chunk, to one Parquet or CSV/TSV file atomically.

    Memory holds one chunk; a failure part way leaves no file (:mod:`logitfit.io.atomic`).

    Examples
    --------
    >>> import numpy as np
    >>> from logitfit.estimators.checking import write_columns
    >>> chunks = ({"row": np.arange(a, a + 2), "x": np.ones(2)} for a in (1, 3))
    >>> write_columns(chunks, "out.csv").read_text().splitlines()
    ['"row","x"', '1,1', '2,1', '3,1', '4,1']
    """
    import pyarrow as pa

    from logitfit.data.arrow_input import from_numpy
    from logitfit.io.atomic import atomic_path

    fmt = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: write the table as .parquet, .csv or .tsv")
    with atomic_path(path) as tmp:
        writer = None
        try:
            for chunk in chunks:
                batch = pa.record_batch([from_numpy(np.asarray(v)) for v in chunk.values()],
                                        names=list(chunk))
                if writer is None:
                    writer = _writer(tmp, batch.schema, fmt)
                writer.write_batch(batch)
            if writer is None:
                raise ValueError(f"{path}: no rows to write")
        finally:
            if writer is not None:
                writer.close()
    return Path(path)


def _writer(path: str, schema: Any, fmt: str) -> Any:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(path, schema)
    import pyarrow.csv as pc

    return pc.CSVWriter(path, schema, write_options=pc.WriteOptions(delimiter="\t" if fmt == "tsv" else ","))


# ---------------------------------------------------------------- Dask


def _dask_parts(est: Any, X: Any, y: Any, sample_weight: Any, offset: Any) -> tuple[list, list, list, list, list]:
    """Delayed partitions of X, y, weights and offsets (row-aligned), and each part's first row."""
    import dask.array as da

    if y is None:
        raise ValueError("diagnostics on Dask rows need y (a Dask array or Series of labels)")
    if getattr(est, "class_weight", None) == "balanced":
        raise ValueError("class_weight='balanced' weighs the classes by counts over all rows, which "
                         "a Dask partition does not see: give sample_weight with the class weights "
                         "multiplied in")
    frame = hasattr(X, "to_delayed") and hasattr(X, "columns")
    if frame:
        names = getattr(est, "feature_names_in_", None)
        if names is not None and list(X.columns) != [str(n) for n in names]:
            raise ValueError(f"X has columns {list(X.columns)} but the model was fitted on {list(names)}")
        xs = X.to_delayed()
        sizes = None

        def split(v: Any, what: str) -> list:
            if v is None:
                return [None] * len(xs)
            parts = v.to_delayed() if hasattr(v, "to_delayed") else None
            if parts is None or getattr(v, "npartitions", None) != X.npartitions:
                raise ValueError(f"{what} must be a Dask Series partitioned as X ({X.npartitions} partitions)")
            return list(parts)
    else:
        arr = X if isinstance(X, da.Array) else da.from_array(np.asarray(X))
        if arr.ndim != 2 or arr.shape[1] != est.n_features_in_:
            raise ValueError(f"X has shape {arr.shape}; the model expects {est.n_features_in_} features")
        if any(np.isnan(c) for c in arr.chunks[0]):
            arr = arr.compute_chunk_sizes()
        arr = arr.rechunk({1: -1})
        xs = list(arr.to_delayed().ravel())
        sizes = arr.chunks[0]

        def split(v: Any, what: str) -> list:
            if v is None:
                return [None] * len(xs)
            a = v.to_dask_array(lengths=True) if hasattr(v, "to_dask_array") else (
                v if isinstance(v, da.Array) else da.from_array(np.asarray(v)))
            if a.shape[0] != arr.shape[0]:
                raise ValueError(f"X has {arr.shape[0]} rows but {what} has {a.shape[0]}")
            return list(a.reshape(-1).rechunk((sizes,)).to_delayed().ravel())
    starts = [None] * len(xs) if sizes is None else list(np.concatenate([[0], np.cumsum(sizes)[:-1]]))
    return xs, split(y, "y"), split(sample_weight, "sample_weight"), split(offset, "offset"), starts


def _partition_table(x: Any, y: Any, sw: Any, off: Any, start: Any, est: Any, basis: InfluenceBasis) -> Any:
    import pandas as pd

    D, y01, w, o = est._checked_rows(x, y, sw, off)
    index = x.index if hasattr(x, "index") and hasattr(x, "iloc") else pd.RangeIndex(start, start + len(y01))
    return pd.DataFrame(diagnostics_in_memory(basis, D, y01, w, o), index=index)


def _dask_diagnostics(est: Any, basis: InfluenceBasis, X: Any, y: Any, sample_weight: Any, offset: Any) -> Any:
    import dask
    import dask.dataframe as dd
    import pandas as pd

    xs, ys, ss, os_, starts = _dask_parts(est, X, y, sample_weight, offset)
    part = dask.delayed(_partition_table, pure=True)
    meta = pd.DataFrame({c: np.empty(0) for c in basis.columns})
    return dd.from_delayed([part(x, t, s, o, a, est, basis) for x, t, s, o, a in
                            zip(xs, ys, ss, os_, starts, strict=True)], meta=meta, verify_meta=False)


def _partition_gof(x: Any, y: Any, sw: Any, off: Any, est: Any, basis: InfluenceBasis) -> GofAccumulator:
    acc = GofAccumulator(basis.theta, basis.fit_intercept)
    acc.add(*est._checked_rows(x, y, sw, off))
    return acc


def _dask_gof(est: Any, basis: InfluenceBasis, X: Any, y: Any, sample_weight: Any, offset: Any) -> GofAccumulator:
    import dask

    xs, ys, ss, os_, _ = _dask_parts(est, X, y, sample_weight, offset)
    part = dask.delayed(_partition_gof, pure=True)
    parts = dask.compute(*[part(x, t, s, o, est, basis) for x, t, s, o in zip(xs, ys, ss, os_, strict=True)])
    acc = parts[0]
    for other in parts[1:]:
        acc.merge(other)
    return acc
