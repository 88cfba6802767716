"""Model files (logitfit.io.model_file): bit-identical round trip, every corruption refused clearly.

Oracle: predictions of the loaded model equal the saved model's exactly
(``np.array_equal``, no tolerance); a damaged file raises ModelFileError.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from logitfit.data.columns import Column, Encoder
from logitfit.estimators.loading import load, save
from logitfit.estimators.logistic import LogisticRegression
from logitfit.io.model_file import (
    FORMAT_VERSION,
    PLAIN_FORMAT_VERSION,
    ModelFileError,
    atomic_write,
)


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
    assert doc["format_version"] == PLAIN_FORMAT_VERSION and doc["encoding"]["kind"] == "formula"
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


def test_a_plain_model_is_written_as_version_3_for_older_readers(saved):
    # version 4 is kept for files a version-3 reader would misread (offsets, grouped data)
    assert json.loads(saved.read_text())["format_version"] == PLAIN_FORMAT_VERSION == 3
    assert FORMAT_VERSION == 4


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


# --------------------------------------------------------------------------
# format 3: every parameter, summary after load, signing, hostile fields, old files
# --------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

P = 3  # features of _data()
_finite = st.floats(-1e6, 1e6, allow_nan=False)
_vector = st.lists(st.floats(0.0, 10.0), min_size=P, max_size=P)
_bound = st.one_of(st.none(), st.floats(-10.0, 0.0), st.just(-np.inf),
                   st.lists(st.sampled_from([-np.inf, -1.0, -0.5, 0.0]), min_size=P, max_size=P))
PARAMS = st.fixed_dictionaries({
    "penalty": st.sampled_from([None, "none", "l2", "l1", "elasticnet", "firth"]),
    "alpha": st.one_of(st.floats(0.0, 1e3), st.integers(0, 100)),
    "fit_intercept": st.booleans(),
    "solver": st.sampled_from(["auto", "newton", "newton-cg", "lbfgs", "gd", "sgd", "cd", "prox"]),
    "tol": st.floats(1e-12, 1.0),
    "max_iter": st.one_of(st.none(), st.integers(0, 10_000)),
    "class_weight": st.one_of(st.none(), st.just("balanced"),
                              st.dictionaries(st.sampled_from([0, 1]), st.floats(0.1, 10.0))),
    "warm_start": st.booleans(),
    "random_state": st.one_of(st.none(), st.integers(0, 2**31)),
    "verbose": st.integers(0, 3),
    "learning_rate": st.one_of(st.none(), st.floats(1e-6, 10.0)),
    "batch_size": st.integers(1, 4096),
    "sgd_method": st.sampled_from(["adam", "momentum"]),
    "n_threads": st.one_of(st.none(), st.integers(1, 64)),
    "dtype": st.sampled_from([None, np.float32, np.float64]),
    "l1_ratio": st.floats(0.0, 1.0),
    "penalty_factor": st.one_of(st.none(), _vector, _vector.map(np.asarray)),
    "grouped": st.booleans(),
    "lower_bounds": _bound,
    "upper_bounds": st.one_of(st.none(), st.floats(0.0, 10.0), st.just(np.inf),
                              st.lists(st.sampled_from([np.inf, 1.0, 0.0]), min_size=P,
                                       max_size=P).map(np.asarray)),
})


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple, np.ndarray)) or isinstance(b, (list, tuple, np.ndarray)):
        return type(a) is type(b) and np.array_equal(a, b)
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b if not isinstance(a, type) else np.dtype(a) == b


@pytest.fixture(scope="module")
def fitted_binary():
    X, y = _data()
    return LogisticRegression().fit(X, y), X


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=PARAMS)
def test_every_parameter_round_trips(tmp_path, fitted_binary, params):
    m, X = fitted_binary
    m.set_params(**params)
    path = tmp_path / "p.json"
    m.save(path)
    m2 = load(path)
    before, after = m.get_params(deep=False), m2.get_params(deep=False)
    assert before.keys() == after.keys()
    for k in before:
        assert _same(before[k], after[k]), (k, before[k], after[k])
    assert np.array_equal(m.predict_proba(X), m2.predict_proba(X))


def test_callback_is_not_stored(tmp_path):
    X, y = _data()
    m = LogisticRegression(callback=lambda *a: False).fit(X, y)
    m.save(tmp_path / "c.json")
    assert load(tmp_path / "c.json").callback is None


@pytest.mark.parametrize(("K", "params"), [(2, {}), (2, {"penalty": "l2", "alpha": 1e-2}),
                                           (3, {}), (2, {"penalty": "firth"})])
def test_summary_after_load_equals_before_save(tmp_path, K, params):
    X, y = _data(K)
    df = pd.DataFrame(X, columns=["age", "income", "rate"])
    m = LogisticRegression(**params).fit(df, y)
    path = tmp_path / "s.json"
    m.save(path)
    m2 = load(path)
    assert str(m2.summary()) == str(m.summary())
    assert np.array_equal(m2.bse_, m.bse_) and m2.aic_ == m.aic_
    assert np.array_equal(m2.conf_int(), m.conf_int())
    with pytest.raises(ValueError, match="loaded from a file"):
        m2.summary(cov_type="HC1")


def test_summary_after_load_of_a_formula_model(tmp_path):
    m = LogisticRegression.from_formula("y ~ a + C(b)", _formula_frame())
    m.save(tmp_path / "f.json")
    assert str(load(tmp_path / "f.json").summary()) == str(m.summary())


def test_signed_file_round_trip(tmp_path, saved):
    X, y = _data()
    m = LogisticRegression().fit(X, y)
    path = tmp_path / "signed.json"
    m.save(path, key=b"secret key")
    assert json.loads(path.read_text())["signature"]["algorithm"] == "HMAC-SHA256"
    m2 = load(path, key=b"secret key")
    assert np.array_equal(m2.predict_proba(X), m.predict_proba(X))
    assert load(path).model_file_["signed"] is True  # no key: loads as before
    with pytest.raises(ModelFileError, match="signature does not match"):
        load(path, key=b"another key")
    with pytest.raises(ModelFileError, match="not signed"):
        load(saved, key=b"secret key")
    # a tamperer who recomputes the checksum cannot recompute the signature
    tampered = _edit(path, tmp_path, lambda d: d["coef"][0].__setitem__(0, 9.0))
    assert load(tampered).coef_[0, 0] == 9.0  # the checksum alone does not notice
    with pytest.raises(ModelFileError, match="signature does not match"):
        load(tampered, key=b"secret key")
    stripped = _edit(path, tmp_path, lambda d: d.pop("signature"))
    with pytest.raises(ModelFileError, match="not signed"):
        load(stripped, key=b"secret key")
    with pytest.raises(ValueError, match="non-empty"):
        m.save(tmp_path / "k.json", key=b"")


def test_load_model_verifies_the_signature_without_the_estimator(tmp_path):
    from logitfit.io.model_file import load_model, save_model

    X, y = _data()
    fitted = LogisticRegression().fit(X, y).to_fitted()
    save_model(fitted, tmp_path / "m.json", key="text keys are UTF-8")
    assert load_model(tmp_path / "m.json", key="text keys are UTF-8").source["signed"]
    with pytest.raises(ModelFileError, match="signature"):
        load_model(tmp_path / "m.json", key="wrong")


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d.__setitem__("covariance", [[1.0, 0.0], [0.0, 1.0]]), "'covariance' must have 4 rows"),
        (lambda d: d["covariance"][0].pop(), "'covariance' rows must have 4"),
        (lambda d: d["covariance"][1].__setitem__(1, "NaN"), "'covariance' must hold finite"),
        (lambda d: d["classes"].__setitem__("dtype", "S999999999"), "'classes.dtype'"),
        (lambda d: d["classes"].__setitem__("dtype", "<U1"), "'classes.values'"),
        (lambda d: d["classes"].__setitem__("values", [0, 2**70]), "'classes.values'"),
        (lambda d: d["fit"].__setitem__("history", {"objective": [1.0, "x"]}), "fit.history"),
        (lambda d: d["fit"].__setitem__("history", {"objective": {"a": 1}}), "fit.history"),
        (lambda d: d["fit"].__setitem__("n_iter", -1), "fit.n_iter"),
        (lambda d: d["statistics"].__setitem__("nobs", -1.0), "statistics"),
        (lambda d: d["params"].__setitem__("penalty_factor", {"list": [1.0, 2.0]}),
         "params.penalty_factor"),
        (lambda d: d["params"].__setitem__("penalty_factor", {"ndarray": [1], "dtype": "O",
                                                              "shape": [1]}), "params.penalty_factor"),
        (lambda d: d["params"].__setitem__("grouped", "yes"), "params.grouped"),
        (lambda d: d["params"].__setitem__("dtype", {"numpy_dtype": "S99999"}), "params.dtype"),
        (lambda d: d["params"].__setitem__("fit_intercept", [1]), "fit_intercept"),
    ],
)
def test_hostile_fields_refused_naming_the_field(tmp_path, saved, edit, words):
    with pytest.raises(ModelFileError, match=words):
        load(_edit(saved, tmp_path, edit))


def test_python_save_stores_the_covariance(saved):
    doc = json.loads(saved.read_text())
    assert len(doc["covariance"]) == 4 and set(doc["statistics"]) == {"nobs", "llf", "llnull"}


OLD_FILES = Path(__file__).parent / "data"


def test_version_1_and_2_files_still_load():
    """Files written by logitfit before format 3 (tests/data, written by the format-2 code)."""
    m1 = load(OLD_FILES / "model_v1_plain.json")
    assert m1.model_file_["format_version"] == 1 and m1.covariance_ is None
    assert m1.predict_proba(np.array([[-1.0], [0.0], [2.5]])).tolist() == [
        [0.6732352504968435, 0.3267647495031564], [0.4332399035012936, 0.5667600964987064],
        [0.06023413710211349, 0.9397658628978864]]
    m2 = load(OLD_FILES / "model_v2_formula.json")
    assert m2.model_file_["format_version"] == 2 and m2.penalty == "l2" and m2.alpha == 0.01
    assert m2.class_weight == {"0": 1.0, "1": 2.0}  # JSON keys of format 2 were strings
    new = pd.DataFrame({"a": [-1.0, 0.0, 2.5], "b": ["u", "w", "v"]})
    assert m2.predict_proba(new).tolist() == [
        [0.5579829998210442, 0.44201700017895595], [0.39138980783349553, 0.6086101921665045],
        [0.01687848806852065, 0.9831215119314793]]
    with pytest.raises(ValueError, match="loaded from a file"):
        m2.summary()
