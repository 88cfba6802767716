"""The ``logitfit`` command end to end: subprocesses on real files in every format.

Oracles: predictions written by ``logitfit predict`` equal the loaded model's
``predict_proba`` exactly (Parquet output) or to the last printed digit (CSV);
``evaluate --json`` equals scikit-learn's metrics on the same probabilities;
every user error exits with status 2, names file/row/column, and leaves no
output file behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pc
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from logitfit import load
from logitfit.cli.example import example_table

CSV_TOL = 1e-15  # pyarrow writes doubles with enough digits to round-trip


def run(*args: str, stdin: bytes | None = None, env: dict | None = None, ok: bool = True):
    proc = subprocess.run(
        [sys.executable, "-m", "logitfit", *map(str, args)],
        input=stdin, capture_output=True, timeout=120,
        env={**os.environ, **(env or {})},
    )
    if ok and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stderr.decode()}")
    return proc


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    t = example_table(600, seed=3)
    t = t.append_column("id", pa.array([f"r{i:04d}" for i in range(t.num_rows)]))
    pc.write_csv(t, d / "train.csv")
    return d


@pytest.fixture(scope="module")
def fitted(data_dir):
    out = data_dir / "model.json"
    proc = run("fit", data_dir / "train.csv", "--target", "y", "--features",
               "income,age,region,score", "--holdout", "0.2", "--seed", "0", "-o", out, "--json")
    return out, json.loads(proc.stdout)


def _proba(model_path, table):
    m = load(model_path)
    X = m.encoder_.transform(table)
    import pandas as pd

    names = getattr(m, "feature_names_in_", None)
    # the same layout as the command uses: BLAS may round differently for F-order input
    return m.predict_proba(pd.DataFrame(X, columns=list(names), copy=False)
                           if names is not None else X)


def test_fit_json_and_model_file(fitted):
    path, out = fitted
    assert out["converged"] and out["n_holdout"] == 120 and out["n_train"] == 480
    assert {"accuracy", "roc_auc", "log_loss"} <= set(out["holdout_metrics"])
    terms = [r["term"] for r in out["coefficients"]]
    assert terms == ["income", "age", "region[T.north]", "region[T.south]", "region[T.west]",
                     "score", "Intercept"]
    m = load(path)
    assert m.encoder_.columns[2].levels == ("east", "north", "south", "west")
    assert m.metadata_["target"] == "y" and m.metadata_["n_holdout"] == 120


def test_fit_prints_table_and_metrics(data_dir):
    proc = run("fit", data_dir / "train.csv", "-t", "y", "--features", "age,score,region",
               "--holdout", "0.25", "--penalty", "l2", "--alpha", "0.01",
               "--class-weight", "balanced", env={"LOGITFIT_PROGRESS_AFTER": "0"})
    text = proc.stdout.decode()
    assert "region[T.west]" in text and "held-out metrics (150 rows)" in text
    assert "roc_auc" in text
    assert "iteration" in proc.stderr.decode()  # live progress (forced on with delay 0)
    quiet = run("fit", data_dir / "train.csv", "-t", "y", "--quiet", "--features", "age,score")
    assert quiet.stdout == b""


def test_predict_proba_keep_parquet_exact(tmp_path, data_dir, fitted):
    path, _ = fitted
    out = tmp_path / "scores.parquet"
    run("predict", path, data_dir / "train.csv", "-o", out, "--proba", "--keep", "id",
        "--batch-rows", "100")
    got = pq.read_table(out)
    assert got.column_names == ["id", "proba_0", "proba_1"]
    table = pc.read_csv(data_dir / "train.csv")
    expected = _proba(path, table)
    assert np.array_equal(np.column_stack([got["proba_0"], got["proba_1"]]), expected)
    assert got["id"].to_pylist() == table["id"].to_pylist()


def test_predict_labels_threshold_csv(tmp_path, data_dir, fitted):
    path, _ = fitted
    out = tmp_path / "labels.csv"
    run("predict", path, data_dir / "train.csv", "-o", out, "--threshold", "0.3")
    got = pc.read_csv(out)
    assert got.column_names == ["prediction"]
    p1 = _proba(path, pc.read_csv(data_dir / "train.csv"))[:, 1]
    np.testing.assert_array_equal(got["prediction"].to_numpy(), (p1 > 0.3).astype(int))


def _write(t: pa.Table, path, fmt):
    if fmt in ("csv", "tsv", "csv.gz", "csv.zst"):
        codec = {"csv.gz": "gzip", "csv.zst": "zstd"}.get(fmt)
        with pa.output_stream(str(path), compression=codec) as f:
            pc.write_csv(t, f, write_options=pc.WriteOptions(delimiter="\t" if fmt == "tsv"
                                                             else ","))
    elif fmt == "parquet":
        pq.write_table(t, path, row_group_size=100)
    elif fmt == "parquet-dir":
        path.mkdir()
        pq.write_table(t.slice(0, 250), path / "a.parquet")
        pq.write_table(t.slice(250), path / "b.parquet")
    else:
        feather.write_feather(t, path)


SLOW = pytest.mark.slow  # each format is also read in-process by test_io.py


@pytest.mark.parametrize("fmt", [pytest.param("tsv", marks=SLOW), pytest.param("csv.gz", marks=SLOW),
                                 "csv.zst", pytest.param("parquet", marks=SLOW), "parquet-dir",
                                 pytest.param("feather", marks=SLOW)])
def test_every_format_fit_predict(tmp_path, fmt):
    t = example_table(400, seed=5)
    ext = {"parquet-dir": "pq_dir"}.get(fmt, fmt)
    data = tmp_path / f"d.{ext}"
    _write(t, data, fmt)
    model = tmp_path / "m.json"
    run("fit", data, "-t", "y", "-o", model, "-q")
    out = tmp_path / "p.parquet"
    run("predict", model, data, "-o", out, "--proba")
    got = pq.read_table(out)
    assert np.array_equal(np.column_stack([got["proba_0"], got["proba_1"]]), _proba(model, t))


def test_libsvm_fit_predict_evaluate(tmp_path):
    data = tmp_path / "d.libsvm"
    run("generate", data, "--rows", "300", "--seed", "2")
    model = tmp_path / "m.json"
    run("fit", data, "-o", model, "-q")
    m = load(model)
    assert m.encoder_.kind == "libsvm" and m.feature_names_ == ["x1", "x2", "x3"]
    out = tmp_path / "p.csv"
    run("predict", model, data, "-o", out, "--proba")
    assert pc.read_csv(out).num_rows == 300
    ev = json.loads(run("evaluate", model, data, "--json").stdout)
    assert ev["n"] == 300


def test_stdin_csv(tmp_path, data_dir, fitted):
    raw = (data_dir / "train.csv").read_bytes()
    model = tmp_path / "m.json"
    run("fit", "-", "-t", "y", "--features", "age,score", "-o", model, "-q", stdin=raw)
    proc = run("predict", model, "-", "-o", "-", "--proba", stdin=raw)
    assert proc.stdout.decode().splitlines()[0] == '"proba_0","proba_1"'


def test_evaluate_json_matches_sklearn(data_dir, fitted):
    from sklearn import metrics as skm

    path, _ = fitted
    ev = json.loads(run("evaluate", path, data_dir / "train.csv", "--json").stdout)
    table = pc.read_csv(data_dir / "train.csv")
    y = table["y"].to_numpy()
    p = _proba(path, table)
    assert ev["accuracy"] == pytest.approx(skm.accuracy_score(y, p[:, 1] > 0.5), abs=1e-15)
    assert ev["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p[:, 1]), abs=1e-12)
    assert ev["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=1e-12)
    assert ev["brier"] == pytest.approx(np.mean((p[:, 1] - y) ** 2), rel=1e-12)
    assert np.sum(ev["confusion_matrix"]) == 600
    assert sum(b["count"] for b in ev["calibration"]) == 600
    text = run("evaluate", path, data_dir / "train.csv").stdout.decode()
    assert "confusion matrix" in text and "calibration" in text and "pr_auc" in text


def test_summary(fitted):
    path, _ = fitted
    info = json.loads(run("summary", path, "--json").stdout)
    assert info["classes"] == [0, 1] and info["training"]["target"] == "y"
    text = run("summary", path).stdout.decode()
    assert "region: levels ['east', 'north', 'south', 'west']" in text
    assert "Intercept" in text


def test_multiclass_string_target(tmp_path):
    t = example_table(450, n_classes=3, seed=4)
    t = t.set_column(4, "y", pa.array(np.array(["lo", "mid", "hi"])[t["y"].to_numpy()]))
    data = tmp_path / "d.csv"
    pc.write_csv(t, data)
    model = tmp_path / "m.json"
    run("fit", data, "-t", "y", "-o", model, "-q")
    out = tmp_path / "p.csv"
    run("predict", model, data, "-o", out, "--proba")
    assert pc.read_csv(out).column_names == ["proba_hi", "proba_lo", "proba_mid"]
    bad = run("predict", model, data, "-o", tmp_path / "q.csv", "--threshold", "0.2", ok=False)
    assert bad.returncode == 2 and b"two-class" in bad.stderr


def _error_case(tmp_path, content: bytes | str, name: str = "bad.csv", *args: str):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "model.json"
    proc = run("fit", p, "-o", out, *args, ok=False)
    assert proc.returncode == 2, proc.stderr
    assert not out.exists()
    assert [f.name for f in tmp_path.iterdir()] == [name]  # no temp file left either
    return proc.stderr.decode()


ROWS = "".join(f"{i},{(i * 7) % 5},{i % 2}\n" for i in range(40))


@pytest.mark.parametrize(
    ("content", "args", "expected"),
    [
        ("a,b,y\n" + ROWS + "1,2\n" + ROWS, ["-t", "y"], ["bad.csv", "line 42", "row 41",
                                                         "ragged"]),
        ("a,b,y\n" + ROWS + "1,zz,0\n", ["-t", "y"], ["row 41", "column 'b'", "'zz'"]),
        ("a,b,y\n" + ROWS, ["-t", "target"], ["column 'target'", "missing"]),
        ("a,b,y\n" + ROWS, ["-t", "y", "--features", "a,c"], ["column 'c'", "missing"]),
        ("", ["-t", "y"], ["bad.csv", "empty"]),
        ("a,b,y\n1,2,1\n3,4,1\n", ["-t", "y"], ["one class only"]),
        ("a,id,y\n" + "".join(f"{i},u{i},{i % 2}\n" for i in range(60)), ["-t", "y"],
         ["column 'id'", "identifier"]),
        ("a,b,y\n" + ROWS, ["--formula", "y ~ a + c"], ["column 'c'", "formula"]),
        ("a,b,y\n" + ROWS + "3,,1\n", ["--formula", "y ~ a + b"], ["row 41", "column 'b'"]),
        ("a,b,y\n" + ROWS, ["-t", "b", "--formula", "y ~ a"], ["--target", "differs"]),
    ],
    ids=["ragged", "non-numeric", "missing-target", "missing-feature", "empty", "one-class",
         "identifier", "formula-missing-column", "formula-missing-value", "formula-target"],
)
def test_fit_errors(tmp_path, content, args, expected):
    msg = _error_case(tmp_path, content, "bad.csv", *args)
    for word in expected:
        assert word in msg, msg


def test_unknown_format_error(tmp_path):
    msg = _error_case(tmp_path, b"\x00\x01binary junk", "data.xyz", "-t", "y")
    assert "unknown format" in msg and "data.xyz" in msg


def test_predict_error_leaves_no_output(tmp_path, fitted):
    path, _ = fitted
    t = example_table(300, seed=9)
    pc.write_csv(t.drop_columns(["score"]), tmp_path / "nosc.csv")
    out = tmp_path / "p.csv"
    proc = run("predict", path, tmp_path / "nosc.csv", "-o", out, ok=False)
    assert proc.returncode == 2 and b"'score'" in proc.stderr
    # a bad value deep in the file fails after batches were written: still no output
    rows = "".join(f"{30000 + i},{30 + i % 40},north,{i / 100},0\n" for i in range(500))
    (tmp_path / "late.csv").write_text("income,age,region,score,y\n" + rows + "1,2,mars,0,0\n")
    proc = run("predict", path, tmp_path / "late.csv", "-o", out, "--batch-rows", "50",
               ok=False)
    assert proc.returncode == 2 and b"'mars'" in proc.stderr and b"row 501" in proc.stderr
    assert sorted(f.name for f in tmp_path.iterdir()) == ["late.csv", "nosc.csv"]
    corrupt = tmp_path / "c.json"
    corrupt.write_text(path.read_text()[:100])
    proc = run("predict", corrupt, tmp_path / "late.csv", "-o", out, ok=False)
    assert proc.returncode == 2 and b"truncated" in proc.stderr


@pytest.mark.parametrize("cmd", ["fit", "predict", "evaluate", "summary", "report", "export",
                                 "generate"])
def test_help_has_example(cmd):
    text = run(cmd, "--help", env={"COLUMNS": "200"}).stdout.decode()
    assert "Example: logitfit " + cmd in text


FORMULA = "y ~ np.log(income) + age + C(region) + center(score) + C(band)"
FIT_TOL = 1e-10  # the command and the library run the same solver on the same design


def _formula_table(rows, seed):
    t = example_table(rows, seed=seed)
    return t.append_column("band", pa.array(t["age"].to_numpy() // 20))  # int levels 0..3


@pytest.fixture(scope="module")
def formula_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("formula")
    train, test = _formula_table(500, 11), _formula_table(200, 12)
    pc.write_csv(train, d / "train.csv")
    pq.write_table(test, d / "test.parquet")
    out = json.loads(run("fit", d / "train.csv", "--formula", FORMULA, "-o", d / "f.json",
                         "--json").stdout)
    return d, out, train, test


def test_formula_fit_predict(formula_model):
    import pandas as pd

    from logitfit import LogisticRegression

    d, out, train, test = formula_model
    model = d / "f.json"
    terms = [r["term"] for r in out["coefficients"]]
    assert "C(region)[T.west]" in terms and "C(band)[T.3]" in terms and "np.log(income)" in terms
    # oracle 1: the library's own formula fit on the same rows
    lib = LogisticRegression.from_formula(FORMULA, train.to_pandas())
    m = load(model)
    np.testing.assert_allclose(m.coef_, lib.coef_, rtol=0, atol=FIT_TOL)
    assert m.formula_ == FORMULA and m.metadata_["target"] == "y"
    # oracle 2: streamed predictions equal the loaded model on the raw frame, bit for bit
    run("predict", model, d / "test.parquet", "-o", d / "p.parquet", "--proba",
        "--keep", "region", "--batch-rows", "64")
    got = pq.read_table(d / "p.parquet")
    expected = m.predict_proba(pd.DataFrame(test.to_pandas()))
    assert np.array_equal(np.column_stack([got["proba_0"], got["proba_1"]]), expected)
    assert got["region"].to_pylist() == test["region"].to_pylist()
    # an unseen level is reported by file row and column
    bad = test.set_column(test.column_names.index("region"), "region",
                          pa.array(["mars"] + test["region"].to_pylist()[1:]))
    pq.write_table(bad, d / "bad.parquet")
    proc = run("predict", model, d / "bad.parquet", "-o", d / "q.csv", ok=False)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "'mars'" in err and "row 1" in err and "'region'" in err


@pytest.mark.slow
def test_formula_evaluate_summary_report(formula_model):
    d, _, _, test = formula_model
    model = d / "f.json"
    ev = json.loads(run("evaluate", model, d / "test.parquet", "--json").stdout)
    assert ev["n"] == 200
    info = json.loads(run("summary", model, "--json").stdout)
    assert info["formula"] == FORMULA and info["encoding"]["kind"] == "formula"
    assert "levels       region: ['east', 'north', 'south', 'west']" in \
        run("summary", model).stdout.decode()
    run("report", model, d / "test.parquet", "-o", d / "r.html", "-q")
    assert "<html" in (d / "r.html").read_text()[:500].lower()


# --------------------------------------------------------------------------
# beyond memory: streaming from disk, a Dask cluster
# --------------------------------------------------------------------------

SCALE_TOL = 1e-8  # the same objective minimised block by block: equal to solver tolerance


@pytest.fixture(scope="module")
def big_parquet(tmp_path_factory):
    d = tmp_path_factory.mktemp("scale")
    pq.write_table(example_table(6000, seed=21), d / "d.parquet", row_group_size=1000)
    run("fit", d / "d.parquet", "-t", "y", "--features", "income,age,score", "-o", d / "mem.json",
        "-q", "--tol", "1e-10")
    return d


def test_streaming_fit_forced_by_memory_limit_equals_in_memory(big_parquet):
    d = big_parquet
    out = run("fit", d / "d.parquet", "-t", "y", "--features", "income,age,score",
              "--memory-limit", "20KB", "--tol", "1e-10", "-o", d / "s.json").stdout.decode()
    assert "(streamed from disk)" in out
    s, m = load(d / "s.json"), load(d / "mem.json")
    assert s.metadata_["fitted_by"] == "stream" and m.metadata_["fitted_by"] == "memory"
    np.testing.assert_allclose(s.coef_, m.coef_, rtol=SCALE_TOL)
    np.testing.assert_allclose(s.intercept_, m.intercept_, rtol=SCALE_TOL)
    assert s.metadata_["n_train"] == 6000
    proc = run("fit", d / "d.parquet", "-t", "y", "--memory-limit", "20KB", "--holdout", "0.2",
               ok=False)
    assert proc.returncode == 2 and b"--holdout" in proc.stderr and b"--memory-limit" in proc.stderr


def test_streaming_fit_names_a_text_column(big_parquet):
    """A streamed fit takes numeric columns: a text one (region) is named, not dropped silently."""
    d = big_parquet
    proc = run("fit", d / "d.parquet", "-t", "y", "--memory-limit", "20KB", "-o", d / "t.json",
               ok=False)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "'region'" in err and "d.parquet" in err
    assert not (d / "t.json").exists()


def test_scheduler_fit_on_local_cluster(big_parquet):
    from distributed import LocalCluster

    d = big_parquet
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                      dashboard_address=":0") as cluster:
        out = run("fit", d / "d.parquet", "-t", "y", "--features", "income,age,score",
                  "--scheduler", cluster.scheduler_address, "--tol", "1e-10",
                  "-o", d / "k.json").stdout.decode()
    assert "(on the Dask cluster)" in out
    k, m = load(d / "k.json"), load(d / "mem.json")
    assert k.metadata_["fitted_by"] == "dask"
    np.testing.assert_allclose(k.coef_, m.coef_, rtol=SCALE_TOL)
    np.testing.assert_allclose(k.intercept_, m.intercept_, rtol=SCALE_TOL)


MNL_COEF_TOL = 1e-5  # both fits stop at a gradient tolerance; coefficients agree to this
MNL_SE_RTOL = 1e-4   # standard errors from the same information matrix at those estimates


def test_multiclass_standard_errors_match_statsmodels(tmp_path):
    import statsmodels.api as sm

    t = example_table(600, n_classes=3, seed=8).select(["age", "score", "y"])
    pc.write_csv(t, tmp_path / "d.csv")
    model = tmp_path / "m.json"
    out = json.loads(run("fit", tmp_path / "d.csv", "-t", "y", "--tol", "1e-10", "-o", model,
                         "--json").stdout)
    rows = out["coefficients"]
    assert {r["reference"] for r in rows} == {0} and {r["class"] for r in rows} == {1, 2}
    X = sm.add_constant(np.column_stack([t["age"].to_numpy(), t["score"].to_numpy()]))
    ref = sm.MNLogit(t["y"].to_numpy(), X).fit(method="newton", tol=1e-12, disp=0)
    for k, cls in enumerate((1, 2)):  # statsmodels: columns are classes 1.., rows const, age, score
        got = [r for r in rows if r["class"] == cls]
        assert [r["term"] for r in got] == ["age", "score", "Intercept"]
        order = [1, 2, 0]  # statsmodels' rows const, age, score in the table's order
        np.testing.assert_allclose([r["coef"] for r in got], ref.params[order, k],
                                   atol=MNL_COEF_TOL)
        np.testing.assert_allclose([r["se"] for r in got], ref.bse[order, k], rtol=MNL_SE_RTOL)
    m = load(model)
    assert m.covariance_.shape == (6, 6)
    text = run("summary", model).stdout.decode()
    assert "vs class 0" in text and "std err" in text


# --------------------------------------------------------------------------
# hostile text: markup in values, columns, labels and paths is plain text
# --------------------------------------------------------------------------

MARKUP = "[/]"  # in a path: the directory "d[" and the file "]name"


def _markup_path(tmp_path, name: str):
    (tmp_path / "d[").mkdir(exist_ok=True)
    return tmp_path / "d[" / f"][bold]{name}"


def _one_paragraph_error(proc, name: str) -> str:
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err and "MarkupError" not in err
    assert err.count("\n") == 1 and err.startswith("logitfit: error: "), err
    assert name in err, err
    return err


def test_markup_in_labels_and_columns_is_printed_literally(tmp_path):
    t = example_table(300, seed=6).select(["age", "score", "y"])
    labels = np.array(["[bold]no", "yes[/]"])[t["y"].to_numpy()]
    t = t.rename_columns(["age[/bold]", "score", "y"]).set_column(2, "y", pa.array(labels))
    data = _markup_path(tmp_path, "d.csv")
    pc.write_csv(t, data)
    model = tmp_path / "m.json"
    fit = run("fit", data, "-t", "y", "-o", model, "--holdout", "0.2")
    assert "age[/bold]" in fit.stdout.decode()
    summary = run("summary", model).stdout.decode()
    assert "age[/bold]" in summary and "yes[/]" in summary
    run("evaluate", model, data)
    out = tmp_path / "p.csv"
    run("predict", model, data, "-o", out, "--proba")
    assert pc.read_csv(out).column_names == ["proba_[bold]no", "proba_yes[/]"]


@pytest.mark.parametrize("content", [
    "a,b,y\n" + ROWS + "1,[/bold],0\n",        # a value
    "a,[/],y\n" + ROWS,                        # a column name, then missing as a feature
])
def test_markup_in_errors_is_plain_text(tmp_path, content):
    p = _markup_path(tmp_path, "bad.csv")
    p.write_text(content)
    proc = run("fit", p, "-t", "y", "--features", "a,[/],b" if "[/]," in content else "a,b",
               "-o", tmp_path / "m.json", ok=False)
    err = _one_paragraph_error(proc, str(p))
    assert "[/" in err.split(str(p), 1)[1]
    assert not (tmp_path / "m.json").exists()


def test_bracket_file_name_is_that_file_not_a_pattern(tmp_path):
    t = example_table(200, seed=7)
    data = tmp_path / "data[b].csv"
    pc.write_csv(t, data)
    pc.write_csv(example_table(50, seed=8), tmp_path / "datab.csv")  # what the glob would match
    model = tmp_path / "m.json"
    run("fit", data, "-t", "y", "-o", model, "-q")
    assert load(model).metadata_["n_train"] == 200
    out = tmp_path / "p.csv"
    run("predict", model, data, "-o", out)
    assert pc.read_csv(out).num_rows == 200
    ev = json.loads(run("evaluate", model, data, "--json").stdout)
    assert ev["n"] == 200


def test_corrupted_model_file_is_one_paragraph(tmp_path, fitted):
    path, _ = fitted
    bad = _markup_path(tmp_path, "m.json")
    bad.write_text("{" * 5000)
    for cmd in (["summary", bad], ["predict", bad, path, "-o", tmp_path / "p.csv"]):
        _one_paragraph_error(run(*cmd, ok=False), str(bad))
    assert not (tmp_path / "p.csv").exists()


def test_signing_round_trip(tmp_path, data_dir):
    model = tmp_path / "m.json"
    env = {"LF_KEY": "s3cret", "LF_OTHER": "other"}
    run("fit", data_dir / "train.csv", "-t", "y", "--features", "age,score", "-o", model, "-q",
        "--sign-key-env", "LF_KEY", env=env)
    out = tmp_path / "p.csv"
    run("predict", model, data_dir / "train.csv", "-o", out, "--verify-key-env", "LF_KEY", env=env)
    assert pc.read_csv(out).num_rows == 600
    run("summary", model, "--verify-key-env", "LF_KEY", env=env)
    wrong = run("evaluate", model, data_dir / "train.csv", "--verify-key-env", "LF_OTHER",
                env=env, ok=False)
    _one_paragraph_error(wrong, str(model))
    unset = run("summary", model, "--verify-key-env", "LF_UNSET", ok=False)
    assert unset.returncode == 2 and b"LF_UNSET" in unset.stderr and b"not set" in unset.stderr
    nosign = tmp_path / "n.json"
    run("fit", data_dir / "train.csv", "-t", "y", "--features", "age", "-o", nosign, "-q")
    refused = run("predict", nosign, data_dir / "train.csv", "-o", tmp_path / "q.csv",
                  "--verify-key-env", "LF_KEY", env=env, ok=False)
    _one_paragraph_error(refused, str(nosign))
    assert not (tmp_path / "q.csv").exists()


def test_max_classes_guard_and_option(tmp_path):
    """A target with more classes than --max-classes is refused naming the option; raising it works."""
    rng = np.random.default_rng(0)
    n = 400
    t = pa.table({"x": rng.normal(size=n), "y": np.arange(n) % 12})
    pc.write_csv(t, tmp_path / "m.csv")
    proc = run("fit", tmp_path / "m.csv", "-t", "y", "--max-classes", "10", "-o",
               tmp_path / "m.json", ok=False)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "--max-classes" in err and "m.csv" in err
    assert not (tmp_path / "m.json").exists()
    run("fit", tmp_path / "m.csv", "-t", "y", "--max-classes", "12", "-o", tmp_path / "m.json", "-q")
    assert (tmp_path / "m.json").exists()


def test_predict_interval_columns_equal_predict_interval(fitted, data_dir, tmp_path):
    """predict --interval writes se/lower/upper equal to the model's predict_interval."""
    model, _ = fitted
    out = tmp_path / "iv.csv"
    run("predict", model, data_dir / "train.csv", "-o", out, "--interval", "0.9")
    got = pc.read_csv(out)
    m = load(model)
    names = [n for n in got.column_names if n.endswith("_se")]
    assert len(names) == 1 and "prediction" not in got.column_names
    want = m.predict_interval(pc.read_csv(data_dir / "train.csv"), level=0.9)
    stem = names[0][:-3]
    for stat in ("se", "lower", "upper"):
        np.testing.assert_allclose(got.column(f"{stem}_{stat}").to_numpy(), want[stat], rtol=1e-12)
    bad = run("predict", model, data_dir / "train.csv", "-o", tmp_path / "b.csv", "--interval", "2",
              ok=False)
    assert bad.returncode == 2 and b"--interval" in bad.stderr and not (tmp_path / "b.csv").exists()
