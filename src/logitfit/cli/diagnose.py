"""``logitfit diagnose``: residuals and influence of every row of a data file, streamed.

The model file's coefficients and stored (nonrobust) covariance are all each row
needs (:mod:`logitfit.inference.diagnostics`), so the data are read batch by
batch and the per-row table is written as it goes (atomically: a failure leaves
no output); memory holds one batch and the ``--top`` rows. Registered on the
``logitfit`` command by :func:`register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from logitfit.cli.errors import EXIT_ERROR, CLIError, handling, print_error

__all__ = ["diagnose", "diagnose_file", "register"]

EPILOG = ("Example: logitfit diagnose model.json loans.csv -o influence.parquet --top 5 "
          "(model.json from 'logitfit fit loans.csv --target y -o model.json')")

#: Columns printed for the most influential rows.
SHOWN = ("row", "fitted", "student_pearson", "leverage", "cooks_distance")


def register(app: typer.Typer) -> None:
    """Add the ``diagnose`` command to the ``logitfit`` app."""
    app.command(name="diagnose", epilog=EPILOG)(diagnose)


def diagnose(
    model: Annotated[Path, typer.Argument(help="Model file written by 'logitfit fit' (binary, "
                                          "unpenalised; it stores the covariance).")],
    data: Annotated[str, typer.Argument(help="Labelled data file (CSV/TSV, Parquet, Feather, "
                                        "LIBSVM).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Per-row table to write: "
                                         ".parquet, .csv or .tsv.")],
    target: Annotated[str | None, typer.Option("--target", "-t", help="Target column "
                                               "(default: the training target).")] = None,
    weight_col: Annotated[str | None, typer.Option(help="Column of row weights.")] = None,
    offset: Annotated[str | None, typer.Option("--offset", metavar="COLUMN", help="Column of "
                                               "offsets (a model fitted with --offset needs "
                                               "it).")] = None,
    top: Annotated[int, typer.Option(help="Print the N rows with the largest Cook's "
                                     "distance.", min=0)] = 10,
    gof: Annotated[bool, typer.Option("--gof", help="Also print the goodness-of-fit tests "
                                      "(keeps 24 bytes a row for Hosmer-Lemeshow).")] = False,
    fmt: Annotated[str | None, typer.Option("--format", help="Input format (default: from the "
                                            "content or extension).")] = None,
    batch_rows: Annotated[int, typer.Option(help="Rows per streamed batch.", min=1)] = 65_536,
    verify_key_env: Annotated[str | None, typer.Option(
        "--verify-key-env", metavar="NAME", help="Refuse the model file unless it is signed with "
        "the key held in environment variable NAME.")] = None,
) -> None:
    """Residuals, leverage, Cook's distance and DFBETAS of every row of DATA, streamed.

    Writes one row per data row (row number, fitted probability, response, Pearson,
    deviance and studentised residuals, leverage, Cook's distance, one DFBETAS
    column per term; see docs/checking.md) and prints the rows with the largest
    Cook's distance.
    """
    import os

    from logitfit.cli.scoring import load_fitted
    from logitfit.io.files import resolve_path

    key = None
    if verify_key_env is not None:
        key = os.environ.get(verify_key_env)
        if not key:
            print_error(CLIError(f"--verify-key-env {verify_key_env}: the environment variable "
                                 f"{verify_key_env} is not set or empty; set it to the secret key"))
            raise typer.Exit(code=EXIT_ERROR)
    with handling(model):
        m = load_fitted(model, key)
    with handling(data):
        data = resolve_path(data)
        result = diagnose_file(m, data, output, target=target, weight=weight_col, top=top,
                               fmt=fmt, batch_rows=batch_rows, gof=gof, offset=offset)
    from logitfit.cli.output import echo

    echo(diagnose_text(result, output))


def _labels(m: Any, batch: Any, target: str | None, data: str, rows: int) -> Any:
    """0/1 class indices of a batch's target column; an unknown or missing label names its row."""
    import numpy as np

    from logitfit.exceptions import DataError

    classes = m.classes
    if target is None:
        y = np.asarray(batch["__label__"])
        y = y.astype(classes.dtype) if classes.dtype.kind in "iuf" else y
    else:
        col = batch.column(target)
        if col.null_count:
            import pyarrow.compute as pc

            i = pc.index(pc.is_null(col), True).as_py()
            raise DataError(data, "missing value in the target column", row=rows + i + 1, column=target)
        y = np.asarray(col.to_pylist(), dtype=classes.dtype if classes.dtype.kind != "U" else str)
    idx = np.minimum(np.searchsorted(classes, y), len(classes) - 1)
    bad = np.flatnonzero(classes[idx] != y)
    if bad.size:
        i = int(bad[0])
        raise DataError(data, f"label {y[i:i + 1].tolist()[0]!r} is not one of the model's classes "
                        f"{np.asarray(classes).tolist()}", row=rows + i + 1, column=target)
    return idx.astype(np.float64)


def _weights(batch: Any, weight: str | None, n: int, data: str, rows: int) -> Any:
    import numpy as np

    from logitfit.exceptions import DataError

    if weight is None:
        return np.ones(n)
    sw = np.asarray(batch.column(weight).to_numpy(zero_copy_only=False), dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(sw) & (sw >= 0)))
    if bad.size:
        i = int(bad[0])
        raise DataError(data, f"weight {sw[i]!r} is not a finite non-negative number",
                        row=rows + i + 1, column=weight)
    return sw


def diagnose_file(m: Any, data: str, output: Path, *, target: str | None, weight: str | None,
                  top: int, fmt: str | None, batch_rows: int = 65_536, gof: bool = False,
                  offset: str | None = None) -> dict:
    """Stream ``data`` through the diagnostics of the loaded model ``m`` into ``output``.

    ``offset`` names the data's offset column (a formula's ``offset(...)`` term needs none).

    Returns ``{"rows", "top" (dict of columns of the ``top`` rows by Cook's distance,
    largest first), "gof" (GoodnessOfFit or None)}``.
    """
    import numpy as np
    import pyarrow as pa

    from logitfit.cli.scoring import _batch_offset, _batches_X, _offset_columns, influence_basis
    from logitfit.estimators.checking import write_columns
    from logitfit.inference.diagnostics import block_diagnostics
    from logitfit.inference.goodness_of_fit import GofAccumulator

    basis = influence_basis(m)
    libsvm = m.encoder.kind == "libsvm"
    if not libsvm:
        target = target or (m.metadata or {}).get("target")
        if target is None:
            raise CLIError("--target is required: the model file does not name its target")
    kind = m.classes.dtype.kind
    types = {} if libsvm else {target: {"b": pa.bool_(), "i": pa.int64(), "u": pa.int64(),
                                        "f": pa.float64()}.get(kind, pa.string())}
    extra = [] if libsvm else [target]
    if weight is not None:
        extra.append(weight)
        types[weight] = pa.float64()
    offset_cols, offset_types = _offset_columns(m, offset)
    extra += [c for c in offset_cols if c not in extra]
    types.update(offset_types)
    acc = GofAccumulator(basis.theta, basis.fit_intercept) if gof else None
    best: dict[str, np.ndarray] = {}
    count = [0]

    def tables():
        nonlocal best
        for X, batch, rows in _batches_X(m, data, fmt=fmt, extra=extra, extra_types=types,
                                         batch_rows=batch_rows):
            y01 = _labels(m, batch, None if libsvm else target, data, rows)
            sw = _weights(batch, weight, len(y01), data, rows)
            off = _batch_offset(m, batch, offset, data, rows)
            table = {"row": np.arange(rows + 1, rows + len(y01) + 1, dtype=np.int64),
                     **block_diagnostics(basis, X, y01, sw, off)}
            if acc is not None:
                acc.add(X, y01, sw, off)
            if top:
                merged = {c: np.concatenate([best[c], table[c]]) if best else table[c] for c in SHOWN}
                cooks = np.nan_to_num(merged["cooks_distance"], nan=np.inf)
                keep = np.argsort(-cooks, kind="stable")[:top]
                best = {c: v[keep] for c, v in merged.items()}
            count[0] += len(y01)
            yield table

    write_columns(tables(), output)
    return {"rows": count[0], "top": best, "gof": acc.result() if acc is not None else None}


def diagnose_text(result: dict, output: Path) -> str:
    """Plain text: rows written, the most influential rows, and the tests when asked for."""
    lines = [f"{result['rows']} rows: residuals and influence written to {output}"]
    best = result["top"]
    if best and len(best["row"]):
        lines += ["", f"Most influential rows (largest Cook's distance, top {len(best['row'])}):"]
        head = ["row", "fitted", "student_pearson", "leverage", "cooks_distance"]
        cells = [[str(int(r)), f"{p:.4f}", f"{s:.3f}", f"{h:.4f}", f"{d:.4g}"]
                 for r, p, s, h, d in zip(*(best[c] for c in SHOWN), strict=True)]
        widths = [max(len(x) for x in col) for col in zip(head, *cells, strict=True)]
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *cells]]
    if result["gof"] is not None:
        lines += ["", str(result["gof"])]
    return "\n".join(lines)
