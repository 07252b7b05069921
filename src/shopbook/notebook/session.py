"""One notebook session's defaults: figure theme, language, whether real ids are shown."""

from __future__ import annotations

from typing import Any

_SETTINGS: dict[str, Any] = {"show_pii": False, "lang": "en"}


def setup(lang: str = "en", show_pii: bool = False, theme: bool = True) -> None:
    """Prepare a notebook session: figure theme and the defaults of these helpers.

    Parameters
    ----------
    lang
        ``"en"`` or ``"zh"``; ``"zh"`` picks a CJK font for figure labels when one is
        installed (see :func:`shopbook.viz.theme.use`).
    show_pii
        Default of ``show_pii`` for :func:`~shopbook.notebook.show` and
        :func:`~shopbook.notebook.pseudonymise`: ``False`` pseudonymises customer and
        visitor ids in displayed tables.
    theme
        Apply the Shopbook figure theme.
    """
    _SETTINGS["show_pii"] = bool(show_pii)
    _SETTINGS["lang"] = lang
    if theme:
        from shopbook.viz import theme as _theme

        _theme.use(lang=lang)


def show_pii_default() -> bool:
    """Whether displayed tables show real ids (the ``show_pii`` given to :func:`setup`)."""
    return bool(_SETTINGS["show_pii"])


def language() -> str:
    """The session's language (the ``lang`` given to :func:`setup`; default ``"en"``)."""
    return str(_SETTINGS["lang"])
