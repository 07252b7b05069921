"""The readout: every section of the A/B notebook, computed once from the per-unit frame."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.abtest._common import _check_alpha
from shopbook.analysis.abtest.bayes import BayesResult, bayes_proportions
from shopbook.analysis.abtest.comparisons import Comparison
from shopbook.analysis.abtest.cuped import CupedResult, cuped_units
from shopbook.analysis.abtest.decision import Decision, decide
from shopbook.analysis.abtest.errors import ABTestError
from shopbook.analysis.abtest.multiplicity import METHOD_NAMES, adjust_pvalues
from shopbook.analysis.abtest.power import power_at_traffic
from shopbook.analysis.abtest.sequential import daily_looks, sequential_view
from shopbook.analysis.abtest.srm import (
    SRMResult,
    check_units,
    check_variants,
    parse_split,
    srm_test,
)
from shopbook.analysis.abtest.units import METRICS, compare_metric, metric_table, segment_table
from shopbook.analysis.result import Result
from shopbook.i18n import _

__all__ = ["SECTIONS", "Readout", "evaluate", "power_table"]

#: Sections of a readout, in the order of the notebook.
SECTIONS = ("split", "metrics", "cuped", "bayes", "sequential", "power", "segments", "decision")


@dataclass
class Readout(Result):
    """Everything the A/B notebook shows, computed once from the per-unit frame.

    A :class:`~shopbook.analysis.result.Result`: its ``table`` is the metric table
    (also :attr:`metrics`), and ``problems`` says, per section in :data:`SECTIONS`, why
    it could not be computed; :meth:`ok` and :meth:`why` are what the notebook asks
    (``r.ok("power")``, ``r.why("power")``). The other dicts are keyed by treatment
    variant.

    ``first_assigned`` / ``last_assigned`` are the first and last assignment times of
    the analysed units (``None`` without ``assigned_ts``). ``daily``, ``checks``,
    ``checks_reason`` and ``data_end`` are what the data layer gathered beside the
    units (units assigned per day, the assignment checks or why there are none, the
    last day of the outcome tables); :func:`shopbook.analysis.abtest.readout_of` fills
    them in.
    """

    experiment_id: str
    control: str = "control"
    treatments: list[str] = field(default_factory=list)
    alpha: float = 0.05
    units: int = 0
    srm: SRMResult | None = None
    primary: dict[str, Comparison] = field(default_factory=dict)
    primary_p: dict[str, float] = field(default_factory=dict)
    cuped: dict[str, dict[str, CupedResult]] = field(default_factory=dict)
    bayes: dict[str, BayesResult] = field(default_factory=dict)
    sequential: dict[str, pd.DataFrame] = field(default_factory=dict)
    power: dict[str, dict[str, Any]] = field(default_factory=dict)
    segments: dict[str, pd.DataFrame] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    adjustment: str = "Holm"
    power_target: float = 0.8
    first_assigned: pd.Timestamp | None = None
    last_assigned: pd.Timestamp | None = None
    daily: pd.DataFrame | None = None
    checks: pd.DataFrame | None = None
    checks_reason: str = ""
    data_end: Any = None

    @classmethod
    def empty(cls, experiment_id: str, reason: str) -> Readout:
        """A readout with every section skipped for ``reason`` (nothing to evaluate)."""
        return cls(experiment_id, problems={s: reason for s in SECTIONS})

    @property
    def metrics(self) -> pd.DataFrame:
        """Every metric × treatment (:func:`metric_table`): the readout's ``table``."""
        return self.table

    @metrics.setter
    def metrics(self, value: pd.DataFrame) -> None:
        self.table = value

    @property
    def srm_failed(self) -> bool:
        return self.srm is not None and self.srm.flagged

    @property
    def treatment(self) -> str | None:
        """The first treatment (the one the headline speaks of)."""
        return self.treatments[0] if self.treatments else None

    def decision_table(self) -> pd.DataFrame:
        """One row per treatment: verdict and its reasons."""
        rows = []
        for t, d in self.decisions.items():
            for r in d.reasons.itertuples(index=False):
                rows.append(
                    {
                        "variant": t,
                        "verdict": d.verdict,
                        "check": r.check,
                        "result": r.result,
                        "detail": r.detail,
                    }
                )
        return pd.DataFrame(rows, columns=["variant", "verdict", "check", "result", "detail"])

    @property
    def split_check(self) -> str:
        """The split check in a word or two: ``"ok"``, or why it failed."""
        return "FAILED: sample ratio mismatch" if self.srm_failed else "ok"

    @property
    def verdict(self) -> str:
        """The first treatment's verdict, or why there is none."""
        d = self.decisions.get(self.treatment) if self.treatment else None
        return d.verdict if d else "no decision: outcomes not measured"

    @property
    def p_value_label(self) -> str:
        """What :attr:`primary_p` is: the conversion p-value and its multiplicity adjustment.

        The adjustment runs over the treatments compared with the control (with one
        treatment the adjusted p-value equals the raw one).
        """
        return _("p-value (conversion, fixed horizon, {adj}-adjusted)").format(adj=self.adjustment)

    def decision_used_always_valid(self) -> bool:
        """Whether the decision read the always-valid p-value (planned sample not reached)."""
        t = self.treatment
        seq = self.sequential.get(t) if t else None
        planned = self.power.get(t, {}).get("planned_reached") if t else None
        return seq is not None and len(seq) > 0 and planned is False

    def always_valid_p(self) -> float | None:
        """The first treatment's latest always-valid (peeking-safe) p-value, if computed."""
        t = self.treatment
        seq = self.sequential.get(t) if t else None
        if seq is None or not len(seq):
            return None
        return float(seq["always_valid_p"].iloc[-1])

    def headline_figures(self) -> dict[str, Any]:
        """The headline figures of the first treatment (``None`` where not available).

        ``p_value_adjusted`` is the primary metric's p-value adjusted over the
        treatments by :attr:`adjustment` (with one treatment, the raw p-value).
        """
        t = self.treatment
        c = self.primary.get(t) if t else None
        d = self.decisions.get(t) if t else None
        b = self.bayes.get(t) if t else None
        return {
            "experiment_id": self.experiment_id,
            "treatment": t,
            "units": self.units,
            "verdict": d.verdict if d else None,
            "srm_p": self.srm.p_value if self.srm else None,
            "srm_failed": self.srm_failed,
            "control_rate": c.control if c else None,
            "treatment_rate": c.treatment if c else None,
            "rel_lift": c.rel_lift if c else None,
            "rel_lo": c.rel_ci[0] if c else None,
            "rel_hi": c.rel_ci[1] if c else None,
            "p_value_adjusted": self.primary_p.get(t) if t else None,
            "p_value_always_valid": self.always_valid_p(),
            "chance_to_beat_control": b.chance_to_beat_control if b else None,
        }


def _try(readout: Readout, section: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or ``None`` with the reason recorded for ``section``."""
    try:
        return fn(*args, **kwargs)
    except ABTestError as err:
        readout.skip(str(err), section)
        return None


def evaluate(
    units: pd.DataFrame,
    experiment_id: str,
    control: str = "control",
    variants: Sequence[str] | str | None = None,
    expected_split: Any = None,
    alpha: float = 0.05,
    srm_threshold: float = 0.001,
    cap_quantile: float | None = 0.99,
    mde_rel: float = 0.05,
    power_target: float = 0.8,
    adjust: str = "holm",
    segments_by: Sequence[str] = ("device", "channel", "new_vs_returning"),
    min_segment_units: int = 100,
    outcome_problem: str = "",
) -> Readout:
    """Compute every section of an A/B readout from a per-unit frame.

    Parameters
    ----------
    units
        One row per unit: ``unit_id``, ``variant`` and, for the outcome sections,
        ``converted``, ``orders``, ``revenue``, ``refunded_orders``, ``first_order_ts``,
        ``assigned_ts``, ``pre_orders``, ``pre_revenue`` and segment columns (see
        :mod:`shopbook.features.experiments`). Missing columns skip the sections that
        need them, with the reason.
    experiment_id
        Used in messages.
    control
        The control variant.
    variants
        Variants to analyse (a list or ``"a,b"``); empty: all in the data. A named
        variant with no units is an error (:class:`ABTestError`).
    expected_split
        Intended shares (see :func:`parse_split`); default equal.
    alpha
        Significance level.
    srm_threshold
        SRM flag level.
    cap_quantile
        Winsorising quantile for revenue (``None``/1: none).
    mde_rel
        Planned minimum detectable relative lift in conversion: sets the planned
        sample size, the power and the scale of the always-valid test.
    power_target
        Power below which the test is underpowered.
    adjust
        Multiplicity adjustment (``"holm"`` or ``"fdr_bh"``).
    segments_by
        Segment columns for the exploratory breakdown.
    min_segment_units
        Segments smaller than this in an arm are not tested.
    outcome_problem
        Why outcomes are missing, if they are (used as the skip reason).

    Returns
    -------
    Readout

    Raises
    ------
    ABTestError
        A variant named in ``variants`` or the ``control`` is not in the data, or a
        unit appears in two variants.
    """
    _check_alpha(alpha)
    names = _variants_to_analyse(units, control, variants, experiment_id)
    units = units[units["variant"].astype(str).isin(names)]
    plan = _Plan(
        control=control,
        alpha=alpha,
        cap_quantile=cap_quantile,
        mde_rel=mde_rel,
        power_target=power_target,
        adjust=adjust,
        segments_by=tuple(segments_by),
        min_segment_units=min_segment_units,
    )
    r = Readout(
        experiment_id,
        control=control,
        treatments=names[1:],
        alpha=alpha,
        units=len(units),
        adjustment=METHOD_NAMES.get(adjust, adjust),
        power_target=power_target,
    )
    if "assigned_ts" in units.columns and units["assigned_ts"].notna().any():
        times = pd.to_datetime(units["assigned_ts"])
        r.first_assigned, r.last_assigned = times.min(), times.max()
    _split_section(r, units, names, expected_split, srm_threshold)
    if "converted" not in units.columns:
        return _without_outcomes(r, outcome_problem)
    _metrics_section(r, units, plan)
    for t in r.treatments:
        _cuped_section(r, units, plan, t)
        _bayes_section(r, units, plan, t)
        base = _power_section(r, units, plan, t)  # before the sequential view: it sets tau
        _sequential_section(r, units, plan, t, base)
        _segments_section(r, units, plan, t)
    for t in r.treatments:
        _decision_section(r, units, plan, t)
    return r


@dataclass(frozen=True)
class _Plan:
    """The settings of one :func:`evaluate` call that every section reads."""

    control: str
    alpha: float
    cap_quantile: float | None
    mde_rel: float
    power_target: float
    adjust: str
    segments_by: tuple[str, ...]
    min_segment_units: int


def _variants_to_analyse(
    units: pd.DataFrame, control: str, variants: Sequence[str] | str | None, experiment_id: str
) -> list[str]:
    """The variants to analyse, control first (see :func:`check_variants`)."""
    if isinstance(variants, str):
        variants = [v.strip() for v in variants.split(",") if v.strip()]
    check_units(units)
    found = sorted(units["variant"].astype(str).unique())
    return check_variants(found, variants or None, control=control, experiment_id=experiment_id)


def _arms(units: pd.DataFrame, control: str, t: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return units[units["variant"] == control], units[units["variant"] == t]


def _split_section(
    r: Readout, units: pd.DataFrame, names: list[str], expected_split: Any, threshold: float
) -> None:
    """1. The SRM check of the analysed variants against the intended split."""
    counts = units["variant"].astype(str).value_counts()
    split = parse_split(expected_split)
    if split is not None:
        extra = [v for v in split if v not in names]
        if extra:
            raise ABTestError(
                f"the intended split names {extra}, which are not analysed (variants: {names})"
            )
        split = {v: split.get(v, 0.0) for v in names}
    r.srm = _try(r, "split", srm_test, {v: int(counts.get(v, 0)) for v in names}, split, threshold)


def _without_outcomes(r: Readout, outcome_problem: str) -> Readout:
    """No outcome columns: every section but the split is skipped (a broken split decides)."""
    reason = (
        outcome_problem or "the per-unit table has no outcome columns (converted, orders, revenue)"
    )
    for s in SECTIONS[1:]:
        r.problems[s] = reason
    if r.srm is not None and r.srm.flagged:  # a broken split decides on its own
        r.decisions = {t: decide(None, srm=r.srm) for t in r.treatments}
        r.problems.pop("decision")
    return r


def _metrics_section(r: Readout, units: pd.DataFrame, plan: _Plan) -> None:
    """2. Every metric × treatment, and the primary metric with its adjusted p-values."""
    metrics = [
        m
        for m in ("conversion", "revenue_per_unit", "orders_per_unit", "aov", "refund_rate")
        if all(c in units.columns for c in METRICS[m][1])
    ]
    r.metrics = metric_table(
        units, plan.control, r.treatments, metrics, plan.alpha, plan.cap_quantile, plan.adjust
    )
    for t in r.treatments:
        r.primary[t] = _try(
            r, "metrics", compare_metric, units, "conversion", plan.control, t, plan.alpha
        )
    r.primary = {t: c for t, c in r.primary.items() if c is not None}
    if r.primary:
        adj = adjust_pvalues([c.p_value for c in r.primary.values()], plan.adjust)
        r.primary_p = dict(zip(r.primary, (float(p) for p in adj), strict=True))


def _cuped_section(r: Readout, units: pd.DataFrame, plan: _Plan, t: str) -> None:
    """3. CUPED of conversion and revenue per unit on the pre-period covariates."""
    res: dict[str, CupedResult] = {}
    for label, metric, cov, cap in (
        ("conversion", "converted", "pre_orders", None),
        ("revenue per unit", "revenue", "pre_revenue", plan.cap_quantile),
    ):
        if metric in units.columns and cov in units.columns:
            out = _try(
                r, "cuped", cuped_units, units, metric, cov, plan.control, t, plan.alpha, cap
            )
            if out is not None:
                res[label] = out
    if res:
        r.cuped[t] = res
        r.problems.pop("cuped", None)
    else:
        r.skip("no pre-period covariate (pre_orders / pre_revenue) in the per-unit table", "cuped")


def _bayes_section(r: Readout, units: pd.DataFrame, plan: _Plan, t: str) -> None:
    """4. The Beta-Binomial view of conversion."""
    a, b = _arms(units, plan.control, t)
    x_a, x_b = int(a["converted"].sum()), int(b["converted"].sum())
    out = _try(r, "bayes", bayes_proportions, x_a, len(a), x_b, len(b))
    if out is not None:
        r.bayes[t] = out


def _power_section(r: Readout, units: pd.DataFrame, plan: _Plan, t: str) -> Any:
    """6. Planned sample, power and detectable lift; returns the control's conversion rate."""
    a, b = _arms(units, plan.control, t)
    base = a["converted"].mean() if len(a) else float("nan")
    pw = _try(
        r,
        "power",
        power_at_traffic,
        base,
        plan.mde_rel,
        len(a),
        len(b),
        plan.alpha,
        plan.power_target,
    )
    if pw is not None:
        r.power[t] = pw
    return base


def _sequential_section(r: Readout, units: pd.DataFrame, plan: _Plan, t: str, base: Any) -> None:
    """5. Daily looks with always-valid p-values, the mixture scaled to the planned lift."""
    if not {"assigned_ts", "first_order_ts"} <= set(units.columns):
        r.skip("no assignment or order times in the per-unit table", "sequential")
        return
    looks = _try(r, "sequential", daily_looks, units, plan.control, t)
    if looks is not None and len(looks):
        tau = plan.mde_rel * base if base and base > 0 and np.isfinite(base) else None
        r.sequential[t] = sequential_view(looks, tau=abs(tau) if tau else None, alpha=plan.alpha)


def _segments_section(r: Readout, units: pd.DataFrame, plan: _Plan, t: str) -> None:
    """7. The exploratory breakdown of conversion by segment."""
    by = [c for c in plan.segments_by if c in units.columns and units[c].notna().any()]
    if not by:
        r.skip("no segment columns (device, channel, new_vs_returning)", "segments")
        return
    seg = segment_table(
        units,
        plan.control,
        t,
        by,
        "conversion",
        plan.alpha,
        plan.adjust,
        plan.min_segment_units,
    )
    if seg["p_value"].notna().any():
        r.segments[t] = seg
    else:
        r.skip(f"no segment has {plan.min_segment_units} units in each arm", "segments")


def _decision_section(r: Readout, units: pd.DataFrame, plan: _Plan, t: str) -> None:
    """8. The verdict from the primary metric, the guardrails, the split and the power."""
    prim = r.primary.get(t)
    if prim is None:
        r.skip(r.why("metrics") or "no primary metric", "decision")
        return
    guard: dict[str, tuple[Comparison | None, str]] = {}
    for key, better in (("aov", "higher"), ("refund_rate", "lower")):
        if all(c in units.columns for c in METRICS[key][1]):
            comp = _comparison_of(units, key, plan.control, t, plan.alpha, plan.cap_quantile)
            guard[METRICS[key][2]] = (comp, better)
    pw = r.power.get(t, {})
    seq = r.sequential.get(t)
    r.decisions[t] = decide(
        prim,
        guard,
        srm=r.srm,
        power=pw.get("power"),
        power_target=plan.power_target,
        sequential_p=float(seq["always_valid_p"].iloc[-1]) if seq is not None else None,
        planned_reached=pw.get("planned_reached"),
        alpha=plan.alpha,
        p_value=r.primary_p.get(t),
    )


def _comparison_of(
    units: pd.DataFrame, key: str, control: str, t: str, alpha: float, cap: float | None
) -> Comparison | None:
    try:
        return compare_metric(units, key, control, t, alpha, cap)
    except ABTestError:
        return None


def power_table(readout: Readout) -> pd.DataFrame:
    """The power section as a table: one row per treatment."""
    rows = [{"variant": t, **p} for t, p in readout.power.items()]
    return pd.DataFrame(rows)
