"""Hostile files through the CLI: seeded mutations of every format and of model files.

Each case must end in exit 0 with a complete, finite output or exit 2 with one
paragraph naming the file; never a traceback, crash, hang, partial output file,
NaN or side effect of loading (see tests/fuzz_files.py). A few hundred cases run
by default, 2,400 more in ``make test-slow``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_files import make_corpus, run_case  # noqa: E402

DEFAULT_CASES = 240
SLOW_CASES = 2400
CHUNK = 40


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("fuzz") / "corpus")


@pytest.mark.parametrize("start", range(0, DEFAULT_CASES, CHUNK))
def test_hostile_files(corpus, tmp_path, start):
    for case in range(start, start + CHUNK):
        run_case(case, corpus, tmp_path / "work")


@pytest.mark.slow
@pytest.mark.parametrize("start", range(DEFAULT_CASES, DEFAULT_CASES + SLOW_CASES, CHUNK * 5))
def test_hostile_files_slow(corpus, tmp_path, start):
    for case in range(start, start + CHUNK * 5):
        run_case(case, corpus, tmp_path / "work")
