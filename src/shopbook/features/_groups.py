"""The ``by=`` argument of the features (private to :mod:`shopbook.features`)."""

from __future__ import annotations

from collections.abc import Sequence


def by_columns(by: str | Sequence[str] | None) -> list[str]:
    """A ``by=`` argument (``None``, one column or several) as a list of column names."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)
