"""Tables for a reader: one formatting layer, escaped, ids pseudonymised (:func:`show`).

Every table goes through the same steps:

1. **tidy** — an index with a name becomes a column (``cohort``, ``segment``), a leftover
   row number is dropped, column levels are joined;
2. **pseudonymise** id columns (:mod:`~shopbook.notebook.pii`);
3. **format** each column by its kind from the registry (:mod:`~shopbook.notebook.columns`):
   percentages as percentages, money with its currency in the header and sensible
   decimals, counts with thousands separators, p-values as ``<0.001``; the header is the
   column's label in the notebook's language;
4. **display** — a static table (a pandas ``Styler``: text left, numbers right, no
   index) or, for more than :data:`INTERACTIVE_ROWS` rows, an interactive one (itables,
   offline: sort, search, every row) whose static twin shows until its script runs.
   ``text/plain`` is always the plain text table (what nbval compares).

The API (for notebooks and the helpers of other analyses)::

    show(frame, caption="Top SKUs", currency="CNY")   # display
    formatted(frame, currency="CNY")                  # the texts a reader sees
    styled(frame, currency="CNY")                     # a Styler of them (to_html, …)
    set_currency("CNY")                               # the money unit of later tables

Every cell, label and caption is escaped (DESIGN §6): a product named
``<script>alert(1)</script>`` shows as those characters, in the static and the
interactive table alike.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

from shopbook.i18n import _, get_lang, translate
from shopbook.notebook import columns as cols
from shopbook.notebook.formatting import display_text, format_value, plain_value
from shopbook.notebook.pii import PII_COLUMNS, pseudonymise

__all__ = [
    "INTERACTIVE_ROWS",
    "MAX_INTERACTIVE_ROWS",
    "formatted",
    "get_currency",
    "prepare",
    "set_currency",
    "show",
    "styled",
]

#: Tables longer than this are interactive (sort, search, pages) in HTML.
INTERACTIVE_ROWS = 10
#: At most this many rows are fetched and put in an interactive table.
MAX_INTERACTIVE_ROWS = 5_000
DASH = "–"

_STATE: dict[str, Any] = {"currency": None, "library_sent": False, "tables": 0}


def set_currency(currency: str | None) -> None:
    """The currency money columns are labelled with from now on (``None``: unlabelled)."""
    _STATE["currency"] = str(currency) if currency else None


def get_currency() -> str | None:
    """The currency set by :func:`set_currency` (or by ``open_report``)."""
    cur = _STATE["currency"]
    return str(cur) if cur else None


# ------------------------------------------------------------------------------ tidying


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


def _tidy(frame: pd.DataFrame, index: bool | None) -> pd.DataFrame:
    """Named index levels become columns; a leftover row number is dropped."""
    frame = frame.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [
            " ".join(str(p) for p in parts if str(p) != "").strip() for parts in frame.columns
        ]
    named = any(n is not None for n in frame.index.names)
    if index is True or (index is None and named):
        names = [n if n is not None else "" for n in frame.index.names]
        frame.index = frame.index.set_names(names)
        frame = frame.reset_index()
    else:
        frame = frame.reset_index(drop=True)
    frame.columns = [c if isinstance(c, str) else display_text(c) for c in frame.columns]
    return frame


def prepare(
    data: Any,
    max_rows: int = 20,
    show_pii: bool | str | None = None,
    pii_columns: Iterable[str] = PII_COLUMNS,
    index: bool | None = None,
) -> pd.DataFrame:
    """The frame :func:`show` would display: tidied, first ``max_rows`` rows, ids pseudonymised.

    Parameters
    ----------
    data
        A DataFrame, Series, dict of columns or ibis table (only ``max_rows`` rows
        are fetched from the engine).
    max_rows, show_pii, pii_columns, index
        See :func:`show`.
    """
    frame = _tidy(_to_frame(data, max_rows).head(max_rows), index)
    return pseudonymise(frame, pii_columns, show_pii=show_pii)


# ---------------------------------------------------------------------------- formatting


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _money_digits(values: Iterable[Any]) -> int:
    reals = [abs(r) for r in (_real(v) for v in values) if r is not None]
    return 0 if reals and max(reals) >= 1000 else 2


def _fmt(kind: str, value: Any, digits: int = 2) -> str:  # noqa: C901 - one branch per kind
    """One cell as text (not escaped)."""
    if _missing(value):
        return DASH
    value = value if isinstance(value, (pd.Timestamp, datetime, date)) else plain_value(value)
    if isinstance(value, str):  # words with a catalogue entry (segments, layers …) translated
        return display_text(translate(value))
    if isinstance(value, bool):
        return translate(cols.YES) if value else translate(cols.NO)
    v = _real(value)
    if kind == "date" or isinstance(value, (pd.Timestamp, datetime, date)):
        return format_value(value)
    if v is None:
        return format_value(value)
    if kind in ("count", "days"):
        return f"{v:,.0f}" if v == int(v) or abs(v) >= 100 else f"{v:,.1f}"
    if kind == "money":
        return f"{v:,.{digits}f}"
    if kind == "percent":
        return f"{v:.1%}" if v == 0 or abs(v) >= 0.001 else f"{100 * v:.2g}%"
    if kind == "pct100":
        return f"{v:.1f}%"
    if kind == "change":
        return f"{v:+.1%}" if v != 0 else "0.0%"
    if kind == "points":
        return translate(cols.POINTS).format(n=f"{100 * v:+.1f}")
    if kind == "pvalue":
        return "<0.001" if v < 0.001 else f"{v:.3f}"
    if kind == "ratio":
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.2f}" if v == 0 or abs(v) >= 0.1 else f"{v:.2g}"
    return format_value(value)


#: Text columns whose cells are reader texts built from templates (the data-health tables).
_TEMPLATED = ("reason", "missing")

_UNIT_TEXT = {"share": "%", "ratio": "×", "count": "", "days": ""}


def _unit_cell(value: Any, currency: str | None) -> str:
    if _missing(value):
        return DASH
    if value == "money":
        return cols.unit_text(currency) or translate(cols.MONEY)
    if value == "days":
        return translate(cols.DAYS_UNIT)
    return _UNIT_TEXT.get(str(value), display_text(value))


def _column_texts(
    frame: pd.DataFrame, name: str, col: cols.Column, currency: str | None
) -> list[str]:
    series = frame[name]
    if col.kind == "by_row":
        units = frame["unit"].tolist()
        texts = []
        for unit, value in zip(units, series.tolist(), strict=True):
            kind = cols.ROW_KINDS.get(str(unit), "number")
            if kind == "percent" and name == "change":
                kind = "points"
            digits = 0 if (_real(value) is not None and abs(_real(value) or 0) >= 1000) else 2
            texts.append(_fmt(kind, value, digits))
        return texts
    if name == "unit" and any(c in frame.columns for c in ("value", "target")):
        return [_unit_cell(v, currency) for v in series.tolist()]
    if name in _TEMPLATED and col.kind == "text" and get_lang() != "en":
        # reject reasons and readiness notes: templates with the variable part kept
        from shopbook.data import health

        text_of = health.reason_text if name == "reason" else health.missing_text
        return [
            display_text(text_of(v)) if isinstance(v, str) and v else _fmt(col.kind, v, 2)
            for v in series.tolist()
        ]
    digits = _money_digits(series.tolist()) if col.kind == "money" else 2
    return [_fmt(col.kind, v, digits) for v in series.tolist()]


def _layout(
    frame: pd.DataFrame,
    currency: str | None,
    labels: Mapping[str, str] | None,
    kinds: Mapping[str, str] | None,
    percent: Iterable[str] = (),
) -> tuple[pd.DataFrame, list[bool]]:
    """The texts of a tidy frame, its headers, and which columns are numbers."""
    labels, kinds = dict(labels or {}), dict(kinds or {})
    for name in percent:
        kinds.setdefault(name, "percent")
    data: dict[str, list[str]] = {}
    headers: list[str] = []
    numeric: list[bool] = []
    for i, name in enumerate(frame.columns):
        col = cols.column(name, frame[name], frame)
        if name in kinds or name in labels:
            col = cols.Column(labels.get(name, col.label), kinds.get(name, col.kind))
        if col.kind in cols.NUMERIC_KINDS and not pd.api.types.is_numeric_dtype(frame[name]):
            strings = frame[name].map(lambda v: isinstance(v, str)).any()
            col = cols.Column(col.label, "text") if strings and col.kind != "by_row" else col
        data[f"c{i}"] = _column_texts(frame, name, col, currency)
        headers.append(cols.header(col, currency))
        numeric.append(col.kind in cols.NUMERIC_KINDS and name != "unit")
    shown = pd.DataFrame(data, index=pd.RangeIndex(len(frame)))
    seen: dict[str, int] = {}
    for i, h in enumerate(headers):  # two columns, one label: number the later ones
        seen[h] = seen.get(h, 0) + 1
        headers[i] = h if seen[h] == 1 else f"{h} ({seen[h]})"
    shown.columns = headers
    return shown, numeric


def formatted(
    data: Any,
    currency: str | None = None,
    labels: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    index: bool | None = None,
    percent: Iterable[str] = (),
) -> pd.DataFrame:
    """The table as a reader sees it: every cell a text, the headers labels with units.

    Parameters
    ----------
    data
        A DataFrame (or Series, dict of columns). Its columns are looked up in
        :mod:`~shopbook.notebook.columns` (label and kind); unknown ones are guessed.
    currency
        The money unit (default: :func:`get_currency`).
    labels, kinds
        Per-table overrides, ``{column: label}`` and ``{column: kind}``.
    index
        Show the index as columns; default when it has a name.
    percent
        Columns holding fractions to show as percentages (same as ``kinds={c: "percent"}``).

    Returns
    -------
    pandas.DataFrame
        Texts, not escaped (escape for HTML with :func:`styled`), with a plain index.
    """
    frame = _tidy(_to_frame(data, MAX_INTERACTIVE_ROWS), index)
    return _layout(frame, currency or get_currency(), labels, kinds, percent)[0]


def _styler(shown: pd.DataFrame, numeric: list[bool], caption: str | None = None) -> Any:
    from pandas.io.formats.style import Styler

    digest = hashlib.blake2b(
        json.dumps([caption, list(shown.columns), shown.head(20).values.tolist()]).encode(),
        digest_size=4,
    ).hexdigest()
    right = [f"td.col{i}, th.col{i}" for i, n in enumerate(numeric) if n]
    styles = [{"selector": "td, th", "props": "text-align: left;"}]
    if right:
        styles.append({"selector": ", ".join(right), "props": "text-align: right;"})
    sty = (
        Styler(shown, uuid=f"sb{digest}", cell_ids=False)
        .hide(axis="index")
        .format(escape="html")
        .format_index(escape="html", axis=1)
        .set_table_styles(styles)
        .set_table_attributes('class="dataframe shopbook-table"')
    )
    if caption:
        sty = sty.set_caption(html.escape(display_text(caption)))
    return sty


def styled(
    data: Any,
    caption: str | None = None,
    currency: str | None = None,
    labels: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    index: bool | None = None,
    percent: Iterable[str] = (),
) -> Any:
    """A pandas ``Styler`` of :func:`formatted`: escaped, text left, numbers right, no index.

    Parameters are those of :func:`formatted`; ``caption`` (escaped) titles the table.
    """
    frame = _tidy(_to_frame(data, MAX_INTERACTIVE_ROWS), index)
    shown, numeric = _layout(frame, currency or get_currency(), labels, kinds, percent)
    return _styler(shown, numeric, caption)


# ------------------------------------------------------------------------------- display


def _table_id(shown: pd.DataFrame, caption: str | None) -> str:
    _STATE["tables"] += 1
    digest = hashlib.blake2b(
        json.dumps([caption, list(shown.columns), shown.head(50).values.tolist()]).encode(),
        digest_size=5,
    ).hexdigest()
    return f"sbt_{digest}_{_STATE['tables']}"


def _library() -> str:
    """The itables library, inlined once per kernel (no CDN)."""
    if _STATE["library_sent"]:
        return ""
    from itables import javascript as itj
    from itables import options as ito

    _STATE["library_sent"] = True
    # without scripts the static twins show; itables' English <noscript> note is dropped
    return _NOSCRIPT.sub("", itj.generate_init_offline_itables_html(ito.dt_bundle))


_NOSCRIPT = re.compile(r"<noscript>.*?</noscript>", re.S)


#: Shows the interactive table and hides its static twin once the library is there.
_SWAP = (
    '<script type="module">(async () => {{ const swap = () => {{'
    " document.getElementById('{tid}_box')?.removeAttribute('hidden');"
    " document.getElementById('{tid}_static')?.setAttribute('hidden', 'hidden'); }};"
    " if (window.{lib}) {{ await window.{lib}; swap(); }}"
    " else {{ window.addEventListener('{event}', swap); }} }})();</script>"
)


_LOADING = re.compile(r"Loading ITables v.*?\(need <a [^>]*>help</a>\?\)", re.S)


def _interactive(shown: pd.DataFrame, numeric: list[bool], table_id: str, page: int) -> str:
    """An interactive table (hidden) that replaces its static twin once itables runs."""
    from itables import javascript as itj

    defs: list[dict[str, Any]] = [
        {"targets": [i for i, n in enumerate(numeric) if n], "className": "dt-right"},
        {"targets": [i for i, n in enumerate(numeric) if not n], "className": "dt-left"},
    ]
    for i, is_number in enumerate(numeric):
        if is_number:
            defs.append({"targets": i, "type": "num-fmt"})
    args = itj.get_itable_arguments(
        shown,
        None,
        table_id=table_id,
        connected=False,
        allow_html=False,
        showIndex=False,
        maxBytes=0,
        pageLength=page,
        lengthMenu=[page, 50, 200, -1] if page < 50 else [page, 200, -1],
        columnDefs=defs,
        classes="display compact",
        style="table-layout:auto;width:100%;margin:0;caption-side:top",
        order=[],
    )
    args.pop("dt_url")
    args.pop("connected")
    args.pop("display_logo_when_loading", None)
    table = itj.html_table_from_template(
        table_id=table_id,
        dt_url="",
        connected=False,
        display_logo_when_loading=False,
        kwargs=args,
    )
    # itables' placeholder row (English, with a link out) never shows — the box stays
    # hidden until the table is drawn — but a page's text should not carry it either
    table = _LOADING.sub(html.escape(_("Loading the table…")), table, count=1)
    lib, event = itj._itables_underscore_version(), itj._itables_ready_event()
    ready = _SWAP.format(tid=table_id, lib=lib, event=event)
    return f'<div id="{table_id}_box" hidden="hidden">{table}</div>{ready}'


def show(
    data: Any,
    max_rows: int = 20,
    caption: str | None = None,
    show_pii: bool | str | None = None,
    pii_columns: Iterable[str] = PII_COLUMNS,
    index: bool | None = None,
    percent: Iterable[str] = (),
    currency: str | None = None,
    labels: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    interactive: bool | None = None,
) -> None:
    """Display a table safely, formatted by the one formatting layer.

    Every cell, header and the caption is HTML-escaped (a product called
    ``<script>…`` renders as text); id columns (customer, visitor, unit, session and
    order ids, see :func:`~shopbook.notebook.pii.pii_kind`) are pseudonymised unless
    ``show_pii``; each column is written by its kind in
    :mod:`~shopbook.notebook.columns` (percent, money, count …) under its label in the
    notebook's language; missing values show as ``–``.

    Parameters
    ----------
    data
        A DataFrame, Series, dict of columns, or ibis table.
    max_rows
        Rows in the static table and the text; an interactive table holds every row
        (up to :data:`MAX_INTERACTIVE_ROWS`) with pages of ``max_rows``.
    caption
        A title shown above the table (escaped).
    show_pii
        Show real ids. Default: the notebook's :func:`~shopbook.notebook.setup` setting
        (``False``).
    pii_columns
        Further columns treated as personal ids (id-like columns always are).
    index
        Show the index as columns; default when it has a name (a leftover row number
        is never shown).
    percent
        Columns holding fractions to show as percentages (``-0.094`` → ``-9.4%``).
    currency
        The money unit of the headers (default: :func:`get_currency`).
    labels, kinds
        Per-table overrides of the registry, ``{column: label}``, ``{column: kind}``.
    interactive
        An interactive HTML table (sort, search, pages); default when the table has
        more than :data:`INTERACTIVE_ROWS` rows.
    """
    from IPython.display import display

    full = _to_frame(data, MAX_INTERACTIVE_ROWS)
    total = len(full)
    interactive = total > INTERACTIVE_ROWS if interactive is None else interactive
    rows = min(total, MAX_INTERACTIVE_ROWS) if interactive else max_rows
    frame = prepare(full, max_rows=rows, show_pii=show_pii, pii_columns=pii_columns, index=index)
    shown, numeric = _layout(frame, currency or get_currency(), labels, kinds, percent)
    first = shown.head(max_rows)
    parts = []
    if caption:
        parts.append(
            '<div class="shopbook-caption" style="font-weight:600;margin:.3em 0">'
            f"{html.escape(display_text(translate(caption)))}</div>"
        )
    more = ""
    if total > len(first):
        more = _("first {shown:,} of {total:,} rows").format(shown=len(first), total=total)
    static = _styler(first, numeric).to_html()
    if more:
        static += f'<div style="color:#555;font-size:85%">{html.escape(more)}</div>'
    if interactive and len(shown):
        table_id = _table_id(shown, caption)
        parts.append(_library())
        parts.append(f'<div id="{table_id}_static">{static}</div>')
        parts.append(_interactive(shown, numeric, table_id, max(1, min(max_rows, 50))))
    else:
        parts.append(static)
    text = first.to_string(index=False) if len(first.columns) else ""
    if caption:
        text = f"{display_text(translate(caption))}\n{text}"
    if more:
        text = f"{text}\n{more}"
    display({"text/html": "\n".join(p for p in parts if p), "text/plain": text}, raw=True)
