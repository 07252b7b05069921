"""The default forecaster: chosen per series by a rolling-origin backtest, intervals calibrated."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import DEFAULT_SEASONS, default_season, note
from shopbook.analysis.trend.backtesting import (
    Backtest,
    first_fit_length,
    fold_origins,
    rolling_origin,
)
from shopbook.analysis.trend.calibration import SHORTFALL_SE, calibrate
from shopbook.analysis.trend.candidates import CANDIDATES, candidate_functions, is_statsforecast
from shopbook.analysis.trend.events import EventsLike
from shopbook.analysis.trend.models import Forecast, forecast
from shopbook.analysis.trend.series import regularize
from shopbook.i18n import _

#: Candidates whose backtest MASE is within this share of the lowest count as tied with it;
#: the simplest of them (earliest in :data:`CANDIDATES`) is chosen.
NEAR_TIE = 0.02


@dataclass(kw_only=True)
class Selection(Result):
    """The result of :func:`select_forecast`.

    Attributes
    ----------
    table
        One row per candidate (index ``candidate``, simplest first): ``model`` (the
        description of its last backtest fit), ``mase``, ``vs_best`` (how much higher
        its MASE is than the lowest: 0.25 is a quarter higher), ``coverage80``,
        ``coverage95``, ``seconds`` (mean time of one fit), ``chosen``.
    winner
        The chosen candidate's name (one of :data:`CANDIDATES`).
    reason
        One sentence: which won and why.
    forecast
        The winner refitted on the whole series, its intervals calibrated when its
        backtest coverage fell short.
    coverage
        The winner's backtest coverage per level (80, 95): ``nominal``, ``coverage``,
        ``points``, ``se``, ``limit``, ``short``, ``factor``, ``calibrated`` (see
        :mod:`~shopbook.analysis.trend.calibration`).
    backtest
        The :class:`Backtest` of every candidate (its predictions, per-fold scores).
    notes
        What was repaired, left out or calibrated.
    """

    winner: str = ""
    reason: str = ""
    forecast: Forecast = field(default_factory=Forecast)
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest: Backtest = field(default_factory=Backtest)

    @property
    def compared(self) -> list[str]:
        """The winner and the seasonal naive (once), as a backtest figure shows them."""
        return list(dict.fromkeys([self.winner, "seasonal naive"]))

    @property
    def calibrated(self) -> bool:
        """Whether the winner's intervals were widened."""
        return bool(len(self.coverage)) and bool(self.coverage["calibrated"].any())


def choose(mase: pd.Series, near_tie: float = NEAR_TIE) -> str:
    """The simplest candidate whose MASE is within ``near_tie`` of the lowest.

    Parameters
    ----------
    mase
        Candidate name → backtest MASE, in :data:`CANDIDATES` order (simplest first);
        missing (NaN) values never win.
    """
    ok = mase.dropna()
    if ok.empty:
        raise ValueError("no candidate has a finite backtest MASE")
    tied = ok[ok <= ok.min() * (1 + near_tie)]
    return str(tied.index[0])


def _refit_winner(
    mase: pd.Series,
    fits: dict[str, Callable[[pd.Series, int], Forecast]],
    s: pd.Series,
    horizon: int,
    near_tie: float,
    notes: list[str],
) -> tuple[str, Forecast]:
    """The chosen candidate and its refit on the whole series; when that refit fails (a
    longer season becomes possible on the whole series, …), the next choice, said so."""
    left = mase.copy()
    while True:
        winner = choose(left, near_tie)
        try:
            return winner, fits[winner](s, horizon)
        except Exception as exc:  # the backtest judged it on shorter series; try the next
            if left.dropna().size == 1:
                raise
            note(
                notes,
                f"{winner} won the backtest but could not be refitted on the whole series "
                f"({type(exc).__name__}: {exc}); the next choice is used.",
            )
            left = left.drop(winner)


def _reason(table: pd.DataFrame, winner: str, near_tie: float) -> str:
    best = str(table["mase"].idxmin())
    w = table.loc[winner, "mase"]
    naive = table.loc["seasonal naive", "mase"] if "seasonal naive" in table.index else float("nan")
    runner = table["mase"].drop(winner).dropna()
    winner_, best_ = _(winner), _(best)
    if winner == best:
        why = _("{winner} won: the lowest backtest MASE, {w:.2f}").format(winner=winner_, w=w)
        if len(runner):
            nxt = str(runner.idxmin())
            if winner != "seasonal naive" and nxt != "seasonal naive" and np.isfinite(naive):
                why += _(" (next {next}, {m:.2f}; seasonal naive {naive:.2f})").format(
                    next=_(nxt), m=runner.min(), naive=naive
                )
            else:
                why += _(" (next {next}, {m:.2f})").format(next=_(nxt), m=runner.min())
        return why + _(".")
    if w > table.loc[best, "mase"] * (1 + near_tie):
        return _(
            "{winner} was chosen (backtest MASE {w:.2f}): the best candidate that could be "
            "refitted on the whole series ({best}, {b:.2f}, could not)."
        ).format(winner=winner_, w=w, best=best_, b=table.loc[best, "mase"])
    return _(
        "{winner} was chosen: its backtest MASE {w:.2f} is within {tie:.0%} of the lowest "
        "({best}, {b:.2f}), and on a near-tie the simpler model wins."
    ).format(winner=winner_, w=w, tie=near_tie, best=best_, b=table.loc[best, "mase"])


def select_forecast(
    series: pd.Series,
    horizon: int,
    events: EventsLike = None,
    *,
    folds: int = 3,
    step: int | None = None,
    candidates: Sequence[str] = CANDIDATES,
    near_tie: float = NEAR_TIE,
    calibrate_intervals: bool = True,
    seasons: Sequence[float] = DEFAULT_SEASONS,
    transform: str | None = "auto",
    post_days: int = 7,
) -> Selection:
    """The default forecast: the candidate with the best rolling-origin backtest.

    Every candidate (:data:`~shopbook.analysis.trend.candidates.CANDIDATES`: seasonal
    naive, ETS, damped ETS, statsforecast's AutoETS, our SARIMAX, statsforecast's
    AutoARIMA and MSTL) is scored by :func:`~shopbook.analysis.trend.rolling_origin` on
    the same ``folds`` origins (MASE, 80% / 95% coverage). The winner is the candidate with
    the lowest MASE — except that **candidates within** ``near_tie`` **(2%) of the lowest
    MASE count as tied, and the simplest of them wins** (simplicity is the order of
    ``CANDIDATES``). The winner is then refitted on the whole series to forecast
    ``horizon`` periods. When its backtest coverage of an interval is below nominal by
    more than two binomial standard errors over the backtest's points, that interval is
    widened by split-conformal calibration on the backtest errors (rule and method:
    :mod:`~shopbook.analysis.trend.calibration`), and the notes say so.

    A candidate that cannot be fitted (too short a series for its season, …) is left out
    and named in the notes. For one model by name use
    :func:`~shopbook.analysis.trend.forecast` (``model=``).

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex (daily, weekly, monthly, quarterly…).
    horizon
        Periods to forecast (and per backtest fold).
    events
        Festival/campaign dates, as in :func:`~shopbook.analysis.trend.forecast`; used
        by SARIMAX on daily and weekly data only.
    folds
        Backtest origins (each refits every candidate).
    step
        Periods between origins (default ``horizon``).
    candidates
        Names from :data:`CANDIDATES` to choose among (e.g. without the statsforecast
        ones, to be faster).
    near_tie
        Relative MASE margin within which the simpler candidate wins.
    calibrate_intervals
        Whether to widen intervals that fell short in the backtest.
    seasons, transform, post_days
        As in :func:`~shopbook.analysis.trend.forecast`.

    Returns
    -------
    Selection
        ``table`` (candidates × MASE / coverage), ``winner``, ``reason``, ``forecast``,
        ``coverage``, ``backtest``, ``notes``.

        When the history cannot hold one backtest fold the result is skipped
        (``ok()`` is false, ``why()`` says how much history is needed); when it holds
        fewer than ``folds``, as many as fit are used and the notes say so.

    Raises
    ------
    ValueError
        When a candidate name is unknown.
    """
    reg = regularize(series)
    s = reg.series
    order = [c for c in CANDIDATES if c in candidates]
    fits = candidate_functions(
        order,
        events,
        season=default_season(s),
        seasons=seasons,
        transform=transform,
        post_days=post_days,
    )
    if float(s.std()) == 0.0:
        fc = forecast(s, horizon, [], seasons=seasons, transform=transform)
        return Selection(
            winner="constant",
            reason="The series is constant, so there is nothing to choose: it is repeated.",
            forecast=fc,
            notes=list(fc.notes),
        )
    usable, need = _usable_folds(len(s), horizon, folds, step, default_season(s))
    if usable == 0:
        return Selection.skipped(
            f"a {horizon}-period forecast is backtested before it is shown, and even one "
            f"fold needs {need} periods of history (two seasons of "
            f"{default_season(s)} periods, at least 10, before a {horizon}-period test); "
            f"the series has {len(s)}",
            notes=list(reg.notes),
        )
    bt = rolling_origin(s, horizon, fits, usable, step=step, errors="note")
    notes = list(bt.notes)
    if usable < folds:
        note(
            notes,
            f"The history holds {usable} backtest fold{'s' if usable > 1 else ''} of "
            f"{horizon} periods, not the {folds} asked for: the choice rests on fewer tests.",
        )
    table = bt.table.reindex(order)
    table.index.name = "candidate"
    table.insert(0, "model", [bt.models.get(c, "not fitted") for c in order])
    winner, raw = _refit_winner(table["mase"], fits, s, horizon, near_tie, notes)
    table["vs_best"] = table["mase"] / table["mase"].min() - 1.0  # +0.25: a quarter worse
    table["chosen"] = table.index == winner
    table = table[["model", "mase", "vs_best", "coverage80", "coverage95", "seconds", "chosen"]]
    for n in raw.notes:
        note(notes, n)
    if any(is_statsforecast(c) for c in order):
        note(
            notes,
            _(
                "statsforecast's candidates (AutoETS, AutoARIMA, MSTL) model the values as they "
                "are, without festival regressors."
            ),
        )
    preds = bt.predictions[bt.predictions["method"] == winner]
    fc, coverage, cal_notes = calibrate(raw, preds, nonnegative=bool((s >= 0).all()))
    if not calibrate_intervals:
        fc = raw
        coverage["factor"], coverage["calibrated"] = 1.0, False
        cal_notes = [
            n.split(": they were widened")[0] + " (not calibrated: calibrate_intervals=False)."
            for n in cal_notes
        ]
    for n in cal_notes:
        note(notes, n)
    if not coverage["short"].any():
        note(
            notes,
            _(
                "The chosen forecast's intervals held {c80:.0%} (80%) and "
                "{c95:.0%} (95%) of the backtest's "
                "{n} actuals — not short of nominal by more than "
                "{se:g} standard errors, so they are not recalibrated."
            ).format(
                c80=coverage.loc[80, "coverage"],
                c95=coverage.loc[95, "coverage"],
                n=int(coverage.loc[95, "points"]),
                se=SHORTFALL_SE,
            ),
        )
    if coverage["calibrated"].any():
        fc = replace(fc, model=f"{fc.model}, intervals calibrated on the backtest")
    return Selection(
        table=table,
        winner=winner,
        reason=_reason(table, winner, near_tie),
        forecast=fc,
        coverage=coverage,
        backtest=bt,
        notes=notes,
    )


def _usable_folds(
    n: int, horizon: int, folds: int, step: int | None, season: int
) -> tuple[int, int]:
    """The most folds (≤ ``folds``) whose first fit has the history the backtest needs,
    and the periods one fold needs (the rule of
    :func:`~shopbook.analysis.trend.rolling_origin`, :func:`first_fit_length`)."""
    first_fit = first_fit_length(season)
    for k in range(folds, 0, -1):
        if fold_origins(n, horizon, k, step)[0] >= first_fit:
            return k, first_fit + horizon
    return 0, first_fit + horizon


@dataclass(kw_only=True)
class SelectionCheck(Result):
    """The result of :func:`check_selection`.

    Attributes
    ----------
    table
        One row per candidate and two more, ``selected`` (the candidate
        :func:`select_forecast` chose on the folds before each held-out origin) and
        ``selected, calibrated`` (the same, intervals calibrated on those folds):
        ``mase``, ``coverage80``, ``coverage95`` over the held-out origins.
    winners
        The candidate chosen at each held-out origin.
    folds
        Per held-out origin and method: ``origin``, ``method``, ``mase``,
        ``coverage80``, ``coverage95``.
    """

    winners: list[str] = field(default_factory=list)
    folds: pd.DataFrame = field(default_factory=pd.DataFrame)


def check_selection(
    series: pd.Series,
    horizon: int,
    events: EventsLike = None,
    *,
    folds: int = 3,
    holdout: int = 2,
    candidates: Sequence[str] = CANDIDATES,
    near_tie: float = NEAR_TIE,
    seasons: Sequence[float] = DEFAULT_SEASONS,
    transform: str | None = "auto",
    post_days: int = 7,
) -> SelectionCheck:
    """How the selection does out of sample: choose on ``folds`` origins, score the next.

    One :func:`~shopbook.analysis.trend.rolling_origin` run over ``folds + holdout``
    origins fits every candidate once per origin. At each of the last ``holdout``
    origins the winner is chosen (:func:`choose`) from the ``folds`` origins before it —
    exactly what :func:`select_forecast` on the series cut at that origin does, since
    its refit on the cut series is the backtest's fit at that origin — and scored on
    the held-out periods next to every single candidate. The selected forecast's
    intervals are also calibrated on those ``folds`` origins' errors
    (:func:`~shopbook.analysis.trend.calibrate`), to check the calibration held out.

    Parameters
    ----------
    series, horizon, events, candidates, near_tie, seasons, transform, post_days
        As in :func:`select_forecast`.
    folds
        Origins the selection sees before each held-out origin.
    holdout
        Held-out origins (the last ones).

    Returns
    -------
    SelectionCheck
        ``table`` (MASE and coverage per candidate, ``selected`` and
        ``selected, calibrated``), ``winners``, ``folds``, ``notes``.
    """
    s = regularize(series).series
    order = [c for c in CANDIDATES if c in candidates]
    fits = candidate_functions(
        order,
        events,
        season=default_season(s),
        seasons=seasons,
        transform=transform,
        post_days=post_days,
    )
    bt = rolling_origin(s, horizon, fits, folds + holdout, errors="note")
    f, p = bt.folds, bt.predictions
    origins = sorted(f["origin"].unique())
    cols = ["mase", "coverage80", "coverage95"]
    rows, winners = [], []
    for k in range(folds, folds + holdout):
        seen = origins[k - folds : k]
        past = f[f["origin"].isin(seen)].groupby("method")["mase"].mean()
        w = choose(past.reindex([c for c in order if c in past.index]), near_tie)
        winners.append(w)
        now = f[f["origin"] == origins[k]].set_index("method")
        for c in now.index:
            rows.append({"origin": origins[k], "method": c, **now.loc[c, cols].to_dict()})
        rows.append({"origin": origins[k], "method": "selected", **now.loc[w, cols].to_dict()})
        held = p[(p["method"] == w) & (p["origin"] == origins[k])].set_index("date")
        widened, _, _ = calibrate(
            Forecast(table=held[["mean", "lo80", "hi80", "lo95", "hi95"]]),
            p[(p["method"] == w) & p["origin"].isin(seen)],
            nonnegative=bool((s >= 0).all()),
        )
        a = held["actual"]
        t = widened.table
        rows.append(
            {
                "origin": origins[k],
                "method": "selected, calibrated",
                "mase": now.loc[w, "mase"],
                "coverage80": float(np.mean((a >= t["lo80"]) & (a <= t["hi80"]))),
                "coverage95": float(np.mean((a >= t["lo95"]) & (a <= t["hi95"]))),
            }
        )
    fold_df = pd.DataFrame(rows)
    table = fold_df.groupby("method", sort=False)[cols].mean()
    return SelectionCheck(table=table, winners=winners, folds=fold_df, notes=list(bt.notes))


__all__ = [
    "NEAR_TIE",
    "Selection",
    "SelectionCheck",
    "check_selection",
    "choose",
    "select_forecast",
]
