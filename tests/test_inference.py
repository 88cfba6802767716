"""Inference on a fit: covariance, SE, z, p, intervals, tests, marginal effects.

Oracles: statsmodels Logit / MNLogit (nonrobust, HC0, cluster, margeff,
Wald, llf...), the published Spector & Mazzeo results (REFERENCE.md sec. 2),
the definitions of HC1-HC3 recomputed here with dense numpy (statsmodels'
discrete models return HC0 for every HCx: statsmodels issues 7798 and 2828),
and profile intervals found by independent root-finding on statsmodels fits
with an offset.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

import logitfit
from logitfit import LogisticRegression

#: Relative agreement with statsmodels demanded by issue 8.
RTOL_SM = 1e-6
#: Fit tolerance on max|grad J|: far below what RTOL_SM needs.
FIT_TOL = 1e-11
#: Agreement of two computations of the same formula in float64.
RTOL_EXACT = 1e-9


def _spector(float32_gpa: bool = False):
    d = sm.datasets.spector.load_pandas()
    X = d.exog.copy()
    if float32_gpa:
        X["GPA"] = X["GPA"].astype(np.float32).astype(float)
    return X, d.endog.to_numpy()


def _synthetic(n=300, p=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * [1.0, 2.0, 0.5, 3.0][:p]
    z = X @ np.linspace(-0.8, 0.6, p) + 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return X, y


def _sm(X, y, **kw):
    return sm.Logit(y, sm.add_constant(np.asarray(X, float), prepend=False)).fit(disp=0, method="newton", tol=1e-14, **kw)


DATASETS = {"spector": _spector, "synthetic": _synthetic, "synthetic2": lambda: _synthetic(500, 3, 7)}


@pytest.mark.parametrize("name", list(DATASETS))
def test_binary_matches_statsmodels(name):
    X, y = DATASETS[name]()
    m = LogisticRegression(tol=FIT_TOL).fit(X, y)
    r = _sm(X, y)
    inf = m._inference()
    np.testing.assert_allclose(inf.params, r.params, rtol=RTOL_SM)
    np.testing.assert_allclose(m.bse_, r.bse, rtol=RTOL_SM)
    np.testing.assert_allclose(inf.zvalues(), r.tvalues, rtol=RTOL_SM)
    np.testing.assert_allclose(m.pvalues_, r.pvalues, rtol=RTOL_SM)
    np.testing.assert_allclose(m.conf_int(), np.asarray(r.conf_int()), rtol=RTOL_SM)
    np.testing.assert_allclose(m.cov_params(), np.asarray(r.cov_params()), rtol=RTOL_SM)
    for ours, theirs in [(m.llf_, r.llf), (m.llnull_, r.llnull), (m.aic_, r.aic), (m.bic_, r.bic),
                         (inf.prsquared, r.prsquared), (inf.llr, r.llr), (inf.llr_pvalue, r.llr_pvalue)]:
        assert ours == pytest.approx(theirs, rel=RTOL_SM)
    me, mr = m.marginal_effects(), r.get_margeff(at="overall")
    np.testing.assert_allclose(me["effect"], mr.margeff, rtol=RTOL_SM)
    np.testing.assert_allclose(me["std_err"], mr.margeff_se, rtol=RTOL_SM)
    np.testing.assert_allclose(me["p_value"], mr.pvalues, rtol=RTOL_SM)


def test_spector_published_values():
    """Stata 11 results printed in REFERENCE.md sec. 2, on GPA rounded to float32 as Stata held it."""
    X, y = _spector(float32_gpa=True)
    m = LogisticRegression(tol=FIT_TOL).fit(X, y)
    inf = m._inference()
    coef = [2.82611297201, 0.0951576702557, 2.37868772835, -13.0213483201]
    se = [1.26294114526, 0.141554207662, 1.06456430165, 4.93132462871]
    z = [2.237723415, 0.6722348408, 2.234423721, -2.640537645]
    p = [0.0252390974, 0.5014342039, 0.0254552063, 0.0082774596]
    np.testing.assert_allclose(inf.params, coef, rtol=5e-12)  # 12 printed digits
    np.testing.assert_allclose(m.bse_, se, rtol=5e-12)
    np.testing.assert_allclose(inf.zvalues(), z, rtol=5e-10)  # 10 digits
    np.testing.assert_allclose(m.pvalues_, p, rtol=5e-9)
    assert m.llf_ == pytest.approx(-12.8896334653335, rel=1e-13)
    assert m.llnull_ == pytest.approx(-20.5917296966173, rel=1e-13)
    assert inf.llr == pytest.approx(15.4041924625676, rel=1e-12)
    assert inf.llr_pvalue == pytest.approx(0.00150187761112892, rel=1e-11)
    assert inf.prsquared == pytest.approx(0.374038332124624, rel=1e-12)
    assert m.aic_ == pytest.approx(33.779266930667, rel=1e-12)
    assert m.bic_ == pytest.approx(39.642210541866, rel=1e-12)
    ci = [[0.3507938, 5.301432], [-0.1822835, 0.3725988], [0.29218, 4.465195], [-22.68657, -3.35613]]
    np.testing.assert_allclose(m.conf_int(), ci, rtol=5e-6)  # 5 to 7 printed digits


def _dense_sandwich(X, y, m, power):
    """HC0/HC2/HC3 from their definitions (R sandwich::vcovHC on a glm), dense numpy."""
    Xt = np.column_stack([X, np.ones(len(y))])
    beta = np.r_[m.coef_.ravel(), m.intercept_]
    p = 1 / (1 + np.exp(-Xt @ beta))
    w = p * (1 - p)
    Ainv = np.linalg.inv(Xt.T @ (Xt * w[:, None]))
    h = w * np.einsum("ij,jk,ik->i", Xt, Ainv, Xt)
    e = (y - p) ** 2 / (1 - h) ** power
    return Ainv @ (Xt.T @ (Xt * e[:, None])) @ Ainv


@pytest.mark.parametrize("name", ["spector", "synthetic"])
def test_hc_types_match_definitions(name):
    X, y = DATASETS[name]()
    X = np.asarray(X, float)
    m = LogisticRegression(tol=FIT_TOL).fit(X, y)
    n, k = X.shape[0], X.shape[1] + 1
    hc0 = _dense_sandwich(X, y, m, 0)
    np.testing.assert_allclose(m.cov_params("HC0"), hc0, rtol=RTOL_EXACT)
    np.testing.assert_allclose(m.cov_params("HC1"), hc0 * n / (n - k), rtol=RTOL_EXACT)
    np.testing.assert_allclose(m.cov_params("HC2"), _dense_sandwich(X, y, m, 1), rtol=RTOL_EXACT)
    np.testing.assert_allclose(m.cov_params("HC3"), _dense_sandwich(X, y, m, 2), rtol=RTOL_EXACT)
    np.testing.assert_allclose(m.summary(cov_type="HC0").std_err, _sm(X, y, cov_type="HC0").bse, rtol=RTOL_SM)


def test_cluster_matches_statsmodels():
    X, y = _synthetic()
    groups = np.arange(len(y)) % 17
    m = LogisticRegression(tol=FIT_TOL).fit(X, y)
    r = _sm(X, y, cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(m.cov_params("cluster", groups), np.asarray(r.cov_params()), rtol=RTOL_SM)
    with pytest.raises(ValueError, match="groups"):
        m.cov_params("cluster")


def _mn_data(n=400, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    B = np.array([[0, 1, -1], [0, 0.5, 0.5], [0, -1, 0.3]])
    P = np.exp(X @ B)
    P /= P.sum(1, keepdims=True)
    return X, (P.cumsum(1) > rng.random((n, 1))).argmax(1)


def _anes():
    d = sm.datasets.anes96.load_pandas().data
    return d[["logpopul", "selfLR", "age", "educ", "income"]].to_numpy(float), d["vote"].to_numpy() + 2 * (d["PID"].to_numpy() > 3)


@pytest.mark.parametrize("loader", [_mn_data, _anes], ids=["synthetic", "anes96"])
def test_multinomial_matches_mnlogit(loader):
    X, y = loader()
    m = LogisticRegression(tol=FIT_TOL).fit(X, y)
    r = sm.MNLogit(y, sm.add_constant(X, prepend=False)).fit(disp=0, method="newton", tol=1e-14)
    inf = m._inference()
    np.testing.assert_allclose(inf.params, np.asarray(r.params).T.ravel(), rtol=RTOL_SM, atol=1e-10)
    np.testing.assert_allclose(inf.bse(), np.asarray(r.bse).T.ravel(), rtol=RTOL_SM)
    np.testing.assert_allclose(inf.pvalues(), np.asarray(r.pvalues).T.ravel(), rtol=RTOL_SM)
    for ours, theirs in [(inf.llf, r.llf), (inf.llnull, r.llnull), (inf.aic, r.aic), (inf.bic, r.bic), (inf.prsquared, r.prsquared)]:
        assert ours == pytest.approx(theirs, rel=RTOL_SM)
    me, mr = inf.marginal_effects(), r.get_margeff(at="overall")
    np.testing.assert_allclose(me["effect"], mr.margeff, rtol=RTOL_SM, atol=1e-12)
    np.testing.assert_allclose(me["std_err"], mr.margeff_se, rtol=RTOL_SM)
    rh = sm.MNLogit(y, sm.add_constant(X, prepend=False)).fit(disp=0, method="newton", tol=1e-14, cov_type="HC0")
    np.testing.assert_allclose(inf.bse("HC0"), np.asarray(rh.bse).T.ravel(), rtol=RTOL_SM)


def test_multinomial_reference_class_is_selectable():
    """Contrast class 1 vs 0 equals minus contrast 0 vs 1, with the same standard errors."""
    X, y = _mn_data()
    m = LogisticRegression(tol=FIT_TOL).fit(X, y)
    a, b = m._inference(0), m._inference(1)
    q = X.shape[1] + 1
    np.testing.assert_allclose(b.params[:q], -a.params[:q], rtol=RTOL_EXACT)
    np.testing.assert_allclose(b.bse()[:q], a.bse()[:q], rtol=RTOL_EXACT)
    assert b.names[0].startswith("0:")


def test_wald_and_lr_tests_match_statsmodels():
    X, y = _spector()
    m = LogisticRegression(tol=FIT_TOL).fit(X, y)
    r = _sm(X, y)
    ours = m.wald_test("GPA = PSI, TUCE = 0")
    theirs = r.wald_test(np.array([[1, 0, -1, 0], [0, 1, 0, 0]]), scalar=True)
    assert ours.statistic == pytest.approx(float(theirs.statistic), rel=RTOL_SM)
    assert ours.df == 2
    assert ours.pvalue == pytest.approx(float(theirs.pvalue), rel=RTOL_SM)
    small = LogisticRegression(tol=FIT_TOL).fit(X[["GPA"]], y)
    lr = logitfit.lr_test(small, m)
    r_small = _sm(X[["GPA"]], y)
    assert lr.statistic == pytest.approx(2 * (r.llf - r_small.llf), rel=RTOL_SM)
    assert lr.df == 2
    assert lr.pvalue == pytest.approx(stats.chi2.sf(2 * (r.llf - r_small.llf), 2), rel=RTOL_SM)
    with pytest.raises(ValueError, match="unknown term"):
        m.wald_test("GPX = 0")


def test_profile_ci_matches_root_finding_on_an_independent_likelihood():
    """End points where 2 (llf - llf_j(c)) = chi2_1(0.95); llf_j(c) maximised here by scipy BFGS
    on the log-likelihood written out with np.logaddexp (offset c x_j), roots by brentq."""
    X, y = _spector()
    Xc = sm.add_constant(X.to_numpy(float), prepend=False)
    m = LogisticRegression(tol=FIT_TOL).fit(X, y)
    ci = m.conf_int(method="profile")
    llf = _sm(X, y).llf
    cut = stats.chi2.ppf(0.95, 1)

    def dev(c, j):
        rest, off = np.delete(Xc, j, axis=1), c * Xc[:, j]

        def nll(b):
            z = rest @ b + off
            return np.sum(np.logaddexp(0, z) - y * z), rest.T @ (1 / (1 + np.exp(-z)) - y)

        start = np.delete(m._inference().params, j)
        res = optimize.minimize(nll, start, jac=True, method="BFGS", options={"gtol": 1e-10})
        return 2 * (llf + res.fun) - cut

    for j in (0, 3):
        est = m._inference().params[j]
        lo = optimize.brentq(dev, est - 4 * m.bse_[j], est, args=(j,), xtol=1e-12)
        hi = optimize.brentq(dev, est, est + 4 * m.bse_[j], args=(j,), xtol=1e-12)
        np.testing.assert_allclose(ci[j], [lo, hi], rtol=RTOL_SM)


def test_l2_is_labelled_and_uses_penalised_sandwich():
    X, y = _synthetic()
    alpha = 0.05
    m = LogisticRegression(penalty="l2", alpha=alpha, tol=FIT_TOL).fit(X, y)
    Xt = np.column_stack([X, np.ones(len(y))])
    beta = np.r_[m.coef_.ravel(), m.intercept_]
    p = 1 / (1 + np.exp(-Xt @ beta))
    info = Xt.T @ (Xt * (p * (1 - p))[:, None])
    Ainv = np.linalg.inv(info + len(y) * alpha * np.diag([1, 1, 1, 1, 0]))
    np.testing.assert_allclose(m.cov_params(), Ainv @ info @ Ainv, rtol=RTOL_EXACT)
    assert "PENALISED" in str(m.summary())
    with pytest.raises(ValueError, match="unpenalised"):
        m.conf_int(method="profile")


def test_l1_refuses_pvalues():
    X, y = _synthetic()
    m = LogisticRegression(penalty="l1", alpha=0.01).fit(X, y)
    with pytest.raises(ValueError, match="L1"):
        m.summary()
    with pytest.raises(ValueError, match="L1"):
        _ = m.pvalues_


def test_lazy_and_unfitted_and_pickled():
    m = LogisticRegression()
    assert not hasattr(m, "bse_")
    X, y = _synthetic()
    m.fit(X, y)
    assert "cache" not in vars(m._retained)  # nothing computed by fit
    se = m.bse_
    assert m._inference() is m._inference()  # built once, cached with the fit
    np.testing.assert_array_equal(m.bse_, se)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m2.predict(X), m.predict(X))
    with pytest.raises(ValueError, match="refit"):
        _ = m2.bse_


def test_sample_weight_two_equals_duplicated_rows():
    """Frequency-weight semantics: weight 2 gives the same SEs and llf as two copies of the row."""
    X, y = _synthetic(120, 3, 2)
    sw = np.ones(len(y))
    sw[:30] = 2
    a = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=sw)
    b = LogisticRegression(tol=FIT_TOL).fit(np.vstack([X, X[:30]]), np.r_[y, y[:30]])
    np.testing.assert_allclose(a.bse_, b.bse_, rtol=RTOL_SM)
    assert a.llf_ == pytest.approx(b.llf_, rel=RTOL_SM)
    assert a.bic_ == pytest.approx(b.bic_, rel=RTOL_SM)
