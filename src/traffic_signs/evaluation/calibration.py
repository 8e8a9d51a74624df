"""Temperature scaling and the reject threshold, both fitted on validation logits.

A network trained with cross-entropy is usually over- or under-confident: its top-1
probability does not match how often it is right. Temperature scaling (Guo et al., 2017,
"On Calibration of Modern Neural Networks") divides the logits by one scalar T fitted to
minimise the validation negative log-likelihood. It never changes the predicted class, so
accuracy is untouched, and with one parameter it cannot overfit a few thousand images.

The reject threshold turns the calibrated confidence into a decision: the product answers
only when the top-1 probability reaches the threshold and otherwise says it does not know.
:func:`choose_threshold` picks the threshold that rejects as little as possible while the
accepted validation images stay within an error budget, with a margin for how few images
that budget was measured on.

Both need validation logits of the training run's own held-out tracks; fitting on the test
set would make the reported test numbers optimistic.
"""

from __future__ import annotations

import math

import numpy as np

from traffic_signs.evaluation.metrics import risk_coverage, top1

T_MIN, T_MAX = 0.05, 20.0
MAX_ERROR = 0.002  # the error the product's "unknown" threshold keeps its answers within...
CONFIDENCE = 0.95  # ...with this confidence, given how few validation images back it


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``, computed stably in float64."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, not {temperature}")
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def temperature_nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of ``labels`` under ``softmax(logits / temperature)``."""
    z = np.asarray(logits, np.float64) / temperature
    top = z.max(axis=1)
    log_norm = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return float((log_norm - z[np.arange(len(z)), np.asarray(labels)]).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, tol: float = 1e-6) -> float:
    """The T in [0.05, 20] minimising validation NLL, by golden-section search on log T.

    NLL is convex in 1/T (a log-sum-exp of terms linear in 1/T minus a linear term), hence
    unimodal in log T, so golden-section search needs no derivatives and cannot diverge.
    Searching log T treats "twice as hot" and "twice as cold" alike. When the minimum lies
    outside the bracket (e.g. a validation set the model gets entirely right, whose NLL keeps
    falling as T -> 0) the nearest bound is returned.
    """
    logits, labels = np.asarray(logits), np.asarray(labels, np.int64)
    if len(logits) == 0:
        raise ValueError("cannot fit a temperature on an empty set")

    def loss(log_t: float) -> float:
        return temperature_nll(logits, labels, math.exp(log_t))

    inv_phi = (math.sqrt(5) - 1) / 2
    low, high = math.log(T_MIN), math.log(T_MAX)
    a, b = high - inv_phi * (high - low), low + inv_phi * (high - low)
    loss_a, loss_b = loss(a), loss(b)
    while high - low > tol:
        if loss_a <= loss_b:  # the minimum is in [low, b]
            high, b, loss_b = b, a, loss_a
            a = high - inv_phi * (high - low)
            loss_a = loss(a)
        else:  # the minimum is in [a, high]
            low, a, loss_a = a, b, loss_b
            b = low + inv_phi * (high - low)
            loss_b = loss(b)
    return math.exp((low + high) / 2)


def error_upper_bound(errors: int, n: int, confidence: float = 0.95) -> float:
    """Clopper-Pearson upper bound on an error rate seen as ``errors`` in ``n`` trials.

    The largest rate p at which ``errors`` or fewer mistakes in ``n`` images would still
    happen with probability >= 1 - confidence; found by bisection on the exact binomial tail.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), not {confidence}")
    if n <= 0 or errors >= n:
        return 1.0
    k = np.arange(errors + 1)
    log_choose = np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in k])
    low, high = errors / n, 1.0
    for _ in range(60):
        p = (low + high) / 2
        log_terms = log_choose + k * math.log(p) + (n - k) * math.log1p(-p)
        tail = float(np.exp(log_terms - log_terms.max()).sum() * math.exp(log_terms.max()))
        low, high = (p, high) if tail >= 1 - confidence else (low, p)
    return high


def choose_threshold(probs: np.ndarray, labels: np.ndarray, max_error: float = MAX_ERROR,
                     confidence: float | None = CONFIDENCE) -> float:
    """The lowest confidence threshold whose accepted validation images have error <= ``max_error``.

    An image is accepted when its top-1 probability is >= the threshold. Lower thresholds
    accept more images, so the lowest threshold meeting the target is the one that rejects
    least. The accepted-set error is not monotone in the threshold (one confident mistake can
    push a high threshold over the target while a lower one, diluted by more correct images,
    meets it); this takes the lowest qualifying threshold anyway, because the target is about
    the accepted set the product will actually serve, not about every stricter setting.

    With ``confidence`` (the default, 0.95) the error that must stay within ``max_error`` is not
    the validation error itself but its Clopper-Pearson upper bound at that confidence (selective
    classification with guaranteed risk, Geifman and El-Yaniv 2017). That matters when the
    model makes only a handful of validation mistakes: 7 errors in 3,990 images "meet" 0.2%
    while the true rate may well be twice that, and a threshold fitted to the point estimate
    then accepts nearly everything and misses its own target on new images. ``confidence=None``
    holds the validation error itself to ``max_error``.

    The result is one of the validation confidences (so that image itself is accepted).
    When even the single most confident group of images misses the target, the result lies
    just above the highest confidence: every image is rejected, which is the honest answer.
    """
    if not 0.0 <= max_error < 1.0:
        raise ValueError(f"max_error must be in [0, 1), not {max_error}")
    predictions, confidences = top1(probs)
    if len(confidences) == 0:
        raise ValueError("cannot choose a threshold on an empty set")
    curve = risk_coverage(confidences, predictions == np.asarray(labels))
    risk = curve["risk"]
    if confidence is not None:
        accepted, errors = curve["accepted"], curve["errors"]
        # For a fixed error count the bound falls as more images are accepted, so only the
        # lowest threshold at each count can be the answer: bound those, skip the rest.
        lowest_per_count = np.flatnonzero(np.append(errors[1:] != errors[:-1], True))
        risk = np.full(len(errors), np.inf)
        risk[lowest_per_count] = [error_upper_bound(errors[i], accepted[i], confidence) for i in lowest_per_count]
    meets = np.flatnonzero(risk <= max_error + 1e-12)
    if len(meets) == 0:
        return float(np.nextafter(np.float64(confidences.max()), np.inf))
    return float(curve["threshold"][meets[-1]])  # thresholds descend: the last is the lowest
