"""Member tiers (generator v4): the keep-and-upgrade reviews run inside the visit layer, and
an upgrade's welcome benefits lift the upgraded member's conversion for a few weeks.

The reviews follow :func:`shopbook.analysis.loyalty.tier_paths` exactly — calendar months
from the shop's first month, a review at the end of every ``review_months``-th month from
month ``11 + review_months`` on, the last 12 months' net spend of every order placed
before the review's end — so a member's tier in the data is the tier the generator acted
on. Reviews are applied in time order with the coupon (:mod:`.loyalty`): at a review every
purchase before it is final (a review only changes visits after it), the upgraded members'
visits in the ``days`` after it convert with ``1 + lift`` × the add-to-cart rate (the same
uniforms), and dropout is re-run — so the extra purchases count in later reviews.

The truth is the realised effect: upgraded members' share with a purchase in the ``days``
after the review, against the same draws without the upgrade's lift (later reviews held
as they happened), for all upgrades and for the ones an RD design sees — up one tier with
the 12-month spend within ``band`` above the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shopbook.data.synthetic.clock import _Calendar
from shopbook.data.synthetic.parameters import LOYALTY


def month_starts(cal: _Calendar) -> np.ndarray:
    """First day (days since start) of every calendar month the shop spans, and of the next.

    Month 0 starts at day 0 (the shop's first day, which may be mid-month, as the first
    month of the data is in :func:`~shopbook.analysis.loyalty.tier_paths`)."""
    first = cal.start.to_period("M")
    last = cal.end.to_period("M")
    out = [0]
    p = first + 1
    while p <= last + 1:
        out.append(int((p.start_time - cal.start).days))
        p += 1
    return np.asarray(out, np.int64)


@dataclass
class _Review:
    """One review: its month, the first day after it, and who moved up."""

    month: int
    after: int  # day index of the first day after the review
    cust: np.ndarray  # upgraded customers
    prev: np.ndarray  # their rank before
    new: np.ndarray  # their rank after
    spend_c: np.ndarray  # their 12-month spend (cents)


@dataclass
class _Tiers:
    """The tier rules, the reviews so far and each visit's upgrade factor."""

    names: tuple[str, ...]
    up_c: np.ndarray  # upgrade spend per rank (cents)
    keep_c: np.ndarray
    review_months: int
    lift: float
    days: int
    band: float
    reviews: list[tuple[int, int]]  # (month, first day after) for every review in the data
    rank: np.ndarray  # current rank per customer (−1: not a member yet)
    factor: np.ndarray = field(default_factory=lambda: np.ones(0))  # per visit
    done: list[_Review] = field(default_factory=list)
    realised: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def make(cls, cal: _Calendar, n_customers: int, n_visits: int) -> _Tiers:
        cfg = LOYALTY["tiers"]
        rules = cfg["rules"]
        R = int(cfg["review_months"])
        ms = month_starts(cal)
        n_months = len(ms) - 1
        reviews = [(m, int(ms[m + 1])) for m in range(11 + R, n_months, R)]
        return cls(
            tuple(r[0] for r in rules),
            np.array([round(r[1] * 100) for r in rules], np.int64),
            np.array([round(r[2] * 100) for r in rules], np.int64),
            R,
            float(cfg["lift"]),
            int(cfg["days"]),
            float(cfg["band"]),
            reviews,
            np.full(n_customers, -1, np.int64),
            np.ones(n_visits),
        )

    def review(
        self,
        month: int,
        after: int,
        ms: np.ndarray,
        buy_cust: np.ndarray,
        buy_sec: np.ndarray,
        buy_z: np.ndarray,
        first_sec: np.ndarray,
        first_z: np.ndarray,
    ) -> np.ndarray:
        """Apply the rules at the review of ``month`` on the purchases so far (orders' times
        in seconds since the start, net amounts in cents; first orders separately).
        Returns the customers moved up."""
        lo, hi = int(ms[month - 11]) * 86400, int(after) * 86400
        n = len(self.rank)
        w = (buy_sec >= lo) & (buy_sec < hi)
        s12 = np.bincount(buy_cust[w], weights=buy_z[w], minlength=n)
        f = (first_sec >= lo) & (first_sec < hi)
        s12[f] += first_z[f]
        member = first_sec < hi
        earned = np.searchsorted(self.up_c, s12, side="right") - 1
        cur = np.where(self.rank < 0, 0, self.rank)
        keeps = s12 >= self.keep_c[cur]
        new = np.where(earned > cur, earned, np.where(keeps, cur, np.maximum(cur - 1, 0)))
        new = np.where(member, new, -1)
        up = np.flatnonzero((self.rank >= 0) & (new > self.rank))
        self.done.append(
            _Review(month, after, up, self.rank[up], new[up], s12[up].astype(np.int64))
        )
        self.rank = new
        return up

    def outcomes(
        self,
        cal: _Calendar,
        n: int,
        buy_cust: np.ndarray,
        buy_sec: np.ndarray,
        buy_cust_cf: np.ndarray,
        buy_sec_cf: np.ndarray,
    ) -> None:
        """The realised effect: purchase within ``days`` after each review for the members
        moved up at it, with and without the upgrade's lift (reviews whose window ends in
        the data)."""
        rows: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {
            "all": ([], []),
            "near": ([], []),
        }
        for rv in self.done:
            if rv.after + self.days > cal.n or rv.cust.size == 0:
                continue
            lo, hi = rv.after * 86400, (rv.after + self.days) * 86400
            hit = np.zeros(n, bool)
            hit[buy_cust[(buy_sec >= lo) & (buy_sec < hi)]] = True
            hit_cf = np.zeros(n, bool)
            hit_cf[buy_cust_cf[(buy_sec_cf >= lo) & (buy_sec_cf < hi)]] = True
            x = rv.spend_c / self.up_c[rv.new] - 1.0
            near = (rv.new == rv.prev + 1) & (x < self.band)
            for key, sel in (("all", np.ones(rv.cust.size, bool)), ("near", near)):
                rows[key][0].append(hit[rv.cust[sel]])
                rows[key][1].append(hit_cf[rv.cust[sel]])
        out: dict[str, Any] = {}
        for key, (a, b) in rows.items():
            actual = np.concatenate(a) if a else np.zeros(0, bool)
            cf = np.concatenate(b) if b else np.zeros(0, bool)
            rate = float(actual.mean()) if actual.size else float("nan")
            rate_cf = float(cf.mean()) if cf.size else float("nan")
            out[key] = {
                "upgrades": int(actual.size),
                "rate": rate,
                "rate_if_not_upgraded": rate_cf,
                "uplift_pp": 100 * (rate - rate_cf),
            }
        out["near"]["band"] = self.band
        self.realised = out

    def truth(self, cal: _Calendar) -> dict[str, Any]:
        cfg = LOYALTY["tiers"]
        return {
            "rules": [{"tier": t, "upgrade_spend": u, "keep_spend": k} for t, u, k in cfg["rules"]],
            "review_months": self.review_months,
            "reviews": [cal.iso(after - 1) for _m, after in self.reviews],
            "upgrade_lift": self.lift,
            "upgrade_days": self.days,
            "upgrades_per_review": {cal.iso(rv.after - 1): int(rv.cust.size) for rv in self.done},
            "realised": self.realised,
            "meaning": "a member moved up at a review (rules as in loyalty_tiers.csv, "
            "reviews as in analysis.loyalty.tier_paths) has their add-to-cart rate × "
            "(1 + upgrade_lift) for upgrade_days days from the day after the review. "
            "realised: share of upgraded members with a purchase in those days, and the "
            "same had the upgrade not lifted them (same draws); 'near' = moved up one tier "
            "with 12-month spend within band × the threshold above it, the members a "
            "regression-discontinuity design at the threshold compares",
        }
