"""Write docs/benchmarks.md from the JSON lines in bench-out/.

Per workload: ``J*`` is the lowest objective seen (the cached tight reference
or any run, whichever is lower); a run's gap is ``(J - J*) / |J*|``; a cell's
time is the median over its runs. Ratios compare logitfit with the fastest
peer configuration measured in the same run:

* tight: logitfit's *default* settings, when they reach gap <= 1e-9, against
  the fastest peer cell (default or tight) that reaches it;
* default: logitfit default against the fastest peer at its default settings.

The small-data table (S1, W6, S3: unpenalised fit plus standard errors) shows
every peer's default-tolerance time beside logitfit's, with the default ratio.
"""

from __future__ import annotations

import json
import os
import platform
from collections import defaultdict
from importlib import metadata
from pathlib import Path

import numpy as np

from benchmarks.runners import SMALL_DATA_PEERS
from benchmarks.workloads import SPECS, sized

TIGHT_GAP = 1e-9
TARGET_TIGHT_RATIO = 0.25
TARGET_DEFAULT_RATIO = 0.5


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or "unknown"


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def summarise(rows: list[dict], refs: dict[str, dict]) -> dict[str, dict]:
    """Per workload: J*, and per cell the median time, gap, iterations, peak memory, errors."""
    by_w: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_w[r["workload"]].append(r)
    out: dict[str, dict] = {}
    for name, rs in by_w.items():
        ok = [r for r in rs if "error" not in r and "seconds" in r and r["config"] != "reference"]
        objs = [r["objective"] for r in ok if np.isfinite(r["objective"])]
        ref = refs.get(name, {}).get("objective")
        cands = objs + ([ref] if ref is not None else [])
        jstar = min(cands) if cands else float("nan")
        cellrows: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in rs:
            cellrows[(r["library"], r["config"])].append(r)
        table = {}
        for key, group in cellrows.items():
            good = [g for g in group if "error" not in g and "seconds" in g]
            if not good:
                table[key] = {"error": group[0].get("error", "no result")}
                continue
            obj = float(np.median([g["objective"] for g in good]))
            table[key] = {
                "seconds": float(np.median([g["seconds"] for g in good])),
                "cpu_seconds": float(np.median([g.get("cpu_seconds", np.nan) for g in good])),
                "runs": len(good),
                "gap": max(0.0, (obj - jstar) / abs(jstar)) if jstar else float("nan"),
                "n_iter": int(np.median([g["n_iter"] for g in good])),
                "peak_extra_mb": float(np.median([g["peak_extra_mb"] for g in good])),
                "load": float(np.median([g.get("load", np.nan) for g in good])),
            }
        out[name] = {"jstar": jstar, "cells": table}
    return out


def ratios(summary: dict) -> dict:
    """logitfit vs the fastest peer: tight (gap <= 1e-9) and default tolerance."""
    cells = summary["cells"]
    lf = cells.get(("logitfit", "auto/default"), {})
    peers = {k: v for k, v in cells.items() if k[0] != "logitfit" and "seconds" in v}
    tight_peers = {k: v for k, v in peers.items() if v["gap"] <= TIGHT_GAP}
    default_peers = {k: v for k, v in peers.items() if k[1].endswith("/default")}
    res: dict = {}
    if "seconds" in lf and lf["gap"] <= TIGHT_GAP and tight_peers:
        k, v = min(tight_peers.items(), key=lambda kv: kv[1]["seconds"])
        res["tight"] = (lf["seconds"], k, v["seconds"], lf["seconds"] / v["seconds"])
    if "seconds" in lf and default_peers:
        k, v = min(default_peers.items(), key=lambda kv: kv[1]["seconds"])
        res["default"] = (
            lf["seconds"],
            lf["gap"],
            k,
            v["seconds"],
            v["gap"],
            lf["seconds"] / v["seconds"],
        )
    return res


def _fmt_gap(g: float) -> str:
    return "0" if g == 0 else f"{g:.1e}"


def _fmt_cell(c: dict) -> str:
    return (
        f"{c['seconds']:.3g} s, {_fmt_gap(c['gap'])}" if "seconds" in c else c.get("error", "n/a")
    )


def _ordered(names: set[str]) -> list[str]:
    """Workload names in SPECS order (W1..W6, S1, S3), unknown names last."""
    order = {name: i for i, name in enumerate(SPECS)}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def small_data(summaries: dict[str, dict], size: str) -> list[str]:
    """The small-data table: the unpenalised fit + standard-error workloads, smallest first,
    each peer at its default tolerance, and logitfit default / the fastest of them."""
    specs = {
        name: sized(SPECS[name], size)
        for name in summaries
        if name in SPECS and SPECS[name].inference and SPECS[name].penalty == "none"
    }
    if not specs:
        return []
    lines = [
        "## Small data (fit and standard errors)",
        "",
        "Unpenalised fit plus standard errors (scikit-learn's from the observed information,",
        "computed after its fit); every library at its default tolerance: time, gap.",
        "",
        "| workload | shape | logitfit default | "
        + " | ".join(f"{lib} {solver}" for lib, solver in SMALL_DATA_PEERS)
        + " | logitfit / fastest peer |",
        "| --- " * (4 + len(SMALL_DATA_PEERS)) + "|",
    ]
    for name in sorted(specs, key=lambda n: (specs[n].n * specs[n].p, n)):
        cells = summaries[name]["cells"]
        row = [name, f"{specs[name].n:,} x {specs[name].p:,}"]
        row.append(_fmt_cell(cells.get(("logitfit", "auto/default"), {})))
        row += [_fmt_cell(cells.get((lib, f"{sv}/default"), {})) for lib, sv in SMALL_DATA_PEERS]
        rt = ratios(summaries[name])
        if "default" in rt:
            _, _, k, _, _, q = rt["default"]
            row.append(f"**{q:.2f}** ({k[0]} {k[1].split('/')[0]})")
        else:
            row.append("n/a")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def render(out_dir: Path, size: str, wall_seconds: float | None = None, notes: str = "") -> str:
    rows = _read_jsonl(out_dir / f"results-{size}.jsonl")
    refs = {}
    for path in out_dir.glob(f"ref-*-{size}.json"):
        ref = json.loads(path.read_text())
        refs[ref.get("workload", path.stem.split("-")[1])] = ref
    kpath = out_dir / f"kernels-{size}.json"
    kernels = json.loads(kpath.read_text()) if kpath.exists() else {}
    summaries = {
        name: summarise([r for r in rows if r["workload"] == name], refs)[name]
        for name in _ordered({r["workload"] for r in rows})
    }
    reps = max((r.get("rep", 0) + 1 for r in rows), default=0)
    loads = [r["load"] for r in rows if "load" in r]
    lines = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m benchmarks --all --write docs/benchmarks.md`);",
        "see `benchmarks/` for the workloads, the peers and how each cell is timed. Each",
        "timed fit runs in a fresh process; times are medians over the runs of a cell; the",
        "gap is the relative objective gap to the best optimum seen (a very tight",
        "logitfit solve, cached, or any run that went lower).",
        "",
        "## Machine",
        "",
        f"- CPU: {_cpu()}, {os.cpu_count()} logical CPUs; {platform.system()} {platform.release()}",
        f"- BLAS: {kernels.get('blas', 'not measured')}",
        f"- numpy {_version('numpy')}, scipy {_version('scipy')}, scikit-learn {_version('scikit-learn')}, "
        f"glum {_version('glum')}, statsmodels {_version('statsmodels')}, Python {platform.python_version()}",
        f"- size: {size}; runs per cell: {reps}; 1-minute load average during the runs: "
        + (f"median {np.median(loads):.1f}, max {max(loads):.1f}" if loads else "n/a")
        + " (the machine is shared: times above the ideal are load, not only code)",
    ]
    if wall_seconds is not None:
        lines.append(f"- whole run: {wall_seconds / 60:.1f} min")
    lines += ["", "## Summary: logitfit / fastest peer", ""]
    lines += [
        "| workload | logitfit default: time, gap | fastest peer reaching gap <= 1e-9 | ratio (target <= 0.25) "
        "| fastest peer at default: time, gap | ratio (target <= 0.5, gap no larger) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in summaries.items():
        lf = s["cells"].get(("logitfit", "auto/default"), {})
        rt = ratios(s)
        lf_txt = _fmt_cell(lf)
        if "tight" in rt:
            _, k, t, q = rt["tight"]
            tight_txt, tight_q = (
                f"{k[0]} {k[1]} {t:.3g} s",
                f"**{q:.2f}** {'met' if q <= TARGET_TIGHT_RATIO else 'missed'}",
            )
        else:
            tight_txt, tight_q = "none reached it" if "seconds" in lf else "n/a", "n/a"
        if "default" in rt:
            _, g, k, t, pg, q = rt["default"]
            met = q <= TARGET_DEFAULT_RATIO and g <= max(pg, TIGHT_GAP)
            def_txt = f"{k[0]} {k[1]} {t:.3g} s, {_fmt_gap(pg)}"
            def_q = f"**{q:.2f}** {'met' if met else 'missed'}"
        else:
            def_txt, def_q = "n/a", "n/a"
        lines.append(f"| {name} | {lf_txt} | {tight_txt} | {tight_q} | {def_txt} | {def_q} |")
    small = small_data(summaries, size)
    if small:
        lines += ["", *small]
    if notes:
        lines += ["", "## Notes on this run", "", notes.strip()]
    if kernels:
        lines += [
            "",
            "## Kernels on W1 (value and gradient target: 0.04 s on the reference machine)",
            "",
        ]
        lines += ["| measurement | seconds |", "| --- | --- |"]
        for key, val in kernels.items():
            if key.endswith("_s"):
                lines.append(f"| {key[:-2].replace('_', ' ')} | {val:.4f} |")
        lines.append(f"\nW1 shape for the kernels: {kernels.get('shape')}.")
    lines += ["", "## Every cell", ""]
    for name, s in summaries.items():
        lines += [f"### {name}", "", f"J* = {s['jstar']:.15g}", ""]
        if name in refs:
            r = refs[name]
            if "error" in r:
                lines.append(f"Reference solve failed: {r['error']}\n")
            else:
                lines.append(
                    f"Reference: logitfit {r['solver']} tol 1e-12, max|grad| {r['grad_norm']:.1e}, {r['seconds']:.1f} s.\n"
                )
        lines += [
            "| library | solver/tolerance | time (s) | CPU time (s) | gap | iterations "
            "| peak extra memory (MB) | runs |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for (lib, cfg), c in sorted(
            s["cells"].items(), key=lambda kv: (kv[0][0] != "logitfit", kv[0])
        ):
            if "error" in c:
                lines.append(f"| {lib} | {cfg} | {c['error']} | | | | | |")
            else:
                lines.append(
                    f"| {lib} | {cfg} | {c['seconds']:.3g} | {c['cpu_seconds']:.3g} "
                    f"| {_fmt_gap(c['gap'])} | {c['n_iter']} "
                    f"| {c['peak_extra_mb']:.0f} | {c['runs']} |"
                )
        lines.append("")
    return "\n".join(lines) + "\n"
