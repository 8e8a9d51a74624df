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
from traffic_signs.models.io import load_model
from traffic_signs.models.model_file import ModelFile


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
    model, model_file = load_model(model_path)
    data = load_eval_set(model_file, split, data_dir, cache_dir)
    logits = torch_logits(model, data.images)
    if temperature is None:
        temperature, temperature_source = model_file.temperature, "the model file"
    context = {"model": str(model_path), "architecture": model_file.architecture, "split": split,
               "class_names": model_file.class_names, "temperature_source": temperature_source}
    return write_report(out_dir, logits, data.labels, data.images, data.names, context,
                        temperature=temperature, threshold=model_file.threshold)


def load_eval_set(model_file: ModelFile, split: str, data_dir: str | None, cache_dir: str | None) -> ImageSet:
    """The images of ``split`` at the model's input size; for val, the run's own held-out tracks."""
    if split == "test":
        return load_split("test", data_dir, model_file.input_size, cache_dir)
    if split != "val":
        raise ValueError(f"unknown split {split!r}")
    return validation_subset(load_split("train", data_dir, model_file.input_size, cache_dir), model_file.split,
                             model_file.data_checksum, model_file.source)
