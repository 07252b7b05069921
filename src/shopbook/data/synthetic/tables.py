"""The contract tables assembled from the simulated layers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shopbook.data.contract import TABLES
from shopbook.data.synthetic.baskets import _Baskets
from shopbook.data.synthetic.catalogue import _Catalogue, _Prices
from shopbook.data.synthetic.clock import _Calendar
from shopbook.data.synthetic.customers import _Customers
from shopbook.data.synthetic.experiments import _Exp
from shopbook.data.synthetic.loyalty import _Ladder, _offers_table, _promotions_table
from shopbook.data.synthetic.marketing import _Marketing
from shopbook.data.synthetic.orders import _Orders
from shopbook.data.synthetic.parameters import (
    ANONYMOUS,
    CATEGORIES,
    CHANNELS,
    CURRENCY,
    DEVICES,
    REGIONS,
    TIERS,
)
from shopbook.data.synthetic.visits import _Prospects, _Visits


def _strings(values: pa.Array) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(values))


def _ids(prefix: str, ints: np.ndarray, width: int, null: np.ndarray | None = None) -> pd.Series:
    arr = pa.array(np.asarray(ints, dtype=np.int64), mask=null)
    txt = pc.binary_join_element_wise(
        prefix, pc.utf8_lpad(pc.cast(arr, pa.string()), width, padding="0"), ""
    )
    return _strings(txt)


def _labels(
    names: list[str] | tuple[str, ...], codes: np.ndarray, null: np.ndarray | None = None
) -> pd.Series:
    idx = pa.array(np.asarray(codes, dtype=np.int32), mask=null)
    return _strings(pc.take(pa.array(list(names), pa.string()), idx))


def _timestamps(cal: _Calendar, t: np.ndarray) -> np.ndarray:
    secs = np.floor(np.asarray(t) * 86400.0).astype(np.int64)
    return (np.datetime64(cal.start.to_datetime64(), "s") + secs.astype("timedelta64[s]")).astype(
        "datetime64[ns]"
    )


def _dates(cal: _Calendar, d: np.ndarray) -> pd.Series:
    base = (cal.start - pd.Timestamp("1970-01-01")).days
    arr = pa.array(np.asarray(d, dtype=np.int32) + base, pa.int32()).cast(pa.date32())
    return pd.Series(pd.arrays.ArrowExtensionArray(arr))


def _width(n: int) -> int:
    return max(6, len(str(max(int(n), 1))))


def _assemble(
    cal: _Calendar,
    mkt: _Marketing,
    cust: _Customers,
    vis: _Visits,
    pros: _Prospects,
    orders: _Orders,
    cat: _Catalogue,
    prices: _Prices,
    baskets: _Baskets,
    exps: list[_Exp],
    rng: np.random.Generator,
    ladder: _Ladder,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The ten contract tables (in contract order) and the facts the truth needs from them."""
    N = cust.n
    # first orders' session devices come from the prospect layer
    dev = orders.dev.copy()
    dev[orders.first] = pros.first_dev[orders.cust[orders.first]]
    orders.dev = dev
    cw = _width(N)
    cust_ids = _ids("C", np.arange(N), cw)
    order_ids = _ids("O", np.arange(len(orders.t)), _width(len(orders.t)))
    ot = _orders_table(cal, orders, baskets, cust_ids, order_ids)
    it = _items_table(orders, cat, prices, baskets, order_ids)
    ct, tier = _customers_table(cal, cust, orders, cust_ids, rng)
    st = _sessions_table(cal, vis, pros, orders, cust_ids, order_ids, cw, rng)
    tables = {
        "customers": ct,
        "orders": ot,
        "order_items": it,
        "products": _products_table(cal, cat),
        "sessions": st,
        "assignments": _assignments_table(cal, vis, exps, cw),
        "inventory": _inventory_table(cal, cat, baskets),
        "marketing_spend": _spend_table(cal, mkt),
        "promotions": _promotions_table(cal, ladder, vis.coupon),
        "offers": _offers_table(vis.coupon, cust_ids, cal),
    }
    gross = baskets.gross
    extra: dict[str, Any] = {
        "tier_counts": {name: int((tier == i).sum()) for i, name in enumerate(TIERS)},
        "discount_share": float((gross - orders.z).sum() / gross.sum()),
    }
    return {name: tables[name] for name in TABLES}, extra


def _orders_table(
    cal: _Calendar, orders: _Orders, baskets: _Baskets, cust_ids: pd.Series, order_ids: pd.Series
) -> pd.DataFrame:
    no = len(orders.t)
    gross = baskets.gross
    net = orders.z
    disc = gross - net
    assert (disc >= 0).all()
    return pd.DataFrame(
        {
            "order_id": order_ids,
            "customer_id": _strings(pc.take(pa.array(cust_ids.array), pa.array(orders.cust))),
            "order_ts": _timestamps(cal, orders.t),
            "channel": _labels(CHANNELS, orders.ch),
            "status": _labels(["paid"], np.zeros(no, np.int8)),
            "gross_amount": gross / 100.0,
            "discount_amount": disc / 100.0,
            "net_amount": net / 100.0,
            "currency": _labels([CURRENCY], np.zeros(no, np.int8)),
        }
    )


def _items_table(
    orders: _Orders, cat: _Catalogue, prices: _Prices, baskets: _Baskets, order_ids: pd.Series
) -> pd.DataFrame:
    day = orders.day[baskets.order]
    return pd.DataFrame(
        {
            "order_id": _strings(pc.take(pa.array(order_ids.array), pa.array(baskets.order))),
            "sku": _labels(cat.sku, baskets.sku),
            "quantity": baskets.qty.astype(np.int64),
            "unit_price": prices.price_d[day, baskets.sku] / 10.0,
            "list_price": prices.list_d[day, baskets.sku] / 10.0,
            "unit_cost": prices.cost_c[day, baskets.sku] / 100.0,
        }
    )


def _customers_table(
    cal: _Calendar,
    cust: _Customers,
    orders: _Orders,
    cust_ids: pd.Series,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The customers table and each customer's member tier (index into ``TIERS``)."""
    N = cust.n
    spend = np.bincount(orders.cust, weights=orders.z, minlength=N) / 100.0
    tier = np.searchsorted(np.array(list(TIERS.values())), spend, side="right") - 1
    first_start = np.empty(N)
    first_start[orders.cust[orders.first]] = orders.start[orders.first]
    # signup happens during the first session
    signup = cust.t0 - (cust.t0 - first_start) * rng.uniform(0.2, 0.8, N)
    ct = pd.DataFrame(
        {
            "customer_id": cust_ids,
            "signup_ts": _timestamps(cal, signup),
            "acquisition_channel": _labels(CHANNELS, cust.channel),
            "region": _labels(list(REGIONS), cust.region),
            "member_tier": _labels(list(TIERS), tier),
        }
    )
    return ct, tier


def _sessions_table(
    cal: _Calendar,
    vis: _Visits,
    pros: _Prospects,
    orders: _Orders,
    cust_ids: pd.Series,
    order_ids: pd.Series,
    cw: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Buying sessions (one per order), non-buying visits of customers, prospects' visits."""
    no = len(orders.t)
    nb = vis.stage < 4
    s_t = np.concatenate([orders.start, vis.t[nb], pros.t])
    s_cust = np.concatenate([orders.cust, vis.cust[nb], pros.cust])
    s_ch = np.concatenate([orders.ch, vis.ch[nb], pros.ch])
    s_dev = np.concatenate([orders.dev, vis.dev[nb], pros.dev])
    s_stage = np.concatenate([np.full(no, 4, np.int8), vis.stage[nb], pros.stage])
    s_order = np.concatenate([np.arange(no), np.full(int(nb.sum()) + len(pros.t), -1)])
    anon_nb = rng.random(int(nb.sum())) < ANONYMOUS[vis.dev[nb]]
    s_anon = np.concatenate([np.zeros(no, bool), anon_nb, np.ones(len(pros.t), bool)])
    del nb, anon_nb
    o = np.argsort(s_t, kind="stable")
    s_t, s_cust, s_ch, s_dev, s_stage, s_order, s_anon = (
        x[o] for x in (s_t, s_cust, s_ch, s_dev, s_stage, s_order, s_anon)
    )
    del o
    ns = len(s_t)
    pv = np.where(s_stage >= 1, 1 + rng.poisson(1.8 + 0.6 * s_stage), 0).astype(np.int64)
    pages = pv + 1 + rng.poisson(1.2, ns) + (s_stage >= 2) + 2 * (s_stage >= 3)
    return pd.DataFrame(
        {
            "session_id": _ids("S", np.arange(ns), _width(ns)),
            "visitor_id": _ids("V", s_cust, cw),
            "customer_id": _strings(
                pc.take(pa.array(cust_ids.array), pa.array(s_cust, mask=s_anon))
            ),
            "session_ts": _timestamps(cal, s_t),
            "channel": _labels(CHANNELS, s_ch),
            "device": _labels(DEVICES, s_dev),
            "pageviews": pages.astype(np.int64),
            "product_views": pv,
            "added_to_cart": s_stage >= 2,
            "reached_checkout": s_stage >= 3,
            "order_id": _strings(
                pc.take(pa.array(order_ids.array), pa.array(s_order, mask=s_order < 0))
            ),
        }
    )


def _assignments_table(cal: _Calendar, vis: _Visits, exps: list[_Exp], cw: int) -> pd.DataFrame:
    rows = []
    for e in exps:  # three experiments
        a = vis.assignments[e.name]
        rows.append((e.name, a["cust"], a["t"], a["treat"]))
    n_a = sum(len(r[1]) for r in rows)
    if not n_a:
        return _empty("assignments")
    at = pd.DataFrame(
        {
            "experiment_id": _labels(
                [e.name for e in exps],
                np.concatenate([np.full(len(r[1]), i) for i, r in enumerate(rows)]).astype(np.int8),
            ),
            "unit_id": _ids("V", np.concatenate([r[1] for r in rows]), cw),
            "variant": _labels(
                ["control", "treatment"], np.concatenate([r[3] for r in rows]).astype(np.int8)
            ),
            "assigned_ts": _timestamps(cal, np.concatenate([r[2] for r in rows])),
        }
    )
    return at.sort_values(["experiment_id", "assigned_ts", "unit_id"], kind="stable").reset_index(
        drop=True
    )


def _products_table(cal: _Calendar, cat: _Catalogue) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": _strings(pa.array(cat.sku)),
            "name": _strings(pa.array(cat.name)),
            "category": _labels(list(CATEGORIES), cat.category),
            "brand": _strings(pa.array(cat.brand)),
            "launch_date": _dates(cal, cat.launch),
            "lead_time_days": cat.lead.astype(np.int64),
        }
    )


def _inventory_table(cal: _Calendar, cat: _Catalogue, baskets: _Baskets) -> pd.DataFrame:
    launched = np.arange(cal.n)[:, None] >= np.maximum(cat.launch, 0)[None, :]
    dd, ss = np.nonzero(launched)
    return pd.DataFrame(
        {
            "date": _dates(cal, dd),
            "sku": _labels(cat.sku, ss),
            "on_hand": baskets.on_hand[dd, ss],
            "on_order": baskets.on_order[dd, ss],
        }
    )


def _spend_table(cal: _Calendar, mkt: _Marketing) -> pd.DataFrame:
    C = len(CHANNELS)
    return pd.DataFrame(
        {
            "date": _dates(cal, np.repeat(np.arange(cal.n), C)),
            "channel": _labels(CHANNELS, np.tile(np.arange(C), cal.n)),
            "spend": mkt.spend.ravel(),
            "impressions": mkt.impressions.ravel(),
            "clicks": mkt.clicks.ravel(),
        }
    )


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series([], dtype=object) for c in TABLES[name].columns})
