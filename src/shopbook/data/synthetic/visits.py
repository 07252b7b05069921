"""Visits: customers' sessions after acquisition (channel, device, funnel stage, experiment
assignment, dropout) and prospects' failed visits before the first order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopbook.data.synthetic.clock import _Calendar, _Clock
from shopbook.data.synthetic.customers import _alive, _Customers
from shopbook.data.synthetic.experiments import _Exp, _pdp_counterfactual
from shopbook.data.synthetic.funnel import _Funnel, _stages
from shopbook.data.synthetic.loyalty import _Coupon, _coupon_day, _coupon_outcomes, _draw_coupon
from shopbook.data.synthetic.parameters import (
    CHANNELS,
    DEVICE_MIX,
    GAMMA_GAMMA,
    STICKINESS,
    TRAFFIC_DROP,
    VISIT_SHARE,
)
from shopbook.data.synthetic.sampling import _categorical, _minutes, _sorted_uniform_groups
from shopbook.data.synthetic.tiers import _Tiers, month_starts


@dataclass
class _Visits:
    """Post-acquisition visits that happened (the customer was still active)."""

    cust: np.ndarray  # int32
    t: np.ndarray  # days since start
    ch: np.ndarray  # int8
    dev: np.ndarray  # int8
    stage: np.ndarray  # int8: 0 none … 4 ordered
    order_t: np.ndarray  # buying visits: order time (session start + a few minutes); else the start
    moved: int  # visits moved away from the drop channel
    assignments: dict[str, dict[str, np.ndarray]]
    pdp_counterfactual: dict[str, float]
    coupon: _Coupon
    tiers: _Tiers
    z: np.ndarray  # net amount (cents) a buying visit's order has (Gamma-Gamma)
    z0: np.ndarray  # each customer's first order's net amount (cents)


def _visits(
    cal: _Calendar,
    clock: _Clock,
    funnel: _Funnel,
    cust: _Customers,
    exps: list[_Exp],
    drop_day: int,
    rng: np.random.Generator,
    lrng: np.random.Generator,
) -> _Visits:
    N = cust.n
    C = len(CHANNELS)
    cbar = STICKINESS * funnel.conv_ch[cust.home] + (1 - STICKINESS) * float(
        (VISIT_SHARE * funnel.conv_ch).sum()
    )
    g_end = clock.gday[-1]
    counts = rng.poisson(cust.lam / cbar * np.maximum(g_end - cust.u0, 0.0))
    frac = _sorted_uniform_groups(counts, rng)
    vc = np.repeat(np.arange(N, dtype=np.int32), counts)
    u = cust.u0[vc] + (g_end - cust.u0[vc]) * frac
    del frac
    t = clock.from_clock(u)
    del u
    n = len(t)
    # channel: sticky to the home channel (where the customer was acquired), else the general mix
    sticky = rng.random(n, dtype=np.float32) < STICKINESS
    general = np.minimum(
        np.searchsorted(np.cumsum(VISIT_SHARE), rng.random(n, dtype=np.float32), side="right"),
        C - 1,
    ).astype(np.int8)
    ch = np.where(sticky, cust.home[vc], general).astype(np.int8)
    del sticky, general
    dev = _categorical(np.cumsum(DEVICE_MIX, axis=1), ch, rng.random(n, dtype=np.float32))
    # traffic drop: a share of the drop channel's visits move to other channels
    drop = CHANNELS.index(TRAFFIC_DROP["channel"])
    moved = (
        (ch == drop)
        & (t >= drop_day)
        & (rng.random(n, dtype=np.float32) < TRAFFIC_DROP["fraction"])
    )
    mv = np.flatnonzero(moved)
    ch[mv] = _categorical(np.cumsum(funnel.move, axis=1), dev[mv], rng.random(len(mv)))
    del mv
    # experiments: arms are drawn up front for every customer
    arms = {e.name: rng.random(N) < e.share for e in exps}
    pdp = next(e for e in exps if e.name == "pdp_v2")
    eligible = cust.t0 < pdp.w0
    treat_visit = arms["pdp_v2"][vc] & eligible[vc] & (t >= pdp.w0) & (t < pdp.w1)
    uu = rng.random(n, dtype=np.float32)
    # a buying visit's order time and its Gamma-Gamma net amount (cents) are drawn for every
    # visit up front: the tier reviews need the spend of the purchases so far
    order_t = np.minimum(t + _minutes(rng, n), cal.n - 1 / 86400)
    z = _net_cents(lrng, cust.nu[vc])
    z0 = _net_cents(lrng, cust.nu)
    boost = np.where(treat_visit, 1.0 + pdp.lift, 1.0)
    stage = _stages(funnel, ch, dev, uu, boost)
    keep = _alive(vc, stage == 4, cust.J, N)
    stage, keep, coupon, tiers = _loyalty_events(
        cal, funnel, cust, vc, t, order_t, z, z0, ch, dev, uu, stage, keep, boost, lrng
    )
    # assignments: first kept visit in each window, customers acquired before it starts
    assignments: dict[str, dict[str, np.ndarray]] = {}
    for e in exps:
        inwin = keep & (t >= e.w0) & (t < e.w1)
        idx = np.flatnonzero(inwin)
        idx = idx[cust.t0[vc[idx]] < e.w0]
        units, first = np.unique(vc[idx], return_index=True)
        assignments[e.name] = {"cust": units, "t": t[idx[first]], "treat": arms[e.name][units]}
    # pdp_v2 counterfactual: the treated units' outcomes had they been in control
    cf = _pdp_counterfactual(
        vc,
        t,
        ch,
        dev,
        uu,
        stage,
        keep,
        treat_visit,
        boost,
        funnel,
        cust,
        assignments["pdp_v2"],
        pdp,
    )
    del uu, treat_visit
    sel = np.flatnonzero(keep)
    t, stage = t[sel], stage[sel]
    order_t = np.where(stage == 4, order_t[sel], t)
    return _Visits(
        vc[sel],
        t,
        ch[sel],
        dev[sel],
        stage,
        order_t,
        int(moved[sel].sum()),
        assignments,
        cf,
        coupon,
        tiers,
        z[sel],
        z0,
    )


def _net_cents(rng: np.random.Generator, nu: np.ndarray) -> np.ndarray:
    """Gamma-Gamma net amounts, Gamma(p, rate ν), in whole cents (at least one)."""
    z = rng.gamma(GAMMA_GAMMA["p"], 1.0 / nu)
    return np.maximum(np.round(z * 100), 1).astype(np.int64)


def _secs(t: np.ndarray) -> np.ndarray:
    """Days since start → whole seconds, as the tables write timestamps."""
    return np.floor(np.asarray(t) * 86400.0).astype(np.int64)


def _loyalty_events(
    cal: _Calendar,
    funnel: _Funnel,
    cust: _Customers,
    vc: np.ndarray,
    t: np.ndarray,
    order_t: np.ndarray,
    z: np.ndarray,
    z0: np.ndarray,
    ch: np.ndarray,
    dev: np.ndarray,
    uu: np.ndarray,
    stage: np.ndarray,
    keep: np.ndarray,
    boost: np.ndarray,
    lrng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, _Coupon, _Tiers]:
    """The tier reviews and the repurchase coupon, in time order. Each event changes only
    visits after it (their funnel stage through ``boost``, the same uniforms; dropout
    re-run), so at every event the purchases before it are final. ``boost`` is updated in
    place. Returns the stages, the kept mask, the coupon and the tiers with their
    realised effects (each against the same draws without it)."""
    N = cust.n
    tiers = _Tiers.make(cal, N, len(t))
    ms = month_starts(cal)
    osec, first_sec = _secs(order_t), _secs(cust.t0)
    coupon_day = _coupon_day(cal)
    events: list[tuple[int, int, int]] = [(after, 0, m) for m, after in tiers.reviews]
    events.append((coupon_day, 1, -1))
    coupon: _Coupon | None = None
    cv = np.zeros(0, np.int64)
    for when, kind, month in sorted(events):
        if when >= cal.n:  # a review at the data's end: nothing after it to lift
            continue
        buy = np.flatnonzero(keep & (stage == 4))
        if kind == 0:
            up = tiers.review(month, when, ms, vc[buy], osec[buy], z[buy], first_sec, z0)
            hit = np.zeros(N, bool)
            hit[up] = True
            aff = np.flatnonzero(hit[vc] & (t >= when) & (t < when + tiers.days))
            tiers.factor[aff] *= 1.0 + tiers.lift
        else:
            coupon = _draw_coupon(cal, cust.t0, vc[buy], t[buy], lrng)
            treated = np.zeros(N, bool)
            treated[coupon.cust[coupon.treat]] = True
            aff = np.flatnonzero(
                treated[vc] & (t >= coupon.sent) & (t < coupon.sent + coupon.valid_days)
            )
            cv = aff
        if aff.size:
            boost[aff] *= (1.0 + tiers.lift) if kind == 0 else (1.0 + coupon.lift)  # type: ignore[union-attr]
            stage = stage.copy()
            stage[aff] = _stages(funnel, ch[aff], dev[aff], uu[aff], boost[aff])
            keep = _alive(vc, stage == 4, cust.J, N)
    assert coupon is not None  # its day is a fraction (< 1) of the shop's days
    b1 = np.flatnonzero(keep & (stage == 4))
    # each plant against the same draws without it (the other plants as they happened)
    lifted = np.flatnonzero(tiers.factor != 1.0)
    for name, aff, divisor in (
        ("tiers", lifted, tiers.factor[lifted]),
        ("coupon", cv, 1.0 + coupon.lift),
    ):
        st_cf = stage.copy()
        if aff.size:
            st_cf[aff] = _stages(funnel, ch[aff], dev[aff], uu[aff], boost[aff] / divisor)
        keep_cf = _alive(vc, st_cf == 4, cust.J, N) if aff.size else keep
        bcf = np.flatnonzero(keep_cf & (st_cf == 4))
        if name == "tiers":
            tiers.outcomes(cal, N, vc[b1], osec[b1], vc[bcf], osec[bcf])
        else:
            coupon.realised = _coupon_outcomes(coupon, cust.t0, vc[b1], t[b1], vc[bcf], t[bcf])
    return stage, keep, coupon, tiers


@dataclass
class _Prospects:
    """Failed visits before a customer's first order (no customer id yet)."""

    cust: np.ndarray
    t: np.ndarray
    ch: np.ndarray
    dev: np.ndarray
    stage: np.ndarray
    first_dev: np.ndarray  # device of the first order's session, per customer
    moved: int


def _prospect_visits(
    cal: _Calendar, funnel: _Funnel, cust: _Customers, drop_day: int, rng: np.random.Generator
) -> _Prospects:
    N = cust.n
    home = cust.home
    nfail = rng.geometric(funnel.conv_ch[home]) - 1
    pc_ = np.repeat(np.arange(N, dtype=np.int32), nfail)
    pch = home[pc_]
    fail_w = DEVICE_MIX * (1 - funnel.conv)
    buy_w = DEVICE_MIX * funnel.conv
    dev = _categorical(
        np.cumsum(fail_w / fail_w.sum(1, keepdims=True), axis=1), pch, rng.random(len(pc_))
    )
    first_dev = _categorical(
        np.cumsum(buy_w / buy_w.sum(1, keepdims=True), axis=1), cust.channel, rng.random(N)
    )
    cp4 = funnel.cp[pch, dev, 3]
    stage = _stages(
        funnel, pch, dev, cp4 + (1 - cp4) * rng.random(len(pc_))
    )  # conditional on no order
    # times: backwards from the first order, gaps of ~1.5 days, squeezed into the data window
    gaps = rng.standard_exponential(len(pc_) + N) * 1.5
    grp = np.repeat(np.arange(N), nfail + 1)
    cs = np.cumsum(gaps)
    ends = np.cumsum(nfail + 1) - 1
    base = np.concatenate([[0.0], cs[ends[:-1]]])
    within = cs - base[grp]
    span = within[ends]
    scale = np.minimum(1.0, cust.t0 * 0.999 / np.maximum(span, 1e-9))
    mask = np.ones(len(cs), dtype=bool)
    mask[ends] = False
    back = within[mask] * scale[pc_]
    t = cust.t0[pc_] - back
    # the traffic drop moves each of the channel's visits from its date on, as for customers' visits
    drop = CHANNELS.index(TRAFFIC_DROP["channel"])
    mv = np.flatnonzero(
        (pch == drop) & (t >= drop_day) & (rng.random(len(pc_)) < TRAFFIC_DROP["fraction"])
    )
    pch = pch.copy()
    pch[mv] = _categorical(np.cumsum(funnel.move, axis=1), dev[mv], rng.random(len(mv)))
    cp4 = funnel.cp[pch[mv], dev[mv], 3]
    stage[mv] = _stages(funnel, pch[mv], dev[mv], cp4 + (1 - cp4) * rng.random(len(mv)))
    return _Prospects(pc_, t, pch, dev, stage, first_dev, len(mv))
