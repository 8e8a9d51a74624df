"""A committee: several independently trained models whose logits are averaged.

Why: at 32x32 one model's last few errors depend on its seed (docs/design.md, *The shipped classifier*, gives the
spread over seeds). Averaging a few independently seeded models removes much of that seed
noise: the same idea as the IDSIA committee of CNNs that won GTSRB in 2011. A committee is one model file (the members'
weights under ``members.0.``, ``members.1.``, ... in one safetensors) and exports to one ONNX
graph, so every command that takes a model takes a committee.

Members must share the training data, class names, input size and validation split:
calibration and the "unknown" threshold are fitted on that split, and a member that had
trained on those tracks would make them look easy.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from traffic_signs.errors import ModelFileError
from traffic_signs.models.model_file import ModelFile


class Committee(nn.Module):
    """The mean of the members' logits."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(x) for member in self.members]).mean(dim=0)


class GradCamCommittee(Committee):
    """A committee whose members all draw Grad-CAM maps: it draws their mean as well."""

    def class_activation_maps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outputs = [member.class_activation_maps(x) for member in self.members]
        return (torch.stack([logits for logits, _ in outputs]).mean(dim=0),
                torch.stack([cams for _, cams in outputs]).mean(dim=0))


def committee_of(members: list[nn.Module]) -> Committee:
    """Export and serving test ``hasattr(model, "class_activation_maps")``, so offer it only when
    every member has it (and the maps have one shape, as the mean needs)."""
    with_cams = all(hasattr(member, "class_activation_maps") for member in members)
    return (GradCamCommittee if with_cams else Committee)(members)


def check_compatible(paths: list[Path], model_files: list[ModelFile], members: str = "committee members") -> None:
    """Refuse members that could not be averaged or calibrated together, naming the odd one out
    (``members`` says what they are in the message: a soup's ingredients are checked here too;
    how many there must be is the caller's rule)."""
    for path, model_file in zip(paths, model_files, strict=True):
        if model_file.is_committee:
            raise ModelFileError(f"{path}: is itself a committee; list its members instead")
    first = model_files[0]
    checks = {
        "class names": lambda m: m.class_names,
        "input size": lambda m: m.input_size,
        "training data (checksum)": lambda m: m.data_checksum,
        "validation split": lambda m: m.split,
    }
    for path, model_file in zip(paths[1:], model_files[1:], strict=True):
        for what, value in checks.items():
            if value(model_file) != value(first):
                shown = "" if isinstance(value(model_file), list) else f" ({value(model_file)} vs {value(first)})"
                raise ModelFileError(
                    f"{path}: its {what} differs from {paths[0]}'s{shown}; "
                    f"{members} must be trained on the same data and split"
                )
