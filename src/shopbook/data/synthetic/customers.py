"""Customers: acquisition day and channel, region, latent BG/NBD and Gamma-Gamma
parameters, and dropout after the J-th repeat purchase."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopbook.data.synthetic.clock import _Calendar, _Clock
from shopbook.data.synthetic.funnel import _Funnel
from shopbook.data.synthetic.marketing import _Marketing
from shopbook.data.synthetic.parameters import (
    BGNBD,
    CHANNELS,
    GAMMA_GAMMA,
    REGIONS,
    TRAFFIC_DROP,
    VISIT_SHARE,
)


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


def _alive(vc: np.ndarray, conv: np.ndarray, J: np.ndarray, N: int) -> np.ndarray:
    """Visits made before the customer dropped out (after their J-th repeat purchase)."""
    cs = np.cumsum(conv, dtype=np.int64)
    counts = np.bincount(vc, minlength=N)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    base = np.concatenate([[0], cs])[starts]
    before = cs - conv - base[vc]
    return before < J[vc]
