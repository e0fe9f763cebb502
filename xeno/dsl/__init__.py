"""The segment rule language: text → checked tree → SQLAlchemy expression, and back."""

from .compiler import compile_rule
from .errors import RuleError
from .fields import Field, registry
from .parser import parse
from .serialize import from_json, to_json
from .text import render
from .values import describe, resolve

__all__ = [
    "parse", "render", "compile_rule", "to_json", "from_json", "RuleError", "registry",
    "Field", "resolve", "describe",
]
