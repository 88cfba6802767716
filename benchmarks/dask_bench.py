"""Benchmark: logitfit on Dask against dask-ml, 1,000,000 x 100 dense, 2-worker LocalCluster.

Both fit the same persisted Dask arrays (generated on the workers from a fixed
seed). dask-ml penalises the intercept and its ``C`` multiplies a summed
loss, so both are run essentially unpenalised (dask-ml ``C=1e10``, logitfit
``penalty=None``): the optimum is then the maximum-likelihood estimate, and
both solutions are scored with the same function, logitfit's mean log loss.

Run (dask-ml needs its own environment; logitfit comes from the source tree)::

    PYTHONPATH=src /work/dask-ml-venv/bin/python benchmarks/dask_bench.py [--rows 1000000]

Prints one line per fit (seconds, passes, mean log loss, max |coef diff| to logitfit).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def make_data(n: int, p: int, chunk: int, seed: int = 0):
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, p), chunks=(chunk, p))
    w = np.random.default_rng(seed + 1).standard_normal(p) / np.sqrt(p)
    z = X @ w + 0.25
    y = (rng.random(n, chunks=chunk) < 1.0 / (1.0 + da.exp(-z))).astype(np.float64)
    return X, y


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=100)
    ap.add_argument("--chunk", type=int, default=62_500)
    ap.add_argument("--daskml-solvers", default="lbfgs,newton,admm")
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    from logitfit import LogisticRegression
    from logitfit.blocks import InMemoryBlocks
    from logitfit.model.objective import LogisticObjective

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    X, y = make_data(args.rows, args.features, args.chunk)
    X, y = client.persist([X, y])
    Xn, yn = client.compute([X, y], sync=True)  # local copy only to score the solutions
    score = LogisticObjective(InMemoryBlocks(Xn, yn, np.ones(len(yn))), 2)

    def mean_loss(coef, intercept):
        return score.loss(np.append(np.ravel(coef), intercept))

    t0 = time.perf_counter()
    lf = LogisticRegression(tol=1e-8).fit(X, y)
    t_lf = time.perf_counter() - t0
    f_lf = mean_loss(lf.coef_, lf.intercept_[0])
    print(f"logitfit {lf.solver_:10s} {t_lf:8.2f} s  iters {lf.n_iter_:4d}  loss {f_lf:.12f}  "
          f"converged {lf.converged_}")
    t0 = time.perf_counter()
    lf2 = LogisticRegression(tol=1e-8, solver="lbfgs").fit(X, y)
    t_lf2 = time.perf_counter() - t0
    print(f"logitfit {'lbfgs':10s} {t_lf2:8.2f} s  iters {lf2.n_iter_:4d}  "
          f"loss {mean_loss(lf2.coef_, lf2.intercept_[0]):.12f}  "
          f"max|dcoef| {np.max(np.abs(lf2.coef_ - lf.coef_)):.2e}")

    # The first fit above also paid for the workers' first import of logitfit,
    # numpy's BLAS start-up and scipy: time Newton again on the warm cluster.
    t0 = time.perf_counter()
    lf3 = LogisticRegression(tol=1e-8).fit(X, y)
    t_lf = time.perf_counter() - t0
    print(f"logitfit {'newton':10s} {t_lf:8.2f} s  iters {lf3.n_iter_:4d}  (warm cluster)  "
          f"bit-identical to the first fit: {np.array_equal(lf3.coef_, lf.coef_)}")
    t_best = min(t_lf, t_lf2)

    try:
        import dask_ml
        from dask_ml.linear_model import LogisticRegression as DaskMLLogit
    except ImportError as err:
        print(f"dask-ml not importable here ({err}); run with /work/dask-ml-venv/bin/python")
        return
    print(f"dask-ml {dask_ml.__version__}")
    for solver in args.daskml_solvers.split(","):
        t0 = time.perf_counter()
        try:
            m = DaskMLLogit(C=1e10, solver=solver, max_iter=200, tol=1e-8).fit(X, y)
        except Exception as err:  # noqa: BLE001 - report any failure of the competitor
            print(f"dask-ml  {solver:10s} failed: {type(err).__name__}: {err}")
            continue
        t = time.perf_counter() - t0
        f = mean_loss(m.coef_, m.intercept_)
        print(f"dask-ml  {solver:10s} {t:8.2f} s  loss {f:.12f}  loss-logitfit {f - f_lf:+.2e}  "
              f"max|dcoef| {np.max(np.abs(np.ravel(m.coef_) - lf.coef_[0])):.2e}  "
              f"speed-up of logitfit (newton warm / best) {t / t_lf:.1f}x / {t / t_best:.1f}x")
    client.close()
    cluster.close()


if __name__ == "__main__":
    main()
