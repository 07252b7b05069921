"""The one figure theme of Shopbook.

Call :func:`use` once per session (``shopbook.notebook.setup`` does it for notebooks).
Plotting functions elsewhere in :mod:`shopbook.viz` take ``ax=None``, draw on it (or on
a new figure of the theme's size) and return the axes; they touch no other global
pyplot state. :func:`label` gives every figure a title and axis labels with units.

``lang="zh"`` selects an installed CJK font (Noto Sans CJK, Source Han Sans,
WenQuanYi, …) so Chinese labels render; when none is installed the theme still
applies and a warning says which package to install (``fonts-noto-cjk`` on Debian).
"""

from __future__ import annotations

import warnings
from typing import Any

from matplotlib.axes import Axes

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


def cjk_font() -> str | None:
    """The name of an installed font that covers Chinese, or ``None``."""
    from matplotlib import font_manager

    available = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in available:
            return name
    for name in sorted(available):  # any other font that says it is CJK
        if "CJK" in name or "Hei" in name:
            return name
    return None


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
    if lang == "zh":
        font = cjk_font()
        if font is None:
            warnings.warn(
                "lang='zh' but no CJK font is installed; Chinese labels may show as boxes "
                "(install fonts-noto-cjk)",
                stacklevel=3,
            )
        else:
            from matplotlib import rcParams

            fallback = [f for f in rcParams["font.sans-serif"] if f != font]
            params["font.family"] = "sans-serif"
            params["font.sans-serif"] = [font, *fallback]
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
        ``ax``.
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
    return ax


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
