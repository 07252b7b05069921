"""Drop alerts: a channel whose traffic or conversion in the window fell below its own
trailing baseline by more than noise explains.

The baseline is the ``baseline_days`` before the window, cut into blocks as long as the
window; the block-to-block variation gives an over-dispersion factor φ ≥ 1
(quasi-Poisson for counts, quasi-binomial for shares and conversion), so weekly
seasonality and ordinary wobble do not raise alarms. A channel is flagged when the
one-sided p-value of the drop is below ``alpha`` **and** the relative drop is at least
``min_drop``. Conversion is session conversion: sessions with a **paid** order
(:data:`shopbook.features.funnel.PAID`) per session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from shopbook.analysis.result import Result
from shopbook.features.funnel import PAID
from shopbook.features.periods import Window
from shopbook.i18n import _


def _quasi_binomial(
    o_b: np.ndarray, n_b: np.ndarray, x: float, n: float
) -> tuple[float, float, float, str]:
    """Baseline rate, over-dispersion φ, z of the window's rate ``x / n`` and a note."""
    N = n_b.sum()
    p0 = o_b.sum() / N
    ok = n_b > 0
    phi, why = 1.0, ""
    if ok.sum() >= 3 and 0 < p0 < 1:
        chi2 = ((o_b[ok] - n_b[ok] * p0) ** 2 / (n_b[ok] * p0 * (1 - p0))).sum()
        phi = max(1.0, chi2 / (ok.sum() - 1))
    else:
        why = _("; fewer than 3 baseline blocks: binomial noise only (φ = 1)")
    if not 0 < p0 < 1:
        return p0, phi, np.nan, why
    se = np.sqrt(phi * p0 * (1 - p0) * (1 / n + 1 / N))
    return p0, phi, (x / n - p0) / se, why


def _conversion_test(win: pd.Series, base: pd.DataFrame) -> dict[str, Any]:
    """Quasi-binomial test of the window's conversion against the baseline blocks."""
    n_b, o_b = base["sessions"].to_numpy(float), base[PAID].to_numpy(float)
    n, x = float(win["sessions"]), float(win[PAID])
    if n_b.sum() == 0 or n == 0:
        where = (
            _("no sessions in the baseline: conversion cannot be compared")
            if n_b.sum() == 0
            else _("no sessions in the window: conversion cannot be compared")
        )
        return {"reason": where}
    p0, phi, z, why = _quasi_binomial(o_b, n_b, x, n)
    change = (x / n) / p0 - 1 if p0 > 0 else np.nan
    return dict(value=x / n, expected=p0, change=change, z=z, phi=phi, why=why)


def _share_test(
    win: pd.Series, base: pd.DataFrame, totals: pd.DataFrame, blocks: list[int], metric: str
) -> dict[str, Any]:
    """Quasi-binomial test of the group's share of all groups' ``metric``."""
    o_b, x = base[metric].to_numpy(float), float(win[metric])
    n_b = totals.reindex(blocks, fill_value=0)[metric].to_numpy(float)
    n = float(totals[metric].get(-1, 0))
    if o_b.sum() == 0 or n == 0:
        if n == 0 and o_b.sum() > 0:
            reason = _("no {metric} at all in the window (every group): check the tracking").format(
                metric=_(metric)
            )
            return dict(value=x, expected=o_b.mean(), change_pct=-1.0, alert=True, reason=reason)
        where = (
            _("no {metric} in the baseline")
            if o_b.sum() == 0
            else _("no {metric} at all in the window")
        ).format(metric=_(metric))
        return {"value": x, "reason": where}
    p0, phi, z, why = _quasi_binomial(o_b, n_b, x, n)
    return dict(value=x, expected=p0 * n, change=(x / n) / p0 - 1, z=z, phi=phi, why=why)


def _count_test(win: pd.Series, base: pd.DataFrame, metric: str) -> dict[str, Any]:
    """Quasi-Poisson test of the group's raw ``metric`` count."""
    b, x = base[metric].to_numpy(float), float(win[metric])
    mu = b.mean()
    if mu == 0:
        return dict(
            value=x,
            expected=0.0,
            reason=_("no {metric} in the baseline: nothing to compare").format(metric=_(metric)),
        )
    why = ""
    phi = max(1.0, ((b - mu) ** 2 / mu).sum() / (len(b) - 1)) if len(b) >= 3 else 1.0
    if len(b) < 3:
        why = _("; fewer than 3 baseline blocks: Poisson noise only (φ = 1)")
    z = (x - mu) / np.sqrt(phi * mu * (1 + 1 / len(b)))
    return dict(value=x, expected=mu, change=x / mu - 1, z=z, phi=phi, why=why)


def _verdict(t: Mapping[str, Any], alpha: float, min_drop: float) -> dict[str, Any]:
    """p-value, alert flag and reason of a test from :func:`_conversion_test` & co."""
    z, change = t["z"], t["change"]
    p = float(stats.norm.cdf(z)) if np.isfinite(z) else np.nan
    flag = bool(np.isfinite(p) and p < alpha and change <= -min_drop)
    if flag:
        reason = _("dropped {change:+.0%} vs baseline (p = {p:.2g} < {alpha})")
    elif np.isfinite(p) and p < alpha and change < 0:
        reason = _("significant but small: {change:+.0%} is within the {min_drop:.0%} tolerance")
    elif change <= -min_drop:
        reason = _("{change:+.0%} but within noise (p = {p:.2g} ≥ {alpha})")
    else:
        reason = _("no drop beyond noise")
    reason = reason.format(change=change, p=p, alpha=alpha, min_drop=min_drop)
    return dict(
        value=t["value"],
        expected=t["expected"],
        change_pct=change,
        z=z,
        p_value=p,
        dispersion=t["phi"],
        alert=flag,
        reason=reason + t["why"],
    )


@dataclass(kw_only=True)
class Alerts(Result):
    """Drop tests per group (``table``) and the rule they followed.

    Attributes
    ----------
    rule
        The test in words.
    alpha, min_drop
        The thresholds used.
    baseline_days, blocks
        Days of baseline used (whole windows) and their number of blocks.
    window
        The window tested.
    """

    rule: str = ""
    alpha: float = np.nan
    min_drop: float = np.nan
    baseline_days: int = 0
    blocks: int = 0
    window: Window | None = None

    def flagged(self) -> pd.DataFrame:
        """The rows that raised an alert."""
        return self.table[self.table["alert"]] if len(self.table) else self.table


_ALERT_COLUMNS = (
    "metric",
    "value",
    "expected",
    "change_pct",
    "z",
    "p_value",
    "dispersion",
    "alert",
    "reason",
)


def _block_sums(
    daily: pd.DataFrame, window: Window, by: str, need: list[str], k: int
) -> tuple[list[Any], pd.DataFrame, pd.DataFrame]:
    """Groups, per-group block sums and all-group block sums (block -1: the window)."""
    L = window.days
    b0 = window.start - pd.Timedelta(days=k * L)
    groups = sorted(daily[by].dropna().unique())
    d = daily.copy()
    d["period"] = pd.to_datetime(d["period"]).dt.normalize()
    d = d[(d["period"] >= b0) & (d["period"] <= window.end)]
    d = d.groupby([by, "period"], as_index=False)[need].sum()
    days = pd.date_range(b0, window.end, freq="D", name="period")
    grid = pd.MultiIndex.from_product([groups, days], names=[by, "period"])
    d = d.set_index([by, "period"]).reindex(grid, fill_value=0).reset_index()
    d["block"] = np.where(d["period"] >= window.start, -1, (d["period"] - b0).dt.days // L)
    return groups, d.groupby([by, "block"])[need].sum(), d.groupby("block")[need].sum()


def alerts(
    daily: pd.DataFrame,
    window: Window,
    metric: str = "sessions",
    *,
    by: str = "channel",
    baseline_days: int = 56,
    alpha: float = 0.01,
    min_drop: float = 0.15,
    relative_to_total: bool = True,
) -> Alerts:
    """Flag groups whose traffic or conversion in the window dropped beyond noise.

    Rule: the ``baseline_days`` before the window are cut into
    ``k = baseline_days // window.days`` blocks as long as the window.

    * ``metric="conversion"``: baseline rate ``p₀`` = paid sessions / sessions of the group
      over the baseline; over-dispersion ``φ = max(1, Pearson χ² / (k − 1))`` of the
      blocks' rates around ``p₀`` (quasi-binomial);
      ``z = (p̂ − p₀) / √(φ p₀ (1 − p₀) (1/n + 1/N))``.
    * a count (``"sessions"``), ``relative_to_total=True`` (default): the same test on
      the group's **share** of all groups' count — festivals, the Chinese New Year dip,
      weekly seasons and the shop's growth move every channel and cancel out, so what is
      left is the channel's own change. ``expected`` is the baseline share × the
      window's total.
    * a count, ``relative_to_total=False``: quasi-Poisson on the group's raw count:
      ``μ`` = mean block total, ``φ = max(1, Pearson χ² / (k − 1))``,
      ``z = (x − μ) / √(φ μ (1 + 1/k))`` (use it to catch a shop-wide fall; seasonal
      swings inflate φ, so it is less sensitive).

    The p-value is ``Φ(z)`` (one-sided: only drops alarm). A group is flagged when
    ``p < alpha`` **and** the relative change is ``≤ −min_drop``. With fewer than 3
    blocks ``φ = 1`` and the reason says so.

    Parameters
    ----------
    daily
        One row per day and group: ``period`` (day), ``by``, ``sessions`` and, for
        conversion, ``paid`` (sessions with a paid order) —
        :func:`shopbook.features.funnel.funnel` with ``period="day"`` and ``orders``.
        Missing days count as zero.
    window
        The window tested (:func:`resolve_window`).
    metric
        ``"sessions"`` (traffic), another count column, or ``"conversion"``.
    by
        Group column.
    baseline_days
        Days before the window forming the baseline (rounded down to whole windows).
    alpha
        One-sided significance level of a drop.
    min_drop
        Smallest relative drop that is flagged (a significant 2 % dip is not news).
    relative_to_total
        For counts: test the group's share of the total (default) or its raw count.

    Returns
    -------
    Alerts
        ``table``: one row per group: ``by``, ``metric``, ``value`` (window count or
        rate), ``expected`` (from the baseline), ``change_pct``, ``z``, ``p_value``,
        ``dispersion`` (φ), ``alert`` (bool), ``reason`` (why it was or was not flagged,
        or why it cannot be tested); and the rule with its parameters.
    """
    cols = [by, *_ALERT_COLUMNS]
    L = window.days
    k = int(baseline_days) // L
    count = metric != "conversion"
    need = ["sessions", PAID] if not count else [metric]
    missing = [c for c in ["period", by, *need] if c not in daily.columns]
    if missing:
        raise ValueError(
            f"daily needs columns {missing}; "
            f"pass shopbook.features.funnel.funnel(sessions, 'day', {by!r}, orders=orders)"
        )
    rule = (
        "quasi-binomial test of the conversion rate"
        if not count
        else f"quasi-binomial test of the share of all {metric}"
        if relative_to_total
        else f"quasi-Poisson test of {metric}"
    )
    result = Alerts(
        rule=f"{rule} against {k} trailing blocks of {L} day(s)",
        alpha=alpha,
        min_drop=min_drop,
        baseline_days=k * L,
        blocks=k,
        window=window,
    )
    if daily[by].dropna().empty:
        result.table = pd.DataFrame(columns=cols)
        return result
    groups, blocks, totals = _block_sums(daily, window, by, need, k)
    base_blocks = list(range(k))
    rows = []
    for g in groups:
        bl = blocks.loc[g].reindex([-1, *base_blocks], fill_value=0)
        win, base = bl.loc[-1], bl.loc[base_blocks]
        row: dict[str, Any] = {
            by: g,
            "metric": metric,
            **dict.fromkeys(("value", "expected", "change_pct", "z", "p_value"), np.nan),
            "dispersion": np.nan,
            "alert": False,
        }
        if k < 1:
            row["reason"] = (
                f"no baseline: baseline_days {baseline_days} is shorter than the window ({L} days)"
            )
        else:
            if not count:
                t = _conversion_test(win, base)
            elif relative_to_total:
                t = _share_test(win, base, totals, base_blocks, metric)
            else:
                t = _count_test(win, base, metric)
            row.update(t if "reason" in t else _verdict(t, alpha, min_drop))
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    out["alert"] = out["alert"].astype(bool)
    result.table = out
    return result


def drop_alerts(
    daily: pd.DataFrame,
    window: Window,
    metrics: Sequence[str] = ("sessions", "conversion"),
    **kwargs: Any,
) -> Alerts:
    """:func:`alerts` for several metrics, their tables one after the other.

    Parameters
    ----------
    daily, window
        As in :func:`alerts`.
    metrics
        The metrics tested, in the order of the rows.
    **kwargs
        Passed to :func:`alerts` (``by``, ``baseline_days``, ``alpha``, ``min_drop``,
        ``relative_to_total``).

    Returns
    -------
    Alerts
        The tables concatenated; ``rule`` lists each metric's rule; the other
        attributes are those of the first metric (the same for every metric).
    """
    found = [alerts(daily, window, m, **kwargs) for m in metrics]
    first = found[0]
    return Alerts(
        table=pd.concat([a.table for a in found], ignore_index=True),
        rule="; ".join(a.rule for a in found),
        alpha=first.alpha,
        min_drop=first.min_drop,
        baseline_days=first.baseline_days,
        blocks=first.blocks,
        window=window,
    )


def alert_subject(metric: str) -> str:
    """What an alert on ``metric`` is about, in words: ``"traffic"`` for sessions."""
    return _("traffic") if metric == "sessions" else _(metric)


__all__ = ["Alerts", "alert_subject", "alerts", "drop_alerts"]
