"""Vectorised draws shared by the layers: sorted uniforms per group, categorical draws
from CDF tables, and the session-to-order delay."""

from __future__ import annotations

import numpy as np


def _sorted_uniform_groups(counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per group of size ``counts[g]``, sorted uniforms on (0, 1) (exponential spacings)."""
    sizes = counts.astype(np.int64) + 1
    total = int(sizes.sum())
    cs = np.cumsum(rng.standard_exponential(total))
    ends = np.cumsum(sizes) - 1
    starts = ends - sizes + 1
    base = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0.0)
    span = cs[ends] - base
    keep = np.ones(total, dtype=bool)
    keep[ends] = False
    grp = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    cs = cs[keep]
    del keep
    cs -= base[grp]
    cs /= span[grp]
    return cs


def _categorical(cdf_rows: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw a category per element from row ``rows[i]`` of a table of CDFs."""
    k = cdf_rows.shape[1]
    out = np.zeros(len(rows), dtype=np.int8)
    for j in range(k - 1):  # a handful of categories (devices, channels)
        out += (u >= cdf_rows[rows, j]).astype(np.int8)
    return out


def _minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Time from session start to order: 2 minutes + Gamma(2, 5 minutes), in days."""
    return (2 + rng.gamma(2.0, 5.0, n)) / 1440.0
