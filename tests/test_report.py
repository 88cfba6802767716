"""The HTML report: self-contained, and every figure renders in headless Chromium.

Oracle: Chromium (Debian package ``chromium``, installed by the set-up when
missing) loads the report from disk with networking off; every <img> must be
complete with a positive natural size, and the browser console must show no
error. The report itself must reference nothing outside the file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

BROWSER_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
#: What the checker script (added to a copy of the report) writes into the DOM.
CHECK_JS = """<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth,
                                                      i.naturalHeight]);
  document.body.setAttribute('data-imgs', JSON.stringify(imgs));
});
</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("chromium is not installed and cannot be installed here (no apt-get/root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        proc = subprocess.run(cmd, capture_output=True, env=env, timeout=900)
        if proc.returncode != 0:
            pytest.skip(f"installing chromium failed: {' '.join(cmd)}: "
                        f"{proc.stderr.decode()[-300:]}")
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("apt-get installed chromium but it is not on PATH")
    return path


def run(*args):
    proc = subprocess.run([sys.executable, "-m", "logitfit", *map(str, args)],
                          capture_output=True, timeout=180)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A two-feature binary report (decision boundary) and a three-class one."""
    d = tmp_path_factory.mktemp("report")
    out = {}
    run("generate", d / "d.csv", "--rows", "400")
    run("fit", d / "d.csv", "-t", "y", "--features", "age,score", "-o", d / "m.json", "-q")
    run("report", d / "m.json", d / "d.csv", "-o", d / "r2.html", "-q")
    out["binary"] = d / "r2.html"
    run("generate", d / "d3.csv", "--rows", "400", "--classes", "3")
    run("fit", d / "d3.csv", "-t", "y", "-o", d / "m3.json", "-q")
    run("report", d / "m3.json", d / "d3.csv", "-o", d / "r3.html", "-q")
    out["multiclass"] = d / "r3.html"
    return out


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_report_is_self_contained(reports, kind):
    html = reports[kind].read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "url(http" not in html and "<script" not in html
    sections = ["Summary", "Coefficients", "Cost per iteration", "Discrimination",
                "Calibration", "Confusion matrix"]
    for s in sections:
        assert f"<h2>{s}" in html
    assert ("Decision boundary" in html) == (kind == "binary")
    assert "std err" in html or kind == "multiclass"  # covariance stored for binary fits


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_report_renders_in_chromium(reports, kind, tmp_path):
    browser = _chromium()
    html = reports[kind].read_text().replace("</body>", CHECK_JS + "</body>")
    page = tmp_path / "page.html"
    page.write_text(html)
    proc = subprocess.run(
        [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom",
         page.as_uri()],
        capture_output=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    dom = proc.stdout.decode()
    m = re.search(r'data-imgs="([^"]*)"', dom)
    assert m, "the page did not finish loading"
    imgs = json.loads(m.group(1).replace("&quot;", '"'))
    expected = html.count("<img ")
    assert len(imgs) == expected >= 6
    for alt, complete, w, h in imgs:
        assert complete and w > 100 and h > 100, (alt, w, h)
    console = [ln for ln in proc.stderr.decode().splitlines() if "CONSOLE" in ln]
    assert not [ln for ln in console if "error" in ln.lower()], console


def test_report_calibration_intervals(reports):
    """With a stored covariance the calibration figure carries each bin's interval; not without."""
    assert "delta-method 95% interval of each bin&#x27;s mean predicted" in \
        reports["binary"].read_text()
    assert "delta-method" not in reports["multiclass"].read_text()


def test_cli_report_has_the_full_model_checking_section(reports, tmp_path):
    """The streamed CLI report carries the influence plot and every goodness-of-fit test, equal to
    the library's on the same rows."""
    import numpy as np
    import pandas as pd

    import logitfit

    text = reports["binary"].read_text()
    section = text[text.index("<h2>Model checking</h2>"):]
    assert "leverage against studentised residuals" in section
    assert "need the design rows" not in section
    d = reports["binary"].parent
    model = logitfit.load(d / "m.json")
    df = pd.read_csv(d / "d.csv")
    gof = model.goodness_of_fit(df[["age", "score"]], df["y"])
    for test in gof.tests:
        assert test.name.replace("'", "&#x27;") in section
        # the statistic as the report prints it (its own rounding) appears in the section
        assert any(np.isclose(float(cell), test.statistic, rtol=1e-3)
                   for cell in _numbers(section)), test.name


def _numbers(html_text: str) -> list[str]:
    import re

    return re.findall(r"<td>(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)</td>", html_text)
