"""Draw the figures of docs/sparse.md: the lasso path and the 10-fold CV curve on breast cancer.

Data: scikit-learn's Wisconsin breast cancer set (569 rows, 30 features),
standardised. Run from the project root::

    python docs/make_sparse_figures.py

Writes docs/img/sparse_path.png and docs/img/sparse_cv.png and prints the
numbers quoted in docs/sparse.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer

from logitfit import LogisticRegressionCV, regularization_path
from logitfit.plots.paths import plot_cv, plot_path

OUT = Path(__file__).resolve().parent / "img"


def main() -> None:
    data = load_breast_cancer()
    X = (data.data - data.data.mean(0)) / data.data.std(0)
    y = data.target
    names = [n.replace(" ", "_") for n in data.feature_names]

    t = time.perf_counter()
    path = regularization_path(X, y, n_alphas=100)
    t_path = time.perf_counter() - t
    t = time.perf_counter()
    cv = LogisticRegressionCV(n_alphas=100, cv=10, n_jobs=2).fit(X, y)
    t_cv = time.perf_counter() - t

    OUT.mkdir(exist_ok=True)
    plot_path(path, cv=cv, feature_names=names, n_labels=6).savefig(OUT / "sparse_path.png", dpi=110)
    plot_cv(cv).savefig(OUT / "sparse_cv.png", dpi=110)

    i_min = int(np.flatnonzero(cv.alphas_ == cv.alpha_min_)[0])
    i_1se = int(np.flatnonzero(cv.alphas_ == cv.alpha_1se_)[0])
    print(f"path: 100 alphas in {t_path:.2f} s, max KKT violation {path.kkt_violation.max():.2g}")
    print(f"alpha_max {path.alphas[0]:.4g}, first alpha all zero: {bool(np.all(path.coef[0] == 0))}")
    print(f"deviance explained at the end of the path: {path.deviance_explained[-1]:.4f}")
    print(f"10-fold CV of the 100-alpha path in {t_cv:.2f} s")
    print(f"alpha_min_ {cv.alpha_min_:.4g}: CV deviance {cv.cv_mean_[i_min]:.4f} +- {cv.cv_se_[i_min]:.4f}, "
          f"{path.n_nonzero[i_min]} features")
    print(f"alpha_1se_ {cv.alpha_1se_:.4g}: CV deviance {cv.cv_mean_[i_1se]:.4f}, {path.n_nonzero[i_1se]} features")
    kept = [names[j] for j in np.flatnonzero(cv.coef_[0])]
    print(f"final model (alpha_min_): {len(kept)} features: {', '.join(kept)}")


if __name__ == "__main__":
    main()
