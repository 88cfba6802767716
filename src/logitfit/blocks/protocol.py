"""Where the rows live: one map-reduce protocol over blocks of rows.

The objective (:mod:`logitfit.model.objective`) is a sum over rows, so it is written as a
*kernel* applied to one block of rows and a sum over blocks. A ``Blocks``
object owns the rows and runs the map; only the place where the rows live
changes between scales (in memory, streamed from files, Dask partitions).

Contract (every implementation):

* ``map_reduce(kernel, *args, state=None)`` returns the sum over blocks of
  ``kernel(block, *args[, state_i])``; the kernel returns a tuple of arrays or
  floats, summed element-wise. The sum runs in block order, so the result does
  not depend on the number of threads (bit-identical).
* ``map_blocks(kernel, *args)`` returns a per-block state (a list, or futures
  kept where the rows live) that a later ``map_reduce`` receives block by block,
  e.g. the Hessian weights ``h(1-h)`` at the current coefficients.
* ``n_samples``, ``n_features``, ``dtype``, ``sw_sum`` (sum of sample weights),
  ``is_sparse``.
* Offsets: a source whose blocks carry ``Block.offset`` says so with
  ``has_offset = True`` (:func:`has_offset`; absent means False).

Optional capabilities, which the objective looks up (``getattr``/``hasattr``)
and does without: :class:`CountedBlocks` (a known number of blocks, for the
sub-sampled Hessian) and :class:`InMemoryRows` (rows held in this process:
merged Hessian passes, mini-batches, the compiled one-pass kernels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from logitfit.blocks.fused import FusedRows


class Block(NamedTuple):
    """One block of rows: its position, design rows, class indices, sample weights, offsets.

    ``offset`` is a known term added to the linear predictor, ``z = X w + b + offset``
    (shape (rows,) for the binary model, (rows, K) for the multinomial one); None when
    the fit has none, so the kernels without offsets run exactly as before.
    """

    index: int
    X: Any  # ndarray or scipy.sparse matrix, shape (rows, n_features)
    y: np.ndarray  # class indices (float 0/1 for binary, int for multinomial)
    sw: np.ndarray  # sample weights, shape (rows,)
    offset: np.ndarray | None = None  # float64 offsets, shape (rows,) or (rows, K), or None


BlockKernel = Callable[..., tuple]


@runtime_checkable
class Blocks(Protocol):
    """Every row source: its shape, dtype, weight sum and the two maps (see the module contract)."""

    n_samples: int
    n_features: int
    dtype: np.dtype
    sw_sum: float
    is_sparse: bool

    def map_reduce(self, kernel: BlockKernel, *args: Any, state: Sequence | None = None) -> tuple: ...

    def map_blocks(self, kernel: BlockKernel, *args: Any) -> Sequence: ...


class CountedBlocks(Blocks, Protocol):
    """Optional capability: a known number of blocks (in memory, streamed, Dask).

    ``map_reduce(..., state=chosen)`` with one flag per block then lets a
    kernel skip blocks, e.g. for a Hessian from every stride-th block.
    """

    def __len__(self) -> int: ...


class InMemoryRows(CountedBlocks, Protocol):
    """Optional capability: rows held in this process (:class:`~logitfit.blocks.memory.InMemoryBlocks`).

    Attributes
    ----------
    X : ndarray or CSR matrix, shape (n_samples, n_features), the design rows.
    y, sw : ndarray, shape (n_samples,), class indices and sample weights.
    bounds : list of (start, stop), the row range of each block.
    fused : FusedRows or None, compiled one-pass kernels over these rows.
    """

    X: Any
    y: np.ndarray
    sw: np.ndarray
    bounds: list[tuple[int, int]]

    @property
    def fused(self) -> FusedRows | None: ...

    def rows(self, idx: np.ndarray) -> Block:
        """An arbitrary set of rows as one block (mini-batches)."""
        ...

    def merged_bounds(self, min_rows: int) -> list[tuple[int, int]]:
        """Row ranges of consecutive blocks, each of at least ``min_rows`` rows (but the last)."""
        ...

    def map_reduce_merged(self, kernel: BlockKernel, min_rows: int, *args: Any) -> tuple:
        """``map_reduce`` over runs of consecutive blocks of at least ``min_rows`` rows."""
        ...

    def map_reduce_some(self, kernel: BlockKernel, indices: Sequence[int], *args: Any) -> tuple:
        """``map_reduce`` over the blocks ``indices`` only."""
        ...


def has_offset(blocks: Any) -> bool:
    """Whether the blocks of ``blocks`` carry offsets (``Block.offset`` is not None)."""
    return bool(getattr(blocks, "has_offset", False))


def sum_tuples(parts: Sequence[tuple]) -> tuple:
    """Element-wise sum of kernel outputs, in the given (block) order."""
    it = iter(parts)
    acc = [np.array(v, dtype=np.float64, copy=True) for v in next(it)]
    for part in it:
        for a, v in zip(acc, part, strict=True):
            a += v
    return tuple(acc)
