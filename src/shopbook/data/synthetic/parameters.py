"""Parameters of the synthetic shop: channels, funnel, clock, customers, marketing,
events and products (every planted number is defined here)."""

from __future__ import annotations

from typing import Any

import numpy as np

GENERATOR_VERSION = 4  # 2: Spring Festival dip on the calendar's days, weekly member day;
# 3: ladder discount (满减) bunching in the festival windows, a randomised repurchase coupon;
# 4: a tier upgrade's welcome benefits lift the upgraded members' conversion for 30 days
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
FESTIVALS: dict[str, dict[str, Any]] = {
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
#: Spring Festival dip: demand × (1 + uplift) on the days of the Spring Festival event of
#: :func:`shopbook.calendars.spring_festival_event` (the logistics stop before the official
#: days off, then the days off themselves)
CNY_DIP = {"uplift": -0.40}
#: weekly member day (会员日): demand × (1 + uplift) on ``weekday`` (0 = Monday) from
#: ``since`` (fraction of the shop's days) on; a member day from the first week would be
#: the weekly pattern itself, so the programme starts late in the data
MEMBER_DAY: dict[str, Any] = {"weekday": 2, "uplift": 0.15, "since": 0.80}
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
#: per 20,000 customers: typical daily budget (CNY), half-saturation K of the adstocked
#: spend (CNY/day), relative organic intake, relative maximum paid intake β, geometric
#: adstock decay (share of yesterday's adstock carried into today), CPM (CNY) and CTR.
#: At the typical budget Tmall and JD are past their half-saturation (an extra yuan buys
#: about half of what it buys on Douyin), Douyin and WeChat are far from it: a
#: reallocation has something real to find.
MARKETING = {
    "tmall": {
        "budget": 900.0,
        "K": 350.0,
        "organic": 0.30,
        "beta": 0.22,
        "decay": 0.55,
        "cpm": 30.0,
        "ctr": 0.025,
    },
    "jd": {
        "budget": 700.0,
        "K": 300.0,
        "organic": 0.22,
        "beta": 0.16,
        "decay": 0.45,
        "cpm": 28.0,
        "ctr": 0.022,
    },
    "douyin": {
        "budget": 800.0,
        "K": 1500.0,
        "organic": 0.20,
        "beta": 0.40,
        "decay": 0.25,
        "cpm": 18.0,
        "ctr": 0.012,
    },
    "wechat": {
        "budget": 350.0,
        "K": 900.0,
        "organic": 0.16,
        "beta": 0.14,
        "decay": 0.65,
        "cpm": 25.0,
        "ctr": 0.015,
    },
    "site": {
        "budget": 250.0,
        "K": 400.0,
        "organic": 0.12,
        "beta": 0.06,
        "decay": 0.50,
        "cpm": 12.0,
        "ctr": 0.030,
    },
}
SPEND_NOISE_SD = 0.35
SPEND_PAUSE_PROB = 0.03
#: planned flighting: each channel's budget is set per flight of this many weeks …
SPEND_FLIGHT_WEEKS = 2
#: … to one of these multiples of its typical budget, drawn per channel and flight
#: independently (so channels' spend is not perfectly correlated), normalised to mean 1
SPEND_FLIGHT_LEVELS = (0.25, 0.6, 1.0, 1.5, 2.2)

# ----------------------------------------------------------------------------- events
TRAFFIC_DROP: dict[str, Any] = {"channel": "douyin", "fraction": 0.35, "at": 0.62}
EXPERIMENTS: dict[str, dict[str, Any]] = {
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
        # 54/46: at the shipped shop's ~7,000 units the SRM test (p < 0.001) flags it with
        # near certainty (power > 0.999; 0.86 at 3,000 units); at 52/48 the power was 0.52
        "treatment_share": 0.46,
        "lift": 0.0,
        "description": "checkout change whose assignment is broken by a bug: "
        "intended 50/50, actual 54/46; no effect on behaviour",
    },
}
MIN_DAYS = 120

# ----------------------------------------------------------------------------- products
CATEGORIES: dict[str, tuple[Any, ...]] = {
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
PROMOTIONS: dict[str, Any] = {
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

# ----------------------------------------------------------------------------- loyalty
#: Promotions planted by generator v3 (drawn from their own random stream, "loyalty").
#: ``ladder``: a 满X减Y ladder in every 618 and Double 11 window; an order whose gross
#: value falls within ``reach`` below a step's threshold is topped up (凑单: one unit of
#: a SKU priced between the gap and the gap + ``slack`` × threshold) with probability
#: ``take_up`` — bunching just above each threshold. The net amount is unchanged
#: (Gamma-Gamma stays exact); the added value appears as order-level discount.
#: ``coupon``: on day ``at`` (fraction of the shop's days) the customers with a purchase
#: in the ``eligible_days`` before are split at random; the treatment arm is sent a
#: repurchase coupon (10:00), which multiplies their add-to-cart rate (hence purchase
#: intensity) by ``1 + lift`` for ``valid_days``; the control arm is logged, not sent.
#: ``tiers``: the keep-and-upgrade rules of the shipped ``analysis/loyalty_tiers.csv``
#: (tier, upgrade spend, keep spend; a test keeps the two equal) reviewed at the end of
#: every ``review_months``-th month on the last 12 months' net spend, the first review
#: after 12 + ``review_months`` months. A member moved up at a review gets the new tier's
#: welcome benefits (coupon, gift): their add-to-cart rate is × ``1 + lift`` for ``days``
#: days from the day after the review.
LOYALTY: dict[str, Any] = {
    "ladder": {
        "festivals": ("618", "double11"),
        "steps": ((199.0, 20.0, 40.0), (399.0, 50.0, 60.0)),  # threshold, discount, reach
        "take_up": 0.5,
        "slack": 0.1,  # a top-up lands within slack × threshold above it
    },
    "coupon": {
        "promotion_id": "repurchase_coupon",
        "at": 0.88,
        "eligible_days": 30,
        "treatment_share": 0.5,
        "valid_days": 7,
        "lift": 0.8,
        "threshold": 99.0,
        "discount": 15.0,
    },
    "tiers": {
        "rules": (
            ("regular", 0.0, 0.0),
            ("silver", 300.0, 200.0),
            ("gold", 1000.0, 700.0),
            ("platinum", 3000.0, 2000.0),
        ),
        "review_months": 3,
        "lift": 1.0,
        "days": 30,
        "band": 0.3,  # the truth's "near" upgrades: spend within 30 % above the threshold
    },
}
