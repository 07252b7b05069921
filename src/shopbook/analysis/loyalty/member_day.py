"""The member day (会员日): the lift of daily orders on the programme's weekday.

Daily purchases are fitted by a quasi-Poisson GLM: log E[orders] = weekday + month +
member day, on the days outside the shop calendar's festivals (the calendar of the
trend notebook, :func:`shopbook.analysis.trend.event_list`). The member-day indicator is
1 on the programme's weekday from its first day, so the lift is measured against the
same weekday before the programme and the other weekdays of the same months (a
difference in differences); ``exp(β) − 1`` with its 95 % interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf

from shopbook.analysis.result import Result
from shopbook.i18n import _

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def weekday_number(day: int | str) -> int:
    """0 (Monday) … 6 from ``"Wed"``, ``"wednesday"`` or a number."""
    if isinstance(day, str):
        key = day.strip().lower()[:3]
        names = [w.lower() for w in WEEKDAYS]
        if key in names:
            return names.index(key)
        day = int(key)
    if not 0 <= int(day) <= 6:
        raise ValueError(f"member day {day!r}: 0 (Monday) … 6 (Sunday)")
    return int(day)


def festival_days(events: list[dict[str, Any]]) -> set[pd.Timestamp]:
    """The days of the calendar's events (their own ``post`` window included), except the
    member and new-product days themselves."""
    out: set[pd.Timestamp] = set()
    for ev in events:
        if ev.get("name") in ("member day", "new product day"):
            continue
        end = pd.Timestamp(ev["end"]) + pd.Timedelta(days=int(ev.get("post") or 0))
        out |= set(pd.date_range(pd.Timestamp(ev["start"]), end, freq="D"))
    return out


def member_day_lift(
    daily: pd.DataFrame,
    weekday: int | str,
    since: Any,
    events: list[dict[str, Any]] | None = None,
    metric: str = "orders",
    level: float = 0.95,
    min_days: int = 8,
) -> Result:
    """The member day's lift on daily ``metric``, with an interval.

    Parameters
    ----------
    daily
        ``period`` (day) and ``metric`` (e.g. :func:`shopbook.features.sales.kpis` by day).
    weekday, since
        The member day's weekday and the programme's first day.
    events
        The shop calendar's events; their days are left out.
    min_days
        Fewest member days (and same weekdays before) needed.

    Returns
    -------
    Result
        ``table``: one row ``weekday, since, member_days, before_days, lift, ci_low,
        ci_high, p_value``; skipped when the programme has too few days on either side.
    """
    wd = weekday_number(weekday)
    d = daily[["period", metric]].copy()
    d["period"] = pd.to_datetime(d["period"]).dt.normalize()
    full = pd.date_range(d["period"].min(), d["period"].max(), freq="D")
    d = d.set_index("period").reindex(full, fill_value=0).rename_axis("period").reset_index()
    start = pd.Timestamp(since).normalize()
    skip = festival_days(events or [])
    d = d[~d["period"].isin(skip)]
    d["dow"] = d["period"].dt.dayofweek
    d["month"] = d["period"].dt.strftime("%Y-%m")
    d["member"] = ((d["dow"] == wd) & (d["period"] >= start)).astype(float)
    n_on = int(d["member"].sum())
    n_before = int(((d["dow"] == wd) & (d["period"] < start)).sum())
    if n_on < min_days or n_before < min_days:
        return Result.skipped(
            _(
                "the member day needs {m} days on and {m} of its weekday before it started; "
                "the data hold {on} and {before}"
            ).format(m=min_days, on=n_on, before=n_before)
        )
    d = d.rename(columns={metric: "y"})
    fit = smf.glm("y ~ C(dow) + C(month) + member", data=d, family=sm.families.Poisson()).fit(
        scale="X2"
    )
    b, se = float(fit.params["member"]), float(fit.bse["member"])
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    row = {
        "weekday": WEEKDAYS[wd],
        "since": start.date(),
        "member_days": n_on,
        "before_days": n_before,
        "lift": float(np.exp(b) - 1),
        "ci_low": float(np.exp(b - z * se) - 1),
        "ci_high": float(np.exp(b + z * se) - 1),
        "p_value": float(fit.pvalues["member"]),
    }
    res = Result(table=pd.DataFrame([row]))
    if skip:
        res.note(
            _("{n} festival days of the shop calendar are left out.").format(
                n=int(pd.Index(sorted(skip)).isin(full).sum())
            )
        )
    return res
