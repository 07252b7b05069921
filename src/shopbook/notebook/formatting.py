"""Figures and sentences for a reader: number formatting and Markdown-and-HTML escaping.

*Shared HTML is a publication* (DESIGN §6): a value from the data — a product called
``<script>alert(1)</script>``, a name with ``*`` or ``[x](y)`` in it — must render as the
literal characters. :func:`md` is the one way a notebook puts data values into a sentence.
Bidirectional control characters (``\\u202e`` and its kin), which would reverse a displayed
name, are shown as their code by :func:`~shopbook.display.display_text` — re-exported
here — in :func:`format_value` and :func:`escape`, as in every figure.
"""

from __future__ import annotations

import html
import math
import numbers
import re
import string
from datetime import date, datetime
from typing import Any

import pandas as pd

from shopbook.display import display_text

__all__ = ["Markdown", "display_text", "escape", "format_value", "md", "plain_value"]


def plain_value(value: Any) -> Any:
    """A JSON-friendly Python scalar for numpy/pandas scalars and dates.

    Missing values become ``None``, integers ``int``, reals ``float``, dates ISO text;
    anything else its ``str``.
    """
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
        return plain_value(value.item())
    return str(value)


def _format_number(value: numbers.Real) -> str:
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
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
        The text (not escaped for Markdown or HTML; bidirectional controls shown as their
        code, :func:`~shopbook.display.display_text`).
    """
    if value is None:
        return "–"
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if fmt:
        return format(display_text(value) if isinstance(value, str) else value, fmt)
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
    if isinstance(value, numbers.Real):
        return _format_number(value)
    return display_text(value)


# Markdown punctuation to backslash-escape. ``<``, ``>`` and ``&`` are left to the HTML
# escape that follows (a backslash before an entity would print the entity literally).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~$:])")


def escape(value: Any) -> str:
    """Escape text for Markdown *and* HTML: it renders as the literal characters.

    Bidirectional control characters are shown as their code first
    (:func:`~shopbook.display.display_text`), so they cannot reorder what is displayed.
    """
    # Markdown first, HTML second: escaping in the other order would backslash the ``#``
    # of entities such as ``&#x27;`` and print "don&#x27;t" instead of "don't".
    return html.escape(_MD_SPECIAL.sub(r"\\\1", display_text(value)), quote=True)


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
