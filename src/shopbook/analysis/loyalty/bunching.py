"""Ladder discounts (满X减Y): bunching of basket values just above each threshold.

The bunching estimator (Chetty et al. 2011; Kleven 2016) on the histogram of basket
values inside the ladder's windows: a smooth counterfactual density is fitted to the
bins outside the excluded windows ``[X(1 − below), X(1 + above))`` near each threshold
(a Poisson GLM, log link so the density stays positive, with a polynomial of the
basket value on the bins within ``span × X``), and extrapolated into the window. The
**missing mass** below a threshold — orders the counterfactual expects in
``[X(1 − below), X)`` that are not there — are the orders that topped up to reach it
(the bunching mass); the **excess** above the threshold is where they landed. The
**extra basket value** a threshold brought is Σ value × (observed − counterfactual) over
its window; its **discount cost** is the discount times the orders that qualified for
that step. Intervals: a parametric bootstrap of the histogram
(multinomial with the observed counts), refitted with the same windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm

from shopbook.analysis.result import Result
from shopbook.i18n import _


@dataclass(kw_only=True)
class Bunching(Result):
    """The bunching at each threshold.

    Attributes
    ----------
    table
        Per threshold: ``threshold, discount, missing_orders, missing_low, missing_high,
        bunching_share`` (missing orders over all orders in the windows),
        ``share_low, share_high, excess_orders, extra_value, extra_value_low,
        extra_value_high, qualifying_orders, discount_cost, net_value`` (extra value −
        discount cost), ``pays`` (bool).
    histogram
        ``lower, center, orders, counterfactual, excluded`` per bin (for the figure).
    """

    histogram: pd.DataFrame = field(default_factory=pd.DataFrame)


def _fit(counts: np.ndarray, X: np.ndarray, fit_mask: np.ndarray) -> np.ndarray:
    model = sm.GLM(counts[fit_mask], X[fit_mask], family=sm.families.Poisson())
    res = model.fit()
    return np.asarray(res.predict(X))


def ladder_bunching(
    hist: pd.DataFrame,
    steps: pd.DataFrame,
    bin_width: float = 5.0,
    below: float = 0.2,
    above: float = 0.2,
    degree: int = 3,
    span: float = 0.7,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
    min_orders: int = 500,
) -> Bunching:
    """Bunching mass, extra basket value and discount cost per ladder threshold.

    Parameters
    ----------
    hist
        :func:`shopbook.features.loyalty.basket_histogram`: ``lower``, ``orders``.
    steps
        The ladder's distinct ``threshold`` and ``discount`` (one row per step).
    bin_width
        The histogram's bin width.
    below, above
        The excluded window as shares of the threshold: ``[X(1 − below), X(1 + above))``.
    degree, span
        The counterfactual around each threshold ``X``: a polynomial of this degree in
        ``(value − X) / X`` on the bins within ``span × X`` of it (log link).
    n_boot, seed, level
        Bootstrap of the intervals.
    min_orders
        Fewest orders in the windows.
    """
    total = int(hist["orders"].sum()) if len(hist) else 0
    if total < min_orders:
        return Bunching.skipped(
            _("{n} orders in the ladder windows; the bunching estimate needs {m}").format(
                n=total, m=min_orders
            )
        )
    st = (
        steps[["threshold", "discount"]]
        .drop_duplicates()
        .sort_values("threshold", ignore_index=True)
    )
    hi_edge = float(np.quantile(np.repeat(hist["lower"], hist["orders"]), 0.995))
    top = max(hi_edge, float(st["threshold"].max()) * (1 + above) * 1.5)
    lower = np.arange(0.0, top, bin_width)
    counts = (
        hist.set_index("lower")["orders"].groupby(level=0).sum().reindex(lower, fill_value=0)
    ).to_numpy(float)
    center = lower + bin_width / 2
    windows = []
    excluded = np.zeros(len(lower), bool)
    for thr in st["threshold"]:
        a, b = thr * (1 - below), thr * (1 + above)
        windows.append((thr, a, b))
        excluded |= (lower >= a - 1e-9) & (lower < b - 1e-9)
    fit_mask = ~excluded

    locals_ = []
    for thr, _a, _b in windows:
        near = (center >= thr * (1 - span)) & (center < thr * (1 + span))
        z = (center[near] - thr) / thr
        Xl = np.vander(z, degree + 1, increasing=True)
        locals_.append((near, Xl))

    def counterfactual(c: np.ndarray) -> list[np.ndarray]:
        return [_fit(c[near], Xl, fit_mask[near]) for near, Xl in locals_]

    def measures(c: np.ndarray) -> np.ndarray:
        out = []
        for (thr, a, b), (near, _xl), cf in zip(windows, locals_, counterfactual(c), strict=True):
            lo_, cc, xx = lower[near], c[near], center[near]
            below_w = (lo_ >= a - 1e-9) & (lo_ < thr - 1e-9)
            above_w = (lo_ >= thr - 1e-9) & (lo_ < b - 1e-9)
            win = below_w | above_w
            missing = float((cf[below_w] - cc[below_w]).sum())
            excess = float((cc[above_w] - cf[above_w]).sum())
            extra = float(((xx[win] - thr) * (cc[win] - cf[win])).sum()) + thr * (excess - missing)
            out.append((missing, excess, extra))
        return np.asarray(out)

    cf = np.full(len(lower), np.nan)
    for (near, _xl), part in zip(locals_, counterfactual(counts), strict=True):
        cf[near] = np.where(np.isnan(cf[near]), part, cf[near])
    point = measures(counts)
    rng = np.random.default_rng(seed)
    p = counts / counts.sum()
    boots = np.stack([measures(rng.multinomial(total, p).astype(float)) for _ in range(n_boot)])
    al = (1 - level) / 2
    qlo, qhi = np.quantile(boots, al, axis=0), np.quantile(boots, 1 - al, axis=0)
    rows = []
    thresholds = list(st["threshold"])
    for i, r in st.iterrows():
        thr, disc = float(r["threshold"]), float(r["discount"])
        nxt = thresholds[i + 1] if i + 1 < len(thresholds) else np.inf
        qual = int(counts[(lower >= thr - 1e-9) & (lower < nxt - 1e-9)].sum())
        missing, excess, extra = point[i]
        cost = qual * (disc if np.isfinite(disc) else 0.0)
        rows.append(
            {
                "threshold": thr,
                "discount": disc,
                "missing_orders": missing,
                "missing_low": float(qlo[i, 0]),
                "missing_high": float(qhi[i, 0]),
                "bunching_share": missing / total,
                "share_low": float(qlo[i, 0]) / total,
                "share_high": float(qhi[i, 0]) / total,
                "excess_orders": excess,
                "extra_value": extra,
                "extra_value_low": float(qlo[i, 2]),
                "extra_value_high": float(qhi[i, 2]),
                "qualifying_orders": qual,
                "discount_cost": cost,
                "net_value": extra - cost,
                "pays": bool(extra > cost),
            }
        )
    histogram = pd.DataFrame(
        {
            "lower": lower,
            "center": center,
            "orders": counts.astype(int),
            "counterfactual": cf,
            "excluded": excluded,
        }
    )
    res = Bunching(table=pd.DataFrame(rows), histogram=histogram)
    res.note(
        _(
            "Extra basket value is gross value before discounts; the discount cost counts every "
            "order that qualified for a step, including those that would have reached it anyway."
        )
    )
    return res
