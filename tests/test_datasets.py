"""The shipped data sets: shapes, types, and the published Spector-Mazzeo logit."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pandas")

from logitfit import LogisticRegression, datasets  # noqa: E402

# Greene, Econometric Analysis, logit on the Spector-Mazzeo data (GPA, TUCE, PSI, intercept)
SPECTOR_COEF = [2.82611, 0.09516, 2.37869, -13.02135]


def test_spector_reproduces_the_published_logit():
    d = datasets.load_spector()
    assert d.shape == (32, 4) and list(d.columns) == ["GPA", "TUCE", "PSI", "GRADE"]
    assert [str(t) for t in d.dtypes] == ["float64", "int64", "int64", "int64"]
    m = LogisticRegression(tol=1e-10).fit(d[["GPA", "TUCE", "PSI"]], d["GRADE"])
    np.testing.assert_allclose([*m.coef_[0], m.intercept_[0]], SPECTOR_COEF, atol=1e-5)


def test_exams_has_the_course_shape():
    d = datasets.load_exams()
    assert d.shape == (100, 3) and list(d.columns) == ["exam1", "exam2", "admitted"]
    assert d["exam1"].between(30, 100).all() and d["exam2"].between(30, 100).all()
    assert set(d["admitted"]) == {0, 1}


def test_unknown_name_is_refused():
    with pytest.raises(ValueError, match="no data set 'iris'"):
        datasets.path("iris")
