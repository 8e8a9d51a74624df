"""How often the shipped model says "unknown sign" for inputs that are not GTSRB signs,
and the risk-coverage trade-off on the official test set.

    python benchmarks/unknown_eval.py [--per-kind 500] [--model M] [--coverage 0.975]

Non-sign inputs, ``--per-kind`` of each, all seeded: uniform colours, Gaussian noise,
smooth gradients, stripe/check textures, background crops (the corners of official test
images, enlarged), and GTSRB test signs turned upside down (a sign turned by half a turn is
not a valid sign, except for the few that look the same turned: those are left out; mirrored
ones are skipped since some classes are mirror pairs). Prints a table and
writes benchmarks/results/unknown_eval.json.

The model's own threshold trades answered signs for rejected non-signs, so two models are
compared fairly at the same test coverage: ``--coverage 0.975`` sets the threshold that
answers 97.5% of the official test images (a comparison tool, not a way to pick a threshold).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from traffic_signs import Classifier
from traffic_signs.classes import turnable
from traffic_signs.data.cache import load_split
from traffic_signs.evaluation.metrics import coverage_at_risk, risk_coverage, top1

RESULTS = Path(__file__).parent / "results"


def _resize(images: np.ndarray) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(i).resize((32, 32), Image.Resampling.BILINEAR)) for i in images])


def non_signs(test: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    colours = np.broadcast_to(rng.integers(0, 256, (n, 1, 1, 3), dtype=np.uint8), (n, 32, 32, 3)).copy()
    noise = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    ramp = np.linspace(0, 1, 32)
    a, b = rng.integers(0, 256, (n, 1, 1, 3)), rng.integers(0, 256, (n, 1, 1, 3))
    horizontal = rng.random(n)[:, None, None, None] < 0.5
    t = np.where(horizontal, ramp[None, None, :, None], ramp[None, :, None, None])
    gradients = (a + (b - a) * t).astype(np.uint8)
    period = rng.integers(2, 9, n)[:, None, None]
    ys, xs = np.mgrid[0:32, 0:32]
    pattern = ((xs[None] // period + (ys[None] // period) * rng.integers(0, 2, n)[:, None, None]) % 2).astype(bool)
    textures = np.where(pattern[..., None], a, b).astype(np.uint8)
    picks = rng.choice(len(test), n, replace=False)
    corners = _resize(np.stack([test[i][:10, :10] if k % 2 else test[i][-10:, -10:]
                                for k, i in enumerate(picks)]))
    upside_down = test[rng.choice(turnable(labels), n, replace=False)][:, ::-1, ::-1].copy()
    return {"uniform colour": colours, "noise": noise, "gradient": gradients, "stripes/checks": textures,
            "background crop": corners, "upside-down sign": upside_down}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="exported run folder or model .json (default: the shipped model)")
    parser.add_argument("--per-kind", type=int, default=500)
    parser.add_argument("--coverage", type=float, default=None,
                        help="use the threshold that answers this fraction of the test set instead of the model's")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out", type=Path, default=RESULTS / "unknown_eval.json")
    args = parser.parse_args()
    classifier = Classifier.load(args.model)
    test = load_split("test", args.data_dir, 32, args.cache_dir)
    predictions, confidence = top1(classifier.probabilities(test.images))
    threshold, source = classifier.threshold, f"chosen on {classifier.threshold_source}"
    if args.coverage is not None:
        threshold = float(np.quantile(confidence, 1 - args.coverage, method="higher"))
        source = f"answers {args.coverage:.1%} of the test set"
    rows = {}
    print(f"threshold {threshold:.4f} (calibrated confidence, {source})")
    print(f"{'input':<18} {'flagged unknown':>16}")
    for kind, images in non_signs(test.images, test.labels, args.per_kind, np.random.default_rng(0)).items():
        flagged = float((classifier.probabilities(images).max(1) < threshold).mean())
        rows[kind] = flagged
        print(f"{kind:<18} {flagged:>15.1%}")
    correct = predictions == test.labels
    accepted = confidence >= threshold
    curve = risk_coverage(confidence, correct)
    summary = {"threshold": threshold, "threshold_source": source, "test_accuracy": float(correct.mean()),
               "test_coverage_at_threshold": float(accepted.mean()),
               "test_error_among_accepted": float(1 - correct[accepted].mean()),
               "test_coverage_at_0.2pct_error": coverage_at_risk(curve, 0.002),
               "flagged_unknown": rows}
    print(f"official test set: accuracy {summary['test_accuracy']:.2%}; at the threshold "
          f"{summary['test_coverage_at_threshold']:.2%} answered with {summary['test_error_among_accepted']:.3%} "
          f"error; best coverage at <= 0.2% error: {summary['test_coverage_at_0.2pct_error']:.2%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
