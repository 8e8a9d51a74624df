"""Grouped cross-validation of choices made on the real photos: folds, the choice per fold, the figures."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traffic_signs.evaluation.crossval import (
    Candidate,
    OutcomeTable,
    choose,
    cross_validate,
    figures,
    grouped_folds,
    penalty_objective,
    targets_objective,
)
from traffic_signs.evaluation.metrics import wilson_interval


def table(outcomes: dict[Candidate, list[str]], sets: list[str], no_class: list[bool],
          top1: dict[Candidate, list[bool]] | None = None) -> OutcomeTable:
    candidates = tuple(outcomes)
    top1 = top1 or {c: [o == "right" for o in rows] for c, rows in outcomes.items()}
    return OutcomeTable(candidates, np.array([outcomes[c] for c in candidates]),
                        np.array([top1[c] for c in candidates]), np.array(sets), np.array(no_class))


# --- folds ------------------------------------------------------------------------------------

group_lists = st.lists(st.integers(0, 30), min_size=10, max_size=200).filter(lambda g: len(set(g)) >= 6)


@settings(max_examples=60, deadline=None)
@given(groups=group_lists, n_folds=st.integers(2, 6), seed=st.integers(0, 1000), data=st.data())
def test_a_group_never_straddles_folds_and_photo_counts_stay_within_one_group(groups, n_folds, seed, data):
    names = [f"owner/repo-{g}" for g in groups]
    rare = data.draw(st.lists(st.booleans(), min_size=len(groups), max_size=len(groups)))
    for flags in (None, rare):
        folds = grouped_folds(names, n_folds, seed, flags)
        assert set(folds) == set(range(n_folds))  # every fold holds photos
        for name in set(names):
            assert len(set(folds[np.array(names) == name])) == 1
        if flags is None:  # dealt to the lightest fold, the spread is at most the largest group
            counts = np.bincount(folds, minlength=n_folds)
            assert counts.max() - counts.min() <= max(np.unique(names, return_counts=True)[1])


def test_folds_balance_photos_and_rare_photos_together():
    # 40 projects of 10 ordinary photos, 10 projects of 10 photos half of them rare: balancing the
    # photo count alone could put several rare-heavy projects in one fold
    groups = [f"p{g}" for g in range(50) for _ in range(10)]
    rare = [g >= 40 and i < 5 for g in range(50) for i in range(10)]
    for seed in range(5):
        folds = grouped_folds(groups, 5, seed, rare)
        assert np.bincount(folds).tolist() == [100] * 5
        assert np.bincount(folds, weights=rare).tolist() == [10] * 5


def test_folds_are_deterministic_for_a_seed_and_the_seed_matters():
    groups = [f"p{g}" for g in range(40) for _ in range(1 + g % 3)]
    assert np.array_equal(grouped_folds(groups, 5, 7), grouped_folds(groups, 5, 7))
    names = np.array(groups)
    partitions = {frozenset(frozenset(names[folds == f]) for f in range(5))
                  for folds in (grouped_folds(groups, 5, seed) for seed in range(4))}
    assert len(partitions) > 1


def test_folds_refuse_what_cannot_be_split():
    with pytest.raises(ValueError, match="at least 2"):
        grouped_folds(["a", "b", "c"], 1)
    with pytest.raises(ValueError, match="3 groups cannot fill 5 folds"):
        grouped_folds(["a", "b", "c", "c"], 5)
    with pytest.raises(ValueError, match="rare flags"):
        grouped_folds(["a", "b", "c"], 2, rare=[True])


# --- the table --------------------------------------------------------------------------------

def test_the_table_refuses_an_outcome_a_photo_cannot_have():
    low = Candidate("a", 0.5)
    with pytest.raises(ValueError, match="'right' is not one of"):
        table({low: ["right", "right"]}, ["german", "german"], [False, True])  # a no-class sign cannot be right
    with pytest.raises(ValueError, match="'flagged' is not one of"):
        table({low: ["flagged"]}, ["german"], [False])
    with pytest.raises(ValueError, match="unknown set"):
        table({low: ["right"]}, ["swiss"], [False])
    with pytest.raises(ValueError, match="1 candidates x 2 photos"):
        OutcomeTable((low,), np.array([["right"]]), np.array([[True]]), np.array(["german", "german"]),
                     np.array([False, False]))


# --- the choice and the figures ---------------------------------------------------------------

LOW, HIGH = Candidate("net", 0.5), Candidate("net", 0.9)
# photos: German, German, other country, no class (German), German, no class (other country)
SETS = ["german", "german", "nongerman", "german", "german", "nongerman"]
NO_CLASS = [False, False, False, True, False, True]
SMALL = {LOW: ["right", "wrong", "right", "wrong", "right", "wrong"],
         HIGH: ["right", "unknown", "unknown", "flagged", "unknown", "flagged"]}
TOP1 = [True, False, True, False, True, False]


def test_the_cross_validated_figure_is_the_hand_computed_one():
    result = cross_validate(table(SMALL, SETS, NO_CLASS, {LOW: TOP1, HIGH: TOP1}), np.array([0, 0, 0, 1, 1, 1]),
                            penalty_objective(0.5))
    # fold 0 is chosen on photos 3-5: 0.5 earns 1 - 0.5 x 2 = 0, 0.9 earns 2 (two flagged) -> 0.9
    # fold 1 is chosen on photos 0-2: 0.5 earns 2 - 0.5 x 1 = 1.5, 0.9 earns 1 -> 0.5
    assert [(c.fold, c.candidate, c.training_score) for c in result.choices] == [(0, HIGH, (2.0,)), (1, LOW, (1.5,))]
    assert result.held_out.tolist() == [1, 1, 1, 0, 0, 0]
    # held out: photo 0 right, 1 unknown, 2 unknown (at 0.9); photo 3 wrong, 4 right, 5 wrong (at 0.5)
    cv = figures(result.cross_validated)
    assert {name: (f["count"], f["of"]) for name, f in cv.items()} == {
        "german_right": (2, 3), "german_wrong": (0, 3), "nongerman_right": (0, 1), "nongerman_wrong": (0, 1),
        "no_class_flagged": (0, 2), "top1": (3, 4)}
    assert cv["german_right"]["share"] == round(2 / 3, 4)
    assert cv["german_right"]["ci95"] == [round(b, 4) for b in wilson_interval(2, 3)]
    # in sample, on all six photos: 0.5 earns 3 - 0.5 x 3 = 1.5, 0.9 earns 3 -> 0.9, both no-class signs flagged
    assert result.in_sample == HIGH and result.in_sample_score == (3.0,)
    whole = figures(result.in_sample_tally)
    assert (whole["german_right"]["count"], whole["no_class_flagged"]["count"]) == (1, 2)


def test_a_fold_is_chosen_on_the_other_folds_only():
    # fold 0's own photos would choose 0.9 (0.5 names all of them wrong); the other folds choose 0.5
    outcomes = {LOW: ["wrong"] * 4 + ["right"] * 8, HIGH: ["right"] * 4 + ["unknown"] * 8}
    folds = np.array([0] * 4 + [1] * 4 + [2] * 4)
    photos = table(outcomes, ["german"] * 12, [False] * 12)
    assert photos.candidates[choose(photos, folds == 0, penalty_objective())[0]] == HIGH
    result = cross_validate(photos, folds, penalty_objective())
    assert result.choices[0].candidate == LOW
    assert result.choices[0].held_out["german_wrong"] == 4
    assert figures(result.cross_validated)["german_wrong"]["count"] == 4  # the held-out fold pays for it


def test_several_designs_are_chosen_per_fold_with_their_thresholds():
    a_low, a_high, b_low, b_high = Candidate("a", 0.5), Candidate("a", 0.9), Candidate("b", 0.5), Candidate("b", 0.9)
    # design a at 0.5 answers fold 2 right, design b at 0.9 folds 0 and 1 (3 of 4 each); each fold's choice is the
    # other folds' favourite, which misses its own photos
    outcomes = {
        a_low: ["unknown"] * 4 + ["unknown"] * 4 + ["right"] * 4,
        a_high: ["unknown"] * 12,
        b_low: ["wrong"] * 4 + ["wrong"] * 4 + ["unknown"] * 4,
        b_high: ["right"] * 3 + ["unknown"] + ["right"] * 3 + ["unknown"] + ["unknown"] * 4,
    }
    folds = np.array([0] * 4 + [1] * 4 + [2] * 4)
    result = cross_validate(table(outcomes, ["german"] * 12, [False] * 12), folds, penalty_objective())
    # fold 0 on folds 1+2: a@0.5 4, b@0.9 3 -> a@0.5; fold 1 likewise; fold 2 on folds 0+1: b@0.9 6
    assert [c.candidate for c in result.choices] == [a_low, a_low, b_high]
    assert figures(result.cross_validated)["german_right"]["count"] == 0 + 0 + 0  # each fold loses its own answers
    assert result.in_sample == b_high  # on all photos b@0.9 earns 6, a@0.5 4
    assert figures(result.in_sample_tally)["german_right"]["count"] == 6


def test_ties_go_to_fewer_wrong_answers_then_the_first_design_then_the_middle_threshold():
    grid = [Candidate("a", t) for t in (0.5, 0.6, 0.7, 0.8, 0.9)] + [Candidate("b", 0.7)]
    same = {c: ["right", "unknown"] for c in grid}
    photos = table(same, ["german"] * 2, [False] * 2)
    assert photos.candidates[choose(photos, np.ones(2, bool), penalty_objective())[0]] == Candidate("a", 0.7)
    # equal objective (1 - 1 x 1 = 0 = 0 - 0): the one without a wrong answer
    safer = table({LOW: ["right", "wrong"], HIGH: ["unknown", "unknown"]}, ["german"] * 2, [False] * 2)
    assert safer.candidates[choose(safer, np.ones(2, bool), penalty_objective(1.0))[0]] == HIGH


def test_the_targets_objective_counts_targets_met_first():
    # 0.5: 97 of 100 German right, 3 wrong (wrong target missed); 0.9: 90 right, 0 wrong (right target missed),
    # and the no-class sign flagged only at 0.9: 0.9 meets 4 targets, 0.5 meets 3 (no other countries' photos:
    # both meet theirs), though 0.5 earns more right answers minus wrong ones (93 against 91)
    outcomes = {LOW: ["right"] * 97 + ["wrong"] * 3 + ["wrong"], HIGH: ["right"] * 90 + ["unknown"] * 10 + ["flagged"]}
    photos = table(outcomes, ["german"] * 101, [False] * 100 + [True])
    everything = np.ones(101, bool)
    met = targets_objective()
    assert met(photos.tally(0))[0] == 3 and met(photos.tally(1))[0] == 4
    assert photos.candidates[choose(photos, everything, met)[0]] == HIGH
    assert photos.candidates[choose(photos, everything, penalty_objective(1.0))[0]] == LOW
    with pytest.raises(ValueError, match="penalty"):
        penalty_objective(-1)
