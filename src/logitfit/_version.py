"""The package version, in one place (layer 0, so every module may read it)."""

__version__ = "0.1.0"
