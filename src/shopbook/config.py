"""Paths and settings.

Settings come from environment variables so credentials never need to be written in a
notebook or a parameter file:

``SHOPBOOK_SOURCE``
    Default data source URI (a DuckDB file, a folder of Parquet/CSV files, or an ibis
    connection URI such as ``postgres://…``). Default: ``data/shop.duckdb``.
``SHOPBOOK_SPARK_MASTER``
    The Spark master a ``spark://`` source starts its session on (``yarn``,
    ``spark://host:7077``, ``k8s://…``, ``local[4]``). Default: ``local[*]``, local mode
    on every core. A Spark session already running in the process is used instead.
``SHOPBOOK_MAPPING``
    Default column-mapping YAML file (see :mod:`shopbook.data.sources`).
``SHOPBOOK_REPORTS``
    Where rendered runs are written. Default: ``reports/``.
``SHOPBOOK_HOME``
    The project folder relative paths are resolved against. Default: the current
    working directory.
``SHOPBOOK_PRIVATE``
    Where files with real customer ids (CRM lists) are written: never into
    ``SHOPBOOK_REPORTS``, the shared folder. Default: ``private/`` at the project root
    (git-ignored).
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SOURCE = "data/shop.duckdb"
DEFAULT_REPORTS = "reports"
DEFAULT_PRIVATE = "private"
#: The settings that may hold credentials (a source URI with its password): their secrets
#: are scrubbed from everything the ``shopbook`` command prints and from reports.
CREDENTIAL_VARIABLES = ("SHOPBOOK_SOURCE", "SHOPBOOK_MAPPING", "SHOPBOOK_SPARK_MASTER")
#: The Spark master of a ``spark://`` source when ``SHOPBOOK_SPARK_MASTER`` is not set.
DEFAULT_SPARK_MASTER = "local[*]"


def home() -> Path:
    """The folder relative paths are resolved against."""
    return Path(os.environ.get("SHOPBOOK_HOME") or Path.cwd())


def resolve_source(source: str | os.PathLike[str] | None = None) -> str:
    """The data source to open: the one place a source's address is decided.

    ``""``/``None`` means ``SHOPBOOK_SOURCE`` (where credentials belong), else
    ``data/shop.duckdb``. A URI (``postgres://…``) is returned as it is. A relative path
    that does not exist from the working directory is looked up in ``SHOPBOOK_HOME`` and
    then in the parent folders up to the project root (the first folder holding
    ``pyproject.toml`` or ``.git``), so a notebook opened in JupyterLab (whose working
    directory is ``notebooks/``) finds ``data/`` at the project root. A path found that
    way is returned relative to the working directory (reports do not show home folders);
    a path found nowhere is returned as given.

    Parameters
    ----------
    source
        A path or URI, or empty for the default.

    Returns
    -------
    str
        The path or URI to pass to :func:`shopbook.data.sources.open_source`.
    """
    text = str(source or "") or os.environ.get("SHOPBOOK_SOURCE") or DEFAULT_SOURCE
    if "://" in text and not text.startswith("file://"):
        return text
    path = Path(text.removeprefix("file://")).expanduser()
    if path.is_absolute() or path.exists():
        return str(path)
    project = os.environ.get("SHOPBOOK_HOME")
    candidates = [Path(project)] if project else []
    candidates += list(Path.cwd().parents)
    for base in candidates:
        if (base / path).exists():
            return os.path.relpath(base / path)
        if (base / "pyproject.toml").exists() or (base / ".git").exists():
            break  # the project root: look no higher
    return str(path)


def default_source() -> str:
    """The data source used when none is given: :func:`resolve_source` of nothing."""
    return resolve_source()


def spark_master() -> str:
    """The Spark master a ``spark://`` source starts on: ``SHOPBOOK_SPARK_MASTER``, else
    ``local[*]`` (local mode, every core)."""
    return os.environ.get("SHOPBOOK_SPARK_MASTER") or DEFAULT_SPARK_MASTER


def default_mapping() -> str | None:
    """The column-mapping file used when none is given, if any."""
    return os.environ.get("SHOPBOOK_MAPPING") or None


def reports_dir() -> Path:
    """Where rendered runs go."""
    return Path(os.environ.get("SHOPBOOK_REPORTS") or home() / DEFAULT_REPORTS)


def private_dir() -> Path:
    """Where files with real customer ids go: ``SHOPBOOK_PRIVATE``, else ``private/``.

    ``private/`` is at the project root (``SHOPBOOK_HOME``, else the first of the working
    directory and its parents holding ``pyproject.toml`` or ``.git``, else the working
    directory), so a notebook run from ``notebooks/`` uses the same folder.
    """
    if os.environ.get("SHOPBOOK_PRIVATE"):
        return Path(os.environ["SHOPBOOK_PRIVATE"])
    if os.environ.get("SHOPBOOK_HOME"):
        return Path(os.environ["SHOPBOOK_HOME"]) / DEFAULT_PRIVATE
    cwd = Path.cwd()
    for base in (cwd, *cwd.parents):
        if (base / "pyproject.toml").exists() or (base / ".git").exists():
            return base / DEFAULT_PRIVATE
    return cwd / DEFAULT_PRIVATE
