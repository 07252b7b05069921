"""Validate a source against the data contract — in the engine, losing nothing.

:func:`validate` reads every row of every contract table in a source and either keeps it,
typed as :mod:`shopbook.data.contract` declares, or rejects it with exactly one reason.
For every table ``read == kept + rejected``. The rules are compiled from the contract
into ibis expressions, so they run where the data lives (DuckDB by default, or Postgres,
Spark…): a ``reason`` column is built with casts, ``CASE`` expressions, window functions
and joins, the result is materialised once per table (``Table.cache()``, a temporary
table), and everything the report shows is counted from it with group-bys. No table is
pulled into pandas.

Reading values
--------------
Source columns that already have the contract type are used as they are. Others are
coerced; a value that is present but cannot be read rejects its row as
``unparseable <column>``:

* text → number: decimal text, surrounding blanks ignored (``" 12.50 "``); ``nan`` and
  ``inf`` are unreadable. An ``int64`` column also rejects fractions (``"2.5"``).
* text → timestamp / date: ISO 8601 — ``2024-01-02``, ``2024-01-02 10:00:00``,
  ``2024-01-02T10:00:00``, with optional fractional seconds; a value with a UTC offset
  (``…Z``, ``…+08:00``) is converted to UTC. Time-zone aware columns are converted to
  naive UTC.
* text → bool: ``true/false``, ``1/0``, ``yes/no`` in any case; integers 1/0.
* any → string: blanks are trimmed and blank text counts as missing; values of a column
  with allowed values are matched case-insensitively (``"PAID"`` is kept as ``"paid"``).
* float → int64: whole numbers only. NaN in a float column means "missing".

Rule order
----------
A rejected row gets the reason of the **first** rule it fails, in this order
(:func:`rules` lists them for a table):

1. Column rules, column by column in contract order; for each column:

   a. ``unparseable <column>`` — present but not readable as the column's type;
   b. ``null <column>`` — missing in a non-nullable column;
   c. bounds: ``non-positive <column>`` (``gt=0``), ``negative <column>`` (``ge=0``),
      ``<column> below <n>`` (other ``ge``), ``<column> not above <n>`` (other ``gt``);
   d. ``unknown <column>`` — not one of the allowed values;
   e. ``<column> in the future`` — later than ``now``.

2. Group rules (``Table.unique_groups``), e.g. ``unit in two variants``: every row of an
   experiment × unit whose rows name more than one variant.
3. Duplicate keys (``Table.key_reason``, e.g. ``duplicate order_id``): of the rows with
   the same primary key the first is kept and later ones rejected. "First" is the order
   of the remaining contract columns, which is deterministic on every engine (for
   orders: the earliest ``order_ts``).
4. Foreign keys (``Table.foreign_keys``), e.g. ``orphan order_item``: the key is not
   among the **kept** rows of the referenced table. Checked whenever the referenced table
   is in the source — even when it is empty or all its rows were rejected (a warning
   says so) — and skipped when it is not (``unknown customer_id`` needs a customers
   table). A null in a nullable reference passes.

Rules 2–4 only look at rows that passed the rules before them, so a duplicate of an
invalid row is not counted against the valid one.

Structural problems
-------------------
Problems no row-level reject can express raise :class:`~shopbook.errors.ContractError`,
with every problem found (one :class:`~shopbook.errors.Problem` each):

* a table in ``require`` that is missing, or empty;
* a required column that is missing;
* a column whose type cannot be converted at all (e.g. integers for a timestamp);
* an **uncoercible** column: more than half of its present values cannot be read. Such
  a column is the wrong column or in the wrong format, not a column with a few bad
  values; half or fewer are row rejects (``unparseable <column>``);
* a ``one_value`` column (``orders.currency``) holding more than one value;
* with ``strict=True``: any rejected row (one problem per table and reason).

An empty table nobody required, an optional column that is absent, or a reference that
cannot be checked are :attr:`ValidationReport.warnings`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.data.contract import IBIS_DTYPES, TABLES, Column, Table
from shopbook.data.contract import table as contract_table
from shopbook.data.sources import Source, open_source
from shopbook.errors import ContractError, Problem

__all__ = ["TableHealth", "ValidationReport", "rules", "validate"]

#: Text accepted for booleans (compared case-insensitively, blanks trimmed).
TRUE_TEXT = ("true", "1", "yes")
FALSE_TEXT = ("false", "0", "no")

#: Share of a column's present values that may be unreadable before the column, not
#: the rows, is the problem.
UNCOERCIBLE_SHARE = 0.5

# Working columns of the checked table. Contract names never start with "__".
_REASON = "__reason"
_OK = "__ok"
_RAW = "__raw_"  # + column: the source text of a value that could not be read

_FORMATS = {
    "int64": "whole numbers, e.g. 3",
    "float64": "decimal numbers, e.g. 12.50",
    "bool": "true/false, 1/0 or yes/no",
    "timestamp": "ISO timestamps, e.g. 2024-01-02 10:00:00 or 2024-01-02T10:00:00",
    "date": "ISO dates, e.g. 2024-01-02",
    "string": "text",
}


# ---------------------------------------------------------------------------------------
# The report


@dataclass
class TableHealth:
    """Rows read, kept and rejected for one table.

    Attributes
    ----------
    name
        Contract table name.
    read, kept, rejected
        Row counts; ``read == kept + rejected``.
    reasons
        ``{reason: rows}`` for the rejected rows, largest first; sums to ``rejected``.
    """

    name: str
    read: int
    kept: int
    rejected: int
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass
class _Checked:
    """One validated table: the materialised rows with their reason (``None`` = kept)."""

    contract: Table
    present: list[str]  # contract columns found in the source, contract order
    raw_kept: list[str]  # columns whose unreadable source text is kept in __raw_<column>
    rows: ir.Table  # present columns typed, __raw_<column>…, __reason


class ValidationReport:
    """What :func:`validate` found: per-table health, kept rows and rejected rows.

    Attributes
    ----------
    source
        The :class:`~shopbook.data.sources.Source` that was validated.
    tables
        ``{table: TableHealth}`` for every validated table, in contract order.
    warnings
        Non-structural notes (an optional table is empty, an optional column is absent…).
    now
        The time future timestamps were checked against (naive UTC).
    """

    def __init__(
        self,
        source: Source,
        checked: dict[str, _Checked],
        tables: dict[str, TableHealth],
        warnings: list[str],
        now: dt.datetime,
    ) -> None:
        self.source = source
        self.tables = tables
        self.warnings = warnings
        self.now = now
        self._checked = checked

    def __repr__(self) -> str:
        parts = ", ".join(f"{h.name} {h.kept}/{h.read}" for h in self.tables.values())
        return f"ValidationReport({self.source.uri!r}: {parts or 'no tables'})"

    def _get(self, name: str) -> _Checked:
        try:
            return self._checked[name]
        except KeyError:
            raise ContractError(
                table=name,
                expected=f"table {name!r} among the validated tables",
                found="tables " + (", ".join(self._checked) or "(none)"),
                fix=f"add {name} to the source, or use a report that does not need it",
            ) from None

    def kept(self, name: str) -> ir.Table:
        """The rows of ``name`` that passed every rule, typed per contract.

        Returns
        -------
        ibis.Table
            All contract columns in contract order, with contract types; an optional
            column absent from the source is a typed all-null column.
        """
        chk = self._get(name)
        rows = chk.rows
        columns = [
            (rows[c.name] if c.name in chk.present else ibis.null())
            .cast(IBIS_DTYPES[c.dtype])
            .name(c.name)
            for c in chk.contract.columns
        ]
        return rows.filter(rows[_REASON].isnull()).select(*columns)

    def rejects(self, name: str) -> ir.Table:
        """The rejected rows of ``name``, one reason each.

        Returns
        -------
        ibis.Table
            The contract columns present in the source, as text (a value that could not
            be read shows its source text), and ``reason``.
        """
        chk = self._get(name)
        rows = chk.rows
        columns = []
        for c in chk.present:
            as_text = rows[c].cast("string")
            if c in chk.raw_kept:
                as_text = ibis.coalesce(rows[_RAW + c], as_text)
            columns.append(as_text.name(c))
        return rows.filter(rows[_REASON].notnull()).select(*columns, reason=rows[_REASON])

    def fingerprint(self) -> dict[str, int]:
        """``{table: rows read}``, for run summaries."""
        return {name: h.read for name, h in self.tables.items()}

    def health_table(self) -> pd.DataFrame:
        """The data-health table.

        Returns
        -------
        pandas.DataFrame
            Columns ``table, read, kept, rejected, reason, rows``. Per table, in contract
            order: first its total row (``reason == ""``, ``rows == read``), then one row
            per reject reason (``rows`` = rows rejected for it, largest first; these sum
            to ``rejected``).
        """
        records = []
        for h in self.tables.values():
            base = {"table": h.name, "read": h.read, "kept": h.kept, "rejected": h.rejected}
            records.append({**base, "reason": "", "rows": h.read})
            records.extend({**base, "reason": r, "rows": n} for r, n in h.reasons.items())
        columns = ["table", "read", "kept", "rejected", "reason", "rows"]
        frame = pd.DataFrame.from_records(records, columns=columns)
        return frame.astype({c: "int64" for c in ("read", "kept", "rejected", "rows")})

    def to_text(self) -> str:
        """The health table for a terminal: one line per table, reasons indented below."""
        header = ("table", "read", "kept", "rejected")
        lines: list[tuple[str, str, str, str]] = []
        for h in self.tables.values():
            lines.append((h.name, f"{h.read:,}", f"{h.kept:,}", f"{h.rejected:,}"))
            lines.extend((f"  {r}", "", "", f"{n:,}") for r, n in h.reasons.items())
        widths = [max(len(row[i]) for row in [header, *lines]) for i in range(4)]

        def fmt(row: tuple[str, str, str, str]) -> str:
            first = row[0].ljust(widths[0])
            rest = "  ".join(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True))
            return f"{first}  {rest}".rstrip()

        title = f"data health: {self.source.uri or self.source.backend}"
        if not lines:
            return f"{title}\n(no contract tables in the source)"
        return "\n".join([title, fmt(header), *(fmt(row) for row in lines)])


# ---------------------------------------------------------------------------------------
# Entry point


def validate(
    source: Any = None,
    strict: bool = False,
    require: Iterable[str] = (),
    now: dt.datetime | dt.date | str | None = None,
    mapping: Any = None,
    *,
    tables: Iterable[str] | None = None,
) -> ValidationReport:
    """Check a source against the contract; keep passing rows, reject the rest with a reason.

    Parameters
    ----------
    source
        Anything :func:`~shopbook.data.sources.open_source` accepts (``None``: the default
        source), or an open :class:`~shopbook.data.sources.Source`.
    strict
        Raise on any rejected row (one problem per table and reason).
    require
        Tables the caller needs; a missing or empty one is a structural problem.
    now
        The present for ``… in the future`` checks; default: the current UTC time.
        Time-zone aware values are converted to UTC.
    mapping
        Column mapping passed to ``open_source`` (not allowed with an open ``Source``).
    tables
        Validate only these tables (plus the present tables they reference, so that
        foreign keys are checked); default: every contract table in the source.

    Returns
    -------
    ValidationReport

    Raises
    ------
    ContractError
        With every structural problem found (see the module docstring), or with
        ``strict=True`` for rejected rows.
    """
    if isinstance(source, Source) and mapping is not None:
        raise ValueError("mapping applies when a source is opened: pass it to open_source()")
    src = open_source(source, mapping=mapping)
    present = src.tables()
    required = (require,) if isinstance(require, str) else tuple(require)
    if tables is not None:  # a required table is always checked (it may be empty)
        tables = {tables} if isinstance(tables, str) else set(tables)
        tables |= {name for name in required if name in TABLES}
    names = _tables_to_check(present, tables)
    now = _as_utc_naive(now)

    problems: list[Problem] = _missing_required(required, present)
    warnings: list[str] = []
    checked: dict[str, _Checked] = {}
    health: dict[str, TableHealth] = {}
    # Referenced tables come first (contract order), so a foreign key is checked
    # against the kept rows of a table already done. Tables with structural problems
    # are still counted: all problems are reported together.
    for name in names:
        chk, found = _check_table(src, TABLES[name], now, checked, health, warnings)
        problems.extend(found)
        if chk is None:
            continue
        checked[name] = chk
        health[name], found = _count(chk)
        problems.extend(found)
        if health[name].read == 0:
            if name in required:
                problems.append(
                    Problem(
                        name,
                        None,
                        "at least one row (a report needs this table)",
                        "an empty table",
                        f"load the {name} rows into the source, or run a report that does not need {name}",
                    )
                )
            else:
                warnings.append(f"{name} is empty: sections that need it will be skipped")
    if problems:
        raise ContractError(problems=problems)

    report = ValidationReport(src, checked, health, warnings, now)
    if strict:
        strict_problems = _strict_problems(health)
        if strict_problems:
            error = ContractError(problems=strict_problems)
            error.report = report  # type: ignore[attr-defined]  # for the curious caller
            raise error
    return report


def rules(name: str) -> list[tuple[str, str | None]]:
    """The reject reasons of table ``name``, in the order they are applied.

    Returns
    -------
    list of (reason, column)
        ``column`` is the column the rule is about, ``None`` for table rules.
    """
    contract = TABLES[name]
    out = [(reason, col.name) for col in contract.columns for reason in _column_reasons(col)]
    out += [(reason, None) for _, reason in contract.unique_groups]
    if contract.primary_key:
        out.append((contract.key_reason, None))
    out += [
        (fk.reason, fk.columns[0] if len(fk.columns) == 1 else None) for fk in contract.foreign_keys
    ]
    return out


# ---------------------------------------------------------------------------------------
# Which tables


def _tables_to_check(present: list[str], tables: Iterable[str] | None) -> list[str]:
    """Present tables to validate, in contract (dependency) order."""
    if tables is None:
        return list(present)
    wanted = {tables} if isinstance(tables, str) else set(tables)
    for name in wanted:
        contract_table(name, fix="correct the table name")
    # Close over references: a foreign key is checked against the referenced kept rows.
    todo = list(wanted)
    while todo:
        for fk in TABLES[todo.pop()].foreign_keys:
            if fk.ref_table not in wanted:
                wanted.add(fk.ref_table)
                todo.append(fk.ref_table)
    return [t for t in present if t in wanted]


def _missing_required(required: tuple[str, ...], present: list[str]) -> list[Problem]:
    problems = []
    for name in required:
        if name not in TABLES:
            problems.append(
                Problem(
                    str(name),
                    None,
                    "a contract table name (" + ", ".join(TABLES) + ")",
                    repr(name),
                    "correct the table name in the list of required tables",
                )
            )
        elif name not in present:
            problems.append(
                Problem(
                    name,
                    None,
                    f"table {name} in the source (a report needs it)",
                    "tables " + (", ".join(present) or "(none)"),
                    f"add {name} to the source (or name it in the column mapping: "
                    f"`{name}: {{table: <your table>}}`), or run a report that does not need it",
                )
            )
    return problems


# ---------------------------------------------------------------------------------------
# Reading values: source column → contract type


class _Incompatible(Exception):
    """The source column's type cannot be converted to the contract type at all."""


@dataclass
class _Coerced:
    """A source column read as its contract type.

    ``typed`` is null where the value is missing or unreadable; ``bad`` (``None`` when a
    value can never be unreadable) is true where a value is present but unreadable.
    """

    typed: ir.Value
    bad: ir.BooleanValue | None = None


def _text(value: ir.StringValue) -> ir.StringValue:
    """Trimmed text, blank as null."""
    return value.strip().nullif("")


def _no_nan(value: ir.Value) -> ir.Value:
    """NaN (a float's "missing") as null."""
    if value.type().is_floating():
        return ibis.cases((value.isnan(), ibis.null(value.type())), else_=value)
    return value


def _whole(number: ir.NumericValue) -> ir.IntegerValue:
    """An int64 where ``number`` is a finite whole number in range, else null."""
    x = number.cast("float64")
    whole = x.notnull() & ~x.isinf() & ~x.isnan() & (x == x.floor())
    return ibis.cases((whole, x.try_cast("int64")), else_=ibis.null("int64"))


def _parse_text(text: ir.StringValue, dtype: str) -> ir.Value:
    """Parse trimmed, non-blank text as contract type ``dtype`` (null where unreadable)."""
    if dtype == "float64":
        x = text.try_cast("float64")
        return ibis.cases((x.isnan() | x.isinf(), ibis.null("float64")), else_=x)
    if dtype == "int64":
        # "2.5" must not round to 3, and "3.0" / "1e3" are whole numbers: parse as
        # float to test wholeness, take the integer from the exact integer parse.
        x = text.try_cast("float64")
        exact = text.try_cast("int64")
        whole = ~x.isinf() & ~x.isnan() & (x == x.floor())
        return ibis.cases(
            (whole, ibis.coalesce(exact, x.try_cast("int64"))), else_=ibis.null("int64")
        )
    if dtype == "bool":
        lower = text.lower()
        return ibis.cases(
            (lower.isin(TRUE_TEXT), True),
            (lower.isin(FALSE_TEXT), False),
            else_=ibis.null("boolean"),
        )
    if dtype in ("timestamp", "date"):
        # Through a time-zone aware parse: text with an offset is converted to UTC,
        # text without one is read as UTC (ibis sessions run in UTC).
        ts = text.try_cast("timestamp('UTC')").cast("timestamp")
        return ts.date() if dtype == "date" else ts
    raise AssertionError(dtype)  # pragma: no cover - every contract dtype is handled


def _coerce(raw: ir.Value, column: Column) -> _Coerced:
    """Read source column ``raw`` as ``column``'s contract type.

    Raises
    ------
    _Incompatible
        When no conversion from the source type exists.
    """
    src = raw.type()
    want = column.dtype
    target = IBIS_DTYPES[want]
    if src.is_null():
        return _Coerced(ibis.null(target))
    if want == "string":
        return _Coerced(_as_string(raw, column))
    if src.is_string():
        text = _text(raw)
        typed = _parse_text(text, want)
        return _Coerced(typed, text.notnull() & typed.isnull())

    value = _no_nan(raw)
    numeric = src.is_integer() or src.is_floating() or src.is_decimal()
    if want == "float64" and numeric:
        if src.is_floating():
            return _Coerced(
                ibis.cases((value.isinf(), ibis.null("float64")), else_=value).cast("float64"),
                value.isinf(),
            )
        return _Coerced(value.cast("float64"))
    if want == "int64" and src.is_integer():
        return _Coerced(value.cast("int64"))
    if want == "int64" and numeric:
        typed = _whole(value)
        return _Coerced(typed, value.notnull() & typed.isnull())
    if want == "bool" and src.is_boolean():
        return _Coerced(value)
    if want == "bool" and numeric:
        typed = ibis.cases((value == 1, True), (value == 0, False), else_=ibis.null("boolean"))
        return _Coerced(typed, value.notnull() & typed.isnull())
    if want == "timestamp" and (src.is_timestamp() or src.is_date()):
        return _Coerced(value.cast("timestamp"))
    if want == "date" and src.is_date():
        return _Coerced(value)
    if want == "date" and src.is_timestamp():
        return _Coerced(value.cast("timestamp").date())
    raise _Incompatible(str(src))


def _as_string(raw: ir.Value, column: Column) -> ir.StringValue:
    """Any column as trimmed text (blank → null); allowed values matched case-insensitively."""
    src = raw.type()
    if src.is_string():
        text = _text(raw)
    elif src.is_floating() or src.is_decimal():
        # ids stored as floats (pandas does that to integer columns with gaps): 123.0 → "123"
        whole = _whole(raw)
        text = ibis.coalesce(whole.cast("string"), _no_nan(raw).cast("string"))
    else:
        text = raw.cast("string")
    if column.allowed:
        lower = text.lower()
        text = ibis.cases(*[(lower == a.lower(), a) for a in column.allowed], else_=text)
    return text


# ---------------------------------------------------------------------------------------
# Rules


def _column_reasons(col: Column) -> list[str]:
    """The reasons a column can reject a row for, in the order they are tested."""
    out = [f"unparseable {col.name}"] if col.dtype != "string" else []
    if not col.nullable:
        out.append(f"null {col.name}")
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
    """The first column rule each row of ``t`` (typed columns, ``__raw_…``) fails, or null."""
    now_ts = ibis.literal(now, type="timestamp")
    now_date = ibis.literal(now.date(), type="date")
    branches: list[tuple[ir.BooleanValue, str]] = []
    for col in contract.columns:
        if col.name not in present:
            continue  # absent optional column: all null, and nullable by contract
        value = t[col.name]
        if _RAW + col.name in t.columns:
            branches.append((t[_RAW + col.name].notnull(), f"unparseable {col.name}"))
        if not col.nullable:
            branches.append((value.isnull(), f"null {col.name}"))
        branches += [(test(value), reason) for reason, test in _bound_rules(col)]
        if col.allowed:
            branches.append((value.notin(col.allowed), f"unknown {col.name}"))
        if col.not_future:
            branches.append(
                (value > (now_date if col.dtype == "date" else now_ts), f"{col.name} in the future")
            )
    if not branches:
        return ibis.null("string")
    return ibis.cases(*branches, else_=ibis.null("string"))


def _reject_where(t: ir.Table, condition: ir.BooleanValue, reason: str) -> ir.Table:
    """Give ``reason`` to the rows that have none yet and meet ``condition``."""
    return t.mutate(**{_REASON: ibis.cases((t[_OK] & condition, reason), else_=t[_REASON])})


def _with_ok(t: ir.Table) -> ir.Table:
    return t.mutate(**{_OK: t[_REASON].isnull()})


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


def _duplicate_rule(t: ir.Table, contract: Table, present: list[str]) -> ir.Table:
    """Keep the first passing row of each primary key, reject the later ones."""
    key = list(contract.primary_key)
    if not key:
        return t
    t = _with_ok(t)
    order = [c for c in present if c not in key] or key
    window = ibis.window(group_by=[*key, _OK], order_by=order)
    return _reject_where(t, ibis.row_number().over(window) > 0, contract.key_reason)


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


def _check_table(
    src: Source,
    contract: Table,
    now: dt.datetime,
    done: Mapping[str, _Checked],
    health: Mapping[str, TableHealth],
    warnings: list[str],
) -> tuple[_Checked | None, list[Problem]]:
    """Compile and materialise the rules of one table.

    Returns the checked table (``None`` when its columns make that impossible) and the
    structural problems seen before running anything (missing/incompatible columns).
    """
    name = contract.name
    raw = src.table(name)
    problems: list[Problem] = []
    present = [c.name for c in contract.columns if c.name in raw.columns]

    missing = [c for c in contract.required_columns if c not in raw.columns]
    for col in missing:
        problems.append(
            Problem(
                name,
                col,
                f"a {contract[col].dtype} column {col!r} ({contract[col].description})",
                "no such column; the table has " + _listing(raw.columns),
                f"add {col} to {name}, or map the source column that holds it "
                f"(mapping: `{name}: {{columns: {{<your column>: {col}}}}}`)",
            )
        )
    absent = [c.name for c in contract.columns if not c.required and c.name not in raw.columns]
    if absent:
        warnings.append(
            f"{name}: optional column{'s' if len(absent) > 1 else ''} "
            f"{', '.join(absent)} not in the source (left empty)"
        )

    typed: dict[str, ir.Value] = {}
    for col in present:
        try:
            coerced = _coerce(raw[col], contract[col])
        except _Incompatible as exc:
            dtype = contract[col].dtype
            problems.append(
                Problem(
                    name,
                    col,
                    f"{dtype} values ({_FORMATS[dtype]})",
                    f"a column of type {exc}",
                    f"store {col} as {dtype} (or as text in that format), or map the right "
                    f"source column to {col}",
                )
            )
            continue
        typed[col] = coerced.typed.cast(IBIS_DTYPES[contract[col].dtype])
        if coerced.bad is not None:
            text = raw[col].cast("string")
            typed[_RAW + col] = ibis.cases((coerced.bad, text), else_=ibis.null("string"))
    if problems:
        return None, problems

    raw_kept = [c for c in present if _RAW + c in typed]
    t = raw.select(**typed)
    t = t.mutate(**{_REASON: _row_reason(t, contract, present, now)})
    t = _group_rules(t, contract, present)
    t = _duplicate_rule(t, contract, present)
    t = _foreign_key_rules(t, contract, done, health, warnings)
    t = t.select(*present, *[_RAW + c for c in raw_kept], _REASON)
    return _Checked(contract, present, raw_kept, _materialise(t, name, warnings)), []


def _materialise(t: ir.Table, name: str, warnings: list[str]) -> ir.Table:
    """Compute the checked rows once, into a temporary table of the engine."""
    try:
        return t.cache()
    except Exception as exc:  # e.g. a read-only warehouse user may not create temp tables
        warnings.append(
            f"{name}: could not cache the checked rows ({type(exc).__name__}); "
            "each query recomputes them"
        )
        return t


# ---------------------------------------------------------------------------------------
# Counting and structural checks on the checked rows


def _count(chk: _Checked) -> tuple[TableHealth, list[Problem]]:
    """Rows per reason, and the column problems only counts reveal — one engine query.

    The problems are uncoercible columns (too many unreadable values) and ``one_value``
    columns holding more than one value.
    """
    rows, contract, name = chk.rows, chk.contract, chk.contract.name
    one_value = [c for c in contract.one_value if c in chk.present]
    metrics: dict[str, ir.Scalar] = {"rows": rows.count()}
    for i, col in enumerate(chk.raw_kept):
        metrics[f"ok{i}"] = rows[col].count()
        metrics[f"bad{i}"] = rows[_RAW + col].count()
        metrics[f"eg{i}"] = rows[_RAW + col].min()
    for i, col in enumerate(one_value):
        metrics[f"lo{i}"] = rows[col].min()
        metrics[f"hi{i}"] = rows[col].max()
    by_reason = rows.group_by(reason=rows[_REASON]).aggregate(**metrics).execute()

    rejected_rows = by_reason[by_reason["reason"].notna()].sort_values(
        ["rows", "reason"], ascending=[False, True]
    )
    reasons = {
        str(r): int(n) for r, n in zip(rejected_rows["reason"], rejected_rows["rows"], strict=True)
    }
    kept = int(by_reason.loc[by_reason["reason"].isna(), "rows"].sum())
    rejected = sum(reasons.values())
    health = TableHealth(name, kept + rejected, kept, rejected, reasons)

    problems = []
    for i, col in enumerate(chk.raw_kept):
        ok, bad = int(by_reason[f"ok{i}"].sum()), int(by_reason[f"bad{i}"].sum())
        if bad > UNCOERCIBLE_SHARE * (ok + bad):
            dtype = contract[col].dtype
            problems.append(
                Problem(
                    name,
                    col,
                    f"{dtype} values ({_FORMATS[dtype]})",
                    f"{bad:,} of {ok + bad:,} values unreadable, e.g. {by_reason[f'eg{i}'].dropna().min()!r}",
                    f"write {col} as {_FORMATS[dtype]}; or, if another source column holds "
                    f"the {col} values, map that one to {col}",
                )
            )
    for i, col in enumerate(one_value):
        lowest, highest = by_reason[f"lo{i}"].dropna(), by_reason[f"hi{i}"].dropna()
        if len(lowest) and lowest.min() != highest.max():
            problems.append(_several_values(chk, col))
    return health, problems


def _several_values(chk: _Checked, col: str) -> Problem:
    """The problem of a ``one_value`` column that holds several values."""
    rows, name = chk.rows, chk.contract.name
    n = int(rows[col].nunique().execute())
    values = rows.select(rows[col]).filter(rows[col].notnull()).distinct().order_by(col).limit(5)
    shown = ", ".join(str(v) for v in values.execute()[col]) + (", …" if n > 5 else "")
    return Problem(
        name,
        col,
        f"one {col} for the whole table",
        f"{n} values: {shown}",
        f"convert the amounts to one {col} before loading, or use one source per {col}",
    )


def _strict_problems(health: Mapping[str, TableHealth]) -> list[Problem]:
    column_of = {name: {reason: col for reason, col in rules(name)} for name in health}
    problems = []
    for name, h in health.items():
        for reason, n in h.reasons.items():
            problems.append(
                Problem(
                    name,
                    column_of[name].get(reason),
                    "no rejected rows (strict mode)",
                    f"{n:,} row{'s' if n != 1 else ''} rejected for {reason!r}",
                    "correct or remove these rows in the source (validate without strict "
                    "to list them with rejects()), or run without strict",
                )
            )
    return problems


# ---------------------------------------------------------------------------------------
# Small helpers


def _as_utc_naive(now: dt.datetime | dt.date | str | None) -> dt.datetime:
    """``now`` as a naive UTC datetime (default: the current time)."""
    if now is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    stamp = pd.Timestamp(now)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def _listing(names: Iterable[str], limit: int = 12) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return (
        shown + (f", … ({len(names)} in all)" if len(names) > limit else "") if names else "(none)"
    )
