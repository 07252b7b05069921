"""Marketing spend by channel and day and the acquisition intensity it drives."""

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
    SPEND_NOISE_SD,
    SPEND_PAUSE_PROB,
    TRAFFIC_DROP,
)


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


def _marketing_truth(mkt: _Marketing, customers: int) -> dict[str, Any]:
    k = mkt.scale
    size = customers / 20_000
    return {
        "currency": CURRENCY,
        "response": "hill",
        "formula": "E[new customers of channel c on day d] = daily_multiplier(d) · growth(d) · "
        "(organic_per_day + max_paid_per_day · spend^shape / (spend^shape + "
        "half_saturation^shape)), growth(d) = (1 + growth_per_year)^(days since start / "
        "365.25); for the traffic-drop channel from its date × (1 − fraction) (the rest goes "
        "to the other channels)",
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
