"""The field registry: every field a rule can name, built-in or from a plug-in."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from . import activity, derived
from .field import Field, Parameter

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "xeno.segment_fields"
class Registry:
    """Fields by name; built-ins and plug-ins register on first use, not at import."""

    def __init__(self) -> None:
        self._fields: dict[str, Field] = {}
        self._builtins_loaded = False
        self._plugins_loaded = False

    def register(self, item: Field, replace: bool = False) -> Field:
        """Add a field; a second field with the same name is refused unless `replace`."""
        self._ensure_builtins()
        if not isinstance(item, Field):
            raise TypeError(f"expected a Field, got {type(item).__name__}")
        if item.name in self._fields and not replace:
            raise ValueError(f"field {item.name} is already registered")
        self._fields[item.name] = item
        return item

    def unregister(self, name: str) -> None:
        """Remove a field (tests and plug-in reloads)."""
        self._ensure_builtins()
        self._fields.pop(name.lower(), None)

    def get(self, name: str) -> Field | None:
        """Return the enabled field called `name` (any case), or None."""
        self._ensure_plugins()
        found = self._fields.get(name.lower())
        if found is None or (found.enabled is not None and not found.enabled()):
            return None
        return found

    def all(self) -> list[Field]:
        """Return every enabled field, in registration order."""
        self._ensure_plugins()
        return [f for f in self._fields.values() if f.enabled is None or f.enabled()]

    def names(self) -> list[str]:
        """Return the names of every enabled field."""
        return [f.name for f in self.all()]

    def _ensure_builtins(self) -> None:
        if not self._builtins_loaded:
            self._builtins_loaded = True
            for item in builtin_fields():
                self._fields.setdefault(item.name, item)

    def _ensure_plugins(self) -> None:
        self._ensure_builtins()
        if not self._plugins_loaded:
            self._plugins_loaded = True
            self.load_entry_points()

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Load fields from installed plug-ins; a broken plug-in is logged and skipped."""
        self._plugins_loaded = True
        loaded: list[str] = []
        for ep in entry_points(group=group):
            try:
                for item in _as_fields(ep.load()):
                    self.register(item, replace=item.name in loaded)
                    loaded.append(item.name)
            except Exception:  # a plug-in's failure must not take the rule language down
                log.exception("skipping segment field plug-in %r (%s)", ep.name, ep.value)
        return loaded


def _as_fields(obj: Any) -> list[Field]:
    if callable(obj) and not isinstance(obj, Field):
        obj = obj()
    items = [obj] if isinstance(obj, Field) else list(obj)
    for item in items:
        if not isinstance(item, Field):
            raise TypeError(f"a plug-in returned {type(item).__name__}, not a Field")
    return items


def builtin_fields() -> Iterable[Field]:
    """Return the fields SPEC defines, on the `customers` table."""
    return (
        Field("spend", "number", lambda t: t.c.total_spend,
              help="Sum of the customer's order amounts in INR; 0 without orders. "
                   "With IN LAST N DAYS|WEEKS|MONTHS: of the orders in that period only.",
              parameter=Parameter("period", activity.spend_in, label="in the last")),
        Field("visits", "integer", lambda t: t.c.visits,
              help="Number of orders; 0 without orders. Decimals compare exactly "
                   "(visits > 2.5 means visits >= 3). With IN LAST N DAYS|WEEKS|MONTHS: "
                   "the orders in that period only.",
              parameter=Parameter("period", activity.visits_in, label="in the last")),
        Field("avg_order", "number", compile=derived.avg_order,
              validate=derived.check_avg_order_value,
              help="Spend divided by visits in INR, compared exactly; 0 without orders. "
                   "Values take at most 6 decimals."),
        Field("last_visit", "datetime", lambda t: t.c.last_visit_at,
              help="Time of the latest order (UTC); empty if the customer never ordered."),
        Field("inactive_days", "integer", compile=derived.inactive_days,
              help="Whole days (24 h) since the last visit, or since signup for a customer "
                   "who never visited. Decimals compare exactly."),
        Field("signup", "datetime", lambda t: t.c.signup_at, nullable=False,
              help="When the customer signed up (UTC), or was first stored if not sent."),
        Field("city", "text", lambda t: t.c.city, help="City; empty when missing or \"\"."),
        Field("name", "text", lambda t: t.c.name, help="Customer's name."),
        Field("email", "text", lambda t: t.c.email, help="E-mail address; empty when missing."),
        Field("phone", "text", lambda t: t.c.phone, help="Phone number; empty when missing."),
        Field("last_message", "datetime", activity.last_message,
              help="When the latest message to the customer was sent (UTC); empty if none."),
        Field("campaign", "choice", choices=activity.CAMPAIGN_STATES,
              parameter=Parameter("number", activity.campaign_is, required=True,
                                  label="campaign", refers_to="campaign"),
              help="campaign N IS SENT|FAILED|PENDING|HOLDOUT: the customer's message in "
                   "campaign N has that status; IS CONVERTED: an order of theirs counts for "
                   "campaign N (as a recipient or in its holdout); IS ANY: in its audience."),
        Field("unsubscribed_at", "datetime", lambda t: t.c.unsubscribed_at,
              help="When the customer asked not to be contacted (UTC); empty while they may "
                   "be. Campaigns always leave unsubscribed customers out."),
    )


registry = Registry()
