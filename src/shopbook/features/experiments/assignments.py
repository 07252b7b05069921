"""The experiments of a source and each one's assignments: counts, days, unit kind."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from shopbook.errors import ContractError
from shopbook.features.experiments._tables import _assignments, _get, _has

__all__ = [
    "assignment_counts",
    "daily_assignments",
    "detect_unit",
    "experiments",
    "units_in_two_variants",
]


def experiments(tables: Any) -> ir.Table:
    """The experiments in the assignments table.

    Parameters
    ----------
    tables
        A :class:`~shopbook.data.validation.ValidationReport` (its kept rows are used) or
        a mapping ``{table name: ibis table or DataFrame}``.

    Returns
    -------
    ibis.Table
        ``experiment_id, variants, units, first_assigned, last_assigned``, one row per
        experiment, ordered by name.
    """
    a = _get(tables, "assignments")
    return (
        a.group_by("experiment_id")
        .aggregate(
            variants=a.variant.nunique(),
            units=a.unit_id.nunique(),
            first_assigned=a.assigned_ts.min(),
            last_assigned=a.assigned_ts.max(),
        )
        .order_by("experiment_id")
    )


def assignment_counts(tables: Any, experiment_id: str) -> ir.Table:
    """Units per variant of one experiment (the input of the SRM check).

    Returns
    -------
    ibis.Table
        ``variant, units``, ordered by variant.
    """
    a = _assignments(tables, experiment_id)
    return a.group_by("variant").aggregate(units=a.unit_id.nunique()).order_by("variant")


def daily_assignments(tables: Any, experiment_id: str) -> ir.Table:
    """Units first assigned per day and variant.

    Returns
    -------
    ibis.Table
        ``day`` (date), ``variant``, ``units``, ordered by day and variant.
    """
    a = _assignments(tables, experiment_id)
    return (
        a.group_by(day=a.assigned_ts.date(), variant=a.variant)
        .aggregate(units=a.unit_id.nunique())
        .order_by(["day", "variant"])
    )


def units_in_two_variants(assignments: ir.Table, experiment_id: str) -> ir.Table:
    """Units that appear in more than one variant of an experiment.

    Validation rejects them (reason ``unit in two variants``), so pass the **raw**
    assignments (``source.table("assignments")``) or the rejects
    (``report.rejects("assignments")``) to see them.

    Parameters
    ----------
    assignments
        An assignments table with ``experiment_id``, ``unit_id``, ``variant``.
    experiment_id
        The experiment.

    Returns
    -------
    ibis.Table
        ``unit_id, variants`` (number of distinct variants, ≥ 2).
    """
    a = assignments.filter(assignments.experiment_id == experiment_id)
    g = a.group_by("unit_id").aggregate(variants=a.variant.nunique())
    return g.filter(g.variants > 1).order_by("unit_id")


def detect_unit(tables: Any, experiment_id: str) -> str:
    """Whether the experiment randomised visitors or customers.

    Counts the experiment's unit ids found among ``sessions.visitor_id`` and among
    customer ids (``orders.customer_id``, ``sessions.customer_id``,
    ``customers.customer_id``) in the engine.

    Returns
    -------
    str
        ``"visitor"`` or ``"customer"``.

    Raises
    ------
    ContractError
        When the unit ids match neither.
    """
    a = _assignments(tables, experiment_id).select("unit_id").distinct()
    hits: dict[str, int] = {"visitor": 0, "customer": 0}
    if _has(tables, "sessions"):
        s = _get(tables, "sessions")
        ids = s.select(key=s.visitor_id.cast("string")).distinct()
        hits["visitor"] = int(a.semi_join(ids, a.unit_id == ids.key).count().execute())
    customer_ids = []
    if _has(tables, "orders"):
        o = _get(tables, "orders")
        customer_ids.append(o.select(key=o.customer_id.cast("string")))
    if _has(tables, "sessions"):
        s = _get(tables, "sessions")
        customer_ids.append(
            s.filter(s.customer_id.notnull()).select(key=s.customer_id.cast("string"))
        )
    if _has(tables, "customers"):
        c = _get(tables, "customers")
        customer_ids.append(c.select(key=c.customer_id.cast("string")))
    if customer_ids:
        ids = (
            ibis.union(*customer_ids, distinct=True)
            if len(customer_ids) > 1
            else customer_ids[0].distinct()
        )
        hits["customer"] = int(a.semi_join(ids, a.unit_id == ids.key).count().execute())
    if max(hits.values()) == 0:
        raise ContractError(
            table="assignments",
            column="unit_id",
            expected="unit ids that are visitor ids (sessions) or customer ids (orders)",
            found=f"none of the unit ids of {experiment_id} is a visitor id in sessions "
            "or a customer id in orders",
            fix="use the same ids in assignments as in sessions and orders, "
            "or pass a per-unit table (units_file / from_frame)",
        )
    return "visitor" if hits["visitor"] >= hits["customer"] else "customer"
