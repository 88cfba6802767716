"""Model files (logitfit.io.model_file): bit-identical round trip, every corruption refused clearly.

Oracle: predictions of the loaded model equal the saved model's exactly
(``np.array_equal``, no tolerance); a damaged file raises ModelFileError.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from logitfit.data.columns import Column, Encoder
from logitfit.estimators.loading import load, save
from logitfit.estimators.logistic import LogisticRegression
from logitfit.io.model_file import FORMAT_VERSION, ModelFileError, atomic_write


def _data(K: int = 2, n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 10.0, 0.01]
    z = X @ np.array([[1.0, -0.2, 30.0], [0.5, 0.1, -20.0], [-1, 0, 5]])[:K].T
    if K == 2:
        y = (z[:, 0] + rng.logistic(size=n) > 0).astype(int)
    else:
        y = np.argmax(z + rng.gumbel(size=(n, K)), axis=1)
    return X, y


@pytest.mark.parametrize(
    ("K", "labels"),
    [(2, None), (3, None), (2, np.array(["no", "yes"])), (2, np.array([False, True])),
     (3, np.array([1.0, 2.0, 3.0]))],
)
def test_round_trip_bit_identical(tmp_path, K, labels):
    X, y = _data(K)
    if labels is not None:
        y = labels[y]
    m = LogisticRegression(penalty="l2", alpha=1e-3).fit(X, y)
    path = tmp_path / "m.json"
    save(m, path, metadata={"target": "y", "note": np.float64(0.1)})
    m2 = load(path)
    assert np.array_equal(m.coef_, m2.coef_) and np.array_equal(m.intercept_, m2.intercept_)
    assert np.array_equal(m.predict_proba(X), m2.predict_proba(X))
    assert np.array_equal(m.predict(X), m2.predict(X))
    assert m2.classes_.dtype == m.classes_.dtype
    assert m2.penalty == "l2" and m2.alpha == 1e-3
    assert m2.history_ == m.history_ and m2.n_iter_ == m.n_iter_
    assert m2.metadata_["target"] == "y"


def test_names_encoder_covariance_round_trip(tmp_path):
    X, y = _data()
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    m = LogisticRegression().fit(df, y)
    enc = Encoder("table", tuple(Column(n, "numeric") for n in "abc"), 3)
    cov = np.arange(16.0).reshape(4, 4) / 7
    path = tmp_path / "m.json"
    save(m, path, encoder=enc, covariance=cov, formula="y ~ a + b + c")
    m2 = load(path)
    assert list(m2.feature_names_in_) == ["a", "b", "c"]
    assert np.array_equal(m.predict_proba(df), m2.predict_proba(df))
    assert m2.encoder_ == enc
    assert np.array_equal(m2.covariance_, cov)
    assert m2.formula_ == "y ~ a + b + c"


def test_atomic_write_leaves_no_partial_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write("partial")
        raise RuntimeError("boom")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    X, y = _data()
    m = LogisticRegression().fit(X, y)
    path = tmp_path_factory.mktemp("m") / "model.json"
    save(m, path)
    return path


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.3, 0.5, 0.9, 0.999])
def test_truncated_file_refused(tmp_path, saved, fraction):
    raw = saved.read_bytes()
    p = tmp_path / "t.json"
    p.write_bytes(raw[: int(len(raw) * fraction)])
    with pytest.raises(ModelFileError, match="empty|truncated|not valid JSON"):
        load(p)


def _edit(saved, tmp_path, fn, *, refresh_checksum=True):
    from logitfit.io.model_file import _checksum

    doc = json.loads(saved.read_text())
    fn(doc)
    if refresh_checksum:
        doc["checksum"] = _checksum(doc)
    p = tmp_path / "e.json"
    p.write_text(json.dumps(doc))
    return p


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d.__setitem__("coef", "oops"), "'coef' must be a list"),
        (lambda d: d["coef"][0].__setitem__(0, "1.0"), "string '1.0'"),
        (lambda d: d["coef"][0].pop(), "rows must have 3 entries"),
        (lambda d: d.__setitem__("intercept", [1.0, 2.0]), "'intercept' must have 1"),
        (lambda d: d["classes"].__setitem__("values", [0]), "at least two"),
        (lambda d: d["classes"].__setitem__("values", ["a", "b"]), "do not match dtype"),
        (lambda d: d["params"].__setitem__("alpha", True), "params.alpha"),
        (lambda d: d["params"].__setitem__("evil", "__import__('os')"), "params.evil"),
        (lambda d: d.pop("coef"), "'coef' is missing"),
        (lambda d: d.__setitem__("estimator", "os.system"), "unknown estimator"),
        (lambda d: d.__setitem__("format", "pickle"), "not a logitfit model file"),
        (lambda d: d.__setitem__("encoding", {"kind": "table", "columns": [{"name": 1}]}),
         "encoding"),
    ],
)
def test_wrong_types_refused(tmp_path, saved, edit, words):
    with pytest.raises(ModelFileError, match=words):
        load(_edit(saved, tmp_path, edit))


def test_newer_version_refused(tmp_path, saved):
    p = _edit(saved, tmp_path, lambda d: d.__setitem__("format_version", FORMAT_VERSION + 1))
    with pytest.raises(ModelFileError, match="newer logitfit.*upgrade"):
        load(p)


def test_hand_edit_detected_by_checksum(tmp_path, saved):
    p = _edit(saved, tmp_path, lambda d: d["coef"][0].__setitem__(0, 3.0),
              refresh_checksum=False)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load(p)
    m = load(p, verify=False)  # a deliberate edit can be accepted explicitly
    assert m.coef_[0, 0] == 3.0


def test_byte_flip_and_garbage_refused(tmp_path, saved):
    raw = bytearray(saved.read_bytes())
    i = raw.index(b'"coef"') + 12
    raw[i] = ord("7") if raw[i] != ord("7") else ord("8")
    p = tmp_path / "flip.json"
    p.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError):
        load(p)
    p.write_bytes(b"\x80\x04\x95pickle")
    with pytest.raises(ModelFileError, match="not UTF-8|not valid JSON"):
        load(p)
    with pytest.raises(ModelFileError, match="no such model file"):
        load(tmp_path / "absent.json")


# --------------------------------------------------------------------------
# formula models: no pickle, the encoder rebuilt from formula + levels + state
# --------------------------------------------------------------------------


def _formula_frame(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "a": np.abs(rng.normal(size=n)) + 0.5,
        "b": rng.choice(["u", "v", "w"], n),
        "r": rng.integers(1, 4, n),
        "f": rng.random(n) < 0.4,
    })
    z = np.log(df["a"]) + 0.8 * (df["b"] == "v") - 0.5 * (df["r"] == 3) + 0.3 * df["f"]
    df["y"] = (z + rng.logistic(size=n) > 0.2).astype(int)
    return df


@pytest.mark.parametrize("formula", [
    "y ~ a + C(b)",
    "y ~ np.log(a) + C(b) + C(r) + center(a) + scale(a) + poly(a, 3) + f + b:a",
    "y ~ 0 + b + a:C(r)",
])
def test_formula_model_round_trip_bit_identical(tmp_path, formula):
    df = _formula_frame()
    m = LogisticRegression.from_formula(formula, df)
    path = tmp_path / "f.json"
    m.save(path)
    doc = json.loads(path.read_text())
    assert doc["format_version"] == FORMAT_VERSION and doc["encoding"]["kind"] == "formula"
    assert "pickle" not in path.read_text()
    m2 = load(path)
    assert m2.formula_ == formula and m2.fit_intercept == m.fit_intercept
    new = _formula_frame(150, seed=7)  # new rows, same levels
    assert np.array_equal(m.predict_proba(new), m2.predict_proba(new))
    assert np.array_equal(m.predict_proba(df), m2.predict_proba(df))
    bad = new.assign(b=["zz"] + list(new["b"][1:]))
    with pytest.raises(ValueError, match="zz"):
        m2.predict_proba(bad)


def test_dataframe_categorical_model_round_trip(tmp_path):
    df = _formula_frame()
    X = df[["a", "b", "r"]]
    m = LogisticRegression().fit(X, df["y"])  # string column: coded by FormulaEncoder.for_frame
    m.save(tmp_path / "d.json")
    m2 = load(tmp_path / "d.json")
    assert np.array_equal(m.predict_proba(X), m2.predict_proba(X))


def test_every_model_is_written_as_the_current_format(saved):
    assert json.loads(saved.read_text())["format_version"] == FORMAT_VERSION == 3


def test_formula_encoding_edits_refused(tmp_path):
    df = _formula_frame()
    path = tmp_path / "f.json"
    LogisticRegression.from_formula("y ~ a + C(b)", df).save(path)

    def drop_level(d):
        d["encoding"]["variables"]["b"]["levels"] = ["u", "v"]

    with pytest.raises(ModelFileError, match="encoding"):
        load(_edit(path, tmp_path, drop_level))

    def bad_state(d):
        d["encoding"]["transform_state"] = {"dict": [["x", {"object": 1}]]}

    with pytest.raises(ModelFileError, match="encoding"):
        load(_edit(path, tmp_path, bad_state))


def test_load_model_same_state_without_estimator_imports(saved):
    import subprocess
    import sys

    from logitfit.io.model_file import load_model
    from logitfit.model.fitted import FittedModel

    m, s = load(saved), load_model(saved)
    assert isinstance(s, FittedModel)
    assert np.array_equal(m.coef_, s.coef) and np.array_equal(m.intercept_, s.intercept)
    assert np.array_equal(m.classes_, s.classes) and m.get_params()["alpha"] == s.params["alpha"]
    X, _ = _data()
    assert np.array_equal(m.predict_proba(X), s.predict_proba(X))
    assert np.array_equal(m.predict(X), s.predict(X))
    # what keeps `logitfit predict` small: reading a model file imports no scikit-learn
    code = ("import sys, numpy as np; from logitfit.io.model_file import load_model; "
            f"m = load_model({str(saved)!r}); m.predict_proba(np.zeros((2, 3))); "
            "print('sklearn' in sys.modules or 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert out.stdout.strip() == b"False"
