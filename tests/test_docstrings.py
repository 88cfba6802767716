"""Every public function and class has a numpydoc docstring whose Examples run as written.

Oracle: :mod:`doctest` on the docstring of each public name (the list the
API reference covers, docs/hooks.py); each runs in a fresh temporary folder
and its printed output must equal what the docstring shows (whitespace
normalised).
"""

from __future__ import annotations

import doctest
import importlib.util
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("griffe")  # docs/hooks.py is also a griffe extension
pytest.importorskip("mkdocs")

_spec = importlib.util.spec_from_file_location(
    "logitfit_docs_hooks", Path(__file__).resolve().parents[1] / "docs" / "hooks.py")
hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hooks)

PUBLIC = {name: obj for name, obj in hooks.public_names().items() if hooks.needs_example(obj)}


def test_public_names_are_found():
    assert {"logitfit.LogisticRegression", "logitfit.scan", "logitfit.plots.plot_roc",
            "logitfit.explain.derivation", "logitfit.solvers.minimize"} <= set(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_docstring_example_runs(name, tmp_path, monkeypatch):
    obj = PUBLIC[name]
    doc = obj.__doc__ or ""
    assert re.search(r"^\s*Examples\n\s*-+\n", doc, re.MULTILINE), f"{name} has no Examples section"
    tests = doctest.DocTestFinder(recurse=False).find(obj, name, globs={})
    examples = sum(len(t.examples) for t in tests)
    assert examples, f"{name}: no >>> example"
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    try:
        for test in tests:
            runner.run(test)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            import matplotlib.pyplot as plt

            plt.close("all")
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed (output above)"
