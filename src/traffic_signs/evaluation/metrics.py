"""Classification and calibration metrics in plain numpy (no sklearn in the product).

Everything takes integer labels and either predictions or an N x C probability matrix, so
the same functions score torch logits, ONNX outputs and hand-written test cases alike.

Conventions, chosen to match the usual references (sklearn, Guo et al. 2017):

* A class that is never predicted has precision 0; a class that never occurs has recall 0.
* Macro F1 averages over the classes that occur in the labels or the predictions, so a
  small evaluation set is not penalised for the classes it does not contain.
* ECE uses equal-width confidence bins ``(k/B, (k+1)/B]`` on the top-1 probability and
  weights each bin's |accuracy - confidence| gap by its share of the images.
* The risk-coverage curve sorts images by confidence, most confident first; a point at
  coverage k/N is the error rate among the k accepted images. Equal confidences are accepted
  or rejected together, since no threshold can separate them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ECE_BINS = 15


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Fraction of correct predictions (0.0 for an empty set, rather than a NaN)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    return float((labels == predictions).mean()) if len(labels) else 0.0


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts C x C: row = true class, column = predicted class."""
    labels, predictions = np.asarray(labels, np.int64), np.asarray(predictions, np.int64)
    flat = np.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def per_class_scores(matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support per class from a confusion matrix."""
    matrix = np.asarray(matrix, np.float64)
    true_positive = np.diag(matrix)
    predicted = matrix.sum(axis=0)
    support = matrix.sum(axis=1)
    precision = np.divide(true_positive, predicted, out=np.zeros_like(true_positive), where=predicted > 0)
    recall = np.divide(true_positive, support, out=np.zeros_like(true_positive), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(true_positive), where=denominator > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}


def macro_f1(matrix: np.ndarray) -> float:
    """Mean F1 over the classes present in the labels or the predictions."""
    matrix = np.asarray(matrix)
    present = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
    if not present.any():
        return 0.0
    return float(per_class_scores(matrix)["f1"][present].mean())


def top1(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predicted class, its probability) per row of an N x C probability matrix."""
    probs = np.asarray(probs)
    predictions = probs.argmax(axis=1)
    return predictions, probs[np.arange(len(probs)), predictions]


def reliability_bins(confidences: np.ndarray, correct: np.ndarray, n_bins: int = ECE_BINS) -> dict[str, list]:
    """Per equal-width bin: edges, image count, mean confidence and accuracy (None when empty)."""
    confidences = np.asarray(confidences, np.float64)
    correct = np.asarray(correct, np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # bin k holds (edges[k], edges[k+1]]; a confidence of exactly 0 goes to bin 0
    index = np.clip(np.searchsorted(edges, confidences, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    conf_sum = np.bincount(index, weights=confidences, minlength=n_bins)
    correct_sum = np.bincount(index, weights=correct, minlength=n_bins)
    mean_conf = [float(s / c) if c else None for s, c in zip(conf_sum, counts, strict=True)]
    acc = [float(s / c) if c else None for s, c in zip(correct_sum, counts, strict=True)]
    return {"edges": edges.tolist(), "count": counts.tolist(), "confidence": mean_conf, "accuracy": acc}


def expected_calibration_error(confidences: np.ndarray, correct: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Image-weighted mean |accuracy - confidence| over equal-width confidence bins."""
    bins = reliability_bins(confidences, correct, n_bins)
    total = sum(bins["count"])
    if total == 0:
        return 0.0
    gaps = (
        n * abs(a - c)
        for n, a, c in zip(bins["count"], bins["accuracy"], bins["confidence"], strict=True)
        if n
    )
    return float(sum(gaps) / total)


def risk_coverage(confidences: np.ndarray, correct: np.ndarray) -> dict[str, np.ndarray]:
    """Error rate of the accepted images for every distinct confidence threshold.

    Returns arrays ``threshold`` (descending), ``coverage`` (ascending) and ``risk``: accepting
    every image with confidence >= threshold[i] keeps coverage[i] of the set at risk[i] error;
    ``accepted`` and ``errors`` are the counts behind coverage[i] and risk[i].
    """
    confidences = np.asarray(confidences, np.float64)
    errors = ~np.asarray(correct, bool)
    if len(confidences) == 0:
        empty = np.zeros(0)
        return {"threshold": empty, "coverage": empty, "risk": empty, "accepted": empty.astype(int),
                "errors": empty.astype(int)}
    order = np.argsort(-confidences, kind="stable")
    sorted_conf = confidences[order]
    cumulative_errors = np.cumsum(errors[order])
    # keep the last position of every run of equal confidences (ties go in together)
    last_of_run = np.append(sorted_conf[1:] != sorted_conf[:-1], True)
    accepted = np.flatnonzero(last_of_run) + 1
    return {
        "threshold": sorted_conf[accepted - 1],
        "coverage": accepted / len(confidences),
        "risk": cumulative_errors[accepted - 1] / accepted,
        "accepted": accepted,
        "errors": cumulative_errors[accepted - 1],
    }


def area_under_risk_coverage(curve: dict[str, np.ndarray]) -> float:
    """AURC: mean risk over coverage (step integral); lower means better-ranked confidence."""
    coverage, risk = curve["coverage"], curve["risk"]
    if len(coverage) == 0:
        return 0.0
    widths = np.diff(np.concatenate([[0.0], coverage]))
    return float((widths * risk).sum())


def coverage_at_risk(curve: dict[str, np.ndarray], max_risk: float) -> float:
    """Largest coverage whose accepted-set error is <= ``max_risk`` (0 when none is)."""
    ok = curve["risk"] <= max_risk + 1e-12
    return float(curve["coverage"][ok].max()) if ok.any() else 0.0


def selective(confidences: np.ndarray, correct: np.ndarray, threshold: float) -> dict[str, float]:
    """Coverage and accepted-set error when images below ``threshold`` are rejected."""
    confidences, correct = np.asarray(confidences), np.asarray(correct, bool)
    accepted = confidences >= threshold
    n_accepted = int(accepted.sum())
    risk = float((~correct[accepted]).mean()) if n_accepted else 0.0
    return {"threshold": float(threshold), "coverage": n_accepted / max(1, len(confidences)),
            "accepted": n_accepted, "risk": risk}


def wilson_interval(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a share ``successes / total`` (95% for z = 1.96).

    Why: a real-photo figure rests on a few dozen photos (32 signs with no GTSRB class), where
    one photo moves it 3 points; the interval says which differences such a folder can tell.
    Wilson's interval stays inside [0, 1] and keeps its coverage near 0% and 100%, where the
    normal approximation collapses to a point. ``(0, 1)`` when there is nothing to count.
    """
    if not 0 <= successes <= total:
        raise ValueError(f"{successes} successes out of {total}")
    if total == 0:
        return 0.0, 1.0
    share = successes / total
    centre = (share + z * z / (2 * total)) / (1 + z * z / total)
    half = z / (1 + z * z / total) * np.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def negative_log_likelihood(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log p(true class), with probabilities floored at 1e-12 so one 0 stays finite."""
    probs = np.asarray(probs, np.float64)
    if len(probs) == 0:
        return 0.0
    picked = probs[np.arange(len(probs)), np.asarray(labels)]
    return float(-np.log(np.maximum(picked, 1e-12)).mean())


def summarize(probs: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Every metric of the report for one probability matrix, as JSON-ready values."""
    probs, labels = np.asarray(probs), np.asarray(labels, np.int64)
    num_classes = probs.shape[1]
    predictions, confidences = top1(probs)
    correct = predictions == labels
    matrix = confusion_matrix(labels, predictions, num_classes)
    scores = per_class_scores(matrix)
    curve = risk_coverage(confidences, correct)
    return {
        "n": int(len(labels)),
        "accuracy": accuracy(labels, predictions),
        "errors": int((~correct).sum()),
        "macro_f1": macro_f1(matrix),
        "ece": expected_calibration_error(confidences, correct),
        "nll": negative_log_likelihood(probs, labels),
        "mean_confidence": float(confidences.mean()) if len(confidences) else 0.0,
        "aurc": area_under_risk_coverage(curve),
        "coverage_at_risk": {f"{r:g}": coverage_at_risk(curve, r) for r in (0.001, 0.002, 0.005, 0.01)},
        "per_class": {key: value.tolist() for key, value in scores.items()},
        "confusion_matrix": matrix.tolist(),
        "reliability": reliability_bins(confidences, correct),
    }
