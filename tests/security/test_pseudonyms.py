"""Pseudonyms in shared output (issue 13, items 1 and 5).

A published pseudonym must not give its id back to someone who has the source code but not
the key; the key is an installation's own secret (or ``SHOPBOOK_PII_SALT``); every id-like
column is pseudonymised; ``show_pii`` given as text is read strictly.
"""

from __future__ import annotations

import hashlib
import hmac
import stat
import warnings

import pandas as pd
import pytest

import shopbook.notebook as nb
from shopbook.notebook import pii, session
from tests.builders import write_notebook

N_ENUMERATED = 100_000


@pytest.fixture
def installation(tmp_path, monkeypatch):
    """Switch to a fresh installation: no ``SHOPBOOK_PII_SALT``, its own key file."""

    def use(name: str):
        path = tmp_path / name / "shopbook" / "pii.key"
        monkeypatch.delenv("SHOPBOOK_PII_SALT", raising=False)
        monkeypatch.setenv("SHOPBOOK_PII_KEY_FILE", str(path))
        return path

    monkeypatch.setattr(pii, "_KEYS", {}, raising=False)
    return use


@pytest.fixture
def displayed(monkeypatch):
    shown: list = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    return shown


def _enumerate(ids: list[str]) -> dict[str, str]:
    """``{pseudonym: id}`` for every candidate id, with the current installation's key."""
    published = nb.pseudonymise(pd.Series(ids, name="customer_id"), show_pii=False)
    return dict(zip(published, ids, strict=True))


@pytest.mark.parametrize("style", ["sequential", "cdnow"])
def test_a_published_pseudonym_of_a_guessable_id_is_not_recovered_without_the_key(
    installation, style
):
    candidates = [f"{i:05d}" if style == "cdnow" else str(i) for i in range(1, N_ENUMERATED + 1)]
    victims = [candidates[0], candidates[4241], candidates[-1]]

    installation("victim")
    published = [nb.pseudonym(v) for v in victims]
    assert all(len(p) == len("c_") + 16 for p in published)  # 64 bits shown

    installation("attacker")  # the same code, another installation: its own key
    table = _enumerate(candidates)
    assert len(table) == N_ENUMERATED
    assert not set(published) & set(table), "a pseudonym was recovered without the key"
    # Keys an attacker would try first: nothing in the source, nothing empty or obvious.
    for guess in (b"", b"shopbook", b"shopbook-pseudonym-v1", b"secret", b"salt"):
        for v in victims:
            mac = hmac.new(guess, v.encode(), hashlib.sha256).hexdigest()[:16]
            blake = hashlib.blake2b(v.encode(), key=guess, digest_size=8).hexdigest()
            assert {"c_" + mac, "c_" + blake}.isdisjoint(published)

    installation("victim")  # with the key, enumeration works: the key is what protects
    table = _enumerate(candidates)
    assert [table[p] for p in published] == victims


def test_no_collision_on_a_million_ids(installation):
    installation("big")
    ids = pd.Series([f"C{i:07d}" for i in range(1_000_000)], name="customer_id")
    out = nb.pseudonymise(ids, show_pii=False)
    assert out.str.len().eq(2 + 16).all()
    assert out.nunique() == len(ids) == 1_000_000


def test_the_key_file_is_created_once_with_mode_0600_and_reused(installation):
    path = installation("home")
    assert not path.exists()
    first = nb.pseudonym("alice")
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    content, mtime = path.read_bytes(), path.stat().st_mtime_ns
    assert len(content.strip()) >= 32  # a long random secret, not a word
    pii._KEYS.clear()  # a new process reads the file again
    assert nb.pseudonym("alice") == first
    assert path.read_bytes() == content and path.stat().st_mtime_ns == mtime
    installation("elsewhere")
    assert nb.pseudonym("alice") != first  # another installation, other pseudonyms


def test_the_salt_variable_is_the_key_when_set(installation, monkeypatch):
    path = installation("salted")
    monkeypatch.setenv("SHOPBOOK_PII_SALT", "a long secret of our own, 32 chars")
    salted = nb.pseudonym("alice")
    expected = hmac.new(b"a long secret of our own, 32 chars", b"alice", hashlib.sha256)
    assert salted == "c_" + expected.hexdigest()[:16]
    assert not path.exists()  # no key file needed


@pytest.mark.parametrize("empty", ["", "   "])
def test_an_empty_salt_is_an_error_not_the_default(installation, monkeypatch, empty):
    installation("empty")
    monkeypatch.setenv("SHOPBOOK_PII_SALT", empty)
    with pytest.raises(nb.PseudonymKeyError, match="SHOPBOOK_PII_SALT is set but empty") as exc:
        nb.pseudonym("alice")
    assert "\n" not in str(exc.value)
    with pytest.raises(nb.PseudonymKeyError):
        nb.setup(theme=False)  # the notebook stops in its first cell
    monkeypatch.setitem(session._SETTINGS, "show_pii", False)
    nb.setup(show_pii=True, theme=False)  # real ids asked for: no key needed


def test_a_key_file_in_the_reports_folder_is_refused(installation, tmp_path, monkeypatch):
    installation("x")
    monkeypatch.setenv("SHOPBOOK_REPORTS", str(tmp_path / "reports"))
    key = tmp_path / "reports" / "pii.key"
    monkeypatch.setenv("SHOPBOOK_PII_KEY_FILE", str(key))
    with pytest.raises(nb.PseudonymKeyError, match="inside the reports folder"):
        nb.pseudonym("alice")
    assert not key.exists()


def test_a_weak_key_warns_in_python_and_in_the_report(installation, monkeypatch, displayed):
    installation("weak")
    monkeypatch.setenv("SHOPBOOK_PII_SALT", "tiny")
    with pytest.warns(nb.WeakKeyWarning, match="weak key"):
        nb.pseudonym("alice")
    with pytest.warns(nb.WeakKeyWarning):
        nb.setup(theme=False)
    notes = [d for d in displayed if "text/markdown" in d]
    assert len(notes) == 1 and "Weak pseudonym key" in notes[0]["text/markdown"]
    assert "SHOPBOOK_PII_SALT" in notes[0]["text/plain"] and "tiny" not in notes[0]["text/plain"]

    monkeypatch.setenv("SHOPBOOK_PII_SALT", "x" * 40)  # a good key: no note, no warning
    displayed.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error", nb.WeakKeyWarning)
        nb.setup(theme=False)
        nb.pseudonym("alice")
    assert displayed == []


CDNOW_CUSTOMER = "04217"
IDS = {
    "customer_id": CDNOW_CUSTOMER,
    "visitor_id": "visitor-88812",
    "unit_id": "unit-77123",
    "session_id": "sess-66543",
    "order_id": f"{CDNOW_CUSTOMER}-19970101-1",  # CDNOW: the order id embeds the customer id
    "Customer ID": "cust-55321",
    "first_order_id": "ord-44210",
}


def test_show_pseudonymises_every_id_column(installation, displayed):
    installation("show")
    frame = pd.DataFrame({**{c: [v] for c, v in IDS.items()}, "sku": ["SKU-1"], "n": [3]})
    nb.show(frame, show_pii=False)
    html, text = displayed[0]["text/html"], displayed[0]["text/plain"]
    for col, value in IDS.items():
        assert value not in html and value not in text, f"raw {col} shown"
    assert CDNOW_CUSTOMER not in html  # not even inside another column
    assert "SKU-1" in html  # a product code is not personal
    prefixes = {nb.pii_kind(c): nb.prepare(frame, show_pii=False)[c][0][:2] for c in IDS}
    assert prefixes == {
        "customer_id": "c_",
        "visitor_id": "v_",
        "unit_id": "u_",
        "session_id": "s_",
        "order_id": "o_",
    }


def test_ids_in_the_index_and_in_a_series_are_pseudonymised(installation):
    installation("index")
    frame = pd.DataFrame({"unit_id": ["unit-1", "unit-2"], "order_id": ["o-1", "o-2"], "n": [1, 2]})
    indexed = nb.pseudonymise(frame.set_index(["unit_id", "order_id"]), show_pii=False)
    flat = [str(v) for level in indexed.index.levels for v in level]
    assert not {"unit-1", "unit-2", "o-1", "o-2"} & set(flat)
    series = nb.pseudonymise(pd.Series(["s-1"], name="session_id"), show_pii=False)
    assert series[0].startswith("s_") and "s-1" not in series[0]


def test_rejected_rows_of_the_data_health_report_show_no_real_id(installation, displayed):
    """00 shows each table's rejected rows through ``show``: units, sessions, orders."""
    from shopbook.data.validation import validate

    installation("health")
    ts = pd.Timestamp("2024-05-01")
    orders = pd.DataFrame(
        {
            "order_id": [f"{CDNOW_CUSTOMER}-19970101-{i}" for i in (1, 1, 2)],  # 1 duplicate
            "customer_id": [CDNOW_CUSTOMER] * 3,
            "order_ts": [ts] * 3,
            "channel": ["site"] * 3,
            "status": ["paid"] * 3,
            "gross_amount": [10.0] * 3,
            "discount_amount": [0.0] * 3,
            "net_amount": [10.0] * 3,
            "currency": ["CNY"] * 3,
        }
    )
    assignments = pd.DataFrame(
        {
            "experiment_id": ["exp"] * 3,
            "unit_id": ["unit-77123", "unit-77123", "unit-99"],  # one unit in two variants
            "variant": ["control", "treatment", "control"],
            "assigned_ts": [ts] * 3,
        }
    )
    sessions = pd.DataFrame(
        {
            "session_id": ["sess-66543", "sess-66543"],  # a duplicate
            "visitor_id": ["visitor-88812"] * 2,
            "customer_id": [CDNOW_CUSTOMER] * 2,
            "session_ts": [ts] * 2,
            "channel": ["search"] * 2,
            "device": ["mobile"] * 2,
            "pageviews": [2, 2],
            "product_views": [1, 1],
            "added_to_cart": [False] * 2,
            "reached_checkout": [False] * 2,
            "order_id": [f"{CDNOW_CUSTOMER}-19970101-2"] * 2,
        }
    )
    report = validate({"orders": orders, "assignments": assignments, "sessions": sessions})
    # counted by hand above: the later duplicate order and session, both rows of the unit
    # assigned to two variants
    expected = {"orders": 1, "assignments": 2, "sessions": 1}
    rejected = {n: h.rejected for n, h in report.tables.items() if h.rejected}
    assert rejected == expected
    for name in rejected:
        displayed.clear()
        rejects = report.rejects(name)
        nb.show(rejects, max_rows=10, show_pii=False)
        html = displayed[0]["text/html"]
        assert len(rejects.execute()) == rejected[name]
        for value in (CDNOW_CUSTOMER, "unit-77123", "sess-66543", "visitor-88812"):
            assert value not in html, f"{value} shown in the {name} rejects"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("false", False), ("False", False), (" true ", True), (False, False), (True, True)],
)
def test_show_pii_given_as_text_is_read_strictly(installation, given, expected):
    installation("flags")
    nb.setup(show_pii=given, theme=False)
    try:
        assert session.show_pii_default() is expected
        out = nb.pseudonymise(pd.DataFrame({"customer_id": ["alice"]}))
        assert (out["customer_id"][0] == "alice") is expected
    finally:
        nb.setup(theme=False)


@pytest.mark.parametrize("given", ["0", "no", "yes", "1", "", 1, 0, None, "off"])
def test_show_pii_values_that_are_not_true_or_false_are_refused(installation, given):
    installation("bad-flags")
    with pytest.raises(nb.NotebookParameterError, match="show_pii must be true or false") as exc:
        nb.setup(show_pii=given, theme=False)
    assert "\n" not in str(exc.value)
    assert session.show_pii_default() is False
    frame = pd.DataFrame({"customer_id": ["alice"]})
    if given is not None:  # None means "the session's setting" here
        with pytest.raises(nb.NotebookParameterError):
            nb.pseudonymise(frame, show_pii=given)
    assert nb.pseudonymise(frame, show_pii="false")["customer_id"][0] != "alice"


def test_a_run_with_a_weak_key_says_so_in_its_html(tmp_path, monkeypatch):

    from shopbook.report.execute import Progress
    from shopbook.report.plan import plan
    from shopbook.report.runs import run

    monkeypatch.setenv("SHOPBOOK_PII_SALT", "tiny")  # the kernel inherits it
    path = write_notebook(
        tmp_path / "52_weak.ipynb",
        "show_pii: bool = False  # show real ids",
        (
            "from shopbook.notebook import setup, show\n"
            "setup(show_pii=show_pii, theme=False)\n"
            "show({'customer_id': ['alice' + '-7']})"
        ),
    )
    _, tasks = plan([str(path)])
    result = run(
        tasks,
        job="weak",
        out=tmp_path / "reports",
        progress=Progress(quiet=True),
        handle_signals=False,
    )
    assert result.status == "ok"
    for name in ("52_weak.html", "52_weak.brief.html"):
        html = (result.folder / name).read_text()
        assert "Weak pseudonym key" in html, name
        assert "alice-7" not in html and "tiny" not in html.split("Weak pseudonym key", 1)[1]
