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
    last full week); ``last_month_start`` / ``last_month_end``; ``days_ago_7``,
    ``days_ago_28``.
    """
    today = today or datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return {
        "today": today.isoformat(),
        "yesterday": (today - timedelta(days=1)).isoformat(),
        "last_week_start": (monday - timedelta(days=7)).isoformat(),
        "last_week_end": (monday - timedelta(days=1)).isoformat(),
        "last_month_start": last_month_end.replace(day=1).isoformat(),
        "last_month_end": last_month_end.isoformat(),
        "days_ago_7": (today - timedelta(days=7)).isoformat(),
        "days_ago_28": (today - timedelta(days=28)).isoformat(),
    }


def expand_dates(value: Any, tokens: Mapping[str, str]) -> Any:
    """Replace ``{token}`` in string values (recursively) by :func:`date_tokens`."""
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: tokens.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [expand_dates(v, tokens) for v in value]
    if isinstance(value, dict):
        return {k: expand_dates(v, tokens) for k, v in value.items()}
    return value


# ------------------------------------------------------------------ parameters


def parse_value(text: str) -> Any:
    """A ``-p`` value: YAML scalars (``5``, ``0.1``, ``true``, ``[a, b]``), dates stay text."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if (
        isinstance(value, (date, datetime))
        or value is None
        and text.strip() not in ("null", "~", "None")
    ):
        return text
    return value


def parse_pairs(pairs: Iterable[str]) -> dict[str, Any]:
    """``["a=1", "b=x"]`` → ``{"a": 1, "b": "x"}``.

    Raises
    ------
    RunError
        For an item without ``=``.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise RunError(f"parameter {pair!r} is not key=value")
        key, value = pair.split("=", 1)
        out[key.strip()] = parse_value(value)
    return out


def read_params_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parameters from a YAML file holding a mapping."""
    p = Path(path)
    if not p.exists():
        raise RunError(f"parameter file {p} does not exist")
    data = yaml.safe_load(p.read_text()) or {}
    if not isinstance(data, dict):
        raise RunError(f"parameter file {p} must hold a mapping of name: value")
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
    data = yaml.safe_load(p.read_text()) or {}
    jobs = data.get("jobs", data)
    if not isinstance(jobs, dict):
        raise RunError(f"{p}: 'jobs' must be a mapping of job name to job")
    return jobs


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
