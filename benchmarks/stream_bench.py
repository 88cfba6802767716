"""Benchmark: a streaming fit of a >= 10 GB Parquet data set with peak memory under 2 GB.

Generates (once) ``--files`` Parquet files of ``--rows`` rows x ``--features``
float64 features plus a 0/1 label, uncompressed (random doubles do not
compress), under ``--dir`` (default /work/bench-data/stream, outside the
repository). Then, in fresh processes:

1. the floor: one plain read of every file with pyarrow (record batches, no fit);
2. ``LogisticRegression().fit(logitfit.scan(..., memory_limit=1GB))``: total time,
   passes, rows per second per pass, and the process's peak resident memory.

Run::

    .venv/bin/python benchmarks/stream_bench.py [--files 25 --rows 500000 --features 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

READ = r"""
import json, resource, sys, time, glob
import pyarrow.parquet as pq
t0 = time.perf_counter(); rows = 0
for path in sorted(glob.glob(sys.argv[1])):
    for batch in pq.ParquetFile(path).iter_batches(batch_size=65536):
        rows += batch.num_rows
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t0,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

FIT = r"""
import json, resource, sys, time
import logitfit
from logitfit import LogisticRegression
t0 = time.perf_counter()
ds = logitfit.scan(sys.argv[1], target="y", memory_limit=sys.argv[2])
n = ds.n_samples
t_first = time.perf_counter() - t0
est = LogisticRegression(verbose=0)
blocks, classes = ds._logitfit_blocks(est, None, None)
est._fit_blocks(blocks, classes)
total = time.perf_counter() - t0
print(json.dumps({"rows": n, "first_pass_s": t_first, "total_s": total, "passes": blocks.passes,
                  "rows_per_block": blocks.rows_per_block, "n_iter": est.n_iter_,
                  "converged": bool(est.converged_), "solver": est.solver_,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def generate(directory: str, files: int, rows: int, p: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(directory, exist_ok=True)
    w = np.random.default_rng(12345).standard_normal(p) / np.sqrt(p)
    for i in range(files):
        path = os.path.join(directory, f"part-{i:04d}.parquet")
        if os.path.exists(path):
            continue
        rng = np.random.default_rng(i)
        X = rng.standard_normal((rows, p))
        y = (rng.random(rows) < 1 / (1 + np.exp(-(X @ w - 0.5)))).astype(np.int8)
        cols = {f"x{j}": X[:, j] for j in range(p)}
        cols["y"] = y
        pq.write_table(pa.table(cols), path + ".tmp", row_group_size=131_072, compression="none")
        os.replace(path + ".tmp", path)
        del X, cols


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/work/bench-data/stream")
    ap.add_argument("--files", type=int, default=25)
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--features", type=int, default=100)
    ap.add_argument("--memory-limit", default="1GB")
    args = ap.parse_args()
    t0 = time.perf_counter()
    generate(args.dir, args.files, args.rows, args.features)
    pattern = os.path.join(args.dir, "*.parquet")
    size = sum(os.path.getsize(os.path.join(args.dir, f)) for f in os.listdir(args.dir) if f.endswith(".parquet"))
    print(f"data: {size / 1e9:.2f} GB on disk, {args.files * args.rows:,} rows x {args.features} "
          f"features (generated/checked in {time.perf_counter() - t0:.0f} s)")
    read = json.loads(subprocess.run([sys.executable, "-c", READ, pattern], capture_output=True,
                                     text=True, check=True).stdout)
    print(f"plain pyarrow read: {read['seconds']:.1f} s ({read['rows'] / read['seconds']:,.0f} rows/s, "
          f"{size / read['seconds'] / 1e9:.2f} GB/s), peak RSS {read['peak_rss'] / 2**30:.2f} GiB")
    fit = json.loads(subprocess.run([sys.executable, "-c", FIT, pattern, args.memory_limit],
                                    capture_output=True, text=True, check=True).stdout)
    print(f"streaming fit ({fit['solver']}, memory_limit={args.memory_limit}, {fit['rows_per_block']:,} rows/block): "
          f"{fit['total_s']:.1f} s total, first (label) pass {fit['first_pass_s']:.1f} s, "
          f"{len(fit['passes'])} passes, {fit['n_iter']} iterations, converged {fit['converged']}, "
          f"peak RSS {fit['peak_rss'] / 2**30:.2f} GiB")
    for i, (rows, sec) in enumerate(fit["passes"], 1):
        print(f"  pass {i}: {sec:6.1f} s  {rows / sec:12,.0f} rows/s  ({sec / read['seconds']:.2f}x the plain read)")


if __name__ == "__main__":
    main()
