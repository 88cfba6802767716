"""Classification metrics of predicted probabilities: one dict, JSON-ready.

Thin wrappers around :mod:`sklearn.metrics` (imported on first use) that agree
on conventions: probabilities have one column per class in ``classes``
order; for two classes the *positive* class is ``classes[1]`` and a row is
predicted positive when ``p > threshold`` (strictly, so ``threshold=0.5``
matches ``LogisticRegression.predict``); for three or more classes the label
is the most probable class and precision/recall/F1/ROC AUC/PR AUC are macro
averages over one-vs-rest problems. A metric that is undefined on the data
(ROC AUC when only one class is present) is ``None``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["label_indices", "predict_labels", "classification_report", "calibration_table"]

#: Bins of the calibration table: ten equal-width bins, as in reliability
#: diagrams (Niculescu-Mizil & Caruana 2005).
CALIBRATION_BINS = 10


def label_indices(proba: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """The label rule, as indices into the classes: ``p_1 > threshold`` (two classes) or the argmax."""
    proba = np.asarray(proba)
    if proba.shape[1] == 2:
        return (proba[:, 1] > threshold).astype(np.intp)
    return proba.argmax(axis=1)


def predict_labels(proba: np.ndarray, classes: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Labels from probabilities by :func:`label_indices`."""
    return np.asarray(classes)[label_indices(proba, threshold)]


def calibration_table(
    y_pos: np.ndarray, p: np.ndarray, n_bins: int = CALIBRATION_BINS,
    sample_weight: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Reliability table: per equal-width bin of ``p``, rows, mean ``p`` and observed rate.

    Parameters
    ----------
    y_pos : ndarray of bool, shape (n,)
        The event (positive class, or "the predicted class is right").
    p : ndarray, shape (n,)
        Predicted probability of the event.
    n_bins : int
    sample_weight : ndarray, optional

    Returns
    -------
    list of dict
        ``lower``, ``upper``, ``count`` (rows), ``weight``, ``mean_predicted``,
        ``observed_rate``; empty bins are kept with ``None`` means.
    """
    sw = np.ones_like(p) if sample_weight is None else np.asarray(sample_weight, float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        m = idx == b
        w = float(sw[m].sum())
        rows.append({
            "lower": float(edges[b]),
            "upper": float(edges[b + 1]),
            "count": int(m.sum()),
            "weight": w,
            "mean_predicted": float(np.dot(sw[m], p[m]) / w) if w > 0 else None,
            "observed_rate": float(np.dot(sw[m], y_pos[m]) / w) if w > 0 else None,
        })
    return rows


def classification_report(
    y_true: np.ndarray,
    proba: np.ndarray,
    classes: np.ndarray,
    *,
    threshold: float = 0.5,
    sample_weight: np.ndarray | None = None,
    n_bins: int = CALIBRATION_BINS,
) -> dict[str, Any]:
    """Every metric ``logitfit evaluate`` prints, as a JSON-able dict.

    Parameters
    ----------
    y_true : ndarray, shape (n,)
        True labels (values of ``classes``; unknown labels raise ``ValueError``).
    proba : ndarray, shape (n, K)
        Predicted probabilities, columns in ``classes`` order.
    classes : ndarray, shape (K,)
    threshold : float
        Decision threshold on ``p(classes[1])`` (two classes only).
    sample_weight : ndarray, optional
    n_bins : int
        Calibration bins.

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``precision``, ``recall``, ``f1``, ``log_loss``,
        ``brier``, ``roc_auc``, ``pr_auc``, ``confusion_matrix`` (rows: true,
        columns: predicted, in ``labels`` order), ``labels``, ``threshold``,
        ``positive_class`` (two classes), ``calibration``.
    """
    from sklearn import metrics as skm

    classes = np.asarray(classes)
    proba = np.asarray(proba, dtype=np.float64)
    index = {c: i for i, c in enumerate(classes.tolist())}
    try:
        yi = np.fromiter((index[v] for v in np.asarray(y_true).tolist()), dtype=np.intp,
                         count=len(y_true))
    except KeyError as err:
        raise ValueError(f"label {err.args[0]!r} is not one of the model's classes "
                         f"{classes.tolist()}") from None
    K = len(classes)
    pred = label_indices(proba, threshold)
    sw = sample_weight
    onehot = np.eye(K)[yi]
    present = np.unique(yi)
    out: dict[str, Any] = {
        "n": int(len(yi)),
        "labels": _py(classes),
        "accuracy": float(skm.accuracy_score(yi, pred, sample_weight=sw)),
    }
    if K == 2:
        out["positive_class"] = _py(classes[1:])[0]
        out["threshold"] = float(threshold)
        kw: dict[str, Any] = {"average": "binary", "pos_label": 1}
    else:
        kw = {"average": "macro", "labels": list(range(K))}
    out["precision"] = float(skm.precision_score(yi, pred, zero_division=0, sample_weight=sw, **kw))
    out["recall"] = float(skm.recall_score(yi, pred, zero_division=0, sample_weight=sw, **kw))
    out["f1"] = float(skm.f1_score(yi, pred, zero_division=0, sample_weight=sw, **kw))
    out["log_loss"] = float(skm.log_loss(yi, proba, labels=list(range(K)), sample_weight=sw))
    w = np.ones(len(yi)) if sw is None else np.asarray(sw, float)
    out["brier"] = float(np.dot(w, ((proba - onehot) ** 2).sum(axis=1)) / w.sum())
    if K == 2:
        out["brier"] = float(np.dot(w, (proba[:, 1] - yi) ** 2) / w.sum())
    if len(present) < 2:
        out["roc_auc"] = None
        out["pr_auc"] = None
    elif K == 2:
        out["roc_auc"] = float(skm.roc_auc_score(yi, proba[:, 1], sample_weight=sw))
        out["pr_auc"] = float(skm.average_precision_score(yi, proba[:, 1], sample_weight=sw))
    else:
        cols = [k for k in range(K) if k in present]
        out["roc_auc"] = float(np.mean([
            skm.roc_auc_score(onehot[:, k], proba[:, k], sample_weight=sw) for k in cols]))
        out["pr_auc"] = float(np.mean([
            skm.average_precision_score(onehot[:, k], proba[:, k], sample_weight=sw)
            for k in cols]))
    out["confusion_matrix"] = skm.confusion_matrix(
        yi, pred, labels=list(range(K)), sample_weight=sw).tolist()
    if K == 2:
        out["calibration"] = calibration_table(yi == 1, proba[:, 1], n_bins, sw)
        out["calibration_event"] = f"class {out['positive_class']!r}"
    else:
        out["calibration"] = calibration_table(pred == yi, proba.max(axis=1), n_bins, sw)
        out["calibration_event"] = "predicted class is right"
    return out


def _py(a: np.ndarray) -> list:
    return [v.item() if hasattr(v, "item") else v for v in np.asarray(a)]
