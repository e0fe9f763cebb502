"""Malformed rules: whatever the input, the answer is a RuleError with a position."""

from __future__ import annotations

import random

import pytest

from xeno.dsl import RuleError, parse

from .test_dsl_examples import MORE_RULES, SPEC_EXAMPLES

TOKENS = ["AND", "OR", "NOT", "(", ")", ",", "=", "!=", "<>", ">", ">=", "<", "<=", "BETWEEN",
          "IN", "CONTAINS", "STARTS", "WITH", "ENDS", "IS", "EMPTY", "today", "ago", "days",
          '"x', "'", '"', "\\", "spend", "spnd", "city", "2024-02-30", "2024-13-01",
          "2024-01-01T25:00:00Z", "9" * 400, "1e5", "-", ".", "3.5", "\n", "\x00", "é", "😀",
          "%", ";", "--", "/*", "DROP", "99999999 years ago", "''", '""']


def _mutate(rule: str, rng: random.Random) -> str:
    words = rule.split(" ")
    for _ in range(rng.randint(1, 3)):
        action = rng.random()
        at = rng.randrange(len(words) + 1)
        if action < 0.3 and len(words) > 1:
            del words[min(at, len(words) - 1)]
        elif action < 0.6:
            words.insert(at, rng.choice(TOKENS))
        elif action < 0.8 and words:
            word = words[min(at, len(words) - 1)]
            cut = rng.randrange(len(word) + 1)
            word = word[:cut] + chr(rng.randrange(32, 0x2FF)) + word[cut:]
            words[min(at, len(words) - 1)] = word
        else:
            text = " ".join(words)
            cut = rng.randrange(len(text) + 1)
            words = (text[:cut] + text[cut + rng.randint(1, 4):]).split(" ")
    return " ".join(words)


MUTANTS = [_mutate(random.Random(i).choice(SPEC_EXAMPLES + MORE_RULES), random.Random(i * 7919))
           for i in range(1000)]


@pytest.mark.parametrize("chunk", range(10))
def test_malformed_rules_raise_rule_error_with_position(chunk: int) -> None:
    errors = 0
    for rule in MUTANTS[chunk * 100:(chunk + 1) * 100]:
        try:
            parse(rule)
        except RuleError as exc:
            errors += 1
            assert exc.line >= 1 and exc.column >= 1, rule
            assert exc.message and isinstance(exc.expected, list), rule
            assert exc.to_dict()["error"] == "invalid_rule"
    assert errors > 50  # most mutants are broken; the rest parse to a valid rule


@pytest.mark.parametrize("rule", [
    "spend > " + "9" * 5000, "spend > 0." + "0" * 5000 + "1", "last_visit < 2000 years ago",
    "signup = 9999-12-31", "signup > 9999-12-31T23:59:59Z", "signup < 0001-01-01",
    "signup > 0001-01-01T00:00:00+05:30", "signup > 9999-12-31T23:00:00-05:00",
    "last_visit < 1000 years ago", "inactive_days > 99999999999999999999", "(" * 40,
    ")" * 40, "NOT " * 2400 + "spend > 1", '"' * 3, "spend > 1 " * 1200, "\x00",
    "spend > 1\n\n  AND", "city IN (" + ", ".join(['"a"'] * 2000) + ")",
])
def test_absurd_rules_never_raise_anything_but_rule_error(rule: str, table, now) -> None:
    from xeno.dsl import compile_rule

    try:
        compile_rule(parse(rule), table, now)
    except RuleError as exc:
        assert exc.line is None or (exc.line >= 1 and exc.column >= 1)
