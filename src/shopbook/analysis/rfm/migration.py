"""Segment migration: where the customers of each segment went between two dates."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.analysis.rfm._common import empty_window_error, names
from shopbook.analysis.rfm.relevance import relevance
from shopbook.analysis.rfm.rules import load_rules
from shopbook.analysis.rfm.scores import score
from shopbook.errors import ContractError

#: Pseudo-segments of a migration matrix.
NOT_YET = "(not yet a customer)"
LEFT_WINDOW = "(no orders in window)"
#: The directions of :attr:`Migration.customers`, in the order of :attr:`Migration.table`.
DIRECTIONS: tuple[str, ...] = ("moved up", "stayed", "slipped", "left window", "new")
#: The scoring scales of :func:`migration`.
SCALES: tuple[str, ...] = ("from", "each")


@dataclass(kw_only=True)
class Migration(Result):
    """Segment transitions between two dates (the output of :func:`migration`).

    A :class:`~shopbook.analysis.result.Result`: skipped (``ok()`` false, ``why()`` the
    reason) when either date has too few customers to score.

    Attributes
    ----------
    table
        Customers per direction (``direction, customers, earlier_customers_share``:
        the share of the customers present at ``asof_from``), in the order of
        :data:`DIRECTIONS`.
    counts
        Customers per (segment at ``asof_from``, rows) × (segment at ``asof_to``,
        columns), best first. Row :data:`NOT_YET` holds customers whose first counted
        order falls between the dates; column :data:`LEFT_WINDOW` those with no order in
        the later window (only with a ``lookback_days``).
    customers
        One row per customer: ``customer_id, from_segment, to_segment, direction``
        (``moved up``, ``stayed``, ``slipped``, ``new``, ``left window``).
    asof_from, asof_to, scale
        The dates and the scoring scale (``"from"`` or ``"each"``).
    """

    counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    customers: pd.DataFrame = field(default_factory=pd.DataFrame)
    asof_from: pd.Timestamp | None = None
    asof_to: pd.Timestamp | None = None
    scale: str = "from"

    def shares(self) -> pd.DataFrame:
        """``counts`` as shares of each row (where the customers of a segment went)."""
        totals = self.counts.sum(axis=1)
        return self.counts.div(totals.where(totals > 0), axis=0)


def direction_table(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers per direction, with shares of the customers present at the earlier date.

    Parameters
    ----------
    customers
        ``Migration.customers`` (needs ``direction``).

    Returns
    -------
    pandas.DataFrame
        ``direction, customers, earlier_customers_share`` (missing for ``new``), one row
        per direction of :data:`DIRECTIONS`.
    """
    counts = customers["direction"].value_counts().reindex(list(DIRECTIONS), fill_value=0)
    base = counts.drop("new").sum()
    out = counts.rename("customers").to_frame()
    out["earlier_customers_share"] = (out["customers"] / base).where(out.index != "new")
    out.index.name = "direction"
    return out.reset_index()


def _asof(customers: pd.DataFrame, which: str) -> pd.Timestamp:
    if "asof" not in customers.attrs:
        raise ValueError(
            f"the {which} customers carry no asof date: pass frames from "
            "shopbook.features.rfm.customer_rfm"
        )
    return pd.Timestamp(customers.attrs["asof"]).normalize()


def _directions(m: pd.DataFrame, names_: list[str]) -> pd.DataFrame:
    """Per customer: the segments at both dates and the direction of the move."""
    rank = {n: i for i, n in enumerate(names_)}
    f = m["segment_from"].astype(object)
    to = m["segment_to"].astype(object)
    fr = f.map(rank)
    tr = to.map(rank)
    direction = np.select(
        [f.isna(), to.isna(), tr < fr, tr > fr],
        ["new", "left window", "moved up", "slipped"],
        default="stayed",
    )
    return pd.DataFrame(
        {
            "customer_id": m["customer_id"],
            "from_segment": pd.Categorical(f.fillna(NOT_YET), categories=[*names_, NOT_YET]),
            "to_segment": pd.Categorical(to.fillna(LEFT_WINDOW), categories=[*names_, LEFT_WINDOW]),
            "direction": direction,
        }
    )


def _matrix(customers: pd.DataFrame, names_: list[str]) -> pd.DataFrame:
    """The from × to matrix, pseudo-segments only where they hold customers."""
    counts = pd.crosstab(customers["from_segment"], customers["to_segment"], dropna=False)
    counts = counts.reindex(index=[*names_, NOT_YET], columns=[*names_, LEFT_WINDOW], fill_value=0)
    if not (customers["from_segment"] == NOT_YET).any():
        counts = counts.drop(index=NOT_YET)
    if not (customers["to_segment"] == LEFT_WINDOW).any():
        counts = counts.drop(columns=LEFT_WINDOW)
    counts.index.name, counts.columns.name = "from_segment", "to_segment"
    return counts


def migration(
    earlier: pd.DataFrame,
    later: pd.DataFrame,
    *,
    scale: str = "from",
    rules: pd.DataFrame | str | os.PathLike | None = None,
) -> Migration:
    """How customers moved between segments from one date to a later one.

    Parameters
    ----------
    earlier, later
        :func:`shopbook.features.rfm.customer_rfm` at the two dates (e.g. 90 days apart,
        with the same ``lookback_days`` and statuses); the dates are their
        ``attrs["asof"]``.
    scale
        ``"from"`` (default) scores both dates against the customers of the earlier
        date, so the same recency, frequency and spend get the same score at both dates
        and a customer who does nothing for 90 days slips as their recency grows.
        ``"each"`` recomputes the quintiles at each date (what two separate
        :func:`~shopbook.analysis.rfm.rfm_table` calls give); then scores are relative
        to each date's customer base, and since everyone's recency grows alike, doing
        nothing costs a customer little.
    rules
        Segment rules: a path, a DataFrame, or ``None`` for the shipped file.

    Returns
    -------
    Migration
        ``.counts`` is the transition matrix; ``.customers`` and ``.table`` say who
        moved up and who slipped (by the rules' rank). Skipped, with the reason, when
        ``earlier`` is not before ``later`` (e.g. ``migration_days`` 0 in notebook 04), or a
        date has no customer, fewer than two, or only identical ones, or the earlier
        date's F score does not separate customers
        (:func:`~shopbook.analysis.rfm.relevance.relevance`).

    Raises
    ------
    ValueError
        An unknown ``scale``, or frames without dates.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be 'from' or 'each', not {scale!r}")
    d0, d1 = _asof(earlier, "earlier"), _asof(later, "later")
    dates: dict[str, Any] = {"asof_from": d0, "asof_to": d1, "scale": scale}
    if d0 >= d1:
        why = f"no comparison with {d0.date()}: asof_from must be before asof_to ({d1.date()})"
        return Migration.skipped(why, **dates)
    rules = load_rules(rules)
    try:
        for part in (earlier, later):
            if part.empty:
                raise empty_window_error(part)
        early = relevance(earlier)
        if len(earlier) >= 2 and not early.ok():  # fewer: score() says why
            return Migration.skipped(f"no comparison with {d0.date()}: {early.why()}", **dates)
        r0 = score(earlier, rules=rules)
        r1 = score(later, reference=earlier if scale == "from" else None, rules=rules)
    except ContractError as exc:
        why = f"no comparison with {d0.date()}: {str(exc).splitlines()[0]}"
        return Migration.skipped(why, **dates)
    names_ = names(rules, "segment")
    m = pd.merge(
        r0[["customer_id", "segment"]],
        r1[["customer_id", "segment"]],
        on="customer_id",
        how="outer",
        suffixes=("_from", "_to"),
    )
    m = m.sort_values("customer_id", kind="stable").reset_index(drop=True)
    customers = _directions(m, names_)
    return Migration(
        table=direction_table(customers),
        counts=_matrix(customers, names_),
        customers=customers,
        **dates,
    )


__all__ = [
    "DIRECTIONS",
    "LEFT_WINDOW",
    "NOT_YET",
    "SCALES",
    "Migration",
    "direction_table",
    "migration",
]
