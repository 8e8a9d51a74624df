"""Metrics and calibration on hand-computed cases and on synthetic sets with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traffic_signs.evaluation.calibration import (
    choose_threshold,
    error_upper_bound,
    fit_temperature,
    softmax,
    temperature_nll,
)
from traffic_signs.evaluation.metrics import (
    accuracy,
    area_under_risk_coverage,
    confusion_matrix,
    coverage_at_risk,
    expected_calibration_error,
    macro_f1,
    per_class_scores,
    reliability_bins,
    risk_coverage,
    selective,
    summarize,
    wilson_interval,
)


def one_hot_probs(predictions: list[int], num_classes: int, confidence: float = 0.9) -> np.ndarray:
    probs = np.full((len(predictions), num_classes), (1 - confidence) / (num_classes - 1))
    probs[np.arange(len(predictions)), predictions] = confidence
    return probs


# --- classification metrics -----------------------------------------------------------------


def test_wilson_interval_matches_the_textbook_values():
    """Published 95% Wilson intervals: 0/10 -> [0, 0.2775], 5/10 -> [0.2366, 0.7634]."""
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    low, high = wilson_interval(28, 32)
    assert low < 0.875 < high and high - low > 0.2  # 32 photos cannot tell 87.5% from 90%
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_perfect_predictions():
    labels = np.array([0, 1, 2, 2, 1])
    matrix = confusion_matrix(labels, labels, 3)
    assert accuracy(labels, labels) == 1.0
    assert macro_f1(matrix) == 1.0
    np.testing.assert_array_equal(matrix, np.diag([1, 2, 2]))
    np.testing.assert_array_equal(per_class_scores(matrix)["support"], [1, 2, 2])


def test_all_wrong():
    labels, predictions = np.array([0, 1, 2]), np.array([1, 2, 0])
    matrix = confusion_matrix(labels, predictions, 3)
    scores = per_class_scores(matrix)
    assert accuracy(labels, predictions) == 0.0
    assert macro_f1(matrix) == 0.0
    np.testing.assert_array_equal(scores["precision"], [0, 0, 0])
    np.testing.assert_array_equal(scores["recall"], [0, 0, 0])


def test_known_confusion_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predictions = np.array([0, 0, 1, 1, 2, 2])
    matrix = confusion_matrix(labels, predictions, 3)
    np.testing.assert_array_equal(matrix, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
    scores = per_class_scores(matrix)
    np.testing.assert_allclose(scores["precision"], [1.0, 0.5, 0.5])
    np.testing.assert_allclose(scores["recall"], [2 / 3, 0.5, 1.0])
    np.testing.assert_allclose(scores["f1"], [0.8, 0.5, 2 / 3])
    assert macro_f1(matrix) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert accuracy(labels, predictions) == pytest.approx(4 / 6)


def test_macro_f1_ignores_classes_absent_from_labels_and_predictions():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predictions = np.array([0, 0, 1, 1, 2, 2])
    assert macro_f1(confusion_matrix(labels, predictions, 43)) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_a_never_predicted_class_has_zero_precision_not_nan():
    scores = per_class_scores(confusion_matrix(np.array([0, 1]), np.array([0, 0]), 2))
    np.testing.assert_allclose(scores["precision"], [0.5, 0.0])
    assert not np.isnan(scores["f1"]).any()


# --- calibration metrics ----------------------------------------------------------------------


def test_ece_by_hand():
    # 0.9 -> bin (14/15 - 1/15, 14/15]: accuracy 3/4, gap 0.15, weight 4/6
    # 0.3 -> bin (4/15, 5/15]: accuracy 1/2, gap 0.2, weight 2/6
    confidences = np.array([0.9, 0.9, 0.9, 0.9, 0.3, 0.3])
    correct = np.array([1, 1, 1, 0, 0, 1], bool)
    assert expected_calibration_error(confidences, correct) == pytest.approx(0.15 * 4 / 6 + 0.2 * 2 / 6)


def test_reliability_bins_are_right_closed_and_cover_0_and_1():
    bins = reliability_bins(np.array([0.0, 1 / 15, 1.0, 0.5]), np.ones(4, bool))
    assert len(bins["count"]) == 15 and sum(bins["count"]) == 4
    assert bins["count"][0] == 2  # 0.0 and exactly 1/15
    assert bins["count"][14] == 1 and bins["count"][7] == 1
    assert bins["accuracy"][1] is None  # empty bins carry no made-up value


def test_ece_of_a_perfectly_calibrated_set_is_near_zero():
    rng = np.random.default_rng(0)
    confidences = rng.uniform(0.05, 1.0, 200_000)
    correct = rng.random(confidences.shape) < confidences  # right exactly as often as it claims
    assert expected_calibration_error(confidences, correct) < 0.005


def test_ece_of_an_overconfident_set_is_its_gap():
    rng = np.random.default_rng(1)
    confidences = rng.uniform(0.5, 1.0, 200_000)
    correct = rng.random(confidences.shape) < confidences - 0.2
    assert expected_calibration_error(confidences, correct) == pytest.approx(0.2, abs=0.01)


def test_risk_coverage_by_hand_with_ties():
    curve = risk_coverage(np.array([0.9, 0.8, 0.8, 0.5]), np.array([1, 0, 1, 0], bool))
    np.testing.assert_allclose(curve["threshold"], [0.9, 0.8, 0.5])
    np.testing.assert_allclose(curve["coverage"], [0.25, 0.75, 1.0])
    np.testing.assert_allclose(curve["risk"], [0.0, 1 / 3, 0.5])
    np.testing.assert_array_equal(curve["accepted"], [1, 3, 4])
    np.testing.assert_array_equal(curve["errors"], [0, 1, 2])
    assert area_under_risk_coverage(curve) == pytest.approx(0.25 * 0 + 0.5 / 3 + 0.25 * 0.5)
    assert coverage_at_risk(curve, 0.0) == 0.25
    assert coverage_at_risk(curve, 0.4) == 0.75


def test_summarize_is_consistent_and_json_ready():
    import json

    labels = np.array([0, 0, 0, 1, 1, 2])
    metrics = summarize(one_hot_probs([0, 0, 1, 1, 2, 2], 3), labels)
    assert metrics["n"] == 6 and metrics["errors"] == 2
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert metrics["ece"] == pytest.approx(abs(0.9 - 4 / 6))  # one bin holds every image
    assert metrics["nll"] == pytest.approx(-(4 * np.log(0.9) + 2 * np.log(0.05)) / 6)
    json.dumps(metrics)


# --- temperature scaling and the reject threshold ---------------------------------------------


def test_softmax_with_temperature():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    for t in (0.5, 1.0, 4.0):
        probs = softmax(logits, t)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0)
        np.testing.assert_allclose(probs, softmax(logits / t))
    assert softmax(logits, 1e6)[0] == pytest.approx([1 / 3] * 3, abs=1e-5)
    with pytest.raises(ValueError):
        softmax(logits, 0.0)


def synthetic_logits(true_temperature: float, n: int = 20_000, classes: int = 10, seed: int = 0):
    """Labels drawn from softmax(z); the model reports z * T, i.e. it is off by a factor T."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 2.5, (n, classes))
    probs = softmax(z)
    labels = (rng.random((n, 1)) > probs.cumsum(axis=1)).sum(axis=1)
    return z * true_temperature, labels


@pytest.mark.parametrize("true_temperature", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_a_known_temperature(true_temperature):
    logits, labels = synthetic_logits(true_temperature)
    fitted = fit_temperature(logits, labels)
    assert fitted == pytest.approx(true_temperature, rel=0.05)
    assert temperature_nll(logits, labels, fitted) <= temperature_nll(logits, labels, 1.0) + 1e-12


def test_fit_temperature_stays_in_its_bracket_when_everything_is_right():
    logits = np.array([[5.0, 0.0], [0.0, 5.0]])
    assert fit_temperature(logits, np.array([0, 1])) == pytest.approx(0.05, rel=1e-3)


def test_choose_threshold_by_hand():
    probs = np.array([[0.99, 0.01], [0.95, 0.05], [0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    labels = np.array([0, 0, 1, 0, 0])  # the 0.9 one is wrong
    assert choose_threshold(probs, labels, max_error=0.0, confidence=None) == pytest.approx(0.95)
    assert choose_threshold(probs, labels, max_error=0.25, confidence=None) == pytest.approx(0.7)  # 1 error in 5


def test_choose_threshold_takes_the_lowest_qualifying_threshold_even_past_a_bad_top():
    probs = one_hot_probs([1] + [0] * 9, 2, 0.99)
    probs[1:] = [0.9, 0.1]
    labels = np.zeros(10, int)  # the most confident image is the one mistake
    threshold = choose_threshold(probs, labels, max_error=0.1, confidence=None)
    assert threshold == pytest.approx(0.9)
    assert selective(probs.max(axis=1), probs.argmax(axis=1) == labels, threshold)["coverage"] == 1.0


def test_choose_threshold_rejects_everything_when_nothing_meets_the_target():
    probs = one_hot_probs([1, 1, 1], 2)
    labels = np.zeros(3, int)
    threshold = choose_threshold(probs, labels, max_error=0.002, confidence=None)
    assert threshold > probs.max()
    assert selective(probs.max(axis=1), np.zeros(3, bool), threshold)["accepted"] == 0


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), target=st.sampled_from([0.0, 0.002, 0.01, 0.05, 0.2]))
def test_choose_threshold_meets_the_target_with_the_least_rejection(seed, target):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    probs = softmax(rng.normal(0, 3, (n, 5)).round(1))  # rounding makes ties
    labels = rng.integers(0, 5, n)
    threshold = choose_threshold(probs, labels, target, confidence=None)
    confidences, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    accepted = selective(confidences, correct, threshold)
    assert accepted["risk"] <= target + 1e-12
    qualifying = [t for t in np.unique(confidences) if selective(confidences, correct, t)["risk"] <= target + 1e-12]
    if qualifying:
        assert threshold == min(qualifying)
    else:
        assert accepted["accepted"] == 0


def test_error_upper_bound_matches_closed_forms():
    """No mistakes in n: the bound is 1 - (1 - confidence)^(1/n) (the "rule of three" for 95%)."""
    assert error_upper_bound(0, 1000, 0.95) == pytest.approx(1 - 0.05 ** (1 / 1000), rel=1e-9)
    assert error_upper_bound(5, 100, 0.95) == pytest.approx(0.1023, abs=2e-4)  # textbook Clopper-Pearson
    assert error_upper_bound(3, 3, 0.95) == 1.0 and error_upper_bound(0, 0) == 1.0
    assert error_upper_bound(7, 3990) > 0.002 > 7 / 3990  # a point estimate that "meets" 0.2% but is not backed


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), target=st.sampled_from([0.002, 0.01, 0.05, 0.2]))
def test_choose_threshold_with_confidence_keeps_the_bound_within_the_target(seed, target):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    probs = softmax(rng.normal(0, 3, (n, 5)).round(1))
    labels = np.where(rng.random(n) < 0.9, probs.argmax(axis=1), rng.integers(0, 5, n))
    threshold = choose_threshold(probs, labels, target, confidence=0.95)
    confidences, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    accepted = selective(confidences, correct, threshold)
    if accepted["accepted"]:
        errors = round(accepted["risk"] * accepted["accepted"])
        assert error_upper_bound(errors, accepted["accepted"], 0.95) <= target + 1e-12
    qualifying = [t for t in np.unique(confidences)
                  if (s := selective(confidences, correct, t))["accepted"]
                  and error_upper_bound(round(s["risk"] * s["accepted"]), s["accepted"], 0.95) <= target + 1e-12]
    if qualifying:
        assert threshold == min(qualifying)
    else:
        assert accepted["accepted"] == 0
    assert threshold >= choose_threshold(probs, labels, target, confidence=None)  # never looser than the point rule
