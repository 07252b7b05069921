"""The :class:`Source`: a set of contract tables in one engine."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import ibis
import pandas as pd

from shopbook.data.contract import TABLES
from shopbook.data.sources import language, transform
from shopbook.data.sources.files import REJECT_COLUMNS
from shopbook.data.sources.mapping import rename
from shopbook.errors import ContractError

#: Creates a table in the engine on first use; returns the rows it could not read.
Loader = Callable[[], pd.DataFrame]


def _row(t: ibis.Table) -> list[str]:
    return [transform.ROW] if transform.ROW in t.columns else []


class Source:
    """A set of contract tables in one engine.

    Parameters
    ----------
    con
        An ibis backend connection.
    physical
        ``{contract table: name of the table in the backend}`` for the tables present.
    mapping
        Column mapping per contract table (see :mod:`shopbook.data.sources`).
    uri
        A printable description of where the data lives (credentials removed).
    loaders
        ``{contract table: a function creating the backend table}``, called once, on
        first use, returning the rows the engine could not read (CSV rows of a folder
        source); see :meth:`read_rejects`.
    timezone
        The mapping's ``timezone`` (the zone of the dataset's naive timestamps), or
        ``None``.
    """

    def __init__(
        self,
        con: Any,
        physical: dict[str, str],
        mapping: dict[str, dict[str, Any]] | None = None,
        uri: str = "",
        loaders: Mapping[str, Loader] | None = None,
        timezone: str | None = None,
    ) -> None:
        self.con = con
        self._physical = physical
        self._mapping = mapping or {}
        self.uri = uri
        self._loaders = dict(loaders or {})
        self._rejects: dict[str, pd.DataFrame] = {}
        self._mapped: dict[str, ibis.Table] = {}
        #: What opening the source decided (an encoding detected…), for the user.
        self.notes: list[str] = []
        self.timezone = timezone
        #: ``{table: the only keys that may repeat in it}``, for tables whose mapping
        #: knows them (lines it combined: ``transform.apply``'s ``repeats``); validation
        #: then looks for repeated keys among these, not in every row.
        self.repeatable: dict[str, ibis.Table] = {}

    def __repr__(self) -> str:
        return f"Source({self.uri!r}, tables={self.tables()})"

    def identity(self) -> str:
        """Where the data lives and how it is read (the column mapping and time zone), as
        text: two sources with the same identity hold the same contract tables (while
        their files are unchanged)."""
        return json.dumps(
            [self.uri, self._physical, self._mapping, self.timezone], sort_keys=True, default=str
        )

    @property
    def backend(self) -> str:
        """The ibis backend name, e.g. ``duckdb``."""
        return self.con.name

    def tables(self) -> list[str]:
        """Contract tables present in the source, in contract order."""
        return [t for t in TABLES if t in self._physical]

    def has(self, name: str) -> bool:
        """Whether contract table ``name`` is present."""
        return name in self._physical

    def _absent(self, name: str) -> ContractError:
        return ContractError(
            table=name,
            expected=f"table {name!r} in the source",
            found="tables " + (", ".join(self.tables()) or "(none)"),
            fix=f"add {name} to {self.uri or 'the source'}, map it in the column mapping, "
            "or run a report that does not need it",
        )

    def table(self, name: str) -> ibis.Table:
        """Contract table ``name`` as an ibis table, columns renamed to contract names.

        Columns are as stored (CSV columns are text). Use
        :func:`shopbook.data.validate.validate` for typed, rule-checked tables. Rows
        the engine could not read (:meth:`read_rejects`) are not in it.

        Raises
        ------
        ContractError
            When the table is not in the source.
        """
        self._load(name)
        spec = self._mapping.get(name, {})
        if not language.is_plain(spec):
            t = self._mapped[name]
            return t.filter(t[transform.UNMAPPED].isnull()).drop(
                transform.UNMAPPED, transform.UNMAPPED_VALUE, *_row(t)
            )
        t = self.con.table(self._physical[name])
        t = rename(t, spec.get("columns", {}), name)
        return t.drop(*_row(t))

    def spec(self, name: str) -> dict[str, Any]:
        """The column mapping of table ``name`` (``{}`` when it has none)."""
        return dict(self._mapping.get(name, {}))

    def siblings(self, name: str, columns: list[str]) -> dict[str, str]:
        """``{contract column: source column, or "=" + its derive expression}`` that other
        tables read from the same source table as ``name`` (names a derive may use)."""
        same = {
            t: spec
            for t, spec in self._mapping.items()
            if self._physical.get(t) == self._physical.get(name)
        }
        return transform.siblings(same, name, columns)

    def _map(self, name: str) -> pd.DataFrame:
        """Apply the mapping of ``name`` once (materialised); its unmapped values as rejects."""
        spec = self._mapping[name]
        raw = self.con.table(self._physical[name])
        siblings = self.siblings(name, list(raw.columns))
        origin = spec.get("origin", "the column mapping")
        repeats: list[ibis.Table] = []
        out = transform.apply(raw, name, spec, siblings, origin, repeats)
        if repeats:
            self.repeatable[name] = repeats[0]
        if name == "orders" and self._physical.get("order_items") == self._physical[name]:
            # a file of order lines: the order's fields repeat on each line; one row per
            # order (rows that still differ stay, and validation rejects the duplicates)
            reads = transform.read_columns(spec, name, list(raw.columns), siblings, origin)
            if reads is not None and reads[1]:
                # each row mapped alone: the distinct rows of the columns read are mapped
                # instead of every line (5 M lines: 4.16 → 3.72 s for this step, medians
                # of 5), and made distinct again (two texts may map to one value: " 12"
                # and "12")
                few = raw.select(*reads[0]).distinct()
                out = transform.apply(few, name, spec, siblings, origin)
            out = out.drop(*_row(out)).distinct()
        out = out.cache()  # a temporary table, spilled to disk beyond the memory limit
        self._mapped[name] = out
        bad = out.filter(out[transform.UNMAPPED].notnull())
        cols = [transform.UNMAPPED, transform.UNMAPPED_VALUE, *_row(out)]
        frame = bad.select(*cols).execute()
        if not len(frame):
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        line = frame[transform.ROW] + 2 if transform.ROW in frame else None
        return pd.DataFrame(
            {
                "file": "",
                "line": line,
                "reason": "unmapped " + frame[transform.UNMAPPED] + " value",
                "raw": frame[transform.UNMAPPED_VALUE],
            },
            columns=REJECT_COLUMNS,
        )

    def read_rejects(self, name: str) -> pd.DataFrame:
        """The rows of table ``name`` the engine could not read, one reason each.

        For a CSV file these are rows with too many or too few fields, bytes that are not
        UTF-8 or a broken quote; they are not in :meth:`table`, and validation counts
        them as read and rejected. Found when the table is first read (one scan).

        Returns
        -------
        pandas.DataFrame
            Columns ``file`` (relative to the source folder), ``line`` (as DuckDB counts
            it: the header is line 1), ``reason`` (e.g. ``malformed CSV row (line 29998):
            10 fields, expected 9``) and ``raw`` (the line's text); no rows for sources
            whose engine reads every row.

        Raises
        ------
        ContractError
            When the table is not in the source, or when more than half of a file's rows
            cannot be read (a wrong delimiter or encoding, not a few bad rows).
        """
        self._load(name)
        return self._rejects[name].copy()

    def _load(self, name: str) -> None:
        if name not in self._physical:
            raise self._absent(name)
        if name not in self._rejects:
            loader = self._loaders.get(name)
            if loader is None:
                empty = {c: pd.Series(dtype=object) for c in REJECT_COLUMNS}
                self._rejects[name] = pd.DataFrame(empty)
            else:
                self._rejects[name] = loader()
            if not language.is_plain(self._mapping.get(name, {})):
                unmapped = self._map(name)
                if len(unmapped):
                    frames = [f for f in (self._rejects[name], unmapped) if len(f)]
                    self._rejects[name] = pd.concat(frames, ignore_index=True)

    def row_counts(self) -> dict[str, int]:
        """Rows per present table, counted in the engine (rows it could read)."""
        return {name: int(self.table(name).count().execute()) for name in self.tables()}

    def close(self) -> None:
        """Close the connection when the backend supports it."""
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect is not None:
            try:
                disconnect()
            except Exception:  # pragma: no cover - best effort
                pass

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
