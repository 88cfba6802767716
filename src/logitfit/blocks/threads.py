"""Thread counts: the CPUs this process may use, and BLAS limited to one thread.

Blocks run in parallel on a thread pool and solvers do their arithmetic on
parameter-length vectors: in both places a BLAS thread pool inside costs more
than it saves (it oversubscribes the cores, and OpenBLAS would split a block's
sums differently with the thread count, breaking bit-identical results).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["default_threads", "single_threaded_blas"]

_CONTROLLER: Any = None


def default_threads() -> int:
    """Threads for the block map: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def single_threaded_blas():
    """Context manager limiting every loaded BLAS to one thread (threadpoolctl)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        # threadpoolctl comes with scikit-learn; the controller is built once (it scans the loaded libraries)
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")
