"""Helpers for notebooks: key figures, safe sentences, safe tables, pseudonymous ids.

Every notebook imports these instead of formatting data into Markdown or HTML itself::

    from shopbook.report import headline, md, show, skipped, setup, resolve_source

    setup(lang=lang, show_pii=show_pii)          # theme + defaults, once, after parameters
    headline("orders_kept", 12345, unit="orders")  # a key figure the runner collects
    md("Orders run from **{first}** to **{last}**.", first=d0, last=d1)
    show(top_products)                            # escaped, ids pseudonymised, floats tidy
    skipped("Funnel", "no sessions table in the source")

Why
---
*Shared HTML is a publication* (DESIGN §6). A product named ``<script>alert(1)</script>``
must render as text, a customer id must not leave the building unless a parameter says
so, and a report's key figures must reach the run index without side files. These
helpers are the one place where that is done:

* :func:`headline` displays a figure as an output with the custom MIME type
  :data:`HEADLINE_MIME`; the runner reads it back from the executed notebook.
* :func:`md` formats a Markdown template with every value HTML- and Markdown-escaped.
* :func:`show` displays a table with pandas' escaping, pseudonymised id columns and
  readable numbers.
* :func:`pseudonymise` replaces ids with a stable salted hash (``c_3f9a12b4e0``). The salt
  comes from the environment variable ``SHOPBOOK_PII_SALT``; without it a fixed project
  default is used, so pseudonyms are stable across runs and machines (which makes them
  linkable between reports — set your own salt to make them unlinkable to ours).
* :func:`skipped` says plainly that a section was skipped and why (and records it).
"""

from __future__ import annotations

import hashlib
import html
import math
import numbers
import os
import re
import string
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

#: MIME type of a headline figure in a notebook output (read by the runner).
HEADLINE_MIME = "application/vnd.shopbook.headline+json"
#: MIME type of a "section skipped" note in a notebook output (read by the runner).
SKIPPED_MIME = "application/vnd.shopbook.skipped+json"

#: Columns treated as personal identifiers by default.
PII_COLUMNS: tuple[str, ...] = ("customer_id", "visitor_id")
#: Pseudonym prefix per identifier column.
PII_PREFIX: dict[str, str] = {"customer_id": "c_", "visitor_id": "v_", "unit_id": "u_"}
#: Salt used when ``SHOPBOOK_PII_SALT`` is not set.
DEFAULT_SALT = "shopbook-pseudonym-v1"

_settings: dict[str, Any] = {"show_pii": False, "lang": "en"}


# --------------------------------------------------------------------------- setup


def setup(lang: str = "en", show_pii: bool = False, theme: bool = True) -> None:
    """Prepare a notebook session: figure theme and the defaults of these helpers.

    Parameters
    ----------
    lang
        ``"en"`` or ``"zh"``; ``"zh"`` picks a CJK font for figure labels when one is
        installed (see :func:`shopbook.viz.theme.use`).
    show_pii
        Default of ``show_pii`` for :func:`show` and :func:`pseudonymise`: ``False``
        pseudonymises customer and visitor ids in displayed tables.
    theme
        Apply the Shopbook figure theme.
    """
    _settings["show_pii"] = bool(show_pii)
    _settings["lang"] = lang
    if theme:
        from shopbook.viz import theme as _theme

        _theme.use(lang=lang)


def resolve_source(source: str | None = None) -> str:
    """The data source a notebook should open.

    ``""``/``None`` means ``SHOPBOOK_SOURCE`` (where credentials belong), else
    ``data/shop.duckdb``. A relative path that does not exist from the working
    directory is looked up in the parent folders too, so a notebook opened in
    JupyterLab (whose working directory is ``notebooks/``) finds ``data/`` at the
    project root.

    Parameters
    ----------
    source
        A path or URI, or empty for the default.

    Returns
    -------
    str
        The path or URI to pass to :func:`shopbook.data.sources.open_source`.
    """
    from shopbook import config

    text = source or os.environ.get("SHOPBOOK_SOURCE") or config.DEFAULT_SOURCE
    if "://" in text and not text.startswith("file://"):
        return text
    path = Path(text.removeprefix("file://")).expanduser()
    if path.is_absolute() or path.exists():
        return str(path)
    home = os.environ.get("SHOPBOOK_HOME")
    candidates = [Path(home)] if home else []
    candidates += list(Path.cwd().parents)
    for base in candidates:
        if (base / path).exists():
            return os.path.relpath(base / path)  # relative: reports do not show home folders
        if (base / "pyproject.toml").exists() or (base / ".git").exists():
            break  # the project root: look no higher
    return str(path)


# ------------------------------------------------------------------------ formatting


def _plain(value: Any) -> Any:
    """A JSON-friendly Python scalar for numpy/pandas scalars and dates."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):
        return _plain(value.item())
    return str(value)


def format_value(value: Any, fmt: str | None = None) -> str:
    """Format a figure for a reader.

    Parameters
    ----------
    value
        A number, date, string or ``None``.
    fmt
        A :func:`format` spec (``",.0f"``, ``".1%"``); by default integers get thousands
        separators, large floats none of their decimals, small floats three significant
        digits, dates ISO form, missing values an en dash.

    Returns
    -------
    str
        The text (not escaped).
    """
    if value is None:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if fmt:
        return format(value, fmt)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        if value.tz is None and value == value.normalize():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v):
            return str(v)
        if v == int(v) and abs(v) >= 1:
            return f"{v:,.0f}"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:,.2f}"
        return f"{v:.3g}"
    return str(value)


# Markdown punctuation to backslash-escape. ``<``, ``>`` and ``&`` are left to the HTML
# escape that follows (a backslash before an entity would print the entity literally).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~$:])")


def escape(value: Any) -> str:
    """Escape text for Markdown *and* HTML: it renders as the literal characters."""
    # Markdown first, HTML second: escaping in the other order would backslash the ``#``
    # of entities such as ``&#x27;`` and print "don&#x27;t" instead of "don't".
    return html.escape(_MD_SPECIAL.sub(r"\\\1", str(value)), quote=True)


class _SafeFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        return escape(format_value(value, format_spec or None))

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        # !r / !s would hand back text that bypasses our number formatting; keep them.
        return super().convert_field(value, conversion)


class Markdown:
    """Markdown text that displays as Markdown (``text/plain`` is the source)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Markdown) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def md(template: str, /, **values: Any) -> Markdown:
    """A Markdown sentence with data values escaped.

    The template is trusted text written in the notebook; each ``{name}`` or
    ``{name:spec}`` is filled from ``values``, formatted by :func:`format_value`
    (or the spec) and then escaped so that ``<script>``, ``*`` or ``[x](y)`` in a value
    renders as those characters.

    Parameters
    ----------
    template
        Markdown with ``str.format`` fields.
    **values
        The data values.

    Returns
    -------
    Markdown
        Displays as Markdown when it is a cell's last expression (or via ``display``).

    Examples
    --------
    >>> md("Best seller: **{name}** ({n} units)", name="<b>Tea</b>", n=1200).text
    'Best seller: **&lt;b&gt;Tea&lt;/b&gt;** (1,200 units)'
    """
    return Markdown(_SafeFormatter().vformat(template, (), values))


# ------------------------------------------------------------------------- headline


def headline(
    name: str, value: Any, unit: str | None = None, fmt: str | None = None, label: str | None = None
) -> None:
    """Mark a key figure of the report.

    Displays the figure (HTML and text) and embeds it in the output under the MIME type
    :data:`HEADLINE_MIME`, so it survives papermill in the executed notebook and the
    runner lists it in ``summary.json`` and the run index. No side files.

    Parameters
    ----------
    name
        A short stable key, e.g. ``"orders_kept"``; used as the label unless ``label``
        is given.
    value
        A number, date or short string (numpy/pandas scalars are converted).
    unit
        Unit shown after the value (``"orders"``, ``"CNY"``, ``"%"``).
    fmt
        A :func:`format` spec for the value (default: :func:`format_value`).
    label
        Human label (default: ``name`` with underscores as spaces, capitalised).
    """
    from IPython.display import display

    plain = _plain(value)
    text = format_value(value if plain is None or isinstance(plain, str) else plain, fmt)
    label = label or name.replace("_", " ").capitalize()
    unit_txt = f" {unit}" if unit else ""
    payload = {"name": name, "label": label, "value": plain, "unit": unit, "text": text}
    bundle = {
        HEADLINE_MIME: payload,
        "text/plain": f"{label}: {text}{unit_txt}",
        "text/html": (
            '<div class="shopbook-headline" style="display:inline-block;margin:0 1.5em .5em 0">'
            f'<div style="font-size:85%;color:#555">{html.escape(label)}</div>'
            f'<div style="font-size:160%;font-weight:600">{html.escape(text)}'
            f'<span style="font-size:60%;font-weight:400;color:#555">{html.escape(unit_txt)}</span>'
            "</div></div>"
        ),
    }
    display(bundle, raw=True)


def skipped(section: str, reason: str) -> None:
    """Say plainly that a section was skipped, and why.

    Parameters
    ----------
    section
        The section's title, e.g. ``"Funnel"``.
    reason
        Why, e.g. ``"no sessions table in the source"``.
    """
    from IPython.display import display

    text = f"**{escape(section)} skipped:** {escape(reason)}"
    display(
        {
            SKIPPED_MIME: {"section": str(section), "reason": str(reason)},
            "text/markdown": f"> ⓘ {text}",
            "text/plain": f"{section} skipped: {reason}",
        },
        raw=True,
    )


# --------------------------------------------------------------------- pseudonymise


def _salt() -> str:
    return os.environ.get("SHOPBOOK_PII_SALT") or DEFAULT_SALT


def pseudonym(value: Any, prefix: str = "c_") -> Any:
    """The pseudonym of one id: ``prefix`` + 10 hex digits of a salted BLAKE2b hash.

    Missing values stay missing.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return value
    digest = hashlib.blake2b(str(value).encode(), key=_salt().encode()[:64], digest_size=5)
    return prefix + digest.hexdigest()


def pseudonymise(
    data: pd.DataFrame | pd.Series,
    columns: Iterable[str] = PII_COLUMNS,
    show_pii: bool | None = None,
) -> pd.DataFrame | pd.Series:
    """Replace personal ids with stable salted pseudonyms.

    Parameters
    ----------
    data
        A DataFrame (the listed ``columns`` that it has are replaced; an index level
        with one of those names too) or a Series (replaced as a whole; its name picks
        the prefix).
    columns
        Identifier columns; default ``("customer_id", "visitor_id")``.
    show_pii
        ``True`` returns ``data`` unchanged. Default: the notebook's :func:`setup`
        setting (``False`` unless set).

    Returns
    -------
    DataFrame or Series
        A copy; the same id always maps to the same pseudonym (for a given
        ``SHOPBOOK_PII_SALT``), so joins and counts still work.
    """
    if show_pii is None:
        show_pii = _settings["show_pii"]
    if show_pii:
        return data
    columns = [columns] if isinstance(columns, str) else list(columns)

    def _map(values: pd.Series | pd.Index, name: str | None) -> Any:
        prefix = PII_PREFIX.get(str(name), "id_")
        uniq = pd.unique(values)
        lookup = {v: pseudonym(v, prefix) for v in uniq if not (v is None or v != v)}
        return values.map(lambda v: lookup.get(v, v) if not (v is None or v != v) else v)

    if isinstance(data, pd.Series):
        name = data.name if data.name in PII_PREFIX else "customer_id"
        return pd.Series(_map(data, name).astype(object), index=data.index, name=data.name)
    out = data.copy()
    for col in columns:
        if col in out.columns:
            out[col] = _map(out[col], col).astype(object)
    if any(n in columns for n in (out.index.names or [])):
        if isinstance(out.index, pd.MultiIndex):
            levels = [
                _map(out.index.get_level_values(i), n)
                if n in columns
                else out.index.get_level_values(i)
                for i, n in enumerate(out.index.names)
            ]
            out.index = pd.MultiIndex.from_arrays(levels, names=out.index.names)
        else:
            out.index = pd.Index(_map(out.index, out.index.name), name=out.index.name)
    return out


# ----------------------------------------------------------------------------- show


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
            _plain(value) if not isinstance(value, (pd.Timestamp, datetime, date)) else value
        )
    return str(value)


def prepare(
    data: Any,
    max_rows: int = 20,
    show_pii: bool | None = None,
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
    return pseudonymise(frame, pii_columns, show_pii=show_pii)  # type: ignore[return-value]


def show(
    data: Any,
    max_rows: int = 20,
    caption: str | None = None,
    show_pii: bool | None = None,
    pii_columns: Iterable[str] = PII_COLUMNS,
    index: bool | None = None,
    percent: Iterable[str] = (),
) -> None:
    """Display a table safely.

    Every cell, column name and the caption is HTML-escaped (a product called
    ``<script>…`` renders as text); customer/visitor id columns are pseudonymised unless
    ``show_pii``; numbers are formatted by :func:`format_value` (thousands separators,
    sensible decimals); missing values show as ``–``.

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
        Show real ids. Default: the notebook's :func:`setup` setting (``False``).
    pii_columns
        Columns treated as personal ids.
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
    shown = frame.map(_cell_formatter) if len(frame.columns) else frame
    for col in percent:
        if col in frame.columns:
            shown[col] = [
                format_value(_plain(v), ".1%") if pd.notna(v) else "–" for v in frame[col]
            ]
    if index and not isinstance(frame.index, pd.MultiIndex):
        shown.index = [_cell_formatter(v) for v in frame.index]
        shown.index.name = frame.index.name
    numeric = [
        i
        for i, c in enumerate(frame.columns)
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
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
    parts = []
    style = f"table.{table_class} td, table.{table_class} th {{text-align: left;}}"
    if numeric:
        selectors = ", ".join(
            f"table.{table_class} td:nth-child({i + 1 + offset}), table.{table_class} th:nth-child({i + 1 + offset})"
            for i in numeric
        )
        style += f" {selectors} {{text-align: right;}}"
    parts.append(f"<style>{style}</style>")
    if caption:
        parts.append(
            f'<div class="shopbook-caption" style="font-weight:600;margin:.3em 0">{html.escape(caption)}</div>'
        )
    parts.append(table_html)
    if total > len(frame):
        parts.append(
            f'<div style="color:#555;font-size:85%">first {len(frame):,} of {total:,} rows</div>'
        )
    text = shown.to_string(index=index)
    if caption:
        text = f"{caption}\n{text}"
    display({"text/html": "\n".join(parts), "text/plain": text}, raw=True)


__all__ = [
    "HEADLINE_MIME",
    "SKIPPED_MIME",
    "PII_COLUMNS",
    "Markdown",
    "escape",
    "format_value",
    "headline",
    "md",
    "prepare",
    "pseudonym",
    "pseudonymise",
    "resolve_source",
    "setup",
    "show",
    "skipped",
]
