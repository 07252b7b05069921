"""Products and prices: the catalogue (names, brands, launch, lead times, quality holds),
cost-driven list prices, demand shocks and promotions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

from shopbook.data.synthetic.clock import _Calendar, _Clock
from shopbook.data.synthetic.parameters import (
    BRANDS,
    CATEGORIES,
    CROSS_PRICE_ELASTICITY,
    DEMAND_SHOCK,
    PROMOTIONS,
    SIZES,
    STOCKOUT_HOLDS,
)


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


def _names_and_prices(
    category: np.ndarray, rng: np.random.Generator
) -> tuple[list[str], list[str], np.ndarray]:
    """Per category (in order): product names, brands and initial list prices of its SKUs."""
    names: list[str] = []
    brands: list[str] = []
    price0 = np.empty(len(category))
    for k, c in enumerate(CATEGORIES):  # eight categories
        _, n, median, spread, _, _, _, words = CATEGORIES[c]
        combos = [(w, s) for s in SIZES for w in words]
        pick = rng.permutation(len(combos))[:n]
        names += [f"{combos[i][0]} {combos[i][1]}" for i in pick]
        brands += [BRANDS[i] for i in rng.integers(0, len(BRANDS), n)]
        price0[category == k] = median * rng.lognormal(0, spread, n)
    return names, brands, price0


def _quality_holds(
    cal: _Calendar,
    launch: np.ndarray,
    base: np.ndarray,
    pair: tuple[int, int],
    rng: np.random.Generator,
) -> list[tuple[int, int, int]]:
    """Planted quality holds ``(sku, first day, days)`` on popular, launched, non-substitute
    SKUs, spread over the period and clipped at the end of the data."""
    candidates = [s for s in np.argsort(-base) if s not in pair]
    holds: list[tuple[int, int, int]] = []
    n_holds = STOCKOUT_HOLDS
    for i in range(n_holds):
        d1 = int((i + 0.5) / n_holds * cal.n * 0.9 + rng.integers(0, 7))
        for s in candidates:
            if launch[s] < d1 - 30 and all(h[0] != s for h in holds):
                holds.append((int(s), d1, int(rng.integers(5, 22))))
                break
    # clip holds at the end of the data
    return [(s, d, min(h, cal.n - d)) for s, d, h in holds if d < cal.n]


def _catalogue(cal: _Calendar, rng: np.random.Generator) -> _Catalogue:
    cats = list(CATEGORIES)
    sizes = [CATEGORIES[c][1] for c in cats]
    S = sum(sizes)
    category = np.repeat(np.arange(len(cats)), sizes)
    names, brands, price0 = _names_and_prices(category, rng)
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
    holds = _quality_holds(cal, launch, base, (a, b), rng)
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
