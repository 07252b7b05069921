"""Paths and settings.

Settings come from environment variables so credentials never need to be written in a
notebook or a parameter file:

``SHOPBOOK_SOURCE``
    Default data source URI (a DuckDB file, a folder of Parquet/CSV files, or an ibis
    connection URI such as ``postgres://…``). Default: ``data/shop.duckdb``.
``SHOPBOOK_MAPPING``
    Default column-mapping YAML file (see :mod:`shopbook.data.sources`).
``SHOPBOOK_REPORTS``
    Where rendered runs are written. Default: ``reports/``.
``SHOPBOOK_HOME``
    The project folder relative paths are resolved against. Default: the current
    working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SOURCE = "data/shop.duckdb"
DEFAULT_REPORTS = "reports"


def home() -> Path:
    """The folder relative paths are resolved against."""
    return Path(os.environ.get("SHOPBOOK_HOME") or Path.cwd())


def default_source() -> str:
    """The data source used when none is given."""
    return os.environ.get("SHOPBOOK_SOURCE") or str(home() / DEFAULT_SOURCE)


def default_mapping() -> str | None:
    """The column-mapping file used when none is given, if any."""
    return os.environ.get("SHOPBOOK_MAPPING") or None


def reports_dir() -> Path:
    """Where rendered runs go."""
    return Path(os.environ.get("SHOPBOOK_REPORTS") or home() / DEFAULT_REPORTS)
