"""Thread counts: the CPUs this process may use, and BLAS limited to one thread.

Blocks run in parallel on a thread pool and solvers do their arithmetic on
parameter-length vectors: in both places a BLAS thread pool inside costs more
than it saves (it oversubscribes the cores, and OpenBLAS would split a block's
sums differently with the thread count, breaking bit-identical results).
"""

from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["default_threads", "single_threaded_blas"]

_CONTROLLER: Any = None


def default_threads() -> int:
    """Threads for the block map: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class _SingleThreadedBlas:
    """Reference-counted BLAS limit: only the outermost entry pays threadpoolctl's set and restore.

    Solvers enter it around a whole fit and the block map again around each pass;
    the limit is process-wide, so it is lifted only when the last holder (of any
    thread) leaves.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._limits: Any = None

    def __enter__(self) -> _SingleThreadedBlas:
        with self._lock:
            if self._depth == 0:
                self._limits = _controller().limit(limits=1, user_api="blas")
            self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                limits, self._limits = self._limits, None
                limits.restore_original_limits()


_SINGLE = _SingleThreadedBlas()


def _controller() -> Any:
    global _CONTROLLER
    if _CONTROLLER is None:
        # threadpoolctl comes with scikit-learn; the controller is built once (it scans the loaded libraries)
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def single_threaded_blas() -> _SingleThreadedBlas:
    """Context manager limiting every loaded BLAS to one thread (threadpoolctl); re-entrant."""
    return _SINGLE
