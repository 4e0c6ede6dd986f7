"""What the golden step imports: part of its code."""


def scale(value: float, factor: float) -> float:
    return value * factor
