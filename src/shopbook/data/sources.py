"""Where the data lives: open a source and get its tables as ibis expressions.

A *source* holds any subset of the contract tables (:mod:`shopbook.data.contract`).
:func:`open_source` accepts

* a DuckDB file (``data/shop.duckdb``, the default),
* a folder of ``<table>.parquet`` / ``<table>.csv`` (or ``.csv.gz``) files,
* a dict ``{table name: pandas.DataFrame}``,
* any ibis connection URI (``postgres://…``, ``duckdb://…``, …), credentials taken from
  the environment rather than written in notebooks,
* an open ibis backend, e.g. ``ibis.pyspark.connect(spark_session)`` for Spark.

:meth:`Source.table` returns an **ibis** table with the contract's column names, so the
features layer runs wherever the data lives; nothing is pulled into pandas unless a
caller executes an expression. CSV columns are read as text: typing them is the
validator's job, which can then reject a single unparseable value with a reason instead
of failing the whole file.

Column names that differ from the contract are mapped once, by a dict or a YAML file::

    orders:                 # contract table
      table: tbl_order      # the source's table name (optional)
      columns:              # source column: contract column
        OrderNo: order_id
        BuyerId: customer_id

A folder source picks up ``mapping.yml`` inside it automatically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import yaml
from ibis.backends import BaseBackend

from shopbook import config
from shopbook.data.contract import TABLES
from shopbook.data.contract import table as contract_table
from shopbook.errors import ContractError

MappingSpec = Mapping[str, Mapping[str, Any]]


def _load_mapping(mapping: MappingSpec | str | os.PathLike | None) -> dict[str, dict[str, Any]]:
    if mapping is None:
        return {}
    if isinstance(mapping, (str, os.PathLike)):
        path = Path(mapping)
        if not path.exists():
            raise ContractError(
                table="(mapping)",
                expected=f"a column-mapping YAML file at {path}",
                found="no such file",
                fix="pass the path of an existing mapping file, or none",
            )
        mapping = yaml.safe_load(path.read_text()) or {}
    out: dict[str, dict[str, Any]] = {}
    for tname, spec in dict(mapping).items():
        contract_table(tname, fix="correct the table name in the column mapping")
        spec = dict(spec or {})
        if "columns" not in spec and "table" not in spec:
            # short form: {contract table: {source col: contract col}}
            spec = {"columns": spec}
        out[tname] = {"table": spec.get("table"), "columns": dict(spec.get("columns") or {})}
    return out


class Source:
    """A set of contract tables in one engine.

    Parameters
    ----------
    con
        An ibis backend connection.
    physical
        ``{contract table: name of the table in the backend}`` for the tables present.
    mapping
        Column mapping per contract table (see module docstring).
    uri
        A printable description of where the data lives (credentials removed).
    """

    def __init__(
        self,
        con: Any,
        physical: dict[str, str],
        mapping: dict[str, dict[str, Any]] | None = None,
        uri: str = "",
    ) -> None:
        self.con = con
        self._physical = physical
        self._mapping = mapping or {}
        self.uri = uri

    def __repr__(self) -> str:
        return f"Source({self.uri!r}, tables={self.tables()})"

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

    def table(self, name: str) -> ibis.Table:
        """Contract table ``name`` as an ibis table, columns renamed to contract names.

        Columns are as stored (CSV columns are text). Use
        :func:`shopbook.data.validate.validate` for typed, rule-checked tables.

        Raises
        ------
        ContractError
            When the table is not in the source.
        """
        if name not in self._physical:
            raise ContractError(
                table=name,
                expected=f"table {name!r} in the source",
                found="tables " + (", ".join(self.tables()) or "(none)"),
                fix=f"add {name} to {self.uri or 'the source'}, map it in the column mapping, "
                "or run a report that does not need it",
            )
        t = self.con.table(self._physical[name])
        return _rename(t, self._mapping.get(name, {}).get("columns", {}), name)

    def row_counts(self) -> dict[str, int]:
        """Rows per present table, counted in the engine."""
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


def _rename(t: ibis.Table, columns: Mapping[str, str], table_name: str) -> ibis.Table:
    """Apply the explicit mapping, then match contract names case-insensitively."""
    contract = TABLES[table_name]
    renames: dict[str, str] = {}
    for src, dst in columns.items():
        if src in t.columns:
            renames[dst] = src
    wanted = {c.lower(): c for c in contract.column_names}
    for col in t.columns:
        if col in renames.values() or col in contract:
            continue
        target = wanted.get(col.strip().lower())
        if target and target not in renames and target not in t.columns:
            renames[target] = col
    return t.rename(renames) if renames else t


def _physical_names(existing: list[str], mapping: dict[str, dict[str, Any]]) -> dict[str, str]:
    lower = {n.lower(): n for n in existing}
    out = {}
    for tname in TABLES:
        src = (mapping.get(tname) or {}).get("table") or tname
        if src in existing:
            out[tname] = src
        elif src.lower() in lower:
            out[tname] = lower[src.lower()]
    return out


_FILE_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".tsv")


def _table_files(folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        name = p.name
        for suf in _FILE_SUFFIXES:
            if name.lower().endswith(suf):
                files.setdefault(name[: -len(suf)], p)
                break
        else:
            if p.is_dir() and any(p.glob("*.parquet")):
                files.setdefault(name, p)
    return files


def _open_folder(folder: Path, mapping: dict[str, dict[str, Any]]) -> Source:
    con = _quiet(ibis.duckdb.connect())
    files = _table_files(folder)
    physical = _physical_names(list(files), mapping)
    for tname, fname in physical.items():
        path = files[fname]
        view = f"src_{tname}"
        if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
            target = str(path / "*.parquet") if path.is_dir() else str(path)
            con.read_parquet(target, table_name=view)
        else:
            # All text: the validator types each value and rejects the ones that do
            # not parse, instead of DuckDB guessing a type or failing the file.
            delim = "\t" if path.name.lower().endswith(".tsv") else ","
            con.read_csv(str(path), table_name=view, all_varchar=True, header=True, delim=delim)
        physical[tname] = view
    return Source(con, physical, mapping, uri=str(folder))


def _typed_nulls(frame: pd.DataFrame) -> pd.DataFrame:
    """Give all-missing object columns a text type; engines refuse untyped NULL columns.

    The validator then types them per the contract like any other text column.
    """
    empty = [c for c in frame.columns if frame[c].dtype == object and frame[c].isna().all()]
    return frame.astype({c: "string" for c in empty}) if empty else frame


def _quiet(con: Any) -> Any:
    """Switch off DuckDB's progress bar: it would print into notebooks and terminals."""
    if getattr(con, "name", "") == "duckdb":
        import duckdb

        try:
            con.raw_sql("SET enable_progress_bar = false")
        except duckdb.Error:
            # Inside Jupyter without ipywidgets DuckDB refuses to touch the setting; it
            # draws no progress bar there either, so there is nothing to switch off.
            pass
    return con


def redact_uri(uri: str) -> str:
    """``scheme://user:secret@host/db`` → ``scheme://user:***@host/db``.

    The rules are :func:`shopbook.redaction.redact_text`, the one redactor.
    """
    from shopbook.redaction import redact_text

    return redact_text(uri)


def open_source(
    uri: str | os.PathLike | Mapping[str, pd.DataFrame] | Source | BaseBackend | None = None,
    mapping: MappingSpec | str | os.PathLike | None = None,
) -> Source:
    """Open a data source.

    Parameters
    ----------
    uri
        A DuckDB file, a folder of Parquet/CSV files, a dict of DataFrames, an ibis URI,
        an open ibis backend (e.g. Spark), or an open :class:`Source` (returned as is).
        Default: ``SHOPBOOK_SOURCE`` or ``data/shop.duckdb``.
    mapping
        Column mapping: a dict or a YAML file path (see module docstring). Default:
        ``SHOPBOOK_MAPPING``, else ``mapping.yml`` inside a folder source.

    Returns
    -------
    Source

    Raises
    ------
    ContractError
        When the source does not exist or cannot be understood.
    """
    if isinstance(uri, Source):
        return uri
    if isinstance(uri, BaseBackend):
        maps = _load_mapping(mapping if mapping is not None else config.default_mapping())
        return Source(
            uri, _physical_names(list(uri.list_tables()), maps), maps, uri=f"({uri.name})"
        )
    if mapping is None:
        mapping = config.default_mapping()
    if isinstance(uri, Mapping):
        maps = _load_mapping(mapping)
        con = _quiet(ibis.duckdb.connect())
        names = [str(k) for k in uri]
        physical = _physical_names(names, maps)
        for tname, src in physical.items():
            view = f"src_{tname}"
            con.create_table(view, _typed_nulls(uri[src]))
            physical[tname] = view
        return Source(con, physical, maps, uri="(DataFrames)")

    text = str(uri) if uri is not None else config.default_source()
    if "://" in text and not text.startswith("file://"):
        maps = _load_mapping(mapping)
        con = _quiet(ibis.connect(text))
        return Source(
            con, _physical_names(list(con.list_tables()), maps), maps, uri=redact_uri(text)
        )

    path = Path(text.removeprefix("file://")).expanduser()
    if not path.exists():
        raise ContractError(
            table="(source)",
            expected="a DuckDB file, a folder of Parquet/CSV files or a connection URI",
            found=f"nothing at {path}",
            fix="create the data with `shopbook sample` (or `shopbook sample --cdnow`), "
            "or pass --source / set SHOPBOOK_SOURCE",
        )
    if path.is_dir():
        if mapping is None and (path / "mapping.yml").exists():
            mapping = path / "mapping.yml"
        return _open_folder(path, _load_mapping(mapping))
    maps = _load_mapping(mapping)
    try:
        con = _quiet(ibis.duckdb.connect(str(path), read_only=True))
    except Exception as exc:
        raise ContractError(
            table="(source)",
            expected="a DuckDB database file",
            found=f"{path.name} could not be opened ({str(exc).splitlines()[0]})",
            fix="point --source at a .duckdb file, a folder of Parquet/CSV files or a URI",
        ) from None
    return Source(con, _physical_names(list(con.list_tables()), maps), maps, uri=str(path))
