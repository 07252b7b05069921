"""The own-price elasticity estimate every fit returns: :class:`ElasticityFit`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.elasticity._common import as_list, need
from shopbook.analysis.result import Result


@dataclass
class ElasticityFit(Result):
    """An own-price elasticity estimate.

    Attributes
    ----------
    elasticity
        The coefficient on log price: % change in quantity per 1 % change in price.
        ``nan`` when price does not vary enough to identify it (see ``notes``).
    se
        Its standard error (clustered when ``cluster`` was given).
    ci
        ``(low, high)`` confidence interval at ``level``.
    n_obs
        Rows used in the fit.
    method
        ``"loglog"`` or ``"dml"``.
    level
        Confidence level of ``ci``.
    n_entities, n_periods, n_clusters
        Panel dimensions of the rows used.
    price_support
        ``(min, max)`` of the price over the rows used: the range the estimate speaks
        for.
    counts
        Row and entity counts behind ``notes`` (``rows_in``, ``rows_missing``,
        ``rows_nonpositive_quantity``, ``rows_nonpositive_price``, ``rows_used``,
        ``constant_price_entities``, ``singleton_entities``, ``periods``).
    params
        All estimated slopes (price first, then controls): ``term``, ``estimate``,
        ``se``, ``ci_low``, ``ci_high``, ``p_value``.
    diagnostics
        Method-specific extras (for DML: nuisance R² of the quantity and price models,
        each sample split's estimate; see :func:`fit_dml`).
    fragile
        DML only: the price model does not beat its mean out of fold, or the estimate
        moves widely across sample splits — a warning note then gives the fixed-effects
        estimate beside it. Always false for ``"loglog"``.
    table
        With ``by=``: one row per group (``group``, ``elasticity``, ``se``, ``ci_low``,
        ``ci_high``, ``n_obs``, ``n_entities``, ``identified``, ``notes``); else empty.
        The top-level fields are then the pooled fit over all groups.
    notes
        Plain sentences about anything dropped, kept-but-uninformative, or not
        identified.
    problems
        ``ok()`` is false when the pooled elasticity was not identified; ``why()`` then
        says why (the last note).
    """

    elasticity: float
    se: float
    ci: tuple[float, float]
    n_obs: int
    method: str = "loglog"
    level: float = 0.95
    n_entities: int = 0
    n_periods: int = 0
    n_clusters: int | None = None
    price_support: tuple[float, float] = (math.nan, math.nan)
    counts: dict[str, int] = field(default_factory=dict)
    params: pd.DataFrame | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    fragile: bool = False

    @property
    def identified(self) -> bool:
        """Whether the data identified an elasticity (finite estimate)."""
        return bool(np.isfinite(self.elasticity))

    def to_frame(self) -> pd.DataFrame:
        """One row: ``method``, ``elasticity``, ``se``, ``ci_low``, ``ci_high``, ``n_obs``…"""
        return pd.DataFrame(
            [
                {
                    "method": self.method,
                    "elasticity": self.elasticity,
                    "se": self.se,
                    "ci_low": self.ci[0],
                    "ci_high": self.ci[1],
                    "n_obs": self.n_obs,
                    "n_entities": self.n_entities,
                    "n_periods": self.n_periods,
                }
            ]
        )

    def __repr__(self) -> str:
        head = (
            f"ElasticityFit({self.method}: {self.elasticity:.3f} (se {self.se:.3f}), "
            f"{self.level:.0%} CI [{self.ci[0]:.3f}, {self.ci[1]:.3f}], n_obs={self.n_obs}"
        )
        if len(self.table.columns):
            head += f", {len(self.table)} groups"
        head += ")"
        return head + "".join(f"\n  note: {n}" for n in self.notes)


def empty_fit(
    df: pd.DataFrame, counts: dict[str, int], notes: list[str], method: str, level: float
) -> ElasticityFit:
    """A fit with nothing estimated yet over the prepared rows ``df``."""
    return ElasticityFit(
        elasticity=np.nan,
        se=np.nan,
        ci=(np.nan, np.nan),
        n_obs=len(df),
        method=method,
        level=level,
        n_entities=counts["entities"],
        n_periods=counts["periods"],
        counts=counts,
        notes=notes,
        price_support=(float(np.exp(df["_lp"].min())), float(np.exp(df["_lp"].max())))
        if len(df)
        else (np.nan, np.nan),
    )


def settle(fit: ElasticityFit) -> ElasticityFit:
    """Mark ``fit`` skipped (with its last note as the reason) when it identified nothing."""
    if not fit.identified:
        fit.skip(fit.notes[-1] if fit.notes else "the elasticity is not identified")
    return fit


def groups(panel: pd.DataFrame, by: str | Sequence[str] | None) -> list[tuple[Any, pd.DataFrame]]:
    """``panel`` split by the ``by`` column(s), sorted by key (``[]`` without ``by``)."""
    if by is None:
        return []
    keys = as_list(by)
    need(panel, keys)
    return list(panel.groupby(keys, observed=True, sort=True))


def group_row(key: Any, fit: ElasticityFit, by: str | Sequence[str]) -> dict[str, Any]:
    """One row of a ``by=`` table: the group key(s) and the group's fit."""
    row: dict[str, Any] = {}
    vals = key if isinstance(key, tuple) else (key,)
    for k_, v in zip(as_list(by), vals, strict=False):
        row[k_] = v
    row.update(
        elasticity=fit.elasticity,
        se=fit.se,
        ci_low=fit.ci[0],
        ci_high=fit.ci[1],
        n_obs=fit.n_obs,
        n_entities=fit.n_entities,
        n_periods=fit.n_periods,
        price_min=fit.price_support[0],
        price_max=fit.price_support[1],
        identified=fit.identified,
        notes=" ".join(fit.notes),
    )
    return row


def compare_fits(
    first: ElasticityFit,
    second: ElasticityFit,
    group: str = "category",
    names: tuple[str, str] = ("naive", "dml"),
) -> pd.DataFrame:
    """Two ``by=group`` fits side by side, per group, and how far the second moved.

    Parameters
    ----------
    first, second
        Fits with ``by=group`` (their ``table`` has ``group``, ``elasticity``,
        ``ci_low``, ``ci_high``).
    names
        Suffixes of the two fits' columns.

    Returns
    -------
    DataFrame
        ``group``, ``elasticity_<first>``, ``ci_low_<first>``, ``ci_high_<first>``, the
        same for the second, and ``difference`` (second − first elasticity).
    """
    cols = [group, "elasticity", "ci_low", "ci_high"]
    a, b = names
    side = first.table[cols].merge(second.table[cols], on=group, suffixes=(f"_{a}", f"_{b}"))
    side["difference"] = side[f"elasticity_{b}"] - side[f"elasticity_{a}"]
    return side


def stack_fits(fits: dict[str, ElasticityFit]) -> pd.DataFrame:
    """The ``by=`` tables of several fits stacked, with a ``method`` column (the dict key)."""
    return pd.concat([f.table.assign(method=m) for m, f in fits.items()], ignore_index=True)
