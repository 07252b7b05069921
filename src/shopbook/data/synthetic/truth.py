"""The planted truth: everything the simulator planted, JSON-serialisable, in the units a
test checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from shopbook.data.synthetic.baskets import _Baskets
from shopbook.data.synthetic.catalogue import _Catalogue, _Prices
from shopbook.data.synthetic.clock import _Calendar, _Clock, member_day_since
from shopbook.data.synthetic.customers import _Customers
from shopbook.data.synthetic.experiments import _Exp
from shopbook.data.synthetic.funnel import _Funnel
from shopbook.data.synthetic.marketing import _Marketing, _marketing_truth
from shopbook.data.synthetic.orders import _Orders
from shopbook.data.synthetic.parameters import (
    ACQUISITION_GROWTH,
    ANONYMOUS,
    BGNBD,
    CASE_PACK,
    CATEGORIES,
    CHANNEL_NAMES,
    CHANNELS,
    CNY_DIP,
    CROSS_PRICE_ELASTICITY,
    CURRENCY,
    DEMAND_SHOCK,
    DEVICE_MIX,
    DEVICES,
    EXPERIMENTS,
    FESTIVALS,
    GAMMA_GAMMA,
    GENERATOR_VERSION,
    HOUR_WEIGHTS,
    MEMBER_DAY,
    PROMOTIONS,
    REGIONS,
    REVIEW_DAYS,
    SAFETY,
    SAFETY_Z,
    STAGES,
    STICKINESS,
    TIERS,
    TRAFFIC_DROP,
    VISIT_SHARE,
    WEEKLY,
    YEARLY_AMPLITUDE,
    YEARLY_PEAK_DOY,
)
from shopbook.data.synthetic.visits import _Prospects, _Visits


def _runs(days: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive runs ``(first, last)`` of sorted day indices."""
    if days.size == 0:
        return []
    cut = np.flatnonzero(np.diff(days) > 1)
    firsts = np.concatenate([[days[0]], days[cut + 1]])
    lasts = np.concatenate([days[cut], [days[-1]]])
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


def _truth(
    cal: _Calendar,
    clock: _Clock,
    funnel: _Funnel,
    mkt: _Marketing,
    cust: _Customers,
    vis: _Visits,
    pros: _Prospects,
    orders: _Orders,
    cat: _Catalogue,
    prices: _Prices,
    baskets: _Baskets,
    exps: list[_Exp],
    extra: dict[str, Any],
    *,
    customers: int,
    seed: int,
    dirty: bool,
) -> dict[str, Any]:
    """The truth dict (its keys in this order; ``dirty`` and ``sizes`` are added by the caller)."""
    t = _identity(cal, customers=customers, seed=seed, dirty=dirty)
    t["purchase_clock"] = _purchase_clock(cal, clock)
    t["bgnbd"] = _bgnbd()
    t["gamma_gamma"] = _gamma_gamma()
    t["seasonality"] = _seasonality(clock)
    t["festivals"] = _festivals(cal, clock)
    t["acquisition"] = _acquisition(cust)
    t["marketing"] = _marketing_truth(mkt, customers)
    t["traffic_drop"] = _traffic_drop(cal, funnel, mkt, cust, vis, pros)
    t["funnel"] = _funnel_truth(funnel)
    t["experiments"] = _experiments(cal, exps, vis)
    t["products"] = _products(cat, prices, baskets)
    t["inventory"] = _inventory(cal, cat, baskets)
    t["customers"] = _customers_truth(extra)
    t["orders"] = _orders_truth(orders, extra)
    return t


# ----------------------------------------------------------------------------- the shop
def _identity(cal: _Calendar, *, customers: int, seed: int, dirty: bool) -> dict[str, Any]:
    return {
        "generator": {
            "module": "shopbook.data.synthetic",
            "version": GENERATOR_VERSION,
            "customers": customers,
            "start": cal.start.date().isoformat(),
            "end": cal.end.date().isoformat(),
            "seed": seed,
            "dirty": bool(dirty),
        },
        "currency": CURRENCY,
        "timezone": "naive local time (Asia/Shanghai)",
        "channels": {c: {"display_name": CHANNEL_NAMES[c]} for c in CHANNELS},
        "devices": list(DEVICES),
    }


# ----------------------------------------------------------------------------- clock & customers
def _purchase_clock(cal: _Calendar, clock: _Clock) -> dict[str, Any]:
    return {
        "start": cal.start.date().isoformat(),
        "daily_multiplier": clock.m.tolist(),
        "hour_weights": HOUR_WEIGHTS.tolist(),
        "definition": "clock(t) = sum of daily_multiplier over the days before t's day + that "
        "day's multiplier × the share of hour_weights (piecewise linear by hour) elapsed on the "
        "day; one clock day = one calendar day of average intensity in a typical year. "
        "shopbook.data.synthetic.clock_days(truth, timestamps) computes it.",
    }


def _bgnbd() -> dict[str, Any]:
    return {
        **BGNBD,
        "time_unit": "day",
        "clock": "purchase_clock",
        "meaning": "repeat purchases (paid orders after a customer's first order) of each "
        "customer follow BG/NBD exactly in purchase-clock days since their first order: "
        "λ ~ Gamma(shape r, rate alpha) per day, dropout after each repeat purchase with "
        "p ~ Beta(a, b). On calendar days the fit is close but not exact (festivals compress "
        "time: a and b come out roughly 5–12 % low). Purchase times are session starts; "
        "order_ts is a few minutes later. pdp_v2 treated units purchase at rate λ·(1 + lift) "
        "inside that experiment's window after assignment.",
        "mean_purchase_rate_per_day": BGNBD["r"] / BGNBD["alpha"],
        "mean_dropout_probability": BGNBD["a"] / (BGNBD["a"] + BGNBD["b"]),
    }


def _gamma_gamma() -> dict[str, Any]:
    gg = GAMMA_GAMMA
    return {
        **gg,
        "currency": CURRENCY,
        "applies_to": "orders.net_amount of every clean (paid) order, first and repeat",
        "meaning": "net_amount ~ Gamma(shape p, rate ν) per order, ν ~ Gamma(shape q, rate "
        "gamma) per customer; independent of purchase timing, channel, experiments and prices",
        "mean_order_value": gg["p"] * gg["gamma"] / (gg["q"] - 1),
    }


def _seasonality(clock: _Clock) -> dict[str, Any]:
    dow_names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    return {
        "weekly_multiplier": dict(zip(dow_names, WEEKLY.round(6).tolist(), strict=True)),
        "yearly": {
            "form": "1 + amplitude·cos(2π(day_of_year − peak_day_of_year)/365.25)",
            "amplitude": YEARLY_AMPLITUDE,
            "peak_day_of_year": YEARLY_PEAK_DOY,
        },
        "festival_normaliser": clock.norm,
        "acquisition_growth_per_year": ACQUISITION_GROWTH,
        "meaning": "daily_multiplier = weekly × yearly × (1 + festival uplift) / "
        "festival_normaliser; it scales purchases, acquisitions and sessions alike",
    }


def _festival_entry(cal: _Calendar, ev: dict[str, Any]) -> dict[str, Any]:
    iso = cal.iso
    days = ev["days"]
    entry = {
        "year": ev["year"],
        "start": iso(days[0]),
        "end": iso(days[-1]),
        "complete": ev["complete"],
        "uplift_pct_by_day": {
            iso(d): round(100 * float(u), 4) for d, u in zip(days, ev["uplift"], strict=True)
        },
        "mean_uplift_pct": round(100 * float(ev["uplift"].mean()), 4),
    }
    if ev["festival"] == "cny":
        entry["new_year_day"] = ev["new_year_day"]
        entry["days_off"] = list(ev["days_off"])
    else:
        f = FESTIVALS[ev["festival"]]
        entry["peak"] = f"{ev['year']}-{f['month']:02d}-{f['peak_day']:02d}"
        entry["peak_uplift_pct"] = 100 * f["peak_uplift"]
    return entry


def _festivals(cal: _Calendar, clock: _Clock) -> dict[str, Any]:
    fest: dict[str, list[dict[str, Any]]] = {"618": [], "double11": [], "cny_dip": []}
    for ev in clock.events:
        key = "cny_dip" if ev["festival"] == "cny" else ev["festival"]
        fest[key].append(_festival_entry(cal, ev))
    return {
        "meaning": "uplift_pct_by_day: % by which the intensity of orders, new customers and "
        "sessions that day exceeds the same day without the festival (weekly, yearly and trend "
        "effects kept), i.e. E[orders | festival] = (1 + pct/100) × E[orders | no festival] "
        "given the customer base",
        "display_names": {k: v["display_name"] for k, v in FESTIVALS.items()}
        | {"cny_dip": "Chinese New Year (春节)"},
        "shape": {
            k: {x: v[x] for x in ("base_uplift", "peak_uplift", "decay_days")}
            for k, v in FESTIVALS.items()
        }
        | {
            "cny_dip": {
                **CNY_DIP,
                "days": "the Spring Festival event of shopbook.calendars (logistics stop "
                "before the official days off, then the days off; holidays.China)",
            }
        },
        **fest,
        "member_day": _member_day(cal, clock),
    }


def _member_day(cal: _Calendar, clock: _Clock) -> dict[str, Any]:
    first = member_day_since(cal)
    days = [cal.iso(d) for d in range(first, cal.n, 7)]
    return {
        "weekday": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][MEMBER_DAY["weekday"]],
        "weekday_number": MEMBER_DAY["weekday"],
        "since": days[0] if days else None,
        "uplift_pct": round(100 * MEMBER_DAY["uplift"], 4),
        "days": days,
        "meaning": "on each member day the intensity of orders, new customers and sessions is "
        "(1 + uplift_pct/100) × that of the same weekday without it; festival uplifts on a "
        "member day are relative to the member-day intensity",
    }


def _acquisition(cust: _Customers) -> dict[str, Any]:
    return {
        "customers_by_channel": {c: int((cust.channel == i).sum()) for i, c in enumerate(CHANNELS)},
        "moved_from_drop_channel": cust.moved,
        "growth_per_year": ACQUISITION_GROWTH,
    }


# ----------------------------------------------------------------------------- traffic
def _traffic_drop(
    cal: _Calendar,
    funnel: _Funnel,
    mkt: _Marketing,
    cust: _Customers,
    vis: _Visits,
    pros: _Prospects,
) -> dict[str, Any]:
    drop = CHANNELS.index(TRAFFIC_DROP["channel"])
    return {
        "channel": TRAFFIC_DROP["channel"],
        "date": cal.iso(mkt.drop_day),
        "fraction": TRAFFIC_DROP["fraction"],
        "meaning": "from this date (inclusive) each session of the channel (customers', "
        "prospects', first orders') and each new customer is moved with probability `fraction` "
        "to another channel: the channel's sessions and acquisitions are (1 − fraction) × what "
        "they would have been; total sessions and purchases are unchanged (moved visits "
        "convert, on average, as the lost ones would have). moved_sessions counts the moved "
        "sessions in the data, so the channel's sessions from the date are "
        "moved_sessions.total × (1 − fraction) / fraction in expectation",
        "acquisitions_moved_to": {
            CHANNELS[c]: float(VISIT_SHARE[c] / (1 - VISIT_SHARE[drop]))
            for c in range(len(CHANNELS))
            if c != drop
        },
        "moved_to_by_device": {
            DEVICES[v]: {
                CHANNELS[c]: float(funnel.move[v, c]) for c in range(len(CHANNELS)) if c != drop
            }
            for v in range(len(DEVICES))
        },
        "moved_sessions": {
            "customers": vis.moved,
            "prospects": pros.moved,
            "first_orders": cust.moved,
            "total": vis.moved + pros.moved + cust.moved,
        },
    }


def _funnel_truth(funnel: _Funnel) -> dict[str, Any]:
    rates = {
        c: {
            d: {
                **{s: float(funnel.rates[i, j, k_]) for k_, s in enumerate(STAGES)},
                "session_conversion": float(funnel.conv[i, j]),
            }
            for j, d in enumerate(DEVICES)
        }
        for i, c in enumerate(CHANNELS)
    }
    return {
        "stages": list(STAGES),
        "meaning": "per session of a channel × device: product_view = P(product_views > 0), "
        "add_to_cart = P(added_to_cart | product view), checkout = P(reached_checkout | cart), "
        "order = P(order | checkout); session_conversion is their product. Exact in "
        "expectation for every channel × device outside pdp_v2's treated arm (whose "
        "add_to_cart rate is × (1 + lift) in its window)",
        "rates": rates,
        "device_mix": {
            c: dict(zip(DEVICES, DEVICE_MIX[i].tolist(), strict=True))
            for i, c in enumerate(CHANNELS)
        },
        "channel_stickiness": STICKINESS,
        "visit_share": dict(zip(CHANNELS, VISIT_SHARE.tolist(), strict=True)),
        "anonymous_share_of_non_buying_sessions": dict(
            zip(DEVICES, ANONYMOUS.tolist(), strict=True)
        ),
    }


# ----------------------------------------------------------------------------- experiments
def _pdp_realised(cf: dict[str, float]) -> dict[str, Any]:
    return {
        **cf,
        "relative_lift_orders_treated": (cf["orders"] / cf["orders_if_control"] - 1)
        if cf["orders_if_control"]
        else None,
        "meaning": "the treated units' orders (and units with an order) in the window after "
        "assignment, and the same had they been in control (same random draws): the in-sample "
        "effect",
    }


def _experiments(cal: _Calendar, exps: list[_Exp], vis: _Visits) -> dict[str, Any]:
    iso = cal.iso
    ex: dict[str, Any] = {}
    for e in exps:
        cfg = EXPERIMENTS[e.name]
        a = vis.assignments[e.name]
        entry = {
            "description": cfg["description"],
            "start": iso(e.w0),
            "end": iso(e.w1 - 1),
            "unit": "visitor_id",
            "eligibility": "visitors of customers acquired before the start with a session in "
            "the window; assigned_ts is the start of their first session in the window",
            "variants": {"control": 1 - e.share, "treatment": e.share},
            "intended_split": {"control": 0.5, "treatment": 0.5},
            "units": {"control": int((~a["treat"]).sum()), "treatment": int(a["treat"].sum())},
            "relative_lift": e.lift,
            "aov_relative_lift": 0.0,
            "pre_period_days_available": int(e.w0),
        }
        if e.name == "pdp_v2":
            entry["lift_metric"] = (
                "relative lift of session conversion (orders / sessions) and of the add-to-cart "
                "rate, and of the purchase intensity of exposed units while active, in the "
                "window after assignment; orders per unit rise slightly less (purchases also "
                "trigger dropout: see realised); no effect on sessions per unit or on order value"
            )
            entry["realised"] = _pdp_realised(vis.pdp_counterfactual)
        if e.name == "checkout_srm":
            entry["srm"] = "assignment bug: treatment gets 48% of units instead of 50%"
        ex[e.name] = entry
    return ex


# ----------------------------------------------------------------------------- products & stock
def _products(cat: _Catalogue, prices: _Prices, baskets: _Baskets) -> dict[str, Any]:
    cats = list(CATEGORIES)
    a_, b_ = cat.pair
    avail = baskets.available
    lp = np.log(prices.price_d / prices.list_d)
    corr = float(np.corrcoef(lp[avail], prices.xi[avail])[0, 1])
    kinds = prices.kind[avail]
    return {
        "n_skus": len(cat.sku),
        "categories": {
            c: {
                "display_name": CATEGORIES[c][0],
                "n_skus": int((cat.category == i).sum()),
                "own_price_elasticity": CATEGORIES[c][4],
                "median_list_price_cny": CATEGORIES[c][2],
                "lead_time_days": CATEGORIES[c][5],
                "extra_units_per_line": CATEGORIES[c][6],
            }
            for i, c in enumerate(cats)
        },
        "substitutes": {
            "skus": [cat.sku[a_], cat.sku[b_]],
            "cross_price_elasticity": CROSS_PRICE_ELASTICITY,
            "meaning": "each SKU's demand has elasticity +0.6 to the other's unit price "
            "(symmetric)",
        },
        "demand_model": "E[units of SKU s on day d | in stock] = C(d) · "
        "exp(own_price_elasticity(category) · log(unit_price_sd) + cross · log(partner price) "
        "+ α_s + ξ_sd); C(d) is common to all SKUs on a day (a day fixed effect), α_s a SKU "
        "fixed effect, ξ an unobserved AR(1) demand shock; unit_price is the SKU's price that "
        "day (identical on all its lines that day). Days a SKU is out of stock have no sales "
        "and are censored, not zero demand",
        "demand_shock": dict(DEMAND_SHOCK, time_unit="day"),
        "promotions": {
            **{k_: v for k_, v in PROMOTIONS.items()},
            "meaning": "unit_price = list_price × (1 − depth), rounded to 0.1 CNY. Planned: "
            "festival windows (per SKU and window) and random weeks; reactive: per SKU-week "
            "with logit probability logit(reactive_base_probability) + reactive_slope · "
            "ξ(week start)/sd — promotions land on demand peaks, so naive regressions of log "
            "units on log price overstate elasticity",
            "sku_days_by_kind": {
                name: int((kinds == i).sum())
                for i, name in enumerate(("none", "festival", "random", "reactive"))
            },
        },
        "list_prices": "list_price = floor(unit_cost / cost ratio) + 0.9 CNY: list changes are "
        "cost pass-through (exogenous to demand; unit_cost is a valid instrument)",
        "confounding": {
            "reactive_slope_logit_per_sd": PROMOTIONS["reactive_slope"],
            "corr_log_discount_vs_shock": corr,
            "meaning": "corr over in-stock SKU-days between log(unit_price/list_price) and the "
            "demand shock ξ",
        },
    }


def _inventory(cal: _Calendar, cat: _Catalogue, baskets: _Baskets) -> dict[str, Any]:
    iso = cal.iso
    planted = []
    hand = baskets.on_hand
    launched = np.arange(cal.n)[:, None] >= np.maximum(cat.launch, 0)[None, :]
    hold_mask = np.zeros_like(launched)
    for s, d1, h in cat.holds:
        hold_mask[d1 : d1 + h, s] = True
        planted.append(
            {
                "sku": cat.sku[s],
                "first_day": iso(d1),
                "last_day": iso(d1 + h - 1),
                "days": int(h),
                "cause": "quality hold: stock written off on first_day, replacement arrives the "
                "day after last_day; on_hand is 0 and nothing sells on these days",
            }
        )
    natural = launched & (hand == 0) & ~hold_mask
    nat_runs = []
    for sku in np.flatnonzero(natural.any(axis=0)):
        for f, l_ in _runs(np.flatnonzero(natural[:, sku])):
            nat_runs.append(
                {"sku": cat.sku[sku], "first_day": iso(f), "last_day": iso(l_), "days": l_ - f + 1}
            )
    return {
        "policy": "daily (s, S) review on inventory position; reorder point = cover(forecast "
        f"over the lead time + 1 day), order up to cover(forecast over lead time + {REVIEW_DAYS} "
        f"days), cover(μ) = {1 + SAFETY}·μ + {SAFETY_Z}·sqrt(μ·{1 + cat.mu_q.max():g}) + 2, "
        f"in cases of {CASE_PACK}; deliveries arrive lead_time_days after ordering; sales "
        "beyond stock are backordered and shipped from the next delivery",
        "on_hand_meaning": "units in stock at the end of the day",
        "stockouts": planted,
        "natural_stockout_sku_days": int(natural.sum()),
        "natural_stockouts": nat_runs,
    }


def _customers_truth(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "region_shares": REGIONS,
        "member_tier_rule": {
            "based_on": "lifetime net_amount of clean (paid) orders, CNY",
            "lower_bounds_cny": TIERS,
        },
        "member_tiers": extra["tier_counts"],
    }


def _orders_truth(orders: _Orders, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "first_order": "each customer's first order is at signup (BG/NBD time zero), through "
        "the acquisition channel",
        "discount_meaning": "discount_amount = gross_amount − net_amount: the order-level coupon "
        "that brings the basket (filled until it covers the Gamma-Gamma amount) to the amount "
        "paid",
        "discount_share_of_gross": extra["discount_share"],
        "repeat_orders": int((~orders.first).sum()),
    }
