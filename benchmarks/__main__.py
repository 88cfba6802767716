"""``python -m benchmarks``: time logitfit against its peers, each cell in a fresh process.

Usage::

    python -m benchmarks --all --write docs/benchmarks.md     # the full suite (make bench)
    python -m benchmarks --quick                              # CI smoke run, small shapes
    python -m benchmarks --workloads W1 --libraries logitfit,sklearn --reps 1
    python -m benchmarks cell W1 sklearn lbfgs/tight          # one cell, in this process
    python -m benchmarks kernels                              # W1 kernel timings vs the floor
    python -m benchmarks --report-only --write docs/benchmarks.md

Results go to ``bench-out/`` (gitignored): one JSON line per timed run in
``results-<size>.jsonl``, the reference optima in ``ref-<W>-<size>.json``
(computed once, then reused), kernel timings in ``kernels-<size>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.runners import Cell, cells, reference, run_cell
from benchmarks.workloads import SPECS, make

OUT = Path("bench-out")
ALL = ("W1", "W2", "W3", "W4", "W5", "W6", "S1", "S3")


def _child(args: list[str], timeout: float, module: str = "benchmarks") -> dict | None:
    """Run ``python -m <module> <args>`` in a fresh process; its last stdout line is JSON."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", module, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {proc.returncode}: {tail[0][:200]}"}
    return json.loads(lines[-1])


def ensure_reference(name: str, size: str, timeout: float) -> dict:
    path = OUT / f"ref-{name}-{size}.json"
    if path.exists():
        return json.loads(path.read_text())
    ref = _child(["reference", name, "--size", size], timeout)
    if "error" not in ref:
        path.write_text(json.dumps(ref))
    return ref


def run_suite(args: argparse.Namespace) -> Path:
    size = "quick" if args.quick else "full"
    OUT.mkdir(exist_ok=True)
    results = OUT / f"results-{size}.jsonl"
    if not args.append and results.exists():
        results.unlink()
    libraries = set(args.libraries.split(",")) if args.libraries else None
    for name in args.workloads.split(","):
        ref = ensure_reference(name, size, args.timeout)
        print(f"{name}: reference {ref}", flush=True)
        if "error" in ref:
            with results.open("a") as fh:
                fh.write(
                    json.dumps(
                        {"workload": name, "library": "logitfit", "config": "reference", **ref}
                    )
                    + "\n"
                )
            continue
        for cell in cells(name, libraries):
            for rep in range(args.reps):
                row = _child(
                    ["cell", name, cell.library, cell.config, "--size", size], args.timeout
                )
                row = {"workload": name, "library": cell.library, "config": cell.config, **row}
                row.update(rep=rep, load=os.getloadavg()[0], size=size)
                print(json.dumps(row), flush=True)
                with results.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                if "error" in row:
                    break
    return results


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("cell", "reference", "kernels"):
        return _sub(argv)
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    ap.add_argument(
        "--all", action="store_true", help="every workload (W1..W6, S1, S3) at full size"
    )
    ap.add_argument("--quick", action="store_true", help="small shapes for a CI smoke run")
    ap.add_argument("--workloads", default=",".join(ALL))
    ap.add_argument("--libraries", default="", help="comma list (default: all applicable)")
    ap.add_argument("--reps", type=int, default=None, help="runs per cell (default 3, quick 1)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per process")
    ap.add_argument("--append", action="store_true", help="add to the results file")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--no-kernels", action="store_true")
    ap.add_argument("--write", default="", help="write the markdown report here")
    ap.add_argument(
        "--notes", default="", help="markdown file added to the report (how this run went)"
    )
    args = ap.parse_args(argv)
    size = "quick" if args.quick else "full"
    args.reps = args.reps or (1 if args.quick else 3)
    args.timeout = args.timeout or (120.0 if args.quick else 600.0)
    OUT.mkdir(exist_ok=True)
    started = time.time()
    if not args.report_only:
        if not args.no_kernels:
            k = _child(["kernels", "--size", size], args.timeout)
            (OUT / f"kernels-{size}.json").write_text(json.dumps(k))
        run_suite(args)
    from benchmarks.report import render

    notes = Path(args.notes).read_text() if args.notes else ""
    text = render(
        OUT, size, wall_seconds=None if args.report_only else time.time() - started, notes=notes
    )
    if args.write:
        Path(args.write).write_text(text)
        print(f"wrote {args.write}")
    else:
        print(text)
    return 0


def _sub(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks " + argv[0])
    ap.add_argument("what")
    ap.add_argument("args", nargs="*")
    ap.add_argument("--size", default="full")
    a = ap.parse_args(argv)
    if a.what == "kernels":
        from benchmarks.kernels import measure

        print(json.dumps(measure(a.size)))
        return 0
    name = a.args[0]
    if name not in SPECS:
        raise SystemExit(f"unknown workload {name!r}")
    w = make(name, a.size)
    if a.what == "reference":
        print(json.dumps(reference(w)))
    else:
        print(json.dumps(run_cell(w, Cell(a.args[1], a.args[2]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
