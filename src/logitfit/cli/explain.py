"""``logitfit explain``: the derivation and the pictures behind logistic regression, on your data.

A typer sub-app (``explain_app``) that :mod:`logitfit.cli.app` mounts as
``logitfit explain``. It parses, calls :mod:`logitfit.explain.steps` and prints
(rich tables, or Markdown / LaTeX / HTML with ``--format``); no math here.
DATA is a CSV file read with pandas; the design matrix is ``[1, features]``
(the course's column of ones first, so theta_0 is the intercept).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

explain_app = typer.Typer(
    name="explain",
    help="Show the derivation of the gradient, and why the log loss, step by step on your data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

FORMATS = ("rich", "text", "markdown", "latex", "html")

DataArg = Annotated[Path, typer.Argument(help="CSV file with a header row (or use --no-header).")]
TargetOpt = Annotated[str, typer.Option(
    "--target", "-t", help="Target column: a name, or a 0-based position (-1 is the last column). "
    "Its two values become 0 and 1 in sorted order.")]
FeaturesOpt = Annotated[str | None, typer.Option(
    help="Comma-separated feature columns (default: every other column).")]
NoHeaderOpt = Annotated[bool, typer.Option(
    "--no-header", help="The file has no header row; columns are named x1, x2, ... by position.")]
ThetaOpt = Annotated[str, typer.Option(
    help="zeros, fitted (the minimum-cost theta), random, or a list \"v0,v1,...\" "
    "(v0 is the intercept).")]
SeedOpt = Annotated[int, typer.Option(help="Random seed.")]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Write the figure to this file (PNG, SVG, PDF).")]


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _fail(msg: str) -> typer.Exit:
    from logitfit.cli.errors import EXIT_ERROR, print_error

    print_error(msg, prog="logitfit explain")  # plain text: a path or column is never markup
    return typer.Exit(code=EXIT_ERROR)


def _column(df: Any, key: str) -> str:
    if key in df.columns:
        return key
    try:
        return df.columns[int(key)]
    except (ValueError, IndexError):
        raise ValueError(f"no column {key!r}; the columns are {', '.join(map(str, df.columns))}") from None


def load_xy(path: Path, target: str, features: str | None = None,
            no_header: bool = False) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read DATA: ``([1, features], y in {0, 1}, ["(intercept)", feature names...])``."""
    import pandas as pd

    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    df = pd.read_csv(path, header=None if no_header else "infer")
    if no_header:
        df.columns = [f"x{k}" for k in range(1, df.shape[1] + 1)]
    tcol = _column(df, target)
    cols = ([_column(df, c.strip()) for c in features.split(",") if c.strip()] if features
            else [c for c in df.columns if c != tcol])
    if not cols:
        raise ValueError(f"{path}: no feature columns besides the target {tcol!r}")
    values = df[tcol].dropna().unique()
    if df[tcol].isna().any() or len(values) != 2:
        raise ValueError(f"{path}: target {tcol!r} must have exactly two values and none missing; "
                         f"found {len(values)}")
    for c in cols:
        if not pd.api.types.is_numeric_dtype(df[c]) or df[c].isna().any():
            raise ValueError(f"{path}: column {c!r} is not numeric or has missing values")
    y = (df[tcol].to_numpy() == np.sort(values)[1]).astype(np.float64)
    X = np.column_stack([np.ones(len(df)), df[cols].to_numpy(dtype=np.float64)])
    return X, y, ["(intercept)", *map(str, cols)]


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValueError as err:
        raise _fail(str(err)) from None


def _kv_table(title: str, rows: list[tuple[str, ...]], head: tuple[str, ...], fmt: str) -> str | Any:
    """A small table as a rich Table (``rich``) or Markdown / LaTeX / HTML / plain text."""
    from html import escape

    if fmt == "rich":
        from rich.markup import escape as rich_escape
        from rich.table import Table

        t = Table(title=rich_escape(title), title_justify="left")
        for h in head:
            t.add_column(rich_escape(h))
        for r in rows:
            t.add_row(*map(rich_escape, r))
        return t
    if fmt == "markdown":
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return title + "\n\n" + "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"
    if fmt == "latex":
        body = [" & ".join(r) + r" \\" for r in [head, *rows]]
        return "\n".join([f"% {title}", r"\begin{tabular}{" + "l" * len(head) + "}", *body,
                          r"\end{tabular}"])
    if fmt == "html":
        trs = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
        ths = "".join(f"<th>{escape(h)}</th>" for h in head)
        return f"<table><caption>{escape(title)}</caption><tr>{ths}</tr>{trs}</table>"
    return title + "\n" + "\n".join("  ".join(r) for r in [head, *rows])


def _emit(obj: Any) -> None:
    if isinstance(obj, str):
        typer.echo(obj)
    else:
        _console().print(obj)


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise _fail(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return fmt


def _save(fig: Any, path: Path | None) -> None:
    if path is not None:
        fig.savefig(path, dpi=100)
        typer.echo(f"wrote {path}", err=True)


FormatOpt = Annotated[str, typer.Option(
    "--format", "-f", help="rich (a terminal table), text, markdown, latex or html.")]


@explain_app.command(epilog="Example: logitfit explain gradient ex2data1.txt --no-header "
                     "--target -1 --theta zeros --feature 1 --format markdown")
def gradient(
    data: DataArg,
    target: TargetOpt,
    theta: ThetaOpt = "zeros",
    feature: Annotated[str, typer.Option(
        help="Which theta_j: a 0-based position in [1, features] (0 is the intercept), "
        "a feature name, or all.")] = "all",
    features: FeaturesOpt = None,
    no_header: NoHeaderOpt = False,
    fmt: FormatOpt = "rich",
    seed: SeedOpt = 0,
) -> None:
    """Each step of the derivation of dJ/dtheta_j, evaluated on DATA, with its difference from the
    step before, then the closed form against a finite difference and the library's gradient."""
    from logitfit import explain as ex

    fmt = _check_format(fmt)
    X, y, names = _call(load_xy, data, target, features, no_header)
    th = _call(ex.resolve_theta, theta, X, y, seed)
    if feature == "all":
        js = list(range(X.shape[1]))
    elif feature in names:
        js = [names.index(feature)]
    else:
        try:
            js = [int(feature)]
        except ValueError:
            raise _fail(f"--feature {feature!r} is not all, a position or one of {', '.join(names)}") from None
    for j in js:
        table = _call(ex.derivation, X, y, th, j)
        if fmt == "rich":
            _emit(_rich_derivation(table, names[j] if 0 <= j < len(names) else str(j)))
        else:
            _emit({"text": table.to_text, "markdown": table.to_markdown, "latex": table.to_latex,
                   "html": table.to_html}[fmt]())


def _rich_derivation(table: Any, name: str) -> Any:
    from rich.markup import escape as rich_escape
    from rich.table import Table

    t = Table(title=rich_escape(f"dJ/dtheta_{table.j} (column {name})"),
              caption=rich_escape(table.caption()), title_justify="left", caption_justify="left")
    t.add_column("#", justify="right")
    t.add_column("step", ratio=1)
    t.add_column("formula", ratio=2)
    t.add_column("value", justify="right", no_wrap=True, min_width=22)
    t.add_column("vs", no_wrap=True)
    t.add_column("difference", justify="right", no_wrap=True)
    t.add_column("relative", justify="right", no_wrap=True)
    for k, s in enumerate(table.steps, 1):
        ref = "" if s.against is None else f"row {s.against + 1}"
        diff = "" if s.against is None else f"{s.diff:.2e}"
        rel = "" if s.against is None else f"{s.rel_diff:.2e}"
        t.add_row(str(k), rich_escape(s.name), rich_escape(s.text), f"{s.value:.17g}", ref, diff, rel)
    return t


@explain_app.command(epilog="Example: logitfit explain sigmoid --zmin -8 --zmax 8 --plot sigmoid.png")
def sigmoid(
    zmin: Annotated[float, typer.Option(help="Smallest z.")] = -10.0,
    zmax: Annotated[float, typer.Option(help="Largest z.")] = 10.0,
    points: Annotated[int, typer.Option(help="Points on the grid.", min=2)] = 401,
    plot: PlotOpt = None,
    fmt: FormatOpt = "rich",
) -> None:
    """sigma'(z) = sigma(z)(1 - sigma(z)) against central finite differences over a range of z."""
    from logitfit import explain as ex

    fmt = _check_format(fmt)
    chk = ex.sigmoid_check(np.linspace(zmin, zmax, points))
    idx = np.unique(np.linspace(0, points - 1, 7).round().astype(int))
    rows = [(f"{chk.z[i]:.4g}", f"{chk.sigma[i]:.12g}", f"{chk.analytic[i]:.12g}",
             f"{chk.finite_diff[i]:.12g}", f"{chk.abs_err[i]:.1e}") for i in idx]
    title = (f"sigma'(z) = sigma(z)(1 - sigma(z)) on {points} points in [{zmin:g}, {zmax:g}]: "
             f"max |difference| {chk.max_abs_err:.2e}, max relative {chk.max_rel_err:.2e}")
    _emit(_kv_table(title, rows, ("z", "sigma", "sigma(1-sigma)", "finite difference", "abs. difference"), fmt))
    _save(chk.figure() if plot else None, plot)


@explain_app.command(epilog="Example: logitfit explain likelihood ex2data1.txt --no-header "
                     "--target -1 --rows 5")
def likelihood(
    data: DataArg,
    target: TargetOpt,
    theta: ThetaOpt = "zeros",
    rows: Annotated[int, typer.Option(help="Rows of per-observation terms to show.", min=0)] = 5,
    features: FeaturesOpt = None,
    no_header: NoHeaderOpt = False,
    plot: PlotOpt = None,
    fmt: FormatOpt = "rich",
    seed: SeedOpt = 0,
) -> None:
    """The cost is minus the mean log-likelihood; the maximum-likelihood theta is the minimum-cost theta."""
    from logitfit import explain as ex

    fmt = _check_format(fmt)
    X, y, names = _call(load_xy, data, target, features, no_header)
    th = _call(ex.resolve_theta, theta, X, y, seed)
    L = _call(ex.likelihood, X, y, th)
    per_row = [(str(i + 1), f"{L.y[i]:g}", f"{L.h[i]:.6g}", f"{L.terms[i]:.6g}")
               for i in range(min(rows, L.m))]
    if per_row:
        _emit(_kv_table("log L = sum_i [y log h + (1-y) log(1-h)], first rows", per_row,
                        ("row", "y", "h", "y log h + (1-y) log(1-h)"), fmt))
    summary = [("J(theta) (logitfit.cost)", f"{L.cost:.17g}"),
               ("log L(theta)", f"{L.loglike:.17g}"),
               (f"-log L / m (m = {L.m})", f"{-L.loglike / L.m:.17g}"),
               ("J + log L / m", f"{L.cost_gap:.2e}")]
    _emit(_kv_table("cost = minus the mean log-likelihood", summary, ("quantity", "value"), fmt))
    opt = [(f"theta_{k}: {n}", f"{a:.12g}", f"{b:.12g}")
           for k, (n, a, b) in enumerate(zip(names, L.theta_min_cost, L.theta_max_likelihood, strict=True))]
    _emit(_kv_table(f"argmin J = argmax log L (largest relative gap {L.optimum_gap:.1e})", opt,
                    ("coefficient", "min cost (Newton on J)", "max likelihood (Fisher scoring)"), fmt))
    _save(L.figure() if plot else None, plot)


@explain_app.command(epilog="Example: logitfit explain convexity ex2data1.txt --no-header "
                     "--target -1 --plot convexity.png")
def convexity(
    data: DataArg,
    target: TargetOpt,
    points: Annotated[int, typer.Option(help="Sampled thetas.", min=1)] = 200,
    lines: Annotated[int, typer.Option(help="Lines through the optimum in the plot.", min=1)] = 3,
    radius: Annotated[float, typer.Option(help="How far from the optimum to sample, in units of "
                                          "1/rms(feature).")] = 10.0,
    features: FeaturesOpt = None,
    no_header: NoHeaderOpt = False,
    plot: PlotOpt = None,
    fmt: FormatOpt = "rich",
    seed: SeedOpt = 0,
) -> None:
    """Smallest Hessian eigenvalue of the log loss and of the squared error of the sigmoid at
    sampled thetas: never negative for the log loss, negative where the squared error is not convex."""
    from logitfit import explain as ex

    fmt = _check_format(fmt)
    X, y, _ = _call(load_xy, data, target, features, no_header)
    chk = _call(ex.convexity, X, y, n_points=points, n_lines=lines, radius=radius, seed=seed)
    rows = [("log loss J", f"{np.min(chk.min_eig_log):.3e}", f"{chk.n_negative_log} of {points}"),
            ("squared error E", f"{np.min(chk.min_eig_sq):.3e}", f"{chk.n_negative_sq} of {points}")]
    _emit(_kv_table("smallest Hessian eigenvalue over sampled thetas", rows,
                    ("cost", "smallest eigenvalue", "points with a negative one"), fmt))
    _save(chk.figure() if plot else None, plot)


@explain_app.command(epilog="Example: logitfit explain descent ex2data1.txt --no-header --target -1 "
                     "--lr 0.001,0.01,0.1 --optimizer gd --gif descent.gif --html descent.html")
def descent(
    data: DataArg,
    target: TargetOpt,
    lr: Annotated[str, typer.Option(help="Comma-separated learning rates.")] = "0.001,0.01,0.1",
    optimizer: Annotated[str, typer.Option(help="gd (the library's solver), momentum or adam.")] = "gd",
    iters: Annotated[int, typer.Option(help="Iterations.", min=1)] = 200,
    frames: Annotated[int, typer.Option(help="Animation frames.", min=2)] = 20,
    gif: Annotated[Path | None, typer.Option(help="Write the animation as a GIF.")] = Path("descent.gif"),
    html: Annotated[Path | None, typer.Option(help="Write a self-contained HTML page with a slider.")]
    = Path("descent.html"),
    dpi: Annotated[int, typer.Option(help="Resolution of the frames.", min=10)] = 72,
    features: FeaturesOpt = None,
    no_header: NoHeaderOpt = False,
    fmt: FormatOpt = "rich",
) -> None:
    """Run gradient descent for several learning rates and animate the decision boundary (two
    features) and the cost per iteration."""
    from logitfit import explain as ex

    fmt = _check_format(fmt)
    X, y, _ = _call(load_xy, data, target, features, no_header)
    try:
        lrs = [float(v) for v in lr.split(",") if v.strip()]
    except ValueError:
        raise _fail(f"--lr {lr!r} is not a comma-separated list of numbers") from None
    res = _call(ex.descent, X, y, lrs, optimizer=optimizer, n_iter=iters, n_frames=frames)
    rows = [(f"{r.learning_rate:g}", f"{r.costs[0]:.6g}", f"{np.min(r.costs):.6g}", f"{r.costs[-1]:.6g}",
             "diverges" if r.diverged else "descends") for r in res.runs]
    _emit(_kv_table(f"{optimizer}, {iters} iterations from theta = 0", rows,
                    ("learning rate", "first cost", "lowest cost", "last cost", ""), fmt))
    if gif is not None:
        res.save_gif(gif, dpi=dpi)
        typer.echo(f"wrote {gif} ({len(res.frames)} frames)", err=True)
    if html is not None:
        res.save_html(html, dpi=dpi)
        typer.echo(f"wrote {html}", err=True)


@explain_app.command(epilog="Example: logitfit explain page exams.csv --target admitted -o page.html "
                     "(or --features exam1,exam2)")
def page(
    data: DataArg,
    target: TargetOpt,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the HTML page.")]
    = Path("explain.html"),
    features: Annotated[str | None, typer.Option(
        help="One or two comma-separated feature columns to show; with more, the two most useful "
        "among them (default: among all columns) are chosen: the pair whose own model has the "
        "smallest minimum cost.")] = None,
    no_header: NoHeaderOpt = False,
    max_rows: Annotated[int, typer.Option(help="Rows embedded; larger data are sampled, "
                                          "stratified by class.", min=2)] = 2000,
    seed: SeedOpt = 0,
) -> None:
    """One self-contained HTML page to explore J(theta) on DATA: sliders for theta, the decision
    boundary, the contour plot of J with the gradient, the derivation table recomputed live, the
    log loss beside the squared error, and gradient descent played step by step."""
    from logitfit import explain as ex

    X, y, names = _call(load_xy, data, target, features, no_header)
    tname = _call(_target_name, data, target, no_header)
    pg = _call(ex.page, X[:, 1:], y.astype(int), names=names[1:], target=tname, seed=seed,
               max_rows=max_rows, title=f"logitfit: explore J(θ) on {data.name}")
    pg.save(output)
    how = "" if pg.choice is None else " (the pair with the smallest minimum cost)"
    sample = "" if pg.rows == pg.rows_total else f", a sample of {pg.rows} of {pg.rows_total} rows"
    typer.echo(f"wrote {output} ({pg.size / 1024:.0f} kB): features {', '.join(pg.features)}{how}{sample}",
               err=True)


def _target_name(path: Path, target: str, no_header: bool) -> str:
    """The target column's name as load_xy resolves it (a name, or a position)."""
    import pandas as pd

    df = pd.read_csv(path, header=None if no_header else "infer", nrows=0)
    cols = [f"x{k}" for k in range(1, df.shape[1] + 1)] if no_header else list(df.columns)
    if target in cols:
        return target
    return str(cols[int(target)])
