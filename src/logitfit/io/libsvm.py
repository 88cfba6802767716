"""LIBSVM / svmlight files for :mod:`logitfit.io.tables`: read whole (CSR, kept sparse) or streamed.

Parsing is scikit-learn's ``load_svmlight_file``; a malformed line is
reported as a :class:`~logitfit.io.tables.DataError` naming the file line (the
first bad label or ``index:value`` pair).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from logitfit._memory import check_memory, dense_bytes
from logitfit.data.arrow_input import reader_error, reading
from logitfit.exceptions import DataError
from logitfit.io.files import STDIN, detect_format, open_stream, resolve_path
from logitfit.io.tables import BATCH_ROWS, CSV_BLOCK_BYTES, _is_number

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse as sp

__all__ = ["MAX_FEATURES", "read_libsvm", "iter_libsvm"]

#: Largest number of features a LIBSVM file may declare (indices are int32 downstream).
MAX_FEATURES = 2**31 - 1
#: Bytes a fit keeps per feature (coefficients, gradient, search directions, names): the
#: memory check before a file with a huge index is accepted.
BYTES_PER_FEATURE = 256


def _libsvm_error(path: str, lines: Sequence[bytes], first_line: int) -> DataError:
    for k, ln in enumerate(lines):
        s = ln.split(b"#", 1)[0].strip()
        if not s:
            continue
        toks = s.split()
        bad = None
        if not _is_number(toks[0].decode("utf-8", "replace")):
            bad = f"label {toks[0].decode('utf-8', 'replace')[:40]!r} is not a number"
        for t in toks[1:]:
            if bad:
                break
            if t.startswith(b"qid:"):
                continue
            idx, _, val = t.partition(b":")
            if not idx.isdigit() or not _is_number(val.decode("utf-8", "replace")):
                bad = f"malformed feature {t.decode('utf-8', 'replace')[:40]!r} (expected index:value)"
            elif int(idx) > MAX_FEATURES:
                bad = f"feature index {int(idx):,} is beyond the limit of {MAX_FEATURES:,} features"
        if bad:
            return DataError(path, bad, line=first_line + k, row=first_line + k)
    return DataError(path, "malformed LIBSVM data")


def _data_lines(data: bytes, first_line: int) -> np.ndarray:
    """File line numbers of the lines that hold a row (not blank, not only a comment)."""
    return np.array([first_line + k for k, ln in enumerate(data.splitlines())
                     if ln.split(b"#", 1)[0].strip()], dtype=np.int64)


def _parse_libsvm(path: str, data: bytes, first_line: int, n_features: int | None,
                  zero_based: bool | str) -> tuple[sp.csr_matrix, np.ndarray]:
    """Parse LIBSVM text; refuse huge indices, non-finite values and non-integer labels by line."""
    from sklearn.datasets import load_svmlight_file

    lines = _data_lines(data, first_line)
    if lines.size == 0:
        raise DataError(path, "no data lines (only comments or blank lines)")
    try:
        X, y = load_svmlight_file(io.BytesIO(data), n_features=n_features, zero_based=zero_based,
                                  dtype=np.float64)
    except (ValueError, OverflowError) as err:
        if "n_features" in str(err) or "larger than" in str(err):
            raise DataError(path, f"a feature index is beyond the model's {n_features} "
                            "features") from None
        raise _libsvm_error(path, data.splitlines(), first_line) from None
    except Exception as err:  # noqa: BLE001 - untrusted bytes: any parser failure is the file's
        raise reader_error(path, err, "LIBSVM") from None
    X = X.tocsr()
    _check_parsed(path, X, y, lines, zero_based)
    return X, y


def _check_parsed(path: str, X: sp.csr_matrix, y: np.ndarray, lines: np.ndarray,
                  zero_based: bool | str) -> None:
    if X.shape[1] > MAX_FEATURES:
        row = int(np.searchsorted(X.indptr, int(np.argmax(X.indices)), side="right")) - 1
        raise DataError(path, f"feature index {int(X.indices.max()) + (not zero_based):,} is "
                        f"beyond the limit of {MAX_FEATURES:,} features", line=int(lines[row]))
    check_memory(dense_bytes(X.shape[1], BYTES_PER_FEATURE, 1),
                 f"a model of {X.shape[1]:,} features (the largest index in the file)", path=path)
    bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
    if bad.size:
        k = int(bad[0])
        raise DataError(path, f"label {float(y[k])!r} is not an integer class label",
                        line=int(lines[k]))
    bad = np.flatnonzero(~np.isfinite(X.data))
    if bad.size:
        k = int(bad[0])
        row = int(np.searchsorted(X.indptr, k, side="right")) - 1
        index = int(X.indices[k]) + (not zero_based)
        raise DataError(path, f"feature {index} has the value {float(X.data[k])!r}, not a finite number",
                        line=int(lines[row]), column=str(index))


def read_libsvm(
    path: str | os.PathLike,
    *,
    n_features: int | None = None,
    zero_based: bool | str = "auto",
) -> tuple[sp.csr_matrix, np.ndarray, bool]:
    """Read a LIBSVM/svmlight file (optionally gzip/zstd) into CSR, kept sparse.

    Returns
    -------
    X : scipy.sparse.csr_matrix, shape (n_samples, n_features)
    y : ndarray, shape (n_samples,)
        The labels as written (float).
    zero_based : bool
        Whether feature indices start at 0 (detected when ``"auto"``).
    """
    spath = resolve_path(path)
    if spath != STDIN:
        detect_format(spath, "libsvm")
        if Path(spath).stat().st_size == 0:
            raise DataError(spath, "the file is empty")
    with reading(spath, "LIBSVM"):
        with open_stream(spath) as f:
            data = f.read()
    if not data.strip():
        raise DataError(spath, "the file is empty")
    if zero_based == "auto":
        zero_based = bool(re.search(rb"(^|\s)0:", data))
    X, y = _parse_libsvm(spath, data, 1, n_features, zero_based)
    return X, y, bool(zero_based)


def iter_libsvm(
    path: str | os.PathLike,
    *,
    n_features: int,
    zero_based: bool,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[tuple[sp.csr_matrix, np.ndarray]]:
    """Stream a LIBSVM file in chunks of ``batch_rows`` lines as (CSR, labels)."""
    spath = resolve_path(path)
    line_no = 1
    pending: list[bytes] = []
    carry = b""  # a line cut at the end of a chunk, completed by the next chunk
    rows = 0
    with reading(spath, "LIBSVM"), open_stream(spath) as raw:
        done = False
        while not done:
            chunk = raw.read(CSV_BLOCK_BYTES)
            done = not chunk
            lines = (carry + chunk).splitlines(keepends=True)
            carry = lines.pop() if lines and not done and not lines[-1].endswith(b"\n") else b""
            pending.extend(lines)
            while len(pending) >= batch_rows or (done and pending):
                batch, pending = pending[:batch_rows], pending[batch_rows:]
                data = b"".join(batch)
                if _data_lines(data, 0).size:
                    X, y = _parse_libsvm(spath, data, line_no, n_features, zero_based)
                    rows += X.shape[0]
                    yield X, y
                line_no += len(batch)
    if rows == 0:
        raise DataError(spath, "no data lines (only comments or blank lines)")
