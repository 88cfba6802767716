"""The Brant test of proportional odds against an independent computation.

The reference here fits the K-1 binary logits with statsmodels ``Logit`` and
builds Brant's (1990) joint covariance with dense numpy matrices straight from
the paper's formula, ``Var(b_k, b_l) = (X'W_k X)^-1 X'W_kl X (X'W_l X)^-1``
with ``W_kl = diag(pi_l - pi_k pi_l)`` (the form R's ``brant`` package uses),
then the Wald statistic with the contrast matrix written out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from logitfit import OrdinalLogisticRegression
from logitfit.inference.brant import brant_statistic

sm = pytest.importorskip("statsmodels.api")


def _reference(X, y, K, offset=None):
    n, p = X.shape
    Xt = np.column_stack([np.ones(n), X])  # R's layout: the intercept first
    fits, pis = [], []
    for k in range(K - 1):
        res = sm.Logit((y > k).astype(float), Xt, offset=offset).fit(disp=0, tol=1e-12, maxiter=100)
        fits.append(np.asarray(res.params))
        pis.append(np.asarray(res.predict(Xt, offset=offset) if offset is not None else res.predict(Xt)))
    q = p + 1
    V = np.zeros(((K - 1) * q, (K - 1) * q))
    for k in range(K - 1):
        for m in range(K - 1):
            lo, hi = min(k, m), max(k, m)
            Wk = np.diag(pis[k] * (1 - pis[k]))
            Wm = np.diag(pis[m] * (1 - pis[m]))
            Wkm = np.diag(pis[hi] - pis[lo] * pis[hi])
            V[k * q:(k + 1) * q, m * q:(m + 1) * q] = (
                np.linalg.inv(Xt.T @ Wk @ Xt) @ (Xt.T @ Wkm @ Xt) @ np.linalg.inv(Xt.T @ Wm @ Xt))
    slopes = np.array([f[1:] for f in fits])
    keep = [k * q + j for k in range(K - 1) for j in range(1, q)]
    Vs = V[np.ix_(keep, keep)]
    beta = slopes.ravel()
    # D: b_0 - b_k for k = 1..K-2, one block row per k
    D = np.hstack([np.kron(np.ones((K - 2, 1)), np.eye(p)), -np.eye((K - 2) * p)])
    d = D @ beta
    overall = float(d @ np.linalg.inv(D @ Vs @ D.T) @ d)
    per = []
    for j in range(p):
        idx = [k * p + j for k in range(K - 1)]
        bj = beta[idx]
        Dj = np.hstack([np.ones((K - 2, 1)), -np.eye(K - 2)])
        dj = Dj @ bj
        per.append(float(dj @ np.linalg.inv(Dj @ Vs[np.ix_(idx, idx)] @ Dj.T) @ dj))
    return slopes, overall, per


def _data(n=800, seed=0, proportional=True):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.uniform(-1, 1, n)])
    latent = X @ [1.0, -0.7, 0.5] + rng.logistic(size=n)
    if not proportional:  # the second feature's effect grows with the cut point
        cuts = np.array([-1.0, 0.0, 1.0])
        y = np.sum(latent[:, None] + np.outer(X[:, 1], [0.0, 1.0, 2.5]) > cuts[None, :], axis=1)
    else:
        y = np.digitize(latent, [-1.0, 0.0, 1.0])
    return X, y


@pytest.mark.parametrize("proportional", [True, False])
def test_brant_matches_an_independent_computation(proportional):
    X, y = _data(proportional=proportional)
    brant = OrdinalLogisticRegression().fit(X, y).brant_test()
    slopes, overall, per = _reference(X, y, 4)
    np.testing.assert_allclose(brant.slopes, slopes, rtol=1e-7)
    assert brant.overall.statistic == pytest.approx(overall, rel=1e-6)
    assert brant.overall.df == 6
    np.testing.assert_allclose([t.statistic for t in brant.per_feature.values()], per, rtol=1e-6)
    assert [t.df for t in brant.per_feature.values()] == [2, 2, 2]
    from scipy import stats

    assert brant.overall.pvalue == pytest.approx(stats.chi2.sf(overall, 6), rel=1e-6)
    if not proportional:  # the violated feature is the one flagged
        assert brant.per_feature["x1"].pvalue < 1e-4
        assert brant.overall.pvalue < 1e-4


def test_brant_with_an_offset_matches_the_reference():
    X, y = _data(500, seed=4)
    offset = 0.4 * np.cos(np.arange(500))
    brant = OrdinalLogisticRegression().fit(X, y, offset=offset).brant_test()
    slopes, overall, per = _reference(X, y, 4, offset=offset)
    np.testing.assert_allclose(brant.slopes, slopes, rtol=1e-7)
    assert brant.overall.statistic == pytest.approx(overall, rel=1e-6)


def test_brant_on_the_ucla_data_names_the_features():
    pd = pytest.importorskip("pandas")
    from pathlib import Path

    import statsmodels

    path = Path(statsmodels.__file__).parent / "miscmodels" / "tests" / "results" / "ologit_ucla.csv"
    if not path.is_file():
        pytest.skip(f"{path} is not installed")
    data = pd.read_csv(path)
    features = ["pared", "public", "gpa"]
    cats = ["unlikely", "somewhat likely", "very likely"]
    brant = OrdinalLogisticRegression(categories=cats).fit(data[features], data["apply"]).brant_test()
    y = data["apply"].map(cats.index).to_numpy()
    slopes, overall, per = _reference(data[features].to_numpy(float), y, 3)
    assert list(brant.per_feature) == features
    assert brant.overall.statistic == pytest.approx(overall, rel=1e-6)
    np.testing.assert_allclose([t.statistic for t in brant.per_feature.values()], per, rtol=1e-6)
    text = str(brant)
    assert "Omnibus" in text and "public" in text


def test_brant_statistic_of_equal_rows_is_zero():
    slopes = np.tile([0.5, -1.0], (3, 1))
    stat, df = brant_statistic(slopes, np.eye(6))
    assert stat == 0.0 and df == 4


def test_brant_refuses_what_it_cannot_test():
    X, y = _data(300)
    with pytest.raises(ValueError, match="at least three categories"):
        OrdinalLogisticRegression().fit(X, (y > 1).astype(int)).brant_test()
    with pytest.raises(ValueError, match="logit link"):
        OrdinalLogisticRegression(link="probit").fit(X, y).brant_test()
