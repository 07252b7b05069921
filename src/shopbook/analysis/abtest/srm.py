"""Trust the split: the sample-ratio-mismatch check, the variants and the units.

:func:`srm_test` (chi-square against the intended shares, read with
:func:`parse_split`), :func:`check_variants` (the variants named by the reader exist)
and :func:`check_units` (each unit in exactly one variant).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from shopbook.analysis.abtest.errors import ABTestError

__all__ = ["SRMResult", "check_units", "check_variants", "parse_split", "srm_test"]


@dataclass(frozen=True)
class SRMResult:
    """Sample-ratio-mismatch check.

    Attributes
    ----------
    statistic, p_value, df
        Pearson chi-square against the intended split.
    observed, expected
        Units per variant, seen and expected under the intended split.
    threshold
        The p-value under which the split is flagged (0.001 by convention: the check
        runs on every experiment, and a false alarm stops a readout).
    """

    statistic: float
    p_value: float
    df: int
    observed: dict[str, int]
    expected: dict[str, float]
    threshold: float = 0.001

    @property
    def flagged(self) -> bool:
        """True when the split does not match the intended shares (p < threshold)."""
        return self.p_value < self.threshold

    @property
    def passed(self) -> bool:
        return not self.flagged

    @property
    def finding(self) -> str:
        """What the check found, as a reader should read it."""
        if self.flagged:
            return "the split does NOT match the intended shares"
        return "the split matches the intended shares"

    def table(self) -> pd.DataFrame:
        """Observed vs expected units and shares per variant."""
        total = sum(self.observed.values())
        return pd.DataFrame(
            {
                "variant": list(self.observed),
                "units": list(self.observed.values()),
                "share": [v / total for v in self.observed.values()],
                "expected_units": [self.expected[k] for k in self.observed],
                "expected_share": [self.expected[k] / total for k in self.observed],
            }
        )


def _observed(counts: Mapping[str, int] | Sequence[int]) -> tuple[list[str], np.ndarray]:
    """Variant names and units per variant, checked: two variants or more, some units."""
    if isinstance(counts, Mapping):
        names = [str(k) for k in counts]
        obs = np.array([counts[k] for k in counts], dtype=float)
    else:
        obs = np.asarray(list(counts), dtype=float)
        names = [f"variant_{i}" for i in range(len(obs))]
    if len(obs) < 2:
        raise ABTestError(
            f"a split needs at least two variants; found {len(obs)} ({', '.join(names) or 'none'})"
        )
    if np.any(obs < 0) or not np.all(np.isfinite(obs)):
        raise ABTestError(f"unit counts must be non-negative numbers, got {obs.tolist()}")
    if obs.sum() == 0:
        raise ABTestError("no units in any variant: the experiment has no assignments")
    return names, obs


def _intended_shares(
    expected_shares: Mapping[str, float] | Sequence[float] | None, names: list[str]
) -> np.ndarray:
    """The intended weight of each variant in ``names`` (not yet normalised), checked."""
    if expected_shares is None:
        shares = np.full(len(names), 1.0 / len(names))
    elif isinstance(expected_shares, Mapping):
        missing = [n for n in names if n not in expected_shares]
        extra = [str(k) for k in expected_shares if str(k) not in names]
        if missing or extra:
            raise ABTestError(
                "the intended split must name the same variants as the data: "
                f"missing shares for {missing or 'none'}, "
                f"shares for absent variants {extra or 'none'}"
            )
        shares = np.array([expected_shares[n] for n in names], dtype=float)
    else:
        shares = np.asarray(list(expected_shares), dtype=float)
        if len(shares) != len(names):
            raise ABTestError(f"{len(shares)} intended shares for {len(names)} variants")
    if np.any(shares <= 0) or not np.all(np.isfinite(shares)):
        raise ABTestError(f"intended shares must be positive, got {shares.tolist()}")
    return shares


def srm_test(
    counts: Mapping[str, int] | Sequence[int],
    expected_shares: Mapping[str, float] | Sequence[float] | None = None,
    threshold: float = 0.001,
) -> SRMResult:
    """Chi-square test of the units per variant against the intended split.

    Parameters
    ----------
    counts
        Units per variant: a mapping ``{variant: units}`` or a sequence.
    expected_shares
        Intended share of each variant (any positive weights; they are normalised).
        A mapping must name the same variants as ``counts``; a sequence must have the
        same length. Default: an equal split.
    threshold
        Flag the split when ``p_value < threshold``.

    Returns
    -------
    SRMResult
        ``statistic``, ``p_value``, ``flagged`` and the observed/expected table.

    Raises
    ------
    ABTestError
        Fewer than two variants, no units, negative counts, or shares that do not match
        the variants.
    """
    names, obs = _observed(counts)
    shares = _intended_shares(expected_shares, names)
    shares = shares / shares.sum()
    exp = shares * obs.sum()
    res = stats.chisquare(obs, exp)
    return SRMResult(
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        df=len(obs) - 1,
        observed={n: int(o) for n, o in zip(names, obs, strict=True)},
        expected={n: float(e) for n, e in zip(names, exp, strict=True)},
        threshold=threshold,
    )


def check_variants(
    found: Iterable[str],
    expected: Iterable[str] | None = None,
    control: str | None = None,
    experiment_id: str = "the experiment",
) -> list[str]:
    """Check that the variants named by the reader exist in the data.

    Parameters
    ----------
    found
        Variants present in the data.
    expected
        Variants named in the parameters (``None``/empty: accept what was found).
    control
        The control's name; it must be among the variants.
    experiment_id
        Used in messages.

    Returns
    -------
    list of str
        The variants to analyse, control first.

    Raises
    ------
    ABTestError
        A named variant (or the control) has no units, or fewer than two variants.
    """
    found = [str(v) for v in found]
    wanted = [str(v) for v in expected] if expected else list(found)
    absent = [v for v in wanted if v not in found]
    if absent:
        raise ABTestError(
            f"variant(s) {', '.join(repr(v) for v in absent)} named in the parameters have "
            f"no units in {experiment_id} "
            f"(variants found: {', '.join(repr(v) for v in found) or 'none'}). "
            "Fix the variant names in the parameters."
        )
    if control is not None and control not in wanted:
        raise ABTestError(
            f"control variant {control!r} has no units in {experiment_id} "
            f"(variants: {', '.join(repr(v) for v in wanted) or 'none'}). "
            "Set `control` to one of them."
        )
    if len(wanted) < 2:
        raise ABTestError(
            f"{experiment_id} has {len(wanted)} variant(s) ({', '.join(wanted) or 'none'}): "
            "an A/B test needs a control and at least one treatment"
        )
    if control is not None:
        wanted = [control] + [v for v in wanted if v != control]
    return wanted


def check_units(
    units: pd.DataFrame, unit_col: str = "unit_id", variant_col: str = "variant"
) -> None:
    """Refuse a per-unit frame in which a unit appears more than once.

    A unit in two variants (or twice in one) breaks the independence every test here
    relies on; such units must be removed upstream (the validator rejects them with the
    reason ``unit in two variants``).

    Parameters
    ----------
    units
        Per-unit frame with ``unit_col`` (optional: nothing to check without it) and
        ``variant_col``.

    Raises
    ------
    ABTestError
        Naming how many units repeat and an example.
    """
    if variant_col not in units.columns:
        raise ABTestError(f"the per-unit table has no {variant_col!r} column")
    if unit_col not in units.columns:
        return
    dup = units[unit_col].duplicated(keep=False)
    if dup.any():
        rows = units.loc[dup]
        n_two = int((rows.groupby(unit_col)[variant_col].nunique() > 1).sum())
        n_units = int(rows[unit_col].nunique())
        raise ABTestError(
            f"{n_units:,} unit(s) appear more than once ({n_two:,} in two variants): "
            "each unit must be in exactly one variant. Remove them upstream "
            "(validation rejects them as 'unit in two variants')."
        )


def parse_split(text: str | Mapping[str, float] | None) -> dict[str, float] | None:
    """Parse an intended split such as ``"control:50,treatment:50"``.

    Parameters
    ----------
    text
        ``"name:share,name:share"`` (or ``name=share``; any positive weights), a
        mapping, or empty for an equal split.

    Returns
    -------
    dict or None
        ``{variant: weight}``, or ``None`` for an equal split.
    """
    if not text:
        return None
    if isinstance(text, Mapping):
        return {str(k): float(v) for k, v in text.items()}
    out: dict[str, float] = {}
    for part in str(text).split(","):
        if not part.strip():
            continue
        name, sep, value = part.replace(":", "=").partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ABTestError(
                f"cannot read the intended split {text!r}: write it as 'control:50,treatment:50'"
            ) from None
    return out
