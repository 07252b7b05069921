"""The synthetic shop: a seeded, vectorised simulator of a multi-channel e-commerce business
that plants known truths and returns them.

:func:`generate` builds all ten contract tables (:mod:`shopbook.data.contract`) of a
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
peak on the 11th; a dip over the Spring Festival logistics stop and official days off
of :func:`shopbook.calendars.spring_festival_event`; a weekly member day from late in the
data on), normalised so that a *typical year*
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
(The keep-and-upgrade tiers of notebook 09 are reviewed inside the visit layer, and an
upgrade lifts the member's conversion for a month: :mod:`.tiers`.)

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
``checkout_srm`` (12 weeks, no effect, broken 54/46 split). Windows shrink on short
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

Layout (one module per layer, each drawn from its own random stream)
--------------------------------------------------------------------
``parameters`` every planted number · ``clock`` calendar and purchase clock ·
``marketing`` spend and acquisition intensity · ``customers`` intake and BTYD behaviour ·
``funnel`` stage rates · ``experiments`` windows and the pdp_v2 counterfactual ·
``visits`` customers' and prospects' sessions · ``orders`` · ``catalogue`` products and
prices · ``baskets`` order lines and the inventory recursion · ``tables`` the contract
tables · ``truth`` what was planted · ``mess`` the dirty shop · ``shop`` :func:`generate` ·
``storage`` :func:`write_shop` and :func:`read_truth`.
"""

from shopbook.data.synthetic.clock import clock_days
from shopbook.data.synthetic.parameters import (
    ACQUISITION_GROWTH,
    ANONYMOUS,
    BGNBD,
    BRANDS,
    CASE_PACK,
    CATEGORIES,
    CHANNEL_NAMES,
    CHANNELS,
    CNY_DATES,
    CNY_DIP,
    CROSS_PRICE_ELASTICITY,
    CURRENCY,
    DEMAND_SHOCK,
    DEVICE_FACTORS,
    DEVICE_MIX,
    DEVICES,
    EXPERIMENTS,
    FESTIVALS,
    GAMMA_GAMMA,
    GENERATOR_VERSION,
    HOUR_WEIGHTS,
    LOYALTY,
    MARKETING,
    MEMBER_DAY,
    MIN_DAYS,
    PROMOTIONS,
    REGIONS,
    REVIEW_DAYS,
    SAFETY,
    SAFETY_Z,
    SIZES,
    SPEND_NOISE_SD,
    SPEND_PAUSE_PROB,
    STAGE_RATES,
    STAGES,
    STICKINESS,
    STOCKOUT_HOLDS,
    TIERS,
    TRAFFIC_DROP,
    VISIT_SHARE,
    WEEKLY,
    YEARLY_AMPLITUDE,
    YEARLY_PEAK_DOY,
)
from shopbook.data.synthetic.shop import Shop, generate
from shopbook.data.synthetic.storage import read_truth, write_shop

__all__ = [
    "ACQUISITION_GROWTH",
    "ANONYMOUS",
    "BGNBD",
    "BRANDS",
    "CASE_PACK",
    "CATEGORIES",
    "CHANNELS",
    "CHANNEL_NAMES",
    "CNY_DATES",
    "CNY_DIP",
    "MEMBER_DAY",
    "CROSS_PRICE_ELASTICITY",
    "CURRENCY",
    "DEMAND_SHOCK",
    "DEVICES",
    "DEVICE_FACTORS",
    "DEVICE_MIX",
    "EXPERIMENTS",
    "FESTIVALS",
    "GAMMA_GAMMA",
    "GENERATOR_VERSION",
    "HOUR_WEIGHTS",
    "LOYALTY",
    "MARKETING",
    "MIN_DAYS",
    "PROMOTIONS",
    "REGIONS",
    "REVIEW_DAYS",
    "SAFETY",
    "SAFETY_Z",
    "SIZES",
    "SPEND_NOISE_SD",
    "SPEND_PAUSE_PROB",
    "STAGES",
    "STAGE_RATES",
    "STICKINESS",
    "STOCKOUT_HOLDS",
    "Shop",
    "TIERS",
    "TRAFFIC_DROP",
    "VISIT_SHARE",
    "WEEKLY",
    "YEARLY_AMPLITUDE",
    "YEARLY_PEAK_DOY",
    "clock_days",
    "generate",
    "read_truth",
    "write_shop",
]
