"""Errors Shopbook raises on purpose, with messages a user can act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One structural problem with a source.

    Attributes
    ----------
    table, column
        Where the problem is (``column`` is ``None`` for table-level problems).
    expected, found
        What the contract asks for and what the source holds.
    fix
        How to fix it, in one sentence.
    """

    table: str
    column: str | None
    expected: str
    found: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{where}: expected {self.expected}, found {self.found}. Fix: {self.fix}"


class ContractError(ValueError):
    """The data breaks the contract in a way rows cannot be rejected for.

    Raised for structural problems — a missing table or column, a type that cannot be
    coerced, mixed currencies, an empty table a caller needs — and, with
    ``strict=True``, for any rejected row. The message names the table, the column,
    what was expected, what was found and how to fix it; one line per problem.

    Construct with keyword arguments for a single problem, or with ``problems=[...]``.
    """

    def __init__(
        self,
        *,
        table: str | None = None,
        column: str | None = None,
        expected: str = "",
        found: str = "",
        fix: str = "",
        problems: list[Problem] | None = None,
    ) -> None:
        if problems is None:
            problems = [Problem(table or "?", column, expected, found, fix)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def table(self) -> str:
        return self.problems[0].table

    @property
    def column(self) -> str | None:
        return self.problems[0].column
