"""Does moving up a tier bring members back? A regression discontinuity at the upgrade
thresholds.

At a review, a member one tier below tier *r* moves up exactly when their 12-month spend
reaches *r*'s upgrade spend. Members just above and just below the threshold are alike
except for the upgrade, so the jump at the threshold in the share who buy within ``days``
after the review is the upgrade's effect (its benefits and the welcome that comes with
them) — for members near the threshold.

One care: a member one tier below who is *above* the threshold must have bought since the
last review (otherwise they would have moved up then), while one just below may not have;
recent buyers buy again more often, so comparing all of them would show a jump with no
effect at all. The comparison is therefore among members who bought in the period before
the review, on both sides.

The estimate is a local linear regression on each side with a triangular kernel within
``band`` (a share of the threshold), the thresholds and reviews pooled with an intercept
each; the interval is cluster-robust by member (a member appears at several reviews).
Per threshold, the same fit alone; with a single review it is exactly the conventional
estimate of ``rdrobust`` with the same bandwidth and kernel (checked in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from shopbook.analysis.loyalty.tiers import TierPaths
from shopbook.analysis.result import Result
from shopbook.i18n import _

#: Members needed on each side of a threshold for an estimate.
MIN_SIDE = 30


@dataclass(kw_only=True)
class UpgradeEffect(Result):
    """The upgrade's effect on purchase within ``days`` after a review.

    Attributes
    ----------
    table
        One row per threshold (``tier`` it leads to) and a first row ``all`` (pooled):
        ``tier``, ``members_below``, ``members_above``, ``rate_below``, ``rate_above``
        (purchase within ``days`` at the threshold, from the fit), ``effect`` (the jump, a
        share), ``ci_low``, ``ci_high`` (95 %), ``p_value``.
    sample
        The compared members: ``customer_id``, ``review``, ``tier``, ``x`` (spend ÷
        threshold − 1), ``above``, ``bought_after``.
    band, days
        Bandwidth (share of the threshold) and the outcome window.
    """

    sample: pd.DataFrame = field(default_factory=pd.DataFrame)
    band: float = 0.3
    days: int = 30


def _fit(d: pd.DataFrame, band: float, cells: str | None) -> tuple[float, float, float, float]:
    """Local linear jump at x = 0 (triangular kernel), intercept per ``cells`` value.
    Returns effect, standard error, fitted rate just below and just above."""
    x = d["x"].to_numpy(float)
    a = d["above"].to_numpy(float)
    cols = {"above": a, "x": x, "above_x": a * x}
    X = pd.DataFrame(cols)
    if cells is not None and d[cells].nunique() > 1:
        fe = pd.get_dummies(d[cells], prefix="c", drop_first=True, dtype=float)
        X = pd.concat([X, fe.reset_index(drop=True)], axis=1)
    X.insert(0, "const", 1.0)
    w = np.clip(1.0 - np.abs(x) / band, 0.0, None)
    y = d["bought_after"].to_numpy(float)
    groups = pd.factorize(d["customer_id"])[0]
    fit = sm.WLS(y, X.to_numpy(), weights=w).fit(cov_type="cluster", cov_kwds={"groups": groups})
    names = list(X.columns)
    b, se = fit.params[names.index("above")], fit.bse[names.index("above")]
    # the rate just below the threshold: the fit at x = 0 on this side, over the sample's cells
    at0 = X.copy()
    at0[["above", "x", "above_x"]] = 0.0
    below = float(np.average(fit.predict(at0.to_numpy()), weights=w))
    return float(b), float(se), below, below + float(b)


def upgrade_effect(
    paths: TierPaths,
    purchases: pd.DataFrame,
    rules: pd.DataFrame,
    end: object,
    days: int = 30,
    band: float = 0.3,
) -> UpgradeEffect:
    """The jump at the upgrade thresholds in purchase within ``days`` after a review.

    Parameters
    ----------
    paths
        :func:`~shopbook.analysis.loyalty.tier_paths`.
    purchases
        :func:`shopbook.features.loyalty.review_purchases` on ``paths.reviews`` with the
        same ``days``: ``customer_id``, ``review``, ``bought_before``, ``bought_after``.
    rules
        :func:`~shopbook.analysis.loyalty.load_tier_rules`.
    end
        The data's last day: reviews whose window runs past it are left out.
    days
        Outcome window after the review (days).
    band
        Bandwidth: members whose spend is within ``band`` × the threshold on either side.

    Returns
    -------
    UpgradeEffect
        Skipped without two reviews with a full window after the second, or with fewer
        than :data:`MIN_SIDE` compared members on a side.
    """
    if not paths.ok():
        return UpgradeEffect.skipped(paths.why(), band=band, days=days)
    last = pd.Timestamp(end).normalize()
    reviews = [r for r in paths.reviews if r + pd.Timedelta(days=int(days)) <= last]
    if len(reviews) < 2:
        return UpgradeEffect.skipped(
            _(
                "the upgrade effect needs two reviews with {days} days of data after the second"
            ).format(days=days),
            band=band,
            days=days,
        )
    t = paths.table[["customer_id", "review", "spend_12m", "rank"]]
    t = t.assign(review=pd.to_datetime(t["review"]))
    # each member's rank at a review, keyed by the review after it (the first has none)
    following = dict(zip(paths.reviews[:-1], paths.reviews[1:], strict=True))
    prev = t.assign(review=t["review"].map(following))
    prev = prev.dropna(subset=["review"]).rename(columns={"rank": "prev_rank"})
    cur = t[t["review"].isin(reviews)]
    d = cur.merge(prev[["customer_id", "review", "prev_rank"]], on=["customer_id", "review"])
    top = int(rules["rank"].max())
    d = d[d["prev_rank"] < top]
    up = rules.set_index("rank")["upgrade_spend"].astype(float)
    names = rules.set_index("rank")["tier"]
    d = d.assign(target=d["prev_rank"] + 1)
    d = d.assign(x=d["spend_12m"] / d["target"].map(up) - 1.0, tier=d["target"].map(names))
    p = purchases.assign(review=pd.to_datetime(purchases["review"]))
    d = d.merge(p, on=["customer_id", "review"], how="left")
    for c in ("bought_before", "bought_after"):
        d[c] = d[c].astype("boolean").fillna(False).astype(bool)
    d = d[d["bought_before"] & (d["x"].abs() < band)].copy()
    d["above"] = d["x"] >= 0
    d["cell"] = d["tier"].astype(str) + "@" + d["review"].dt.strftime("%Y-%m-%d")
    sample = d[["customer_id", "review", "tier", "x", "above", "bought_after"]].reset_index(
        drop=True
    )
    n_above, n_below = int(d["above"].sum()), int((~d["above"]).sum())
    if min(n_above, n_below) < MIN_SIDE:
        return UpgradeEffect.skipped(
            _(
                "too few members near an upgrade threshold who bought since the last review "
                "({below} below, {above} above; need {need} on each side)"
            ).format(below=n_below, above=n_above, need=MIN_SIDE),
            sample=sample,
            band=band,
            days=days,
        )
    rows = []
    z = stats.norm.ppf(0.975)
    for tier, g in [("all", d), *[(str(k), g) for k, g in d.groupby("tier", sort=False)]]:
        nb, na = int((~g["above"]).sum()), int(g["above"].sum())
        if min(nb, na) < MIN_SIDE:
            continue
        b, se, lo_rate, hi_rate = _fit(g.reset_index(drop=True), band, "cell")
        rows.append(
            {
                "tier": tier,
                "members_below": nb,
                "members_above": na,
                "rate_below": lo_rate,
                "rate_above": hi_rate,
                "effect": b,
                "ci_low": b - z * se,
                "ci_high": b + z * se,
                "p_value": float(2 * stats.norm.sf(abs(b / se))) if se > 0 else float("nan"),
            }
        )
    table = pd.DataFrame(rows)
    rank_of = dict(zip(rules["tier"], rules["rank"], strict=True))
    table["_o"] = table["tier"].map(lambda s: -1 if s == "all" else rank_of.get(s, 99))
    table = table.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    res = UpgradeEffect(table=table, sample=sample, band=band, days=days)
    res.note(
        _(
            "Regression discontinuity at the upgrade thresholds: members one tier below who "
            "bought since the previous review, with 12-month spend within {band:.0%} of the "
            "threshold; local linear fits on each side (triangular kernel), thresholds and "
            "reviews pooled; 95% intervals clustered by member. It measures the effect for "
            "members near a threshold."
        ).format(band=band)
    )
    return res
