"""The closed-form normal and chi-square tails against scipy.stats."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from logitfit.inference.distributions import chi2_ppf_1, chi2_sf, normal_ppf, normal_two_sided_p

#: Relative agreement with scipy where the tail is above 1e-300 (both are near machine precision).
RTOL = 1e-12


@settings(max_examples=300)
@given(x=st.floats(0.0, 2000.0), df=st.integers(1, 400))
def test_chi2_sf_matches_scipy(x, df):
    expected = stats.chi2.sf(x, df)
    got = chi2_sf(x, df)
    if expected > 1e-300:
        assert got == pytest.approx(expected, rel=RTOL, abs=1e-300)
    else:
        assert got < 1e-290


def test_chi2_sf_edges_and_arrays():
    assert chi2_sf(0.0, 3) == 1.0 and chi2_sf(-1.0, 2) == 1.0
    assert chi2_sf(np.inf, 5) == 0.0 and np.isnan(chi2_sf(np.nan, 2))
    np.testing.assert_allclose(chi2_sf(np.array([0.5, 3.0, 10.0]), 2),
                               stats.chi2.sf([0.5, 3.0, 10.0], 2), rtol=RTOL)
    assert chi2_sf(3.3, 2.5) == pytest.approx(stats.chi2.sf(3.3, 2.5), rel=RTOL)  # scipy fallback


@settings(max_examples=200)
@given(z=st.floats(-40.0, 40.0))
def test_normal_tail_and_quantiles(z):
    assert normal_two_sided_p(z) == pytest.approx(2 * stats.norm.sf(abs(z)), rel=RTOL, abs=1e-300)


@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.975, 0.99, 0.999])
def test_quantiles(q):
    assert normal_ppf(q) == pytest.approx(stats.norm.ppf(q), rel=1e-12)
    assert chi2_ppf_1(q) == pytest.approx(stats.chi2.ppf(q, 1), rel=1e-10)


def test_vectorised_normal_tail_keeps_infinities():
    np.testing.assert_array_equal(normal_two_sided_p(np.array([np.inf, -np.inf, 0.0])), [0.0, 0.0, 1.0])
    assert np.isnan(normal_two_sided_p(np.nan))
