"""Every code block of README.md and docs/*.md runs, and its shown output is what it prints.

Blocks are collected with Sybil (maintained; Markdown lexers, skip directives with
a reason and invisible setup blocks in HTML comments; evaluators are plain
callables). Each page runs as one test, its blocks in order in one namespace and
in a fresh temporary folder, so that a page's blocks build on each other and
pytest-xdist never splits a page.

- ```python blocks run in the page's namespace; a block with an
  ``if __name__ == "__main__":`` guard is a script and runs as ``python block.py``.
- ```sh blocks run in bash (``-e -o pipefail``) with the interpreter's bin folder
  first on PATH, so ``logitfit`` and ``python`` are the installed ones.
- An unlabelled ``` block right after a code block, or Markdown between
  ``<!-- output -->`` and ``<!-- end output -->``, is that block's output: the
  text must match with whitespace runs collapsed, and each number to half a
  unit of its last digit on the page (``NUMBER_TOLERANCE``: the page may round).
- ``<!-- skip: next "reason" -->`` skips the next block (a remote cluster, a
  multi-gigabyte run); a scaled-down twin follows it in an
  ``<!-- invisible-code-block: python ... -->`` comment.
- ```text blocks are prose layout and are not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import unittest
from pathlib import Path

import pytest

pytest.importorskip("sybil")

from sybil import Document, Region  # noqa: E402
from sybil.evaluators.python import PythonEvaluator  # noqa: E402
from sybil.parsers.markdown import CodeBlockParser, SkipParser  # noqa: E402
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NUMBER_TOLERANCE = 0.5  # units of the last printed digit: the page may show the value rounded
NOT_RUN = {"text"}  # fence languages that are layout, not code
BLOCK_TIMEOUT_S = 300
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
OUTPUT_KEY = "__shown_output__"


def _python(example) -> None:
    if re.search(r"^if __name__ == .__main__.:", example.parsed, re.M):
        script = Path(f"block_{example.line}.py")
        script.write_text(str(example.parsed))
        example.namespace[OUTPUT_KEY] = _run([sys.executable, str(script)], example)
        return
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        PythonEvaluator()(example)
    example.namespace[OUTPUT_KEY] = out.getvalue()


def _shell(example) -> None:
    example.namespace[OUTPUT_KEY] = _run(["bash", "-e", "-o", "pipefail", "-c", str(example.parsed)], example)


def _run(cmd: list[str], example) -> str:
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=BLOCK_TIMEOUT_S)
    if done.returncode != 0:
        raise AssertionError(f"{example.path}, line {example.line}: exit {done.returncode}\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(f"({NUMBER.pattern})|\\s+", text.strip()) if t]


def _unit(shown: str) -> float:
    """One unit of the last printed digit of ``shown``: 0.001 for 2.345, 1e-10 for 3.1e-09."""
    mantissa, _, exponent = shown.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def compare_output(shown: str, printed: str) -> str | None:
    """None when ``printed`` matches the page's ``shown`` text, else what differs."""
    a, b = _tokens(shown), _tokens(printed)
    for i, (s, p) in enumerate(zip(a, b, strict=False)):
        if NUMBER.fullmatch(s) and NUMBER.fullmatch(p):
            if abs(float(s) - float(p)) <= NUMBER_TOLERANCE * _unit(s) * (1 + 1e-9):
                continue
        elif s == p:
            continue
        return f"token {i}: the page shows {s!r}, the example printed {p!r}\n--- printed:\n{printed}"
    if len(a) != len(b):
        return f"the page shows {len(a)} tokens, the example printed {len(b)}\n--- printed:\n{printed}"
    return None


def _output(example) -> None:
    if OUTPUT_KEY not in example.namespace:
        raise AssertionError(f"{example.path}, line {example.line}: an output block with no code block before it")
    problem = compare_output(str(example.parsed), example.namespace.pop(OUTPUT_KEY))
    if problem:
        raise AssertionError(f"{example.path}, line {example.line}: {problem}")


def _output_regions(document: Document):
    for m in RawFencedCodeBlockLexer()(document):  # fences with no language: output
        yield Region(m.start, m.end, m.lexemes["source"], _output)
    for m in re.finditer(r"<!-- output -->\n(.*?)<!-- end output -->", document.text, re.S):
        yield Region(m.start(), m.end(), m.group(1), _output)


PARSERS = [
    CodeBlockParser(language="python", evaluator=_python),
    CodeBlockParser(language="sh", evaluator=_shell),
    _output_regions,
    SkipParser(),
]


def fence_languages(page: Path) -> list[str]:
    """The info string of every fenced block of ``page``."""
    lexer = RawFencedCodeBlockLexer(info_pattern=re.compile(r"(?P<info>[^\n]*)$\n", re.M))
    return [r.lexemes["info"].strip() for r in lexer(Document(page.read_text(encoding="utf-8"), str(page)))]


def test_every_fenced_block_is_run_or_layout():
    unknown = {f"{p.name}: {lang!r}" for p in PAGES for lang in fence_languages(p)
               if lang not in {"python", "sh", ""} | NOT_RUN}
    assert not unknown, f"blocks no evaluator runs (use python, sh, text, or an output block): {unknown}"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for example in Document.parse(str(page), *PARSERS):
        with contextlib.suppress(unittest.SkipTest):  # a block marked skip, with its reason
            example.evaluate()


def test_compare_output_tolerates_rounding_only():
    assert compare_output("coef  2.8261  p 0.025\n", "coef 2.82614 p  0.0251") is None
    assert compare_output("3.1e-09", "3.14e-09") is None
    assert compare_output("3.1e-09", "3.2e-09") is not None
    assert compare_output("(4, 10)", "(4, 9)") is not None
    assert compare_output("GPA 2.83", "TUCE 2.83") is not None
    assert compare_output("1 2", "1 2 3") is not None
