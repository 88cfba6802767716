"""The benchmark workloads W1..W6 and S1, S3, generated deterministically from a seed.

Dense workloads: correlated Gaussian features ``X = Z L^T`` (``Z`` standard
normal, ``L`` the Cholesky factor of an AR(1) correlation ``rho^|i-j|``), a
planted coefficient vector ``w`` scaled so the linear predictor has standard
deviation ``SIGNAL``, and labels drawn from the model itself,
``y ~ Bernoulli(sigmoid(X w + b))`` (softmax with a planted ``W`` for the
multinomial W4). W3 is TF-IDF-like: column frequencies follow a power law
(Zipf), about ``nnz_per_row`` non-zeros a row, values ``tf * idf`` and
L2-normalised rows. S1 (1,000 x 10) and S3 (100,000 x 50) are W6's kind
(unpenalised, fit + standard errors) at the two ends of the small-data table,
with W6 (10,000 x 20) its middle row.

X is filled in row chunks in place, so generating W1 (800 MB) peaks at the
size of X, not twice that: the benchmark machine is shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

SEED = 20240611
RHO = 0.5  # AR(1) feature correlation of the dense workloads
SIGNAL = 2.0  # standard deviation of the planted linear predictor
CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Spec:
    """Shape and penalty of one workload; ``quick`` holds the CI smoke-run shape."""

    name: str
    kind: str  # "dense", "sparse", "multinomial"
    n: int
    p: int
    alpha: float
    n_classes: int = 2
    penalty: str = "l2"
    nnz_per_row: int = 0
    inference: bool = False
    note: str = ""
    quick: dict[str, int] = field(default_factory=dict)


SPECS: dict[str, Spec] = {
    "W1": Spec(
        "W1", "dense", 1_000_000, 100, 1e-4, note="dense tall", quick={"n": 20_000, "p": 20}
    ),
    "W2": Spec("W2", "dense", 20_000, 2_000, 1e-3, note="dense wide", quick={"n": 2_000, "p": 200}),
    "W3": Spec(
        "W3",
        "sparse",
        200_000,
        100_000,
        1e-5,
        nnz_per_row=50,
        note="sparse TF-IDF-like CSR",
        quick={"n": 5_000, "p": 5_000, "nnz_per_row": 20},
    ),
    "W4": Spec(
        "W4",
        "multinomial",
        200_000,
        50,
        1e-4,
        n_classes=10,
        note="multinomial, 10 classes",
        quick={"n": 5_000, "p": 10, "n_classes": 4},
    ),
    "W5": Spec(
        "W5",
        "dense",
        100_000,
        1_000,
        1e-3,
        penalty="l1",
        note="L1 (lasso) penalty",
        quick={"n": 2_000, "p": 100},
    ),
    "W6": Spec(
        "W6",
        "dense",
        10_000,
        20,
        0.0,
        penalty="none",
        inference=True,
        note="unpenalised, fit + standard errors",
        quick={"n": 2_000, "p": 10},
    ),
    # The small-data table: S1, W6, S3. S1 is already CI-sized; its quick run
    # keeps n above the runners' 500-row warm-up slice.
    "S1": Spec(
        "S1",
        "dense",
        1_000,
        10,
        0.0,
        penalty="none",
        inference=True,
        note="small data, unpenalised, fit + standard errors",
        quick={"n": 1_000, "p": 10},
    ),
    "S3": Spec(
        "S3",
        "dense",
        100_000,
        50,
        0.0,
        penalty="none",
        inference=True,
        note="small data, unpenalised, fit + standard errors",
        quick={"n": 5_000, "p": 25},
    ),
}
# Seed offset for the S workloads, so S1 and S3 do not share W1's and W3's streams.
S_SEED_OFFSET = 100


@dataclass
class Workload:
    spec: Spec
    X: Any
    y: np.ndarray  # 0/1 floats (binary) or class indices 0..K-1

    @property
    def name(self) -> str:
        return self.spec.name


def sized(spec: Spec, size: str) -> Spec:
    """The spec at ``size`` ("full" or "quick")."""
    if size == "full":
        return spec
    if size != "quick":
        raise ValueError(f"size must be 'full' or 'quick', got {size!r}")
    fields = {**spec.__dict__, **spec.quick}
    return Spec(**fields)


def _correlated_gaussian(n: int, p: int, rng: np.random.Generator) -> np.ndarray:
    idx = np.arange(p)
    L = np.linalg.cholesky(RHO ** np.abs(idx[:, None] - idx[None, :]))
    X = np.empty((n, p))
    for a in range(0, n, CHUNK_ROWS):
        b = min(a + CHUNK_ROWS, n)
        np.matmul(rng.standard_normal((b - a, p)), L.T, out=X[a:b])
    return X


def _planted(p: int, k: int, rng: np.random.Generator) -> np.ndarray:
    # Each feature has unit variance and correlation RHO^|i-j|; scaling by
    # sqrt(p) keeps the predictor's spread near SIGNAL whatever p is.
    W = rng.standard_normal((p, k)) * rng.random((p, k))
    return W * (SIGNAL / np.sqrt(np.sum(W**2, axis=0) * (1 + RHO) / (1 - RHO)))


def _labels_binary(X, w: np.ndarray, b: float, rng: np.random.Generator) -> np.ndarray:
    z = np.asarray(X @ w).ravel() + b
    return (rng.random(z.shape[0]) * (1.0 + np.exp(-z)) < 1.0).astype(np.float64)


def _tfidf(n: int, p: int, nnz_per_row: int, rng: np.random.Generator) -> sp.csr_matrix:
    freq = 1.0 / np.arange(1, p + 1) ** 1.1  # Zipf-like column frequencies
    freq /= freq.sum()
    counts = np.maximum(1, rng.poisson(nnz_per_row, n))
    indptr = np.concatenate([[0], np.cumsum(counts)])
    cols = rng.choice(p, size=int(indptr[-1]), p=freq)
    tf = 1.0 + np.log(rng.geometric(0.5, size=cols.size).astype(np.float64))
    X = sp.csr_matrix((tf, cols, indptr), shape=(n, p))
    X.sum_duplicates()
    df = np.bincount(X.indices, minlength=p)
    X.data *= np.log((1.0 + n) / (1.0 + df[X.indices])) + 1.0
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags(1.0 / np.maximum(norms, 1e-300)) @ X
    return sp.csr_matrix(X)


def seed(name: str) -> list[int]:
    """The generator seed of workload ``name``: ``[SEED, k]`` for Wk, ``[SEED, 100 + k]`` for Sk."""
    offset = S_SEED_OFFSET if name.startswith("S") else 0
    return [SEED, offset + int(name[1:])]


def make(name: str, size: str = "full") -> Workload:
    """Generate workload ``name`` ("W1".."W6", "S1", "S3") at ``size`` ("full" or "quick")."""
    spec = sized(SPECS[name], size)
    rng = np.random.default_rng(seed(name))
    if spec.kind == "sparse":
        X = _tfidf(spec.n, spec.p, spec.nnz_per_row, rng)
        # TF-IDF rows have norm 1: a few hundred strong weights give a signal
        w = np.zeros(spec.p)
        hot = rng.choice(spec.p, size=min(spec.p, 500), replace=False)
        w[hot] = rng.standard_normal(hot.size) * 8.0
        return Workload(spec, X, _labels_binary(X, w, -0.5, rng))
    X = _correlated_gaussian(spec.n, spec.p, rng)
    if spec.kind == "multinomial":
        W = _planted(spec.p, spec.n_classes, rng)
        Z = X @ W
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        u = rng.random(spec.n)[:, None]
        y = np.minimum((P.cumsum(axis=1) < u).sum(axis=1), spec.n_classes - 1)
        return Workload(spec, X, y.astype(np.intp))
    w = _planted(spec.p, 1, rng)[:, 0]
    if spec.penalty == "l1":
        w[rng.random(spec.p) < 0.9] = 0.0  # sparse truth for the lasso
        w *= np.sqrt(10.0)
    return Workload(spec, X, _labels_binary(X, w, 0.3, rng))
