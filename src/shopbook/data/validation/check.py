"""Checking one table (its rules compiled and materialised once) and counting the checked
rows: health, and the structural problems only counts reveal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from shopbook.data.contract import IBIS_DTYPES, Table
from shopbook.data.sources import Source
from shopbook.data.sources.transform import blank_null
from shopbook.data.validation._common import (
    _FORMATS,
    _RAW,
    _REASON,
    _TEXT,
    _WHY,
    UNCOERCIBLE_SHARE,
    _listing,
    fence,
    unparseable,
)
from shopbook.data.validation.coerce import _coerce, _Incompatible
from shopbook.data.validation.reasons import (
    _duplicate_rule,
    _foreign_key_rules,
    _group_rules,
    _row_reason,
    _row_rules,
    rules,
)
from shopbook.data.validation.report import TableHealth, _Checked
from shopbook.data.validation.stamps import Zones, split_stamps
from shopbook.errors import Problem


def _check_table(
    src: Source,
    contract: Table,
    now: dt.datetime,
    done: Mapping[str, _Checked],
    health: Mapping[str, TableHealth],
    warnings: list[str],
    zones: Zones | None = None,
) -> tuple[_Checked | None, list[Problem]]:
    """Compile and materialise the rules of one table.

    ``now`` is naive in the dataset's zone (``zones.dataset``), like the timestamps.
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
    absent = [
        c.name
        for c in contract.columns
        if not c.required and c.note_absent and c.name not in raw.columns
    ]
    if absent:
        warnings.append(
            f"{name}: optional column{'s' if len(absent) > 1 else ''} "
            f"{', '.join(absent)} not in the source (left empty)"
        )

    trimmed = name in getattr(src, "trimmed", ())
    typed, incompatible = _typed_columns(raw, contract, present, zones, trimmed)
    problems += incompatible
    if problems:
        return None, problems

    raw_kept = [c for c in present if _RAW + c in typed.columns]
    t = typed = fence(typed)
    t = fence(t.mutate(**{_REASON: _row_reason(t, contract, present, now)}))
    t = _row_rules(t, contract, present)
    t = _group_rules(t, contract, present)
    t = _duplicate_rule(t, contract, present, typed, src.repeatable.get(name))
    t = _foreign_key_rules(t, contract, done, health, warnings)
    t = t.select(*present, *[x + c for c in raw_kept for x in (_RAW, _WHY)], _REASON)
    return _Checked(contract, present, raw_kept, _materialise(t, name, warnings)), []


def _typed_columns(
    raw: ir.Table,
    contract: Table,
    present: list[str],
    zones: Zones | None,
    trimmed: bool = False,
) -> tuple[ir.Table, list[Problem]]:
    """The present columns typed, and per column that has unreadable values its reason
    (``__why_<column>``) and source text (``__raw_<column>``) for them; the problems of
    columns that cannot be converted at all.

    ``trimmed``: the table's text is already trimmed, blank as null — a table the source
    lists in its ``trimmed`` attribute (the mapped tables of ``shopbook import``, whose
    mapping trims every value) — and is not trimmed again: on a million rows that pass
    was a fifth of a table's validation.
    """
    stamps = [
        c
        for c in present
        if contract[c].dtype in ("timestamp", "date") and raw[c].type().is_string()
    ]
    # Text trimmed once (blank → null), its source text kept aside for the rejects: each
    # rule below reads a clean column instead of repeating the trim at every use.
    texts = [c for c in present if raw[c].type().is_string()]
    clean = fence(
        raw.mutate(
            **{_TEXT + c: raw[c] for c in texts},
            **{c: raw[c] if trimmed else blank_null(raw[c]) for c in texts},
        )
    )
    split = fence(split_stamps(clean, stamps, clean=True))
    typed: dict[str, ir.Value] = {}
    problems = []
    for col in present:
        try:
            coerced = _coerce(split[col], contract[col], zones, split, clean=col in texts)
        except _Incompatible as exc:
            dtype = contract[col].dtype
            problems.append(
                Problem(
                    contract.name,
                    col,
                    f"{dtype} values ({_FORMATS[dtype]})",
                    f"a column of type {exc}",
                    f"store {col} as {dtype} (or as text in that format), or map the right "
                    f"source column to {col}",
                )
            )
            continue
        typed[col] = coerced.typed.cast(IBIS_DTYPES[contract[col].dtype])
        if coerced.why is not None:
            typed[_WHY + col] = coerced.why
            # a typed source value is shown as text only where it is rejected (below):
            # a cast of every float to text was a third of the checks of order_items
            typed[_TEXT + col] = split[_TEXT + col] if col in texts else split[col]
    if not typed:
        return split, problems
    # the reasons first, then the source text of the values they name (one use each)
    t = fence(split.select(**typed))
    raw = {
        _RAW + c[len(_TEXT) :]: ibis.cases(
            (t[_WHY + c[len(_TEXT) :]].notnull(), _as_text(t[c])), else_=ibis.null("string")
        )
        for c in t.columns
        if c.startswith(_TEXT)
    }
    return t.mutate(**raw).drop(*[c for c in t.columns if c.startswith(_TEXT)]), problems


def _as_text(value: ir.Value) -> ir.StringValue:
    return value if value.type().is_string() else value.cast("string")


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


def _count(chk: _Checked) -> tuple[TableHealth, list[Problem]]:
    """Rows per reason, and the column problems only counts reveal — one engine query.

    The problems are uncoercible columns (too many unreadable values) and ``one_value``
    columns holding more than one value.
    """
    rows, contract, name = chk.rows, chk.contract, chk.contract.name
    one_value = [c for c in contract.one_value if c in chk.present]
    metrics: dict[str, ir.Scalar] = {"rows": rows.count()}
    # Only unparseable values make a column uncoercible: a number out of range or a zone
    # abbreviation is a value in the right format that cannot be kept. Text columns are
    # never unreadable (their kept text is a missing id).
    readable = [c for c in chk.raw_kept if contract[c].dtype != "string"]
    for i, col in enumerate(readable):
        bad = ibis.cases(
            (rows[_WHY + col] == unparseable(col), rows[_RAW + col]), else_=ibis.null("string")
        )
        metrics[f"ok{i}"] = rows[col].count()
        metrics[f"bad{i}"] = bad.count()
        metrics[f"eg{i}"] = bad.min()
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
    for i, col in enumerate(readable):
        ok, bad = int(by_reason[f"ok{i}"].sum()), int(by_reason[f"bad{i}"].sum())
        if bad > UNCOERCIBLE_SHARE * (ok + bad):
            dtype = contract[col].dtype
            problems.append(
                Problem(
                    name,
                    col,
                    f"{dtype} values ({_FORMATS[dtype]})",
                    f"{bad:,} of {ok + bad:,} values unreadable, "
                    f"e.g. {by_reason[f'eg{i}'].dropna().min()!r}",
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
