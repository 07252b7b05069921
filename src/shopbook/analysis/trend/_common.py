"""Helpers shared by the trend modules: step lengths, season lengths, the log decision."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

#: Seasonal lengths in **days** (converted to steps of the series' period): week and year.
DEFAULT_SEASONS: tuple[float, ...] = (7, 365)


def note(notes: list[str], text: str) -> None:
    """Append ``text`` to ``notes`` unless it is already there."""
    if text not in notes:
        notes.append(text)


def step_days(freq: Any) -> float:
    """Length of one step of ``freq`` (a pandas offset) in days (months and years approximately)."""
    try:
        return pd.Timedelta(freq).total_seconds() / 86400.0
    except (ValueError, TypeError):
        # count from a day on the offset's anchor: from an arbitrary day the first step of an
        # anchored offset (W-SUN, ME) is a partial one, and 'W' came out as 6.92 days
        start = freq.rollforward(pd.Timestamp("2001-01-01"))
        return float((start + 12 * freq - start).days) / 12.0


def season_name(days: float) -> str:
    """``weekly`` for 7 days, ``yearly`` for 365, …, else ``<n>-day``."""
    return {7: "weekly", 365: "yearly", 30: "monthly", 91: "quarterly"}.get(
        int(round(days)), f"{days:g}-day"
    )


def seasons_in_steps(
    s: pd.Series, seasons: Iterable[float], notes: list[str], what: str = "seasonal terms"
) -> list[int]:
    """Seasonal lengths given in days → whole steps of the series; too-long ones dropped."""
    step = step_days(s.index.freq)
    out: list[int] = []
    for p in seasons:
        steps = int(round(float(p) / step))
        if steps < 2:
            continue  # e.g. a weekly cycle in weekly data: no within-period cycle to fit
        if len(s) < 2 * steps:
            note(
                notes,
                f"The series has {len(s)} periods, fewer than two full seasons of {p:g} days "
                f"({2 * steps} periods): the {season_name(p)} {what} were dropped.",
            )
            continue
        if steps not in out:
            out.append(steps)
    return sorted(out)


def default_season(s: pd.Series) -> int:
    """The seasonal-naive season in steps: a week, else a year, else 1 (plain naive)."""
    step = step_days(s.index.freq)
    for days in (7, 365):
        m = int(round(days / step))
        if m >= 2 and len(s) >= 2 * m:
            return m
    return 1


def positive_log(s: pd.Series, transform: str | None, notes: list[str]) -> bool:
    """Whether to model on the log scale (all values positive and a log is asked for)."""
    if transform in (None, "none"):
        return False
    if transform not in ("auto", "log"):
        raise ValueError(f"transform must be 'auto', 'log' or None, found {transform!r}")
    if (s <= 0).any():
        neg = int((s < 0).sum())
        zero = int((s == 0).sum())
        parts = [f"{neg} negative" if neg else "", f"{zero} zero" if zero else ""]
        note(
            notes,
            f"The series has {' and '.join(p for p in parts if p)} values "
            "(days without sales, or refunds netted out), so it is modelled on its own scale, "
            "not in logs.",
        )
        return False
    return True
