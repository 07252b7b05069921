"""The one figure theme of Shopbook.

Call :func:`use` once per session (``shopbook.notebook.setup`` does it for notebooks).
Plotting functions elsewhere in :mod:`shopbook.viz` take ``ax=None``, draw on it (or on
a new figure of the theme's size) and return the axes; they touch no other global
pyplot state. :func:`label` gives every figure a title and axis labels with units.

Chinese text renders in every figure: the theme's font list falls back, glyph by glyph, to
a CJK font — an installed one (Noto Sans CJK, Source Han Sans, WenQuanYi, …) or else Noto
Sans CJK from the ``cvttf-notosanscjk-regular`` package, a Shopbook dependency that only
ships the font file (no system package is needed). ``lang="zh"`` puts the CJK font first.
When neither is there the theme still applies, and with ``lang="zh"`` a warning says which
package to install.

Every text of a Shopbook figure shows its literal characters (:func:`literal_text`, which
:func:`label` applies): a category named ``$x^2$`` is drawn as those five characters, not
as mathematics, and ``$\\notacommand{x}$`` draws instead of failing; bidirectional
control characters are shown as their code (:func:`shopbook.display.display_text`).
Mathtext is turned off text by text, not with the ``text.parse_math`` setting, because
matplotlib's own log-axis tick labels (``$\\mathdefault{10^{3}}$``) rely on it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.category import StrCategoryFormatter
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, FixedLocator, Formatter, FuncFormatter

from shopbook.display import display_text

#: Fonts that cover Chinese, in order of preference.
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "AR PL UMing CN",
    "Noto Serif CJK SC",
)

#: Figure size in inches at 100 dpi: readable at report width (~800 px).
FIGSIZE = (8.0, 4.5)
DPI = 100

#: One categorical palette for every figure.
PALETTE = "colorblind"


def _packaged_cjk_font() -> str | None:
    """Register the Noto Sans CJK file that ``cvttf-notosanscjk-regular`` ships; its name."""
    try:
        import cvttf_NotoSansCJK_Regular as packaged
        from matplotlib import font_manager

        path = packaged.get_TTF_path()
        font_manager.fontManager.addfont(path)
        # the package ships the regular weight only: bold titles use it, and matplotlib's
        # "Failed to find font weight bold … now using 400" would print for every figure
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
        return str(font_manager.FontProperties(fname=path).get_name())
    except (ImportError, OSError, RuntimeError):  # not installed, or an unreadable file
        return None


def cjk_font() -> str | None:
    """The name of a font that covers Chinese — installed, else the packaged one — or ``None``."""
    from matplotlib import font_manager

    available = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in available:
            return name
    for name in sorted(available):  # any other font that says it is CJK
        if "CJK" in name or "Hei" in name:
            return name
    return _packaged_cjk_font()


def rc(lang: str = "en") -> dict[str, Any]:
    """The matplotlib settings of the theme (without applying them)."""
    params: dict[str, Any] = {
        "figure.figsize": FIGSIZE,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "savefig.bbox": "tight",
        "axes.titlesize": "large",
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": "medium",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.frameon": False,
        "svg.hashsalt": "shopbook",  # deterministic SVG ids
        "path.simplify": True,
    }
    font = cjk_font()
    if font is None:
        if lang == "zh":
            warnings.warn(
                "lang='zh' but no CJK font is installed; Chinese labels may show as boxes "
                "(pip install cvttf-notosanscjk-regular, or fonts-noto-cjk on Debian)",
                stacklevel=3,
            )
    else:
        from matplotlib import rcParams

        latin = [f for f in rcParams["font.sans-serif"] if f != font]
        # a list of families: matplotlib falls back glyph by glyph (Chinese names in an
        # English report render too); Chinese reports set their text in the CJK font
        params["font.family"] = [font, *latin] if lang == "zh" else [*latin[:1], font]
        params["font.sans-serif"] = [font, *latin] if lang == "zh" else [*latin, font]
        if lang == "zh":
            params["axes.unicode_minus"] = False
    return params


def use(lang: str = "en", context: str = "notebook") -> dict[str, Any]:
    """Apply the Shopbook theme (seaborn ``whitegrid``, one palette, titled figures).

    Parameters
    ----------
    lang
        ``"en"`` or ``"zh"`` (CJK font when available; never fails without one).
    context
        seaborn context: ``"notebook"`` (reports) or ``"talk"`` (slides).

    Returns
    -------
    dict
        The matplotlib settings applied.
    """
    import seaborn as sns

    params = rc(lang)
    sns.set_theme(context=context, style="whitegrid", palette=PALETTE, rc=params)
    try:  # PNG figures embed in HTML reports; SVG would bloat them
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except Exception:  # pragma: no cover - outside IPython
        pass
    return params


#: Alias of :func:`use`.
apply = use


def label(
    ax: Axes,
    title: str | None = None,
    x: str | None = None,
    y: str | None = None,
    x_unit: str | None = None,
    y_unit: str | None = None,
    source: str | None = None,
) -> Axes:
    """Title an axes and label its axes with units.

    Parameters
    ----------
    ax
        A matplotlib axes.
    title
        Figure title (what the reader should see, e.g. "Net revenue per week").
    x, y
        Axis labels.
    x_unit, y_unit
        Units, appended in parentheses: ``label(ax, y="Net revenue", y_unit="CNY")``.
    source
        A small note under the axes (e.g. the data source or period).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, every text on it made literal (:func:`literal_text`).
    """
    if title is not None:
        ax.set_title(title)
    if x is not None:
        ax.set_xlabel(f"{x} ({x_unit})" if x_unit else x)
    if y is not None:
        ax.set_ylabel(f"{y} ({y_unit})" if y_unit else y)
    if source:
        ax.annotate(
            source,
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(0, -28),
            textcoords="offset points",
            fontsize="small",
            color="0.4",
            va="top",
        )
    return literal_text(ax)


class _LiteralTicks(Formatter):
    """Tick labels that name data (categories, SKUs, channels) as their literal text.

    Wraps the axis's formatter: its labels are passed through
    :func:`~shopbook.display.display_text`, and the tick labels that will show them have
    mathtext parsing turned off (ticks are made at draw time, from the settings, so it is
    done each time labels are made).
    """

    def __init__(self, inner: Formatter) -> None:
        self.inner = inner

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def __call__(self, x: Any, pos: Any = None) -> str:
        return display_text(self.inner(x, pos))

    def format_ticks(self, values: list[float]) -> list[str]:
        labels = self.inner.format_ticks(values)
        if isinstance(self.axis, Axis):
            for tick in self.axis.get_major_ticks(len(values)):
                tick.label1.set_parse_math(False)
                tick.label2.set_parse_math(False)
        return [display_text(s) for s in labels]

    def format_data_short(self, value: Any) -> str:
        return display_text(self.inner.format_data_short(value))

    def get_offset(self) -> str:
        return self.inner.get_offset()


def _texts(artist: Artist) -> Iterator[Text]:
    """Texts set by the caller: titles, axis labels, legends, annotations (not tick labels)."""
    for child in artist.get_children():
        if isinstance(child, Axis):
            yield child.label
        elif isinstance(child, Axes):
            yield from _texts(child)
        else:
            yield from (t for t in child.findobj(Text) if isinstance(t, Text))


@contextmanager
def literal_context(ax: Axes) -> Iterator[None]:
    """Inside the block, the texts of ``ax`` and the texts made are drawn without mathtext.

    For seaborn calls that draw the figure while they plot (``heatmap``, ``stripplot``):
    they measure the data labels before :func:`literal_text` can reach them, and
    ``$\\notacommand{x}$`` would fail there. The tick labels ``ax`` already has are made
    literal too, so use it on axes whose ticks are text or plain numbers (not a log
    axis). The settings are restored on leaving.
    """
    from matplotlib import rc_context

    for axis in (ax.xaxis, ax.yaxis):
        for tick in axis.majorTicks:
            tick.label1.set_parse_math(False)
            tick.label2.set_parse_math(False)
    with rc_context({"text.parse_math": False}):
        yield


def literal_text(ax: Axes) -> Axes:
    """Make every text of ``ax`` show its literal characters.

    Titles, axis labels, legend entries and titles, annotations and tick labels that
    name data (categorical or fixed tick labels) are drawn without mathtext parsing —
    ``$x^2$`` stays five characters — and with bidirectional control characters shown
    as their code (:func:`shopbook.display.display_text`). Numeric tick labels are left
    to matplotlib (a log axis writes its powers of ten in mathtext). :func:`label` calls
    it; a figure function that does not call :func:`label` calls it on each of its axes.

    Parameters
    ----------
    ax
        A matplotlib axes, after everything has been drawn on it.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    for text in _texts(ax):
        text.set_parse_math(False)
        shown = display_text(text.get_text())
        if shown != text.get_text():
            text.set_text(shown)
    for axis in (ax.xaxis, ax.yaxis):
        if _names_data(axis):
            axis.set_major_formatter(_LiteralTicks(axis.get_major_formatter()))
    return ax


def _names_data(axis: Axis) -> bool:
    """Whether the axis's tick labels are given text (categories, ``set_ticks(…, labels)``)."""
    fmt = axis.get_major_formatter()
    if isinstance(fmt, (StrCategoryFormatter, FixedFormatter)):
        return True
    # set_ticks(ticks, labels) labels fixed ticks through a FuncFormatter
    return isinstance(fmt, FuncFormatter) and isinstance(axis.get_major_locator(), FixedLocator)


def title_of(ax: Axes) -> str:
    """The axes' title wherever it sits.

    The theme puts titles on the left (``axes.titlelocation``), where matplotlib's
    ``ax.get_title()`` — which reads the centre title — does not look.
    """
    return ax.get_title("center") or ax.get_title("left") or ax.get_title("right")


def new_axes(ax: Axes | None = None, figsize: tuple[float, float] | None = None) -> Axes:
    """``ax`` if given, else the axes of a new figure of the theme's size.

    For plotting functions that take ``ax=None``; uses the object-oriented API only.
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize or FIGSIZE)
    return new
