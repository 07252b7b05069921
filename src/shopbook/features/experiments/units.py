"""One row per unit of an experiment, built in the engine (see the package docstring)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.errors import ContractError
from shopbook.features._engine import count_if, flag
from shopbook.features.experiments._tables import _assignments, _get, _has
from shopbook.features.experiments.assignments import detect_unit, experiments
from shopbook.features.orders import (
    PLACED_STATUSES,
    SHARE_SCALE,
    money,
    money_sum,
    purchases,
    window_bounds,
)

__all__ = ["UNIT_COLUMNS", "unit_metrics"]

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
        o_amount=money(o.net_amount),
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
        cap = post_o.o_amount.cast("float64").quantile(float(order_cap_quantile)).execute()
        cap = float(cap) if cap is not None and not pd.isna(cap) else 0.0
        capped = ibis.least(post_o.o_amount.cast("float64"), ibis.literal(cap))
        extra["revenue_capped"] = money_sum(capped, SHARE_SCALE).cast("float64")
    ord_post = post_o.group_by("unit_id").aggregate(  # money: exact DECIMAL sums
        orders=post_o.o_id.nunique(),
        revenue=money_sum(post_o.o_amount).cast("float64"),
        refunded_orders=count_if(post_o.o_status == "refunded"),
        first_order_ts=post_o.o_ts.min(),
        **extra,
    )
    ord_pre = pre_o.group_by("unit_id").aggregate(
        pre_orders=pre_o.o_id.nunique(),
        pre_revenue=money_sum(pre_o.o_amount).cast("float64"),
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
        converted=flag(orders_n > 0),
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
