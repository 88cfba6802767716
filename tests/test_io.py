"""Reading every input format (logitfit.io.tables) and the categorical encoding (logitfit.data.columns).

Oracle: the same table written in each format reads back equal to the
original; every malformed input raises DataError naming file, row and column.
"""

from __future__ import annotations

import gzip

import numpy as np
import pyarrow as pa
import pyarrow.csv as pc
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from logitfit.cli.example import example_table
from logitfit.data.columns import Encoder, target_values
from logitfit.exceptions import DataError
from logitfit.io.libsvm import iter_libsvm, read_libsvm
from logitfit.io.tables import detect_format, iter_batches, read_table


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return example_table(300, seed=1)


def _write(table: pa.Table, path, fmt: str) -> None:
    if fmt == "csv":
        pc.write_csv(table, path)
    elif fmt == "tsv":
        pc.write_csv(table, path, write_options=pc.WriteOptions(delimiter="\t"))
    elif fmt == "csv.gz":
        buf = pa.BufferOutputStream()
        pc.write_csv(table, buf)
        path.write_bytes(gzip.compress(buf.getvalue().to_pybytes()))
    elif fmt == "csv.zst":
        with pa.output_stream(str(path), compression="zstd") as f:
            pc.write_csv(table, f)
    elif fmt == "parquet":
        pq.write_table(table, path, row_group_size=64)
    elif fmt == "feather":
        feather.write_feather(table, path, chunksize=50)


FORMATS = ["csv", "tsv", "csv.gz", "csv.zst", "parquet", "feather"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_table_round_trip(tmp_path, table, fmt):
    path = tmp_path / f"data.{fmt}"
    _write(table, path, fmt)
    got = read_table(path)
    assert got.column_names == table.column_names
    for name in table.column_names:
        assert got.column(name).to_pylist() == table.column(name).to_pylist()


@pytest.mark.parametrize("fmt", FORMATS)
def test_iter_batches_streams_all_rows(tmp_path, table, fmt):
    path = tmp_path / f"data.{fmt}"
    _write(table, path, fmt)
    batches = list(iter_batches(path, columns=["age", "y"], batch_rows=40))
    assert sum(b.num_rows for b in batches) == table.num_rows
    assert all(b.num_rows <= 64 for b in batches) or fmt.startswith(("csv", "tsv"))
    ages = [v for b in batches for v in b.column("age").to_pylist()]
    assert ages == table.column("age").to_pylist()


def test_parquet_directory(tmp_path, table):
    d = tmp_path / "ds"
    d.mkdir()
    pq.write_table(table.slice(0, 100), d / "part-0.parquet")
    pq.write_table(table.slice(100), d / "part-1.parquet")
    assert detect_format(d) == "parquet"
    assert read_table(d).num_rows == table.num_rows


def test_semicolon_delimiter_detected(tmp_path):
    p = tmp_path / "semi.csv"
    p.write_text("a;b;y\n1;2;0\n3;4;1\n")
    t = read_table(p)
    assert t.column_names == ["a", "b", "y"]
    assert t.column("b").to_pylist() == [2, 4]


def test_content_sniffing_without_extension(tmp_path, table):
    p = tmp_path / "data"
    pq.write_table(table, p)
    assert detect_format(p) == "parquet"
    q = tmp_path / "data2"
    q.write_text("1 1:0.5 3:2\n0 2:1\n")
    assert detect_format(q) == "libsvm"


def test_libsvm_sparse(tmp_path):
    p = tmp_path / "d.libsvm"
    p.write_text("1 1:0.5 3:2\n0 2:1.5\n1 3:-1 # comment\n")
    X, y, zero_based = read_libsvm(p)
    assert not zero_based
    assert X.format == "csr" and X.shape == (3, 3)
    np.testing.assert_array_equal(X.toarray(), [[0.5, 0, 2], [0, 1.5, 0], [0, 0, -1]])
    np.testing.assert_array_equal(y, [1, 0, 1])
    parts = list(iter_libsvm(p, n_features=3, zero_based=False, batch_rows=2))
    assert [P[0].shape[0] for P in parts] == [2, 1]


@pytest.mark.parametrize(
    ("content", "row", "column", "words"),
    [
        ("a,b,y\n1,2,0\n3,4\n", 2, None, "ragged row"),
        ("", None, None, "empty"),
        ("1,2,3\n4,5,6\n", None, None, "no header"),
        ("a,b,y\n", None, None, "no data rows"),
    ],
)
def test_csv_errors_name_row(tmp_path, content, row, column, words):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(DataError, match=words) as info:
        read_table(p)
    assert info.value.row == row
    assert str(p) in str(info.value)


def test_non_numeric_value_in_numeric_column_named(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("a,b,y\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(30)) + "7,oops,1\n")
    t = read_table(p)
    with pytest.raises(DataError, match="non-numeric value 'oops'") as info:
        Encoder.fit(t, ["a", "b"], path=str(p))
    assert info.value.row == 31 and info.value.column == "b"
    # with the model's types fixed (predict), the streamed reader names it too
    with pytest.raises(DataError, match="row 31, column 'b'"):
        list(iter_batches(p, column_types={"b": pa.float64()}))


def test_unknown_format_and_missing_column(tmp_path, table):
    p = tmp_path / "blob.bin"
    p.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(DataError, match="unknown format"):
        detect_format(p)
    q = tmp_path / "d.parquet"
    pq.write_table(table, q)
    with pytest.raises(DataError, match="missing column 'nope'"):
        read_table(q, columns=["nope"])


def test_encoder_treatment_coding_and_unseen_level(tmp_path, table):
    enc = Encoder.fit(table, ["income", "region"])
    assert enc.feature_names == ["income", "region[T.north]", "region[T.south]", "region[T.west]"]
    X = enc.transform(table)
    region = table.column("region").to_pylist()
    for i, r in enumerate(region):
        assert X[i, 1:].sum() == (r != "east")
    assert Encoder.from_dict(enc.to_dict()) == enc
    bad = pa.table({"income": [1.0], "region": ["mars"]})
    with pytest.raises(DataError, match="level 'mars' was not seen"):
        enc.transform(bad, path="new.csv")


def test_target_values_types(table):
    assert target_values(table, "y").dtype == np.int64
    assert target_values(table, "region").dtype.kind == "U"
    t = pa.table({"y": [1.0, None]})
    with pytest.raises(DataError, match="row 2"):
        target_values(t, "y")
