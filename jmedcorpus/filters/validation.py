"""Constructor argument checks shared by the filters (a ``ValueError`` becomes a one-line recipe error)."""


def check_fraction(name: str, value: float) -> float:
    """``value`` if it lies in [0, 1], else ``ValueError`` naming the parameter.

    >>> check_fraction("min_ratio", 0.2)
    0.2
    """
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value
