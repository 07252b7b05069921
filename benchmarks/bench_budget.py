"""Benchmark: the channel budget's response-model fit (shopbook.analysis.budget).

Draws day × channel intake from the model itself (planned two-week spend flights per
channel, geometric adstock, a Hill curve, a common daily demand with weekdays and a
festival, Poisson counts; seeded), then times :func:`fit_response` (maximum likelihood,
the information matrix and the parametric draws behind every interval) and
:func:`reallocate` for

* 5 channels × 2 years (the shipped shop's size), and
* 20 channels × 3 years,

and prints a table: channels, days, cells, seconds to fit, seconds to reallocate, peak
memory, and how many of the planted decays the 95 % intervals hold.

Usage::

    .venv/bin/python benchmarks/bench_budget.py
    .venv/bin/python benchmarks/bench_budget.py --cases 5x730 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import peak_mb  # noqa: E402

from shopbook.analysis import budget as bud  # noqa: E402
from shopbook.features.budget import DAY_COLUMNS  # noqa: E402


def simulate(channels: int, days: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Day-channel frames drawn from the response model, and the planted parameters."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-01", periods=days, freq="D")
    budget = rng.uniform(200, 1500, channels)
    K = budget * rng.uniform(0.4, 2.5, channels)
    decay = rng.uniform(0.1, 0.8, channels)
    organic = rng.uniform(2, 6, channels) * 5 / channels * 4
    beta = organic * rng.uniform(0.6, 1.5, channels)
    levels = np.array([0.25, 0.6, 1.0, 1.5, 2.2]) / 1.11
    flights = np.repeat(levels[rng.integers(0, 5, (days // 14 + 1, channels))], 14, axis=0)[:days]
    spend = budget * flights * rng.lognormal(-0.06, 0.35, (days, channels))
    weekday = 1 + 0.08 * np.sin(2 * np.pi * np.arange(days) / 7)
    festival = 1 + 2.0 * np.isin(dates.dayofyear, range(305, 316))
    demand = weekday * festival * 1.25 ** (np.arange(days) / 365.25)
    rows = []
    for c in range(channels):
        A = bud.geometric_adstock(spend[:, c], decay[c])
        mu = demand * (organic[c] + beta[c] * A / (A + K[c]))
        y = rng.poisson(mu)
        rows.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "channel": f"ch{c:02d}",
                    "spend": spend[:, c],
                    "new_customers": y,
                    "first_revenue": y * 150.0,
                    "orders": y,
                    "gmv": y * 150.0,
                }
            )
        )
    truth = pd.DataFrame({"decay": decay, "K": K}, index=[f"ch{c:02d}" for c in range(channels)])
    return pd.concat(rows, ignore_index=True)[list(DAY_COLUMNS)], truth


def run(channels: int, days: int, repeat: int) -> dict:
    frame, truth = simulate(channels, days)
    ready = bud.model_channels(frame)
    fits, allocs = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fit = bud.fit_response(frame, ready.paid)
        t1 = time.perf_counter()
        values, _basis = bud.customer_values(frame)
        bud.reallocate(fit, values)
        t2 = time.perf_counter()
        fits.append(t1 - t0)
        allocs.append(t2 - t1)
    t = fit.table.set_index("channel")
    held = ((t["decay_low"] <= truth["decay"]) & (truth["decay"] <= t["decay_high"])).sum()
    return {
        "channels": channels,
        "days": days,
        "cells": channels * days,
        "fit_s": float(np.median(fits)),
        "reallocate_s": float(np.median(allocs)),
        "peak_mb": peak_mb(),
        "decays_held": f"{held}/{channels}",
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="*", default=["5x730", "20x1095"], help="CHANNELSxDAYS")
    p.add_argument("--repeat", type=int, default=1, help="runs per case (median shown)")
    a = p.parse_args()
    rows = []
    for case in a.cases:
        c, d = (int(v) for v in case.split("x"))
        rows.append(run(c, d, a.repeat))
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:,.2f}"))


if __name__ == "__main__":
    main()
