"""Memory on this machine, and a check before a large allocation (standard library only).

A dense float64 design of ``n`` rows and ``p`` columns takes ``8 n p`` bytes.
:func:`check_memory` refuses a request larger than the memory the machine (or
its cgroup) can give now, with both figures in the message, instead of letting
the allocation fail deep inside numpy or the operating system kill the process.
"""

from __future__ import annotations

import os

from logitfit.exceptions import DataError

__all__ = ["available_memory", "check_memory", "dense_bytes", "format_bytes"]

_CGROUP_FILES = (  # (limit, usage): cgroup v2, then v1
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)


def format_bytes(n: float) -> str:
    """``12.3 GiB``-style text for a byte count."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop returns


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _meminfo() -> tuple[int | None, int | None]:
    """(MemAvailable, MemTotal) in bytes from /proc/meminfo, or None where unknown."""
    found: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("MemAvailable", "MemTotal"):
                    found[key] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return found.get("MemAvailable"), found.get("MemTotal")


def available_memory() -> tuple[int | None, int | None]:
    """(available now, total) bytes of memory for this process; None where the system does not say.

    The smaller of the machine's figures (``/proc/meminfo``, else ``sysconf``)
    and the cgroup's limit (a container's share).
    """
    avail, total = _meminfo()
    if total is None:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            return None, None
    for limit_file, usage_file in _CGROUP_FILES:
        limit = _read_int(limit_file)
        if limit is not None and limit < (1 << 60):  # "max" or a huge v1 value: no limit
            total = min(total, limit)
            used = _read_int(usage_file) or 0
            avail = min(avail if avail is not None else limit, max(0, limit - used))
            break
    return avail, total


def dense_bytes(n_rows: int, n_columns: int, itemsize: int = 8) -> int:
    """Bytes of a dense ``n_rows x n_columns`` array: ``n_rows * n_columns * itemsize``."""
    return int(n_rows) * int(n_columns) * int(itemsize)


def check_memory(nbytes: int, what: str, *, path: str | os.PathLike | None = None,
                 hint: str = "") -> None:
    """Refuse an allocation of ``nbytes`` that this machine cannot give now.

    Parameters
    ----------
    nbytes : int
        Size of the request.
    what : str
        What is allocated, e.g. ``"the 1,000,000 x 20,000 float64 design"``.
    path : path-like, optional
        The file the request comes from: the error is then a :class:`DataError` naming it.
    hint : str
        How to make the request smaller (appended to the message).

    Raises
    ------
    DataError
        ``path`` given and the request exceeds the available memory.
    ValueError
        ``path`` not given and the request exceeds the available memory.
    """
    avail, total = available_memory()
    if avail is None or nbytes <= avail:
        return
    have = f"this machine has {format_bytes(avail)} available"
    if total is not None:
        have += f" of {format_bytes(total)}"
    message = f"{what} needs {format_bytes(nbytes)}, {have}" + (f"; {hint}" if hint else "")
    if path is not None:
        raise DataError(path, message)
    raise ValueError(message)
