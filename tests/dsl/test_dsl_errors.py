"""Error messages say what is wrong, where, and what would be right."""

from __future__ import annotations

import pytest

from xeno.dsl import RuleError, from_json, parse


def _error(rule: str) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse(rule)
    return caught.value


@pytest.mark.parametrize(("rule", "message", "line", "column"), [
    ("spnd > 5", "unknown field 'spnd' — did you mean 'spend'?", 1, 1),
    ("spend > 1 AND\n  vists < 3", "unknown field 'vists' — did you mean 'visits'?", 2, 3),
    ("spend CONTAINS 'x'", "CONTAINS needs a text field; spend is a number", 1, 7),
    ("city > 'a'", "> fits numbers and dates, not text; city is text", 1, 6),
    ("spend > 'x'", 'spend is a number; "x" is text', 1, 9),
    ("last_visit < 5", "last_visit is a date-time; 5 is a number", 1, 14),
    ("spend >", "expected a value after '>'", 1, 8),
    ("spend BETWEEN 1 AND", "expected a value after 'AND'", 1, 20),
    ("spend > 1 AND", "expected a condition after 'AND'", 1, 14),
    ("(spend > 5", "a '(' is not closed: expected ')'", 1, 11),
    ("city = Mumbai", "expected a value after '='", 1, 8),
    ("spend > 5 visits > 3", "expected AND or OR before 'visits'", 1, 11),
    ("signup = 2024-02-30", "2024-02-30 is not a date", 1, 10),
    ("city = 'abc", "this text has no closing quote", 1, 8),
    ("spend & visits", "unexpected character '&'", 1, 7),
    ("city = ''", "an empty text never matches", 1, 8),
    ("last_visit < 3.5 days ago", "'3.5 days ago' needs a whole number of days", 1, 14),
])
def test_error_names_problem_and_position(rule: str, message: str, line: int, column: int) -> None:
    error = _error(rule)
    assert (error.message, error.line, error.column) == (message, line, column)


@pytest.mark.parametrize(("rule", "hint"), [
    ("spend containz 'x'", "did you mean 'CONTAINS'?"),
    ("spend > 5 adn visits < 3", "did you mean 'AND'?"),
    ("city = Mumbai", 'text values need quotes: "Mumbai"'),
    ("spend == 5", "use a single '='"),
    ("city = ''", "use city IS EMPTY to find customers without one"),
])
def test_common_mistake_gets_a_hint(rule: str, hint: str) -> None:
    assert _error(rule).hint == hint


@pytest.mark.parametrize("rule", ["", "   ", "\n\t"])
def test_empty_rule_is_an_error(rule: str) -> None:
    error = _error(rule)
    assert (error.message, error.line, error.column) == ("the rule is empty", 1, 1)


def test_too_long_rule_is_an_error_at_the_limit() -> None:
    error = _error("spend > 1 OR " * 800 + "spend > 1")
    assert error.message == "the rule is longer than 10,000 characters"
    assert error.column == 10_001


def test_ten_thousand_characters_is_allowed() -> None:
    rule = "spend > 1 OR " * 768 + "spend > 1"
    rule += " " * (10_000 - len(rule))
    parse(rule)


def test_too_deep_rule_is_an_error_at_the_33rd_parenthesis() -> None:
    error = _error("(" * 33 + "spend > 1" + ")" * 33)
    assert "more than 32 levels" in error.message
    assert (error.line, error.column) == (1, 33)


def test_32_levels_of_parentheses_are_allowed() -> None:
    parse("(" * 32 + "spend > 1" + ")" * 32)


def test_32_nots_are_allowed_and_the_33rd_is_an_error_where_it_starts() -> None:
    parse("NOT " * 32 + "spend > 1")
    error = _error("NOT " * 33 + "spend > 1")
    assert "NOT and parentheses more than 32 levels" in error.message
    assert (error.line, error.column) == (1, 32 * 4 + 1)


def test_nots_and_parentheses_count_together() -> None:
    parse("NOT (" * 16 + "spend > 1" + ")" * 16)
    error = _error("NOT (" * 16 + "NOT spend > 1" + ")" * 16)
    assert "more than 32 levels" in error.message


def test_a_not_ends_with_its_condition() -> None:
    parse(" OR ".join(["NOT spend > 1"] * 200))
    parse("(" * 31 + "city NOT IN ('a') AND NOT visits IS NOT EMPTY" + ")" * 31)


def test_parentheses_inside_text_do_not_count_as_nesting() -> None:
    parse("city = '" + "(" * 40 + "'")


def test_expected_lists_words_not_terminal_names() -> None:
    error = _error("spend >")
    assert error.expected == ["a number", "a quoted text", "a date", "a date-time", "today"]
    assert not any(word.isupper() and "_" in word for word in error.expected)


def test_context_shows_caret_under_offending_token() -> None:
    assert _error("spend > 5 adn visits < 3").context == (
        "spend > 5 adn visits < 3\n          ^\n")


def test_early_end_points_past_the_end() -> None:
    error = _error("visits <=   ")
    assert (error.line, error.column) == (1, 10)
    assert error.context.endswith("         ^\n")


def test_to_dict_has_spec_keys() -> None:
    body = _error("spnd > 5").to_dict()
    assert body["error"] == "invalid_rule"
    assert set(body) == {"error", "message", "line", "column", "expected", "hint", "context"}
    assert "spend" in body["hint"]


def test_non_text_rule_is_a_rule_error() -> None:
    with pytest.raises(RuleError):
        parse(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("tree", [
    None, {}, {"type": "and", "children": []}, {"type": "nand"},
    {"type": "condition", "field": "spend", "op": "contains", "value": {"kind": "string",
                                                                         "value": "x"}},
    {"type": "condition", "field": "spnd", "op": ">", "value": {"kind": "number", "value": "1"}},
    {"type": "condition", "field": "spend", "op": ">", "value": {"kind": "number", "value": "x"}},
    {"type": "condition", "field": "spend", "op": "between",
     "value": [{"kind": "number", "value": "1"}]},
    {"type": "condition", "field": "signup", "op": "=",
     "value": {"kind": "date", "value": "2024-02-30"}},
    {"type": "condition", "field": "signup", "op": "<",
     "value": {"kind": "relative", "amount": -1, "unit": "days"}},
    {"type": "condition", "field": "spend", "op": ">", "value": {"kind": "number",
                                                                 "value": "NaN"}},
])
def test_bad_json_tree_is_a_rule_error(tree: object) -> None:
    with pytest.raises(RuleError):
        from_json(tree)
