"""`xeno token`: API tokens for shop systems."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from xeno.auth.tokens import CACHE_SECONDS, create_token, list_tokens, revoke_tokens

token_cli = AppGroup("token", help="API tokens.")


@token_cli.command("create")
@click.argument("name")
def token_create(name: str) -> None:
    """Create an API token and print it once."""
    click.echo(create_token(name))


@token_cli.command("revoke")
@click.argument("name")
def token_revoke(name: str) -> None:
    """Revoke every token with this name."""
    count = revoke_tokens(name)
    if not count:
        raise click.BadParameter(f"no live token named {name!r}", param_hint="NAME")
    click.echo(
        f"revoked {count} token(s) named {name!r};"
        f" servers stop taking them within {CACHE_SECONDS:.0f} s"
    )


@token_cli.command("list")
def token_list() -> None:
    """List tokens (names and dates; the tokens themselves are not stored)."""
    for token in list_tokens():
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "live"
        used = f"{token.last_used_at:%Y-%m-%d}" if token.last_used_at else "never"
        click.echo(
            f"{token.id:>4}  {token.name:<30} created {token.created_at:%Y-%m-%d}  "
            f"last used {used}  {state}"
        )
