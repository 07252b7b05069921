"""The KPI brief: a three-layer indicator table for a window vs the previous window,
channel CAC / ROI, conversion intervals and drop alerts.

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
change. Sections whose tables are missing are left out and named in
``attrs["notes"]``.

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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from shopbook.features import funnel as F
from shopbook.features.customers import as_table


@dataclass(frozen=True)
class Window:
    """A window of whole days and the previous window of the same length."""

    start: pd.Timestamp
    end: pd.Timestamp
    prev_start: pd.Timestamp
    prev_end: pd.Timestamp

    @property
    def days(self) -> int:
        """Length in days."""
        return int((self.end - self.start).days) + 1

    def label(self) -> str:
        """``2024-12-23 to 2024-12-29``."""
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"

    def prev_label(self) -> str:
        """The previous window as text."""
        return f"{self.prev_start:%Y-%m-%d} to {self.prev_end:%Y-%m-%d}"


def resolve_window(start: Any, end: Any, last_day: Any) -> Window:
    """The window to report and the one before it.

    Parameters
    ----------
    start, end
        ISO dates (inclusive) or empty. Empty ``start`` and ``end``: the last full ISO
        week (Monday–Sunday) that ends on or before ``last_day``. Only ``start``: up to
        ``last_day``. Only ``end``: the 7 days ending on ``end``.
    last_day
        The last day with data (may be ``None`` when ``end`` is given).

    Returns
    -------
    Window

    Raises
    ------
    ValueError
        When ``end`` is before ``start``.
    """
    last = None if last_day is None else pd.Timestamp(last_day).normalize()
    if last is None and not end:
        raise ValueError("give end, or the last day with data")
    if not start and not end:
        e = last if last.dayofweek == 6 else last - pd.Timedelta(days=last.dayofweek + 1)
        s = e - pd.Timedelta(days=6)
    else:
        e = pd.Timestamp(end).normalize() if end else last
        s = pd.Timestamp(start).normalize() if start else e - pd.Timedelta(days=6)
    if e < s:
        raise ValueError(f"end {e.date()} is before start {s.date()}")
    n = (e - s).days + 1
    return Window(s, e, s - pd.Timedelta(days=n), s - pd.Timedelta(days=1))


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


def _users(orders: Any, start: Any, end: Any) -> dict[str, float]:
    o = as_table(orders)
    paid = o.filter(o.status == "paid", F._in_window(o.order_ts, start, end))
    per = paid.group_by("customer_id").aggregate(
        n=paid.order_id.nunique(), gmv=paid.net_amount.cast("float64").sum()
    )
    row = (
        per.aggregate(
            active=per.count(),
            repeaters=(per.n >= 2).cast("int64").sum(),
            orders=per.n.sum(),
            gmv=per.gmv.sum(),
        )
        .execute()
        .iloc[0]
    )
    first = F.new_customers_expr(o)
    new = int(first.filter(F._in_window(first.first_ts, start, end)).count().execute())
    active = int(row["active"])
    return {
        "gmv": float(row["gmv"] or 0.0),
        "orders": int(row["orders"] or 0),
        "active": active,
        "new": new,
        "returning": active - new,
        "repurchase": (int(row["repeaters"] or 0) / active) if active else np.nan,
    }


def ltv(orders: Any, end: Any, ltv_days: int = 365, cohort_days: int = 90) -> dict[str, Any]:
    """Historical LTV of the latest cohort whose whole LTV horizon is observed by ``end``.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``status``, ``net_amount``,
        ``channel``).
    end
        The last day observed.
    ltv_days
        LTV horizon: days after (and including) the first order.
    cohort_days
        Customers whose first paid order falls in the ``cohort_days`` ending
        ``ltv_days`` before ``end`` form the cohort.

    Returns
    -------
    dict
        ``ltv`` (mean net spend per customer, NaN without a cohort), ``customers``,
        ``cohort_start``, ``cohort_end``.
    """
    e = pd.Timestamp(end).normalize()
    c_end = e - pd.Timedelta(days=ltv_days)
    c_start = c_end - pd.Timedelta(days=cohort_days - 1)
    o = as_table(orders)
    first = F.new_customers_expr(o)
    cohort = first.filter(F._in_window(first.first_ts, c_start, c_end))
    paid = o.filter(o.status == "paid")
    j = paid.inner_join(cohort, paid.customer_id == cohort.customer_id)
    j = j.filter(j.order_ts < j.first_ts.date().cast("timestamp") + _days(ltv_days))
    spend = float(j.net_amount.cast("float64").sum().execute() or 0.0)
    n = int(cohort.count().execute())
    return {
        "ltv": spend / n if n else np.nan,
        "customers": n,
        "cohort_start": c_start,
        "cohort_end": c_end,
    }


def _days(n: int) -> Any:
    """An ibis interval of ``n`` days."""
    import ibis

    return ibis.interval(days=int(n))


# ---------------------------------------------------------------------- KPI table


def _window_values(
    w0: pd.Timestamp,
    w1: pd.Timestamp,
    orders: Any,
    *,
    order_items: Any,
    sessions: Any,
    marketing_spend: Any,
    inventory: Any,
    ltv_days: int,
    cohort_days: int,
) -> dict[str, Any]:
    v: dict[str, Any] = {}
    u = _users(orders, w0, w1)
    v.update(
        gmv=u["gmv"],
        orders=u["orders"],
        aov=u["gmv"] / u["orders"] if u["orders"] else np.nan,
        new_customers=u["new"],
        active_customers=u["active"],
        returning_customers=u["returning"],
        repurchase_rate=u["repurchase"],
    )
    lt = ltv(orders, w1, ltv_days, cohort_days)
    v["ltv"] = lt["ltv"]
    v["_ltv"] = lt
    if order_items is not None:
        m = F.margin(orders, order_items, w0, w1).iloc[0]
        v.update(
            gross_margin=m["margin"],
            gross_profit=m["gross_profit"],
            uncosted_share=m["uncosted_share"],
            _cogs=m["cogs"],
        )
    if marketing_spend is not None:
        s = as_table(marketing_spend)
        spend = float(
            s.filter(F._in_window(s.date, w0, w1)).spend.cast("float64").sum().execute() or 0.0
        )
        v.update(spend=spend, cac=spend / u["new"] if u["new"] else np.nan)
    if sessions is not None:
        f = F.funnel(sessions, None, None, start=w0, end=w1)
        row = f.iloc[0] if len(f) else pd.Series(dict.fromkeys(F.COUNTS, 0))
        for c in F.COUNTS:
            v[c] = int(row[c])
        v["conversion"] = row["order"] / row["sessions"] if row["sessions"] else np.nan
        v["_conv_ci"] = conversion_ci(int(row["order"]), int(row["sessions"]))
    if inventory is not None and order_items is not None:
        st = F.stock_value(inventory, order_items, w0, w1)
        cogs = v.get("_cogs", np.nan)
        v["inventory_turnover"] = cogs / st["value"] if st["value"] and st["value"] > 0 else np.nan
        days = (w1 - w0).days + 1
        v["days_of_inventory"] = st["value"] / (cogs / days) if cogs and cogs > 0 else np.nan
    return v


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


def kpi_table(
    orders: Any,
    window: Window,
    *,
    order_items: Any = None,
    sessions: Any = None,
    marketing_spend: Any = None,
    inventory: Any = None,
    ltv_days: int = 365,
    cohort_days: int = 90,
) -> pd.DataFrame:
    """The three-layer KPI table: the window against the previous window.

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_id``, ``customer_id``, ``order_ts``, ``channel``,
        ``status``, ``net_amount``).
    window
        From :func:`resolve_window`.
    order_items
        Contract ``order_items`` (``unit_cost`` may be null): margin, gross profit,
        inventory turnover.
    sessions
        Contract ``sessions``: funnel and conversion.
    marketing_spend
        Contract ``marketing_spend``: spend and CAC.
    inventory
        Contract ``inventory`` (with ``order_items`` for the cost): turnover.
    ltv_days, cohort_days
        See :func:`ltv`.

    Returns
    -------
    pandas.DataFrame
        One row per available metric: ``layer``, ``metric``, ``label``, ``unit``
        (money/count/share/ratio/days), ``value``, ``previous``, ``change``,
        ``change_pct``, ``ci_low``, ``ci_high`` (conversion only). ``attrs``: ``notes``
        (what was left out and why, revenue without cost, the LTV cohort),
        ``window``.
    """
    kw = dict(
        order_items=order_items,
        sessions=sessions,
        marketing_spend=marketing_spend,
        inventory=inventory,
        ltv_days=ltv_days,
        cohort_days=cohort_days,
    )
    cur = _window_values(window.start, window.end, orders, **kw)
    prev = _window_values(window.prev_start, window.prev_end, orders, **kw)
    rows = []
    for layer, metric, label, unit in ROWS:
        if metric not in cur:
            continue
        v, p = cur[metric], prev[metric]
        v = float(v) if v is not None else np.nan
        p = float(p) if p is not None else np.nan
        lo = hi = np.nan
        if metric == "conversion":
            lo, hi = cur["_conv_ci"]
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
    out = pd.DataFrame(rows)
    notes = []
    if order_items is None:
        notes.append(
            "no order_items table: margin, gross profit and inventory turnover are left out"
        )
    elif np.isfinite(cur.get("uncosted_share", np.nan)) and cur["uncosted_share"] > 0:
        notes.append(
            f"{cur['uncosted_share']:.1%} of the window's revenue has no unit cost; the margin covers the rest"
        )
    if marketing_spend is None:
        notes.append("no marketing_spend table: spend and CAC are left out")
    if sessions is None:
        notes.append("no sessions table: funnel and conversion are left out")
    if inventory is None or order_items is None:
        notes.append("no inventory table (or no unit costs): inventory turnover is left out")
    lt = cur["_ltv"]
    if lt["customers"]:
        notes.append(
            f"LTV: mean net spend in the first {ltv_days} days of the {lt['customers']:,} customers acquired "
            f"{lt['cohort_start']:%Y-%m-%d} to {lt['cohort_end']:%Y-%m-%d}"
        )
    else:
        notes.append(
            f"LTV: no customer was acquired {lt['cohort_start']:%Y-%m-%d} to {lt['cohort_end']:%Y-%m-%d}, "
            f"so no cohort has {ltv_days} days of history by the window's end"
        )
    out.attrs["notes"] = notes
    out.attrs["window"] = window
    return out


# ---------------------------------------------------------------- channel table


def channel_table(
    orders: Any,
    window: Window,
    *,
    sessions: Any = None,
    marketing_spend: Any = None,
    order_items: Any = None,
) -> pd.DataFrame:
    """Funnel, conversion, CAC and ROI per channel in the window.

    Parameters
    ----------
    orders, sessions, marketing_spend, order_items
        Contract tables as in :func:`kpi_table` (the last three optional).
    window
        From :func:`resolve_window`.

    Returns
    -------
    pandas.DataFrame
        ``channel``, ``orders``, ``gmv``, ``customers``, ``new_customers``; with
        sessions the funnel counts, ``conversion`` and its Wilson 95 % ``conv_low`` /
        ``conv_high``; with spend ``spend``, ``cac`` (spend / new customers) and
        ``roi`` = return / spend where the return is gross profit when every channel's
        revenue has costs, else GMV (``attrs["roi_basis"]`` says which);
        ``roas`` = GMV / spend.
    """
    econ = F.channel_economics(
        orders, window.start, window.end, marketing_spend=marketing_spend, order_items=order_items
    )
    out = econ
    if sessions is not None:
        fun = F.funnel(sessions, None, "channel", start=window.start, end=window.end)
        out = out.merge(fun, on="channel", how="outer")
        for c in F.COUNTS:
            out[c] = out[c].fillna(0).astype("int64")
        out["conversion"] = out["order"] / out["sessions"].where(out["sessions"] > 0)
        out["conv_low"], out["conv_high"] = conversion_ci(
            out["order"].to_numpy(), out["sessions"].to_numpy()
        )
        for c in ("orders", "customers", "new_customers"):
            out[c] = out[c].fillna(0).astype("int64")
        out["gmv"] = out["gmv"].fillna(0.0)
    basis = None
    if marketing_spend is not None:
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
    out.attrs["roi_basis"] = basis
    return out.sort_values("channel", ignore_index=True)


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
) -> pd.DataFrame:
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
        ``freq="D"``. Missing days count as zero.
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
    pandas.DataFrame
        One row per group: ``by``, ``metric``, ``value`` (window count or rate),
        ``expected`` (from the baseline), ``change_pct``, ``z``, ``p_value``,
        ``dispersion`` (φ), ``alert`` (bool), ``reason`` (why it was or was not flagged,
        or why it cannot be tested). ``attrs``: the rule and its parameters.
    """
    cols = [
        by,
        "metric",
        "value",
        "expected",
        "change_pct",
        "z",
        "p_value",
        "dispersion",
        "alert",
        "reason",
    ]
    L = window.days
    k = int(baseline_days) // L
    b0 = window.start - pd.Timedelta(days=k * L)
    count = metric != "conversion"
    need = ["sessions", "order"] if not count else [metric]
    missing = [c for c in ["period", by, *need] if c not in daily.columns]
    if missing:
        raise ValueError(
            f"daily needs columns {missing}; pass shopbook.features.funnel.funnel(sessions, 'D', {by!r})"
        )
    groups = sorted(daily[by].dropna().unique())
    if not groups:
        return pd.DataFrame(columns=cols)
    d = daily.copy()
    d["period"] = pd.to_datetime(d["period"]).dt.normalize()
    d = d[(d["period"] >= b0) & (d["period"] <= window.end)]
    d = d.groupby([by, "period"], as_index=False)[need].sum()
    days = pd.date_range(b0, window.end, freq="D", name="period")
    grid = pd.MultiIndex.from_product([groups, days], names=[by, "period"])
    d = d.set_index([by, "period"]).reindex(grid, fill_value=0).reset_index()
    d["block"] = np.where(d["period"] >= window.start, -1, (d["period"] - b0).dt.days // L)
    blocks = d.groupby([by, "block"])[need].sum()
    totals = d.groupby("block")[need].sum()
    base_blocks = [b for b in range(k)]
    rows = []
    for g in groups:
        bl = blocks.loc[g].reindex([-1, *base_blocks], fill_value=0)
        win, base = bl.loc[-1], bl.loc[base_blocks]
        row: dict[str, Any] = {
            by: g,
            "metric": metric,
            "value": np.nan,
            "expected": np.nan,
            "change_pct": np.nan,
            "z": np.nan,
            "p_value": np.nan,
            "dispersion": np.nan,
            "alert": False,
        }
        if k < 1:
            row["reason"] = (
                f"no baseline: baseline_days {baseline_days} is shorter than the window ({L} days)"
            )
            rows.append(row)
            continue
        why = ""
        if not count:
            n_b, o_b = base["sessions"].to_numpy(float), base["order"].to_numpy(float)
            n, x = float(win["sessions"]), float(win["order"])
            if n_b.sum() == 0 or n == 0:
                row["reason"] = (
                    "no sessions in the baseline" if n_b.sum() == 0 else "no sessions in the window"
                ) + ": conversion cannot be compared"
                rows.append(row)
                continue
            p0, phi, z, why = _quasi_binomial(o_b, n_b, x, n)
            value, expected, change = x / n, p0, (x / n) / p0 - 1 if p0 > 0 else np.nan
        elif relative_to_total:
            o_b, x = base[metric].to_numpy(float), float(win[metric])
            n_b = totals.reindex(base_blocks, fill_value=0)[metric].to_numpy(float)
            n = float(totals[metric].get(-1, 0))
            if o_b.sum() == 0 or n == 0:
                row["value"] = x
                row["reason"] = (
                    f"no {metric} in the baseline"
                    if o_b.sum() == 0
                    else f"no {metric} at all in the window"
                )
                if n == 0 and o_b.sum() > 0:
                    row.update(
                        expected=o_b.mean(),
                        change_pct=-1.0,
                        alert=True,
                        reason=f"no {metric} at all in the window (every group): check the tracking",
                    )
                rows.append(row)
                continue
            p0, phi, z, why = _quasi_binomial(o_b, n_b, x, n)
            value, expected, change = x, p0 * n, (x / n) / p0 - 1
        else:
            b, x = base[metric].to_numpy(float), float(win[metric])
            mu = b.mean()
            if mu == 0:
                row.update(
                    value=x, expected=0.0, reason=f"no {metric} in the baseline: nothing to compare"
                )
                rows.append(row)
                continue
            phi = max(1.0, ((b - mu) ** 2 / mu).sum() / (len(b) - 1)) if len(b) >= 3 else 1.0
            if len(b) < 3:
                why = "; fewer than 3 baseline blocks: Poisson noise only (φ = 1)"
            z = (x - mu) / np.sqrt(phi * mu * (1 + 1 / len(b)))
            value, expected, change = x, mu, x / mu - 1
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
        row.update(
            value=value,
            expected=expected,
            change_pct=change,
            z=z,
            p_value=p,
            dispersion=phi,
            alert=flag,
            reason=reason + why,
        )
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    out["alert"] = out["alert"].astype(bool)
    rule = (
        "quasi-binomial test of the conversion rate"
        if not count
        else f"quasi-binomial test of the share of all {metric}"
        if relative_to_total
        else f"quasi-Poisson test of {metric}"
    )
    out.attrs.update(
        rule=f"{rule} against {k} trailing blocks of {L} day(s)",
        alpha=alpha,
        min_drop=min_drop,
        baseline_days=k * L,
        blocks=k,
        window=window,
    )
    return out


__all__ = [
    "ROWS",
    "Window",
    "alerts",
    "channel_table",
    "conversion_ci",
    "kpi_table",
    "ltv",
    "resolve_window",
]
