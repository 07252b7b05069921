"""The entry point: :func:`validate`, and which tables it checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from shopbook.data.contract import TABLES
from shopbook.data.contract import table as contract_table
from shopbook.data.sources import Source, open_source
from shopbook.data.validation import shared
from shopbook.data.validation._common import _as_utc_naive
from shopbook.data.validation.check import _check_table, _count, _strict_problems
from shopbook.data.validation.consistency import _line_total_warnings, _row_rule_warnings
from shopbook.data.validation.report import TableHealth, ValidationReport, _Checked
from shopbook.data.validation.stamps import ZONE_NAMES, Zones
from shopbook.errors import ContractError, Problem


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
    saved = shared.find(src, names, now)  # the run's checks of these tables, if saved
    now = saved.now if saved is not None else _as_utc_naive(now)
    zones = Zones.for_backend(src.backend, getattr(src, "timezone", None))
    zone_problems = _zone_problems(zones, src)
    if zone_problems:
        raise ContractError(problems=zone_problems)
    local_now = zones.localise(now)  # the timestamps are naive in the dataset's zone

    problems: list[Problem] = _missing_required(required, present)
    warnings: list[str] = []
    by_table: dict[str, list[str]] = {}
    checked: dict[str, _Checked] = {}
    health: dict[str, TableHealth] = {}
    # Referenced tables come first (contract order), so a foreign key is checked
    # against the kept rows of a table already done. Tables with structural problems
    # are still counted: all problems are reported together.
    for name in names:
        if saved is not None and name in saved.tables:
            done = saved.tables[name]
            checked[name], health[name] = done.checked, done.health
            by_table[name] = list(done.warnings)
        else:
            found_warnings: list[str] = []
            chk, found = _check_table(
                src, TABLES[name], local_now, checked, health, found_warnings, zones
            )
            problems.extend(found)
            if chk is None:
                warnings.extend(found_warnings)
                continue
            checked[name] = chk
            health[name], found = _count(chk)
            problems.extend(found)
            found_warnings.extend(_row_rule_warnings(chk, health[name]))
            by_table[name] = found_warnings
            try:  # rows the source could not read (ragged CSV rows…): read and rejected
                health[name] = health[name].with_unreadable(src.read_rejects(name))
            except ContractError as exc:
                problems.extend(exc.problems)
        warnings.extend(by_table[name])
        if health[name].read == 0:
            if name in required:
                problems.append(
                    Problem(
                        name,
                        None,
                        "at least one row (a report needs this table)",
                        "an empty table",
                        f"load the {name} rows into the source, or run a report that does "
                        f"not need {name}",
                    )
                )
            else:
                warnings.append(f"{name} is empty: sections that need it will be skipped")
    if problems:
        raise ContractError(problems=problems)
    line_warnings = _line_total_warnings(checked, saved.line_warnings if saved else {})
    warnings.extend(w for found in line_warnings.values() for w in found)

    report = ValidationReport(src, checked, health, warnings, now, by_table, line_warnings)
    if strict:
        strict_problems = _strict_problems(health)
        if strict_problems:
            error = ContractError(problems=strict_problems)
            error.report = report  # type: ignore[attr-defined]  # for the curious caller
            raise error
    return report


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


def _zone_problems(zones: Zones, src: Source) -> list[Problem]:
    """The dataset's zone (the mapping's ``timezone``) must be a zone the engine can use."""
    zone = zones.dataset
    if zone != "UTC" and zone not in ZONE_NAMES:
        return [
            Problem(
                "(mapping)",
                "timezone",
                "an IANA time zone name such as Asia/Shanghai or UTC",
                repr(zone),
                "write the zone as Area/Location (abbreviations like CST name several "
                "zones), or leave timezone out for UTC",
            )
        ]
    if zone != "UTC" and zones.convert is None:
        return [
            Problem(
                "(mapping)",
                "timezone",
                "an engine that converts time zones per value (duckdb, postgres, pyspark)",
                f"timezone {zone} on {src.backend}",
                "convert the timestamps to UTC in the source and leave timezone out, or "
                "validate a copy in DuckDB",
            )
        ]
    return []
