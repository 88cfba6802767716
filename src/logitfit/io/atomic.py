"""Atomic file writes: a reader sees the old file or the complete new one, never a partial one.

The data go to a temporary file in the destination directory, which is
flushed, fsync'ed and moved into place with :func:`os.replace` (atomic on
POSIX and Windows); on any error the temporary file is removed and the
destination is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_path", "atomic_write"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success fsync and ``os.replace`` it.

    If the block raises, the temporary file is removed and ``path`` is left as
    it was (absent, or the previous version): never a partial file.

    Parameters
    ----------
    path : str or path-like
        Destination.
    mode : {"w", "wb"}
    **kwargs
        Passed to :func:`open` (e.g. ``encoding``, ``newline``).

    Yields
    ------
    file object
        Also has ``.tmp_path`` (str), for writers that need a file name.
    """
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as f:
        try:
            f.tmp_path = tmp  # type: ignore[attr-defined]
        except AttributeError:  # pragma: no cover - some file types refuse attributes
            pass
        yield f
        f.flush()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Like :func:`atomic_write` for writers that open the file themselves.

    Yields a temporary path in the destination directory; after the block the
    file there is fsync'ed and moved to ``path`` (or removed on error).
    """
    dest = Path(path)
    directory = dest.parent if str(dest.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        os.chmod(tmp, _default_mode())
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def _default_mode() -> int:
    """Permissions of a new file under the current umask (mkstemp would give 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every OS/file system allows it
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
