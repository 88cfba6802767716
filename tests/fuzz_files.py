"""Seeded hostile files for the CLI: valid files of every format, mutated, run in-process.

``make_corpus(folder)`` writes one valid file per format (CSV, TSV, gzip and
zstd CSV, Parquet, Feather, LIBSVM) and valid model files (plain, formula,
LIBSVM); ``run_case(i, corpus, workdir)`` mutates one of them with the seeded
generator ``i`` (byte flips, truncation, injected text, type changes, JSON
edits with the checksum recomputed) and pushes it through ``logitfit fit``,
``predict``, ``evaluate`` or ``summary`` by calling the CLI entry point in this
process under a time limit. It returns an :class:`Outcome` and raises
``AssertionError`` when the command broke a rule: an exit status other than
0 or 2, a traceback, an error that is not one paragraph naming the file, a
partial output file, a non-finite number in an output, a timeout, or a file
created by loading a model.

``python tests/fuzz_files.py N`` runs cases 0..N-1 and prints the tallies.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import re
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TIME_LIMIT_S = 30
# a non-finite number as a cell or table entry (not a level such as region[T.inf])
_NON_FINITE = re.compile(r"(?<![\w.\[])(nan|-?inf(inity)?)(?![\w\]])", re.I)
DATA_FORMATS = ("csv", "tsv", "csv.gz", "csv.zst", "parquet", "feather", "libsvm")
MODEL_KINDS = ("model_plain", "model_formula", "model_libsvm")
INJECTIONS = (
    b"[/bold]", b"[/]", b"[red]x[/red]", b"1e400", b"inf", b"-inf", b"nan", b"NaN", b"\x00",
    b"\xff\xfe", b'"', b"\n", b",,,,", b"\t", b"-", b"9999999999999:1", b"2:inf", b"# c\n",
    b"\xef\xbb\xbf", b"a" * 200_000, b"0.5 1:1\n", b"{}", b"[[[[", b"-1e308",
)


@dataclass
class Outcome:
    case: int
    kind: str
    command: str
    code: int
    message: str


class Timeout(Exception):
    pass


def _table(n: int = 80, seed: int = 0):
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.integers(0, 5, n)
    region = rng.choice(["north", "south", "east"], n)
    z = 0.8 * x1 - 0.3 * x2 + (region == "south") * 0.7
    y = (z + rng.logistic(size=n) > 0).astype(np.int64)
    return pa.table({"x1": x1, "x2": x2, "region": region, "y": y})


def make_corpus(folder: Path) -> dict[str, Path]:
    """Valid files of every format and valid model files, fitted by the CLI itself."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    t = _table()
    files: dict[str, Path] = {}
    pcsv.write_csv(t, folder / "d.csv")
    files["csv"] = folder / "d.csv"
    pcsv.write_csv(t, folder / "d.tsv", pcsv.WriteOptions(delimiter="\t"))
    files["tsv"] = folder / "d.tsv"
    raw = (folder / "d.csv").read_bytes()
    (folder / "d.csv.gz").write_bytes(gzip.compress(raw, mtime=0))
    files["csv.gz"] = folder / "d.csv.gz"
    with pa.CompressedOutputStream(str(folder / "d.csv.zst"), "zstd") as out:
        out.write(raw)
    files["csv.zst"] = folder / "d.csv.zst"
    pq.write_table(t, folder / "d.parquet")
    files["parquet"] = folder / "d.parquet"
    feather.write_feather(t, folder / "d.feather", compression="uncompressed")
    files["feather"] = folder / "d.feather"
    x1, x2, y = (t.column(c).to_numpy() for c in ("x1", "x2", "y"))
    lines = [f"{int(yi)} 1:{float(a)!r} 2:{int(b)}" for yi, a, b in zip(y, x1, x2, strict=True)]
    (folder / "d.libsvm").write_text("\n".join(lines) + "\n")
    files["libsvm"] = folder / "d.libsvm"
    for kind, args in (
        ("model_plain", ["fit", str(files["csv"]), "--target", "y"]),
        ("model_formula", ["fit", str(files["csv"]), "--formula", "y ~ x1 + np.log1p(x2) + C(region)"]),
        ("model_libsvm", ["fit", str(files["libsvm"])]),
    ):
        path = folder / f"{kind}.json"
        code, _, err = _call([*args, "-o", str(path), "--quiet"])
        assert code == 0, f"could not build the corpus ({kind}): {err}"
        files[kind] = path
    return files


def _call(argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in this process; return (exit status, stdout, stderr)."""
    from logitfit.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0

    def alarm(signum, frame):
        raise Timeout

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except Timeout:
        code = -1
        err.write(f"TIMEOUT after {TIME_LIMIT_S} s")
    except BaseException as exc:  # a traceback is a failure; keep it for the message
        import traceback

        code = -2
        err.write("Traceback (escaped the CLI):\n" + "".join(traceback.format_exception(exc)))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------
# mutations
# --------------------------------------------------------------------------


def _mutate_bytes(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    op = rng.integers(0, 5)
    n = len(data)
    if op == 0:
        buf = bytearray(data)
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(0, n))
            buf[i] ^= 1 << int(rng.integers(0, 8))
        return bytes(buf), "byte flips"
    if op == 1:
        cut = int(rng.integers(0, n))
        return data[:cut], f"truncated at {cut}"
    if op == 2:
        i = int(rng.integers(0, n))
        snippet = INJECTIONS[int(rng.integers(0, len(INJECTIONS)))]
        return data[:i] + snippet + data[i:], f"injected {snippet[:12]!r}"
    if op == 3:
        i, j = sorted(int(v) for v in rng.integers(0, n, 2))
        return data[:i] + data[j:], "deleted a range"
    i = int(rng.integers(0, n))
    return data[:i] + data[i: i + 64] * int(rng.integers(2, 50)) + data[i:], "repeated a chunk"


def _mutate_text_field(text: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    """Replace one field of a delimited text file with a hostile value."""
    lines = text.split(b"\n")
    i = int(rng.integers(0, max(1, len(lines) - 1)))
    sep = b"\t" if b"\t" in lines[0] else (b" " if b":" in lines[0] else b",")
    fields = lines[i].split(sep)
    j = int(rng.integers(0, len(fields)))
    value = INJECTIONS[int(rng.integers(0, len(INJECTIONS)))]
    fields[j] = value
    lines[i] = sep.join(fields)
    return b"\n".join(lines), f"field {i}:{j} = {value[:12]!r}"


def _mutate_table(path: Path, fmt: str, rng: np.random.Generator, dest: Path) -> str:
    """Rewrite a Parquet/Feather file with a changed column type or name."""
    import datetime
    import decimal

    import pyarrow as pa
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    t = _table(seed=int(rng.integers(0, 1000)))
    n = t.num_rows
    col = ["x1", "x2", "region", "y"][int(rng.integers(0, 4))]
    choices = {
        "list": pa.array([[1.0, 2.0]] * n),
        "struct": pa.array([{"a": 1}] * n),
        "map": pa.array([[("k", 1)]] * n, pa.map_(pa.string(), pa.int64())),
        "date": pa.array([datetime.date(2020, 1, 1 + i % 28) for i in range(n)]),
        "timestamp": pa.array([datetime.datetime(2020, 1, 1, i % 24) for i in range(n)]),
        "decimal": pa.array([decimal.Decimal(f"{i % 200}.5") for i in range(n)]),
        "binary": pa.array([b"\x00\x01"] * n),
        "inf": pa.array([float("inf")] + [1.0] * (n - 1)),
        "null": pa.array([None] * n, pa.float64()),
        "markup": pa.array(["[/bold]", "[red]"] * (n // 2)),
        "dictionary": pa.array(["a", "b"] * (n // 2)).dictionary_encode(),
        "float_target": pa.array(np.linspace(0, 1, n)),
    }
    name = list(choices)[int(rng.integers(0, len(choices)))]
    i = t.schema.get_field_index(col)
    t = t.set_column(i, col, choices[name])
    what = f"column {col} -> {name}"
    if rng.random() < 0.2:
        names = list(t.column_names)
        names[int(rng.integers(0, len(names)))] = names[int(rng.integers(0, len(names)))]
        t = t.rename_columns(names)
        what += ", duplicate names"
    if rng.random() < 0.15:
        names = list(t.column_names)
        names[0] = "[/]x1"
        t = t.rename_columns(names)
        what += ", markup column name"
    if fmt == "parquet":
        pq.write_table(t, dest)
    else:
        feather.write_feather(t, dest, compression="uncompressed")
    return what


def _mutate_model(doc: dict, rng: np.random.Generator) -> str:
    """Edit a model document: a hostile value at a random place."""
    def leaves(d, prefix=()):
        if isinstance(d, dict):
            for k, v in d.items():
                yield from leaves(v, (*prefix, k))
        elif isinstance(d, list) and d:
            yield prefix
            yield from leaves(d[int(rng.integers(0, len(d)))], (*prefix, 0))
        yield prefix

    op = int(rng.integers(0, 9))
    if op == 0:
        doc["encoding"] = doc.get("encoding") or {}
        if isinstance(doc["encoding"], dict):
            doc["encoding"]["rhs"] = "x1 + {open('CANARY','w').close()}"
        return "formula injection"
    if op == 1:
        nested: object = 0
        for _ in range(100_000):
            nested = [nested]
        doc["training"] = {"deep": nested}
        return "deep nesting"
    if op == 2:
        doc["covariance"] = [[1.0, 0.0], [0.0, 1.0]]
        return "covariance of the wrong shape"
    if op == 3:
        doc["classes"] = {"dtype": "S999999999", "values": ["a", "b"]}
        return "huge class dtype"
    if op == 4:
        enc = doc.get("encoding")
        if isinstance(enc, dict) and enc.get("kind") == "formula":
            enc["variables"]["region"]["levels"] = [f"l{i}" for i in range(20_000)]
        elif isinstance(enc, dict) and enc.get("columns"):
            enc["columns"][-1]["levels"] = [f"l{i}" for i in range(20_000)]
        return "20,000 levels"
    if op == 5:
        doc["classes"]["values"] = ["[/bold]", "[/]"]
        doc["classes"]["dtype"] = "<U7"
        return "markup class labels"
    paths = list(leaves(doc))
    where = paths[int(rng.integers(0, len(paths)))]
    value = [None, "x", -1, 1e308, [], {}, True, "[/]", 10**30, [[1, 2], [3]]][
        int(rng.integers(0, 10))]
    target = doc
    for key in where[:-1]:
        target = target[key]
    if where:
        target[where[-1]] = value
    return f"{'/'.join(map(str, where))} = {str(value)[:20]}"


# --------------------------------------------------------------------------
# one case
# --------------------------------------------------------------------------


def _check(outcome: Outcome, out: str, err: str, named: Path, output: Path | None,
           workdir: Path) -> None:
    text = out + err
    tag = f"case {outcome.case} ({outcome.kind}, {outcome.message}): {outcome.command}"
    assert outcome.code in (0, 2), f"{tag}: exit {outcome.code}\n{text[-3000:]}"
    assert "Traceback" not in text, f"{tag}: traceback\n{text[-3000:]}"
    assert not (workdir / "CANARY").exists(), f"{tag}: loading the model ran code"
    if outcome.code == 2:
        msg = err.strip()
        assert msg, f"{tag}: exit 2 without a message"
        assert "\n\n" not in msg, f"{tag}: the error is not one paragraph:\n{msg}"
        assert named.name in msg.replace("\n", ""), f"{tag}: the error does not name {named.name}:\n{msg}"
        if output is not None:
            assert not output.exists(), f"{tag}: a partial output file was left"
        return
    if output is not None and output.suffix == ".csv":
        body = output.read_text()
        assert body.strip(), f"{tag}: empty output"
        assert not _NON_FINITE.search(body), f"{tag}: non-finite output"
    if output is not None and output.suffix == ".json":
        doc = json.loads(output.read_text())
        flat = json.dumps(doc["coef"]) + json.dumps(doc["intercept"])
        assert "NaN" not in flat and "Infinity" not in flat, f"{tag}: non-finite model"
    assert not _NON_FINITE.search(out), f"{tag}: NaN printed\n{out[-2000:]}"


def run_case(case: int, corpus: dict[str, Path], workdir: Path) -> Outcome:
    """Mutate one corpus file with seed ``case`` and run one command on it."""
    rng = np.random.default_rng(case)
    kinds = DATA_FORMATS + MODEL_KINDS
    kind = kinds[case % len(kinds)]
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.iterdir():
        if stale.is_file():
            stale.unlink()
    src = corpus[kind]
    suffix = "".join(src.suffixes)
    bad = workdir / f"bad{suffix}"
    if kind in ("parquet", "feather") and rng.random() < 0.4:
        message = _mutate_table(src, kind, rng, bad)
    elif kind.startswith("model"):
        doc = json.loads(src.read_text())
        if rng.random() < 0.7:
            message = _mutate_model(doc, rng)
            from logitfit.io.model_file import _checksum

            keep_checksum = rng.random() < 0.9
            try:
                doc["checksum"] = _checksum(doc) if keep_checksum else "0" * 64
                bad.write_text(json.dumps(doc))
            except (RecursionError, ValueError):
                bad.write_text("[" * 100_000 + "]" * 100_000)
        else:
            data, message = _mutate_bytes(src.read_bytes(), rng)
            bad.write_bytes(data)
    elif kind in ("csv", "tsv", "libsvm") and rng.random() < 0.5:
        data, message = _mutate_text_field(src.read_bytes(), rng)
        bad.write_bytes(data)
    else:
        data, message = _mutate_bytes(src.read_bytes(), rng)
        bad.write_bytes(data)
    if kind in ("parquet", "feather") and rng.random() < 0.2:
        plain = workdir / "noext"
        shutil.copy(bad, plain)
        bad = plain
        message += ", no extension"
    old = os.getcwd()
    os.chdir(workdir)
    try:
        if kind.startswith("model"):
            data_file = corpus["libsvm" if kind == "model_libsvm" else "csv"]
            command = ["summary", "predict", "evaluate"][int(rng.integers(0, 3))]
            out_path = workdir / "out.csv" if command == "predict" else None
            argv = [command, str(bad)] + ([] if command == "summary" else [str(data_file)])
            named = bad
        else:
            command = ["fit", "predict", "evaluate"][int(rng.integers(0, 3))]
            model = corpus["model_libsvm" if kind == "libsvm" else "model_plain"]
            out_path = workdir / ("out.json" if command == "fit" else "out.csv")
            if command == "fit":
                argv = ["fit", str(bad)] + ([] if kind == "libsvm" else ["--target", "y"])
            else:
                argv = [command, str(model), str(bad)]
                out_path = out_path if command == "predict" else None
            named = bad
        if out_path is not None:
            argv += ["-o", str(out_path)]
        if kind in ("feather", "parquet") and bad.suffix == "" and command != "summary":
            pass  # recognised by content
        code, out, err = _call(argv)
    finally:
        os.chdir(old)
    outcome = Outcome(case, kind, " ".join(argv[:1]), code, message)
    _check(outcome, out, err, named, out_path, workdir)
    return outcome


def _run_range(corpus_dir: Path, work: Path, start: int, stop: int) -> None:
    corpus = {p.name.split(".")[0] if p.name.startswith("model") else "".join(p.suffixes)[1:]: p
              for p in corpus_dir.iterdir()}
    for case in range(start, stop):
        try:
            o = run_case(case, corpus, work)
            print(f"RESULT {case} {o.code}", flush=True)
        except AssertionError as err:
            print(f"RESULT {case} FAIL {str(err)[:800]!r}", flush=True)


def main(argv: list[str]) -> None:
    """Tally ``n`` cases, each range in a child process so that a crash is counted, not fatal."""
    import subprocess
    import tempfile
    from collections import Counter

    if argv and argv[0] == "--range":
        _run_range(Path(argv[1]), Path(argv[2]), int(argv[3]), int(argv[4]))
        return
    n = int(argv[0]) if argv else 200
    start0 = int(argv[1]) if len(argv) > 1 else 0
    with tempfile.TemporaryDirectory() as tmp:
        corpus_dir = Path(tmp) / "corpus"
        make_corpus(corpus_dir)
        tally: Counter = Counter()
        failures: list[str] = []

        def child(a: int, b: int) -> tuple[dict[int, str], int]:
            proc = subprocess.run(
                [sys.executable, __file__, "--range", str(corpus_dir), str(Path(tmp) / f"w{a}"),
                 str(a), str(b)], capture_output=True, text=True, check=False)
            done = {}
            for line in proc.stdout.splitlines():
                if line.startswith("RESULT "):
                    _, case, rest = line.split(" ", 2)
                    done[int(case)] = rest
            return done, proc.returncode

        for a in range(start0, start0 + n, 25):
            b = min(a + 25, start0 + n)
            done, rc = child(a, b)
            for case in range(a, b):
                if case not in done and rc != 0:
                    one, rc1 = child(case, case + 1)
                    done.update(one)
                    if case not in done:
                        done[case] = f"FAIL 'process died with status {rc1}'"
            for case, rest in sorted(done.items()):
                if rest.startswith("FAIL"):
                    tally["failures"] += 1
                    failures.append(f"{case}: {rest[5:]}")
                else:
                    tally["exit 0 (fit or output)" if rest == "0" else "exit 2 (clear error)"] += 1
        print(f"cases: {n}; " + "; ".join(f"{k}: {v}" for k, v in sorted(tally.items())))
        for f in failures:
            print("-", f[:700])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main(sys.argv[1:])
