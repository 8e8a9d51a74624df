"""Turn one model's logits on one split into an evaluation folder a person can read.

Layout of the folder::

    metrics.json            every number below, plus per-class scores and the confusion matrix
    report.md               the summary: headline metrics, hardest classes, top confusions
    confusion_matrix.png    43 x 43, each row normalised to the true class's images
    worst_mistakes.png      the most confident wrong predictions, true vs predicted name
    reliability.png         accuracy against confidence (15 bins), before/after temperature
    risk_coverage.png       error of the accepted images as the confidence threshold rises

Headline accuracy hides what matters for a sign reader: which signs it confuses, and
whether its confidence can be trusted to reject what it does not know. The figures are
chosen for those two questions.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from traffic_signs.evaluation.calibration import CONFIDENCE, MAX_ERROR, choose_threshold, fit_temperature, softmax
from traffic_signs.evaluation.metrics import (
    ECE_BINS,
    area_under_risk_coverage,
    coverage_at_risk,
    expected_calibration_error,
    negative_log_likelihood,
    reliability_bins,
    risk_coverage,
    selective,
    summarize,
    top1,
)

WORST_MISTAKES = 24


def compute_metrics(
    logits: np.ndarray,
    labels: np.ndarray,
    temperature: float | None = None,
    threshold: float | None = None,
    suggest: bool = False,
) -> dict[str, Any]:
    """All metrics of one split; ``suggest`` fits a temperature and threshold (validation only)."""
    metrics = summarize(softmax(logits), labels)
    metrics["temperature"] = temperature
    if temperature is not None:
        metrics["calibrated"] = _calibrated(softmax(logits, temperature), labels, temperature)
    if threshold is not None:
        probs = softmax(logits, temperature or 1.0)
        predictions, confidences = top1(probs)
        metrics["selective"] = selective(confidences, predictions == labels, threshold)
    if suggest and len(labels):
        fitted = fit_temperature(logits, labels)
        metrics["suggested"] = {
            "temperature": fitted,
            "max_error": MAX_ERROR,
            "confidence": CONFIDENCE,
            "threshold": choose_threshold(softmax(logits, fitted), labels),
            "note": "fitted on this split (threshold on probabilities at this temperature); "
                    "only meaningful on validation, never on test",
        }
    return metrics


def _calibrated(probs: np.ndarray, labels: np.ndarray, temperature: float) -> dict[str, Any]:
    predictions, confidences = top1(probs)
    correct = predictions == labels
    curve = risk_coverage(confidences, correct)
    return {
        "temperature": temperature,
        "ece": expected_calibration_error(confidences, correct),
        "nll": negative_log_likelihood(probs, labels),
        "mean_confidence": float(confidences.mean()) if len(confidences) else 0.0,
        "aurc": area_under_risk_coverage(curve),
        "coverage_at_risk": {f"{r:g}": coverage_at_risk(curve, r) for r in (0.001, 0.002, 0.005, 0.01)},
        "reliability": reliability_bins(confidences, correct),
    }


def worst_mistakes(probs: np.ndarray, labels: np.ndarray, limit: int = WORST_MISTAKES) -> np.ndarray:
    """Indices of the wrong predictions, most confident first."""
    predictions, confidences = top1(probs)
    wrong = np.flatnonzero(predictions != labels)
    return wrong[np.argsort(-confidences[wrong], kind="stable")][:limit]


def write_report(
    out_dir: Path,
    logits: np.ndarray,
    labels: np.ndarray,
    images: np.ndarray,
    names: np.ndarray,
    context: dict[str, Any],
    temperature: float | None = None,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Write the evaluation folder; returns the metrics dict that went into metrics.json.

    ``context`` carries what describes the evaluation rather than results: ``model`` (path),
    ``architecture``, ``split``, ``class_names``, and optionally ``temperature_source``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = np.asarray(labels, np.int64)
    class_names = list(context["class_names"])
    metrics = compute_metrics(logits, labels, temperature, threshold, suggest=context["split"] == "val")
    served = softmax(logits, temperature or 1.0)  # the probabilities the product would show
    predictions, confidences = top1(served)
    curve = risk_coverage(confidences, predictions == labels)
    metrics["risk_coverage"] = _downsample(curve)
    mistakes = worst_mistakes(served, labels)
    metrics["worst_mistakes"] = [
        {"file": str(names[i]), "true": int(labels[i]), "predicted": int(predictions[i]),
         "confidence": float(confidences[i])}
        for i in mistakes
    ]
    metrics["per_class"]["name"] = class_names
    metrics = {**{k: context[k] for k in ("model", "architecture", "split") if k in context}, **metrics}
    if "temperature_source" in context and temperature is not None:
        metrics["temperature_source"] = context["temperature_source"]

    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out_dir / "report.md").write_text(markdown_report(metrics, class_names))
    _plots(out_dir, metrics, curve, images[mistakes], class_names)
    return metrics


def _downsample(curve: dict[str, np.ndarray], points: int = 200) -> dict[str, list[float]]:
    """At most ``points`` points of the curve for metrics.json (the full curve has one per image)."""
    n = len(curve["coverage"])
    keep = np.unique(np.linspace(0, n - 1, min(n, points)).round().astype(int)) if n else np.zeros(0, int)
    return {key: [float(v) for v in curve[key][keep]] for key in ("threshold", "coverage", "risk")}


def _plots(out_dir: Path, metrics: dict[str, Any], curve: dict[str, np.ndarray], mistake_images: np.ndarray,
           class_names: list[str]) -> None:
    # here, not at the top: matplotlib (train extra, a slow import) loads only to draw, after choosing Agg
    import matplotlib

    matplotlib.use("Agg")
    title = f"{metrics.get('architecture', 'model')} on {metrics.get('split', '?')}"
    plot_confusion(np.array(metrics["confusion_matrix"]), out_dir / "confusion_matrix.png", title)
    plot_worst_mistakes(mistake_images, metrics["worst_mistakes"], class_names,
                        out_dir / "worst_mistakes.png", title)
    plot_reliability(metrics, out_dir / "reliability.png", title)
    plot_risk_coverage(curve, metrics, out_dir / "risk_coverage.png", title)


# --- Markdown -------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def markdown_report(metrics: dict[str, Any], class_names: list[str]) -> str:
    """The human summary: headline table, calibration, hardest classes, confusions, figures."""
    lines = [f"# Evaluation: {metrics.get('architecture', 'model')} on {metrics.get('split', '?')}", ""]
    if "model" in metrics:
        lines += [f"Model file: `{metrics['model']}`", ""]
    lines += _headline(metrics) + [""] + _selective_section(metrics)
    lines += _hardest_classes(metrics, class_names) + _confusions(metrics, class_names)
    lines += ["## Figures", "",
              "![confusion matrix](confusion_matrix.png)", "",
              "![most confident mistakes](worst_mistakes.png)", "",
              "![reliability diagram](reliability.png)", "",
              "![risk-coverage curve](risk_coverage.png)", ""]
    return "\n".join(lines)


def _headline(metrics: dict[str, Any]) -> list[str]:
    cal = metrics.get("calibrated")
    header = "| metric | value |" if cal is None else f"| metric | raw | temperature {cal['temperature']:.3f} |"
    rule = "|---|---:|" if cal is None else "|---|---:|---:|"
    rows = [
        ("images", f"{metrics['n']:,}", None),
        ("accuracy", f"{_pct(metrics['accuracy'])} ({metrics['errors']:,} errors)", None),
        ("macro F1", f"{metrics['macro_f1']:.4f}", None),
        (f"ECE ({ECE_BINS} bins)", f"{metrics['ece']:.4f}", cal and f"{cal['ece']:.4f}"),
        ("NLL", f"{metrics['nll']:.4f}", cal and f"{cal['nll']:.4f}"),
        ("mean confidence", f"{metrics['mean_confidence']:.4f}", cal and f"{cal['mean_confidence']:.4f}"),
        ("AURC (risk-coverage area)", f"{metrics['aurc']:.5f}", cal and f"{cal['aurc']:.5f}"),
        ("coverage at <= 0.2% error", _pct(metrics["coverage_at_risk"]["0.002"]),
         cal and _pct(cal["coverage_at_risk"]["0.002"])),
    ]
    lines = [header, rule]
    for name, raw, calibrated in rows:
        lines.append(f"| {name} | {raw} |" if cal is None else f"| {name} | {raw} | {calibrated or ''} |")
    if cal is not None and "temperature_source" in metrics:
        lines += ["", f"Temperature from: {metrics['temperature_source']}."]
    return lines


def _selective_section(metrics: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if "selective" in metrics:
        s = metrics["selective"]
        lines += [f"With the model's reject threshold {s['threshold']:.4f}: answers {_pct(s['coverage'])} "
                  f"of the images with {_pct(s['risk'])} error on those.", ""]
    if "suggested" in metrics:
        s = metrics["suggested"]
        lines += [f"Fitted on this validation split: temperature {s['temperature']:.4f}; at that temperature a "
                  f"reject threshold of {s['threshold']:.4f} keeps the accepted error <= {_pct(s['max_error'])} "
                  f"({s['confidence']:.0%} upper bound).",
                  ""]
    return lines


def _hardest_classes(metrics: dict[str, Any], class_names: list[str], limit: int = 10) -> list[str]:
    scores = metrics["per_class"]
    present = [c for c in range(len(class_names)) if scores["support"][c] > 0]
    present.sort(key=lambda c: (scores["f1"][c], c))
    lines = ["## Hardest classes (lowest F1)", "", "| id | class | precision | recall | F1 | images |",
             "|---:|---|---:|---:|---:|---:|"]
    for c in present[:limit]:
        lines.append(f"| {c} | {class_names[c]} | {scores['precision'][c]:.3f} | {scores['recall'][c]:.3f} | "
                     f"{scores['f1'][c]:.3f} | {scores['support'][c]} |")
    return lines + [""]


def _confusions(metrics: dict[str, Any], class_names: list[str], limit: int = 10) -> list[str]:
    matrix = np.array(metrics["confusion_matrix"])
    off = matrix.copy()
    np.fill_diagonal(off, 0)
    pairs = [(int(off[t, p]), t, p) for t, p in zip(*np.nonzero(off), strict=True)]
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    if not pairs:
        return ["## Most frequent confusions", "", "None: every image is classified correctly.", ""]
    lines = ["## Most frequent confusions", "", "| true | predicted as | images | share of true class |",
             "|---|---|---:|---:|"]
    for count, t, p in pairs[:limit]:
        share = count / max(1, matrix[t].sum())
        lines.append(f"| {t} {class_names[t]} | {p} {class_names[p]} | {count} | {_pct(share)} |")
    return lines + [""]


# --- figures --------------------------------------------------------------------------------


def plot_confusion(matrix: np.ndarray, path: Path, title: str) -> None:
    """Row-normalised confusion matrix; a square-root colour scale keeps 1% errors visible."""
    # here, not at the top: matplotlib loads only to draw (see _plots)
    import matplotlib.pyplot as plt
    from matplotlib.colors import PowerNorm

    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
    n = len(matrix)
    fig, ax = plt.subplots(figsize=(11, 10))
    image = ax.imshow(share, cmap="viridis", norm=PowerNorm(gamma=0.5, vmin=0, vmax=1))
    ax.set_xticks(range(n), [str(i) for i in range(n)], fontsize=6, rotation=90)
    ax.set_yticks(range(n), [str(i) for i in range(n)], fontsize=6)
    ax.set_xlabel("predicted class id")
    ax.set_ylabel("true class id")
    ax.set_title(f"{title}: confusion matrix (row-normalised, sqrt colour scale)")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class's images")
    _save(fig, path)


def plot_worst_mistakes(images: np.ndarray, mistakes: list[dict], class_names: list[str], path: Path,
                        title: str, columns: int = 6) -> None:
    """The most confident wrong predictions: the failures a reject threshold cannot catch."""
    # here, not at the top: matplotlib loads only to draw (see _plots)
    import matplotlib.pyplot as plt

    if not mistakes:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "no mistakes on this split", ha="center", va="center")
        _save(fig, path)
        return
    rows = -(-len(mistakes) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.3 * columns, 2.9 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, item in zip(axes.flat, images, mistakes, strict=False):
        ax.imshow(image, interpolation="nearest")
        true_name = textwrap.shorten(class_names[item["true"]], 30, placeholder="...")
        predicted = textwrap.shorten(class_names[item["predicted"]], 30, placeholder="...")
        ax.set_title(f"true {item['true']}: {true_name}\npred {item['predicted']}: {predicted}\n"
                     f"p = {item['confidence']:.3f}", fontsize=6.5, color="darkred")
    fig.suptitle(f"{title}: the {len(mistakes)} most confident mistakes")
    _save(fig, path)


def plot_reliability(metrics: dict[str, Any], path: Path, title: str) -> None:
    """Accuracy against confidence per bin; on the diagonal is perfectly calibrated."""
    # here, not at the top: matplotlib loads only to draw (see _plots)
    import matplotlib.pyplot as plt

    fig, (ax, ax_count) = plt.subplots(1, 2, figsize=(11, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    curves = [("raw", metrics["reliability"], metrics["ece"])]
    if "calibrated" in metrics:
        cal = metrics["calibrated"]
        curves.append((f"T = {cal['temperature']:.3f}", cal["reliability"], cal["ece"]))
    for label, bins, ece in curves:
        points = [(c, a) for c, a in zip(bins["confidence"], bins["accuracy"], strict=True) if c is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", label=f"{label} (ECE {ece:.4f})")
        edges = np.array(bins["edges"])
        ax_count.bar(edges[:-1], np.maximum(bins["count"], 0), width=np.diff(edges), align="edge",
                     alpha=0.5, label=label, edgecolor="black", linewidth=0.3)
    ax.set_xlabel("confidence (top-1 probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    ax_count.set_yscale("log")
    ax_count.set_xlabel("confidence (top-1 probability)")
    ax_count.set_ylabel("images per bin (log)")
    ax_count.legend()
    fig.suptitle(f"{title}: reliability ({ECE_BINS} equal-width bins)")
    _save(fig, path)


def plot_risk_coverage(curve: dict[str, np.ndarray], metrics: dict[str, Any], path: Path, title: str) -> None:
    """Error among accepted images as fewer are accepted; the lower and flatter, the better."""
    # here, not at the top: matplotlib loads only to draw (see _plots)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    scaled = f", T = {metrics['temperature']:.3f}" if metrics.get("temperature") else ""
    ax.step(curve["coverage"], 100 * np.asarray(curve["risk"]), where="post",
            label=f"model{scaled} (AURC {area_under_risk_coverage(curve):.5f})")
    ax.axhline(100 * MAX_ERROR, color="grey", linestyle="--", label=f"{_pct(MAX_ERROR)} error target")
    if "selective" in metrics:
        s = metrics["selective"]
        ax.plot([s["coverage"]], [100 * s["risk"]], "ro", label=f"reject threshold {s['threshold']:.3f}")
    ax.set_xlabel("coverage (share of images answered)")
    ax.set_ylabel("error among answered images (%)")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"{title}: risk-coverage")
    _save(fig, path)


def _save(fig, path: Path) -> None:
    # here, not at the top: matplotlib loads only to draw (see _plots)
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
