"""Outputs the runner reads back from an executed notebook: headline figures and skips.

Each is displayed as a MIME bundle with a Shopbook MIME type next to its HTML and text,
so it survives papermill inside the executed notebook and needs no side files;
:mod:`shopbook.report.render` collects them into ``summary.json`` and the run index.
"""

from __future__ import annotations

import html
from typing import Any

from shopbook.i18n import _
from shopbook.notebook.formatting import escape, format_value, plain_value

#: MIME type of a headline figure in a notebook output (read by the runner).
HEADLINE_MIME = "application/vnd.shopbook.headline+json"
#: MIME type of a "section skipped" note in a notebook output (read by the runner).
SKIPPED_MIME = "application/vnd.shopbook.skipped+json"


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
        A :func:`format` spec for the value (default:
        :func:`~shopbook.notebook.format_value`).
    label
        Human label (default: ``name`` with underscores as spaces, capitalised).
    """
    from IPython.display import display

    plain = plain_value(value)
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
            '<span style="font-size:60%;font-weight:400;color:#555">'
            f"{html.escape(unit_txt)}</span>"
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

    said = _("{section} skipped:")
    text = f"**{said.format(section=escape(section))}** {escape(reason)}"
    display(
        {
            SKIPPED_MIME: {"section": str(section), "reason": str(reason)},
            "text/markdown": f"> ⓘ {text}",
            "text/plain": f"{said.format(section=section)} {reason}",
        },
        raw=True,
    )
