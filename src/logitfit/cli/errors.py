"""Errors of the command line: one paragraph of plain text naming the file, exit status 2.

Nothing here imports rich: an error message is written as plain text, so a
value, column name, class label or path that looks like markup (``[/]``,
``[bold]``) is printed as it is and can never break the printing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

#: Exit status of every error a person can fix (and of every refused input).
EXIT_ERROR = 2

#: Set to 1 to see the traceback of an unexpected exception (for bug reports).
TRACEBACK_ENV = "LOGITFIT_TRACEBACK"


class CLIError(ValueError):
    """A command-line usage problem the person can fix (bad option combination)."""


def one_paragraph(text: object) -> str:
    """``text`` with every run of whitespace (newlines too) folded to one space."""
    return " ".join(str(text).split())


def print_error(message: object, prog: str = "logitfit") -> None:
    """Write ``<prog>: error: <message>`` to stderr as one paragraph of plain text."""
    head = f"{prog}: error:"
    if sys.stderr.isatty() and "NO_COLOR" not in os.environ:
        head = f"\x1b[1;31m{head}\x1b[0m"
    sys.stderr.write(f"{head} {one_paragraph(message)}\n")
    sys.stderr.flush()


def _names(path: object, text: str) -> bool:
    return path is None or str(path) in text or os.path.basename(str(path)) in text


def describe(err: BaseException, path: object = None) -> str:
    """The one-paragraph message of ``err``, naming ``path`` when the message does not.

    A ``ValueError`` or ``OSError`` carries a message meant for a person; any
    other exception (one a corrupted file provoked inside a reader) is named
    by its type, so the text still says what broke.
    """
    if isinstance(err, RecursionError):
        text = "the input is nested too deeply to be read"
    elif isinstance(err, MemoryError):
        text = "reading it needs more memory than this machine has"
    elif isinstance(err, (ValueError, OSError)):
        text = one_paragraph(err) or type(err).__name__
    else:
        text = f"cannot be read ({type(err).__name__}: {one_paragraph(err)})"
    if not isinstance(err, CLIError) and not _names(path, text):
        text = f"{path}: {text}"
    return text


@contextmanager
def handling(path: object = None) -> Iterator[None]:
    """Run a step of a command; any exception becomes :class:`CommandFailed` naming ``path``.

    ``path`` is the file the step reads or writes. Exit requests
    (``SystemExit``, typer's ``Exit``) and Ctrl-C pass through.
    """
    try:
        yield
    except CommandFailed:
        raise
    except Exception as err:  # noqa: BLE001 - the command boundary: no traceback, exit 2
        if os.environ.get(TRACEBACK_ENV) == "1":
            raise
        raise CommandFailed(describe(err, path)) from None


class CommandFailed(Exception):
    """A command stopped with a message for the person (already one paragraph)."""
