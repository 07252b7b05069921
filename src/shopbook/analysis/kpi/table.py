"""The KPI table: each metric of :data:`~shopbook.analysis.kpi.definitions.METRICS` for
the window and the previous window, with the reason wherever one cannot be computed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from shopbook.analysis.kpi.definitions import METRICS
from shopbook.analysis.result import Result
from shopbook.features.funnel import COUNTS
from shopbook.features.periods import Window
from shopbook.i18n import _, translate


def conversion_ci(
    orders: int | np.ndarray,
    sessions: int | np.ndarray,
    alpha: float = 0.05,
    method: str = "wilson",
) -> tuple[Any, Any]:
    """Confidence interval of a conversion rate (statsmodels ``proportion_confint``).

    Parameters
    ----------
    orders, sessions
        Successes and trials (arrays allowed); ``sessions == 0`` or more successes than
        trials (not a proportion) gives NaN.
    alpha
        1 − confidence level.
    method
        Any method of :func:`statsmodels.stats.proportion.proportion_confint`.

    Returns
    -------
    (low, high)
    """
    n = np.asarray(sessions, dtype="float64")
    k = np.asarray(orders, dtype="float64")
    good = (n > 0) & (k <= n)
    lo, hi = proportion_confint(
        np.where(good, k, 0.0), np.where(good, n, 1.0), alpha=alpha, method=method
    )
    lo, hi = np.where(good, lo, np.nan), np.where(good, hi, np.nan)
    return (float(lo), float(hi)) if lo.ndim == 0 else (lo, hi)


def ratio(num: Any, den: Any) -> float:
    """``num / den`` as a float; NaN when the denominator is 0, missing or NaN."""
    if den is None or num is None or not np.isfinite(den) or den == 0:
        return np.nan
    return float(num) / float(den)


def roi(gross_profit: Any, spend: Any, uncosted_share: Any) -> tuple[float, str]:
    """ROI = (gross profit − spend) / spend and, when it is NaN, why.

    Gross profit is only known when every unit sold has a cost: with revenue without a
    unit cost (``uncosted_share > 0``) ROI is not computable — it is never replaced by
    revenue / spend (that is ROAS).
    """
    if spend is None or not spend > 0:
        return np.nan, _("no marketing spend")
    if gross_profit is None or uncosted_share is None:
        return np.nan, _("no order lines with unit costs: gross profit unknown")
    if np.isfinite(uncosted_share) and uncosted_share > 0:
        why = _("{share:.1%} of the revenue has no unit cost: gross profit unknown")
        return np.nan, why.format(share=uncosted_share)
    return (float(gross_profit) - float(spend)) / float(spend), ""


def _sales_metrics(w: Mapping[str, Any], v: dict[str, Any], why: dict[str, str]) -> None:
    """Results and users of one window (orders, lines, spend)."""
    v.update(
        gmv=w["gmv"],
        orders=w["orders"],
        aov=ratio(w["gmv"], w["orders"]),
        spend_per_buyer=ratio(w["gmv"], w["active"]),
        new_customers=w["new"],
        active_customers=w["active"],
        returning_customers=w["returning"],
        repurchase_rate=ratio(int(w["repeaters"] or 0), w["active"]),
        ltv=w["ltv"],
    )
    if not w["orders"]:
        for m in ("aov", "spend_per_buyer", "repurchase_rate"):
            why[m] = _("no paid orders in the window")
    if not np.isfinite(w["ltv"]):
        why["ltv"] = _("no cohort has {days} days of history by the window's end").format(
            days=w["ltv_days"]
        )
    if "previous_buyers" in w:
        v["churn_rate"] = 1.0 - ratio(w["retained"], w["previous_buyers"])
        if not w["previous_buyers"]:
            why["churn_rate"] = _("nobody bought in the window before")
    if "cogs" in w:
        v.update(gross_margin=w["margin"], gross_profit=w["gross_profit"])
    if "spend" in w:
        v.update(
            spend=w["spend"], cac=ratio(w["spend"], w["new"]), roas=ratio(w["gmv"], w["spend"])
        )
        if "cogs" in w:
            v["roi"], why["roi"] = roi(w["gross_profit"], w["spend"], w["uncosted_share"])
        else:
            v["roi"], why["roi"] = roi(None, w["spend"], None)
        for m in ("cac", "roas"):
            if not np.isfinite(v[m]):
                why[m] = (
                    _("no new customers") if m == "cac" and w["spend"] else _("no marketing spend")
                )


def _traffic_metrics(w: Mapping[str, Any], v: dict[str, Any], why: dict[str, str]) -> None:
    """Traffic, funnel and conversions of one window (sessions)."""
    for c in COUNTS:
        v[c] = int(w[c])
    cis = {}
    if "visitors" in w:
        v.update(uv=int(w["visitors"]), pv=int(w["pageviews"]))
        v["payment_conversion"] = ratio(w["active"], w["visitors"])
        cis["payment_conversion"] = conversion_ci(int(w["active"]), int(w["visitors"]))
    if "paid" in w:
        v["paid_sessions"] = int(w["paid"])
        v["session_conversion"] = ratio(w["paid"], w["sessions"])
        cis["session_conversion"] = conversion_ci(int(w["paid"]), int(w["sessions"]))
    for m in ("payment_conversion", "session_conversion"):
        if m in v and not np.isfinite(v[m]):
            why[m] = _("no sessions in the window")
    v["_ci"] = cis


def _window_metrics(w: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The KPI table's metrics of one window, and why any of them is NaN."""
    v: dict[str, Any] = {}
    why: dict[str, str] = {}
    _sales_metrics(w, v, why)
    if "sessions" in w:
        _traffic_metrics(w, v, why)
    if "stock_value" in w:
        value, cogs = w["stock_value"], w["cogs"]
        v["inventory_turnover"] = cogs / value if value and value > 0 else np.nan
        v["days_of_inventory"] = value / (cogs / w["days"]) if cogs and cogs > 0 else np.nan
    return v, why


def _kpi_notes(cur: Mapping[str, Any]) -> list[str]:
    """What was left out and why, revenue without cost, the LTV cohort."""
    notes = []
    if "cogs" not in cur:
        notes.append(
            _("no order_items table: margin, gross profit, ROI and inventory turnover are left out")
        )
    elif np.isfinite(cur.get("uncosted_share", np.nan)) and cur["uncosted_share"] > 0:
        notes.append(
            _(
                "{share:.1%} of the window's revenue has no unit cost; "
                "the margin covers the rest and ROI is not computable"
            ).format(share=cur["uncosted_share"])
        )
    if "spend" not in cur:
        notes.append(_("no marketing_spend table: spend, ROAS, ROI and CAC are left out"))
    if "sessions" not in cur:
        notes.append(
            _("no sessions table: UV, PV, the funnel, payment and session conversion are left out")
        )
    elif "paid" not in cur or "visitors" not in cur:
        notes.append(
            "the inputs have no traffic columns (visitors, pageviews, paid): pass "
            "shopbook.features.brief.brief_kpis for UV, PV and the conversions"
        )
    if "previous_buyers" not in cur:
        notes.append("churn needs shopbook.features.brief.brief_kpis: left out")
    if "stock_value" not in cur:
        notes.append(_("no inventory table (or no unit costs): inventory turnover is left out"))
    n, days = cur["ltv_customers"], cur["ltv_days"]
    a, b = cur["ltv_cohort_start"], cur["ltv_cohort_end"]
    if n:
        notes.append(
            _(
                "LTV: mean net spend in the first {days} days of the {n:,} customers acquired "
                "{a:%Y-%m-%d} to {b:%Y-%m-%d}"
            ).format(days=days, n=n, a=a, b=b)
        )
    else:
        notes.append(
            _(
                "LTV: no customer was acquired {a:%Y-%m-%d} to {b:%Y-%m-%d}, "
                "so no cohort has {days} days of history by the window's end"
            ).format(a=a, b=b, days=days)
        )
    return notes


#: The operators' KPIs a brief reports as headline figures, in order.
HEADLINES = ("payment_conversion", "session_conversion", "spend_per_buyer", "aov", "churn_rate")

#: Headline format per unit kind (money is rounded to cents, shares to basis points).
_FORMATS = {"money": (",.2f", 2), "share": (".2%", 4), "ratio": (".2f", 4), "count": (",.0f", 0)}


@dataclass(kw_only=True)
class KpiTable(Result):
    """The three-layer KPI table (``table``), its ``notes`` and the ``window``."""

    window: Window | None = None

    def headline_figures(self, currency: str = "") -> list[dict[str, Any]]:
        """The :data:`HEADLINES` the table has a value for, as ``headline(**h)`` keywords.

        Parameters
        ----------
        currency
            The unit of money figures.

        Returns
        -------
        list of dict
            ``name``, ``value`` (rounded: engine sums differ in the last bits between
            runs), ``unit``, ``fmt``, ``label``; metrics left out or NaN are not listed
            (the table's notes say why).
        """
        t = self.table.set_index("metric") if len(self.table) else pd.DataFrame()
        out = []
        for name in HEADLINES:
            if name not in t.index or not np.isfinite(t.loc[name, "value"]):
                continue
            unit = t.loc[name, "unit"]
            fmt, digits = _FORMATS[unit]
            out.append(
                {
                    "name": name,
                    "value": round(float(t.loc[name, "value"]), digits),
                    "unit": currency if unit == "money" else None,
                    "fmt": fmt,
                    "label": translate(t.loc[name, "label"]),
                }
            )
        return out


def kpi_table(values: pd.DataFrame) -> KpiTable:
    """The three-layer KPI table: the window against the previous window.

    Parameters
    ----------
    values
        :func:`shopbook.features.brief.brief_kpis` output (or
        :func:`shopbook.features.sales.window_kpis`', without UV, PV, the conversions
        and churn): rows ``current`` and ``previous`` with ``start``, ``end``, ``days``,
        ``gmv``, ``orders``, ``active``, ``new``, ``returning``, ``repeaters``, ``ltv``,
        ``ltv_customers``, ``ltv_days``, ``ltv_cohort_start``, ``ltv_cohort_end``,
        ``previous_buyers``, ``retained`` and, when their tables were given, the margin
        columns (``cogs``, ``margin``, ``gross_profit``, ``uncosted_share``), ``spend``,
        the funnel counts with ``visitors``, ``pageviews``, ``paid``, and
        ``stock_value``. A missing column leaves its metrics out and says so in the
        notes.

    Returns
    -------
    KpiTable
        ``table``: one row per available metric of
        :data:`~shopbook.analysis.kpi.definitions.METRICS`, in its order: ``layer``,
        ``metric``, ``label``, ``unit``, ``value``, ``previous``, ``change``,
        ``change_pct``, ``ci_low``, ``ci_high`` (the two conversions: Wilson 95 %) and
        ``note`` (why the value is NaN, empty otherwise). ``notes``: what was left out
        and why, revenue without cost, the LTV cohort. ``window``.
    """
    cur_row, prev_row = values.loc["current"].to_dict(), values.loc["previous"].to_dict()
    (cur, why), (prev, _) = _window_metrics(cur_row), _window_metrics(prev_row)
    rows = []
    for m in METRICS:
        if m.name not in cur:
            continue
        v, p = cur[m.name], prev[m.name]
        v = float(v) if v is not None else np.nan
        p = float(p) if p is not None else np.nan
        lo, hi = cur.get("_ci", {}).get(m.name, (np.nan, np.nan))
        rows.append(
            {
                "layer": m.layer,
                "metric": m.name,
                "label": m.label,
                "unit": m.unit,
                "value": v,
                "previous": p,
                "change": v - p,
                "change_pct": (v - p) / abs(p) if p else np.nan,
                "ci_low": lo,
                "ci_high": hi,
                "note": why.get(m.name, "") if not np.isfinite(v) else "",
            }
        )
    window = Window(cur_row["start"], cur_row["end"], prev_row["start"], prev_row["end"])
    return KpiTable(table=pd.DataFrame(rows), notes=_kpi_notes(cur_row), window=window)


__all__ = ["HEADLINES", "KpiTable", "conversion_ci", "kpi_table", "ratio", "roi"]
