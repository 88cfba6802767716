"""Fitting and predicting on a Dask cluster.

``LogisticRegression().fit(X, y)`` accepts Dask arrays and DataFrames (and
``predict``/``predict_proba`` return lazy Dask arrays); this module holds what
needs more words::

    from logitfit.estimators import distributed as lfd
    client = lfd.connect("tcp://scheduler:8786")      # or an existing distributed.Client
    model = LogisticRegression().fit(X, y)             # X, y: dask array / DataFrame / Series
    proba = model.predict_proba(X)                     # lazy dask array, shape (n, n_classes)

The fit persists one :class:`~logitfit.blocks.Block` per partition on the
workers and runs each objective evaluation as one task per partition plus a
tree sum on the client (:mod:`logitfit.blocks.distributed`). Solvers run unchanged;
the result equals the in-memory fit to rounding (1e-8 relative or better).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from logitfit.blocks.distributed import DaskBlocks, make_block, scale_block
from logitfit.data.validation import check_two_classes, class_multipliers
from logitfit.model.fitted import FittedModel, log_proba_from_scores

__all__ = ["connect", "get_client", "to_blocks", "fit_blocks", "predict_lazy"]


def connect(address: str | None = None, **kwargs: Any) -> Any:
    """A ``distributed.Client`` for the scheduler at ``address`` (``tcp://host:8786``).

    With ``address=None`` the client already registered in this process is
    returned (the one created last), else a local cluster is started with
    ``distributed.Client(**kwargs)``. Fits use the default client.

    Examples
    --------
    >>> from logitfit import dask as lfd
    >>> client = lfd.connect(processes=False, n_workers=1, dashboard_address=None)
    >>> lfd.connect() is client
    True
    >>> client.close()
    """
    from distributed import Client

    if address is None:
        try:
            return get_client()
        except ValueError:
            return Client(**kwargs)
    return Client(address, **kwargs)


def get_client(client: Any = None) -> Any:
    """``client`` if given, else the default ``distributed`` client; a clear error if none exists.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> import dask.array as da
    >>> from distributed import Client
    >>> from logitfit import LogisticRegression
    >>> from logitfit import dask as lfd
    >>> client = Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None)
    >>> lfd.get_client() is client
    True
    >>> lfd.get_client(client) is client
    True
    >>> client.close()
    """
    if client is not None:
        return client
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        raise ValueError(
            "fitting on Dask collections needs a distributed client: call "
            "logitfit.estimators.distributed.connect('tcp://scheduler:8786') for an existing cluster, or "
            "distributed.Client() for a local one, before fit"
        ) from None


def _as_array(X: Any, what: str) -> tuple[Any, np.ndarray | None]:
    """(dask array, column names or None) from a dask array / DataFrame / Series."""
    import dask.array as da

    if hasattr(X, "to_dask_array"):
        names = None
        if X.ndim == 2:
            names = np.asarray(X.columns, dtype=object)
            bad = [f"{c!r} ({t})" for c, t in X.dtypes.items() if getattr(t, "kind", "O") not in "biuf"]
            if bad:
                raise ValueError(f"{what} has non-numeric columns: {', '.join(bad)}; encode them first")
        return _known_rows(X.to_dask_array()), names
    if isinstance(X, da.Array):
        return _known_rows(X), None
    return da.from_array(np.asarray(X)), None


def _known_rows(arr: Any) -> Any:
    """``arr`` with its row-chunk sizes computed from its own graph.

    Not ``to_dask_array(lengths=True)``: dask may fuse the partitions of a narrow
    selection such as ``df["y"]``, and lengths counted on the frame then disagree
    with the array's chunks. X, y and weights are aligned by rechunking to X's rows.
    """
    return arr.compute_chunk_sizes() if any(np.isnan(c) for c in arr.chunks[0]) else arr


def to_blocks(
    X: Any,
    y: Any,
    sample_weight: Any = None,
    *,
    client: Any = None,
    dtype: Any = None,
    class_weight: dict | str | None = None,
    verbose: int = 0,
    offset: Any = None,
) -> tuple[DaskBlocks, np.ndarray, np.ndarray | None]:
    """Persist (X, y, weights) on the workers as one Block per row partition.

    Parameters
    ----------
    X : dask array (n, p) or dask DataFrame
        Row partitions become blocks; column chunks are merged (one chunk per row block).
    y : dask array / Series (n,), or a numpy array (chunked like X)
        Labels of any type; the classes come from one pass (``da.unique``).
    sample_weight : like y, optional
    client : distributed.Client, optional (default client otherwise)
    dtype : float32 or float64, optional (float32 X stays float32)
    class_weight : "balanced", dict or None
    verbose : int
    offset : like y (or (n, K) for K >= 3 classes), optional
        Known terms added to the linear predictor; they follow their rows into
        the partitions (``Block.offset``).

    Returns
    -------
    (DaskBlocks, classes, feature names or None)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> import dask.array as da
    >>> from distributed import Client
    >>> from logitfit import LogisticRegression
    >>> from logitfit import dask as lfd
    >>> client = Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None)
    >>> blocks, classes, _ = lfd.to_blocks(da.from_array(X, chunks=50), da.from_array(y, chunks=50))
    >>> blocks.n_samples, classes.tolist()
    (200, [0, 1])
    >>> client.close()
    """
    import dask
    import dask.array as da

    client = get_client(client)
    X, names = _as_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got {X.ndim} dimensions")
    if dtype is None:
        dtype = np.float32 if X.dtype == np.float32 else np.float64
    X = X.rechunk({1: -1})
    rows = X.chunks[0]
    y, _ = _as_array(y, "y")
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    y = y.rechunk((rows,))
    sw = None
    if sample_weight is not None:
        sw, _ = _as_array(sample_weight, "sample_weight")
        if sw.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but sample_weight has {sw.shape[0]}")
        sw = sw.rechunk((rows,))
    off = None
    if offset is not None:
        off, _ = _as_array(offset, "offset")
        if off.shape[0] != X.shape[0]:
            raise ValueError(f"offset has {off.shape[0]} rows but X has {X.shape[0]}; give one offset per row")
        off = off.rechunk((rows,) + ((-1,) if off.ndim == 2 else ()))
    classes = np.unique(np.asarray(client.compute(da.unique(y)).result()))
    if classes.dtype == object:
        classes = classes.astype(str)
    check_two_classes(classes)
    xs = X.to_delayed().ravel()
    ys = y.to_delayed().ravel()
    ss = sw.to_delayed().ravel() if sw is not None else [None] * len(xs)
    os_ = off.to_delayed().ravel() if off is not None else [None] * len(xs)
    build = dask.delayed(make_block, pure=True)
    parts = [build(i, x, t, s, classes, dtype, o)
             for i, (x, t, s, o) in enumerate(zip(xs, ys, ss, os_, strict=True))]
    futures = client.compute(parts)
    blocks = DaskBlocks(
        client, futures, n_samples=X.shape[0], n_features=X.shape[1], dtype=dtype, sw_sum=0.0, verbose=0
    )
    counts = blocks.map_reduce(_class_counts, len(classes))[0]
    mult = class_multipliers(class_weight, classes, counts)
    if mult is not None:
        blocks.blocks = [client.submit(scale_block, b, mult, pure=False) for b in blocks.blocks]
        counts = counts * mult
    if not counts.sum() > 0:
        raise ValueError("sample_weight is zero for every row: nothing to fit")
    blocks.sw_sum = float(counts.sum())
    blocks.has_offset = off is not None
    blocks.passes.clear()
    blocks.verbose = verbose
    return blocks, classes, names


def _class_counts(block, n_classes: int) -> tuple:
    return (np.bincount(block.y.astype(np.intp), weights=block.sw, minlength=n_classes),)


def fit_blocks(estimator: Any, X: Any, y: Any, sample_weight: Any = None,
               offset: Any = None) -> tuple[DaskBlocks, np.ndarray]:
    """The estimator's hook: ``LogisticRegression.fit(dask X, dask y)`` -> (blocks, classes).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> import dask.array as da
    >>> from distributed import Client
    >>> from logitfit import LogisticRegression
    >>> from logitfit import dask as lfd
    >>> client = Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None)
    >>> blocks, classes = lfd.fit_blocks(LogisticRegression(), da.from_array(X, chunks=50), da.from_array(y, chunks=50))
    >>> classes.tolist()
    [0, 1]
    >>> client.close()
    """
    if y is None:
        raise ValueError("fit on a Dask collection needs y (a Dask array or Series of labels)")
    if getattr(estimator, "solver", None) == "sgd":
        raise ValueError(
            "solver='sgd' draws random mini-batches of rows, which partitions on workers "
            "cannot give cheaply; use 'newton' (up to a few thousand features) or 'lbfgs'"
        )
    blocks, classes, names = to_blocks(
        X, y, sample_weight,
        dtype=getattr(estimator, "dtype", None),
        class_weight=getattr(estimator, "class_weight", None),
        verbose=getattr(estimator, "verbose", 0), offset=offset,
    )
    estimator.n_features_in_ = blocks.n_features
    if names is not None:
        estimator.feature_names_in_ = names
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    return blocks, classes


# --------------------------------------------------------------------------
# prediction: one task per partition, lazy
# --------------------------------------------------------------------------


def _chunk_predict(chunk: np.ndarray, coef: np.ndarray, intercept: np.ndarray, classes: np.ndarray, method: str,
                   n_offset: int = 0):
    """One partition's predictions; its last ``n_offset`` columns hold the rows' offsets."""
    model = FittedModel(coef, intercept, classes)
    offset = None
    if n_offset:
        offset = chunk[:, -n_offset:] if n_offset > 1 else chunk[:, -1]
        chunk = chunk[:, :-n_offset]
    if method == "predict":
        return model.predict(chunk, offset=offset)
    if method == "predict_proba":
        return model.predict_proba(chunk, offset)
    Z = model.decision_function(chunk, offset)
    return Z if method == "decision_function" else log_proba_from_scores(Z)


def predict_lazy(estimator: Any, X: Any, method: str = "predict", offset: Any = None) -> Any:
    """``estimator.<method>(X)`` for a Dask array / DataFrame, as a lazy Dask array.

    ``method`` is "predict", "predict_proba", "predict_log_proba" or
    "decision_function". Nothing is computed until the result is. ``offset`` (a
    Dask or numpy array, one per row; needed when the model was fitted with one)
    travels with its rows as extra columns of X's partitions.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X @ [1.0, -2.0] + rng.logistic(size=200) > 0).astype(int)
    >>> import dask.array as da
    >>> from distributed import Client
    >>> from logitfit import LogisticRegression
    >>> from logitfit import dask as lfd
    >>> client = Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None)
    >>> model = LogisticRegression().fit(da.from_array(X, chunks=50), da.from_array(y, chunks=50))
    >>> lazy = lfd.predict_lazy(model, da.from_array(X, chunks=50), "predict_proba")
    >>> type(lazy).__name__, lazy.shape
    ('Array', (200, 2))
    >>> np.allclose(lazy.compute(), LogisticRegression().fit(X, y).predict_proba(X))
    True
    >>> client.close()
    """
    if method not in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        raise ValueError(f"unknown method {method!r}")
    fitted_names = getattr(estimator, "feature_names_in_", None)
    if hasattr(X, "columns") and fitted_names is not None:
        if list(X.columns) != list(fitted_names):
            raise ValueError(
                f"X has columns {list(X.columns)} but the model was fitted on {list(fitted_names)}"
            )
    arr = X.to_dask_array() if hasattr(X, "to_dask_array") else X
    if arr.ndim != 2 or arr.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has shape {arr.shape}; the model expects {estimator.n_features_in_} features")
    coef = np.asarray(estimator.coef_)
    intercept = np.asarray(estimator.intercept_)
    classes = np.asarray(estimator.classes_)
    n_offset = 0
    if offset is None and getattr(estimator, "offset_", None) is not None:
        from logitfit.data.offsets import missing_offset_error

        raise missing_offset_error(estimator.offset_)
    if offset is not None:
        import dask.array as da

        off, _ = _as_array(offset, "offset")
        off = off.reshape(-1, 1) if off.ndim == 1 else off
        if off.shape[0] != arr.shape[0]:
            raise ValueError(f"offset has {off.shape[0]} rows but X has {arr.shape[0]}; give one offset per row")
        n_offset = off.shape[1]
        arr = da.concatenate([arr.astype(np.float64), off.astype(np.float64).rechunk((arr.chunks[0], -1))],
                             axis=1)
    arr = arr.rechunk({1: -1})
    args = (coef, intercept, classes, method, n_offset)
    binary = coef.shape[0] == 1
    if method == "predict" or (method == "decision_function" and binary):
        dt = classes.dtype if method == "predict" else np.float64
        return arr.map_blocks(_chunk_predict, *args, drop_axis=1, dtype=dt)
    width = coef.shape[0] if not binary else 2
    return arr.map_blocks(_chunk_predict, *args, chunks=(arr.chunks[0], (width,)), dtype=np.float64)
