"""A registry of model constructors, looked up by name.

Every architecture is one small documented function decorated with :func:`register`;
the rest of the product asks for models by name (``create("lenet5")``) and never imports
an architecture directly. Each entry records where the design comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from traffic_signs.classes import NUM_CLASSES


@dataclass(frozen=True)
class ModelEntry:
    name: str
    build: Callable[..., nn.Module]
    summary: str  # first line of the constructor's docstring
    source: str  # where the design comes from
    ours: bool  # designed for this product (as opposed to a classic baseline)
    input_size: int


_REGISTRY: dict[str, ModelEntry] = {}


def register(name: str, *, source: str, ours: bool = False, input_size: int = 32):
    """Decorator: add a constructor ``fn(num_classes) -> nn.Module`` under ``name``."""

    def decorate(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else name
        _REGISTRY[name] = ModelEntry(name, fn, summary, source, ours, input_size)
        return fn

    return decorate


def _load_all() -> None:
    # Importing the modules runs their @register decorators.
    from traffic_signs.models import classic, signnet, stn  # noqa: F401


def list_models() -> list[str]:
    _load_all()
    return list(_REGISTRY)


def get_entry(name: str) -> ModelEntry:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; choose one of: {', '.join(_REGISTRY)}") from None


def create(name: str, num_classes: int = NUM_CLASSES) -> nn.Module:
    return get_entry(name).build(num_classes)
