"""Summary tables: text, DataFrame, Markdown, HTML (logitfit.inference.summary).

Oracle: the numbers must be the Inference numbers (themselves tested against
statsmodels in test_inference.py); here the layout and labels are checked.
"""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from logitfit import LogisticRegression
from logitfit.inference.summary import COLUMNS

#: Agreement with statsmodels (as in test_inference.py).
RTOL_SM = 1e-6


@pytest.fixture(scope="module")
def spector_fit():
    d = sm.datasets.spector.load_pandas()
    return LogisticRegression(tol=1e-11).fit(d.exog, d.endog), d


def test_text_has_header_and_terms(spector_fit):
    m, _ = spector_fit
    text = str(m.summary())
    for word in ["No. Observations", "Df Model", "Df Residuals", "Log-Likelihood", "LL-Null", "LR chi2",
                 "LLR p-value", "Pseudo R-squ.", "AIC", "BIC", "Deviance", "Null deviance", "Solver",
                 "Iterations", "Converged", "coef", "std err", "P>|z|", "[0.025", "0.975]",
                 "GPA", "TUCE", "PSI", "Intercept", "-12.8896", "2.8261"]:
        assert word in text, word


def test_frame_matches_statsmodels(spector_fit):
    m, d = spector_fit
    frame = m.summary().to_frame()
    assert list(frame.columns) == COLUMNS
    assert list(frame.index) == ["GPA", "TUCE", "PSI", "Intercept"]
    r = sm.Logit(d.endog, sm.add_constant(d.exog, prepend=False)).fit(disp=0, tol=1e-14, method="newton")
    np.testing.assert_allclose(frame["coef"], r.params, rtol=RTOL_SM)
    np.testing.assert_allclose(frame["std_err"], r.bse, rtol=RTOL_SM)
    np.testing.assert_allclose(frame["p_value"], r.pvalues, rtol=RTOL_SM)
    np.testing.assert_allclose(frame[["ci_lower", "ci_upper"]], r.conf_int(), rtol=RTOL_SM)
    np.testing.assert_allclose(frame["odds_ratio"], np.exp(r.params), rtol=RTOL_SM)
    np.testing.assert_allclose(frame["odds_ratio_ci_upper"], np.exp(r.conf_int()[1]), rtol=RTOL_SM)


def test_markdown_and_html(spector_fit):
    m, _ = spector_fit
    s = m.summary(cov_type="HC1", alpha=0.1)
    md = s.to_markdown()
    assert "| GPA |" in md and "| Covariance Type | HC1 |" in md and "[0.05" in md
    html = s._repr_html_()
    assert html == s.to_html() and "<table" in html and "GPA" in html and "HC1" in html
    assert s.to_frame()["std_err"].to_numpy() == pytest.approx(m._inference().bse("HC1"))


def test_multinomial_and_firth_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 2))
    y = np.array(["a", "b", "c"])[(X[:, 0] + rng.normal(size=150) > 0).astype(int) + (X[:, 1] > 0.5)]
    text = str(LogisticRegression().fit(X, y).summary(ref_class=1))
    assert "a:x0" in text and "c:Intercept" in text and "reference class 'b'" in text
    yb = (X[:, 0] > 0).astype(int)
    assert "Firth" in str(LogisticRegression(penalty="firth").fit(X, yb).summary())
