"""``python -m logitfit``: the command line (see :mod:`logitfit.cli`)."""

from logitfit.cli import main

if __name__ == "__main__":
    main()
