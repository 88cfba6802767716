"""The course's functional API (logitfit.cost / gradient / sigmoid).

Oracles: the published values of Andrew Ng's Machine Learning course,
exercise 2 (../shared/REFERENCE.md section 1, printed to 3-4 decimals), the
block objective ``LogisticObjective`` (the same formula, computed a second way)
and central finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import logitfit
from logitfit.blocks import InMemoryBlocks
from logitfit.model.objective import LogisticObjective

# The course prints costs to 3 decimals and gradients to 4 (3 for some): a
# published value is matched when it equals ours rounded to that many places.
PUBLISHED_3DP = 5e-4
PUBLISHED_4DP = 5e-5
PUBLISHED_2DP = 5e-3
# Two exact evaluations of the same sums in a different order.
SAME_FORMULA_RTOL = 1e-12
# Central differences, step h = 1e-5 on an O(1) function: truncation O(h^4) and
# rounding O(eps/h) ~ 1e-11.
FD_STEP = 1e-5
FD_ATOL = 1e-8


def course_X(exams: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(len(exams)), exams])


def test_part1_cost_and_gradient_at_zero(ng_ex2_part1):
    exams, y = ng_ex2_part1
    X = course_X(exams)
    assert logitfit.cost(np.zeros(3), X, y) == pytest.approx(np.log(2), abs=1e-15)
    np.testing.assert_allclose(
        logitfit.gradient(np.zeros(3), X, y), [-0.1000, -12.0092, -11.2628], atol=PUBLISHED_4DP
    )


def test_part1_cost_and_gradient_at_test_theta(ng_ex2_part1):
    exams, y = ng_ex2_part1
    X = course_X(exams)
    theta = [-24, 0.2, 0.2]
    assert logitfit.cost(theta, X, y) == pytest.approx(0.218, abs=PUBLISHED_3DP)
    np.testing.assert_allclose(logitfit.gradient(theta, X, y), [0.043, 2.566, 2.647], atol=PUBLISHED_3DP)


def test_part2_regularised_values(ng_ex2_part2):
    F, y = ng_ex2_part2
    assert F.shape == (118, 28)
    assert logitfit.cost(np.zeros(28), F, y, lam=1.0) == pytest.approx(0.693, abs=PUBLISHED_3DP)
    np.testing.assert_allclose(
        logitfit.gradient(np.zeros(28), F, y, lam=1.0)[:5],
        [0.0085, 0.0188, 0.0001, 0.0503, 0.0115],
        atol=PUBLISHED_4DP,
    )
    assert logitfit.cost(np.ones(28), F, y, lam=10.0) == pytest.approx(3.16, abs=PUBLISHED_2DP)
    np.testing.assert_allclose(
        logitfit.gradient(np.ones(28), F, y, lam=10.0)[:5],
        [0.3460, 0.1614, 0.1948, 0.2269, 0.0922],
        atol=PUBLISHED_4DP,
    )


def test_theta0_is_not_penalised():
    rng = np.random.default_rng(0)
    X = course_X(rng.standard_normal((30, 2)))
    y = (rng.random(30) < 0.5).astype(float)
    theta = np.array([3.0, 0.0, 0.0])
    # Only theta[0] is non-zero: the penalty adds nothing, whatever lam is.
    assert logitfit.cost(theta, X, y, lam=7.0) == logitfit.cost(theta, X, y)
    g0, g7 = logitfit.gradient(theta, X, y), logitfit.gradient(theta, X, y, lam=7.0)
    np.testing.assert_array_equal(g0, g7)
    theta = np.array([0.0, 1.0, -2.0])
    m = len(y)
    assert logitfit.cost(theta, X, y, lam=7.0) - logitfit.cost(theta, X, y) == pytest.approx(
        7.0 / (2 * m) * 5.0, rel=SAME_FORMULA_RTOL
    )
    np.testing.assert_allclose(
        logitfit.gradient(theta, X, y, lam=7.0) - logitfit.gradient(theta, X, y),
        7.0 / m * np.array([0.0, 1.0, -2.0]),
        rtol=SAME_FORMULA_RTOL,
    )


@settings(max_examples=30)
@given(
    m=st.integers(2, 40),
    n=st.integers(1, 5),
    lam=st.floats(0, 10),
    seed=st.integers(0, 2**32 - 1),
)
def test_cost_gradient_equal_block_objective(m, n, lam, seed):
    """Oracle: LogisticObjective with alpha = lam/m, no intercept, theta[0] unpenalised."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    y = (rng.random(m) < 0.5).astype(float)
    theta = rng.standard_normal(n) * 2
    factor = np.r_[0.0, np.ones(n - 1)]
    obj = LogisticObjective(
        InMemoryBlocks(X, y, np.ones(m), rows_per_block=3),
        fit_intercept=False,
        alpha=lam / m,
        penalty_factor=factor,
    )
    f, g = obj.value_and_grad(theta)
    assert logitfit.cost(theta, X, y, lam) == pytest.approx(f, rel=SAME_FORMULA_RTOL)
    np.testing.assert_allclose(logitfit.gradient(theta, X, y, lam), g, rtol=SAME_FORMULA_RTOL, atol=1e-15)


@settings(max_examples=20)
@given(seed=st.integers(0, 2**32 - 1), lam=st.floats(0, 5))
def test_gradient_is_the_derivative_of_cost(seed, lam):
    rng = np.random.default_rng(seed)
    X = course_X(rng.standard_normal((25, 3)))
    y = (rng.random(25) < 0.5).astype(float)
    theta = rng.standard_normal(4)
    fd = np.empty(4)
    for j in range(4):
        e = np.zeros(4)
        e[j] = FD_STEP
        fd[j] = (logitfit.cost(theta + e, X, y, lam) - logitfit.cost(theta - e, X, y, lam)) / (2 * FD_STEP)
    np.testing.assert_allclose(logitfit.gradient(theta, X, y, lam), fd, atol=FD_ATOL)


def test_sigmoid_is_exported_and_stable():
    z = np.array([-1e300, -40.0, 0.0, 40.0, 1e300])
    out = logitfit.sigmoid(z)
    assert np.all(np.isfinite(out)) and out[2] == 0.5
    assert logitfit.sigmoid(0.0) == 0.5


def test_cost_finite_for_huge_theta():
    X = course_X(np.array([[1.0], [-1.0]]))
    y = np.array([0.0, 1.0])
    # z = +-1e300 on wrongly classified rows: the loss is 1e300, finite, no overflow.
    assert logitfit.cost([0.0, 1e300], X, y) == pytest.approx(1e300, rel=SAME_FORMULA_RTOL)


@pytest.mark.parametrize(
    ("theta", "X", "y", "match"),
    [
        (np.zeros(2), np.ones(3), np.ones(3), "2-D"),
        (np.zeros(3), np.ones((4, 2)), np.ones(4), "theta has 3 entries but X has 2 columns"),
        (np.zeros(2), np.ones((4, 2)), np.ones(5), "X has 4 rows but y has 5"),
        (np.zeros(2), np.ones((0, 2)), np.ones(0), "no rows"),
    ],
)
def test_shape_errors_are_clear(theta, X, y, match):
    with pytest.raises(ValueError, match=match):
        logitfit.cost(theta, X, y)
    with pytest.raises(ValueError, match=match):
        logitfit.gradient(theta, X, y)
