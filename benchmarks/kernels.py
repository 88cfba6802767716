"""Kernel timings on W1 against the machine's floor (issue 3 targets).

Floor: one read of X (``X.sum()``, memory bound), numpy's ``X @ v`` and
``X.T @ r`` with all BLAS threads. logitfit: one value-and-gradient
evaluation (target: at most 0.04 s on the reference machine, 1.6x one read
of X), one value-gradient-Hessian evaluation, the same in float32, and the
cold ``import logitfit`` (target: under 0.3 s).
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from benchmarks.workloads import make

REPS = 5


def _median_time(fn, reps: int = REPS) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _import_time(module: str, reps: int = REPS) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(reps)
    ]
    return float(np.median(runs))


def measure(size: str = "full") -> dict:
    from threadpoolctl import threadpool_info

    from logitfit.blocks import InMemoryBlocks
    from logitfit.model.objective import LogisticObjective

    out: dict = {
        "import_logitfit_s": _import_time("logitfit"),
        "import_numpy_s": _import_time("numpy"),
    }
    w = make("W1", size)
    X, y = w.X, w.y
    n, p = X.shape
    rng = np.random.default_rng(0)
    v = rng.standard_normal(p) / np.sqrt(p)
    r = rng.standard_normal(n)
    out["shape"] = [n, p]
    out["read_X_s"] = _median_time(lambda X=X: X.sum())
    out["numpy_Xv_s"] = _median_time(lambda X=X: X @ v)
    out["numpy_XTr_s"] = _median_time(lambda X=X: X.T @ r)
    x = np.r_[v, 0.1]
    sw = np.ones(n)
    for threads in (1, 2):
        obj = LogisticObjective(InMemoryBlocks(X, y, sw, n_threads=threads), 2, alpha=w.spec.alpha)
        out[f"value_and_grad_{threads}t_s"] = _median_time(lambda obj=obj: obj.value_and_grad(x))
        out[f"value_grad_hess_{threads}t_s"] = _median_time(
            lambda obj=obj: obj.value_grad_hess(x), 3
        )
    del obj
    X32 = X.astype(np.float32)
    del X, w
    obj = LogisticObjective(InMemoryBlocks(X32, y, sw), 2, alpha=1e-4)
    out["value_and_grad_f32_s"] = _median_time(lambda: obj.value_and_grad(x))
    out["value_grad_hess_f32_s"] = _median_time(lambda: obj.value_grad_hess(x), 3)
    out["blas"] = [
        {k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
        for d in threadpool_info()
        if d.get("user_api") == "blas"
    ]
    return out
