"""In-memory blocks: row slices of a dense array or a CSR matrix, mapped over a thread pool.

A block is a contiguous row slice sized to stay in the per-core cache while the
kernel reads it twice (once for ``X theta``, once for ``X^T r``). numpy and BLAS
release the GIL, so threads run the blocks in parallel. Block boundaries depend
only on the data shape, and partial sums are added in block order: the result
is bit-identical for any number of threads.

During a map, BLAS runs single-threaded (:mod:`logitfit.blocks.threads`):
parallelism comes from the block pool.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from logitfit._numerics import issparse
from logitfit.blocks.protocol import Block, BlockKernel, sum_tuples
from logitfit.blocks.threads import default_threads, single_threaded_blas

if TYPE_CHECKING:
    import scipy.sparse as sp

# About 1 MB of X per block: fits a core's L2, so the second read (X^T r) comes from cache.
BLOCK_BYTES = 1 << 20
# A block's partial Hessian costs p^2 to allocate and add: enough rows to make that small.
MIN_BLOCK_ROWS = 512


# Sparse blocks are large: each adds a dense n_features partial gradient to the reduce.
SPARSE_NNZ_PER_FEATURE = 8


def _csr_row_view(X: sp.csr_matrix, a: int, b: int) -> sp.csr_matrix:
    """Rows a..b of a CSR matrix sharing its data and indices (``X[a:b]`` copies them)."""
    import scipy.sparse as sp

    lo, hi = X.indptr[a], X.indptr[b]
    view = sp.csr_matrix(
        (X.data[lo:hi], X.indices[lo:hi], X.indptr[a : b + 1] - lo),
        shape=(b - a, X.shape[1]),
        copy=False,
    )
    return view


# Below this many blocks the pool's hand-offs cost more than they save.
MIN_PARALLEL_BLOCKS = 4


def block_rows(n_features: int, itemsize: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Rows per block so that one block of X takes about ``block_bytes``."""
    return max(MIN_BLOCK_ROWS, block_bytes // max(1, n_features * itemsize))


class InMemoryBlocks:
    """Dense (C or F order, float32/float64) or CSR rows held in memory.

    Parameters
    ----------
    X : ndarray or scipy.sparse matrix, shape (n_samples, n_features)
        Used as given: no copy for float32/float64 dense input; CSC is
        converted to CSR once (rows are what the map slices).
    y : ndarray, shape (n_samples,)
    sw : ndarray, shape (n_samples,)
    n_threads : int, optional
        Size of the thread pool (default: the CPUs available).
    rows_per_block : int, optional
        Override the cache-sized default (tests use it to hit every remainder).
    offset : ndarray, shape (n_samples,) or (n_samples, K), optional
        Known terms added to the linear predictor (``Block.offset``), float64;
        None (the default) for a fit without them.
    """

    def __init__(
        self,
        X: Any,
        y: np.ndarray,
        sw: np.ndarray,
        *,
        n_threads: int | None = None,
        rows_per_block: int | None = None,
        offset: np.ndarray | None = None,
    ) -> None:
        self.offset = offset
        self.has_offset = offset is not None
        self.is_sparse = issparse(X)
        if self.is_sparse and X.format != "csr":
            X = X.tocsr()
        self.X = X
        self.y = y
        self.sw = sw
        self.n_samples, self.n_features = X.shape
        self.dtype = np.dtype(X.dtype)
        self.sw_sum = float(np.sum(sw))
        self.n_threads = n_threads or default_threads()
        if rows_per_block is None:
            if self.is_sparse:
                # Each block's X^T r is a dense n_features vector that the
                # reduce allocates and adds: give a block at least
                # SPARSE_NNZ_PER_FEATURE non-zeros per feature so that cost
                # stays small next to the block's own work.
                nnz_per_row = max(1.0, X.nnz / max(1, self.n_samples))
                rows_per_block = max(
                    MIN_BLOCK_ROWS,
                    int(BLOCK_BYTES // (12 * nnz_per_row)),
                    int(SPARSE_NNZ_PER_FEATURE * self.n_features / nnz_per_row),
                )
            else:
                rows_per_block = block_rows(self.n_features, self.dtype.itemsize)
        self.rows_per_block = int(rows_per_block)
        starts = range(0, self.n_samples, self.rows_per_block)
        self.bounds = [(a, min(a + self.rows_per_block, self.n_samples)) for a in starts]
        self._pool: ThreadPoolExecutor | None = None

    def __len__(self) -> int:
        return len(self.bounds)

    def block(self, i: int) -> Block:
        a, b = self.bounds[i]
        Xb = _csr_row_view(self.X, a, b) if self.is_sparse else self.X[a:b]
        return Block(i, Xb, self.y[a:b], self.sw[a:b], self._offset(slice(a, b)))

    def _offset(self, rows: Any) -> np.ndarray | None:
        return None if self.offset is None else self.offset[rows]

    def rows(self, idx: np.ndarray) -> Block:
        """An arbitrary set of rows as one block (mini-batches for SGD)."""
        return Block(-1, self.X[idx], self.y[idx], self.sw[idx], self._offset(idx))

    def _map(self, fn, reduce=list, indices: Sequence[int] | None = None):
        """``reduce`` over ``fn(i)`` for every block (or ``indices``), consumed in order as they finish.

        ``reduce=sum_tuples`` adds each partial sum as soon as it is ready, so
        at most a few partial Hessians are alive at once, not one per block.
        """
        indices = range(len(self.bounds)) if indices is None else indices
        with single_threaded_blas():
            if len(indices) < MIN_PARALLEL_BLOCKS or self.n_threads == 1:
                return reduce(fn(i) for i in indices)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.n_threads)
            return reduce(self._pool.map(fn, indices))

    def merged_bounds(self, min_rows: int) -> list[tuple[int, int]]:
        """Row ranges of consecutive blocks, each of at least ``min_rows`` rows (but the last)."""
        per_run = max(1, -(-int(min_rows) // self.rows_per_block))
        n = len(self.bounds)
        return [(self.bounds[i][0], self.bounds[min(i + per_run, n) - 1][1]) for i in range(0, n, per_run)]

    def map_reduce_merged(self, kernel: BlockKernel, min_rows: int, *args: Any) -> tuple:
        """``map_reduce`` over runs of consecutive blocks of at least ``min_rows`` rows each.

        For Hessian passes: each kernel call returns a (q, q) partial sum, which
        costs as much to allocate and add as ``q^2`` flops of its rank-k update,
        so a call should cover many more rows than ``q``. Runs depend only on
        the shape, so the sum stays bit-identical for any number of threads.
        """
        runs = self.merged_bounds(min_rows)

        def run(i: int):
            a, b = runs[i]
            if self.is_sparse:
                Xb = _csr_row_view(self.X, a, b)
            else:
                Xb = self.X[a:b]
            return kernel(Block(i, Xb, self.y[a:b], self.sw[a:b], self._offset(slice(a, b))), *args)

        return self._map(run, sum_tuples, range(len(runs)))

    def map_reduce_some(self, kernel: BlockKernel, indices: Sequence[int], *args: Any) -> tuple:
        """``map_reduce`` over the blocks ``indices`` only (e.g. a sub-sampled Hessian)."""
        return self._map(lambda i: kernel(self.block(i), *args), sum_tuples, indices)

    def run_ranges(self, fn, n_items: int | None = None) -> None:
        """Run ``fn(k0, k1)`` over contiguous ranges of block indices covering all blocks
        (or of ``0..n_items-1``, for row ranges the caller chose).

        One range per thread (a single range below ``MIN_PARALLEL_BLOCKS``
        blocks): for compiled kernels that release the GIL and write each
        block's partial sums to their own row, so the split does not change
        any result.
        """
        n = len(self.bounds) if n_items is None else n_items
        parts = 1 if n < MIN_PARALLEL_BLOCKS else min(self.n_threads, n)
        # the kernels call BLAS: one BLAS thread per block thread, or BLAS's own threads fight the pool
        with single_threaded_blas():
            if parts == 1:
                fn(0, n)
                return
            edges = [n * t // parts for t in range(parts + 1)]
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.n_threads)
            futures = [self._pool.submit(fn, edges[t], edges[t + 1]) for t in range(parts)]
            for f in futures:
                f.result()

    @property
    def fused(self):
        """Compiled one-pass kernels over these rows (:mod:`logitfit.blocks.fused`), or None."""
        if not hasattr(self, "_fused"):
            from logitfit.blocks.fused import fused_rows

            self._fused = fused_rows(self)
        return self._fused

    def map_reduce(self, kernel: BlockKernel, *args: Any, state: Sequence | None = None) -> tuple:
        if state is None:
            return self._map(lambda i: kernel(self.block(i), *args), sum_tuples)
        return self._map(lambda i: kernel(self.block(i), *args, state[i]), sum_tuples)

    def map_blocks(self, kernel: BlockKernel, *args: Any) -> list:
        return self._map(lambda i: kernel(self.block(i), *args))

    def __del__(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
