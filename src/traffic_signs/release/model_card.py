"""MODEL_CARD.md for a shipped model, written from measured files only.

Every figure in the card comes from an evaluation folder (``metrics.json`` written by
``traffic-signs evaluate``) or the model's own JSON, so the card cannot drift from what was
measured; ``tests/test_shipped_model.py`` re-measures the headline figure on the real data.
"""

from __future__ import annotations

from typing import Any

from traffic_signs.models.model_file import Member, ModelFile
from traffic_signs.training.recipe import changed_settings


def _pct(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def headline_accuracy(test_metrics: dict[str, Any]) -> str:
    """The official-test accuracy exactly as the card prints it (the test parses it back)."""
    return _pct(test_metrics["accuracy"])


def build_model_card(
    name: str,
    model_file: ModelFile,
    test: dict[str, Any],
    val: dict[str, Any],
    command: str,
    robustness_md: str | None = None,
    unknown_md: str | None = None,
    real_photos_cv: dict[str, Any] | None = None,
) -> str:
    cfg = model_file.train_config or {}
    calibrated = test.get("calibrated", {})
    selective = test.get("selective", {})
    lines = [
        f"# Model card: `{name}`",
        "",
        f"Architecture `{model_file.architecture}` ({model_file.parameters or 0:,} parameters, "
        f"{(model_file.macs or 0) / 1e6:.1f} M multiply-accumulates per 32x32 image), "
        "shipped as safetensors + JSON and as ONNX for the torch-free runtime"
        + (" (one graph classifies, the other also draws the Grad-CAM maps)." if model_file.onnx_cams else "."),
        "",
        "## Data",
        "",
        "- Training: the 39,209 GTSRB training images (IJCNN 2011, 43 classes), decoded at 32x32 "
        "from the official archives; the whole crop with its ~10% border, stretched to a square.",
        f"- Validation: {val.get('n', 0):,} images, whole tracks held out per class "
        f"(fraction {cfg.get('val_fraction')}, split seed {cfg.get('split_seed')}); "
        "no physical sign is on both sides.",
        f"- Test: the official {test.get('n', 0):,}-image GTSRB test set, used for the figures below only.",
        f"- Data checksum (decode-cache key): `{model_file.data_checksum}`.",
        "",
        "## Training",
        "",
        f"- Command: `{command}`",
        *_recipe_lines(model_file, cfg),
        "- Augmentation on whole batches: rotation, scale, shift, shear, perspective, brightness, contrast, "
        "saturation, blur, noise, occluding patches; no flips (signs have a handedness), except as below. "
        "Settings changed from those defaults are named in the command above.",
        *_mirror_lines(model_file, cfg),
        *_consistency_lines(model_file, cfg),
        *_photo_lines(model_file, cfg),
        "",
        "## Official test set",
        "",
        "| metric | value |",
        "|---|---:|",
        f"| official test accuracy | {headline_accuracy(test)} |",
        f"| errors | {test.get('errors')} of {test.get('n')} |",
        f"| macro F1 | {test.get('macro_f1', 0):.4f} |",
        f"| ECE before temperature scaling | {test.get('ece', 0):.4f} |",
        f"| ECE after (T = {model_file.temperature or 1.0:.3f}, fitted on validation) | "
        f"{calibrated.get('ece', test.get('ece', 0)):.4f} |",
        *_threshold_rows(model_file),
        f"| answered at that threshold (coverage) | {_pct(selective.get('coverage'))} |",
        f"| error among answered | {_pct(selective.get('risk'), 3)} |",
        "",
        "Reference points: human 98.84%, IDSIA committee of CNNs 99.46% (2011), single CNN with spatial "
        "transformers 99.71% (2018).",
        "",
        "Risk-coverage: confidence-ranked, the error among the answered images as the threshold rises:",
        "",
        "| answered | error among answered |",
        "|---:|---:|",
    ]
    lines += _risk_coverage_rows(test)
    if real_photos_cv:
        lines += ["", "## Real photos, cross-validated", "", *real_photos_lines(real_photos_cv)]
    lines += ["", "## Per class (official test set)", "", "| id | class | precision | recall | F1 | images |",
              "|---:|---|---:|---:|---:|---:|"]
    lines += _per_class_rows(test)
    if robustness_md:
        lines += ["", "## Robustness to common corruptions", "", robustness_md.strip()]
    if unknown_md:
        lines += ["", "## Inputs that are not GTSRB signs", "", unknown_md.strip()]
    lines += [
        "",
        "## Known limits",
        "",
        "- Trained only on German signs photographed in Germany (2010). Signs of other countries that differ "
        "in shape, colour or pictogram are outside its knowledge; many are flagged unknown, but a foreign sign "
        "that resembles a German one will be read as that German sign.",
        "- Reads 32x32 crops around one sign (as in GTSRB). Whole photos are read whole first, then the signs "
        "SignFinder finds in them (`DETECTOR_CARD.md`) are cut out and read one by one. On real photos and web "
        "images that are not GTSRB it answers fewer signs than on GTSRB's own crops (see *Real photos, "
        "cross-validated* above): watermarked stock photos, signs under snow or stickers, clip art, and "
        "mid-sized signs in large camera photos are most often answered \"unknown sign\", and a no-class sign "
        "that holds a GTSRB sign (a Zone 30 plate, a No pedestrians disc) can be named as that sign. "
        "`docs/results.md` in the repository lists them.",
        "- Fine-tuning for real photos cost official-test accuracy (99.62% before, 99.57% for the plain soups); "
        "moving each soup a quarter of the way back to its starting weights (`soup --init-share 0.25`) won it "
        "back (99.62%, 48 errors). Fine-tuning that committee with Zone plates (`--outliers ...,zone`) while "
        "keeping its answers (`--distill 1`), each member then moved half way back (`--init-share 0.5`), gives "
        "99.63% with 47 errors and 0.056% error among the 98.50% answered (before: 0.056% among 98.47%).",
        "- 32x32 input: text on supplementary plates and fine pictogram detail are not resolved.",
        "- A sign turned upside down keeps its class's colours and shape, and models trained on GTSRB alone often "
        "still read it as that sign; models trained with `--outlier-weight` learn to flag such pictures unknown "
        "(`benchmarks/unknown_eval.py`), at a cost in accuracy.",
        "- The unknown threshold keeps the error on accepted validation images <= 0.2% with 95% confidence "
        "(Clopper-Pearson bound); on inputs unlike GTSRB the calibrated confidence is less reliable. "
        "Validation holds no sign without a GTSRB class, so where the card names another place the threshold "
        "was chosen, it was raised there to flag such signs too.",
        "",
    ]
    return "\n".join(lines)


REAL_PHOTO_FIGURES = (("german_right", "German signs with a GTSRB class, answered right"),
                      ("german_wrong", "... answered wrong"),
                      ("nongerman_right", "other countries' signs of a GTSRB design, answered right"),
                      ("nongerman_wrong", "... answered wrong"),
                      ("no_class_flagged", "signs with no GTSRB class, flagged unknown"),
                      ("top1", "top-1, threshold ignored (signs with a class)"))


def real_photos_lines(cv: dict[str, Any]) -> list[str]:
    """The card's real-photo table from ``benchmarks/real_photos.py --cross-validate``'s JSON: each
    figure scored on source projects the threshold was not chosen on, beside the in-sample one."""
    thresholds = ", ".join(f"{fold['threshold']:g}" for fold in cv["folds"])
    photos = sum(fold["photos"] for fold in cv["folds"])
    lines = [f"{photos} labelled real photos and web images that are not GTSRB, from other people's projects "
             f"(`benchmarks/real_photos.py --cross-validate`): {cv['folds_count']} folds of whole source "
             f"projects (seed {cv['seed']}); on each, the \"unknown sign\" threshold was chosen on the other "
             f"folds ({cv['objective']}; they chose {thresholds}). The in-sample figure makes that choice on "
             "all photos; the gap between the two is what choosing on the photos themselves adds.",
             "", "| figure | cross-validated (95% interval) | in-sample |", "|---|---:|---:|"]
    for key, text in REAL_PHOTO_FIGURES:
        held, fitted = cv["cross_validated"][key], cv["in_sample"][key]
        if held["share"] is None:  # no such photos in the folder
            continue
        low, high = held["ci95"]
        lines.append(f"| {text} | {100 * held['share']:.1f}% ({100 * low:.1f}-{100 * high:.1f}%), "
                     f"{held['count']} of {held['of']} | {100 * fitted['share']:.1f}% |")
    return lines


def _threshold(model_file: ModelFile) -> str:
    return "n/a" if model_file.threshold is None else f"{model_file.threshold:.4f}"


def _threshold_rows(model_file: ModelFile) -> list[str]:
    """The shipped threshold and where it was chosen; the validation one beside it when it was raised."""
    rows = [f"| unknown threshold (chosen on {model_file.threshold_source}) | {_threshold(model_file)} |"]
    calibration = model_file.calibration
    if calibration is not None and calibration.validation_threshold is not None:
        rows.append(f"| ... the validation threshold below it (error bound only) | "
                    f"{calibration.validation_threshold:.4f} |")
    return rows


def _recipe_lines(model_file: ModelFile, cfg: dict[str, Any]) -> list[str]:
    recipe = (f"batch {cfg.get('batch_size')}, AdamW peak lr {cfg.get('lr')}, weight decay {cfg.get('weight_decay')}, "
              f"label smoothing {cfg.get('label_smoothing')}, class-balanced sampling exponent {cfg.get('balance')}")
    members, epoch = model_file.members, model_file.epoch
    val_accuracy = _pct(model_file.metrics.get("val_accuracy"))
    if not members:
        weights = {"last": f"`last.json`, the final epoch of the schedule (epoch {epoch}), not the "
                           "best-on-validation one",
                   "best": f"`best.json`, the epoch with the best validation accuracy (epoch {epoch})"}
        return [f"- Seed {cfg.get('seed')}, {cfg.get('epochs', epoch)} epochs, {recipe}.",
                f"- Weights: {weights.get(model_file.checkpoint, 'the epoch with the best validation accuracy')}.",
                f"- Validation accuracy: {val_accuracy}."]

    def changes(member: Member) -> str:
        soup = member.train_config.get("soup")
        runs = [f"(seed {i['train_config'].get('seed')}: {_flags(i['train_config'])})" for i in soup or []]
        if len(runs) == 1:
            return f"one run {runs[0]}" + _init_share_text(member.train_config)
        if runs:
            return "soup, the mean of: " + " + ".join(runs) + _init_share_text(member.train_config)
        return _flags(member.train_config) or "none"

    def seeds(member: Member) -> str:
        soup = member.train_config.get("soup")
        return " + ".join(str(i["train_config"].get("seed")) for i in soup) if soup else str(member.seed)

    rows = [f"| {i} | `{m.architecture}` | {seeds(m)} | {m.epochs} | `{m.checkpoint}.json` "
            f"(epoch {m.epoch}) | {m.precision} | {changes(m)} | {_pct(m.val_accuracy)} |"
            for i, m in enumerate(members)]
    return [
        f"- A committee of {len(members)} models trained independently on the same data and split, logits "
        f"averaged. Each member: {recipe}.",
        "- Each member's weights: its `best.json` is the epoch with the best validation accuracy, its "
        "`last.json` the final epoch of the schedule; the table says which one the committee holds.",
        f"- Committee validation accuracy: {val_accuracy}.",
        "",
        "| member | architecture | seed | epochs | weights | precision | recipe changes | validation accuracy |",
        "|---:|---|---:|---:|---|---|---|---:|",
        *rows,
        "",
    ]


def _flags(cfg: dict[str, Any]) -> str:
    """A recipe's departures from the defaults, as code-formatted flags."""
    return " ".join(f"`{flag}`" for flag in changed_settings(cfg))


def _init_share_text(cfg: dict[str, Any]) -> str:
    share = cfg.get("soup_init_share")
    return f", moved {share:.0%} of the way back to its `--init` weights" if share else ""


def _consistency_lines(model_file: ModelFile, cfg: dict[str, Any]) -> list[str]:
    configs = [m.train_config for m in model_file.members or []] or [cfg]
    if not any(c.get("consistency") for c in configs):
        return []
    return ["- `--consistency W`: each batch also carries a harshly corrupted copy of itself (noise, JPEG, "
            "rain/snow streaks, blur, occlusion), and the loss adds W times the Jensen-Shannon divergence "
            "between the answers on the two copies."]


OUTLIER_TEXT = {
    "upside_down": "signs turned upside down",
    "background": "pieces of sign-free photographs",
    "drawn": "drawn signs GTSRB has no class for: other speed limits, Zone plates, blue squares and discs, "
             "no-stopping discs, yellow diamonds, text plates, other pictograms",
    "fragment": "fragments of signs, as a stray box cuts them",
    "lookalike": "signs with no class that hold or mimic one: Zone signs (a speed-limit disc above ZONE), "
                 "the blue left-or-right fork",
    "zone": "Zone plates (and the plates that end a Zone) around a real GTSRB disc, so that the plate, "
            "not a drawn disc, is what tells them from the sign",
    "designs": "German sign designs without a GTSRB class, drawn like the classes: other speed limits and their "
               "ends, other bans, blue discs and squares (paths, parking, one-way), other warnings, plates",
}


def _member_configs(model_file: ModelFile, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """The training configs behind the model: each member's and each soup ingredient's."""
    configs = [m.train_config for m in model_file.members or []] or [cfg]
    return configs + [i["train_config"] for c in configs for i in c.get("soup") or []]


def _mirror_lines(model_file: ModelFile, cfg: dict[str, Any]) -> list[str]:
    """What ``--augment mirror_prob`` did, where any member used it."""
    shares = sorted({(c.get("augment") or {}).get("mirror_prob") or 0 for c in _member_configs(model_file, cfg)} - {0})
    if not shares:
        return []
    return [f"- `--augment mirror_prob={'/'.join(f'{p:g}' for p in shares)}`: that share of the signs whose mirror "
            "image is a sign was mirrored, with the class the mirror image is (`classes.MIRRORED`): curve left and "
            "right, turn, straight-or-turn and keep left and right swap; the symmetric designs, and the double "
            "curve, pedestrians, children, cyclists and deer, which German rules draw in both handings, and the "
            "roundabout (clockwise where traffic keeps left) keep theirs. No other sign is ever mirrored."]


def _photo_lines(model_file: ModelFile, cfg: dict[str, Any]) -> list[str]:
    """What the real-photo views and fine-tuning did, where any member used them."""
    configs = _member_configs(model_file, cfg)
    lines = []
    if any(len(c.get("soup") or []) > 1 for c in configs):
        lines.append("- Soup: a member whose weights are the mean of the weights of runs fine-tuned from the same "
                     "starting weights with different recipes (`traffic-signs soup`; a uniform model soup, Wortsman "
                     "et al. 2022). It keeps much of what a committee of those runs gains, at the cost of one model.")
    if any(c.get("soup_init_share") for c in configs):
        lines.append("- `soup --init-share A`: the soup's (or the one run's) weights were then moved a share A of "
                     "the way back to the starting weights (WiSE-FT, Wortsman et al. 2022), which wins back accuracy "
                     "on GTSRB's own crops that fine-tuning had cost, and keeps most of the real-photo gain.")
    if any(c.get("distill") and c.get("teacher") and c.get("teach_on", "all") == "all" for c in configs):
        lines.append("- `--teacher FILE --distill W`: the run also learnt the answers of the trained model FILE (the "
                     "teacher) on every picture of each batch, signs, photo views and outliers alike: the loss adds W "
                     "times the KL divergence from the teacher's answer to the member's (knowledge distillation, "
                     "Hinton et al. 2015; `--distill-temperature T` softens both answers first).")
    if any(c.get("distill") and c.get("teacher") and c.get("teach_on") == "photos" for c in configs):
        lines.append("- `--teacher FILE --distill W --teach-on photos`: the run learnt the answers of the trained "
                     "model FILE (the teacher) on the photo-framed signs and the outliers of each batch, and kept "
                     "its starting weights' answers on the plain GTSRB signs: the loss adds W times the KL divergence "
                     "from those answers to the member's (knowledge distillation, Hinton et al. 2015, asked only "
                     "where the teacher reads real photos better than the member; learning without forgetting on "
                     "the signs it already reads).")
    if any(c.get("distill") and not c.get("teacher") for c in configs):
        lines.append("- `--distill W`: the fine-tune also kept the answers of its starting weights on every batch's "
                     "signs: the loss adds W times the KL divergence from their answer to the member's (learning "
                     "without forgetting, Li & Hoiem 2016), so that learning the new outliers moved what the member "
                     "already knew as little as it could.")
    if any(c.get("init") for c in configs):
        lines.append("- `--init FILE:K`: the member started from member K of an earlier committee (the weights "
                     "named), trained on the same data and validation split, and was fine-tuned with the "
                     "recipe in its row.")
    if any(c.get("photo_framing") for c in configs):
        modes = {c.get("drawn_designs", "speed") for c in configs}
        drawn = "a speed limit or \"No vehicles\""
        if "all" in modes:
            drawn += (" (with `--drawn-designs all`: half speed limits, half the signs whose design is plain "
                      "geometry, such as no entry, yield, stop, priority road and the blue arrow discs)")
        if "every" in modes:
            drawn += (" (with `--drawn-designs every`: each of the 43 classes in turn, pictograms drawn from their "
                      "StVO designs, unevenly lit or faded)")
        lines.append("- `--photo-framing F`: a share F of each batch's signs is cut out along its class's shape "
                     "and pasted at 50-95% of the picture onto pieces of sign-free photographs (Debian's "
                     "desktop-background packages), off centre, a little stretched, sometimes on a pole or above a "
                     f"supplementary plate; one in ten becomes a clean drawing of {drawn}.")
    if any(c.get("outlier_weight") for c in configs):
        kinds = sorted({k for c in configs if c.get("outlier_weight") for k in c.get("outliers", ["upside_down"])})
        shown = "; ".join(OUTLIER_TEXT[kind] for kind in kinds if kind in OUTLIER_TEXT)
        lines.append(f"- `--outlier-weight W --outliers {','.join(kinds)}`: each batch also carries a quarter as many "
                     f"pictures of no GTSRB sign ({shown}), and the loss adds W times their distance from an even "
                     "answer over the 43 classes (outlier exposure).")
    return lines


def _risk_coverage_rows(test: dict[str, Any]) -> list[str]:
    curve = test.get("risk_coverage", {})
    coverage, risk = curve.get("coverage", []), curve.get("risk", [])
    rows: list[str] = []
    for target in (1.0, 0.995, 0.99, 0.98, 0.95, 0.9):
        candidates = [i for i, c in enumerate(coverage) if c <= target + 1e-9]
        if candidates:
            i = max(candidates, key=lambda j: coverage[j])
            row = f"| {_pct(coverage[i], 1)} | {_pct(risk[i], 3)} |"
            if row not in rows:
                rows.append(row)
    return rows


def _per_class_rows(test: dict[str, Any]) -> list[str]:
    per = test["per_class"]
    return [
        f"| {i} | {per['name'][i]} | {per['precision'][i]:.3f} | {per['recall'][i]:.3f} | {per['f1'][i]:.3f} | "
        f"{per['support'][i]} |"
        for i in range(len(per["name"]))
    ]
