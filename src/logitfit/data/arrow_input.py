"""Arrow data read from untrusted files: checked before any compute kernel touches it.

Every reader (whole tables in :mod:`logitfit.io.tables`, streamed batches in
:mod:`logitfit.blocks.stream`) passes what it read through these checks:

* :func:`validate` runs Arrow's full validation (offsets, lengths, UTF-8,
  dictionary indices), so a corrupted buffer is an error, not a crash;
* :func:`check_schema` refuses duplicate column names and column types that
  logitfit does not encode (lists, structs, maps, dates, timestamps, decimals,
  binary), naming the column;
* :func:`check_finite` refuses infinities and NaN in float columns, naming the
  row and the column;
* :func:`reading` turns any reader exception into a :class:`DataError` naming
  the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from logitfit.exceptions import DataError

__all__ = ["check_finite", "check_schema", "column_kind", "from_numpy", "reader_error", "reading",
           "to_numpy", "validate"]

_MAX_MESSAGE = 300  # characters of a reader's own message kept in ours


def reader_error(path: str | os.PathLike, err: BaseException, what: str, *,
                 where: str | None = None) -> DataError:
    """A :class:`DataError` for an exception raised while reading ``path`` as ``what``."""
    if isinstance(err, DataError):
        return err
    if isinstance(err, MemoryError):
        return DataError(path, f"not enough memory to read it as {what}")
    text = " ".join(str(err).split())[:_MAX_MESSAGE] or type(err).__name__
    place = f" ({where})" if where else ""
    return DataError(path, f"cannot read it as {what}{place}: {text}")


@contextmanager
def reading(path: str | os.PathLike, what: str, *, where: str | None = None) -> Iterator[None]:
    """Turn every exception of the block into a :class:`DataError` naming ``path``."""
    try:
        yield
    except DataError:
        raise
    except Exception as err:  # noqa: BLE001 - untrusted bytes: any reader failure is the file's
        raise reader_error(path, err, what, where=where) from None


def validate(path: str | os.PathLike, data: Any, what: str, *, where: str | None = None) -> Any:
    """Arrow's full validation of a Table or RecordBatch; returns it, or raises DataError."""
    with reading(path, what, where=where):
        data.validate(full=True)
    return data


def column_kind(typ: Any) -> str | None:
    """``"numeric"``, ``"string"``, ``"null"`` for a type logitfit encodes, else None.

    Dictionary columns count as their value type; booleans are numeric.
    """
    import pyarrow as pa

    t = typ.value_type if pa.types.is_dictionary(typ) else typ
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        return "numeric"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_null(t):
        return "null"
    return None


def check_schema(path: str | os.PathLike, schema: Any, columns: Sequence[str] | None = None) -> None:
    """Refuse duplicate column names and unsupported types among ``columns`` (default: all)."""
    import pyarrow as pa

    seen: set[str] = set()
    for name in schema.names:
        if name in seen:
            raise DataError(path, "the column name appears twice in the file; rename one",
                            column=name)
        seen.add(name)
    for name in schema.names if columns is None else columns:
        if name not in seen:
            continue
        typ = schema.field(name).type
        if pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
            raise DataError(path, "the column holds bytes that are not UTF-8 text", column=name)
        if column_kind(typ) is None:
            raise DataError(
                path, f"the column has type {str(typ)[:80]}, which logitfit does not read: "
                "columns must hold numbers, booleans or strings; convert it (a date to a "
                "number of days, a decimal to a float) or leave it out", column=name,
            )


def check_finite(path: str | os.PathLike, data: Any, columns: Sequence[str] | None = None, *,
                 row_offset: int = 0) -> None:
    """Refuse infinite or NaN values in the float columns among ``columns`` (default: all).

    Missing values (nulls) are left to the encoder, which names them as missing.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in data.schema.names if columns is None else columns:
        if name not in data.schema.names:
            continue
        col = data.column(name)
        if not pa.types.is_floating(col.type) or len(col) == 0:
            continue
        bad = pc.invert(pc.is_finite(col))  # null where the value is missing: left to the encoder
        if not pc.any(bad).as_py():
            continue
        i = pc.indices_nonzero(pc.fill_null(bad, False))[0].as_py()
        value = col[i].as_py()
        raise DataError(path, f"the value {value!r} is not a finite number; fix or remove "
                        "the row", row=row_offset + i + 1, column=name)


# --------------------------------------------------------------------------
# numpy <-> Arrow through buffers: pyarrow's own conversions import pandas
# (about 0.3 s of every command's start-up), these do not
# --------------------------------------------------------------------------


def _numpy_dtype(typ: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    if pa.types.is_floating(typ):
        return np.dtype(f"f{typ.bit_width // 8}")
    if pa.types.is_signed_integer(typ):
        return np.dtype(f"i{typ.bit_width // 8}")
    if pa.types.is_unsigned_integer(typ):
        return np.dtype(f"u{typ.bit_width // 8}")
    return None


def to_numpy(data: Any) -> Any:
    """A null-free numeric or boolean Arrow array (or chunked array) as a new numpy array.

    Other types, and arrays with nulls, go through pyarrow's ``to_numpy``.
    """
    import numpy as np
    import pyarrow as pa

    chunks = data.chunks if isinstance(data, pa.ChunkedArray) else [data]
    parts = []
    for a in chunks:
        dtype = _numpy_dtype(a.type)
        if a.null_count or not (dtype is not None or pa.types.is_boolean(a.type)):
            parts.append(a.to_numpy(zero_copy_only=False))
        elif dtype is not None:
            raw = np.frombuffer(a.buffers()[1], dtype=dtype, count=a.offset + len(a))
            parts.append(raw[a.offset:].copy())
        else:
            bits = np.frombuffer(a.buffers()[1], dtype=np.uint8)
            parts.append(np.unpackbits(bits, bitorder="little")[a.offset:a.offset + len(a)]
                         .astype(bool))
    if not parts:
        dtype = _numpy_dtype(data.type)
        return np.empty(0, dtype=dtype if dtype is not None else (
            bool if pa.types.is_boolean(data.type) else object))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def from_numpy(values: Any) -> Any:
    """A 1-D numpy array of numbers, booleans or strings as an Arrow array (no nulls)."""
    import numpy as np
    import pyarrow as pa

    v = np.ascontiguousarray(values)
    n = len(v)
    if v.dtype.kind == "b":
        bits = np.packbits(v.astype(np.uint8), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits)])
    if v.dtype.kind in "iuf":
        typ = {"f": {4: pa.float32(), 8: pa.float64()}, "i": {1: pa.int8(), 2: pa.int16(),
               4: pa.int32(), 8: pa.int64()}, "u": {1: pa.uint8(), 2: pa.uint16(),
               4: pa.uint32(), 8: pa.uint64()}}[v.dtype.kind].get(v.dtype.itemsize)
        if typ is not None:
            return pa.Array.from_buffers(typ, n, [None, pa.py_buffer(v)])
    if v.dtype.kind in "UO" and all(isinstance(s, str) for s in v.tolist()):
        encoded = [s.encode("utf-8") for s in v.tolist()]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        return pa.Array.from_buffers(pa.large_string(), n, [
            None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]).cast(pa.string())
    return pa.array(v.tolist())
