"""Penalties: proximal map, KKT violation, value, construction.

Oracles: the closed-form 1-D lasso solution (soft thresholding), scipy's
bounded scalar minimiser for the prox of L1 plus a box, and the closed-form
block soft-thresholding for the group penalty.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from logitfit.model.penalties import L1Penalty, make_penalty, soft_threshold, split_alpha

# minimize_scalar (Brent, bounded) locates a 1-D minimum to about xatol.
BRENT_XATOL = 1e-10
PROX_TOL = 1e-7
EXACT = 1e-12

finite = st.floats(-10, 10, allow_nan=False)


def _pen(lam, lo=-np.inf, hi=np.inf, group_size=1):
    lam = np.atleast_1d(np.asarray(lam, float))
    n = lam.size
    return L1Penalty(lam, np.full(n, lo, dtype=float), np.full(n, hi, dtype=float), group_size)


@settings(max_examples=60, deadline=None)
@given(v=finite, lam=st.floats(0, 5), step=st.floats(0.01, 3), lo=st.floats(-5, 0), hi=st.floats(0, 5))
def test_prox_is_the_bounded_1d_minimiser(v, lam, step, lo, hi):
    pen = _pen([lam], lo, hi)
    u = pen.prox(np.array([v]), step)[0]

    def h(x):
        return lam * abs(x) + (x - v) ** 2 / (2 * step)

    ref = minimize_scalar(h, bounds=(lo, hi), method="bounded", options={"xatol": BRENT_XATOL})
    assert h(u) <= ref.fun + PROX_TOL
    assert lo <= u <= hi


@settings(max_examples=60, deadline=None)
@given(a=finite, lam=st.floats(0, 5))
def test_kkt_is_zero_at_the_lasso_solution_and_positive_elsewhere(a, lam):
    # min 0.5 (x - a)^2 + lam |x| has solution S(a, lam); gradient of the smooth part x - a.
    pen = _pen([lam])
    x = soft_threshold(np.array([a]), lam)
    assert pen.max_kkt_violation(x, x - a) <= EXACT * (1 + abs(a))
    x_off = x + 0.5
    assert pen.max_kkt_violation(x_off, x_off - a) > 0


def test_kkt_at_bounds_counts_the_normal_cone():
    pen = _pen([0.0, 0.0], lo=0.0, hi=1.0)
    # At x = 0 = lower a positive gradient is optimal; at x = 1 = upper a negative one.
    assert pen.max_kkt_violation(np.array([0.0, 1.0]), np.array([3.0, -2.0])) == 0.0
    assert pen.kkt_violation(np.array([0.0, 1.0]), np.array([-3.0, 2.0])).tolist() == [3.0, 2.0]


def test_group_prox_and_kkt_closed_form():
    pen = _pen([2.0, 2.0, 2.0, 1.0, 1.0, 1.0], group_size=3)
    v = np.array([1.0, 1.0, 1.0, 3.0, 0.0, 4.0])  # norms sqrt(3) and 5
    u = pen.prox(v, 1.0)
    np.testing.assert_allclose(u[:3], 0.0)  # sqrt(3) < 2: the whole group is dropped
    np.testing.assert_allclose(u[3:], v[3:] * (1 - 1 / 5), rtol=EXACT)
    # prox optimality: (v - u)/step is in the subdifferential, so KKT(u, u - v) = 0
    assert pen.max_kkt_violation(u, u - v) <= EXACT
    assert pen.value(u) == pytest.approx(1.0 * np.linalg.norm(u[3:]), rel=EXACT)


def test_value_and_inf_outside_box():
    pen = _pen([1.0, 0.5], lo=-1.0, hi=1.0)
    assert pen.value(np.array([-0.5, 1.0])) == pytest.approx(1.0)
    assert pen.value(np.array([2.0, 0.0])) == np.inf


def test_infinite_lam_freezes_at_zero():
    pen = _pen([np.inf, 1.0])
    np.testing.assert_array_equal(pen.prox(np.array([100.0, 3.0]), 1.0), [0.0, 2.0])
    assert pen.value(np.array([0.0, 1.0])) == 1.0
    assert pen.kkt_violation(np.array([0.0, 0.0]), np.array([50.0, 0.5]))[0] == 0.0


def test_make_penalty_layout_intercept_unpenalised():
    pen = make_penalty(2, 3, True, l1=0.5, penalty_factor=[1.0, 0.0], lower_bounds=-1.0)
    lam = pen.lam.reshape(3, 3)
    np.testing.assert_array_equal(lam, [[0.5] * 3, [0.0] * 3, [0.0] * 3])
    np.testing.assert_array_equal(pen.lower.reshape(3, 3)[:, 0], [-1.0, -1.0, -np.inf])
    assert split_alpha(2.0, 0.25) == (0.5, 1.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(penalty_factor=[1.0]), "penalty_factor"),
        (dict(penalty_factor=[1.0, -1.0]), "penalty_factor"),
        (dict(lower_bounds=0.5), "contain 0"),
        (dict(grouped=True), "multinomial"),
    ],
)
def test_make_penalty_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_penalty(2, 1, True, l1=1.0, **kwargs)


def test_grouped_with_bounds_is_refused():
    with pytest.raises(ValueError, match="grouped"):
        make_penalty(2, 3, True, l1=1.0, grouped=True, upper_bounds=1.0)
