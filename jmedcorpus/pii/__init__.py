"""Personal-information removal (the ``personal_info`` step): see :mod:`jmedcorpus.pii.step`."""

from jmedcorpus.pii.patterns import mynumber_valid
from jmedcorpus.pii.step import PersonalInfoRedactor, redact
from jmedcorpus.pii.structured import ALL_TYPES, find_structured

__all__ = ["ALL_TYPES", "PersonalInfoRedactor", "find_structured", "mynumber_valid", "redact"]
