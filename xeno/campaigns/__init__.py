"""Campaigns: an audience snapshot, a personalised message, delivery and its receipts."""

from __future__ import annotations

from flask import Flask

from xeno.campaigns import api, jobs, pages
from xeno.campaigns.delivery import store_receipts, sweep_every, sweep_overdue
from xeno.campaigns.log import customer_messages
from xeno.customers.profile import register_section
from xeno.platform import periodic, streams


def init_app(app: Flask) -> None:
    """The campaigns API and pages, the receipts stream's store, the receipt sweeper and
    the chore that resumes stranded deliveries, and each customer's messages on their
    profile."""
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    streams.register(app, "receipts", store_receipts)
    periodic.register(app, "receipt-timeouts", sweep_overdue, sweep_every)
    periodic.register(app, "stranded-dispatches", jobs.resume_stranded, sweep_every)
    register_section(app, "messages", customer_messages)
