"""The channel table: traffic, funnel, both conversions, CAC, ROAS and ROI per channel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopbook.analysis.kpi.table import conversion_ci, roi
from shopbook.analysis.result import Result
from shopbook.features.funnel import COUNTS

#: Feature column → the channel table's metric name (:data:`~.definitions.METRICS`).
RENAMES = {"visitors": "uv", "pageviews": "pv", "paid": "paid_sessions"}
#: The channel table's traffic and funnel columns, in display order.
FUNNEL_COLUMNS = (
    "channel",
    "uv",
    "pv",
    *COUNTS,
    "paid_sessions",
    "customers",
    "payment_conversion",
    "session_conversion",
    "conv_low",
    "conv_high",
)
#: The channel table's spend columns, in display order.
SPEND_COLUMNS = (
    "channel",
    "spend",
    "new_customers",
    "cac",
    "gmv",
    "gross_profit",
    "roas",
    "roi",
    "roi_note",
)


@dataclass(kw_only=True)
class ChannelTable(Result):
    """Traffic, funnel, conversions, CAC, ROAS and ROI per channel (``table``).

    Sections: ``"funnel"`` and ``"conversion"`` (need sessions; conversion also needs
    sessions in the window), ``"roi"`` (the spend table: needs marketing spend in the
    window), ``"top_roi"`` (needs a channel with an ROI, i.e. spend and fully costed
    revenue) and ``"top_roas"`` (needs a channel with spend).
    """

    def best_and_worst(self) -> tuple[pd.Series, pd.Series]:
        """The channels with the highest and the lowest session conversion (first on ties)."""
        t = self.table
        c = t["session_conversion"]
        return t.loc[c.idxmax()], t.loc[c.idxmin()]

    def top_roi(self) -> pd.Series:
        """The channel with the highest ROI (first on ties)."""
        return self.table.loc[self.table["roi"].idxmax()]

    def columns(self, which: str) -> list[str]:
        """The table's ``"funnel"`` or ``"spend"`` columns that it has, in display order."""
        want = {"funnel": FUNNEL_COLUMNS, "spend": SPEND_COLUMNS}[which]
        return [c for c in want if c in self.table]

    def loss_making(self) -> pd.DataFrame:
        """The channels whose ROI is below 0: their gross profit did not pay the spend back."""
        return self.table[self.table["roi"] < 0] if "roi" in self.table else self.table.iloc[:0]

    def top_roas(self) -> pd.Series:
        """The channel with the highest ROAS (first on ties)."""
        return self.table.loc[self.table["roas"].idxmax()]


def _spend_metrics(out: pd.DataFrame, r: ChannelTable) -> None:
    """Add ``cac``, ``roas``, ``roi`` and ``roi_note`` to a channel frame with ``spend``."""
    spend = out["spend"].fillna(0.0)
    out["spend"] = spend
    pos = spend.where(spend > 0)
    out["cac"] = spend / out["new_customers"].where(out["new_customers"] > 0)
    out["roas"] = out["gmv"] / pos
    costed = "gross_profit" in out
    found = [
        roi(
            row["gross_profit"] if costed else None,
            row["spend"],
            row["uncosted_share"] if costed else None,
        )
        for _, row in out.iterrows()
    ]
    out["roi"] = [v for v, _ in found]
    out["roi_note"] = [why if not np.isfinite(v) else "" for v, why in found]
    missing = out[(out["spend"] > 0) & out["roi"].isna()]
    if len(missing):
        r.note(
            "ROI is not computable for "
            + "; ".join(
                f"{c} ({why})"
                for c, why in zip(missing["channel"], missing["roi_note"], strict=True)
            )
            + " — ROAS (revenue / spend) is shown, and it is not ROI"
        )


def channel_table(channels: pd.DataFrame) -> ChannelTable:
    """Traffic, funnel, payment and session conversion, CAC, ROAS and ROI per channel.

    Parameters
    ----------
    channels
        :func:`shopbook.features.sales.channel_kpis` output: ``channel``, ``orders``,
        ``gmv``, ``customers`` (paying buyers), ``new_customers``; with sessions the
        funnel counts ``sessions`` … ``order``, ``paid``, ``visitors``, ``pageviews``;
        with spend ``spend``; with order lines ``gross_profit`` and ``uncosted_share``.

    Returns
    -------
    ChannelTable
        ``table``: the input columns (``visitors``, ``pageviews``, ``paid`` renamed
        ``uv``, ``pv``, ``paid_sessions``); with sessions ``session_conversion``
        (sessions with a paid order / sessions) with its Wilson 95 % ``conv_low`` /
        ``conv_high`` and ``payment_conversion`` (paying buyers / UV of the channel);
        with spend ``cac`` (spend / new customers), ``roas`` (GMV / spend), ``roi``
        ((gross profit − spend) / spend; NaN where the channel has no spend or revenue
        without a unit cost, the reason in ``roi_note``). Sorted by channel.
    """
    out = channels.rename(columns=RENAMES)
    r = ChannelTable()
    if "sessions" in out:
        n = out["sessions"].where(out["sessions"] > 0)
        out["session_conversion"] = out["paid_sessions"] / n
        out["conv_low"], out["conv_high"] = conversion_ci(
            out["paid_sessions"].to_numpy(), out["sessions"].to_numpy()
        )
        out["payment_conversion"] = out["customers"] / out["uv"].where(out["uv"] > 0)
        if not out["session_conversion"].notna().any():
            r.skip("no sessions in the window", "conversion")
    else:
        r.skip("the source has no sessions table", "funnel")
        r.skip("the source has no sessions table", "conversion")
    if "spend" in out:
        _spend_metrics(out, r)
        if not out["spend"].sum() > 0:
            r.skip("no marketing spend in the window", "roi")
        if not out["roas"].notna().any():
            r.skip("no channel has marketing spend", "top_roas")
        if not out["roi"].notna().any():
            why = "no channel has an ROI"
            notes = [w for w in out["roi_note"] if w and w != "no marketing spend"]
            r.skip(f"{why}: {notes[0]}" if notes else why, "top_roi")
    else:
        for section in ("roi", "top_roi", "top_roas"):
            r.skip("the source has no marketing_spend table", section)
    r.table = out.sort_values("channel", ignore_index=True)
    return r


__all__ = ["FUNNEL_COLUMNS", "RENAMES", "SPEND_COLUMNS", "ChannelTable", "channel_table"]
