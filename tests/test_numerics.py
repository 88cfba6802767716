"""Stable primitives (logitfit._numerics) against a 400-digit ``decimal`` oracle.

Oracle: Python's ``decimal`` module at 400 significant digits (so that 1 + e^-700
still keeps 90 digits of e^-700) evaluates exp/log exactly enough that its value
rounded to float64 is the correctly rounded answer; the primitives must match it to a few ulps, stay finite and
raise no floating-point warning for every finite input (|z| up to 1.7e308).
"""

from __future__ import annotations

import warnings
from decimal import Decimal, localcontext

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from logitfit import _numerics as N

# A few ulps: each primitive is a handful of operations on exp/log1p, each
# accurate to about one ulp; any cancellation would cost many more digits.
ULP_RTOL = 8 * np.finfo(np.float64).eps
FLOAT32_RTOL = 8 * np.finfo(np.float32).eps
# Softmax rows and probabilities built from sums of K terms.
SUM_RTOL = 32 * np.finfo(np.float64).eps

DIGITS = 400
EXTREME_Z = [40.0, -40.0, 800.0, -800.0, 1e300, -1e300, 1.7e308, -1.7e308]


def _d_exp(z: float) -> Decimal:
    return Decimal(z).exp()


def ref_log1pexp(z: float) -> float:
    """log(1 + e^z) to DIGITS digits, rounded once to float64."""
    with localcontext() as ctx:
        ctx.prec = DIGITS
        if z > 0:  # z + log(1 + e^-z): avoids e^z overflowing Decimal's range
            return float(Decimal(z) + (1 + _d_exp(-z)).ln())
        return float((1 + _d_exp(z)).ln())


def ref_sigmoid(z: float) -> float:
    with localcontext() as ctx:
        ctx.prec = DIGITS
        if z >= 0:
            return float(1 / (1 + _d_exp(-z)))
        e = _d_exp(z)
        return float(e / (1 + e))


@pytest.fixture(autouse=True)
def _no_floating_point_warnings():
    """Every test here runs with warnings as errors and numpy raising on any FP event
    except underflow (exp(-800) = 0 is the correctly rounded, intended result)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


@pytest.mark.parametrize("z", EXTREME_Z)
def test_sigmoid_log1pexp_log_sigmoid_exact_at_extremes(z):
    np.testing.assert_allclose(N.sigmoid(z), ref_sigmoid(z), rtol=ULP_RTOL, atol=0)
    np.testing.assert_allclose(N.log1pexp(z), ref_log1pexp(z), rtol=ULP_RTOL, atol=0)
    np.testing.assert_allclose(N.log_sigmoid(z), -ref_log1pexp(-z), rtol=ULP_RTOL, atol=0)


def test_extreme_values_are_the_textbook_limits():
    z = np.array(EXTREME_Z)
    # sigmoid(40) rounds to 1 (e^-40 = 4.2e-18 < eps/2); sigmoid(-40) keeps its tiny value.
    assert N.sigmoid(40.0) == 1.0
    assert N.sigmoid(-40.0) == pytest.approx(4.248354255291589e-18, rel=ULP_RTOL)
    assert N.sigmoid(-800.0) == 0.0 and N.sigmoid(800.0) == 1.0
    assert np.array_equal(N.log1pexp(z[z > 40]), z[z > 40])  # log(1+e^z) = z exactly
    assert np.all(N.log1pexp(z[z < -40]) == 0.0)
    assert np.all(np.isfinite(N.log_sigmoid(z)))


@pytest.mark.parametrize("z", EXTREME_Z)
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_binary_loss_and_residual_exact_at_extremes(z, y):
    """loss = log(1+e^z) - y z, residual = sigmoid(z) - y: a confidently correct row
    keeps its tiny value (4.25e-18 at |z| = 40) instead of rounding to zero."""
    loss = N.binary_loss_terms(np.array([z]), np.array([y]))[0]
    resid = N.binary_residual(np.array([z]), np.array([y]))[0]
    expected_loss = ref_log1pexp(z) if y == 0 else ref_log1pexp(-z)
    expected_resid = ref_sigmoid(z) if y == 0 else -ref_sigmoid(-z)
    assert np.isfinite(loss) and np.isfinite(resid)
    np.testing.assert_allclose(loss, expected_loss, rtol=ULP_RTOL, atol=0)
    np.testing.assert_allclose(resid, expected_resid, rtol=ULP_RTOL, atol=0)


def test_logsumexp_and_softmax_at_extremes():
    Z = np.array([[1e300, -1e300, 0.0], [-1.7e308, 1.7e308, 0.0], [40.0, -40.0, 0.0], [-800.0, -800.0, -800.0]])
    lse = N.logsumexp(Z)
    P = N.softmax(Z)
    assert np.all(np.isfinite(lse)) and np.all(np.isfinite(P))
    np.testing.assert_allclose(lse[:2], [1e300, 1.7e308], rtol=ULP_RTOL)
    np.testing.assert_allclose(lse[2], 40.0 + np.log1p(np.exp(-40.0) + np.exp(-80.0)), rtol=ULP_RTOL)
    np.testing.assert_allclose(lse[3], -800.0 + np.log(3.0), rtol=ULP_RTOL)
    np.testing.assert_array_equal(P[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(P[1], [0.0, 1.0, 0.0])
    np.testing.assert_allclose(P[3], [1 / 3] * 3, rtol=SUM_RTOL)


finite_z = st.floats(min_value=-700, max_value=700, allow_nan=False)


@given(finite_z)
def test_primitives_match_decimal_oracle(z):
    np.testing.assert_allclose(N.sigmoid(z), ref_sigmoid(z), rtol=ULP_RTOL, atol=0)
    np.testing.assert_allclose(N.log1pexp(z), ref_log1pexp(z), rtol=ULP_RTOL, atol=0)
    np.testing.assert_allclose(N.log_sigmoid(z), -ref_log1pexp(-z), rtol=ULP_RTOL, atol=0)


@given(st.floats(min_value=-1.7e308, max_value=1.7e308, allow_nan=False))
def test_identities_hold_for_every_finite_z(z):
    """sigmoid(z) + sigmoid(-z) = 1 and log1pexp(z) - log1pexp(-z) = z (exact to rounding)."""
    s = N.sigmoid(np.array([z, -z]))
    assert s.sum() == pytest.approx(1.0, rel=ULP_RTOL)
    lp, lm = N.log1pexp(np.array([z, -z]))
    assert np.isfinite(lp) and np.isfinite(lm)
    assert lp - lm == pytest.approx(z, rel=ULP_RTOL, abs=ULP_RTOL)


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 5)), elements=st.floats(-500, 500)))
def test_logsumexp_softmax_match_scipy(Z):
    """Oracle: scipy.special.logsumexp / softmax on moderate inputs."""
    np.testing.assert_allclose(N.logsumexp(Z), scipy.special.logsumexp(Z, axis=1), rtol=SUM_RTOL, atol=SUM_RTOL)
    P = N.softmax(Z)
    np.testing.assert_allclose(P, scipy.special.softmax(Z, axis=1), rtol=SUM_RTOL, atol=1e-300)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=SUM_RTOL)


@pytest.mark.parametrize("fn", [N.sigmoid, N.log1pexp, N.log_sigmoid])
def test_float32_stays_float32(fn):
    z32 = np.array([-40.0, -3.0, 0.0, 2.5, 40.0], dtype=np.float32)
    out = fn(z32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, fn(z32.astype(np.float64)), rtol=FLOAT32_RTOL, atol=1e-30)


def test_integer_input_is_promoted():
    assert N.sigmoid(np.array([0, 2])).dtype == np.float64
    assert N.sigmoid(0) == 0.5
