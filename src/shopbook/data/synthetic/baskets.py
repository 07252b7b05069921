"""Baskets and inventory: order lines filled from the day's SKU choice probabilities and
the daily (s, S) inventory recursion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopbook.data.synthetic.catalogue import _Catalogue, _Prices
from shopbook.data.synthetic.clock import _Calendar, _Clock
from shopbook.data.synthetic.loyalty import _Ladder
from shopbook.data.synthetic.orders import _Orders
from shopbook.data.synthetic.parameters import CASE_PACK, REVIEW_DAYS, SAFETY, SAFETY_Z


@dataclass
class _Baskets:
    order: np.ndarray  # order index per line (sorted by order, sku)
    sku: np.ndarray
    qty: np.ndarray
    gross: np.ndarray  # per order, cents
    on_hand: np.ndarray  # (day, sku)
    on_order: np.ndarray
    available: np.ndarray  # (day, sku) offered that day
    units: np.ndarray  # (day, sku) units sold


def _fill(
    zc: np.ndarray, cdf: np.ndarray, price_c: np.ndarray, mu_q: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lines for a day's orders: draw SKUs until the gross value covers the net amount."""
    S = len(cdf)
    idx = np.arange(len(zc))
    rem = zc.copy()
    out_o, out_s, out_q = [], [], []
    k = 4
    while idx.size:  # rounds until every order is filled (a few)
        m = idx.size
        sku = np.minimum(np.searchsorted(cdf, rng.random((m, k)) * cdf[-1], side="right"), S - 1)
        q = 1 + rng.poisson(mu_q[sku])
        cs = np.cumsum(price_c[sku] * q, axis=1)
        done = cs >= rem[:, None]
        anyd = done.any(axis=1)
        last = np.where(anyd, done.argmax(axis=1), k - 1)
        take = np.arange(k)[None, :] <= last[:, None]
        out_o.append(np.broadcast_to(idx[:, None], (m, k))[take])
        out_s.append(sku[take])
        out_q.append(q[take])
        left = ~anyd
        rem = rem[left] - cs[left, -1]
        idx = idx[left]
        k = 8
    return np.concatenate(out_o), np.concatenate(out_s), np.concatenate(out_q)


def _top_up(
    ladder: _Ladder,
    o_: np.ndarray,
    s_: np.ndarray,
    q_: np.ndarray,
    m: int,
    cdf: np.ndarray,
    price_c: np.ndarray,
    cat: _Catalogue,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ladder's top-ups: more lines for the orders that reach for a threshold."""
    gross = np.bincount(o_, weights=price_c[s_] * q_, minlength=m).astype(np.int64)
    target = ladder.targets(gross, rng)
    up = np.flatnonzero(target > 0)
    if not up.size:
        return o_, s_, q_
    o2, s2, q2 = _filler(target[up] - gross[up], target[up], cdf, price_c, cat, rng, ladder.slack)
    added = np.bincount(o2, weights=price_c[s2] * q2, minlength=up.size).astype(np.int64)
    ladder.record(target[up], added)
    return (
        np.concatenate([o_, up[o2]]),
        np.concatenate([s_, s2]),
        np.concatenate([q_, q2]),
    )


def _filler(
    gap: np.ndarray,
    target: np.ndarray,
    cdf: np.ndarray,
    price_c: np.ndarray,
    cat: _Catalogue,
    rng: np.random.Generator,
    slack: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """凑单: one unit of a SKU priced between the gap and the gap + ``slack`` × threshold,
    drawn by the day's choice weights; orders with no such SKU fill as usual."""
    w = np.diff(np.concatenate([[0.0], cdf]))
    m = len(gap)
    lo, hi = gap[:, None], gap[:, None] + slack * target[:, None]
    ok = (price_c[None, :] >= lo) & (price_c[None, :] <= hi) & (w[None, :] > 0)
    ww = ok * w[None, :]
    tot = ww.sum(axis=1)
    has = tot > 0
    u = rng.random(m) * tot
    pick = np.minimum((np.cumsum(ww, axis=1) < u[:, None]).sum(axis=1), len(w) - 1)
    i1 = np.flatnonzero(has)
    o_, s_, q_ = [i1], [pick[i1]], [np.ones(i1.size, np.int64)]
    rest = np.flatnonzero(~has)
    if rest.size:
        o2, s2, q2 = _fill(gap[rest], cdf, price_c, cat.mu_q, rng)
        o_.append(rest[o2])
        s_.append(s2)
        q_.append(q2)
    return np.concatenate(o_), np.concatenate(s_), np.concatenate(q_)


def _baskets_and_inventory(
    cal: _Calendar,
    clock: _Clock,
    cat: _Catalogue,
    prices: _Prices,
    orders: _Orders,
    rng: np.random.Generator,
    ladder: _Ladder | None = None,
    lrng: np.random.Generator | None = None,
) -> _Baskets:
    """Order lines and the inventory recursion; with ``ladder``, orders on its days just
    below a threshold are topped up to it (extra draws from ``lrng``)."""
    n, S = cal.n, len(cat.sku)
    price_c = prices.price_d * 10
    w = np.exp(prices.logw - prices.logw.max())
    launched = np.arange(n)[:, None] >= cat.launch[None, :]
    # forecast used by the replenishment policy: expected units per SKU-day
    per_day = np.bincount(orders.day, minlength=n).astype(float)
    share = w * launched
    share = share / share.sum(axis=1, keepdims=True)
    line_value = (share * price_c * (1 + cat.mu_q)[None, :]).sum(axis=1)
    lines = orders.z.mean() / line_value + 0.5
    expected = per_day[:, None] * lines[:, None] * share * (1 + cat.mu_q)[None, :]
    horizon = int(cat.lead.max()) + 2 * REVIEW_DAYS + 2
    tail = np.repeat(expected[-28:].mean(axis=0, keepdims=True), horizon, axis=0)
    cum = np.concatenate([np.zeros((1, S)), np.cumsum(np.vstack([expected, tail]), axis=0)])
    cols = np.arange(S)

    def demand(d: int, days: np.ndarray) -> np.ndarray:
        return cum[d + days, cols] - cum[d, cols]

    arrivals = np.zeros((n + horizon + 1, S), dtype=np.int64)

    def cover(
        mu: np.ndarray,
    ) -> np.ndarray:  # forecast plus safety stock for lumpy (Poisson-like) sales
        return mu * (1 + SAFETY) + SAFETY_Z * np.sqrt(mu * (1 + cat.mu_q.max())) + 2

    def up_level(d: int) -> np.ndarray:
        return np.ceil(cover(demand(d, cat.lead + REVIEW_DAYS)))

    start_stock = (up_level(0) * rng.uniform(0.7, 1.0, S)).astype(np.int64) + CASE_PACK
    on_hand = np.where(cat.launch <= 0, start_stock, 0).astype(np.int64)
    late = np.flatnonzero(cat.launch > 0)
    arrivals[np.minimum(cat.launch[late], n), late] += (
        up_level(0)[late].astype(np.int64) + CASE_PACK
    )
    on_order = np.zeros(S, dtype=np.int64)
    on_order[late] = arrivals[np.minimum(cat.launch[late], n), late]
    backlog = np.zeros(S, dtype=np.int64)
    blocked = np.full(S, -1, dtype=np.int64)
    holds_by_day: dict[int, list[tuple[int, int]]] = {}
    for s, d1, h in cat.holds:
        holds_by_day.setdefault(d1, []).append((s, h))
    rec_hand = np.zeros((n, S), dtype=np.int64)
    rec_order = np.zeros((n, S), dtype=np.int64)
    avail_rec = np.zeros((n, S), dtype=bool)
    units_rec = np.zeros((n, S), dtype=np.int64)
    bounds = np.searchsorted(orders.day, np.arange(n + 1))
    lo_o, lo_s, lo_q = [], [], []
    for d in range(n):  # the inventory recursion (vectorised over SKUs and the day's orders)
        for s, h in holds_by_day.get(d, ()):
            on_hand[s] = 0
            backlog[s] = 0
            arrivals[d:, s] = 0
            q = int(up_level(min(d + h, n - 1))[s]) + CASE_PACK
            arrivals[d + h, s] = q
            on_order[s] = q
            blocked[s] = d + h
        arr = arrivals[d]
        on_hand += arr
        on_order -= arr
        ship = np.minimum(backlog, on_hand)
        on_hand -= ship
        backlog -= ship
        avail = launched[d] & (on_hand > 0)
        a, b = bounds[d], bounds[d + 1]
        if b > a:
            wd = w[d] * avail
            if wd.sum() <= 0:
                wd = w[d] * launched[d]
            o_, s_, q_ = _fill(orders.z[a:b], np.cumsum(wd), price_c[d], cat.mu_q, rng)
            if ladder is not None and lrng is not None and ladder.days[d]:
                o_, s_, q_ = _top_up(
                    ladder, o_, s_, q_, b - a, np.cumsum(wd), price_c[d], cat, lrng
                )
            lo_o.append(o_ + a)
            lo_s.append(s_)
            lo_q.append(q_)
            sold = np.bincount(s_, weights=q_, minlength=S).astype(np.int64)
        else:
            sold = np.zeros(S, dtype=np.int64)
        on_hand -= sold
        short = on_hand < 0
        backlog[short] -= on_hand[short]
        on_hand[short] = 0
        # replenishment: (s, S) on the inventory position with a forecast over the lead time
        ip = on_hand + on_order - backlog
        reorder_point = cover(demand(d + 1, cat.lead + 1))
        need = (ip < reorder_point) & launched[min(d + 1, n - 1)] & (d >= blocked)
        if need.any():
            j = np.flatnonzero(need)
            q = np.ceil((up_level(d + 1)[j] - ip[j]) / CASE_PACK).astype(np.int64) * CASE_PACK
            q = np.maximum(q, CASE_PACK)
            arrivals[d + 1 + cat.lead[j], j] += q
            on_order[j] += q
        rec_hand[d] = on_hand
        rec_order[d] = on_order
        avail_rec[d] = avail
        units_rec[d] = sold
    lo = np.concatenate(lo_o)
    ls = np.concatenate(lo_s).astype(np.int64)
    lq = np.concatenate(lo_q).astype(np.int64)
    # one line per order × SKU
    key = lo.astype(np.int64) * S + ls
    o = np.argsort(key, kind="stable")
    key, lq = key[o], lq[o]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    qty = np.add.reduceat(lq, starts)
    key = key[starts]
    lo, ls = key // S, key % S
    gross = np.bincount(
        lo, weights=qty * price_c[orders.day[lo], ls], minlength=len(orders.z)
    ).astype(np.int64)
    return _Baskets(lo, ls, qty, gross, rec_hand, rec_order, avail_rec, units_rec)
