"""Every registered architecture, looked up by name, and the module any model file describes.

The rest of the product asks for models by name (``create("lenet5")``) or by model file
(``build_model``: a committee is built from its members' names) and never imports an
architecture directly. Importing the architecture modules here runs their ``@register``
decorators, so a lookup always sees all of them.
"""

from __future__ import annotations

from torch import nn

from traffic_signs.classes import NUM_CLASSES
from traffic_signs.errors import UnknownModelError
from traffic_signs.models import classic, efficientnet_lite, signnet, stn  # noqa: F401  (they register themselves)
from traffic_signs.models.committee import committee_of
from traffic_signs.models.model_file import ModelFile
from traffic_signs.models.registry import REGISTERED, ModelEntry


def list_models() -> list[str]:
    return list(REGISTERED)


def get_entry(name: str) -> ModelEntry:
    try:
        return REGISTERED[name]
    except KeyError:
        raise UnknownModelError(f"unknown model {name!r}; choose one of: {', '.join(REGISTERED)}") from None


def create(name: str, num_classes: int = NUM_CLASSES) -> nn.Module:
    return get_entry(name).build(num_classes)


def build_model(model_file: ModelFile) -> nn.Module:
    """The untrained module a model file describes: a registered architecture or a committee of them."""
    num_classes = len(model_file.class_names)
    if model_file.is_committee:
        return committee_of([create(member.architecture, num_classes) for member in model_file.members or []])
    return create(model_file.architecture, num_classes)
