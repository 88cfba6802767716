"""Separation detection by linear programs (logitfit.inference.separation).

Oracle: data built with a known separation (planted), and data that provably
overlap (every row appears with both labels, so no direction can separate them).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logitfit import LogisticRegression, SeparationWarning, check_separation

#: Cases drawn per property (each runs a few small LPs).
N_EXAMPLES = 25


def _noise(seed, n, p):
    return np.random.default_rng(seed).normal(size=(n, p))


@settings(max_examples=N_EXAMPLES)
@given(seed=st.integers(0, 10_000), j=st.integers(0, 2), sign=st.sampled_from([-1.0, 1.0]),
       cut=st.floats(-0.5, 0.5))
def test_planted_complete_separation_is_found_and_named(seed, j, sign, cut):
    X = _noise(seed, 80, 3)
    X[:, j] = np.where(np.abs(X[:, j] - cut) < 0.05, cut + 0.05, X[:, j])  # a clear gap
    y = (sign * (X[:, j] - cut) > 0).astype(int)
    if y.min() == y.max():
        return
    found = check_separation(X, y)
    assert found.kind == "complete"
    assert f"x{j}" in found.variables
    assert [v for v in found.variables if v != "Intercept"] == [f"x{j}"]
    assert found.directions[f"x{j}"] == ("+inf" if sign > 0 else "-inf")


@settings(max_examples=N_EXAMPLES)
@given(seed=st.integers(0, 10_000), j=st.integers(0, 2))
def test_planted_quasi_complete_separation_is_found_and_named(seed, j):
    rng = np.random.default_rng(seed)
    X = _noise(seed, 90, 3)
    X[:, j] = np.abs(X[:, j]) + 0.1
    tie = np.arange(90) < 40
    X[tie, j] = 0.0  # 40 tied rows carry both labels at random: x_j >= 0 <=> y = 1 only weakly
    y = np.ones(90, dtype=int)
    y[tie] = rng.integers(0, 2, tie.sum())
    y[tie][:2] = [0, 1]
    y[:2] = [0, 1]
    found = check_separation(X, y)
    assert found.kind == "quasi-complete"
    assert f"x{j}" in found.variables
    assert found.directions[f"x{j}"] == "+inf"
    assert not any(f"x{k}" in found.variables for k in range(3) if k != j)


@settings(max_examples=N_EXAMPLES)
@given(seed=st.integers(0, 10_000), n=st.integers(3, 40), p=st.integers(1, 4))
def test_overlapping_data_are_never_flagged(seed, n, p):
    X = _noise(seed, n, p)
    X2 = np.vstack([X, X])
    y = np.r_[np.zeros(n), np.ones(n)]  # every row with both labels: no separating direction exists
    assert check_separation(X2, y).kind == "none"


def test_multinomial_separation():
    X = _noise(1, 90, 2)
    y = np.where(X[:, 0] > 0.3, 2, np.where(X[:, 0] < -0.3, 0, 1))
    found = check_separation(X, y)
    assert found.kind == "complete"
    assert any(v.endswith(":x0") for v in found.variables)
    Xo = np.vstack([X, X, X])
    yo = np.r_[np.zeros(90), np.ones(90), 2 * np.ones(90)]
    assert not check_separation(Xo, yo)


def test_unpenalised_fit_warns_with_details():
    X = _noise(4, 100, 3)
    X[:, 1] = np.abs(X[:, 1]) + 0.1
    X[:50, 1] = 0.0
    y = np.ones(100)
    y[:50] = np.r_[np.zeros(25), np.ones(25)]
    with pytest.warns(SeparationWarning) as rec:
        m = LogisticRegression().fit(X, y)
    details = rec[0].message.details
    assert details["kind"] == "quasi-complete"
    assert "x1" in details["variables"]
    assert not m.converged_
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        LogisticRegression(penalty="firth").fit(X, y)  # Firth: finite, no warning


def _certificate(X, y, sw=None):
    """The score certificate of an unpenalised fit of (X, y, sw)."""
    from logitfit.blocks.memory import InMemoryBlocks
    from logitfit.inference.separation import score_certificate

    sw = np.ones(len(y)) if sw is None else sw
    m = LogisticRegression(tol=1e-12).fit(X, y, sample_weight=sw)
    blocks = InMemoryBlocks(np.asarray(X, dtype=float), np.asarray(y, dtype=float), sw)
    return score_certificate(blocks, m.coef_[0], float(m.intercept_[0]), fit_intercept=True)


@settings(max_examples=N_EXAMPLES, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(30, 200), p=st.integers(1, 4),
       signal=st.floats(0.0, 6.0), weighted=st.booleans())
def test_score_certificate_never_contradicts_the_lps(seed, n, p, signal, weighted):
    """When the converged score proves there is no separation, the LPs agree (never a false 'none')."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = (signal * X[:, 0] + rng.logistic(size=n) > 0).astype(int)
    if y.min() == y.max():
        return
    sw = rng.integers(0, 3, n).astype(float) if weighted else np.ones(n)
    if sw.sum() == 0 or y[sw > 0].min() == y[sw > 0].max():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        certified = _certificate(X, y, sw)
    if certified:
        assert check_separation(X, y, sw).kind == "none"


def test_score_certificate_holds_on_overlapping_data_and_fails_on_separated():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 3))
    y = (X @ [1.0, -2.0, 0.5] + rng.logistic(size=500) > 0).astype(float)
    assert _certificate(X, y)
    ys = (X[:, 0] > 0).astype(float)  # complete separation: no MLE, no certificate
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        certified = _certificate(X, ys)
    assert not certified


def test_wide_separated_fit_warns_without_naming_lps():
    """2,000 x 1,000 is separable: the fit itself certifies it and warns without the LPs that name
    columns (one per column: over 5 minutes here), pointing to check_separation for the names."""
    import warnings

    from logitfit import LogisticRegression
    from logitfit.exceptions import SeparationWarning

    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 1000))
    y = (X[:, :5].sum(axis=1) + rng.logistic(size=2000) > 0).astype(int)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LogisticRegression().fit(X, y)
    found = [w for w in caught if issubclass(w.category, SeparationWarning)]
    assert found and "check_separation" in str(found[0].message)
