"""The notebook helpers (:mod:`shopbook.notebook`): escaping, pseudonyms, headlines, tables."""

from __future__ import annotations

import pandas as pd
import pytest

import shopbook.notebook as nb

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


@pytest.fixture
def displayed(monkeypatch):
    """Capture what the helpers display instead of sending it to a kernel."""
    shown: list = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append(obj))
    return shown


@pytest.mark.parametrize("name", HOSTILE)
def test_md_escapes_values(name):
    out = nb.md("Best seller: **{name}** ({n} units)", name=name, n=1234).text
    assert "<" not in out.replace("**", "") and ">" not in out
    assert "1,234 units" in out
    assert out.startswith("Best seller: **")  # the template itself is not escaped


def test_md_format_spec_and_markdown_specials():
    out = nb.md("{share:.1%} of [{x}]", share=0.1234, x="[click](javascript:alert(1))").text
    assert out.startswith("12.3% of [")
    assert "](" not in out.split("of ", 1)[1][1:-1]


def test_format_value():
    assert nb.format_value(1234567) == "1,234,567"
    assert nb.format_value(1234.56) == "1,235"
    assert nb.format_value(12.345) == "12.35"  # noqa: PLR2004
    assert nb.format_value(0.012345) == "0.0123"
    assert nb.format_value(None) == "–"
    assert nb.format_value(float("nan")) == "–"
    assert nb.format_value(pd.Timestamp("2024-01-02")) == "2024-01-02"
    assert nb.format_value(0.5, ".0%") == "50%"


def test_pseudonymise_is_stable_salted_and_keeps_nulls(monkeypatch):
    df = pd.DataFrame(
        {"customer_id": ["a", "b", None, "a"], "visitor_id": ["v", "v", "w", None], "x": range(4)}
    )
    out = nb.pseudonymise(df)
    assert out["customer_id"][0] == out["customer_id"][3] != out["customer_id"][1]
    assert out["customer_id"][0].startswith("c_") and len(out["customer_id"][0]) == 2 + 16
    assert out["visitor_id"][0].startswith("v_")
    assert out["customer_id"][2] is None and pd.isna(out["visitor_id"][3])
    assert df["customer_id"][0] == "a"  # a copy
    assert nb.pseudonymise(df, show_pii=True) is df
    monkeypatch.setenv("SHOPBOOK_PII_SALT", "another salt, long enough")
    assert nb.pseudonymise(df)["customer_id"][0] != out["customer_id"][0]


def test_pseudonymise_series_and_index():
    s = pd.Series(["a", "b"], name="customer_id")
    assert nb.pseudonymise(s).str.startswith("c_").all()
    df = pd.DataFrame({"customer_id": ["a", "b"], "n": [1, 2]}).set_index("customer_id")
    assert all(i.startswith("c_") for i in nb.pseudonymise(df).index)


def test_headline_bundle(displayed):
    import numpy as np

    nb.headline("orders_kept", np.int64(12345), unit="orders")
    bundle = displayed[0]
    payload = bundle[nb.HEADLINE_MIME]
    assert payload == {
        "name": "orders_kept",
        "label": "Orders kept",
        "value": 12345,
        "unit": "orders",
        "text": "12,345",
    }
    assert bundle["text/plain"] == "Orders kept: 12,345 orders"


def test_headline_escapes_label(displayed):
    nb.headline("top", HOSTILE[0], label=HOSTILE[1])
    assert "<script>" not in displayed[0]["text/html"] and "<img" not in displayed[0]["text/html"]


def test_show_escapes_and_pseudonymises(displayed):
    df = pd.DataFrame(
        {"customer_id": ["alice", "bob"], "name": HOSTILE, HOSTILE[1]: [1.5, 2000.25]}
    )
    nb.show(df, caption=HOSTILE[0])
    html = displayed[0]["text/html"]
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert "alice" not in html and "c_" in html
    assert "2,000" in html
    nb.show(df, show_pii=True)
    assert "alice" in displayed[1]["text/html"]


def test_show_notes_truncation(displayed):
    nb.show(pd.DataFrame({"x": range(50)}), max_rows=5)
    assert "first 5 of 50 rows" in displayed[0]["text/html"]


def test_skipped(displayed):
    nb.skipped("Funnel", "no sessions table <b>")
    assert displayed[0][nb.SKIPPED_MIME] == {"section": "Funnel", "reason": "no sessions table <b>"}
    assert "<b>" not in displayed[0]["text/markdown"]


def test_theme_use_and_label():
    import matplotlib

    matplotlib.use("Agg")
    from shopbook.viz import theme

    theme.use(lang="zh")  # never fails, with or without a CJK font
    ax = theme.new_axes()
    assert theme.label(ax, "Revenue", x="Week", y="Net revenue", y_unit="CNY") is ax
    assert ax.get_ylabel() == "Net revenue (CNY)"
    theme.use()


@pytest.mark.parametrize(
    "value",
    [
        "don't ship",
        "a > b & c",
        "# not a heading *nor bold*",
        "x_y [link](http://example.com)",
        "12:30",
    ],
)
def test_escaped_values_render_as_the_literal_text(value):
    import html as htmllib
    import re as relib

    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    from shopbook.notebook import escape

    rendered = markdown2html_mistune(escape(value))
    assert "<a " not in rendered and "<h1" not in rendered and "<em>" not in rendered
    text = htmllib.unescape(relib.sub(r"<[^>]+>", "", rendered)).strip()
    assert text == value


def test_show_renders_fraction_columns_as_percentages(monkeypatch):
    import pandas as pd

    from shopbook import notebook

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    notebook.show(
        pd.DataFrame({"metric": ["GMV"], "change_pct": [-0.0943], "value": [0.5]}),
        percent=["change_pct"],
    )
    html = "".join(getattr(o, "data", "") or str(o) for o in shown)
    assert "-9.4%" in html and "0.5" in html and "50.0%" not in html


def test_notebook_helpers_have_one_home():
    """The helpers live in shopbook.notebook only; shopbook.report no longer re-exports them."""
    import importlib

    import shopbook.report as report

    for name in ("headline", "md", "resolve_source", "setup", "show", "skipped"):
        assert not hasattr(report, name)
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("shopbook.report.notebook")


def test_setup_sets_the_session_defaults():
    from shopbook.notebook import session

    nb.setup(lang="zh", show_pii=True, theme=False)
    try:
        assert session.language() == "zh" and session.show_pii_default() is True
        frame = pd.DataFrame({"customer_id": ["alice"]})
        assert nb.pseudonymise(frame) is frame  # show_pii from setup
    finally:
        nb.setup(theme=False)
    assert session.language() == "en" and session.show_pii_default() is False


def test_plain_value():
    import numpy as np

    assert nb.plain_value(np.int64(3)) == 3 and isinstance(nb.plain_value(np.int64(3)), int)
    assert nb.plain_value(np.float64(0.5)) == 0.5
    assert nb.plain_value(pd.NaT) is None and nb.plain_value(float("nan")) is None
    assert nb.plain_value(pd.Timestamp("2024-01-02")) == "2024-01-02T00:00:00"
    assert nb.plain_value(True) is True and nb.plain_value("x") == "x"
