"""The command line and model files of the ordinal and conditional models.

``logitfit fit --model ordinal|conditional``, then ``summary``, ``predict`` and
``report`` on the model file; the file round-trips through ``logitfit.load``
bit-identically, and a hand-edited file is refused with the field named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import logitfit
from logitfit import OrdinalLogisticRegression
from logitfit.cli.app import app
from logitfit.cli.errors import EXIT_ERROR, CommandFailed
from logitfit.io.model_file import ModelFileError

pd = pytest.importorskip("pandas")

CATS = ["unlikely", "somewhat likely", "very likely"]


@dataclass
class Ran:
    exit_code: int
    output: str


def run(*args, ok: bool = True, env: dict | None = None) -> Ran:
    """The command in-process; a failed step exits 2 with its paragraph, as ``logitfit.cli.app.main`` does."""
    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    ran = Ran(result.exit_code, result.output)
    if isinstance(result.exception, CommandFailed):
        ran = Ran(EXIT_ERROR, f"{result.output}{result.exception}")
    if ok and ran.exit_code != 0:
        raise AssertionError(f"exit {ran.exit_code}\n{ran.output}\n{result.exception!r}")
    return ran


@pytest.fixture(scope="module")
def ucla_csv(tmp_path_factory) -> Path:
    import statsmodels

    src = Path(statsmodels.__file__).parent / "miscmodels" / "tests" / "results" / "ologit_ucla.csv"
    if not src.is_file():
        pytest.skip(f"{src} is not installed")
    d = tmp_path_factory.mktemp("ordinal")
    path = d / "ucla.csv"
    path.write_bytes(src.read_bytes())
    return path


@pytest.fixture(scope="module")
def matched_csv(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for s in range(80):
        x = rng.normal(size=4)
        z = rng.integers(0, 2, 4)
        p = np.exp(x + 0.5 * z)
        case = rng.choice(4, p=p / p.sum())
        rows += [(f"s{s}", int(i == case), x[i], z[i]) for i in range(4)]
    path = tmp_path_factory.mktemp("conditional") / "matched.csv"
    pd.DataFrame(rows, columns=["pair", "case", "x", "z"]).to_csv(path, index=False)
    return path


def test_ordinal_fit_summary_predict_report(ucla_csv, tmp_path):
    model = tmp_path / "ordinal.json"
    out = run("fit", ucla_csv, "--model", "ordinal", "--target", "apply", "--categories", ",".join(CATS),
              "-o", model)
    assert "unlikely|somewhat likely" in out.output and "Brant" in out.output and "Omnibus" in out.output
    data = pd.read_csv(ucla_csv)
    ref = OrdinalLogisticRegression(categories=CATS).fit(data[["pared", "public", "gpa"]], data["apply"])
    loaded = logitfit.load(model)
    assert isinstance(loaded, OrdinalLogisticRegression)
    np.testing.assert_allclose(loaded.coef_, ref.coef_, rtol=1e-12)
    np.testing.assert_allclose(loaded.bse_, ref.bse_, rtol=1e-12)
    summary = json.loads(run("summary", model, "--json").output)
    assert summary["categories"] == CATS
    assert [r["term"] for r in summary["coefficients"]][-1] == "somewhat likely|very likely"
    assert summary["coefficients"][0]["std_err"] == pytest.approx(ref.bse_[0], rel=1e-12)
    assert "LR chi2" in run("summary", model).output
    pred = tmp_path / "p.csv"
    run("predict", model, ucla_csv, "-o", pred, "--proba", "--keep", "apply")
    written = pd.read_csv(pred)
    assert list(written.columns) == ["apply", *(f"proba_{c}" for c in CATS)]
    np.testing.assert_allclose(written.iloc[:, 1:].to_numpy(), ref.predict_proba(data[["pared", "public", "gpa"]]),
                               rtol=1e-12)
    labels = tmp_path / "labels.csv"
    run("predict", model, ucla_csv, "-o", labels)
    np.testing.assert_array_equal(pd.read_csv(labels)["prediction"], ref.predict(data[["pared", "public", "gpa"]]))
    report = tmp_path / "report.html"
    run("report", model, ucla_csv, "-o", report)
    page = report.read_text()
    assert "Category probabilities" in page and "data:image/png;base64," in page and "accuracy" in page
    assert "<script" not in page


def test_ordinal_formula_probit_and_weights(ucla_csv, tmp_path):
    data = pd.read_csv(ucla_csv).assign(w=lambda d: 1.0 + (d.index % 3))
    weighted = tmp_path / "weighted.csv"
    data.to_csv(weighted, index=False)
    model = tmp_path / "probit.json"
    run("fit", weighted, "--model", "ordinal", "--formula", "apply ~ pared + C(public) + gpa", "--link", "probit",
        "--categories", ",".join(CATS), "--weight-col", "w", "-o", model, "-q")
    frame = data.assign(apply=pd.Categorical(data["apply"], categories=CATS, ordered=True))
    ref = OrdinalLogisticRegression.from_formula("apply ~ pared + C(public) + gpa", frame, sample_weight=data["w"],
                                                 link="probit")
    loaded = logitfit.load(model)
    assert loaded.link == "probit"
    np.testing.assert_allclose(loaded.coef_, ref.coef_, rtol=1e-12)
    np.testing.assert_allclose(loaded.predict_proba(data), ref.predict_proba(frame), rtol=1e-12)


def test_conditional_fit_summary_predict_report(matched_csv, tmp_path):
    from logitfit import ConditionalLogisticRegression

    model = tmp_path / "conditional.json"
    out = run("fit", matched_csv, "--model", "conditional", "--strata", "pair", "--target", "case", "-o", model)
    assert "No. Strata: 80" in out.output
    data = pd.read_csv(matched_csv)
    ref = ConditionalLogisticRegression().fit(data[["x", "z"]], data["case"].to_numpy(), groups=data["pair"])
    loaded = logitfit.load(model)
    np.testing.assert_allclose(loaded.coef_, ref.coef_, rtol=1e-12)
    summary = json.loads(run("summary", model, "--json").output)
    assert summary["coefficients"][0]["std_err"] == pytest.approx(ref.bse_[0], rel=1e-12)
    pred = tmp_path / "pc.csv"
    run("predict", model, matched_csv, "-o", pred, "--keep", "pair")
    written = pd.read_csv(pred)
    np.testing.assert_allclose(written["proba_case"], ref.predict_proba(data[["x", "z"]], groups=data["pair"]),
                               rtol=1e-12)
    np.testing.assert_allclose(written.groupby("pair")["proba_case"].sum(), 1.0, rtol=1e-12)
    report = tmp_path / "rc.html"
    run("report", model, matched_csv, "-o", report)
    assert "strata with a case rank a case first" in report.read_text()
    # the formula's strata(column) term names the strata
    by_formula = tmp_path / "formula.json"
    run("fit", matched_csv, "--model", "conditional", "--formula", "case ~ x + z + strata(pair)", "-o", by_formula,
        "-q")
    np.testing.assert_allclose(logitfit.load(by_formula).coef_, ref.coef_, rtol=1e-10)


def test_ordinal_lasso_has_no_standard_errors(ucla_csv, tmp_path):
    model = tmp_path / "lasso.json"
    out = run("fit", ucla_csv, "--model", "ordinal", "--target", "apply", "--penalty", "l1", "--alpha", "0.02",
              "-o", model)
    assert "no standard errors" in out.output and "pared" in out.output
    summary = json.loads(run("summary", model, "--json").output)
    assert summary["coef"]["public"] == 0.0
    assert "no standard errors" in run("summary", model).output


def test_usage_errors_are_one_paragraph(ucla_csv, matched_csv):
    out = run("fit", matched_csv, "--model", "conditional", "--target", "case", ok=False)
    assert out.exit_code == 2 and "--strata" in out.output
    out = run("fit", matched_csv, "--target", "case", "--strata", "pair", ok=False)
    assert out.exit_code == 2 and "--strata applies to --model conditional" in out.output
    out = run("fit", ucla_csv, "--model", "multinomial", "--target", "apply", ok=False)
    assert out.exit_code == 2 and "--model must be one of" in out.output
    out = run("fit", ucla_csv, "--model", "ordinal", "--target", "apply", "--holdout", "0.2", ok=False)
    assert out.exit_code == 2 and "--holdout is not available" in out.output
    out = run("fit", ucla_csv, "--model", "ordinal", "--target", "nope", ok=False)
    assert out.exit_code == 2 and "nope" in out.output


def test_model_files_are_untrusted(ucla_csv, tmp_path):
    model = tmp_path / "m.json"
    run("fit", ucla_csv, "--model", "ordinal", "--target", "apply", "--categories", ",".join(CATS), "-o", model, "-q")
    doc = json.loads(model.read_text())
    assert doc["model"] == "ordinal" and doc["estimator"] == "OrdinalLogisticRegression"

    def edited(change) -> Path:
        d = json.loads(model.read_text())
        change(d)
        path = tmp_path / "edited.json"
        path.write_text(json.dumps(d))
        return path

    # any edit breaks the checksum
    path = edited(lambda d: d["state"]["coef"].__setitem__(0, 9.0))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        logitfit.load(path)
    assert run("summary", path, ok=False).exit_code == 2
    # with the checksum skipped, every field is still checked
    cases = [
        (lambda d: d["state"].__setitem__("thresholds", [4.0, 2.0]), "strictly increasing"),
        (lambda d: d["state"].__setitem__("coef", [1.0, "x", 2.0]), "coef"),
        (lambda d: d["state"].__setitem__("link", "__import__('os')"), "link"),
        (lambda d: d["state"]["classes"].__setitem__("values", ["a", "a", "b"]), "distinct"),
        (lambda d: d.__setitem__("model", "tobit"), "unknown model"),
        (lambda d: d.__setitem__("estimator", "LogisticRegression"), "estimator"),
        (lambda d: d["state"]["inference"].__setitem__("covariance", [[1.0]]), "covariance"),
        (lambda d: d.__setitem__("state", []), "state"),
    ]
    for change, message in cases:
        with pytest.raises(ModelFileError, match=message):
            logitfit.load(edited(change), verify=False)
    # signed files: the key is required and checked
    signed = tmp_path / "signed.json"
    run("fit", ucla_csv, "--model", "ordinal", "--target", "apply", "--sign-key-env", "K", "-o", signed, "-q",
        env={"K": "secret"})
    assert logitfit.load(signed, key="secret").coef_.size == 3
    with pytest.raises(ModelFileError, match="signature"):
        logitfit.load(signed, key="other")
    with pytest.raises(ModelFileError, match="not signed"):
        logitfit.load(model, key="secret")


def test_predict_and_summary_of_an_ordinal_file_import_no_scikit_learn(ucla_csv, tmp_path):
    """The command line reads an ordinal model file through OrdinalState (start-up time: no sklearn)."""
    import subprocess
    import sys

    model = tmp_path / "m.json"
    run("fit", ucla_csv, "--model", "ordinal", "--target", "apply", "-o", model, "-q")
    code = ("import sys\nfrom logitfit.cli.app import main\n"
            f"for argv in (['predict', {str(model)!r}, {str(ucla_csv)!r}, '-o', {str(tmp_path / 'p.csv')!r}],"
            f" ['summary', {str(model)!r}]):\n"
            "    try:\n        main(argv)\n    except SystemExit as e:\n        assert not e.code, e.code\n"
            "print('sklearn' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"
