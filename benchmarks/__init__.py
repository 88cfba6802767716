"""The logitfit benchmark suite: workloads W1..W6 against scikit-learn, glum and statsmodels.

Run ``python -m benchmarks --help``; ``make bench`` runs the full suite and
writes docs/benchmarks.md.
"""
