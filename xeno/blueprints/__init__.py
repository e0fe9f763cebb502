"""The HTTP faces of the app, one blueprint per file."""

from typing import Any

from werkzeug.exceptions import NotFound

BIGINT_MAX = 2**63 - 1


def ids_fit_bigint(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A path id larger than any BIGINT names nothing: 404 before it reaches the database."""
    if any(isinstance(v, int) and v > BIGINT_MAX for v in (values or {}).values()):
        raise NotFound("no such id")
