"""``logitfit generate``: an example data set in any format the commands read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from logitfit.cli.errors import CLIError

_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".feather": "feather",
            ".arrow": "feather", ".libsvm": "libsvm", ".svm": "libsvm"}

#: Feature columns written to a LIBSVM file (numeric ones only), as indices 1, 2, 3.
LIBSVM_FEATURES = ("income", "age", "score")


def example_table(rows: int, n_classes: int = 2, seed: int = 0) -> Any:
    """An example data set: income, age, region (categorical), score, and target y.

    ``z = -1 + 0.8 (log(income) - 10.5) / 0.5 - 0.03 (age - 45) + effect(region) + 1.2 score``;
    two classes: ``y ~ Bernoulli(sigmoid(z))``; more: ``z`` plus logistic noise cut at
    quantiles.
    """
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    income = np.round(rng.lognormal(10.5, 0.5, rows), 2)
    age = rng.integers(18, 80, rows)
    regions = np.array(["east", "north", "south", "west"])
    region = regions[rng.integers(0, 4, rows)]
    score = np.round(rng.normal(0, 1, rows), 4)
    effect = {"east": 0.0, "north": 0.4, "south": -0.5, "west": 0.8}
    z = (-1.0 + 0.8 * (np.log(income) - 10.5) / 0.5 - 0.03 * (age - 45)
         + np.array([effect[r] for r in region]) + 1.2 * score)
    if n_classes == 2:
        y = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(np.int64)
    else:
        cuts = np.quantile(z + rng.logistic(size=rows), np.linspace(0, 1, n_classes + 1)[1:-1])
        y = np.searchsorted(cuts, z + rng.logistic(size=rows)).astype(np.int64)
    return pa.table({"income": income, "age": age, "region": region, "score": score, "y": y})


def libsvm_text(X: np.ndarray, y: np.ndarray) -> bytes:
    """LIBSVM lines ``label j:v ...`` (1-based indices, zeros left out)."""
    lines = []
    for label, row in zip(y.tolist(), X, strict=True):
        feats = " ".join(f"{j + 1}:{v!r}" for j, v in enumerate(row.tolist()) if v != 0)
        lines.append(f"{label} {feats}".rstrip())
    return ("\n".join(lines) + "\n").encode()


def generate_file(output: str, *, rows: int, n_classes: int, seed: int) -> None:
    """Write :func:`example_table` to ``output`` in the format its extension names."""
    import pyarrow as pa

    from logitfit.io.atomic import atomic_path

    table = example_table(rows, n_classes, seed)
    base = output[:-3] if output.endswith(".gz") else output
    base = base[:-4] if base.endswith(".zst") else base
    fmt = _FORMATS.get(Path(base).suffix)
    if fmt is None:
        raise CLIError(f"{output}: unknown output format; use .csv, .tsv, .parquet, .feather, "
                       ".libsvm (text formats may end in .gz or .zst)")
    codec = "gzip" if output.endswith(".gz") else "zstd" if output.endswith(".zst") else None
    with atomic_path(output) as tmp:
        if fmt in ("csv", "tsv", "libsvm"):
            with pa.output_stream(tmp, compression=codec) as f:
                if fmt == "libsvm":
                    X = np.column_stack([table.column(c).to_numpy() for c in LIBSVM_FEATURES])
                    f.write(libsvm_text(X.astype(float), table.column("y").to_numpy()))
                else:
                    import pyarrow.csv as pc

                    pc.write_csv(table, f, write_options=pc.WriteOptions(
                        delimiter="\t" if fmt == "tsv" else ","))
        elif fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        else:
            import pyarrow.feather as feather

            feather.write_feather(table, tmp)
