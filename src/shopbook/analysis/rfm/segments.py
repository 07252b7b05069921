"""What the segments hold: size, revenue and action per segment, the score grid, and
the facts a report states about the scored customers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.rfm._common import LEVELS
from shopbook.analysis.rfm.rules import load_rules, rule_table
from shopbook.i18n import _

#: Columns of :func:`segment_table` after the name column.
SEGMENT_TABLE_COLUMNS: tuple[str, ...] = (
    "customers",
    "customer_share",
    "revenue",
    "revenue_share",
    "orders",
    "avg_order_value",
    "median_recency",
    "community",
    "action",
)


def segment_table(
    rfm: pd.DataFrame, by: str = "segment", rules: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Size, revenue and order value per segment, with the recommended action.

    Parameters
    ----------
    rfm
        The output of :func:`~shopbook.analysis.rfm.rfm_table` (needs ``by``,
        ``frequency``, ``monetary``, ``recency``).
    by
        ``"segment"`` or ``"layer"``.
    rules
        The rules used (for descriptions and actions); default the shipped file.

    Returns
    -------
    pandas.DataFrame
        One row per name of the scheme, best first, empty ones included:
        ``{by}, customers, customer_share, revenue, revenue_share, orders,
        avg_order_value, median_recency, community, action``. Shares are fractions of
        the total; ``avg_order_value`` is revenue / orders (missing for an empty segment).
    """
    rules = load_rules() if rules is None else load_rules(rules)
    scheme = "segment" if by == "segment" else "layer"
    g = rfm.groupby(by, observed=False)
    out = pd.DataFrame(
        {
            "customers": g.size(),
            "revenue": g["monetary"].sum(),
            "orders": g["frequency"].sum(),
            "median_recency": g["recency"].median(),
        }
    )
    out["customer_share"] = out["customers"] / max(len(rfm), 1)
    total = rfm["monetary"].sum()
    out["revenue_share"] = out["revenue"] / total if total > 0 else np.nan
    out["avg_order_value"] = out["revenue"] / out["orders"].where(out["orders"] > 0)
    info = rule_table(rules, scheme).set_index("name")[["community", "action"]]
    out = out.join(info)
    out.index = out.index.astype(str)
    out.index.name = by
    return out[list(SEGMENT_TABLE_COLUMNS)].reset_index()


def top_segment(segments: pd.DataFrame) -> pd.Series:
    """The best-ranked segment's row of a :func:`segment_table` (its first row).

    The table is in the rules' rank order, so this is the segment the rules call best
    (``Champions`` in the shipped rules), whether or not it is the largest.
    """
    if segments.empty:
        raise ValueError("the segment table is empty")
    return segments.iloc[0]


def score_grid(rfm: pd.DataFrame) -> pd.DataFrame:
    """Customers per (r_score, fm_score) cell: a 5 × 5 frame, R 5 (best) on top.

    Parameters
    ----------
    rfm
        Needs ``r_score`` and ``fm_score``.
    """
    counts = pd.crosstab(rfm["r_score"], rfm["fm_score"])
    levels = range(1, LEVELS + 1)
    counts = counts.reindex(index=levels[::-1], columns=levels, fill_value=0)
    counts.index.name, counts.columns.name = "r_score", "fm_score"
    return counts


def score_thresholds(rfm: pd.DataFrame) -> pd.DataFrame:
    """The value range of each score level: what a score means in days, orders, money.

    Parameters
    ----------
    rfm
        Needs ``recency``, ``frequency``, ``monetary`` and their ``*_score`` columns.

    Returns
    -------
    pandas.DataFrame
        Index ``score`` 1–5; for R, F and M the ``min``–``max`` of the customers with
        that score and their count (0 for a level the tie rule leaves empty).
    """
    rows = []
    for s in range(1, LEVELS + 1):
        row: dict[str, Any] = {"score": s}
        for letter, col in (("R", "recency"), ("F", "frequency"), ("M", "monetary")):
            part = rfm.loc[rfm[f"{letter.lower()}_score"] == s, col]
            row[f"{letter} customers"] = len(part)
            row[f"{letter} range"] = (
                f"{part.min():g}–{part.max():g}"
                if len(part) and part.min() != part.max()
                else (f"{part.min():g}" if len(part) else "–")
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("score")


def unused_scores(rfm: pd.DataFrame, letter: str = "F") -> list[int]:
    """The score levels of ``letter`` (``"R"``, ``"F"`` or ``"M"``) that no customer holds.

    With many tied customers the tie rule leaves some levels empty (on CDNOW every
    one-time buyer has ``f_score`` 1 and ``f_score`` 2 is unused).
    """
    held = set(rfm[f"{letter.lower()}_score"].astype(int))
    return [s for s in range(1, LEVELS + 1) if s not in held]


def window_text(rfm: pd.DataFrame) -> str:
    """The window the scores cover, in words, from the table's ``attrs``.

    ``"the 90 days up to 2024-12-31"`` with a lookback, else
    ``"the whole history up to 2024-12-31"``: the date is the last day counted (the day
    before ``asof``), so no date shown lies after the report's ``end``.
    """
    asof = pd.Timestamp(rfm.attrs["asof"])
    last = (asof - pd.Timedelta(days=1)).date()
    start = rfm.attrs.get("window_start")
    if start is None:
        return _("the whole history up to {day}").format(day=last)
    return _("the {n} days up to {day}").format(n=(asof - pd.Timestamp(start)).days, day=last)


def table_facts(rfm: pd.DataFrame) -> dict[str, Any]:
    """The facts a report states about an RFM table, ready for a sentence.

    Returns
    -------
    dict
        ``n`` (customers), ``window`` (:func:`window_text`), ``once`` (share of
        customers who bought once) and ``empty`` (the unused frequency scores as text,
        ``"none"`` when every level is used).
    """
    return {
        "n": len(rfm),
        "window": window_text(rfm),
        "once": (rfm["frequency"] == 1).mean(),
        "empty": ", ".join(str(s) for s in unused_scores(rfm, "F")) or "none",
    }


def as_percent(frame: pd.DataFrame, decimals: int = 1) -> pd.DataFrame:
    """A copy for display with every ``*_share`` column (a fraction) as a percentage.

    ``customer_share`` 0.1234 becomes ``customer %`` 12.3.
    """
    out = frame.copy()
    for col in [c for c in out.columns if str(c).endswith("_share")]:
        out[col] = (out[col] * 100).round(decimals)
        out = out.rename(columns={col: str(col)[: -len("_share")] + " %"})
    return out


__all__ = [
    "SEGMENT_TABLE_COLUMNS",
    "as_percent",
    "score_grid",
    "score_thresholds",
    "segment_table",
    "table_facts",
    "top_segment",
    "unused_scores",
    "window_text",
]
