"""Text a reader sees: a name from the data shows the characters it holds, in their order.

Unicode's bidirectional controls — the characters with the ``Bidi_Control`` property:
U+061C, U+200E, U+200F, U+202A–U+202E and U+2066–U+2069 — are invisible and reorder
the text around them. A product called ``"Tea\\u202egpj.exe"`` displays as ``Teaexe.jpg``,
and a name can be made to read as another one. :func:`display_text` replaces each of
them by its escaped code point, ``\\u202e``, in plain sight.

Why the code and not ``�`` (U+FFFD): it says what the data holds, so the row can be
found and fixed in the source, and two different hostile names stay different on the
page. Legitimate right-to-left names (Arabic, Hebrew) need no controls to display and
are left as they are; only the controls are replaced.

This is the one place that rule lives: :mod:`shopbook.notebook.formatting` (Markdown,
HTML tables) and :mod:`shopbook.viz.theme` (every figure's texts) both call it.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["BIDI_CONTROLS", "display_text"]

#: The Unicode ``Bidi_Control`` characters (Unicode 15, PropList.txt).
BIDI_CONTROLS: frozenset[str] = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")


def _code(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def display_text(value: Any) -> str:
    """``str(value)`` with every bidirectional control character shown as its code.

    Parameters
    ----------
    value
        Any value; it is shown as ``str(value)``.

    Returns
    -------
    str
        The text, each of :data:`BIDI_CONTROLS` replaced by ``\\uXXXX`` (lower-case hex,
        six visible characters). Text without them is returned unchanged, so applying it
        twice gives the same text as once.

    Examples
    --------
    >>> display_text("Tea\\u202egpj.exe")
    'Tea\\\\u202egpj.exe'
    >>> display_text("شاي")
    'شاي'
    """
    text = str(value)
    return _BIDI.sub(_code, text)
