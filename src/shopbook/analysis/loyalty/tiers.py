"""Member tiers under keep-and-upgrade rules: who holds which tier, how tiers move, and who
is close to the next one.

The rules are data: ``loyalty_tiers.csv`` in :mod:`shopbook.analysis` (:func:`load_tier_rules`),
one row per tier with its ``rank`` (0 = entry tier), the rolling 12-month spend that
earns it (``upgrade_spend``), the spend that keeps it (``keep_spend``) and the benefits.
At every review (the end of each ``review_months``-month period) a member moves **up** to
the highest tier whose ``upgrade_spend`` their last-12-month spend reaches, **keeps**
their tier when the spend reaches its ``keep_spend``, and otherwise moves **down** one
tier. A customer enters at the entry tier with their first purchase.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.i18n import _

TIER_COLUMNS: tuple[str, ...] = ("tier", "rank", "upgrade_spend", "keep_spend", "benefits")


def default_tier_rules_path() -> Path:
    """The shipped rules file, ``shopbook/analysis/loyalty_tiers.csv``."""
    return Path(str(resources.files("shopbook.analysis") / "loyalty_tiers.csv"))


def load_tier_rules(path: str | os.PathLike | pd.DataFrame | None = None) -> pd.DataFrame:
    """The tier rules, checked, sorted by rank.

    Parameters
    ----------
    path
        A CSV file with the columns of :data:`TIER_COLUMNS`, a DataFrame, or ``None`` /
        ``""`` for the shipped table.

    Returns
    -------
    pandas.DataFrame
        ``tier, rank, upgrade_spend, keep_spend, benefits``; ranks 0, 1, 2, …

    Raises
    ------
    ValueError
        For a missing column, ranks that are not 0…n−1, thresholds that do not rise with
        the rank, or a keep spend above the upgrade spend.
    """
    if isinstance(path, pd.DataFrame):
        rules, where = path.copy(), "tier rules"
    else:
        where = str(path or default_tier_rules_path())
        rules = pd.read_csv(path or default_tier_rules_path(), keep_default_na=False)
    missing = [c for c in TIER_COLUMNS if c not in rules.columns]
    if missing:
        raise ValueError(f"{where}: missing columns {missing} (need {list(TIER_COLUMNS)})")
    rules = rules[list(TIER_COLUMNS)].copy()
    for c in ("rank", "upgrade_spend", "keep_spend"):
        rules[c] = pd.to_numeric(rules[c], errors="raise")
    rules["tier"] = rules["tier"].astype(str)
    rules = rules.sort_values("rank", ignore_index=True)
    if list(rules["rank"]) != list(range(len(rules))) or len(rules) < 2:
        raise ValueError(f"{where}: ranks must be 0, 1, … (at least two tiers)")
    if (np.diff(rules["upgrade_spend"]) <= 0).any():
        raise ValueError(f"{where}: upgrade_spend must rise with the rank")
    if (rules["keep_spend"] > rules["upgrade_spend"]).any():
        raise ValueError(f"{where}: keep_spend must not exceed upgrade_spend")
    return rules


@dataclass(kw_only=True)
class TierPaths(Result):
    """Each member's tier at each review.

    Attributes
    ----------
    table
        ``customer_id, review`` (date of the review), ``spend_12m``, ``orders_12m``,
        ``rank``, ``tier``, ``move`` (``new``/``up``/``kept``/``down``), for every customer
        with a first purchase on or before the review.
    reviews
        The review dates, in order.
    """

    reviews: list[pd.Timestamp] = field(default_factory=list)


def tier_paths(spend: pd.DataFrame, rules: pd.DataFrame, review_months: int = 3) -> TierPaths:
    """Apply the keep-and-upgrade rules review by review.

    Parameters
    ----------
    spend
        :func:`shopbook.features.loyalty.monthly_spend`: ``customer_id``, ``month``,
        ``orders``, ``spend``.
    rules
        :func:`load_tier_rules`.
    review_months
        Months between reviews; reviews fall on the last day of every such period.

    Returns
    -------
    TierPaths
        Skipped when there are fewer than 12 months of purchases plus one review.
    """
    if spend.empty:
        return TierPaths.skipped(_("no purchases to rank into tiers"))
    months = pd.period_range(spend["month"].min(), spend["month"].max(), freq="M")
    if len(months) < 12 + review_months:
        return TierPaths.skipped(
            _("tiers need {need} months of purchases; the data span {n}").format(
                need=12 + review_months, n=len(months)
            )
        )
    cust = pd.Index(sorted(spend["customer_id"].unique()))
    ci = cust.get_indexer(spend["customer_id"])
    mi = (pd.PeriodIndex(spend["month"], freq="M") - months[0]).map(lambda x: x.n).to_numpy()
    S = np.zeros((len(cust), len(months)))
    N = np.zeros((len(cust), len(months)))
    np.add.at(S, (ci, mi), spend["spend"].to_numpy(float))
    np.add.at(N, (ci, mi), spend["orders"].to_numpy(float))
    first = np.where(N > 0, np.arange(len(months))[None, :], len(months)).min(axis=1)
    cs, co = np.cumsum(S, axis=1), np.cumsum(N, axis=1)
    up_at = rules["upgrade_spend"].to_numpy(float)
    keep_at = rules["keep_spend"].to_numpy(float)
    names = rules["tier"].to_numpy()
    rank = np.full(len(cust), -1)
    frames = []
    reviews = []
    for m in range(11 + review_months, len(months), review_months):
        lo = m - 12
        s12 = cs[:, m] - (cs[:, lo] if lo >= 0 else 0.0)
        o12 = co[:, m] - (co[:, lo] if lo >= 0 else 0.0)
        member = first <= m
        earned = np.searchsorted(up_at, s12, side="right") - 1
        cur = np.where(rank < 0, 0, rank)
        keeps = s12 >= keep_at[cur]
        new_rank = np.where(earned > cur, earned, np.where(keeps, cur, np.maximum(cur - 1, 0)))
        move = np.where(
            rank < 0,
            "new",
            np.where(new_rank > rank, "up", np.where(new_rank < rank, "down", "kept")),
        )
        rank = np.where(member, new_rank, -1)
        day = months[m].end_time.normalize()
        reviews.append(day)
        sel = member
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": cust[sel],
                    "review": day,
                    "spend_12m": s12[sel],
                    "orders_12m": o12[sel].astype(int),
                    "rank": rank[sel],
                    "tier": names[rank[sel]],
                    "move": move[sel],
                }
            )
        )
    return TierPaths(table=pd.concat(frames, ignore_index=True), reviews=reviews)


def tier_summary(paths: TierPaths, rules: pd.DataFrame) -> Result:
    """Members, 12-month revenue and repurchase by tier at the last review.

    Returns
    -------
    Result
        ``table``: ``tier, members, member_share, revenue_12m, revenue_share,
        spend_per_member, repurchase_rate`` (share of members with two or more purchases
        in the 12 months), ``benefits``; one row per tier in rank order.
    """
    if not paths.ok():
        return Result.skipped(paths.why())
    last = paths.table[paths.table["review"] == paths.reviews[-1]]
    g = last.groupby("rank").agg(
        members=("customer_id", "size"),
        revenue_12m=("spend_12m", "sum"),
        repeaters=("orders_12m", lambda s: int((s >= 2).sum())),
    )
    g = g.reindex(rules["rank"], fill_value=0)
    out = pd.DataFrame(
        {
            "tier": rules["tier"].to_numpy(),
            "members": g["members"].to_numpy().astype(int),
            "revenue_12m": g["revenue_12m"].to_numpy(float),
        }
    )
    out["member_share"] = out["members"] / max(out["members"].sum(), 1)
    out["revenue_share"] = out["revenue_12m"] / max(out["revenue_12m"].sum(), 1e-12)
    out["spend_per_member"] = out["revenue_12m"] / out["members"].replace(0, np.nan)
    out["repurchase_rate"] = g["repeaters"].to_numpy() / out["members"].replace(0, np.nan)
    out["benefits"] = rules["benefits"].to_numpy()
    cols = ["tier", "members", "member_share", "revenue_12m", "revenue_share"]
    cols += ["spend_per_member", "repurchase_rate", "benefits"]
    res = Result(table=out[cols])
    res.note(
        _("Tiers as of the review on {day}: rolling 12-month spend under the tier rules.").format(
            day=paths.reviews[-1].date()
        )
    )
    return res


@dataclass(kw_only=True)
class TierMigration(Result):
    """Tier moves between two reviews.

    Attributes
    ----------
    table
        ``move`` (up / kept / down / new), ``customers``, ``share``.
    counts
        From-tier × to-tier customers (rows: the earlier review; ``new`` for customers
        not yet members), in rank order.
    """

    counts: pd.DataFrame = field(default_factory=pd.DataFrame)


def tier_migration(paths: TierPaths, rules: pd.DataFrame) -> TierMigration:
    """Upgrades, keeps and downgrades from the review before the last to the last."""
    if not paths.ok():
        return TierMigration.skipped(paths.why())
    if len(paths.reviews) < 2:
        return TierMigration.skipped(_("tier migration needs two reviews; the data hold one"))
    t = paths.table
    a = t[t["review"] == paths.reviews[-2]].set_index("customer_id")["tier"]
    b = t[t["review"] == paths.reviews[-1]].set_index("customer_id")[["tier", "move"]]
    frm = a.reindex(b.index).fillna(_("new member")).rename("from")
    order = list(rules["tier"])
    counts = pd.crosstab(frm, b["tier"]).reindex(
        index=[_("new member"), *order], columns=order, fill_value=0
    )
    counts.index.name, counts.columns.name = _("tier before"), _("tier now")
    moves = b["move"].value_counts().reindex(["up", "kept", "down", "new"], fill_value=0)
    table = pd.DataFrame({"move": moves.index, "customers": moves.to_numpy().astype(int)})
    table["share"] = table["customers"] / max(int(table["customers"].sum()), 1)
    return TierMigration(table=table, counts=counts)


def upgrade_list(paths: TierPaths, rules: pd.DataFrame, within: float = 0.2) -> Result:
    """Members within ``within`` (a share) of the next tier's upgrade spend at the last review.

    Returns
    -------
    Result
        ``table``: ``customer_id, tier, next_tier, spend_12m, next_at, gap`` (spend still
        needed), sorted by gap; skipped when nobody is that close.
    """
    if not paths.ok():
        return Result.skipped(paths.why())
    t = paths.table[paths.table["review"] == paths.reviews[-1]]
    top = int(rules["rank"].max())
    t = t[t["rank"] < top]
    nxt = rules["upgrade_spend"].to_numpy(float)[t["rank"].to_numpy() + 1]
    close = (t["spend_12m"].to_numpy() >= (1 - within) * nxt) & (t["spend_12m"].to_numpy() < nxt)
    sel = t[close]
    out = pd.DataFrame(
        {
            "customer_id": sel["customer_id"].to_numpy(),
            "tier": sel["tier"].to_numpy(),
            "next_tier": rules["tier"].to_numpy()[sel["rank"].to_numpy() + 1],
            "spend_12m": sel["spend_12m"].to_numpy(),
            "next_at": nxt[close],
        }
    )
    out["gap"] = out["next_at"] - out["spend_12m"]
    out = out.sort_values(["gap", "customer_id"], ignore_index=True)
    if out.empty:
        return Result.skipped(
            _("no member is within {p:.0%} of the next tier").format(p=within), table=out
        )
    return Result(table=out)


def export_upgrade_list(table: pd.DataFrame, out_dir: str | os.PathLike) -> Path:
    """Write the upgrade list (real ids) as ``upgrade_list.csv`` in a private folder.

    Raises
    ------
    shopbook.analysis.rfm.export.SharedFolderError
        When ``out_dir`` lies inside the shared reports folder.
    """
    from shopbook.analysis.rfm.export import check_private

    out = check_private(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "upgrade_list.csv"
    table.to_csv(path, index=False, encoding="utf-8")
    return path
