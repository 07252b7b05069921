"""The one error of the A/B package: the data cannot answer the question asked."""

from __future__ import annotations

__all__ = ["ABTestError"]


class ABTestError(ValueError):
    """The data cannot answer the question asked (empty arm, no events, bad split…).

    The message says what is missing and what to do; it is raised instead of
    returning NaN as if it were a result.
    """
