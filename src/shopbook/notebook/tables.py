"""Tables for a reader: escaped, ids pseudonymised, numbers tidy (:func:`show`)."""

from __future__ import annotations

import hashlib
import html
import numbers
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

from shopbook.notebook.formatting import display_text, format_value, plain_value
from shopbook.notebook.pii import PII_COLUMNS, pseudonymise


def _to_frame(data: Any, max_rows: int) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if hasattr(data, "limit") and hasattr(data, "execute"):  # an ibis table
        return data.limit(max_rows).execute()
    if isinstance(data, Mapping):
        return pd.DataFrame(data)
    return pd.DataFrame(data)


def _cell_formatter(value: Any) -> str:
    if isinstance(value, (numbers.Number, pd.Timestamp, datetime, date)) or value is None:
        return format_value(
            plain_value(value) if not isinstance(value, (pd.Timestamp, datetime, date)) else value
        )
    return display_text(value)


def prepare(
    data: Any,
    max_rows: int = 20,
    show_pii: bool | str | None = None,
    pii_columns: Iterable[str] = PII_COLUMNS,
) -> pd.DataFrame:
    """The frame :func:`show` would display: first ``max_rows`` rows, ids pseudonymised.

    Parameters
    ----------
    data
        A DataFrame, Series, dict of columns or ibis table (only ``max_rows`` rows
        are fetched from the engine).
    max_rows, show_pii, pii_columns
        See :func:`show`.
    """
    frame = _to_frame(data, max_rows)
    frame = frame.head(max_rows)
    return pseudonymise(frame, pii_columns, show_pii=show_pii)


def _numeric_columns(frame: pd.DataFrame) -> list[int]:
    return [
        i
        for i, c in enumerate(frame.columns)
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]


def _style(table_class: str, numeric: list[int], offset: int) -> str:
    """Left-aligned cells, right-aligned numeric columns, scoped to one table's class."""
    style = f"table.{table_class} td, table.{table_class} th {{text-align: left;}}"
    if numeric:
        selectors = ", ".join(
            f"table.{table_class} td:nth-child({i + 1 + offset}), "
            f"table.{table_class} th:nth-child({i + 1 + offset})"
            for i in numeric
        )
        style += f" {selectors} {{text-align: right;}}"
    return style


def _shown_cells(frame: pd.DataFrame, index: bool, percent: Iterable[str]) -> pd.DataFrame:
    """The frame's cells as the texts a reader sees."""
    shown = frame.map(_cell_formatter) if len(frame.columns) else frame
    for col in percent:
        if col in frame.columns:
            shown[col] = [
                format_value(plain_value(v), ".1%") if pd.notna(v) else "–" for v in frame[col]
            ]
    shown = shown.rename(columns=lambda c: display_text(c) if isinstance(c, str) else c)
    if index and not isinstance(frame.index, pd.MultiIndex):
        shown.index = [_cell_formatter(v) for v in frame.index]
        shown.index.name = frame.index.name
    return shown


def show(
    data: Any,
    max_rows: int = 20,
    caption: str | None = None,
    show_pii: bool | str | None = None,
    pii_columns: Iterable[str] = PII_COLUMNS,
    index: bool | None = None,
    percent: Iterable[str] = (),
) -> None:
    """Display a table safely.

    Every cell, column name and the caption is HTML-escaped (a product called
    ``<script>…`` renders as text); id columns (customer, visitor, unit, session and
    order ids, see :func:`~shopbook.notebook.pii.pii_kind`) are pseudonymised unless
    ``show_pii``; numbers are formatted by :func:`~shopbook.notebook.format_value`
    (thousands separators, sensible decimals); missing values show as ``–``.

    Parameters
    ----------
    data
        A DataFrame, Series, dict of columns, or ibis table (only ``max_rows`` rows are
        fetched).
    max_rows
        Rows shown; when the frame is longer a note says how many rows there are.
    caption
        A title shown above the table (escaped).
    show_pii
        Show real ids. Default: the notebook's :func:`~shopbook.notebook.setup` setting
        (``False``).
    pii_columns
        Further columns treated as personal ids (id-like columns always are).
    index
        Show the index; default only when it is not a plain ``RangeIndex``.
    percent
        Columns holding fractions to show as percentages (``-0.094`` → ``-9.4%``).
    """
    from IPython.display import display

    full = _to_frame(data, max_rows)
    total = len(full)
    frame = prepare(full, max_rows=max_rows, show_pii=show_pii, pii_columns=pii_columns)
    if index is None:
        index = not isinstance(frame.index, pd.RangeIndex)
    shown = _shown_cells(frame, index, percent)
    numeric = _numeric_columns(frame)
    offset = frame.index.nlevels if index else 0
    table_class = (
        "sbt-"
        + hashlib.blake2b(
            repr((list(map(str, frame.columns)), numeric, offset)).encode(), digest_size=4
        ).hexdigest()
    )
    table_html = shown.to_html(
        index=index,
        escape=True,
        na_rep="–",
        border=0,
        classes=f"dataframe shopbook-table {table_class}",
        justify="left",
    )
    parts = [f"<style>{_style(table_class, numeric, offset)}</style>"]
    if caption:
        parts.append(
            '<div class="shopbook-caption" style="font-weight:600;margin:.3em 0">'
            f"{html.escape(display_text(caption))}</div>"
        )
    parts.append(table_html)
    if total > len(frame):
        parts.append(
            f'<div style="color:#555;font-size:85%">first {len(frame):,} of {total:,} rows</div>'
        )
    text = shown.to_string(index=index)
    if caption:
        text = f"{display_text(caption)}\n{text}"
    display({"text/html": "\n".join(parts), "text/plain": text}, raw=True)
