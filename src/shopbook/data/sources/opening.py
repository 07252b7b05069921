"""Opening a source: :func:`open_source` for files, folders, frames, URIs and backends,
with a one-line error — its address redacted — when a source cannot be opened."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import ibis
import pandas as pd
from ibis.backends import BaseBackend

from shopbook import config
from shopbook.data.contract import TABLES
from shopbook.data.sources.files import find_tables, suffix_of, table_files
from shopbook.data.sources.mapping import ColumnMapping, MappingSpec, load_mapping, physical_names
from shopbook.data.sources.source import Source
from shopbook.errors import ContractError
from shopbook.redaction import redact_text, secrets_in


def redact_uri(uri: str) -> str:
    """``scheme://user:secret@host/db`` → ``scheme://user:***@host/db``.

    The rules are :func:`shopbook.redaction.redact_text`, the one redactor; the password
    the URI parser finds is redacted as well.
    """
    return redact_text(uri, _uri_secrets(uri))


def _uri_secrets(uri: str) -> list[str]:
    try:
        password = urlsplit(uri).password
    except ValueError:
        password = None
    return [*([password] if password else []), *secrets_in(uri)]


def _one_line(exc: BaseException, secrets: list[str]) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = redact_text(text[:300] + ("…" if len(text) > 300 else ""), secrets)
    for s in secrets:  # short passwords too: this text names the connection
        text = text.replace(s, "***") if s else text
    return text


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


def _once(load: Any) -> Any:
    """``load`` run on the first call only; later calls return its result."""
    done: list[pd.DataFrame] = []

    def run() -> pd.DataFrame:
        if not done:
            done.append(load())
        return done[0]

    return run


def _open_files(folder: Path, tables: dict[str, list[Path]], maps: ColumnMapping) -> Source:
    """A DuckDB view per table over every one of its files.

    Every file is checked now (readable, same columns); CSV rows are read when the table
    is first used.
    """
    con = _quiet(ibis.duckdb.connect())
    physical = physical_names(list(tables), maps)
    loaders = {}
    notes: list[str] = []
    views: dict[str, tuple[str, Any]] = {}  # file name → (view, loader): tables of one file share
    for tname, fname in physical.items():
        if fname in views:
            physical[tname], loader = views[fname]
            if loader is not None:
                loaders[tname] = loader
            continue
        spec = maps.tables.get(tname, {})
        files = table_files(
            fname,
            tables[fname],
            folder,
            spec.get("encoding") or maps.encoding,
            spec.get("delimiter") or maps.delimiter,
        )
        files.check(con.con)
        notes += files.notes
        view = physical[tname] = f"src_{tname}"
        loader = None
        if files.csv:
            loader = loaders[tname] = _once(lambda f=files, v=view: f.load(con.con, v))
        else:
            files.load(con.con, view)
        views[fname] = (view, loader)
    source = Source(
        con, physical, maps.tables, uri=str(folder), loaders=loaders, timezone=maps.timezone
    )
    source.notes = notes
    return source


def _open_folder(folder: Path, maps: ColumnMapping) -> Source:
    known = {t.lower() for t in TABLES}
    known |= {str(s["table"]).lower() for s in maps.tables.values() if s.get("table")}
    tables = find_tables(folder, known)
    if not physical_names(list(tables), maps):  # a mapping naming a missing table raises
        shown = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        raise ContractError(
            table="(source)",
            expected=f"files named after contract tables in {folder} (e.g. orders.parquet, "
            "orders.csv, orders.csv.gz or a folder orders/)",
            found=("files " + ", ".join(shown[:12]) + (", …" if len(shown) > 12 else ""))
            if shown
            else "an empty folder",
            fix="name each file after its table (" + ", ".join(TABLES) + "), or map your "
            "names in mapping.yml (`orders: {table: <file name without suffix>}`)",
        )
    return _open_files(folder, tables, maps)


def _backends() -> list[str]:
    return sorted({e.name for e in entry_points(group="ibis.backends")} | {"postgresql"})


def _open_uri(text: str, maps: ColumnMapping) -> Source:
    shown, secrets = redact_uri(text), _uri_secrets(text)
    scheme = text.split("://", 1)[0].lower()
    known = _backends()
    if scheme not in known:
        close = difflib.get_close_matches(scheme, known, n=1)
        raise ContractError(
            table="(source)",
            expected="a connection URI whose scheme is an ibis backend (postgres://, "
            "duckdb://, sqlite://, …)",
            found=f"{shown}, whose scheme {scheme!r} is none",
            fix=(f"did you mean {close[0]}://? " if close else "")
            + "correct --source / SHOPBOOK_SOURCE",
        )
    try:
        con = _quiet(ibis.connect(text))
        existing = list(con.list_tables())
    except ImportError:
        raise ContractError(
            table="(source)",
            expected=f"the ibis {scheme} backend to read {shown}",
            found="it is not installed",
            fix=f"install it (pip install 'ibis-framework[{scheme}]'), or use another source",
        ) from None
    except Exception as exc:
        raise ContractError(
            table="(source)",
            expected=f"a {scheme} database reachable at {shown}",
            found=_one_line(exc, secrets),
            fix="check the host, port, database name and credentials in --source / "
            "SHOPBOOK_SOURCE, and that the server is running",
        ) from None
    return Source(
        con, physical_names(existing, maps), maps.tables, uri=shown, timezone=maps.timezone
    )


def _open_duckdb(path: Path, maps: ColumnMapping) -> Source:
    try:
        con = _quiet(ibis.duckdb.connect(str(path), read_only=True))
        existing = list(con.list_tables())
    except Exception as exc:
        raise ContractError(
            table="(source)",
            expected="a DuckDB database file",
            found=f"{path.name} could not be opened ({_one_line(exc, [])})",
            fix="point --source at a .duckdb file, a folder of Parquet/CSV files or a URI",
        ) from None
    return Source(
        con, physical_names(existing, maps), maps.tables, uri=str(path), timezone=maps.timezone
    )


def open_source(
    uri: str | os.PathLike | Mapping[str, pd.DataFrame] | Source | BaseBackend | None = None,
    mapping: MappingSpec | str | os.PathLike | ColumnMapping | None = None,
) -> Source:
    """Open a data source.

    Parameters
    ----------
    uri
        A DuckDB file, a folder of Parquet/CSV files (or one such file), a dict of
        DataFrames, an ibis URI, an open ibis backend (e.g. Spark), or an open
        :class:`Source` (returned as is). Default: ``SHOPBOOK_SOURCE`` or
        ``data/shop.duckdb``.
    mapping
        Column mapping: a dict or a YAML file path (see :mod:`shopbook.data.sources`).
        Default: ``SHOPBOOK_MAPPING``, else ``mapping.yml`` inside a folder source.

    Returns
    -------
    Source

    Raises
    ------
    ContractError
        In one line per problem, the address redacted: when the source does not exist,
        cannot be read or reached, holds no contract tables (a folder), has files of one
        table whose columns differ, or when the mapping is broken or names a table the
        source does not hold.
    """
    if isinstance(uri, Source):
        return uri
    if isinstance(uri, BaseBackend):
        maps = load_mapping(mapping if mapping is not None else config.default_mapping())
        existing = list(uri.list_tables())
        return Source(
            uri,
            physical_names(existing, maps),
            maps.tables,
            uri=f"({uri.name})",
            timezone=maps.timezone,
        )
    if mapping is None:
        mapping = config.default_mapping()
    if isinstance(uri, Mapping):
        maps = load_mapping(mapping)
        con = _quiet(ibis.duckdb.connect())
        physical = physical_names([str(k) for k in uri], maps)
        for tname, src in physical.items():
            view = f"src_{tname}"
            con.create_table(view, _typed_nulls(uri[src]))
            physical[tname] = view
        return Source(con, physical, maps.tables, uri="(DataFrames)", timezone=maps.timezone)

    text = str(uri) if uri is not None else config.default_source()
    if "://" in text and not text.startswith("file://"):
        return _open_uri(text, load_mapping(mapping))

    path = Path(text.removeprefix("file://")).expanduser()
    if not path.exists():
        raise ContractError(
            table="(source)",
            expected="a DuckDB file, a folder of Parquet/CSV files or a connection URI",
            found=f"nothing at {redact_uri(str(path))}",
            fix="create the data with `shopbook sample` (or `shopbook sample --cdnow`), "
            "or pass --source / set SHOPBOOK_SOURCE",
        )
    if path.is_dir():
        if mapping is None and (path / "mapping.yml").exists():
            mapping = path / "mapping.yml"
        return _open_folder(path, load_mapping(mapping))
    suf = suffix_of(path)
    if suf:  # one data file: a source with one table, named by the file
        name = path.name[: -len(suf)].lower()
        return _open_files(path.parent, {name: [path]}, load_mapping(mapping))
    return _open_duckdb(path, load_mapping(mapping))
