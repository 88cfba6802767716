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

from logitfit.exceptions import DataError
from logitfit.io.tables import (
    BATCH_ROWS,
    CSV_BLOCK_BYTES,
    STDIN,
    _is_number,
    _open_stream,
    detect_format,
)

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse as sp

__all__ = ["read_libsvm", "iter_libsvm"]


def _libsvm_error(path: str, lines: Sequence[bytes], first_line: int) -> DataError:
    for k, ln in enumerate(lines):
        s = ln.split(b"#", 1)[0].strip()
        if not s:
            continue
        toks = s.split()
        bad = None
        if not _is_number(toks[0].decode("utf-8", "replace")):
            bad = f"label {toks[0].decode('utf-8', 'replace')!r} is not a number"
        for t in toks[1:]:
            if bad:
                break
            if t.startswith(b"qid:"):
                continue
            idx, _, val = t.partition(b":")
            if not idx.isdigit() or not _is_number(val.decode("utf-8", "replace")):
                bad = f"malformed feature {t.decode('utf-8', 'replace')!r} (expected index:value)"
        if bad:
            return DataError(path, bad, line=first_line + k, row=first_line + k)
    return DataError(path, "malformed LIBSVM data")


def _parse_libsvm(path: str, data: bytes, first_line: int, n_features: int | None,
                  zero_based: bool | str) -> tuple[sp.csr_matrix, np.ndarray]:
    from sklearn.datasets import load_svmlight_file

    try:
        X, y = load_svmlight_file(io.BytesIO(data), n_features=n_features, zero_based=zero_based,
                                  dtype=np.float64)
    except ValueError as err:
        lines = data.splitlines()
        if "n_features" in str(err) or "larger than" in str(err):
            raise DataError(path, f"a feature index is beyond the model's {n_features} "
                            "features") from None
        raise _libsvm_error(path, lines, first_line) from None
    return X.tocsr(), y


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
    spath = str(path)
    if spath != STDIN:
        detect_format(spath, "libsvm")
        if Path(spath).stat().st_size == 0:
            raise DataError(spath, "the file is empty")
    with _open_stream(spath) as f:
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
    spath = str(path)
    line_no = 1
    pending: list[bytes] = []
    carry = b""  # a line cut at the end of a chunk, completed by the next chunk
    with _open_stream(spath) as raw:
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
                if data.strip():
                    yield _parse_libsvm(spath, data, line_no, n_features, zero_based)
                line_no += len(batch)
