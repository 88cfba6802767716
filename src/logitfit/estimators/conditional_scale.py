"""Conditional logit beyond memory: strata streamed from files, or kept within Dask partitions.

The conditional likelihood is a sum over strata, so its objective is a map
over blocks of whole strata (:class:`~logitfit.model.conditional.StrataBlock`)
and a sum; only where a block's rows come from changes.

* **Streaming** (:func:`stream_source`): the files of a :func:`logitfit.scan`
  are read chunk by chunk on every pass; the rows of the last stratum of a
  chunk may continue in the next chunk (or file), so they are carried over
  and the block ends at the last complete stratum. The rows must be grouped
  by stratum (sorted is enough): a stratum that reappears after another one
  started is an error naming the file and row.
* **Dask** (:func:`dask_source`): each partition of a Dask DataFrame becomes
  one block on the workers (persisted), each evaluation is one task per
  partition and a fixed-order tree sum on the client
  (:class:`logitfit.blocks.distributed.DaskBlocks`). A stratum must lie within
  one partition (``set_index`` on the strata column, or
  ``shuffle(on=column)``, arranges that); otherwise an error names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from logitfit.exceptions import DataError
from logitfit.model.conditional import StrataBlock, StrataInfo, strata_from_rows

__all__ = ["StreamedStrata", "dask_source", "is_dask_frame", "is_scan", "stream_source"]

# Rows read per chunk when streaming (a chunk's strata are one block).
STREAM_BATCH_ROWS = 65_536


def is_scan(X: Any) -> bool:
    """True for a :class:`logitfit.io.scan.ScanDataset`."""
    return type(X).__name__ == "ScanDataset" and hasattr(X, "spec")


def is_dask_frame(X: Any) -> bool:
    """True for a Dask DataFrame (without importing Dask)."""
    return hasattr(X, "__dask_graph__") and hasattr(X, "columns") and hasattr(X, "npartitions")


class StreamedStrata:
    """Strata read from grouped files on every pass; ``map_reduce`` over their blocks.

    Parameters
    ----------
    paths : sequence of str, the files in pass order.
    fmt : "csv", "tsv", "parquet" or "ipc".
    features : list of str; target, strata : str; weight : str or None.
    batch_rows : rows per chunk read (Parquet / IPC; CSV follows the reader's blocks).
    """

    def __init__(self, paths: Any, fmt: str, features: list[str], target: str, strata: str,
                 weight: str | None = None, batch_rows: int = STREAM_BATCH_ROWS) -> None:
        self.paths, self.fmt = list(paths), fmt
        self.features, self.target, self.strata, self.weight = list(features), target, strata, weight
        self.batch_rows = int(batch_rows)
        self.n_features = len(self.features)

    @property
    def columns(self) -> list[str]:
        cols = [*self.features, self.target, self.strata]
        return cols + [self.weight] if self.weight else cols

    def _chunks(self) -> Iterator[tuple[str, int, dict[str, np.ndarray]]]:
        from logitfit.io.tables import iter_batches

        for path in self.paths:
            row = 0
            for batch in iter_batches(path, fmt=self.fmt, columns=self.columns, batch_rows=self.batch_rows):
                cols = {name: batch.column(name).to_numpy(zero_copy_only=False) for name in self.columns}
                yield path, row, cols
                row += batch.num_rows

    def iter_blocks(self, check: bool = False) -> Iterator[tuple[StrataBlock, StrataInfo]]:
        """The blocks of one pass, each of whole strata; ``check`` verifies the grouping."""
        carry: dict[str, np.ndarray] | None = None
        ended: set = set()
        index = 0
        where = ("", 0)
        for path, row, cols in self._chunks():
            if check:
                _check_chunk(path, row, cols, self)
            if carry is not None:
                cols = {k: np.concatenate([carry[k], v]) for k, v in cols.items()}
            labels = cols[self.strata]
            cut = np.flatnonzero(labels[1:] != labels[:-1]) + 1
            if check:
                runs = labels[np.concatenate([[0], cut])]
                for pos, lab in zip(np.concatenate([[0], cut]), runs[:-1], strict=False):
                    key = lab.item() if hasattr(lab, "item") else lab
                    if key in ended:
                        raise DataError(path, f"stratum {key!r} appears again after other strata: "
                                        "streamed conditional logit needs rows grouped (e.g. sorted) by "
                                        "stratum", row=max(1, row + int(pos) + 1 - (0 if carry is None else carry[self.strata].size)),
                                        column=self.strata)
                    ended.add(key)
            last = int(cut[-1]) if cut.size else 0
            if last:
                yield self._block({k: v[:last] for k, v in cols.items()}, index)
                index += 1
            carry = {k: v[last:] for k, v in cols.items()}
            where = (path, row)
        if carry is not None and carry[self.strata].size:
            if check:
                key = carry[self.strata][0]
                key = key.item() if hasattr(key, "item") else key
                if key in ended:
                    raise DataError(where[0], f"stratum {key!r} appears again after other strata: streamed "
                                    "conditional logit needs rows grouped (e.g. sorted) by stratum",
                                    column=self.strata)
            yield self._block(carry, index)

    def _block(self, cols: dict[str, np.ndarray], index: int) -> tuple[StrataBlock, StrataInfo]:
        X = np.column_stack([np.asarray(cols[f], dtype=np.float64) for f in self.features])
        case = np.asarray(cols[self.target], dtype=np.float64) == 1.0
        w = None if self.weight is None else np.asarray(cols[self.weight], dtype=np.float64)
        return strata_from_rows(X, case, cols[self.strata], w, index=index, grouped=True)

    def survey(self) -> StrataInfo:
        """One checking pass: the grouping, the values, and the counts of rows and strata."""
        n_rows = n_strata = n_dropped = 0
        weight_sum = 0.0
        for _, info in self.iter_blocks(check=True):
            n_rows += info.n_rows
            n_strata += info.n_strata
            n_dropped += info.n_dropped
            weight_sum += info.weight_sum
        return StrataInfo(n_rows, n_strata, n_dropped, weight_sum)

    def map_reduce(self, kernel: Any, *args: Any) -> tuple:
        """``sum_b kernel(block_b, *args)`` over one streamed pass (a running sum)."""
        total = None
        for block, _ in self.iter_blocks():
            part = kernel(block, *args)
            total = [np.array(v, dtype=np.float64) for v in part] if total is None else \
                [t + v for t, v in zip(total, part, strict=True)]
        return tuple(total) if total is not None else ()


def _check_chunk(path: str, row: int, cols: dict[str, np.ndarray], src: StreamedStrata) -> None:
    """Every value of a chunk usable: finite features, 0/1 cases, labels present, weights >= 0."""
    for f in src.features:
        x = np.asarray(cols[f], dtype=np.float64)
        if not np.isfinite(x).all():
            raise DataError(path, "missing or non-finite value", row=row + int(np.flatnonzero(~np.isfinite(x))[0]) + 1,
                            column=f)
    y = np.asarray(cols[src.target], dtype=np.float64)
    bad = np.flatnonzero(~np.isin(y, (0.0, 1.0)))
    if bad.size:
        raise DataError(path, f"the case column holds {y[bad[0]]!r}; it must be 0 (control) or 1 (case)",
                        row=row + int(bad[0]) + 1, column=src.target)
    labels = cols[src.strata]
    missing = [i for i, v in enumerate(labels) if v is None or (isinstance(v, float) and v != v)]
    if missing:
        raise DataError(path, "missing stratum label", row=row + missing[0] + 1, column=src.strata)
    if src.weight is not None:
        w = np.asarray(cols[src.weight], dtype=np.float64)
        bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
        if bad.size:
            raise DataError(path, "weights must be finite and non-negative", row=row + int(bad[0]) + 1,
                            column=src.weight)


def stream_source(data: Any, y: Any, groups: Any, sample_weight: Any) -> tuple[StreamedStrata, StrataInfo, list[str]]:
    """The streamed strata of a :func:`logitfit.scan` (``groups`` names the strata column)."""
    spec = data.spec
    if not isinstance(groups, str):
        raise ValueError("streaming from files: groups must name the strata column")
    if y is not None and y != spec.target:
        raise ValueError(f"the scan's target is {spec.target!r}; y must be None or that name")
    weight = sample_weight if isinstance(sample_weight, str) else spec.weight
    if sample_weight is not None and not isinstance(sample_weight, str):
        raise ValueError("streaming from files: sample_weight must name a column")
    features = [f for f in spec.features if f not in (groups, weight)]
    src = StreamedStrata(spec.paths, spec.fmt, features, spec.target, groups, weight)
    return src, src.survey(), features


def _partition_block(frame: Any, index: int, features: list[str], target: str, strata: str,
                     weight: str | None) -> tuple[StrataBlock, StrataInfo, np.ndarray]:
    X = frame[features].to_numpy(dtype=np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"partition {index}: a feature has a missing or non-finite value")
    y = frame[target].to_numpy(dtype=np.float64)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"partition {index}: the case column {target!r} must hold 0 or 1")
    if frame[strata].isna().any():
        raise ValueError(f"partition {index}: missing stratum label in {strata!r}")
    labels = frame[strata].to_numpy()
    w = None if weight is None else frame[weight].to_numpy(dtype=np.float64)
    block, info = strata_from_rows(X, y == 1.0, labels, w, index=index)
    return block, info, np.unique(labels)


def dask_source(frame: Any, y: Any, groups: Any, sample_weight: Any, client: Any = None) -> tuple[Any, StrataInfo, list[str]]:
    """One persisted block of whole strata per partition of a Dask DataFrame, as DaskBlocks."""
    from operator import itemgetter

    from logitfit.blocks.distributed import DaskBlocks
    from logitfit.estimators.distributed import get_client

    for name, value in (("y", y), ("groups", groups)):
        if not isinstance(value, str) or value not in frame.columns:
            raise ValueError(f"fitting a Dask DataFrame: {name} must name one of its columns")
    if sample_weight is not None and (not isinstance(sample_weight, str) or sample_weight not in frame.columns):
        raise ValueError("fitting a Dask DataFrame: sample_weight must name one of its columns")
    client = get_client(client)
    features = [str(c) for c in frame.columns if c not in (y, groups, sample_weight)]
    parts = client.compute(frame.to_delayed())
    built = [client.submit(_partition_block, part, i, features, y, groups, sample_weight, pure=False)
             for i, part in enumerate(parts)]
    blocks = [client.submit(itemgetter(0), b) for b in built]
    infos = client.gather([client.submit(lambda t: t[1:], b) for b in built])
    del parts, built
    seen: dict = {}
    for i, (_, labels) in enumerate(infos):
        for lab in labels.tolist():
            if lab in seen:
                raise ValueError(f"stratum {lab!r} lies in partitions {seen[lab]} and {i}: a stratum must "
                                 "be within one partition (e.g. frame.set_index(column) or "
                                 "frame.shuffle(on=column) first)")
            seen[lab] = i
    info = StrataInfo(*(sum(getattr(inf, k) for inf, _ in infos) for k in StrataInfo._fields))
    source = DaskBlocks(client, blocks, n_samples=info.n_rows, n_features=len(features), dtype=np.float64,
                        sw_sum=info.weight_sum)
    return source, info, features
