"""Draw the figures of docs/checking.md: residuals and influence of the Spector-Mazzeo fit.

Data: ``logitfit.datasets.load_spector`` (32 rows; GRADE on GPA, TUCE, PSI). Run
from the project root::

    python docs/make_checking_figures.py

Writes docs/img/checking_residuals.png and docs/img/checking_influence.png.
"""

from __future__ import annotations

from pathlib import Path

from logitfit import LogisticRegression, plots
from logitfit.datasets import load_spector

OUT = Path(__file__).resolve().parent / "img"


def main() -> None:
    d = load_spector()
    X, y = d[["GPA", "TUCE", "PSI"]], d["GRADE"]
    table = LogisticRegression().fit(X, y).diagnostics(X, y)
    OUT.mkdir(exist_ok=True)
    plots.plot_residuals(table, bins=8).savefig(OUT / "checking_residuals.png", dpi=100)
    plots.plot_influence(table).savefig(OUT / "checking_influence.png", dpi=100)
    print(f"wrote {OUT / 'checking_residuals.png'} and {OUT / 'checking_influence.png'}")


if __name__ == "__main__":
    main()
