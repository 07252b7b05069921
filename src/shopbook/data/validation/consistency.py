"""Checks over the counted tables that reject nothing and warn: row rules that reject
most of a table (a mapping mistake, not bad rows) and totals that disagree with their
lines (``Table.line_totals``)."""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import pandas as pd

from shopbook.data.contract import LineTotal, amounts_differ
from shopbook.data.validation._common import _REASON, UNCOERCIBLE_SHARE
from shopbook.data.validation.report import TableHealth, _Checked


def _row_rule_warnings(chk: _Checked, health: TableHealth) -> list[str]:
    """A warning per row rule that rejected more than half the table's rows.

    Most rows breaking ``net = gross − discount`` says the columns are mapped wrong (a
    paid amount that includes shipping), not that most orders are bad: the rows are
    still rejected, and the warning says what to check.
    """
    out = []
    for rr in chk.contract.row_rules:
        n = health.reasons.get(rr.reason, 0)
        if health.read and n > UNCOERCIBLE_SHARE * health.read:
            out.append(
                f"{health.name}: {n:,} of {health.read:,} rows rejected as {rr.reason!r} — "
                f"the columns are probably mapped wrong: {rr.fix}"
            )
    return out


def _line_total_warnings(
    checked: Mapping[str, _Checked], known: Mapping[tuple[str, str, str], list[str]] | None = None
) -> dict[tuple[str, str, str], list[str]]:
    """A warning per declared line total (``Table.line_totals``) that some kept rows break.

    One engine query per total: the kept lines summed per key, joined to the kept rows.
    Rows without kept lines are not compared (a source may hold no lines for them).
    Returns ``{(table, lines table, column): warnings}`` for every total compared; those in
    ``known`` (found before, for the same checked rows) are not computed again.
    """
    known = known or {}
    out: dict[tuple[str, str, str], list[str]] = {}
    for chk in checked.values():
        for total in chk.contract.line_totals:
            lines = checked.get(total.lines_table)
            needed = (*total.key, total.quantity, total.price)
            if (
                lines is None
                or total.column not in chk.present
                or not all(c in chk.present for c in total.key)
                or not all(c in lines.present for c in needed)
            ):
                continue
            which = (chk.contract.name, total.lines_table, total.column)
            out[which] = known[which] if which in known else _line_total_warning(chk, lines, total)
    return out


def _line_total_warning(chk: _Checked, lines_chk: _Checked, total: LineTotal) -> list[str]:
    rows = chk.rows.filter(chk.rows[_REASON].isnull())
    lines = lines_chk.rows.filter(lines_chk.rows[_REASON].isnull())
    keys = {f"__key{i}": lines[c] for i, c in enumerate(total.key)}
    value = lines[total.quantity].cast("float64") * lines[total.price]
    sums = lines.group_by(**keys).aggregate(__total=value.sum())
    joined = rows.inner_join(sums, [rows[c] == sums[f"__key{i}"] for i, c in enumerate(total.key)])
    differ = amounts_differ(joined[total.column], joined["__total"])
    first_key = joined[total.key[0]].cast("string")
    counts = joined.aggregate(
        compared=joined.count(),
        differ=ibis.cases((differ, 1), else_=0).sum(),
        example=ibis.cases((differ, first_key), else_=ibis.null("string")).min(),
    ).execute()
    differ_rows = counts["differ"].iloc[0]  # NULL (no row compared) reads as None or NaN
    compared, n = int(counts["compared"].iloc[0]), 0 if pd.isna(differ_rows) else int(differ_rows)
    if not n:
        return []
    name = chk.contract.name
    return [
        f"{name}: {n:,} of {compared:,} kept {name} with kept {total.lines_table} break "
        f"{total.rule.replace('`', '')}, e.g. {total.key[0]} {counts['example'].iloc[0]} — "
        f"kept, not rejected: check whether {total.column} includes shipping or discounts "
        f"on the lines, or whether lines are missing"
    ]
