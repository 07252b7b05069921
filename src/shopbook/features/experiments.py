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

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.errors import ContractError
from shopbook.features.orders import PLACED_STATUSES, purchases, window_bounds

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
]

#: Columns of the per-unit frame, in order (``from_frame`` accepts a subset).
UNIT_COLUMNS: tuple[str, ...] = (
    "unit_id",
    "variant",
    "assigned_ts",
    "sessions",
    "orders",
    "revenue",
    "refunded_orders",
    "converted",
    "first_order_ts",
    "pre_sessions",
    "pre_orders",
    "pre_revenue",
    "device",
    "channel",
    "new_vs_returning",
)
# plus ``revenue_capped`` when unit_metrics is asked for order-level winsorising


def _has(tables: Any, name: str) -> bool:
    if hasattr(tables, "kept") and hasattr(tables, "tables"):  # ValidationReport
        return name in tables.tables
    if isinstance(tables, Mapping):
        return name in tables
    if hasattr(tables, "has"):
        return bool(tables.has(name))
    return False


def _get(tables: Any, name: str) -> ir.Table:
    """Table ``name`` from a ValidationReport (its kept rows) or a mapping of ibis tables."""
    if not _has(tables, name):
        raise ContractError(
            table=name,
            expected=f"table {name!r} (an experiment readout needs it)",
            found="no such table in the source",
            fix=f"add {name} to the source, or pass a per-unit table through from_frame()",
        )
    if hasattr(tables, "kept"):
        return tables.kept(name)
    if isinstance(tables, Mapping):
        t = tables[name]
        return t if isinstance(t, ir.Table) else ibis.memtable(t)
    return tables.table(name)


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


def _assignments(tables: Any, experiment_id: str) -> ir.Table:
    a = _get(tables, "assignments")
    return a.filter(a.experiment_id == experiment_id).select("unit_id", "variant", "assigned_ts")


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


def _window_end(a: ir.Table, outcome_days: int | None, end: Any) -> ir.Value:
    if outcome_days is not None:
        return a.assigned_ts + ibis.interval(days=int(outcome_days))
    return ibis.literal(end, type="timestamp")


def unit_metrics(
    tables: Any,
    experiment_id: str,
    pre_days: int = 90,
    outcome_days: int | None = None,
    unit: str = "auto",
    end: dt.datetime | str | None = None,
    exposure_lookback_minutes: int = 60,
    order_cap_quantile: float | None = None,
) -> ir.Table:
    """One row per unit of an experiment: variant, outcomes, pre-period covariate, segments.

    Parameters
    ----------
    tables
        A :class:`~shopbook.data.validation.ValidationReport` (kept rows are used) or a
        mapping ``{table: ibis table or DataFrame}`` with ``assignments`` and ``orders``
        (``sessions`` for visitor units and for segments).
    experiment_id
        The experiment.
    pre_days
        Length of the pre-period (days before assignment) for the covariates. 90 days
        by default: shoppers buy every few weeks to months, so a month of history
        predicts little (on the synthetic shop 90 days removes about twice the variance
        28 days does).
    outcome_days
        Count each unit's behaviour for this many days after its assignment; default:
        until the end of the experiment's last assignment day (or ``end``).
    unit
        ``"visitor"``, ``"customer"`` or ``"auto"`` (see :func:`detect_unit`).
    end
        End of the outcome window when ``outcome_days`` is not given.
    exposure_lookback_minutes
        A session that started at most this long before ``assigned_ts`` (the latest
        one) is the *exposure session*: the unit was assigned while it was in progress
        (e.g. on the product page, minutes after the session began), so it counts as
        after assignment for sessions and segments.
    order_cap_quantile
        When given (e.g. 0.99), add ``revenue_capped``: the unit's revenue with each
        order's value capped at this quantile of the experiment's order values (computed
        in the engine). Average order value must be winsorised order by order — capping
        revenue per unit would bias it when the treatment changes orders per unit.

    Returns
    -------
    ibis.Table
        Columns :data:`UNIT_COLUMNS`: ``unit_id``, ``variant``, ``assigned_ts``,
        ``sessions``, ``orders``, ``revenue``, ``refunded_orders``, ``converted``
        (0/1), ``first_order_ts`` (null when none), ``pre_sessions``, ``pre_orders``,
        ``pre_revenue``, ``device``, ``channel`` (of the first session after
        assignment; null when none), ``new_vs_returning`` (``"new"`` when the unit had
        no session or order before assignment). Counts and sums are 0, never null.

    Raises
    ------
    ContractError
        A missing table, or an experiment with no assignments.
    """
    if unit not in ("auto", "visitor", "customer"):
        raise ValueError(f"unit must be 'auto', 'visitor' or 'customer', got {unit!r}")
    a = _assignments(tables, experiment_id)
    end = _outcome_end(tables, experiment_id, a, end)
    if unit == "auto":
        unit = detect_unit(tables, experiment_id)
    has_sessions = _has(tables, "sessions")
    base = a.mutate(
        w_end=_window_end(a, outcome_days, end),
        w_pre=a.assigned_ts - ibis.interval(days=int(pre_days)),
    )
    parts: list[ir.Table] = []
    linked: ir.Table | None = None
    if has_sessions:
        linked, session_parts = _unit_sessions(
            _get(tables, "sessions"), base, unit, exposure_lookback_minutes
        )
    uo = _unit_orders(_placed_orders(tables), base, linked, unit)
    parts += _order_parts(uo, order_cap_quantile)
    if has_sessions:
        parts += session_parts
    out = a
    for part in parts:
        out = out.left_join(part, "unit_id").drop("unit_id_right")
    return _unit_columns(out, has_sessions).order_by("unit_id")


def _outcome_end(tables: Any, experiment_id: str, a: ir.Table, end: Any) -> dt.datetime:
    """``end`` as a datetime; by default the end of the experiment's last assignment day.

    Raises
    ------
    ContractError
        When the experiment has no assignments (the message lists the experiments).
    """
    last = a.assigned_ts.max().execute()
    if last is None or pd.isna(last):
        found = (
            experiments(tables).experiment_id.execute().tolist()
            if _has(tables, "assignments")
            else []
        )
        raise ContractError(
            table="assignments",
            column="experiment_id",
            expected=f"assignments of experiment {experiment_id!r}",
            found="experiments " + (", ".join(map(repr, found)) or "(none)"),
            fix="set experiment_id to one of the experiments found",
        )
    if end is None:
        return window_bounds(last, last)[1]  # the whole last assignment day
    return pd.Timestamp(end).to_pydatetime()


def _placed_orders(tables: Any) -> ir.Table:
    """The orders that count for an experiment (placed, not cancelled), with ``o_`` names."""
    o = purchases(_get(tables, "orders"), PLACED_STATUSES)
    return o.select(
        o_id=o.order_id,
        o_customer=o.customer_id,
        o_ts=o.order_ts,
        o_status=o.status,
        o_amount=o.net_amount,
        o_channel=o.channel,
    )


def _unit_sessions(
    s: ir.Table, base: ir.Table, unit: str, exposure_lookback_minutes: int
) -> tuple[ir.Table, list[ir.Table]]:
    """Each unit's sessions; the exposure session is the one in progress at assignment.

    Returns
    -------
    (ibis.Table, list of ibis.Table)
        Every (unit, session) pair — the link from visitor units to their orders — and
        the per-unit parts ``sessions``, ``pre_sessions``, ``seen_s`` (a session before
        the window) and the ``device``/``channel`` of the first session in the window.
    """
    key = s.visitor_id if unit == "visitor" else s.customer_id
    sess = s.filter(key.notnull()).select(
        s_key=key,
        s_id=s.session_id,
        s_ts=s.session_ts,
        s_channel=s.channel,
        s_device=s.device,
        s_order=s.order_id,
    )
    us0 = base.join(sess, base.unit_id == sess.s_key)
    lookback = ibis.interval(minutes=int(exposure_lookback_minutes))
    cur = us0.filter((us0.s_ts <= us0.assigned_ts) & (us0.s_ts >= us0.assigned_ts - lookback))
    exposure = cur.group_by("unit_id").aggregate(x_start=cur.s_ts.max())
    b2 = base.left_join(exposure, "unit_id").drop("unit_id_right")
    b2 = b2.mutate(w_start=ibis.coalesce(b2.x_start, b2.assigned_ts)).drop("x_start")
    us = b2.join(sess, b2.unit_id == sess.s_key)
    post_s = us.filter((us.s_ts >= us.w_start) & (us.s_ts < us.w_end))
    pre_s = us.filter((us.s_ts >= us.w_pre) & (us.s_ts < us.w_start))
    sess_post = post_s.group_by("unit_id").aggregate(sessions=post_s.s_id.count())
    sess_pre = pre_s.group_by("unit_id").aggregate(pre_sessions=pre_s.s_id.count())
    ever_s = (
        us.filter(us.s_ts < us.w_start).select("unit_id").distinct().mutate(seen_s=ibis.literal(1))
    )
    ranked = post_s.mutate(
        rn=ibis.row_number().over(group_by=post_s.unit_id, order_by=[post_s.s_ts, post_s.s_id])
    )
    first = ranked.filter(ranked.rn == 0).select(
        "unit_id", device=ranked.s_device, channel=ranked.s_channel
    )
    return us0, [sess_post, sess_pre, ever_s, first]


def _unit_orders(orders: ir.Table, base: ir.Table, linked: ir.Table | None, unit: str) -> ir.Table:
    """Each unit's orders with ``o_start``: when the order's session (or the order) began.

    Visitor units reach their orders through their sessions' ``order_id`` (``linked``:
    every unit-session pair); customer units through ``orders.customer_id``.
    """
    cols = ["unit_id", "assigned_ts", "w_end", "w_pre", "o_id", "o_status", "o_amount"]
    cols += ["o_channel", "o_ts"]
    if unit != "visitor":
        j = base.join(orders, base.unit_id == orders.o_customer)
        return j.select(*cols, o_start=j.o_ts)
    if linked is None:
        raise ContractError(
            table="sessions",
            expected="sessions (visitor units reach their orders through sessions.order_id)",
            found="no sessions table",
            fix="add sessions to the source, or pass a per-unit table through from_frame()",
        )
    with_order = linked.filter(linked.s_order.notnull())
    lo = with_order.join(orders, with_order.s_order == orders.o_id)
    # an order placed after exposure counts when its session started before the window closed
    return lo.select(*cols, o_start=lo.s_ts)


def _order_parts(uo: ir.Table, order_cap_quantile: float | None) -> list[ir.Table]:
    """Per-unit order outcomes, pre-period orders, ``seen_o`` and the first order's channel."""
    post_o = uo.filter((uo.o_ts >= uo.assigned_ts) & (uo.o_start < uo.w_end))
    pre_o = uo.filter((uo.o_ts >= uo.w_pre) & (uo.o_ts < uo.assigned_ts))
    extra: dict[str, ir.Value] = {}
    if order_cap_quantile is not None and order_cap_quantile < 1:
        cap = post_o.o_amount.quantile(float(order_cap_quantile)).execute()
        cap = float(cap) if cap is not None and not pd.isna(cap) else 0.0
        extra["revenue_capped"] = ibis.least(post_o.o_amount, ibis.literal(cap)).sum()
    ord_post = post_o.group_by("unit_id").aggregate(
        orders=post_o.o_id.nunique(),
        revenue=post_o.o_amount.sum(),
        refunded_orders=(post_o.o_status == "refunded").cast("int64").sum(),
        first_order_ts=post_o.o_ts.min(),
        **extra,
    )
    ord_pre = pre_o.group_by("unit_id").aggregate(
        pre_orders=pre_o.o_id.nunique(), pre_revenue=pre_o.o_amount.sum()
    )
    ever_o = (
        uo.filter(uo.o_ts < uo.assigned_ts)
        .select("unit_id")
        .distinct()
        .mutate(seen_o=ibis.literal(1))
    )
    first_o = post_o.mutate(
        rn=ibis.row_number().over(group_by=post_o.unit_id, order_by=[post_o.o_ts, post_o.o_id])
    )
    first_o = first_o.filter(first_o.rn == 0).select("unit_id", o_first_channel=first_o.o_channel)
    return [ord_post, ord_pre, ever_o, first_o]


def _unit_columns(out: ir.Table, has_sessions: bool) -> ir.Table:
    """The :data:`UNIT_COLUMNS` of the joined parts: counts and sums 0, never null."""

    def zero(col: str, dtype: str = "int64") -> ir.Value:
        return (
            out[col].fill_null(0).cast(dtype) if col in out.columns else ibis.literal(0).cast(dtype)
        )

    seen = zero("seen_o")
    if has_sessions:
        seen = seen + zero("seen_s")
    no_text = ibis.null("string")
    device = out.device if has_sessions else no_text
    channel = (
        ibis.coalesce(out.channel, out.o_first_channel) if has_sessions else out.o_first_channel
    )
    orders_n = zero("orders")
    return out.select(
        unit_id=out.unit_id,
        variant=out.variant,
        assigned_ts=out.assigned_ts,
        sessions=zero("sessions"),
        orders=orders_n,
        revenue=zero("revenue", "float64"),
        refunded_orders=zero("refunded_orders"),
        converted=(orders_n > 0).cast("int64"),
        first_order_ts=out.first_order_ts,
        pre_sessions=zero("pre_sessions"),
        pre_orders=zero("pre_orders"),
        pre_revenue=zero("pre_revenue", "float64"),
        device=device,
        channel=channel,
        new_vs_returning=ibis.ifelse(seen > 0, "returning", "new"),
        **(
            {"revenue_capped": zero("revenue_capped", "float64")}
            if "revenue_capped" in out.columns
            else {}
        ),
    )


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


def from_frame(frame: pd.DataFrame, mapping: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Accept a per-unit table the user already has (one row per unit).

    Parameters
    ----------
    frame
        Must have ``unit_id``, ``variant`` and ``converted`` or ``orders``; may have any
        other column of :data:`UNIT_COLUMNS` (``revenue``, ``pre_revenue``,
        ``assigned_ts``, ``device`` …). Extra columns are kept (usable as segments).
    mapping
        ``{column in frame: unit column}`` to rename first, e.g. ``{"user": "unit_id"}``.

    Returns
    -------
    DataFrame
        Typed: counts as int64, money as float64, ``converted`` 0/1, timestamps as
        datetime64, segments as strings. ``converted`` is derived from ``orders > 0``
        when absent; missing counts/money are 0.

    Raises
    ------
    ContractError
        Missing required columns, unreadable values, or a unit on more than one row
        (e.g. in two variants).
    """
    df = frame.rename(columns=dict(mapping or {})).copy()
    _check_unit_table(df)
    df["unit_id"] = df["unit_id"].astype(str)
    df["variant"] = df["variant"].astype(str)
    _check_one_row_per_unit(df)
    for col in (*_COUNT_COLUMNS, *_MONEY_COLUMNS, "converted"):
        if col in df.columns:
            df[col] = _numbers(df, col)
    df["converted"] = _converted(df)
    for col in ("assigned_ts", "first_order_ts"):
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], errors="raise")
    for col in ("device", "channel", "new_vs_returning"):
        if col in df.columns:
            df[col] = df[col].astype("string")
    ordered = [c for c in UNIT_COLUMNS if c in df.columns]
    return df[ordered + [c for c in df.columns if c not in ordered]].reset_index(drop=True)


#: Per-unit columns that are counts (int64) and money (float64).
_COUNT_COLUMNS = ("sessions", "orders", "refunded_orders", "pre_sessions", "pre_orders")
_MONEY_COLUMNS = ("revenue", "pre_revenue", "revenue_capped")


def _check_unit_table(df: pd.DataFrame) -> None:
    """The required columns are there and every row has a unit id and a variant."""
    missing = [c for c in ("unit_id", "variant") if c not in df.columns]
    if "converted" not in df.columns and "orders" not in df.columns:
        missing.append("converted (or orders)")
    if missing:
        raise ContractError(
            table="units",
            column=missing[0].split()[0],
            expected="a per-unit table with unit_id, variant and converted (or orders)",
            found="columns " + ", ".join(map(str, df.columns)),
            fix="rename the columns (mapping={'your name': 'unit_id', …}) or add them",
        )
    if df["unit_id"].isna().any() or df["variant"].isna().any():
        raise ContractError(
            table="units",
            column="unit_id" if df["unit_id"].isna().any() else "variant",
            expected="a value on every row",
            found="missing values",
            fix="drop or fill rows without a unit id / variant",
        )


def _check_one_row_per_unit(df: pd.DataFrame) -> None:
    dup = df["unit_id"].duplicated(keep=False)
    if dup.any():
        two = int((df.loc[dup].groupby("unit_id")["variant"].nunique() > 1).sum())
        n_units = int(df.loc[dup, "unit_id"].nunique())
        raise ContractError(
            table="units",
            column="unit_id",
            expected="one row per unit (a unit is in exactly one variant)",
            found=f"{n_units:,} units on several rows, {two:,} of them in two variants",
            fix="remove those units (they break the comparison) or aggregate to one row per unit",
        )


def _numbers(df: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` as non-negative numbers, missing as 0: int64 counts, float64 otherwise."""
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() & df[col].notna()
    if bad.any():
        raise ContractError(
            table="units",
            column=col,
            expected="numbers",
            found=f"{int(bad.sum()):,} unreadable values, e.g. {df.loc[bad, col].iloc[0]!r}",
            fix=f"clean the {col} column",
        )
    if (values < 0).any():
        raise ContractError(
            table="units",
            column=col,
            expected="values ≥ 0",
            found=f"{int((values < 0).sum()):,} negative values",
            fix=f"clean the {col} column",
        )
    values = values.fillna(0)
    return values.astype("int64") if col in _COUNT_COLUMNS else values.astype("float64")


def _converted(df: pd.DataFrame) -> pd.Series:
    """``converted`` as 0/1 (int64), derived from ``orders > 0`` when absent."""
    if "converted" not in df.columns:
        return (df["orders"] > 0).astype("int64")
    if (df["converted"] > 1).any():
        raise ContractError(
            table="units",
            column="converted",
            expected="0/1 or true/false",
            found="values above 1",
            fix="use 1 for converted units and 0 otherwise",
        )
    return (df["converted"] > 0).astype("int64")


# --------------------------------------------------------------------------- loading


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
        The experiment; empty picks the one assigned most recently.
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
        units = from_frame(_read_units_file(units_file))
        return ExperimentData(
            experiment_id or "(user table)",
            units=units,
            daily=_daily_from_units(units),
            unit="user table",
            experiments=[experiment_id or "(user table)"],
        )
    if hasattr(source, "kept") and hasattr(source, "tables"):
        report = source
    else:
        from shopbook.data.validation import validate

        report = validate(source, mapping=mapping, tables=["assignments", "sessions", "orders"])
    if "assignments" not in report.tables or report.tables["assignments"].kept == 0:
        why = (
            "the source has no assignments table"
            if "assignments" not in report.tables
            else "the assignments table has no valid rows"
        )
        return ExperimentData(
            experiment_id, reason=f"{why}, so there is no experiment to evaluate", report=report
        )
    listing = experiments(report).execute()
    names = listing["experiment_id"].tolist()
    if not experiment_id:
        experiment_id = str(
            listing.sort_values(["last_assigned", "experiment_id"]).iloc[-1]["experiment_id"]
        )
    if experiment_id not in names:
        raise ContractError(
            table="assignments",
            column="experiment_id",
            expected=f"assignments of experiment {experiment_id!r}",
            found="experiments " + ", ".join(map(repr, names)),
            fix="set experiment_id to one of the experiments found (empty: the most recent)",
        )
    daily = daily_assignments(report, experiment_id).execute()
    data = ExperimentData(experiment_id, daily=daily, experiments=names, report=report)
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
        data.units = unit_metrics(
            report,
            experiment_id,
            pre_days=pre_days,
            outcome_days=outcome_days,
            unit=data.unit,
            order_cap_quantile=order_cap_quantile,
        ).execute()
        data.checks = assignment_checks(
            report, experiment_id, unit=data.unit, raw_assignments=raw, units=data.units
        )
    except ContractError as err:
        first = err.problems[0]
        data.outcome_problem = f"outcomes cannot be measured: {first.found}. Fix: {first.fix}"
        a = _assignments(report, experiment_id)
        data.units = a.order_by("unit_id").execute()
    return data
