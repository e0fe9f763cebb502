"""The one exception the rule language raises, shaped like SPEC's 400 body."""

from __future__ import annotations

from typing import Any


class RuleError(Exception):
    """A rule that cannot be parsed, checked or compiled, with where and why."""

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        expected: list[str] | None = None,
        hint: str | None = None,
        context: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.expected = list(expected or [])
        self.hint = hint
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        """Return SPEC's `invalid_rule` error body."""
        return {
            "error": "invalid_rule",
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "expected": self.expected,
            "hint": self.hint,
            "context": self.context,
        }

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.line else ""
        return f"{self.message}{where}"


def caret(text: str, line: int, column: int, span: int = 40) -> str:
    """Return the offending line around `column` with a caret under it, like Lark's get_context."""
    lines = text.split("\n")
    row = lines[line - 1] if 0 < line <= len(lines) else ""
    start = max(0, column - 1 - span)
    before = row[start : column - 1]
    after = row[column - 1 : column - 1 + span]
    return f"{before}{after}\n{' ' * len(before)}^\n"


def position_after(text: str) -> tuple[int, int]:
    """Return the line and column just past the last non-blank character."""
    body = text.rstrip()
    lines = body.split("\n")
    return len(lines), len(lines[-1]) + 1
