"""What the data can say about spend: which channels the response model can fit, and the
caveats a reader must see (spend that barely varies, channels whose spend moves together).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.i18n import _

__all__ = [
    "CORRELATED",
    "LOW_VARIATION",
    "MIN_DAYS",
    "ModelChannels",
    "caveats",
    "model_channels",
    "spend_correlation",
    "spend_variation",
]

#: Fewest days of spend and intake a response curve is fitted on.
MIN_DAYS = 56
#: A channel's spend "barely varies" below this coefficient of variation of weekly spend.
LOW_VARIATION = 0.15
#: Two channels' weekly spend "moves together" at or above this correlation.
CORRELATED = 0.7


@dataclass(kw_only=True)
class ModelChannels(Result):
    """The channels of the response model: ``paid`` (spend modelled) and ``organic``.

    ``table``: one row per channel — ``channel``, ``spend``, ``new_customers``,
    ``orders``, ``role`` (``paid``, ``organic`` or ``left out``) and ``reason``.
    """

    paid: list[str] = field(default_factory=list)
    organic: list[str] = field(default_factory=list)


def model_channels(
    days: pd.DataFrame, outcome: str = "new_customers", min_days: int = MIN_DAYS
) -> ModelChannels:
    """Which channels a response model can fit, and why the others cannot.

    Parameters
    ----------
    days
        :func:`shopbook.features.budget.channel_days` output (``date``, ``channel``,
        ``spend``, ``orders`` and ``outcome``).
    outcome
        The count the model explains.
    min_days
        Fewest days needed.

    Returns
    -------
    ModelChannels
        Skipped (the whole result) when there are fewer than ``min_days`` days, fewer
        than two channels with intake, or no channel whose spend varies and has orders.
        A channel with spend but no purchase through it, or with constant spend, is left
        out of the curves with the reason (the latter still counts as organic intake).
    """
    r = ModelChannels()
    if days.empty:
        return r.skip(_("no days with spend or orders in the window"))
    per = days.groupby("channel").agg(
        spend=("spend", "sum"),
        new_customers=(outcome, "sum"),
        orders=("orders", "sum"),
        spread=("spend", "std"),
        mean=("spend", "mean"),
    )
    roles, reasons = [], []
    for _c, row in per.iterrows():
        if row["spend"] > 0 and row["orders"] == 0:
            role, why = "left out", _("spend but no purchase through the channel")
        elif row["new_customers"] == 0:
            role, why = "left out", _("no new customer through the channel")
        elif row["spend"] <= 0:
            role, why = "organic", _("no spend: intake without a spend term")
        elif not row["spread"] > 1e-9 * max(row["mean"], 1.0):
            role, why = "organic", _("constant spend: a constant identifies no curve")
        else:
            role, why = "paid", ""
        roles.append(role)
        reasons.append(why)
    per = per.assign(role=roles, reason=reasons).reset_index()
    r.table = per[["channel", "spend", "new_customers", "orders", "role", "reason"]]
    r.paid = per.loc[per["role"] == "paid", "channel"].tolist()
    r.organic = per.loc[per["role"] == "organic", "channel"].tolist()
    n_days = days["date"].nunique()
    if n_days < min_days:
        r.skip(_("{n} days of data: the curves need at least {m}").format(n=n_days, m=min_days))
    elif len(r.paid) + len(r.organic) < 2:
        r.skip(
            _(
                "only one channel has new customers: the model tells spend from the day's "
                "demand by comparing channels, so it needs two (one may be unpaid)"
            )
        )
    elif not r.paid:
        left = per[per["role"] != "paid"]
        r.skip(
            _("no channel has varying spend and orders ({why})").format(
                why="; ".join(
                    f"{c}: {w}" for c, w in zip(left["channel"], left["reason"], strict=True)
                )
            )
        )
    for _i, row in per[per["role"] == "left out"].iterrows():
        r.note(_("{channel} is left out: {why}").format(channel=row["channel"], why=row["reason"]))
    return r


def _weekly(days: pd.DataFrame, channels: list[str] | None = None) -> pd.DataFrame:
    w = days.pivot_table(index="date", columns="channel", values="spend", aggfunc="sum")
    w = w.resample("W-SUN").sum()
    full = days.groupby(pd.Grouper(key="date", freq="W-SUN"))["date"].nunique()
    w = w[full.reindex(w.index).fillna(0) == 7]  # whole weeks only
    return w[channels] if channels is not None else w


def spend_variation(days: pd.DataFrame, channels: list[str] | None = None) -> pd.DataFrame:
    """How much each channel's weekly spend varies.

    Parameters
    ----------
    days
        :func:`shopbook.features.budget.channel_days` output (``date``, ``channel``, ``spend``).
    channels
        The channels to report (default: every channel with spend).

    Returns
    -------
    pandas.DataFrame
        ``channel``, ``weeks`` (whole weeks), ``mean_week`` and ``sd_week`` (CNY),
        ``cv`` (their ratio), ``low_variation`` (``cv`` below :data:`LOW_VARIATION`).
    """
    w = _weekly(days, channels)
    w = w.loc[:, w.sum() > 0]
    mean, sd = w.mean(), w.std(ddof=1)
    cv = sd / mean.where(mean > 0)
    return pd.DataFrame(
        {
            "channel": w.columns,
            "weeks": len(w),
            "mean_week": mean.to_numpy(),
            "sd_week": sd.to_numpy(),
            "cv": cv.to_numpy(),
            "low_variation": (cv < LOW_VARIATION).to_numpy(),
        }
    ).reset_index(drop=True)


def spend_correlation(days: pd.DataFrame, channels: list[str] | None = None) -> pd.DataFrame:
    """Correlation of weekly spend between every pair of channels with spend.

    Returns
    -------
    pandas.DataFrame
        ``channel``, ``other``, ``correlation`` (Pearson, whole weeks) and ``together``
        (at least :data:`CORRELATED`), strongest first.
    """
    w = _weekly(days, channels)
    w = w.loc[:, w.std(ddof=1) > 0]
    corr = w.corr()
    rows = [
        (a, b, float(corr.loc[a, b]))
        for i, a in enumerate(corr.columns)
        for b in corr.columns[i + 1 :]
    ]
    out = pd.DataFrame(rows, columns=["channel", "other", "correlation"])
    out["together"] = out["correlation"].abs() >= CORRELATED
    return out.sort_values("correlation", key=np.abs, ascending=False, ignore_index=True)


def caveats(days: pd.DataFrame, channels: list[str] | None = None) -> Result:
    """The caveats in plain words: which channels' spend barely varies or moves together.

    Returns
    -------
    Result
        ``table``: :func:`spend_variation`; ``notes``: one sentence per caveat (or one
        saying there is none). Skipped when no channel has spend.
    """
    var = spend_variation(days, channels)
    r = Result(table=var)
    if var.empty:
        return r.skip(_("no channel has spend in whole weeks of the window"))
    low = var[var["low_variation"]]
    if len(low):
        r.note(
            _(
                "Spend barely varies on {channels} (weekly spend varies by less than {t:.0%}): "
                "its curve rests on little and its interval says so."
            ).format(channels=", ".join(low["channel"]), t=LOW_VARIATION)
        )
    pairs = spend_correlation(days, channels)
    together = pairs[pairs["together"]]
    for _i, p in together.iterrows():
        r.note(
            _(
                "{a} and {b} spend together (weekly correlation {r:.2f}): their effects are "
                "hard to tell apart."
            ).format(a=p["channel"], b=p["other"], r=p["correlation"])
        )
    if not len(low) and not len(together):
        top = pairs.iloc[0] if len(pairs) else None
        r.note(
            _(
                "Every channel's spend varies, and no two channels' spend moves together "
                "(strongest weekly correlation {r:.2f})."
            ).format(r=0.0 if top is None else top["correlation"])
        )
    return r
