"""Headline cards and decision lines: the top of a brief (issue 17).

A brief opens with a notebook's *Decision* section: a row of **cards** — the headline
numbers, each with its unit and its change against the previous window, coloured by
whether that change is good news — and a few **lines** saying what changed, what it means
and what to do. Both are built here from small frames or values, so a notebook only says
*which* numbers it shows::

    from shopbook.notebook.cards import Card, cards, cards_from_table, say

    cards(cards_from_table(kpis.table, ["gmv", "orders", "new_customers"], currency="CNY"))
    cards([Card("Rows rejected", 12, unit="rows", better="down")])
    say("**Do:** call the {n:,} customers of the wake-up list.", n=412)

Every text is escaped (a label or value from the data renders as its characters) and
translated: card labels, units and the templates of :func:`say` go through
:func:`shopbook.i18n.translate` before they are formatted, so a ``lang="zh"`` run shows
them in Chinese (entries in ``shopbook/i18n/zh/notebooks.yml``;
``tests/test_i18n_notebooks.py`` checks every literal a notebook passes).

Colour: a change is *good* (green) when it goes the way ``better`` says (``"up"`` or
``"down"``), *bad* (red) the other way, *flat* (grey) when it is below ``flat`` in size
(default 0.5 %), and *neutral* (grey) when ``better`` is ``None`` or there is no change.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from shopbook.i18n import translate
from shopbook.notebook.formatting import Markdown, format_value, md, plain_value

__all__ = [
    "CARDS_MIME",
    "LOWER_IS_BETTER",
    "Card",
    "cards",
    "cards_from_table",
    "cards_html",
    "say",
    "tone",
]

#: MIME type of a row of cards in a notebook output (the brief's CSS styles them).
CARDS_MIME = "application/vnd.shopbook.cards+json"

#: Metrics whose fall is good news (the rest: a rise is).
LOWER_IS_BETTER = frozenset(
    {
        "cac",
        "churn_rate",
        "refund_rate",
        "rows_rejected",
        "rejected_share",
        "red",
        "amber",
        "overstock",
        "days_of_cover",
        "split_failures",
        "holdout_error_pct",
    }
)

_TONES = {
    "good": ("#1b5e20", "#e8f5e9"),
    "bad": ("#b71c1c", "#fdecea"),
    "flat": ("#555555", "#f1f1f1"),
    "neutral": ("#555555", "#f1f1f1"),
}


@dataclass(frozen=True)
class Card:
    """One headline number.

    Parameters
    ----------
    label
        What it is ("GMV", "Paid orders"); translated when shown.
    value
        The number (or a short text / date).
    unit
        Shown after the value ("CNY", "orders"); translated when shown.
    fmt
        A :func:`format` spec of the value (``",.0f"``, ``".1%"``; default
        :func:`~shopbook.notebook.format_value`).
    change
        Relative change against the previous window (0.05 is +5 %), or ``None``.
    change_fmt
        Format spec of ``change`` (default ``"+.1%"``).
    versus
        The period the change is against ("2024-12-16 to 2024-12-22"); shown small
        as "vs …" (translated).
    better
        ``"up"``, ``"down"`` or ``None`` (a change that is neither good nor bad).
    note
        A short line under the value (already in the reader's language).
    """

    label: str
    value: Any
    unit: str | None = None
    fmt: str | None = None
    change: float | None = None
    change_fmt: str = "+.1%"
    versus: str | None = None
    better: str | None = "up"
    note: str | None = None


def tone(change: float | None, better: str | None, flat: float = 0.005) -> str:
    """``"good"``, ``"bad"``, ``"flat"`` or ``"neutral"`` for a change and its direction.

    Parameters
    ----------
    change
        The relative change (``None`` or NaN: ``"neutral"``).
    better
        ``"up"``: a rise is good; ``"down"``: a fall is good; ``None``: neither.
    flat
        Changes smaller than this in size are ``"flat"``.

    Raises
    ------
    ValueError
        For a ``better`` other than ``"up"``, ``"down"`` or ``None``.
    """
    if better not in ("up", "down", None):
        raise ValueError(f"better must be 'up', 'down' or None, got {better!r}")
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return "neutral"
    if abs(change) < flat:
        return "flat"
    if better is None:
        return "neutral"
    return "good" if (change > 0) == (better == "up") else "bad"


def _arrow(change: float | None) -> str:
    if change is None or (isinstance(change, float) and math.isnan(change)) or change == 0:
        return ""
    return "▲ " if change > 0 else "▼ "


def _versus(period: str) -> str:
    return translate("vs {period}").format(period=period)


def _text(card: Card) -> tuple[str, str, str]:
    """The card's label, value (with unit) and change, as a reader reads them."""
    plain = plain_value(card.value)
    value = format_value(card.value if plain is None or isinstance(plain, str) else plain, card.fmt)
    unit = translate(card.unit) if card.unit else ""
    change = "" if card.change is None else format_value(card.change, card.change_fmt)
    return translate(card.label), f"{value} {unit}".strip(), change


def cards_html(items: Iterable[Card]) -> str:
    """The cards as one HTML block (inline styles, every text escaped)."""
    parts = []
    for card in items:
        label, value, change = _text(card)
        t = tone(card.change, card.better)
        fg, bg = _TONES[t]
        delta = ""
        if change:
            versus = (
                f' <span class="sb-versus">{html.escape(_versus(card.versus))}</span>'
                if card.versus
                else ""
            )
            delta = (
                f'<div class="sb-delta sb-{t}" style="color:{fg};background:{bg};'
                'display:inline-block;border-radius:3px;padding:0 .4em;font-size:85%">'
                f"{_arrow(card.change)}{html.escape(change)}</div>{versus}"
            )
        note = (
            '<div class="sb-card-note" style="font-size:80%;color:#666">'
            f"{html.escape(card.note)}</div>"
            if card.note
            else ""
        )
        parts.append(
            '<div class="sb-card" style="display:inline-block;vertical-align:top;min-width:10em;'
            "margin:0 .6em .6em 0;padding:.5em .8em;border:1px solid #ddd;border-radius:6px;"
            'background:#fff">'
            '<div class="sb-card-label" style="font-size:85%;color:#555">'
            f"{html.escape(label)}</div>"
            f'<div class="sb-card-value" style="font-size:160%;font-weight:600">'
            f"{html.escape(value)}</div>{delta}{note}</div>"
        )
    return '<div class="sb-cards">' + "".join(parts) + "</div>"


def _plain(items: Sequence[Card]) -> str:
    lines = []
    for card in items:
        label, value, change = _text(card)
        versus = f" {_versus(card.versus)}" if card.versus else ""
        lines.append(f"{label}: {value}" + (f" ({change}{versus})" if change else ""))
    return "\n".join(lines)


def cards(items: Iterable[Card]) -> None:
    """Display a row of cards (HTML, with a plain-text version for nbval and terminals)."""
    from IPython.display import display

    items = list(items)
    payload = [
        {
            "label": _text(c)[0],
            "value": plain_value(c.value),
            "text": _text(c)[1],
            "change": plain_value(c.change),
            "tone": tone(c.change, c.better),
        }
        for c in items
    ]
    display(
        {CARDS_MIME: payload, "text/html": cards_html(items), "text/plain": _plain(items)},
        raw=True,
    )


#: How a KPI table's ``unit`` kinds are shown on a card: format spec and unit text.
_KINDS = {"share": (".1%", None), "ratio": (".2f", None), "count": (",.0f", None)}


def cards_from_table(
    table: pd.DataFrame,
    metrics: Sequence[str],
    currency: str | None = None,
    versus: str | None = None,
    key: str = "metric",
) -> list[Card]:
    """Cards for some rows of a KPI-style table.

    Parameters
    ----------
    table
        One row per metric with columns ``metric`` (or ``key``), ``label``, ``value``,
        ``unit`` (``money`` / ``count`` / ``share`` / ``ratio`` / ``days``) and, when
        there is a previous window, ``change_pct`` (relative change).
    metrics
        The metrics to show, in order; one the table lacks is left out.
    currency
        Unit of ``money`` rows.
    versus
        The period the change is against, e.g. ``"2024-12-16 to 2024-12-22"``.
    key
        The column naming the metric.

    Returns
    -------
    list of Card
        ``better`` is ``"down"`` for :data:`LOWER_IS_BETTER` metrics.
    """
    rows = table.set_index(key)
    out = []
    for name in metrics:
        if name not in rows.index:
            continue
        row = rows.loc[name]
        kind = str(row.get("unit", ""))
        fmt, unit = _KINDS.get(kind, (",.2f" if kind == "money" else None, None))
        if kind == "money":
            unit = currency
            value = float(row["value"])
            fmt = ",.0f" if abs(value) >= 1000 else ",.2f"
        elif kind == "days":
            unit = "days"
        change = row.get("change_pct")
        change = None if change is None or pd.isna(change) else float(change)
        out.append(
            Card(
                str(row.get("label", name)),
                row["value"],
                unit=unit,
                fmt=fmt,
                change=change,
                versus=versus if change is not None else None,
                better="down" if name in LOWER_IS_BETTER else "up",
            )
        )
    return out


def say(template: str, /, **values: Any) -> Markdown:
    """A decision line: ``template`` translated, then filled like :func:`~shopbook.notebook.md`.

    The template is the notebook's English text (the key of its Chinese entry); values
    are formatted and escaped. Returns Markdown that displays as the cell's last value —
    or call :func:`IPython.display.display` on it.
    """
    return md(translate(template), **values)
