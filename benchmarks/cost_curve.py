"""The cost curve: logitfit's default fit time against rows and against features.

Each point runs in a fresh process (``python -m benchmarks.cost_curve point N P``):
it generates data like the dense workloads' (AR(1)-correlated Gaussian
features, labels drawn from a planted model, ``benchmarks.workloads``), fits
``LogisticRegression()`` with its defaults ``--reps`` times after a warm-up fit on a slice and keeps the median, then fits once more with the
row passes counted, and times one read of X (``X @ v``, memory-bound: the
least any pass can cost). The floor of a point is ``passes x read``; the
report gives each point's distance to it and the growth exponent fitted
through the points (least squares on log time against log size).

The streamed point writes N rows to Parquet under ``--dir`` and fits
``logitfit.scan(..., memory_limit=...)``; its floor is the passes times one
plain pyarrow read of the files.

Run::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python -m benchmarks.cost_curve \\
        --write docs/cost-curve.md --plot docs/img/cost-curve.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.workloads import RHO, _labels_binary, _planted

OUT = Path("bench-out")
ROWS = (10_000, 100_000, 1_000_000, 10_000_000)
ROWS_P = 20
FEATURES = (10, 100, 1_000, 10_000)
FEATURES_N = 20_000
# 20,000 rows over up to 1e4 features are separable: the feature sweep fits with a small L2 term
FEATURES_ALPHA = 1e-3


def _ar1_gaussian(n: int, p: int, rng: np.random.Generator) -> np.ndarray:
    """The dense workloads' features (unit variance, correlation RHO^|i-j|) by the AR(1)
    recursion x_j = RHO x_{j-1} + sqrt(1 - RHO^2) z_j: O(n p), no p x p Cholesky at 1e4 features."""
    X = rng.standard_normal((n, p))
    scale = np.sqrt(1.0 - RHO**2)
    for j in range(1, p):
        X[:, j] *= scale
        X[:, j] += RHO * X[:, j - 1]
    return X


def _data(n: int, p: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([seed, n, p])
    X = _ar1_gaussian(n, p, rng)
    w = _planted(p, 1, rng)[:, 0]
    return X, _labels_binary(X, w, -0.3, rng)


def _count_passes(est, X, y) -> float:
    """Fit once more with every map over the rows counted, as the share of X it reads: a full
    map is one pass, a map over some blocks (sub-sampled Hessians) the share of rows it covers."""
    from logitfit.blocks import fused, memory

    cls, rows_cls = memory.InMemoryBlocks, fused.FusedRows
    count = [0.0]
    inside = [False]
    originals = {name: getattr(cls, name) for name in ("map_reduce", "map_reduce_merged", "run_ranges",
                                                        "map_reduce_some", "map_blocks")}
    hessian = rows_cls.hessian

    def full(name):
        def wrapped(self, *a, **k):
            if not inside[0]:
                count[0] += 1.0 if self.n_samples == X.shape[0] else self.n_samples / X.shape[0]
            return originals[name](self, *a, **k)
        return wrapped

    def some(self, kernel, indices, *a):
        count[0] += len(indices) / max(1, len(self.bounds))
        return originals["map_reduce_some"](self, kernel, indices, *a)

    def counted_hessian(self, w, b, fit_intercept, ranges):
        count[0] += sum(e - a for a, e in ranges) / X.shape[0]
        inside[0] = True
        try:
            return hessian(self, w, b, fit_intercept, ranges)
        finally:
            inside[0] = False

    try:
        for name in ("map_reduce", "map_reduce_merged", "run_ranges", "map_blocks"):
            setattr(cls, name, full(name))
        cls.map_reduce_some = some
        rows_cls.hessian = counted_hessian
        est.fit(X, y)
    finally:
        for name, fn in originals.items():
            setattr(cls, name, fn)
        rows_cls.hessian = hessian
    return count[0]


def point(n: int, p: int, reps: int, alpha: float = 0.0) -> dict:
    """One in-memory point: median fit time, passes, one read of X (``alpha``: an L2 penalty)."""
    from threadpoolctl import threadpool_info

    from logitfit import LogisticRegression

    X, y = _data(n, p)
    # the first fit of a process pays imports and thread-pool start-up: warm up on a slice
    LogisticRegression(penalty="l2", alpha=1.0).fit(X[: min(n, 2_000)], y[: min(n, 2_000)])
    times = []
    for _ in range(reps):
        est = LogisticRegression(penalty="l2" if alpha > 0 else None, alpha=alpha)
        t0 = time.perf_counter()
        est.fit(X, y)
        times.append(time.perf_counter() - t0)
    passes = _count_passes(LogisticRegression(penalty="l2" if alpha > 0 else None, alpha=alpha), X, y)
    v = np.ones(p)
    reads = []
    for _ in range(5):
        t0 = time.perf_counter()
        X @ v
        reads.append(time.perf_counter() - t0)
    kernel = [i.get("architecture") for i in threadpool_info() if i.get("user_api") == "blas"]
    return {"kind": "memory", "n": n, "p": p, "seconds": float(np.median(times)), "runs": times,
            "passes": passes, "read_s": float(np.median(reads)), "solver": est.solver_,
            "n_iter": int(est.n_iter_), "blas": kernel, "alpha": alpha}


def stream_point(n: int, p: int, directory: str, memory_limit: str) -> dict:
    """One streamed point: a fit of Parquet files through ``scan`` with a memory limit."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import logitfit
    from logitfit import LogisticRegression

    folder = Path(directory) / f"n{n}-p{p}"
    if not folder.exists():
        folder.mkdir(parents=True)
        chunk = 1_000_000
        for k, a in enumerate(range(0, n, chunk)):
            X, y = _data(min(chunk, n - a), p, seed=100 + k)
            cols = {f"x{j}": X[:, j] for j in range(p)}
            cols["y"] = y
            pq.write_table(pa.table(cols), folder / f"part-{k:04d}.parquet", compression="none")
    pattern = str(folder / "*.parquet")
    t0 = time.perf_counter()
    rows = 0
    for path in sorted(folder.glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=65536):
            rows += batch.num_rows
    read = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = logitfit.scan(pattern, target="y", memory_limit=memory_limit)
    est = LogisticRegression()
    blocks, classes = ds._logitfit_blocks(est, None, None)
    est._fit_blocks(blocks, classes)
    seconds = time.perf_counter() - t0
    # the label scan that sizes the data is a pass too
    passes = len(blocks.passes) + 1
    return {"kind": "stream", "n": n, "p": p, "seconds": seconds, "runs": [seconds], "passes": passes,
            "read_s": read, "solver": est.solver_, "n_iter": int(est.n_iter_),
            "memory_limit": memory_limit}


def _child(args: list[str], timeout: float) -> dict:
    from benchmarks.__main__ import _child as child

    return child(args, timeout, module="benchmarks.cost_curve")


def exponent(sizes: list[float], seconds: list[float]) -> float:
    """Slope of log(seconds) against log(size), least squares: time ~ size^slope."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def render(rows: list[dict], features: list[dict], stream: list[dict]) -> str:
    def table(points: list[dict], axis: str) -> list[str]:
        out = [f"| {axis} | shape | solver | passes | fit | one read of X | floor (passes x read) | fit / floor |",
               "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        for r in points:
            if "error" in r:
                out.append(f"| {r.get(axis, '?')} | | | | {r['error']} | | | |")
                continue
            floor = r["passes"] * r["read_s"]
            out.append(f"| {r[axis]:,} | {r['n']:,} x {r['p']:,} ({r['kind']}) | {r['solver']} | "
                       f"{r['passes']:.1f} | {r['seconds']:.4g} s | {r['read_s']:.3g} s | {floor:.3g} s | "
                       f"{r['seconds'] / floor:.1f}x |")
        ok = [r for r in points if "error" not in r and r.get("kind") == "memory"]
        if len(ok) >= 2:
            out.append("")
            out.append(f"Fitted growth (in memory): time ~ {axis}^"
                       f"{exponent([r[axis] for r in ok], [r['seconds'] for r in ok]):.2f} "
                       f"over {ok[0][axis]:,} to {ok[-1][axis]:,}.")
        return out

    lines = [f"### Fit time against rows (p = {ROWS_P}, unpenalised defaults)", "", *table(rows + stream, "n"), "",
             f"### Fit time against features (n = {FEATURES_N:,}, alpha = {FEATURES_ALPHA:g})", "",
             *table(features, "p"), ""]
    return "\n".join(lines)


def plot(rows: list[dict], features: list[dict], stream: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, pts, axis, label in ((axes[0], rows + stream, "n", f"rows (p = {ROWS_P})"),
                                 (axes[1], features, "p", f"features (n = {FEATURES_N:,})")):
        ok = [r for r in pts if "error" not in r and r["kind"] == "memory"]
        xs = [r[axis] for r in ok]
        ax.loglog(xs, [r["seconds"] for r in ok], "o-", color="C0", label="logitfit fit, in memory")
        ax.loglog(xs, [r["passes"] * r["read_s"] for r in ok], "s--", color="C1",
                  label="floor: passes x one read")
        streamed = [r for r in pts if "error" not in r and r["kind"] == "stream"]
        if streamed:
            ax.loglog([r[axis] for r in streamed], [r["seconds"] for r in streamed], "D", color="C2",
                      label="logitfit fit, streamed from Parquet")
            ax.loglog([r[axis] for r in streamed], [r["passes"] * r["read_s"] for r in streamed], "x",
                      color="C2", label="streamed floor: passes x one pyarrow read")
        ax.set_xlabel(label)
        ax.set_ylabel("seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["point"]:
        print(json.dumps(point(int(argv[1]), int(argv[2]), int(argv[3]), float(argv[4]))))
        return 0
    if argv[:1] == ["stream"]:
        print(json.dumps(stream_point(int(argv[1]), int(argv[2]), argv[3], argv[4])))
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", default=",".join(map(str, ROWS)))
    ap.add_argument("--features", default=",".join(map(str, FEATURES)))
    ap.add_argument("--stream-rows", type=int, default=20_000_000)
    ap.add_argument("--dir", default="/work/bench-data/cost-curve")
    ap.add_argument("--memory-limit", default="512MB")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--write", type=Path)
    ap.add_argument("--plot", type=Path)
    ap.add_argument("--report-only", action="store_true", help="render bench-out/cost-curve.json again")
    args = ap.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    if args.report_only:
        saved = json.loads((OUT / "cost-curve.json").read_text())
        return _report(saved, args)
    results: dict[str, list[dict]] = {"rows": [], "features": [], "stream": []}
    for n in (int(float(s)) for s in args.rows.split(",") if s):
        results["rows"].append(_child(["point", str(n), str(ROWS_P), str(args.reps), "0"], args.timeout)
                               | {"n": n})
        print(results["rows"][-1], flush=True)
    for p in (int(float(s)) for s in args.features.split(",") if s):
        results["features"].append(_child(["point", str(FEATURES_N), str(p), str(args.reps),
                                           str(FEATURES_ALPHA)], args.timeout) | {"p": p})
        print(results["features"][-1], flush=True)
    if args.stream_rows:
        os.makedirs(args.dir, exist_ok=True)
        results["stream"].append(_child(["stream", str(args.stream_rows), str(ROWS_P), args.dir,
                                         args.memory_limit], args.timeout) | {"n": args.stream_rows})
        print(results["stream"][-1], flush=True)
    (OUT / "cost-curve.json").write_text(json.dumps(results, indent=1))
    return _report(results, args)


def _report(results: dict[str, list[dict]], args: argparse.Namespace) -> int:
    text = render(results["rows"], results["features"], results["stream"])
    print(text)
    if args.write:
        args.write.write_text(text + "\n")
    if args.plot:
        plot(results["rows"], results["features"], results["stream"], args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
