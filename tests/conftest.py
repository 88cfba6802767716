"""Shared test fixtures: the published data sets, BLAS thread limits, hypothesis settings.

The published reference data live outside the project, in ``../shared/data``
relative to the project root (see ../shared/REFERENCE.md). Tests that need
them skip with the reason when that folder is absent; nothing is copied in.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (PROJECT_ROOT / ".." / "shared" / "data").resolve()

# Examples are drawn for correctness, not speed: a shared, loaded CI machine
# must not turn a slow example into a failure.
settings.register_profile(
    "logitfit",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("logitfit")


def shared_data_file(*parts: str) -> Path:
    """Path of a published data file, or skip the test saying what is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"published data {path} is absent (../shared/data is not checked out here)")
    return path


@pytest.fixture(scope="session")
def ng_ex2_part1() -> tuple[np.ndarray, np.ndarray]:
    """Andrew Ng's exercise 2, part 1: (exam scores (100, 2), admitted (100,))."""
    data = np.loadtxt(shared_data_file("ng-ex2", "ex2data1.txt"), delimiter=",")
    return data[:, :2], data[:, 2]


@pytest.fixture(scope="session")
def ng_ex2_part2() -> tuple[np.ndarray, np.ndarray]:
    """Exercise 2, part 2: the 28 polynomial features of the course (constant first) and y."""
    data = np.loadtxt(shared_data_file("ng-ex2", "ex2data2.txt"), delimiter=",")
    x1, x2, y = data.T
    features = [x1 ** (i - j) * x2**j for i in range(7) for j in range(i + 1)]
    return np.column_stack(features), y


@pytest.fixture
def single_blas_thread():
    """Run BLAS on one thread: tests run two at a time on two shared cores, and
    OpenBLAS threads spinning against each other make small factorisations 10x slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs two workers on two cores) give BLAS
    one thread per worker: two workers x two OpenBLAS threads on two cores spin
    against each other and made a 650 x 650 Cholesky 25x slower (2 s vs 0.08 s).
    logitfit's own block thread pool is unaffected, so thread-count tests still
    exercise several threads."""
    import os

    if os.environ.get("PYTEST_XDIST_WORKER"):
        from threadpoolctl import threadpool_limits

        config._logitfit_blas_limit = threadpool_limits(limits=1, user_api="blas")
