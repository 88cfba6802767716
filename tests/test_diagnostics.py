"""Residuals and influence (logitfit.inference.diagnostics, LogisticRegression.diagnostics).

Oracles: statsmodels ``GLM(y, [X, 1], family=Binomial(), var_weights=s).fit().get_influence()``
and its ``resid_*`` (the weight meaning matched: R's prior weights, statsmodels'
``var_weights``) to 1e-6 relative on the Spector data and on generated data with
weights; the streamed (Parquet, CSV) and Dask tables equal the in-memory one to 1e-10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logitfit import LogisticRegression, scan
from logitfit.datasets import load_spector
from logitfit.inference.diagnostics import COLUMNS

sm = pytest.importorskip("statsmodels.api")

RTOL = 1e-6
STREAM_RTOL = 1e-10
FIT_TOL = 1e-12


def _spector():
    d = load_spector()
    return d[["GPA", "TUCE", "PSI"]], d["GRADE"].to_numpy(), None


def _generated():
    rng = np.random.default_rng(7)
    n = 400
    X = rng.normal(size=(n, 4))
    X[:, 3] = rng.integers(0, 3, n)
    eta = X @ [0.8, -1.0, 0.4, 0.5] - 0.3
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return X, y, rng.uniform(0.2, 3.0, n)


def _basis_data():
    from logitfit.inference.diagnostics import InfluenceBasis

    X, y, sw = _generated()
    bases = []
    for weights in (None, sw):
        model = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=weights)
        bases.append(InfluenceBasis.from_inference(model._inference(0)))
    return (X, y.astype(float), sw), bases


_BASIS_DATA, _BASIS = _basis_data()


def _statsmodels(X, y, sw):
    Xt = np.column_stack([np.asarray(X, dtype=float), np.ones(len(y))])
    s = np.ones(len(y)) if sw is None else sw
    res = sm.GLM(y, Xt, family=sm.families.Binomial(), var_weights=s).fit(tol=1e-14)
    return res, res.get_influence()


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=1e-13)


@pytest.mark.parametrize("data", [_spector, _generated], ids=["spector", "generated-weighted"])
def test_every_column_matches_statsmodels_glm_influence(data):
    X, y, sw = data()
    model = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=sw)
    table = model.diagnostics(X, y, sample_weight=sw)
    res, infl = _statsmodels(X, y, sw)
    _close(table["fitted"], res.fittedvalues)
    _close(table["response"], res.resid_response)
    _close(table["pearson"], res.resid_pearson)
    _close(table["deviance"], res.resid_deviance)
    _close(table["leverage"], infl.hat_matrix_diag)
    _close(table["student_pearson"], infl.resid_studentized)
    _close(table["student_deviance"], res.resid_deviance / np.sqrt(1 - infl.hat_matrix_diag))
    _close(table["cooks_distance"], infl.cooks_distance[0])
    names = model.summary().names
    dfbetas = np.column_stack([table[f"dfbetas[{n}]"] for n in names])
    _close(dfbetas, infl.dfbetas)


def test_dfbetas_approximate_the_refit_without_each_row():
    # the one-step DFBETAS against actually refitting without row i (first-order agreement)
    X, y, _ = _spector()
    model = LogisticRegression(tol=FIT_TOL).fit(X, y)
    table = model.diagnostics(X, y)
    se = model.bse_
    theta = np.append(model.coef_.ravel(), model.intercept_)
    worst = int(np.argmax(table["cooks_distance"].to_numpy()))
    keep = np.arange(len(y)) != worst
    refit = LogisticRegression(tol=FIT_TOL).fit(X[keep], y[keep])
    exact = (theta - np.append(refit.coef_.ravel(), refit.intercept_)) / se
    one_step = table.iloc[worst][[c for c in table.columns if c.startswith("dfbetas")]].to_numpy()
    assert np.corrcoef(exact, one_step)[0, 1] > 0.95
    assert np.max(np.abs(exact - one_step)) < 0.5 * np.max(np.abs(exact))


def test_table_shapes_leverage_trace_and_dataframe_index():
    X, y, sw = _generated()
    model = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=sw)
    out = model.diagnostics(X, y, sample_weight=sw)
    assert isinstance(out, dict)
    assert list(out)[:len(COLUMNS)] == list(COLUMNS) and len(out) == len(COLUMNS) + 5
    # the hat matrix of the training rows has trace q (the number of parameters)
    assert out["leverage"].sum() == pytest.approx(5.0, rel=1e-8)
    frame = pd.DataFrame(X, columns=list("abcd"), index=np.arange(100, 100 + len(y)))
    table = LogisticRegression(tol=FIT_TOL).fit(frame, y).diagnostics(frame, pd.Series(y))
    assert list(table.index) == list(frame.index)
    assert "dfbetas[a]" in table.columns and "dfbetas[Intercept]" in table.columns


def test_offset_enters_the_linear_predictor():
    X, y, _ = _generated()
    model = LogisticRegression(tol=FIT_TOL).fit(X, y)
    base = model.diagnostics(X, y)
    shifted = model.diagnostics(X, y, offset=np.full(len(y), 0.7))
    eta = model.decision_function(X) + 0.7
    _close(shifted["fitted"], 1 / (1 + np.exp(-eta)), rtol=1e-12)
    assert not np.allclose(shifted["pearson"], base["pearson"])


def test_fit_with_offset_matches_statsmodels_and_needs_the_offset(tmp_path):
    X, y, _ = _generated()
    off = np.linspace(-0.5, 0.8, len(y))
    model = LogisticRegression(tol=FIT_TOL).fit(X, y, offset=off)
    table = model.diagnostics(X, y, offset=off)
    Xt = np.column_stack([X, np.ones(len(y))])
    res = sm.GLM(y, Xt, family=sm.families.Binomial(), offset=off).fit(tol=1e-14)
    infl = res.get_influence()
    _close(table["fitted"], res.fittedvalues)
    _close(table["pearson"], res.resid_pearson)
    _close(table["leverage"], infl.hat_matrix_diag)
    _close(table["cooks_distance"], infl.cooks_distance[0])
    with pytest.raises(ValueError, match="offset"):
        model.diagnostics(X, y)
    df = pd.DataFrame(X, columns=list("abcd")).assign(y=y, off=off)
    df.to_parquet(tmp_path / "rows.parquet")
    fmodel = LogisticRegression(tol=FIT_TOL).fit(df[list("abcd")], df["y"], offset=off)
    out = fmodel.diagnostics(str(tmp_path / "rows.parquet"), "y", offset="off",
                             output=tmp_path / "diag.parquet")
    _close(pd.read_parquet(out)["leverage"], infl.hat_matrix_diag)
    gof = fmodel.goodness_of_fit(str(tmp_path / "rows.parquet"), "y", offset="off")
    ref = fmodel.goodness_of_fit(df[list("abcd")], df["y"], offset=off)
    assert gof.tests[1].statistic == pytest.approx(ref.tests[1].statistic, rel=1e-10)


def test_refusals_are_clear():
    X, y, _ = _generated()
    with pytest.raises(ValueError, match="binary model"):
        LogisticRegression().fit(X, y % 3 + (X[:, 0] > 1)).diagnostics(X, y)
    with pytest.raises(ValueError, match="L2-penalised"):
        LogisticRegression(penalty="l2", alpha=0.1).fit(X, y).diagnostics(X, y)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="label 5 at row 0"):
        model.diagnostics(X, np.full(len(y), 5))
    with pytest.raises(ValueError, match="need the labels"):
        model.diagnostics(X)
    with pytest.raises(ValueError, match="offset has 3 rows"):
        model.diagnostics(X, y, offset=np.ones(3))


# ------------------------------------------------------------ streamed and Dask


def _frame():
    X, y, sw = _generated()
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["y"], df["w"] = y, sw
    return df


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_streamed_table_equals_in_memory(tmp_path, suffix):
    df = _frame()
    data = tmp_path / f"rows{suffix}"
    df.to_parquet(data) if suffix == ".parquet" else df.to_csv(data, index=False)
    model = LogisticRegression(tol=FIT_TOL).fit(df[["a", "b", "c", "d"]], df["y"], sample_weight=df["w"])
    ref = model.diagnostics(df[["a", "b", "c", "d"]], df["y"], sample_weight=df["w"])
    ds = scan(data, target="y", weight="w", memory_limit="1MB")
    ds.memory_limit = 64 * 1024  # several blocks
    out = model.diagnostics(ds, output=tmp_path / f"diag{suffix}")
    got = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert got["row"].tolist() == list(range(1, len(df) + 1))
    for c in ref.columns:
        _close(got[c], ref[c], rtol=STREAM_RTOL)
    by_path = model.diagnostics(str(data), "y", "w", output=tmp_path / "again.parquet")
    _close(pd.read_parquet(by_path)["cooks_distance"], ref["cooks_distance"], rtol=STREAM_RTOL)


def test_streamed_needs_an_output_and_leaves_none_on_failure(tmp_path):
    df = _frame()
    df.to_parquet(tmp_path / "rows.parquet")
    model = LogisticRegression().fit(df[["a", "b", "c", "d"]], df["y"])
    with pytest.raises(ValueError, match="give output="):
        model.diagnostics(scan(tmp_path / "rows.parquet", target="y", features=list("abcd")))
    with pytest.raises(ValueError, match=r"\.parquet, \.csv or \.tsv"):
        model.diagnostics(str(tmp_path / "rows.parquet"), "y", output=tmp_path / "out.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.parquet"]


def test_dask_table_is_lazy_and_equals_in_memory():
    dd = pytest.importorskip("dask.dataframe")
    da = pytest.importorskip("dask.array")
    X, y, sw = _generated()
    model = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=sw)
    ref = model.diagnostics(X, y, sample_weight=sw)
    lazy = model.diagnostics(da.from_array(X, chunks=(97, -1)), da.from_array(y, chunks=97),
                             sample_weight=da.from_array(sw, chunks=53))
    assert type(lazy).__module__.startswith("dask")
    got = lazy.compute()
    assert list(got.index) == list(range(len(y)))
    for c in ref:
        _close(got[c], ref[c], rtol=STREAM_RTOL)
    frame = _frame()
    fmodel = LogisticRegression(tol=FIT_TOL).fit(frame[list("abcd")], frame["y"])
    pdd = dd.from_pandas(frame, npartitions=3)
    got = fmodel.diagnostics(pdd[list("abcd")], pdd["y"]).compute()
    _close(got["leverage"], fmodel.diagnostics(frame[list("abcd")], frame["y"])["leverage"],
           rtol=STREAM_RTOL)
    gof = fmodel.goodness_of_fit(pdd[list("abcd")], pdd["y"])
    ref_gof = fmodel.goodness_of_fit(frame[list("abcd")], frame["y"])
    for a, b in zip(gof.tests, ref_gof.tests, strict=True):
        assert a.statistic == pytest.approx(b.statistic, rel=1e-10)


def test_streamed_goodness_of_fit_equals_in_memory(tmp_path):
    df = _frame()
    df.to_parquet(tmp_path / "rows.parquet")
    model = LogisticRegression(tol=FIT_TOL).fit(df[list("abcd")], df["y"], sample_weight=df["w"])
    ref = model.goodness_of_fit(df[list("abcd")], df["y"], sample_weight=df["w"])
    ds = scan(tmp_path / "rows.parquet", target="y", weight="w", features=list("abcd"))
    ds.memory_limit = 64 * 1024
    got = model.goodness_of_fit(ds)
    assert [t.name for t in got.tests] == [t.name for t in ref.tests]
    for a, b in zip(got.tests, ref.tests, strict=True):
        assert a.statistic == pytest.approx(b.statistic, rel=1e-10)
        assert a.df == b.df


# ------------------------------------------------------------------- CLI


def _cli(*args):
    """Run the command in-process; return its exit status (0 on success)."""
    from logitfit.cli.app import main

    try:
        main([str(a) for a in args])
    except SystemExit as err:
        return err.code or 0
    return 0


def test_cli_diagnose_end_to_end(tmp_path, capsys):
    df = _frame().drop(columns="w")
    data = tmp_path / "rows.csv"
    df.to_csv(data, index=False)
    model_file = tmp_path / "model.json"
    assert _cli("fit", data, "--target", "y", "-o", model_file, "--tol", "1e-12", "-q") == 0
    out = tmp_path / "diag.parquet"
    assert _cli("diagnose", model_file, data, "-o", out, "--top", "3", "--batch-rows", "150", "--gof") == 0
    text = capsys.readouterr().out
    table = pd.read_parquet(out)
    model = LogisticRegression(tol=FIT_TOL).fit(df[list("abcd")], df["y"])
    ref = model.diagnostics(df[list("abcd")], df["y"])
    _close(table["cooks_distance"], ref["cooks_distance"], rtol=1e-6)
    top = table.nlargest(3, "cooks_distance")["row"].tolist()
    listed = text.split("Most influential rows")[1].split("\n\n")[0].splitlines()[2:]
    rows_printed = [int(line.split()[0]) for line in listed]
    assert rows_printed == top
    assert f"{len(df)} rows" in text and "Hosmer-Lemeshow" in text


def test_cli_diagnose_help_has_an_example(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert _cli("diagnose", "--help") == 0
    assert "Example: logitfit diagnose model.json" in capsys.readouterr().out


def test_cli_diagnose_errors_name_the_problem(tmp_path, capsys):
    df = _frame().drop(columns="w")
    data = tmp_path / "rows.csv"
    df.to_csv(data, index=False)
    model_file = tmp_path / "model.json"
    assert _cli("fit", data, "--target", "y", "-o", model_file, "-q") == 0
    capsys.readouterr()
    bad = df.assign(y=np.where(np.arange(len(df)) == 5, 9, df["y"]))
    bad.to_csv(tmp_path / "bad.csv", index=False)
    assert _cli("diagnose", model_file, tmp_path / "bad.csv", "-o", tmp_path / "o.csv") == 2
    msg = capsys.readouterr().err
    assert "bad.csv" in msg and "9" in msg and "row 6" in msg
    assert not (tmp_path / "o.csv").exists()


def test_cli_diagnose_takes_the_offset_column(tmp_path, capsys):
    df = _frame().drop(columns="w").assign(off=np.linspace(-0.5, 0.8, 400))
    data = tmp_path / "rows.csv"
    df.to_csv(data, index=False)
    model_file = tmp_path / "model.json"
    assert _cli("fit", data, "--target", "y", "--features", "a,b,c,d", "--offset", "off",
                "-o", model_file, "--tol", "1e-12", "-q") == 0
    assert _cli("diagnose", model_file, data, "-o", tmp_path / "o.csv") == 2
    assert "offset" in capsys.readouterr().err
    assert _cli("diagnose", model_file, data, "-o", tmp_path / "o.csv", "--offset", "off") == 0
    model = LogisticRegression(tol=FIT_TOL).fit(df[list("abcd")], df["y"], offset=df["off"])
    ref = model.diagnostics(df[list("abcd")], df["y"], offset=df["off"])
    _close(pd.read_csv(tmp_path / "o.csv")["leverage"], ref["leverage"], rtol=1e-6)


def test_frequency_weights_give_the_expanded_rows_diagnostics():
    X, y, _ = _generated()
    w = np.random.default_rng(4).integers(1, 4, len(y))
    model = LogisticRegression(tol=FIT_TOL, weight_type="frequency").fit(X, y, sample_weight=w)
    table = model.diagnostics(X, y, sample_weight=w)
    rows = np.repeat(np.arange(len(y)), w)
    expanded = LogisticRegression(tol=FIT_TOL).fit(X[rows], y[rows]).diagnostics(X[rows], y[rows])
    first = np.concatenate([[0], np.cumsum(w)[:-1]])  # each row's first copy
    for c in table:
        _close(table[c], expanded[c][first])
    with pytest.raises(ValueError, match="pseudo-likelihood"):
        LogisticRegression(weight_type="probability").fit(X, y, sample_weight=w).diagnostics(X, y, w)


@settings(max_examples=25, deadline=None)
@given(chunk=st.integers(1, 400), threads=st.integers(1, 4), seed=st.integers(0, 3))
def test_table_does_not_depend_on_chunks_or_threads(chunk, threads, seed):
    from logitfit.inference.diagnostics import InfluenceBasis, diagnostics_in_memory

    X, y, sw = _BASIS_DATA
    basis = _BASIS[seed % 2]
    whole = diagnostics_in_memory(basis, X, y, sw, n_threads=1, chunk_rows=len(y))
    one = diagnostics_in_memory(basis, X, y, sw, n_threads=1, chunk_rows=chunk)
    got = diagnostics_in_memory(basis, X, y, sw, n_threads=threads, chunk_rows=chunk)
    for c in whole:
        np.testing.assert_array_equal(got[c], one[c])  # threads never change a bit
        _close(got[c], whole[c], rtol=1e-12)  # chunks change BLAS's rounding only
    assert np.all((got["leverage"] >= 0) & (got["leverage"] <= 1))
    assert isinstance(basis, InfluenceBasis)


def test_sparse_design_equals_dense():
    sp = pytest.importorskip("scipy.sparse")
    X, y, sw = _generated()
    model = LogisticRegression(tol=FIT_TOL).fit(X, y, sample_weight=sw)
    dense = model.diagnostics(X, y, sample_weight=sw)
    sparse = model.diagnostics(sp.csr_matrix(X), y, sample_weight=sw)
    for c in dense:
        _close(sparse[c], dense[c], rtol=1e-12)
    a = model.goodness_of_fit(sp.csr_matrix(X), y, sample_weight=sw)
    b = model.goodness_of_fit(X, y, sample_weight=sw)
    assert [t.statistic for t in a.tests] == pytest.approx([t.statistic for t in b.tests], rel=1e-12)


def test_a_loaded_model_gives_the_same_table(tmp_path):
    from logitfit import load

    X, y, sw = _spector()
    model = LogisticRegression(tol=FIT_TOL).fit(X, y)
    model.save(tmp_path / "m.json")
    loaded = load(tmp_path / "m.json")  # the model file's stored covariance, no training rows
    pd.testing.assert_frame_equal(loaded.diagnostics(X, y), model.diagnostics(X, y), rtol=1e-12)
