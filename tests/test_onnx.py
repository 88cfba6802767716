"""ONNX export: probabilities under onnxruntime match predict_proba to PARITY_TOL.

Oracle: ``LogisticRegression.predict_proba`` on the same rows, including rows
scaled up so the probabilities saturate at 0 and 1.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from logitfit.estimators.logistic import LogisticRegression  # noqa: E402
from logitfit.io.onnx import PARITY_TOL, export_onnx, onnx_predict_proba  # noqa: E402


@pytest.mark.parametrize("K", [2, 4])
def test_onnx_matches_predict_proba(tmp_path, K):
    rng = np.random.default_rng(K)
    X = rng.normal(size=(400, 5))
    y = np.argmax(X[:, :K] * 2 + rng.gumbel(size=(400, K)), axis=1)
    m = LogisticRegression(penalty="l2", alpha=1e-3).fit(X, y)
    path = tmp_path / "m.onnx"
    err = export_onnx(m, path)
    assert err <= PARITY_TOL
    probe = np.vstack([X, X * 1e3])
    got = onnx_predict_proba(path, probe)
    np.testing.assert_allclose(got, m.predict_proba(probe), rtol=0, atol=PARITY_TOL)
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(meta["classes"]) == list(range(K))


def test_export_refuses_on_mismatch(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 2))
    y = (X[:, 0] + rng.logistic(size=100) > 0).astype(int)
    m = LogisticRegression().fit(X, y)
    from logitfit.io import onnx as onnx_export

    monkeypatch.setattr(onnx_export, "onnx_predict_proba", lambda proto, X: np.zeros((len(X), 2)))
    with pytest.raises(ValueError, match="differ from predict_proba"):
        export_onnx(m, tmp_path / "bad.onnx")
    assert not (tmp_path / "bad.onnx").exists()


def test_export_command(tmp_path):
    import subprocess
    import sys

    data = tmp_path / "d.csv"
    model = tmp_path / "m.json"
    out = tmp_path / "m.onnx"
    for args in (["generate", data, "--rows", "300"], ["fit", data, "-t", "y", "-o", model, "-q"],
                 ["export", model, "--onnx", out]):
        proc = subprocess.run([sys.executable, "-m", "logitfit", *map(str, args)],
                              capture_output=True, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode()
    assert b"max |p - predict_proba|" in proc.stdout
    assert out.stat().st_size > 0


def test_onnx_export_of_a_loaded_fitted_model(tmp_path):
    """A FittedModel read from a model file exports without the estimator."""
    from logitfit.io.model_file import load_model

    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.logistic(size=200) > 0).astype(int)
    LogisticRegression().fit(X, y).save(tmp_path / "m.json")
    fitted = load_model(tmp_path / "m.json")
    assert export_onnx(fitted, tmp_path / "m.onnx") <= PARITY_TOL
    np.testing.assert_allclose(onnx_predict_proba(tmp_path / "m.onnx", X),
                               fitted.predict_proba(X), rtol=0, atol=PARITY_TOL)
