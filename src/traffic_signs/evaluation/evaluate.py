"""Score one model file on the validation split or the official test set, into a report folder.

The library half of ``traffic-signs evaluate``: ``compare`` and shipping evaluate models
the same way, so the numbers in their tables are the ones ``evaluate`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from traffic_signs.data.cache import ImageSet, load_split
from traffic_signs.data.split import validation_subset
from traffic_signs.evaluation.report import write_report
from traffic_signs.models.inference import torch_logits
from traffic_signs.models.io import held_out_split, load_model


def evaluate_model(
    model_path: Path,
    split: str,
    out_dir: Path,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    temperature: float | None = None,
    temperature_source: str = "given by the caller",
) -> dict[str, Any]:
    """Run the verified model over ``split`` and write the evaluation folder.

    ``temperature`` overrides the model file's own (compare uses it to apply a temperature
    fitted on validation to the test logits); ``temperature_source`` says where it came from.
    """
    model, meta = load_model(model_path)
    data = load_eval_set(meta, split, data_dir, cache_dir, model_path)
    logits = torch_logits(model, data.images)
    if temperature is None:
        temperature, temperature_source = _number(meta.get("temperature")), "the model file"
    context = {"model": str(model_path), "architecture": meta.get("architecture"), "split": split,
               "class_names": meta["class_names"], "temperature_source": temperature_source}
    return write_report(out_dir, logits, data.labels, data.images, data.names, context,
                        temperature=temperature, threshold=_number(meta.get("threshold")))


def load_eval_set(meta: dict[str, Any], split: str, data_dir: str | None, cache_dir: str | None,
                  model_path: Path | str = "model") -> ImageSet:
    """The images of ``split`` at the model's input size; for val, the run's own held-out tracks."""
    size = int(meta.get("input_size", 32))
    if split == "test":
        return load_split("test", data_dir, size, cache_dir)
    if split != "val":
        raise ValueError(f"unknown split {split!r}")
    return validation_subset(load_split("train", data_dir, size, cache_dir), held_out_split(meta, model_path),
                             meta.get("data_checksum"), str(model_path))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
