"""Hostile input files: every reader gives a DataError naming the file (and row/column), never a crash."""

from __future__ import annotations

import decimal
import gzip
import json
import subprocess
import sys
import textwrap
import time

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from logitfit._memory import check_memory, dense_bytes, format_bytes
from logitfit.data.columns import target_values
from logitfit.exceptions import DataError
from logitfit.io.files import detect_format, resolve_path, resolve_paths
from logitfit.io.libsvm import iter_libsvm, read_libsvm
from logitfit.io.tables import iter_batches, read_table


def _table(n: int = 300) -> pa.Table:
    rng = np.random.default_rng(0)
    return pa.table({"a": rng.normal(size=n), "b": rng.choice(["x", "y", "z"], n),
                     "c": rng.integers(0, 9, n), "y": rng.integers(0, 2, n)})


def _raises(where, fn, *args, match: str | None = None, **kw) -> DataError:
    with pytest.raises(DataError, match=match) as err:
        fn(*args, **kw)
    assert str(where) in str(err.value) and "\n" not in str(err.value)
    return err.value


# ------------------------------------------------------------ corrupted binary files


_CORRUPTION_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import pyarrow as pa, pyarrow.compute as pc
    from logitfit.exceptions import DataError
    from logitfit.io.tables import iter_batches, read_table

    out = {"ok": 0, "errors": 0, "unnamed": []}
    for path in sys.argv[1:]:
        for read in (lambda p: [read_table(p)], lambda p: list(iter_batches(p, batch_rows=64))):
            try:
                for t in read(path):
                    for col in t.columns:  # what an encoder does next: kernels on every column
                        pc.cast(col, pa.string())
                        pc.unique(col)
                out["ok"] += 1
            except DataError as err:
                out["errors"] += 1
                if path not in str(err) or "\\n" in str(err):
                    out["unnamed"].append(str(err))
    print(json.dumps(out))
""")


@pytest.mark.parametrize("fmt", ["feather", "parquet", "arrows"])
def test_corrupted_binary_files_never_crash(tmp_path, fmt):
    t = _table()
    clean = tmp_path / f"clean.{fmt}"
    if fmt == "feather":
        feather.write_feather(t, clean, compression="uncompressed", chunksize=100)
    elif fmt == "parquet":
        pq.write_table(t, clean, row_group_size=100, compression="none")
    else:
        with pa.OSFile(str(clean), "wb") as sink, pa.ipc.new_stream(sink, t.schema) as w:
            for b in t.to_batches(max_chunksize=100):
                w.write_batch(b)
    raw = clean.read_bytes()
    rng = np.random.default_rng(1)
    paths = []
    for k in range(40):
        data = bytearray(raw)
        if k % 4 == 3:
            data = data[: int(rng.integers(8, len(data)))]  # truncated
        else:
            for pos in rng.integers(0, len(data), size=1 + k % 5):
                data[pos] ^= int(rng.integers(1, 256))
        p = tmp_path / f"bad{k}.{fmt}"
        p.write_bytes(bytes(data))
        paths.append(str(p))
    run = subprocess.run([sys.executable, "-c", _CORRUPTION_SCRIPT, *paths],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, f"reader crashed (signal {-run.returncode}): {run.stderr[-2000:]}"
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["unnamed"] == [] and out["ok"] + out["errors"] == 2 * len(paths)
    assert out["errors"] > 0


def test_truncated_and_bad_compressed_csv(tmp_path):
    body = b"a,b,y\n" + b"".join(b"%d,x%d,%d\n" % (i, i % 3, i % 2) for i in range(20000))
    gz = gzip.compress(body)
    p = tmp_path / "cut.csv.gz"
    p.write_bytes(gz[: len(gz) // 2])
    _raises(p, read_table, p)
    _raises(p, lambda: list(iter_batches(p)))
    zp = tmp_path / "noise.csv.zst"
    zp.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(range(256)) * 4)
    _raises(zp, read_table, zp)


def test_invalid_utf8_and_huge_field_name_the_file(tmp_path):
    p = tmp_path / "utf.csv"
    p.write_bytes(b"a,b\n1,ok\n2,\xff\xfe\xfa\n")
    _raises(p, read_table, p, match="UTF-8|UTF8")
    q = tmp_path / "long.csv"
    q.write_text("a,b\n1," + "x" * 200_000 + "\n2,3,4\n")
    _raises(q, read_table, q)


def test_duplicate_column_names_are_refused(tmp_path):
    t = pa.Table.from_arrays([pa.array([1.0, 2.0]), pa.array([0, 1])], names=["a", "a"])
    for name, write in (("dup.feather", feather.write_feather), ("dup.parquet", pq.write_table)):
        p = tmp_path / name
        write(t, p)
        err = _raises(p, read_table, p, match="appears twice")
        assert err.column == "a"


@pytest.mark.parametrize("values", [
    pa.array([[1], [2]]), pa.array([{"u": 1}, {"u": 2}]),
    pa.array([[(1, 2)], [(3, 4)]], pa.map_(pa.int64(), pa.int64())),
    pa.array([1, 2], pa.date32()), pa.array([1, 2], pa.timestamp("s")),
    pa.array([decimal.Decimal("1.5"), decimal.Decimal("2.5")]), pa.array([b"\x00", b"\x01"]),
    pa.array([1, 2], pa.time32("s")),
])
def test_unsupported_column_types_are_refused(tmp_path, values):
    p = tmp_path / "weird.parquet"
    pq.write_table(pa.table({"w": values, "y": [0, 1]}), p)
    err = _raises(p, read_table, p, match="w|bytes")
    assert err.column == "w"
    assert read_table(p, columns=["y"]).num_rows == 2  # an unused column does not matter


def test_target_must_be_class_labels(tmp_path):
    t = pa.table({"d": pa.array([1, 2, 3], pa.date32()),
                  "m": pa.array([decimal.Decimal("1.5")] * 3), "f": [0.0, 0.5, 1.0],
                  "ok": [0.0, 1.0, 1.0], "s": pa.array(["a", "b", "a"]).dictionary_encode()})
    for col, match in (("d", "date32"), ("m", "decimal"), ("f", "0.5")):
        err = _raises("t.csv", target_values, t, col, path="t.csv", match=match)
        assert err.column == col
    assert _raises("t.csv", target_values, t, "f", path="t.csv").row == 2
    assert target_values(t, "ok").dtype == np.int64
    assert list(target_values(t, "s")) == ["a", "b", "a"]
    many = pa.table({"y": np.arange(1500)})
    _raises("m.csv", target_values, many, "y", path="m.csv", match="max_classes")
    assert len(target_values(many, "y", max_classes=2000)) == 1500


# ------------------------------------------------------------ non-finite numbers


def test_non_finite_numbers_name_file_row_and_column(tmp_path):
    p = tmp_path / "inf.csv"
    p.write_text("a,b,y\n1,2,0\n3,1e400,1\n")
    err = _raises(p, read_table, p, match="not a finite number")
    assert (err.row, err.column) == (2, "b")
    q = tmp_path / "s.csv"
    q.write_text("a,y\n1,0\n" + "2,1\n" * 10 + "-inf,0\n")
    err = _raises(q, lambda: list(iter_batches(q, columns=["a"], column_types={"a": pa.float64()},
                                               batch_rows=4)))
    assert (err.row, err.column) == (12, "a")
    r = tmp_path / "inf.parquet"
    pq.write_table(pa.table({"a": [1.0, np.inf], "y": [0, 1]}), r)
    assert _raises(r, read_table, r).row == 2
    assert read_table(r, columns=["y"]).num_rows == 2


# ------------------------------------------------------------ LIBSVM


def test_libsvm_hostile_lines(tmp_path):
    cases = {
        "comments.libsvm": ("# one\n# two\n", "no data lines", None),
        "frac.libsvm": ("# c\n1 1:1\n0.5 2:1\n", "label 0.5", 3),
        "inf.libsvm": ("1 1:1\n0 2:inf\n", "feature 2 has the value inf", 2),
        "nan.libsvm": ("1 1:1\n0 3:nan\n", "feature 3 has the value nan", 2),
        "huge.libsvm": ("1 1:1\n0 3000000000:1\n", "beyond the limit", 2),
        "wide.libsvm": ("1 1:1\n0 2000000000:1\n", "needs .* GiB, this machine has", None),
    }
    for name, (text, match, line) in cases.items():
        p = tmp_path / name
        p.write_text(text)
        err = _raises(p, read_libsvm, p, match=match)
        assert err.line == line
    p = tmp_path / "comments.libsvm"
    _raises(p, lambda: list(iter_libsvm(p, n_features=3, zero_based=False)), match="no data lines")
    q = tmp_path / "inf.libsvm"
    _raises(q, lambda: list(iter_libsvm(q, n_features=3, zero_based=False)), match="line 2")


def test_libsvm_one_wide_line_reads_fast(tmp_path):
    rng = np.random.default_rng(0)
    lines = [f"{i % 2} " + " ".join(f"{j}:{rng.normal():.3f}" for j in range(1, 11))
             for i in range(200)]
    lines[100] += " 2000:1.5"
    p = tmp_path / "wide.libsvm"
    p.write_text("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    X, y, _ = read_libsvm(p)
    assert time.perf_counter() - t0 < 5.0
    assert X.shape == (200, 2000) and X.nnz == 2001


# ------------------------------------------------------------ recognition and paths


def test_formats_recognised_by_content(tmp_path):
    t = _table(20)
    pq.write_table(t, tmp_path / "noext")
    feather.write_feather(t, tmp_path / "noext2")
    pq.write_table(t, tmp_path / "wrong.csv")
    (tmp_path / "zipped").write_bytes(gzip.compress(b"a,y\n1,0\n2,1\n"))
    (tmp_path / "svm.dat").write_bytes(gzip.compress(b"1 1:2 3:4\n0 2:1\n"))
    assert [detect_format(tmp_path / n) for n in ("noext", "noext2", "wrong.csv", "zipped", "svm.dat")] \
        == ["parquet", "feather", "parquet", "csv", "libsvm"]
    for n in ("noext", "noext2", "wrong.csv"):
        assert read_table(tmp_path / n).num_rows == 20
    assert read_table(tmp_path / "zipped").num_rows == 2


def test_existing_path_is_never_a_glob(tmp_path):
    p = tmp_path / "data[b].csv"
    p.write_text("a,y\n1,0\n2,1\n")
    (tmp_path / "datab.csv").write_text("a,y\n5,0\n")
    assert resolve_paths(p) == [str(p)] and resolve_path(p) == str(p)
    assert read_table(p).num_rows == 2 and sum(b.num_rows for b in iter_batches(p)) == 2
    assert resolve_path(tmp_path / "data?.csv") == str(tmp_path / "datab.csv")
    _raises(tmp_path / "d*.csv", resolve_path, tmp_path / "d*.csv", match="matches 2 files")
    with pytest.raises(FileNotFoundError, match="no such file"):
        resolve_paths(tmp_path / "missing.csv")


def test_memory_check_refuses_with_figures():
    with pytest.raises(ValueError, match=r"needs .* TiB, this machine has .* available") as err:
        check_memory(dense_bytes(10**9, 10**5), "the design")
    assert "\n" not in str(err.value)
    with pytest.raises(DataError, match=r"^f\.csv: the design needs"):
        check_memory(1 << 60, "the design", path="f.csv")
    check_memory(dense_bytes(100, 10), "a small design")
    assert format_bytes(12.3 * 2**30) == "12.3 GiB" and format_bytes(512) == "512 bytes"
