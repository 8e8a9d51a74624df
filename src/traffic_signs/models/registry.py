"""Where architectures register themselves: a name, a constructor and where the design comes from.

Every architecture is one small documented function decorated with :func:`register`. This
module imports no architecture (so it sits below all of them); :mod:`traffic_signs.models.catalog`
imports them all and is where the rest of the product looks models up by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from traffic_signs.models.layers import GTSRB_MEAN, GTSRB_STD


@dataclass(frozen=True)
class ModelEntry:
    name: str
    build: Callable[..., nn.Module]
    summary: str  # first line of the constructor's docstring
    source: str  # where the design comes from
    ours: bool  # designed for this product (as opposed to a classic baseline)
    input_size: int
    pretrained: bool = False  # its constructor takes ``pretrained=True`` to start from published weights
    mean: tuple[float, ...] = GTSRB_MEAN  # the input statistics its graph normalises with (model files record them)
    std: tuple[float, ...] = GTSRB_STD

    def fresh(self, num_classes: int) -> nn.Module:
        """The model a training run starts from: published weights where the architecture has them."""
        return self.build(num_classes, pretrained=True) if self.pretrained else self.build(num_classes)


REGISTERED: dict[str, ModelEntry] = {}


def register(name: str, *, source: str, ours: bool = False, input_size: int = 32, pretrained: bool = False,
             mean: tuple[float, ...] = GTSRB_MEAN, std: tuple[float, ...] = GTSRB_STD):
    """Decorator: add a constructor ``fn(num_classes) -> nn.Module`` under ``name`` (with ``pretrained``:
    ``fn(num_classes, pretrained=False)``, building untrained unless asked)."""

    def decorate(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in REGISTERED:
            raise ValueError(f"model {name!r} registered twice")
        summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else name
        REGISTERED[name] = ModelEntry(name, fn, summary, source, ours, input_size, pretrained, mean, std)
        return fn

    return decorate
