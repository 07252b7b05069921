"""Checks and conversions shared by the modules of :mod:`shopbook.analysis.abtest`."""

from __future__ import annotations

from typing import Any

import numpy as np

from shopbook.analysis.abtest.errors import ABTestError


def _out(x: Any) -> Any:
    """Plain float for 0-d results, the array otherwise."""
    arr = np.asarray(x, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ABTestError(f"alpha must be between 0 and 1, got {alpha!r}")


def _check_n(n_a: Any, n_b: Any, what: str = "units") -> tuple[np.ndarray, np.ndarray]:
    n_a = np.asarray(n_a, dtype=float)
    n_b = np.asarray(n_b, dtype=float)
    for name, n in (("control", n_a), ("treatment", n_b)):
        if np.any(~np.isfinite(n)) or np.any(n < 0):
            raise ABTestError(
                f"the {name} arm's count of {what} must be a non-negative number, got {n}"
            )
        if np.any(n == 0):
            raise ABTestError(
                f"the {name} arm has no {what}: there is nothing to compare. "
                "Check the variant names and that the experiment has started."
            )
    return n_a, n_b
