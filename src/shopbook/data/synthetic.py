"""The synthetic shop: a seeded, vectorised simulator of a multi-channel e-commerce business
that plants known truths and returns them.

:func:`generate` builds all eight contract tables (:mod:`shopbook.data.contract`) of a
shop selling snacks, tea, coffee and gift boxes on Tmall, JD, Douyin, a WeChat mini-shop
and its own site, in CNY, and a JSON-serialisable ``truth`` dict that says — in the units
a test checks — everything that was planted. :func:`write_shop` writes a DuckDB file or a
folder of Parquet files with the truth beside it; :func:`read_truth` reads it back.

Every estimator in Shopbook is trusted because it recovers what this simulator planted,
so the layers are built to keep each truth *exact in expectation*, and where an exact
statement is impossible the truth says what holds instead.

How the shop is simulated
-------------------------
**1. The purchase clock.** One daily intensity multiplier ``m(d)`` = weekly pattern ×
yearly cycle × festival factor (618: June 1–18, peak on the 18th; Double 11: Nov 1–11,
peak on the 11th; a dip around Chinese New Year), normalised so that a *typical year*
averages 1. Within a day, time runs through a 24-hour profile (evening peak). The clock
``G(t)`` is the integral of this intensity: one *clock day* is one calendar day of
average intensity. ``truth["purchase_clock"]`` holds ``m(d)`` and the hour profile and
:func:`clock_days` evaluates ``G`` for any timestamps.

**Design choice — BG/NBD on the purchase clock.** Each customer's repeat purchases follow
BG/NBD *exactly* on the clock: while alive, purchases are Poisson with rate λ per clock
day, λ ~ Gamma(r, α) (rate α); after each repeat purchase the customer drops out with
probability p ~ Beta(a, b). The festival and seasonal modulation is thus a time change of
the BG/NBD process (it makes the shop's orders rise 200–300 % on festival peaks, as real
shops do) and does not change the counts over long windows: the clock and the calendar
agree to within a few per cent over any window of months. A BG/NBD fit on
:func:`clock_days` recovers (r, α, a, b) exactly (within sampling error); a fit on
calendar days recovers r and α and is slightly biased in a and b (low by roughly 5–12 %;
at 100,000 customers that is just outside the 95 % interval of a). Two small exceptions: an
order is placed a few minutes after its session starts (the process time), and the
``pdp_v2`` treatment makes treated customers' clocks run ``1 + lift`` times faster inside
the experiment window after their assignment (that *is* the conversion lift).

**2. Customers** arrive by channel and day in proportion to
``m(d) · g(d) · (organic_c + β_c · S_c(d) / (S_c(d) + K_c))``: the same clock (so festivals
lift acquisitions by the same factor), a growth trend ``g`` and a Michaelis–Menten
(Hill, shape 1) response to that day's marketing spend ``S_c(d)``. Each customer's first
order is at acquisition (the BG/NBD "time zero" purchase). Region and latent BG/NBD and
Gamma-Gamma parameters are drawn per customer; member tier is a rule on realised spend.

**3. Visits and the funnel.** Visits of a customer are Poisson with rate ``λ / c̄`` on the
clock (``c̄``: their average session conversion). Each visit gets a channel (sticky to the
customer's home channel, where they were acquired) and a device, and reaches funnel
stages product view → cart → checkout → order with rates that differ by channel and
device; a visit that reaches "order" is a purchase. Purchases therefore are Poisson with
rate λ (BG/NBD holds) *and* the session funnel rates are exactly the planted ones. Visits
stop when the customer drops out. Before acquisition, a prospect's failed visits
(geometric count, no customer id) precede the first order. From a known date one channel
loses a known fraction of its traffic: each of its sessions (customers', prospects' and
first orders') from that date is moved, with that probability, to another channel, chosen
by device so that moved visits convert on average as the lost ones would have — its
sessions and acquisitions fall to exactly ``1 − fraction`` of the counterfactual while
purchases (BG/NBD) are unchanged. (The receiving channels' conversion moves by well under
1 % relative, from prospects' moved failed visits.)

**4. Experiments.** ``aa_check`` (A/A, 4 weeks), ``pdp_v2`` (6 weeks: a new product page
multiplies the add-to-cart rate, hence session conversion and the purchase intensity of
active customers, by ``1 + lift``; no effect on order value or visits) and
``checkout_srm`` (12 weeks, no effect, broken 52/48 split). Windows shrink on short
horizons. Units are visitor ids of customers acquired before the experiment starts,
assigned at the start of their first session in the window; they have pre-period history
for CUPED. Because purchases also trigger dropout, orders per unit rise by slightly less
than ``lift``; ``truth["experiments"]["pdp_v2"]["realised"]`` holds the treated units'
orders and the same units' orders had they been in control (same random draws).

**5. Products, prices and baskets.** ~200 SKUs in 8 categories. List prices follow unit
cost (cost changes are passed through: an exogenous price shifter); promotions of
varying depth come from a planned festival calendar, random planned promotions and
*reactive* promotions that the shop runs more often when a SKU's latent demand shock is
high (so promotions land on demand peaks and naive regressions overstate elasticity).
Each order's value (net amount) is drawn from Gamma-Gamma; its basket is filled by
drawing lines from the day's SKU choice probabilities ``∝ w_s(d)`` until the gross value
covers that amount; the excess is the order-level discount (coupons average about a
fifth of gross — the price of an exact Gamma-Gamma on the amount paid). By Wald's identity the
expected units of SKU ``s`` on day ``d`` are ``C(d) · w_s(d)``, with ``C(d)`` common to all
SKUs of the day and

``log w_s(d) = log base_s + ε_cat · log(price_s(d)/ref_s) + η · log(price_partner(d)/ref)
+ ξ_s(d)``

— log-linear in the day's unit price with the planted own-price elasticity ε of the
category (and cross-price elasticity η for one substitute pair), ξ an unobserved AR(1)
demand shock. A SKU is offered only on days it is in stock.

**6. Inventory.** Daily on-hand per SKU with per-SKU lead times, a forecast-driven
(s, S) replenishment policy, backorders when a day's sales exceed stock, and planted
quality holds: on a known day a SKU's stock is written off and the replacement arrives
after a known number of days — the SKU is out of stock (on_hand 0, no sales) on exactly
those days. The inventory recursion iterates over days (vectorised across SKUs and the
day's orders); stock on day d depends on day d − 1, so it cannot be vectorised over time.

**7. Mess** (``dirty=True``): the clean shop plus known numbers of duplicate order rows,
refunded and cancelled orders (extra orders), order lines with negative quantity and
orders with a missing or future timestamp. Validation rejects exactly the planted rows
(``truth["dirty"]["expected_rejects"]``); its kept rows with status ``paid`` are exactly
the clean shop.

Everything is drawn from one :class:`numpy.random.SeedSequence` (one spawned stream per
layer): the same arguments give identical tables.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import optimize, signal

from shopbook.data.contract import TABLES

__all__ = ["Shop", "clock_days", "generate", "read_truth", "write_shop"]

GENERATOR_VERSION = 1
CURRENCY = "CNY"

# ----------------------------------------------------------------------------- channels
CHANNELS = ("tmall", "jd", "douyin", "wechat", "site")
CHANNEL_NAMES = {
    "tmall": "Tmall (天猫)",
    "jd": "JD.com (京东)",
    "douyin": "Douyin (抖音)",
    "wechat": "WeChat mini-shop (微信小程序)",
    "site": "Own site (官网)",
}
DEVICES = ("app", "mobile_web", "desktop")
STAGES = ("product_view", "add_to_cart", "checkout", "order")
#: share of visits by channel for the part of a customer's visits not tied to their
#: acquisition channel
VISIT_SHARE = np.array([0.30, 0.22, 0.20, 0.16, 0.12])
#: probability that a visit uses the customer's acquisition channel
STICKINESS = 0.6
#: P(device | channel)
DEVICE_MIX = np.array(
    [
        [0.80, 0.05, 0.15],  # tmall
        [0.75, 0.05, 0.20],  # jd
        [0.94, 0.05, 0.01],  # douyin
        [0.96, 0.03, 0.01],  # wechat
        [0.30, 0.40, 0.30],  # site
    ]
)
#: stage pass rates by channel (product view | session, cart | view, checkout | cart,
#: order | checkout), multiplied by the device factors below
STAGE_RATES = np.array(
    [
        [0.80, 0.40, 0.66, 0.86],  # tmall
        [0.78, 0.42, 0.68, 0.88],  # jd
        [0.66, 0.34, 0.62, 0.80],  # douyin
        [0.72, 0.36, 0.64, 0.84],  # wechat
        [0.62, 0.28, 0.58, 0.78],  # site
    ]
)
DEVICE_FACTORS = np.array(
    [
        [1.00, 1.00, 1.00, 1.00],  # app
        [0.90, 0.85, 0.88, 0.92],  # mobile_web
        [0.95, 1.05, 1.04, 0.97],  # desktop
    ]
)
#: probability that a non-buying session of a customer is not logged in, by device
ANONYMOUS = np.array([0.04, 0.35, 0.25])

# ----------------------------------------------------------------------------- clock
#: Monday … Sunday
WEEKLY = np.array([0.96, 0.94, 0.95, 0.97, 1.02, 1.09, 1.07])
WEEKLY = WEEKLY / WEEKLY.mean()
YEARLY_AMPLITUDE = 0.08
YEARLY_PEAK_DOY = 355
#: relative weight of each hour of the day (local time)
HOUR_WEIGHTS = np.array(
    [
        1.2,
        0.6,
        0.3,
        0.2,
        0.15,
        0.2,
        0.4,
        0.8,
        1.2,
        1.6,
        1.9,
        2.0,
        1.8,
        1.6,
        1.6,
        1.7,
        1.7,
        1.6,
        1.6,
        1.9,
        2.4,
        2.8,
        2.6,
        2.0,
    ]
)
FESTIVALS = {
    "618": {
        "display_name": "618 (年中大促)",
        "month": 6,
        "first_day": 1,
        "peak_day": 18,
        "base_uplift": 0.25,
        "peak_uplift": 2.0,
        "decay_days": 2.0,
    },
    "double11": {
        "display_name": "Double 11 (双十一)",
        "month": 11,
        "first_day": 1,
        "peak_day": 11,
        "base_uplift": 0.35,
        "peak_uplift": 3.0,
        "decay_days": 1.5,
    },
}
CNY_DIP = {"days_before": 3, "days_after": 6, "uplift": -0.40}
#: Chinese New Year (Spring Festival) dates
CNY_DATES = {
    2010: "2010-02-14",
    2011: "2011-02-03",
    2012: "2012-01-23",
    2013: "2013-02-10",
    2014: "2014-01-31",
    2015: "2015-02-19",
    2016: "2016-02-08",
    2017: "2017-01-28",
    2018: "2018-02-16",
    2019: "2019-02-05",
    2020: "2020-01-25",
    2021: "2021-02-12",
    2022: "2022-02-01",
    2023: "2023-01-22",
    2024: "2024-02-10",
    2025: "2025-01-29",
    2026: "2026-02-17",
    2027: "2027-02-06",
    2028: "2028-01-26",
    2029: "2029-02-13",
    2030: "2030-02-03",
    2031: "2031-01-23",
    2032: "2032-02-11",
    2033: "2033-01-31",
    2034: "2034-02-19",
    2035: "2035-02-08",
}
ACQUISITION_GROWTH = 0.25  # per year

# ----------------------------------------------------------------------------- customers
BGNBD = {"r": 0.6, "alpha": 70.0, "a": 0.8, "b": 2.6}
GAMMA_GAMMA = {"p": 6.0, "q": 3.8, "gamma": 75.0}
REGIONS = {
    "Guangdong": 0.14,
    "Zhejiang": 0.10,
    "Jiangsu": 0.10,
    "Shanghai": 0.07,
    "Beijing": 0.06,
    "Shandong": 0.07,
    "Sichuan": 0.06,
    "Henan": 0.06,
    "Hubei": 0.05,
    "Fujian": 0.05,
    "Hunan": 0.04,
    "other": 0.20,
}
#: member tier by lifetime net spend of paid orders (CNY): lower bounds
TIERS = {"regular": 0.0, "silver": 300.0, "gold": 1000.0, "platinum": 3000.0}

# ----------------------------------------------------------------------------- marketing
#: per 20,000 customers: typical daily budget (CNY), half-saturation spend K (CNY/day),
#: relative organic intake, relative maximum paid intake β, CPM (CNY) and CTR
MARKETING = {
    "tmall": {
        "budget": 900.0,
        "K": 1200.0,
        "organic": 0.30,
        "beta": 0.25,
        "cpm": 30.0,
        "ctr": 0.025,
    },
    "jd": {"budget": 700.0, "K": 900.0, "organic": 0.22, "beta": 0.18, "cpm": 28.0, "ctr": 0.022},
    "douyin": {
        "budget": 800.0,
        "K": 700.0,
        "organic": 0.20,
        "beta": 0.30,
        "cpm": 18.0,
        "ctr": 0.012,
    },
    "wechat": {
        "budget": 350.0,
        "K": 500.0,
        "organic": 0.16,
        "beta": 0.10,
        "cpm": 25.0,
        "ctr": 0.015,
    },
    "site": {"budget": 250.0, "K": 400.0, "organic": 0.12, "beta": 0.06, "cpm": 12.0, "ctr": 0.030},
}
SPEND_NOISE_SD = 0.35
SPEND_PAUSE_PROB = 0.03

# ----------------------------------------------------------------------------- events
TRAFFIC_DROP = {"channel": "douyin", "fraction": 0.35, "at": 0.62}
EXPERIMENTS = {
    "aa_check": {
        "start": 0.30,
        "days": 28,
        "max_share": 0.12,
        "treatment_share": 0.5,
        "lift": 0.0,
        "description": "A/A test: both arms see the same page",
    },
    "pdp_v2": {
        "start": 0.52,
        "days": 42,
        "max_share": 0.12,
        "treatment_share": 0.5,
        "lift": 0.10,
        "description": "new product detail page: add-to-cart rate × (1 + lift)",
    },
    "checkout_srm": {
        "start": 0.74,
        "days": 84,
        "max_share": 0.22,
        "treatment_share": 0.48,
        "lift": 0.0,
        "description": "checkout change whose assignment is broken by a bug: "
        "intended 50/50, actual 52/48; no effect on behaviour",
    },
}
MIN_DAYS = 120

# ----------------------------------------------------------------------------- products
CATEGORIES = {
    # name: display, n_skus, median price (CNY), price spread (log sd), elasticity,
    # lead time (days), extra units per line (Poisson mean), product words
    "nuts": (
        "Nuts 坚果",
        30,
        45.0,
        0.35,
        -1.6,
        14,
        0.25,
        [
            "Cashews",
            "Macadamia",
            "Pecans",
            "Almonds",
            "Pistachios",
            "Walnuts",
            "Mixed Nuts",
            "Hazelnuts",
        ],
    ),
    "dried_fruit": (
        "Dried fruit 果干",
        25,
        25.0,
        0.35,
        -1.9,
        10,
        0.30,
        ["Mango", "Raisins", "Figs", "Apricots", "Dates", "Cranberries", "Longan"],
    ),
    "meat_snacks": (
        "Meat snacks 肉脯",
        28,
        32.0,
        0.30,
        -2.2,
        12,
        0.35,
        ["Beef Jerky", "Pork Floss", "Duck Neck", "Spicy Beef", "Pork Jerky", "Chicken Bites"],
    ),
    "bakery": (
        "Bakery 烘焙",
        30,
        18.0,
        0.35,
        -2.6,
        5,
        0.45,
        ["Egg Rolls", "Mooncake Bites", "Crackers", "Sponge Cake", "Wafer", "Pastry", "Cookies"],
    ),
    "tea": (
        "Tea 茶",
        22,
        85.0,
        0.40,
        -1.1,
        21,
        0.15,
        ["Longjing", "Pu-erh", "Oolong", "Jasmine", "Black Tea", "White Tea"],
    ),
    "coffee": (
        "Coffee 咖啡",
        20,
        60.0,
        0.35,
        -1.4,
        18,
        0.20,
        ["Drip Bags", "Cold Brew", "Instant", "Beans", "Capsules"],
    ),
    "gift_boxes": (
        "Gift boxes 礼盒",
        15,
        168.0,
        0.30,
        -0.9,
        30,
        0.10,
        ["Nut Gift Box", "Festival Box", "Tea Gift Set", "Snack Hamper", "Family Box"],
    ),
    "beverages": (
        "Beverages 饮料",
        30,
        12.0,
        0.30,
        -2.9,
        7,
        0.80,
        ["Sparkling Water", "Oat Milk", "Coconut Water", "Plum Juice", "Herbal Tea", "Soy Milk"],
    ),
}
SIZES = ["100g", "150g", "250g", "500g", "Family Pack", "Mini", "Duo", "Value Pack"]
BRANDS = ["Shopbook Select", "Hearth & Harvest", "Golden Field", "Mountain Spring"]
CROSS_PRICE_ELASTICITY = 0.6
DEMAND_SHOCK = {"ar1_rho": 0.9, "sd": 0.25}
PROMOTIONS = {
    "depths": [0.10, 0.15, 0.20, 0.25, 0.30, 0.40],
    "festival_probability": 0.7,  # per SKU and festival window (planned)
    "random_weekly_probability": 0.05,  # per SKU-week (planned)
    "reactive_base_probability": 0.05,  # per SKU-week at a zero demand shock
    "reactive_slope": 1.2,  # logit slope per SD of the demand shock at the week's start
}
STOCKOUT_HOLDS = 6
REVIEW_DAYS = 7
SAFETY = 0.35
SAFETY_Z = 3.0
CASE_PACK = 12


# ============================================================================ public API
@dataclass
class Shop:
    """A generated shop.

    Attributes
    ----------
    tables
        The eight contract tables, ``{name: DataFrame}``, columns in contract order. Text
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
        ``tables`` (all eight contract tables) and ``truth``. Truth keys:

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
            orders, acquisitions and sessions exceed the no-festival intensity that day.
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
    vis = _visits(cal, clock, funnel, cust, exps, mkt.drop_day, rng["visits"])
    pros = _prospect_visits(cal, funnel, cust, mkt.drop_day, rng["prospects"])
    orders = _orders(cust, vis, rng["orders"])
    cat = _catalogue(cal, rng["catalogue"])
    prices = _prices(cal, clock, cat, rng["prices"])
    baskets = _baskets_and_inventory(cal, clock, cat, prices, orders, rng["baskets"])
    tables, extra = _assemble(
        cal, mkt, cust, vis, pros, orders, cat, prices, baskets, exps, rng["sessions"]
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
    if dirty:
        truth["dirty"] = _plant_mess(tables, cal, rng["mess"])
    else:
        truth["dirty"] = {"planted": False}
    truth["sizes"] = {k: len(v) for k, v in tables.items()}
    return Shop(tables=tables, truth=truth)


def write_shop(shop: Shop, out: str | os.PathLike) -> Path:
    """Write a shop to a DuckDB file or a folder of Parquet files, with its truth.

    Parameters
    ----------
    shop
        From :func:`generate`.
    out
        A path ending in ``.duckdb``: one DuckDB file holding the eight tables and a
        table ``shop_truth`` (one row, column ``truth_json``); the truth is also written
        beside it as ``<out>.truth.json``. Any other path: a folder of
        ``<table>.parquet`` files and ``truth.json``. Existing files are replaced.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    out = Path(out)
    text = json.dumps(shop.truth, indent=1, ensure_ascii=False)
    if out.suffix.lower() == ".duckdb":
        import duckdb

        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        for p in (tmp, Path(str(tmp) + ".wal")):
            p.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
        try:
            for name, df in shop.tables.items():
                arrow = pa.Table.from_pandas(df, preserve_index=False)
                con.register("__shop_df", arrow)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM __shop_df')
                con.unregister("__shop_df")
            con.execute("CREATE TABLE shop_truth (truth_json VARCHAR)")
            con.execute("INSERT INTO shop_truth VALUES (?)", [text])
            con.execute("CHECKPOINT")
        finally:
            con.close()
        Path(str(out) + ".wal").unlink(missing_ok=True)
        os.replace(tmp, out)
        Path(str(out) + ".truth.json").write_text(text, encoding="utf-8")
        return out
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    for name, df in shop.tables.items():
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), out / f"{name}.parquet")
    (out / "truth.json").write_text(text, encoding="utf-8")
    return out


def read_truth(path: str | os.PathLike) -> dict[str, Any]:
    """Read the truth of a shop written by :func:`write_shop`.

    Parameters
    ----------
    path
        The DuckDB file (its ``shop_truth`` table, else ``<path>.truth.json``), the
        Parquet folder (its ``truth.json``) or a truth JSON file.

    Returns
    -------
    dict

    Raises
    ------
    FileNotFoundError
        When no truth is found at ``path``.
    """
    p = Path(path)
    if p.is_dir():
        return json.loads((p / "truth.json").read_text(encoding="utf-8"))
    if p.suffix.lower() == ".json":
        return json.loads(p.read_text(encoding="utf-8"))
    beside = Path(str(p) + ".truth.json")
    if p.exists():
        import duckdb

        con = duckdb.connect(str(p), read_only=True)
        try:
            names = {
                r[0]
                for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            if "shop_truth" in names:
                return json.loads(
                    con.execute("SELECT truth_json FROM shop_truth LIMIT 1").fetchone()[0]
                )
        finally:
            con.close()
    if beside.exists():
        return json.loads(beside.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"no shop truth at {p} (nor {beside})")


def clock_days(truth: dict[str, Any], ts: Any) -> np.ndarray:
    """Purchase-clock days since the shop's start, for timestamps.

    The clock is the integral of the shop's purchase intensity (``truth["purchase_clock"]``):
    a day with multiplier 3 (a festival peak) counts as three clock days, spread over
    its hours by the hour profile. BG/NBD holds exactly on this clock.

    Parameters
    ----------
    truth
        ``Shop.truth``.
    ts
        Timestamps (anything :func:`pandas.to_datetime` reads), within the shop's days.

    Returns
    -------
    numpy.ndarray
        Clock days since the start (float).
    """
    pcfg = truth["purchase_clock"]
    m = np.asarray(pcfg["daily_multiplier"], dtype=float)
    gday = np.concatenate([[0.0], np.cumsum(m)])
    hcdf = _hour_cdf(np.asarray(pcfg["hour_weights"], dtype=float))
    t = pd.to_datetime(pd.Series(np.asarray(ts).ravel() if not isinstance(ts, pd.Series) else ts))
    days = (t - pd.Timestamp(pcfg["start"])).dt.total_seconds().to_numpy() / 86400.0
    return _to_clock(days, m, gday, hcdf)


# ============================================================================ calendar & clock
@dataclass(frozen=True)
class _Calendar:
    start: pd.Timestamp
    end: pd.Timestamp
    n: int
    days: pd.DatetimeIndex

    @classmethod
    def make(cls, start: Any, end: Any) -> _Calendar:
        try:
            s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"start and end must be dates, got {start!r} and {end!r}") from exc
        n = (e - s).days + 1
        if n < MIN_DAYS:
            raise ValueError(
                f"the synthetic shop needs at least {MIN_DAYS} days; got {start} … {end} ({n} days)"
            )
        if e + pd.Timedelta(days=1) > pd.Timestamp.now():
            raise ValueError(
                f"end {e.date()} must be in the past (data in the future would be rejected)"
            )
        if s.year < min(CNY_DATES) or e.year > max(CNY_DATES):
            raise ValueError(
                f"dates must lie in {min(CNY_DATES)}–{max(CNY_DATES)}, got {s.date()} … {e.date()}"
            )
        return cls(s, e, n, pd.date_range(s, periods=n, freq="D"))

    def day(self, date: pd.Timestamp) -> int:
        return int((pd.Timestamp(date) - self.start).days)

    def iso(self, d: int | float) -> str:
        return (self.start + pd.Timedelta(days=int(d))).date().isoformat()


def _hour_cdf(weights: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()


_HOURS = np.arange(25, dtype=float)


def _to_clock(t: np.ndarray, m: np.ndarray, gday: np.ndarray, hcdf: np.ndarray) -> np.ndarray:
    d = np.clip(np.floor(t).astype(np.int64), 0, len(m) - 1)
    frac = np.clip(t - d, 0.0, 1.0)
    return gday[d] + m[d] * np.interp(frac * 24.0, _HOURS, hcdf)


@dataclass
class _Clock:
    m: np.ndarray  # daily multiplier
    m0: np.ndarray  # without festivals
    uplift: np.ndarray  # festival uplift per day (fraction)
    gday: np.ndarray  # clock at the start of each day, length n + 1
    hcdf: np.ndarray
    events: list[dict[str, Any]]
    norm: float

    @classmethod
    def make(cls, cal: _Calendar) -> _Clock:
        days = cal.days
        weekly = WEEKLY[days.dayofweek.to_numpy()]
        yearly = 1.0 + YEARLY_AMPLITUDE * np.cos(
            2 * np.pi * (days.dayofyear.to_numpy() - YEARLY_PEAK_DOY) / 365.25
        )
        uplift = np.zeros(cal.n)
        events: list[dict[str, Any]] = []
        per_year = 0.0
        for key, f in FESTIVALS.items():
            k = np.arange(f["first_day"], f["peak_day"] + 1)
            u = f["base_uplift"] + (f["peak_uplift"] - f["base_uplift"]) * np.exp(
                -(f["peak_day"] - k) / f["decay_days"]
            )
            per_year += u.sum()
            for year in range(cal.start.year, cal.end.year + 1):
                dates = pd.to_datetime([f"{year}-{f['month']:02d}-{x:02d}" for x in k])
                idx = (dates - cal.start).days.to_numpy()
                inside = (idx >= 0) & (idx < cal.n)
                if not inside.any():
                    continue
                uplift[idx[inside]] = u[inside]
                events.append(
                    {
                        "festival": key,
                        "year": year,
                        "days": idx[inside],
                        "uplift": u[inside],
                        "complete": bool(inside.all()),
                    }
                )
        n_cny = CNY_DIP["days_before"] + CNY_DIP["days_after"] + 1
        per_year += n_cny * CNY_DIP["uplift"]
        for year in range(cal.start.year, cal.end.year + 1):
            c = pd.Timestamp(CNY_DATES[year])
            dates = c + pd.to_timedelta(
                np.arange(-CNY_DIP["days_before"], CNY_DIP["days_after"] + 1), unit="D"
            )
            idx = (dates - cal.start).days.to_numpy()
            inside = (idx >= 0) & (idx < cal.n)
            if not inside.any():
                continue
            u = np.full(n_cny, CNY_DIP["uplift"])
            uplift[idx[inside]] = u[inside]
            events.append(
                {
                    "festival": "cny",
                    "year": year,
                    "days": idx[inside],
                    "uplift": u[inside],
                    "complete": bool(inside.all()),
                    "new_year_day": c.date().isoformat(),
                }
            )
        norm = 1.0 + per_year / 365.25
        m0 = weekly * yearly / norm
        m = m0 * (1.0 + uplift)
        gday = np.concatenate([[0.0], np.cumsum(m)])
        return cls(m, m0, uplift, gday, _hour_cdf(HOUR_WEIGHTS), events, norm)

    def to_clock(self, t: np.ndarray) -> np.ndarray:
        return _to_clock(t, self.m, self.gday, self.hcdf)

    def from_clock(self, u: np.ndarray) -> np.ndarray:
        d = np.clip(np.searchsorted(self.gday, u, side="right") - 1, 0, len(self.m) - 1)
        f = np.clip((u - self.gday[d]) / self.m[d], 0.0, 1.0)
        t = d + np.interp(f, self.hcdf, _HOURS) / 24.0
        return np.minimum(t, len(self.m) - 1e-6)

    def time_in_day(self, d: np.ndarray, u01: np.ndarray) -> np.ndarray:
        """Calendar time on day ``d`` at quantile ``u01`` of the hour profile."""
        return d + np.minimum(np.interp(u01, self.hcdf, _HOURS) / 24.0, 1 - 1e-6)


# ============================================================================ funnel
@dataclass
class _Funnel:
    rates: np.ndarray  # (channel, device, stage) pass rates
    cp: np.ndarray  # cumulative: P(reach stage k) per (channel, device)
    conv: np.ndarray  # (channel, device) session conversion
    conv_ch: np.ndarray  # (channel,) device-averaged conversion
    move: np.ndarray  # (device, channel) where moved traffic of the drop channel goes

    @classmethod
    def make(cls) -> _Funnel:
        rates = STAGE_RATES[:, None, :] * DEVICE_FACTORS[None, :, :]
        cp = np.cumprod(rates, axis=2)
        conv = cp[:, :, 3]
        conv_ch = (DEVICE_MIX * conv).sum(axis=1)
        drop = CHANNELS.index(TRAFFIC_DROP["channel"])
        move = np.zeros((len(DEVICES), len(CHANNELS)))
        others = np.array([k for k in range(len(CHANNELS)) if k != drop])
        for v in range(len(DEVICES)):
            c, target, share = conv[others, v], conv[drop, v], VISIT_SHARE[others]
            if not c.min() < target < c.max():
                raise AssertionError("traffic-drop channel must convert between the other channels")

            def gap(
                theta: float, c: np.ndarray = c, target: float = target, share: np.ndarray = share
            ) -> float:
                w = share * np.exp(theta * (c - target) / target)
                return float((w * c).sum() / w.sum() - target)

            theta = optimize.brentq(gap, -200, 200)
            w = share * np.exp(theta * (c - target) / target)
            move[v, others] = w / w.sum()
        return cls(rates, cp, conv, conv_ch, move)


# ============================================================================ marketing & customers
@dataclass
class _Marketing:
    spend: np.ndarray  # (day, channel) CNY
    impressions: np.ndarray
    clicks: np.ndarray
    intensity: np.ndarray  # (day, channel) relative acquisition intensity before the drop
    scale: float  # customers per unit of intensity (k = N / Σ intensity)
    drop_day: int
    growth: np.ndarray


def _marketing(
    cal: _Calendar, clock: _Clock, n_customers: int, rng: np.random.Generator
) -> _Marketing:
    n, C = cal.n, len(CHANNELS)
    size = n_customers / 20_000
    budget = np.array([MARKETING[c]["budget"] for c in CHANNELS]) * size
    K = np.array([MARKETING[c]["K"] for c in CHANNELS]) * size
    organic = np.array([MARKETING[c]["organic"] for c in CHANNELS])
    beta = np.array([MARKETING[c]["beta"] for c in CHANNELS])
    boost = np.where(
        clock.uplift > 0, 1.0 + 0.8 * clock.uplift, np.where(clock.uplift < 0, 0.5, 1.0)
    )
    noise = rng.lognormal(-(SPEND_NOISE_SD**2) / 2, SPEND_NOISE_SD, size=(n, C))
    paused = rng.random((n, C)) < SPEND_PAUSE_PROB
    spend = np.round(budget[None, :] * boost[:, None] * noise * ~paused, 2)
    cpm = np.array([MARKETING[c]["cpm"] for c in CHANNELS])
    ctr = np.array([MARKETING[c]["ctr"] for c in CHANNELS])
    impressions = np.round(spend / cpm * 1000 * rng.lognormal(0, 0.1, size=(n, C))).astype(np.int64)
    clicks = rng.binomial(impressions, ctr).astype(np.int64)
    years = np.arange(n) / 365.25
    growth = np.exp(np.log1p(ACQUISITION_GROWTH) * years)
    intensity = (clock.m * growth)[:, None] * (
        organic[None, :] + beta[None, :] * spend / (spend + K[None, :])
    )
    drop_day = _monday_on_or_after(cal, int(round(TRAFFIC_DROP["at"] * cal.n)))
    return _Marketing(
        spend, impressions, clicks, intensity, n_customers / intensity.sum(), drop_day, growth
    )


def _monday_on_or_after(cal: _Calendar, d: int) -> int:
    dow = int(cal.days[min(d, cal.n - 1)].dayofweek)
    return min(d + (7 - dow) % 7, cal.n - 1)


@dataclass
class _Customers:
    n: int
    t0: np.ndarray  # acquisition (first order) time, days since start
    channel: np.ndarray  # acquisition channel (int8), after the traffic drop moved some
    home: (
        np.ndarray
    )  # the channel the customer's visits stick to (acquisition channel before the move)
    region: np.ndarray  # int8
    lam: np.ndarray
    p: np.ndarray
    J: np.ndarray  # repeat purchases until dropout
    nu: np.ndarray  # Gamma-Gamma rate
    u0: np.ndarray  # clock at acquisition
    moved: int


def _customers(
    cal: _Calendar,
    clock: _Clock,
    mkt: _Marketing,
    funnel: _Funnel,
    n: int,
    rng: np.random.Generator,
) -> _Customers:
    C = len(CHANNELS)
    cdf = np.cumsum(mkt.intensity.ravel())
    cell = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), cdf.size - 1)
    day, ch = cell // C, (cell % C).astype(np.int8)
    drop = CHANNELS.index(TRAFFIC_DROP["channel"])
    moved = (ch == drop) & (day >= mkt.drop_day) & (rng.random(n) < TRAFFIC_DROP["fraction"])
    others = np.array([k for k in range(C) if k != drop])
    w = VISIT_SHARE[others] / VISIT_SHARE[others].sum()
    home = ch.copy()
    ch[moved] = others[
        np.minimum(
            np.searchsorted(np.cumsum(w), rng.random(int(moved.sum())), side="right"),
            len(others) - 1,
        )
    ]
    t0 = clock.time_in_day(day, rng.random(n))
    order = np.argsort(t0, kind="stable")
    t0, ch, home = t0[order], ch[order], home[order]
    regions = np.array(list(REGIONS.values()))
    region = np.minimum(
        np.searchsorted(np.cumsum(regions / regions.sum()), rng.random(n), side="right"),
        len(regions) - 1,
    ).astype(np.int8)
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], n)
    p = rng.beta(BGNBD["a"], BGNBD["b"], n)
    J = rng.geometric(np.clip(p, 1e-12, 1.0)).astype(np.int64)
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["gamma"], n)
    return _Customers(n, t0, ch, home, region, lam, p, J, nu, clock.to_clock(t0), int(moved.sum()))


# ============================================================================ experiments
@dataclass
class _Exp:
    name: str
    w0: int  # first day (inclusive)
    w1: int  # last day + 1
    share: float
    lift: float


def _experiment_windows(cal: _Calendar) -> list[_Exp]:
    out = []
    for name, e in EXPERIMENTS.items():
        w0 = _monday_on_or_after(cal, int(round(e["start"] * cal.n)))
        length = min(e["days"], max(14, int(e["max_share"] * cal.n) // 7 * 7))  # whole weeks
        w1 = min(w0 + length, cal.n)
        out.append(_Exp(name, w0, w1, e["treatment_share"], e["lift"]))
    return out


# ============================================================================ visits
def _sorted_uniform_groups(counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per group of size ``counts[g]``, sorted uniforms on (0, 1) (exponential spacings)."""
    sizes = counts.astype(np.int64) + 1
    total = int(sizes.sum())
    cs = np.cumsum(rng.standard_exponential(total))
    ends = np.cumsum(sizes) - 1
    starts = ends - sizes + 1
    base = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0.0)
    span = cs[ends] - base
    keep = np.ones(total, dtype=bool)
    keep[ends] = False
    grp = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    cs = cs[keep]
    del keep
    cs -= base[grp]
    cs /= span[grp]
    return cs


def _categorical(cdf_rows: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Draw a category per element from row ``rows[i]`` of a table of CDFs."""
    k = cdf_rows.shape[1]
    out = np.zeros(len(rows), dtype=np.int8)
    for j in range(k - 1):  # a handful of categories (devices, channels)
        out += (u >= cdf_rows[rows, j]).astype(np.int8)
    return out


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


def _visits(
    cal: _Calendar,
    clock: _Clock,
    funnel: _Funnel,
    cust: _Customers,
    exps: list[_Exp],
    drop_day: int,
    rng: np.random.Generator,
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
        vc[sel], t, ch[sel], dev[sel], stage, order_t, int(moved[sel].sum()), assignments, cf
    )


def _minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Time from session start to order: 2 minutes + Gamma(2, 5 minutes), in days."""
    return (2 + rng.gamma(2.0, 5.0, n)) / 1440.0


def _stages(
    funnel: _Funnel,
    ch: np.ndarray,
    dev: np.ndarray,
    u: np.ndarray,
    treated: np.ndarray | None = None,
    lift: float = 0.0,
) -> np.ndarray:
    """Funnel stage reached (0–4) by each visit, coupled to one uniform ``u`` per visit.

    ``P(stage ≥ k) = cp[k]`` (cumulative pass rates of the visit's channel × device); for
    ``treated`` visits the rates from add-to-cart on are × (1 + lift).
    """
    cell = ch.astype(np.int32) * len(DEVICES) + dev
    cp = funnel.cp.reshape(-1, len(STAGES))
    stage = (u < cp[cell, 0]).astype(np.int8)
    for k in (1, 2, 3):
        thr = cp[cell, k]
        if treated is not None:
            thr[treated] *= 1.0 + lift
        stage += u < thr
    return stage


def _alive(vc: np.ndarray, conv: np.ndarray, J: np.ndarray, N: int) -> np.ndarray:
    """Visits made before the customer dropped out (after their J-th repeat purchase)."""
    cs = np.cumsum(conv, dtype=np.int64)
    counts = np.bincount(vc, minlength=N)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    base = np.concatenate([[0], cs])[starts]
    before = cs - conv - base[vc]
    return before < J[vc]


def _pdp_counterfactual(
    vc, t, ch, dev, uu, stage, keep, treat_visit, funnel, cust, asg, pdp
) -> dict[str, float]:
    treated = asg["cust"][asg["treat"]]
    if treated.size == 0:
        return {
            "treated_units": 0,
            "orders": 0,
            "orders_if_control": 0,
            "converted_units": 0,
            "converted_units_if_control": 0,
        }
    assigned_at = np.full(cust.n, np.inf)
    assigned_at[treated] = asg["t"][asg["treat"]]
    sel = np.flatnonzero(np.isin(vc, treated))
    v, tt = vc[sel], t[sel]
    st_cf = np.where(treat_visit[sel], _stages(funnel, ch[sel], dev[sel], uu[sel]), stage[sel])
    # re-run the dropout within this subset (its visits are contiguous per customer)
    _, local = np.unique(v, return_inverse=True)
    keep_cf = _alive(local.astype(np.int64), st_cf == 4, cust.J[np.unique(v)], int(local.max()) + 1)
    window = (tt >= assigned_at[v]) & (tt < pdp.w1)
    real = window & keep[sel] & (stage[sel] == 4)
    cf = window & keep_cf & (st_cf == 4)
    return {
        "treated_units": int(treated.size),
        "orders": int(real.sum()),
        "orders_if_control": int(cf.sum()),
        "converted_units": int(np.unique(v[real]).size),
        "converted_units_if_control": int(np.unique(v[cf]).size),
    }


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


# ============================================================================ orders
@dataclass
class _Orders:
    cust: np.ndarray
    t: np.ndarray
    ch: np.ndarray
    dev: np.ndarray
    first: np.ndarray  # bool: the customer's first order
    start: np.ndarray  # start of the order's session
    z: np.ndarray  # net amount in cents (Gamma-Gamma)
    day: np.ndarray


def _orders(cust: _Customers, vis: _Visits, rng: np.random.Generator) -> _Orders:
    buy = vis.stage == 4
    n_rep = int(buy.sum())
    N = cust.n
    c = np.concatenate([np.arange(N, dtype=np.int32), vis.cust[buy]])
    t = np.concatenate([cust.t0, vis.order_t[buy]])
    start = np.concatenate([np.maximum(cust.t0 - _minutes(rng, N), 0.0), vis.t[buy]])
    ch = np.concatenate([cust.channel, vis.ch[buy]])
    dev = np.concatenate(
        [np.zeros(N, np.int8), vis.dev[buy]]
    )  # first-order devices filled by the caller
    first = np.concatenate([np.ones(N, bool), np.zeros(n_rep, bool)])
    o = np.lexsort((first.astype(np.int8) * -1, t))
    c, t, ch, dev, first, start = c[o], t[o], ch[o], dev[o], first[o], start[o]
    z = rng.gamma(GAMMA_GAMMA["p"], 1.0 / cust.nu[c])
    zc = np.maximum(np.round(z * 100), 1).astype(np.int64)
    return _Orders(c, t, ch, dev, first, start, zc, np.floor(t).astype(np.int64))


# ============================================================================ products & prices
@dataclass
class _Catalogue:
    sku: list[str]
    name: list[str]
    category: np.ndarray  # int index into CATEGORIES
    brand: list[str]
    launch: np.ndarray  # launch day (may be negative)
    lead: np.ndarray
    base: np.ndarray  # popularity
    elasticity: np.ndarray  # per SKU (its category's)
    mu_q: np.ndarray  # extra units per line
    price0: np.ndarray  # initial list price (CNY)
    cost_ratio: np.ndarray
    pair: tuple[int, int]
    holds: list[tuple[int, int, int]]  # (sku, first day, days)


def _catalogue(cal: _Calendar, rng: np.random.Generator) -> _Catalogue:
    cats = list(CATEGORIES)
    sizes = [CATEGORIES[c][1] for c in cats]
    S = sum(sizes)
    category = np.repeat(np.arange(len(cats)), sizes)
    names, brands = [], []
    price0 = np.empty(S)
    for k, c in enumerate(cats):  # eight categories
        _, n, median, spread, _, _, _, words = CATEGORIES[c]
        combos = [(w, s) for s in SIZES for w in words]
        pick = rng.permutation(len(combos))[:n]
        names += [f"{combos[i][0]} {combos[i][1]}" for i in pick]
        brands += [BRANDS[i] for i in rng.integers(0, len(BRANDS), n)]
        price0[category == k] = median * rng.lognormal(0, spread, n)
    # substitutes: the two first nuts SKUs, the same product from two brands
    a, b = 0, 1
    names[a], names[b] = "Daily Mixed Nuts 25g×30", "Daily Mixed Nuts 25g×30"
    brands[a], brands[b] = BRANDS[0], BRANDS[2]
    price0[b] = price0[a] * 0.95
    names = [f"{n} ({br})" for n, br in zip(names, brands, strict=True)]
    lead = np.array([CATEGORIES[cats[k]][5] for k in category]) + rng.integers(-2, 4, S)
    lead = np.maximum(lead, 2)
    launch = np.where(
        rng.random(S) < 0.88, -rng.integers(30, 1500, S), rng.integers(14, int(cal.n * 0.8), S)
    )
    launch[[a, b]] = -400
    base = rng.lognormal(0, 0.8, S)
    base[[a, b]] = np.quantile(base, 0.97)  # a popular pair, so the cross effect is measurable
    elasticity = np.array([CATEGORIES[cats[k]][4] for k in category])
    mu_q = np.array([CATEGORIES[cats[k]][6] for k in category])
    # planted quality holds on popular, launched, non-substitute SKUs, spread over the period
    candidates = [s for s in np.argsort(-base) if s not in (a, b)]
    holds = []
    n_holds = STOCKOUT_HOLDS
    for i in range(n_holds):
        d1 = int((i + 0.5) / n_holds * cal.n * 0.9 + rng.integers(0, 7))
        for s in candidates:
            if launch[s] < d1 - 30 and all(h[0] != s for h in holds):
                holds.append((int(s), d1, int(rng.integers(5, 22))))
                break
    # clip holds at the end of the data
    holds = [(s, d, min(h, cal.n - d)) for s, d, h in holds if d < cal.n]
    skus = [f"SKU{i + 1:04d}" for i in range(S)]
    return _Catalogue(
        skus,
        names,
        category,
        brands,
        launch.astype(np.int64),
        lead.astype(np.int64),
        base,
        elasticity,
        mu_q,
        price0,
        rng.uniform(0.35, 0.6, S),
        (a, b),
        holds,
    )


@dataclass
class _Prices:
    list_d: np.ndarray  # (day, sku) list price in dimes (0.1 CNY)
    price_d: np.ndarray  # paid unit price in dimes
    cost_c: np.ndarray  # unit cost in cents
    depth: np.ndarray  # promotion depth (fraction)
    kind: np.ndarray  # 0 none, 1 festival, 2 random, 3 reactive
    xi: np.ndarray  # demand shock
    logw: np.ndarray  # log choice weight without availability
    ref: np.ndarray


def _prices(cal: _Calendar, clock: _Clock, cat: _Catalogue, rng: np.random.Generator) -> _Prices:
    n, S = cal.n, len(cat.sku)
    # cost: a few step changes per SKU, passed through to list prices (exogenous)
    jumps = np.zeros((n, S))
    n_changes = rng.poisson(1.5 * n / 365.25, S)
    total = int(n_changes.sum())
    js = np.repeat(np.arange(S), n_changes)
    jd = rng.integers(1, n, total)
    np.add.at(jumps, (jd, js), rng.normal(0.03, 0.08, total))
    cost = (cat.price0 * cat.cost_ratio)[None, :] * np.exp(np.cumsum(jumps, axis=0))
    list_d = np.floor(cost / cat.cost_ratio[None, :]).astype(np.int64) * 10 + 9
    list_d = np.maximum(list_d, 19)
    cost_c = np.round(cost * 100).astype(np.int64)
    # demand shock: AR(1) per SKU
    rho, sd = DEMAND_SHOCK["ar1_rho"], DEMAND_SHOCK["sd"]
    innov = rng.normal(0, sd * math.sqrt(1 - rho**2), (n, S))
    innov[0] = rng.normal(0, sd, S)
    xi = signal.lfilter([1.0], [1.0, -rho], innov, axis=0)
    # promotions
    depths = np.array(PROMOTIONS["depths"])
    depth = np.zeros((n, S))
    kind = np.zeros((n, S), dtype=np.int8)
    week = np.arange(n) // 7
    n_weeks = int(week[-1]) + 1
    wk_start = np.arange(n_weeks) * 7
    rand = rng.random((n_weeks, S)) < PROMOTIONS["random_weekly_probability"]
    rand_depth = depths[rng.integers(0, len(depths), (n_weeks, S))]
    logit0 = math.log(
        PROMOTIONS["reactive_base_probability"] / (1 - PROMOTIONS["reactive_base_probability"])
    )
    z = xi[wk_start] / sd
    p_react = 1 / (1 + np.exp(-(logit0 + PROMOTIONS["reactive_slope"] * z)))
    react = rng.random((n_weeks, S)) < p_react
    react_depth = depths[rng.integers(0, len(depths), (n_weeks, S))]
    d_rand = np.where(rand, rand_depth, 0.0)[week]
    d_react = np.where(react, react_depth, 0.0)[week]
    depth = np.maximum(d_rand, d_react)
    kind = np.where(d_react >= d_rand, np.where(d_react > 0, 3, 0), 2).astype(np.int8)
    for ev in clock.events:  # festival occurrences: a handful
        if ev["festival"] == "cny":
            continue
        on = rng.random(S) < PROMOTIONS["festival_probability"]
        fd = np.where(on, depths[rng.integers(0, len(depths), S)], 0.0)
        days = ev["days"]
        cur = depth[days]
        depth[days] = np.maximum(cur, fd[None, :])
        kind[days] = np.where(
            fd[None, :] >= cur, np.where(fd[None, :] > 0, 1, kind[days]), kind[days]
        )
    price_d = np.maximum(np.round(list_d * (1 - depth)).astype(np.int64), 1)
    ref = list_d[0].astype(float)
    a, b = cat.pair
    logp = np.log(price_d / ref[None, :])
    logw = np.log(cat.base)[None, :] + cat.elasticity[None, :] * logp + xi
    logw[:, a] += CROSS_PRICE_ELASTICITY * logp[:, b]
    logw[:, b] += CROSS_PRICE_ELASTICITY * logp[:, a]
    return _Prices(list_d, price_d, cost_c, depth, kind, xi, logw, ref)


# ============================================================================ baskets & inventory
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
):
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


def _baskets_and_inventory(
    cal: _Calendar,
    clock: _Clock,
    cat: _Catalogue,
    prices: _Prices,
    orders: _Orders,
    rng: np.random.Generator,
) -> _Baskets:
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


# ============================================================================ tables
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


def _assemble(cal, mkt, cust, vis, pros, orders, cat, prices, baskets, exps, rng):
    N = cust.n
    extra: dict[str, Any] = {}
    # first orders' session devices come from the prospect layer
    dev = orders.dev.copy()
    dev[orders.first] = pros.first_dev[orders.cust[orders.first]]
    orders.dev = dev
    no = len(orders.t)
    cw, ow = _width(N), _width(no)
    cust_ids = _ids("C", np.arange(N), cw)
    cust_arrow = pa.array(cust_ids.array)  # reused for references
    # ---------------------------------------------------------------- orders
    gross = baskets.gross
    net = orders.z
    disc = gross - net
    assert (disc >= 0).all()
    order_ts = _timestamps(cal, orders.t)
    order_ids = _ids("O", np.arange(no), ow)
    ot = pd.DataFrame(
        {
            "order_id": order_ids,
            "customer_id": _strings(pc.take(cust_arrow, pa.array(orders.cust))),
            "order_ts": order_ts,
            "channel": _labels(CHANNELS, orders.ch),
            "status": _labels(["paid"], np.zeros(no, np.int8)),
            "gross_amount": gross / 100.0,
            "discount_amount": disc / 100.0,
            "net_amount": net / 100.0,
            "currency": _labels([CURRENCY], np.zeros(no, np.int8)),
        }
    )
    # ---------------------------------------------------------------- order items
    day = orders.day[baskets.order]
    it = pd.DataFrame(
        {
            "order_id": _strings(pc.take(pa.array(order_ids.array), pa.array(baskets.order))),
            "sku": _labels(cat.sku, baskets.sku),
            "quantity": baskets.qty.astype(np.int64),
            "unit_price": prices.price_d[day, baskets.sku] / 10.0,
            "list_price": prices.list_d[day, baskets.sku] / 10.0,
            "unit_cost": prices.cost_c[day, baskets.sku] / 100.0,
        }
    )
    # ---------------------------------------------------------------- customers
    spend = np.bincount(orders.cust, weights=net, minlength=N) / 100.0
    tier = np.searchsorted(np.array(list(TIERS.values())), spend, side="right") - 1
    first_start = np.empty(N)
    first_start[orders.cust[orders.first]] = orders.start[orders.first]
    signup = cust.t0 - (cust.t0 - first_start) * rng.uniform(
        0.2, 0.8, N
    )  # during the first session
    ct = pd.DataFrame(
        {
            "customer_id": cust_ids,
            "signup_ts": _timestamps(cal, signup),
            "acquisition_channel": _labels(CHANNELS, cust.channel),
            "region": _labels(list(REGIONS), cust.region),
            "member_tier": _labels(list(TIERS), tier),
        }
    )
    # ---------------------------------------------------------------- sessions
    # buying sessions (one per order), non-buying visits of customers, prospects' visits
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
    st = pd.DataFrame(
        {
            "session_id": _ids("S", np.arange(ns), _width(ns)),
            "visitor_id": _ids("V", s_cust, cw),
            "customer_id": _strings(pc.take(cust_arrow, pa.array(s_cust, mask=s_anon))),
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
    del s_cust, s_dev, s_order, s_anon, pv, pages
    # ---------------------------------------------------------------- assignments
    rows = []
    for e in exps:  # three experiments
        a = vis.assignments[e.name]
        rows.append((e.name, a["cust"], a["t"], a["treat"]))
    n_a = sum(len(r[1]) for r in rows)
    at = (
        pd.DataFrame(
            {
                "experiment_id": _labels(
                    [e.name for e in exps],
                    np.concatenate([np.full(len(r[1]), i) for i, r in enumerate(rows)]).astype(
                        np.int8
                    ),
                ),
                "unit_id": _ids("V", np.concatenate([r[1] for r in rows]), cw),
                "variant": _labels(
                    ["control", "treatment"], np.concatenate([r[3] for r in rows]).astype(np.int8)
                ),
                "assigned_ts": _timestamps(cal, np.concatenate([r[2] for r in rows])),
            }
        )
        if n_a
        else _empty("assignments")
    )
    if n_a:
        at = at.sort_values(["experiment_id", "assigned_ts", "unit_id"], kind="stable").reset_index(
            drop=True
        )
    # ---------------------------------------------------------------- products
    lt = pd.DataFrame(
        {
            "sku": _strings(pa.array(cat.sku)),
            "name": _strings(pa.array(cat.name)),
            "category": _labels(list(CATEGORIES), cat.category),
            "brand": _strings(pa.array(cat.brand)),
            "launch_date": _dates(cal, cat.launch),
            "lead_time_days": cat.lead.astype(np.int64),
        }
    )
    # ---------------------------------------------------------------- inventory
    launched = np.arange(cal.n)[:, None] >= np.maximum(cat.launch, 0)[None, :]
    dd, ss = np.nonzero(launched)
    inv = pd.DataFrame(
        {
            "date": _dates(cal, dd),
            "sku": _labels(cat.sku, ss),
            "on_hand": baskets.on_hand[dd, ss],
            "on_order": baskets.on_order[dd, ss],
        }
    )
    # ---------------------------------------------------------------- marketing spend
    C = len(CHANNELS)
    mt = pd.DataFrame(
        {
            "date": _dates(cal, np.repeat(np.arange(cal.n), C)),
            "channel": _labels(CHANNELS, np.tile(np.arange(C), cal.n)),
            "spend": mkt.spend.ravel(),
            "impressions": mkt.impressions.ravel(),
            "clicks": mkt.clicks.ravel(),
        }
    )
    extra["tier_counts"] = {name: int((tier == i).sum()) for i, name in enumerate(TIERS)}
    extra["discount_share"] = float(disc.sum() / gross.sum())
    tables = {
        "customers": ct,
        "orders": ot,
        "order_items": it,
        "products": lt,
        "sessions": st,
        "assignments": at,
        "inventory": inv,
        "marketing_spend": mt,
    }
    return {name: tables[name] for name in TABLES}, extra


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series([], dtype=object) for c in TABLES[name].columns})


# ============================================================================ truth
def _runs(days: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive runs ``(first, last)`` of sorted day indices."""
    if days.size == 0:
        return []
    cut = np.flatnonzero(np.diff(days) > 1)
    firsts = np.concatenate([[days[0]], days[cut + 1]])
    lasts = np.concatenate([days[cut], [days[-1]]])
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


def _truth(
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
    *,
    customers,
    seed,
    dirty,
) -> dict[str, Any]:
    iso = cal.iso
    drop = CHANNELS.index(TRAFFIC_DROP["channel"])
    t: dict[str, Any] = {
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
    t["purchase_clock"] = {
        "start": cal.start.date().isoformat(),
        "daily_multiplier": clock.m.tolist(),
        "hour_weights": HOUR_WEIGHTS.tolist(),
        "definition": "clock(t) = sum of daily_multiplier over the days before t's day + that day's multiplier × "
        "the share of hour_weights (piecewise linear by hour) elapsed on the day; one clock day = "
        "one calendar day of average intensity in a typical year. shopbook.data.synthetic."
        "clock_days(truth, timestamps) computes it.",
    }
    t["bgnbd"] = {
        **BGNBD,
        "time_unit": "day",
        "clock": "purchase_clock",
        "meaning": "repeat purchases (paid orders after a customer's first order) of each customer follow BG/NBD "
        "exactly in purchase-clock days since their first order: λ ~ Gamma(shape r, rate alpha) "
        "per day, dropout after each repeat purchase with p ~ Beta(a, b). On calendar days the fit is "
        "close but not exact (festivals compress time: a and b come out roughly 5–12 % low). Purchase "
        "times are session starts; order_ts is a few minutes later. pdp_v2 treated units purchase "
        "at rate λ·(1 + lift) inside that experiment's window after assignment.",
        "mean_purchase_rate_per_day": BGNBD["r"] / BGNBD["alpha"],
        "mean_dropout_probability": BGNBD["a"] / (BGNBD["a"] + BGNBD["b"]),
    }
    gg = GAMMA_GAMMA
    t["gamma_gamma"] = {
        **gg,
        "currency": CURRENCY,
        "applies_to": "orders.net_amount of every clean (paid) order, first and repeat",
        "meaning": "net_amount ~ Gamma(shape p, rate ν) per order, ν ~ Gamma(shape q, rate gamma) per customer; "
        "independent of purchase timing, channel, experiments and prices",
        "mean_order_value": gg["p"] * gg["gamma"] / (gg["q"] - 1),
    }
    dow_names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    t["seasonality"] = {
        "weekly_multiplier": dict(zip(dow_names, WEEKLY.round(6).tolist(), strict=True)),
        "yearly": {
            "form": "1 + amplitude·cos(2π(day_of_year − peak_day_of_year)/365.25)",
            "amplitude": YEARLY_AMPLITUDE,
            "peak_day_of_year": YEARLY_PEAK_DOY,
        },
        "festival_normaliser": clock.norm,
        "acquisition_growth_per_year": ACQUISITION_GROWTH,
        "meaning": "daily_multiplier = weekly × yearly × (1 + festival uplift) / festival_normaliser; it scales "
        "purchases, acquisitions and sessions alike",
    }
    fest: dict[str, list[dict[str, Any]]] = {"618": [], "double11": [], "cny_dip": []}
    for ev in clock.events:
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
            fest["cny_dip"].append(entry)
        else:
            f = FESTIVALS[ev["festival"]]
            entry["peak"] = f"{ev['year']}-{f['month']:02d}-{f['peak_day']:02d}"
            entry["peak_uplift_pct"] = 100 * f["peak_uplift"]
            fest[ev["festival"]].append(entry)
    t["festivals"] = {
        "meaning": "uplift_pct_by_day: % by which the intensity of orders, new customers and sessions that day "
        "exceeds the same day without the festival (weekly, yearly and trend effects kept), "
        "i.e. E[orders | festival] = (1 + pct/100) × E[orders | no festival] given the customer base",
        "display_names": {k: v["display_name"] for k, v in FESTIVALS.items()}
        | {"cny_dip": "Chinese New Year (春节)"},
        "shape": {
            k: {x: v[x] for x in ("base_uplift", "peak_uplift", "decay_days")}
            for k, v in FESTIVALS.items()
        }
        | {"cny_dip": dict(CNY_DIP)},
        **fest,
    }
    k = mkt.scale
    t["acquisition"] = {
        "customers_by_channel": {c: int((cust.channel == i).sum()) for i, c in enumerate(CHANNELS)},
        "moved_from_drop_channel": cust.moved,
        "growth_per_year": ACQUISITION_GROWTH,
    }
    size = customers / 20_000
    t["marketing"] = {
        "currency": CURRENCY,
        "response": "hill",
        "formula": "E[new customers of channel c on day d] = daily_multiplier(d) · growth(d) · "
        "(organic_per_day + max_paid_per_day · spend^shape / (spend^shape + half_saturation^shape)), "
        "growth(d) = (1 + growth_per_year)^(days since start / 365.25); for the traffic-drop channel "
        "from its date × (1 − fraction) (the rest goes to the other channels)",
        "carryover": "none: spend acts on the same day",
        "growth_per_year": ACQUISITION_GROWTH,
        "channels": {
            c: {
                "organic_per_day": k * MARKETING[c]["organic"],
                "max_paid_per_day": k * MARKETING[c]["beta"],
                "half_saturation_cny_per_day": MARKETING[c]["K"] * size,
                "shape": 1.0,
                "typical_budget_cny_per_day": MARKETING[c]["budget"] * size,
                "cpm_cny": MARKETING[c]["cpm"],
                "ctr": MARKETING[c]["ctr"],
            }
            for c in CHANNELS
        },
        "spend_pattern": {
            "noise_lognormal_sd": SPEND_NOISE_SD,
            "pause_probability": SPEND_PAUSE_PROB,
            "festival_boost": "× (1 + 0.8·uplift) on festival days, × 0.5 during the CNY dip",
        },
    }
    t["traffic_drop"] = {
        "channel": TRAFFIC_DROP["channel"],
        "date": iso(mkt.drop_day),
        "fraction": TRAFFIC_DROP["fraction"],
        "meaning": "from this date (inclusive) each session of the channel (customers', prospects', first "
        "orders') and each new customer is moved with probability `fraction` to another channel: "
        "the channel's sessions and acquisitions are (1 − fraction) × what they would have been; "
        "total sessions and purchases are unchanged (moved visits convert, on average, as the lost "
        "ones would have). moved_sessions counts the moved sessions in the data, so the channel's "
        "sessions from the date are moved_sessions.total × (1 − fraction) / fraction in expectation",
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
    t["funnel"] = {
        "stages": list(STAGES),
        "meaning": "per session of a channel × device: product_view = P(product_views > 0), add_to_cart = "
        "P(added_to_cart | product view), checkout = P(reached_checkout | cart), order = P(order | "
        "checkout); session_conversion is their product. Exact in expectation for every channel × "
        "device outside pdp_v2's treated arm (whose add_to_cart rate is × (1 + lift) in its window)",
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
    ex: dict[str, Any] = {}
    for e in exps:
        cfg = EXPERIMENTS[e.name]
        a = vis.assignments[e.name]
        entry = {
            "description": cfg["description"],
            "start": iso(e.w0),
            "end": iso(e.w1 - 1),
            "unit": "visitor_id",
            "eligibility": "visitors of customers acquired before the start with a session in the window; "
            "assigned_ts is the start of their first session in the window",
            "variants": {"control": 1 - e.share, "treatment": e.share},
            "intended_split": {"control": 0.5, "treatment": 0.5},
            "units": {"control": int((~a["treat"]).sum()), "treatment": int(a["treat"].sum())},
            "relative_lift": e.lift,
            "aov_relative_lift": 0.0,
            "pre_period_days_available": int(e.w0),
        }
        if e.name == "pdp_v2":
            cf = vis.pdp_counterfactual
            entry["lift_metric"] = (
                "relative lift of session conversion (orders / sessions) and of the add-to-cart rate, and of "
                "the purchase intensity of exposed units while active, in the window after assignment; orders "
                "per unit rise slightly less (purchases also trigger dropout: see realised); no effect on "
                "sessions per unit or on order value"
            )
            entry["realised"] = {
                **cf,
                "relative_lift_orders_treated": (cf["orders"] / cf["orders_if_control"] - 1)
                if cf["orders_if_control"]
                else None,
                "meaning": "the treated units' orders (and units with an order) in the window after assignment, "
                "and the same had they been in control (same random draws): the in-sample effect",
            }
        if e.name == "checkout_srm":
            entry["srm"] = "assignment bug: treatment gets 48% of units instead of 50%"
        ex[e.name] = entry
    t["experiments"] = ex
    cats = list(CATEGORIES)
    a_, b_ = cat.pair
    avail = baskets.available
    lp = np.log(prices.price_d / prices.list_d)
    corr = float(np.corrcoef(lp[avail], prices.xi[avail])[0, 1])
    kinds = prices.kind[avail]
    t["products"] = {
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
            "meaning": "each SKU's demand has elasticity +0.6 to the other's unit price (symmetric)",
        },
        "demand_model": "E[units of SKU s on day d | in stock] = C(d) · exp(own_price_elasticity(category) · "
        "log(unit_price_sd) + cross · log(partner price) + α_s + ξ_sd); C(d) is common to all "
        "SKUs on a day (a day fixed effect), α_s a SKU fixed effect, ξ an unobserved AR(1) demand "
        "shock; unit_price is the SKU's price that day (identical on all its lines that day). "
        "Days a SKU is out of stock have no sales and are censored, not zero demand",
        "demand_shock": dict(DEMAND_SHOCK, time_unit="day"),
        "promotions": {
            **{k_: v for k_, v in PROMOTIONS.items()},
            "meaning": "unit_price = list_price × (1 − depth), rounded to 0.1 CNY. Planned: festival windows "
            "(per SKU and window) and random weeks; reactive: per SKU-week with logit probability "
            "logit(reactive_base_probability) + reactive_slope · ξ(week start)/sd — promotions land on "
            "demand peaks, so naive regressions of log units on log price overstate elasticity",
            "sku_days_by_kind": {
                name: int((kinds == i).sum())
                for i, name in enumerate(("none", "festival", "random", "reactive"))
            },
        },
        "list_prices": "list_price = floor(unit_cost / cost ratio) + 0.9 CNY: list changes are cost pass-through "
        "(exogenous to demand; unit_cost is a valid instrument)",
        "confounding": {
            "reactive_slope_logit_per_sd": PROMOTIONS["reactive_slope"],
            "corr_log_discount_vs_shock": corr,
            "meaning": "corr over in-stock SKU-days between log(unit_price/list_price) and the demand shock ξ",
        },
    }
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
                "cause": "quality hold: stock written off on first_day, replacement arrives the day after "
                "last_day; on_hand is 0 and nothing sells on these days",
            }
        )
    natural = launched & (hand == 0) & ~hold_mask
    nat_runs = []
    for s in np.flatnonzero(natural.any(axis=0)):
        for f, l_ in _runs(np.flatnonzero(natural[:, s])):
            nat_runs.append(
                {"sku": cat.sku[s], "first_day": iso(f), "last_day": iso(l_), "days": l_ - f + 1}
            )
    t["inventory"] = {
        "policy": f"daily (s, S) review on inventory position; reorder point = cover(forecast over the lead "
        f"time + 1 day), order up to cover(forecast over lead time + {REVIEW_DAYS} days), cover(μ) = "
        f"{1 + SAFETY}·μ + {SAFETY_Z}·sqrt(μ·{1 + cat.mu_q.max():g}) + 2, "
        f"in cases of {CASE_PACK}; deliveries arrive lead_time_days after ordering; sales beyond stock "
        f"are backordered and shipped from the next delivery",
        "on_hand_meaning": "units in stock at the end of the day",
        "stockouts": planted,
        "natural_stockout_sku_days": int(natural.sum()),
        "natural_stockouts": nat_runs,
    }
    t["customers"] = {
        "region_shares": REGIONS,
        "member_tier_rule": {
            "based_on": "lifetime net_amount of clean (paid) orders, CNY",
            "lower_bounds_cny": TIERS,
        },
        "member_tiers": extra["tier_counts"],
    }
    t["orders"] = {
        "first_order": "each customer's first order is at signup (BG/NBD time zero), through the acquisition channel",
        "discount_meaning": "discount_amount = gross_amount − net_amount: the order-level coupon that brings the "
        "basket (filled until it covers the Gamma-Gamma amount) to the amount paid",
        "discount_share_of_gross": extra["discount_share"],
        "repeat_orders": int((~orders.first).sum()),
    }
    return t


# ============================================================================ mess
def _plant_mess(
    tables: dict[str, pd.DataFrame], cal: _Calendar, rng: np.random.Generator
) -> dict[str, Any]:
    orders, items = tables["orders"], tables["order_items"]
    n, n_items = len(orders), len(items)
    k = {
        "duplicate_orders": max(3, round(0.003 * n)),
        "refunded_orders": max(3, round(0.02 * n)),
        "cancelled_orders": max(3, round(0.01 * n)),
        "negative_quantity_lines": max(3, round(0.001 * n_items)),
        "null_order_ts": max(2, round(0.0005 * n)),
        "future_order_ts": max(2, round(0.0005 * n)),
    }
    width = len(str(orders["order_id"].iloc[0])) - 1
    next_id = n

    def new_ids(m: int) -> pd.Series:
        nonlocal next_id
        out = _ids("O", np.arange(next_id, next_id + m), width)
        next_id += m
        return out

    end_ts = (cal.end + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)).to_datetime64()
    new_orders, new_items = [], []
    for status in ("refunded", "cancelled"):  # two statuses
        m = k[f"{status}_orders"]
        tmpl = orders.iloc[np.sort(rng.choice(n, m, replace=False))].copy()
        ids = new_ids(m)
        mapping = pd.DataFrame({"order_id": tmpl["order_id"].to_numpy(), "__new": ids.to_numpy()})
        cl = items.merge(mapping, on="order_id", how="inner")
        cl["order_id"] = cl.pop("__new").astype(items["order_id"].dtype)
        new_items.append(cl[items.columns])
        shift = pd.to_timedelta(np.round(rng.uniform(1, 72, m) * 3600), unit="s").to_numpy()
        tmpl["order_ts"] = np.minimum(tmpl["order_ts"].to_numpy() + shift, end_ts)
        tmpl["order_id"] = ids.to_numpy()
        tmpl["status"] = pd.Series([status] * m, dtype=orders["status"].dtype).to_numpy()
        new_orders.append(tmpl)
    for key, value in (
        ("null_order_ts", pd.NaT),
        ("future_order_ts", pd.Timestamp("2099-12-31 23:59:59")),
    ):
        m = k[key]
        tmpl = orders.iloc[np.sort(rng.choice(n, m, replace=False))].copy()
        tmpl["order_id"] = new_ids(m).to_numpy()
        tmpl["order_ts"] = value
        new_orders.append(tmpl)
    dups = orders.iloc[np.sort(rng.choice(n, k["duplicate_orders"], replace=False))].copy()
    new_orders.append(dups)
    # negative quantities: an extra line (another SKU) on single-line orders
    counts = items["order_id"].value_counts()
    single = np.flatnonzero(items["order_id"].map(counts).to_numpy() == 1)
    pick = np.sort(rng.choice(single, k["negative_quantity_lines"], replace=False))
    neg = items.iloc[pick].copy()
    skus = tables["products"]["sku"].to_numpy()
    pos = pd.Index(skus).get_indexer(neg["sku"].to_numpy())
    other = (pos + 1 + rng.integers(0, len(skus) - 1, len(pos))) % len(skus)
    neg["sku"] = pd.Series(skus[other], dtype=items["sku"].dtype).to_numpy()
    neg["quantity"] = -rng.integers(1, 3, len(pos))
    new_items.append(neg)
    all_orders = pd.concat([orders, *new_orders], ignore_index=True)
    o = np.lexsort(
        (
            np.arange(len(all_orders)),
            all_orders["order_ts"].isna().to_numpy(),
            all_orders["order_ts"].fillna(pd.Timestamp("2262-01-01")).to_numpy(),
        )
    )
    tables["orders"] = all_orders.iloc[o].reset_index(drop=True)
    all_items = pd.concat([items, *new_items], ignore_index=True)
    tables["order_items"] = all_items.sort_values("order_id", kind="stable").reset_index(drop=True)
    return {
        "planted": True,
        "counts": k,
        "expected_rejects": {
            "orders": {
                TABLES["orders"].key_reason: k["duplicate_orders"],
                "null order_ts": k["null_order_ts"],
                "order_ts in the future": k["future_order_ts"],
            },
            "order_items": {"non-positive quantity": k["negative_quantity_lines"]},
        },
        "statuses": {"refunded": k["refunded_orders"], "cancelled": k["cancelled_orders"]},
        "meaning": "the dirty shop is the clean shop plus: exact copies of order rows (duplicate order_id); extra "
        "refunded and cancelled orders (new ids, cloned baskets, a few hours after their template); "
        "extra order lines with negative quantity on single-line orders; extra orders (no lines) "
        "with a missing or a 2099 timestamp. Kept rows with status 'paid' (and their lines) are "
        "exactly the clean shop",
    }
