"""One notebook session's defaults: figure theme, language, whether real ids are shown."""

from __future__ import annotations

import warnings
from typing import Any

_SETTINGS: dict[str, Any] = {"show_pii": False, "lang": "en"}
#: Texts of a true/false parameter (case and surrounding spaces ignored).
_FLAG_TEXTS = {"true": True, "false": False}


class NotebookParameterError(ValueError):
    """A notebook parameter given to :func:`setup` has a value it cannot use."""


def flag(name: str, value: Any) -> bool:
    """A true/false parameter, strictly: a bool, or the text ``"true"`` / ``"false"``.

    ``-p show_pii=false`` may reach a notebook as the string ``"false"``, which Python
    reads as true; this turns it into ``False``. Any other value (``"0"``, ``"no"``,
    ``1``, ``None``) is an error rather than a guess.

    Raises
    ------
    NotebookParameterError
        One line naming the parameter, what was expected and what was found.
    """
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy's bool too
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _FLAG_TEXTS:
        return _FLAG_TEXTS[value.strip().lower()]
    raise NotebookParameterError(
        f"parameter {name} must be true or false, found {value!r} ({type(value).__name__}); "
        f"run with -p {name}=true or -p {name}=false"
    )


def _key_note() -> None:
    """Show (and warn) in the report when pseudonyms use a weak key."""
    from shopbook.notebook import pii

    with warnings.catch_warnings():  # the note below says it once, visibly
        warnings.simplefilter("ignore", pii.WeakKeyWarning)
        text = pii.key_warning()
    if text is None:
        return
    from IPython.display import display

    from shopbook.notebook.formatting import escape

    warnings.warn(text, pii.WeakKeyWarning, stacklevel=3)
    display(
        {
            "text/markdown": f"> ⚠ **Weak pseudonym key:** {escape(text)}",
            "text/plain": f"Weak pseudonym key: {text}",
        },
        raw=True,
    )


def setup(lang: str = "en", show_pii: bool | str = False, theme: bool = True) -> None:
    """Prepare a notebook session: figure theme and the defaults of these helpers.

    Parameters
    ----------
    lang
        ``"en"`` or ``"zh"``: the language of every message from here on
        (:func:`shopbook.i18n.set_lang`); ``"zh"`` also puts the CJK font first for
        figure labels (see :func:`shopbook.viz.theme.use`).
    show_pii
        Default of ``show_pii`` for :func:`~shopbook.notebook.show` and
        :func:`~shopbook.notebook.pseudonymise`: ``False`` pseudonymises customer,
        visitor, unit, session and order ids in displayed tables. A bool or the text
        ``"true"`` / ``"false"`` (see :func:`flag`).
    theme
        Apply the Shopbook figure theme.

    Raises
    ------
    ValueError
        For a ``lang`` other than ``"en"`` / ``"zh"``.
    NotebookParameterError
        For a ``show_pii`` that is neither a bool nor ``"true"`` / ``"false"``.
    shopbook.notebook.pii.PseudonymKeyError
        When ids are pseudonymised and there is no usable key (an empty
        ``SHOPBOOK_PII_SALT``, …): the notebook stops before it shows anything.

    Notes
    -----
    When ids are pseudonymised with a weak key, a note in the report says so.
    """
    _SETTINGS["show_pii"] = flag("show_pii", show_pii)
    from shopbook.i18n import set_lang

    set_lang(lang)
    _SETTINGS["lang"] = lang
    if not _SETTINGS["show_pii"]:
        _key_note()
    if theme:
        from shopbook.viz import theme as _theme

        _theme.use(lang=lang)


def show_pii_default() -> bool:
    """Whether displayed tables show real ids (the ``show_pii`` given to :func:`setup`)."""
    return bool(_SETTINGS["show_pii"])


def language() -> str:
    """The session's language (the ``lang`` given to :func:`setup`; default ``"en"``)."""
    return str(_SETTINGS["lang"])
