"""Visits: customers' sessions after acquisition (channel, device, funnel stage, experiment
assignment, dropout) and prospects' failed visits before the first order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopbook.data.synthetic.clock import _Calendar, _Clock
from shopbook.data.synthetic.customers import _alive, _Customers
from shopbook.data.synthetic.experiments import _Exp, _pdp_counterfactual
from shopbook.data.synthetic.funnel import _Funnel, _stages
from shopbook.data.synthetic.loyalty import _Coupon, _coupon_outcomes, _draw_coupon
from shopbook.data.synthetic.parameters import (
    CHANNELS,
    DEVICE_MIX,
    STICKINESS,
    TRAFFIC_DROP,
    VISIT_SHARE,
)
from shopbook.data.synthetic.sampling import _categorical, _minutes, _sorted_uniform_groups


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
    stage = _stages(funnel, ch, dev, uu, treat_visit, pdp.lift)
    keep = _alive(vc, stage == 4, cust.J, N)
    stage, keep, coupon = _coupon_visits(cal, funnel, cust, vc, t, ch, dev, uu, stage, keep, lrng)
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
        vc, t, ch, dev, uu, stage, keep, treat_visit, funnel, cust, assignments["pdp_v2"], pdp
    )
    del uu, treat_visit
    sel = np.flatnonzero(keep)
    t, stage = t[sel], stage[sel]
    order_t = np.minimum(t + np.where(stage == 4, _minutes(rng, len(t)), 0.0), cal.n - 1 / 86400)
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
    )


def _coupon_visits(
    cal: _Calendar,
    funnel: _Funnel,
    cust: _Customers,
    vc: np.ndarray,
    t: np.ndarray,
    ch: np.ndarray,
    dev: np.ndarray,
    uu: np.ndarray,
    stage: np.ndarray,
    keep: np.ndarray,
    lrng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, _Coupon]:
    """The repurchase coupon: recent buyers split at random; the treated arm's visits in
    the coupon's validity convert with the coupon's lift (the same uniforms), dropout
    re-run. Returns the new stages and kept mask, and the coupon with its outcomes."""
    buy0 = keep & (stage == 4)
    coupon = _draw_coupon(cal, cust.t0, vc[buy0], t[buy0], lrng)
    treated = np.zeros(cust.n, bool)
    treated[coupon.cust[coupon.treat]] = True
    cv = np.flatnonzero(treated[vc] & (t >= coupon.sent) & (t < coupon.sent + coupon.valid_days))
    new_stage, new_keep = stage, keep
    if cv.size:
        new_stage = stage.copy()
        new_stage[cv] = _stages(
            funnel, ch[cv], dev[cv], uu[cv], np.ones(cv.size, bool), coupon.lift
        )
        new_keep = _alive(vc, new_stage == 4, cust.J, cust.n)
    b1 = new_keep & (new_stage == 4)
    coupon.realised = _coupon_outcomes(coupon, cust.t0, vc[b1], t[b1], vc[buy0], t[buy0])
    return new_stage, new_keep, coupon


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
