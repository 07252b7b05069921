"""The validation report: per-table health, kept rows and rejected rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.data.contract import IBIS_DTYPES, Table
from shopbook.data.sources import Source
from shopbook.data.validation._common import _RAW, _REASON
from shopbook.errors import ContractError


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

    def with_unreadable(self, rows: pd.DataFrame) -> TableHealth:
        """This health plus the rows the source could not read, as read and rejected.

        ``rows`` is :meth:`~shopbook.data.sources.Source.read_rejects` (one ``reason``
        per row, e.g. ``malformed CSV row (line 3): 4 fields, expected 3``).
        """
        if not len(rows):
            return self
        reasons = dict(self.reasons)
        for reason, n in rows["reason"].value_counts().items():
            reasons[str(reason)] = reasons.get(str(reason), 0) + int(n)
        reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        n = len(rows)
        return TableHealth(self.name, self.read + n, self.kept, self.rejected + n, reasons)


@dataclass
class _Checked:
    """One validated table: the materialised rows with their reason (``None`` = kept)."""

    contract: Table
    present: list[str]  # contract columns found in the source, contract order
    raw_kept: list[str]  # columns with unreadable values: source text in __raw_<column>,
    # the reason in __why_<column>
    rows: ir.Table  # present columns typed, __raw_<column>, __why_<column>…, __reason


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
    table_warnings
        ``{table: warnings}``: the warnings that checking each table gave (those of
        ``warnings`` that belong to one table).
    line_warnings
        ``{(table, lines table, column): warnings}``: the line totals compared
        (``Table.line_totals``), with the warnings they gave.
    """

    def __init__(
        self,
        source: Source,
        checked: dict[str, _Checked],
        tables: dict[str, TableHealth],
        warnings: list[str],
        now: dt.datetime,
        table_warnings: dict[str, list[str]] | None = None,
        line_warnings: dict[tuple[str, str, str], list[str]] | None = None,
    ) -> None:
        self.source = source
        self.tables = tables
        self.warnings = warnings
        self.now = now
        self.table_warnings = table_warnings or {}
        self.line_warnings = line_warnings or {}
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
            be read shows its source text), and ``reason``. A row the source could not
            read at all (:meth:`~shopbook.data.sources.Source.read_rejects`, e.g. a CSV
            row with too many fields) has empty columns and a reason naming its line.
        """
        chk = self._get(name)
        rows = chk.rows
        columns = []
        for c in chk.present:
            as_text = rows[c].cast("string")
            if c in chk.raw_kept:
                as_text = ibis.coalesce(rows[_RAW + c], as_text)
            columns.append(as_text.name(c))
        out = rows.filter(rows[_REASON].notnull()).select(*columns, reason=rows[_REASON])
        unread = self.source.read_rejects(name)
        if not len(unread):
            return out
        empty = pd.Series([None] * len(unread), dtype="string")
        extra = pd.DataFrame({**{c: empty for c in chk.present}, "reason": unread["reason"]})
        return out.union(ibis.memtable(extra.astype("string"), schema=out.schema()))

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
