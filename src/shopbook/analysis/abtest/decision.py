"""Decision: ship / don't ship / keep running, with a reason for each check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.abtest.comparisons import Comparison
from shopbook.analysis.abtest.srm import SRMResult
from shopbook.i18n import _, translate

__all__ = ["Decision", "decide"]


@dataclass(frozen=True)
class Decision:
    """The verdict of an experiment and why.

    Attributes
    ----------
    verdict
        ``"ship"``, ``"don't ship"`` or ``"keep running"``.
    reasons
        One row per check: ``check``, ``result`` (pass / fail / warn / info) and
        ``detail``.
    """

    verdict: str
    reasons: pd.DataFrame

    def explanation(self) -> str:
        """The verdict and the deciding reasons, in one line."""
        fails = self.reasons[self.reasons["result"].isin(["fail", "warn"])]["detail"].tolist()
        tail = "; ".join(fails) if fails else "all checks passed"
        return f"{self.verdict}: {tail}"

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reasons": self.reasons.to_dict("records")}


#: One row of the reasons table and the verdict the check forces (``None``: none).
_Check = tuple[dict[str, str], str | None]


def _row(check: str, result: str, detail: str) -> dict[str, str]:
    return {"check": check, "result": result, "detail": detail}


def _change(comp: Comparison) -> str:
    """The relative lift as ``+1.2%``, or the absolute lift when the relative is undefined."""
    return f"{comp.rel_lift:+.1%}" if np.isfinite(comp.rel_lift) else f"{comp.abs_lift:+.3g}"


def _split_check(srm: SRMResult) -> _Check:
    """Rule 1: a broken split decides on its own."""
    if srm.flagged:
        detail = _(
            "split does not match the intended shares (p = {p:.2g} < {t:g}); results cannot be "
            "trusted — fix the assignment and restart"
        ).format(p=srm.p_value, t=srm.threshold)
        return _row("sample ratio", "fail", detail), "don't ship"
    detail = _("split matches the intended shares (p = {p:.2g})").format(p=srm.p_value)
    return _row("sample ratio", "pass", detail), None


def _guardrail_check(name: str, comp: Comparison | None, better: str, alpha: float) -> _Check:
    """Rule 2: a guardrail significantly worse stops the treatment."""
    check, shown = _("guardrail: {name}").format(name=translate(name)), translate(name)
    if comp is None:
        why = _("{name} cannot be tested (e.g. no events in either arm)").format(name=shown)
        return _row(check, "info", why), None
    worse = comp.abs_lift < 0 if better == "higher" else comp.abs_lift > 0
    change = _change(comp)
    if comp.p_value < alpha and worse:
        detail = _("{name} significantly worse ({change}, p = {p:.2g})").format(
            name=shown, change=change, p=comp.p_value
        )
        return _row(check, "fail", detail), "don't ship"
    detail = _("{name} not significantly worse ({change}, p = {p:.2g})").format(
        name=shown, change=change, p=comp.p_value
    )
    return _row(check, "pass", detail), None


def _primary_check(
    primary: Comparison | None,
    p_value: float | None,
    sequential_p: float | None,
    early: bool,
    alpha: float,
) -> _Check:
    """Rule 3: the primary metric significantly better ships, significantly worse does not.

    Before the planned sample (``early``) only the always-valid p-value counts.
    """
    if primary is None:
        why = _("not measured: outcomes are not available")
        return _row("primary metric", "warn", why), None
    p = primary.p_value if p_value is None else p_value
    if early and sequential_p is not None:
        sig, p_used, how = sequential_p < alpha, sequential_p, _("always-valid p")
    elif early:
        sig, p_used, how = False, p, _("fixed-horizon p (planned sample not reached)")
    else:
        sig, p_used, how = p < alpha, p, _("fixed-horizon p")
    lift_txt = _change(primary)
    name = translate(primary.metric)
    check = _("primary: {name}").format(name=name)
    values = {"name": name, "lift": lift_txt, "how": how, "p": p_used}
    if sig and primary.abs_lift > 0:
        return _row(check, "pass", _("{name} up {lift} ({how} = {p:.2g})").format(**values)), "ship"
    if sig and primary.abs_lift < 0:
        detail = _("{name} down {lift} ({how} = {p:.2g})").format(**values)
        return _row(check, "fail", detail), "don't ship"
    detail = _("no significant change in {name} ({lift}, {how} = {p:.2g})").format(**values)
    return _row(check, "warn", detail), None


def _power_check(power: float, power_target: float) -> _Check:
    underpowered = power < power_target
    detail = (
        _("power to detect the planned effect is {p:.0%} (below {t:.0%})")
        if underpowered
        else _("power to detect the planned effect is {p:.0%}")
    ).format(p=power, t=power_target)
    return _row("power", "warn" if underpowered else "pass", detail), None


def _planned_check(planned_reached: bool) -> _Check:
    if planned_reached:
        return _row("planned sample", "pass", _("planned sample size reached")), None
    return _row("planned sample", "warn", _("planned sample size not reached yet")), None


def decide(
    primary: Comparison | None,
    guardrails: Mapping[str, tuple[Comparison | None, str]] | None = None,
    srm: SRMResult | None = None,
    power: float | None = None,
    power_target: float = 0.8,
    sequential_p: float | None = None,
    planned_reached: bool | None = None,
    alpha: float = 0.05,
    p_value: float | None = None,
) -> Decision:
    """Ship / don't ship / keep running, with a reason for each check.

    Rules, in order:

    1. A failed SRM check → **don't ship**: the split is broken, the numbers cannot be
       trusted; fix the assignment and restart.
    2. A guardrail significantly worse → **don't ship**.
    3. Primary metric significantly better (p < α and the interval above 0) → **ship**;
       significantly worse → **don't ship**. Before the planned sample size is
       reached (``planned_reached=False``) only the always-valid ``sequential_p``
       counts as significant, so an early look cannot mislead.
    4. Not significant: if underpowered (``power < power_target``) or the planned
       sample is not reached → **keep running**; otherwise → **don't ship** (no effect
       as large as the minimum detectable effect).

    Parameters
    ----------
    primary
        The primary metric's comparison (higher is better); ``None`` when outcomes
        could not be measured.
    guardrails
        ``{name: (comparison, better)}`` with ``better`` ``"higher"`` or ``"lower"``
        (e.g. ``{"average order value": (aov, "higher"), "refund rate": (rr, "lower")}``).
    srm
        The split check.
    power
        Power of the test to detect the planned minimum detectable effect with the
        traffic seen.
    power_target
        Power below which the test is called underpowered.
    sequential_p
        Always-valid p-value of the primary metric at the last look.
    planned_reached
        Whether the planned sample size has been reached (``None``: not known, judge by
        ``power``).
    alpha
        Significance level.
    p_value
        The primary metric's p-value to judge (e.g. multiplicity-adjusted); default
        ``primary.p_value``.

    Returns
    -------
    Decision
    """
    checks: list[_Check] = []
    if srm is not None:
        checks.append(_split_check(srm))
    for name, (comp, better) in (guardrails or {}).items():
        checks.append(_guardrail_check(name, comp, better, alpha))
    early = planned_reached is False
    checks.append(_primary_check(primary, p_value, sequential_p, early, alpha))
    underpowered = power is not None and power < power_target
    if power is not None:
        checks.append(_power_check(power, power_target))
    if planned_reached is not None:
        checks.append(_planned_check(planned_reached))
    rows = [row for row, _v in checks]
    verdict = next((v for _r, v in checks if v is not None), None)
    if verdict is None:
        verdict = "keep running" if (underpowered or early or primary is None) else "don't ship"
        if verdict == "don't ship":
            rows.append(
                _row(
                    "conclusion",
                    "info",
                    _(
                        "enough data and no effect as large as the planned minimum: "
                        "not worth shipping"
                    ),
                )
            )
    return Decision(
        verdict=verdict, reasons=pd.DataFrame(rows, columns=["check", "result", "detail"])
    )
