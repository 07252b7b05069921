"""Data checks of an experiment's assignment, counted in the engine."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.features.experiments._tables import _assignments, _get, _has
from shopbook.features.experiments.assignments import detect_unit, units_in_two_variants
from shopbook.features.experiments.units import unit_metrics

__all__ = ["assignment_checks"]


def assignment_checks(
    tables: Any,
    experiment_id: str,
    unit: str = "auto",
    raw_assignments: ir.Table | None = None,
    units: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Data checks of an experiment's assignment, counted in the engine.

    * **units in two variants** — rejected by validation (``unit in two variants``);
      counted on ``raw_assignments`` when given.
    * **exposed before first visit** (visitor units) — assigned before the unit's first
      recorded session: the assignment was logged for a visitor not seen yet (clock or
      logging problem).
    * **assigned outside the data** — assignment later than the last session/order in
      the source: outcomes cannot have been observed.
    * **no activity after assignment** — units with neither a session nor an order in
      their outcome window (informational: many are expected for visitor tests).

    Parameters
    ----------
    tables
        As in :func:`unit_metrics`.
    experiment_id
        The experiment.
    unit
        As in :func:`unit_metrics`.
    raw_assignments
        The unvalidated assignments table (``source.table("assignments")``).
    units
        The experiment's :func:`unit_metrics` frame when already computed.

    Returns
    -------
    DataFrame
        ``check``, ``units``, ``share`` (of the experiment's units), ``meaning``.
    """
    a = _assignments(tables, experiment_id)
    total = int(a.count().execute())
    rows = []

    def add(check: str, n: int, meaning: str) -> None:
        rows.append(
            {
                "check": check,
                "units": int(n),
                "share": n / total if total else 0.0,
                "meaning": meaning,
            }
        )

    if raw_assignments is not None:
        n_two = int(units_in_two_variants(raw_assignments, experiment_id).count().execute())
        add(
            "units in two variants",
            n_two,
            "removed from the analysis (validation rejects them); "
            "more than a handful means a bucketing bug",
        )
    if unit == "auto":
        unit = detect_unit(tables, experiment_id)
    latest = []
    if _has(tables, "sessions"):
        s = _get(tables, "sessions")
        latest.append(s.session_ts.max().execute())
        if unit == "visitor":
            first = s.group_by(key=s.visitor_id).aggregate(first_seen=s.session_ts.min())
            j = a.left_join(first, a.unit_id == first.key)
            n = int(
                j.filter(j.first_seen.isnull() | (j.assigned_ts < j.first_seen)).count().execute()
            )
            add(
                "exposed before first visit",
                n,
                "assignment logged before the unit's first session: "
                "check clocks and assignment logging",
            )
    if _has(tables, "orders"):
        o = _get(tables, "orders")
        latest.append(o.order_ts.max().execute())
    latest = [pd.Timestamp(x) for x in latest if x is not None and not pd.isna(x)]
    if latest:
        n = int(
            a.filter(a.assigned_ts > ibis.literal(max(latest).to_pydatetime(), type="timestamp"))
            .count()
            .execute()
        )
        add("assigned after the data ends", n, "no outcome can have been observed for these units")
    if units is None:
        m = unit_metrics(tables, experiment_id, unit=unit)
        n_idle = int(m.filter((m.sessions == 0) & (m.orders == 0)).count().execute())
    else:
        n_idle = int(((units["sessions"] == 0) & (units["orders"] == 0)).sum())
    add(
        "no activity after assignment",
        n_idle,
        "informational: units that never came back in the window",
    )
    return pd.DataFrame(rows, columns=["check", "units", "share", "meaning"])
