"""Every experiment of a source: status, planned sample and days left, headline names, parts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from shopbook.analysis import abtest as ab
from shopbook.features.experiments import ExperimentData


def _units(n_control, n_treatment, rate_c, rate_t, start, days, seed=0):
    """Per-unit frame: units assigned evenly over ``days`` from ``start``."""
    rng = np.random.default_rng(seed)
    n = n_control + n_treatment
    variant = np.array(["control"] * n_control + ["treatment"] * n_treatment)
    rate = np.where(variant == "control", rate_c, rate_t)
    day = np.arange(n) % days
    return pd.DataFrame(
        {
            "unit_id": [f"u{i}" for i in range(n)],
            "variant": variant,
            "converted": (rng.random(n) < rate).astype(int),
            "assigned_ts": pd.Timestamp(start) + pd.to_timedelta(day, unit="D"),
        }
    )


def _data(name, units, data_end):
    return ExperimentData(name, units=units, data_end=pd.Timestamp(data_end).date())


@pytest.mark.parametrize(
    ("last", "end", "status"),
    [
        ("2024-03-01 23:00", "2024-03-03", "running"),  # two days of grace
        ("2024-03-01 23:00", "2024-03-04", "ended"),
        ("2024-03-04 08:00", "2024-03-04", "running"),
        (None, "2024-03-04", "unknown"),
        ("2024-03-01", None, "unknown"),
    ],
)
def test_status_is_running_until_two_days_without_assignments(last, end, status):
    assert ab.experiment_status(last and pd.Timestamp(last), end and pd.Timestamp(end)) == status


def test_overview_days_left_at_the_observed_rate():
    # 10 days of assignments so far, 100 units a day per arm, data up to the last day
    units = _units(1000, 1000, 0.10, 0.10, "2024-03-01", 10)
    r = ab.readout_of(_data("hero_banner", units, "2024-03-10"), mde_rel=0.05)
    row = ab.overview([r]).table.iloc[0]
    plan = ab.sample_size(units[units.variant == "control"].converted.mean(), 0.05, ratio=1.0)
    assert row["status"] == "running"
    assert (row["first_day"], row["last_day"], row["days"]) == (
        pd.Timestamp("2024-03-01").date(),
        pd.Timestamp("2024-03-10").date(),
        10,
    )
    assert row["planned_units"] == plan.n_control + plan.n_treatment
    assert row["days_left"] == math.ceil((plan.n_control - 1000) / 100)
    assert row["split"] == "control 1,000 · treatment 1,000"
    assert row["split_check"] == "ok"
    assert "more days" in row["note"]


def test_overview_ended_short_and_broken_split_flagged():
    srm = _units(1150, 850, 0.2, 0.2, "2024-01-01", 20, seed=1)  # 57.5/42.5: a broken split
    done = _units(60_000, 60_000, 0.3, 0.3, "2024-01-01", 30, seed=2)
    rs = [ab.readout_of(_data(n, u, "2024-06-30")) for n, u in (("srm", srm), ("done", done))]
    board = ab.overview(rs)
    t = board.table.set_index("experiment_id")
    assert board.ok() and board.srm_flagged == ["srm"]
    assert list(t["status"]) == ["ended", "ended"]
    assert t.loc["srm", "split_check"].startswith("FAILED") and t.loc["srm", "srm_p"] < 0.001
    assert "split broken" in t.loc["srm", "note"] and "units short" in t.loc["srm", "note"]
    assert math.isnan(t.loc["srm", "days_left"])  # no days are left to an ended test
    assert t.loc["done", "days_left"] == 0 and t.loc["done", "note"] == "planned sample reached"
    assert list(board.table.columns) == list(ab.OVERVIEW_COLUMNS)


def test_headline_names_are_distinct_per_experiment():
    rs = [
        ab.readout_of(_data(n, _units(500, 500, 0.2, 0.25, "2024-01-01", 10, seed=i), "2024-02-01"))
        for i, n in enumerate(("hero_banner", "checkout"))
    ]
    items = ab.headlines(rs)
    names = [h["name"] for h in items]
    assert len(names) == len(set(names))
    assert {
        "experiments",
        "split_failures",
        "conversion_lift_hero_banner",
        "verdict_checkout",
    } <= set(names)
    lift = next(h for h in items if h["name"] == "conversion_lift_hero_banner")
    assert lift["value"] == pytest.approx(rs[0].headline_figures()["rel_lift"])
    one = [h["name"] for h in ab.headlines(rs[:1], per_experiment=False)]
    assert one[:2] == ["experiment", "verdict"] and "conversion_lift" in one


def test_nothing_to_evaluate():
    r = ab.readout_of(ExperimentData("", reason="the source has no assignments table"))
    board = ab.overview([r])
    assert not board.ok() and "no assignments" in board.why()
    assert ab.headlines([r]) == [
        {"name": "verdict", "value": "nothing to evaluate", "label": "Decision"}
    ]
    assert all(p.skipped for p in ab.sections(r))


def test_sections_show_every_part_or_say_why():
    units = _units(800, 800, 0.2, 0.24, "2024-01-01", 14)
    parts = ab.sections(ab.readout_of(_data("hero_banner", units, "2024-01-20")))
    by = {p.title: p for p in parts}
    assert list(by)[:2] == ["Summary", "1. Can we trust the split?"]
    assert by["1. Can we trust the split?"].figures[0][0] == "split_shares"
    assert by["2. What changed?"].tables[0][0]["metric"].iloc[0] == "conversion rate"
    # no pre-period covariate, no segments, no order times: skipped, with the reason
    assert "pre-period" in by["3. Variance reduction (CUPED)"].skipped
    assert by["7. Segments (exploratory)"].skipped
    assert "assignment or order times" in by["5. Peeking-safe view"].skipped
    assert by["Assignment checks"].skipped  # a per-unit table: no raw assignments
    assert by["8. Decision"].lines and not by["8. Decision"].skipped
    for p in parts:
        assert p.skipped or p.lines or p.tables or p.figures, p.title
    assert by["6. Power"].section == "hero_banner: 6. Power"  # skip notes name the experiment


def test_settings_that_do_not_fit_an_experiment_skip_it_unless_strict():
    units = _units(100, 100, 0.2, 0.2, "2024-01-01", 5).replace({"control": "A"})
    data = _data("hero_banner", units, "2024-01-10")
    with pytest.raises(ab.ABTestError):
        ab.readout_of(data)
    r = ab.readout_of(data, strict=False)
    assert r.units == 0 and "control" in r.why("split")
    assert ab.overview([r]).table.iloc[0]["verdict"] == "nothing to evaluate"
