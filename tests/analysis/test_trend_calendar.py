"""Shop calendars (shopbook.calendars) and the trend functions on them: Spring Festival,
make-up working days, 七夕, the e-commerce festivals, member days; recovery of the
planted Spring Festival dip and member-day lift on the synthetic shop."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from shopbook import calendars as C
from shopbook.analysis import trend as T


def _by_name(events, name):
    return [e for e in events if e["name"] == name]


# ----------------------------------------------------------------------- dates


def test_spring_festival_2024_and_2025_official_days_off():
    assert C.lunar_new_year(2024) == dt.date(2024, 2, 10)
    assert C.lunar_new_year(2025) == dt.date(2025, 1, 29)
    # State Council notices: 2024 Feb 10–17; 2025 Jan 28 (New Year's Eve) – Feb 4
    assert C.spring_festival_days_off(2024) == (dt.date(2024, 2, 10), dt.date(2024, 2, 17))
    assert C.spring_festival_days_off(2025) == (dt.date(2025, 1, 28), dt.date(2025, 2, 4))
    ev = C.spring_festival_event(2024)
    lead = dt.timedelta(days=C.SPRING_FESTIVAL_LEAD_DAYS)
    assert (ev["start"], ev["peak"], ev["end"]) == (
        (dt.date(2024, 2, 10) - lead).isoformat(),
        "2024-02-10",
        "2024-02-17",
    )


def test_make_up_working_days_come_from_holidays():
    days = C.makeup_workdays("2024-01-01", "2024-12-31")
    assert dt.date(2024, 2, 4) in days and dt.date(2024, 2, 18) in days
    assert all(d.weekday() >= 5 for d in days)  # weekend days that are working days
    off = set(C.china_days_off("2024-02-01", "2024-02-29"))
    assert dt.date(2024, 2, 4) not in off and dt.date(2024, 2, 18) not in off  # Sundays at work
    assert dt.date(2024, 2, 15) in off  # a Thursday off (substituted)


def test_qixi_dates_including_a_leap_seventh_month():
    assert C.qixi(2024) == dt.date(2024, 8, 10)
    assert C.qixi(2023) == dt.date(2023, 8, 22)
    assert C.qixi(2025) == dt.date(2025, 8, 29)
    assert C.qixi(2006) == dt.date(2006, 7, 31)  # 2006 had a leap 7th month after it


def test_new_moons_match_holidays_lunar_tables():
    """Peer check of the astronomical new moons: every Lunar New Year and the first day of
    every Mid-Autumn month (15th day of the 8th month) 1950–2049 in holidays' tables."""
    from holidays.calendars.chinese import _ChineseLunisolar

    lunar = _ChineseLunisolar()
    moons = set(C.new_moons("1950-01-01", "2049-12-31"))
    for year in range(1950, 2050):
        assert lunar.lunar_new_year_date(year)[0] in moons, year
        assert lunar.mid_autumn_date(year)[0] - dt.timedelta(days=14) in moons, year


def test_cn_calendar_lists_the_festivals_of_every_year():
    evs = C.shop_calendar("2024-01-01", "2024-12-31")
    names = [e["name"] for e in evs]
    assert sorted(set(names)) == sorted({"Spring Festival", *C.ECOMMERCE_FESTIVALS})
    assert all(names.count(n) == 1 for n in set(names))
    assert [e["start"] for e in evs] == sorted(e["start"] for e in evs)
    got = {e["name"]: (e["start"], e["peak"], e["end"], e.get("post")) for e in evs}
    assert got["618"] == ("2024-06-01", "2024-06-18", "2024-06-18", None)
    assert got["Double 11"] == ("2024-11-01", "2024-11-11", "2024-11-11", None)
    assert got["Double 12"] == ("2024-12-12", "2024-12-12", "2024-12-12", 0)
    assert got["520"] == ("2024-05-20", "2024-05-20", "2024-05-20", 0)
    assert got["七夕"] == ("2024-08-10", "2024-08-10", "2024-08-10", 0)
    # 年货节: the NIANHUO_DAYS days up to the day before the Spring Festival logistics stop
    sf = pd.Timestamp(got["Spring Festival"][0])
    nh = got["年货节"]
    assert pd.Timestamp(nh[2]) == sf - pd.Timedelta(days=1) == pd.Timestamp(nh[1])
    assert (pd.Timestamp(nh[2]) - pd.Timestamp(nh[0])).days + 1 == C.NIANHUO_DAYS
    assert all(e["calendar"] == "cn" for e in evs)
    only = C.shop_calendar("2024-01-01", "2024-12-31", festivals=["618"])
    assert [e["name"] for e in only] == ["Spring Festival", "618"]
    with pytest.raises(ValueError, match="unknown festivals"):
        C.shop_calendar("2024-01-01", "2024-12-31", festivals=["Black Friday"])


def test_none_and_country_calendars():
    assert C.shop_calendar("2024-01-01", "2024-12-31", "none") == []
    us = C.shop_calendar("2024-01-01", "2024-12-31", "US")
    got = {e["name"]: e["start"] for e in us}
    assert got["Thanksgiving Day"] == "2024-11-28"
    assert got["Independence Day"] == "2024-07-04"
    assert {e["calendar"] for e in us} == {"US"}
    assert "618" not in got
    with pytest.raises(ValueError, match="not known"):
        C.shop_calendar("2024-01-01", "2024-12-31", "XX")


def test_member_and_new_product_days():
    evs = C.shop_calendar(
        "2024-01-01",
        "2024-12-31",
        "none",
        member_day="Wed",
        member_since="2024-03-01",
        new_product_day=8,
    )
    member = _by_name(evs, "member day")
    assert member[0]["start"] == "2024-03-06"  # the first Wednesday from March 1
    assert all(pd.Timestamp(e["start"]).dayofweek == 2 and e["post"] == 0 for e in member)
    assert len(member) == 43  # Mar 6 … Dec 25
    new = _by_name(evs, "new-product day")
    assert [e["start"] for e in new[:2]] == ["2024-01-08", "2024-02-08"] and len(new) == 12
    with pytest.raises(ValueError, match="weekday"):
        C.shop_calendar("2024-01-01", "2024-12-31", member_day="someday")
    with pytest.raises(ValueError, match="1–28"):
        C.shop_calendar("2024-01-01", "2024-12-31", new_product_day=31)


def test_event_list_is_a_thin_use_of_the_calendar():
    evs = T.event_list("2024-01-01", "2024-12-20", ahead=60, member_day=2)
    assert evs == C.shop_calendar("2024-01-01", "2025-02-18", member_day=2)
    assert "Spring Festival" in {e["name"] for e in evs}
    ev = T.as_events([e for e in evs if e["name"] == "520"])[0]
    assert ev.post == 0 and ev.calendar == "cn" and list(ev.windows(7)) == ["peak"]


def test_calendar_applies_rule():
    assert C.calendar_applies("cn", "CNY") is None
    assert "USD" in C.calendar_applies("cn", "USD")
    assert C.calendar_applies("US", "USD") is None
    assert C.calendar_applies(None, "USD") is None and C.calendar_applies("cn", None) is None


# ----------------------------------------------------------------------- guards


def _series(start="2023-01-01", end="2024-12-31", seed=1):
    idx = pd.date_range(start, end, freq="D")
    rng = np.random.default_rng(seed)
    return pd.Series(100 * np.exp(rng.normal(0, 0.1, len(idx))), index=idx)


def test_event_effects_skips_a_calendar_that_does_not_apply():
    y = _series()
    evs = C.shop_calendar(y.index[0], y.index[-1])
    res = T.event_effects(y, evs, currency="USD")
    assert not res.ok() and "USD" in res.why()
    assert set(res.left_out["occurrence"]) >= {"618 2024", "Spring Festival 2024"}
    # the shop's own events still count
    own = [{"name": "sale", "start": "2024-03-01", "end": "2024-03-03"}]
    res = T.event_effects(y, evs + own, currency="USD")
    assert res.ok() and set(res.table["event"]) == {"sale"}


def test_event_effects_leaves_out_events_without_any_sales():
    y = _series()
    y["2024-05-10":"2024-05-30"] = 0.0  # closed: no sales around 520
    res = T.event_effects(y, C.shop_calendar(y.index[0], y.index[-1]), currency="CNY")
    assert res.ok()
    assert "520 2024" in set(res.left_out["occurrence"]) and "520 2023" in set(
        res.table["occurrence"]
    )
    assert any("not trading" in n for n in res.notes)


def test_a_member_day_on_every_week_is_the_day_of_week():
    y = _series()
    evs = C.shop_calendar(y.index[0], y.index[-1], "none", member_day="Wed")
    res = T.event_effects(y, evs)
    assert not res.ok() and "day of week" in " ".join(res.left_out["reason"])


# ----------------------------------------------------------------------- the synthetic shop


@pytest.fixture(scope="module")
def shop_orders(synthetic_shop):
    from shopbook.data.validation import validate
    from shopbook.features import sales as S

    shop = synthetic_shop(customers=20_000, seed=0)
    orders = validate(shop.tables, require=("orders",), tables=("orders",)).kept("orders")
    y = S.to_series(S.kpis(orders, "day"), "orders")
    member = shop.truth["festivals"]["member_day"]
    evs = T.event_list(
        y.index[0],
        y.index[-1],
        member_day=member["weekday"],
        member_since=member["since"],
    )
    return {"orders": y, "truth": shop.truth, "events": evs}


def test_shop_spring_festival_dip_and_member_day_lift_recovered(shop_orders):
    truth, y = shop_orders["truth"], shop_orders["orders"]
    eff = T.event_effects(y, shop_orders["events"], currency="CNY")
    assert eff.ok()
    planted = truth["festivals"]["shape"]["cny_dip"]["uplift"]

    def at(table, occ, w):
        (i,) = np.flatnonzero((table["occurrence"] == occ) & (table["window"] == w))
        return table.iloc[i]

    for dip in truth["festivals"]["cny_dip"]:
        occ = f"Spring Festival {dip['year']}"
        # the planted days are the calendar event's days
        assert (dip["start"], dip["end"]) == (
            str(at(eff.table, occ, "pre-heat")["start"].date()),
            str(at(eff.table, occ, "peak")["end"].date()),
        )
        for w in ("pre-heat", "peak"):
            r = at(eff.table, occ, w)
            assert r["uplift_pct_lo"] <= planted <= r["uplift_pct_hi"], (occ, w)
            assert r["uplift_pct_hi"] < 0
        post = at(eff.table, occ, "post")
        assert post["uplift_pct_lo"] <= 0 <= post["uplift_pct_hi"]  # nothing planted after
    md = at(eff.pooled, "member day (all)", "peak")
    lift = truth["festivals"]["member_day"]["uplift_pct"] / 100
    assert md["uplift_pct_lo"] <= lift <= md["uplift_pct_hi"]
    assert md["uplift_pct_lo"] > 0  # plainly there
    assert md["days"] >= 15


def test_shop_changepoints_do_not_fire_at_chinese_new_year_with_the_calendar(shop_orders):
    y, truth = shop_orders["orders"], shop_orders["truth"]
    new_years = [pd.Timestamp(d["new_year_day"]) for d in truth["festivals"]["cny_dip"]]

    def near_cny(cps):
        return [d for d in cps.table["date"] if any(abs((d - c).days) <= 21 for c in new_years)]

    # 618 and Double 11 only: the Spring Festival dip is taken for a break
    assert near_cny(T.changepoints(y, events=None))
    assert not near_cny(T.changepoints(y, events=shop_orders["events"]))


def test_an_event_on_the_first_day_is_left_out_not_fitted_singular():
    import warnings

    y = _series("2024-01-01", "2024-12-31")
    evs = C.shop_calendar(y.index[0], y.index[-1], "US")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rank-deficient design
        res = T.event_effects(y, evs, currency="USD")
    assert res.ok() and "New Year's Day 2024" not in set(res.table["occurrence"])
    assert any("first day" in n for n in res.notes)
