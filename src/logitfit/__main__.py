"""``python -m logitfit``: the command line (see :mod:`logitfit.cli.app`)."""

from logitfit.cli.app import main

if __name__ == "__main__":
    main()
