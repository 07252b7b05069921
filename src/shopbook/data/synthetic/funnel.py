"""The session funnel: stage pass rates by channel and device, the channel the traffic
drop moves visits to, and the stage each visit reaches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from shopbook.data.synthetic.parameters import (
    CHANNELS,
    DEVICE_FACTORS,
    DEVICE_MIX,
    DEVICES,
    STAGE_RATES,
    STAGES,
    TRAFFIC_DROP,
    VISIT_SHARE,
)


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


def _stages(
    funnel: _Funnel,
    ch: np.ndarray,
    dev: np.ndarray,
    u: np.ndarray,
    boost: np.ndarray | None = None,
) -> np.ndarray:
    """Funnel stage reached (0–4) by each visit, coupled to one uniform ``u`` per visit.

    ``P(stage ≥ k) = cp[k]`` (cumulative pass rates of the visit's channel × device); a
    visit's ``boost`` (1: none) multiplies its rates from add-to-cart on — an experiment's
    treatment, a coupon, an upgrade's welcome benefits.
    """
    cell = ch.astype(np.int32) * len(DEVICES) + dev
    cp = funnel.cp.reshape(-1, len(STAGES))
    stage = (u < cp[cell, 0]).astype(np.int8)
    for k in (1, 2, 3):
        thr = cp[cell, k]
        if boost is not None:
            thr = thr * boost
        stage += u < thr
    return stage
