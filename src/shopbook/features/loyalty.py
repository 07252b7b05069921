"""Loyalty and promotion features, built as ibis expressions that run in the engine.

What the loyalty notebook (09) needs from the rows, each small when it comes back:

* :func:`monthly_spend` — purchases and GMV per customer and month (the input of the tier
  rules, :mod:`shopbook.analysis.loyalty.tiers`);
* :func:`tier_segments`, :func:`first_category_segments` — a segment label per customer
  (member tier; category of the first purchase's largest line) for the repurchase-timing
  split (:func:`shopbook.features.cohorts.second_purchase_times`);
* :func:`basket_histogram` — purchases per gross-value bin inside the ladder promotions'
  windows (the bunching estimator's input);
* :func:`review_purchases` — per customer and tier review: a purchase in the period
  before it and in the days after it (the upgrade effect's regression discontinuity,
  :mod:`shopbook.analysis.loyalty.upgrade`);
* :func:`offer_outcomes` — per customer of a campaign's pool (offered, held out, or a
  recent buyer not offered): the arm, pre-send recency / frequency / spend, and whether
  they bought within N days of the send.

Purchases, first purchases and GMV are those of :mod:`shopbook.features.orders`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.features.fetching import fetch
from shopbook.features.orders import (
    GMV_AMOUNT,
    PURCHASE_STATUSES,
    as_table,
    first_purchases,
    in_window,
    purchases,
)

#: The group of a pool customer who was neither offered nor held out.
NOT_OFFERED = "not offered"


def monthly_spend(
    orders: Any, end: Any = None, statuses: Sequence[str] | None = PURCHASE_STATUSES
) -> pd.DataFrame:
    """Purchases and GMV per customer and calendar month.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``status``, ``net_amount``).
    end
        Last day counted (``None``: every order).
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``month`` (datetime64, first day), ``orders`` (int), ``spend``
        (float: GMV), one row per customer-month with a purchase.
    """
    t = purchases(orders, statuses)
    if end is not None and end != "":
        t = t.filter(t.order_ts.cast("timestamp").date() <= pd.Timestamp(end).date())
    t = t.mutate(month=t.order_ts.cast("timestamp").truncate("M").date())
    out = fetch(
        t.group_by(["customer_id", "month"])
        .agg(orders=t.count(), spend=t[GMV_AMOUNT].cast("float64").sum())
        .order_by(["customer_id", "month"])
    )
    out["month"] = pd.to_datetime(out["month"])
    return out


def review_purchases(
    orders: Any,
    reviews: Sequence[Any],
    days: int = 30,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """Who bought in the period before each tier review and in the ``days`` after it.

    A review on day R counts the whole of R (:func:`~shopbook.analysis.loyalty.tier_paths`
    reviews on a month's last day), so the period before review k is the days after
    review k−1 up to and including R, and the days after it start on R + 1.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``status``).
    reviews
        The review days in order (``TierPaths.reviews``).
    days
        Length of the window after a review, in days.
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``review`` (datetime64), ``bought_before``, ``bought_after``
        (bool), one row per customer and review with a purchase in either window (the
        first review has no period before it: ``bought_before`` is false there).
    """
    cols = ["customer_id", "review", "bought_before", "bought_after"]
    days_ = [pd.Timestamp(r).normalize() for r in reviews]
    if not days_:
        return pd.DataFrame(columns=cols)
    one = pd.Timedelta(days=1)
    rows = []
    for k, r in enumerate(days_):
        if k:
            rows.append((r, "before", days_[k - 1] + one, r + one))
        rows.append((r, "after", r + one, r + one + pd.Timedelta(days=int(days))))
    win = ibis.memtable(pd.DataFrame(rows, columns=["review", "kind", "lo", "hi"]))
    p = purchases(orders, statuses)
    p = p.select(cid=p.customer_id, ts=p.order_ts.cast("timestamp"))
    j = p.join(win, (p.ts >= win.lo.cast("timestamp")) & (p.ts < win.hi.cast("timestamp")))
    out = j.group_by(["cid", "review"]).agg(
        before=(j.kind == "before").any(), after=(j.kind == "after").any()
    )
    df = fetch(out)
    df = df.rename(
        columns={"cid": "customer_id", "before": "bought_before", "after": "bought_after"}
    )
    df["review"] = pd.to_datetime(df["review"])
    for c in ("bought_before", "bought_after"):
        df[c] = df[c].fillna(False).astype(bool)
    return df[cols].sort_values(["review", "customer_id"], ignore_index=True)


def tier_segments(customers: Any) -> ir.Table:
    """Each customer's member tier as a segment (``customers.member_tier``; unknown left out).

    Returns
    -------
    ibis.Table
        ``customer_id``, ``segment`` (string).
    """
    c = as_table(customers)
    c = c.filter(c.member_tier.notnull() & (c.member_tier.cast("string").strip() != ""))
    return c.select("customer_id", segment=c.member_tier.cast("string"))


def first_category_segments(
    orders: Any,
    order_items: Any,
    products: Any,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> ir.Table:
    """The category of each customer's first purchase (its line of most value).

    Parameters
    ----------
    orders, order_items, products
        Contract tables (``order_items``: ``order_id``, ``sku``, ``quantity``,
        ``unit_price``; ``products``: ``sku``, ``category``).

    Returns
    -------
    ibis.Table
        ``customer_id``, ``segment`` (category), one row per customer whose first
        purchase has lines with a known product (of lines of equal value, the first
        category by name).
    """
    p = purchases(orders, statuses)
    first = first_purchases(orders, statuses)
    f = first.select(fid="customer_id", first_ts="first_ts")
    j = p.join(f, (p.customer_id == f.fid) & (p.order_ts.cast("timestamp") == f.first_ts))
    o = j.select("customer_id", "order_id")
    it = as_table(order_items)
    pr = as_table(products).select(psku="sku", category="category")
    lines = it.join(o, it.order_id == o.order_id).join(pr, it.sku == pr.psku)
    lines = lines.mutate(
        value=(lines.quantity * lines.unit_price).cast("float64"),
        segment=lines.category.cast("string"),
    )
    lines = lines.filter(lines.segment.notnull())
    # lines of equal value: the first category by name (an argmax picks any of them, and
    # engines pick differently)
    w = ibis.window(group_by="customer_id", order_by=[ibis.desc("value"), "segment"])
    ranked = lines.mutate(rank=ibis.row_number().over(w))
    return ranked.filter(ranked["rank"] == 0).select("customer_id", "segment")


def basket_histogram(
    orders: Any,
    windows: Sequence[tuple[Any, Any]],
    bin_width: float = 5.0,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    amount: str = "gross_amount",
) -> pd.DataFrame:
    """Purchases per basket-value bin inside the given windows (days inclusive).

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_ts``, ``status``, ``gross_amount``).
    windows
        ``(start, end)`` days of the ladder promotions.
    bin_width
        Width of a bin in the dataset's currency.
    amount
        The order value a ladder threshold is measured on (the gross value before
        order-level discounts).

    Returns
    -------
    pandas.DataFrame
        ``lower`` (float, the bin's lower edge), ``orders`` (int), one row per non-empty
        bin, sorted; empty when there are no windows.
    """
    if not windows:
        return pd.DataFrame(
            {"lower": pd.Series([], dtype=float), "orders": pd.Series([], dtype=int)}
        )
    t = purchases(orders, statuses)
    ts = t.order_ts.cast("timestamp")
    cond = None
    for s, e in windows:
        c = in_window(ts, s, e)
        cond = c if cond is None else cond | c
    t = t.filter(cond)
    b = (t[amount].cast("float64") / float(bin_width)).floor().cast("int64")
    t = t.mutate(bin=b)
    out = fetch(t.group_by("bin").agg(orders=t.count()).order_by("bin"))
    return pd.DataFrame(
        {"lower": out["bin"].astype(float) * float(bin_width), "orders": out["orders"].astype(int)}
    )


def offer_outcomes(
    orders: Any,
    offers: Any,
    promotion_id: str,
    days: int = 7,
    lookback_days: int = 30,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """One row per customer of a campaign's pool, with pre-send covariates and the outcome.

    The pool is every customer in ``offers`` for ``promotion_id`` (arm from ``variant``:
    ``treatment`` or ``control``; without that column every row is ``treatment``) plus
    the customers *not offered* with a purchase in the ``lookback_days`` before the
    campaign's first send (their send time is that first send). The outcome is a
    purchase in ``[sent_ts, sent_ts + days)``.

    Parameters
    ----------
    orders
        Contract ``orders``.
    offers
        Contract ``offers`` (``customer_id``, ``promotion_id``, ``sent_ts``[, ``variant``]).
    promotion_id
        The campaign.
    days
        Outcome window after the send, in days.
    lookback_days
        Days before the first send in which a not-offered customer must have bought.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``group`` (``treatment`` / ``control`` / :data:`NOT_OFFERED`),
        ``sent_ts``, ``recency_days`` (days from the last purchase before the send),
        ``frequency`` (purchases before the send), ``monetary`` (GMV before the send),
        ``bought`` (bool).
    """
    of = as_table(offers)
    of = of.filter(of.promotion_id.cast("string") == str(promotion_id))
    grp = of.variant.cast("string") if "variant" in of.columns else ibis.literal("treatment")
    of = of.select(
        cid=of.customer_id,
        group=ibis.coalesce(grp, ibis.literal("treatment")),
        sent=of.sent_ts.cast("timestamp"),
    )
    p = purchases(orders, statuses)
    p = p.select(
        pid=p.customer_id, ts=p.order_ts.cast("timestamp"), amt=p[GMV_AMOUNT].cast("float64")
    )
    first_send = of.sent.min().as_scalar()
    lo = first_send - ibis.interval(days=int(lookback_days))
    recent = p.filter((p.ts >= lo) & (p.ts < first_send)).select(rid="pid").distinct()
    offered = of.select(oid="cid")
    others = recent.anti_join(offered, recent.rid == offered.oid)
    others = others.select(
        cid=others.rid, group=ibis.literal(NOT_OFFERED), sent=first_send.cast("timestamp")
    )
    pool = of.union(others)
    j = pool.left_join(p, pool.cid == p.pid)
    before = j.ts < j.sent
    after = (j.ts >= j.sent) & (j.ts < j.sent + ibis.interval(days=int(days)))
    agg = j.group_by(["cid", "group", "sent"]).agg(
        last_before=j.ts.max(where=before),
        frequency=before.ifelse(1, 0).sum(),
        monetary=before.ifelse(j.amt, 0.0).sum(),
        hits=after.ifelse(1, 0).sum(),
    )
    out = fetch(agg)
    out = out.rename(columns={"cid": "customer_id", "sent": "sent_ts"})
    rec = (pd.to_datetime(out["sent_ts"]) - pd.to_datetime(out["last_before"])).dt.total_seconds()
    out["recency_days"] = rec / 86400.0
    out["frequency"] = out["frequency"].fillna(0).astype(int)
    out["monetary"] = out["monetary"].fillna(0.0).astype(float)
    out["bought"] = out["hits"].fillna(0).astype(int) > 0
    cols = ["customer_id", "group", "sent_ts", "recency_days", "frequency", "monetary", "bought"]
    return out[cols].sort_values("customer_id", ignore_index=True)


def ladder_windows(promotions: Any) -> pd.DataFrame:
    """The ladder promotions (type ``ladder``) with a threshold: steps and windows.

    Returns
    -------
    pandas.DataFrame
        ``promotion_id``, ``threshold``, ``discount``, ``start``, ``end`` (dates).
    """
    pr = as_table(promotions)
    pr = pr.filter((pr.type.cast("string").lower() == "ladder") & pr.threshold.notnull())
    out = fetch(pr.select("promotion_id", "threshold", "discount", "start", "end"))
    for c in ("start", "end"):
        out[c] = pd.to_datetime(out[c]).dt.date
    return out.sort_values(["start", "threshold"], ignore_index=True)


def campaigns(offers: Any) -> pd.DataFrame:
    """The campaigns in ``offers``: rows per arm and the first send.

    Returns
    -------
    pandas.DataFrame
        ``promotion_id``, ``offers`` (rows), ``held_out`` (control rows), ``first_sent``.
    """
    of = as_table(offers)
    ctl = (of.variant.cast("string") == "control") if "variant" in of.columns else None
    held = ctl.ifelse(1, 0).sum() if ctl is not None else ibis.literal(0)
    out = fetch(
        of.group_by("promotion_id")
        .agg(offers=of.count(), held_out=held, first_sent=of.sent_ts.cast("timestamp").min())
        .order_by("promotion_id")
    )
    out["held_out"] = out["held_out"].fillna(0).astype(int)
    return out


__all__ = [
    "NOT_OFFERED",
    "basket_histogram",
    "campaigns",
    "first_category_segments",
    "ladder_windows",
    "member_day_programme",
    "monthly_spend",
    "offer_outcomes",
    "tier_segments",
]


def member_day_programme(promotions: Any) -> tuple[int, pd.Timestamp] | None:
    """The weekly member day from a ``promotions`` row of type ``member_day``.

    Returns
    -------
    (int, pandas.Timestamp) or None
        The weekday (0 = Monday) of its first day and that day; ``None`` without such a row.
    """
    pr = as_table(promotions)
    pr = pr.filter(pr.type.cast("string").lower() == "member_day")
    first = pr.start.min().execute()
    if first is None or pd.isna(first):
        return None
    day = pd.Timestamp(first)
    return int(day.dayofweek), day
