"""Every experiment of a source: an overview table, headlines and one report section each.

:func:`readout_of` turns what the data layer gathered about one experiment
(:class:`shopbook.features.experiments.ExperimentData`) into a :class:`Readout`;
:func:`overview` puts the readouts side by side (status, split, planned sample, days
left); :func:`headlines` names each experiment's key figures; :func:`sections` lists what
the report shows for one experiment, part by part (sentences, tables, figures), so the
notebook only loops and displays.

Status
------
An experiment is **running** while units are still being assigned: its last assignment
day is at most ``grace_days`` (2 by default) before the last day of the outcome tables
(sessions, orders). Two days of grace keep a test whose assignment log arrives a day
late, or that assigns few units a day, from being called ended. Otherwise it has
**ended**; without assignment times or outcome tables the status is **unknown**.

Days left
---------
The planned sample is :func:`~shopbook.analysis.abtest.power.sample_size` for ``mde_rel``
at ``power_target`` on the control's conversion rate (the readout's power section). Days
left is, over the arms, the most days the arm still needs at the rate it has been
assigned so far (its units / the experiment's days with assignments so far, first to
last assignment day); 0 once the planned sample is reached, and missing for a test
that ended short of it (the note says how many units it lacked).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from shopbook.analysis.abtest.errors import ABTestError
from shopbook.analysis.abtest.readout import Readout, evaluate, power_table
from shopbook.analysis.abtest.sequential import first_significant_look
from shopbook.analysis.result import Result
from shopbook.i18n import _, translate

__all__ = [
    "OVERVIEW_COLUMNS",
    "Overview",
    "Part",
    "experiment_status",
    "headlines",
    "overview",
    "readout_of",
    "sections",
]

#: Columns of :attr:`Overview.table`, in order.
OVERVIEW_COLUMNS = (
    "experiment_id",
    "status",
    "first_day",
    "last_day",
    "days",
    "units",
    "split",
    "srm_p",
    "split_check",
    "verdict",
    "planned_units",
    "days_left",
    "note",
)


def readout_of(data: Any, strict: bool = True, **settings: Any) -> Readout:
    """The readout of one experiment from what the data layer gathered about it.

    Parameters
    ----------
    data
        A :class:`shopbook.features.experiments.ExperimentData` (``experiment_id``,
        ``units``, ``available``, ``reason``, ``outcome_problem``, ``daily``,
        ``checks``, ``why_no_checks``, ``data_end``).
    strict
        Raise when the settings do not fit the experiment (a ``control`` or a variant
        it does not have). With ``strict=False`` — a report over every experiment of a
        source, whose variant names may differ — the experiment's sections are skipped
        with the reason instead.
    **settings
        Passed to :func:`evaluate` (``control``, ``variants``, ``expected_split``,
        ``alpha``, ``srm_threshold``, ``cap_quantile``, ``mde_rel``, ``power_target``,
        ``adjust``, …).

    Returns
    -------
    Readout
        With ``daily``, ``checks``, ``checks_reason`` and ``data_end`` from ``data``;
        every section skipped with ``data.reason`` when there is nothing to evaluate.

    Raises
    ------
    ABTestError
        With ``strict``: as :func:`evaluate`.
    """
    if not data.available:
        r = Readout.empty(data.experiment_id, data.reason)
    else:
        try:
            r = evaluate(
                data.units,
                data.experiment_id,
                outcome_problem=data.outcome_problem,
                **settings,
            )
        except ABTestError as err:
            if strict:
                raise
            r = Readout.empty(data.experiment_id, str(err))
            r.control = settings.get("control", r.control)
    r.daily = data.daily
    r.checks = data.checks
    r.checks_reason = data.why_no_checks
    r.data_end = data.data_end
    return r


def experiment_status(last_assigned: Any, data_end: Any, grace_days: int = 2) -> str:
    """``"running"``, ``"ended"`` or ``"unknown"`` (see the module docstring).

    Parameters
    ----------
    last_assigned
        The experiment's last assignment time (or day).
    data_end
        The last day of the outcome tables.
    grace_days
        Days without assignments at the end of the data before a test counts as ended.
    """
    if last_assigned is None or data_end is None or pd.isna(last_assigned) or pd.isna(data_end):
        return "unknown"
    gap = (pd.Timestamp(data_end).normalize() - pd.Timestamp(last_assigned).normalize()).days
    return "ended" if gap > grace_days else "running"


@dataclass
class Overview(Result):
    """Every experiment side by side; ``table`` has :data:`OVERVIEW_COLUMNS`.

    ``srm_flagged`` lists the experiments whose split check failed.
    """

    grace_days: int = 2
    srm_flagged: list[str] = field(default_factory=list)


def _days_left(r: Readout, days: int) -> tuple[float, float, float]:
    """Planned units, units still needed (the arm that needs most) and days left."""
    if not r.power or days <= 0:
        return math.nan, math.nan, math.nan
    planned: dict[str, int] = {}
    have: dict[str, int] = {}
    for t, pw in r.power.items():
        for arm, need_key, have_key in (
            (r.control, "planned_control", "n_control"),
            (t, "planned_treatment", "n_treatment"),
        ):
            planned[arm] = max(planned.get(arm, 0), int(pw[need_key]))
            have[arm] = int(pw[have_key])
    short = {arm: max(planned[arm] - have[arm], 0) for arm in planned}
    left = 0.0
    for arm, need in short.items():
        if need:
            rate = have[arm] / days
            left = max(left, math.ceil(need / rate) if rate > 0 else math.inf)
    return float(sum(planned.values())), float(sum(short.values())), left


def _note(status: str, srm_failed: bool, short: float, left: float, why: str) -> str:
    parts = [_("split broken (sample ratio mismatch): fix the assignment and restart")] * srm_failed
    if math.isnan(short):
        parts.append(
            _("no planned sample: {why}").format(why=why) if why else _("no planned sample")
        )
    elif status == "running" and short > 0:
        parts.append(_("about {n:,.0f} more days at the rate seen so far").format(n=left))
    elif status == "ended" and short > 0:
        parts.append(_("ended {n:,.0f} units short of its planned sample").format(n=short))
    else:
        parts.append(_("planned sample reached"))
    return _("; ").join(parts)


def _row(r: Readout, grace_days: int) -> dict[str, Any]:
    """One row of the overview table."""
    first = r.first_assigned.normalize() if r.first_assigned is not None else None
    last = r.last_assigned.normalize() if r.last_assigned is not None else None
    days = (last - first).days + 1 if first is not None and last is not None else 0
    status = experiment_status(r.last_assigned, r.data_end, grace_days)
    planned, short, left = _days_left(r, days)
    if status == "ended" and short > 0:
        left = math.nan  # no days are left to an ended test; the note says how short it fell
    counts = r.srm.observed if r.srm is not None else {}
    return {
        "experiment_id": r.experiment_id,
        "status": status,
        "first_day": first.date() if first is not None else None,
        "last_day": last.date() if last is not None else None,
        "days": days,
        "units": r.units,
        "split": " · ".join(f"{translate(str(v))} {n:,}" for v, n in counts.items()),
        "srm_p": r.srm.p_value if r.srm is not None else math.nan,
        "split_check": r.split_check if r.srm is not None else "not checked",
        "verdict": r.verdict if r.units else "nothing to evaluate",
        "planned_units": planned,
        "days_left": left,
        "note": _note(status, r.srm_failed, short, left, r.why("power")),
    }


def overview(readouts: Sequence[Readout], grace_days: int = 2) -> Overview:
    """Every experiment side by side: status, split check, planned sample and days left.

    Parameters
    ----------
    readouts
        One :class:`Readout` per experiment (:func:`readout_of`), in the order to show.
    grace_days
        See :func:`experiment_status`.

    Returns
    -------
    Overview
        ``table``: one row per experiment with ``status`` (running / ended / unknown),
        ``first_day`` and ``last_day`` of assignment, ``days`` between them
        (inclusive), ``units``, ``split`` (units per variant), ``srm_p`` and
        ``split_check``, the first treatment's ``verdict``, ``planned_units`` (all arms)
        and ``days_left`` (see the module docstring; 0 once reached, missing for a test
        that ended short of it) and a ``note``.
        Skipped (``ok()`` false) when no readout has units.
    """
    rows = [_row(r, grace_days) for r in readouts]
    out = Overview(
        table=pd.DataFrame(rows, columns=list(OVERVIEW_COLUMNS)),
        grace_days=grace_days,
        srm_flagged=[r.experiment_id for r in readouts if r.srm_failed],
    )
    if not any(r.units for r in readouts):
        out.skip(next((r.why() or r.why("split") for r in readouts), "") or "no experiments")
    return out


def _p_values(r: Readout, f: dict[str, Any]) -> list[dict[str, Any]]:
    """Both p-values, each named for what it is; the one the decision used first."""
    fixed = {
        "name": "p_value_adjusted",
        "value": f["p_value_adjusted"],
        "fmt": ".2g",
        "label": r.p_value_label,
    }
    if f.get("p_value_always_valid") is None:
        return [fixed]
    used = r.decision_used_always_valid()
    valid = {
        "name": "p_value_always_valid",
        "value": f["p_value_always_valid"],
        "fmt": ".2g",
        "label": _("p-value (conversion, always valid; the decision's)")
        if used
        else _("p-value (conversion, always valid)"),
    }
    fixed["label"] = translate(fixed["label"])
    if used:
        fixed["label"] = _("{label}, not used: planned sample not reached").format(
            label=fixed["label"]
        )
        return [valid, fixed]
    return [fixed, valid]


def headlines(readouts: Sequence[Readout], per_experiment: bool = True) -> list[dict[str, Any]]:
    """The key figures of the readouts, as keyword arguments of ``headline(...)``.

    Parameters
    ----------
    readouts
        The experiments reported.
    per_experiment
        Name each figure after its experiment (``verdict_<experiment>``,
        ``conversion_lift_<experiment>``, …) and add ``experiments`` and
        ``split_failures`` (counts): the names stay the same whichever other
        experiments a source holds. ``False`` (one experiment asked for by name): the
        plain names ``experiment``, ``verdict``, ``split_check``, ``units``,
        ``conversion_lift``, ``p_value_adjusted``, ``chance_to_beat_control``.

    Returns
    -------
    list of dict
        ``name``, ``value`` and ``label`` (and ``fmt`` / ``unit`` where they apply).
    """
    evaluated = [r for r in readouts if r.units]
    if not evaluated:
        return [{"name": "verdict", "value": _("nothing to evaluate"), "label": _("Decision")}]
    out: list[dict[str, Any]] = []
    if per_experiment:
        out.append({"name": "experiments", "value": len(evaluated), "label": _("Experiments")})
        failures = sum(r.srm_failed for r in evaluated)
        out.append({"name": "split_failures", "value": failures, "label": _("Broken splits (SRM)")})
    for r in evaluated:
        f = r.headline_figures()
        items: list[dict[str, Any]] = [
            {
                "name": "verdict",
                "value": translate(r.verdict),
                "label": _("Decision ({t})").format(t=translate(r.treatment or "")),
            },
            {
                "name": "split_check",
                "value": translate(r.split_check),
                "label": _("Split check (SRM)"),
            },
            {"name": "units", "value": f["units"], "unit": _("units"), "label": _("Units")},
            {
                "name": "conversion_lift",
                "value": f["rel_lift"],
                "fmt": "+.1%",
                "label": _("Conversion lift (relative)"),
            },
            *_p_values(r, f),
            {
                "name": "chance_to_beat_control",
                "value": f["chance_to_beat_control"],
                "fmt": ".1%",
                "label": _("Chance to beat control"),
            },
        ]
        if per_experiment:
            for item in items:
                item["name"] = f"{item['name']}_{r.experiment_id}"
                item["label"] = f"{r.experiment_id}: {item['label']}"
        else:
            out.append({"name": "experiment", "value": r.experiment_id, "label": _("Experiment")})
        out += [{k: v for k, v in item.items() if v is not None or k == "value"} for item in items]
    return out


@dataclass(frozen=True)
class Part:
    """One part of an experiment's section of the report.

    Attributes
    ----------
    title
        Its heading (and the section named when it is skipped).
    lines
        Sentences: ``(template, values)`` for :func:`shopbook.notebook.md`.
    tables
        ``(frame, caption, max_rows)`` to show.
    figures
        ``(name, arguments)``: a function of :mod:`shopbook.viz.abtest` and what to
        pass it (:func:`shopbook.viz.abtest.draw` draws one).
    skipped
        Why the part cannot be shown (empty when it can).
    experiment_id
        The experiment the part is about.
    """

    title: str
    lines: tuple[tuple[str, dict[str, Any]], ...] = ()
    tables: tuple[tuple[pd.DataFrame, str, int], ...] = ()
    figures: tuple[tuple[str, dict[str, Any]], ...] = ()
    skipped: str = ""
    experiment_id: str = ""

    @property
    def section(self) -> str:
        """The part named with its experiment (``"pdp_v2: 6. Power"``), e.g. for a skip note."""
        return f"{self.experiment_id}: {self.title}" if self.experiment_id else self.title


#: Columns of the metric table as the report shows them.
METRIC_COLUMNS = [
    "variant",
    "metric",
    "control",
    "treatment",
    "abs_lift",
    "rel_lift",
    "rel_lo",
    "rel_hi",
    "p_value",
    "p_adjusted",
    "method",
    "note",
]
SEGMENT_COLUMNS = [
    "dimension",
    "segment",
    "n_control",
    "n_treatment",
    "control",
    "treatment",
    "rel_lift",
    "rel_lo",
    "rel_hi",
    "p_value",
    "p_adjusted",
    "note",
]


def sections(r: Readout) -> list[Part]:
    """What the report shows for one experiment, part by part, in the order of the notebook.

    Parameters
    ----------
    r
        The experiment's readout (:func:`readout_of`).

    Returns
    -------
    list of Part
        Summary, 1. split check, units over time, assignment checks, 2. what changed,
        3. CUPED, 4. Bayesian view, 5. peeking-safe view, 6. power, 7. segments and
        8. decision; a part that cannot be shown says why (``skipped``).
    """
    parts = [
        _summary(r),
        _split(r),
        _units_over_time(r),
        _assignment_checks(r),
        _metrics(r),
        _cuped(r),
        _bayes(r),
        _sequential(r),
        _power(r),
        _segments(r),
        _decision(r),
    ]
    return [replace(p, experiment_id=r.experiment_id) for p in parts]


def _summary(r: Readout) -> Part:
    title = _("Summary")
    lines: list[tuple[str, dict[str, Any]]] = []
    if r.srm_failed and r.srm is not None:
        lines.append(
            (
                _(
                    "⚠️ **Warning — sample ratio mismatch.** The units of **{exp}** are not split "
                    "as intended (p = {p:.2g} < {thr}). Something in the assignment or the logging "
                    "is broken, so every number below is suspect: fix the split and rerun the test."
                ),
                {"exp": r.experiment_id, "p": r.srm.p_value, "thr": r.srm.threshold},
            )
        )
    if r.ok("metrics"):
        f = r.headline_figures()
        lines.append(
            (
                _(
                    "On **{n}** units, {t} converted **{b:.2%}** of its units against **{a:.2%}** "
                    "for {c}: a relative lift of **{lift:+.1%}** ({ci:.0%} confidence interval "
                    "{lo:+.1%} to {hi:+.1%}; fixed-horizon p = {p:.2g}, {adj}-adjusted). "
                    "Decision: **{verdict}**{basis}."
                ),
                {
                    "n": f["units"],
                    "t": translate(r.treatment or ""),
                    "c": translate(r.control),
                    "b": f["treatment_rate"],
                    "a": f["control_rate"],
                    "lift": f["rel_lift"],
                    "ci": 1 - r.alpha,
                    "lo": f["rel_lo"],
                    "hi": f["rel_hi"],
                    "adj": r.adjustment,
                    "p": f["p_value_adjusted"],
                    "verdict": translate(f["verdict"] or ""),
                    "basis": _(
                        ", on the always-valid p = {p:.2g} (the planned sample is not reached)"
                    ).format(p=f["p_value_always_valid"])
                    if r.decision_used_always_valid()
                    and not r.srm_failed  # a broken split decides on its own
                    and f.get("p_value_always_valid") is not None
                    else "",
                },
            )
        )
    elif not lines:
        return Part(title, skipped=r.why("metrics"))
    return Part(title, lines=tuple(lines))


def _split(r: Readout) -> Part:
    title = _("1. Can we trust the split?")
    if not r.ok("split") or r.srm is None:
        return Part(title, skipped=r.why("split"))
    srm = r.srm
    line = (
        _(
            "Units per variant: {counts}. Chi-square = {chi:.2f} on {df} degree(s) of freedom, "
            "p = {p:.3g}: **{verdict}**."
        ),
        {
            "counts": ", ".join(f"{translate(k)} {v:,}" for k, v in srm.observed.items()),
            "chi": srm.statistic,
            "df": srm.df,
            "p": srm.p_value,
            "verdict": translate(srm.finding),
        },
    )
    table = srm.table()
    return Part(
        title,
        lines=(line,),
        tables=((table, _("Units per variant, observed and intended"), 20),),
        figures=(("split_shares", {"srm_table": table}),),
    )


def _units_over_time(r: Readout) -> Part:
    title = _("Units over time")
    if r.daily is None or not len(r.daily):
        return Part(title, skipped=r.why() or _("no assignment times"))
    return Part(title, figures=(("units_over_time", {"daily": r.daily}),))


def _assignment_checks(r: Readout) -> Part:
    title = _("Assignment checks")
    if r.checks is None:
        return Part(title, skipped=r.checks_reason or _("no raw assignments to check"))
    line: tuple[str, dict[str, Any]] = (
        _(
            "Assignment checks on the data: units in two variants (removed), units exposed "
            "before their first visit, assignments after the data ends, and units that never "
            "came back."
        ),
        {},
    )
    return Part(title, lines=(line,), tables=((r.checks, _("Assignment checks"), 20),))


def _metrics(r: Readout) -> Part:
    title = _("2. What changed?")
    if not r.ok("metrics"):
        return Part(title, skipped=r.why("metrics"))
    line = (
        _(
            "Two p-values per row, both fixed-horizon (valid only when the test is read once, at "
            "its planned sample): the raw one and the {method}-adjusted one, adjusted over all {k} "
            "comparisons of the table. The always-valid p-value, safe to read every day, is in "
            "section 5."
        ),
        {"method": r.adjustment, "k": len(r.metrics)},
    )
    return Part(
        title,
        lines=(line,),
        tables=((_fixed(r.metrics[METRIC_COLUMNS]), _("Metrics by variant"), 20),),
        figures=(("lifts", {"table": r.metrics, "alpha": r.alpha}),),
    )


def _cuped(r: Readout) -> Part:
    title = _("3. Variance reduction (CUPED)")
    t = r.treatment
    if not r.ok("cuped") or t not in r.cuped:
        return Part(title, skipped=r.why("cuped"))
    lines, tables = [], []
    for name, res in r.cuped[t].items():
        lines.append(
            (
                _(
                    "**{name}**: θ = {theta:.3g}, variance reduced by **{vr:.1%}**; "
                    "lift {raw:+.4g} raw and {adj:+.4g} after CUPED."
                ),
                {
                    "name": translate(name),
                    "theta": res.theta,
                    "vr": res.variance_reduction,
                    "raw": res.raw.abs_lift,
                    "adj": res.adjusted.abs_lift,
                },
            )
        )
        tables.append(
            (res.table(), _("{name}: raw and CUPED-adjusted").format(name=translate(name)), 20)
        )
    figures = []
    if "revenue per unit" in r.cuped[t]:
        figures.append(("cuped_intervals", {"table": r.cuped[t]["revenue per unit"].table()}))
    return Part(title, lines=tuple(lines), tables=tuple(tables), figures=tuple(figures))


def _bayes(r: Readout) -> Part:
    title = _("4. Bayesian view")
    t = r.treatment
    if not r.ok("bayes") or t not in r.bayes:
        return Part(title, skipped=r.why("bayes"))
    b = r.bayes[t]
    line = (
        _(
            "Chance that {t} beats {c}: **{p:.1%}**. Expected loss — the conversion we would give "
            "up if the choice is wrong, in percentage points of conversion rate: {lt:.2f} pp if we "
            "ship {t}, {lc:.2f} pp if we keep {c}. 95% credible interval of the relative lift: "
            "{lo:+.1%} to {hi:+.1%}."
        ),
        {
            "t": translate(t),
            "c": translate(r.control),
            "p": b.chance_to_beat_control,
            "lt": b.expected_loss_treatment * 100,
            "lc": b.expected_loss_control * 100,
            "lo": b.rel_ci[0],
            "hi": b.rel_ci[1],
        },
    )
    fig = ("posterior_lift", {"draws": b.lift_draws, "chance_to_beat": b.chance_to_beat_control})
    return Part(title, lines=(line,), figures=(fig,))


def _sequential(r: Readout) -> Part:
    title = _("5. Peeking-safe view")
    t = r.treatment
    if not r.ok("sequential") or t not in r.sequential:
        return Part(title, skipped=r.why("sequential"))
    seq = r.sequential[t]
    first = first_significant_look(seq, r.alpha, p_col="naive_p")
    peek = (
        _(
            "A daily reader of the fixed-horizon p-value would have seen p < {alpha} first on "
            "{day}."
        ).format(alpha=r.alpha, day=f"{first:%Y-%m-%d}")
        if first is not None
        else _("The fixed-horizon p-value never fell below the significance level.")
    )
    line = (
        _(
            "After {days} daily looks the always-valid p-value is **{avp:.3g}** (the "
            "fixed-horizon p-value, valid only at the planned sample, is {p:.3g}). {peek}"
        ),
        {
            "days": len(seq),
            "avp": seq["always_valid_p"].iloc[-1],
            "p": seq["naive_p"].iloc[-1],
            "peek": peek,
        },
    )
    prim = r.primary.get(t) if t else None
    fig = ("sequential", {"view": seq, "relative_to": prim.control if prim else None})
    return Part(title, lines=(line,), figures=(fig,))


def _power(r: Readout) -> Part:
    title = _("6. Power")
    t = r.treatment
    if not r.ok("power") or t not in r.power:
        return Part(title, skipped=r.why("power"))
    pw = r.power[t]
    lines = [
        (
            _(
                "Baseline conversion {base:.2%}. To detect a {mde:+.0%} lift with {target:.0%} "
                "power the test needs **{need:,}** units per arm; it has {have:,}. Power now: "
                "**{power:.0%}**; the smallest lift it can detect is {mde_now:+.1%}."
            ),
            {
                "base": pw["baseline"],
                "mde": pw["mde_rel"],
                "target": r.power_target,
                "need": pw["planned_control"],
                "have": pw["n_control"],
                "power": pw["power"],
                "mde_now": pw["mde_at_traffic"],
            },
        )
    ]
    if pw["underpowered"]:
        lines.append(
            (
                _(
                    "⚠️ **Underpowered:** a real {mde:+.0%} lift would be missed {miss:.0%} of the "
                    "time. A non-significant result here is not evidence of no effect."
                ),
                {"mde": pw["mde_rel"], "miss": 1 - pw["power"]},
            )
        )
    return Part(title, lines=tuple(lines), tables=((power_view(r), _("Power by variant"), 20),))


def _segments(r: Readout) -> Part:
    title = _("7. Segments (exploratory)")
    t = r.treatment
    if not r.ok("segments") or t not in r.segments:
        return Part(title, skipped=r.why("segments"))
    seg = r.segments[t]
    return Part(
        title,
        tables=((_fixed(seg[SEGMENT_COLUMNS]), _("Conversion by segment (exploratory)"), 40),),
        figures=(("segments", {"table": seg}),),
    )


def _decision(r: Readout) -> Part:
    title = _("8. Decision")
    if not r.decisions:
        return Part(title, skipped=r.why("decision") or r.why())
    lines = tuple(
        ("**{variant}: {verdict}.**", {"variant": translate(v), "verdict": translate(d.verdict)})
        for v, d in r.decisions.items()
    )
    return Part(title, lines=lines, tables=((r.decision_table(), _("Decision and reasons"), 40),))


# the fixed-horizon p-values of the metric and segment tables are named for what they
# are (their labels: shopbook.notebook.columns, "p_fixed", "p_fixed_adjusted")
def _fixed(table: pd.DataFrame) -> pd.DataFrame:
    """``p_value`` / ``p_adjusted`` renamed so their headers say they are fixed-horizon."""
    return table.rename(columns={"p_value": "p_fixed", "p_adjusted": "p_fixed_adjusted"})


def power_view(r: Readout) -> pd.DataFrame:
    """The power table as the report shows it: seven narrow columns, one row per treatment.

    Units now and units needed are one ``control / treatment`` text each (the wide table,
    :func:`~shopbook.analysis.abtest.power_table`, keeps them apart); "planned size
    reached" and "underpowered" are said by the sentences above the table.
    """
    full = power_table(r)
    if full.empty:
        return full
    return pd.DataFrame(
        {
            "variant": full["variant"],
            "baseline": full["baseline"],
            "mde_rel": full["mde_rel"],
            "units_now": [
                f"{a:,} / {b:,}"
                for a, b in zip(full["n_control"], full["n_treatment"], strict=True)
            ],
            "units_planned": [
                f"{a:,} / {b:,}"
                for a, b in zip(full["planned_control"], full["planned_treatment"], strict=True)
            ],
            "power": full["power"],
            "mde_at_traffic": full["mde_at_traffic"],
        }
    )
