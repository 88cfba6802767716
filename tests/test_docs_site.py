"""The documentation site: ``mkdocs build --strict`` succeeds and the site loads in Chromium.

Oracle: the strict build itself (broken links, missing references, public
names without a page entry or an example fail it, see docs/hooks.py); then
headless Chromium (as in tests/test_report.py) loads the home page and an API
page from a local HTTP server: the browser console must stay empty, every
request the pages make must succeed, and the search worker must fetch the
search index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")

ROOT = Path(__file__).resolve().parents[1]
BROWSER_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
USER_GUIDE = ["architecture", "cli", "inference", "sparse", "solvers", "scale", "kernels",
              "explain", "benchmarks"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
         "-f", str(ROOT / "mkdocs.yml"), "-d", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(f"mkdocs build --strict: {time.perf_counter() - start:.1f} s")
    return out


def test_site_has_every_page(site):
    pages = ["index", "getting-started", *USER_GUIDE, "reference/cli", "reference/api/index",
             "reference/api/estimators", "reference/api/plots", "reference/api/explain"]
    for page in pages:
        assert (site / f"{page}.html").is_file(), page
    for figure in (ROOT / "docs" / "img").iterdir():
        assert (site / "img" / figure.name).is_file(), figure.name
    cli = (site / "reference" / "cli.html").read_text()
    for command in ("fit", "predict", "evaluate", "summary", "report", "export", "explain gradient"):
        assert f"logitfit {command}</code>" in cli, command
    assert "--holdout" in cli  # the help text itself, not only the headings
    api = (site / "reference" / "api" / "estimators.html").read_text()
    assert 'id="logitfit.estimators.logistic.LogisticRegression"' in api


def test_search_index_covers_the_api(site):
    index = json.loads((site / "search" / "search_index.json").read_text())
    locations = {doc["location"] for doc in index["docs"]}
    assert "reference/api/estimators.html#logitfit.estimators.logistic.LogisticRegression" in locations
    assert any(loc.startswith("reference/cli.html") for loc in locations)


class _Recorder(SimpleHTTPRequestHandler):
    requests: list[tuple[str, int]]

    def log_request(self, code="-", size="-"):
        self.requests.append((self.path, int(code)))

    def log_message(self, format, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def server(site):
    handler = type("Handler", (_Recorder,), {"requests": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.requests
    httpd.shutdown()
    thread.join()


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium is not installed")


@pytest.mark.parametrize("page, marker", [
    ("index.html", "Getting started"),
    ("reference/api/estimators.html", 'id="logitfit.estimators.logistic.LogisticRegression"'),
])
def test_page_loads_in_chromium_without_console_errors(server, page, marker, tmp_path):
    browser = _chromium()
    base, requests = server
    requests.clear()
    proc = subprocess.run(
        [browser, *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000", "--dump-dom",
         f"{base}/{page}"],
        capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert marker in proc.stdout, "the page did not load"
    # Chromium logs every console message and uncaught error (page and worker) as CONSOLE
    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
    assert not console, console
    failed = [(path, code) for path, code in requests if code >= 400]
    assert not failed, failed
    # the search worker fetched the index: the search box works on every page
    assert ("/search/search_index.json", 200) in requests, requests
