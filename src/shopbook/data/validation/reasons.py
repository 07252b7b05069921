"""The reject rules, compiled from the contract into ibis expressions, and the reasons
they give, in the order they are applied.

Why not pandera (its ibis backend, ``pandera.ibis``, exists since 0.2x; checked on 0.35, and
the dependency was dropped): its checks are declarative like the contract's, but a pandera
validation answers "did check X pass, and on which rows" — one query per check, the failure
cases pulled into pandas (``failure_cases.to_pandas()``), a row failing two checks listed
twice, and table-level checks joined back to the rows by position (DuckDB) or by an
unordered ``row_number()`` (every other engine: not deterministic). Validation here needs
one reason per row — the first rule it fails — in one expression the engine runs once, with
read = kept + rejected counted from it.
So the contract's rules are compiled by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.data.contract import TABLES, Column, Table
from shopbook.data.sources.transform import one_of
from shopbook.data.validation._common import (
    _OK,
    _REASON,
    _WHY,
    ambiguous_zone,
    fence,
    null,
    out_of_range,
    unparseable,
)
from shopbook.data.validation.report import TableHealth, _Checked


def rules(name: str) -> list[tuple[str, str | None]]:
    """The reject reasons of table ``name``, in the order they are applied.

    Returns
    -------
    list of (reason, column)
        ``column`` is the column the rule is about, ``None`` for table rules.
    """
    contract = TABLES[name]
    out: list[tuple[str, str | None]] = [
        (reason, col.name) for col in contract.columns for reason in _column_reasons(col)
    ]
    out += [(rr.reason, rr.columns[0]) for rr in contract.row_rules]
    out += [(reason, None) for _, reason in contract.unique_groups]
    if contract.primary_key:
        out.append((contract.key_reason, None))
    out += [
        (fk.reason, fk.columns[0] if len(fk.columns) == 1 else None) for fk in contract.foreign_keys
    ]
    return out


def _column_reasons(col: Column) -> list[str]:
    """The reasons a column can reject a row for, in the order they are tested."""
    out = [unparseable(col.name)] if col.dtype != "string" else []
    if col.dtype in ("int64", "float64"):
        out.append(out_of_range(col.name))
    if col.dtype in ("timestamp", "date"):
        out.append(ambiguous_zone(col.name))
    if not col.nullable:
        out.append(null(col.name))
    out += [reason for reason, _ in _bound_rules(col)]
    if col.allowed:
        out.append(f"unknown {col.name}")
    if col.not_future:
        out.append(f"{col.name} in the future")
    return out


def _bound_rules(col: Column) -> list[tuple[str, Any]]:
    """``(reason, test)`` per declared bound; ``test(value)`` is true for a bad value."""
    out: list[tuple[str, Any]] = []
    if col.gt is not None:
        reason = f"non-positive {col.name}" if col.gt == 0 else f"{col.name} not above {col.gt:g}"
        out.append((reason, lambda v, b=col.gt: v <= b))
    if col.ge is not None:
        reason = f"negative {col.name}" if col.ge == 0 else f"{col.name} below {col.ge:g}"
        out.append((reason, lambda v, b=col.ge: v < b))
    return out


def _row_reason(
    t: ir.Table, contract: Table, present: list[str], now: dt.datetime
) -> ir.StringValue:
    """The first column rule each row of ``t`` (typed columns, ``__why_…``) fails, or null."""
    now_ts = ibis.literal(now, type="timestamp")
    now_date = ibis.literal(now.date(), type="date")
    branches: list[tuple[ir.BooleanValue, str]] = []
    for col in contract.columns:
        if col.name not in present:
            continue  # absent optional column: all null, and nullable by contract
        value = t[col.name]
        if _WHY + col.name in t.columns:  # a present value that cannot be kept
            why = t[_WHY + col.name]
            branches.append((why.notnull(), why))
        if not col.nullable:
            branches.append((value.isnull(), null(col.name)))
        branches += [(test(value), reason) for reason, test in _bound_rules(col)]
        if col.allowed:
            branches.append((~one_of(value, col.allowed), f"unknown {col.name}"))
        if col.not_future:
            branches.append(
                (value > (now_date if col.dtype == "date" else now_ts), f"{col.name} in the future")
            )
    if not branches:
        return ibis.null("string")
    return ibis.cases(*branches, else_=ibis.null("string"))


def _reject_where(t: ir.Table, condition: ir.BooleanValue, reason: str) -> ir.Table:
    """Give ``reason`` to the rows that have none yet and meet ``condition`` (behind a
    :func:`~shopbook.data.validation._common.fence`: the next rule reads the column)."""
    return fence(t.mutate(**{_REASON: ibis.cases((t[_OK] & condition, reason), else_=t[_REASON])}))


def _with_ok(t: ir.Table) -> ir.Table:
    return t.mutate(**{_OK: t[_REASON].isnull()})


def _row_rules(t: ir.Table, contract: Table, present: list[str]) -> ir.Table:
    """Reject passing rows that break a rule across their columns (``Table.row_rules``).

    A rule whose columns are not all in the source is not checked; a null in a nullable
    column makes the test null, and the row passes.
    """
    for rr in contract.row_rules:
        if not all(c in present for c in rr.columns):
            continue
        t = _with_ok(t)
        t = _reject_where(t, rr.test(*[t[c] for c in rr.columns]), rr.reason)
    return t


def _group_rules(t: ir.Table, contract: Table, present: list[str]) -> ir.Table:
    """Reject every row of a group whose passing rows disagree on the rest of the key."""
    for cols, reason in contract.unique_groups:
        rest = [c for c in contract.primary_key if c not in cols] or [
            c for c in present if c not in cols
        ]
        t = _with_ok(t)
        window = ibis.window(group_by=[*cols, _OK])
        disagree = ibis.or_(*[t[c].min().over(window) != t[c].max().over(window) for c in rest])
        t = _reject_where(t, disagree, reason)
    return t


def _duplicate_rule(
    t: ir.Table,
    contract: Table,
    present: list[str],
    typed: ir.Table | None = None,
    repeatable: ir.Table | None = None,
) -> ir.Table:
    """Keep the first passing row of each primary key, reject the later ones.

    A table whose keys do not repeat (the usual case) is left as it is, after one small
    query (:func:`_repeated_keys`) over ``typed`` (default ``t``): the typed columns before the
    rules, whose key values are those of ``t``, a smaller expression for ibis to compile.
    ``repeatable``: the only keys that may repeat, when the source knows them
    (:attr:`Source.repeatable <shopbook.data.sources.Source>`); then they are the keys
    the rule looks at, and no query counts every row's key.
    Otherwise those keys (a table of constants; when there are very many, the engine's
    table of them; where the engine cannot hold one, the keys that repeat among the
    passing rows, found with a ``GROUP BY``) are joined to the rows, and only the rows of
    those keys are numbered (a window over few rows); every other
    row goes through untouched. Numbering every row instead — a window over the whole
    table, which sorts every row with all its columns — took two thirds of the
    validation of 10 M order lines with 1 % of them repeated (order_items: 16.7 s of
    24 s). Keys with a null part cannot be passing rows (key columns are not nullable); a
    key that could be null would be numbered over all rows (nulls equal, as in a window).
    """
    key = list(contract.primary_key)
    if not key:
        return t
    typed = t if typed is None else typed
    order = [c for c in present if c not in key] or key
    if not all(c in present and not contract[c].nullable for c in key):
        if not _repeats(typed, key):
            return t
        t = _with_ok(t)
        window = ibis.window(group_by=[*key, _OK], order_by=order)
        return _reject_where(t, ibis.row_number().over(window) > 0, contract.key_reason)
    found = _repeated_keys(typed, key, repeatable)
    if isinstance(found, pd.DataFrame) and not len(found):
        return t
    t = _with_ok(t)
    names = [f"__dk{i}" for i in range(len(key))]
    if isinstance(found, pd.DataFrame):  # few: a table of constants
        schema = ibis.schema({n: t[c].type() for n, c in zip(names, key, strict=True)})
        repeated = ibis.memtable(found.set_axis(names, axis=1), schema=schema)
        repeated = repeated.mutate(__dup=ibis.literal(True))
    elif found is not None:  # many: the keys as the engine holds them
        repeated = found.select(
            **{n: found[c] for n, c in zip(names, key, strict=True)}, __dup=ibis.literal(True)
        )
    else:
        # Counted over all rows, the passing ones only: the aggregate reads ``t`` itself
        # (a filtered ``t`` would be a query of its own), so that ibis writes ``t`` once,
        # as a common table expression the engine computes once for its three readers.
        repeated = (
            t.group_by(**{n: t[c] for n, c in zip(names, key, strict=True)})
            .aggregate(__n=t[_OK].sum())
            .filter(ibis._.__n > 1)
            .select(*names, __dup=ibis.literal(True))
        )
    same = [t[c] == repeated[n] for n, c in zip(names, key, strict=True)]
    marked = t.left_join(repeated, same).select(*[t[c] for c in t.columns], repeated["__dup"])
    rest = marked.filter(~(marked[_OK] & marked["__dup"].notnull())).drop("__dup")
    # ``view()``s: read by two joins, ``t`` and the keys each get a second reference of
    # their own, so that ibis writes them once (common table expressions) instead of twice
    rows, again = t.view(), repeated.view()
    group = rows.semi_join(again, [rows[c] == again[n] for n, c in zip(names, key, strict=True)])
    group = group.filter(group[_OK])
    later = ibis.row_number().over(ibis.window(group_by=key, order_by=order)) > 0
    group = group.mutate(
        **{_REASON: ibis.cases((later, contract.key_reason), else_=group[_REASON])}
    )
    return fence(rest.union(group.select(*rest.columns)))


#: At most this many repeated keys are read back from the engine and joined to the rows
#: as a table of constants; when there are more, the checks find them again.
MAX_REPEATED_KEYS = 100_000


def _repeated_keys(
    t: ir.Table, key: list[str], repeatable: ir.Table | None = None
) -> pd.DataFrame | ir.Table | None:
    """The keys without nulls that occur on two rows or more: a frame when there are at
    most :data:`MAX_REPEATED_KEYS` (and the key columns are text or integers), else a
    table the engine holds; ``None`` when the engine cannot hold one (the rule then finds
    the keys in its own query).

    ``repeatable`` (text key columns, those of ``t`` text too): the only keys that may
    repeat, which the source knows (lines its mapping combined; some may not repeat
    after all, which the rule finds); they are read instead of counting every key (5 M
    combined lines: that query was 0.8–1.3 s of the lines' validation).

    Otherwise one aggregate query over the typed key columns only (the engine computes
    nothing else), materialised. A table without repeated keys — the usual case — then
    skips the duplicate rule; otherwise the rule numbers the rows of these keys only.
    Counted over all rows: a key repeated among the passing rows is among them.
    (Measured on 10 M clean order lines, this query is cheaper than finding the repeated
    keys inside the checks, which makes the engine keep the checked rows for a second
    reader; with 1 % of the lines repeated, it also saves the checks that second
    aggregate. With more keys than the limit — 100 M lines, 1 % repeated — the
    materialised keys are what the rule joins, rather than a second aggregate of every
    row: 10 M lines with the limit at 1,000, 12.3 s instead of 14.4 s.)
    """
    text = all(t[c].type().is_string() for c in key)
    if repeatable is not None and text and set(key) <= set(repeatable.columns):
        source = repeatable.select(*key)
        held: ir.Table | None = source
    else:
        repeats = t.group_by(key).aggregate(__n=ibis._.count()).filter(ibis._.__n > 1).select(*key)
        try:
            held = repeats.cache()
        except Exception:  # e.g. a read-only warehouse user may not create temporary tables
            held = None
        source = held if held is not None else repeats
    # keys with a null part dropped after the aggregate (a filter on them in the query is
    # pushed down into the typed columns and made it six times slower). They count towards
    # the limit: more than it, nulls or not, and the list may be cut short (100 M lines
    # with 1 % broken: 100,002 rows, some hundreds with a null part, left a list of 99,802
    # of the 100,909 repeated lines' keys), so more rows than the limit mean many.
    found = source.limit(MAX_REPEATED_KEYS + 1).execute()
    constants = all(t[c].type().is_string() or t[c].type().is_integer() for c in key)
    if len(found) <= MAX_REPEATED_KEYS and constants:
        return found.dropna().reset_index(drop=True)
    if held is None:
        return None
    return held.filter(*[held[c].notnull() for c in key])


def _repeats(t: ir.Table, key: list[str]) -> bool:
    """Whether some key occurs on two rows (nulls equal, as in a window's partition)."""
    most = t.group_by(key).aggregate(__n=ibis._.count()).__n.max().execute()
    return bool(most is not None and most == most and most > 1)


def _foreign_key_rules(
    t: ir.Table,
    contract: Table,
    done: Mapping[str, _Checked],
    health: Mapping[str, TableHealth],
    warnings: list[str],
) -> ir.Table:
    """Reject passing rows whose reference is not among the referenced table's kept rows.

    ``done`` holds the referenced tables already checked; a reference to a table that is
    not among them (not in the source) is not checked.
    """
    for fk in contract.foreign_keys:
        if fk.ref_table not in done:
            continue
        if health[fk.ref_table].kept == 0:
            warnings.append(
                f"no {fk.ref_table} row was kept: {contract.name} rows referring to "
                f"{fk.ref_table} are rejected as {fk.reason!r}"
            )
        checked = done[fk.ref_table].rows
        ref = checked.filter(checked[_REASON].isnull())
        keys = (
            ref.select(**{f"__fk{i}": ref[c] for i, c in enumerate(fk.ref_columns)})
            .distinct()
            .mutate(__fk_found=ibis.literal(True))
        )
        t = _with_ok(t)
        joined = t.left_join(keys, [t[c] == keys[f"__fk{i}"] for i, c in enumerate(fk.columns)])
        t = joined.select(*[t[c] for c in t.columns], keys["__fk_found"])
        referenced = ibis.and_(*[t[c].notnull() for c in fk.columns])
        t = _reject_where(t, referenced & t["__fk_found"].isnull(), fk.reason).drop("__fk_found")
    return t
