"""Loyalty and promotions (generator v3): the ladder discount's top-ups, the randomised
repurchase coupon, the ``promotions`` and ``offers`` tables and their truth.

The ladder's top-up (凑单) adds one unit of a SKU priced between the gap and the gap plus
``slack`` × the threshold, drawn by the day's choice weights (an order with no such SKU
fills as usual), so topped-up orders land just above the threshold. This filler choice
depends on price: the extra units (about 1 % of orders, in the festival windows) favour
SKUs of the right price — a small departure from the exact log-linear demand.

Both plants draw from their own random stream (``loyalty``), so the other layers keep
their draws: the ladder tops up baskets inside the inventory recursion, and the coupon
changes only the funnel stage of the treated customers' visits in its validity window
(the same uniforms, as ``pdp_v2`` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopbook.data.synthetic.clock import _Calendar, _Clock, member_day_since
from shopbook.data.synthetic.parameters import LOYALTY


@dataclass
class _Ladder:
    """The ladder discount's days and steps, and what its top-ups did."""

    days: np.ndarray  # bool per day: the ladder runs
    windows: list[tuple[str, int, int]]  # (name, first day, last day)
    steps: tuple[tuple[float, float, float], ...]
    take_up: float
    slack: float
    eligible: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per step
    moved: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    added_cents: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    window_orders: int = 0

    @classmethod
    def make(cls, cal: _Calendar, clock: _Clock) -> _Ladder:
        cfg = LOYALTY["ladder"]
        on = np.zeros(cal.n, bool)
        windows = []
        for ev in clock.events:
            if ev["festival"] in cfg["festivals"]:
                d = np.asarray(ev["days"])
                on[d] = True
                windows.append((f"{ev['festival']}_{ev['year']}", int(d.min()), int(d.max())))
        k = len(cfg["steps"])
        return cls(
            on,
            windows,
            tuple(tuple(float(x) for x in s) for s in cfg["steps"]),  # type: ignore[misc]
            float(cfg["take_up"]),
            float(cfg["slack"]),
            np.zeros(k, np.int64),
            np.zeros(k, np.int64),
            np.zeros(k, np.int64),
        )

    def targets(self, gross_c: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Per order: the threshold (cents) it is topped up to, or 0."""
        out = np.zeros(len(gross_c), np.int64)
        u = rng.random(len(gross_c))
        self.window_orders += len(gross_c)
        for i, (thr, _disc, reach) in enumerate(self.steps):
            t_c, r_c = int(round(thr * 100)), int(round(reach * 100))
            near = (gross_c >= t_c - r_c) & (gross_c < t_c)
            go = near & (u < self.take_up)
            self.eligible[i] += int(near.sum())
            self.moved[i] += int(go.sum())
            out[go] = t_c
        return out

    def record(self, target_c: np.ndarray, added_c: np.ndarray) -> None:
        for i, (thr, _d, _r) in enumerate(self.steps):
            sel = target_c == int(round(thr * 100))
            self.added_cents[i] += int(added_c[sel].sum())


@dataclass
class _Coupon:
    """The repurchase coupon: who was eligible, the arm, when it was (or would be) sent."""

    day: int
    sent: float  # days since start
    cust: np.ndarray  # eligible customers
    treat: np.ndarray  # bool per eligible customer
    valid_days: int
    lift: float
    realised: dict[str, Any] = field(default_factory=dict)


def _coupon_day(cal: _Calendar) -> int:
    return int(round(LOYALTY["coupon"]["at"] * cal.n))


def _draw_coupon(
    cal: _Calendar,
    t0: np.ndarray,
    buy_cust: np.ndarray,
    buy_t: np.ndarray,
    rng: np.random.Generator,
) -> _Coupon:
    """Eligible customers (a purchase in the days before the send) and their arm."""
    cfg = LOYALTY["coupon"]
    day = _coupon_day(cal)
    lo = day - int(cfg["eligible_days"])
    recent = np.unique(
        np.concatenate(
            [
                np.flatnonzero((t0 >= lo) & (t0 < day)),
                buy_cust[(buy_t >= lo) & (buy_t < day)],
            ]
        )
    ).astype(np.int64)
    treat = rng.random(len(recent)) < float(cfg["treatment_share"])
    return _Coupon(day, day + 10 / 24, recent, treat, int(cfg["valid_days"]), float(cfg["lift"]))


def _coupon_outcomes(
    coupon: _Coupon,
    t0: np.ndarray,
    buy_cust: np.ndarray,
    buy_t: np.ndarray,
    buy_cust_cf: np.ndarray,
    buy_t_cf: np.ndarray,
    windows: tuple[int, ...] = (7, 14, 30),
) -> dict[str, Any]:
    """Realised repurchase within N days of the send, by arm, and the treated arm's
    rate had it been control (the same draws without the coupon)."""
    n = max(int(t0.size), 1)

    def rate(cust: np.ndarray, bc: np.ndarray, bt: np.ndarray, days: int) -> float:
        if cust.size == 0:
            return float("nan")
        hit = np.zeros(n, bool)
        inside = (bt >= coupon.sent) & (bt < coupon.sent + days)
        hit[bc[inside]] = True
        return float(hit[cust].mean())

    tr, co = coupon.cust[coupon.treat], coupon.cust[~coupon.treat]
    out: dict[str, Any] = {"treated": int(tr.size), "control": int(co.size)}
    for d in windows:
        actual = rate(tr, buy_cust, buy_t, d)
        if_control = rate(tr, buy_cust_cf, buy_t_cf, d)
        out[f"within_{d}d"] = {
            "treated_rate": actual,
            "control_rate": rate(co, buy_cust, buy_t, d),
            "treated_rate_if_control": if_control,
            "uplift_pp": 100 * (actual - if_control),
        }
    return out


def _promotions_table(cal: _Calendar, ladder: _Ladder, coupon: _Coupon) -> pd.DataFrame:
    rows = []
    for name, d0, d1 in ladder.windows:
        for thr, disc, _reach in ladder.steps:
            rows.append(
                {
                    "promotion_id": f"ladder_{name}_{int(thr)}",
                    "type": "ladder",
                    "threshold": thr,
                    "discount": disc,
                    "start": cal.iso(d0),
                    "end": cal.iso(d1),
                }
            )
    cfg = LOYALTY["coupon"]
    rows.append(
        {
            "promotion_id": cfg["promotion_id"],
            "type": "coupon",
            "threshold": float(cfg["threshold"]),
            "discount": float(cfg["discount"]),
            "start": cal.iso(coupon.day),
            "end": cal.iso(min(coupon.day + coupon.valid_days - 1, cal.n - 1)),
        }
    )
    since = member_day_since(cal)
    if since < cal.n:
        rows.append(
            {
                "promotion_id": "member_day",
                "type": "member_day",
                "threshold": None,
                "discount": None,
                "start": cal.iso(since),
                "end": cal.iso(cal.n - 1),
            }
        )
    df = pd.DataFrame(
        rows, columns=["promotion_id", "type", "threshold", "discount", "start", "end"]
    )
    for c in ("promotion_id", "type"):
        df[c] = df[c].astype("string[pyarrow]")
    for c in ("threshold", "discount"):
        df[c] = df[c].astype(float)
    for c in ("start", "end"):
        df[c] = pd.to_datetime(df[c]).dt.date.astype("date32[pyarrow]")
    return df


def _offers_table(coupon: _Coupon, cust_ids: pd.Series, cal: _Calendar) -> pd.DataFrame:
    secs = int(round(coupon.sent * 86400))
    ts = cal.start + pd.Timedelta(seconds=secs)
    n = len(coupon.cust)
    df = pd.DataFrame(
        {
            "customer_id": cust_ids.iloc[coupon.cust].reset_index(drop=True),
            "promotion_id": pd.Series(
                [LOYALTY["coupon"]["promotion_id"]] * n, dtype="string[pyarrow]"
            ),
            "sent_ts": pd.Series(np.full(n, ts.to_datetime64()), dtype="datetime64[ns]"),
            "variant": pd.Series(
                np.where(coupon.treat, "treatment", "control"), dtype="string[pyarrow]"
            ),
        }
    )
    return df


def _loyalty_truth(cal: _Calendar, ladder: _Ladder, coupon: _Coupon) -> dict[str, Any]:
    wo = max(ladder.window_orders, 1)
    steps = []
    for i, (thr, disc, reach) in enumerate(ladder.steps):
        moved = int(ladder.moved[i])
        steps.append(
            {
                "threshold": thr,
                "discount": disc,
                "reach": reach,
                "eligible_orders": int(ladder.eligible[i]),
                "moved_orders": moved,
                "moved_share": moved / wo,
                "added_gross": ladder.added_cents[i] / 100.0,
                "added_gross_per_moved_order": (ladder.added_cents[i] / 100.0 / moved)
                if moved
                else None,
            }
        )
    cfg = LOYALTY["coupon"]
    return {
        "ladder": {
            "windows": [
                {"name": n, "start": cal.iso(a), "end": cal.iso(b)} for n, a, b in ladder.windows
            ],
            "take_up": ladder.take_up,
            "window_orders": ladder.window_orders,
            "steps": steps,
            "meaning": "an order whose gross falls within `reach` below a threshold is "
            "topped up to it with probability take_up; moved_share = moved orders / all "
            "orders in the ladder windows (the bunching mass); net amounts are unchanged",
        },
        "coupon": {
            "promotion_id": cfg["promotion_id"],
            "sent": (cal.start + pd.Timedelta(seconds=round(coupon.sent * 86400))).isoformat(),
            "eligible_days": int(cfg["eligible_days"]),
            "valid_days": coupon.valid_days,
            "lift": coupon.lift,
            "assignment": "random (treatment_share {:.2f}) among customers with a purchase "
            "in the eligible days before the send; control rows are logged in offers "
            "with variant 'control' and were not sent".format(cfg["treatment_share"]),
            "realised": coupon.realised,
        },
    }
