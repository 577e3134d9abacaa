"""Short recipe names → step classes.

A recipe refers to steps only by these names, never by import path, so renaming a module does not
break saved recipes and a recipe cannot instantiate arbitrary code. A step whose behaviour changes
is registered under a new name (``..._v2``) so old recipes keep meaning what they meant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T", bound=type)

_STEPS: dict[str, type] = {}


def register_step(name: str) -> Callable[[T], T]:
    """Class decorator: make a step available to recipes under ``name``."""

    def deco(cls: T) -> T:
        if name in _STEPS and _STEPS[name] is not cls:
            raise ValueError(f"step name {name!r} registered twice")
        _STEPS[name] = cls
        cls.registered_name = name
        return cls

    return deco


def declared_signal_kinds() -> dict[str, str]:
    """Signal name → kind (``ratio``, ``score``, ``count``, ``sparse_count``) as the registered
    steps declare them in ``signal_kinds`` (see :mod:`jmedcorpus.steps`)."""
    kinds: dict[str, str] = {}
    for cls in registered_steps().values():
        kinds.update(getattr(cls, "signal_kinds", {}))
    return kinds


def registered_steps() -> dict[str, type]:
    """All registered steps, importing the step modules first."""
    import jmedcorpus.steps  # noqa: F401  (imports every module that registers steps)

    return dict(_STEPS)
