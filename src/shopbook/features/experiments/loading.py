"""Everything a readout needs about one experiment, from a source or a user table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from shopbook.errors import ContractError
from shopbook.features.experiments._tables import _assignments, _has
from shopbook.features.experiments.assignments import daily_assignments, detect_unit, experiments
from shopbook.features.experiments.checks import assignment_checks
from shopbook.features.experiments.frames import from_frame
from shopbook.features.experiments.units import unit_metrics
from shopbook.features.fetching import fetch

__all__ = ["ExperimentData", "load", "load_each"]


@dataclass
class ExperimentData:
    """What a readout needs about one experiment, gathered from a source or a user table.

    Attributes
    ----------
    experiment_id
        The experiment (resolved when the caller left it empty).
    units
        One row per unit (:data:`UNIT_COLUMNS`), or ``None`` when there is nothing to
        evaluate. When outcomes cannot be linked it holds only ``unit_id``,
        ``variant`` and ``assigned_ts`` (the split can still be checked).
    daily
        Units first assigned per day and variant (``day, variant, units``), or ``None``.
    checks
        :func:`assignment_checks`, or ``None`` for a user table.
    unit
        ``"visitor"``, ``"customer"`` or ``"user table"``.
    experiments
        All experiments in the source.
    reason
        Why there is nothing to evaluate (empty when there is).
    outcome_problem
        Why outcomes could not be measured (empty when they could).
    report
        The validation report of the source (``None`` for a user table).
    data_end
        The last day of the outcome tables (sessions, orders) in the source, or of the
        assignments in a user table; ``None`` when unknown. An experiment's status
        (running / ended) is judged against it.
    """

    experiment_id: str
    units: pd.DataFrame | None = None
    daily: pd.DataFrame | None = None
    checks: pd.DataFrame | None = None
    unit: str = ""
    experiments: list[str] = field(default_factory=list)
    reason: str = ""
    outcome_problem: str = ""
    report: Any = None
    data_end: dt.date | None = None

    @property
    def available(self) -> bool:
        """Whether there are units to evaluate."""
        return self.units is not None and not self.reason

    @property
    def why_no_health(self) -> str:
        """Why there is no data-health table (``report`` is ``None``); empty when there is one.

        The health table itself is ``report.health_table()``: rows read, kept and
        rejected (with the reason) of each source table the experiment was read from.
        """
        if self.report is not None:
            return ""
        return "a per-unit table was supplied (units_file): no source tables were read"

    @property
    def why_no_checks(self) -> str:
        """Why there are no assignment checks (``checks`` is ``None``); empty when there are."""
        if self.checks is not None:
            return ""
        return (
            self.outcome_problem
            or self.reason
            or "a per-unit table was supplied: no raw assignments to check"
        )


def _daily_from_units(units: pd.DataFrame) -> pd.DataFrame | None:
    if "assigned_ts" not in units.columns or units["assigned_ts"].isna().all():
        return None
    day = pd.to_datetime(units["assigned_ts"]).dt.normalize()
    out = (
        units.assign(day=day)
        .groupby(["day", "variant"], as_index=False)
        .agg(units=("unit_id", "nunique"))
    )
    return out.sort_values(["day", "variant"]).reset_index(drop=True)


def _read_units_file(path: str) -> pd.DataFrame:
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        raise ContractError(
            table="units",
            expected=f"a CSV or Parquet file at {p}",
            found="no such file",
            fix="pass the path of the per-unit table, or leave units_file empty",
        )
    if p.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(p)
    return pd.read_csv(p, dtype={"unit_id": str, "variant": str})


def load(
    source: Any,
    experiment_id: str = "",
    units_file: str = "",
    mapping: Any = None,
    pre_days: int = 90,
    outcome_days: int | None = None,
    order_cap_quantile: float | None = None,
) -> ExperimentData:
    """Everything a readout needs about one experiment.

    Parameters
    ----------
    source
        Anything :func:`shopbook.data.validation.validate` accepts (a path, URI, open
        source) or an existing validation report.
    experiment_id
        The experiment; empty picks the one assigned most recently (:func:`load_each`
        reads them all).
    units_file
        A CSV/Parquet file with one row per unit (see :func:`from_frame`); when given,
        the source is not read.
    mapping
        Column mapping of the source.
    pre_days, outcome_days, order_cap_quantile
        As in :func:`unit_metrics`.

    Returns
    -------
    ExperimentData
        With ``reason`` set (and no units) when the source has no experiments — e.g.
        an orders-only source such as CDNOW — and ``outcome_problem`` set when units
        cannot be linked to sessions/orders.

    Raises
    ------
    ContractError
        A named experiment that is not in the source (the message lists those that are).
    """
    if units_file:
        return _from_units_file(units_file, experiment_id)
    report = _validated(source, mapping)
    empty = _no_experiments(report, experiment_id)
    if empty is not None:
        return empty
    names = _names(report)
    if not experiment_id:
        experiment_id = names[0]
    return _one(report, experiment_id, names, pre_days, outcome_days, order_cap_quantile)


def load_each(
    source: Any,
    experiment_id: str = "",
    units_file: str = "",
    mapping: Any = None,
    pre_days: int = 90,
    outcome_days: int | None = None,
    order_cap_quantile: float | None = None,
) -> list[ExperimentData]:
    """Everything a readout needs about every experiment of a source (or the one named).

    The source is validated once; each experiment is then read as :func:`load` reads
    one.

    Parameters
    ----------
    source, units_file, mapping, pre_days, outcome_days, order_cap_quantile
        As in :func:`load`.
    experiment_id
        Only this experiment; empty: every experiment in the assignments table, the
        most recently assigned first (ties by name).

    Returns
    -------
    list of ExperimentData
        One per experiment. A source without experiments gives one entry whose
        ``reason`` says why (so a report always has something to say).

    Raises
    ------
    ContractError
        A named experiment that is not in the source.
    """
    if units_file:
        return [_from_units_file(units_file, experiment_id)]
    report = _validated(source, mapping)
    empty = _no_experiments(report, experiment_id)
    if empty is not None:
        return [empty]
    names = _names(report)
    chosen = [experiment_id] if experiment_id else names
    end = _data_end(report)  # the same for every experiment: once
    return [
        _one(report, name, names, pre_days, outcome_days, order_cap_quantile, end)
        for name in chosen
    ]


def _from_units_file(units_file: str, experiment_id: str) -> ExperimentData:
    units = from_frame(_read_units_file(units_file))
    daily = _daily_from_units(units)
    return ExperimentData(
        experiment_id or "(user table)",
        units=units,
        daily=daily,
        unit="user table",
        experiments=[experiment_id or "(user table)"],
        data_end=pd.Timestamp(units["assigned_ts"].max()).date() if daily is not None else None,
    )


def _validated(source: Any, mapping: Any) -> Any:
    if hasattr(source, "kept") and hasattr(source, "tables"):
        return source
    from shopbook.data.validation import validate

    return validate(source, mapping=mapping, tables=["assignments", "sessions", "orders"])


def _no_experiments(report: Any, experiment_id: str) -> ExperimentData | None:
    """An entry saying why there is nothing to evaluate, or ``None`` when there is."""
    if "assignments" in report.tables and report.tables["assignments"].kept > 0:
        return None
    why = (
        "the source has no assignments table"
        if "assignments" not in report.tables
        else "the assignments table has no valid rows"
    )
    return ExperimentData(
        experiment_id, reason=f"{why}, so there is no experiment to evaluate", report=report
    )


def _names(report: Any) -> list[str]:
    """The experiments of the source, the most recently assigned first (ties by name)."""
    listing = fetch(experiments(report))
    listing = listing.sort_values(["experiment_id"]).sort_values(
        "last_assigned", ascending=False, kind="stable"
    )
    return [str(x) for x in listing["experiment_id"]]


def _data_end(report: Any) -> dt.date | None:
    """The last day of sessions and orders (what outcomes can have been observed up to)."""
    from shopbook.data.freshness import data_spans

    days = [s.last for s in data_spans(report, ["sessions", "orders"]).values() if s.last]
    return max(days) if days else None


def _one(
    report: Any,
    experiment_id: str,
    names: list[str],
    pre_days: int,
    outcome_days: int | None,
    order_cap_quantile: float | None,
    data_end: dt.date | None = None,
) -> ExperimentData:
    """One experiment of a validated source with experiments (``data_end``:
    :func:`_data_end`, computed here when not given)."""
    if experiment_id not in names:
        raise ContractError(
            table="assignments",
            column="experiment_id",
            expected=f"assignments of experiment {experiment_id!r}",
            found="experiments " + ", ".join(map(repr, names)),
            fix="set experiment_id to one of the experiments found (empty: all of them)",
        )
    daily = fetch(daily_assignments(report, experiment_id))
    data = ExperimentData(
        experiment_id,
        daily=daily,
        experiments=names,
        report=report,
        data_end=data_end if data_end is not None else _data_end(report),
    )
    raw = (
        report.source.table("assignments") if getattr(report, "source", None) is not None else None
    )
    try:
        data.unit = detect_unit(report, experiment_id)
        if not _has(report, "orders"):
            raise ContractError(
                table="orders",
                expected="an orders table (conversions and revenue)",
                found="no orders table",
                fix="add orders to the source",
            )
        data.units = fetch(
            unit_metrics(
                report,
                experiment_id,
                pre_days=pre_days,
                outcome_days=outcome_days,
                unit=data.unit,
                order_cap_quantile=order_cap_quantile,
            )
        )
        data.checks = assignment_checks(
            report, experiment_id, unit=data.unit, raw_assignments=raw, units=data.units
        )
    except ContractError as err:
        first = err.problems[0]
        data.outcome_problem = f"outcomes cannot be measured: {first.found}. Fix: {first.fix}"
        a = _assignments(report, experiment_id)
        data.units = fetch(a.order_by("unit_id"))
    return data
