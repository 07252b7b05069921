"""Per-unit experiment metrics, built in the engine from assignments + sessions + orders.

An experiment's readout needs one row per randomisation unit: its variant, what it did
after assignment (converted, orders, revenue, refunds), what it did before (the
pre-period covariate for CUPED) and a few segments. :func:`unit_metrics` builds that as
an **ibis** expression over validated tables, so the joins and aggregations run where
the data lives and only the per-unit frame comes back.

Linking units to behaviour
--------------------------
``assignments.unit_id`` is either a visitor id (``sessions.visitor_id``) or a customer
id (``orders.customer_id`` / ``sessions.customer_id``). ``unit="auto"`` looks at which
of the two the experiment's unit ids are found in. Then

* **visitor units**: the unit's sessions are ``sessions.visitor_id == unit_id``; its
  orders are the orders placed in those sessions (``sessions.order_id``);
* **customer units**: its orders are ``orders.customer_id == unit_id``; its sessions
  ``sessions.customer_id == unit_id``.

Windows
-------
* **Outcome window**: from the unit's ``assigned_ts`` up to ``outcome_days`` later, or
  (default) to the end of the experiment's last assignment day, so a late unit is not
  credited with behaviour after the test ended. An order counts when it was placed
  after exposure (``order_ts ≥ assigned_ts``) and — for visitor units — its session
  started before the window closed (customer units: ``order_ts`` before the close).
  Sessions count from the *exposure session* — the session in
  progress at assignment (the latest that started at most ``exposure_lookback_minutes``
  before ``assigned_ts``; assignment is usually logged mid-session, at the page that is
  being tested) — so the exposure session's device and channel are the unit's segments.
* **Pre-period**: the ``pre_days`` before assignment — the CUPED covariate.

Metric definitions
------------------
``orders`` counts orders that were not cancelled (paid or refunded); ``revenue`` is their
``net_amount`` (booked revenue: a refund shows up in the ``refund_rate`` guardrail, not
as negative revenue); ``refunded_orders`` the refunded ones; ``converted`` is
``orders > 0``.

A user who already has one row per unit (from another tool) passes it through
:func:`from_frame` instead.
"""

from __future__ import annotations

from shopbook.features.experiments.assignments import (
    assignment_counts,
    daily_assignments,
    detect_unit,
    experiments,
    units_in_two_variants,
)
from shopbook.features.experiments.checks import assignment_checks
from shopbook.features.experiments.frames import from_frame
from shopbook.features.experiments.loading import ExperimentData, load, load_each
from shopbook.features.experiments.units import UNIT_COLUMNS, unit_metrics

__all__ = [
    "UNIT_COLUMNS",
    "experiments",
    "assignment_counts",
    "daily_assignments",
    "units_in_two_variants",
    "detect_unit",
    "unit_metrics",
    "assignment_checks",
    "from_frame",
    "ExperimentData",
    "load",
    "load_each",
]
