"""The ``logitfit`` command: parse, call the library, print. No math here.

Commands: ``fit``, ``predict``, ``evaluate``, ``summary``, ``report``,
``export``, ``generate`` (an example data set), and ``explain`` when that
module is installed. Every problem a person can fix exits with status 2 and
one line naming the file, row and column; no command leaves a partial output
file behind (outputs are written to a temporary file and renamed).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from logitfit.cli import core
from logitfit.cli.core import CLIError

app = typer.Typer(
    name="logitfit",
    help="Fit, apply, evaluate and report logistic regression models from data files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

try:  # the explain sub-app lives in its own module, which may be absent
    from logitfit.cli.explain import explain_app
except ImportError:  # pragma: no cover - depends on what is installed
    explain_app = None
if explain_app is not None:  # pragma: no cover
    app.add_typer(explain_app, name="explain")

FormatOpt = Annotated[
    str | None, typer.Option("--format", help="Input format: csv, tsv, parquet, feather, libsvm "
                             "(default: from the extension or content).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (for scripts).")]


def _console(stderr: bool = False):
    import shutil

    from rich.console import Console

    # wide enough that tables are never cut when the output goes to a file or pipe
    width = None if sys.stdout.isatty() else max(120, shutil.get_terminal_size().columns)
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def _fail(err: BaseException) -> typer.Exit:
    msg = str(err)
    _console(stderr=True).print(f"[bold red]logitfit: error:[/] {msg}", markup=True,
                                highlight=False, emoji=False)
    return typer.Exit(code=2)


def _run(fn, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``; a user-fixable error becomes a message and exit status 2."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, CLIError, OSError) as err:
        raise _fail(err) from None


def _split(s: str | None) -> list[str] | None:
    if s is None:
        return None
    return [p.strip() for p in s.split(",") if p.strip()]


# --------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------


@app.command(epilog="Example: logitfit fit loans.csv --target default --features "
             "income,age,region --holdout 0.2 --seed 0 -o model.json")
def fit(
    data: Annotated[str, typer.Argument(help="Data file (CSV/TSV[.gz|.zst], Parquet file or "
                                        "directory, Feather/Arrow, LIBSVM) or - for CSV on stdin.")],
    target: Annotated[str | None, typer.Option("--target", "-t", help="Target column (not "
                                               "needed for LIBSVM).")] = None,
    features: Annotated[str | None, typer.Option(help="Comma-separated feature columns "
                                                 "(default: every other column).")] = None,
    formula: Annotated[str | None, typer.Option(help="Model formula, e.g. 'y ~ a + C(b)' "
                                                "(needs formula support).")] = None,
    categorical: Annotated[str | None, typer.Option(help="Comma-separated numeric columns to "
                                                    "treat as categorical.")] = None,
    penalty: Annotated[str | None, typer.Option(help="None or l2.")] = None,
    alpha: Annotated[float, typer.Option(help="Penalty strength.")] = 1e-4,
    solver: Annotated[str, typer.Option(help="auto, newton, newton-cg, lbfgs, gd, sgd.")] = "auto",
    tol: Annotated[float, typer.Option(help="Gradient tolerance.")] = 1e-6,
    max_iter: Annotated[int | None, typer.Option(help="Iteration limit.")] = None,
    class_weight: Annotated[str | None, typer.Option(help="'balanced' or none.")] = None,
    weight_col: Annotated[str | None, typer.Option(help="Column of row weights.")] = None,
    holdout: Annotated[float, typer.Option(help="Fraction of rows held out for metrics.",
                                           min=0.0, max=0.9)] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the holdout split.")] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Model file to write "
                                                "(JSON).")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Fit on this Dask cluster "
                                                  "(tcp://host:8786); workers read DATA.")] = None,
    memory_limit: Annotated[str | None, typer.Option(help="Memory budget, e.g. 2GB (default "
                                                     "1GiB): larger data are fitted by "
                                                     "streaming from disk.")] = None,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Fit a logistic regression to a data file and save the model.

    Prints the coefficient table (with standard errors when available) and,
    with --holdout, metrics on the held-out rows. Data larger than the memory
    budget are fitted by streaming (numeric features, no holdout).
    """
    opts = core.FitOptions(
        data=data, target=target, features=_split(features), formula=formula,
        categorical=_split(categorical) or [], penalty=penalty, alpha=alpha, solver=solver,
        tol=tol, max_iter=max_iter, class_weight=class_weight, weight_col=weight_col,
        holdout=holdout, seed=seed, fmt=fmt, scheduler=scheduler, memory_limit=memory_limit,
    )
    progress = _Progress(enabled=not (quiet or as_json))
    try:
        result = _run(core.fit_file, opts, callback=progress)
    finally:
        progress.close()
    if output is not None:
        _run(core.save_model, result, output)
    if as_json:
        print(json.dumps(core.fit_json(result, output), indent=2))
    elif not quiet:
        _print_fit(result, output)


class _Progress:
    """Live progress (iteration, objective, gradient norm) once a fit has run for a while."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.after = float(os.environ.get("LOGITFIT_PROGRESS_AFTER", "1.0"))
        self.t0: float | None = None  # set at the first iteration: time the fit, not the reading
        self.live = None
        self.last = -np.inf
        self.lines = -np.inf

    def __call__(self, it: int, x: Any, f: float, gn: float) -> None:
        if not self.enabled:
            return None
        if self.t0 is None:
            self.t0 = time.perf_counter()
        now = time.perf_counter() - self.t0
        if now < self.after or now - self.last < 0.1:
            return None
        self.last = now
        text = f"iteration {it:>5}   objective {f:.10g}   max|grad| {gn:.3e}   {now:6.1f} s"
        console = _console(stderr=True)
        if not console.is_terminal:
            if now - self.lines >= 1.0:
                self.lines = now
                print(f"logitfit: {text}", file=sys.stderr, flush=True)
            return None
        if self.live is None:
            from rich.live import Live

            self.live = Live("", console=console, refresh_per_second=10, transient=False)
            self.live.start()
        self.live.update(text)
        return None

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def _print_fit(result: core.FitResult, output: Path | None) -> None:
    out = _console()
    model = result.model
    table = core.coefficient_text(result)
    if isinstance(table, str):  # the estimator's summary: plain text, "[0.025" is not markup
        out.print(table, markup=False)
    else:
        out.print(table)
    status = "converged" if model.converged_ else "did NOT converge"
    out.print(f"\nsolver {getattr(model, 'solver_', model.solver)}: {status} in "
              f"{model.n_iter_} iterations ({result.seconds:.2f} s); "
              f"{result.n_train} training rows"
              + {"stream": " (streamed from disk)", "dask": " (on the Dask cluster)"}.get(
                  result.fitted_by, ""))
    if result.holdout_metrics is not None:
        out.print(f"\nheld-out metrics ({result.n_holdout} rows):")
        out.print(core.metrics_text(result.holdout_metrics, brief=True))
    if output is not None:
        out.print(f"\nmodel written to {output}")


# --------------------------------------------------------------------------
# predict
# --------------------------------------------------------------------------


@app.command(epilog="Example: logitfit predict model.json new.parquet -o scores.csv --proba "
             "--keep id")
def predict(
    model: Annotated[Path, typer.Argument(help="Model file written by 'logitfit fit'.")],
    data: Annotated[str, typer.Argument(help="Data file, or - for CSV on stdin.")],
    output: Annotated[str, typer.Option("--output", "-o", help="Output file: .csv, .tsv, "
                                        ".parquet or .feather (- for CSV on stdout).")],
    proba: Annotated[bool, typer.Option("--proba", help="Write one probability column per "
                                        "class.")] = False,
    threshold: Annotated[float | None, typer.Option(help="Write labels: positive when "
                                                    "p > threshold (two classes).")] = None,
    keep: Annotated[str | None, typer.Option(help="Comma-separated columns to pass through.")]
    = None,
    fmt: FormatOpt = None,
    batch_rows: Annotated[int, typer.Option(help="Rows per streamed batch.", min=1)] = 65_536,
) -> None:
    """Apply a model to a data file, streaming: memory stays flat however large DATA is.

    Columns are matched by name; extra columns are ignored unless named in
    --keep. Writes labels by default, probabilities with --proba.
    """
    m = _run(core.load_scorer, model)
    _run(core.predict_file, m, data, output, proba=proba, threshold=threshold,
         keep=_split(keep) or [], fmt=fmt, batch_rows=batch_rows)


# --------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------


@app.command(epilog="Example: logitfit evaluate model.json test.csv --json")
def evaluate(
    model: Annotated[Path, typer.Argument(help="Model file.")],
    data: Annotated[str, typer.Argument(help="Labelled data file.")],
    target: Annotated[str | None, typer.Option("--target", "-t", help="Target column "
                                               "(default: the training target).")] = None,
    threshold: Annotated[float, typer.Option(help="Decision threshold (two classes).")] = 0.5,
    bins: Annotated[int, typer.Option(help="Calibration bins.", min=2)] = 10,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accuracy, precision, recall, F1, log loss, Brier, ROC/PR AUC, confusion matrix and
    calibration table of a model on labelled data.
    """
    m = _run(core.load_scorer, model)
    scored = _run(core.score_file, m, data, target=target, fmt=fmt)
    report = _run(core.evaluate_scores, m, scored, threshold=threshold, bins=bins)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _console().print(core.metrics_text(report, brief=False))


# --------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------


@app.command(epilog="Example: logitfit summary model.json")
def summary(
    model: Annotated[Path, typer.Argument(help="Model file.")],
    as_json: JsonOpt = False,
) -> None:
    """What a model file holds: coefficients (with inference tables when the covariance is
    stored), classes, encoding and training metadata.
    """
    m = _run(core.load_model, model)
    info = core.model_summary(m)
    if as_json:
        print(json.dumps(info, indent=2))
    else:
        _console().print(core.summary_text(m, info))


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------


@app.command(epilog="Example: logitfit report model.json test.csv -o report.html")
def report(
    model: Annotated[Path, typer.Argument(help="Model file.")],
    data: Annotated[str, typer.Argument(help="Labelled data file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")],
    target: Annotated[str | None, typer.Option("--target", "-t", help="Target column.")] = None,
    threshold: Annotated[float, typer.Option(help="Decision threshold.")] = 0.5,
    fmt: FormatOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write one self-contained HTML report: summary, cost per iteration, ROC and PR curves,
    calibration, coefficients, confusion matrix, decision boundary (two features).
    """
    m = _run(core.load_model, model)
    scored = _run(core.score_file, m, data, target=target, fmt=fmt, keep_X=True)
    _run(core.write_report, m, scored, output, threshold=threshold)
    if not quiet:
        _console().print(f"report written to {output}")


# --------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------


@app.command(epilog="Example: logitfit export model.json --onnx model.onnx")
def export(
    model: Annotated[Path, typer.Argument(help="Model file.")],
    onnx: Annotated[Path, typer.Option("--onnx", help="ONNX file to write.")],
    quiet: QuietOpt = False,
) -> None:
    """Export a model to ONNX; probabilities are checked against predict_proba (1e-6) under
    onnxruntime before the file is written.
    """
    m = _run(core.load_model, model)
    from logitfit.io import onnx as onnx_export

    err = _run(onnx_export.export_onnx, m, onnx)
    if not quiet:
        _console().print(f"ONNX model written to {onnx} (max |p - predict_proba| = {err:.1e})")


# --------------------------------------------------------------------------
# generate
# --------------------------------------------------------------------------


@app.command(epilog="Example: logitfit generate loans.csv --rows 1000 --seed 0")
def generate(
    output: Annotated[str, typer.Argument(help="File to write (.csv, .parquet, .feather, "
                                          ".libsvm; .csv.gz too).")],
    rows: Annotated[int, typer.Option(help="Rows.", min=1)] = 1000,
    classes: Annotated[int, typer.Option(help="Classes.", min=2)] = 2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Write an example data set (numeric and categorical features, target column 'y')."""
    _run(core.generate_file, output, rows=rows, n_classes=classes, seed=seed)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``logitfit`` command."""
    np.seterr(all="ignore")  # numerics are guarded where they matter; keep stderr clean
    if sys.platform.startswith("linux"):  # pyarrow's Linux wheels include jemalloc
        # predict's peak RSS, 57 MB CSV to Parquet: jemalloc 204 MB, mimalloc (pyarrow's
        # default) 227-249 MB: jemalloc hands finished batches back sooner (docs/cli.md)
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    app(args=argv, prog_name="logitfit")
