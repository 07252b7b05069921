"""The message catalogue: every English string a reader sees has a Chinese entry."""

from __future__ import annotations

import pytest

from shopbook import i18n
from shopbook.i18n import _


def test_every_wrapped_message_has_a_chinese_entry_with_the_same_placeholders() -> None:
    zh = i18n.catalogue("zh")
    found = i18n.messages_in_source()
    missing = {m: where for m, where in found.items() if m not in zh}
    assert not missing, f"{len(missing)} messages without a zh entry: {list(missing.items())[:20]}"
    for message in found:
        assert i18n.placeholders(zh[message]) == i18n.placeholders(message), message


def test_every_catalogue_entry_keeps_its_placeholders() -> None:
    for english, chinese in i18n.catalogue("zh").items():
        assert i18n.placeholders(chinese) == i18n.placeholders(english), english


def test_lookup_follows_the_language_and_falls_back_to_english() -> None:
    assert i18n.get_lang() == "en"
    assert _("Brief (no code)") == "Brief (no code)"
    with i18n.use_lang("zh"):
        assert _("Brief (no code)") == "简报（无代码）"
        assert _("a sentence nobody translated") == "a sentence nobody translated"
    assert i18n.get_lang() == "en"


def test_an_unknown_language_is_an_error() -> None:
    with pytest.raises(ValueError, match="lang must be one of en, zh"):
        i18n.set_lang("fr")


def test_placeholders_are_read_from_format_fields() -> None:
    assert i18n.placeholders("{n:,} of {total} ({share:.1%})") == {"n", "total", "share"}
    assert i18n.placeholders("no fields") == set()
