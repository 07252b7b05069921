"""Jobs, date tokens and parameters: what ``reports.yml`` and the command line say.

Jobs
----
``reports.yml`` at the project root names jobs (see that file). A job lists notebooks
(paths, names such as ``00_data_health`` or globs) and parameters. Job notebooks that do
not exist yet are skipped with a note (status ``missing``, not a failure); a notebook
named on the command line must exist. Parameter values may use the date tokens of
:func:`expand_dates` (``{yesterday}``, ``{last_week_start}``, …), resolved in UTC when
the run starts.

Parameters
----------
Precedence: job < job's per-notebook < ``-f params.yml`` < ``-p key=value`` <
``--source``. Each parameter goes to the notebooks that declare it (see
:mod:`shopbook.report.plan`).

Values follow YAML 1.2, not PyYAML's YAML 1.1: ``reports.yml`` and ``-f`` files are read
with :class:`Yaml12Loader` (PyYAML's parser with the 1.2 core-schema resolvers for null,
bool, int and float), and ``-p`` values are resolved by hand with the same regexes
(:func:`parse_value`, so a ``#`` is never a comment). Only ``true``/``false`` are booleans,
``0123`` is 123, dates stay text. :func:`coerce` then fits each value to the type the
notebook declares (``inferred_type_name``); a ``-p`` value is kept as :class:`Given` text
until then, so ``-p sku=0123`` for ``sku: str`` stays ``"0123"``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from shopbook import config
from shopbook.errors import yaml_problem

JOBS_FILE = "reports.yml"
NOTEBOOKS_DIR = "notebooks"
DEFAULT_JOB = "all"
ADHOC_JOB = "adhoc"


class RunError(Exception):
    """A run cannot start: unknown job, notebook or parameter (exit code 2)."""


# ----------------------------------------------------------------------- dates


def date_tokens(today: date | None = None) -> dict[str, str]:
    """Date tokens usable in job parameters, as ISO dates (UTC).

    ``today``, ``yesterday``; ``last_week_start`` / ``last_week_end`` (Monday–Sunday of the
    last full week); ``last_month_start`` / ``last_month_end`` (the last full calendar
    month); ``last_quarter_start`` / ``last_quarter_end`` (the last full calendar quarter:
    January–March, April–June, …); ``days_ago_7``, ``days_ago_28``.
    """
    today = today or datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    quarter_first = first.replace(month=3 * ((today.month - 1) // 3) + 1)
    last_quarter_end = quarter_first - timedelta(days=1)
    last_quarter_start = last_quarter_end.replace(
        month=3 * ((last_quarter_end.month - 1) // 3) + 1, day=1
    )
    return {
        "today": today.isoformat(),
        "yesterday": (today - timedelta(days=1)).isoformat(),
        "last_week_start": (monday - timedelta(days=7)).isoformat(),
        "last_week_end": (monday - timedelta(days=1)).isoformat(),
        "last_month_start": last_month_end.replace(day=1).isoformat(),
        "last_month_end": last_month_end.isoformat(),
        "last_quarter_start": last_quarter_start.isoformat(),
        "last_quarter_end": last_quarter_end.isoformat(),
        "days_ago_7": (today - timedelta(days=7)).isoformat(),
        "days_ago_28": (today - timedelta(days=28)).isoformat(),
    }


def expand_dates(value: Any, tokens: Mapping[str, str]) -> Any:
    """Replace ``{token}`` in string values (recursively) by :func:`date_tokens`."""
    if isinstance(value, str):
        out = re.sub(r"\{(\w+)\}", lambda m: tokens.get(m.group(1), m.group(0)), value)
        return Given(out) if isinstance(value, Given) else out
    if isinstance(value, list):
        return [expand_dates(v, tokens) for v in value]
    if isinstance(value, dict):
        return {k: expand_dates(v, tokens) for k, v in value.items()}
    return value


# ------------------------------------------------------------------ parameters

#: YAML 1.2 core-schema scalars (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULL = re.compile(r"(?:null|Null|NULL|~)\Z")
_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT = re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT = re.compile(
    r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
)


def _to_int(text: str) -> int:
    """A YAML 1.2 core-schema int: decimal (``0123`` is 123), ``0o17``, ``0x1F``."""
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


def _to_float(text: str) -> float:
    """A YAML 1.2 core-schema float (``.inf``, ``-.Inf``, ``.nan`` included)."""
    low = text.lower()
    if low.endswith((".inf", ".nan")):
        return float(low.replace(".", ""))
    return float(text)


def resolve_scalar(text: str) -> Any:
    """A plain scalar by the YAML 1.2 core schema: null, bool, int, float, else the text.

    Only ``true``/``false`` (any of the three spellings) are booleans — ``yes``, ``no``,
    ``on``, ``off`` stay text — and ``0123`` is the int 123, not octal.
    """
    if _NULL.match(text):
        return None
    if _BOOL.match(text):
        return text.lower() == "true"
    if _INT.match(text):
        return _to_int(text)
    if _FLOAT.match(text):
        return _to_float(text)
    return text


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 core-schema scalars instead of YAML 1.1's.

    PyYAML implements YAML 1.1 (``NO`` → False, ``0123`` → 83, ``1:30`` → 90, dates →
    :class:`~datetime.date`); this loader keeps its parser and replaces the implicit
    resolvers for null, bool, int and float by the 1.2 core-schema regexes (and drops
    1.1's timestamps and ``=``): dates stay text.
    """


_DROPPED = {
    f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float", "null", "timestamp", "value")
}
Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _rx, _first in (
    ("null", _NULL, ["~", "n", "N", ""]),
    ("bool", _BOOL, list("tTfF")),
    ("int", _INT, list("-+0123456789")),
    ("float", _FLOAT, list("-+0123456789.")),
):
    Yaml12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", _rx, _first)


def _yaml_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    return _to_int(str(node.value))


def _yaml_float(loader: yaml.SafeLoader, node: yaml.Node) -> float:
    return _to_float(str(node.value))


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _yaml_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:float", _yaml_float)


def load_yaml(text: str, where: str) -> Any:
    """Parse YAML text with YAML 1.2 core-schema scalars (:class:`Yaml12Loader`).

    Raises
    ------
    RunError
        One line naming ``where`` and the line of the problem.
    """
    try:
        return yaml.load(text, Loader=Yaml12Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise RunError(
            f"{where} is not valid YAML at {yaml_problem(exc)}; fix the file (quote values "
            "that hold ':' or '#')"
        ) from None


class Given(str):
    """A ``-p`` value exactly as typed; the notebook's declared type decides what it is.

    :func:`parse_pairs` returns these; :func:`coerce` reads them as the declared type
    (``"false"`` for a ``bool`` is False, ``0123`` for a ``str`` stays ``"0123"``), and
    by :func:`parse_value` where the notebook declares no type.
    """


def parse_value(text: str) -> Any:
    """A ``-p`` value by YAML 1.2 core-schema rules, parsed by hand (no YAML comments).

    A plain value resolves as :func:`resolve_scalar` (``5``, ``0.1``, ``true``, ``null``;
    ``0123`` is 123, ``NO`` and ``yes`` are text), and a ``#`` is part of the value, not a
    comment. A value starting with ``[``, ``{`` or a quote is YAML flow (``[a, b]``,
    ``{k: 1}``, ``'x'``), parsed by :class:`Yaml12Loader`; if that fails it is text.
    Surrounding blanks are dropped and an empty value is the empty string.
    """
    s = text.strip()
    if not s:
        return ""
    if s[0] in "[{'\"":
        try:
            return yaml.load(s, Loader=Yaml12Loader)  # noqa: S506 - a safe loader
        except yaml.YAMLError:
            return s
    return resolve_scalar(s)


class ParameterTypeError(ValueError):
    """A parameter value that does not fit the type its notebook declares."""


_KINDS = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}


def declared_kind(type_name: str | None) -> tuple[str | None, bool]:
    """``(kind, optional)`` of a papermill ``inferred_type_name``.

    ``"int"`` → ``("int", False)``; ``"Optional[str]"`` / ``"str | None"`` →
    ``("str", True)``; ``"list[str]"`` → ``("list", False)``; no annotation (``"None"``)
    or a type this module does not check → ``(None, True)``.
    """
    name = (type_name or "None").replace(" ", "").replace("typing.", "")
    optional = name.startswith("Optional[") or "|None" in name or name.startswith("None|")
    if name.startswith("Optional["):
        name = name[len("Optional[") : -1]
    name = name.replace("|None", "").replace("None|", "")
    base = name.split("[", 1)[0].lower()
    return (base, optional) if base in _KINDS else (None, True)


def _coerce_text(text: str, kind: str) -> Any:
    """A string read as ``kind`` (YAML 1.2 core schema); raises ValueError if it is not one."""
    s = text.strip()
    if kind == "bool" and _BOOL.match(s):
        return s.lower() == "true"
    if kind == "int" and _INT.match(s):
        return _to_int(s)
    if kind == "float" and (_INT.match(s) or _FLOAT.match(s)):
        return _to_float(s)
    if kind in ("list", "dict") and s[:1] in "[{":
        value = parse_value(s)
        if isinstance(value, _KINDS[kind]):
            return value
    raise ValueError(kind)


def coerce(value: Any, type_name: str | None) -> Any:
    """``value`` as the declared type ``type_name`` (a papermill ``inferred_type_name``).

    A :class:`Given` (``-p``) value is read as the declared type — a ``str`` keeps the text
    as typed, a ``bool`` takes only ``true``/``false`` — and as :func:`parse_value` when
    no type is declared. Other values (``reports.yml``, ``-f``) are checked: an ``int``
    becomes a ``float`` or a ``str`` where one is declared, a string is read as the
    declared ``bool``/``int``/``float``; ``None`` passes only an optional type.

    Raises
    ------
    ParameterTypeError
        When the value is not of the declared type (the message names type and value).
    """
    kind, optional = declared_kind(type_name)
    if isinstance(value, Given):
        if optional and _NULL.match(value.strip()):
            return None
        if kind == "str":
            return str(value).strip()
        value = str(value) if kind in ("bool", "int", "float") else parse_value(value)
    if kind is None or (value is None and optional):
        return value
    try:
        return _coerce_typed(value, kind)
    except ValueError:
        raise ParameterTypeError(f"must be {'an' if kind == 'int' else 'a'} {type_name}") from None


def _coerce_typed(value: Any, kind: str) -> Any:
    """A parsed value as ``kind``; raises ValueError when it is not one."""
    if isinstance(value, bool):
        if kind == "bool":
            return value
    elif isinstance(value, str):
        return value if kind == "str" else _coerce_text(value, kind)
    elif isinstance(value, int) and kind in ("int", "float", "str"):
        return {"int": int, "float": float, "str": str}[kind](value)
    elif isinstance(value, float) and kind in ("float", "str"):
        return value if kind == "float" else str(value)
    elif isinstance(value, (list, tuple)) and kind == "list":
        return list(value)
    elif isinstance(value, dict) and kind == "dict":
        return value
    elif isinstance(value, (date, datetime)) and kind == "str":
        return value.isoformat()
    raise ValueError(kind)


def parse_pairs(pairs: Iterable[str]) -> dict[str, Given]:
    """``["a=1", "b=x"]`` → ``{"a": Given("1"), "b": Given("x")}`` (typed by :func:`coerce`).

    Raises
    ------
    RunError
        For an item without ``=``.
    """
    out: dict[str, Given] = {}
    for pair in pairs:
        if "=" not in pair:
            raise RunError(f"parameter {pair!r} is not key=value (write -p name=value)")
        key, value = pair.split("=", 1)
        out[key.strip()] = Given(value)
    return out


def read_params_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parameters from a YAML file holding a mapping (YAML 1.2 scalars, :func:`load_yaml`)."""
    p = Path(path)
    if not p.is_file():
        raise RunError(f"parameter file {p} does not exist (give a YAML file with -f)")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RunError(f"parameter file {p} cannot be read: {exc}") from None
    data = load_yaml(text, f"parameter file {p}") or {}
    if not isinstance(data, dict):
        raise RunError(
            f"parameter file {p} must hold a mapping of name: value, found a {type(data).__name__}"
        )
    return data


def notebook_parameters(path: Path) -> dict[str, dict[str, Any]]:
    """The notebook's ``parameters`` cell: ``{name: {inferred_type_name, default, help}}``."""
    import papermill

    return dict(papermill.inspect_notebook(str(path)))


def describe_parameters(params: Mapping[str, Mapping[str, Any]]) -> str:
    """One line per parameter: ``name: type = default  # help``."""
    if not params:
        return "  (none: the notebook has no cell tagged 'parameters')"
    lines = []
    for name, p in params.items():
        typ = p.get("inferred_type_name") or "None"
        line = f"  {name}: {typ} = {p.get('default')}"
        if p.get("help"):
            line += f"  # {p['help']}"
        lines.append(line)
    return "\n".join(lines)


# ------------------------------------------------------------------------ jobs


def project_home() -> Path:
    """The project folder: ``SHOPBOOK_HOME`` or the working directory."""
    return config.home()


def load_jobs(path: str | os.PathLike[str] | None = None) -> dict[str, dict[str, Any]]:
    """The jobs of ``reports.yml`` (``{name: {notebooks, parameters, description}}``)."""
    p = Path(path) if path else project_home() / JOBS_FILE
    if not p.exists():
        return {
            DEFAULT_JOB: {"notebooks": [f"{NOTEBOOKS_DIR}/[0-9][0-9]_*.ipynb"], "parameters": {}}
        }
    data = load_yaml(p.read_text(encoding="utf-8"), str(p)) or {}
    if not isinstance(data, dict):
        raise RunError(f"{p} must hold a mapping with 'jobs'")
    jobs = data.get("jobs", data)
    if not isinstance(jobs, dict):
        raise RunError(f"{p}: 'jobs' must be a mapping of job name to job")
    return jobs


def index_lang(path: str | os.PathLike[str] | None = None) -> str:
    """The run index's language: ``lang`` at the top of ``reports.yml`` (default ``"en"``).

    An unreadable file or an unknown language gives English: the index must always build.
    """
    from shopbook.i18n import LANGS

    p = Path(path) if path else project_home() / JOBS_FILE
    try:
        data = load_yaml(p.read_text(encoding="utf-8"), str(p)) if p.exists() else {}
    except (OSError, RunError, ValueError):
        return "en"
    lang = str((data or {}).get("lang") or "en").strip().lower() if isinstance(data, dict) else "en"
    return lang if lang in LANGS else "en"


def is_glob(name: str) -> bool:
    """Whether a notebook name is a glob pattern (``*``, ``?`` or ``[``)."""
    return any(ch in name for ch in "*?[")


def find_notebook(name: str, base: Path | None = None) -> list[Path]:
    """Notebook files for a path, a name (``00_data_health``), a prefix (``00``) or a glob."""
    base = base or project_home()
    direct = Path(name)
    candidates = [direct, base / direct, base / NOTEBOOKS_DIR / direct]
    for c in candidates:
        for p in (c, c.with_name(c.name + ".ipynb")):
            if p.is_file():
                return [p]
    if is_glob(name):
        root = base if "/" in name else base / NOTEBOOKS_DIR
        return sorted(
            p
            for p in root.glob(name)
            if p.suffix == ".ipynb" and ".ipynb_checkpoints" not in p.parts
        )
    matches = sorted((base / NOTEBOOKS_DIR).glob(f"{name}*.ipynb"))
    return matches if len(matches) == 1 else []
