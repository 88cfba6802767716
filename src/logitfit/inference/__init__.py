"""Inference on a fit: covariances, tests, profile intervals, separation, Firth, summary tables."""
