"""Many variants and metrics: multiplicity-adjusted p-values."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["METHOD_NAMES", "adjust_pvalues"]

#: Readable names of the ``multipletests`` methods.
METHOD_NAMES = {"holm": "Holm", "fdr_bh": "Benjamini-Hochberg", "bonferroni": "Bonferroni"}


def adjust_pvalues(pvalues: Any, method: str = "holm", alpha: float = 0.05) -> np.ndarray:
    """Adjust p-values for many comparisons (``statsmodels.stats.multitest``).

    Parameters
    ----------
    pvalues
        P-values of the family (NaN entries are left out and stay NaN).
    method
        ``"holm"`` (family-wise error, the default) or ``"fdr_bh"``
        (Benjamini-Hochberg false discovery rate), or any ``multipletests`` method.
    alpha
        Passed to ``multipletests``.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, same order.
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], alpha=alpha, method=method)[1]
    return out
