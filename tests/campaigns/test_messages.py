"""Message templates: the allow-list, rendering rules, and refused injections."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xeno.campaigns.messages import compile_template, variables
from xeno.demo import generate
from xeno.platform.errors import InvalidTemplate

ASHA = variables({"name": "Asha Rao", "city": "Pune", "email": None, "total_spend": "12500.5",
                  "visits": 4})


@pytest.mark.parametrize(
    "template, expected",
    [
        ("Hi [Name], here's 10% off on your next order!",
         "Hi Asha Rao, here's 10% off on your next order!"),
        ("Hi [First Name]!", "Hi Asha!"),
        ("Hi [first name] / [NAME]", "Hi Asha / Asha Rao"),
        ("{{ email }}|{{ email|default('there') }}|{{ city|default('x') }}", "|there|Pune"),
        ("{{ spend }} {{ spend|round|int }} {{ spend|round(1) }} {{ visits }}",
         "12500.50 12501 12500.5 4"),
        ("{{ name|upper }} {{ name|lower }} {{ 'ab cd'|title }} {{ city|capitalize }}",
         "ASHA RAO asha rao Ab Cd Pune"),
        ("{{ '  x  '|trim }}{{ name|truncate(6, true, '…', 0) }}", "xAsha …"),
        ("{% if visits > 3 and city == 'Pune' %}loyal{% elif visits %}back{% else %}new{% endif %}",
         "loyal"),
        ("{% if not email %}no mail{% endif %}", "no mail"),
        ("<b>{{ name }}</b> & co\n", "<b>Asha Rao</b> & co\n"),  # plain text, nothing escaped
    ],
)
def test_templates_render(template, expected):
    assert compile_template(template).render(ASHA) == expected


def test_customer_data_is_never_rendered_as_a_template():
    evil = variables({"name": "{{ config }} {% for x in y %}", "total_spend": 0, "visits": 0})
    assert compile_template("Hi {{ name }}").render(evil) == "Hi {{ config }} {% for x in y %}"


@pytest.mark.parametrize(
    "template, refused",
    [
        ("{{ ''.__class__.__mro__ }}", "attribute access"),
        ("{{ config }}", "unknown variable 'config'"),
        ("{{ request }}", "unknown variable 'request'"),
        ("{% for c in ''.__class__.__mro__[1].__subclasses__() %}{{ c }}{% endfor %}", "loops"),
        ("{{ name.upper() }}", "function calls"),
        ("{{ lipsum() }}", "function calls"),
        ("{{ name[0] }}", "item access"),
        ("{{ name|attr('__class__') }}", "the filter 'attr'"),
        ("{{ name|format(1) }}", "the filter 'format'"),
        ("{% set x = 1 %}", "`set`"),
        ("{% macro m() %}x{% endmacro %}", "macros"),
        ("{% include 'base.html' %}", "includes"),
        ("{% import 'x' as y %}", "imports"),
        ("{% extends 'base.html' %}", "inheritance"),
        ("{% if name is defined %}x{% endif %}", "tests"),
        ("{{ name ~ city }}", "Concat"),
        ("{{ 7 * 7 }}", "Mul"),
        ("{{ name if city else email }}", "inline if"),
        ("{% filter upper %}x{% endfilter %}", "filter blocks"),
        ("{{ name|default(**{}) }}", "dynamic"),
        ("{% if name in city %}x{% endif %}", "comparison"),
        ("{{ name", "syntax error"),
        ("", "empty"),
        ("x" * 5001, "over 5000"),
    ],
)
def test_anything_else_is_refused_with_what_was_refused(template, refused):
    with pytest.raises(InvalidTemplate) as caught:
        compile_template(template)
    assert refused in caught.value.message
    assert caught.value.status == 422 and caught.value.code == "invalid_template"


@pytest.mark.parametrize(
    "template, sql",
    [
        ("Hi {{ name }}", True),
        ("Hi [First Name], {{ city|default('friend') }} {{ spend }} {{ visits }}", True),
        ("Hi {{ name|upper }}", False),
        ("{% if city %}x{% endif %}", False),
    ],
)
def test_plain_templates_become_one_sql_expression(template, sql):
    from xeno.db.models import Customer

    expression = compile_template(template).sql(Customer.__table__, "sqlite")
    assert (expression is not None) == sql


@pytest.mark.parametrize(
    "source",
    [
        "{% if visits > 5 %}VIP {% endif %}{{ first_name|title }} of {{ city|default('?') }}",
        "Hi {{ name }}, you spent {{ spend|round(1) }} over {{ visits }} visits",
        "{{ email|lower|truncate(12) }} {{ spend }}",
    ],
)
def test_rendering_many_equals_rendering_each(source):
    """Repeated variable combinations are rendered once; the texts must not change."""
    people = []
    for n, c in enumerate(generate.customers(400)):
        people.append(variables({**c, "total_spend": Decimal(n % 7) * 1000, "visits": n % 9}))
    template = compile_template(source)
    assert template.render_many(people) == [template.render(p) for p in people]
