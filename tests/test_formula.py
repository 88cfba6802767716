"""Formulas and categorical columns (logitfit.data.formula).

Oracle: statsmodels' formula API (patsy coding) on the UCLA admissions data
(published with the UCLA "Logit regression" page; skipped when ../shared is
absent) and on generated data with string columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from logitfit import LogisticRegression

UCLA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ucla-admissions" / "binary.csv"

#: Agreement with statsmodels (issue 8).
RTOL_SM = 1e-6


def test_ucla_formula_matches_statsmodels():
    if not UCLA.is_file():
        pytest.skip(f"published data {UCLA} is absent (../shared/data is not checked out here)")
    data = pd.read_csv(UCLA)
    m = LogisticRegression.from_formula("admit ~ gre + gpa + C(rank)", data, tol=1e-11)
    r = smf.logit("admit ~ gre + gpa + C(rank)", data).fit(disp=0, method="newton", tol=1e-14)
    frame = m.summary().to_frame()
    order = ["gre", "gpa", "C(rank)[T.2]", "C(rank)[T.3]", "C(rank)[T.4]", "Intercept"]
    assert list(frame.index) == order
    theirs = r.params.reindex(order)
    np.testing.assert_allclose(frame["coef"], theirs, rtol=RTOL_SM)
    np.testing.assert_allclose(frame["std_err"], r.bse.reindex(order), rtol=RTOL_SM)
    np.testing.assert_allclose(m.predict_proba(data)[:, 1], r.predict(data), rtol=RTOL_SM)


def _frame(seed=0, n=200):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "city": rng.choice(["Oslo", "Lima", "Pune"], n),
                       "grade": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"])})
    z = df["x"] + (df["city"] == "Lima") - 0.5 * (df["grade"] == "hi")
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return df


def test_categorical_columns_are_treatment_coded_with_named_levels():
    df = _frame()
    X = df[["x", "city", "grade"]]
    m = LogisticRegression(tol=1e-11).fit(X, df["y"])
    r = smf.logit("y ~ x + C(city) + C(grade)", df).fit(disp=0, method="newton", tol=1e-14)
    names = list(m.summary().to_frame().index)
    # one naming rule: a string column is coded `city[T.level]`; `C(city)` only when written
    assert "city[T.Oslo]" in names and "grade[T.mid]" in names and names[-1] == "Intercept"
    np.testing.assert_allclose(m.llf_, r.llf, rtol=RTOL_SM)
    np.testing.assert_allclose(m.predict_proba(X)[:, 1], r.predict(df), rtol=RTOL_SM)


def test_unseen_level_is_a_clear_error():
    df = _frame()
    m = LogisticRegression.from_formula("y ~ x + city", df)
    new = df.head(3).copy()
    new.loc[new.index[0], "city"] = "Quito"
    with pytest.raises(ValueError, match="row 1, column 'city'.*Quito"):
        m.predict(new)
    with pytest.raises(ValueError, match="missing column"):
        m.predict(df[["x"]])
    assert m.predict(df.head(5)).shape == (5,)
