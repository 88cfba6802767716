"""The ``logitfit`` command line: parsing and printing only (the commands live in :mod:`.app`)."""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``logitfit`` command (see ``logitfit --help``)."""
    from logitfit.cli.app import main as run

    run(argv)
