"""Column mappings: loading one (a dict or a YAML file), renaming a table's columns to the
contract's, and finding each contract table's name in a source."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import yaml

from shopbook.data.contract import TABLES
from shopbook.data.contract import table as contract_table
from shopbook.data.sources import language
from shopbook.errors import ContractError, yaml_problem

MappingSpec = Mapping[str, Mapping[str, Any]]

_TABLE_EXAMPLE = "orders: {table: tbl_order, columns: {OrderNo: order_id}}"


@dataclass
class ColumnMapping:
    """A loaded column mapping.

    Attributes
    ----------
    tables
        ``{contract table: {"table": source table name or None, "columns": {source
        column: contract column}}}``.
    origin
        Where it came from, for messages: the YAML file's path or ``"the column mapping"``.
    timezone
        The top-level ``timezone`` entry: the zone naive timestamps of the dataset are in
        (checked and used by validation), ``None`` when not given.
    """

    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    origin: str = "the column mapping"
    timezone: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    description: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)

    def plain(self) -> bool:
        """Whether every table only renames columns (no value maps, derived columns…)."""
        return all(language.is_plain(spec) for spec in self.tables.values())


def _mapping_error(origin: str, expected: str, found: str, fix: str) -> ContractError:
    return ContractError(
        table="(mapping)", expected=f"{expected} in {origin}", found=found, fix=fix
    )


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key written twice in one mapping is an error.

    PyYAML keeps the last of two equal keys silently; in a column mapping that means one
    of two entries for the same source column vanishes.
    """

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    seen[key],
                    f"the key {key!r} is written twice (keep one entry)",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise ContractError(
            table="(mapping)",
            expected=f"a column-mapping YAML file at {path}",
            found="no such file" if not path.exists() else "a folder",
            fix="pass the path of an existing mapping file, or none",
        )
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except UnicodeDecodeError:
        raise _mapping_error(
            str(path),
            "UTF-8 text",
            "bytes that are not UTF-8",
            "save the mapping file as UTF-8",
        ) from None
    except yaml.YAMLError as exc:
        raise _mapping_error(
            str(path),
            "valid YAML",
            f"a YAML error at {yaml_problem(exc)}",
            f"correct the YAML; each entry reads `{_TABLE_EXAMPLE}`",
        ) from None


def load_mapping(
    mapping: MappingSpec | str | os.PathLike | ColumnMapping | None, preset: str | None = None
) -> ColumnMapping:
    """Load and check a column mapping (the language of ``data/README.md``).

    Parameters
    ----------
    mapping
        ``{contract table: spec}`` or the path of a YAML file holding it; a spec is
        ``{table: <source table>, columns: {<source column>: <contract column>}, values:
        …, constants: …, formats: …, derive: …, fill_down: […], combine_lines: sum}`` or the
        short form ``{<source column>: <contract column>}``; top-level ``timezone``,
        ``encoding``, ``delimiter``, ``currency``, ``extends`` (a preset name),
        ``description`` and ``files``. ``None``: no mapping. A loaded
        :class:`ColumnMapping` is returned as it is.
    preset
        A shipped preset the mapping builds on (as ``extends:`` would say).

    Returns
    -------
    ColumnMapping

    Raises
    ------
    ContractError
        For a missing or unreadable file, invalid YAML, an entry that is not a mapping,
        an unknown key, a name that is not a contract table or column (naming the nearest
        match); the message names the mapping file.
    """
    if isinstance(mapping, ColumnMapping) and preset is None:
        return mapping
    if mapping is None and preset is None:
        return ColumnMapping()
    origin = "the column mapping"
    if isinstance(mapping, (str, os.PathLike)):
        origin = str(mapping)
        mapping = _read_yaml(Path(mapping))
    mapping = {} if mapping is None else mapping
    if not isinstance(mapping, Mapping):
        raise _mapping_error(
            origin,
            "contract tables, each with its table and columns",
            f"a YAML {type(mapping).__name__}",
            f"write one entry per table, e.g. `{_TABLE_EXAMPLE}`",
        )
    base_name = mapping.get("extends") or preset
    if base_name is not None:
        seen = {str(base_name)}
        chain = [(str(base_name), _read_yaml(language.preset_path(str(base_name))))]
        while isinstance(chain[-1][1], Mapping) and chain[-1][1].get("extends"):
            parent = str(chain[-1][1]["extends"])
            if parent in seen:
                raise _mapping_error(
                    origin,
                    "presets that extend each other without a cycle",
                    parent,
                    "remove one `extends:`",
                )
            seen.add(parent)
            chain.append((parent, _read_yaml(language.preset_path(parent))))
        merged: dict[str, Any] = {}
        for name, doc in reversed(chain):
            if not isinstance(doc, Mapping):
                raise _mapping_error(
                    f"preset {name}", "contract tables", repr(doc), "correct the preset"
                )
            language.check_top(f"preset {name}", doc)
            merged = language.merge(merged, doc)
        if mapping.get("extends") and preset and str(mapping["extends"]) != preset:
            merged = language.merge(_read_yaml(language.preset_path(preset)), merged)
        if origin == "the column mapping" and not mapping:
            origin = f"preset {base_name}"
        else:
            origin = f"{origin} (extending preset {base_name})"
        language.check_top(origin, mapping)
        mapping = language.merge(merged, mapping)
    else:
        language.check_top(origin, mapping)
    out: dict[str, dict[str, Any]] = {}
    timezone = mapping.get("timezone")
    if timezone is not None and not isinstance(timezone, str):
        raise _mapping_error(
            origin,
            "a time zone name for `timezone`, e.g. Asia/Shanghai",
            repr(timezone),
            "write `timezone: <Area/Location>`, or leave it out for UTC",
        )
    for tname, spec in mapping.items():
        if tname in language.TOP_KEYS:
            continue
        contract_table(str(tname), fix=f"correct the table name in {origin}")
        spec = spec or {}
        if not isinstance(spec, Mapping):
            raise _mapping_error(
                origin,
                f"a table and columns for {tname}",
                f"{spec!r}",
                f"write `{tname}: {{table: <source table>, columns: {{<source column>: "
                f"<contract column>}}}}`",
            )
        if not any(k in language.TABLE_KEYS for k in spec) and not any(
            isinstance(v, (Mapping, list)) for v in spec.values()
        ):
            # short form: {contract table: {source col: contract col}}
            spec = {"columns": spec}
        columns = spec.get("columns") or {}
        if not isinstance(columns, Mapping):
            raise _mapping_error(
                origin,
                f"{tname}.columns as `<source column>: <contract column>` pairs",
                f"{columns!r}",
                f"write `{tname}: {{columns: {{<source column>: <contract column>}}}}`",
            )
        _one_source_each(origin, str(tname), columns)
        table = spec.get("table")
        out[str(tname)] = {
            "table": str(table) if table is not None else None,
            "columns": {str(k): str(v) for k, v in columns.items()},
            **language.check_table(origin, str(tname), spec),
            "origin": origin,
        }
    currency = mapping.get("currency")
    if currency is not None:
        orders = out.setdefault("orders", {"table": None, "columns": {}, **_empty(origin)})
        orders["constants"].setdefault("currency", str(currency))
    return ColumnMapping(
        out,
        origin,
        timezone,
        encoding=language.encoding(origin, "encoding", mapping.get("encoding")),
        delimiter=language.delimiter(origin, "delimiter", mapping.get("delimiter")),
        description=str(mapping.get("description") or ""),
        files=language.check_files(origin, mapping["files"]) if mapping.get("files") else [],
    )


def _empty(origin: str) -> dict[str, Any]:
    return language.check_table(origin, "orders", {})


def _one_source_each(origin: str, tname: str, columns: Mapping[Any, Any]) -> None:
    """Two entries mapping to one contract column: the last would silently win."""
    first: dict[str, str] = {}
    for src, dst in columns.items():
        if str(dst) in first:
            raise _mapping_error(
                origin,
                f"one source column per contract column in {tname}.columns",
                f"{first[str(dst)]!r} and {str(src)!r} both mapped to {dst}",
                f"keep one of the two entries for {dst}",
            )
        first[str(dst)] = str(src)


def rename(t: ibis.Table, columns: Mapping[str, str], table_name: str) -> ibis.Table:
    """Apply the explicit mapping, then match contract names case-insensitively."""
    contract = TABLES[table_name]
    renames: dict[str, str] = {}
    for src, dst in columns.items():
        if src in t.columns:
            if dst != src and dst in t.columns and dst not in columns:
                raise _two_sources(t, table_name, dst, src, dst)
            renames[dst] = src
    wanted = {c.lower(): c for c in contract.column_names}
    for col in t.columns:
        if col in renames.values() or col in contract:
            continue
        target = wanted.get(col.strip().lower())
        if target and (target in renames or target in t.columns):
            raise _two_sources(t, table_name, target, renames.get(target, target), col)
        if target:
            renames[target] = col
    return t.rename(renames) if renames else t


def _two_sources(
    t: ibis.Table, table_name: str, target: str, first: str, second: str
) -> ContractError:
    """Two source columns would both be contract column ``target``: say which, by position."""
    where = {c: i for i, c in enumerate(t.columns, start=1)}
    return ContractError(
        table=table_name,
        column=target,
        expected=f"one source column for {target}",
        found=f"columns {where[first]} ({first!r}) and {where[second]} ({second!r}) both "
        f"become {target}",
        fix=f"drop or rename one of them (or remove its mapping entry), so that one column "
        f"holds {target}",
    )


def _listing(names: list[str], limit: int = 12) -> str:
    if not names:
        return "no tables"
    shown = ", ".join(names[:limit])
    return "tables " + shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def physical_names(existing: list[str], mapping: ColumnMapping) -> dict[str, str]:
    """``{contract table: the source's name for it}`` for the tables the source holds.

    A table is found by its mapped name (``table:``) or its contract name, exactly or
    case-insensitively.

    Raises
    ------
    ContractError
        When the mapping names a table the source does not hold: one line naming the
        mapping, the table and what the source holds.
    """
    lower = {n.lower(): n for n in existing}
    out: dict[str, str] = {}
    problems = []
    for tname in TABLES:
        spec = mapping.tables.get(tname)
        src = (spec or {}).get("table") or tname
        if src in existing:
            out[tname] = src
        elif src.lower() in lower:
            out[tname] = lower[src.lower()]
        elif spec is not None:
            named = f"table {src!r}" if src != tname else f"table {tname!r} (its columns)"
            problems.append(
                ContractError(
                    table=tname,
                    expected=f"{named} in the source, as {mapping.origin} says",
                    found=f"the source holds {_listing(sorted(existing))}",
                    fix=f"correct `{tname}: table:` in {mapping.origin} to one of the "
                    f"source's tables, or remove the {tname} entry",
                ).problems[0]
            )
    if problems:
        raise ContractError(problems=problems)
    return out
