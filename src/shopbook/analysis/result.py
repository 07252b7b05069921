"""The one result convention of every analysis: a table, notes, and ``ok`` / ``why``.

Each analysis returns a :class:`Result` (or a dataclass that inherits from it), so a
notebook section always reads the same way::

    r = el.cross_price(panel, "units", "avg_price", "sku", "week", skus)
    if r.ok():
        show(r.table)
        for note in r.notes: display(md("Note: {note}", note=note))
    else:
        skipped("Segments", r.why())

A result that holds several sections (the A/B readout) names them: ``r.ok("power")``,
``r.why("power")``. ``notes`` are sentences a reader should see beside the numbers
(what was left out, what an estimate rests on); ``problems`` says, per section, why it
could not be computed — a section is ``ok`` exactly when it has no problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

import pandas as pd

#: The section name of a result with a single section.
WHOLE = ""


@dataclass(kw_only=True)
class Result:
    """A table, the notes a reader should see, and why any section was skipped.

    Attributes
    ----------
    table
        The main table of the result (may be empty when the result was skipped).
    notes
        Sentences to show beside the result.
    problems
        Section name → why it was skipped; :data:`WHOLE` (``""``) for the whole result.
    """

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)

    def ok(self, section: str = WHOLE) -> bool:
        """Whether ``section`` (default: the whole result) has results."""
        return WHOLE not in self.problems and section not in self.problems

    def why(self, section: str = WHOLE) -> str:
        """Why ``section`` (default: the whole result) was skipped (``""`` when it was not)."""
        return self.problems.get(section) or self.problems.get(WHOLE, "")

    def skip(self, why: str, section: str = WHOLE) -> Self:
        """Mark ``section`` as skipped for ``why`` (the first reason is kept); returns self."""
        self.problems.setdefault(section, why)
        return self

    def note(self, text: str) -> Self:
        """Add a note once (a repeated note is not added again); returns self."""
        if text and text not in self.notes:
            self.notes.append(text)
        return self

    @classmethod
    def skipped(cls, why: str, **fields: Any) -> Self:
        """A result with nothing in it, skipped for ``why``."""
        return cls(problems={WHOLE: why}, **fields)


__all__ = ["WHOLE", "Result"]
