"""Marketing spend by channel and day and the acquisition intensity it drives.

Spend is planned in flights: every ``SPEND_FLIGHT_WEEKS`` weeks each channel's budget is
set, independently of the other channels, to one of ``SPEND_FLIGHT_LEVELS`` × its typical
budget (mean 1), then varied by day (lognormal noise, rare pauses, more on festival days,
less over the Spring Festival dip). The flights move each channel's spend across its curve,
so the curve can be learnt; the independence keeps channels' spend apart.

Spend works with carry-over: the intake of channel c on day d responds to the
*adstocked* spend, normalised geometric adstock
``A_c(d) = (1 − decay_c)·S_c(d) + decay_c·A_c(d − 1)`` with ``A_c(first day) = S_c(first
day)`` (a steady state at the first day's spend), through a Hill curve of shape 1:
``organic_c + β_c · A_c(d) / (A_c(d) + K_c)``. Normalised, ``A`` is in CNY per day: a steady
spend S gives A = S, so K is the half-saturation of a steady daily spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shopbook.data.synthetic.clock import _Calendar, _Clock, _monday_on_or_after
from shopbook.data.synthetic.parameters import (
    ACQUISITION_GROWTH,
    CHANNELS,
    CURRENCY,
    MARKETING,
    SPEND_FLIGHT_LEVELS,
    SPEND_FLIGHT_WEEKS,
    SPEND_NOISE_SD,
    SPEND_PAUSE_PROB,
    TRAFFIC_DROP,
)


@dataclass
class _Marketing:
    spend: np.ndarray  # (day, channel) CNY
    impressions: np.ndarray
    clicks: np.ndarray
    adstock: np.ndarray  # (day, channel) normalised geometric adstock of spend, CNY/day
    flights: np.ndarray  # (day, channel) the planned flight level (multiple of the budget)
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
    flights = _flights(n, C, rng)
    noise = rng.lognormal(-(SPEND_NOISE_SD**2) / 2, SPEND_NOISE_SD, size=(n, C))
    paused = rng.random((n, C)) < SPEND_PAUSE_PROB
    spend = np.round(budget[None, :] * flights * boost[:, None] * noise * ~paused, 2)
    decay = np.array([MARKETING[c]["decay"] for c in CHANNELS])
    adstock = geometric_adstock(spend, decay)
    cpm = np.array([MARKETING[c]["cpm"] for c in CHANNELS])
    ctr = np.array([MARKETING[c]["ctr"] for c in CHANNELS])
    impressions = np.round(spend / cpm * 1000 * rng.lognormal(0, 0.1, size=(n, C))).astype(np.int64)
    clicks = rng.binomial(impressions, ctr).astype(np.int64)
    years = np.arange(n) / 365.25
    growth = np.exp(np.log1p(ACQUISITION_GROWTH) * years)
    intensity = (clock.m * growth)[:, None] * (
        organic[None, :] + beta[None, :] * adstock / (adstock + K[None, :])
    )
    drop_day = _monday_on_or_after(cal, int(round(TRAFFIC_DROP["at"] * cal.n)))
    return _Marketing(
        spend,
        impressions,
        clicks,
        adstock,
        flights,
        intensity,
        n_customers / intensity.sum(),
        drop_day,
        growth,
    )


def _flights(n: int, C: int, rng: np.random.Generator) -> np.ndarray:
    """The planned budget multiple per day and channel: one level per channel and flight."""
    levels = np.asarray(SPEND_FLIGHT_LEVELS) / np.mean(SPEND_FLIGHT_LEVELS)
    days = 7 * SPEND_FLIGHT_WEEKS
    k = -(-n // days)
    drawn = levels[rng.integers(0, len(levels), size=(k, C))]
    return np.repeat(drawn, days, axis=0)[:n]


def geometric_adstock(spend: np.ndarray, decay: np.ndarray) -> np.ndarray:
    """Normalised geometric adstock down the first axis, from a steady state at the first row.

    ``A(d) = (1 − decay)·S(d) + decay·A(d − 1)``, ``A(0) = S(0)``; ``decay`` per column.
    """
    out = np.empty_like(spend, dtype=float)
    a = spend[0].astype(float)
    for d in range(spend.shape[0]):  # a few hundred days × a handful of channels
        a = (1.0 - decay) * spend[d] + decay * a
        out[d] = a
    return out


def _marketing_truth(mkt: _Marketing, customers: int) -> dict[str, Any]:
    k = mkt.scale
    size = customers / 20_000
    return {
        "currency": CURRENCY,
        "response": "hill",
        "formula": "E[new customers of channel c on day d] = daily_multiplier(d) · growth(d) · "
        "(organic_per_day + max_paid_per_day · A^shape / (A^shape + half_saturation^shape)), "
        "A = adstock(d) of the channel's spend, growth(d) = (1 + growth_per_year)^(days "
        "since start / 365.25); for the traffic-drop channel from its date × (1 − fraction) "
        "(the rest goes to the other channels)",
        "carryover": "geometric, normalised: adstock(d) = (1 − decay)·spend(d) + "
        "decay·adstock(d − 1), adstock(first day) = spend(first day); CNY/day",
        "growth_per_year": ACQUISITION_GROWTH,
        "channels": {
            c: {
                "organic_per_day": k * MARKETING[c]["organic"],
                "max_paid_per_day": k * MARKETING[c]["beta"],
                "half_saturation_cny_per_day": MARKETING[c]["K"] * size,
                "shape": 1.0,
                "decay": MARKETING[c]["decay"],
                "half_life_days": float(np.log(0.5) / np.log(MARKETING[c]["decay"])),
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
            "flights": f"planned flights of {SPEND_FLIGHT_WEEKS} weeks from the first day: "
            "each channel's budget × one of the levels (normalised to mean 1), drawn per "
            "channel and flight independently",
            "flight_weeks": SPEND_FLIGHT_WEEKS,
            "flight_levels": [
                float(v) for v in np.asarray(SPEND_FLIGHT_LEVELS) / np.mean(SPEND_FLIGHT_LEVELS)
            ],
            "spend": "typical_budget × flight level × festival boost × noise × (not paused)",
        },
    }
