"""shopbook.features.periods: one vocabulary for time (day/week/month) and report windows."""

from __future__ import annotations

import pandas as pd
import pytest

from shopbook.features import periods as P

T = pd.Timestamp


def test_every_spelling_is_read_as_the_period_word():
    for word, spellings in {
        "day": ("day", "D", "daily"),
        "week": ("week", "W", "weekly"),
        "month": ("month", "M", "monthly"),
    }.items():
        assert {P.normalise_period(s) for s in spellings} == {word}
    with pytest.raises(ValueError, match="period must be one of"):
        P.normalise_period("hourly")
    with pytest.raises(ValueError, match="day, week"):
        P.normalise_period("month", allowed=("day", "week"))
    assert P.period_start("2024-05-16", "week") == T("2024-05-13")  # Monday
    assert P.period_start("2024-05-16", "M") == T("2024-05-01")
    assert P.period_start("2024-05-16 13:00", "day") == T("2024-05-16")


def test_window_context_and_outside():
    w = P.resolve_window("2024-03-04", "2024-03-10", None)
    assert (w.days, w.prev_start, w.prev_end) == (7, T("2024-02-26"), T("2024-03-03"))
    assert w.label() == "2024-03-04 to 2024-03-10" and w.prev_label() == "2024-02-26 to 2024-03-03"
    # three spans (end - start = 6 days) before the previous window: the KPI brief's sparkline
    assert w.context_start() == T("2024-02-26") - pd.Timedelta(days=18)
    assert w.context_start(1) == T("2024-02-20")
    assert not w.outside("2024-01-01", "2024-03-04")
    assert w.outside("2024-03-11", "2024-12-31") and w.outside("2023-01-01", "2024-03-03")
    assert P.resolve_window("2024-03-04", "", "2024-03-06").end == T("2024-03-06")
    assert P.resolve_window("", "2024-03-10", None).start == T("2024-03-04")
    with pytest.raises(ValueError, match="give end"):
        P.resolve_window("", "", None)


def test_period_end_is_the_last_day_of_the_period_a_start_opens():
    assert P.period_end(T("2024-12-23"), "week") == T("2024-12-29")
    assert P.period_end(T("2024-02-01"), "month") == T("2024-02-29")
    assert P.period_end(T("2024-02-01"), "D") == T("2024-02-01")
    starts = pd.Series(pd.to_datetime(["2024-11-01", "2024-12-01"]))
    assert list(P.period_end(starts, "month")) == [T("2024-11-30"), T("2024-12-31")]
