"""Blocks on a Dask cluster: one block per partition, kept on the workers.

Every partition of the training data becomes one :class:`~logitfit.blocks.Block`
that is computed once and then stays in the memory of the worker that holds
it (a Dask future). An objective evaluation is one map over the partitions
(the same kernels of :mod:`logitfit.model.objective`, submitted as one task per
partition, each returning a few small arrays) and one reduction on the client:
the partial sums are gathered in partition order and added as a fixed binary
tree. The order never depends on which worker finished first, so repeated fits
on the same partition layout give bit-identical coefficients.

Faults: a block future remembers how it was computed (its task graph), so when
a worker dies, the scheduler recomputes the blocks that lived on it on the
remaining workers and the pass completes with the same numbers.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from logitfit.blocks.protocol import Block, BlockKernel

__all__ = ["DaskBlocks", "make_block", "tree_sum"]


ALIGN = 64  # bytes: a cache line, and the widest SIMD load


def _aligned_copy(a: np.ndarray, dtype: Any) -> np.ndarray:
    """C-ordered copy of ``a`` starting on a 64-byte boundary.

    BLAS kernels peel a different number of leading elements depending on the
    address of the data, which changes the rounding of a dot product. Blocks
    that arrive by pickle land at arbitrary offsets; copying them to the same
    alignment makes every recomputation of a block (a repeat fit, a worker
    that died) give the same bits.
    """
    dtype = np.dtype(dtype)
    if a.dtype == dtype and a.flags.c_contiguous and a.ctypes.data % ALIGN == 0:
        return a  # already in the canonical layout: no second copy on the worker
    buf = np.empty(a.size * dtype.itemsize + ALIGN, dtype=np.uint8)
    start = (-buf.ctypes.data) % ALIGN
    out = buf[start : start + a.size * dtype.itemsize].view(dtype).reshape(a.shape)
    out[...] = a
    return out


def make_block(
    index: int,
    X: np.ndarray,
    y: np.ndarray,
    sw: np.ndarray | None,
    classes: np.ndarray,
    dtype: Any,
    offset: np.ndarray | None = None,
) -> Block:
    """Build partition ``index``'s Block on a worker: float X, class indices y, float64 weights
    and offsets (None without).

    Raises ValueError naming the partition and its row on a non-finite value,
    a label outside ``classes``, a negative weight or a bad offset.
    """
    X = _aligned_copy(np.asarray(X), dtype)
    if X.ndim != 2:
        raise ValueError(f"partition {index}: X must be 2-D, got shape {X.shape}")
    if not np.isfinite(X).all():
        i, j = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"partition {index}: X has a NaN or infinity at row {i}, column {j}")
    y = np.asarray(y).reshape(-1)
    if y.dtype == object:
        y = y.astype(str)
    idx = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    unknown = classes[idx] != y
    if unknown.any():
        raise ValueError(f"partition {index}: label {y[np.flatnonzero(unknown)[0]]!r} is not one of the classes")
    y_idx = idx.astype(np.float64) if len(classes) == 2 else idx.astype(np.intp)
    if sw is None:
        sw = np.ones(len(y_idx))
    else:
        sw = np.asarray(sw, dtype=np.float64).reshape(-1)
        if not (np.isfinite(sw).all() and (sw >= 0).all()):
            raise ValueError(f"partition {index}: sample_weight has a negative or non-finite value")
    if not (len(sw) == len(y_idx) == X.shape[0]):
        raise ValueError(f"partition {index}: X has {X.shape[0]} rows, y {len(y_idx)}, sample_weight {len(sw)}")
    if offset is not None:
        from logitfit.data.offsets import check_offset

        try:
            offset = check_offset(offset, X.shape[0], len(classes))
        except ValueError as err:
            raise ValueError(f"partition {index}: {err} (row within the partition)") from None
    return Block(index, X, y_idx, sw, offset)


def scale_block(block: Block, class_multiplier: np.ndarray) -> Block:
    """Multiply each row's weight by its class's factor (``class_weight``)."""
    return block._replace(sw=block.sw * class_multiplier[block.y.astype(np.intp)])


def _apply(kernel: BlockKernel, block: Block, *args: Any) -> tuple:
    X = block.X
    if isinstance(X, np.ndarray) and X.ctypes.data % ALIGN:
        # A copy of the block that another worker received over the network
        # lands at an arbitrary address, and some BLAS builds round
        # differently there: realign so every worker computes the same bits.
        block = block._replace(X=_aligned_copy(X, X.dtype))
    return tuple(kernel(block, *args))


def _add(a: tuple, b: tuple) -> tuple:
    return tuple(np.asarray(u, dtype=np.float64) + v for u, v in zip(a, b, strict=True))


def tree_sum(parts: Sequence[tuple]) -> tuple:
    """Element-wise sum of kernel outputs as a balanced binary tree in list order.

    The pairing depends only on the number of parts, never on timing, so the
    result is reproducible to the bit; pairwise summation also has an error
    bound growing with ``log(n_parts)`` rather than ``n_parts``.
    """
    level = [tuple(np.asarray(v, dtype=np.float64) for v in p) for p in parts]
    if not level:
        raise ValueError("no partitions to sum")
    while len(level) > 1:
        nxt = [_add(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


class DaskBlocks:
    """Blocks persisted on Dask workers (futures), mapped one task per partition.

    Parameters
    ----------
    client : distributed.Client
    blocks : list of Future
        One future per partition, each resolving to a Block (from :func:`make_block`).
    n_samples, n_features : int
    dtype : numpy dtype of X
    sw_sum : float
        Sum of the sample weights over all partitions.
    verbose : int
        Print rows per second of each pass when positive.
    """

    is_sparse = False
    # the objective maps the compiled one-pass kernels over the partitions (blocks.fused.block_pass)
    compiled_blocks = True

    def __init__(
        self,
        client: Any,
        blocks: list,
        *,
        n_samples: int,
        n_features: int,
        dtype: Any,
        sw_sum: float,
        verbose: int = 0,
    ) -> None:
        self.client = client
        self.blocks = list(blocks)
        self.n_samples = int(n_samples)
        self.n_features = int(n_features)
        self.dtype = np.dtype(dtype)
        self.sw_sum = float(sw_sum)
        self.verbose = verbose
        self.passes: list[tuple[int, float]] = []

    def __len__(self) -> int:
        return len(self.blocks)

    def _submit(self, kernel: BlockKernel, args: tuple, state: Sequence | None) -> list:
        # Run each task where its partition lives (a loose restriction: if that
        # worker dies the task runs elsewhere), so a pass never moves a block.
        who = self.client.who_has(self.blocks)

        def submit(b, *a):
            where = list(who.get(b.key, ()))
            if not where:  # not computed yet: the scheduler places it
                return self.client.submit(_apply, kernel, b, *a, pure=False)
            return self.client.submit(
                _apply, kernel, b, *a, pure=False, workers=where, allow_other_workers=True
            )

        if state is None:
            return [submit(b, *args) for b in self.blocks]
        return [submit(b, *args, s) for b, s in zip(self.blocks, state, strict=True)]

    def map_reduce(self, kernel: BlockKernel, *args: Any, state: Sequence | None = None) -> tuple:
        """One task per partition, then a fixed-order tree sum of the results on the client."""
        t0 = time.perf_counter()
        parts = self.client.gather(self._submit(kernel, args, state))
        total = tree_sum(parts)
        seconds = time.perf_counter() - t0
        self.passes.append((self.n_samples, seconds))
        if self.verbose:
            rate = self.n_samples / seconds if seconds > 0 else float("inf")
            print(
                f"[dask] pass {len(self.passes)}: {self.n_samples:,} rows on {len(self.blocks)} "
                f"partitions in {seconds:.2f} s ({rate:,.0f} rows/s)",
                file=sys.stderr,
            )
        return total

    def map_blocks(self, kernel: BlockKernel, *args: Any) -> list:
        """Per-partition state left on the workers (futures), e.g. the Hessian weights."""
        return self._submit(kernel, args, None)

    def release(self) -> None:
        """Drop the persisted partitions from the workers' memory."""
        for f in self.blocks:
            f.release()
        self.blocks = []

    def __repr__(self) -> str:
        return (
            f"DaskBlocks({self.n_samples:,} rows x {self.n_features} features in "
            f"{len(self.blocks)} partitions on {self.client.scheduler.address})"
        )
