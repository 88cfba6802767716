"""Make the explorable page of docs/explain.md and its screenshot, on the two-exam data.

Data: ``logitfit.datasets.load_exams()`` (100 generated applicants of the shape of the
course's exercise 2 data set 1). Run from the project root::

    python docs/make_explain_page.py

Writes docs/img/explain-page.html (the page itself, linked from the docs) and, when Chromium
is installed, docs/img/explain-page.png: the page opened at the state in ``STATE`` (Adam from
theta = 0 for 300 steps at learning rate 0.3), set through the page's address
(``#theta=...&optimizer=...&lr=...&steps=...``). Prints the page's size.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from logitfit import explain
from logitfit.datasets import load_exams

OUT = Path(__file__).resolve().parent / "img"
STATE = "theta=0,0,0&optimizer=adam&lr=0.3&steps=300"
WINDOW = "1180,1480"


def build() -> explain.ExplainPage:
    """The page (tests/test_explain_page.py checks the committed file equals it)."""
    exams = load_exams()
    return explain.page(exams[["exam1", "exam2"]], exams["admitted"], target="admitted",
                        title="logitfit: explore J(θ) on the two-exam admissions data")


def main() -> None:
    page = build()
    html = page.save(OUT / "explain-page.html")
    print(f"{html}: {page.size} bytes ({page.size / 1024:.1f} KiB), {page.rows} rows, "
          f"optimum {page.optimum.round(6).tolist()}")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium not found: the screenshot was not updated")
        return
    png = OUT / "explain-page.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={WINDOW}",
                        "--virtual-time-budget=5000", f"--screenshot={png}",
                        f"{html.resolve().as_uri()}#{STATE}"],
                       check=True, capture_output=True, timeout=120)
    try:  # a 256-colour palette keeps the figure small; the page has few colours
        from PIL import Image

        Image.open(png).convert("RGB").quantize(256).save(png, optimize=True)
    except ImportError:
        pass
    print(f"{png}: {png.stat().st_size} bytes")


if __name__ == "__main__":
    main()
