"""Opening a notebook's data: one loader that validates what the notebook needs.

What each report needs is written once, in :data:`shopbook.data.health.REPORT_NEEDS`
(required tables, optional tables); the data-health notebook's readiness table and
:func:`open_report` both read it, so "which tables does 05 read" has one answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from shopbook.config import resolve_source

if TYPE_CHECKING:
    from shopbook.data.validation import ValidationReport

#: The data-health notebook: it validates every contract table the source holds.
DATA_HEALTH = "00_data_health"


def report_tables(notebook: str) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """The ``require`` and ``tables`` arguments of ``validate`` for a notebook.

    Parameters
    ----------
    notebook
        A notebook name (``"05_price_elasticity"``), file name or path.

    Returns
    -------
    require, tables
        The required tables of :data:`~shopbook.data.health.REPORT_NEEDS`, and the
        required plus the optional ones; for :data:`DATA_HEALTH` ``()`` and ``None``
        (every table of the source).

    Raises
    ------
    ValueError
        For a notebook :data:`~shopbook.data.health.REPORT_NEEDS` does not name.
    """
    from shopbook.data.health import REPORT_NEEDS

    name = Path(notebook).stem
    if name == DATA_HEALTH:
        return (), None
    if name not in REPORT_NEEDS:
        known = ", ".join([DATA_HEALTH, *REPORT_NEEDS])
        raise ValueError(
            f"no tables are declared for notebook {notebook!r}: add it to "
            f"shopbook.data.health.REPORT_NEEDS (notebooks known: {known})"
        )
    required, optional = REPORT_NEEDS[name]
    return tuple(required), tuple(required) + tuple(optional)


def open_report(notebook: str, source: str = "", mapping: str = "") -> ValidationReport:
    """Validate the tables a notebook reads; the first line of every notebook.

    Parameters
    ----------
    notebook
        The notebook's name, e.g. ``"01_kpi_brief"`` (a file name or path works too).
    source
        The notebook's ``source`` parameter: a path or URI, empty for
        ``SHOPBOOK_SOURCE`` or ``data/shop.duckdb`` (see
        :func:`shopbook.config.resolve_source`).
    mapping
        The notebook's ``mapping`` parameter: a column-mapping YAML file, empty for none
        (``SHOPBOOK_MAPPING`` then applies).

    Returns
    -------
    ValidationReport
        With the notebook's required and optional tables (and the tables they
        reference) validated; the optional ones only when the source holds them.

    Raises
    ------
    ContractError
        When a required table is missing or empty, or the source breaks the contract.
    ValueError
        For a notebook :data:`~shopbook.data.health.REPORT_NEEDS` does not name.

    Notes
    -----
    The orders' currency becomes the money unit of later tables
    (:func:`~shopbook.notebook.tables.set_currency`).
    """
    from shopbook.data.validation import validate

    require, tables = report_tables(notebook)
    report = validate(
        resolve_source(source), mapping=mapping or None, require=require, tables=tables
    )
    _remember_currency(report)
    return report


def _remember_currency(report: ValidationReport) -> None:
    """The orders' currency labels the money columns of the notebook's tables."""
    from shopbook.notebook.tables import set_currency

    try:
        if report.tables.get("orders") is None or not report.tables["orders"].kept:
            return
        from shopbook.features.orders import currency

        set_currency(currency(report.kept("orders")))
    except Exception:  # noqa: BLE001 - a label is not worth failing the notebook for
        set_currency(None)
