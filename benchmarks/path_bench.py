"""Benchmark: L1 path + k-fold CV, logitfit vs scikit-learn (saga) vs glum, same grid, same folds.

The issue's problems are a 100-alpha lasso path with 10-fold CV on 100,000 x
1,000 dense and on 200,000 x 100,000 sparse (about 50 non-zeros per row)
data. Every library gets

* the same alpha grid: logitfit's (``alpha_max`` from the null model on all
  rows, geometric down to ``ratio * alpha_max``);
* the same folds: one list of stratified (train, test) index pairs;
* the same objective: mean log loss + ``alpha ||w||_1`` (scikit-learn's
  ``C = 1 / (alpha n_train)`` for its summed loss; glum's binomial family
  with ``l1_ratio = 1`` is this objective exactly);
* the same scorer: mean held-out deviance ``-2/n_test sum log p(y_i)``,
  computed here from each library's per-fold coefficient paths, and the
  reported "CV deviance" is its minimum over the grid.

Time is the wall time of ``fit`` (grid excluded for the others, included for
logitfit; each refits on all rows at its chosen alpha). Run::

    python -m benchmarks.path_bench             # the issue's sizes
    python -m benchmarks.path_bench --quick     # small sizes, minutes
    python -m benchmarks.path_bench --dense 20000x200 --sparse 20000x5000 --alphas 100 --folds 10

Prints one line per (problem, library) and, with ``--json PATH``, writes them.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import scipy.sparse as sp

DENSE = (100_000, 1_000)
SPARSE = (200_000, 100_000)
QUICK_DENSE = (5_000, 100)
QUICK_SPARSE = (5_000, 2_000)
NNZ_PER_ROW = 50
# Share of features with a true non-zero effect (a sparse truth, as the lasso assumes).
TRUE_SUPPORT = 0.05


def make_dense(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard normal features, a sparse true coefficient vector, Bernoulli labels."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    k = max(1, int(TRUE_SUPPORT * p))
    w[rng.choice(p, k, replace=False)] = rng.normal(0, 2.0 / np.sqrt(k), k)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w - 0.3)))).astype(np.int64)
    return X, y


def make_sparse(n: int, p: int, seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    """CSR with ``NNZ_PER_ROW`` ones per row at uniform columns (bag-of-words-like)."""
    rng = np.random.default_rng(seed)
    nnz = min(NNZ_PER_ROW, p)
    cols = np.sort(rng.integers(0, p, size=(n, nnz)), axis=1).ravel()
    X = sp.csr_matrix((np.ones(n * nnz), cols, np.arange(0, n * nnz + 1, nnz)), shape=(n, p))
    X.sum_duplicates()
    X.data[:] = 1.0
    w = np.zeros(p)
    k = max(1, int(TRUE_SUPPORT * p))
    w[rng.choice(p, k, replace=False)] = rng.normal(0, 1.0, k)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w - 0.5)))).astype(np.int64)
    return X, y


def heldout_deviance(X, y, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Mean held-out deviance for every alpha: coef (n_alphas, p), intercept (n_alphas,)."""
    from logitfit._numerics import log_sigmoid

    Z = np.asarray(X @ coef.T) + intercept  # (n_test, n_alphas)
    s = np.where(y[:, None] == 1, 1.0, -1.0)
    return -2.0 * log_sigmoid(s * Z).mean(axis=0)


def run_logitfit(X, y, alphas, folds, jobs, tol):
    from logitfit.estimators.cv import LogisticRegressionCV

    t = time.perf_counter()
    m = LogisticRegressionCV(alphas=alphas, cv=len(folds), n_jobs=jobs, tol=tol, scoring="deviance")
    # the same folds: logitfit builds them with StratifiedKFold(shuffle, random_state=0),
    # the generator main() uses for the others
    m.fit(X, y)
    seconds = time.perf_counter() - t
    return seconds, float(m.cv_mean_.min()), m.alpha_min_, int(np.count_nonzero(m.coef_))


def run_sklearn(X, y, alphas, folds, jobs, tol, max_iter):
    from sklearn.linear_model import LogisticRegressionCV

    n_train = np.mean([len(tr) for tr, _ in folds])
    Cs = 1.0 / (alphas * n_train)
    m = LogisticRegressionCV(
        Cs=Cs, l1_ratios=[1.0], solver="saga", cv=folds, scoring="neg_log_loss", tol=tol,
        max_iter=max_iter, n_jobs=jobs, use_legacy_attributes=False,
    )
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # saga's ConvergenceWarning at max_iter
        m.fit(X, y)
    seconds = time.perf_counter() - t
    P = m.coefs_paths_  # (n_folds, n_l1, n_Cs, 1, p + 1): sklearn orders Cs as given
    dev = np.array([
        heldout_deviance(X[te], y[te], P[f, 0, :, 0, :-1], P[f, 0, :, 0, -1])
        for f, (_, te) in enumerate(folds)
    ]).mean(axis=0)
    best = int(np.argmin(dev))
    return seconds, float(dev[best]), float(alphas[best]), int(np.count_nonzero(m.coef_))


def run_glum(X, y, alphas, folds, jobs, tol):
    from glum import GeneralizedLinearRegressorCV

    m = GeneralizedLinearRegressorCV(
        family="binomial", l1_ratio=1.0, alphas=alphas, cv=folds, n_jobs=jobs, gradient_tol=tol,
    )
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(X, y)
    seconds = time.perf_counter() - t
    C, b = m.coef_path_[:, 0], m.intercept_path_[:, 0, :, 0]  # (folds, alphas, p), (folds, alphas)
    dev = np.array([heldout_deviance(X[te], y[te], C[f], b[f]) for f, (_, te) in enumerate(folds)]).mean(0)
    best = int(np.argmin(dev))
    return seconds, float(dev[best]), float(alphas[best]), int(np.count_nonzero(m.coef_))


def bench(name, X, y, args) -> list[dict]:
    from sklearn.model_selection import StratifiedKFold

    from logitfit.blocks import InMemoryBlocks
    from logitfit.estimators.regularization import PathSpec, alpha_grid

    spec = PathSpec(tol=args.tol)
    alphas = alpha_grid(InMemoryBlocks(X, y.astype(float), np.ones(len(y))), 2, spec, args.alphas, args.ratio)
    folds = list(StratifiedKFold(args.folds, shuffle=True, random_state=0).split(np.zeros(len(y)), y))
    rows = []
    runners = {
        "logitfit": lambda: run_logitfit(X, y, alphas, folds, args.jobs, args.tol),
        "sklearn-saga": lambda: run_sklearn(X, y, alphas, folds, args.jobs, args.saga_tol, args.saga_max_iter),
        "glum": lambda: run_glum(X, y, alphas, folds, args.jobs, args.glum_tol),
    }
    for lib in args.libs.split(","):
        seconds, dev, alpha, nnz = runners[lib]()
        row = dict(problem=name, shape=f"{X.shape[0]}x{X.shape[1]}", library=lib, seconds=round(seconds, 2),
                   cv_deviance=dev, alpha_min=alpha, nonzero=nnz, n_alphas=args.alphas, folds=args.folds)
        rows.append(row)
        print(f"{name:6s} {row['shape']:>14s} {lib:13s} {seconds:9.2f} s  CV deviance {dev:.6f}  "
              f"alpha_min {alpha:.3g}  non-zero {nnz}", flush=True)
    return rows


def _shape(text: str) -> tuple[int, int]:
    n, p = text.lower().split("x")
    return int(n), int(p)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"dense {QUICK_DENSE}, sparse {QUICK_SPARSE}")
    ap.add_argument("--dense", type=_shape, help="rows x features, e.g. 100000x1000 ('0x0' skips)")
    ap.add_argument("--sparse", type=_shape, help="rows x features, e.g. 200000x100000 ('0x0' skips)")
    ap.add_argument("--alphas", type=int, default=100)
    ap.add_argument("--ratio", type=float, default=None, help="alpha_min / alpha_max (glmnet's default)")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--libs", default="logitfit,sklearn-saga,glum")
    ap.add_argument("--tol", type=float, default=1e-6, help="logitfit's KKT tolerance")
    ap.add_argument("--saga-tol", type=float, default=1e-4, help="scikit-learn's default")
    ap.add_argument("--saga-max-iter", type=int, default=1000)
    ap.add_argument("--glum-tol", type=float, default=None, help="glum's default gradient_tol")
    ap.add_argument("--json", default=None, help="write the result rows here")
    args = ap.parse_args(argv)
    dense = args.dense or (QUICK_DENSE if args.quick else DENSE)
    sparse = args.sparse or (QUICK_SPARSE if args.quick else SPARSE)
    rows = []
    if dense[0]:
        rows += bench("dense", *make_dense(*dense), args)
    if sparse[0]:
        rows += bench("sparse", *make_sparse(*sparse), args)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
