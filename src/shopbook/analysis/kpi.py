"""The KPI brief: a three-layer indicator table for a window vs the previous window,
channel CAC / ROI, conversion intervals and drop alerts — on small frames.

The engine work is in :mod:`shopbook.features`: :func:`shopbook.features.sales.window_kpis`
collects a window's sales, buyers, LTV cohort, margin, spend, funnel counts and stock
value (and the same for the previous window); :func:`shopbook.features.sales.channel_kpis`
the same per channel; :func:`shopbook.features.funnel.funnel` the daily sessions per
channel. This module turns those small frames into the brief's tables; each returns a
:class:`~shopbook.analysis.result.Result`.

Layers
------
* **results** — GMV (net amount of paid orders), orders, AOV, gross margin (from
  ``order_items.unit_cost``; the share of revenue without a cost is reported), marketing
  spend and CAC (spend / new customers).
* **users** — new customers (first paid order ever in the window), active customers
  (at least one paid order in it), returning customers (active − new), repurchase rate
  (share of active customers with two or more paid orders in the window) and LTV
  (historical: mean net spend in the first ``ltv_days`` after the first order, of the
  customers acquired in the ``cohort_days`` that ended ``ltv_days`` before the window's
  end — a cohort whose whole LTV horizon is observed).
* **operations** — sessions, funnel stages, conversion (orders from sessions /
  sessions, Wilson 95 % interval), inventory turnover (COGS / average stock value at
  cost, over the window, not annualised) and days of inventory.

Every metric is computed for the window and for the previous window of the same length
(immediately before it); ``change`` is the difference and ``change_pct`` the relative
change. Sections whose tables are missing are left out and named in the result's
``notes``.

Alerts
------
:func:`alerts` flags a channel whose traffic (sessions) or conversion in the window fell
below its own trailing baseline by more than noise explains. The baseline is the
``baseline_days`` before the window, cut into blocks as long as the window; the
block-to-block variation gives an over-dispersion factor φ ≥ 1 (quasi-Poisson for
counts, quasi-binomial for conversion), so weekly seasonality and ordinary wobble do not
raise alarms. A channel is flagged when the one-sided p-value of the drop is below
``alpha`` **and** the relative drop is at least ``min_drop``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from shopbook.analysis.result import Result
from shopbook.features.funnel import COUNTS
from shopbook.features.periods import Window, resolve_window

# ------------------------------------------------------------------------- helpers


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
        Successes and trials (arrays allowed); ``sessions == 0`` gives NaN.
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
    safe = np.where(n > 0, n, 1.0)
    lo, hi = proportion_confint(k, safe, alpha=alpha, method=method)
    lo, hi = np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)
    return (float(lo), float(hi)) if lo.ndim == 0 else (lo, hi)


#: (layer, metric, label, unit kind) of the KPI table, in order.
ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("results", "gmv", "GMV (net, paid orders)", "money"),
    ("results", "orders", "Paid orders", "count"),
    ("results", "aov", "Average order value", "money"),
    ("results", "gross_margin", "Gross margin (of revenue with a cost)", "share"),
    ("results", "gross_profit", "Gross profit", "money"),
    ("results", "spend", "Marketing spend", "money"),
    ("results", "cac", "CAC (spend per new customer)", "money"),
    ("users", "new_customers", "New customers", "count"),
    ("users", "active_customers", "Active customers", "count"),
    ("users", "returning_customers", "Returning customers", "count"),
    ("users", "repurchase_rate", "Repurchase rate (2+ orders in the window)", "share"),
    ("users", "ltv", "LTV (historical)", "money"),
    ("operations", "sessions", "Sessions", "count"),
    ("operations", "product_view", "Sessions with a product view", "count"),
    ("operations", "cart", "Sessions with an add to cart", "count"),
    ("operations", "checkout", "Sessions reaching checkout", "count"),
    ("operations", "conversion", "Conversion (orders per session)", "share"),
    ("operations", "inventory_turnover", "Inventory turnover (COGS / avg stock at cost)", "ratio"),
    ("operations", "days_of_inventory", "Days of inventory", "days"),
)


# ---------------------------------------------------------------------- KPI table


def _window_metrics(w: Mapping[str, Any]) -> dict[str, Any]:
    """The KPI table's metrics of one window from its :func:`window_kpis` row."""
    v: dict[str, Any] = dict(
        gmv=w["gmv"],
        orders=w["orders"],
        aov=w["gmv"] / w["orders"] if w["orders"] else np.nan,
        new_customers=w["new"],
        active_customers=w["active"],
        returning_customers=w["returning"],
        repurchase_rate=(int(w["repeaters"] or 0) / w["active"]) if w["active"] else np.nan,
        ltv=w["ltv"],
    )
    if "cogs" in w:
        v.update(
            gross_margin=w["margin"],
            gross_profit=w["gross_profit"],
            uncosted_share=w["uncosted_share"],
        )
    if "spend" in w:
        v.update(spend=w["spend"], cac=w["spend"] / w["new"] if w["new"] else np.nan)
    if "sessions" in w:
        for c in COUNTS:
            v[c] = int(w[c])
        v["conversion"] = w["order"] / w["sessions"] if w["sessions"] else np.nan
        v["_conv_ci"] = conversion_ci(int(w["order"]), int(w["sessions"]))
    if "stock_value" in w:
        value, cogs = w["stock_value"], w["cogs"]
        v["inventory_turnover"] = cogs / value if value and value > 0 else np.nan
        v["days_of_inventory"] = value / (cogs / w["days"]) if cogs and cogs > 0 else np.nan
    return v


def _kpi_notes(cur: Mapping[str, Any], metrics: Mapping[str, Any]) -> list[str]:
    """What was left out and why, revenue without cost, the LTV cohort."""
    notes = []
    if "cogs" not in cur:
        notes.append(
            "no order_items table: margin, gross profit and inventory turnover are left out"
        )
    elif np.isfinite(metrics.get("uncosted_share", np.nan)) and metrics["uncosted_share"] > 0:
        notes.append(
            f"{metrics['uncosted_share']:.1%} of the window's revenue has no unit cost; "
            "the margin covers the rest"
        )
    if "spend" not in cur:
        notes.append("no marketing_spend table: spend and CAC are left out")
    if "sessions" not in cur:
        notes.append("no sessions table: funnel and conversion are left out")
    if "stock_value" not in cur:
        notes.append("no inventory table (or no unit costs): inventory turnover is left out")
    n, days = cur["ltv_customers"], cur["ltv_days"]
    a, b = cur["ltv_cohort_start"], cur["ltv_cohort_end"]
    if n:
        notes.append(
            f"LTV: mean net spend in the first {days} days of the {n:,} customers acquired "
            f"{a:%Y-%m-%d} to {b:%Y-%m-%d}"
        )
    else:
        notes.append(
            f"LTV: no customer was acquired {a:%Y-%m-%d} to {b:%Y-%m-%d}, "
            f"so no cohort has {days} days of history by the window's end"
        )
    return notes


@dataclass(kw_only=True)
class KpiTable(Result):
    """The three-layer KPI table (``table``), its ``notes`` and the ``window``."""

    window: Window | None = None


def kpi_table(values: pd.DataFrame) -> KpiTable:
    """The three-layer KPI table: the window against the previous window.

    Parameters
    ----------
    values
        :func:`shopbook.features.sales.window_kpis` output: rows ``current`` and
        ``previous`` with ``start``, ``end``, ``days``, ``gmv``, ``orders``, ``active``,
        ``new``, ``returning``, ``repeaters``, ``ltv``, ``ltv_customers``, ``ltv_days``,
        ``ltv_cohort_start``, ``ltv_cohort_end`` and, when their tables were given, the
        margin columns (``cogs``, ``margin``, ``gross_profit``, ``uncosted_share``),
        ``spend``, the funnel counts and ``stock_value``. A missing column leaves its
        metrics out and says so in the notes.

    Returns
    -------
    KpiTable
        ``table``: one row per available metric: ``layer``, ``metric``, ``label``,
        ``unit`` (money/count/share/ratio/days), ``value``, ``previous``, ``change``,
        ``change_pct``, ``ci_low``, ``ci_high`` (conversion only). ``notes``: what was
        left out and why, revenue without cost, the LTV cohort. ``window``.
    """
    cur_row, prev_row = values.loc["current"].to_dict(), values.loc["previous"].to_dict()
    cur, prev = _window_metrics(cur_row), _window_metrics(prev_row)
    rows = []
    for layer, metric, label, unit in ROWS:
        if metric not in cur:
            continue
        v, p = cur[metric], prev[metric]
        v = float(v) if v is not None else np.nan
        p = float(p) if p is not None else np.nan
        lo, hi = cur["_conv_ci"] if metric == "conversion" else (np.nan, np.nan)
        rows.append(
            {
                "layer": layer,
                "metric": metric,
                "label": label,
                "unit": unit,
                "value": v,
                "previous": p,
                "change": v - p,
                "change_pct": (v - p) / abs(p) if p else np.nan,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    window = Window(cur_row["start"], cur_row["end"], prev_row["start"], prev_row["end"])
    return KpiTable(table=pd.DataFrame(rows), notes=_kpi_notes(cur_row, cur), window=window)


# ---------------------------------------------------------------- channel table


@dataclass(kw_only=True)
class ChannelTable(Result):
    """Funnel, conversion, CAC and ROI per channel (``table``).

    Sections: ``"funnel"`` and ``"conversion"`` (need sessions; conversion also needs
    sessions in the window), ``"roi"`` (needs marketing spend in the window) and
    ``"top_roi"`` (needs a channel with an ROI).
    """

    roi_basis: str | None = None

    def best_and_worst(self) -> tuple[pd.Series, pd.Series]:
        """The channels with the highest and the lowest conversion (first on ties)."""
        t = self.table
        return t.loc[t["conversion"].idxmax()], t.loc[t["conversion"].idxmin()]

    def top_roi(self) -> pd.Series:
        """The channel with the highest ROI (first on ties)."""
        return self.table.loc[self.table["roi"].idxmax()]


def _roi(out: pd.DataFrame) -> str:
    """Add ``cac``, ``roi`` and ``roas`` to a channel frame with ``spend``; the ROI basis."""
    spend = out["spend"].fillna(0.0)
    out["spend"] = spend
    pos = spend.where(spend > 0)
    out["cac"] = spend / out["new_customers"].where(out["new_customers"] > 0)
    if "gross_profit" in out and (out["uncosted_share"].fillna(0) == 0).all():
        basis = "gross profit"
        out["roi"] = out["gross_profit"] / pos
    else:
        basis = "GMV"
        out["roi"] = out["gmv"] / pos
    out["roas"] = out["gmv"] / pos
    return basis


def channel_table(channels: pd.DataFrame) -> ChannelTable:
    """Funnel, conversion, CAC and ROI per channel in the window.

    Parameters
    ----------
    channels
        :func:`shopbook.features.sales.channel_kpis` output: ``channel``, ``orders``,
        ``gmv``, ``customers``, ``new_customers``; with sessions the funnel counts
        ``sessions`` … ``order``; with spend ``spend``; with order lines
        ``gross_profit`` and ``uncosted_share``.

    Returns
    -------
    ChannelTable
        ``table``: the input columns; with sessions ``conversion`` and its Wilson 95 %
        ``conv_low`` / ``conv_high``; with spend ``cac`` (spend / new customers) and
        ``roi`` = return / spend where the return is gross profit when every channel's
        revenue has costs, else GMV (``roi_basis`` says which); ``roas`` = GMV / spend.
        Sorted by channel.
    """
    out = channels.copy()
    r = ChannelTable()
    if "sessions" in out:
        out["conversion"] = out["order"] / out["sessions"].where(out["sessions"] > 0)
        out["conv_low"], out["conv_high"] = conversion_ci(
            out["order"].to_numpy(), out["sessions"].to_numpy()
        )
        if not out["conversion"].notna().any():
            r.skip("no sessions in the window", "conversion")
    else:
        r.skip("the source has no sessions table", "funnel")
        r.skip("the source has no sessions table", "conversion")
    if "spend" in out:
        r.roi_basis = _roi(out)
        if not out["spend"].sum() > 0:
            r.skip("no marketing spend in the window", "roi")
        if not out["roi"].notna().any():
            r.skip("no channel has a return on spend", "top_roi")
    else:
        r.skip("the source has no marketing_spend table", "roi")
        r.skip("the source has no marketing_spend table", "top_roi")
    r.table = out.sort_values("channel", ignore_index=True)
    return r


# ------------------------------------------------------------------------- alerts


def _quasi_binomial(
    o_b: np.ndarray, n_b: np.ndarray, x: float, n: float
) -> tuple[float, float, float, str]:
    """Baseline rate, over-dispersion φ, z of the window's rate ``x / n`` and a note."""
    N = n_b.sum()
    p0 = o_b.sum() / N
    ok = n_b > 0
    phi, why = 1.0, ""
    if ok.sum() >= 3 and 0 < p0 < 1:
        chi2 = ((o_b[ok] - n_b[ok] * p0) ** 2 / (n_b[ok] * p0 * (1 - p0))).sum()
        phi = max(1.0, chi2 / (ok.sum() - 1))
    else:
        why = "; fewer than 3 baseline blocks: binomial noise only (φ = 1)"
    if not 0 < p0 < 1:
        return p0, phi, np.nan, why
    se = np.sqrt(phi * p0 * (1 - p0) * (1 / n + 1 / N))
    return p0, phi, (x / n - p0) / se, why


def _conversion_test(win: pd.Series, base: pd.DataFrame) -> dict[str, Any]:
    """Quasi-binomial test of the window's conversion against the baseline blocks."""
    n_b, o_b = base["sessions"].to_numpy(float), base["order"].to_numpy(float)
    n, x = float(win["sessions"]), float(win["order"])
    if n_b.sum() == 0 or n == 0:
        where = "no sessions in the baseline" if n_b.sum() == 0 else "no sessions in the window"
        return {"reason": where + ": conversion cannot be compared"}
    p0, phi, z, why = _quasi_binomial(o_b, n_b, x, n)
    change = (x / n) / p0 - 1 if p0 > 0 else np.nan
    return dict(value=x / n, expected=p0, change=change, z=z, phi=phi, why=why)


def _share_test(
    win: pd.Series, base: pd.DataFrame, totals: pd.DataFrame, blocks: list[int], metric: str
) -> dict[str, Any]:
    """Quasi-binomial test of the group's share of all groups' ``metric``."""
    o_b, x = base[metric].to_numpy(float), float(win[metric])
    n_b = totals.reindex(blocks, fill_value=0)[metric].to_numpy(float)
    n = float(totals[metric].get(-1, 0))
    if o_b.sum() == 0 or n == 0:
        if n == 0 and o_b.sum() > 0:
            reason = f"no {metric} at all in the window (every group): check the tracking"
            return dict(value=x, expected=o_b.mean(), change_pct=-1.0, alert=True, reason=reason)
        where = (
            f"no {metric} in the baseline"
            if o_b.sum() == 0
            else f"no {metric} at all in the window"
        )
        return {"value": x, "reason": where}
    p0, phi, z, why = _quasi_binomial(o_b, n_b, x, n)
    return dict(value=x, expected=p0 * n, change=(x / n) / p0 - 1, z=z, phi=phi, why=why)


def _count_test(win: pd.Series, base: pd.DataFrame, metric: str) -> dict[str, Any]:
    """Quasi-Poisson test of the group's raw ``metric`` count."""
    b, x = base[metric].to_numpy(float), float(win[metric])
    mu = b.mean()
    if mu == 0:
        return dict(
            value=x, expected=0.0, reason=f"no {metric} in the baseline: nothing to compare"
        )
    why = ""
    phi = max(1.0, ((b - mu) ** 2 / mu).sum() / (len(b) - 1)) if len(b) >= 3 else 1.0
    if len(b) < 3:
        why = "; fewer than 3 baseline blocks: Poisson noise only (φ = 1)"
    z = (x - mu) / np.sqrt(phi * mu * (1 + 1 / len(b)))
    return dict(value=x, expected=mu, change=x / mu - 1, z=z, phi=phi, why=why)


def _verdict(t: Mapping[str, Any], alpha: float, min_drop: float) -> dict[str, Any]:
    """p-value, alert flag and reason of a test from :func:`_conversion_test` & co."""
    z, change = t["z"], t["change"]
    p = float(stats.norm.cdf(z)) if np.isfinite(z) else np.nan
    flag = bool(np.isfinite(p) and p < alpha and change <= -min_drop)
    if flag:
        reason = f"dropped {change:+.0%} vs baseline (p = {p:.2g} < {alpha})"
    elif np.isfinite(p) and p < alpha and change < 0:
        reason = f"significant but small: {change:+.0%} is within the {min_drop:.0%} tolerance"
    elif change <= -min_drop:
        reason = f"{change:+.0%} but within noise (p = {p:.2g} ≥ {alpha})"
    else:
        reason = "no drop beyond noise"
    return dict(
        value=t["value"],
        expected=t["expected"],
        change_pct=change,
        z=z,
        p_value=p,
        dispersion=t["phi"],
        alert=flag,
        reason=reason + t["why"],
    )


@dataclass(kw_only=True)
class Alerts(Result):
    """Drop tests per group (``table``) and the rule they followed.

    Attributes
    ----------
    rule
        The test in words.
    alpha, min_drop
        The thresholds used.
    baseline_days, blocks
        Days of baseline used (whole windows) and their number of blocks.
    window
        The window tested.
    """

    rule: str = ""
    alpha: float = np.nan
    min_drop: float = np.nan
    baseline_days: int = 0
    blocks: int = 0
    window: Window | None = None

    def flagged(self) -> pd.DataFrame:
        """The rows that raised an alert."""
        return self.table[self.table["alert"]] if len(self.table) else self.table


_ALERT_COLUMNS = (
    "metric",
    "value",
    "expected",
    "change_pct",
    "z",
    "p_value",
    "dispersion",
    "alert",
    "reason",
)


def _block_sums(
    daily: pd.DataFrame, window: Window, by: str, need: list[str], k: int
) -> tuple[list[Any], pd.DataFrame, pd.DataFrame]:
    """Groups, per-group block sums and all-group block sums (block -1: the window)."""
    L = window.days
    b0 = window.start - pd.Timedelta(days=k * L)
    groups = sorted(daily[by].dropna().unique())
    d = daily.copy()
    d["period"] = pd.to_datetime(d["period"]).dt.normalize()
    d = d[(d["period"] >= b0) & (d["period"] <= window.end)]
    d = d.groupby([by, "period"], as_index=False)[need].sum()
    days = pd.date_range(b0, window.end, freq="D", name="period")
    grid = pd.MultiIndex.from_product([groups, days], names=[by, "period"])
    d = d.set_index([by, "period"]).reindex(grid, fill_value=0).reset_index()
    d["block"] = np.where(d["period"] >= window.start, -1, (d["period"] - b0).dt.days // L)
    return groups, d.groupby([by, "block"])[need].sum(), d.groupby("block")[need].sum()


def alerts(
    daily: pd.DataFrame,
    window: Window,
    metric: str = "sessions",
    *,
    by: str = "channel",
    baseline_days: int = 56,
    alpha: float = 0.01,
    min_drop: float = 0.15,
    relative_to_total: bool = True,
) -> Alerts:
    """Flag groups whose traffic or conversion in the window dropped beyond noise.

    Rule: the ``baseline_days`` before the window are cut into
    ``k = baseline_days // window.days`` blocks as long as the window.

    * ``metric="conversion"``: baseline rate ``p₀`` = orders / sessions of the group
      over the baseline; over-dispersion ``φ = max(1, Pearson χ² / (k − 1))`` of the
      blocks' rates around ``p₀`` (quasi-binomial);
      ``z = (p̂ − p₀) / √(φ p₀ (1 − p₀) (1/n + 1/N))``.
    * a count (``"sessions"``), ``relative_to_total=True`` (default): the same test on
      the group's **share** of all groups' count — festivals, the Chinese New Year dip,
      weekly seasons and the shop's growth move every channel and cancel out, so what is
      left is the channel's own change. ``expected`` is the baseline share × the
      window's total.
    * a count, ``relative_to_total=False``: quasi-Poisson on the group's raw count:
      ``μ`` = mean block total, ``φ = max(1, Pearson χ² / (k − 1))``,
      ``z = (x − μ) / √(φ μ (1 + 1/k))`` (use it to catch a shop-wide fall; seasonal
      swings inflate φ, so it is less sensitive).

    The p-value is ``Φ(z)`` (one-sided: only drops alarm). A group is flagged when
    ``p < alpha`` **and** the relative change is ``≤ −min_drop``. With fewer than 3
    blocks ``φ = 1`` and the reason says so.

    Parameters
    ----------
    daily
        One row per day and group: ``period`` (day), ``by``, ``sessions`` and, for
        conversion, ``order`` — :func:`shopbook.features.funnel.funnel` with
        ``period="day"``. Missing days count as zero.
    window
        The window tested (:func:`resolve_window`).
    metric
        ``"sessions"`` (traffic), another count column, or ``"conversion"``.
    by
        Group column.
    baseline_days
        Days before the window forming the baseline (rounded down to whole windows).
    alpha
        One-sided significance level of a drop.
    min_drop
        Smallest relative drop that is flagged (a significant 2 % dip is not news).
    relative_to_total
        For counts: test the group's share of the total (default) or its raw count.

    Returns
    -------
    Alerts
        ``table``: one row per group: ``by``, ``metric``, ``value`` (window count or
        rate), ``expected`` (from the baseline), ``change_pct``, ``z``, ``p_value``,
        ``dispersion`` (φ), ``alert`` (bool), ``reason`` (why it was or was not flagged,
        or why it cannot be tested); and the rule with its parameters.
    """
    cols = [by, *_ALERT_COLUMNS]
    L = window.days
    k = int(baseline_days) // L
    count = metric != "conversion"
    need = ["sessions", "order"] if not count else [metric]
    missing = [c for c in ["period", by, *need] if c not in daily.columns]
    if missing:
        raise ValueError(
            f"daily needs columns {missing}; "
            f"pass shopbook.features.funnel.funnel(sessions, 'day', {by!r})"
        )
    rule = (
        "quasi-binomial test of the conversion rate"
        if not count
        else f"quasi-binomial test of the share of all {metric}"
        if relative_to_total
        else f"quasi-Poisson test of {metric}"
    )
    result = Alerts(
        rule=f"{rule} against {k} trailing blocks of {L} day(s)",
        alpha=alpha,
        min_drop=min_drop,
        baseline_days=k * L,
        blocks=k,
        window=window,
    )
    if daily[by].dropna().empty:
        result.table = pd.DataFrame(columns=cols)
        return result
    groups, blocks, totals = _block_sums(daily, window, by, need, k)
    base_blocks = list(range(k))
    rows = []
    for g in groups:
        bl = blocks.loc[g].reindex([-1, *base_blocks], fill_value=0)
        win, base = bl.loc[-1], bl.loc[base_blocks]
        row: dict[str, Any] = {
            by: g,
            "metric": metric,
            **dict.fromkeys(("value", "expected", "change_pct", "z", "p_value"), np.nan),
            "dispersion": np.nan,
            "alert": False,
        }
        if k < 1:
            row["reason"] = (
                f"no baseline: baseline_days {baseline_days} is shorter than the window ({L} days)"
            )
        else:
            if not count:
                t = _conversion_test(win, base)
            elif relative_to_total:
                t = _share_test(win, base, totals, base_blocks, metric)
            else:
                t = _count_test(win, base, metric)
            row.update(t if "reason" in t else _verdict(t, alpha, min_drop))
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    out["alert"] = out["alert"].astype(bool)
    result.table = out
    return result


def drop_alerts(
    daily: pd.DataFrame,
    window: Window,
    metrics: Sequence[str] = ("sessions", "conversion"),
    **kwargs: Any,
) -> Alerts:
    """:func:`alerts` for several metrics, their tables one after the other.

    Parameters
    ----------
    daily, window
        As in :func:`alerts`.
    metrics
        The metrics tested, in the order of the rows.
    **kwargs
        Passed to :func:`alerts` (``by``, ``baseline_days``, ``alpha``, ``min_drop``,
        ``relative_to_total``).

    Returns
    -------
    Alerts
        The tables concatenated; ``rule`` lists each metric's rule; the other
        attributes are those of the first metric (the same for every metric).
    """
    found = [alerts(daily, window, m, **kwargs) for m in metrics]
    first = found[0]
    return Alerts(
        table=pd.concat([a.table for a in found], ignore_index=True),
        rule="; ".join(a.rule for a in found),
        alpha=first.alpha,
        min_drop=first.min_drop,
        baseline_days=first.baseline_days,
        blocks=first.blocks,
        window=window,
    )


def alert_subject(metric: str) -> str:
    """What an alert on ``metric`` is about, in words: ``"traffic"`` for sessions."""
    return "traffic" if metric == "sessions" else metric


__all__ = [
    "ROWS",
    "Alerts",
    "ChannelTable",
    "KpiTable",
    "Window",
    "alert_subject",
    "alerts",
    "channel_table",
    "conversion_ci",
    "drop_alerts",
    "kpi_table",
    "resolve_window",
]
