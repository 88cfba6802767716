"""The ``logitfit`` command: parse, call the library, print. No math here.

Commands: ``fit``, ``predict``, ``evaluate``, ``summary``, ``report``,
``export``, ``generate`` (an example data set), and ``explain`` when that
module is installed. Every problem a person can fix exits with status 2 and
one paragraph of plain text naming the file, row and column; no command
leaves a partial output file behind (outputs are written to a temporary file
and renamed). Only typer is imported up front; each command imports what it
uses, so a command starts fast.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from logitfit.cli.errors import EXIT_ERROR, TRACEBACK_ENV, CommandFailed, handling, print_error

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

from logitfit.cli.diagnose import register as _register_diagnose  # noqa: E402 - after the app exists

_register_diagnose(app)

FormatOpt = Annotated[
    str | None, typer.Option("--format", help="Input format: csv, tsv, parquet, feather, libsvm "
                             "(default: from the content or extension).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (for scripts).")]
VerifyOpt = Annotated[str | None, typer.Option(
    "--verify-key-env", metavar="NAME", help="Refuse the model file unless it is signed with the "
    "key held in environment variable NAME (see fit --sign-key-env).")]


def _step(path: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``; any exception becomes one paragraph naming ``path`` and exit status 2."""
    with handling(path):
        return fn(*args, **kwargs)


def _input(path: str) -> str:
    """The data file a user path names: an existing file as it is, else a glob of one file."""
    from logitfit.io.files import resolve_path

    return _step(path, resolve_path, path)


def _key(name: str | None, option: str) -> str | None:
    """The signing key held in environment variable ``name`` (None without the option)."""
    if name is None:
        return None
    from logitfit.cli.errors import CLIError

    key = os.environ.get(name)
    if not key:
        print_error(CLIError(f"{option} {name}: the environment variable {name} is "
                             f"{'empty' if key == '' else 'not set'}; set it to the secret key"))
        raise typer.Exit(code=EXIT_ERROR)
    return key


def _split(s: str | None) -> list[str] | None:
    if s is None:
        return None
    return [p.strip() for p in s.split(",") if p.strip()]


def _print(text: str) -> None:
    from logitfit.cli.output import echo

    echo(text)


# --------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------


@app.command(epilog="Example: logitfit fit loans.csv --target y --features income,age,region "
             "--holdout 0.2 --seed 0 -o model.json (loans.csv as 'logitfit generate loans.csv' "
             "writes it)")
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
    weight_type: Annotated[str | None, typer.Option(
        "--weight-type", help="What --weight-col's weights mean: frequency (a row counts w times; "
        "whole numbers), analytic (variance 1/w; n = rows) or probability (survey weights: "
        "sandwich standard errors). Default: n = sum of weights.")] = None,
    trials: Annotated[str | None, typer.Option(
        "--trials", metavar="COLUMN", help="Grouped binomial data: COLUMN holds each row's "
        "trials and the target its successes (R's cbind(s, n - s)).")] = None,
    offset: Annotated[str | None, typer.Option(
        "--offset", metavar="COLUMN", help="Column of offsets: known terms added to the linear "
        "predictor (z = X w + b + offset), e.g. a log exposure.")] = None,
    model: Annotated[str, typer.Option(
        "--model", help="logistic (binary/multinomial), ordinal (proportional odds: ordered "
        "categories) or conditional (matched strata; needs --strata).")] = "logistic",
    strata: Annotated[str | None, typer.Option(
        "--strata", metavar="COLUMN", help="--model conditional: the column of stratum labels "
        "(matched sets).")] = None,
    link: Annotated[str, typer.Option(help="--model ordinal: logit, probit or cloglog.")] = "logit",
    categories: Annotated[str | None, typer.Option(
        help="--model ordinal: comma-separated categories from lowest to highest (default: "
        "sorted).")] = None,
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
    max_classes: Annotated[int, typer.Option(help="Most target classes accepted (a guard against "
                                             "fitting a measurement as classes).", min=2)] = 1000,
    sign_key_env: Annotated[str | None, typer.Option(
        "--sign-key-env", metavar="NAME", help="Sign the model file (HMAC-SHA256) with the key "
        "held in environment variable NAME; load it with --verify-key-env NAME.")] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Fit a logistic regression to a data file and save the model.

    Prints the coefficient table (with standard errors when available) and,
    with --holdout, metrics on the held-out rows. Data larger than the memory
    budget are fitted by streaming (numeric features, no holdout).
    """
    from logitfit.cli.fit_setup import FitOptions
    from logitfit.cli.fitting import fit_file, fit_json, save_model

    opts = FitOptions(
        data=_input(data), target=target, features=_split(features), formula=formula,
        categorical=_split(categorical) or [], penalty=penalty, alpha=alpha, solver=solver,
        tol=tol, max_iter=max_iter, class_weight=class_weight, weight_col=weight_col,
        holdout=holdout, seed=seed, fmt=fmt, scheduler=scheduler, memory_limit=memory_limit,
        max_classes=max_classes, weight_type=weight_type, trials_col=trials, offset_col=offset,
    )
    key = _key(sign_key_env, "--sign-key-env")
    if model != "logistic" or strata is not None:
        _fit_family(opts, model, strata, link, _split(categories), output, key, quiet, as_json)
        return
    progress = _Progress(enabled=not (quiet or as_json))
    try:
        result = _step(opts.data, fit_file, opts, callback=progress)
    finally:
        progress.close()
    if output is not None:
        _step(output, save_model, result, output, key=key)
    if as_json:
        print(json.dumps(fit_json(result, output), indent=2))
    elif not quiet:
        from logitfit.cli.output import fit_text

        _print(fit_text(result, output))


def _fit_family(opts: Any, model: str, strata: str | None, link: str, categories: list[str] | None,
                output: Path | None, key: str | None, quiet: bool, as_json: bool) -> None:
    """``fit --model ordinal|conditional`` (:mod:`logitfit.cli.family`)."""
    from logitfit.cli import family

    result = _step(opts.data, family.fit_family, opts, model, strata=strata, link=link,
                   categories=categories)
    if output is not None:
        _step(output, family.save_family_model, result, output, key=key)
    if as_json:
        print(json.dumps(family.fit_json(result, output), indent=2))
    elif not quiet:
        _print(family.fit_text(result, output))


def _family_model(model: Path, verify_key_env: str | None) -> Any:
    """The ordinal/conditional model a model file holds, or None for a logistic one."""
    from logitfit.cli.family import family_model

    return _step(model, family_model, model, _key(verify_key_env, "--verify-key-env"))


class _Progress:
    """Live progress (iteration, objective, gradient norm) once a fit has run for a while."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.after = float(os.environ.get("LOGITFIT_PROGRESS_AFTER", "1.0"))
        self.t0: float | None = None  # set at the first iteration: time the fit, not the reading
        self.live = None
        self.last = float("-inf")
        self.lines = float("-inf")

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
        if not sys.stderr.isatty():
            if now - self.lines >= 1.0:
                self.lines = now
                print(f"logitfit: {text}", file=sys.stderr, flush=True)
            return None
        if self.live is None:
            from rich.console import Console
            from rich.live import Live

            console = Console(stderr=True, markup=False, emoji=False, highlight=False)
            self.live = Live("", console=console, refresh_per_second=10, transient=False)
            self.live.start()
        self.live.update(text)
        return None

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


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
    interval: Annotated[float | None, typer.Option(
        "--interval", metavar="LEVEL", help="Also write each probability's standard error and "
        "LEVEL interval (delta method, e.g. 0.95); needs the covariance the model file "
        "stores.")] = None,
    offset: Annotated[str | None, typer.Option(
        "--offset", metavar="COLUMN", help="Column of offsets (required for a model fitted "
        "with --offset; a formula's offset(...) term is computed from the data).")] = None,
    verify_key_env: VerifyOpt = None,
) -> None:
    """Apply a model to a data file, streaming: memory stays flat however large DATA is.

    Columns are matched by name; extra columns are ignored unless named in
    --keep. Writes labels by default, probabilities with --proba.
    """
    from logitfit.cli.scoring import load_fitted, predict_file

    fam = _family_model(model, verify_key_env)
    if fam is not None:
        from logitfit.cli.family import predict_family

        data = _input(data)
        _step(data, predict_family, fam, data, output, proba=proba, keep=_split(keep) or [], fmt=fmt,
              offset_col=offset)
        return
    m = _step(model, load_fitted, model, _key(verify_key_env, "--verify-key-env"))
    data = _input(data)
    _step(data, predict_file, m, data, output, proba=proba, threshold=threshold,
          keep=_split(keep) or [], fmt=fmt, batch_rows=batch_rows, interval=interval,
          offset_col=offset)


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
    offset: Annotated[str | None, typer.Option(
        "--offset", metavar="COLUMN", help="Column of offsets (required for a model fitted "
        "with --offset).")] = None,
    verify_key_env: VerifyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accuracy, precision, recall, F1, log loss, Brier, ROC/PR AUC, confusion matrix and
    calibration table of a model on labelled data.
    """
    from logitfit.cli.output import metrics_text
    from logitfit.cli.scoring import evaluate_scores, load_fitted, score_file

    m = _step(model, load_fitted, model, _key(verify_key_env, "--verify-key-env"))
    data = _input(data)
    scored = _step(data, score_file, m, data, target=target, fmt=fmt, offset_col=offset)
    report = _step(data, evaluate_scores, m, scored, threshold=threshold, bins=bins)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print(metrics_text(report, brief=False))


# --------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------


@app.command(epilog="Example: logitfit summary model.json")
def summary(
    model: Annotated[Path, typer.Argument(help="Model file.")],
    verify_key_env: VerifyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What a model file holds: coefficients (with inference tables when the covariance is
    stored), classes, encoding and training metadata.
    """
    from logitfit.cli.output import model_summary, summary_text
    from logitfit.cli.scoring import load_fitted

    fam = _family_model(model, verify_key_env)
    if fam is not None:
        from logitfit.cli.family import summary_family

        text, family_info = _step(model, summary_family, fam)
        if as_json:
            print(json.dumps(family_info, indent=2))
        else:
            _print(text)
        return
    m = _step(model, load_fitted, model, _key(verify_key_env, "--verify-key-env"))
    info = _step(model, model_summary, m)
    if as_json:
        print(json.dumps(info, indent=2))
    else:
        _print(_step(model, summary_text, m, info))


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
    offset: Annotated[str | None, typer.Option(
        "--offset", metavar="COLUMN", help="Column of offsets (required for a model fitted "
        "with --offset).")] = None,
    verify_key_env: VerifyOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Write one self-contained HTML report: summary, cost per iteration, ROC and PR curves,
    calibration, coefficients, confusion matrix, decision boundary (two features).
    """
    from logitfit.cli.scoring import load_fitted, score_file, write_report

    fam = _family_model(model, verify_key_env)
    if fam is not None:  # ordinal: category probabilities against a covariate; conditional: strata
        from logitfit.cli.family import report_family

        data = _input(data)
        _step(output, report_family, fam, data, output, target=target, fmt=fmt)
        if not quiet:
            _print(f"report written to {output}")
        return
    m = _step(model, load_fitted, model, _key(verify_key_env, "--verify-key-env"))
    data = _input(data)
    scored = _step(data, score_file, m, data, target=target, fmt=fmt, keep_X=True,
                   offset_col=offset)
    _step(output, write_report, m, scored, output, threshold=threshold)
    if not quiet:
        _print(f"report written to {output}")


# --------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------


@app.command(epilog="Example: logitfit export model.json --onnx model.onnx")
def export(
    model: Annotated[Path, typer.Argument(help="Model file.")],
    onnx: Annotated[Path, typer.Option("--onnx", help="ONNX file to write.")],
    verify_key_env: VerifyOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Export a model to ONNX; probabilities are checked against predict_proba (1e-6) under
    onnxruntime before the file is written.
    """
    from logitfit.cli.scoring import load_fitted
    from logitfit.io import onnx as onnx_export

    m = _step(model, load_fitted, model, _key(verify_key_env, "--verify-key-env"))
    err = _step(onnx, onnx_export.export_onnx, m, onnx)
    if not quiet:
        _print(f"ONNX model written to {onnx} (max |p - predict_proba| = {err:.1e})")


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
    from logitfit.cli.example import generate_file

    _step(output, generate_file, output, rows=rows, n_classes=classes, seed=seed)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``logitfit`` command."""
    import numpy as np

    np.seterr(all="ignore")  # numerics are guarded where they matter; keep stderr clean
    if sys.platform.startswith("linux"):  # pyarrow's Linux wheels include jemalloc
        # jemalloc hands finished batches back sooner than mimalloc: lower peak memory (docs/cli.md)
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    try:
        app(args=argv, prog_name="logitfit")
    except CommandFailed as err:
        print_error(err)
        raise SystemExit(EXIT_ERROR) from None
    except Exception as err:  # noqa: BLE001 - outside any step: still one paragraph, no traceback
        if os.environ.get(TRACEBACK_ENV) == "1":
            raise
        print_error(f"unexpected {type(err).__name__}: {err} (set {TRACEBACK_ENV}=1 for the "
                    "traceback)")
        raise SystemExit(EXIT_ERROR) from None
