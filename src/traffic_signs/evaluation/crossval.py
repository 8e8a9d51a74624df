"""Choices made on the real photos, scored on photos no choice saw: cross-validation grouped by source project.

Why: the "unknown sign" threshold and several designs were once chosen by scoring the very photos
that then reported the result, and such a figure measures fit: German signs right 95.0% on the
photos used to choose, 86.9-89.6% on photos nobody tuned on. Here every choice is made on some
source projects and scored on the others.

* **Folds hold whole source projects.** Photos of one project share a photographer, a camera and
  a style; split across folds, the training folds would have seen the held-out photos' look.
  Projects are dealt greedily, heaviest first, each to the fold it leaves most even, so the folds
  hold about as many photos and as many no-class signs each (the few no-class signs decide the
  threshold; a fold without them could not score "flagged"). A seed shuffles projects of equal
  weight; the same seed gives the same folds. Written here rather than taken from scikit-learn
  (``StratifiedGroupKFold``): the product does not depend on it, and it balances class
  proportions, not photo counts together with one rare kind of photo.
* **A candidate** is a design and a threshold; the table holds every photo's outcome under every
  candidate (right / wrong / unknown for a sign with a GTSRB class, flagged / wrong for one
  without).
* **The choice** for each fold is the candidate with the best objective on the other K-1 folds,
  scored on that fold; the K held-out scorings together give a figure for every photo that no
  choice saw. The same choice made on all photos gives the in-sample figure; in-sample minus
  cross-validated is the optimism of choosing and reporting on the same photos.
* **The objective** (see ``penalty_objective``): right answers, a no-class sign flagged counting
  as right, minus ``penalty`` per wrong answer, a named no-class sign counting as wrong. Or the
  project's targets met (``targets_objective``).

The 95% intervals treat photos as independent; photos of one project are not, so the true
uncertainty is wider, and the choice itself varies from fold to fold (see the per-fold choices).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from traffic_signs.evaluation.metrics import wilson_interval

CLASS_OUTCOMES = ("right", "wrong", "unknown")  # a sign with a GTSRB class
NO_CLASS_OUTCOMES = ("flagged", "wrong")  # a sign without one: its right answer is "unknown sign"
SETS = ("german", "nongerman")
# A wrong answer is acted on (a driver slows for a limit that is not there, or trusts a sign that
# was misread); "unknown sign" sends them to look. 10 makes it an order of magnitude worse: the
# objective gives up ten right answers to avoid one wrong one, so it names a sign when that is
# right at least 10 times in 11 (91%). 1, the sum once used, prices a wrong answer like a missed
# right one; 19 (the 95% the shipped threshold reads as) lets each of the few no-class signs (57
# of 763) outweigh 20 German answers, pulling the choice far from the German target.
DEFAULT_PENALTY = 10.0
# The project's targets on real photos: (figure, at least | at most, share).
TARGETS = (("german_right", "at least", 0.97), ("german_wrong", "at most", 0.01),
           ("nongerman_right", "at least", 0.90), ("nongerman_wrong", "at most", 0.03),
           ("no_class_flagged", "at least", 0.95))
# The headline figures: name -> (count, of how many).
FIGURES = {
    "german_right": ("german_right", "german"), "german_wrong": ("german_wrong", "german"),
    "nongerman_right": ("nongerman_right", "nongerman"), "nongerman_wrong": ("nongerman_wrong", "nongerman"),
    "no_class_flagged": ("no_class_flagged", "no_class"), "top1": ("top1", "with_class"),
}

Tally = dict[str, int]
Objective = Callable[[Mapping[str, int]], tuple[float, ...]]  # larger is better


@dataclass(frozen=True)
class Candidate:
    """One thing the cross-validation may choose: a design (a model) at an "unknown sign" threshold."""

    design: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.design}@{self.threshold:g}"


@dataclass(frozen=True)
class OutcomeTable:
    """Every photo's outcome under every candidate.

    ``outcomes[c, p]`` is photo p's outcome under candidate c; ``top1[c, p]`` whether the design's
    first class is the photo's class (threshold ignored; False for a photo without a class).
    """

    candidates: tuple[Candidate, ...]
    outcomes: np.ndarray  # candidates x photos, strings
    top1: np.ndarray  # candidates x photos, bool
    sets: np.ndarray  # photos: "german" | "nongerman"
    no_class: np.ndarray  # photos, bool: the sign has no GTSRB class

    def __post_init__(self) -> None:
        shape = (len(self.candidates), len(self.sets))
        if np.shape(self.outcomes) != shape or np.shape(self.top1) != shape or np.shape(self.no_class) != shape[1:]:
            raise ValueError(f"outcomes and top1 must be {shape[0]} candidates x {shape[1]} photos")
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError("a candidate is listed twice")
        if unknown_sets := set(np.unique(self.sets)) - set(SETS):
            raise ValueError(f"unknown set {sorted(unknown_sets)}; expected one of {SETS}")
        no_class = np.broadcast_to(self.no_class, shape)
        valid = np.where(no_class, np.isin(self.outcomes, NO_CLASS_OUTCOMES), np.isin(self.outcomes, CLASS_OUTCOMES))
        if not valid.all():
            c, p = np.argwhere(~valid)[0]
            allowed = NO_CLASS_OUTCOMES if self.no_class[p] else CLASS_OUTCOMES
            raise ValueError(f"photo {p} under {self.candidates[c]}: outcome {str(self.outcomes[c, p])!r} is not one "
                             f"of {allowed}")

    @property
    def photos(self) -> int:
        return len(self.sets)

    def tally(self, candidate: int, photos: np.ndarray | None = None) -> Tally:
        """Counts of candidate ``candidate``'s outcomes on the photos ``photos`` selects (a mask; all by default)."""
        mask = np.ones(self.photos, bool) if photos is None else np.asarray(photos, bool)
        return tally(self.outcomes[candidate], self.top1[candidate], self.sets, self.no_class, mask)


def tally(outcomes: np.ndarray, top1: np.ndarray, sets: np.ndarray, no_class: np.ndarray, mask: np.ndarray) -> Tally:
    """Counts per set and outcome on the photos in ``mask``; photos may carry different candidates' outcomes."""
    counts: Tally = {}
    with_class = mask & ~no_class
    for name in SETS:
        members = with_class & (sets == name)
        counts[name] = int(members.sum())
        for outcome in CLASS_OUTCOMES:
            counts[f"{name}_{outcome}"] = int((members & (outcomes == outcome)).sum())
    rare = mask & no_class
    counts["no_class"] = int(rare.sum())
    for outcome in NO_CLASS_OUTCOMES:
        counts[f"no_class_{outcome}"] = int((rare & (outcomes == outcome)).sum())
    counts["with_class"] = int(with_class.sum())
    counts["top1"] = int((with_class & top1).sum())
    return counts


def wrong_answers(counts: Mapping[str, int]) -> int:
    """Every wrong answer: a sign named as another class, and a no-class sign named at all."""
    return counts["german_wrong"] + counts["nongerman_wrong"] + counts["no_class_wrong"]


def right_answers(counts: Mapping[str, int]) -> int:
    """Every right answer: a sign named as its class, and a no-class sign flagged "unknown sign"."""
    return counts["german_right"] + counts["nongerman_right"] + counts["no_class_flagged"]


def penalty_objective(penalty: float = DEFAULT_PENALTY) -> Objective:
    """Right answers minus ``penalty`` per wrong answer; "unknown sign" on a sign with a class counts 0.

    Every photo counts once, whichever set it is in: the objective is what a stream of photos
    like these would earn. Raising the threshold turns answers into "unknown"; it pays when more
    than one in ``penalty + 1`` of them was wrong.
    """
    if penalty < 0:
        raise ValueError(f"penalty {penalty} < 0: a wrong answer cannot earn more than unknown")

    def objective(counts: Mapping[str, int]) -> tuple[float, ...]:
        return (right_answers(counts) - penalty * wrong_answers(counts),)

    objective.__doc__ = f"right answers - {penalty:g} x wrong answers"
    return objective


def targets_objective(penalty: float = DEFAULT_PENALTY) -> Objective:
    """How many of the project's ``TARGETS`` are met; among equals, ``penalty_objective(penalty)``."""
    tie_break = penalty_objective(penalty)

    def objective(counts: Mapping[str, int]) -> tuple[float, ...]:
        met = sum(meets(share(counts, name), rule, bound) for name, rule, bound in TARGETS)
        return (float(met), *tie_break(counts))

    objective.__doc__ = f"targets met, then right answers - {penalty:g} x wrong answers"
    return objective


def meets(value: float | None, rule: str, bound: float) -> bool:
    """Whether a share meets a target; a share of nothing (no such photos) meets any."""
    return value is None or (value >= bound if rule == "at least" else value <= bound)


def share(counts: Mapping[str, int], figure: str) -> float | None:
    count, total = FIGURES[figure]
    return counts[count] / counts[total] if counts[total] else None


def figures(counts: Mapping[str, int]) -> dict[str, dict[str, float | int | list[float] | None]]:
    """The headline figures: count, of how many, share and its 95% Wilson interval."""
    out: dict[str, dict[str, float | int | list[float] | None]] = {}
    for name, (count, total) in FIGURES.items():
        value = share(counts, name)
        out[name] = {"count": counts[count], "of": counts[total], "share": None if value is None else round(value, 4),
                     "ci95": [round(b, 4) for b in wilson_interval(counts[count], counts[total])]}
    return out


def grouped_folds(groups: Sequence[str], n_folds: int = 5, seed: int = 0,
                  rare: Sequence[bool] | None = None) -> np.ndarray:
    """The fold (0..n_folds-1) of each photo; photos of one group always share a fold.

    Groups are dealt heaviest first (weight: their share of all photos plus their share of the
    ``rare`` photos), each to the fold where it raises the sum of squared loads least, which
    keeps both photo counts and rare counts even. The seed orders groups of equal weight.
    """
    groups = np.asarray(groups)
    if n_folds < 2:
        raise ValueError(f"{n_folds} folds: cross-validation needs at least 2")
    names, index = np.unique(groups, return_inverse=True)
    if len(names) < n_folds:
        raise ValueError(f"{len(names)} groups cannot fill {n_folds} folds")
    rare_flags = np.zeros(len(groups)) if rare is None else np.asarray(rare, float)
    if rare_flags.shape != groups.shape:
        raise ValueError(f"{len(rare_flags)} rare flags for {len(groups)} photos")
    loads = np.stack([np.bincount(index, minlength=len(names)),
                      np.bincount(index, weights=rare_flags, minlength=len(names))], axis=1).astype(float)
    loads /= np.maximum(loads.sum(axis=0), 1.0)  # each column a share of its total
    order = np.random.default_rng(seed).permutation(len(names))
    order = order[np.argsort(-loads[order].sum(axis=1), kind="stable")]
    fold_loads = np.zeros((n_folds, 2))
    fold_of_group = np.empty(len(names), np.int64)
    for group in order:
        growth = ((fold_loads + loads[group]) ** 2 - fold_loads**2).sum(axis=1)
        fold = int(np.argmin(growth))
        fold_of_group[group] = fold
        fold_loads[fold] += loads[group]
    return fold_of_group[index]


def choose(table: OutcomeTable, photos: np.ndarray, objective: Objective) -> tuple[int, tuple[float, ...]]:
    """The candidate with the best objective on ``photos`` (a mask) and its score.

    Ties go to fewer wrong answers (safer), then to the first design listed, then to the middle of
    that design's tied thresholds: the training photos do not tell those apart, and the middle
    keeps the choice away from the edge where they stop doing so.
    """
    scored = [(objective(t), -wrong_answers(t)) for t in (table.tally(c, photos) for c in range(len(table.candidates)))]
    best = max(scored)
    tied = [c for c, score in enumerate(scored) if score == best]
    design = table.candidates[tied[0]].design
    same_design = sorted((c for c in tied if table.candidates[c].design == design),
                         key=lambda c: table.candidates[c].threshold)
    chosen = same_design[(len(same_design) - 1) // 2]
    return chosen, best[0]


@dataclass(frozen=True)
class FoldChoice:
    fold: int
    candidate: Candidate
    training_score: tuple[float, ...]
    held_out: Tally  # the chosen candidate's counts on this fold's photos


@dataclass(frozen=True)
class CrossValidation:
    folds: np.ndarray  # each photo's fold
    choices: tuple[FoldChoice, ...]
    held_out: np.ndarray  # each photo's candidate index: the one its fold chose on the other folds
    cross_validated: Tally  # every photo's held-out outcome, counted
    in_sample: Candidate  # the choice made on all photos
    in_sample_score: tuple[float, ...]
    in_sample_tally: Tally  # that choice scored on all photos


def cross_validate(table: OutcomeTable, folds: np.ndarray, objective: Objective) -> CrossValidation:
    """Choose on K-1 folds, score on the held-out one, rotating; and the same choice made on all photos."""
    folds = np.asarray(folds)
    if folds.shape != (table.photos,):
        raise ValueError(f"{folds.shape[0] if folds.ndim else 0} fold numbers for {table.photos} photos")
    held_out = np.empty(table.photos, np.int64)
    choices = []
    for fold in np.unique(folds):
        chosen, score = choose(table, folds != fold, objective)
        held_out[folds == fold] = chosen
        choices.append(FoldChoice(int(fold), table.candidates[chosen], score, table.tally(chosen, folds == fold)))
    every = np.arange(table.photos)
    counts = tally(table.outcomes[held_out, every], table.top1[held_out, every], table.sets, table.no_class,
                   np.ones(table.photos, bool))
    whole, whole_score = choose(table, np.ones(table.photos, bool), objective)
    return CrossValidation(folds, tuple(choices), held_out, counts, table.candidates[whole], whole_score,
                           table.tally(whole))
