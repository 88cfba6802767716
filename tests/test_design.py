"""Input validation (logitfit.data.validation): every bad input gets a clear error, nothing silent.

Oracle: the message itself. Each test asserts that the error names what is
wrong and where (column by name when there are names, the first offending
row), because a user must be able to find the bad cell from the message alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
import scipy.sparse as sp

from logitfit import LogisticRegression
from logitfit.data.validation import (
    check_finite,
    check_non_numeric_columns,
    check_sample_weight,
    encode_labels,
)


def good_data(n: int = 20):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 3))
    y = np.tile([0, 1], n // 2)
    return X, y


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_names_column_and_first_row(bad):
    X, y = good_data()
    X[7, 2] = bad
    X[11, 2] = bad
    kind = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(ValueError, match=rf"{kind} in column 2, first at row 7"):
        LogisticRegression().fit(X, y)


def test_non_finite_dataframe_names_the_column_by_name():
    X, y = good_data()
    df = pd.DataFrame(X, columns=["age", "income", "score"])
    df.loc[4, "income"] = np.nan
    with pytest.raises(ValueError, match=r"NaN in column 'income' \(index 1\), first at row 4"):
        LogisticRegression().fit(df, y)


def test_non_finite_sparse_names_column_and_row():
    X, y = good_data()
    X[X < 0.5] = 0.0
    X[9, 1] = np.inf
    with pytest.raises(ValueError, match=r"infinity in column 1, first at row 9"):
        LogisticRegression().fit(sp.csr_matrix(X), y)


def test_non_finite_at_predict_time_is_named_too():
    X, y = good_data()
    est = LogisticRegression().fit(X, y)
    X[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"NaN in column 0, first at row 3"):
        est.predict(X)


def test_check_finite_passes_clean_data_and_empty():
    check_finite(np.ones((3, 2)))
    check_finite(np.ones((0, 2)))
    check_finite(sp.csr_matrix((3, 2)))


@pytest.mark.parametrize("missing", [np.nan, None])
def test_missing_label_is_named(missing):
    X, _ = good_data()
    y = np.array(["a", "b"] * 10, dtype=object)
    y[5] = missing
    if missing is not None:
        y = np.tile([0.0, 1.0], 10)
        y[5] = np.nan
    with pytest.raises(ValueError, match=r"y contains NaN.*row 5"):
        LogisticRegression().fit(X, y)


def test_one_class_only():
    X, _ = good_data()
    with pytest.raises(ValueError, match=r"one class only \('yes'\)"):
        LogisticRegression().fit(X, ["yes"] * 20)


def test_continuous_target_is_refused():
    X, _ = good_data()
    with pytest.raises(ValueError, match="continuous"):
        LogisticRegression().fit(X, np.linspace(0, 1, 20))


def test_length_mismatch():
    X, y = good_data()
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples|20 rows but y has 19"):
        LogisticRegression().fit(X, y[:-1])


def test_negative_sample_weight_names_row():
    X, y = good_data()
    sw = np.ones(20)
    sw[6] = -0.5
    with pytest.raises(ValueError, match=r"negative values, first at row 6 \(-0.5\)"):
        LogisticRegression().fit(X, y, sample_weight=sw)


def test_all_zero_sample_weight():
    X, y = good_data()
    with pytest.raises(ValueError, match="zero for every row"):
        LogisticRegression().fit(X, y, sample_weight=np.zeros(20))


def test_sample_weight_shape_and_finiteness():
    with pytest.raises(ValueError, match=r"shape \(3,\) but X has 4 rows"):
        check_sample_weight(np.ones(3), 4)
    with pytest.raises(ValueError, match=r"non-finite value \(nan\) at row 1"):
        check_sample_weight(np.array([1.0, np.nan]), 2)
    np.testing.assert_array_equal(check_sample_weight(2.0, 3), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(check_sample_weight(None, 2), [1.0, 1.0])


def test_empty_X():
    with pytest.raises(ValueError, match=r"0 sample|empty|no rows"):
        LogisticRegression().fit(np.empty((0, 3)), np.empty(0))


def test_non_numeric_pandas_columns_are_named():
    X, y = good_data()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["city"] = ["x"] * 20
    df["when"] = pd.Timestamp("2020-01-01")
    with pytest.raises(ValueError, match=r"non-numeric columns: 'city' \(.*\), 'when' \(.*\)"):
        check_non_numeric_columns(df)


def test_non_numeric_polars_columns_are_named():
    X, y = good_data()
    df = pl.DataFrame({"a": X[:, 0], "name": ["x"] * 20})
    with pytest.raises(ValueError, match=r"non-numeric columns: 'name' \(String\)"):
        check_non_numeric_columns(df)


def test_numeric_and_bool_frames_pass():
    X, _ = good_data()
    check_non_numeric_columns(pd.DataFrame({"a": X[:, 0], "b": X[:, 1] > 0, "c": np.arange(20)}))
    check_non_numeric_columns(pl.DataFrame({"a": X[:, 0], "b": X[:, 1] > 0}))


def test_labels_encode_to_sorted_classes():
    classes, idx = encode_labels(np.array(["b", "a", "b", "c"]))
    np.testing.assert_array_equal(classes, ["a", "b", "c"])
    np.testing.assert_array_equal(idx, [1, 0, 1, 2])
    assert idx.dtype == np.intp
    classes, idx = encode_labels([True, False, True])
    np.testing.assert_array_equal(classes, [False, True])
    assert idx.dtype == np.float64  # two classes: the binary model's 0/1 targets


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"penalty": "l3"}, "penalty must be"),
        ({"solver": "bfgs"}, "solver must be one of"),
        ({"alpha": -1.0}, "alpha must be a finite number >= 0"),
        ({"alpha": np.inf}, "alpha must be a finite number >= 0"),
        ({"tol": 0.0}, "tol must be > 0"),
        ({"max_iter": -1}, "max_iter must be >= 0"),
    ],
)
def test_bad_parameters_are_refused_at_fit(params, match):
    X, y = good_data()
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**params).fit(X, y)


def test_y_none_is_refused():
    X, _ = good_data()
    with pytest.raises(ValueError, match="requires y"):
        LogisticRegression().fit(X, None)


def test_huge_finite_values_pass_without_warnings():
    """Entries near 1.8e308 are finite: their sum overflows, which must neither warn nor fail."""
    import warnings

    X = np.full((4, 2), 1.5e308)  # the sum of all entries overflows to inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_finite(X)
        check_finite(sp.csr_matrix(X))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN in column 1, first at row 2"):
        check_finite(X)
