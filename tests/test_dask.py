"""Fits on Dask: LocalCluster, a real `dask scheduler` + two `dask worker` processes, a killed worker.

Oracle: the in-memory fit of the same rows (the core engine, tested against
finite differences, statsmodels and scikit-learn elsewhere). Partition sums
differ from the in-memory block sums only in summation order, so with a tight
solver tolerance the coefficients agree to ``COEF_RTOL``; repeated Dask fits
on the same partition layout must agree to the bit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")

from logitfit import LogisticRegression  # noqa: E402
from logitfit.blocks.distributed import tree_sum  # noqa: E402
from logitfit.estimators.distributed import get_client, predict_lazy  # noqa: E402

COEF_RTOL = 1e-8  # the "same answer everywhere" bound
FIT_TOL = 1e-11  # solver tolerance tight enough that COEF_RTOL holds
PROBA_ATOL = 1e-12  # lazy predictions vs in-memory predictions of the same model
# L-BFGS-B stops on its own relative-reduction test near 1e-10 in the gradient,
# before 1e-11; at 1e-9 both fits converge and still agree to COEF_RTOL.
LBFGS_TOL = 1e-9
CHUNK = 700
CLUSTER_START_S = 60  # generous: the CI machine is shared


def _data(n=4000, p=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if k == 2:
        y = (rng.random(n) < 1 / (1 + np.exp(-(X @ rng.standard_normal(p) + 0.2)))).astype(np.int64)
    else:
        Z = X @ rng.standard_normal((p, k))
        P = np.exp(Z - Z.max(1, keepdims=True))
        y = ((P / P.sum(1, keepdims=True)).cumsum(1) > rng.random((n, 1))).argmax(1)
    return X, y


def _rel(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_binary_array_equals_in_memory_and_repeats_bitwise(client):
    X, y = _data()
    Xd, yd = da.from_array(X, chunks=(CHUNK, -1)), da.from_array(y, chunks=CHUNK)
    ref = LogisticRegression(tol=FIT_TOL).fit(X, y)
    a = LogisticRegression(tol=FIT_TOL).fit(Xd, yd)
    b = LogisticRegression(tol=FIT_TOL).fit(Xd, yd)
    assert a.converged_
    assert _rel(a.coef_, ref.coef_) < COEF_RTOL and _rel(a.intercept_, ref.intercept_) < COEF_RTOL
    np.testing.assert_array_equal(a.coef_, b.coef_)  # determinism: same layout, same bits
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    if hasattr(LogisticRegression, "bse_"):  # inference at scale: Hessian summed over partitions
        np.testing.assert_allclose(np.ravel(a.bse_), np.ravel(ref.bse_), rtol=COEF_RTOL)


@pytest.mark.slow
def test_multinomial_weights_lbfgs_and_newton_cg(client):
    X, y = _data(n=3000, p=3, k=3, seed=1)
    sw = np.random.default_rng(3).uniform(0.2, 3.0, len(y))
    Xd = da.from_array(X, chunks=(CHUNK, -1))
    yd, swd = da.from_array(y, chunks=CHUNK), da.from_array(sw, chunks=CHUNK)
    for solver in ("newton", "lbfgs", "newton-cg"):
        kw = dict(tol=FIT_TOL if solver != "lbfgs" else LBFGS_TOL, solver=solver, penalty="l2", alpha=1e-3)
        ref = LogisticRegression(**kw).fit(X, y, sample_weight=sw)
        got = LogisticRegression(**kw).fit(Xd, yd, sample_weight=swd)
        assert _rel(got.coef_, ref.coef_) < COEF_RTOL, solver


def test_dataframe_string_labels_class_weight_and_lazy_predict(client):
    X, y = _data(seed=2)
    names = [f"f{j}" for j in range(X.shape[1])]
    labels = np.array(["no", "yes"])[y]
    ddf = dd.from_pandas(pd.DataFrame(X, columns=names), npartitions=5)
    ys = dd.from_pandas(pd.Series(labels, dtype=object), npartitions=5)
    ref = LogisticRegression(tol=FIT_TOL, class_weight="balanced").fit(pd.DataFrame(X, columns=names), labels)
    got = LogisticRegression(tol=FIT_TOL, class_weight="balanced").fit(ddf, ys)
    assert list(got.feature_names_in_) == names and list(got.classes_) == ["no", "yes"]
    assert _rel(got.coef_, ref.coef_) < COEF_RTOL
    proba = got.predict_proba(ddf)
    pred = got.predict(ddf)
    assert isinstance(proba, da.Array) and isinstance(pred, da.Array)  # lazy
    np.testing.assert_allclose(proba.compute(), ref.predict_proba(X), atol=PROBA_ATOL)
    np.testing.assert_array_equal(pred.compute(), ref.predict(X))
    np.testing.assert_allclose(
        got.decision_function(da.from_array(X, chunks=(CHUNK, -1))).compute(), ref.decision_function(X),
        atol=PROBA_ATOL,
    )
    np.testing.assert_allclose(got.predict_log_proba(ddf).compute(), ref.predict_log_proba(X), atol=PROBA_ATOL)
    with pytest.raises(ValueError, match="fitted on"):
        predict_lazy(got, ddf[names[::-1]], "predict")


def test_parquet_frame_with_fused_label_partitions(client, tmp_path):
    """docs/scale.md's cluster example: dask fuses the partitions of df["default"] read from
    small Parquet files, so y has fewer partitions than X; the fit aligns them by rows."""
    X, y = _data(n=2000, p=3, seed=4)
    names = ["income", "age", "debt"]
    for i in range(4):
        part = pd.DataFrame(X[i * 500 : (i + 1) * 500], columns=names)
        part["default"] = y[i * 500 : (i + 1) * 500]
        part.to_parquet(tmp_path / f"part-{i}.parquet")
    df = dd.read_parquet(tmp_path)
    Xd, yd = df[names], df["default"]
    ref = LogisticRegression(tol=FIT_TOL).fit(pd.DataFrame(X, columns=names), y)
    got = LogisticRegression(tol=FIT_TOL).fit(Xd, yd)
    assert _rel(got.coef_, ref.coef_) < COEF_RTOL and list(got.feature_names_in_) == names
    p = got.predict_proba(Xd)
    p.to_dask_dataframe(columns=[f"proba_{c}" for c in got.classes_]).to_parquet(tmp_path / "scores")
    back = pd.read_parquet(tmp_path / "scores")
    np.testing.assert_allclose(back.to_numpy(), ref.predict_proba(X), atol=PROBA_ATOL)


def test_errors_name_the_problem(client):
    X, y = _data(n=1000)
    X[810, 1] = np.nan
    with pytest.raises(ValueError, match=r"partition 1: X has a NaN or infinity at row 110, column 1"):
        LogisticRegression().fit(da.from_array(X, chunks=(CHUNK, -1)), da.from_array(y, chunks=CHUNK))
    with pytest.raises(ValueError, match="solver='sgd'"):
        LogisticRegression(solver="sgd").fit(da.from_array(X, chunks=(CHUNK, -1)), da.from_array(y, chunks=CHUNK))
    with pytest.raises(ValueError, match="needs y"):
        LogisticRegression().fit(da.from_array(X, chunks=(CHUNK, -1)))
    assert get_client() is client


def test_tree_sum_is_pairwise_in_list_order():
    parts = [(np.array([1e16]),), (np.array([1.0]),), (np.array([-1e16]),), (np.array([1.0]),)]
    # ((1e16 + 1) + (-1e16 + 1)) = 1e16 + -1e16 = 0 in float64: the pairing, not the arrival order
    assert tree_sum(parts)[0][0] == (np.float64(1e16) + 1.0) + (np.float64(-1e16) + 1.0)
    assert tree_sum(parts[:3])[0][0] == (np.float64(1e16) + 1.0) + np.float64(-1e16)


@pytest.mark.slow
def test_killed_worker_mid_fit_gives_the_same_coefficients(client):
    """SIGKILL one worker process after the first Newton step; Dask recomputes its partitions."""
    X, y = _data(n=6000, p=5, seed=4)
    Xd, yd = da.from_array(X, chunks=(CHUNK, -1)), da.from_array(y, chunks=CHUNK)
    clean = LogisticRegression(tol=FIT_TOL).fit(Xd, yd)
    victim = sorted(client.scheduler_info()["workers"])[0]
    pid = client.run(os.getpid, workers=[victim])[victim]
    killed = []

    def kill_once(it, x, f, gn):
        if it == 1 and not killed:
            os.kill(pid, signal.SIGKILL)
            killed.append(it)

    faulty = LogisticRegression(tol=FIT_TOL, callback=kill_once).fit(Xd, yd)
    assert killed and faulty.converged_
    assert pid not in client.run(os.getpid).values()  # that process is really gone
    np.testing.assert_array_equal(faulty.coef_, clean.coef_)
    np.testing.assert_array_equal(faulty.intercept_, clean.intercept_)
    client.wait_for_workers(2, timeout=CLUSTER_START_S)  # the nanny restarts it for later tests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_real_scheduler_and_two_worker_processes():
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1, started and stopped here."""
    dask_cli = os.path.join(os.path.dirname(sys.executable), "dask")
    if not os.path.exists(dask_cli):
        pytest.skip("the `dask` command is not installed next to this Python")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [subprocess.Popen([dask_cli, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], **quiet)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen([dask_cli, "worker", address, "--nthreads", "1", "--host",
                                           "127.0.0.1", "--no-dashboard", "--no-nanny"], **quiet))
        deadline = time.monotonic() + CLUSTER_START_S
        c = None
        while c is None:
            try:
                c = distributed.Client(address, timeout=5, set_as_default=False)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        with c:
            c.wait_for_workers(2, timeout=CLUSTER_START_S)
            X, y = _data(seed=5)
            Xd, yd = da.from_array(X, chunks=(CHUNK, -1)), da.from_array(y, chunks=CHUNK)
            ref = LogisticRegression(tol=FIT_TOL).fit(X, y)
            with c.as_current():
                got = LogisticRegression(tol=FIT_TOL).fit(Xd, yd)
                again = LogisticRegression(tol=FIT_TOL).fit(Xd, yd)
            assert len(c.scheduler_info()["workers"]) == 2
            assert _rel(got.coef_, ref.coef_) < COEF_RTOL
            np.testing.assert_array_equal(got.coef_, again.coef_)
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGINT)
        for p in reversed(procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
