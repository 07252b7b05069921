"""Data-health tables of a validated source, computed in the engine.

:func:`shopbook.data.validation.validate` says which rows were kept and why the others
were rejected. This module describes the *kept* rows for the data-health report
(``notebooks/00_data_health.ipynb``): which contract tables are present, their date
ranges, keys, missing values, and which reports the source can feed.

Every function takes a :class:`~shopbook.data.validation.ValidationReport` and returns
a small pandas DataFrame; the counting runs in the source's engine (one aggregate query
per table), nothing row-level is pulled into Python.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from shopbook.data.contract import TABLES
from shopbook.i18n import get_lang, translate

#: What each report notebook reads: ``(required tables, optional tables)``. A report whose
#: required tables are missing cannot run; optional ones only enable sections. This is
#: what :func:`shopbook.notebook.open_report` validates for the notebook (``require=``
#: the required tables, ``tables=`` both), so the readiness table and the notebooks agree.
#: Tables a listed table references (orders → customers) are validated with it.
REPORT_NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "01_kpi_brief": (("orders",), ("order_items", "sessions", "marketing_spend", "inventory")),
    "02_market_trend": (("orders",), ("order_items", "products")),
    "03_cohort_ltv": (("orders",), ("customers",)),
    "04_rfm_segments": (("orders",), ()),
    "05_price_elasticity": (("orders",), ("order_items", "products")),
    # 06 runs on any source: without assignments it says there is nothing to evaluate
    "06_ab_test": ((), ("assignments", "sessions", "orders")),
    "07_product_inventory": (("orders",), ("order_items", "products", "inventory")),
    # 08 and 09 skip their sections plainly without marketing spend / promotions
    "08_channel_budget": (("orders",), ("customers", "marketing_spend", "order_items")),
    "09_loyalty_promotions": (
        ("orders",),
        ("customers", "order_items", "products", "promotions", "offers"),
    ),
}

_TIME_TYPES = ("timestamp", "date")
_NUMBER_TYPES = ("int64", "float64")


def tables(report: Any) -> pd.DataFrame:
    """Every contract table and whether the source holds it.

    Returns
    -------
    pandas.DataFrame
        Columns ``table, present (bool), read, kept, rejected, description``; one row per
        contract table in contract order (counts are 0 for absent tables).
    """
    rows = []
    for name, contract in TABLES.items():
        h = report.tables.get(name)
        rows.append(
            {
                "table": name,
                "present": h is not None,
                "read": h.read if h else 0,
                "kept": h.kept if h else 0,
                "rejected": h.rejected if h else 0,
                "description": contract.description,
            }
        )
    return pd.DataFrame(
        rows, columns=["table", "present", "read", "kept", "rejected", "description"]
    )


def _column_stats(report: Any, name: str) -> dict[str, Any]:
    """Nulls (all columns) and min/max (time and number columns) of a kept table, one query."""
    t = report.kept(name)
    contract = TABLES[name]
    metrics = {"__rows": t.count()}
    for i, col in enumerate(contract.columns):
        metrics[f"n{i}"] = t[col.name].isnull().sum()
        if col.dtype in _TIME_TYPES + _NUMBER_TYPES:
            metrics[f"lo{i}"] = t[col.name].min()
            metrics[f"hi{i}"] = t[col.name].max()
    return dict(t.aggregate(**metrics).execute().iloc[0])


def _stats(report: Any) -> dict[str, dict[str, Any]]:
    cache = getattr(report, "_health_stats", None)
    if cache is None:
        cache = {name: _column_stats(report, name) for name in report.tables}
        try:
            report._health_stats = cache
        except AttributeError:  # pragma: no cover - a report with __slots__
            pass
    return cache


def date_ranges(report: Any) -> pd.DataFrame:
    """First and last value of every date/timestamp column of the kept rows.

    Returns
    -------
    pandas.DataFrame
        Columns ``table, column, first, last, days`` (``days`` = whole days from first
        to last, inclusive; missing when the column is empty).
    """
    rows = []
    for name in report.tables:
        stats = _stats(report)[name]
        for i, col in enumerate(TABLES[name].columns):
            if col.dtype not in _TIME_TYPES:
                continue
            lo, hi = stats.get(f"lo{i}"), stats.get(f"hi{i}")
            lo = None if lo is None or pd.isna(lo) else pd.Timestamp(lo)
            hi = None if hi is None or pd.isna(hi) else pd.Timestamp(hi)
            days = (
                (hi.normalize() - lo.normalize()).days + 1
                if lo is not None and hi is not None
                else None
            )
            rows.append({"table": name, "column": col.name, "first": lo, "last": hi, "days": days})
    frame = pd.DataFrame(rows, columns=["table", "column", "first", "last", "days"])
    return frame.astype({"days": "Int64"})


def nulls(report: Any, only_missing: bool = False) -> pd.DataFrame:
    """Missing values per column of the kept rows.

    Parameters
    ----------
    only_missing
        Keep only columns with at least one missing value.

    Returns
    -------
    pandas.DataFrame
        Columns ``table, column, nullable (bool), missing, share`` (``share`` of the
        table's kept rows, 0–1). Non-nullable columns have no missing kept values (those
        rows were rejected), so they show 0; optional columns absent from the source
        are all missing.
    """
    rows = []
    for name in report.tables:
        stats = _stats(report)[name]
        n = int(stats["__rows"] or 0)
        for i, col in enumerate(TABLES[name].columns):
            missing = int(stats[f"n{i}"] or 0)
            rows.append(
                {
                    "table": name,
                    "column": col.name,
                    "nullable": col.nullable,
                    "missing": missing,
                    "share": missing / n if n else 0.0,
                }
            )
    frame = pd.DataFrame(rows, columns=["table", "column", "nullable", "missing", "share"])
    return frame[frame["missing"] > 0].reset_index(drop=True) if only_missing else frame


def keys(report: Any) -> pd.DataFrame:
    """Primary and foreign keys of the present tables and what was checked.

    Returns
    -------
    pandas.DataFrame
        Columns ``table, kind ('primary' / 'foreign'), columns, references, checked
        (bool), rejected`` — ``rejected`` is the number of rows rejected by that key's
        rule (duplicates, orphans); ``checked`` is false for a foreign key whose
        referenced table is not in the source.
    """
    rows = []
    for name, h in report.tables.items():
        contract = TABLES[name]
        if contract.primary_key:
            rows.append(
                {
                    "table": name,
                    "kind": "primary",
                    "columns": ", ".join(contract.primary_key),
                    "references": "",
                    "checked": True,
                    "rejected": int(h.reasons.get(contract.key_reason, 0)),
                }
            )
        for fk in contract.foreign_keys:
            ref_present = fk.ref_table in report.tables
            rows.append(
                {
                    "table": name,
                    "kind": "foreign",
                    "columns": ", ".join(fk.columns),
                    "references": f"{fk.ref_table}.{', '.join(fk.ref_columns)}",
                    "checked": ref_present,
                    "rejected": int(h.reasons.get(fk.reason, 0)),
                }
            )
    return pd.DataFrame(
        rows, columns=["table", "kind", "columns", "references", "checked", "rejected"]
    )


def readiness(
    report: Any, needs: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = REPORT_NEEDS
) -> pd.DataFrame:
    """Which reports this source can feed.

    A table counts as available when it is present and has at least one kept row.

    Returns
    -------
    pandas.DataFrame
        Columns ``report, status ('ready' / 'partial' / 'cannot run'), missing`` —
        ``missing`` names the absent tables (required ones first, then the optional
        tables whose sections will be skipped).
    """
    available = {name for name, h in report.tables.items() if h.kept > 0}
    rows = []
    for name, (required, optional) in needs.items():
        miss_req = [t for t in required if t not in available]
        miss_opt = [t for t in optional if t not in available]
        if miss_req:
            status = "cannot run"
            missing = "needs " + ", ".join(miss_req)
        elif miss_opt:
            status = "partial"
            missing = "sections skipped without " + ", ".join(miss_opt)
        else:
            status, missing = "ready", ""
        rows.append({"report": name, "status": status, "missing": missing})
    return pd.DataFrame(rows, columns=["report", "status", "missing"])


def totals(report: Any) -> dict[str, Any]:
    """Headline numbers: tables present, rows read / kept / rejected, rejected share."""
    read = sum(h.read for h in report.tables.values())
    kept = sum(h.kept for h in report.tables.values())
    rejected = sum(h.rejected for h in report.tables.values())
    return {
        "tables": len(report.tables),
        "rows_read": read,
        "rows_kept": kept,
        "rows_rejected": rejected,
        "rejected_share": rejected / read if read else 0.0,
    }


# ------------------------------------------------------------------ reasons for a reader


def _(text: str) -> str:
    """Mark a template for the catalogue; it is looked up when a reason is shown."""
    return text


#: The reject reasons the validation layer writes, as templates: ``(pattern, template)``.
#: The pattern's named groups fill the template's fields (column names, values and line
#: numbers stay as they are). The first match wins, so the specific ones come first.
#: The stored reasons stay English (``_rejected``, tests and the consistency checks
#: match on them); only what a reader sees is translated (:func:`reason_text`).
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), template)
    for pattern, template in (
        (r"unparseable (?P<column>\S+)", _("unparseable {column}")),
        (r"out of range (?P<column>\S+)", _("out of range {column}")),
        (r"ambiguous time zone in (?P<column>\S+)", _("ambiguous time zone in {column}")),
        (r"null (?P<column>\S+)", _("null {column}")),
        (r"non-positive (?P<column>\S+)", _("non-positive {column}")),
        (r"negative (?P<column>\S+)", _("negative {column}")),
        (r"(?P<column>\S+) not above (?P<bound>\S+)", _("{column} not above {bound}")),
        (r"(?P<column>\S+) below (?P<bound>\S+)", _("{column} below {bound}")),
        (r"(?P<column>\S+) in the future", _("{column} in the future")),
        (r"unknown (?P<column>\S+) (?P<value>.+)", _("unknown {column} {value}")),
        (r"unknown (?P<column>\S+)", _("unknown {column}")),
        (r"orphan (?P<table>\S+)", _("orphan {table}")),
        (
            r"duplicate (?P<what>\S+) \(map combine_lines: sum to add them up\)",
            _("duplicate {what} (map combine_lines: sum to add them up)"),
        ),
        (r"duplicate (?P<columns>.+)", _("duplicate {columns}")),
        (r"unmapped (?P<column>\S+) value", _("unmapped {column} value")),
        (
            r"malformed CSV row \((?P<where>[^)]*)\): (?P<got>\d+) fields, expected (?P<want>\d+)",
            _("malformed CSV row ({where}): {got} fields, expected {want}"),
        ),
        (
            r"malformed CSV row \((?P<where>[^)]*)\): (?P<what>.*)",
            _("malformed CSV row ({where}): {what}"),
        ),
        (
            r"undecodable CSV row \((?P<where>[^)]*)\): (?P<what>.*)",
            _("undecodable CSV row ({where}): {what}"),
        ),
        (
            r"unparseable CSV row \((?P<where>[^)]*)\): (?P<what>.*)",
            _("unparseable CSV row ({where}): {what}"),
        ),
    )
)
_LINE = re.compile(r"^(?:(?P<file>.+) )?line (?P<line>\d+)$")


def _where(text: str, lang: str) -> str:
    m = _LINE.match(text)
    if not m:
        return text
    line = translate(_("line {line}"), lang).format(line=m["line"])
    return f"{m['file']} {line}" if m["file"] else line


def reason_text(reason: Any, lang: str | None = None) -> Any:
    """A reject reason as a reader reads it, in ``lang`` (default: the current language).

    The reasons in ``_rejected`` and :meth:`health_table` stay English; this translates
    one for display: a whole-reason catalogue entry (``discount > gross``) or a template
    with the variable part kept (``unknown status`` → ``未知的 status``, ``null sku`` →
    ``sku 为空``). A reason no template fits (and anything not a text) is returned as
    it is.

    Examples
    --------
    >>> reason_text("null order_id", lang="zh")
    'order_id 为空'
    """
    lang = lang or get_lang()
    if lang == "en" or not isinstance(reason, str) or not reason:
        return reason
    whole = translate(reason, lang)
    if whole != reason:
        return whole
    for pattern, template in _REASONS:
        m = pattern.fullmatch(reason)
        if m:
            fields = m.groupdict()
            if "where" in fields:
                fields["where"] = _where(fields["where"], lang)
            return translate(template, lang).format(**fields)
    return reason


def missing_text(text: Any, lang: str | None = None) -> Any:
    """The ``missing`` cell of :func:`readiness` in ``lang`` (table names kept)."""
    lang = lang or get_lang()
    if lang == "en" or not isinstance(text, str) or not text:
        return text
    for prefix, template in (
        ("needs ", _("needs {tables}")),
        ("sections skipped without ", _("sections skipped without {tables}")),
    ):
        if text.startswith(prefix):
            return translate(template, lang).format(tables=text[len(prefix) :])
    return translate(text, lang)
