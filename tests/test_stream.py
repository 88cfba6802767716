"""Streaming fits from files (logitfit.scan, StreamBlocks).

Oracle: the in-memory fit of the same rows (InMemoryBlocks, the core engine),
itself tested against finite differences and statsmodels in test_loss.py /
test_estimator.py. Block sums differ from the in-memory ones only in summation
order, so with a tight solver tolerance the coefficients agree to
``COEF_RTOL``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pcsv = pytest.importorskip("pyarrow.csv")
feather = pytest.importorskip("pyarrow.feather")

import logitfit  # noqa: E402
from logitfit import LogisticRegression  # noqa: E402
from logitfit.blocks import InMemoryBlocks  # noqa: E402
from logitfit.blocks.stream import COPIES_PER_BLOCK, StreamError, rows_for_budget  # noqa: E402
from logitfit.exceptions import ConvergenceWarning  # noqa: E402
from logitfit.io.scan import ScanDataset, parse_bytes  # noqa: E402
from logitfit.model.objective import LogisticObjective  # noqa: E402

COEF_RTOL = 1e-8  # the "same answer everywhere" bound
FIT_TOL = 1e-11  # solver tolerance tight enough that COEF_RTOL holds
LBFGS_COEF_RTOL = 1e-7  # L-BFGS-B may stall at max|grad| ~ 1e-9 (test_hessian_free_solvers_stream)
SUM_RTOL = 1e-12  # one block sum vs the in-memory sum (summation order only)
SMALL_BUDGET = "200KB"  # forces many blocks on the small data sets
# float32 X: z = X w is rounded to ~6e-8 relative, so the gradient is only
# known to ~1e-8 and both fits stop at tol; their coefficients then agree to
# about tol / (smallest Hessian eigenvalue) ~ 1e-6 relative.
FLOAT32_FIT_TOL = 1e-6
FLOAT32_COEF_RTOL = 1e-5
MEMORY_MARGIN = 3.0
# Fixed costs of the first fit that do not scale with the budget or the data:
# the reader thread's stack, pyarrow's allocator arenas, BLAS buffers.
RUNTIME_SLACK = 16 << 20  # peak growth allowed, as a multiple of the memory budget


def _data(n=3000, p=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if k == 2:
        w = rng.standard_normal(p)
        y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w + 0.3)))).astype(np.int64)
    else:
        W = rng.standard_normal((p, k))
        Z = X @ W
        P = np.exp(Z - Z.max(1, keepdims=True))
        P /= P.sum(1, keepdims=True)
        y = (P.cumsum(1) > rng.random((n, 1))).argmax(1)
    return X, y


def _table(X, y, labels=None, weight=None):
    cols = {f"x{j}": X[:, j] for j in range(X.shape[1])}
    cols["y"] = y if labels is None else np.asarray(labels)[y]
    if weight is not None:
        cols["w"] = weight
    return pa.table(cols)


def _write_parquet_parts(tmp_path, table, parts=3, row_group=400):
    n = table.num_rows
    bounds = np.linspace(0, n, parts + 1).astype(int)
    for i in range(parts):
        pq.write_table(table.slice(bounds[i], bounds[i + 1] - bounds[i]), tmp_path / f"part-{i}.parquet",
                       row_group_size=row_group, write_page_checksum=True)
    return str(tmp_path / "*.parquet")


def _rel(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.fixture(scope="module")
def binary_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("binary")
    X, y = _data()
    t = _table(X, y)
    pattern = _write_parquet_parts(d, t)
    pcsv.write_csv(t, d / "all.csv")
    feather.write_feather(t, d / "all.arrow", chunksize=700)
    return X, y, d, pattern


@pytest.mark.parametrize("kind", ["parquet", "csv", "ipc"])
def test_stream_fit_equals_in_memory(binary_files, kind):
    X, y, d, pattern = binary_files
    source = {"parquet": pattern, "csv": d / "all.csv", "ipc": d / "all.arrow"}[kind]
    ds = logitfit.scan(source, target="y", memory_limit=SMALL_BUDGET)
    ref = LogisticRegression(tol=FIT_TOL).fit(X, y)
    got = LogisticRegression(tol=FIT_TOL).fit(ds)
    assert got.converged_
    assert _rel(got.coef_, ref.coef_) < COEF_RTOL
    assert _rel(got.intercept_, ref.intercept_) < COEF_RTOL
    assert list(got.feature_names_in_) == [f"x{j}" for j in range(X.shape[1])]
    np.testing.assert_array_equal(got.classes_, ref.classes_)


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_hessian_free_solvers_stream(binary_files, solver):
    """newton-cg uses map_blocks state (deferred and recomputed per pass on a stream)."""
    X, y, _, pattern = binary_files
    ref = LogisticRegression(tol=FIT_TOL, solver="newton").fit(X, y)  # the exact optimum
    with warnings.catch_warnings():
        # L-BFGS-B needs J to fall at every step; J ~ 0.5 stops changing in
        # float64 near max|grad| ~ 1e-9, where it may stop short of tol = 1e-11
        warnings.simplefilter("ignore", ConvergenceWarning)
        got = LogisticRegression(tol=FIT_TOL, solver=solver).fit(
            logitfit.scan(pattern, target="y", memory_limit=SMALL_BUDGET)
        )
    # newton-cg reaches tol; L-BFGS-B's stall (above) leaves ~1e-8 in the coefficients
    assert _rel(got.coef_, ref.coef_) < (COEF_RTOL if solver == "newton-cg" else LBFGS_COEF_RTOL)


def test_multinomial_string_labels_weights_class_weight(tmp_path):
    X, y = _data(n=2400, p=3, k=3, seed=1)
    labels = np.array(["cat", "dog", "eel"])
    sw = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    pattern = _write_parquet_parts(tmp_path, _table(X, y, labels, sw), parts=2, row_group=300)
    ds = logitfit.scan(pattern, target="y", weight="w", memory_limit=SMALL_BUDGET)
    assert ds.features if hasattr(ds, "features") else True
    for cw in (None, "balanced"):
        ref = LogisticRegression(tol=FIT_TOL, penalty="l2", alpha=1e-3, class_weight=cw).fit(X, labels[y], sample_weight=sw)
        got = LogisticRegression(tol=FIT_TOL, penalty="l2", alpha=1e-3, class_weight=cw).fit(ds)
        np.testing.assert_array_equal(got.classes_, labels)
        assert _rel(got.coef_, ref.coef_) < COEF_RTOL
        assert _rel(got.intercept_, ref.intercept_) < COEF_RTOL


@settings(max_examples=15, deadline=None)
@given(rows=st.integers(min_value=1, max_value=700))
def test_block_sums_match_in_memory_for_any_block_size(binary_files, rows):
    """Property: value, gradient and Hessian summed over stream blocks of any size equal the in-memory sums."""
    X, y, _, pattern = binary_files
    ds = logitfit.scan(pattern, target="y")
    blocks = ds.blocks()
    blocks.rows_per_block = rows
    x = np.linspace(-0.5, 0.5, X.shape[1] + 1)
    mem = LogisticObjective(InMemoryBlocks(X, y.astype(float), np.ones(len(y))), 2)
    st_ = LogisticObjective(blocks, 2)
    f0, g0, H0 = mem.value_grad_hess(x)
    f1, g1, H1 = st_.value_grad_hess(x)
    assert abs(f1 - f0) <= SUM_RTOL * abs(f0)
    np.testing.assert_allclose(g1, g0, rtol=SUM_RTOL, atol=SUM_RTOL * np.abs(g0).max())
    np.testing.assert_allclose(H1, H0, rtol=SUM_RTOL, atol=SUM_RTOL * np.abs(H0).max())
    v = np.cos(np.arange(x.size))
    np.testing.assert_allclose(st_.hessp(x)(v), H0 @ v, rtol=SUM_RTOL, atol=SUM_RTOL * np.abs(H0 @ v).max())


def test_repeated_passes_are_bit_identical(binary_files):
    _, _, _, pattern = binary_files
    ds = logitfit.scan(pattern, target="y", memory_limit=SMALL_BUDGET)
    a = LogisticRegression(tol=FIT_TOL).fit(ds)
    b = LogisticRegression(tol=FIT_TOL).fit(ds)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_float32_stream(binary_files):
    X, y, _, pattern = binary_files
    ref = LogisticRegression(tol=FLOAT32_FIT_TOL, dtype=np.float32).fit(X.astype(np.float32), y)
    got = LogisticRegression(tol=FLOAT32_FIT_TOL, dtype=np.float32).fit(logitfit.scan(pattern, target="y"))
    assert got.converged_ and ref.converged_
    assert _rel(got.coef_, ref.coef_) < FLOAT32_COEF_RTOL


def test_verbose_reports_rows_per_second(binary_files, capsys):
    _, y, _, pattern = binary_files
    LogisticRegression(verbose=1).fit(logitfit.scan(pattern, target="y"))
    err = capsys.readouterr().err
    assert f"pass 1: {len(y):,} rows" in err and "rows/s" in err


def test_scan_sources_and_attributes(binary_files):
    X, y, d, pattern = binary_files
    by_dir = logitfit.scan([str(p) for p in sorted(d.glob("part-*.parquet"))], target="y", features=["x2", "x0"])
    assert isinstance(by_dir, ScanDataset)
    assert by_dir.n_samples == len(y) and list(by_dir.feature_names) == ["x2", "x0"]
    assert by_dir.format == "parquet" and len(by_dir.paths) == 3
    ref = LogisticRegression(tol=FIT_TOL).fit(X[:, [2, 0]], y)
    assert _rel(LogisticRegression(tol=FIT_TOL).fit(by_dir).coef_, ref.coef_) < COEF_RTOL
    with pytest.raises(ValueError, match="mix formats"):
        logitfit.scan(d, target="y")  # the directory holds parquet, csv and arrow files
    with pytest.raises(FileNotFoundError, match="no file matches"):
        logitfit.scan(d / "nothing-*.parquet", target="y")
    with pytest.raises(ValueError, match="no column 'label'"):
        logitfit.scan(pattern, target="label")


def test_budget_formula_and_sizes():
    assert parse_bytes("1GB") == 10**9 and parse_bytes("2 GiB") == 2 << 30 and parse_bytes(512) == 512
    with pytest.raises(ValueError, match="as a size"):
        parse_bytes("lots")
    p, q, limit = 100, 101, 1 << 30
    rows = rows_for_budget(p, q, limit)
    assert rows == (limit - 24 * q * q) // (COPIES_PER_BLOCK * 8 * p)
    with pytest.raises(ValueError, match="cannot hold"):
        rows_for_budget(5000, 5001, 1 << 20)


# ---------------------------------------------------------------- errors


def test_corrupt_row_group_names_file_and_row_group(tmp_path):
    X, y = _data(n=1200, p=3)
    path = tmp_path / "data.parquet"
    pq.write_table(_table(X, y), path, row_group_size=400, compression="none", write_page_checksum=True)
    ds = logitfit.scan(path, target="y")
    meta = pq.ParquetFile(path).metadata
    col = meta.row_group(1).column(0)
    raw = bytearray(path.read_bytes())
    start = col.data_page_offset + col.total_compressed_size // 2
    raw[start : start + 64] = b"\xff" * 64  # clobber the middle of row group 1's first column
    path.write_bytes(bytes(raw))
    with pytest.raises(StreamError, match=r"data\.parquet, row group 1: cannot read") as err:
        LogisticRegression().fit(ds)
    assert err.value.unit == "row group 1" and err.value.path == str(path)


def test_schema_change_between_files_and_half_way(tmp_path):
    X, y = _data(n=900, p=3)
    t = _table(X, y)
    pq.write_table(t.slice(0, 450), tmp_path / "a.parquet")
    bad = t.slice(450).set_column(1, "x1", pa.array(np.full(450, "oops")))
    pq.write_table(bad, tmp_path / "b.parquet")
    with pytest.raises(StreamError, match=r"b\.parquet, schema: feature columns are not numeric: 'x1'"):
        logitfit.scan(tmp_path / "*.parquet", target="y")
    # the file changes after scan, in the middle of a fit's passes
    pq.write_table(t.slice(450), tmp_path / "b.parquet")
    ds = logitfit.scan(tmp_path / "*.parquet", target="y")
    pq.write_table(bad, tmp_path / "b.parquet")
    with pytest.raises(StreamError, match=r"b\.parquet, row group 0: column 'x1' has type string"):
        LogisticRegression().fit(ds)


def test_missing_values_and_sgd_are_refused(tmp_path):
    X, y = _data(n=600, p=3)
    X[450, 2] = np.nan
    path = tmp_path / "nan.csv"
    pcsv.write_csv(_table(X, y), path)
    ds = logitfit.scan(path, target="y")
    with pytest.raises(StreamError, match=r"nan\.csv, CSV block 0: missing or non-finite value in column 'x2'"):
        LogisticRegression().fit(ds)
    with pytest.raises(ValueError, match="solver='sgd'"):
        LogisticRegression(solver="sgd").fit(ds)
    with pytest.raises(ValueError, match="carries its own labels"):
        LogisticRegression().fit(ds, y)


# ---------------------------------------------------------------- memory

_MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    import pyarrow as pa, pyarrow.parquet as pq
    import logitfit
    from logitfit import LogisticRegression
    path, budget = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(0)
    n_files, rows, p = 6, 50_000, 40
    w = rng.standard_normal(p) / 4
    for i in range(n_files):  # written one file at a time: never all rows in memory
        X = rng.standard_normal((rows, p))
        y = (rng.random(rows) < 1 / (1 + np.exp(-(X @ w)))).astype(np.int8)
        cols = {f"x{j}": X[:, j] for j in range(p)}
        cols["y"] = y
        pq.write_table(pa.table(cols), f"{path}/part-{i}.parquet", row_group_size=12_500)
        del X, y, cols
    ds = logitfit.scan(path + "/*.parquet", target="y", memory_limit=budget)
    _ = ds.classes  # the first pass reads only the label column
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    m = LogisticRegression(solver="newton", tol=1e-8).fit(ds)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    data = n_files * rows * p * 8
    print(data, before, after, m.n_iter_)
    """
)


def test_csv_string_columns_are_named_not_raw_arrow_errors(tmp_path):
    """A text column in a CSV: left out of the default features, refused by name when asked for,
    and text in a later block of a numeric column named with its value and block."""
    rng = np.random.default_rng(0)
    n = 120_000  # over pyarrow's 1 MB inference block, so the bad value is in a later block
    income = rng.normal(50, 10, n).astype(object)
    y = rng.integers(0, 2, n)
    pcsv.write_csv(pa.table({"income": income.astype(float), "region": rng.choice(["n", "s"], n), "y": y}),
                   tmp_path / "s.csv")
    ds = logitfit.scan(tmp_path / "s.csv", target="y")
    assert list(ds.feature_names) == ["income"]
    with pytest.raises(StreamError, match=r"s\.csv, schema: feature columns are not numeric: 'region' \(string\)"):
        logitfit.scan(tmp_path / "s.csv", target="y", features=["income", "region"])
    income[n - 5] = "abc"
    (tmp_path / "late.csv").write_text("income,y\n" + "".join(f"{a},{b}\n" for a, b in zip(income, y)))
    ds = logitfit.scan(tmp_path / "late.csv", target="y", memory_limit="1MB")
    with pytest.raises(StreamError, match=r"late\.csv, CSV block \d+ \(about rows .*\): column 'income' holds "
                       r"'abc', which is not a number") as err:
        LogisticRegression().fit(ds)
    assert err.value.column == "income" and "Arrow" not in str(err.value)


def test_peak_memory_bounded_by_budget(tmp_path):
    """A fit on 96 MB of float64 features with a 2 MB budget: peak RSS grows by a few budgets, not by the data.

    Oracle: the process's maximum resident set size (getrusage), measured in a
    fresh interpreter from just before the fit, so the growth is the fit's working memory.
    """
    budget = 2 << 20
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_SCRIPT, str(tmp_path), str(budget)],
        capture_output=True, text=True, timeout=300, env={**os.environ},
    )
    assert out.returncode == 0, out.stderr
    data, before, after, n_iter = map(int, out.stdout.split())
    assert n_iter >= 3
    assert data >= 20 * budget  # the data set is many times the budget
    growth = after - before
    assert growth < MEMORY_MARGIN * budget + RUNTIME_SLACK, growth / 2**20
    assert growth < data / 4


def test_summary_standard_errors_match_in_memory(binary_files):
    """Inference at scale: the Hessian is accumulated over stream blocks like any other pass."""
    if not hasattr(LogisticRegression, "bse_"):
        pytest.skip("inference (bse_, summary) is not part of this build")
    X, y, _, pattern = binary_files
    ref = LogisticRegression(tol=FIT_TOL).fit(X, y)
    got = LogisticRegression(tol=FIT_TOL).fit(logitfit.scan(pattern, target="y", memory_limit=SMALL_BUDGET))
    np.testing.assert_allclose(np.ravel(got.bse_), np.ravel(ref.bse_), rtol=COEF_RTOL)
    assert "No. Observations" in str(got.summary())


def test_should_stream_compares_in_memory_size_with_the_budget(binary_files):
    X, _, d, pattern = binary_files
    design_bytes = X.shape[0] * (X.shape[1] + 1) * 8  # features + the numeric label column
    from logitfit.io.scan import in_memory_bytes, should_stream

    assert in_memory_bytes(pattern) == design_bytes
    assert in_memory_bytes(d / "all.arrow") == design_bytes
    assert should_stream(pattern, design_bytes - 1) and not should_stream(pattern, design_bytes)


def test_arrow_stream_format_and_tsv_with_string_labels(tmp_path):
    X, y = _data(n=1500, p=3, seed=6)
    labels = np.array(["neg", "pos"])
    t = _table(X, y, labels)
    with pa.OSFile(str(tmp_path / "d.arrows"), "wb") as sink, pa.ipc.new_stream(sink, t.schema) as w:
        for b in t.to_batches(max_chunksize=500):
            w.write_batch(b)
    pcsv.write_csv(t, tmp_path / "d.tsv", pcsv.WriteOptions(delimiter="\t"))
    ref = LogisticRegression(tol=FIT_TOL).fit(X, labels[y])
    for ds in (logitfit.scan(tmp_path / "d.arrows", target="y", memory_limit=SMALL_BUDGET),
               logitfit.scan(tmp_path / "d.tsv", target="y", delimiter="\t", memory_limit=SMALL_BUDGET)):
        got = LogisticRegression(tol=FIT_TOL).fit(ds)
        np.testing.assert_array_equal(got.classes_, labels)
        assert _rel(got.coef_, ref.coef_) < COEF_RTOL
