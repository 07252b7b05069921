"""Hostile names on the page: figures and tables show the literal characters of the data.

Issue 13, item 8: a category named ``$\\notacommand{x}$`` stopped notebooks 02 and 05 (matplotlib
parsed it as mathtext and failed), and ``$x^2$`` was drawn as mathematics. Item 10: the
bidirectional controls (U+202E and its kin) reversed displayed names. Every figure type that
writes a data name is drawn here with each hostile name; the name must draw, be the text of
a label, and be shown literally (no mathtext; controls shown as their ``\\uXXXX`` code).
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from shopbook.analysis.elasticity import CrossPrice  # noqa: E402
from shopbook.analysis.trend import GrowthShare, Shares  # noqa: E402
from shopbook.display import BIDI_CONTROLS, display_text  # noqa: E402
from shopbook.notebook import escape, format_value, md, show  # noqa: E402
from shopbook.viz import abtest, cohort, elasticity, health, kpi, rfm, theme, trend  # noqa: E402

#: Names that mathtext would parse (or fail on) and one that HTML would run.
MATH = ["$\\notacommand{x}$", "$x^2$", "costs $5 and $6", "<script>alert(1)</script>"]
#: A right-to-left override: displayed raw it reads "Teaexe.jpg".
RLO = "Tea\u202egpj.exe"
HOSTILE = [*MATH, RLO]


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


# ------------------------------------------------------------------ the figures, one per kind
# Each builder draws one Shopbook figure in which ``n`` is a data name (a category, channel,
# SKU, variant, metric, segment, table or cohort) next to an ordinary one.


def _kpi_lines(n: str) -> Axes:
    weeks = pd.date_range("2024-01-01", periods=4, freq="W-MON")
    rows = [
        {"period": w, "category": c, "gmv": level + i, "orders": 10}
        for c, level in ((n, 200.0), ("Food", 100.0))
        for i, w in enumerate(weeks)
    ]
    return trend.kpi_lines(pd.DataFrame(rows), by="category", period="week")


def _growth_share(n: str) -> Axes:
    frame = pd.DataFrame(
        {
            "category": [n, "Food"],
            "share": [0.6, 0.4],
            "growth": [0.2, -0.1],
            "quadrant": ["star", "dog"],
            "value": [600.0, 400.0],
            "period": "2024",
            "compared_to": "2023",
        }
    )
    return trend.growth_share(GrowthShare(table=frame, market_growth=0.05, share_threshold=0.5))


def _channel_share(n: str) -> Axes:
    months = pd.date_range("2024-01-01", periods=3, freq="MS")
    frame = pd.DataFrame({n: [0.6] * 3, "jd": [0.4] * 3}, index=months)
    frame.columns.name = "channel"
    return trend.channel_share(Shares(table=frame))


def _price_variation(n: str) -> Axes:
    diag = pd.DataFrame(
        {
            "category": [n, n, "Food"],
            "sku": ["a", "b", "c"],
            "spread": [0.3, 0.01, 0.2],
            "learnable": [True, False, True],
        }
    )
    return elasticity.price_variation(diag)


def _promo_calendar(n: str) -> Axes:
    weeks = pd.date_range("2024-01-01", periods=4, freq="W-MON")
    return elasticity.promo_calendar(pd.DataFrame({n: [0.1, 0.5, 0.2, 0.0], "Food": 0.0}, weeks))


def _elasticity_forest(n: str) -> Axes:
    table = pd.DataFrame(
        {
            "category": [n, "Food"],
            "method": ["DML", "DML"],
            "elasticity": [-1.5, -0.8],
            "ci_low": [-2.0, -1.1],
            "ci_high": [-1.0, -0.5],
        }
    )
    return elasticity.elasticity_forest(table, truth={n: -1.4})


def _shrinkage(n: str) -> Axes:
    shrunk = pd.DataFrame(
        {
            "category": [n, n, "Food"],
            "elasticity": [-2.0, -1.0, -0.7],
            "shrunk": [-1.7, -1.2, -0.8],
            "prior_mean": [-1.5, -1.5, -0.8],
        }
    )
    return elasticity.shrinkage(shrunk)


def _cross_price(n: str) -> Axes:
    m = pd.DataFrame([[-1.5, 0.3], [0.2, -1.0]], [n, "s2"], [n, "s2"])
    cross = CrossPrice(matrix=m, se=m.abs() * 0.1, ci_low=m - 0.3, ci_high=m + 0.3, n_periods=40)
    # notebook 05 titles the figure with the chosen category
    return elasticity.cross_price_heatmap(cross, title=f"Cross-price elasticities in {n}")


def _funnel(n: str) -> Axes:
    channels = pd.DataFrame(
        {
            "channel": [n, "jd"],
            "sessions": [100, 50],
            "product_view": [60, 30],
            "cart": [20, 10],
            "checkout": [10, 5],
            "order": [5, 2],
        }
    )
    return kpi.funnel_by_channel(channels)


def _roi(n: str) -> Axes:
    return kpi.roi_bars(pd.DataFrame({"channel": [n, "jd"], "roi": [2.0, 0.7]}))


def _sparklines(n: str) -> Axes:
    days = pd.date_range("2024-06-01", periods=10, freq="D")
    daily = pd.DataFrame({"period": days, "gmv": np.arange(10.0)})
    return kpi.kpi_sparklines(daily, {"gmv": f"GMV of {n}"})[0]


def _split_shares(n: str) -> Axes:
    srm = pd.DataFrame({"variant": ["control", n], "share": [0.5, 0.5], "expected_share": 0.5})
    return abtest.split_shares(srm)


def _lifts(n: str) -> Axes:
    table = pd.DataFrame(
        {
            "variant": ["treatment", "treatment"],
            "metric": [n, "conversion"],
            "rel_lift": [0.05, 0.01],
            "rel_lo": [0.01, -0.02],
            "rel_hi": [0.09, 0.04],
            "p_adjusted": [0.01, 0.4],
        }
    )
    return abtest.lifts(table)


def _ab_segments(n: str) -> Axes:
    table = pd.DataFrame(
        {
            "dimension": ["channel", "channel"],
            "segment": [n, "jd"],
            "rel_lift": [0.06, 0.02],
            "rel_lo": [0.01, -0.03],
            "rel_hi": [0.11, 0.07],
        }
    )
    return abtest.segments(table)


def _segment_bars(n: str) -> Axes:
    segments = pd.DataFrame(
        {"segment": [n, "Loyal"], "customer_share": [0.4, 0.6], "revenue_share": [0.7, 0.3]}
    )
    return rfm.segment_bars(segments)


def _migration(n: str) -> Axes:
    counts = pd.DataFrame([[5, 1], [2, 8]], index=[n, "Loyal"], columns=[n, "Loyal"])
    return rfm.migration_heatmap(counts)


def _value_by_segment(n: str) -> Axes:
    table = pd.DataFrame({"customers": [10, 20], "mean_clv": [300.0, 50.0]}, index=[n, "New"])
    return cohort.value_by_segment(table)


def _retention(n: str) -> Axes:
    matrix = pd.DataFrame({0: [1.0, 1.0], 1: [0.3, 0.2], 2: [0.1, np.nan]}, index=[n, "2024-02"])
    return cohort.retention_heatmap(matrix)


def _kept_rejected(n: str) -> Axes:
    return health.kept_rejected(
        pd.DataFrame({"table": [n, "orders"], "kept": [90, 9], "rejected": [1, 1]})
    )


def _titled(n: str) -> Axes:
    # notebook 05 titles the price curves with the SKU: f"{rec.sku}: revenue and gross profit…"
    ax = theme.new_axes()
    ax.plot([1, 2], [1, 2], label=n)
    ax.legend()
    ax.annotate(n, (1, 1))
    return theme.label(ax, title=f"{n}: revenue", x=n, y="GMV", y_unit=n, source=n)


FIGURES: dict[str, Callable[[str], Axes]] = {
    "trend.kpi_lines": _kpi_lines,
    "trend.growth_share": _growth_share,
    "trend.channel_share": _channel_share,
    "elasticity.price_variation": _price_variation,
    "elasticity.promo_calendar": _promo_calendar,
    "elasticity.elasticity_forest": _elasticity_forest,
    "elasticity.shrinkage": _shrinkage,
    "elasticity.cross_price_heatmap": _cross_price,
    "kpi.funnel_by_channel": _funnel,
    "kpi.roi_bars": _roi,
    "kpi.kpi_sparklines": _sparklines,
    "abtest.split_shares": _split_shares,
    "abtest.lifts": _lifts,
    "abtest.segments": _ab_segments,
    "rfm.segment_bars": _segment_bars,
    "rfm.migration_heatmap": _migration,
    "cohort.value_by_segment": _value_by_segment,
    "cohort.retention_heatmap": _retention,
    "health.kept_rejected": _kept_rejected,
    "theme.label": _titled,
}


def _drawn_texts(ax: Axes) -> list[Text]:
    """Every visible text of the figure after a full draw (tick labels are made at draw time)."""
    ax.figure.canvas.draw()  # raised ValueError for $\notacommand{x}$ before the fix
    return [t for t in ax.figure.findobj(Text) if t.get_visible() and t.get_text()]


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("figure", list(FIGURES))
def test_a_figure_draws_a_hostile_data_name_as_its_literal_characters(figure, name):
    ax = FIGURES[figure](name)
    texts = _drawn_texts(ax)
    shown = display_text(name)
    showing = [t for t in texts if shown in t.get_text()]
    assert showing, f"{figure}: {shown!r} is not the text of any label"
    assert all(t.get_parse_math() is False for t in showing), (
        f"{figure}: {shown!r} is drawn as mathtext"
    )
    for t in texts:
        assert not BIDI_CONTROLS & set(t.get_text()), f"{figure}: a bidi control is drawn"


def test_a_reversed_name_is_shown_with_the_code_of_its_control():
    ax = _segment_bars(RLO)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Tea\\u202egpj.exe", "Loyal"]  # not "Teaexe.jpg"


def test_the_theme_keeps_log_axis_labels_in_mathtext():
    """Mathtext is off for data names, not globally: a log axis still writes 10³ as maths."""
    ax = _kept_rejected("order_items")
    ax.set_xscale("log")
    texts = _drawn_texts(ax)
    powers = [t for t in texts if "mathdefault" in t.get_text()]
    assert powers and all(t.get_parse_math() for t in powers)
    assert all(t.get_parse_math() is False for t in texts if t.get_text() == "order_items")


def test_hostile_names_draw_under_the_applied_theme():
    with matplotlib.rc_context():
        theme.use()
        ax = _price_variation(MATH[0])
        texts = _drawn_texts(ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == [MATH[0], "Food"]
    assert all(t.get_parse_math() is False for t in texts if t.get_text() == MATH[0])


def test_a_label_is_made_literal_once_however_often_it_is_applied():
    ax = _roi(MATH[1])
    theme.literal_text(theme.literal_text(ax))
    assert [t.get_text() for t in ax.get_xticklabels()] == [MATH[1], "jd"]


# ------------------------------------------------------------------ tables and sentences


@pytest.mark.parametrize("control", sorted(BIDI_CONTROLS))
def test_every_bidi_control_is_shown_as_its_code(control):
    code = f"\\u{ord(control):04x}"
    assert display_text(f"a{control}b") == f"a{code}b"
    assert format_value(f"a{control}b") == f"a{code}b"
    assert escape(f"a{control}b") == f"a\\{code}b"  # the backslash escaped for Markdown
    assert control not in md("**{name}**", name=f"a{control}b").text


def test_display_text_leaves_other_text_and_right_to_left_scripts_alone():
    for text in ("Tea", "شاي أخضر", "תה", "茶", "<b>", "$x^2$", ""):
        assert display_text(text) == text
    assert display_text(display_text(RLO)) == display_text(RLO)
    assert display_text(12) == "12"


def test_format_value_with_a_spec_neutralises_controls():
    assert format_value(RLO, ">20") == f"{'Tea' + chr(92) + 'u202egpj.exe':>20}"


def test_a_sentence_shows_the_reversed_name_in_plain_sight():
    text = md("Best seller: **{name}**", name=RLO).text
    assert text == "Best seller: **Tea\\\\u202egpj.exe**"


def test_show_neutralises_controls_in_cells_columns_index_and_caption(monkeypatch):
    shown: list[dict] = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    frame = pd.DataFrame(
        {"product": [RLO, "Tea"], f"units{RLO}": [3, 4]},
        index=pd.Index([f"sku{RLO}", "s2"], name="sku"),
    )
    show(frame, caption=f"Top {RLO}")
    (out,) = shown
    for mime in ("text/html", "text/plain"):
        assert not BIDI_CONTROLS & set(out[mime]), mime
        assert out[mime].count("\\u202e") == 4, mime  # cell, column, index, caption
