"""The restricted reader of formulas from files: what it accepts, what it refuses, and that a
tampered model file runs no code."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from logitfit.data.formula_reader import FormulaRefused, check_formula

VARS = frozenset({"a", "b", "r", "f", "my col"})


@pytest.mark.parametrize("rhs", [
    "a + C(b)",
    "np.log(a) + C(b) + C(r) + center(a) + scale(a) + poly(a, 3) + f + b:a",
    "0 + b + a:C(r)",
    "a - 1",
    "-1 + a",
    "(a + b + r) ** 2",
    "a * b / r",
    "C(`my col`) + `my col`",
    "I(a ** 2 - 3 * a) + standardize(np.log1p(a))",
    "C(b, levels=['u', 'v', 'w'])",
    "poly(a, degree=2)",
])
def test_accepts_the_formula_language(rhs):
    used = check_formula(rhs, VARS)
    assert used and used <= VARS


@pytest.mark.parametrize(("rhs", "words"), [
    ("a + {open('CANARY','w').close()}", "may not contain"),
    ("a + open('CANARY', 'w')", "may not call"),
    ("a + np.save('x', a)", "may not call"),
    ("a + np.log(__import__('os'))", "may not call"),
    ("a + np.log(os)", "not one of the model's declared"),
    ("a + C(b).__class__", "may not contain"),
    ("a + I(a.__class__)", "not allowed"),
    ("a + I([x for x in a])", "not allowed"),
    ("a + I(lambda: 0)", "not allowed"),
    ("a + I(a[0])", "not allowed"),
    ("a + C(b, contr=b)", "not allowed"),
    ("a + C(b, _x=1)", "keyword"),
    ("a + os", "declared variables"),
    ("a + 2", "only 0 or 1"),
    ("a ** 1000", "integer up to"),
    ("poly(a, 100000)", "degree"),
    ("a + C(b", "unbalanced"),
    ("a + " * 6000 + "a", "characters long"),
    ("(" * 60 + "a" + ")" * 60, "too deeply"),
    ("a + f'{a}'", "may not contain"),
    ("a; b", "may not contain"),
])
def test_refuses_everything_else(rhs, words):
    with pytest.raises(FormulaRefused, match=words):
        check_formula(rhs, VARS)


def test_refusal_is_a_value_error():
    assert issubclass(FormulaRefused, ValueError)


@pytest.fixture
def formula_model_file(tmp_path):
    from logitfit.estimators.logistic import LogisticRegression

    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({"a": rng.random(n) + 0.5, "b": rng.choice(["u", "v"], n)})
    df["y"] = (df["a"] + (df["b"] == "v") + rng.logistic(size=n) > 1.5).astype(int)
    path = tmp_path / "m.json"
    LogisticRegression().from_formula("y ~ a + C(b)", df).save(path)
    return path, df


def _tamper(path, rhs):
    from logitfit.io.model_file import _checksum

    doc = json.loads(path.read_text())
    doc["encoding"]["rhs"] = rhs
    doc["checksum"] = _checksum(doc)  # anyone can recompute it
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("loader", ["load", "load_model"])
def test_tampered_formula_runs_no_code(formula_model_file, tmp_path, monkeypatch, loader):
    import logitfit.estimators.loading as loading
    import logitfit.io.model_file as model_file
    from logitfit.io.model_file import ModelFileError

    path, _ = formula_model_file
    monkeypatch.chdir(tmp_path)
    _tamper(path, "a + C(b) + {open('CANARY','w').close()}")
    with pytest.raises(ModelFileError, match="encoding.rhs refused"):
        (loading.load if loader == "load" else model_file.load_model)(path)
    assert not (tmp_path / "CANARY").exists()


def test_tampered_formula_refused_by_cli(formula_model_file, tmp_path, monkeypatch):
    from logitfit.cli.app import main

    path, df = formula_model_file
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    monkeypatch.chdir(tmp_path)
    _tamper(path, "a + C(b) + {open('CANARY','w').close()}")
    for args in (["summary", str(path)], ["predict", str(path), str(data), "-o", "p.csv"]):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 2
        assert not (tmp_path / "CANARY").exists()
        assert not (tmp_path / "p.csv").exists()


def test_unsavable_formula_refused_at_save(tmp_path):
    from logitfit.estimators.logistic import LogisticRegression

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.random(100)})
    df["y"] = (df["a"] + rng.logistic(size=100) > 0.5).astype(int)
    m = LogisticRegression().from_formula("y ~ np.round(a, 1)", df)  # the user's own code runs
    with pytest.raises(ValueError, match="cannot be saved"):
        m.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()
