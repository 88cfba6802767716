"""The explorable page (logitfit.explain.page, ``logitfit explain page``).

Oracles: the library itself. The page's JavaScript (page_assets/math.js) is evaluated in
headless Chromium (driven through the DevTools protocol over ``--remote-debugging-pipe``: JSON
messages separated by NUL bytes on file descriptors 3 and 4, so no WebSocket client or other
package is needed) and its J, gradient, derivation rows, squared error and descent steps are read
back with ``Runtime.evaluate`` and compared with ``logitfit.cost``, ``logitfit.gradient``,
``explain.derivation``, ``explain.squared_error`` and ``explain.descent`` at the same theta.
The Python side (feature choice, sampling, JSON embedding of hostile names, the CLI) is tested
without a browser.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from logitfit import cost, explain, gradient
from logitfit.explain.explorable import _sample, _script_json

ROOT = Path(__file__).resolve().parents[1]
COURSE = Path(__file__).resolve().parents[2] / "shared" / "data" / "ng-ex2" / "ex2data1.txt"
BROWSER_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-pipe",
    "--window-size=1200,2200",
]
HOSTILE = 'x</script><script>window.pwned=1</script><!--"&\u2028'


def _exams():
    from logitfit.datasets import load_exams

    d = load_exams()
    return d[["exam1", "exam2"]].to_numpy(float), d["admitted"].to_numpy(float)


def _rel(a, b, scale=None) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    den = np.maximum(np.abs(b), np.finfo(float).tiny if scale is None else scale)  # 0 vs 0 is 0
    return float(np.max(np.abs(a - b) / den))


# --------------------------------------------------------------------------
# the browser, over the DevTools pipe
# --------------------------------------------------------------------------


class Browser:
    """Headless Chromium with one page, driven through ``--remote-debugging-pipe``."""

    def __init__(self, exe: str, profile: Path):
        to_child_r, self._w = os.pipe()
        self._r, from_child_w = os.pipe()

        def fds():  # the pipe protocol: Chromium reads commands on fd 3 and writes on fd 4
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [exe, *BROWSER_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(f"{domain}.enable", session=True)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed the DevTools pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method: str, session: bool = False, timeout: float = 20, **params):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for k, ev in enumerate(self.events):
                if ev.get("method") == method:
                    return self.events.pop(k)
            self.events.append(self._read(deadline))

    def js(self, expr: str):
        res = self.call("Runtime.evaluate", session=True, expression=expr, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expr}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def close(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self._r)
        os.close(self._w)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium is not installed")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """The exams page, opened from disk; every DevTools event of the load is kept."""
    exe = _chromium()
    d = tmp_path_factory.mktemp("explain_page")
    X, y = _exams()
    page = explain.page(X, y, names=["exam1", "exam2"], target="admitted")
    path = page.save(d / "page.html")
    browser = Browser(exe, d / "profile")
    try:
        browser.call("Page.navigate", session=True, url=path.as_uri())
        browser.wait_event("Page.loadEventFired")
        browser.js("new Promise((ok) => requestAnimationFrame(() => ok(1)))")
        load_events = list(browser.events)
        yield browser, page, path, load_events, d
    finally:
        browser.close()


# --------------------------------------------------------------------------
# in the browser
# --------------------------------------------------------------------------


def test_page_loads_without_errors_or_requests(loaded):
    browser, _, path, events, _ = loaded
    errors = [e for e in events if e.get("method") in ("Runtime.exceptionThrown",)
              or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "warning"))
              or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning"))]
    assert not errors, errors
    urls = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    assert urls == [path.as_uri()], urls  # the file itself and nothing else
    assert browser.js("document.getElementById('summary').textContent").startswith("Model h = sigmoid")
    assert browser.js("document.querySelectorAll('table.derivation').length") == 3


def test_slider_changes_the_cost_shown(loaded):
    browser, *_ = loaded
    before = browser.js("document.getElementById('cost').textContent")
    browser.js("(() => { const s = document.getElementById('theta1'); s.value = 0.05;"
               " s.dispatchEvent(new Event('input')); })()")
    after = browser.js("document.getElementById('cost').textContent")
    X, y = _exams()
    theta = np.array(browser.js("window.logitfit.theta"))
    assert theta[1] == pytest.approx(0.05, abs=1e-3)
    assert after != before
    assert float(after) == pytest.approx(cost(theta, explain.with_intercept(X), y), rel=1e-9)


THETAS = [[0.0, 0.0, 0.0], [-21.5, 0.17, 0.18], [-5.0, 0.02, 0.09], [3.0, -0.1, 0.05], [-40.0, 0.6, 0.3]]


def test_page_math_equals_the_library(loaded):
    browser, page, *_ = loaded
    X, y = _exams()
    A = explain.with_intercept(X)
    worst = {"J": 0.0, "grad": 0.0, "rows": 0.0, "E": 0.0}
    for th in THETAS:
        got = browser.js(f"(() => {{ const L = window.logitfit, t = {json.dumps(th)};"
                         " return [L.math.cost(t, L.X, L.y), L.math.gradient(t, L.X, L.y),"
                         " [0, 1, 2].map((j) => L.math.derivation(L.X, L.y, t, j, L.data.fd_step_factor)),"
                         " [0, 1, 2].map((k) => L.math.sliceCosts(t, L.X, L.y, k))]; })()")
        J, g, derivs, slices = got
        worst["J"] = max(worst["J"], _rel(J, cost(th, A, y)))
        worst["grad"] = max(worst["grad"], _rel(g, gradient(th, A, y)))
        E, gE, HE = explain.squared_error(np.array(th), A, y)
        for k, s in enumerate(slices):
            worst["E"] = max(worst["E"], _rel(s["E"], E), _rel(s["curvE"], HE[k, k]),
                             _rel(s["J"], cost(th, A, y)))
        for j, res in enumerate(derivs):
            table = explain.derivation(A, y, th, j)
            ref = [s.value for s in table.steps[:6]]
            vals = [r["value"] for r in res["rows"]]
            assert res["scale"] == pytest.approx(table.scale, rel=1e-12)
            # rows 1-4 and 6 are sums of the same terms; row 5 divides a difference of two
            # costs by 2d, so a last-bit difference in J is amplified by |J| / d
            worst["rows"] = max(worst["rows"], _rel(vals[:4] + vals[5:], ref[:4] + ref[5:], table.scale))
            fd_tol = 8 * np.finfo(float).eps * table.cost / table.fd_step
            assert abs(vals[4] - ref[4]) <= fd_tol + 1e-12 * table.scale, (th, j, vals[4], ref[4])
    grid = browser.js(f"window.logitfit.math.costs({json.dumps(THETAS)}, window.logitfit.X, window.logitfit.y)")
    worst["J"] = max(worst["J"], _rel(grid, [cost(th, A, y) for th in THETAS]))  # the contour's J
    print("largest relative difference, page vs library:", worst)
    assert max(worst.values()) <= 1e-12, worst


def test_descent_steps_equal_the_library(loaded):
    """Each optimizer's path in the page equals explain.descent's (the library's gd solver and
    landscape's momentum and Adam) iterate by iterate."""
    browser, *_ = loaded
    X, y = _exams()
    A = explain.with_intercept(X)
    for name, lr in (("gd", 4e-4), ("momentum", 1e-4), ("adam", 0.05)):
        path = browser.js(f"(() => {{ const L = window.logitfit, st = {{v: [0, 0, 0], s: [0, 0, 0], k: 0}};"
                          f" let t = [0, 0, 0]; const out = [t];"
                          f" for (let i = 0; i < 30; i++) {{ t = L.math.descentStep('{name}', t,"
                          f" L.math.gradient(t, L.X, L.y), st, {lr}, L.data.descent); out.push(t); }}"
                          " return out; })()")
        ref = explain.descent(A, y, [lr], optimizer=name, n_iter=30).runs[0].thetas
        scale = np.abs(ref).max(axis=0) + 1e-300
        assert np.max(np.abs(np.array(path) - ref) / scale) <= 1e-10, name


def test_played_descent_small_rate_descends_large_rate_is_flagged(loaded):
    browser, *_ = loaded
    setup = ("(() => { const $ = (i) => document.getElementById(i); $('start').value = 'zeros';"
             " $('optimizer').value = 'gd'; $('iters').value = 40; $('speed').value = 1;"
             " document.getElementById('%s').click(); $('play').click(); })()")
    wait = ("new Promise((ok) => { const t = setInterval(() => { if (!window.logitfit.run.timer)"
            " { clearInterval(t); ok(window.logitfit.run.costs); } }, 20); })")
    browser.js(setup % "lr-small")
    costs = browser.js(wait)
    assert len(costs) == 41
    assert all(b < a for a, b in zip(costs, costs[1:], strict=False)), costs
    assert "DIVERGING" not in browser.js("document.getElementById('descent-status').textContent")
    # the path is what the library's fixed-step gd gives from theta = 0
    X, y = _exams()
    lr = browser.js("Number(document.getElementById('lr').value)")
    ref = explain.descent(explain.with_intercept(X), y, [lr], n_iter=40).runs[0].costs
    assert _rel(costs, ref) <= 1e-12
    browser.js(setup % "lr-big")
    costs = browser.js(wait)
    status = browser.js("document.getElementById('descent-status')")
    text = browser.js("document.getElementById('descent-status').textContent")
    assert status is not None and "DIVERGING" in text, text
    assert costs[-1] > costs[0]
    # step: one iteration at a time
    n = len(browser.js("window.logitfit.run.costs"))
    browser.js("document.getElementById('step').click()")
    assert len(browser.js("window.logitfit.run.costs")) in (n, n + 1)  # n when iterations are used up


def test_dragging_on_the_contour_moves_theta(loaded):
    browser, *_ = loaded
    before = browser.js("window.logitfit.theta.slice()")
    browser.js("(() => { const c = document.getElementById('contour'), r = c.getBoundingClientRect();"
               " const ev = (t, x, y) => new MouseEvent(t, {clientX: r.left + x, clientY: r.top + y, bubbles: true});"
               " c.dispatchEvent(ev('mousedown', 120, 100)); window.dispatchEvent(ev('mousemove', 200, 150));"
               " window.dispatchEvent(ev('mouseup', 200, 150)); })()")
    after = browser.js("window.logitfit.theta.slice()")
    assert after[0] == before[0] and after[1:] != before[1:]
    shown = float(browser.js("document.getElementById('cost').textContent"))
    X, y = _exams()
    assert shown == pytest.approx(cost(after, explain.with_intercept(X), y), rel=1e-9)


def test_screenshot_is_kept(loaded):
    browser, _, _, _, d = loaded
    browser.js("window.logitfit.setTheta([-12, 0.1, 0.09])")
    shot = browser.call("Page.captureScreenshot", session=True, format="png",
                        captureBeyondViewport=True)
    png = base64.b64decode(shot["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    out = d / "explain-page.png"
    out.write_bytes(png)
    if os.environ.get("LOGITFIT_ARTEFACTS"):
        dest = Path(os.environ["LOGITFIT_ARTEFACTS"])
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, dest / out.name)


def test_hostile_column_name_stays_text(tmp_path):
    exe = _chromium()
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] + rng.logistic(size=40) > 0).astype(int)
    page = explain.page(X, y, names=[HOSTILE, "b"], target=HOSTILE, title=HOSTILE)
    path = page.save(tmp_path / "hostile.html")
    browser = Browser(exe, tmp_path / "profile")
    try:
        browser.call("Page.navigate", session=True, url=path.as_uri())
        browser.wait_event("Page.loadEventFired")
        assert browser.js("window.pwned === undefined")
        assert browser.js("window.logitfit.data.names[1]") == HOSTILE
        assert HOSTILE in browser.js("document.getElementById('theta1').labels[0].textContent")
        assert browser.js("document.title") == HOSTILE  # escaped markup reads back as text
        assert not [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
        # in a notebook: _repr_html_ puts the page in an iframe's srcdoc, where it runs the same
        nb = tmp_path / "notebook.html"
        nb.write_text(f"<!DOCTYPE html><html><body>{page._repr_html_()}</body></html>", encoding="utf-8")
        browser.call("Page.navigate", session=True, url=nb.as_uri())
        browser.wait_event("Page.loadEventFired")
        inner = "document.querySelector('iframe').contentWindow"
        assert browser.js(f"window.pwned === undefined && {inner}.pwned === undefined")
        assert browser.js(f"{inner}.logitfit.data.names[1]") == HOSTILE
        J = browser.js(f"{inner}.logitfit.state.cost")
        assert J == cost(np.zeros(3), explain.with_intercept(X), y)
        assert not [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    finally:
        browser.close()


def test_one_feature_separated_data_page(tmp_path):
    """One feature (the sigmoid over x instead of a boundary in the plane) and separated data
    (no finite optimum): the page loads without errors and its math still equals the library's."""
    exe = _chromium()
    x = np.array([[0.5], [1.0], [1.5], [2.0], [3.0], [3.5], [4.0], [5.0]])
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    page = explain.page(x, y, names=["dose"], target="dead")
    assert page.optimum is None
    path = page.save(tmp_path / "one.html")
    browser = Browser(exe, tmp_path / "profile")
    try:
        browser.call("Page.navigate", session=True, url=path.as_uri())
        browser.wait_event("Page.loadEventFired")
        browser.js("new Promise((ok) => requestAnimationFrame(() => ok(1)))")
        assert not [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
        assert browser.js("document.getElementById('gap').textContent") == "no finite optimum"
        A = explain.with_intercept(x)
        for th in ([0.0, 0.0], [-3.0, 1.2], [-40.0, 15.0]):
            J, g = browser.js(f"(() => {{ const L = window.logitfit, t = {json.dumps(th)};"
                              " return [L.math.cost(t, L.X, L.y), L.math.gradient(t, L.X, L.y)]; })()")
            assert _rel(J, cost(th, A, y)) <= 1e-12 and _rel(g, gradient(th, A, y)) <= 1e-12
        browser.js("window.logitfit.setTheta([-800, 1])")  # h rounds to 0: rows 1-3 undefined
        browser.js("new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(1))))")
        assert "undefined" in browser.js("document.querySelector('table.derivation').textContent")
        with pytest.raises(ValueError, match="only the closed form"):  # as the library says
            explain.derivation(A, y, [-800.0, 1.0], 0)
        assert not [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    finally:
        browser.close()


def test_docs_page_is_current():
    """docs/img/explain-page.html is what docs/make_explain_page.py makes with this code."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_explain_page", ROOT / "docs" / "make_explain_page.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    committed = (ROOT / "docs" / "img" / "explain-page.html").read_text(encoding="utf-8")
    assert committed == mod.build().html, "run python docs/make_explain_page.py"


# --------------------------------------------------------------------------
# the Python side
# --------------------------------------------------------------------------


def test_json_embedding_cannot_close_the_script():
    text = _script_json({"names": [HOSTILE]})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"names": [HOSTILE]}
    page = explain.page(np.array([[0.0, 1], [1, 0], [2, 1], [3, 0]]), [0, 1, 0, 1], names=[HOSTILE, "b"],
                        title=HOSTILE)
    # the only </script> tags are the page's own two; the title is escaped
    assert page.html.count("</script>") == 2
    assert "<script>window.pwned" not in page.html


def test_feature_choice_finds_the_informative_pair():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = (1.5 * X[:, 1] - 2.0 * X[:, 4] + rng.logistic(size=300) > 0).astype(int)
    choice = explain.choose_features(X, y, list("abcde"))
    assert choice.names == ("b", "e") and not choice.screened
    assert len(choice.ranking) == 10
    costs = [c for _, c in choice.ranking]
    assert costs == sorted(costs)
    # the score is the two-feature minimum cost, computed independently here by Newton's method
    from scipy.optimize import minimize

    A = explain.with_intercept(X[:, [1, 4]])
    ref = minimize(cost, np.zeros(3), args=(A, y), jac=gradient, method="BFGS", tol=1e-10).fun
    assert costs[0] == pytest.approx(ref, rel=1e-8)
    page = explain.page(X, y, names=list("abcde"))
    assert page.features == ("b", "e") and page.choice is not None
    assert page.optimum is not None
    assert explain.page(X, y, names=list("abcde"), features=["a", "c"]).features == ("a", "c")
    assert explain.page(X, y, names=list("abcde"), features=["a", "b", "e"]).features == ("b", "e")


def test_screening_with_many_features():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 15))
    y = (2 * X[:, 3] + 2 * X[:, 11] + rng.logistic(size=200) > 0).astype(int)
    choice = explain.choose_features(X, y)
    assert choice.screened and choice.names == ("x4", "x12")
    assert len(choice.ranking) == 12 * 11 // 2


def test_sampling_rule_and_page_size():
    rng = np.random.default_rng(2)
    y = (rng.uniform(size=10_000) < 0.3).astype(float)
    idx = _sample(y, 2000, 0)
    assert idx.size == 2000 and np.all(np.diff(idx) > 0)
    assert y[idx].sum() == round(2000 * y.sum() / y.size)
    X = rng.normal(size=(10_000, 2))
    page = explain.page(X, y)
    assert page.rows == 2000 and page.rows_total == 10_000
    assert "2000 of 10000 rows" in page.html and "500 of them drawn" in page.html
    data = json.loads(re.search(r'id="logitfit-data">(.*?)</script>', page.html).group(1))
    drawn = np.array(data["drawn"])
    assert drawn.size == 500 and np.all(np.diff(drawn) > 0) and drawn.max() < 2000
    assert np.array(data["y"])[drawn].sum() == round(500 * y[idx].sum() / 2000)  # stratified
    assert page.size < 200_000, page.size


def test_exams_page_size_and_optimum():
    X, y = _exams()
    page = explain.page(X, y, names=["exam1", "exam2"], target="admitted")
    ref = explain.fit_theta(explain.with_intercept(X), y)
    assert np.allclose(page.optimum, ref, rtol=1e-10)
    print(f"exams page: {page.size} bytes")
    assert page.size < 100_000
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.html)
    assert "<iframe srcdoc=" in page._repr_html_()


def test_optimum_equals_scipy():
    """The marked optimum against scipy's trust-region Newton on J with the Hessian written out
    here, (1/m) X^T diag(h(1-h)) X (statsmodels' Logit agrees too, but takes seconds to import)."""
    from scipy.optimize import minimize

    from logitfit import sigmoid

    X, y = _exams()
    A = explain.with_intercept(X)

    def hess(t):
        h = sigmoid(A @ t)
        return (A.T * (h * (1 - h))) @ A / len(y)

    ref = minimize(cost, np.zeros(3), args=(A, y), jac=lambda t, A, y: gradient(t, A, y),
                   hess=lambda t, A, y: hess(t), method="trust-exact", options={"gtol": 1e-12})
    page = explain.page(X, y)
    np.testing.assert_allclose(page.optimum, ref.x, rtol=1e-8)


def test_course_data_set_1(tmp_path):
    """The course's ex2data1 (when ../shared is checked out): the published optimum, and the size."""
    if not COURSE.is_file():
        pytest.skip(f"course data {COURSE} absent")
    proc = _cli("page", COURSE, "--no-header", "--target", "-1", "-o", tmp_path / "ex2.html")
    assert proc.exit_code == 0, proc.output
    data = json.loads(re.search(r'id="logitfit-data">(.*?)</script>', (tmp_path / "ex2.html").read_text()).group(1))
    np.testing.assert_allclose(data["optimum"]["theta"], [-25.161, 0.206, 0.201], atol=1e-3)
    assert data["optimum"]["cost"] == pytest.approx(0.203, abs=1e-3)  # REFERENCE.md: J(theta*) = 0.203
    size = (tmp_path / "ex2.html").stat().st_size
    print(f"course ex2data1 page: {size} bytes")
    assert size < 100_000


def test_separated_data_have_no_optimum():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    page = explain.page(X, [0, 0, 1, 1])
    assert page.optimum is None and "No finite optimum" in page.html


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="two distinct values"):
        explain.page(np.zeros((3, 1)), [0, 0, 0])
    with pytest.raises(ValueError, match="no feature 'zz'"):
        explain.page(np.zeros((4, 2)), [0, 1, 0, 1], features=["zz"])
    import pandas as pd

    with pytest.raises(ValueError, match="column 'city' is not numeric"):
        explain.page(pd.DataFrame({"a": [1.0, 2, 3, 4], "city": ["x", "y", "x", "z"]}), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="not finite on row 1"):
        explain.page(np.array([[0.0], [np.nan], [1.0]]), [0, 1, 0])


def _cli(*args):
    from typer.testing import CliRunner

    from logitfit.cli.explain import explain_app

    return CliRunner().invoke(explain_app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_cli_writes_the_page(tmp_path):
    from logitfit.datasets import load_exams

    d = load_exams()
    d["noise"] = np.random.default_rng(0).normal(size=len(d))
    d.to_csv(tmp_path / "exams.csv", index=False)
    proc = _cli("page", tmp_path / "exams.csv", "--target", "admitted", "-o", tmp_path / "p.html")
    assert proc.exit_code == 0, proc.output
    html = (tmp_path / "p.html").read_text()
    assert '"names":["(intercept)","exam1","exam2"]' in html
    assert "wrote" in proc.output and "exam1, exam2" in proc.output
    proc = _cli("page", tmp_path / "exams.csv", "--target", "admitted", "--features", "noise,exam2",
                "-o", tmp_path / "q.html")
    assert proc.exit_code == 0, proc.output
    assert '"names":["(intercept)","noise","exam2"]' in (tmp_path / "q.html").read_text()
    bad = _cli("page", tmp_path / "exams.csv", "--target", "nope", "-o", tmp_path / "r.html")
    assert bad.exit_code != 0 and "nope" in bad.output and not (tmp_path / "r.html").exists()


def test_cli_help_shows_the_example():
    proc = _cli("page", "--help")
    assert proc.exit_code == 0
    assert "logitfit explain page" in proc.output and "--features" in proc.output
