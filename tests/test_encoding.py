"""The encoder protocol (logitfit.data.encoding): one naming rule and one set of checks.

Oracles: the names formulaic gives a formula on the same data; scikit-learn's
compute_class_weight; the design matrix worked out by hand.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from logitfit.data.columns import ColumnEncoder
from logitfit.data.encoding import TableEncoder, encoder_from_dict
from logitfit.data.formula import FormulaEncoder
from logitfit.data.validation import check_two_classes, class_multipliers
from logitfit.estimators.cv import LogisticRegressionCV
from logitfit.estimators.logistic import LogisticRegression
from logitfit.exceptions import DataError

NAMES = ["x", "city[T.Oslo]", "city[T.Pune]"]


def _frame(n=240, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "city": rng.choice(["Lima", "Oslo", "Pune"], n)})
    z = df["x"] + (df["city"] == "Oslo") - 0.7 * (df["city"] == "Pune")
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return df


def test_one_naming_rule_dataframe_formula_and_command_line(tmp_path):
    df = _frame()
    from_frame = LogisticRegression().fit(df[["x", "city"]], df["y"])
    from_formula = LogisticRegression.from_formula("y ~ x + city", df)
    df.to_csv(tmp_path / "d.csv", index=False)
    cli_encoder = ColumnEncoder.fit(pacsv.read_csv(tmp_path / "d.csv"), ["x", "city"])
    assert list(from_frame.feature_names_in_) == NAMES
    assert list(from_formula.feature_names_in_) == NAMES
    assert cli_encoder.feature_names == NAMES
    # the same design matrix, so the same fit
    np.testing.assert_allclose(from_frame.coef_, from_formula.coef_, rtol=1e-10)
    # C(city) is named as the user wrote it
    written = LogisticRegression.from_formula("y ~ x + C(city)", df)
    assert list(written.feature_names_in_) == ["x", "C(city)[T.Oslo]", "C(city)[T.Pune]"]


def test_command_line_fit_names_string_columns_the_same(tmp_path):
    from logitfit.cli.app import main

    df = _frame()
    df.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(SystemExit) as done:
        main(["fit", str(tmp_path / "d.csv"), "-t", "y", "-o", str(tmp_path / "m.json"), "-q"])
    assert done.value.code == 0
    doc = json.loads((tmp_path / "m.json").read_text())
    assert encoder_from_dict(doc["encoding"]).feature_names == NAMES


def test_categorical_dtype_keeps_its_declared_order_in_frame_and_formula():
    df = _frame()
    df["city"] = pd.Categorical(df["city"], categories=["Pune", "Lima", "Oslo"])
    a = LogisticRegression().fit(df[["x", "city"]], df["y"])
    b = LogisticRegression.from_formula("y ~ x + city", df)
    assert list(a.feature_names_in_) == list(b.feature_names_in_) == \
        ["x", "city[T.Lima]", "city[T.Oslo]"]
    np.testing.assert_allclose(a.predict_proba(df), b.predict_proba(df), rtol=1e-9)


def test_cv_accepts_a_string_column_like_logistic_regression():
    df = _frame()
    X = df[["x", "city"]]
    cv = LogisticRegressionCV(n_alphas=5, cv=3, n_jobs=1).fit(X, df["y"])
    assert list(cv.feature_names_in_) == list(LogisticRegression().fit(X, df["y"]).feature_names_in_)
    design = ColumnEncoder.fit(X).transform(X)
    z = design @ cv.coef_[0] + cv.intercept_[0]
    np.testing.assert_allclose(cv.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    with pytest.raises(ValueError, match="'Quito'"):
        cv.predict(X.assign(city="Quito"))


def test_design_matrix_by_hand():
    t = pa.table({"x": [1.5, 2.0, -1.0], "c": ["b", "a", "c"]})
    enc = ColumnEncoder.fit(t)
    np.testing.assert_array_equal(enc.transform(t), [[1.5, 1, 0], [2.0, 0, 0], [-1.0, 0, 1]])
    assert enc.transform(t).flags.c_contiguous


@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e400])
def test_non_finite_input_names_file_row_and_column(bad):
    df = _frame(30)
    m = LogisticRegression().fit(df[["x", "city"]], df["y"])
    new = df[["x", "city"]].copy()
    new.loc[4, "x"] = bad
    with pytest.raises(DataError, match=r"row 5, column 'x'"):
        m.predict_proba(new)
    t = pa.Table.from_pandas(new, preserve_index=False)
    with pytest.raises(DataError, match=r"^new\.csv, row 105, column 'x'"):
        m.encoder_.transform(t, path="new.csv", row_offset=100)
    f = LogisticRegression.from_formula("y ~ x + city", df)
    with pytest.raises(DataError, match=r"row 5, column 'x'"):
        f.predict_proba(new)


def test_formula_transform_that_leaves_the_reals_is_an_error():
    df = _frame(60)
    df["a"] = np.abs(df["x"]) + 0.5
    m = LogisticRegression.from_formula("y ~ np.log(a) + city", df)
    with pytest.raises(DataError, match=r"row 2, column 'np.log\(a\)'"):
        m.predict(df.assign(a=[1.0, 0.0] + [1.0] * 58))


def test_unseen_level_reads_the_same_from_both_encoders():
    df = _frame(60)
    plain = ColumnEncoder.fit(df[["x", "city"]])
    formula = FormulaEncoder("x + city", df)
    bad = df.assign(city=["Oslo", "Quito"] + ["Lima"] * 58)
    messages = []
    for enc in (plain, formula):
        with pytest.raises(DataError) as err:
            enc.transform(bad, path="f.csv")
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith("f.csv, row 2, column 'city': level 'Quito' was not seen")


@pytest.mark.parametrize("make", [
    lambda df: ColumnEncoder.fit(df[["x", "city"]]),
    lambda df: FormulaEncoder("x + C(city) + center(x)", df, target="y"),
    lambda df: ColumnEncoder.libsvm(7, True),
])
def test_protocol_and_model_file_round_trip(make):
    df = _frame(50)
    enc = make(df)
    assert isinstance(enc, TableEncoder)
    back = encoder_from_dict(json.loads(json.dumps(enc.to_dict())))
    assert type(back) is type(enc) and back.feature_names == enc.feature_names
    assert back.input_columns == enc.input_columns and back.n_features == enc.n_features
    if enc.kind != "libsvm":
        assert np.array_equal(back.transform(df), enc.transform(df))
        assert set(back.column_types()) == set(enc.input_columns)


def test_class_multipliers_equal_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight

    rng = np.random.default_rng(3)
    y = rng.choice(np.array(["a", "b", "c"]), 50)
    sw = rng.random(50)
    classes, idx = np.unique(y, return_inverse=True)
    counts = np.bincount(idx, weights=sw)
    np.testing.assert_allclose(class_multipliers("balanced", classes, counts),
                               compute_class_weight("balanced", classes=classes, y=y,
                                                    sample_weight=sw), rtol=1e-15)
    np.testing.assert_array_equal(class_multipliers({"b": 3.0}, classes, counts), [1, 3, 1])
    assert class_multipliers(None, classes, counts) is None
    with pytest.raises(ValueError, match="'z'"):
        class_multipliers({"z": 2.0}, classes, counts)


def test_one_class_message():
    with pytest.raises(ValueError, match=r"^y has one class only \('yes'\)"):
        check_two_classes(np.array(["yes"]))
    with pytest.raises(ValueError, match="one class only"):
        LogisticRegressionCV(cv=2).fit(np.ones((4, 1)), [1, 1, 1, 1])


def test_design_larger_than_memory_is_refused_with_the_figure(monkeypatch):
    """The encoder estimates the dense design before allocating it and names the file."""
    import pyarrow as pa

    from logitfit import _memory
    from logitfit.data.columns import ColumnEncoder
    from logitfit.exceptions import DataError

    table = pa.table({"a": [1.0, 2.0, 3.0], "b": [0.5, 0.1, 0.2]})
    enc = ColumnEncoder.fit(table, ["a", "b"], path="t.csv")
    monkeypatch.setattr(_memory, "available_memory", lambda: (16, 1 << 30))
    with pytest.raises(DataError, match=r"t\.csv.*design matrix needs 48 bytes"):
        enc.transform(table, path="t.csv")
