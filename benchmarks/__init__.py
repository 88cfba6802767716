"""The logitfit benchmark suite: workloads W1..W6 and the small-data points S1, S3 against scikit-learn, glum and statsmodels.

Run ``python -m benchmarks --help``; ``make bench`` runs the full suite and
writes docs/benchmarks.md.
"""
