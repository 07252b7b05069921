"""shopbook.viz.theme: the font pick, the settings, their application, labels and new axes."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib import font_manager

from shopbook.viz import theme


@pytest.fixture
def fonts(monkeypatch):
    """``fonts(*names)``: pretend exactly these fonts are installed."""

    def install(*names: str) -> None:
        entries = [SimpleNamespace(name=n) for n in names]
        monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)

    return install


# ------------------------------------------------------------------ cjk_font


def test_cjk_font_is_an_installed_font_or_none():
    font = theme.cjk_font()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    assert font is None or font in installed


def test_cjk_font_prefers_the_listed_order(fonts):
    fonts("DejaVu Sans", "WenQuanYi Zen Hei", "Noto Sans CJK SC")
    assert theme.cjk_font() == "Noto Sans CJK SC"


def test_cjk_font_falls_back_to_any_font_that_says_it_is_cjk(fonts):
    fonts("DejaVu Sans", "Some CJK Gothic")
    assert theme.cjk_font() == "Some CJK Gothic"


def test_cjk_font_without_an_installed_one_is_the_packaged_noto_sans_cjk(fonts, monkeypatch):
    fonts("DejaVu Sans", "Liberation Serif")
    monkeypatch.setattr(font_manager.fontManager, "addfont", lambda path: None)
    assert theme.cjk_font() == "Noto Sans CJK TC"  # cvttf-notosanscjk-regular's file


def test_cjk_font_none_without_a_chinese_font_or_the_package(fonts, monkeypatch):
    fonts("DejaVu Sans", "Liberation Serif")
    monkeypatch.setattr(theme, "_packaged_cjk_font", lambda: None)
    assert theme.cjk_font() is None


def test_chinese_text_renders_in_an_english_figure_without_missing_glyphs():
    with matplotlib.rc_context(theme.rc("en")):
        fig, ax = plt.subplots()
        ax.set_title("七夕 2024 · 年货节 · 访客数")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph … missing from font(s)" would raise
            fig.canvas.draw()
        plt.close(fig)


# ------------------------------------------------------------------ rc


def test_rc_english_settings_and_nothing_applied():
    before = dict(matplotlib.rcParams)
    params = theme.rc("en")
    assert dict(matplotlib.rcParams) == before  # rc only returns the settings
    assert params["figure.figsize"] == theme.FIGSIZE
    assert params["figure.dpi"] == params["savefig.dpi"] == theme.DPI
    assert params["axes.titlelocation"] == "left"
    assert params["axes.spines.top"] is False and params["axes.spines.right"] is False
    # Latin text in the default sans, Chinese glyphs from the CJK font after it
    assert params["font.family"][-1] == theme.cjk_font()
    assert "axes.unicode_minus" not in params


def test_rc_chinese_puts_the_cjk_font_first(monkeypatch):
    monkeypatch.setattr(theme, "cjk_font", lambda: "Fake CJK Sans")
    params = theme.rc("zh")
    assert params["font.family"][0] == "Fake CJK Sans"
    assert params["font.sans-serif"][0] == "Fake CJK Sans"
    assert params["font.sans-serif"].count("Fake CJK Sans") == 1
    assert params["axes.unicode_minus"] is False


def test_rc_chinese_without_a_font_warns_and_still_gives_the_theme(monkeypatch):
    monkeypatch.setattr(theme, "cjk_font", lambda: None)
    with pytest.warns(UserWarning, match="fonts-noto-cjk"):
        params = theme.rc("zh")
    assert "font.sans-serif" not in params
    assert params["figure.figsize"] == theme.FIGSIZE


# ------------------------------------------------------------------ use


def test_use_applies_the_theme_and_returns_it():
    with matplotlib.rc_context():
        params = theme.use("en")
        assert params == theme.rc("en")
        assert tuple(matplotlib.rcParams["figure.figsize"]) == theme.FIGSIZE
        assert matplotlib.rcParams["axes.titlelocation"] == "left"
        assert matplotlib.rcParams["axes.grid"]  # seaborn whitegrid
        assert plt.get_fignums() == []
    assert theme.apply is theme.use


def test_use_chinese_never_fails_without_a_font(monkeypatch):
    monkeypatch.setattr(theme, "cjk_font", lambda: None)
    with matplotlib.rc_context(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        theme.use("zh")
        assert tuple(matplotlib.rcParams["figure.figsize"]) == theme.FIGSIZE
    assert any("CJK font" in str(w.message) for w in caught)


def test_use_chinese_selects_the_font(monkeypatch):
    monkeypatch.setattr(theme, "cjk_font", lambda: "Fake CJK Sans")
    with matplotlib.rc_context():
        theme.use("zh")
        assert matplotlib.rcParams["font.sans-serif"][0] == "Fake CJK Sans"


# ------------------------------------------------------------------ label / title_of


def test_label_titles_and_appends_units():
    _, ax = plt.subplots()
    out = theme.label(ax, "Net revenue per week", x="Week", y="Net revenue", y_unit="CNY")
    assert out is ax
    assert theme.title_of(ax) == "Net revenue per week"
    assert ax.get_xlabel() == "Week"
    assert ax.get_ylabel() == "Net revenue (CNY)"


def test_label_leaves_what_it_is_not_given():
    _, ax = plt.subplots()
    ax.set_title("kept")
    ax.set_xlabel("kept x")
    theme.label(ax, y="Orders", x_unit="ignored without x")
    assert theme.title_of(ax) == "kept"
    assert ax.get_xlabel() == "kept x"
    assert ax.get_ylabel() == "Orders"
    assert len(ax.texts) == 0


def test_label_source_note_under_the_axes():
    _, ax = plt.subplots()
    theme.label(ax, "t", source="Synthetic shop, 2024")
    assert [t.get_text() for t in ax.texts] == ["Synthetic shop, 2024"]


@pytest.mark.parametrize("loc", ["left", "center", "right"])
def test_title_of_reads_the_title_wherever_it_sits(loc):
    _, ax = plt.subplots()
    ax.set_title("Where", loc=loc)
    assert theme.title_of(ax) == "Where"


def test_title_of_untitled_axes_is_empty():
    _, ax = plt.subplots()
    assert theme.title_of(ax) == ""


# ------------------------------------------------------------------ new_axes


def test_new_axes_returns_the_given_axes_unchanged():
    fig, ax = plt.subplots()
    before = plt.get_fignums()
    assert theme.new_axes(ax) is ax
    assert theme.new_axes(ax, figsize=(2, 2)) is ax
    assert plt.get_fignums() == before
    assert tuple(fig.get_size_inches()) != (2.0, 2.0)


def test_new_axes_makes_one_figure_of_the_theme_size():
    ax = theme.new_axes()
    assert plt.get_fignums() == [ax.figure.number]
    assert tuple(ax.figure.get_size_inches()) == pytest.approx(theme.FIGSIZE)
    ax2 = theme.new_axes(figsize=(3.0, 2.0))
    assert len(plt.get_fignums()) == 2
    assert tuple(ax2.figure.get_size_inches()) == pytest.approx((3.0, 2.0))


# ------------------------------------------------------------------ literal_text, literal_context


def test_literal_text_takes_over_only_the_tick_labels_that_name_data():
    _, ax = plt.subplots()
    ax.bar(["$x^2$", "Tea\u202egpj.exe"], [1.0, 2.0])
    numeric = ax.yaxis.get_major_formatter()
    theme.literal_text(ax)
    assert ax.yaxis.get_major_formatter() is numeric  # numbers are matplotlib's
    assert [t.get_text() for t in ax.get_xticklabels()] == ["$x^2$", "Tea\\u202egpj.exe"]
    assert all(t.get_parse_math() is False for t in ax.get_xticklabels())


def test_literal_text_covers_labels_given_to_set_ticks():
    _, ax = plt.subplots()
    ax.set_yticks([0, 1], ["$a$", "b"])
    ax.set_title("$t$")
    theme.literal_text(ax)
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["$a$", "b"]
    assert not ax.get_yticklabels()[0].get_parse_math()
    assert not ax.title.get_parse_math()


def test_literal_context_makes_texts_literal_and_restores_the_settings():
    _, ax = plt.subplots()
    before = matplotlib.rcParams["text.parse_math"]
    with theme.literal_context(ax):
        assert matplotlib.rcParams["text.parse_math"] is False
        text = ax.text(0, 0, "$\\notacommand{x}$")
        ax.figure.canvas.draw()  # would raise ValueError if parsed as mathtext
    assert matplotlib.rcParams["text.parse_math"] == before
    assert text.get_parse_math() is False
