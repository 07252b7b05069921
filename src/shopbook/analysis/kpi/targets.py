"""Monthly goal attainment: each target against the month so far, the pace it still needs,
and where the month is heading.

For the month containing the report's last day (the window's ``end``):

* **Additive metrics** (:data:`ADDITIVE`: GMV, paid orders, new customers) — the actual to
  date, ``attainment`` = actual / target, ``expected_by_now`` = the target's pro-rata
  share of the days elapsed (calendar days; no weekday or festival weighting) and
  ``vs_expected`` = actual / that share, ``pace_needed_per_day`` = what is left of the
  target / the days left, and a **month-end forecast**: the actual to date plus the sum
  of the remaining days, with 80 % and 95 % intervals. The daily series is forecast by
  :func:`shopbook.analysis.trend.forecast` (damped additive ETS with a weekly season on
  log values by default) and the remaining days' **sum** is read off simulated paths of
  the fitted model (statsmodels' ``simulate`` anchored at the last day): a path carries
  its level and season from day to day, so the correlation of the days is in the sum's
  interval — adding the days' own intervals as if independent would make it too narrow.
  The parameters are held at their estimates (their uncertainty is not simulated).
  ``p_meet`` is the share of paths that reach the target; ``on_track`` is the forecast's
  mean reaching it.
* **Ratios** (CAC, repurchase rate, gross margin) — the value to date against the target
  itself (a ratio is not pro-rated) and no forecast. Intervals where a sampling model
  makes sense: the repurchase rate (repeat buyers / buyers) has a Wilson interval; CAC
  (spend / new customers) the exact Poisson interval of the count of new customers with
  the spend taken as known; the gross margin, a ratio of money sums over all of the
  month's order lines, none. For CAC lower is better (``better == "lower"``).

When the window ends on the month's last day the month is complete: attainment is final,
the "forecast" is the actual and its interval has no width. The metrics themselves are
those of :mod:`shopbook.analysis.kpi.definitions`, computed by
:func:`shopbook.analysis.kpi.kpi_table` from :func:`shopbook.features.brief.month_to_date`;
nothing is redefined here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.kpi.definitions import metric
from shopbook.analysis.kpi.table import conversion_ci, kpi_table
from shopbook.analysis.result import Result
from shopbook.data.targets import Targets
from shopbook.errors import ContractError
from shopbook.i18n import _, translate

#: Metrics that add up over the days of a month (forecast to month end).
ADDITIVE = ("gmv", "orders", "new_customers")

#: Metrics for which a value below the target is good.
LOWER_IS_BETTER = ("cac",)

#: Interval levels of the table (``lo80``/``hi80``, ``lo95``/``hi95``).
LEVELS = (80, 95)

COLUMNS = (
    "metric", "label", "unit", "better", "target", "actual_to_date", "attainment",
    "expected_by_now", "vs_expected", "pace_to_date_per_day", "pace_needed_per_day",
    "forecast_month_end", "lo80", "hi80", "lo95", "hi95", "p_meet", "on_track", "note",
)  # fmt: skip

_TARGET_ORDER = ("gmv", "orders", "new_customers", "cac", "repurchase_rate", "gross_margin")


@dataclass(kw_only=True)
class TargetAttainment(Result):
    """The result of :func:`attainment`.

    Attributes
    ----------
    table
        One row per target of the month, in :data:`COLUMNS`: ``metric``, ``label``,
        ``unit``, ``better`` (``higher``/``lower``), ``target``, ``actual_to_date``,
        ``attainment`` (actual / target), ``expected_by_now`` (additive: the target ×
        days elapsed / days in the month; ratios: the target), ``vs_expected``
        (actual / expected), ``pace_to_date_per_day`` and ``pace_needed_per_day``
        (additive: actual per day so far; what is left per day left — 0 when met, NaN
        when the month is over), ``forecast_month_end``, ``lo80``, ``hi80``, ``lo95``,
        ``hi95`` (additive: of the month's total; ratios: of the value to date, where a
        sampling interval makes sense), ``p_meet`` (additive: share of simulated months
        that reach the target), ``on_track`` (bool; ``None`` when the actual is
        unknown), ``note`` (why a value is missing).
    month
        ``YYYY-MM``.
    end
        The last day counted.
    days_elapsed, days_in_month
        Days counted and days of the month.
    model
        The forecast model of the daily series (``""`` when the month is complete).
    """

    month: str = ""
    end: pd.Timestamp | None = None
    days_elapsed: int = 0
    days_in_month: int = 0
    model: str = ""

    @property
    def final(self) -> bool:
        """Whether the month is complete (attainment is final)."""
        return self.days_in_month > 0 and self.days_elapsed >= self.days_in_month

    @property
    def days_left(self) -> int:
        """Days of the month after ``end``."""
        return max(self.days_in_month - self.days_elapsed, 0)

    def lagging(self) -> list[str]:
        """The metrics not on track (known actual, target not reached or not forecast to be)."""
        t = self.table
        if t.empty:
            return []
        return [str(m) for m, ok in zip(t["metric"], t["on_track"], strict=True) if ok is False]

    def summary(self) -> str:
        """One sentence: on track or not, which metrics lag and the pace they need."""
        if not self.ok():
            return self.why()
        t = self.table.set_index("metric")
        lag = self.lagging()
        when = (
            _("{month} is complete").format(month=self.month)
            if self.final
            else _("{n} of {days} days of {month} are counted").format(
                n=self.days_elapsed, days=self.days_in_month, month=self.month
            )
        )
        if not lag:
            verb = _("met every target") if self.final else _("is on track for every target")
            return _("{when}: the month {verb} ({n}).").format(when=when, verb=verb, n=len(t))
        parts = []
        for m in lag:
            r = t.loc[m]
            lab = translate(str(r["label"]))
            if self.final or m not in ADDITIVE:
                parts.append(_("{label} {actual} vs target {target}").format(
                    label=lab, actual=_fmt(r["actual_to_date"], r["unit"]),
                    target=_fmt(r["target"], r["unit"])))  # fmt: skip
            else:
                u = r["unit"]
                fc = (
                    _("; forecast {fc} of {target}, {p:.0%} chance to reach it").format(
                        fc=_fmt(r["forecast_month_end"], u),
                        target=_fmt(r["target"], u),
                        p=r["p_meet"],
                    )  # fmt: skip
                    if np.isfinite(r["p_meet"])
                    else ""
                )
                parts.append(
                    _("{label} needs {need}/day (so far {pace}/day{fc})").format(
                        label=lab,
                        need=_fmt(r["pace_needed_per_day"], u),
                        pace=_fmt(r["pace_to_date_per_day"], u),
                        fc=fc,
                    )  # fmt: skip
                )
        on = len(t) - len(lag)
        if self.final:
            text = _("{when}: {on} of {n} targets met; {k} missed — {parts}.")
        else:
            text = _("{when}: {on} of {n} targets on track; {k} lag — {parts}.")
        return text.format(when=when, on=on, n=len(t), k=len(lag), parts=_("; ").join(parts))


def _fmt(value: Any, unit: str) -> str:
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def remaining_total(
    series: pd.Series,
    days: int,
    *,
    model: str = "ets",
    simulations: int = 4000,
    seed: int = 0,
) -> tuple[np.ndarray, str, list[str]]:
    """Simulated sums of the next ``days`` values of a daily series.

    The series is forecast by :func:`shopbook.analysis.trend.forecast` (``model``: one of
    :data:`shopbook.analysis.trend.MODELS`; no festival regressors) and ``simulations``
    paths of the fitted model are drawn from its last state (statsmodels'
    ``simulate(anchor="end")``; SARIMAX draws the starting state from its filtered
    distribution), mapped back from the log scale when the model is on it and summed.
    The paths keep the days' correlation; the parameters are held at their estimates.

    Parameters
    ----------
    series
        A regular daily series (``DatetimeIndex``) ending on the last day counted.
    days
        Days ahead to sum (≥ 1).
    model, simulations, seed
        Forecast model, number of paths, seed of the paths.

    Returns
    -------
    (totals, description, notes)
        ``simulations`` sums; the model's description; the forecast's notes.
    """
    from shopbook.analysis.trend import DEFAULT_SEASONS, forecast

    # ETS models only the weekly season: a yearly one would only be noted as dropped
    seasons = (7,) if model.startswith("ets") else DEFAULT_SEASONS
    fc = forecast(series, days, [], model=model, seasons=seasons)
    notes = list(fc.notes)
    if fc.results is None:  # a constant series: no uncertainty
        return np.full(simulations, float(fc.table["mean"].sum())), fc.model, notes
    kw: dict[str, Any] = {}
    if model == "sarimax" and fc.spec is not None and fc.spec.exog_future is not None:
        kw["exog"] = fc.spec.exog_future
    rng = np.random.default_rng(seed)
    paths = np.asarray(
        fc.results.simulate(days, anchor="end", repetitions=simulations, rng=rng, **kw),
        dtype=float,
    ).reshape(days, simulations)
    if fc.spec is not None and fc.spec.log:
        paths = np.exp(paths)
    elif (paths < 0).any():
        paths = np.clip(paths, 0.0, None)
        notes.append(_("Simulated days below zero were counted as zero."))
    return paths.sum(axis=0), fc.model, notes


def _ratio_interval(name: str, cur: pd.Series, level: int) -> tuple[float, float]:
    """The sampling interval of a ratio to date (NaN where none makes sense)."""
    alpha = 1 - level / 100
    if name == "repurchase_rate":
        lo, hi = conversion_ci(int(cur["repeaters"]), int(cur["active"]), alpha=alpha)
        return float(lo), float(hi)
    if name == "cac" and "spend" in cur and cur["new"] > 0:
        from statsmodels.stats.rates import confint_poisson

        lo_n, hi_n = confint_poisson(int(cur["new"]), 1.0, method="exact-c", alpha=alpha)
        return float(cur["spend"]) / float(hi_n), float(cur["spend"]) / float(lo_n)
    return np.nan, np.nan


def _met(actual: float, target: float, name: str) -> bool | None:
    if not np.isfinite(actual):
        return None
    return bool(actual <= target) if name in LOWER_IS_BETTER else bool(actual >= target)


def _additive_row(
    name: str, target: float, actual: float, series: pd.Series | None,
    elapsed: int, days_in_month: int, opts: dict[str, Any],
) -> tuple[dict[str, Any], str, list[str]]:  # fmt: skip
    left = days_in_month - elapsed
    row: dict[str, Any] = {
        "expected_by_now": target * elapsed / days_in_month,
        "pace_to_date_per_day": actual / elapsed,
        "pace_needed_per_day": max(target - actual, 0.0) / left if left else np.nan,
    }
    row["vs_expected"] = actual / row["expected_by_now"] if row["expected_by_now"] else np.nan
    if not left:
        row.update(forecast_month_end=actual, p_meet=float(actual >= target))
        row.update({f"{b}{lv}": actual for lv in LEVELS for b in ("lo", "hi")})
        row["on_track"] = bool(actual >= target)
        return row, "", []
    if series is None or len(series) < 28:
        row["note"] = "fewer than 28 days of daily history: no month-end forecast"
        row["on_track"] = bool(actual + row["pace_to_date_per_day"] * left >= target)
        return row, "", []
    sums, desc, notes = remaining_total(series, left, **opts)
    totals = actual + sums
    row["forecast_month_end"] = float(totals.mean())
    for lv in LEVELS:
        q = (1 - lv / 100) / 2
        row[f"lo{lv}"], row[f"hi{lv}"] = np.quantile(totals, [q, 1 - q])
    row["p_meet"] = float((totals >= target).mean())
    row["on_track"] = bool(row["forecast_month_end"] >= target)
    return row, desc, notes


def attainment(
    targets: Targets,
    values: pd.DataFrame,
    daily: pd.DataFrame | None = None,
    *,
    currency: str | None = None,
    model: str = "ets",
    simulations: int = 4000,
    seed: int = 0,
) -> TargetAttainment:
    """The month's targets against its actuals to date, the pace needed and the forecast.

    Parameters
    ----------
    targets
        :func:`shopbook.data.targets.load_targets`' result (no targets: the result is
        skipped with :attr:`~shopbook.data.targets.Targets.missing`).
    values
        :func:`shopbook.features.sales.window_kpis`' frame whose ``current`` row runs
        from the first day of a month to the last day counted (``start``, ``end``,
        ``gmv``, ``orders``, ``active``, ``new``, ``repeaters``, …; ``spend`` for CAC,
        the margin columns for the gross margin) — ``month_to_date(...).values``.
    daily
        ``period`` (day) with ``gmv``, ``orders``, ``new_customers`` per day up to the
        last day counted, days without sales as zeros (``month_to_date(...).daily``);
        ``None``: no month-end forecast.
    currency
        The data's currency; money targets in another currency are an error.
    model
        The daily forecast model (:data:`shopbook.analysis.trend.MODELS`).
    simulations, seed
        Simulated paths of the rest of the month, and their seed.

    Returns
    -------
    TargetAttainment
        ``table`` (see the class), ``notes``, ``month``, ``end``, ``days_elapsed``,
        ``days_in_month``, ``model``; skipped with the reason when there are no targets
        for the month.

    Raises
    ------
    ContractError
        When the targets' currency is not the data's.
    ValueError
        When ``values``' current window does not start on the first day of its end's month.
    """
    if targets.missing:
        return TargetAttainment.skipped(targets.missing)
    cur = values.loc["current"]
    start, end = pd.Timestamp(cur["start"]), pd.Timestamp(cur["end"])
    if start != end.replace(day=1):
        raise ValueError(
            f"values must run from the first day of the month to the last day counted, "
            f"found {start:%Y-%m-%d} to {end:%Y-%m-%d} (use features.brief.month_to_date)"
        )
    month, dim, elapsed = f"{end:%Y-%m}", end.days_in_month, (end - start).days + 1
    fields = dict(month=month, end=end, days_elapsed=elapsed, days_in_month=dim)
    goals = targets.for_month(month)
    name = targets.path.name if targets.path else "the targets"
    if not goals:
        have = ", ".join(targets.months) or "none"
        return TargetAttainment.skipped(f"no targets for {month} in {name} (months: {have})",
                                        **fields)  # fmt: skip
    if currency and targets.currency and targets.currency != currency:
        money = [m for m in goals if metric(m).unit == "money"]
        if money:
            raise ContractError(
                table=name, column="currency", expected=f"the data's currency {currency}",
                found=targets.currency,
                fix=f"give the money targets ({', '.join(money)}) in {currency}",
            )  # fmt: skip
    kt = kpi_table(values).table.set_index("metric")
    out = TargetAttainment(**fields)
    opts = dict(model=model, simulations=simulations, seed=seed)
    models = []
    rows = []
    for m in sorted(goals, key=_TARGET_ORDER.index):
        d, target = metric(m), goals[m]
        actual = float(kt.loc[m, "value"]) if m in kt.index else np.nan
        row: dict[str, Any] = {"metric": m, "label": d.label, "unit": d.unit, "target": target,
                               "better": "lower" if m in LOWER_IS_BETTER else "higher",
                               "actual_to_date": actual, "note": ""}  # fmt: skip
        row["attainment"] = actual / target if target else np.nan
        if not np.isfinite(actual):
            row["note"] = (
                kt.loc[m, "note"]
                if m in kt.index
                else f"needs the {', '.join(d.needs) or 'orders'} table, which the source lacks"
            )
            row["on_track"] = None
        elif m in ADDITIVE:
            series = None if daily is None else daily.set_index("period")[m].astype(float)
            extra, desc, notes = _additive_row(m, target, actual, series, elapsed, dim, opts)
            row.update(extra)
            for n in notes:
                out.note(n)
            if desc:
                models.append(desc)
        else:
            row["expected_by_now"] = target
            row["vs_expected"] = row["attainment"]
            for lv in LEVELS:
                row[f"lo{lv}"], row[f"hi{lv}"] = _ratio_interval(m, cur, lv)
            row["on_track"] = _met(actual, target, m)
        rows.append(row)
    out.table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    out.table["on_track"] = out.table["on_track"].astype(object)
    out.model = models[0] if models else ""
    _attainment_notes(out, goals)
    return out


def _attainment_notes(out: TargetAttainment, goals: dict[str, float]) -> None:
    if out.final:
        out.note(_("{month} is complete: attainment is final.").format(month=out.month))
    elif out.model:
        out.note(
            _(
                "Month-end forecast: the {n} days counted plus the sum of the "
                "{left} days left, simulated from {model} fitted to the "
                "daily series (80% and 95% intervals of the sum, the days' correlation kept; "
                "parameter uncertainty and festivals not modelled). Expected by now is the "
                "target's calendar-day share."
            ).format(n=out.days_elapsed, left=out.days_left, model=out.model)
        )
    if "repurchase_rate" in goals and not out.final:
        out.note(
            _(
                "The repurchase rate to date counts second orders within the days so far: it "
                "tends to rise as the month goes on, so mid-month it understates the month's rate."
            )
        )
    if "gross_margin" in goals:
        out.note(_("Gross margin has no interval: it is a ratio of all the month's order lines."))
    if "cac" in goals:
        out.note(
            _("CAC's interval: the exact Poisson interval of the new-customer count, spend known.")
        )


__all__ = [
    "ADDITIVE",
    "COLUMNS",
    "LEVELS",
    "LOWER_IS_BETTER",
    "TargetAttainment",
    "attainment",
    "remaining_total",
]
