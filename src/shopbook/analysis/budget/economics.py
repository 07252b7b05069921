"""Spend and return by channel and month: spend share against revenue share, ROAS, ROI
(as the KPI brief defines it, :func:`shopbook.analysis.kpi.table.roi`) and CAC, and the
plan's range for marketing's share of the budget."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopbook.analysis.kpi.table import roi
from shopbook.analysis.result import Result
from shopbook.i18n import _

__all__ = ["MARKETING_SHARE", "month_columns", "plan_check", "spend_and_return"]

#: The plan's range for marketing's share of the monthly budget.
MARKETING_SHARE = (0.60, 0.70)


def spend_and_return(monthly: pd.DataFrame) -> Result:
    """Spend share, revenue share, ROAS, ROI and CAC per month and channel.

    Parameters
    ----------
    monthly
        :func:`shopbook.features.budget.monthly_economics` output (``month``,
        ``channel``, ``spend``, ``new_customers``, ``gmv``; with order lines
        ``gross_profit`` and ``uncosted_share``).

    Returns
    -------
    Result
        ``table``: the input with ``spend_share`` and ``revenue_share`` (of the month's
        spend and GMV over every channel), ``roas`` (GMV / spend), ``roi`` ((gross profit
        − spend) / spend, NaN with ``roi_note`` where gross profit is unknown) and ``cac``
        (spend / new customers). Skipped without spend.
    """
    t = monthly.copy()
    r = Result()
    if t.empty or not t["spend"].sum() > 0:
        return r.skip(_("no marketing spend in the window"))
    by_month = t.groupby("month")
    t["spend_share"] = t["spend"] / by_month["spend"].transform("sum").where(lambda s: s > 0)
    t["revenue_share"] = t["gmv"] / by_month["gmv"].transform("sum").where(lambda s: s > 0)
    pos = t["spend"].where(t["spend"] > 0)
    t["roas"] = t["gmv"] / pos
    t["cac"] = t["spend"] / t["new_customers"].where(t["new_customers"] > 0)
    costed = "gross_profit" in t
    found = [
        roi(
            row["gross_profit"] if costed else None,
            row["spend"],
            row["uncosted_share"] if costed else None,
        )
        for _i, row in t.iterrows()
    ]
    t["roi"] = [v for v, _w in found]
    t["roi_note"] = [w if not np.isfinite(v) else "" for v, w in found]
    if not t["roi"].notna().any():
        why = next((w for w in t["roi_note"] if w and w != "no marketing spend"), "")
        r.note(_("ROI is not computable: {why}; ROAS is shown, and it is not ROI").format(why=why))
    r.table = t
    return r


def month_columns(table: pd.DataFrame, month: pd.Timestamp | None = None) -> pd.DataFrame:
    """One month's rows (default: the last) with the columns a reader compares, by spend."""
    m = table["month"].max() if month is None else month
    cols = ["channel", "spend", "spend_share", "revenue_share", "new_customers", "cac"]
    cols += ["roas", "roi"]
    rows = table[(table["month"] == m) & (table["spend"] > 0)]
    return rows[[c for c in cols if c in rows]].sort_values("spend", ascending=False)


def plan_check(
    table: pd.DataFrame, total_budget: float | None, share: tuple[float, float] = MARKETING_SHARE
) -> Result:
    """The last month's marketing spend as a share of the total monthly budget, against the plan.

    Returns
    -------
    Result
        ``table``: ``month``, ``marketing_spend``, ``total_budget``, ``share``,
        ``plan_low``, ``plan_high``, ``within`` — skipped without a total budget.
    """
    r = Result()
    if not total_budget or total_budget <= 0:
        return r.skip(_("no total monthly budget given (parameter total_budget)"))
    m = table["month"].max()
    spent = float(table.loc[table["month"] == m, "spend"].sum())
    s = spent / total_budget
    r.table = pd.DataFrame(
        [
            {
                "month": m,
                "marketing_spend": spent,
                "total_budget": float(total_budget),
                "share": s,
                "plan_low": share[0],
                "plan_high": share[1],
                "within": share[0] <= s <= share[1],
            }
        ]
    )
    where = (
        _("within") if share[0] <= s <= share[1] else (_("below") if s < share[0] else _("above"))
    )
    r.note(
        _(
            "Marketing took {s:.0%} of the {month} budget: {where} the plan's {lo:.0%}–{hi:.0%}."
        ).format(s=s, month=f"{m:%Y-%m}", where=where, lo=share[0], hi=share[1])
    )
    return r
