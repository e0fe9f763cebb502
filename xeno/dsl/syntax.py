"""Turn Lark's syntax errors into RuleErrors a person can act on."""

from __future__ import annotations

from collections.abc import Iterable

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .checks import suggest
from .errors import RuleError, caret, position_after
from .tree import OPERATORS

# Lark's terminal names → words, in the order they are listed to the user
DISPLAY: dict[str, str] = {
    "FIELD": "a field",
    "NOT": "NOT",
    "_LPAR": "(",
    "CMP_OP": "=, !=, >, >=, <, <=",
    "BETWEEN": "BETWEEN",
    "IN": "IN",
    "CONTAINS": "CONTAINS",
    "STARTS": "STARTS WITH",
    "ENDS": "ENDS WITH",
    "IS": "IS",
    "EMPTY": "EMPTY",
    "WORD": "a word such as SENT",
    "LAST": "LAST",
    "_WITH": "WITH",
    "NUMBER": "a number",
    "STRING": "a quoted text",
    "DATE": "a date",
    "DATETIME": "a date-time",
    "TODAY": "today",
    "UNIT": "days, weeks, months or years",
    "AGO": "AGO",
    "_AND": "AND",
    "_OR": "OR",
    "_COMMA": ",",
    "_RPAR": ")",
    "$END": "the end of the rule",
}
VALUES = frozenset({"NUMBER", "STRING", "DATE", "DATETIME", "TODAY"})
OPERATOR_TERMINALS = frozenset({"CMP_OP", "BETWEEN", "IN", "CONTAINS", "STARTS", "ENDS", "IS"})
# the words an operator starts with, for did-you-mean on a misspelt one
OPERATOR_WORDS = sorted({op.split()[0] for op in OPERATORS if op[0].isalpha()})


def words(names: Iterable[str]) -> list[str]:
    """Map raw terminal names to display words, in a stable order."""
    names = set(names)
    return [word for name, word in DISPLAY.items() if name in names]


def _previous(exc: UnexpectedToken) -> Token | None:
    """Return the last token the parser accepted before the error."""
    parser = getattr(exc, "interactive_parser", None)
    stack = parser.parser_state.value_stack if parser is not None else []
    for item in reversed(stack):
        if isinstance(item, Token):
            return item
        if isinstance(item, Tree):
            tokens = list(item.scan_values(lambda v: isinstance(v, Token)))
            if tokens:
                return tokens[-1]
    return None


def syntax_error(exc: UnexpectedInput, text: str) -> RuleError:
    """Return the RuleError for a Lark syntax error in `text`."""
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        expected = words(exc.allowed or ())
        if char in "\"'":
            return RuleError("this text has no closing quote", exc.line, exc.column, [char],
                             f"end the text with {char}", exc.get_context(text))
        shown = repr(char)[1:-1] or "end of rule"
        return RuleError(f"unexpected character '{shown}'", exc.line, exc.column, expected,
                         _char_hint(char), exc.get_context(text))
    assert isinstance(exc, UnexpectedToken)
    names = set(exc.accepts or exc.expected)
    if names & OPERATOR_TERMINALS:  # a number there is a field's parameter, rarely meant
        names.discard("NUMBER")
    expected = words(names)
    previous = _previous(exc)
    after = f" after '{previous.value}'" if previous is not None else ""
    token = exc.token
    if token.type == "$END":
        line, column = position_after(text)
        return RuleError(_missing(names, after, previous), line, column, expected,
                         None, caret(text, line, column))
    line, column = token.line, token.column
    hint = _token_hint(token, names)
    if names & VALUES and not names & ({"FIELD"} | OPERATOR_TERMINALS):
        message = f"expected a value{after}"
        if token.type == "FIELD":
            hint = f'text values need quotes: "{token.value}"'
    elif names & OPERATOR_TERMINALS:
        message = f"expected an operator{after}, not '{token.value}'"
    elif "FIELD" in names:
        message = f"expected a condition{after}, not '{token.value}'"
    elif names & {"_AND", "_OR"}:
        message = f"expected AND or OR before '{token.value}'"
    else:
        shown = words(names - {"UNIT", "$END"}) or expected
        message = f"unexpected '{token.value}'{after}; expected {' or '.join(shown)}"
    return RuleError(message, line, column, expected, hint, exc.get_context(text))


def _missing(names: set[str], after: str, previous: Token | None) -> str:
    if names & VALUES and not names & ({"FIELD"} | OPERATOR_TERMINALS):
        return f"expected a value{after}"
    if names & OPERATOR_TERMINALS:
        return f"expected an operator{after}"
    if "FIELD" in names:
        return f"expected a condition{after}"
    if "_RPAR" in names:
        return "a '(' is not closed: expected ')'"
    return f"the rule ends too early; expected {' or '.join(words(names))}{after}"


def _token_hint(token: Token, names: set[str]) -> str | None:
    value = str(token.value)
    if token.type == "FIELD" and names & OPERATOR_TERMINALS:
        close = suggest(value, OPERATOR_WORDS)
        if close:
            return f"did you mean '{close.upper()}'?"
    if token.type == "FIELD" and names & {"_AND", "_OR"}:
        close = suggest(value, ["and", "or"])
        if close:
            return f"did you mean '{close.upper()}'?"
        return "join conditions with AND or OR"
    if token.type == "CMP_OP" and value == "=":
        return "use a single '='"
    return None


def _char_hint(char: str) -> str | None:
    if char in "&|":
        return "write AND / OR"
    if char == "!":
        return "write != or NOT"
    return None
