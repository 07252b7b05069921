"""The mapping language beyond renaming (issue 15): encodings, delimiters, value maps,
constants, derived columns, date formats, fill-down, combining repeated lines, presets.

A mapping file (or a preset, ``src/shopbook/data/presets/<name>.yaml``) is one YAML
document; ``data/README.md`` documents it with examples. This module checks its keys —
an unknown key or a target that is not a contract column is an error naming the nearest
match (:func:`difflib.get_close_matches`) — and merges a file with the preset it
``extends:`` (table by table, key by key: the file's entries win).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shopbook.data.contract import TABLES
from shopbook.errors import ContractError

#: The encodings a CSV export may be in (``auto``: detected by trial decoding).
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030", "auto")
_ENCODING_ALIASES = {"utf8": "utf-8", "utf-8-bom": "utf-8-sig", "gb2312": "gbk", "cp936": "gbk"}
#: Top-level keys besides the contract tables.
TOP_KEYS = ("extends", "encoding", "delimiter", "timezone", "currency", "description", "files")
#: Keys of one table's entry.
TABLE_KEYS = (
    "table",
    "encoding",
    "delimiter",
    "columns",
    "values",
    "constants",
    "formats",
    "derive",
    "fill_down",
    "combine_lines",
)
COMBINE = ("reject", "sum")
#: Where the shipped presets live.
PRESETS = Path(__file__).resolve().parent.parent / "presets"


def nearest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """``" (did you mean X?)"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.5)
    return f" (did you mean {close[0]}?)" if close else ""


def _error(origin: str, expected: str, found: str, fix: str) -> ContractError:
    return ContractError(
        table="(mapping)", expected=f"{expected} in {origin}", found=found, fix=fix
    )


def preset_names() -> list[str]:
    """The shipped presets, by name (``tmall`` for ``presets/tmall.yaml``)."""
    if not PRESETS.is_dir():
        return []
    return sorted(p.stem for p in PRESETS.glob("*.yaml"))


def preset_path(name: str) -> Path:
    """The file of preset ``name``; an unknown name is an error naming the nearest one."""
    path = PRESETS / f"{name}.yaml"
    if not path.is_file():
        names = preset_names()
        raise ContractError(
            table="(mapping)",
            expected="the name of a shipped preset (" + (", ".join(names) or "none") + ")",
            found=repr(name) + nearest(name, names),
            fix="correct the preset name (`shopbook import --list` lists them), or pass "
            "your own mapping file with --mapping",
        )
    return path


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: table by table and key by key.

    In ``columns`` an entry of ``over`` replaces the entry of ``base`` with the same source
    column *or the same contract column* (so a user can map another column to ``status``);
    ``values`` merge per contract column; lists (``fill_down``, ``files``) are replaced.
    """
    out: dict[str, Any] = {k: v for k, v in base.items() if k != "extends"}
    for key, value in over.items():
        if key == "extends":
            continue
        if key in TABLES and isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge_table(_long(out[key]), _long(value))
        else:
            out[key] = value
    return out


def _long(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The short form ``{source column: contract column}`` as ``{columns: …}``."""
    if any(k in TABLE_KEYS for k in spec) or any(
        isinstance(v, (Mapping, list)) for v in spec.values()
    ):
        return dict(spec)
    return {"columns": dict(spec)}


def _merge_table(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        if key == "columns" and isinstance(old, Mapping) and isinstance(value, Mapping):
            targets = {str(v) for v in value.values()}
            kept = {k: v for k, v in old.items() if str(v) not in targets and k not in value}
            out[key] = {**kept, **value}
        elif key == "values" and isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = {**old}
            for col, vmap in value.items():
                if isinstance(old.get(col), Mapping) and isinstance(vmap, Mapping):
                    out[key][col] = {**old[col], **vmap}
                else:
                    out[key][col] = vmap
        elif key in ("constants", "formats", "derive") and isinstance(old, Mapping):
            out[key] = {**old, **(value or {})}
        else:
            out[key] = value
    return out


def check_top(origin: str, doc: Mapping[str, Any]) -> None:
    """Every top-level key is a contract table or a language key."""
    keys = [*TOP_KEYS, *TABLES]
    for key in doc:
        if str(key) not in keys:
            raise _error(
                origin,
                "contract tables (" + ", ".join(TABLES) + ") and the keys " + ", ".join(TOP_KEYS),
                repr(key) + nearest(str(key), keys),
                "correct or remove that entry",
            )
    encoding(origin, "encoding", doc.get("encoding"))
    delimiter(origin, "delimiter", doc.get("delimiter"))
    files = doc.get("files")
    if files is not None:
        check_files(origin, files)


def encoding(origin: str, where: str, value: Any) -> str | None:
    """A known encoding name (normalised), ``None`` when not given."""
    if value is None:
        return None
    text = str(value).strip().lower().replace("_", "-")
    text = _ENCODING_ALIASES.get(text, text)
    if text not in ENCODINGS:
        raise _error(
            origin,
            f"one of {', '.join(ENCODINGS)} for `{where}`",
            repr(value) + nearest(text, ENCODINGS),
            "write one of those (auto detects it and says what it chose)",
        )
    return text


def delimiter(origin: str, where: str, value: Any) -> str | None:
    """A one-character delimiter (``\\t`` allowed as written), ``None`` when not given."""
    if value is None:
        return None
    text = "\t" if value in ("\\t", "tab") else str(value)
    if len(text) != 1:
        raise _error(
            origin,
            f"one character for `{where}` (e.g. ',', ';', '\\t', '|')",
            repr(value),
            "write the delimiter the file uses, quoted, or leave it out to have it sniffed",
        )
    return text


def check_files(origin: str, files: Any) -> list[dict[str, Any]]:
    """The ``files:`` list of a preset: ``kind``, ``match`` (columns), ``produces`` (tables)."""
    if not isinstance(files, list):
        raise _error(
            origin,
            "`files:` as a list of {kind, match, produces}",
            repr(files),
            "write `files: [{kind: orders, match: [<column>, …], produces: [orders]}]`",
        )
    out = []
    for i, entry in enumerate(files, start=1):
        if not isinstance(entry, Mapping) or not entry.get("match"):
            raise _error(
                origin,
                f"file entry {i} with `kind`, `match` (its columns) and `produces`",
                repr(entry),
                "write `{kind: orders, match: [<column>, …], produces: [orders]}`",
            )
        for key in entry:
            if key not in ("kind", "match", "produces", "description"):
                raise _error(
                    origin,
                    f"the keys kind, match, produces in file entry {i}",
                    repr(key) + nearest(str(key), ["kind", "match", "produces"]),
                    "correct or remove that key",
                )
        kind = str(entry.get("kind") or f"file{i}")
        produces = [str(t) for t in (entry.get("produces") or [kind])]
        for t in produces:
            if t not in TABLES:
                raise _error(
                    origin,
                    f"contract tables in `produces` of file entry {i} ({kind})",
                    repr(t) + nearest(t, list(TABLES)),
                    "name contract tables (" + ", ".join(TABLES) + ")",
                )
        match = [str(c) for c in entry["match"]]
        out.append({"kind": kind, "match": match, "produces": produces})
    return out


def check_table(origin: str, tname: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """One table's entry, checked: unknown keys and targets name the nearest match.

    Returns the entry with every key present (``values`` etc. as dicts, ``fill_down`` a
    list, ``combine_lines`` ``"reject"`` or ``"sum"``).
    """
    contract = TABLES[tname]
    names = contract.column_names
    for key in spec:
        if str(key) not in TABLE_KEYS:
            raise _error(
                origin,
                f"the keys {', '.join(TABLE_KEYS)} in {tname}",
                repr(key) + nearest(str(key), TABLE_KEYS),
                "correct or remove that key",
            )

    def target(where: str, col: Any) -> str:
        if str(col) not in names:
            raise ContractError(
                table=tname,
                column=str(col),
                expected=f"a {tname} contract column as the target of {where} in {origin} "
                f"({', '.join(names)})",
                found=repr(col) + nearest(str(col), names),
                fix=f"correct the target in {where}",
            )
        return str(col)

    def as_dict(key: str) -> dict[str, Any]:
        value = spec.get(key) or {}
        if not isinstance(value, Mapping):
            raise _error(
                origin,
                f"{tname}.{key} as `<contract column>: …` pairs",
                repr(value),
                f"write `{tname}: {{{key}: {{<contract column>: …}}}}`",
            )
        return {target(f"{tname}.{key}", k): v for k, v in value.items()}

    columns = spec.get("columns") or {}
    for dst in columns.values() if isinstance(columns, Mapping) else ():
        target(f"{tname}.columns", dst)
    values = as_dict("values")
    for col, vmap in values.items():
        if not isinstance(vmap, Mapping):
            raise _error(
                origin,
                f"{tname}.values.{col} as `<source value>: <contract value>` pairs",
                repr(vmap),
                f"write `values: {{{col}: {{交易成功: paid}}}}`",
            )
        values[col] = {str(k): (None if v is None else str(v)) for k, v in vmap.items()}
        allowed = contract[col].allowed
        for v in values[col].values():
            if allowed and v is not None and v not in allowed:
                raise ContractError(
                    table=tname,
                    column=col,
                    expected=f"values of {col} that the contract allows ({', '.join(allowed)}) "
                    f"in {origin}",
                    found=repr(v) + nearest(v, allowed),
                    fix=f"map each source value of {col} to one of {', '.join(allowed)}",
                )
    constants = {k: (None if v is None else str(v)) for k, v in as_dict("constants").items()}
    formats = {k: str(v) for k, v in as_dict("formats").items()}
    derive = {k: str(v) for k, v in as_dict("derive").items()}
    fill = spec.get("fill_down") or []
    if isinstance(fill, str):
        fill = [fill]
    fill_down = [target(f"{tname}.fill_down", c) for c in fill]
    combine = str(spec.get("combine_lines") or "reject")
    if combine not in COMBINE:
        raise _error(
            origin,
            f"`combine_lines` of {tname} as one of {', '.join(COMBINE)}",
            repr(combine) + nearest(combine, COMBINE),
            "write `combine_lines: sum` to add up repeated lines, or leave it out",
        )
    if combine == "sum" and tname != "order_items":
        raise _error(
            origin,
            "`combine_lines` only under order_items",
            f"combine_lines under {tname}",
            "move it under order_items, or remove it",
        )
    return {
        "encoding": encoding(origin, f"{tname}.encoding", spec.get("encoding")),
        "delimiter": delimiter(origin, f"{tname}.delimiter", spec.get("delimiter")),
        "values": values,
        "constants": constants,
        "formats": formats,
        "derive": derive,
        "fill_down": fill_down,
        "combine_lines": combine,
    }


def is_plain(spec: Mapping[str, Any]) -> bool:
    """Whether a checked table entry only renames (the fast path of earlier versions)."""
    return (
        not any(spec.get(k) for k in ("values", "constants", "formats", "derive", "fill_down"))
        and spec.get("combine_lines", "reject") == "reject"
    )
