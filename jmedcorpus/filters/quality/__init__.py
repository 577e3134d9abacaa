"""Japanese quality filters, one family of checks per module; importing the package imports
every module in it, which registers their steps (a new module needs no line here).

Defaults are calibrated on real clinical Japanese (MedTxt-CR case reports, IgakuQA licensing-exam
questions) with ``bench/calibrate_quality.py``: together they drop < 1% of those documents, while
still dropping web debris, mojibake, repeated boilerplate, symbol runs and bare number tables.
"""

import importlib
import pkgutil

from datatrove.pipeline.filters.base_filter import BaseFilter

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def quality_filters() -> list[type[BaseFilter]]:
    """Every registered filter class defined in this package, in registration order."""
    from jmedcorpus.registry import _STEPS

    return [cls for cls in _STEPS.values() if cls.__module__.startswith(f"{__name__}.")]


globals().update({cls.__name__: cls for cls in quality_filters()})
__all__ = [cls.__name__ for cls in sorted(quality_filters(), key=lambda c: c.__name__)]
