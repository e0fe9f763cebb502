"""`xeno campaign send`, `xeno campaign retry` and `xeno campaign list`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import click
from flask import current_app
from flask.cli import AppGroup
from pydantic import ValidationError
from werkzeug.serving import WSGIRequestHandler, make_server

from xeno.campaigns import results
from xeno.campaigns import service as campaigns
from xeno.campaigns.log import LOG_CSV_HEADER, log_rows
from xeno.campaigns.schemas import CampaignIn, RetryIn
from xeno.db.models import Campaign
from xeno.dsl import RuleError
from xeno.extensions import db
from xeno.platform import broker
from xeno.platform.errors import DuplicateCampaign, EmptyAudience, InvalidTemplate, NotFound
from xeno.platform.exports import write_csv

STALL_SECONDS = 30
campaign_cli = AppGroup("campaign", help="Send campaigns and see how they went.")


class _QuietRequests(WSGIRequestHandler):
    """No access-log line per request: one receipt each would bury the progress bar."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing."""


@contextmanager
def serving_locally() -> Iterator[None]:
    """Embedded mode has no web server: serve this app on a free local port meanwhile.

    The dummy vendor still calls the receipt API over HTTP, so it needs somewhere to call.
    """
    app = current_app._get_current_object()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequests)
    previous = app.config["PUBLIC_URL"]
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        app.config["PUBLIC_URL"] = previous


@campaign_cli.command("send")
@click.option("--segment", "segment_id", type=int, help="Id of a saved segment.")
@click.option("--rule", help='A segment rule, e.g. "spend > 10000 AND visits <= 3".')
@click.option("--message", required=True, help="The message template.")
@click.option("--name", help="A name for the campaign.")
@click.option("--ignore-frequency-cap", is_flag=True,
              help="Send also to customers XENO_FREQUENCY_CAP would leave out.")
@click.option("--allow-duplicate", is_flag=True,
              help="Send even if the same message went to the same audience in the last 24 h.")
@click.option("--holdout-percent", "--holdout", "holdout_percent", type=click.IntRange(0, 50),
              default=0, show_default=True,
              help="Share of the audience kept back (sent nothing) to measure the effect.")
@click.option("--attribution-days", type=click.IntRange(1, 90), default=7, show_default=True,
              help="Days after the message during which an order counts for the campaign.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Show a progress bar until every message has a receipt.")
def send(segment_id: int | None, rule: str | None, message: str, name: str | None,
         ignore_frequency_cap: bool, allow_duplicate: bool, holdout_percent: int,
         attribution_days: int, wait: bool) -> None:
    """Send a campaign to a segment or a rule's audience (the breakdown first)."""
    try:
        body = CampaignIn(name=name, segment_id=segment_id, rule=rule, message=message,
                          ignore_frequency_cap=ignore_frequency_cap,
                          allow_duplicate=allow_duplicate,
                          holdout_percent=holdout_percent, attribution_days=attribution_days)
    except ValidationError as exc:
        raise click.UsageError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    with _refusals():
        click.echo(breakdown_line(campaigns.preview(body)))
    # Embedded mode has no web server for the vendor's receipts: serve one meanwhile.
    with serving_locally() if broker.embedded() else nullcontext(), _refusals():
        _deliver(campaigns.launch(body, created_by()), wait)


@campaign_cli.command("retry")
@click.argument("campaign_id", type=int)
@click.option("--allow-duplicate", is_flag=True,
              help="Retry even if this campaign was retried in the last 24 hours.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Show a progress bar until every message has a receipt.")
def retry_command(campaign_id: int, allow_duplicate: bool, wait: bool) -> None:
    """Send a campaign again to its FAILED recipients who are still subscribed."""
    with serving_locally() if broker.embedded() else nullcontext(), _refusals():
        answer = campaigns.retry(campaign_id, RetryIn(allow_duplicate=allow_duplicate),
                                 created_by())
        click.echo(breakdown_line(answer))
        _deliver(answer, wait)


def breakdown_line(counted: dict) -> str:
    """The breakdown as one sentence."""
    excluded = counted["excluded"]
    return (f"matched {counted['matched']}, left out {excluded['unsubscribed']} unsubscribed "
            f"and {excluded['frequency_cap']} over the frequency cap: "
            f"{counted['audience_size']} will receive it")


@contextmanager
def _refusals() -> Iterator[None]:
    """What the service refuses, as click errors naming the option at fault (exit 2)."""
    try:
        yield
    except RuleError as exc:
        raise click.BadParameter(str(exc), param_hint="--rule") from None
    except InvalidTemplate as exc:
        raise click.BadParameter(exc.message, param_hint="--message") from None
    except NotFound as exc:
        raise click.BadParameter(exc.message) from None
    except DuplicateCampaign as exc:
        raise click.ClickException(f"{exc.message} (--allow-duplicate)") from None
    except EmptyAudience as exc:
        raise click.ClickException(exc.message) from None


def _deliver(answer: dict, wait: bool) -> None:
    held = answer.get("holdout", 0)
    shown = f", {held} held back" if held else ""
    click.echo(f"campaign {answer['id']}: {answer['audience_size']} recipient(s){shown}")
    if answer["status"] == "done":  # all held back: nothing to deliver
        return
    if not wait:
        click.echo("delivery queued for `xeno worker`")
        return
    if not broker.embedded():
        click.echo("waiting for `xeno worker` to deliver (Ctrl-C stops waiting, not sending)")
    _follow(answer["id"], answer["audience_size"] - held)


def created_by() -> str:
    """Who runs the command, for the campaign's `created_by`."""
    import getpass

    return f"cli:{getpass.getuser()}"


def _follow(campaign_id: int, size: int) -> None:
    with click.progressbar(length=size, label="Delivering") as bar:
        done, moved_at, warned = 0, time.monotonic(), False
        while True:
            db.session.expire_all()
            campaign = db.session.get(Campaign, campaign_id)
            db.session.commit()
            settled = campaign.sent + campaign.failed
            if settled != done:
                bar.update(settled - done)
                done, moved_at = settled, time.monotonic()
            elif not warned and time.monotonic() - moved_at > STALL_SECONDS:
                warned = True
                click.echo(f"\nno receipt for {STALL_SECONDS}s: is `xeno worker` running, and "
                           f"is {current_app.config['PUBLIC_URL']} this app?", err=True)
            if campaign.status == "done":
                break
            time.sleep(0.2)
    click.echo(f"sent {campaign.sent}, failed {campaign.failed}, of {campaign.audience_size}")


@campaign_cli.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500))
def list_command(limit: int) -> None:
    """The most recent campaigns with their delivery figures."""
    items = campaigns.list_campaigns(1, limit).items
    header = f"{'id':>5}  {'name':<28} {'status':<9} {'audience':>9} {'sent':>8} {'failed':>7} " \
        f"{'pending':>8} {'holdout':>8} {'revenue':>12}  created"
    click.echo(header)
    for c in items:
        click.echo(
            f"{c['id']:>5}  {c['name'][:28]:<28} {c['status']:<9} {c['audience_size']:>9} "
            f"{c['sent']:>8} {c['failed']:>7} {c['pending']:>8} {c['holdout']:>8} "
            f"{c['revenue']:>12.2f}  {c['created_at']}"
        )
    if not items:
        click.echo("(no campaigns yet)")


@campaign_cli.command("results")
@click.argument("campaign_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer.")
def results_command(campaign_id: int, as_json: bool) -> None:
    """Did it work: recipients against the holdout, uplift and attributed revenue."""
    try:
        body = results.results(campaign_id)
    except NotFound as exc:
        raise click.BadParameter(exc.message, param_hint="CAMPAIGN_ID") from None
    if as_json:
        click.echo(json.dumps(body, indent=2))
        return
    rate = body["conversion_rate"]
    for group in ("recipients", "holdout"):
        g, r = body[group], rate[group]
        shown = f"{r * 100:.2f}%" if r is not None else "—"
        click.echo(f"{group:<11} {g['count']:>9} customers, {g['converted']:>7} converted "
                   f"({shown}), {g['orders']} orders, revenue {g['revenue']:.2f}")
    if body["incremental_revenue"] is not None:
        click.echo(f"incremental revenue {body['incremental_revenue']:.2f}")
    click.echo(results.uplift_words(body))


@campaign_cli.command("log")
@click.argument("campaign_id", type=int)
@click.option("--status", type=click.Choice(["PENDING", "SENT", "FAILED", "HOLDOUT"],
                                            case_sensitive=False),
              help="Only the rows of this status.")
@click.option("--out", "out", required=True, type=click.File("w", encoding="utf-8", lazy=True),
              help="The CSV file to write ('-' for standard output).")
def log_command(campaign_id: int, status: str | None, out) -> None:  # noqa: ANN001
    """Write a campaign's log (the columns of a log item) to a CSV file."""
    try:
        campaign = campaigns.get(campaign_id)
    except NotFound as exc:
        raise click.BadParameter(exc.message, param_hint="CAMPAIGN_ID") from None
    status = status.upper() if status else None
    rows = write_csv(out, LOG_CSV_HEADER, log_rows(campaign.id, status))
    click.echo(f"wrote {rows:,} row(s) of campaign {campaign.id}'s log to {out.name}", err=True)
