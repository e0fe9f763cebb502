"""Parse rule text into a checked tree; every failure becomes a RuleError with a position."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedToken, VisitError

from .checks import Exists, check
from .errors import RuleError, caret
from .syntax import syntax_error, words
from .tree import (
    MAX_LENGTH,
    MAX_NESTING,
    Comparison,
    Date,
    DateTime,
    Node,
    Not,
    Number,
    Period,
    Relative,
    String,
    Today,
    Word,
    make_and,
    make_or,
)


@lru_cache(maxsize=1)
def get_parser() -> Lark:
    """Build the LALR parser once (Lark caches the tables on disk)."""
    return Lark.open_from_package("xeno.dsl", "grammar.lark", parser="lalr", cache=True,
                                  propagate_positions=True)


def parse(text: str, exists: Exists | None = None) -> Node:
    """Parse and check a rule; raise RuleError saying where and what is wrong.

    `exists(kind, numbers)` is the app's hook telling which numbers name stored rows
    (`campaign 12`); without it such numbers are not looked up."""
    tree = parse_unchecked(text)
    return check(tree, text, exists)


def parse_unchecked(text: str) -> Node:
    """Parse a rule into a tree without looking fields up (for editors and tests)."""
    if not isinstance(text, str):
        raise RuleError("the rule must be text", 1, 1)
    if not text.strip():
        raise RuleError("the rule is empty", 1, 1, expected=["a condition"])
    if len(text) > MAX_LENGTH:
        line, column = _position(text, MAX_LENGTH)
        raise RuleError(f"the rule is longer than {MAX_LENGTH:,} characters", line, column,
                        hint="split it into saved segments", context=caret(text, line, column))
    _check_nesting(text)
    parser = get_parser()
    try:
        parsed = parser.parse(text)
    except (UnexpectedCharacters, UnexpectedToken) as exc:
        raise syntax_error(exc, text) from None
    except LarkError as exc:  # anything else Lark may raise still has to be a RuleError
        raise RuleError(f"the rule cannot be read: {exc}", 1, 1) from None
    try:
        return _Build(text).transform(parsed)
    except VisitError as exc:
        if isinstance(exc.orig_exc, RuleError):
            raise exc.orig_exc from None
        raise RuleError(f"the rule cannot be read: {exc.orig_exc}", 1, 1) from None
    except RecursionError:
        raise RuleError("the rule is nested too deeply", 1, 1) from None


def next_words(text: str) -> list[str]:
    """Return what may come next after `text`, in words (for the builder's autocomplete)."""
    try:
        interactive = get_parser().parse_interactive(text)
        interactive.exhaust_lexer()
        return words(interactive.accepts())
    except LarkError:
        return []


# A quoted string (whose parentheses and words are text), a parenthesis, a word, or a run of
# anything else (operators, numbers, dates).
_TOKENS = re.compile(
    r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[()]|[a-z_][a-z0-9_]*|[^\s()"'a-z_]+""",
    re.S | re.I,
)


def _check_nesting(text: str) -> None:
    """Refuse more than MAX_NESTING levels of parentheses and NOT before Lark recurses on them.

    A logical NOT (one where a condition may start, unlike NOT IN or IS NOT EMPTY) is a level
    of its own until its condition or group ends: `NOT NOT spend > 1` nests two deep, and the
    transformer and every later stage recurse once per level, so 1,200 NOTs must stop here.
    """
    groups: list[int] = []  # per open parenthesis, the NOTs in front of it (closed with it)
    enclosing = 0  # parentheses plus the NOTs in front of them, all still open
    pending = 0  # NOTs in front of the condition being read; they end at AND, OR or ")"
    expect_condition = True
    for match in _TOKENS.finditer(text):
        token = match.group().lower()
        if token == "(":
            wrapping = pending if expect_condition else 0
            groups.append(wrapping)
            enclosing += 1 + wrapping
            pending, expect_condition = 0, True
            if enclosing > MAX_NESTING:
                _too_deep(text, match.start(), "parentheses")
        elif token == ")":
            enclosing -= 1 + groups.pop() if groups else 0
            pending, expect_condition = 0, False
        elif token == "not" and expect_condition:
            pending += 1
            if enclosing + pending > MAX_NESTING:
                _too_deep(text, match.start(), "NOT and parentheses")
        elif token in ("and", "or"):
            pending, expect_condition = 0, True
        else:
            expect_condition = False


def _too_deep(text: str, offset: int, what: str) -> None:
    line, column = _position(text, offset)
    raise RuleError(f"the rule nests {what} more than {MAX_NESTING} levels deep", line, column,
                    hint="flatten the groups", context=caret(text, line, column))


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


_ESCAPE = re.compile(r"\\(.)", re.S)
_TEXT_OPS = {"contains": "contains", "starts": "starts with", "ends": "ends with"}


def _pos(token: Token) -> dict[str, Any]:
    return {"line": token.line, "column": token.column}


@v_args(inline=True)
class _Build(Transformer):
    """Turn Lark's parse tree into tree.py's dataclasses, keeping token positions."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def _fail(self, message: str, token: Token, hint: str | None = None) -> RuleError:
        return RuleError(message, token.line, token.column, hint=hint,
                         context=caret(self.text, token.line, token.column))

    def or_expr(self, *children: Node) -> Node:
        return make_or(children, line=children[0].line, column=children[0].column)

    def and_expr(self, *children: Node) -> Node:
        return make_and(children, line=children[0].line, column=children[0].column)

    def not_(self, keyword: Token, child: Node) -> Node:
        return Not(child, **_pos(keyword))

    def _cmp(self, name: Token, param: Any, op: str, op_token: Token, value: Any) -> Comparison:
        return Comparison(name.value.lower(), op, value, name.line, name.column,
                          op_token.line, op_token.column, param)

    def compare(self, name: Token, param: Any, op: Token, value: Any) -> Comparison:
        return self._cmp(name, param, "!=" if op.value == "<>" else op.value, op, value)

    def between(self, name: Token, param: Any, keyword: Token, low: Any, high: Any) -> Comparison:
        return self._cmp(name, param, "between", keyword, (low, high))

    def in_(self, name: Token, param: Any, keyword: Token, values: tuple) -> Comparison:
        return self._cmp(name, param, "in", keyword, values)

    def not_in(self, name: Token, param: Any, keyword: Token, _in: Token,
               values: tuple) -> Comparison:
        return self._cmp(name, param, "not in", keyword, values)

    def text_op(self, name: Token, param: Any, keyword: Token, value: Any) -> Comparison:
        return self._cmp(name, param, _TEXT_OPS[keyword.value.lower()], keyword, value)

    def empty(self, name: Token, param: Any, keyword: Token, _empty: Token) -> Comparison:
        return self._cmp(name, param, "is empty", keyword, None)

    def not_empty(self, name: Token, param: Any, keyword: Token, _not: Token,
                  _empty: Token) -> Comparison:
        return self._cmp(name, param, "is not empty", keyword, None)

    def is_(self, name: Token, param: Any, keyword: Token, word: Token) -> Comparison:
        return self._cmp(name, param, "is", keyword, Word(word.value.upper(), **_pos(word)))

    def param_number(self, token: Token) -> Number:
        return self.number(token)

    def param_period(self, keyword: Token, _last: Token, amount: Token, unit: Token) -> Period:
        text = amount.value
        if not text.isdigit() or len(text) > 9:
            raise self._fail(f"'IN LAST {text} {unit.value.upper()}' needs a whole number of "
                             f"{unit.value.lower()}", amount, hint="e.g. IN LAST 90 DAYS")
        return Period(int(text), _plural(unit.value), **_pos(keyword))

    def values(self, *values: Any) -> tuple:
        return values

    def number(self, token: Token) -> Number:
        try:
            return Number(Decimal(token.value), **_pos(token))
        except InvalidOperation:
            raise self._fail(f"'{token.value}' is not a number", token) from None

    def string(self, token: Token) -> String:
        return String(_ESCAPE.sub(r"\1", token.value[1:-1]), **_pos(token))

    def date(self, token: Token) -> Date:
        try:
            return Date(dt.date.fromisoformat(token.value), **_pos(token))
        except ValueError:
            raise self._fail(f"{token.value} is not a date", token,
                             hint="dates are YYYY-MM-DD, e.g. 2024-01-31") from None

    def datetime(self, token: Token) -> DateTime:
        raw = token.value.upper()
        try:
            moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        except (ValueError, OverflowError):
            raise self._fail(f"{token.value} is not a date-time", token,
                             hint="date-times look like 2024-01-01T10:00:00Z") from None
        return DateTime(moment, **_pos(token))

    def today(self, token: Token) -> Today:
        return Today(**_pos(token))

    def relative(self, amount: Token, unit: Token, _ago: Token) -> Relative:
        text = amount.value
        if not text.isdigit() or len(text) > 9:
            raise self._fail(f"'{text} {unit.value} ago' needs a whole number of {unit.value}",
                             amount, hint="e.g. 3 months ago")
        return Relative(int(text), _plural(unit.value), **_pos(amount))


def _plural(unit: str) -> str:
    unit = unit.lower()
    return unit if unit.endswith("s") else unit + "s"
