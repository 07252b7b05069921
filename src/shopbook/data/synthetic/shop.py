"""The top level: :class:`Shop` and :func:`generate`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopbook.data.synthetic.baskets import _baskets_and_inventory
from shopbook.data.synthetic.catalogue import _catalogue, _prices
from shopbook.data.synthetic.clock import _Calendar, _Clock
from shopbook.data.synthetic.customers import _customers
from shopbook.data.synthetic.experiments import _experiment_windows
from shopbook.data.synthetic.funnel import _Funnel
from shopbook.data.synthetic.loyalty import _Ladder, _loyalty_truth
from shopbook.data.synthetic.marketing import _marketing
from shopbook.data.synthetic.mess import _plant_mess
from shopbook.data.synthetic.orders import _orders
from shopbook.data.synthetic.tables import _assemble
from shopbook.data.synthetic.truth import _truth
from shopbook.data.synthetic.visits import _prospect_visits, _visits


@dataclass
class Shop:
    """A generated shop.

    Attributes
    ----------
    tables
        The ten contract tables, ``{name: DataFrame}``, columns in contract order. Text
        columns are ``string[pyarrow]``, timestamps ``datetime64[ns]`` (naive local time),
        dates ``date32[pyarrow]``.
    truth
        Everything planted, JSON-serialisable, with units stated (see :func:`generate`).
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"Shop({sizes})"


def generate(
    customers: int = 20_000,
    start: str | dt.date = "2023-01-01",
    end: str | dt.date = "2024-12-31",
    seed: int = 0,
    dirty: bool = False,
) -> Shop:
    """Simulate a shop with planted truths.

    Parameters
    ----------
    customers
        Number of customers (each with at least one order). Everything else scales with
        it: orders ≈ 2.5 per customer over two years, sessions ≈ 7 per order.
    start, end
        First and last calendar day (inclusive); at least 120 days, not in the future.
    seed
        Seed of the random streams; the same arguments give identical tables.
    dirty
        Add known realistic mess (see ``truth["dirty"]``).

    Returns
    -------
    Shop
        ``tables`` (all ten contract tables) and ``truth``. Truth keys:

        ``generator``, ``currency``, ``timezone``, ``channels``, ``devices``
            What was generated and the ids used.
        ``purchase_clock``
            ``daily_multiplier`` m(d) per day from ``start``, ``hour_weights``; see
            :func:`clock_days`.
        ``bgnbd``
            ``r, alpha, a, b`` with ``time_unit: "day"`` (clock days); λ ~ Gamma(r, rate
            α) per day, dropout p ~ Beta(a, b).
        ``gamma_gamma``
            ``p, q, gamma``: net amount (CNY) of every paid order ~ Gamma(p, rate ν),
            ν ~ Gamma(q, rate γ); ``mean_order_value`` = pγ/(q−1).
        ``seasonality``
            Weekly multipliers, yearly cycle, acquisition growth.
        ``festivals``
            Per festival occurrence: window, peak, ``uplift_pct_by_day`` — the % by which
            orders, acquisitions and sessions exceed the no-festival intensity that day;
            ``cny_dip`` lies on the Spring Festival event of
            :func:`shopbook.calendars.spring_festival_event` (``days_off``: the official
            days off); ``member_day``: the weekly member day's weekday, first day, days
            and ``uplift_pct``.
        ``acquisition``, ``marketing``
            Customer intake by channel and the spend-response curve per channel.
        ``traffic_drop``
            Channel, date and fraction by which its sessions fall.
        ``funnel``
            Stage rates and session conversion per channel and device.
        ``experiments``
            Windows, allocation, lift and its metric, realised sample effects.
        ``products``
            Categories with own-price elasticity, the substitute pair, demand model,
            promotions and confounding.
        ``inventory``
            Policy, planted stock-outs (dates), natural stock-out days.
        ``customers``
            Region shares, member tier rule.
        ``orders``
            First orders, the meaning of order-level discounts and their share of gross.
        ``loyalty``
            The ladder discount (windows, steps, orders topped up to each threshold:
            the bunching mass ``moved_share``), the repurchase coupon (random arms,
            send time, lift, realised repurchase within 7/14/30 days by arm and the
            treated arm's rate had it been control: ``uplift_pp``) and the tiers (rules,
            reviews, the upgrade's lift and its realised uplift on purchase within
            ``upgrade_days``, for all upgrades and the ``near`` ones an RD design
            compares). The member-day lift is ``festivals.member_day``.
        ``dirty``
            Planted mess counts and the expected validation rejects by reason.
        ``sizes``
            Rows per table.

    Raises
    ------
    ValueError
        For a bad number of customers or dates.
    """
    customers = int(customers)
    if customers < 50:
        raise ValueError(f"customers must be at least 50, got {customers}")
    cal = _Calendar.make(start, end)
    streams = (
        "clock",
        "marketing",
        "customers",
        "visits",
        "prospects",
        "orders",
        "catalogue",
        "prices",
        "baskets",
        "sessions",
        "mess",
        "loyalty",
    )
    rng = dict(
        zip(
            streams,
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(streams))),
            strict=True,
        )
    )

    clock = _Clock.make(cal)
    funnel = _Funnel.make()
    mkt = _marketing(cal, clock, customers, rng["marketing"])
    cust = _customers(cal, clock, mkt, funnel, customers, rng["customers"])
    exps = _experiment_windows(cal)
    vis = _visits(cal, clock, funnel, cust, exps, mkt.drop_day, rng["visits"], rng["loyalty"])
    pros = _prospect_visits(cal, funnel, cust, mkt.drop_day, rng["prospects"])
    orders = _orders(cust, vis, rng["orders"])
    cat = _catalogue(cal, rng["catalogue"])
    prices = _prices(cal, clock, cat, rng["prices"])
    ladder = _Ladder.make(cal, clock)
    baskets = _baskets_and_inventory(
        cal, clock, cat, prices, orders, rng["baskets"], ladder, rng["loyalty"]
    )
    tables, extra = _assemble(
        cal, mkt, cust, vis, pros, orders, cat, prices, baskets, exps, rng["sessions"], ladder
    )
    truth = _truth(
        cal,
        clock,
        funnel,
        mkt,
        cust,
        vis,
        pros,
        orders,
        cat,
        prices,
        baskets,
        exps,
        extra,
        customers=customers,
        seed=seed,
        dirty=dirty,
    )
    truth["loyalty"] = _loyalty_truth(cal, ladder, vis.coupon)
    truth["loyalty"]["tiers"] = vis.tiers.truth(cal)
    if dirty:
        truth["dirty"] = _plant_mess(tables, cal, rng["mess"])
    else:
        truth["dirty"] = {"planted": False}
    truth["sizes"] = {k: len(v) for k, v in tables.items()}
    return Shop(tables=tables, truth=truth)
