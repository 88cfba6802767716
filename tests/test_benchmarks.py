"""The benchmark suite at its --quick size: workloads, objective maps and gaps, not times.

Oracles: the tight reference solve (logitfit Newton, tol 1e-12) of each quick
workload, and the peers' own tight solves, which must reach the same optimum
when their parameters are mapped as ``benchmarks.runners`` says (C = 1/(alpha
n) for scikit-learn, alpha as is for glum). A wrong map shows as a gap far
above rounding. Times are not checked: CI machines are shared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.report import ratios, render, summarise
from benchmarks.runners import Cell, cells, reference, run_cell
from benchmarks.workloads import SEED, SPECS, make, seed

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# logitfit's default tolerance must already reach the "tight" gap of issue 3.
TIGHT_GAP = 1e-9
# A peer asked for tol 1e-10 lands within this of the reference optimum; a
# wrong parameter map (C off by a factor n, say) misses it by orders.
PEER_TIGHT_GAP = 1e-7


def gap(value: float, ref: float) -> float:
    return (value - ref) / abs(ref)


def test_workloads_are_deterministic_and_shaped():
    for name in SPECS:
        a, b = make(name, "quick"), make(name, "quick")
        spec = a.spec
        assert a.X.shape == (spec.n, spec.p)
        if spec.kind == "sparse":
            assert (a.X != b.X).nnz == 0
            norms = np.sqrt(np.asarray(a.X.multiply(a.X).sum(axis=1)).ravel())
            assert np.allclose(norms[norms > 0], 1.0)
        else:
            assert np.array_equal(a.X, b.X)
        assert np.array_equal(a.y, b.y)
        assert len(np.unique(a.y)) == spec.n_classes


def test_sizes_are_the_issue_shapes():
    assert (SPECS["W1"].n, SPECS["W1"].p, SPECS["W1"].alpha) == (1_000_000, 100, 1e-4)
    assert (SPECS["W2"].n, SPECS["W2"].p, SPECS["W2"].alpha) == (20_000, 2_000, 1e-3)
    assert (SPECS["W3"].n, SPECS["W3"].p, SPECS["W3"].nnz_per_row) == (200_000, 100_000, 50)
    assert (SPECS["W4"].n, SPECS["W4"].p, SPECS["W4"].n_classes) == (200_000, 50, 10)


def test_small_data_workloads():
    """S1, W6, S3: the 1k x 10, 10k x 20, 100k x 50 points, all unpenalised fit + SEs."""
    shapes = {name: (SPECS[name].n, SPECS[name].p) for name in ("S1", "W6", "S3")}
    assert shapes == {"S1": (1_000, 10), "W6": (10_000, 20), "S3": (100_000, 50)}
    for name in shapes:
        spec = SPECS[name]
        assert (spec.kind, spec.penalty, spec.alpha, spec.inference) == ("dense", "none", 0.0, True)
        assert spec.quick["n"] * spec.quick["p"] <= 200_000  # CI-sized
    # The W streams are the ones the published W1..W6 figures were generated from.
    assert [seed(f"W{k}") for k in range(1, 7)] == [[SEED, k] for k in range(1, 7)]
    assert seed("S1") not in [seed(f"W{k}") for k in range(1, 7)]
    assert seed("S3") not in [seed(f"W{k}") for k in range(1, 7)]
    s1, w1 = make("S1", "quick"), make("W1", "quick")
    assert not np.array_equal(s1.X[:5, :5], w1.X[:5, :5])


def test_small_data_cells_have_the_three_peers():
    expected = {
        (lib, f"{solver}/{level}")
        for lib, solver in [
            ("sklearn", "newton-cholesky"),
            ("sklearn", "lbfgs"),
            ("statsmodels", "newton"),
        ]
        for level in ("default", "tight")
    }
    for name in ("S1", "W6", "S3"):
        configs = {(c.library, c.config) for c in cells(name)}
        assert {c for c in configs if c[0] != "logitfit"} == expected
        assert {c for c in configs if c[0] == "logitfit"} == {
            ("logitfit", "auto/default"),
            ("logitfit", "auto/tight"),
        }


def test_small_data_peer_maps(single_blas_thread):
    """scikit-learn lbfgs at C = inf and statsmodels Newton reach the unpenalised optimum."""
    w = make("S1", "quick")
    ref = reference(w)
    for lib, config in [("sklearn", "lbfgs/tight"), ("statsmodels", "newton/tight")]:
        theirs = run_cell(w, Cell(lib, config))
        assert gap(theirs["objective"], ref["objective"]) <= PEER_TIGHT_GAP, (lib, config)


def _row(workload: str, library: str, config: str, seconds: float, objective: float) -> dict:
    return {
        "workload": workload,
        "library": library,
        "config": config,
        "seconds": seconds,
        "cpu_seconds": seconds,
        "objective": objective,
        "n_iter": 5,
        "peak_extra_mb": 1.0,
        "rep": 0,
        "load": 1.0,
    }


def test_report_small_data_section(tmp_path):
    """Rows S1, W6, S3 by size with their shapes, each peer's default time and the ratio."""
    rows = []
    times = {  # logitfit, sklearn newton-cholesky, sklearn lbfgs, statsmodels newton
        "S3": (0.5, 2.0, 4.0, 1.0),
        "W6": (0.01, 0.02, 0.05, 0.04),
        "S1": (0.004, 0.01, 0.008, 0.02),
    }
    for name, (lf, nc, lb, st) in times.items():
        rows += [
            _row(name, "logitfit", "auto/default", lf, 0.5),
            _row(name, "sklearn", "newton-cholesky/default", nc, 0.5 + 1e-9),
            _row(name, "sklearn", "lbfgs/default", lb, 0.5 * (1 + 1e-6)),
            _row(name, "statsmodels", "newton/tight", 9.0, 0.5),
        ]
        if name != "W6":  # W6's statsmodels default cell is missing: shown as n/a
            rows.append(_row(name, "statsmodels", "newton/default", st, 0.5))
    (tmp_path / "results-full.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    text = render(tmp_path, "full")
    section = text.split("## Small data (fit and standard errors)")[1].split("\n## ")[0]
    table = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(table) == 4  # the header and S1, W6, S3
    assert "sklearn lbfgs" in table[0] and "statsmodels newton" in table[0]
    s1, w6, s3 = (line.split(" | ") for line in table[1:])
    assert [r[0] for r in (s1, w6, s3)] == ["| S1", "| W6", "| S3"]
    assert [r[1] for r in (s1, w6, s3)] == ["1,000 x 10", "10,000 x 20", "100,000 x 50"]
    assert s1[2] == "0.004 s, 0" and s1[4] == "0.008 s, 1.0e-06"
    assert s1[-1].startswith("**0.50** (sklearn lbfgs)")
    assert w6[5] == "n/a" and w6[-1].startswith("**0.50** (sklearn newton-cholesky)")
    assert s3[-1].startswith("**0.50** (statsmodels newton)")
    # The S workloads sit after the W ones in the summary and in every-cell sections.
    summary = text.split("## Summary")[1].split("\n## ")[0]
    assert summary.index("| W6 |") < summary.index("| S1 |") < summary.index("| S3 |")
    assert "### S1" in text and "### S3" in text


@pytest.mark.parametrize("name", ["W1", "W3", "W4", "W6"])
def test_quick_gaps(name, single_blas_thread):
    """logitfit defaults reach the tight gap; scikit-learn's tight solve reaches the same optimum."""
    w = make(name, "quick")
    ref = reference(w)
    peer = {"W1": "lbfgs", "W3": "lbfgs", "W4": "lbfgs", "W6": "newton-cholesky"}[name]
    mine = run_cell(w, Cell("logitfit", "auto/default"))
    theirs = run_cell(w, Cell("sklearn", f"{peer}/tight"))
    best = min(ref["objective"], mine["objective"], theirs["objective"])
    assert gap(mine["objective"], best) <= TIGHT_GAP
    assert gap(theirs["objective"], best) <= PEER_TIGHT_GAP
    assert mine["seconds"] > 0 and mine["n_iter"] >= 1


def test_glum_objective_map(single_blas_thread):
    pytest.importorskip("glum")
    w = make("W1", "quick")
    ref = reference(w)
    theirs = run_cell(w, Cell("glum", "irls-ls/tight"))
    assert gap(theirs["objective"], ref["objective"]) <= PEER_TIGHT_GAP


def test_every_workload_has_logitfit_and_a_peer_at_both_levels():
    for name in SPECS:
        configs = {(c.library, c.config) for c in cells(name)}
        assert ("logitfit", "auto/default") in configs and ("logitfit", "auto/tight") in configs
        peers = {c for c in configs if c[0] != "logitfit"}
        assert peers and {c[1].split("/")[1] for c in peers} == {"default", "tight"}


def test_report_ratios_from_rows():
    """The summary picks the fastest peer that reaches the gap (hand-made rows)."""
    rows = [
        {
            "workload": "W9",
            "library": "logitfit",
            "config": "auto/default",
            "seconds": 1.0,
            "objective": 0.5,
            "n_iter": 5,
            "peak_extra_mb": 1.0,
        },
        {
            "workload": "W9",
            "library": "peer",
            "config": "a/default",
            "seconds": 2.0,
            "objective": 0.5 + 1e-6,
            "n_iter": 5,
            "peak_extra_mb": 1.0,
        },
        {
            "workload": "W9",
            "library": "peer",
            "config": "a/tight",
            "seconds": 8.0,
            "objective": 0.5,
            "n_iter": 9,
            "peak_extra_mb": 1.0,
        },
        {
            "workload": "W9",
            "library": "peer",
            "config": "b/tight",
            "seconds": 5.0,
            "objective": 0.5,
            "n_iter": 9,
            "peak_extra_mb": 1.0,
        },
    ]
    s = summarise(rows, {})["W9"]
    r = ratios(s)
    assert r["tight"][1] == ("peer", "b/tight") and r["tight"][3] == pytest.approx(0.2)
    assert r["default"][2] == ("peer", "a/default") and r["default"][5] == pytest.approx(0.5)


@pytest.mark.slow
def test_quick_cli_end_to_end(tmp_path):
    """``python -m benchmarks --quick`` writes results, the cached reference and the report."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    report = tmp_path / "bench.md"
    cmd = [
        sys.executable,
        "-m",
        "benchmarks",
        "--quick",
        "--workloads",
        "W6",
        "--libraries",
        "logitfit,statsmodels",
        "--no-kernels",
        "--write",
        str(report),
    ]
    subprocess.run(cmd, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=600)
    text = report.read_text()
    assert "| W6 |" in text and "statsmodels" in text
    assert (tmp_path / "bench-out" / "ref-W6-quick.json").exists()
    out = render(tmp_path / "bench-out", "quick")
    assert "## Summary" in out and "| W6 |" in out
